#include "engine/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>
#include <sstream>
#include <vector>

#include "engine/errors.h"

namespace wb {

namespace {

std::vector<torch::Device> generator_devices(const torch::Device& device) {
    std::vector<torch::Device> devices = {torch::kCPU};
    if (device.is_cuda()) {
        devices.push_back(device);
    }
    return devices;
}

std::string generator_key(const torch::Device& device) {
    return device.is_cuda() ? "cuda_rng" : "cpu_rng";
}

}  // namespace

void save_archive(torch::serialize::OutputArchive& archive, const RunFolder& run,
                  const std::string& name) {
    std::ostringstream bytes;
    archive.save_to(bytes);
    run.write_text(name, bytes.str());
}

void save_checkpoint(torch::nn::Module& model, const RunFolder& run, const std::string& name) {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    save_archive(archive, run, name);
}

void load_checkpoint(torch::nn::Module& model, const std::string& path) {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    model.load(archive);
}

void save_resume_state(Classifier& model, torch::optim::Optimizer& optimizer, const Progress& p,
                       const torch::Device& device, const RunFolder& run) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive, optimizer_archive;
    model.save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    const auto write_int = [&](const char* key, std::int64_t value) {
        archive.write(key, c10::IValue(value));
    };
    write_int("epochs_done", p.epochs_done);
    write_int("step", p.step);
    archive.write("best_score", c10::IValue(p.best_score));
    write_int("best_epoch", p.best_epoch);
    archive.write("last_lr", c10::IValue(p.last_lr));
    archive.write("has_val", c10::IValue(p.has_val));
    write_int("train_size", p.train_size);
    archive.write("seconds", c10::IValue(p.seconds));
    write_int("epoch_batches", p.epoch_batches);
    write_int("epoch_steps", p.epoch_steps);
    archive.write("epoch_loss_sum", c10::IValue(p.epoch_loss_sum));
    write_int("epoch_correct", p.epoch_correct);
    write_int("epoch_count", p.epoch_count);
    write_int("world_size", p.world_size);
    archive.write("stop_best", c10::IValue(p.stop_best));
    write_int("stop_bad_epochs", p.stop_bad_epochs);
    archive.write("stopped_early", c10::IValue(p.stopped_early));
    for (const auto& d : generator_devices(device)) {
        auto gen = at::globalContext().defaultGenerator(d);
        std::lock_guard<std::mutex> lock(gen.mutex());
        archive.write(generator_key(d), gen.get_state(), /*is_buffer=*/true);
    }
    save_archive(archive, run, kResumeFile);
}

Progress load_resume_state(Classifier& model, torch::optim::Optimizer& optimizer,
                           const torch::Device& device, const std::string& path) {
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, device);
    } catch (const c10::Error& error) {
        throw DataError(path + ": cannot read the checkpoint (" +
                        std::string(error.what_without_backtrace()) + ")");
    }
    torch::serialize::InputArchive model_archive, optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    Progress p;
    c10::IValue v;
    const auto read_int = [&](const char* key, auto* out) {
        if (archive.try_read(key, v)) {
            *out = static_cast<std::decay_t<decltype(*out)>>(v.toInt());
        }
    };
    const auto read_double = [&](const char* key, double* out) {
        if (archive.try_read(key, v)) {
            *out = v.toDouble();
        }
    };
    read_int("epochs_done", &p.epochs_done);
    read_int("step", &p.step);
    read_double("best_score", &p.best_score);
    read_int("best_epoch", &p.best_epoch);
    read_double("last_lr", &p.last_lr);
    if (archive.try_read("has_val", v)) {
        p.has_val = v.toBool();
    }
    read_int("train_size", &p.train_size);
    read_double("seconds", &p.seconds);
    read_int("epoch_batches", &p.epoch_batches);
    read_int("epoch_steps", &p.epoch_steps);
    read_double("epoch_loss_sum", &p.epoch_loss_sum);
    read_int("epoch_correct", &p.epoch_correct);
    read_int("epoch_count", &p.epoch_count);
    read_int("world_size", &p.world_size);
    read_double("stop_best", &p.stop_best);
    read_int("stop_bad_epochs", &p.stop_bad_epochs);
    if (archive.try_read("stopped_early", v)) {
        p.stopped_early = v.toBool();
    }
    for (const auto& d : generator_devices(device)) {
        torch::Tensor rng;
        if (!archive.try_read(generator_key(d), rng, /*is_buffer=*/true)) {
            continue;
        }
        auto gen = at::globalContext().defaultGenerator(d);
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(rng.to(torch::kCPU));
    }
    return p;
}

}  // namespace wb
