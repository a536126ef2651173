// Clips: which frames a clip takes (centred, spread, random within its part, looped when the
// video is short), one crop and flip for all of a clip's frames, and the decoded-video cache
// (memory up to its bound, then disk, removed with the cache).

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <opencv2/core.hpp>
#include <set>

#include "engine/clip_cache.h"
#include "engine/clips.h"

using namespace wb;

Q_DECLARE_METATYPE(std::vector<int>)

namespace {

/// A video of `frames` frames of rows x cols: a fixed random texture plus 3 * t in frame t.
DecodedVideo textured_video(int frames, int rows, int cols) {
    DecodedVideo v;
    v.frames = frames;
    v.rows = rows;
    v.cols = cols;
    cv::Mat texture(rows, cols, CV_8UC3);
    cv::theRNG().state = 7;
    cv::randu(texture, 0, 150);
    for (int t = 0; t < frames; ++t) {
        cv::Mat frame = texture + cv::Scalar::all(3 * t);
        v.pixels.insert(v.pixels.end(), frame.data, frame.data + v.frame_bytes());
    }
    return v;
}

}  // namespace

class TestClips : public QObject {
    Q_OBJECT

private slots:
    void frameIndices_data();
    void frameIndices();
    void randomStartStaysInItsPart_data();
    void randomStartStaysInItsPart();
    void badArgumentsThrow();
    void everyFrameOfAClipHasTheSameCropAndFlip();
    void evaluationClipIsTheCentreCrop();
    void cacheKeepsMemoryThenDisk();
    void cacheWithoutRoomDecodesAgain();
    void cacheDoesNotKeepFailures();
};

void TestClips::frameIndices_data() {
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("frames");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("clip");
    QTest::addColumn<int>("clips");
    QTest::addColumn<std::vector<int>>("expected");
    // Start = (2k + 1) * (length - span) / (2 * clips), integer division.
    QTest::newRow("centred") << 20 << 4 << 1 << 0 << 1 << std::vector<int>{8, 9, 10, 11};
    QTest::newRow("centred, stride 2") << 20 << 4 << 2 << 0 << 1 << std::vector<int>{6, 8, 10, 12};
    QTest::newRow("exact length") << 7 << 4 << 2 << 0 << 1 << std::vector<int>{0, 2, 4, 6};
    QTest::newRow("first of three") << 31 << 2 << 1 << 0 << 3 << std::vector<int>{4, 5};
    QTest::newRow("second of three") << 31 << 2 << 1 << 1 << 3 << std::vector<int>{14, 15};
    QTest::newRow("third of three") << 31 << 2 << 1 << 2 << 3 << std::vector<int>{24, 25};
    QTest::newRow("short video loops") << 3 << 5 << 1 << 0 << 1 << std::vector<int>{0, 1, 2, 0, 1};
    QTest::newRow("short video, stride 2") << 4 << 3 << 2 << 0 << 1 << std::vector<int>{0, 2, 0};
    QTest::newRow("one frame") << 1 << 3 << 1 << 0 << 1 << std::vector<int>{0, 0, 0};
}

void TestClips::frameIndices() {
    QFETCH(int, length);
    QFETCH(int, frames);
    QFETCH(int, stride);
    QFETCH(int, clip);
    QFETCH(int, clips);
    QFETCH(std::vector<int>, expected);
    std::mt19937 rng(1);
    QCOMPARE(clip_frame_indices(length, frames, stride, clip, clips, false, rng), expected);
}

void TestClips::randomStartStaysInItsPart_data() {
    QTest::addColumn<int>("clip");
    QTest::addColumn<int>("clips");
    QTest::addColumn<int>("lo");
    QTest::addColumn<int>("hi");
    // 40 frames, 5 at stride 2 span 9: 32 possible starts, 0 .. 31, cut into equal parts.
    QTest::newRow("one clip: anywhere") << 0 << 1 << 0 << 31;
    QTest::newRow("first of two") << 0 << 2 << 0 << 15;
    QTest::newRow("second of two") << 1 << 2 << 16 << 31;
}

void TestClips::randomStartStaysInItsPart() {
    QFETCH(int, clip);
    QFETCH(int, clips);
    QFETCH(int, lo);
    QFETCH(int, hi);
    std::set<int> starts;
    for (std::uint32_t seed = 0; seed < 400; ++seed) {
        std::mt19937 rng(seed);
        const std::vector<int> idx = clip_frame_indices(40, 5, 2, clip, clips, true, rng);
        QVERIFY(idx[0] >= lo && idx[0] <= hi);
        for (std::size_t i = 1; i < idx.size(); ++i) {
            QCOMPARE(idx[i] - idx[i - 1], 2);
        }
        starts.insert(idx[0]);
    }
    // Every start of the part is drawn.
    QCOMPARE(int(starts.size()), hi - lo + 1);
}

void TestClips::badArgumentsThrow() {
    std::mt19937 rng(0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, clip_frame_indices(0, 4, 1, 0, 1, false, rng));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, clip_frame_indices(9, 4, 1, 1, 1, false, rng));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, clip_frame_indices(9, 4, 0, 0, 1, false, rng));
}

