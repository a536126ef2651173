// The TensorBoard writer, read back by an independent reader (tests/python/tb_reader.py: its
// own TFRecord parser and CRC-32C, message types declared from the published field numbers,
// PIL for PNG and GIF). Covers the framing, every kind of summary, truncated files, file
// names, resuming, flushing, errors and the projector's files.

#include <QByteArray>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <thread>

#include "engine/tensorboard/errors.h"
#include "engine/tensorboard/event_writer.h"
#include "engine/tensorboard/gif.h"
#include "engine/tensorboard/projector.h"
#include "engine/tensorboard/record_file.h"
#include "engine/tensorboard/tfrecord.h"

namespace fs = std::filesystem;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Runs the reader; QSKIP when Python or one of its modules is missing.
#define RUN_READER(result, ...)                          \
    do {                                                 \
        QString skip_reason;                             \
        result = run_reader({__VA_ARGS__}, skip_reason); \
        if (!skip_reason.isEmpty()) {                    \
            QSKIP(qPrintable(skip_reason));              \
        }                                                \
        if (QTest::currentTestFailed()) {                \
            return;                                      \
        }                                                \
    } while (false)

QJsonObject run_reader(const QStringList& args, QString& skip_reason) {
    if (!QFileInfo(QStringLiteral(WB_PYTHON)).isExecutable()) {
        skip_reason = "no Python interpreter at " WB_PYTHON;
        return {};
    }
    QProcess python;
    python.start(QStringLiteral(WB_PYTHON),
                 QStringList{QStringLiteral(WB_SOURCE_DIR "/tests/python/tb_reader.py")} + args);
    if (!python.waitForFinished(120000)) {
        QTest::qFail("tb_reader.py did not finish", __FILE__, __LINE__);
        return {};
    }
    if (python.exitCode() == 3) {
        skip_reason = "tb_reader.py lacks a module: " + python.readAllStandardError();
        return {};
    }
    const QByteArray err = python.readAllStandardError();
    if (python.exitCode() != 0) {
        QTest::qFail(("tb_reader.py failed: " + err).constData(), __FILE__, __LINE__);
        return {};
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(python.readAllStandardOutput(), &error);
    if (!doc.isObject()) {
        QTest::qFail(("tb_reader.py printed no JSON: " + error.errorString()).toUtf8(), __FILE__,
                     __LINE__);
    }
    return doc.object();
}

QString qpath(const fs::path& path) {
    return QString::fromStdString(path.string());
}

/// The one event file in `dir`.
fs::path event_file(const fs::path& dir) {
    fs::path found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().find("tfevents") != std::string::npos) {
            found = entry.path();
        }
    }
    return found;
}

/// The summary values of all events, in order, each with its event's step.
std::vector<QJsonObject> summary_values(const QJsonObject& file) {
    std::vector<QJsonObject> out;
    for (const auto& e : file["events"].toArray()) {
        const QJsonObject event = e.toObject();
        for (const auto& v : event["values"].toArray()) {
            QJsonObject value = v.toObject();
            value["step"] = event["step"];
            out.push_back(value);
        }
    }
    return out;
}

std::vector<double> doubles(const QJsonValue& array) {
    std::vector<double> out;
    for (const auto& v : array.toArray()) {
        out.push_back(v.toDouble());
    }
    return out;
}

std::vector<int> ints(const QJsonValue& array) {
    std::vector<int> out;
    for (const auto& v : array.toArray()) {
        out.push_back(v.toInt());
    }
    return out;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

wb::tb::Image solid(int height, int width, std::vector<std::uint8_t> colour) {
    wb::tb::Image image{height, width, static_cast<int>(colour.size()), {}};
    for (int i = 0; i < height * width; ++i) {
        image.pixels.insert(image.pixels.end(), colour.begin(), colour.end());
    }
    return image;
}

/// Checks what every event file starts with and that no event had unknown fields.
void check_file_basics(const QJsonObject& file) {
    const QJsonArray events = file["events"].toArray();
    QVERIFY(!events.isEmpty());
    QCOMPARE(events[0].toObject()["what"].toString(), QString("file_version"));
    QCOMPARE(events[0].toObject()["file_version"].toString(), QString("brain.Event:2"));
    for (const auto& e : events) {
        QVERIFY2(!e.toObject()["unknown_fields"].toBool(), "an event has unknown fields");
        for (const auto& v : e.toObject()["values"].toArray()) {
            const QJsonObject content = v.toObject()["content"].toObject();
            QVERIFY2(!content["unknown_fields"].toBool(), "plugin data has unknown fields");
        }
    }
}

}  // namespace

class TestTensorBoard : public QObject {
    Q_OBJECT

private slots:
    void crc32cMatchesTheCheckValue() {
        QCOMPARE(wb::tb::crc32c("123456789"), 0xE3069283u);
        QCOMPARE(wb::tb::crc32c(""), 0u);
        // ((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xa282ead8, worked by hand.
        QCOMPARE(wb::tb::mask_crc(0xE3069283u), 0xC78AB0E5u);
        for (std::uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
            QCOMPARE(wb::tb::unmask_crc(wb::tb::mask_crc(crc)), crc);
        }
    }

