// Scanning image-folder datasets: which files count, what is skipped and why, warnings, errors
// and the stratified split. Every fixture is generated into a temporary folder.

#include <zlib.h>

#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "engine/errors.h"
#include "engine/image_folder.h"
#include "engine/image_io.h"

using namespace wb;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

void write_bytes(const fs::path& path, const Bytes& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

cv::Mat noise(int rows, int cols, int type, int seed = 1) {
    cv::Mat m(rows, cols, type);
    cv::theRNG().state = std::uint64_t(seed);
    cv::randu(m, 0, CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255);
    return m;
}

Bytes encode(const cv::Mat& m, const std::string& ext) {
    Bytes out;
    if (!cv::imencode(ext, m, out)) {
        qFatal("cannot encode %s", ext.c_str());
    }
    return out;
}

void append_be32(Bytes* b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) {
        b->push_back(static_cast<unsigned char>(v >> s));
    }
}

void append_chunk(Bytes* png, const char* type, const Bytes& data) {
    append_be32(png, std::uint32_t(data.size()));
    Bytes body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    png->insert(png->end(), body.begin(), body.end());
    append_be32(png, std::uint32_t(crc32(0, body.data(), uInt(body.size()))));
}

/// An 8-bit gray+alpha PNG (colour type 4), which cv::imwrite cannot produce.
Bytes gray_alpha_png(int w, int h) {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    Bytes ihdr;
    append_be32(&ihdr, std::uint32_t(w));
    append_be32(&ihdr, std::uint32_t(h));
    ihdr.insert(ihdr.end(), {8, 4, 0, 0, 0});
    append_chunk(&png, "IHDR", ihdr);
    Bytes raw;
    for (int y = 0; y < h; ++y) {
        raw.push_back(0);  // filter: none
        for (int x = 0; x < w; ++x) {
            raw.push_back(static_cast<unsigned char>(10 * x + y));
            raw.push_back(static_cast<unsigned char>(255 - x));
        }
    }
    uLongf size = compressBound(uLong(raw.size()));
    Bytes z(size);
    compress(z.data(), &size, raw.data(), uLong(raw.size()));
    z.resize(size);
    append_chunk(&png, "IDAT", z);
    append_chunk(&png, "IEND", {});
    return png;
}

/// Bytes of a file of the given kind, as named in the data table below.
Bytes make_file(const QString& kind) {
    const cv::Mat rgb = noise(16, 16, CV_8UC3);
    if (kind == "png") {
        return encode(rgb, ".png");
    }
    if (kind == "png16") {
        return encode(noise(16, 16, CV_16UC1), ".png");
    }
    if (kind == "rgba") {
        return encode(noise(16, 16, CV_8UC4), ".png");
    }
    if (kind == "grayalpha") {
        return gray_alpha_png(16, 12);
    }
    if (kind == "jpeg") {
        return encode(rgb, ".jpg");
    }
    if (kind == "bmp" || kind == "tiff" || kind == "webp") {
        return encode(rgb, "." + kind.toStdString());
    }
    if (kind == "text") {
        const std::string s = "not an image\n";
        return Bytes(s.begin(), s.end());
    }
    if (kind == "empty") {
        return {};
    }
    if (kind == "garbage") {
        Bytes b(300);
        for (std::size_t i = 0; i < b.size(); ++i) {
            b[i] = static_cast<unsigned char>(i * 37 + 11);
        }
        return b;
    }
    if (kind == "truncpng") {
        Bytes b = encode(noise(64, 64, CV_8UC3), ".png");
        b.resize(b.size() / 2);
        return b;
    }
    if (kind == "truncjpeg") {
        Bytes b = encode(noise(64, 64, CV_8UC3), ".jpg");
        b.resize(b.size() * 2 / 3);
        return b;
    }
    if (kind == "corruptpng") {
        // Header and IEND intact, the compressed pixels overwritten: only decoding finds it.
        Bytes b = encode(noise(64, 64, CV_8UC3), ".png");
        std::fill(b.begin() + 60, b.end() - 40, 0x5a);
        return b;
    }
    qFatal("unknown kind %s", qPrintable(kind));
}

