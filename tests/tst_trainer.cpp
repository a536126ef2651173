// The training loop on a tiny generated dataset: the loss goes down, the run folder is complete
// and reproduces the run, cancel takes effect within one batch, a diverging run stops.

#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "engine/experiment.h"
#include "engine/trainer.h"

namespace fs = std::filesystem;

namespace {

/// Writes `per_class` noisy 16x16 images of horizontal and of vertical stripes into
/// root/<split>/{horizontal,vertical}/.
void write_stripes(const fs::path& root, const std::string& split, int per_class, int seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.f, 30.f);
    for (int c = 0; c < 2; ++c) {
        fs::path dir = root / split / (c == 0 ? "horizontal" : "vertical");
        fs::create_directories(dir);
        for (int i = 0; i < per_class; ++i) {
            cv::Mat img(16, 16, CV_8UC1);
            const int phase = static_cast<int>(rng() % 4);
            for (int y = 0; y < 16; ++y) {
                for (int x = 0; x < 16; ++x) {
                    const int v = ((c == 0 ? y : x) + phase) / 2 % 2 ? 200 : 50;
                    img.at<uchar>(y, x) = cv::saturate_cast<uchar>(v + noise(rng));
                }
            }
            cv::imwrite((dir / (std::to_string(i) + ".png")).string(), img);
        }
    }
}

/// Records what the engine reports, and can cancel after a number of iterations.
class Recorder : public wb::Observer {
public:
    std::vector<wb::IterationStats> iterations;
    std::vector<wb::EpochStats> epochs;
    std::vector<std::string> errors;
    int cancel_after = -1;
    std::atomic<bool>* cancel = nullptr;

    void on_iteration(const wb::IterationStats& it) override {
        iterations.push_back(it);
        if (cancel && static_cast<int>(iterations.size()) == cancel_after) {
            *cancel = true;
        }
    }
    void on_epoch(const wb::EpochStats& e) override { epochs.push_back(e); }
    void on_message(wb::Level level, const std::string& text) override {
        if (level == wb::Level::Error) {
            errors.push_back(text);
        }
    }
};

int count_lines(const fs::path& path) {
    std::ifstream in(path);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
    }
    return n;
}

}  // namespace

