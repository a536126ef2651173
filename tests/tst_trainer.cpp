// The training loop on a tiny generated dataset: the loss goes down, the run folder is complete
// and reproduces the run, cancel takes effect within one batch, a diverging run stops, and the
// optimizer receives the scheduled rate and momentum at every step.

#include <torch/torch.h>

#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "engine/errors.h"
#include "engine/experiment.h"
#include "engine/predictor.h"
#include "engine/schedule.h"
#include "engine/train_schedule.h"
#include "engine/trainer.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

namespace {

/// The stripes dataset in root/<split>/{horizontal,vertical}/.
void write_stripes(const fs::path& root, const std::string& split, int per_class, int seed) {
    wb::test::write_stripes(root / split, per_class, seed);
}

/// Records what the engine reports, and can cancel after a number of iterations.
class Recorder : public wb::Observer {
public:
    std::vector<wb::IterationStats> iterations;
    std::vector<wb::EpochStats> epochs;
    std::vector<std::string> errors;
    std::vector<wb::EpochEvaluation> evaluations;
    int cancel_after = -1;
    int cancel_after_epochs = -1;
    std::atomic<bool>* cancel = nullptr;

    void on_iteration(const wb::IterationStats& it) override {
        iterations.push_back(it);
        if (cancel && static_cast<int>(iterations.size()) == cancel_after) {
            *cancel = true;
        }
    }
    void on_epoch(const wb::EpochStats& e) override {
        epochs.push_back(e);
        if (cancel && static_cast<int>(epochs.size()) == cancel_after_epochs) {
            *cancel = true;
        }
    }
    void on_evaluation(const wb::EpochEvaluation& e) override { evaluations.push_back(e); }
    void on_message(wb::Level level, const std::string& text) override {
        if (level == wb::Level::Error) {
            errors.push_back(text);
        }
    }
};

std::vector<std::string> read_lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

/// The events of every event file in `dir` (not below), read by tests/python/tb_reader.py, an
/// independent reader; tags by step. Empty with `skip` set when Python cannot run it.
struct TbRun {
    QMap<QString, QMap<qint64, QJsonObject>> values;  ///< tag -> step -> value
    QList<qint64> session_starts;
    int files = 0;
};

TbRun read_tb_run(const QString& dir, QString* skip) {
    TbRun run;
    QDirIterator it(dir, {QStringLiteral("events.out.tfevents.*")}, QDir::Files);
    QStringList files;
    while (it.hasNext()) {
        files.append(it.next());
    }
    // events.out.tfevents.<seconds>.<host>.<pid>.<n>: in the order they were opened.
    const auto key = [](const QString& path) {
        const QStringList parts = QFileInfo(path).fileName().split('.');
        return std::make_pair(parts.value(3).toLongLong(), parts.back().toLongLong());
    };
    std::sort(files.begin(), files.end(),
              [&key](const QString& a, const QString& b) { return key(a) < key(b); });
    for (const QString& file : files) {
        QProcess python;
        python.start(QStringLiteral(WB_PYTHON),
                     {QStringLiteral(WB_SOURCE_DIR) + "/tests/python/tb_reader.py",
                      QStringLiteral("events"), file});
        python.waitForFinished(60000);
        if (python.exitCode() == 3) {
            *skip = QString::fromUtf8(python.readAllStandardError());
            return {};
        }
        const QJsonObject doc = QJsonDocument::fromJson(python.readAllStandardOutput()).object();
        ++run.files;
        for (const auto& e : doc.value("events").toArray()) {
            const QJsonObject event = e.toObject();
            const qint64 step = event.value("step").toInteger();
            if (event.value("what").toString() == "session_log") {
                run.session_starts.append(step);
                // TensorBoard drops what a crashed session logged at or after a restart's step.
                for (auto& tag : run.values) {
                    tag.removeIf([step](auto entry) { return entry.key() >= step; });
                }
            }
            for (const auto& v : event.value("values").toArray()) {
                const QJsonObject value = v.toObject();
                run.values[value.value("tag").toString()][step] = value;
            }
        }
    }
    return run;
}

int count_lines(const fs::path& path) {
    std::ifstream in(path);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
    }
    return n;
}

