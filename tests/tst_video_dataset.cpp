// Video datasets: scanning a folder of videos and frame folders (skips with their reasons,
// short videos counted, the clips of one video kept in one split), the loader's clips (shape,
// the frames taken, order independent of threads, the cache in memory and on disk, a file that
// fails while loading), and a short C3D run on them.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/errors.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/trainer.h"
#include "tests/video_fixture.h"

using namespace wb;
namespace fs = std::filesystem;

namespace {

SplitOptions video_split(int clips) {
    SplitOptions o;
    o.val_fraction = 0.25;
    o.test_fraction = 0;
    o.clip_frames = 4;
    o.frame_stride = 2;
    o.clips_per_video = clips;
    return o;
}

Preprocessing clip_preprocessing() {
    Preprocessing p;
    p.image_size = 8;
    p.channels = 3;
    p.normalize = "none";
    p.clip_frames = 4;
    p.frame_stride = 2;
    return p;
}

LoaderOptions clip_options(int workers) {
    LoaderOptions o;
    o.batch_size = 2;
    o.workers = workers;
    o.seed = 3;
    return o;
}

std::vector<Batch> epoch(Loader& loader, int e) {
    loader.start_epoch(e);
    std::vector<Batch> out;
    while (auto b = loader.next()) {
        out.push_back(std::move(*b));
    }
    return out;
}

struct NullObserver : Observer {
    void on_message(Level, const std::string& text) override { messages.push_back(text); }
    std::vector<std::string> messages;
};

}  // namespace

class TestVideoDataset : public QObject {
    Q_OBJECT

private slots:
    void scanListsVideosAndFrameFolders();
    void clipsOfAVideoStayInItsSplit();
    void folderWithoutVideosIsRefused();
    void batchesHoldTheClipsFrames();
    void batchesDoNotDependOnWorkers();
    void laterEpochsComeFromTheCache_data();
    void laterEpochsComeFromTheCache();
    void videoThatFailsWhileLoadingIsNamed();
    void c3dTrainsOnAVideoFolder();

private:
    /// fwd/: a.avi, b.avi (20 frames), c/ (5 PNG frames), short.avi (3 frames), broken.avi
    /// (text), still.png, notes.txt; bwd/: d.avi, e.avi, f.avi (20 frames), g/ (8 frames).
    std::string make_folder(const QTemporaryDir& dir) const;
};

std::string TestVideoDataset::make_folder(const QTemporaryDir& dir) const {
    const fs::path root = dir.path().toStdString();
    fs::create_directories(root / "fwd" / "c");
    fs::create_directories(root / "bwd" / "g");
    for (const char* name : {"fwd/a.avi", "fwd/b.avi", "bwd/d.avi", "bwd/e.avi", "bwd/f.avi"}) {
        if (!test::write_fixture_video((root / name).string(), 20)) {
            return {};
        }
    }
    test::write_fixture_video((root / "fwd/short.avi").string(), 3);
    test::write_fixture_frames((root / "fwd/c").string(), 5);
    test::write_fixture_frames((root / "bwd/g").string(), 8);
    std::ofstream(root / "fwd/broken.avi") << "not a video";
    cv::imwrite((root / "fwd/still.png").string(), test::fixture_frame(0, 8, 8, false));
    std::ofstream(root / "fwd/notes.txt") << "notes";
    return root.string();
}

void TestVideoDataset::scanListsVideosAndFrameFolders() {
    QTemporaryDir dir;
    const std::string root = make_folder(dir);
    QVERIFY(!root.empty());
    const DatasetScan scan = scan_image_folder(root, video_split(1));
    QVERIFY(scan.video);
    QCOMPARE(scan.classes, (std::vector<std::string>{"bwd", "fwd"}));
    QCOMPARE(scan.train.size() + scan.val.size(), std::size_t(8));
    QCOMPARE(scan.class_counts(Split::Val), (std::vector<int>{1, 1}));
    std::map<std::string, std::string> skipped;
    for (const SkippedFile& s : scan.skipped) {
        skipped[fs::path(s.path).filename().string()] = s.reason;
    }
    QCOMPARE(skipped.size(), std::size_t(3));
    QCOMPARE(skipped["broken.avi"], std::string("cannot be opened as a video"));
    QVERIFY(skipped["still.png"].find("a clip's frames need a folder") != std::string::npos);
    QCOMPARE(skipped["notes.txt"], std::string("not a video file"));
    // A clip spans (4 - 1) * 2 + 1 = 7 frames: short.avi (3) and c/ (5) are looped.
    QCOMPARE(scan.looped_videos, std::size_t(2));
    QVERIFY(std::any_of(scan.warnings.begin(), scan.warnings.end(), [](const std::string& w) {
        return w.find("2 videos are shorter than a clip (7 frames)") != std::string::npos;
    }));
    QVERIFY(QString::fromStdString(scan.summary()).contains("clips"));
}

