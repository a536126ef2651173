// Preprocessing: float conversion, sizes, crops, flips, normalization, dataset statistics, and
// agreement with torchvision on real images (Fashion-MNIST tiles, and baboon.jpg when
// opencv-doc is installed).

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "engine/errors.h"
#include "engine/image_io.h"
#include "engine/transforms.h"

using namespace wb;

namespace {

/// Pixel (y, x) of a rows x cols float image holds a distinct value: 0.001 * (y * cols + x).
cv::Mat coordinate_image(int rows, int cols) {
    cv::Mat m(rows, cols, CV_32FC1);
    for (int y = 0; y < rows; ++y) {
        for (int x = 0; x < cols; ++x) {
            m.at<float>(y, x) = 0.001f * float(y * cols + x);
        }
    }
    return m;
}

Preprocessing plain(int size, int resize = 0, int channels = 1) {
    Preprocessing p;
    p.image_size = size;
    p.resize = resize;
    p.channels = channels;
    p.normalize = "none";
    return p;
}

std::vector<float> run(const cv::Mat& image, const Preprocessing& p, bool train = false,
                       unsigned seed = 0) {
    std::vector<float> out(std::size_t(p.channels) * p.image_size * p.image_size, -99.f);
    std::mt19937 rng(seed);
    preprocess_into(image, p, train, rng, out.data());
    return out;
}

/// Reflect-101 index into [0, n), as numpy's and torch's "reflect" padding.
int reflect(int i, int n) {
    return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
}

/// One comparison against torchvision. mode "area" / "bilinear": torch.nn.functional.
/// interpolate to the size torchvision's Resize picks, then TF.center_crop and TF.normalize;
/// our INTER_AREA (integer factors) and INTER_LINEAR compute the same values, so only float
/// rounding may differ. mode "pil": the usual T.Compose([Resize, CenterCrop, ToTensor,
/// Normalize]) on a PIL image. PIL resizes in two passes and rounds to 8 bits after each (up to
/// about 1 / 255 / std = 0.017 here) and, when shrinking, its antialiased bilinear filter spans
/// more pixels than INTER_AREA's box, which blurs the sharp garment edges differently.
struct RefCase {
    const char* name;
    const char* image;  // "tiles", "tiles_gray", "garment" or "baboon"
    const char* mode;
    int resize;
    int size;
    int channels;
    double max_diff;   ///< allowed, in normalized units
    double mean_diff;  ///< allowed, in normalized units
};

const RefCase kRefCases[] = {
    {"tiles, area 2x down", "tiles", "area", 56, 48, 3, 1e-4, 1e-5},
    {"tiles, no resize, crop offsets round half even", "tiles", "area", 112, 107, 3, 1e-4, 1e-5},
    {"tiles gray, bilinear up", "tiles_gray", "bilinear", 150, 128, 1, 1e-4, 1e-5},
    {"garment 28 to 32, PIL pipeline", "garment", "pil", 32, 32, 1, 0.02, 0.005},
    {"tiles 2x down, PIL pipeline", "tiles", "pil", 56, 48, 3, 1.2, 0.16},
    {"baboon, area 2x down", "baboon", "area", 256, 224, 3, 1e-4, 1e-5},
    {"baboon, PIL pipeline", "baboon", "pil", 256, 224, 3, 1.0, 0.12},
};

/// OpenCV's sample photo (package opencv-doc); $WB_TEST_BABOON points elsewhere.
QString baboon_path() {
    return qEnvironmentVariable("WB_TEST_BABOON",
                                "/usr/share/doc/opencv-doc/examples/data/baboon.jpg");
}

const char* kReferenceScript = R"(
import sys
import numpy as np
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image

for line in open(sys.argv[1]):
    path, mode, resize, size, channels, out = line.split()
    resize, size, channels = int(resize), int(size), int(channels)
    img = Image.open(path).convert('RGB' if channels == 3 else 'L')
    mean = [0.485, 0.456, 0.406] if channels == 3 else [0.449]
    std = [0.229, 0.224, 0.225] if channels == 3 else [0.226]
    if mode == 'pil':
        t = T.Compose([T.Resize(resize), T.CenterCrop(size), T.ToTensor(), T.Normalize(mean, std)])
        x = t(img)
    else:
        w, h = T.Resize(resize)(img).size
        x = TF.to_tensor(img)
        if (h, w) != tuple(x.shape[1:]):
            kw = {} if mode == 'area' else {'align_corners': False}
            x = F.interpolate(x[None], size=(h, w), mode=mode, **kw)[0]
        x = TF.normalize(TF.center_crop(x, [size, size]), mean, std)
    x.numpy().astype(np.float32).tofile(out)
)";

}  // namespace

