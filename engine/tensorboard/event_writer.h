#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensorboard/histogram.h"
#include "engine/tensorboard/hparams.h"
#include "engine/tensorboard/image.h"
#include "engine/tensorboard/pr_curve.h"
#include "engine/tensorboard/record_file.h"

namespace wb::tb {

/// Writes one TensorBoard event file in a log directory: one writer per run, for example
/// `<logdir>/train` and `<logdir>/val`, which TensorBoard shows as runs "train" and "val".
///
/// The file is `events.out.tfevents.<unix seconds>.<host>.<pid>.<n>`, n counting the writers
/// of this process, so two writers started in the same second never share a file. Its first
/// record is the file version "brain.Event:2"; each add_*() call appends one Event with the
/// current wall time and the given step. Records are buffered and reach the OS at least every
/// `options.flush_interval`, on flush() and on close() or destruction (see RecordFile).
///
/// Tags are kept exactly as given (UTF-8, slashes group them in TensorBoard). add_*() throw
/// std::invalid_argument for an empty or non-UTF-8 tag or bad data, and TensorBoardError
/// naming the file when it cannot be written. All members are thread-safe.
///
///     wb::tb::EventWriter train(logdir / "train"), val(logdir / "val");
///     train.add_scalar("loss", loss, iteration);
///     val.add_scalar("loss", val_loss, iteration);
class EventWriter {
public:
    /// Creates `logdir` (and its parents) and the event file. Throws TensorBoardError naming
    /// the folder or file when either cannot be created.
    explicit EventWriter(const std::filesystem::path& logdir, RecordFileOptions options = {});
    /// Flushes and closes; errors are lost at this point (call close() to see them).
    ~EventWriter();
    EventWriter(const EventWriter&) = delete;
    EventWriter& operator=(const EventWriter&) = delete;

    const std::filesystem::path& logdir() const { return logdir_; }
    /// The event file.
    const std::filesystem::path& path() const;

    /// A scalar, stored as a 32-bit float `simple_value` (plugin "scalars").
    void add_scalar(const std::string& tag, double value, std::int64_t step);
    /// Several scalars of one step in one event.
    void add_scalars(const std::vector<std::pair<std::string, double>>& values, std::int64_t step);

    /// The histogram of `values` (any shape, flattened) with `buckets` equal-width buckets;
    /// see Histogram for the buckets and for NaN and infinite values, whose counts the returned
    /// histogram holds (they are not written: log them as scalars when they matter).
    Histogram add_histogram(const std::string& tag, const std::vector<float>& values,
                            std::int64_t step, int buckets = kDefaultHistogramBuckets);
    void add_histogram(const std::string& tag, const Histogram& histogram, std::int64_t step);

    /// An image, stored as PNG (plugin "images"). Build it with image_from_float() or
    /// image_from_uint8().
    void add_image(const std::string& tag, const Image& image, std::int64_t step);
    /// An animated GIF of `frames` in the image dashboard; see encode_gif().
    void add_animation(const std::string& tag, const std::vector<Image>& frames, std::int64_t step,
                       int frame_delay_ms = 100);

    /// Text, rendered as Markdown by TensorBoard (plugin "text", a DT_STRING tensor).
    void add_text(const std::string& tag, const std::string& markdown, std::int64_t step);

    /// A PR curve (plugin "pr_curves") computed from binary labels and predicted
    /// probabilities; see compute_pr_curve(). Returns the curve written.
    PrCurve add_pr_curve(const std::string& tag, const std::vector<bool>& labels,
                         const std::vector<float>& predictions, std::int64_t step,
                         int num_thresholds = kDefaultPrThresholds,
                         const std::vector<float>& weights = {});
    void add_pr_curve(const std::string& tag, const PrCurve& curve, std::int64_t step);

    /// The hparams plugin's session start info for this run (see hparams.h for which run
    /// should hold it), its experiment summary (best left out, see hparams.h) and session end
    /// info. Written at step 0.
    void add_hparams_session_start(const HParams& hparams, const SessionStartOptions& options = {});
    void add_hparams_experiment(const HParamsExperiment& experiment);
    void add_hparams_session_end(SessionStatus status);

    /// A SessionLog START event at `step`, written when a run resumes from a checkpoint taken
    /// at `step`: TensorBoard then discards the events of this run with step >= `step` that
    /// came before it (written after the checkpoint by the run that stopped), so the charts
    /// show no stale tail. Needs the file version "brain.Event:2" this writer puts first.
    void add_session_start(std::int64_t step);

    /// Hands everything buffered to the OS now.
    void flush();
    /// Flushes and closes the file; add_*() throw afterwards. Does nothing the second time.
    void close();

private:
    std::filesystem::path logdir_;
    std::unique_ptr<RecordFile> file_;
};

}  // namespace wb::tb
