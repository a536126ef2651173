// The 'tensorboard' section of the experiment file: its keys, checks and how it is written.

#include <string>
#include <vector>

#include "engine/experiment_io.h"

namespace wb::detail {

const std::vector<std::string>& tensorboard_keys() {
    static const std::vector<std::string> keys = {"enabled",          "log_dir",   "histograms",
                                                  "images",           "pr_curves", "embeddings",
                                                  "embedding_images", "text",      "hparams"};
    return keys;
}

void check_tensorboard(const TensorBoardConfig& t, const Fail& fail) {
    check_at_least(fail, "tensorboard.embedding_images", t.embedding_images, 1);
}

void write_tensorboard(Writer& w, const TensorBoardConfig& t) {
    w.section("tensorboard");
    w.key("enabled", yaml_bool(t.enabled), 2, "event files for tensorboard --logdir");
    w.key("log_dir", yaml_string(t.log_dir), 2,
          "empty: tensorboard/ in the run folder; else one subfolder per run");
    w.key("histograms", yaml_bool(t.histograms), 2, "weights and gradients, each epoch");
    w.key("images", yaml_bool(t.images), 2, "a batch, the confusion matrix, the worst mistakes");
    w.key("pr_curves", yaml_bool(t.pr_curves), 2, "per class, validation set");
    w.key("embeddings", yaml_bool(t.embeddings), 2, "penultimate features for the projector");
    w.key("embedding_images", std::to_string(t.embedding_images), 2);
    w.key("text", yaml_bool(t.text), 2, "the experiment file");
    w.key("hparams", yaml_bool(t.hparams), 2, "hyperparameters with the final metrics");
}

}  // namespace wb::detail