class TestTransforms : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void floatConversion_data();
    void floatConversion();
    void centreCrop_data();
    void centreCrop();
    void outputSizes_data();
    void outputSizes();
    void hflip();
    void randomCropWithReflectPadding();
    void evaluationIgnoresAugmentation();
    void normalization();
    void meanStdOfTrainingImages();
    void resolveNormalization_data();
    void resolveNormalization();
    void matchesTorchvision_data();
    void matchesTorchvision();

private:
    QTemporaryDir m_dir;
    bool m_haveReference = false;
    QString m_pythonLog;
};

void TestTransforms::initTestCase() {
    QVERIFY(m_dir.isValid());
    // A real picture with edges: 4 x 6 Fashion-MNIST tiles, a different garment per channel.
    std::vector<std::string> files;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(WB_SOURCE_DIR "/resources/demo/train")) {
        if (entry.path().extension() == ".png") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    QVERIFY(files.size() >= 72);
    std::vector<cv::Mat> planes;
    for (int c = 0; c < 3; ++c) {
        planes.emplace_back(112, 168, CV_8UC1);
    }
    for (int k = 0; k < 72; ++k) {
        // Every fourth file, so that neighbouring tiles show different classes.
        const cv::Mat tile =
            cv::imread(files[std::size_t(k * 4) % files.size()], cv::IMREAD_GRAYSCALE);
        QCOMPARE(tile.size(), cv::Size(28, 28));
        const int t = k / 3;
        tile.copyTo(planes[std::size_t(k % 3)](cv::Rect(28 * (t % 6), 28 * (t / 6), 28, 28)));
    }
    cv::Mat tiles;
    cv::merge(planes, tiles);
    QVERIFY(cv::imwrite(m_dir.filePath("tiles.png").toStdString(), tiles));
    QVERIFY(cv::imwrite(m_dir.filePath("tiles_gray.png").toStdString(), planes[1]));
    std::filesystem::copy_file(files[0], m_dir.filePath("garment.png").toStdString());
    const cv::Mat baboon = QFile::exists(baboon_path())
                               ? cv::imread(baboon_path().toStdString(), cv::IMREAD_COLOR)
                               : cv::Mat();
    if (!baboon.empty()) {
        // Both sides decode the same PNG, so JPEG decoder differences do not count.
        QVERIFY(cv::imwrite(m_dir.filePath("baboon.png").toStdString(), baboon));
    }

    std::ofstream(m_dir.filePath("ref.py").toStdString()) << kReferenceScript;
    std::ofstream cases(m_dir.filePath("cases.txt").toStdString());
    int i = 0;
    for (const RefCase& c : kRefCases) {
        if (std::string(c.image) == "baboon" && baboon.empty()) {
            ++i;
            continue;
        }
        cases << m_dir.filePath(QString(c.image) + ".png").toStdString() << " " << c.mode << " "
              << c.resize << " " << c.size << " " << c.channels << " "
              << m_dir.filePath(QString("ref%1.bin").arg(i++)).toStdString() << "\n";
    }
    cases.close();
    QProcess python;
    python.setProcessChannelMode(QProcess::MergedChannels);
    python.start(WB_PYTHON, {m_dir.filePath("ref.py"), m_dir.filePath("cases.txt")});
    python.waitForFinished(120000);
    m_pythonLog = QString::fromUtf8(python.readAll());
    m_haveReference = python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0;
}