/// The columns of a CSV file written by the engine, by header name.
std::map<std::string, std::vector<double>> read_csv(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> names;
    std::istringstream header(line);
    for (std::string name; std::getline(header, name, ',');) {
        names.push_back(name);
    }
    std::map<std::string, std::vector<double>> columns;
    while (std::getline(in, line)) {
        std::istringstream row(line);
        std::string cell;
        for (size_t i = 0; i < names.size() && std::getline(row, cell, ','); ++i) {
            columns[names[i]].push_back(std::stod(cell));
        }
    }
    return columns;
}

/// The engine writes 8 significant digits.
bool same_as_written(double written, double value) {
    return std::abs(written - value) <= 1e-7 * std::max(1.0, std::abs(value));
}

/// SGD momentum or Adam/AdamW beta1 of a parameter group, read independently of the engine.
double momentum_of(const torch::optim::OptimizerOptions& options) {
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
        return sgd->momentum();
    }
    if (const auto* adam = dynamic_cast<const torch::optim::AdamOptions*>(&options)) {
        return std::get<0>(adam->betas());
    }
    return std::get<0>(dynamic_cast<const torch::optim::AdamWOptions&>(options).betas());
}

double beta2_of(const torch::optim::OptimizerOptions& options) {
    if (const auto* adam = dynamic_cast<const torch::optim::AdamOptions*>(&options)) {
        return std::get<1>(adam->betas());
    }
    return std::get<1>(dynamic_cast<const torch::optim::AdamWOptions&>(options).betas());
}

