#include "engine/lr_find_run.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/errors.h"
#include "engine/lr_plot_image.h"
#include "engine/run_folder.h"
#include "engine/training_setup.h"

namespace wb {

namespace {

void write_summary(const RunFolder& run, const LrFinderOptions& o, const LrFinderConfig& c,
                   const LrFinderResult& r, double seconds) {
    YAML::Emitter out;
    out.SetDoublePrecision(6);
    out << YAML::BeginMap;
    out << YAML::Key << "stop_reason" << YAML::Value << r.stop_reason;
    out << YAML::Key << "steps" << YAML::Value << r.lrs.size();
    const auto suggestion = [&out](const char* name, const std::optional<double>& lr) {
        out << YAML::Key << name << YAML::Value;
        if (lr) {
            out << *lr;
        } else {
            out << YAML::Null;
        }
    };
    out << YAML::Key << "suggestions" << YAML::Value << YAML::BeginMap;
    suggestion("steepest", r.steepest);
    suggestion("valley", r.valley);
    suggestion("min_div10", r.min_div10);
    out << YAML::EndMap;
    if (!r.warnings.empty()) {
        out << YAML::Key << "warnings" << YAML::Value << r.warnings;
    }
    out << YAML::Key << "settings" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "start_lr" << YAML::Value << o.start;
    out << YAML::Key << "end_lr" << YAML::Value << o.end;
    out << YAML::Key << "num_iter" << YAML::Value << o.num_iter;
    out << YAML::Key << "mode" << YAML::Value << c.mode;
    out << YAML::Key << "smooth_beta" << YAML::Value << o.smooth_beta;
    out << YAML::Key << "diverge_threshold" << YAML::Value << o.diverge_threshold;
    out << YAML::Key << "loss" << YAML::Value << c.loss;
    out << YAML::Key << "grad_accumulation" << YAML::Value << o.accumulate;
    out << YAML::EndMap;
    out << YAML::Key << "seconds" << YAML::Value << seconds;
    out << YAML::EndMap;
    run.write_text("lr_find.yaml", std::string(out.c_str()) + "\n");
}

}  // namespace

LrFinderOptions lr_finder_options(const Experiment& e) {
    const LrFinderConfig& c = e.lr_finder;
    LrFinderOptions o;
    o.start = c.start_lr;
    o.end = c.end_lr;
    o.num_iter = c.num_iter;
    o.exponential = c.mode != "linear";
    o.smooth_beta = c.smooth_beta;
    o.diverge_threshold = c.diverge_threshold;
    o.accumulate = e.grad_accumulation;
    o.val_batches = c.val_batches;
    return o;
}

void copy_lr_find_files(const std::string& lr_find_dir, const std::string& run_dir) {
    namespace fs = std::filesystem;
    for (const char* name : {"lr_find.csv", "lr_find.yaml", "lr_find.png"}) {
        std::error_code ec;
        fs::copy_file(fs::path(lr_find_dir) / name, fs::path(run_dir) / name,
                      fs::copy_options::overwrite_existing, ec);
    }
}

std::string suggestions_text(const LrFinderResult& r) {
    std::string text;
    const auto line = [&text](const char* name, const std::optional<double>& lr) {
        char value[32] = "none";
        if (lr) {
            std::snprintf(value, sizeof value, "%.3g", *lr);
        }
        char row[64];
        std::snprintf(row, sizeof row, "%-10s %s\n", name, value);
        text += row;
    };
    line("steepest", r.steepest);
    line("valley", r.valley);
    line("min/10", r.min_div10);
    return text;
}

LrFindReport find_learning_rate(const Experiment& experiment, Observer& observer,
                                const std::atomic<bool>& cancel) {
    const auto start = Clock::now();
    LrFindReport report;
    try {
        TrainingSetup s = prepare_training(experiment, observer);
        const Experiment& e = s.experiment;
        LrFinderOptions options = lr_finder_options(e);
        options.lr_factors = s.lr_factors;
        const bool val_mode = e.lr_finder.loss == "val";
        if (val_mode && s.scan.val.empty()) {
            throw ConfigError("", 0, 0,
                              "lr_finder.loss: 'val' needs a validation split, and " + e.data.root +
                                  " has none (set data.val_fraction above 0)");
        }
        auto run =
            RunFolder::create((std::filesystem::path(e.runs_dir) / "lr-find").string(), e.name);
        report.run_dir = run.path();
        save_experiment(e, run.file("experiment.yaml"));
        observer.on_message(Level::Info, "range test folder: " + run.path());
        CsvLog csv(run.file("lr_find.csv"), {"iteration", "lr", "loss", "smoothed"});
        const auto on_step = [&](const LrFinderStep& step) {
            csv.row({double(step.iteration + 1), step.lr, step.loss, step.smoothed});
            observer.on_lr_step(step);
        };
        report.result = range_test(*s.model, *s.optimizer, *s.train_loader, options, cancel,
                                   on_step, val_mode ? s.val_loader.get() : nullptr);
        report.seconds = seconds_since(start);
        write_summary(run, options, e.lr_finder, report.result, report.seconds);
        write_lr_plot_png(report.result, run.file("lr_find.png"));
        report.status = report.result.stop_reason == "cancelled" ? "cancelled" : "finished";

    } catch (const std::exception& error) {
        report.status = "failed";
        report.message = error_text(error);
        report.seconds = seconds_since(start);
        observer.on_message(Level::Error, report.message);
    }
    return report;
}

}  // namespace wb