/// A class with `n` small distinct PNGs at dir/<class>/img<i>.png.
void make_class(const fs::path& dir, const std::string& name, int n, int seed = 0) {
    for (int i = 0; i < n; ++i) {
        write_bytes(dir / name / ("img" + std::to_string(i) + ".png"),
                    encode(noise(8, 8, CV_8UC1, seed * 1000 + i + 1), ".png"));
    }
}

std::set<std::string> paths_of(const std::vector<Sample>& samples) {
    std::set<std::string> out;
    for (const Sample& s : samples) {
        out.insert(s.path);
    }
    return out;
}

}  // namespace

class TestImageFolder : public QObject {
    Q_OBJECT

private slots:
    void folderIsNotReadAsAnImage();
    void fileKinds_data();
    void fileKinds();
    void decodesStoredFormat_data();
    void decodesStoredFormat();
    void signatureCheckWithoutDecode();
    void classesSortedByName();
    void emptyClassFolderWarns();
    void classMissingFromPhaseWarns();
    void noUsableImagesThrows_data();
    void noUsableImagesThrows();
    void stratifiedSplit_data();
    void stratifiedSplit();
    void splitDependsOnSeedOnly();
    void cancelledScanThrows();
    void validationHeldOutWithoutValFolder();
    void demoDataset();
};

void TestImageFolder::fileKinds_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("reason");  // empty: the file is used

    // Kept one row per line: clang-format would split the string literals of a row.
    // clang-format off
    QTest::newRow("png") << "x.png" << "png" << "";
    QTest::newRow("upper-case PNG") << "X.PNG" << "png" << "";
    QTest::newRow("upper-case JPEG") << "X.JPEG" << "jpeg" << "";
    QTest::newRow("16-bit png") << "deep.png" << "png16" << "";
    QTest::newRow("gray+alpha png") << "ga.png" << "grayalpha" << "";
    QTest::newRow("rgba png") << "rgba.png" << "rgba" << "";
    QTest::newRow("jpeg") << "x.jpg" << "jpeg" << "";
    QTest::newRow("bmp") << "x.bmp" << "bmp" << "";
    QTest::newRow("tiff") << "x.tiff" << "tiff" << "";
    if (cv::haveImageWriter(".webp")) {
        QTest::newRow("webp") << "x.webp" << "webp" << "";
    }
    QTest::newRow("hidden file") << ".hidden.png" << "png" << "hidden file";
    QTest::newRow("hidden folder") << ".cache/x.png" << "png" << "hidden folder";
    QTest::newRow("text file") << "notes.txt" << "text" << "not an image file";
    QTest::newRow("empty png") << "empty.png" << "empty" << "empty file";
    QTest::newRow("truncated png") << "cut.png" << "truncpng" << "truncated";
    QTest::newRow("truncated jpeg") << "cut.jpg" << "truncjpeg" << "truncated";
    QTest::newRow("garbage named jpg") << "junk.jpg" << "garbage" << "not an image";
    QTest::newRow("corrupt png data") << "bad.png" << "corruptpng" << "cannot be decoded";
    QTest::newRow("subfolder of a class") << "sub/x.png" << "png" << "";
    // clang-format on
}

void TestImageFolder::fileKinds() {
    QFETCH(QString, name);
    QFETCH(QString, kind);
    QFETCH(QString, reason);
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root / "train", "a", 2);
    const fs::path file = root / "train" / "a" / name.toStdString();
    write_bytes(file, make_file(kind));

    const DatasetScan scan = scan_image_folder(root.string());
    QVERIFY(scan.phase_layout);
    QCOMPARE(scan.classes, std::vector<std::string>{"a"});
    const bool used = paths_of(scan.train).count(file.string()) > 0;
    if (reason.isEmpty()) {
        QVERIFY2(used, scan.summary().c_str());
        QCOMPARE(scan.train.size(), std::size_t(3));
        QVERIFY(scan.skipped.empty());
        return;
    }
    QVERIFY(!used);
    QCOMPARE(scan.train.size(), std::size_t(2));
    QCOMPARE(scan.skipped.size(), std::size_t(1));
    const std::string where =
        name.startsWith(".cache") ? (root / "train/a/.cache").string() : file.string();
    QCOMPARE(scan.skipped[0].path, where);
    QVERIFY2(QString::fromStdString(scan.skipped[0].reason).startsWith(reason),
             scan.skipped[0].reason.c_str());
    QVERIFY2(scan.summary().find("skipped 1 files") != std::string::npos, scan.summary().c_str());
}