void TestTransforms::floatConversion_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QList<double>>("pixel");     // stored B, G, R, A (or gray)
    QTest::addColumn<QList<double>>("expected");  // R, G, B or gray, in [0, 1]

    QTest::newRow("8-bit gray") << CV_8UC1 << 1 << QList<double>{51} << QList<double>{0.2};
    QTest::newRow("8-bit gray to 3")
        << CV_8UC1 << 3 << QList<double>{255} << QList<double>{1, 1, 1};
    QTest::newRow("16-bit gray") << CV_16UC1 << 1 << QList<double>{32768}
                                 << QList<double>{32768.0 / 65535};
    QTest::newRow("16-bit max") << CV_16UC1 << 1 << QList<double>{65535} << QList<double>{1};
    QTest::newRow("BGR to RGB") << CV_8UC3 << 3 << QList<double>{0, 51, 255}
                                << QList<double>{1, 0.2, 0};
    QTest::newRow("BGRA drops alpha")
        << CV_8UC4 << 3 << QList<double>{255, 0, 102, 7} << QList<double>{0.4, 0, 1};
    QTest::newRow("16-bit BGR") << CV_16UC3 << 3 << QList<double>{0, 65535, 13107}
                                << QList<double>{0.2, 1, 0};
    // Gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as PIL's "L"), rounded to 8 bits.
    QTest::newRow("BGR to gray") << CV_8UC3 << 1 << QList<double>{100, 200, 50}
                                 << QList<double>{
                                        std::round(0.299 * 50 + 0.587 * 200 + 0.114 * 100) / 255};
}

void TestTransforms::floatConversion() {
    QFETCH(int, type);
    QFETCH(int, channels);
    QFETCH(QList<double>, pixel);
    QFETCH(QList<double>, expected);
    cv::Scalar value;
    for (int i = 0; i < pixel.size(); ++i) {
        value[i] = pixel[i];
    }
    const cv::Mat raw(3, 5, type, value);
    const cv::Mat f = to_float_image(raw, channels);
    QCOMPARE(f.type(), CV_MAKETYPE(CV_32F, channels));
    QCOMPARE(f.size(), raw.size());
    for (int c = 0; c < channels; ++c) {
        QVERIFY2(std::abs(f.ptr<float>(2)[4 * channels + c] - expected[c]) < 1e-6,
                 qPrintable(QString("channel %1: %2").arg(c).arg(f.ptr<float>(2)[c])));
    }
}

void TestTransforms::centreCrop_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("top");   // torchvision: int(round((h - size) / 2)), half to even
    QTest::addColumn<int>("left");  // negative: zero padding of (size - w) // 2 on the left

    QTest::newRow("same size") << 28 << 28 << 28 << 0 << 0;
    QTest::newRow("square") << 28 << 28 << 24 << 2 << 2;
    QTest::newRow("wide") << 28 << 40 << 28 << 0 << 6;
    QTest::newRow("tall, 2.5 rounds to 2") << 33 << 28 << 28 << 2 << 0;
    QTest::newRow("3.5 rounds to 4") << 31 << 31 << 24 << 4 << 4;
    QTest::newRow("smaller: zero padding") << 20 << 20 << 25 << -2 << -2;
}

void TestTransforms::centreCrop() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, size);
    QFETCH(int, top);
    QFETCH(int, left);
    const cv::Mat image = coordinate_image(rows, cols);
    // resize = short side: no interpolation, so every value is a source pixel or zero.
    const std::vector<float> out = run(image, plain(size, std::min(rows, cols)));
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const int sy = top + y;
            const int sx = left + x;
            const bool inside = sy >= 0 && sy < rows && sx >= 0 && sx < cols;
            const float want = inside ? image.at<float>(sy, sx) : 0.f;
            QCOMPARE(out[std::size_t(y * size + x)], want);
        }
    }
}

void TestTransforms::outputSizes_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("resize");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("channels");

    QTest::newRow("28 to 32, 3 channels") << 28 << 28 << 0 << 32 << 3;
    QTest::newRow("640x480 to 256/224") << 480 << 640 << 256 << 224 << 3;
    QTest::newRow("tall to 64") << 300 << 100 << 0 << 64 << 1;
    QTest::newRow("tiny to 16") << 3 << 5 << 20 << 16 << 1;
}

void TestTransforms::outputSizes() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, resize);
    QFETCH(int, size);
    QFETCH(int, channels);
    // A uniform image stays uniform through any resize and crop: every output value is 0.5
    // exactly, so nothing came from padding and every float was written.
    const cv::Mat image(rows, cols, CV_8UC3, cv::Scalar(128, 128, 128));
    const std::vector<float> out = run(image, plain(size, resize, channels));
    QCOMPARE(out.size(), std::size_t(channels * size * size));
    for (float v : out) {
        QVERIFY2(std::abs(v - 128.f / 255.f) < 1e-6, qPrintable(QString::number(v)));
    }
}