/// An optimizer of `type` over two parameter groups, momentum (or beta1) 0.5, beta2 0.99.
std::unique_ptr<torch::optim::Optimizer> two_group_optimizer(const std::string& type) {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{torch::zeros({3}, torch::requires_grad())});
    groups.emplace_back(std::vector<torch::Tensor>{torch::zeros({2}, torch::requires_grad())});
    if (type == "sgd") {
        return std::make_unique<torch::optim::SGD>(groups,
                                                   torch::optim::SGDOptions(1.0).momentum(0.5));
    }
    if (type == "adam") {
        return std::make_unique<torch::optim::Adam>(
            groups, torch::optim::AdamOptions(1.0).betas({0.5, 0.99}));
    }
    return std::make_unique<torch::optim::AdamW>(
        groups, torch::optim::AdamWOptions(1.0).betas({0.5, 0.99}));
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

    void applyScheduleSetsEveryGroup_data() {
        QTest::addColumn<QString>("type");
        QTest::newRow("sgd") << "sgd";
        QTest::newRow("adam") << "adam";
        QTest::newRow("adamw") << "adamw";
    }

    void applyScheduleSetsEveryGroup() {
        QFETCH(QString, type);
        auto optimizer = two_group_optimizer(type.toStdString());
        wb::ScheduleSpec spec;
        spec.policy = "onecycle";
        spec.max_lr = 0.5;
        const wb::Schedule schedule = wb::Schedule::make(spec, 20);
        for (long long step = 0; step < schedule.total_steps(); ++step) {
            const wb::AppliedSchedule applied = wb::apply_schedule(*optimizer, schedule, step);
            QCOMPARE(applied.lr, schedule.lr(step));
            QCOMPARE(applied.momentum, schedule.momentum(step));
            QCOMPARE(int(optimizer->param_groups().size()), 2);
            for (auto& group : optimizer->param_groups()) {
                QCOMPARE(group.options().get_lr(), schedule.lr(step));
                QCOMPARE(momentum_of(group.options()), schedule.momentum(step));
                if (type != "sgd") {
                    QCOMPARE(beta2_of(group.options()), 0.99);
                }
            }
        }
    }

    void scheduleWithoutMomentumKeepsTheOptimizers() {
        auto optimizer = two_group_optimizer("adam");
        wb::ScheduleSpec spec;
        spec.policy = "step";
        spec.lr = 0.1;
        spec.step_size = 2;
        const wb::Schedule schedule = wb::Schedule::make(spec, 6);
        const wb::AppliedSchedule applied = wb::apply_schedule(*optimizer, schedule, 5);
        QCOMPARE(applied.lr, schedule.lr(5));
        QCOMPARE(applied.momentum, 0.5);
        for (auto& group : optimizer->param_groups()) {
            QCOMPARE(momentum_of(group.options()), 0.5);
        }
    }

    void sgdStepsFollowTheCycledRateAndMomentum() {
        // SGD configured without momentum: 1cycle's momentum still takes effect. A constant
        // gradient of 1 makes the momentum buffer 1, then m * buffer + 1, and each step moves
        // the parameter by lr * buffer.
        auto p = torch::zeros({1}, torch::dtype(torch::kDouble).requires_grad(true));
        torch::optim::SGD sgd({p}, torch::optim::SGDOptions(1.0).momentum(0));
        wb::ScheduleSpec spec;
        spec.policy = "onecycle";
        spec.max_lr = 0.2;
        const wb::Schedule schedule = wb::Schedule::make(spec, 10);
        double expected = 0;
        double buffer = 0;
        for (long long step = 0; step < schedule.total_steps(); ++step) {
            p.mutable_grad() = torch::ones_like(p);
            wb::apply_schedule(sgd, schedule, step);
            sgd.step();
            buffer = step == 0 ? 1.0 : schedule.momentum(step) * buffer + 1.0;
            expected -= schedule.lr(step) * buffer;
            QCOMPARE(p.item<double>(), expected);
        }
    }

    void scheduleSpecCountsEpochsInSteps() {
        wb::Experiment e;
        e.optimizer.lr = 0.3;
        e.schedule.policy = "multistep";
        e.schedule.step_epochs = 2;
        e.schedule.milestones = {1, 3};
        e.schedule.warmup_steps = 4;
        e.schedule.anneal = "linear";
        const wb::ScheduleSpec spec = wb::schedule_spec(e, 6);
        QCOMPARE(spec.policy, std::string("multistep"));
        QCOMPARE(spec.step_size, 12LL);
        QCOMPARE(spec.milestones, (std::vector<long long>{6, 18}));
        QCOMPARE(spec.lr, 0.3);
        QCOMPARE(spec.max_lr, 0.3);
        QCOMPARE(spec.warmup_steps, 4LL);
        QCOMPARE(spec.anneal_strategy, std::string("linear"));
        QCOMPARE(spec.t_max, 0LL);
    }

    void optimizerReceivesTheScheduleEveryStep_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("policy");
        QTest::addColumn<double>("momentum");  // optimizer.momentum, SGD only
        QTest::newRow("onecycle, sgd without momentum") << "sgd"
                                                        << "onecycle" << 0.0;
        QTest::newRow("onecycle, adam") << "adam"
                                        << "onecycle" << 0.9;
        QTest::newRow("cosine with warm-up, sgd") << "sgd"
                                                  << "cosine" << 0.8;
    }

    void optimizerReceivesTheScheduleEveryStep() {
        QFETCH(QString, type);
        QFETCH(QString, policy);
        QFETCH(double, momentum);
        wb::Experiment e = tiny_experiment("schedule-" + type.toStdString());
        e.epochs = 2;
        e.optimizer.type = type.toStdString();
        e.optimizer.lr = type == "sgd" ? 0.05 : 3e-3;
        e.optimizer.momentum = momentum;
        e.schedule.policy = policy.toStdString();
        e.schedule.warmup_steps = policy == "cosine" ? 4 : 0;
        e.schedule.eta_min = 1e-4;
        // Made by hand, not by the engine's conversion.
        wb::ScheduleSpec spec;
        spec.policy = e.schedule.policy;
        spec.lr = e.optimizer.lr;
        spec.max_lr = e.optimizer.lr;
        spec.eta_min = 1e-4;
        spec.warmup_steps = e.schedule.warmup_steps;
        const wb::Schedule schedule = wb::Schedule::make(spec, 2 * 6);

        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QCOMPARE(int(rec.iterations.size()), 12);
        const auto iterations = read_csv(fs::path(r.run_dir) / "iterations.csv");
        QCOMPARE(int(iterations.at("momentum").size()), 12);
        const double configured = type == "sgd" ? momentum : e.optimizer.beta1;
        for (long long step = 0; step < 12; ++step) {
            const wb::IterationStats& it = rec.iterations[step];
            QCOMPARE(it.step, step);
            QCOMPARE(it.lr, schedule.lr(step));
            const double m = schedule.has_momentum() ? schedule.momentum(step) : configured;
            QCOMPARE(it.momentum, m);
            QVERIFY(same_as_written(iterations.at("lr")[step], it.lr));
            QVERIFY(same_as_written(iterations.at("momentum")[step], m));
        }
        // metrics.csv: the rate of each epoch's last step.
        const auto metrics = read_csv(fs::path(r.run_dir) / "metrics.csv");
        for (int epoch = 0; epoch < 2; ++epoch) {
            QCOMPARE(rec.epochs[epoch].lr, schedule.lr(6 * epoch + 5));
            QVERIFY(same_as_written(metrics.at("lr")[epoch], schedule.lr(6 * epoch + 5)));
        }
    }

    void stepDecayDropsAtTheEpochBoundary() {
        wb::Experiment e = tiny_experiment("step-decay");
        e.optimizer.type = "sgd";
        e.optimizer.lr = 0.05;
        e.optimizer.momentum = 0.9;
        e.schedule.policy = "step";
        e.schedule.step_epochs = 1;
        e.schedule.gamma = 0.5;
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QCOMPARE(int(rec.iterations.size()), 18);
        for (size_t i = 1; i < rec.iterations.size(); ++i) {
            const wb::IterationStats& it = rec.iterations[i];
            const double previous = rec.iterations[i - 1].lr;
            QCOMPARE(it.lr, it.iteration == 0 ? previous * 0.5 : previous);
            QCOMPARE(it.momentum, 0.9);
        }
        QCOMPARE(rec.iterations.front().lr, 0.05);
        QCOMPARE(rec.iterations.back().lr, 0.0125);
    }

    void degenerateScheduleFailsBeforeTraining_data() {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<double>("pct_start");
        QTest::addColumn<int>("warmup_steps");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("onecycle without a rising step")
            << "onecycle" << 0.05 << 0 << "schedule.pct_start";
        QTest::newRow("warm-up longer than the run")
            << "cosine" << 0.3 << 6 << "schedule.warmup_steps";
    }

    void degenerateScheduleFailsBeforeTraining() {
        QFETCH(QString, policy);
        QFETCH(double, pct_start);
        QFETCH(int, warmup_steps);
        QFETCH(QString, fragment);
        wb::Experiment e = tiny_experiment("degenerate");
        e.epochs = 1;
        e.schedule.policy = policy.toStdString();
        e.schedule.pct_start = pct_start;
        e.schedule.warmup_steps = warmup_steps;
        wb::validate(e);  // only the run's length makes it degenerate
        std::atomic<bool> cancel{false};
        Recorder rec;
        wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("failed"));
        const QString message = QString::fromStdString(r.message);
        QVERIFY2(message.contains(fragment), qPrintable(message));
        QVERIFY2(message.contains("6 optimizer steps"), qPrintable(message));
        QVERIFY(rec.iterations.empty());
        QVERIFY(r.run_dir.empty());
    }

    // A run stopped mid-epoch and resumed must write the same iterations.csv and metrics.csv,
    // digit for digit, as a run that was never stopped: rates and momenta of 1cycle, losses
    // (model, optimizer state, data order, augmentation and dropout randomness all restored).
    void resumedRunFollowsTheUninterruptedCurve_data() {
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<int>("stop_after");   // iterations before the stop
        QTest::addColumn<int>("every_steps");  // checkpoint.every_steps
        QTest::addColumn<int>("resume_step");  // the step the resumed run starts at
        QTest::newRow("sgd, stopped mid-epoch 3") << "sgd" << 15 << 0 << 12;
        QTest::newRow("adamw, stopped at the first step of epoch 2") << "adamw" << 7 << 0 << 6;
        // Checkpoints at steps 5, 10 and 15, all inside an epoch (6 steps each).
        QTest::newRow("sgd, resumed mid-epoch 3 from step 15") << "sgd" << 17 << 5 << 15;
        QTest::newRow("adamw, resumed mid-epoch 1 from step 5") << "adamw" << 5 << 5 << 5;
    }

    void resumedRunFollowsTheUninterruptedCurve() {
        QFETCH(QString, optimizer);
        QFETCH(int, stop_after);
        QFETCH(int, every_steps);
        QFETCH(int, resume_step);
        wb::Experiment e = tiny_experiment("resume-" + optimizer.toStdString());
        e.checkpoint.every_steps = every_steps;
        e.epochs = 4;
        e.optimizer.type = optimizer.toStdString();
        e.optimizer.lr = optimizer == "sgd" ? 0.05 : 3e-3;
        e.optimizer.weight_decay = 1e-4;
        e.schedule.policy = "onecycle";
        e.preprocessing.hflip = true;
        e.preprocessing.random_crop = true;
        e.preprocessing.crop_padding = 2;

        std::atomic<bool> cancel{false};
        Recorder whole;
        const wb::RunResult a = wb::train(e, whole, cancel);
        QCOMPARE(QString::fromStdString(a.status), QString("finished"));

        Recorder stopped;
        stopped.cancel = &cancel;
        stopped.cancel_after = stop_after;
        const wb::RunResult b = wb::train(e, stopped, cancel);
        QCOMPARE(QString::fromStdString(b.status), QString("cancelled"));
        const int epochs_done = stop_after / 6;
        QCOMPARE(b.epochs_done, epochs_done);
        QCOMPARE(count_lines(fs::path(b.run_dir) / "iterations.csv"), 1 + stop_after);

        cancel = false;
        Recorder resumed;
        const wb::RunResult c = wb::resume(b.run_dir, resumed, cancel);
        QCOMPARE(QString::fromStdString(c.status), QString("finished"));
        QCOMPARE(c.run_dir, b.run_dir);
        QCOMPARE(c.epochs_done, 4);
        QCOMPARE(int(resumed.iterations.size()), 24 - resume_step);
        QCOMPARE(resumed.iterations.front().step, static_cast<long long>(resume_step));
        QCOMPARE(resumed.iterations.front().iteration, resume_step % 6);
        QCOMPARE(c.best_epoch, a.best_epoch);
        QCOMPARE(c.best_val_accuracy, a.best_val_accuracy);
        QCOMPARE(c.test_accuracy, a.test_accuracy);
        QVERIFY2(c.seconds > b.seconds, "the resumed run's time counts the stopped session");
        // A finished run is not run again.
        Recorder again;
        const wb::RunResult d = wb::resume(c.run_dir, again, cancel);
        QCOMPARE(QString::fromStdString(d.status), QString("failed"));
        QVERIFY2(d.message.find("nothing to resume") != std::string::npos, d.message.c_str());
        QVERIFY(again.iterations.empty());

        const auto a_rows = read_lines(fs::path(a.run_dir) / "iterations.csv");
        const auto c_rows = read_lines(fs::path(c.run_dir) / "iterations.csv");
        QCOMPARE(c_rows.size(), a_rows.size());
        for (size_t i = 0; i < a_rows.size(); ++i) {
            QCOMPARE(QString::fromStdString(c_rows[i]), QString::fromStdString(a_rows[i]));
        }
        // metrics.csv: everything but the seconds column.
        const auto a_metrics = read_csv(fs::path(a.run_dir) / "metrics.csv");
        const auto c_metrics = read_csv(fs::path(c.run_dir) / "metrics.csv");
        for (const char* column :
             {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}) {
            QCOMPARE(c_metrics.at(column), a_metrics.at(column));
        }
    }

    // With a min_delta no epoch can beat, the metric stops improving after the first epoch:
    // the run stops `patience` epochs later, tests best.pt, and is not resumed.
    void earlyStoppingEndsTheRunAfterPatience() {
        wb::Experiment e = tiny_experiment("early");
        e.epochs = 8;
        e.early_stopping.enabled = true;
        e.early_stopping.metric = "val_loss";
        e.early_stopping.patience = 2;
        e.early_stopping.min_delta = 100;
        std::atomic<bool> cancel{false};
        Recorder rec;
        const wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QVERIFY(r.stopped_early);
        QCOMPARE(r.epochs_done, 3);
        QCOMPARE(int(rec.epochs.size()), 3);
        QVERIFY2(r.message.find("val_loss has not improved for 2 epochs") != std::string::npos,
                 r.message.c_str());
        QVERIFY(r.has_test);
        const auto result = read_lines(fs::path(r.run_dir) / "result.yaml");
        QVERIFY(std::find(result.begin(), result.end(), "stopped_early: true") != result.end());
        Recorder again;
        const wb::RunResult c = wb::resume(r.run_dir, again, cancel);
        QCOMPARE(QString::fromStdString(c.status), QString("failed"));
        QVERIFY2(c.message.find("stopped early after epoch 3") != std::string::npos,
                 c.message.c_str());

        // An accuracy that only has to hold: min_delta 0 and patience 8 never stop.
        e.early_stopping.metric = "val_accuracy";
        e.early_stopping.min_delta = 0;
        e.early_stopping.patience = 8;
        e.epochs = 3;
        Recorder all;
        const wb::RunResult d = wb::train(e, all, cancel);
        QVERIFY(!d.stopped_early);
        QCOMPARE(d.epochs_done, 3);
    }

    void resumeRefusesAChangedDataset() {
        QTemporaryDir dir;
        const fs::path root = fs::path(dir.path().toStdString()) / "data";
        write_stripes(root, "train", 24, 7);
        write_stripes(root, "val", 8, 8);
        wb::Experiment e = tiny_experiment("changed");
        e.data.root = root.string();
        e.epochs = 2;
        std::atomic<bool> cancel{false};
        Recorder rec;
        rec.cancel = &cancel;
        rec.cancel_after_epochs = 1;
        const wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("cancelled"));
        fs::copy_file(root / "train" / "horizontal" / "0.png",
                      root / "train" / "horizontal" / "extra.png");
        cancel = false;
        Recorder again;
        const wb::RunResult c = wb::resume(r.run_dir, again, cancel);
        QCOMPARE(QString::fromStdString(c.status), QString("failed"));
        QVERIFY2(c.message.find("49 training images now, 48") != std::string::npos,
                 c.message.c_str());
        QVERIFY(again.iterations.empty());

        const wb::RunResult none = wb::resume(dir.path().toStdString(), again, cancel);
        QCOMPARE(QString::fromStdString(none.status), QString("failed"));
        QVERIFY2(none.message.find("experiment.yaml") != std::string::npos, none.message.c_str());
    }

    // 6 batches of 16 in groups of 4: a step of 4 batches (64 images) and one of 2 (32).
    void gradientAccumulationStepsOncePerGroup() {
        wb::Experiment e = tiny_experiment("accumulate");
        e.grad_accumulation = 4;
        e.optimizer.type = "sgd";
        e.optimizer.lr = 0.05;
        e.schedule.policy = "onecycle";
        std::atomic<bool> cancel{false};
        Recorder rec;
        const wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QCOMPARE(wb::total_steps(96, 16, 3, 4, false), 6LL);
        QCOMPARE(int(rec.iterations.size()), 6);
        for (const auto& it : rec.iterations) {
            QCOMPARE(it.iterations_per_epoch, 2);
            QCOMPARE(it.batch_size, it.iteration == 0 ? 64 : 32);
        }
        wb::ScheduleSpec spec;
        spec.policy = "onecycle";
        spec.max_lr = 0.05;
        const wb::Schedule schedule = wb::Schedule::make(spec, 6);
        for (long long step = 0; step < 6; ++step) {
            QCOMPARE(rec.iterations[step].lr, schedule.lr(step));
        }
    }

    // Every kind of summary a run writes, read back by the independent reader, with the values
    // the run folder's CSV files hold; then a resumed run's session start.
    void tensorBoardLogsTheRun() {
        if (!QFileInfo(QStringLiteral(WB_PYTHON)).isExecutable()) {
            QSKIP("no Python interpreter at WB_PYTHON");
        }
        wb::Experiment e = tiny_experiment("tensorboard");
        e.epochs = 3;
        e.optimizer.type = "sgd";
        e.optimizer.lr = 0.05;
        e.schedule.policy = "onecycle";
        std::atomic<bool> cancel{false};
        Recorder rec;
        rec.cancel = &cancel;
        rec.cancel_after = 8;  // mid-epoch 2
        const wb::RunResult stopped = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(stopped.status), QString("cancelled"));
        cancel = false;
        Recorder resumed;
        const wb::RunResult r = wb::resume(stopped.run_dir, resumed, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));

        const QString logs = QString::fromStdString(r.run_dir) + "/tensorboard";
        QString skip;
        const TbRun train = read_tb_run(logs + "/train", &skip);
        if (!skip.isEmpty()) {
            QSKIP(qPrintable(skip));
        }
        const TbRun val = read_tb_run(logs + "/val", &skip);
        const TbRun root = read_tb_run(logs, &skip);
        // Two sessions: the stopped one and the resumed one, which starts at step 6.
        QCOMPARE(train.files, 2);
        QCOMPARE(train.session_starts, QList<qint64>{6});
        QCOMPARE(val.session_starts, QList<qint64>{6});

        // Per-iteration scalars equal iterations.csv (the resumed values replace the stale
        // steps 6 and 7 of the stopped run, which come first in the file order).
        const auto csv = read_csv(fs::path(r.run_dir) / "iterations.csv");
        QCOMPARE(train.values.value("iteration/loss").size(), 18);
        for (int step = 0; step < 18; ++step) {
            const double loss =
                train.values["iteration/loss"][step].value("simple_value").toDouble();
            QVERIFY(std::abs(loss - csv.at("loss")[step]) <= 1e-6 * std::max(1.0, loss));
            const double lr = train.values["iteration/lr"][step].value("simple_value").toDouble();
            QVERIFY(std::abs(lr - csv.at("lr")[step]) <= 1e-6 * lr);
        }
        // Per-epoch train and val under one tag, at the step of each epoch's last iteration;
        // the first epoch's survive the restart at step 6.
        const auto metrics = read_csv(fs::path(r.run_dir) / "metrics.csv");
        for (int epoch = 0; epoch < 3; ++epoch) {
            const qint64 step = 6 * (epoch + 1) - 1;
            const double acc = val.values["epoch/accuracy"][step].value("simple_value").toDouble();
            QVERIFY(std::abs(acc - metrics.at("val_accuracy")[epoch]) < 1e-6);
            QVERIFY(train.values["epoch/loss"].contains(step));
        }
        // Histograms of weights and gradients, finite, with their non-finite counts.
        const QJsonObject hist = train.values["weights/fc.weight"][17].value("histo").toObject();
        QVERIFY2(hist.value("num").toDouble() > 0, qPrintable(QJsonDocument(hist).toJson()));
        QVERIFY(train.values.contains("gradients/fc.weight"));
        QCOMPARE(train.values["nonfinite/weights/fc.weight"][17].value("simple_value").toDouble(),
                 0.0);
        // Images: a batch, the confusion matrix, the worst mistakes; text; PR curves.
        QCOMPARE(train.values["images/batch"].first().value("image").toObject().value("format"),
                 QJsonValue("PNG"));
        QVERIFY(val.values.contains("images/confusion_matrix"));
        QVERIFY(val.values.contains("images/worst_mistakes") ||
                metrics.at("val_accuracy").back() == 1.0);
        const QJsonObject text = train.values["text/experiment"].first().value("tensor").toObject();
        QVERIFY(text.value("string_val").toArray().at(0).toString().contains("arch: small_cnn"));
        QCOMPARE(val.values["pr/horizontal"].size(), 3);
        QCOMPARE(val.values["pr/vertical"].size(), 3);
        // Hyperparameters and final metrics in the run's own folder.
        QVERIFY(root.values.contains("_hparams_/session_start_info"));
        QVERIFY(root.values.contains("_hparams_/session_end_info"));
        QVERIFY(std::abs(root.values["best/val_accuracy"].first().value("simple_value").toDouble() -
                         r.best_val_accuracy) < 1e-6);
        // The projector's embedding of the last epoch.
        QVERIFY(QFile::exists(logs + "/val/projector_config.pbtxt"));
    }

    // Each epoch's validation predictions reach the observer and the run folder; the test split
    // is evaluated on the best checkpoint; single images classified from the run folder match
    // the test predictions, through another code path (no loader).
    void evaluationsReachTheObserverAndTheRunFolder() {
        wb::Experiment e = tiny_experiment("evaluations");
        e.epochs = 2;
        std::atomic<bool> cancel{false};
        Recorder rec;
        const wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QCOMPARE(int(rec.evaluations.size()), 3);
        for (int epoch = 0; epoch < 2; ++epoch) {
            const wb::EpochEvaluation& ev = rec.evaluations[epoch];
            QCOMPARE(ev.epoch, epoch);
            QCOMPARE(QString::fromStdString(ev.split), QString("val"));
            QCOMPARE(int(ev.report->predictions.size()), 32);
            QCOMPARE(ev.report->metrics.accuracy, rec.epochs[epoch].val_accuracy);
            const auto dir = fs::path(r.run_dir) / "evaluation" / "val" /
                             (epoch == 0 ? "epoch_001" : "epoch_002");
            QVERIFY2(fs::exists(dir / "confusion_matrix.csv"), dir.c_str());
            QCOMPARE(count_lines(dir / "predictions.csv"), 33);
        }
        const wb::EpochEvaluation& test = rec.evaluations.back();
        QCOMPARE(QString::fromStdString(test.split), QString("test"));
        QCOMPARE(test.epoch, r.best_epoch);
        QCOMPARE(test.report->metrics.accuracy, r.test_accuracy);

        const wb::Predictor predictor(r.run_dir);
        const auto& p = test.report->predictions;
        for (std::size_t i = 0; i < p.size(); i += 5) {
            const auto top = predictor.predict(p.paths[i], 2);
            QCOMPARE(top.size(), size_t(2));
            QCOMPARE(QString::fromStdString(top[0].first),
                     QString::fromStdString(test.report->classes[p.predicted[i]]));
            QVERIFY(std::abs(top[0].second - p.confidence(i)) < 1e-5);
            QVERIFY(std::abs(top[0].second + top[1].second - 1) < 1e-5);
        }
        QVERIFY_THROWS_EXCEPTION(wb::DataError, predictor.predict(r.run_dir + "/classes.txt"));
        QVERIFY_THROWS_EXCEPTION(wb::DataError, wb::Predictor(r.run_dir, "nope.pt"));
    }

    void tensorBoardCanBeTurnedOff() {
        wb::Experiment e = tiny_experiment("no-tensorboard");
        e.epochs = 1;
        e.tensorboard.enabled = false;
        std::atomic<bool> cancel{false};
        Recorder rec;
        const wb::RunResult r = wb::train(e, rec, cancel);
        QCOMPARE(QString::fromStdString(r.status), QString("finished"));
        QVERIFY(!fs::exists(fs::path(r.run_dir) / "tensorboard"));
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
