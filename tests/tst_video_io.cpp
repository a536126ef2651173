// Video decoding: frames of an AVI and of a frame folder with the values they were written
// with, the short-side resize, and a clear reason for files that will not open or stop early.

#include <QTemporaryDir>
#include <QtTest>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/video_io.h"
#include "tests/video_fixture.h"

using namespace wb;

class TestVideoIo : public QObject {
    Q_OBJECT

private slots:
    void init();
    void decodesEveryFrameOfAnAvi();
    void resizesTheShortSide_data();
    void resizesTheShortSide();
    void decodesAFrameFolderExactly();
    void verifyCountsFramesWithoutKeepingThem();
    void badFilesGiveAReason_data();
    void badFilesGiveAReason();
    void extensions_data();
    void extensions();

private:
    QTemporaryDir dir_;
    std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }
};

void TestVideoIo::init() {
    QVERIFY(dir_.isValid());
}

void TestVideoIo::decodesEveryFrameOfAnAvi() {
    const std::string file = path("gray.avi");
    QVERIFY(test::write_fixture_video(file, 20));
    std::string error;
    const DecodedVideo v = decode_video(file, 0, &error);
    QVERIFY2(!v.empty(), error.c_str());
    QCOMPARE(v.frames, 20);
    QCOMPARE(v.cols, 32);
    QCOMPARE(v.rows, 24);
    for (int t = 0; t < v.frames; ++t) {
        // MJPG is lossy, but a uniform frame comes back within a few levels.
        const std::uint8_t* f = v.frame(t);
        const int centre = f[(12 * 32 + 16) * 3 + 1];
        QVERIFY2(
            std::abs(centre - test::frame_value(t)) <= 3,
            qPrintable(
                QString("frame %1: %2, written %3").arg(t).arg(centre).arg(test::frame_value(t))));
    }
    QCOMPARE(probe_video(file), 20);
}

void TestVideoIo::resizesTheShortSide_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<int>("side");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("rows");
    // torchvision's Resize(int): the long side is truncated, int(side * long / short).
    QTest::newRow("landscape shrink") << 48 << 32 << 16 << 24 << 16;
    QTest::newRow("portrait grow") << 24 << 40 << 36 << 36 << 60;
    QTest::newRow("odd ratio") << 50 << 30 << 16 << 26 << 16;
    QTest::newRow("unchanged") << 40 << 30 << 30 << 40 << 30;
}

void TestVideoIo::resizesTheShortSide() {
    QFETCH(int, width);
    QFETCH(int, height);
    QFETCH(int, side);
    QFETCH(int, cols);
    QFETCH(int, rows);
    const std::string file = path("sized.avi");
    QVERIFY(test::write_fixture_video(file, 3, width, height));
    const DecodedVideo v = decode_video(file, side);
    QCOMPARE(v.frames, 3);
    QCOMPARE(v.cols, cols);
    QCOMPARE(v.rows, rows);
    QCOMPARE(v.pixels.size(), std::size_t(3) * cols * rows * 3);
}

void TestVideoIo::decodesAFrameFolderExactly() {
    const std::string folder = path("clip");
    std::filesystem::create_directory(folder);
    test::write_fixture_frames(folder, 5);
    std::ofstream(folder + "/notes.txt") << "not a frame";
    QVERIFY(is_frame_folder(folder));
    const DecodedVideo v = decode_video(folder, 0);
    QCOMPARE(v.frames, 5);
    for (int t = 0; t < 5; ++t) {
        QCOMPARE(int(v.frame(t)[0]), test::frame_value(t));
    }
    QCOMPARE(probe_video(folder), 5);
    QCOMPARE(verify_video(folder), 5);
}

void TestVideoIo::verifyCountsFramesWithoutKeepingThem() {
    const std::string file = path("count.avi");
    QVERIFY(test::write_fixture_video(file, 37));
    QCOMPARE(verify_video(file), 37);
}

void TestVideoIo::badFilesGiveAReason_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty file") << "empty"
                                << "empty file";
    QTest::newRow("text named .avi") << "text"
                                     << "cannot be opened as a video";
    QTest::newRow("cut in half") << "truncated"
                                 << "stops decoding early";
    QTest::newRow("frame folder with a broken frame") << "broken frame"
                                                      << "frame 001.png";
}

void TestVideoIo::badFilesGiveAReason() {
    QFETCH(QString, kind);
    QFETCH(QString, reason);
    std::string file = path("bad.avi");
    if (kind == "empty") {
        std::ofstream(file).close();
    } else if (kind == "text") {
        std::ofstream(file) << "this is not a video\n";
    } else if (kind == "truncated") {
        QVERIFY(test::write_fixture_video(file, 60, 64, 48, true));
        std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
    } else {
        file = path("broken");
        std::filesystem::create_directory(file);
        test::write_fixture_frames(file, 3);
        std::ofstream(file + "/001.png", std::ios::trunc) << "garbage";
    }
    std::string decode_error, verify_error, probe_error;
    QVERIFY(decode_video(file, 0, &decode_error).empty());
    QVERIFY2(QString::fromStdString(decode_error).contains(reason), decode_error.c_str());
    QCOMPARE(verify_video(file, &verify_error), -1);
    QVERIFY2(QString::fromStdString(verify_error).contains(reason), verify_error.c_str());
    if (kind == "empty" || kind == "text") {
        QCOMPARE(probe_video(file, &probe_error), -1);
        QVERIFY2(QString::fromStdString(probe_error).contains(reason), probe_error.c_str());
    }
}

void TestVideoIo::extensions_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("video");
    QTest::newRow("avi") << "a.avi" << true;
    QTest::newRow("upper case MP4") << "b.MP4" << true;
    QTest::newRow("mkv") << "c.mkv" << true;
    QTest::newRow("webm") << "d.webm" << true;
    QTest::newRow("png") << "e.png" << false;
    QTest::newRow("no extension") << "avi" << false;
}

void TestVideoIo::extensions() {
    QFETCH(QString, name);
    QFETCH(bool, video);
    QCOMPARE(has_video_extension(name.toStdString()), video);
}

QTEST_GUILESS_MAIN(TestVideoIo)
#include "tst_video_io.moc"
