#include "engine/predictor.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/clips.h"
#include "engine/errors.h"
#include "engine/experiment.h"
#include "engine/image_io.h"
#include "engine/models.h"
#include "engine/transforms.h"

namespace fs = std::filesystem;

namespace wb {

struct Predictor::Impl {
    Experiment experiment;
    std::vector<std::string> classes;
    std::shared_ptr<Classifier> model;
};

Predictor::Predictor(const std::string& run_dir, const std::string& checkpoint)
    : m_impl(std::make_unique<Impl>()) {
    const fs::path dir(run_dir);
    const fs::path yaml = dir / "experiment.yaml";
    if (!fs::exists(yaml)) {
        throw DataError(yaml.string() + ": no such file; " + run_dir + " is not a run folder");
    }
    m_impl->experiment = load_experiment(yaml.string());
    std::ifstream names(dir / "classes.txt");
    if (!names) {
        throw DataError((dir / "classes.txt").string() + ": cannot read the class names");
    }
    for (std::string line; std::getline(names, line);) {
        if (!line.empty()) {
            m_impl->classes.push_back(line);
        }
    }
    if (m_impl->classes.size() < 2) {
        throw DataError((dir / "classes.txt").string() + ": fewer than two classes");
    }
    const fs::path weights =
        fs::path(checkpoint).is_absolute() ? fs::path(checkpoint) : dir / checkpoint;
    if (!fs::is_regular_file(weights)) {
        throw DataError(weights.string() + ": no such checkpoint");
    }
    ModelSpec spec;
    spec.arch = m_impl->experiment.model.arch;
    spec.num_classes = static_cast<int>(m_impl->classes.size());
    spec.in_channels = m_impl->experiment.preprocessing.channels;
    if (spec.arch == "torchscript") {
        spec.torchscript = m_impl->experiment.model.weights;
    }
    spec.clip_frames = m_impl->experiment.preprocessing.clip_frames;
    spec.image_size = m_impl->experiment.preprocessing.image_size;
    spec.width = m_impl->experiment.model.width;
    m_impl->model = make_model(spec);
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(weights.string());
        m_impl->model->load(archive);
    } catch (const c10::Error& error) {
        throw DataError(weights.string() + ": cannot load the checkpoint (" +
                        error.what_without_backtrace() + ")");
    }
    m_impl->model->eval();
}

Predictor::~Predictor() = default;

const std::vector<std::string>& Predictor::classes() const {
    return m_impl->classes;
}

std::vector<std::pair<std::string, double>> Predictor::predict(const std::string& image_path,
                                                               int k) const {
    std::string error;
    const Preprocessing& p = m_impl->experiment.preprocessing;
    std::mt19937 rng(0);  // unused without augmentation
    torch::Tensor input;
    if (p.is_video()) {
        // The evaluation clip: the video's centre.
        const DecodedVideo video = decode_video(image_path, p.resize_side(), &error);
        if (video.empty()) {
            throw DataError(image_path + ": " + error);
        }
        input = torch::empty({1, p.channels, p.clip_frames, p.image_size, p.image_size});
        clip_into(video,
                  clip_frame_indices(video.frames, p.clip_frames, p.frame_stride, 0, 1, false, rng),
                  p, /*train=*/false, rng, input.data_ptr<float>());
    } else {
        const cv::Mat raw = read_image_raw(image_path, &error);
        if (raw.empty()) {
            throw DataError(image_path + ": " +
                            (error.empty() ? "cannot decode the image" : error));
        }
        input = torch::empty({1, p.channels, p.image_size, p.image_size});
        preprocess_into(to_float_image(raw, p.channels), p, /*train=*/false, rng,
                        input.data_ptr<float>());
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor probabilities = torch::softmax(m_impl->model->forward(input), 1)[0];
    const int n = static_cast<int>(m_impl->classes.size());
    const auto top = probabilities.topk(std::clamp(k, 1, n));
    const torch::Tensor values = std::get<0>(top);
    const torch::Tensor indices = std::get<1>(top);
    std::vector<std::pair<std::string, double>> out;
    for (int64_t i = 0; i < values.size(0); ++i) {
        out.emplace_back(m_impl->classes.at(indices[i].item<int64_t>()), values[i].item<double>());
    }
    return out;
}

}  // namespace wb
