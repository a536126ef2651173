#include "engine/tensorboard/event_writer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "engine/tensorboard/errors.h"
#include "engine/tensorboard/gif.h"
#include "engine/tensorboard/summary_values.h"
#include "tbproto/event.pb.h"

namespace wb::tb {

namespace {

// Numbers the writers of this process, for unique file names.
std::atomic<unsigned> g_writer_count{0};

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    return name;
}

std::string event_file_name() {
    char name[512];
    std::snprintf(name, sizeof(name), "events.out.tfevents.%010lld.%s.%d.%u",
                  static_cast<long long>(std::time(nullptr)), host_name().c_str(),
                  static_cast<int>(getpid()), g_writer_count.fetch_add(1));
    return name;
}

void write_event(RecordFile& file, const proto::Event& event) {
    file.write(event.SerializeAsString());
}

void write_values(RecordFile& file, std::vector<proto::Summary::Value> values, std::int64_t step) {
    proto::Event event;
    event.set_wall_time(now_seconds());
    event.set_step(step);
    auto* summary = event.mutable_summary();
    for (auto& value : values) {
        *summary->add_value() = std::move(value);
    }
    write_event(file, event);
}

void write_value(RecordFile& file, proto::Summary::Value value, std::int64_t step) {
    std::vector<proto::Summary::Value> values;
    values.push_back(std::move(value));
    write_values(file, std::move(values), step);
}

}  // namespace

EventWriter::EventWriter(const std::filesystem::path& logdir, RecordFileOptions options)
    : logdir_(logdir) {
    std::error_code ec;
    std::filesystem::create_directories(logdir_, ec);
    if (ec || !std::filesystem::is_directory(logdir_)) {
        throw TensorBoardError("cannot create the log directory '" + logdir_.string() +
                               "': " + (ec ? ec.message() : "not a directory"));
    }
    // Another process may have taken the name; the counter then moves on.
    for (int attempt = 0; !file_; ++attempt) {
        if (attempt == 1000) {
            throw TensorBoardError("cannot find a free event file name in '" + logdir_.string() +
                                   "'");
        }
        file_ = RecordFile::open(logdir_ / event_file_name(), RecordFile::Mode::CreateNew, options);
    }
    proto::Event first;
    first.set_wall_time(now_seconds());
    first.set_step(0);
    first.set_file_version("brain.Event:2");
    first.mutable_source_metadata()->set_writer("workbench");
    write_event(*file_, first);
    file_->flush();
}

EventWriter::~EventWriter() = default;

const std::filesystem::path& EventWriter::path() const {
    return file_->path();
}

void EventWriter::add_scalar(const std::string& tag, double value, std::int64_t step) {
    write_value(*file_, detail::scalar_value(tag, static_cast<float>(value)), step);
}

void EventWriter::add_scalars(const std::vector<std::pair<std::string, double>>& values,
                              std::int64_t step) {
    std::vector<proto::Summary::Value> out;
    out.reserve(values.size());
    for (const auto& [tag, value] : values) {
        out.push_back(detail::scalar_value(tag, static_cast<float>(value)));
    }
    write_values(*file_, std::move(out), step);
}

Histogram EventWriter::add_histogram(const std::string& tag, const std::vector<float>& values,
                                     std::int64_t step, int buckets) {
    Histogram histogram = make_histogram(values, buckets);
    add_histogram(tag, histogram, step);
    return histogram;
}

void EventWriter::add_histogram(const std::string& tag, const Histogram& histogram,
                                std::int64_t step) {
    write_value(*file_, detail::histogram_value(tag, histogram), step);
}

void EventWriter::add_image(const std::string& tag, const Image& image, std::int64_t step) {
    detail::check_tag(tag);
    write_value(
        *file_,
        detail::image_value(tag, image.height, image.width, image.channels, encode_png(image)),
        step);
}

void EventWriter::add_animation(const std::string& tag, const std::vector<Image>& frames,
                                std::int64_t step, int frame_delay_ms) {
    detail::check_tag(tag);
    std::string gif = encode_gif(frames, frame_delay_ms);
    // The frames were checked by encode_gif(): frames[0] exists. GIF frames are RGB.
    write_value(*file_,
                detail::image_value(tag, frames[0].height, frames[0].width, 3, std::move(gif)),
                step);
}

void EventWriter::add_text(const std::string& tag, const std::string& markdown, std::int64_t step) {
    write_value(*file_, detail::text_value(tag, markdown), step);
}

PrCurve EventWriter::add_pr_curve(const std::string& tag, const std::vector<bool>& labels,
                                  const std::vector<float>& predictions, std::int64_t step,
                                  int num_thresholds, const std::vector<float>& weights) {
    PrCurve curve = compute_pr_curve(labels, predictions, num_thresholds, weights);
    add_pr_curve(tag, curve, step);
    return curve;
}

void EventWriter::add_pr_curve(const std::string& tag, const PrCurve& curve, std::int64_t step) {
    write_value(*file_, detail::pr_curve_value(tag, curve), step);
}

void EventWriter::add_hparams_session_start(const HParams& hparams,
                                            const SessionStartOptions& options) {
    write_value(*file_, detail::hparams_session_start_value(hparams, options, now_seconds()), 0);
}

void EventWriter::add_hparams_experiment(const HParamsExperiment& experiment) {
    write_value(*file_, detail::hparams_experiment_value(experiment, now_seconds()), 0);
}

void EventWriter::add_hparams_session_end(SessionStatus status) {
    write_value(*file_, detail::hparams_session_end_value(status, now_seconds()), 0);
}

void EventWriter::add_session_start(std::int64_t step) {
    proto::Event event;
    event.set_wall_time(now_seconds());
    event.set_step(step);
    event.mutable_session_log()->set_status(proto::SessionLog::START);
    write_event(*file_, event);
}

void EventWriter::flush() {
    file_->flush();
}

void EventWriter::close() {
    file_->close();
}

}  // namespace wb::tb