void TestVideoDataset::clipsOfAVideoStayInItsSplit() {
    QTemporaryDir dir;
    const std::string root = make_folder(dir);
    QVERIFY(!root.empty());
    const DatasetScan scan = scan_image_folder(root, video_split(3));
    QCOMPARE(scan.train.size() + scan.val.size(), std::size_t(24));
    std::map<std::string, std::set<int>> train, val;
    for (const Sample& s : scan.train) {
        train[s.path].insert(s.clip);
    }
    for (const Sample& s : scan.val) {
        val[s.path].insert(s.clip);
    }
    QCOMPARE(train.size() + val.size(), std::size_t(8));
    for (const auto& [path, clips] : train) {
        QVERIFY2(!val.count(path), path.c_str());
        QCOMPARE(clips, (std::set<int>{0, 1, 2}));
    }
    for (const auto& item : val) {
        QCOMPARE(item.second, (std::set<int>{0, 1, 2}));
    }
}

void TestVideoDataset::folderWithoutVideosIsRefused() {
    QTemporaryDir dir;
    fs::create_directories(dir.filePath("a").toStdString());
    cv::imwrite(dir.filePath("a/x.png").toStdString(), test::fixture_frame(0, 8, 8, false));
    try {
        scan_image_folder(dir.path().toStdString(), video_split(1));
        QFAIL("no DataError");
    } catch (const DataError& e) {
        QVERIFY2(std::string(e.what()).find("No usable videos") != std::string::npos, e.what());
    }
}

void TestVideoDataset::batchesHoldTheClipsFrames() {
    QTemporaryDir dir;
    const std::string file = dir.filePath("v.avi").toStdString();
    QVERIFY(test::write_fixture_video(file, 20));
    // Clip 0 of 2: starts (20 - 7) / 4 = 3, frames 3 5 7 9; clip 1: 3 * 13 / 4 = 9, 9 .. 15.
    std::vector<Sample> samples = {{file, 0, 0}, {file, 1, 1}};
    Preprocessing p = clip_preprocessing();
    p.clips_per_video = 2;
    LoaderOptions o = clip_options(0);
    o.shuffle = false;
    o.train = false;
    Loader loader(samples, p, o);
    const std::vector<Batch> batches = epoch(loader, 0);
    QCOMPARE(batches.size(), std::size_t(1));
    const at::Tensor images = batches[0].images;
    QCOMPARE(images.sizes().vec(), (std::vector<std::int64_t>{2, 3, 4, 8, 8}));
    const int expected[2][4] = {{3, 5, 7, 9}, {9, 11, 13, 15}};
    for (int b = 0; b < 2; ++b) {
        for (int t = 0; t < 4; ++t) {
            const at::Tensor frame = images[b].select(1, t);
            const double want = test::frame_value(expected[b][t]) / 255.0;
            // MJPG is lossy by a few levels.
            QVERIFY2((frame - want).abs().max().item<double>() < 4 / 255.0,
                     qPrintable(QString("clip %1 frame %2: %3, wanted %4")
                                    .arg(b)
                                    .arg(t)
                                    .arg(frame.mean().item<double>())
                                    .arg(want)));
        }
    }
}

void TestVideoDataset::batchesDoNotDependOnWorkers() {
    QTemporaryDir dir;
    std::vector<Sample> samples;
    for (int i = 0; i < 5; ++i) {
        const std::string file = dir.filePath(QString("v%1.avi").arg(i)).toStdString();
        QVERIFY(test::write_fixture_video(file, 12 + 3 * i, 32, 24, true));
        samples.push_back({file, i % 2, 0});
    }
    Preprocessing p = clip_preprocessing();
    p.random_crop = true;
    p.crop_padding = 2;
    p.hflip = true;
    Loader serial(samples, p, clip_options(0));
    Loader threaded(samples, p, clip_options(2));
    for (int e = 0; e < 2; ++e) {
        const auto a = epoch(serial, e);
        const auto b = epoch(threaded, e);
        QCOMPARE(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].indices, b[i].indices);
            QVERIFY(at::equal(a[i].images, b[i].images));
        }
    }
    // Random offsets and crops change from one epoch to the next.
    const auto e0 = epoch(serial, 0);
    const auto e1 = epoch(serial, 1);
    QVERIFY(e0[0].indices != e1[0].indices || !at::equal(e0[0].images, e1[0].images));
}

void TestVideoDataset::laterEpochsComeFromTheCache_data() {
    QTest::addColumn<int>("memory");
    QTest::addColumn<bool>("disk");
    QTest::newRow("memory") << (64 << 20) << false;
    QTest::newRow("disk") << 0 << true;
}

