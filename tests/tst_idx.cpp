// IDX files (the MNIST family): reading plain and gzip files, refusing bad ones with the file's
// name, exporting to an image folder that the scanner reads back, and the real Fashion-MNIST.

#include <zlib.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "engine/errors.h"
#include "engine/idx.h"
#include "engine/image_folder.h"

using namespace wb;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

void put_be32(Bytes* b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) {
        b->push_back(static_cast<unsigned char>(v >> s));
    }
}

Bytes images_idx(int count, int rows, int cols, std::uint32_t magic = 0x00000803) {
    Bytes b;
    put_be32(&b, magic);
    put_be32(&b, std::uint32_t(count));
    put_be32(&b, std::uint32_t(rows));
    put_be32(&b, std::uint32_t(cols));
    for (int i = 0; i < count * rows * cols; ++i) {
        b.push_back(static_cast<unsigned char>(i * 7 % 256));
    }
    return b;
}

Bytes labels_idx(const std::vector<int>& labels, std::uint32_t magic = 0x00000801) {
    Bytes b;
    put_be32(&b, magic);
    put_be32(&b, std::uint32_t(labels.size()));
    for (int l : labels) {
        b.push_back(static_cast<unsigned char>(l));
    }
    return b;
}

/// Writes `bytes` to `path`, gzip-compressed when the name ends in .gz.
std::string write(const QTemporaryDir& dir, const QString& name, const Bytes& bytes) {
    const std::string path = dir.filePath(name).toStdString();
    if (name.endsWith(".gz")) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, bytes.data(), unsigned(bytes.size()));
        gzclose(f);
    } else {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    return path;
}

const char* kFashion = "/usr/share/datasets/fashion-mnist";

}  // namespace

class TestIdx : public QObject {
    Q_OBJECT

private slots:
    void readsBack_data();
    void readsBack();
    void badFileNamesTheFile_data();
    void badFileNamesTheFile();
    void exportThenScan();
    void exportSkipAndLimitAreDisjoint();
    void exportRefusesMismatchedCounts();
    void fashionMnistClasses();
    void realFashionMnist();
    void demoDatasetIsFashionMnist();
};

void TestIdx::readsBack_data() {
    QTest::addColumn<QString>("suffix");
    QTest::newRow("plain") << "";
    QTest::newRow("gzip") << ".gz";
}

void TestIdx::readsBack() {
    QFETCH(QString, suffix);
    QTemporaryDir dir;
    const Bytes img = images_idx(3, 4, 5);
    const std::vector<int> labels = {2, 0, 255};
    const IdxImages got = read_idx_images(write(dir, "img.idx" + suffix, img));
    QCOMPARE(got.count, 3);
    QCOMPARE(got.rows, 4);
    QCOMPARE(got.cols, 5);
    QCOMPARE(got.pixels, Bytes(img.begin() + 16, img.end()));
    QCOMPARE(read_idx_labels(write(dir, "lab.idx" + suffix, labels_idx(labels))), labels);
}

void TestIdx::badFileNamesTheFile_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");  // part of the error after the file name

    // Kept one row per line: clang-format would split the string literals of a row.
    // clang-format off
    QTest::newRow("labels read as images") << "labels-as-images" << "magic number 0x00000801";
    QTest::newRow("images read as labels") << "images-as-labels" << "magic number 0x00000803";
    QTest::newRow("pixels cut short") << "short-pixels" << "truncated";
    QTest::newRow("labels cut short") << "short-labels" << "truncated";
    QTest::newRow("three bytes") << "tiny" << "not an IDX";
    QTest::newRow("zero rows") << "zero-rows" << "bad dimensions";
    QTest::newRow("missing file") << "missing" << "cannot open";
    QTest::newRow("gzip cut short") << "short-gzip" << "truncated";
    // clang-format on
}