void TestTransforms::hflip() {
    const cv::Mat image = coordinate_image(8, 8);
    Preprocessing p = plain(8);
    p.hflip = true;
    const std::vector<float> straight = run(image, plain(8));
    int flipped = 0;
    for (unsigned seed = 0; seed < 40; ++seed) {
        const std::vector<float> out = run(image, p, true, seed);
        if (out == straight) {
            continue;
        }
        ++flipped;
        for (int y = 0; y < 8; ++y) {
            for (int x = 0; x < 8; ++x) {
                QCOMPARE(out[std::size_t(y * 8 + x)], image.at<float>(y, 7 - x));
            }
        }
    }
    QVERIFY2(flipped > 5 && flipped < 35, qPrintable(QString::number(flipped)));
}

void TestTransforms::randomCropWithReflectPadding() {
    const int n = 10;
    const int pad = 3;
    const cv::Mat image = coordinate_image(n, n);
    Preprocessing p = plain(n);
    p.random_crop = true;
    p.crop_padding = pad;
    std::set<std::pair<int, int>> offsets;
    for (unsigned seed = 0; seed < 400; ++seed) {
        const std::vector<float> out = run(image, p, true, seed);
        // Find the window of the reflect-padded image that the output is.
        bool found = false;
        for (int dy = -pad; dy <= pad && !found; ++dy) {
            for (int dx = -pad; dx <= pad && !found; ++dx) {
                bool same = true;
                for (int y = 0; y < n && same; ++y) {
                    for (int x = 0; x < n && same; ++x) {
                        same = out[std::size_t(y * n + x)] ==
                               image.at<float>(reflect(y + dy, n), reflect(x + dx, n));
                    }
                }
                if (same) {
                    offsets.insert({dy, dx});
                    found = true;
                }
            }
        }
        QVERIFY2(found, qPrintable(QString("seed %1: not a window of the padded image").arg(seed)));
    }
    // 49 possible offsets, corners included, drawn 400 times.
    QVERIFY2(offsets.size() > 40, qPrintable(QString::number(offsets.size())));
    QVERIFY(offsets.count({-pad, -pad}) && offsets.count({pad, pad}));
}

void TestTransforms::evaluationIgnoresAugmentation() {
    const cv::Mat image = coordinate_image(12, 12);
    Preprocessing p = plain(12);
    p.random_crop = true;
    p.crop_padding = 4;
    p.hflip = true;
    const std::vector<float> centre = run(image, plain(12));
    for (unsigned seed = 0; seed < 20; ++seed) {
        QCOMPARE(run(image, p, false, seed), centre);
    }
}

void TestTransforms::normalization() {
    const cv::Mat bgr(6, 6, CV_8UC3, cv::Scalar(255, 102, 51));  // R 0.2, G 0.4, B 1.0
    Preprocessing p = plain(4, 0, 3);
    p.mean = {0.1f, 0.5f, 0.25f};
    p.std = {0.5f, 0.25f, 2.0f};
    const std::vector<float> out = run(bgr, p);
    const float expected[] = {(0.2f - 0.1f) / 0.5f, (0.4f - 0.5f) / 0.25f, (1.f - 0.25f) / 2.f};
    for (int c = 0; c < 3; ++c) {
        for (int i = 0; i < 16; ++i) {
            QVERIFY(std::abs(out[std::size_t(c * 16 + i)] - expected[c]) < 1e-6);
        }
    }
    p.mean = {0.5f};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, run(bgr, p));
}

void TestTransforms::meanStdOfTrainingImages() {
    QTemporaryDir tmp;
    // Two gray images: all 51 (0.2) and all 204 (0.8): mean 0.5, std 0.3 per pixel.
    std::vector<Sample> samples;
    const int values[] = {51, 204};
    for (int v : values) {
        const std::string path = tmp.filePath(QString("%1.png").arg(v)).toStdString();
        QVERIFY(cv::imwrite(path, cv::Mat(20, 30, CV_8UC1, cv::Scalar(v))));
        samples.push_back({path, 0});
    }
    samples.push_back({tmp.filePath("missing.png").toStdString(), 0});  // skipped
    std::vector<float> mean;
    std::vector<float> std;
    compute_mean_std(samples, plain(16, 0, 3), &mean, &std);
    QCOMPARE(mean.size(), std::size_t(3));
    for (int c = 0; c < 3; ++c) {
        QVERIFY(std::abs(mean[std::size_t(c)] - 0.5f) < 1e-5);
        QVERIFY(std::abs(std[std::size_t(c)] - 0.3f) < 1e-5);
    }
    compute_mean_std(samples, plain(16), &mean, &std, 1);  // only the first image
    QCOMPARE(mean.size(), std::size_t(1));
    QVERIFY(std::abs(mean[0] - 0.2f) < 1e-5);
}