void TestVideoDataset::laterEpochsComeFromTheCache() {
    QFETCH(int, memory);
    QFETCH(bool, disk);
    QTemporaryDir dir, cache;
    std::vector<Sample> samples;
    for (int i = 0; i < 3; ++i) {
        const std::string file = dir.filePath(QString("v%1.avi").arg(i)).toStdString();
        QVERIFY(test::write_fixture_video(file, 10));
        samples.push_back({file, i % 2, 0});
    }
    LoaderOptions o = clip_options(1);
    o.cache_bytes = std::size_t(memory);
    o.disk_cache_dir = cache.path().toStdString();
    o.disk_cache_bytes = std::size_t(1) << 30;
    std::vector<Batch> first;
    {
        Loader loader(samples, clip_preprocessing(), o);
        first = epoch(loader, 0);
        QCOMPARE(loader.videos_decoded(), std::size_t(3));
        epoch(loader, 1);
        const auto again = epoch(loader, 0);
        QCOMPARE(loader.videos_decoded(), std::size_t(3));
        for (std::size_t i = 0; i < first.size(); ++i) {
            QVERIFY(at::equal(first[i].images, again[i].images));
        }
        QCOMPARE(loader.cache_bytes_used() > 0, !disk);
        QCOMPARE(loader.disk_cache_bytes_used() > 0, disk);
        QCOMPARE(fs::is_empty(cache.path().toStdString()), !disk);
    }
    QVERIFY2(fs::is_empty(cache.path().toStdString()), "the disk cache outlived its loader");
}

void TestVideoDataset::videoThatFailsWhileLoadingIsNamed() {
    QTemporaryDir dir;
    std::vector<Sample> samples;
    for (int i = 0; i < 4; ++i) {
        const std::string file = dir.filePath(QString("v%1.avi").arg(i)).toStdString();
        QVERIFY(test::write_fixture_video(file, 10));
        samples.push_back({file, 0, 0});
    }
    fs::remove(samples[2].path);
    LoaderOptions o = clip_options(0);
    o.shuffle = false;
    Loader loader(samples, clip_preprocessing(), o);
    const auto batches = epoch(loader, 0);
    QCOMPARE(batches.size(), std::size_t(2));
    QCOMPARE(batches[1].images.size(0), 2);
    // Position 2 fails: the next good sample in the order, position 3, takes its place.
    QCOMPARE(batches[1].indices, (std::vector<std::int64_t>{3, 3}));
    QCOMPARE(loader.skipped(), std::size_t(1));
    QCOMPARE(loader.skipped_files()[0].path, samples[2].path);
    QCOMPARE(loader.skipped_files()[0].reason, std::string("does not exist"));
}

void TestVideoDataset::c3dTrainsOnAVideoFolder() {
    QTemporaryDir data, runs;
    const fs::path root = data.path().toStdString();
    for (const char* split : {"train", "val"}) {
        for (const char* cls : {"dark", "light"}) {
            fs::create_directories(root / split / cls);
        }
    }
    // Dark videos start at gray 5, light ones at 125: a clip tells them apart at once.
    for (int i = 0; i < 6; ++i) {
        const char* split = i < 4 ? "train" : "val";
        QVERIFY(test::write_fixture_video(
            (root / split / "dark" / ("d" + std::to_string(i) + ".avi")).string(), 9));
        cv::VideoWriter w((root / split / "light" / ("l" + std::to_string(i) + ".avi")).string(),
                          cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                          cv::Size(32, 24));
        for (int t = 0; t < 9; ++t) {
            w.write(test::fixture_frame(t + 12, 32, 24, false));
        }
    }
    Experiment e;
    e.name = "c3d";
    e.data.root = root.string();
    e.runs_dir = runs.path().toStdString();
    e.model.arch = "c3d_bn";
    e.model.width = 0.0625;
    e.preprocessing = clip_preprocessing();
    e.preprocessing.image_size = 16;
    e.preprocessing.normalize = "dataset";
    e.epochs = 2;
    e.batch_size = 4;
    e.optimizer.lr = 0.05;
    e.tensorboard.embeddings = false;
    e.tensorboard.histograms = false;
    NullObserver observer;
    std::atomic<bool> cancel{false};
    const RunResult r = train(e, observer, cancel);
    QVERIFY2(r.status == "finished", r.message.c_str());
    QVERIFY(r.has_val);
    QVERIFY(fs::exists(fs::path(r.run_dir) / "best.pt"));
    QVERIFY(fs::exists(fs::path(r.run_dir) / "evaluation" / "val"));
}

QTEST_GUILESS_MAIN(TestVideoDataset)
#include "tst_video_dataset.moc"