void TestImageFolder::decodesStoredFormat_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("channels");

    QTest::newRow("8-bit rgb") << "png" << CV_8U << 3;
    QTest::newRow("16-bit gray") << "png16" << CV_16U << 1;
    QTest::newRow("gray+alpha") << "grayalpha" << CV_8U << 4;  // OpenCV gives BGRA
    QTest::newRow("rgba") << "rgba" << CV_8U << 4;
    QTest::newRow("tiff") << "tiff" << CV_8U << 3;
}

void TestImageFolder::decodesStoredFormat() {
    QFETCH(QString, kind);
    QFETCH(int, depth);
    QFETCH(int, channels);
    QTemporaryDir tmp;
    const std::string path = tmp.filePath("img.bin").toStdString();
    write_bytes(path, make_file(kind));
    std::string error;
    const cv::Mat m = read_image_raw(path, &error);
    QVERIFY2(!m.empty(), error.c_str());
    QCOMPARE(m.depth(), depth);
    QCOMPARE(m.channels(), channels);
    if (kind == "grayalpha") {
        // Gray repeated in B, G, R; alpha kept: pixel (x=3, y=2) is gray 32, alpha 252.
        QCOMPARE(m.at<cv::Vec4b>(2, 3), cv::Vec4b(32, 32, 32, 252));
    }
}

// Regression: `predict RUN some/folder` opened the folder as a file and failed with bad_alloc.
void TestImageFolder::folderIsNotReadAsAnImage() {
    QTemporaryDir tmp;
    std::string error;
    QVERIFY(read_image_raw(tmp.path().toStdString(), &error).empty());
    QCOMPARE(QString::fromStdString(error), QString("is a folder, not an image file"));
}

void TestImageFolder::signatureCheckWithoutDecode() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root, "a", 10);
    write_bytes(root / "a" / "cut.jpg", make_file("truncjpeg"));
    write_bytes(root / "a" / "bad.png", make_file("corruptpng"));
    SplitOptions o;
    o.verify_decode = false;
    const DatasetScan fast = scan_image_folder(root.string(), o);
    // Without decoding, the truncated JPEG is still caught, the corrupt pixel data is not.
    QCOMPARE(fast.skipped.size(), std::size_t(1));
    QCOMPARE(fast.skipped[0].path, (root / "a" / "cut.jpg").string());
    QCOMPARE(fast.train.size() + fast.val.size() + fast.test.size(), std::size_t(11));
    o.verify_decode = true;
    QCOMPARE(scan_image_folder(root.string(), o).skipped.size(), std::size_t(2));
}

void TestImageFolder::classesSortedByName() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root / "train", "beta", 1);
    make_class(root / "train", "Zeta", 1);
    make_class(root / "train", "alpha", 1);
    const DatasetScan scan = scan_image_folder(root.string());
    const std::vector<std::string> expected = {"Zeta", "alpha", "beta"};  // byte order
    QCOMPARE(scan.classes, expected);
    for (const Sample& s : scan.train) {
        const std::string cls = fs::path(s.path).parent_path().filename().string();
        QCOMPARE(scan.classes[std::size_t(s.label)], cls);
    }
    QCOMPARE(scan.class_counts(Split::Train), (std::vector<int>{1, 1, 1}));
}

void TestImageFolder::emptyClassFolderWarns() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root / "train", "a", 3);
    fs::create_directories(root / "train" / "b");
    write_bytes(root / "train" / "b" / "readme.txt", make_file("text"));
    const DatasetScan scan = scan_image_folder(root.string());
    QCOMPARE(scan.classes, (std::vector<std::string>{"a", "b"}));
    QCOMPARE(scan.warnings.size(), std::size_t(1));
    const std::string& w = scan.warnings[0];
    QVERIFY2(w.find((root / "train" / "b").string()) != std::string::npos, w.c_str());
    QVERIFY2(w.find("no usable images") != std::string::npos, w.c_str());
    QVERIFY(scan.summary().find(w) != std::string::npos);
}

