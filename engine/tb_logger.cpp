#include "engine/tb_logger.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "engine/clips.h"
#include "engine/evaluation_report.h"
#include "engine/image_io.h"
#include "engine/models.h"
#include "engine/tensorboard/event_writer.h"
#include "engine/tensorboard/projector.h"
#include "engine/transforms.h"

namespace fs = std::filesystem;

namespace wb {
namespace {

constexpr int kWorstMistakes = 16;
constexpr int kBatchImages = 32;

/// [C, H, W] float tensors in [0, 1] tiled into one HWC float image, `per_row` to a row, with a
/// 2-pixel gap.
tb::Image tile(const std::vector<cv::Mat>& tiles, int per_row) {
    const int h = tiles.front().rows, w = tiles.front().cols, c = tiles.front().channels();
    const int rows = (static_cast<int>(tiles.size()) + per_row - 1) / per_row;
    const int gap = 2;
    cv::Mat grid(rows * (h + gap) + gap, per_row * (w + gap) + gap, CV_32FC(c), cv::Scalar::all(0));
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        const int r = static_cast<int>(i) / per_row, col = static_cast<int>(i) % per_row;
        tiles[i].copyTo(grid(cv::Rect(gap + col * (w + gap), gap + r * (h + gap), w, h)));
    }
    return tb::image_from_float(grid.ptr<float>(), grid.rows, grid.cols, c);
}

/// One image [C, H, W] of a batch, denormalized to [0, 1] as an HWC float Mat.
cv::Mat denormalized(const torch::Tensor& chw, const Preprocessing& p) {
    torch::Tensor x = chw.detach().to(torch::kCPU, torch::kFloat32).clone();
    const auto channels = x.size(0);
    for (int64_t c = 0; c < channels; ++c) {
        const float mean = p.mean.size() == static_cast<std::size_t>(channels) ? p.mean[c] : 0.f;
        const float std = p.std.size() == static_cast<std::size_t>(channels) ? p.std[c] : 1.f;
        x[c].mul_(std).add_(mean);
    }
    x = x.permute({1, 2, 0}).contiguous();
    cv::Mat m(static_cast<int>(x.size(0)), static_cast<int>(x.size(1)),
              CV_32FC(static_cast<int>(channels)), x.data_ptr<float>());
    return m.clone();
}

/// The decoded image of a file, or for a video the middle frame of its evaluation clip.
cv::Mat raw_view(const std::string& path, const Preprocessing& p) {
    if (!p.is_video()) {
        return read_image_raw(path);
    }
    const DecodedVideo video = decode_video(path, p.resize_side());
    const int t = middle_frame(video, p);
    return t < 0
               ? cv::Mat()
               : cv::Mat(video.rows, video.cols, CV_8UC3, const_cast<std::uint8_t*>(video.frame(t)))
                     .clone();
}

/// An image file (a video's middle frame) through the run's evaluation preprocessing, without
/// normalization: an HWC float Mat in [0, 1]; empty when it cannot be read.
cv::Mat view_of(const std::string& path, const Preprocessing& p) {
    const cv::Mat raw = raw_view(path, p);
    if (raw.empty()) {
        return {};
    }
    Preprocessing plain = p;
    plain.mean.clear();
    plain.std.clear();
    std::vector<float> chw(static_cast<std::size_t>(p.channels) * p.image_size * p.image_size);
    std::mt19937 rng(0);
    preprocess_into(to_float_image(raw, p.channels), plain, false, rng, chw.data());
    const int side = p.image_size, plane = side * side;
    cv::Mat hwc(side, side, CV_32FC(p.channels));
    for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
            for (int c = 0; c < p.channels; ++c) {
                hwc.ptr<float>(y)[x * p.channels + c] = chw[c * plane + y * side + x];
            }
        }
    }
    return hwc;
}