void TestTransforms::resolveNormalization_data() {
    QTest::addColumn<QString>("normalize");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QList<float>>("mean");
    QTest::addColumn<QList<float>>("std");

    QTest::newRow("none gray") << "none" << 1 << QList<float>{0} << QList<float>{1};
    QTest::newRow("none rgb") << "none" << 3 << QList<float>{0, 0, 0} << QList<float>{1, 1, 1};
    QTest::newRow("imagenet rgb") << "imagenet" << 3 << QList<float>{0.485f, 0.456f, 0.406f}
                                  << QList<float>{0.229f, 0.224f, 0.225f};
    QTest::newRow("imagenet gray: mean of the three")
        << "imagenet" << 1 << QList<float>{0.449f} << QList<float>{0.226f};
    QTest::newRow("dataset: set values are kept")
        << "dataset" << 1 << QList<float>{0.3f} << QList<float>{0.7f};
}

void TestTransforms::resolveNormalization() {
    QFETCH(QString, normalize);
    QFETCH(int, channels);
    QFETCH(QList<float>, mean);
    QFETCH(QList<float>, std);
    Preprocessing p = plain(8, 0, channels);
    p.normalize = normalize.toStdString();
    if (normalize == "dataset") {
        p.mean = {mean.begin(), mean.end()};
        p.std = {std.begin(), std.end()};
    }
    resolve_normalization(&p, {});
    QCOMPARE(int(p.mean.size()), channels);
    QCOMPARE(int(p.std.size()), channels);
    for (int c = 0; c < channels; ++c) {
        QVERIFY(std::abs(p.mean[std::size_t(c)] - mean[c]) < 1e-6);
        QVERIFY(std::abs(p.std[std::size_t(c)] - std[c]) < 1e-6);
    }
    p.normalize = "imagenette";
    QVERIFY_THROWS_EXCEPTION(ConfigError, resolve_normalization(&p, {}));
}

void TestTransforms::matchesTorchvision_data() {
    QTest::addColumn<int>("index");
    const bool baboon = QFile::exists(baboon_path());
    for (int i = 0; i < int(std::size(kRefCases)); ++i) {
        if (std::string(kRefCases[i].image) != "baboon" || baboon) {
            QTest::newRow(kRefCases[i].name) << i;
        }
    }
}

void TestTransforms::matchesTorchvision() {
    QFETCH(int, index);
    QVERIFY2(m_haveReference, qPrintable("reference script failed: " + m_pythonLog));
    const RefCase& c = kRefCases[index];
    Preprocessing p = plain(c.size, c.resize, c.channels);
    p.normalize = "imagenet";
    resolve_normalization(&p, {});
    const cv::Mat raw = read_image_raw(m_dir.filePath(QString(c.image) + ".png").toStdString());
    QVERIFY(!raw.empty());
    const std::vector<float> ours = run(to_float_image(raw, c.channels), p);

    std::vector<float> ref(ours.size());
    std::ifstream f(m_dir.filePath(QString("ref%1.bin").arg(index)).toStdString(),
                    std::ios::binary);
    f.read(reinterpret_cast<char*>(ref.data()), std::streamsize(ref.size() * sizeof(float)));
    QCOMPARE(std::size_t(f.gcount()), ref.size() * sizeof(float));
    double max_diff = 0;
    double sum_diff = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = std::abs(double(ours[i]) - ref[i]);
        max_diff = std::max(max_diff, d);
        sum_diff += d;
    }
    const double mean_diff = sum_diff / double(ref.size());
    qInfo("%s: max |diff| %.2e, mean |diff| %.2e (normalized units)", c.name, max_diff, mean_diff);
    QVERIFY2(max_diff <= c.max_diff, qPrintable(QString::number(max_diff)));
    QVERIFY2(mean_diff <= c.mean_diff, qPrintable(QString::number(mean_diff)));
}

QTEST_GUILESS_MAIN(TestTransforms)
#include "tst_transforms.moc"