void TestImageFolder::classMissingFromPhaseWarns() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root / "train", "a", 2);
    make_class(root / "train", "b", 2);
    make_class(root / "val", "a", 1);
    make_class(root / "val", "c", 1);
    const DatasetScan scan = scan_image_folder(root.string());
    QCOMPARE(scan.classes, (std::vector<std::string>{"a", "b", "c"}));
    QCOMPARE(scan.class_counts(Split::Train), (std::vector<int>{2, 2, 0}));
    QCOMPARE(scan.class_counts(Split::Val), (std::vector<int>{1, 0, 1}));
    QVERIFY(scan.test.empty());
    QCOMPARE(scan.warnings.size(), std::size_t(2));
    auto has = [&](const std::string& a, const std::string& b) {
        return std::any_of(scan.warnings.begin(), scan.warnings.end(), [&](const std::string& w) {
            return w.find(a) != std::string::npos && w.find(b) != std::string::npos;
        });
    };
    QVERIFY(has("'b'", (root / "val").string()));
    QVERIFY(has("'c'", (root / "train").string()));
}

void TestImageFolder::noUsableImagesThrows_data() {
    QTest::addColumn<QString>("layout");
    QTest::addColumn<QString>("named");  // folder the message must name, relative to root

    // Kept one row per line: clang-format would split the string literals of a row.
    // clang-format off
    QTest::newRow("missing folder") << "missing" << "nowhere";
    QTest::newRow("empty folder") << "empty" << "";
    QTest::newRow("only broken files") << "broken" << "";
    QTest::newRow("train without images") << "emptytrain" << "train";
    // clang-format on
}

void TestImageFolder::noUsableImagesThrows() {
    QFETCH(QString, layout);
    QFETCH(QString, named);
    QTemporaryDir tmp;
    fs::path root = tmp.path().toStdString();
    if (layout == "missing") {
        root /= "nowhere";
    } else if (layout == "broken") {
        write_bytes(root / "a" / "x.png", make_file("empty"));
        write_bytes(root / "a" / "notes.txt", make_file("text"));
        write_bytes(root / "b" / "y.jpg", make_file("garbage"));
    } else if (layout == "emptytrain") {
        fs::create_directories(root / "train" / "a");
        make_class(root / "val", "a", 2);
    }
    const std::string base = tmp.path().toStdString();
    const std::string expected = named.isEmpty() ? base : base + "/" + named.toStdString();
    try {
        scan_image_folder(root.string());
        QFAIL("no DataError");
    } catch (const DataError& e) {
        const std::string msg = e.what();
        QVERIFY2(msg.find(expected) != std::string::npos, msg.c_str());
    }
}

void TestImageFolder::stratifiedSplit_data() {
    QTest::addColumn<QList<int>>("perClass");
    QTest::addColumn<double>("valFraction");
    QTest::addColumn<double>("testFraction");

    QTest::newRow("even 10%") << QList<int>{40, 40, 40} << 0.1 << 0.1;
    QTest::newRow("uneven classes") << QList<int>{100, 20, 7} << 0.2 << 0.1;
    QTest::newRow("no test") << QList<int>{30, 12} << 0.25 << 0.0;
    QTest::newRow("tiny classes keep a train image") << QList<int>{1, 2, 3} << 0.4 << 0.4;
    QTest::newRow("rounding up takes from the larger part") << QList<int>{3, 5} << 0.2 << 0.7;
}

void TestImageFolder::stratifiedSplit() {
    QFETCH(QList<int>, perClass);
    QFETCH(double, valFraction);
    QFETCH(double, testFraction);
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    for (int c = 0; c < perClass.size(); ++c) {
        make_class(root, "class" + std::to_string(c), perClass[c], c);
    }
    SplitOptions o;
    o.val_fraction = valFraction;
    o.test_fraction = testFraction;
    const DatasetScan scan = scan_image_folder(root.string(), o);
    QVERIFY(!scan.phase_layout);
    const std::vector<int> tr = scan.class_counts(Split::Train);
    const std::vector<int> va = scan.class_counts(Split::Val);
    const std::vector<int> te = scan.class_counts(Split::Test);
    for (int c = 0; c < perClass.size(); ++c) {
        const int n = perClass[c];
        int v = int(std::lround(n * valFraction));
        int t = int(std::lround(n * testFraction));
        while (v + t > n - 1) {
            (v >= t ? v : t) -= 1;
        }
        QCOMPARE(va[std::size_t(c)], v);
        QCOMPARE(te[std::size_t(c)], t);
        QCOMPARE(tr[std::size_t(c)], n - v - t);
        QVERIFY(tr[std::size_t(c)] >= 1);
    }
    // Disjoint and complete.
    std::set<std::string> all = paths_of(scan.train);
    for (const Sample& s : scan.val) {
        QVERIFY(all.insert(s.path).second);
    }
    for (const Sample& s : scan.test) {
        QVERIFY(all.insert(s.path).second);
    }
    QCOMPARE(int(all.size()), std::accumulate(perClass.begin(), perClass.end(), 0));
}