/// A colour thumbnail at least `side` pixels wide with a caption strip under it.
cv::Mat captioned(const cv::Mat& image, const std::string& line1, const std::string& line2,
                  int side) {
    cv::Mat rgb;
    if (image.channels() == 1) {
        cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
    } else {
        rgb = image;
    }
    cv::Mat big;
    cv::resize(rgb, big, cv::Size(side, side), 0, 0, cv::INTER_NEAREST);
    cv::Mat out(side + 30, side, CV_32FC3, cv::Scalar::all(1));
    big.copyTo(out(cv::Rect(0, 0, side, side)));
    cv::putText(out, line1, {2, side + 12}, cv::FONT_HERSHEY_SIMPLEX, 0.33, cv::Scalar(0, 0.45, 0),
                1, cv::LINE_AA);
    cv::putText(out, line2, {2, side + 25}, cv::FONT_HERSHEY_SIMPLEX, 0.33, cv::Scalar(0.75, 0, 0),
                1, cv::LINE_AA);
    return out;
}

/// The confusion matrix as a heat map: rows true, columns predicted, each row normalized,
/// counts written in the cells when they fit, class names along both axes.
tb::Image confusion_image(const std::vector<std::int64_t>& counts, int n,
                          const std::vector<std::string>& classes) {
    const int cell = std::clamp(600 / std::max(n, 1), 6, 48);
    const int margin = n <= 40 ? 110 : 10;
    const int size = margin + n * cell + 10;
    cv::Mat image(size, size, CV_8UC3, cv::Scalar(255, 255, 255));
    for (int r = 0; r < n; ++r) {
        std::int64_t row_sum = 0;
        for (int c = 0; c < n; ++c) {
            row_sum += counts[r * n + c];
        }
        for (int c = 0; c < n; ++c) {
            const std::int64_t count = counts[r * n + c];
            const double f = row_sum > 0 ? static_cast<double>(count) / row_sum : 0;
            // White to dark blue (RGB order: the image is written as RGB).
            const cv::Scalar colour(255 * (1 - 0.85 * f), 255 * (1 - 0.6 * f), 255 - 80 * f);
            const cv::Rect box(margin + c * cell, margin + r * cell, cell, cell);
            cv::rectangle(image, box, colour, cv::FILLED);
            cv::rectangle(image, box, cv::Scalar(220, 220, 220), 1);
            if (cell >= 28 && count > 0) {
                const std::string text = std::to_string(count);
                const cv::Scalar ink = f > 0.5 ? cv::Scalar(255, 255, 255) : cv::Scalar(0, 0, 0);
                cv::putText(image, text, {box.x + 3, box.y + cell / 2 + 4},
                            cv::FONT_HERSHEY_SIMPLEX, 0.35, ink, 1, cv::LINE_AA);
            }
        }
    }
    if (margin > 10) {
        for (int i = 0; i < n && i < static_cast<int>(classes.size()); ++i) {
            const std::string name = classes[i].substr(0, 14);
            cv::putText(image, name, {4, margin + i * cell + cell / 2 + 4},
                        cv::FONT_HERSHEY_SIMPLEX, 0.35, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
            // Column names, written vertically: draw on a strip and rotate it.
            cv::Mat strip(cell, margin - 4, CV_8UC3, cv::Scalar(255, 255, 255));
            cv::putText(strip, name, {2, cell / 2 + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.35,
                        cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
            cv::Mat rotated;
            cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
            rotated.copyTo(image(cv::Rect(margin + i * cell, 2, cell, margin - 4)));
        }
        cv::putText(image, "true \\ predicted", {4, margin - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.35,
                    cv::Scalar(90, 90, 90), 1, cv::LINE_AA);
    }
    return tb::image_from_uint8(image.ptr<std::uint8_t>(), image.rows, image.cols, 3);
}

std::vector<float> to_vector(const torch::Tensor& t) {
    const torch::Tensor flat = t.detach().to(torch::kCPU, torch::kFloat32).contiguous().view(-1);
    return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

}  // namespace

TensorBoardLogger::TensorBoardLogger(const Experiment& experiment, const std::string& run_dir,
                                     const std::vector<std::string>& classes, long long resume_step,
                                     int resume_epoch)
    : m_experiment(experiment), m_classes(classes) {
    (void)resume_epoch;
    const TensorBoardConfig& c = experiment.tensorboard;
    m_log_dir = c.log_dir.empty() ? (fs::path(run_dir) / "tensorboard").string()
                                  : (fs::path(c.log_dir) / fs::path(run_dir).filename()).string();
    m_train = std::make_unique<tb::EventWriter>(fs::path(m_log_dir) / "train");
    m_val = std::make_unique<tb::EventWriter>(fs::path(m_log_dir) / "val");
    m_root = std::make_unique<tb::EventWriter>(fs::path(m_log_dir));
    const bool resumed = resume_step > 0;
    if (resumed) {
        m_train->add_session_start(resume_step);
        m_val->add_session_start(resume_step);
    }
    write_text_and_hparams(experiment, resumed);
    m_run_dir = run_dir;
    m_lr_find_logged = resumed || write_lr_find(run_dir);
    flush();
}

TensorBoardLogger::~TensorBoardLogger() = default;

void TensorBoardLogger::write_text_and_hparams(const Experiment& e, bool resumed) {
    const TensorBoardConfig& c = e.tensorboard;
    if (c.text && !resumed) {
        m_train->add_text("text/experiment", "```yaml\n" + to_yaml(e) + "```\n", 0);
    }
    if (c.hparams) {
        tb::HParams h;
        h.insert_or_assign("model", tb::HParamValue(e.model.arch));
        h.insert_or_assign("optimizer", tb::HParamValue(e.optimizer.type));
        h.insert_or_assign("lr", tb::HParamValue(e.optimizer.lr));
        h.insert_or_assign("weight_decay", tb::HParamValue(e.optimizer.weight_decay));
        const ScheduleConfig& sc = e.schedule;
        const bool onecycle = sc.policy == "onecycle";
        if (onecycle && sc.cycle_momentum) {
            // 1cycle replaces the optimizer's momentum: it runs from the maximum down to the
            // base at the peak rate and back.
            h.insert_or_assign("momentum", tb::HParamValue(sc.max_momentum));
            h.insert_or_assign("momentum_min", tb::HParamValue(sc.base_momentum));
        } else {
            h.insert_or_assign("momentum",
                               tb::HParamValue(e.optimizer.type == "sgd" ? e.optimizer.momentum
                                                                         : e.optimizer.beta1));
        }
        h.insert_or_assign("schedule", tb::HParamValue(sc.policy));
        if (onecycle) {
            h.insert_or_assign("pct_start", tb::HParamValue(sc.pct_start));
            h.insert_or_assign("div_factor", tb::HParamValue(sc.div_factor));
            h.insert_or_assign("final_div_factor", tb::HParamValue(sc.final_div_factor));
        }
        h.insert_or_assign("batch_size", tb::HParamValue(e.batch_size));
        h.insert_or_assign("grad_accumulation", tb::HParamValue(e.grad_accumulation));
        h.insert_or_assign("epochs", tb::HParamValue(e.epochs));
        h.insert_or_assign("image_size", tb::HParamValue(e.preprocessing.image_size));
        h.insert_or_assign("augment_hflip", tb::HParamValue(e.preprocessing.hflip));
        h.insert_or_assign("augment_crop", tb::HParamValue(e.preprocessing.random_crop));
        h.insert_or_assign("seed", tb::HParamValue(static_cast<double>(e.seed)));
        tb::SessionStartOptions options;
        options.group_name = e.name;
        m_root->add_hparams_session_start(h, options);
    }
}

bool TensorBoardLogger::write_lr_find(const std::string& run_dir) {
    std::ifstream csv(fs::path(run_dir) / "lr_find.csv");
    if (!csv) {
        return false;
    }
    std::string line;
    std::getline(csv, line);  // iteration,lr,loss,smoothed
    while (std::getline(csv, line)) {
        std::istringstream row(line);
        std::string cell;
        std::vector<double> v;
        while (std::getline(row, cell, ',')) {
            v.push_back(std::strtod(cell.c_str(), nullptr));
        }
        if (v.size() < 4) {
            continue;
        }
        const auto step = static_cast<std::int64_t>(v[0]);
        m_train->add_scalars(
            {{"lr_find/lr", v[1]}, {"lr_find/loss", v[2]}, {"lr_find/smoothed", v[3]}}, step);
    }
    return true;
}

void TensorBoardLogger::iteration(const IterationStats& it) {
    m_train->add_scalars({{"iteration/loss", it.loss},
                          {"iteration/accuracy", it.accuracy},
                          {"iteration/lr", it.lr},
                          {"iteration/momentum", it.momentum},
                          {"iteration/images_per_second", it.images_per_second}},
                         it.step);
}

void TensorBoardLogger::training_batch(const at::Tensor& images, int epoch, long long step) {
    if (!m_experiment.tensorboard.images || epoch == m_last_batch_epoch || images.size(0) == 0) {
        return;
    }
    m_last_batch_epoch = epoch;
    std::vector<cv::Mat> tiles;
    const int64_t n = std::min<int64_t>(images.size(0), kBatchImages);
    for (int64_t i = 0; i < n; ++i) {
        // A clip [C, T, H, W] shows its middle frame.
        const torch::Tensor image =
            images.dim() == 5 ? images[i].select(1, images.size(2) / 2) : images[i];
        tiles.push_back(denormalized(image, m_experiment.preprocessing));
    }
    m_train->add_image("images/batch", tile(tiles, 8), step);
}

void TensorBoardLogger::write_histograms(Classifier& model, long long step) {
    for (const auto& item : model.named_parameters()) {
        const std::string& name = item.key();
        const auto weights =
            m_train->add_histogram("weights/" + name, to_vector(item.value()), step);
        m_train->add_scalar("nonfinite/weights/" + name, double(weights.nonfinite_count()), step);
        const torch::Tensor& grad = item.value().grad();
        if (grad.defined()) {
            const auto grads = m_train->add_histogram("gradients/" + name, to_vector(grad), step);
            m_train->add_scalar("nonfinite/gradients/" + name, double(grads.nonfinite_count()),
                                step);
        }
    }
}

void TensorBoardLogger::write_prediction_images(const Predictions& p, long long step) {
    const int n = p.num_classes;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(n) * n, 0);
    for (std::size_t i = 0; i < p.size(); ++i) {
        ++counts[static_cast<std::size_t>(p.labels[i]) * n + p.predicted[i]];
    }
    m_val->add_image("images/confusion_matrix", confusion_image(counts, n, m_classes), step);

    std::vector<std::size_t> wrong;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p.predicted[i] != p.labels[i]) {
            wrong.push_back(i);
        }
    }
    std::sort(wrong.begin(), wrong.end(),
              [&p](std::size_t a, std::size_t b) { return p.confidence(a) > p.confidence(b); });
    std::vector<cv::Mat> tiles;
    const auto name = [this](int c) {
        return c >= 0 && c < static_cast<int>(m_classes.size()) ? m_classes[c].substr(0, 16)
                                                                : std::to_string(c);
    };
    for (std::size_t i : wrong) {
        if (static_cast<int>(tiles.size()) == kWorstMistakes) {
            break;
        }
        const cv::Mat view = view_of(p.paths[i], m_experiment.preprocessing);
        if (view.empty()) {
            continue;
        }
        char confidence[16];
        std::snprintf(confidence, sizeof confidence, " %.0f%%", 100.0 * p.confidence(i));
        tiles.push_back(captioned(view, "true " + name(p.labels[i]),
                                  "pred " + name(p.predicted[i]) + confidence, 112));
    }
    if (!tiles.empty()) {
        m_val->add_image("images/worst_mistakes", tile(tiles, 8), step);
    }
}

void TensorBoardLogger::write_embedding(const Predictions& p, long long step) {
    if (p.features.empty() || p.feature_size <= 0) {
        return;
    }
    const std::size_t limit = static_cast<std::size_t>(m_experiment.tensorboard.embedding_images);
    // Every k-th image, so that all classes show whatever the order of the split.
    const std::size_t stride = std::max<std::size_t>(1, (p.size() + limit - 1) / limit);
    tb::Embedding e;
    e.tag = "val_features";
    e.dim = static_cast<std::size_t>(p.feature_size);
    tb::MetadataColumn labels{"label", {}}, predicted{"predicted", {}};
    const Preprocessing& pre = m_experiment.preprocessing;
    const bool sprite = m_experiment.tensorboard.images;
    for (std::size_t i = 0; i < p.size(); i += stride) {
        e.vectors.insert(e.vectors.end(), p.features.begin() + i * e.dim,
                         p.features.begin() + (i + 1) * e.dim);
        labels.values.push_back(m_classes.at(p.labels[i]));
        predicted.values.push_back(m_classes.at(p.predicted[i]));
        if (sprite) {
            cv::Mat view = view_of(p.paths[i], pre);
            if (view.empty()) {
                view = cv::Mat(pre.image_size, pre.image_size, CV_32FC(pre.channels),
                               cv::Scalar::all(0));
            }
            cv::Mat small;
            cv::resize(view, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
            if (small.channels() != pre.channels) {
                small = small.reshape(pre.channels);
            }
            e.thumbnails.push_back(tb::image_from_float(small.ptr<float>(), 32, 32, pre.channels));
        }
    }
    e.metadata = {labels, predicted};
    tb::write_embedding(fs::path(m_log_dir) / "val", e, step);
}

void TensorBoardLogger::epoch(const EpochStats& es, long long step, double images_per_second,
                              Classifier& model, const Predictions* validation) {
    const TensorBoardConfig& c = m_experiment.tensorboard;
    m_train->add_scalars({{"epoch/loss", es.train_loss},
                          {"epoch/accuracy", es.train_accuracy},
                          {"epoch/seconds", es.seconds},
                          {"epoch/images_per_second", images_per_second},
                          {"epoch/lr", es.lr}},
                         step);
    if (es.has_val) {
        m_val->add_scalars({{"epoch/loss", es.val_loss}, {"epoch/accuracy", es.val_accuracy}},
                           step);
    }
    if (c.histograms) {
        write_histograms(model, step);
    }
    if (validation && validation->size() > 0) {
        if (c.images) {
            write_prediction_images(*validation, step);
        }
        if (c.pr_curves) {
            const int n = validation->num_classes;
            for (int k = 0; k < n; ++k) {
                std::vector<bool> labels(validation->size());
                std::vector<float> scores(validation->size());
                for (std::size_t i = 0; i < validation->size(); ++i) {
                    labels[i] = validation->labels[i] == k;
                    scores[i] = validation->probabilities[i * n + k];
                }
                const std::string name =
                    k < static_cast<int>(m_classes.size()) ? m_classes[k] : std::to_string(k);
                m_val->add_pr_curve("pr/" + name, labels, scores, step);
            }
        }
        if (c.embeddings) {
            write_embedding(*validation, step);
        }
    }
    flush();
}

void TensorBoardLogger::finished(const RunResult& r) {
    // The window copies a range test into the run folder once the run has started.
    if (!m_lr_find_logged) {
        m_lr_find_logged = write_lr_find(m_run_dir);
    }
    if (m_experiment.tensorboard.hparams) {
        std::vector<std::pair<std::string, double>> metrics;
        if (r.best_epoch >= 0) {
            metrics.emplace_back(r.has_val ? "best/val_accuracy" : "best/train_accuracy",
                                 r.best_val_accuracy);
            metrics.emplace_back("best/epoch", r.best_epoch + 1);
        }
        if (r.has_test) {
            metrics.emplace_back("best/test_accuracy", r.test_accuracy);
            metrics.emplace_back("best/test_loss", r.test_loss);
        }
        if (!metrics.empty()) {
            m_root->add_scalars(metrics, 0);
        }
        m_root->add_hparams_session_end(r.status == "finished"    ? tb::SessionStatus::Success
                                        : r.status == "cancelled" ? tb::SessionStatus::Unknown
                                                                  : tb::SessionStatus::Failure);
    }
    flush();
}

void TensorBoardLogger::flush() {
    m_train->flush();
    m_val->flush();
    m_root->flush();
}

}  // namespace wb
