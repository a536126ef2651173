#pragma once

// What a training run writes for TensorBoard (experiment.tensorboard): the trainer calls it at
// each step and epoch; it turns tensors and predictions into engine/tensorboard summaries.
// Internal to wb_train.
//
// Layout, under the log folder of the run (<run>/tensorboard, or <log_dir>/<run folder name>):
//   train/   iteration/{loss, accuracy, lr, momentum, images_per_second} per optimizer step;
//            epoch/{loss, accuracy, seconds, images_per_second} per epoch; weights/<name> and
//            gradients/<name> histograms, with nonfinite/{weights,gradients}/<name> counts;
//            images/batch (a training batch as the model sees it, denormalized); text/experiment;
//            lr_find/{loss, smoothed, lr} per range-test step when the run kept a range test
//   val/     epoch/{loss, accuracy} per epoch; images/confusion_matrix, images/worst_mistakes;
//            pr/<class> PR curves; the projector's embedding of validation features
//   .        the hparams session (hyperparameters, final metrics best/val_accuracy and
//            best/test_accuracy, status)
// Every summary's step is the global optimizer step (for an epoch: the steps done when it
// ended), so that train and val share one axis and a resumed run's session start drops every
// stale point, whatever its tag.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/experiment.h"
#include "engine/observer.h"

namespace at {
class Tensor;
}  // namespace at

namespace wb {

class Classifier;
struct Predictions;

namespace tb {
class EventWriter;
}  // namespace tb

class TensorBoardLogger {
public:
    /// Opens the writers. `resume_step` > 0 (and `resume_epoch`) marks a resumed run: new event
    /// files start with a session start at those steps, so TensorBoard drops what the stopped
    /// run wrote after its checkpoint. Throws tb::TensorBoardError when the folder cannot be
    /// written.
    TensorBoardLogger(const Experiment& experiment, const std::string& run_dir,
                      const std::vector<std::string>& classes, long long resume_step = 0,
                      int resume_epoch = 0);
    ~TensorBoardLogger();

    /// The run's log folder (parent of train/ and val/).
    const std::string& log_dir() const { return m_log_dir; }

    void iteration(const IterationStats& stats);
    /// The first training batch of each epoch as the model sees it: [B, C, H, W] float,
    /// normalized; later calls in the same epoch do nothing.
    void training_batch(const at::Tensor& images, int epoch, long long step);
    /// Epoch scalars; histograms of `model`; with validation predictions, the confusion
    /// matrix, the worst mistakes and PR curves, and the projector's embedding when they carry
    /// features (the trainer collects them in the last epoch only: they are large).
    void epoch(const EpochStats& stats, long long step, double images_per_second, Classifier& model,
               const Predictions* validation);
    /// The final metrics and the status; flushes.
    void finished(const RunResult& result);
    void flush();

private:
    void write_text_and_hparams(const Experiment& experiment, bool resumed);
    /// Logs <run_dir>/lr_find.csv when there is one; true when it did.
    bool write_lr_find(const std::string& run_dir);
    void write_histograms(Classifier& model, long long step);
    void write_prediction_images(const Predictions& p, long long step);
    void write_embedding(const Predictions& p, long long step);

    Experiment m_experiment;
    std::vector<std::string> m_classes;
    std::string m_log_dir;
    std::unique_ptr<tb::EventWriter> m_train;
    std::unique_ptr<tb::EventWriter> m_val;
    std::unique_ptr<tb::EventWriter> m_root;
    int m_last_batch_epoch = -1;
    std::string m_run_dir;
    bool m_lr_find_logged = false;
};

}  // namespace wb