void TestClips::everyFrameOfAClipHasTheSameCropAndFlip() {
    const DecodedVideo v = textured_video(6, 20, 26);
    Preprocessing p;
    p.image_size = 12;
    p.resize = 20;
    p.channels = 3;
    p.random_crop = true;
    p.hflip = true;
    p.clip_frames = 4;
    const std::vector<int> indices = {1, 2, 4, 5};
    const std::size_t plane = 12 * 12;
    int differing = 0;
    std::vector<float> first;
    for (std::uint32_t seed = 0; seed < 8; ++seed) {
        std::vector<float> out(3 * 4 * plane);
        std::mt19937 rng(seed);
        clip_into(v, indices, p, /*train=*/true, rng, out.data());
        // Frame t is frame 0 plus 3 * t everywhere, so after the same crop and flip the clip's
        // frames differ from its first by 3 * (index - index of the first) / 255 everywhere.
        for (int c = 0; c < 3; ++c) {
            for (std::size_t t = 1; t < 4; ++t) {
                const float expected = 3.f * float(indices[t] - indices[0]) / 255.f;
                for (std::size_t i = 0; i < plane; ++i) {
                    const float d = out[(c * 4 + t) * plane + i] - out[(c * 4) * plane + i];
                    QVERIFY2(std::abs(d - expected) < 1e-5f,
                             qPrintable(QString("seed %1 channel %2 frame %3 pixel %4: %5")
                                            .arg(seed)
                                            .arg(c)
                                            .arg(t)
                                            .arg(i)
                                            .arg(d)));
                }
            }
        }
        if (seed == 0) {
            first = out;
        } else if (out != first) {
            ++differing;
        }
    }
    QVERIFY2(differing > 0, "the crop and flip never changed");
}

void TestClips::evaluationClipIsTheCentreCrop() {
    const DecodedVideo v = textured_video(3, 20, 26);
    Preprocessing p;
    p.image_size = 10;
    p.resize = 20;
    p.channels = 3;
    p.clip_frames = 1;
    std::vector<float> out(3 * 100);
    std::mt19937 rng(0);
    clip_into(v, {2}, p, false, rng, out.data());
    // Centre crop of a 20x26 frame: rows 5..14, columns 8..17; channel 0 is red, i.e. BGR's 2.
    const std::uint8_t* f = v.frame(2);
    for (int y = 0; y < 10; ++y) {
        for (int x = 0; x < 10; ++x) {
            const float expected = f[((y + 5) * 26 + (x + 8)) * 3 + 2] / 255.f;
            QCOMPARE(out[std::size_t(y * 10 + x)], expected);
        }
    }
    QCOMPARE(middle_frame(v, p), 1);
}

void TestClips::cacheKeepsMemoryThenDisk() {
    QTemporaryDir parent;
    const DecodedVideo a = textured_video(4, 8, 10);  // 960 bytes each
    const std::size_t bytes = a.pixels.size();
    std::string folder;
    {
        ClipCache cache(bytes + bytes / 2, parent.path().toStdString(), 10 * bytes);
        int decodes = 0;
        auto decode = [&](std::string*) {
            ++decodes;
            return a;
        };
        for (int round = 0; round < 3; ++round) {
            for (const char* key : {"a", "b", "c"}) {
                auto v = cache.get(key, decode, nullptr);
                QVERIFY(v);
                QCOMPARE(v->pixels, a.pixels);
            }
        }
        QCOMPARE(decodes, 3);  // once each: later rounds come from memory or disk
        QCOMPARE(cache.memory_bytes_used(), bytes);
        // Each file: the pixels and a 20-byte header (8-byte magic, three 32-bit sizes).
        QCOMPARE(cache.disk_bytes_used(), 2 * (bytes + 20));
        QCOMPARE(cache.disk_reads(), std::size_t(4));
        folder = cache.disk_folder();
        QVERIFY(folder.rfind(parent.path().toStdString(), 0) == 0);
        QCOMPARE(std::distance(std::filesystem::directory_iterator(folder),
                               std::filesystem::directory_iterator()),
                 2);
    }
    QVERIFY2(!std::filesystem::exists(folder), "the disk cache outlived its cache");
}

void TestClips::cacheWithoutRoomDecodesAgain() {
    const DecodedVideo a = textured_video(2, 4, 4);
    ClipCache cache(0, "", 0);
    int decodes = 0;
    for (int i = 0; i < 3; ++i) {
        cache.get(
            "x",
            [&](std::string*) {
                ++decodes;
                return a;
            },
            nullptr);
    }
    QCOMPARE(decodes, 3);
    QCOMPARE(cache.disk_folder(), std::string());
}

void TestClips::cacheDoesNotKeepFailures() {
    ClipCache cache(1 << 20, "", 1 << 20);
    std::string error;
    int decodes = 0;
    auto fail = [&](std::string* e) {
        ++decodes;
        *e = "cannot be opened as a video";
        return DecodedVideo{};
    };
    QVERIFY(!cache.get("bad", fail, &error));
    QCOMPARE(error, std::string("cannot be opened as a video"));
    QVERIFY(!cache.get("bad", fail, &error));
    QCOMPARE(decodes, 2);
}

QTEST_GUILESS_MAIN(TestClips)
#include "tst_clips.moc"