void TestIdx::badFileNamesTheFile() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    QTemporaryDir dir;
    std::string path = dir.filePath("bad.idx").toStdString();
    bool labels = false;
    if (kind == "labels-as-images") {
        path = write(dir, "bad.idx", labels_idx({1, 2}));
    } else if (kind == "images-as-labels") {
        path = write(dir, "bad.idx", images_idx(1, 2, 2));
        labels = true;
    } else if (kind == "short-pixels") {
        Bytes b = images_idx(4, 3, 3);
        b.pop_back();
        path = write(dir, "bad.idx", b);
    } else if (kind == "short-labels") {
        Bytes b = labels_idx({1, 2, 3});
        b.pop_back();
        path = write(dir, "bad.idx", b);
        labels = true;
    } else if (kind == "tiny") {
        path = write(dir, "bad.idx", {0, 0, 8});
    } else if (kind == "zero-rows") {
        path = write(dir, "bad.idx", images_idx(2, 0, 3));
    } else if (kind == "short-gzip") {
        Bytes b = images_idx(10, 8, 8);
        b.resize(b.size() - 50);
        path = write(dir, "bad.idx.gz", b);
    }
    try {
        if (labels) {
            read_idx_labels(path);
        } else {
            read_idx_images(path);
        }
        QFAIL("no DataError");
    } catch (const DataError& e) {
        const QString what = e.what();
        QVERIFY2(what.startsWith(QString::fromStdString(path)), qPrintable(what));
        QVERIFY2(what.contains(message), qPrintable(what));
    }
}

void TestIdx::exportThenScan() {
    QTemporaryDir dir;
    const int n = 12;
    std::vector<int> labels;
    for (int i = 0; i < n; ++i) {
        labels.push_back(i % 3);
    }
    const std::string img = write(dir, "img.gz", images_idx(n, 5, 4));
    const std::string lab = write(dir, "lab", labels_idx(labels));
    const fs::path out = dir.filePath("out").toStdString();
    QCOMPARE(export_idx_to_folder(img, lab, out.string(), {"cat", "dog", "eel"}), n);
    // Names are the position in the IDX file, zero-padded to the digits of the count.
    QVERIFY(fs::exists(out / "cat" / "00.png"));
    QVERIFY(fs::exists(out / "eel" / "11.png"));
    const cv::Mat first = cv::imread((out / "dog" / "07.png").string(), cv::IMREAD_UNCHANGED);
    QCOMPARE(first.type(), CV_8UC1);
    QCOMPARE(first.size(), cv::Size(4, 5));
    QCOMPARE(int(first.at<unsigned char>(1, 2)), (7 * 20 + 6) * 7 % 256);

    SplitOptions o;
    o.val_fraction = 0.25;
    o.test_fraction = 0;
    const DatasetScan scan = scan_image_folder(out.string(), o);
    QCOMPARE(scan.classes, (std::vector<std::string>{"cat", "dog", "eel"}));
    QCOMPARE(scan.class_counts(Split::Train), (std::vector<int>{3, 3, 3}));
    QCOMPARE(scan.class_counts(Split::Val), (std::vector<int>{1, 1, 1}));
    QVERIFY(scan.skipped.empty());

    // No class names: folders are the label numbers.
    const fs::path numbered = dir.filePath("numbered").toStdString();
    QCOMPARE(export_idx_to_folder(img, lab, numbered.string(), {}, 2), 6);
    QVERIFY(fs::exists(numbered / "2" / "05.png"));
    QVERIFY(!fs::exists(numbered / "2" / "08.png"));
}