void TestImageFolder::splitDependsOnSeedOnly() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root, "a", 50, 1);
    make_class(root, "b", 50, 2);
    SplitOptions o;
    o.val_fraction = 0.2;
    o.test_fraction = 0.2;
    o.seed = 7;
    const DatasetScan first = scan_image_folder(root.string(), o);
    const DatasetScan again = scan_image_folder(root.string(), o);
    QCOMPARE(paths_of(first.val), paths_of(again.val));
    QCOMPARE(paths_of(first.test), paths_of(again.test));
    o.seed = 8;
    const DatasetScan other = scan_image_folder(root.string(), o);
    QVERIFY(paths_of(first.val) != paths_of(other.val));
    QVERIFY(paths_of(first.test) != paths_of(other.test));
    QCOMPARE(other.class_counts(Split::Val), first.class_counts(Split::Val));
}

void TestImageFolder::validationHeldOutWithoutValFolder() {
    // train/ and test/ but no val/: a stratified tenth of train/ becomes the validation split,
    // the same in the scan, the window and the trainer; test/ is left alone.
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_class(root / "train", "a", 20, 1);
    make_class(root / "train", "b", 40, 2);
    make_class(root / "test", "a", 5, 3);
    make_class(root / "test", "b", 5, 4);
    const DatasetScan scan = scan_image_folder(root.string());
    QVERIFY(scan.val_held_out);
    QCOMPARE(scan.class_counts(Split::Val), (std::vector<int>{2, 4}));
    QCOMPARE(scan.class_counts(Split::Train), (std::vector<int>{18, 36}));
    QCOMPARE(scan.class_counts(Split::Test), (std::vector<int>{5, 5}));
    std::set<std::string> train = paths_of(scan.train);
    for (const Sample& s : scan.val) {
        QVERIFY(train.count(s.path) == 0);
    }

    SplitOptions none;
    none.val_fraction = 0;
    const DatasetScan all = scan_image_folder(root.string(), none);
    QVERIFY(!all.val_held_out);
    QVERIFY(all.val.empty());
    QCOMPARE(all.train.size(), std::size_t(60));
}

void TestImageFolder::cancelledScanThrows() {
    QTemporaryDir tmp;
    make_class(tmp.path().toStdString(), "a", 3);
    std::atomic<bool> cancel{true};
    try {
        scan_image_folder(tmp.path().toStdString(), {}, &cancel);
        QFAIL("no DataError");
    } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).contains("cancelled"), e.what());
    }
    cancel = false;
    QCOMPARE(scan_image_folder(tmp.path().toStdString(), {}, &cancel).train.size(), std::size_t(3));
}

void TestImageFolder::demoDataset() {
    const DatasetScan scan = scan_image_folder(WB_SOURCE_DIR "/resources/demo");
    QVERIFY(scan.phase_layout);
    QCOMPARE(scan.classes.size(), std::size_t(10));
    QCOMPARE(scan.classes.front(), std::string("Ankle_boot"));
    QCOMPARE(scan.class_counts(Split::Train), std::vector<int>(10, 30));
    QCOMPARE(scan.class_counts(Split::Val), std::vector<int>(10, 10));
    QCOMPARE(scan.class_counts(Split::Test), std::vector<int>(10, 10));
    QVERIFY2(scan.skipped.empty(), scan.summary().c_str());  // LICENSE/README are top level
    QVERIFY2(scan.warnings.empty(), scan.summary().c_str());
}

QTEST_GUILESS_MAIN(TestImageFolder)
#include "tst_image_folder.moc"