    void recordFramingHasTheTfRecordLayout() {
        std::string framed;
        wb::tb::append_record(framed, "abc");
        QCOMPARE(framed.size(), std::size_t{12 + 3 + 4});
        QCOMPARE(framed.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
        auto le32 = [&](std::size_t at) {
            std::uint32_t v = 0;
            for (int i = 3; i >= 0; --i) {
                v = (v << 8) | static_cast<unsigned char>(framed[at + i]);
            }
            return v;
        };
        QCOMPARE(le32(8), wb::tb::mask_crc(wb::tb::crc32c(framed.substr(0, 8))));
        QCOMPARE(framed.substr(12, 3), std::string("abc"));
        QCOMPARE(le32(15), wb::tb::mask_crc(wb::tb::crc32c("abc")));
    }

    void scalarTagsAreKeptExactly_data() {
        QTest::addColumn<QString>("tag");
        QTest::addColumn<double>("value");
        QTest::addColumn<qint64>("step");
        QTest::newRow("plain") << "loss" << 0.25 << qint64(0);
        QTest::newRow("slash") << "train/loss" << 1.5 << qint64(7);
        QTest::newRow("space and slashes") << "val / top 5 accuracy" << 0.875 << qint64(12);
        QTest::newRow("utf-8") << QString::fromUtf8("métriques/损失 λ") << -3.0 << qint64(3);
        QTest::newRow("small value") << "lr" << 1e-4 << qint64(1);
        QTest::newRow("huge step") << "lr" << 2e-3 << qint64(5'000'000'000LL);
        QTest::newRow("nan value") << "diverged" << double(kNaN) << qint64(4);
    }

    void scalarTagsAreKeptExactly() {
        QFETCH(QString, tag);
        QFETCH(double, value);
        QFETCH(qint64, step);
        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_scalar(tag.toStdString(), value, step);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        QVERIFY(file["tail"].isNull());
        const auto values = summary_values(file);
        QCOMPARE(values.size(), std::size_t{1});
        QCOMPARE(values[0]["tag"].toString(), tag);
        QCOMPARE(values[0]["kind"].toString(), QString("simple_value"));
        QCOMPARE(values[0]["plugin_name"].toString(), QString("scalars"));
        QCOMPARE(values[0]["step"].toVariant().toLongLong(), step);
        if (std::isnan(value)) {
            QCOMPARE(values[0]["simple_value"].toString(), QString("NaN"));
        } else {
            QCOMPARE(float(values[0]["simple_value"].toDouble()), float(value));
        }
    }

    void trainAndValWritersAreSeparateRuns() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        {
            wb::tb::EventWriter train(logdir / "train");
            wb::tb::EventWriter val(logdir / "val");
            for (int step = 0; step < 5; ++step) {
                train.add_scalar("loss", 1.0 / (step + 1), step);
                val.add_scalars({{"loss", 2.0 / (step + 1)}, {"accuracy", 0.1 * step}}, step);
            }
        }
        QJsonObject train, val;
        RUN_READER(train, "events", qpath(event_file(logdir / "train")));
        RUN_READER(val, "events", qpath(event_file(logdir / "val")));
        check_file_basics(train);
        check_file_basics(val);
        QCOMPARE(train["events"].toArray().size(), 6);
        QCOMPARE(val["events"].toArray().size(), 6);  // two values per event
        const auto values = summary_values(val);
        QCOMPARE(values.size(), std::size_t{10});
        QCOMPARE(values[8]["tag"].toString(), QString("loss"));
        QCOMPARE(values[9]["tag"].toString(), QString("accuracy"));
        QCOMPARE(values[9]["step"].toInt(), 4);
        QCOMPARE(float(values[9]["simple_value"].toDouble()), float(0.4));
    }

    void histogramLeavesOutNanAndInfinity() {
        QTemporaryDir dir;
        const std::vector<float> weights = {-2.0f, kNaN, 0.5f, kInf, 1.0f, -kInf,
                                            3.0f,  kNaN, 0.0f, 2.5f, -1.0f};
        wb::tb::Histogram returned;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            returned = writer.add_histogram("weights/conv1", weights, 3, 5);
        }
        QCOMPARE(returned.nan_count, std::size_t{2});
        QCOMPARE(returned.pos_inf_count, std::size_t{1});
        QCOMPARE(returned.neg_inf_count, std::size_t{1});

        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values.size(), std::size_t{1});
        QCOMPARE(values[0]["plugin_name"].toString(), QString("histograms"));
        QCOMPARE(values[0]["kind"].toString(), QString("histo"));
        const QJsonObject h = values[0]["histo"].toObject();
        // The finite values: -2, 0.5, 1, 3, 0, 2.5, -1.
        QCOMPARE(h["min"].toDouble(), -2.0);
        QCOMPARE(h["max"].toDouble(), 3.0);
        QCOMPARE(h["num"].toDouble(), 7.0);
        QCOMPARE(h["sum"].toDouble(), 4.0);
        QCOMPARE(h["sum_squares"].toDouble(), 4 + 0.25 + 1 + 9 + 0 + 6.25 + 1.0);
        // Five buckets of width 1 over [-2, 3]: [-2,-1) [-1,0) [0,1) [1,2) [2,3].
        QCOMPARE(doubles(h["bucket_limit"]), (std::vector<double>{-1, 0, 1, 2, 3}));
        QCOMPARE(doubles(h["bucket"]), (std::vector<double>{1, 1, 2, 1, 2}));
    }

    void histogramBucketsCountEveryFiniteValue() {
        std::mt19937 rng(11);
        std::normal_distribution<float> normal(0.3f, 2.0f);
        std::vector<float> values(5000);
        for (float& v : values) {
            v = normal(rng);
        }
        const wb::tb::Histogram h = wb::tb::make_histogram(values, 30);
        QCOMPARE(h.bucket.size(), std::size_t{30});
        QCOMPARE(h.bucket_limit.back(), h.max);
        double total = 0;
        const double width = (h.max - h.min) / 30;
        for (std::size_t i = 0; i < 30; ++i) {
            total += h.bucket[i];
            // Counted again by a different route: values in [min + i w, min + (i + 1) w).
            const double lo = i == 0 ? -INFINITY : h.bucket_limit[i - 1];
            const double hi = i == 29 ? INFINITY : h.bucket_limit[i];
            const auto expected = std::count_if(values.begin(), values.end(),
                                                [&](float v) { return v >= lo && v < hi; });
            QCOMPARE(h.bucket[i], double(expected));
            QVERIFY(std::abs(h.bucket_limit[i] - (h.min + width * (i + 1))) < 1e-9);
        }
        QCOMPARE(total, 5000.0);
    }

    void allNanHistogramIsEmptyButValid() {
        QTemporaryDir dir;
        wb::tb::Histogram returned;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            returned = writer.add_histogram("diverged", std::vector<float>(64, kNaN), 1);
            writer.add_histogram("empty", std::vector<float>{}, 1);
        }
        QCOMPARE(returned.nan_count, std::size_t{64});
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        for (const QJsonObject& value : summary_values(file)) {
            const QJsonObject h = value["histo"].toObject();
            QCOMPARE(h["num"].toDouble(), 0.0);
            QCOMPARE(h["min"].toDouble(), 0.0);
            QCOMPARE(h["max"].toDouble(), 0.0);
            QCOMPARE(h["sum"].toDouble(), 0.0);
            QCOMPARE(doubles(h["bucket_limit"]), std::vector<double>{0.0});
            QCOMPARE(doubles(h["bucket"]), std::vector<double>{0.0});
        }
    }

    void constantTensorHasOneBucket() {
        const wb::tb::Histogram h = wb::tb::make_histogram(std::vector<float>(10, 0.75f));
        QCOMPARE(h.min, 0.75);
        QCOMPARE(h.max, 0.75);
        QCOMPARE(h.bucket_limit, std::vector<double>{0.75});
        QCOMPARE(h.bucket, std::vector<double>{10.0});
    }

    void floatImagesAreScaledAndClamped() {
        // 2x3 RGB: values outside [0, 1] clamp, NaN becomes 0, 0.5 rounds to 128.
        const std::vector<float> hwc = {-0.5f, 0.0f, 0.5f, 1.0f,  1.7f,  kNaN, 0.2f, 0.4f, 0.6f,
                                        0.8f,  1.0f, 0.0f, 10.0f, -kInf, kInf, 0.1f, 0.3f, 0.9f};
        const std::vector<int> expected = {0,   0,   128, 255, 255, 0,   51, 102, 153,
                                           204, 255, 0,   255, 0,   255, 26, 77,  230};
        const wb::tb::Image image = wb::tb::image_from_float(hwc, 2, 3, 3);
        QCOMPARE(std::vector<int>(image.pixels.begin(), image.pixels.end()), expected);

        // The same image given as [C, H, W].
        std::vector<float> chw(hwc.size());
        for (int y = 0; y < 2; ++y) {
            for (int x = 0; x < 3; ++x) {
                for (int c = 0; c < 3; ++c) {
                    chw[(c * 2 + y) * 3 + x] = hwc[(y * 3 + x) * 3 + c];
                }
            }
        }
        const wb::tb::Image from_chw =
            wb::tb::image_from_float(chw, 2, 3, 3, wb::tb::PixelLayout::CHW);
        QCOMPARE(from_chw.pixels, image.pixels);

        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_image("samples/rgb", image, 2);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values[0]["plugin_name"].toString(), QString("images"));
        const QJsonObject img = values[0]["image"].toObject();
        QCOMPARE(img["format"].toString(), QString("PNG"));
        QCOMPARE(img["height"].toInt(), 2);
        QCOMPARE(img["width"].toInt(), 3);
        QCOMPARE(img["colorspace"].toInt(), 3);
        QCOMPARE(img["decoded_height"].toInt(), 2);
        QCOMPARE(img["decoded_width"].toInt(), 3);
        QCOMPARE(img["mode"].toString(), QString("RGB"));
        QCOMPARE(ints(img["pixels"]), expected);
    }

    void imagesKeepTheirChannels_data() {
        QTest::addColumn<int>("channels");
        QTest::addColumn<QString>("mode");
        QTest::newRow("gray") << 1 << "L";
        QTest::newRow("rgb") << 3 << "RGB";
        QTest::newRow("rgba") << 4 << "RGBA";
    }

    void imagesKeepTheirChannels() {
        QFETCH(int, channels);
        QFETCH(QString, mode);
        const int height = 5, width = 7;
        std::vector<std::uint8_t> bytes(height * width * channels);
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            bytes[i] = static_cast<std::uint8_t>(i * 37 % 256);
        }
        const wb::tb::Image image = wb::tb::image_from_uint8(bytes.data(), height, width, channels);
        QCOMPARE(image.pixels, bytes);  // uint8 passes through
        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_image("image", image, 0);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        const QJsonObject img = summary_values(file)[0]["image"].toObject();
        QCOMPARE(img["colorspace"].toInt(), channels);
        QCOMPARE(img["mode"].toString(), mode);
        QCOMPARE(ints(img["pixels"]), std::vector<int>(bytes.begin(), bytes.end()));
    }

    void animationIsAGifWithEveryFrame() {
        const std::vector<wb::tb::Image> frames = {
            solid(6, 8, {255, 0, 0}), solid(6, 8, {0, 200, 30}), solid(6, 8, {10, 20, 250})};
        std::vector<wb::tb::Image> moving = frames;
        moving[1].pixels[0] = 77;  // one pixel of another colour
        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_animation("rollout", moving, 4, 120);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values[0]["plugin_name"].toString(), QString("images"));
        const QJsonObject img = values[0]["image"].toObject();
        QCOMPARE(img["format"].toString(), QString("GIF"));
        QCOMPARE(img["frames"].toInt(), 3);
        QCOMPARE(img["width"].toInt(), 8);
        QCOMPARE(img["height"].toInt(), 6);
        QCOMPARE(img["decoded_width"].toInt(), 8);
        QCOMPARE(img["loop"].toInt(), 0);
        QCOMPARE(ints(img["durations_ms"]), (std::vector<int>{120, 120, 120}));
        const QJsonArray decoded = img["frame_pixels"].toArray();
        for (int f = 0; f < 3; ++f) {
            QCOMPARE(ints(decoded[f]),
                     std::vector<int>(moving[f].pixels.begin(), moving[f].pixels.end()));
        }
    }

    void animationWithManyColoursIsQuantized() {
        // A 32x32 gradient has 1024 colours: each frame gets its own 256-colour palette.
        std::vector<wb::tb::Image> frames(2, wb::tb::Image{32, 32, 3, {}});
        for (int f = 0; f < 2; ++f) {
            for (int y = 0; y < 32; ++y) {
                for (int x = 0; x < 32; ++x) {
                    frames[f].pixels.insert(
                        frames[f].pixels.end(),
                        {std::uint8_t(x * 8), std::uint8_t(y * 8), std::uint8_t(f * 200)});
                }
            }
        }
        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_animation("gradient", frames, 0);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        const QJsonObject img = summary_values(file)[0]["image"].toObject();
        QCOMPARE(img["frames"].toInt(), 2);
        const QJsonArray decoded = img["frame_pixels"].toArray();
        for (int f = 0; f < 2; ++f) {
            const std::vector<int> got = ints(decoded[f]);
            QCOMPARE(got.size(), frames[f].pixels.size());
            double error = 0;
            for (std::size_t i = 0; i < got.size(); ++i) {
                error += std::abs(got[i] - int(frames[f].pixels[i]));
            }
            QVERIFY2(error / got.size() < 8.0, qPrintable(QString::number(error / got.size())));
        }
    }

    void textIsAStringTensor() {
        const std::string markdown = "# Run *7*\n\n| lr | 0.1 |\n|---|---|\nnaïve ✓";
        QTemporaryDir dir;
        {
            wb::tb::EventWriter writer(dir.path().toStdString());
            writer.add_text("notes/config", markdown, 0);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(dir.path().toStdString())));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values[0]["plugin_name"].toString(), QString("text"));
        QCOMPARE(values[0]["content"].toObject()["version"].toInt(), 0);
        const QJsonObject tensor = values[0]["tensor"].toObject();
        QCOMPARE(tensor["dtype"].toInt(), 7);  // DT_STRING
        QVERIFY(tensor["shape"].toArray().isEmpty());
        QCOMPARE(tensor["string_val"].toArray().size(), 1);
        QCOMPARE(tensor["string_val"].toArray()[0].toString(), QString::fromStdString(markdown));
    }

    void prCurveMatchesADirectCount_data() {
        QTest::addColumn<int>("thresholds");
        QTest::addColumn<bool>("weighted");
        QTest::newRow("11 thresholds") << 11 << false;
        QTest::newRow("default 201") << wb::tb::kDefaultPrThresholds << false;
        QTest::newRow("weighted") << 21 << true;
    }

    void prCurveMatchesADirectCount() {
        QFETCH(int, thresholds);
        QFETCH(bool, weighted);
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
        std::vector<bool> labels;
        std::vector<float> predictions, weights;
        for (int i = 0; i < 300; ++i) {
            const bool label = uniform(rng) < 0.4f;
            labels.push_back(label);
            predictions.push_back(
                std::clamp(uniform(rng) * 0.7f + (label ? 0.3f : 0.0f), 0.f, 1.f));
            weights.push_back(weighted ? 0.5f + uniform(rng) : 1.0f);
        }
        // Exactly on thresholds, at the ends and outside [0, 1].
        for (float p : {0.0f, 0.5f, 1.0f, 0.1f, -0.2f, 1.3f}) {
            labels.push_back(p > 0.3f);
            predictions.push_back(p);
            weights.push_back(1.0f);
        }
        QTemporaryDir dir;
        const fs::path input = fs::path(dir.path().toStdString()) / "pr.txt";
        {
            std::ofstream out(input);
            out.precision(9);
            for (std::size_t i = 0; i < labels.size(); ++i) {
                out << (labels[i] ? 1 : 0) << ' ' << predictions[i] << ' ' << weights[i] << '\n';
            }
        }
        const fs::path logdir = fs::path(dir.path().toStdString()) / "run";
        wb::tb::PrCurve curve;
        {
            wb::tb::EventWriter writer(logdir);
            curve = writer.add_pr_curve("pr/class_1", labels, predictions, 9, thresholds,
                                        weighted ? weights : std::vector<float>{});
        }
        QCOMPARE(curve.num_thresholds, thresholds);
        QJsonObject file, reference;
        RUN_READER(file, "events", qpath(event_file(logdir)));
        RUN_READER(reference, "pr-reference", qpath(input), QString::number(thresholds));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values[0]["plugin_name"].toString(), QString("pr_curves"));
        const QJsonObject content = values[0]["content"].toObject();
        QCOMPARE(content["version"].toInt(), 0);
        QCOMPARE(content["num_thresholds"].toInt(), thresholds);
        const QJsonObject tensor = values[0]["tensor"].toObject();
        QCOMPARE(tensor["dtype"].toInt(), 1);  // DT_FLOAT
        QCOMPARE(ints(tensor["shape"]), (std::vector<int>{6, thresholds}));
        const std::vector<double> got = doubles(tensor["float_val"]);
        QCOMPARE(got.size(), std::size_t(6 * thresholds));
        const QJsonArray rows = reference["rows"].toArray();
        for (int r = 0; r < 6; ++r) {
            const std::vector<double> want = doubles(rows[r]);
            for (int i = 0; i < thresholds; ++i) {
                const double g = got[r * thresholds + i];
                QVERIFY2(std::abs(g - want[i]) <= 1e-6 * std::max(1.0, std::abs(want[i])),
                         qPrintable(QString("row %1 threshold %2: %3 vs %4")
                                        .arg(r)
                                        .arg(i)
                                        .arg(g)
                                        .arg(want[i])));
            }
        }
    }

    void hparamsEventsCarryThePluginData() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        {
            wb::tb::EventWriter session(logdir);
            session.add_hparams_session_start(
                {{"lr", 0.01}, {"model", "resnet18"}, {"augment", true}, {"epochs", 10}},
                {"runs/7/best.pt", "", "", 1700000000.0});
            wb::tb::HParamsExperiment experiment;
            experiment.hparams = {
                {"lr", wb::tb::HParamValue::Kind::Number, "", "", {}, std::make_pair(1e-5, 1.0)},
                {"model",
                 wb::tb::HParamValue::Kind::String,
                 "architecture",
                 "",
                 {"resnet18", "small_cnn"},
                 {}}};
            experiment.metrics = {
                {"loss", "train", "", "", wb::tb::DatasetType::Training},
                {"accuracy", "val", "val acc", "", wb::tb::DatasetType::Validation}};
            session.add_hparams_experiment(experiment);
            session.add_hparams_session_end(wb::tb::SessionStatus::Success);
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(event_file(logdir)));
        check_file_basics(file);
        const auto values = summary_values(file);
        QCOMPARE(values.size(), std::size_t{3});
        const QStringList tags = {"_hparams_/session_start_info", "_hparams_/experiment",
                                  "_hparams_/session_end_info"};
        const QStringList kinds = {"session_start_info", "experiment", "session_end_info"};
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(values[i]["tag"].toString(), tags[i]);
            QCOMPARE(values[i]["plugin_name"].toString(), QString("hparams"));
            QCOMPARE(values[i]["content"].toObject()["version"].toInt(), 0);
            QCOMPARE(values[i]["content"].toObject()["data"].toString(), kinds[i]);
            QCOMPARE(values[i]["kind"].toString(), QString("tensor"));
        }
        const QJsonObject start = values[0]["content"].toObject()["session_start_info"].toObject();
        const QJsonObject hp = start["hparams"].toObject();
        QCOMPARE(hp["lr"].toDouble(), 0.01);
        QCOMPARE(hp["model"].toString(), QString("resnet18"));
        QCOMPARE(hp["augment"].toBool(), true);
        QCOMPARE(hp["epochs"].toDouble(), 10.0);
        QCOMPARE(start["model_uri"].toString(), QString("runs/7/best.pt"));
        QCOMPARE(start["start_time_secs"].toDouble(), 1700000000.0);

        const QJsonObject exp = values[1]["content"].toObject()["experiment"].toObject();
        const QJsonArray infos = exp["hparam_infos"].toArray();
        QCOMPARE(infos.size(), 2);
        QCOMPARE(infos[0].toObject()["type"].toString(), QString("DATA_TYPE_FLOAT64"));
        QCOMPARE(infos[0].toObject()["domain_interval"].toObject()["max_value"].toDouble(), 1.0);
        QCOMPARE(infos[1].toObject()["type"].toString(), QString("DATA_TYPE_STRING"));
        QCOMPARE(infos[1].toObject()["display_name"].toString(), QString("architecture"));
        QCOMPARE(infos[1].toObject()["domain_discrete"].toArray().size(), 2);
        const QJsonArray metrics = exp["metric_infos"].toArray();
        QCOMPARE(metrics.size(), 2);
        QCOMPARE(metrics[0].toObject()["name"].toObject()["group"].toString(), QString("train"));
        QCOMPARE(metrics[0].toObject()["name"].toObject()["tag"].toString(), QString("loss"));
        QCOMPARE(metrics[1].toObject()["dataset_type"].toString(), QString("DATASET_VALIDATION"));

        const QJsonObject end = values[2]["content"].toObject()["session_end_info"].toObject();
        QCOMPARE(end["status"].toString(), QString("STATUS_SUCCESS"));
        QVERIFY(end["end_time_secs"].toDouble() > 1.6e9);
    }

    void truncatedFileKeepsItsCompleteRecords_data() {
        QTest::addColumn<int>("cut");  // bytes removed from the end
        QTest::addColumn<QString>("reason");
        QTest::newRow("inside the data CRC") << 2 << "truncated record";
        QTest::newRow("inside the data") << 9 << "truncated record";
        QTest::newRow("inside the header") << -5 << "truncated header";
    }

    void truncatedFileKeepsItsCompleteRecords() {
        QFETCH(int, cut);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        const fs::path logdir = fs::path(dir.path().toStdString()) / "run";
        {
            wb::tb::EventWriter writer(logdir);
            for (int step = 0; step < 5; ++step) {
                writer.add_scalar("loss", step * 0.5, step);
            }
        }
        const std::string bytes = read_bytes(event_file(logdir));
        // A negative cut keeps that many bytes of the next record instead: a header cut short.
        const std::string partial =
            cut > 0 ? bytes.substr(0, bytes.size() - cut) : bytes + bytes.substr(0, -cut);
        const fs::path damaged = fs::path(dir.path().toStdString()) / "events.out.tfevents.cut";
        write_bytes(damaged, partial);
        QJsonObject file;
        RUN_READER(file, "events", qpath(damaged));
        const int complete = cut > 0 ? 5 : 6;  // with the file version record
        QCOMPARE(file["records"].toInt(), complete);
        QCOMPARE(file["tail"].toObject()["reason"].toString(), reason);
        const auto values = summary_values(file);
        QCOMPARE(int(values.size()), complete - 1);
        QCOMPARE(values.back()["step"].toInt(), complete - 2);
    }

    void corruptedRecordIsReported() {
        QTemporaryDir dir;
        const fs::path logdir = fs::path(dir.path().toStdString()) / "run";
        {
            wb::tb::EventWriter writer(logdir);
            writer.add_scalar("a", 1, 1);
            writer.add_scalar("b", 2, 2);
        }
        std::string bytes = read_bytes(event_file(logdir));
        bytes[bytes.size() - 6] ^= 0x40;  // inside the last record's data
        const fs::path damaged = fs::path(dir.path().toStdString()) / "events.out.tfevents.bad";
        write_bytes(damaged, bytes);
        QJsonObject file;
        RUN_READER(file, "events", qpath(damaged));
        QCOMPARE(file["records"].toInt(), 2);
        QCOMPARE(file["tail"].toObject()["reason"].toString(), QString("data crc mismatch"));
    }

    void writersStartedInTheSameSecondGetDistinctFiles() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        wb::tb::EventWriter first(logdir);
        wb::tb::EventWriter second(logdir);
        QVERIFY(first.path() != second.path());
        const std::regex pattern(R"(events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+)");
        QVERIFY(std::regex_match(first.path().filename().string(), pattern));
        QVERIFY(std::regex_match(second.path().filename().string(), pattern));
        first.add_scalar("x", 1, 1);
        second.add_scalar("x", 2, 1);
        first.close();
        second.close();
        QJsonObject a, b;
        RUN_READER(a, "events", qpath(first.path()));
        RUN_READER(b, "events", qpath(second.path()));
        check_file_basics(a);
        check_file_basics(b);
        QCOMPARE(summary_values(a)[0]["simple_value"].toDouble(), 1.0);
        QCOMPARE(summary_values(b)[0]["simple_value"].toDouble(), 2.0);
    }

    void resumeWritesASessionStartAtTheLowerStep() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        {
            wb::tb::EventWriter crashed(logdir);
            for (int step = 0; step < 10; ++step) {
                crashed.add_scalar("loss", 10 - step, step);
            }
        }
        fs::path resumed_file;
        {
            wb::tb::EventWriter resumed(logdir);  // the last checkpoint was at step 6
            resumed.add_session_start(6);
            for (int step = 6; step < 8; ++step) {
                resumed.add_scalar("loss", 100 + step, step);
            }
            resumed_file = resumed.path();
        }
        QJsonObject file;
        RUN_READER(file, "events", qpath(resumed_file));
        check_file_basics(file);
        const QJsonObject start = file["events"].toArray()[1].toObject();
        QCOMPARE(start["what"].toString(), QString("session_log"));
        QCOMPARE(start["session_log"].toObject()["status"].toString(), QString("START"));
        QCOMPARE(start["step"].toInt(), 6);

        // TensorBoard's rule on a START at step s: drop what came before with step >= s.
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(logdir)) {
            files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());  // TensorBoard reads files in name order
        QCOMPARE(files.back(), resumed_file);
        std::map<int, double> series;
        for (const fs::path& path : files) {
            QJsonObject f;
            RUN_READER(f, "events", qpath(path));
            for (const auto& e : f["events"].toArray()) {
                const QJsonObject event = e.toObject();
                if (event["what"].toString() == "session_log") {
                    series.erase(series.lower_bound(event["step"].toInt()), series.end());
                }
                for (const auto& v : event["values"].toArray()) {
                    series[event["step"].toInt()] = v.toObject()["simple_value"].toDouble();
                }
            }
        }
        QCOMPARE(int(series.size()), 8);
        QCOMPARE(series[5], 5.0);
        QCOMPARE(series[6], 106.0);
        QCOMPARE(series[7], 107.0);
    }

    void recordsReachTheDiskWithoutClose() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        wb::tb::EventWriter writer(logdir);
        const auto header_size = fs::file_size(writer.path());
        QVERIFY(header_size > 0);  // the file version is flushed at once
        const auto start = std::chrono::steady_clock::now();
        writer.add_scalar("loss", 0.5, 1);
        while (fs::file_size(writer.path()) == header_size &&
               std::chrono::steady_clock::now() - start < std::chrono::milliseconds(3500)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const auto waited = std::chrono::steady_clock::now() - start;
        QVERIFY2(
            waited < std::chrono::milliseconds(3000),
            qPrintable(
                QString("waited %1 ms")
                    .arg(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count())));
        QJsonObject file;
        RUN_READER(file, "events", qpath(writer.path()));
        QCOMPARE(file["records"].toInt(), 2);
        QVERIFY(file["tail"].isNull());

        // flush() is immediate.
        writer.add_scalar("loss", 0.25, 2);
        writer.flush();
        RUN_READER(file, "events", qpath(writer.path()));
        QCOMPARE(file["records"].toInt(), 3);
    }

    void largeWritesFlushWhenTheBufferFills() {
        QTemporaryDir dir;
        wb::tb::RecordFileOptions options;
        options.flush_interval = std::chrono::hours(1);
        options.buffer_bytes = 4096;
        wb::tb::EventWriter writer(dir.path().toStdString(), options);
        const auto header_size = fs::file_size(writer.path());
        std::vector<float> values(1000);
        std::iota(values.begin(), values.end(), 0.0f);
        writer.add_histogram("big", values, 0, 1000);  // 16 kB of bucket data
        QVERIFY(fs::file_size(writer.path()) > header_size + 4096);
    }

    void unusableDirectoryIsAnErrorNamingIt() {
        QTemporaryDir dir;
        const fs::path blocker = fs::path(dir.path().toStdString()) / "blocker";
        write_bytes(blocker, "a file, not a folder");
        try {
            wb::tb::EventWriter writer(blocker / "train");
            QFAIL("no exception");
        } catch (const wb::tb::TensorBoardError& e) {
            QVERIFY2(std::string(e.what()).find((blocker / "train").string()) != std::string::npos,
                     e.what());
        }
    }

    void failedDiskWriteIsAnErrorNamingTheFile() {
        if (!fs::exists("/dev/full")) {
            QSKIP("no /dev/full");
        }
        auto file = wb::tb::RecordFile::open("/dev/full", wb::tb::RecordFile::Mode::Truncate);
        QVERIFY(file);
        file->write("a record");
        try {
            file->flush();
            QFAIL("no exception");
        } catch (const wb::tb::TensorBoardError& e) {
            QVERIFY2(std::string(e.what()).find("/dev/full") != std::string::npos, e.what());
        }
        // The failure sticks: later writes report it too.
        QVERIFY_THROWS_EXCEPTION(wb::tb::TensorBoardError, file->write("more"));
        QVERIFY_THROWS_EXCEPTION(wb::tb::TensorBoardError, file->close());
    }

    void badInputIsRefused() {
        QTemporaryDir dir;
        wb::tb::EventWriter writer(dir.path().toStdString());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, writer.add_scalar("", 1, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, writer.add_scalar("bad\xff\xfe", 1, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 writer.add_image("img", wb::tb::Image{2, 2, 3, {1, 2, 3}}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 writer.add_image("img", wb::tb::Image{2, 2, 2, {}}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, writer.add_animation("gif", {}, 0));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            writer.add_animation("gif", {solid(2, 2, {1}), solid(3, 2, {1})}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 writer.add_pr_curve("pr", {true}, {0.5f, 0.2f}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 writer.add_pr_curve("pr", {true}, {0.5f}, 0, 1));
        writer.close();
        QVERIFY_THROWS_EXCEPTION(wb::tb::TensorBoardError, writer.add_scalar("late", 1, 0));
        writer.close();  // twice is fine
    }

    void embeddingsFollowTheProjectorLayout() {
        QTemporaryDir dir;
        const fs::path logdir = dir.path().toStdString();
        wb::tb::Embedding features;
        features.tag = "features";
        features.dim = 3;
        std::vector<wb::tb::Image> thumbs;
        std::vector<std::string> labels;
        for (int i = 0; i < 5; ++i) {
            features.vectors.insert(features.vectors.end(), {float(i), 0.5f * i, -1.0f / (i + 1)});
            thumbs.push_back(solid(4, 4, {std::uint8_t(40 * i), 255, std::uint8_t(10 + i)}));
            labels.push_back(i == 2 ? "two\twith tab" : "class " + std::to_string(i));
        }
        features.metadata = {{"label", labels}};
        features.thumbnails = thumbs;
        wb::tb::write_embedding(logdir, features, 2);

        wb::tb::Embedding table;
        table.tag = "val/logits";
        table.dim = 2;
        table.vectors = {1, 2, 3, 4};
        table.metadata = {{"label", {"cat", "dog"}}, {"correct", {"yes", ""}}};
        wb::tb::write_embedding(logdir, table, 0);
        features.vectors[0] = 42.0f;  // written again at the same step: replaces the entry
        wb::tb::write_embedding(logdir, features, 2);

        QJsonObject projector;
        RUN_READER(projector, "projector", qpath(logdir));
        const QJsonArray embeddings = projector["embeddings"].toArray();
        QCOMPARE(embeddings.size(), 2);
        const QJsonObject e = embeddings[0].toObject();
        QCOMPARE(e["tensor_name"].toString(), QString("features:00002"));
        QCOMPARE(ints(e["tensor_shape"]), (std::vector<int>{5, 3}));
        QCOMPARE(e["rows"].toInt(), 5);
        QCOMPARE(ints(e["dims"]), std::vector<int>{3});
        const QJsonArray vectors = e["vectors"].toArray();
        QCOMPARE(float(vectors[0].toArray()[0].toDouble()), 42.0f);
        QCOMPARE(float(vectors[3].toArray()[2].toDouble()), -0.25f);
        QCOMPARE(float(vectors[2].toArray()[2].toDouble()), -1.0f / 3);
        const QJsonArray lines = e["metadata_lines"].toArray();
        QCOMPARE(lines.size(), 6);  // one column: no header; and the final newline
        QCOMPARE(lines[0].toString(), QString("class 0"));
        QCOMPARE(lines[2].toString(), QString("two with tab"));
        const QJsonObject sprite = e["sprite"].toObject();
        QCOMPARE(sprite["format"].toString(), QString("PNG"));
        QCOMPARE(ints(sprite["single_image_dim"]), (std::vector<int>{4, 4}));
        QCOMPARE(sprite["width"].toInt(), 12);  // 3 x 3 cells of 4 x 4
        QCOMPARE(sprite["height"].toInt(), 12);
        const std::vector<int> pixels = ints(sprite["pixels"]);
        auto pixel = [&](int y, int x) {
            return std::vector<int>(pixels.begin() + (y * 12 + x) * 3,
                                    pixels.begin() + (y * 12 + x) * 3 + 3);
        };
        QCOMPARE(pixel(5, 6), (std::vector<int>{160, 255, 14}));  // thumbnail 4: row 1, col 1
        QCOMPARE(pixel(1, 9), (std::vector<int>{80, 255, 12}));   // thumbnail 2: row 0, col 2
        QCOMPARE(pixel(10, 10), (std::vector<int>{0, 0, 0}));     // no thumbnail 8

        const QJsonObject t = embeddings[1].toObject();
        QCOMPARE(t["tensor_name"].toString(), QString("val/logits:00000"));
        QVERIFY(!t["tensor_path"].toString().contains("val/logits"));  // a safe folder name
        QCOMPARE(t["metadata_lines"].toArray()[0].toString(), QString("label\tcorrect"));
        QCOMPARE(t["metadata_lines"].toArray()[2].toString(), QString("dog\t<empty>"));
        QVERIFY(t["sprite"].isUndefined());
    }
};

QTEST_GUILESS_MAIN(TestTensorBoard)
#include "tst_tensorboard.moc"