class TestTrainer : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    fs::path data_;

    wb::Experiment tiny_experiment(const std::string& name) const {
        wb::Experiment e;
        e.name = name;
        e.data.root = data_.string();
        e.preprocessing.image_size = 16;
        e.preprocessing.channels = 1;
        e.optimizer.type = "adam";
        e.optimizer.lr = 3e-3;
        e.optimizer.weight_decay = 0;
        e.epochs = 3;
        e.batch_size = 16;
        e.threads = 1;
        e.runs_dir = (fs::path(dir_.path().toStdString()) / "runs").string();
        return e;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        data_ = fs::path(dir_.path().toStdString()) / "stripes";
        write_stripes(data_, "train", 48, 1);
        write_stripes(data_, "val", 16, 2);
        write_stripes(data_, "test", 16, 3);
    }

    void lossGoesDownAndRunFolderIsComplete() {
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::RunResult r = wb::train(tiny_experiment("learn"), rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QVERIFY2(rec.errors.empty(), rec.errors.empty() ? "" : rec.errors.front().c_str());
        QCOMPARE(int(rec.epochs.size()), 3);
        QCOMPARE(int(rec.iterations.size()), 3 * 6);  // 96 images in batches of 16
        QVERIFY(rec.epochs.back().train_loss < 0.5 * rec.iterations.front().loss);
        QVERIFY(rec.epochs.back().has_val);
        QVERIFY2(rec.epochs.back().val_accuracy > 0.9,
                 qPrintable(QString::number(rec.epochs.back().val_accuracy)));
        QVERIFY(r.has_test);
        QVERIFY(r.test_accuracy > 0.9);
        QVERIFY(r.best_epoch >= 0 && rec.epochs[r.best_epoch].is_best);

        const fs::path run = r.run_dir;
        for (const char* f : {"experiment.yaml", "metrics.csv", "iterations.csv", "classes.txt",
                              "last.pt", "best.pt", "result.yaml", "dataset.txt"}) {
            QVERIFY2(fs::exists(run / f), f);
        }
        QCOMPARE(count_lines(run / "metrics.csv"), 1 + 3);
        QCOMPARE(count_lines(run / "iterations.csv"), 1 + 18);
        QCOMPARE(count_lines(run / "classes.txt"), 2);
        // The saved experiment carries the resolved normalization, so it repeats the run.
        wb::Experiment saved = wb::load_experiment((run / "experiment.yaml").string());
        QCOMPARE(int(saved.preprocessing.mean.size()), 1);
        QVERIFY(saved.preprocessing.mean[0] > 0.2f && saved.preprocessing.mean[0] < 0.8f);
    }

    void savedExperimentReproducesTheRun() {
        std::atomic<bool> cancel{false};
        Recorder first;
        wb::Experiment e = tiny_experiment("repeat");
        e.epochs = 1;
        wb::RunResult r = wb::train(e, first, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        wb::Experiment again = wb::load_experiment(r.run_dir + "/experiment.yaml");
        Recorder second;
        wb::train(again, second, cancel);
        QCOMPARE(second.iterations.size(), first.iterations.size());
        for (size_t i = 0; i < first.iterations.size(); ++i) {
            QCOMPARE(second.iterations[i].loss, first.iterations[i].loss);
        }
    }

    void cancelStopsWithinOneBatch() {
        std::atomic<bool> cancel{false};
        Recorder rec;
        rec.cancel = &cancel;
        rec.cancel_after = 4;
        wb::Experiment e = tiny_experiment("cancel");
        e.epochs = 50;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("cancelled"));
        QCOMPARE(int(rec.iterations.size()), 4);
        QVERIFY(!r.has_test);
    }

    void nonFiniteLossStopsTheRun() {
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("diverge");
        e.optimizer.type = "sgd";
        e.optimizer.lr = 1e30;
        e.optimizer.momentum = 0;
        e.epochs = 2;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("failed"));
        QVERIFY2(r.message.find("loss became") != std::string::npos, r.message.c_str());
        QCOMPARE(int(rec.errors.size()), 1);
        QVERIFY(rec.iterations.size() < 12);
        // The run folder and its result stay readable.
        QVERIFY(fs::exists(fs::path(r.run_dir) / "result.yaml"));
        QVERIFY(fs::exists(fs::path(r.run_dir) / "iterations.csv"));
    }

    void lastBatchOfOneImageIsLeftOut() {
        // 96 training images in batches of 19 leave one image, which batch norm cannot train on.
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("batch-of-one");
        e.epochs = 1;
        e.batch_size = 19;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QCOMPARE(int(rec.iterations.size()), 5);
        QCOMPARE(rec.iterations.back().batch_size, 19);
    }

    void trainAccuracyIsNotCalledValidation() {
        // A phase layout without val/ and no hold-out: the best epoch is chosen on training
        // accuracy and the result says so.
        QTemporaryDir dir;
        write_stripes(fs::path(dir.path().toStdString()), "train", 16, 4);
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("no-val");
        e.data.root = dir.path().toStdString();
        e.data.val_fraction = 0;
        e.epochs = 1;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QVERIFY(!r.has_val);
        QVERIFY(!rec.epochs.front().has_val);
        std::ifstream result(r.run_dir + "/result.yaml");
        const std::string text((std::istreambuf_iterator<char>(result)), {});
        QVERIFY2(text.find("best_train_accuracy") != std::string::npos, text.c_str());
        QVERIFY(text.find("best_val_accuracy") == std::string::npos);
    }

    void singleClassIsRefused() {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        write_stripes(root, "train", 8, 5);
        fs::remove_all(root / "train" / "vertical");
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("one-class");
        e.data.root = root.string();
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("failed"));
        QVERIFY2(r.message.find("at least two classes") != std::string::npos, r.message.c_str());
    }

    void relativePathsAreSavedAbsolute() {
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("relative");
        e.epochs = 1;
        const fs::path old = fs::current_path();
        fs::current_path(data_.parent_path());
        e.data.root = data_.filename().string();
        e.runs_dir = "relative-runs";
        wb::RunResult r = wb::train(e, rec, cancel);
        fs::current_path(old);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        wb::Experiment saved = wb::load_experiment(r.run_dir + "/experiment.yaml");
        QCOMPARE(QString::fromStdString(saved.data.root), QString::fromStdString(data_.string()));
        QVERIFY(fs::path(saved.runs_dir).is_absolute());
    }

    void missingFolderFailsWithItsName() {
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::Experiment e = tiny_experiment("missing");
        e.data.root = "/nonexistent/dataset";
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("failed"));
        QVERIFY2(r.message.find("/nonexistent/dataset") != std::string::npos, r.message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