void TestIdx::exportSkipAndLimitAreDisjoint() {
    QTemporaryDir dir;
    std::vector<int> labels;
    for (int i = 0; i < 20; ++i) {
        labels.push_back(i % 2);
    }
    const std::string img = write(dir, "img", images_idx(20, 2, 2));
    const std::string lab = write(dir, "lab", labels_idx(labels));
    const fs::path a = dir.filePath("a").toStdString();
    const fs::path b = dir.filePath("b").toStdString();
    QCOMPARE(export_idx_to_folder(img, lab, a.string(), {"x", "y"}, 3), 6);
    QCOMPARE(export_idx_to_folder(img, lab, b.string(), {"x", "y"}, 2, 3), 4);
    auto names = [](const fs::path& dir) {
        std::set<std::string> out;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (e.is_regular_file()) {
                out.insert(e.path().parent_path().filename().string() + "/" +
                           e.path().filename().string());
            }
        }
        return out;
    };
    QCOMPARE(names(a), (std::set<std::string>{"x/00.png", "x/02.png", "x/04.png", "y/01.png",
                                              "y/03.png", "y/05.png"}));
    QCOMPARE(names(b), (std::set<std::string>{"x/06.png", "x/08.png", "y/07.png", "y/09.png"}));
}

void TestIdx::exportRefusesMismatchedCounts() {
    QTemporaryDir dir;
    const std::string img = write(dir, "img", images_idx(3, 2, 2));
    const std::string lab = write(dir, "lab", labels_idx({0, 1}));
    try {
        export_idx_to_folder(img, lab, dir.filePath("out").toStdString(), {});
        QFAIL("no DataError");
    } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(img)), e.what());
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(lab)), e.what());
    }
    const std::string many = write(dir, "lab3", labels_idx({0, 1, 5}));
    QVERIFY_THROWS_EXCEPTION(
        DataError, export_idx_to_folder(img, many, dir.filePath("o").toStdString(), {"a", "b"}));
}

void TestIdx::fashionMnistClasses() {
    const std::vector<std::string> want = {"T-shirt_top", "Trouser",   "Pullover", "Dress",
                                           "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                           "Bag",         "Ankle_boot"};
    QCOMPARE(fashion_mnist_classes(), want);
}

void TestIdx::realFashionMnist() {
    const std::string images = std::string(kFashion) + "/t10k-images-idx3-ubyte.gz";
    if (!fs::exists(images)) {
        QSKIP("dataset-fashion-mnist is not installed");
    }
    const IdxImages got = read_idx_images(images);
    QCOMPARE(got.count, 10000);
    QCOMPARE(got.rows, 28);
    QCOMPARE(got.cols, 28);
    QCOMPARE(got.pixels.size(), std::size_t(10000 * 28 * 28));
    const std::vector<int> labels =
        read_idx_labels(std::string(kFashion) + "/t10k-labels-idx1-ubyte.gz");
    std::vector<int> per_class(10, 0);
    for (int l : labels) {
        QVERIFY(l >= 0 && l < 10);
        ++per_class[std::size_t(l)];
    }
    QCOMPARE(per_class, std::vector<int>(10, 1000));
}

void TestIdx::demoDatasetIsFashionMnist() {
    // resources/demo/test holds the first 10 test images of each class, named by position.
    const std::string images = std::string(kFashion) + "/t10k-images-idx3-ubyte.gz";
    if (!fs::exists(images)) {
        QSKIP("dataset-fashion-mnist is not installed");
    }
    const IdxImages idx = read_idx_images(images);
    const std::vector<int> labels =
        read_idx_labels(std::string(kFashion) + "/t10k-labels-idx1-ubyte.gz");
    const fs::path test = WB_SOURCE_DIR "/resources/demo/test";
    int checked = 0;
    for (int i = 0; i < idx.count && checked < 100; ++i) {
        const std::string cls = fashion_mnist_classes()[std::size_t(labels[std::size_t(i)])];
        char name[16];
        std::snprintf(name, sizeof name, "%04d.png", i);
        const fs::path file = test / cls / name;
        if (!fs::exists(file)) {
            continue;
        }
        const cv::Mat png = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
        const cv::Mat want(28, 28, CV_8UC1, const_cast<unsigned char*>(&idx.pixels[i * 784]));
        QCOMPARE(cv::norm(png, want, cv::NORM_INF), 0.0);
        ++checked;
    }
    QCOMPARE(checked, 100);
}

QTEST_GUILESS_MAIN(TestIdx)
#include "tst_idx.moc"
