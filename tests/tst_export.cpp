// Weights out: a trained run exported as a plain-dict state dict and model.json, loaded by
// torchvision in Python (tests/python/export_check.py) and giving the same predictions as the
// workbench on the same image files; and read back as pretrained weights.

#include <torch/torch.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/experiment.h"
#include "engine/export.h"
#include "engine/models.h"
#include "engine/predictor.h"
#include "engine/pretrained.h"
#include "engine/trainer.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

class TestExport : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void pythonGetsOurPredictions_data();
    void pythonGetsOurPredictions();
    void missingCheckpointIsNamed();

private:
    QTemporaryDir dir_;
    fs::path data_;
    std::vector<wb::Sample> images_;
};

void TestExport::initTestCase() {
    QVERIFY(dir_.isValid());
    torch::set_num_threads(1);
    data_ = fs::path(dir_.path().toStdString()) / "stripes";
    wb::test::write_stripes(data_ / "train", 24, 1);
    wb::test::write_stripes(data_ / "val", 4, 2);
    images_ = wb::test::write_stripes(data_ / "test", 3, 3);
}

void TestExport::pythonGetsOurPredictions_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::newRow("resnet18, gray repeated to RGB") << "resnet18" << 3;
    QTest::newRow("resnet18, one channel") << "resnet18" << 1;
}

void TestExport::pythonGetsOurPredictions() {
    QFETCH(QString, arch);
    QFETCH(int, channels);
    wb::Experiment e;
    e.name = "export";
    e.data.root = data_.string();
    e.model.arch = arch.toStdString();
    e.preprocessing.image_size = 16;
    e.preprocessing.channels = channels;
    e.epochs = 1;
    e.optimizer.lr = 1e-4;  // near the random start: probabilities far from 0 and 1
    e.batch_size = 8;
    e.threads = 1;
    e.tensorboard.enabled = false;
    e.runs_dir = (fs::path(dir_.path().toStdString()) / "runs").string();
    std::atomic<bool> cancel{false};
    wb::Observer quiet;
    const wb::RunResult run = wb::train(e, quiet, cancel);
    QCOMPARE(QString::fromStdString(run.status), QString("finished"));

    const std::string out = (fs::path(run.run_dir) / "export").string();
    const auto files = wb::export_run(run.run_dir, out);
    QCOMPARE(int(files.size()), 2);
    std::ifstream json_file(fs::path(out) / "model.json");
    const auto info = nlohmann::json::parse(json_file);
    QCOMPARE(QString::fromStdString(info["arch"].get<std::string>()), arch);
    QCOMPARE(info["classes"].get<std::vector<std::string>>(),
             (std::vector<std::string>{"horizontal", "vertical"}));
    QCOMPARE(info["preprocessing"]["channels"].get<int>(), channels);
    QCOMPARE(info["preprocessing"]["mean"].size(), std::size_t(channels));

    // The export reads back as pretrained weights, equal to the checkpoint.
    auto model = wb::make_model({e.model.arch, 2, channels});
    wb::load_pretrained(*model, e.model.arch, wb::read_weights(files[0]), files[0]);
    const wb::StateDict best = wb::read_weights((fs::path(run.run_dir) / "best.pt").string());
    for (const auto& [name, tensor] : wb::state_dict(*model)) {
        QVERIFY2(torch::equal(tensor, best.at(name)), name.c_str());
    }

    QStringList args{QStringLiteral(WB_SOURCE_DIR) + "/tests/python/export_check.py",
                     QString::fromStdString(out)};
    for (const auto& s : images_) {
        args << QString::fromStdString(s.path);
    }
    QProcess python;
    python.start(QStringLiteral(WB_PYTHON), args);
    QVERIFY(python.waitForFinished(300000));
    const QString err = QString::fromLocal8Bit(python.readAllStandardError());
    if (python.exitCode() == 3) {
        QSKIP(qPrintable(err));
    }
    QVERIFY2(python.exitCode() == 0, qPrintable(err));
    const QJsonObject theirs = QJsonDocument::fromJson(python.readAllStandardOutput()).object();

    const wb::Predictor ours(run.run_dir);
    double worst = 0;
    int undecided = 0;  // probabilities in (0.05, 0.95): a comparison that can fail
    for (const auto& s : images_) {
        const QJsonArray probabilities = theirs.value(QString::fromStdString(s.path)).toArray();
        QCOMPARE(probabilities.size(), 2);
        for (const auto& [name, p] : ours.predict(s.path, 2)) {
            const int index = name == "horizontal" ? 0 : 1;
            worst = std::max(worst, std::abs(p - probabilities[index].toDouble()));
            undecided += p > 0.05 && p < 0.95;
        }
    }
    qInfo("%s, %d channel(s): largest probability difference %.3g", qPrintable(arch), channels,
          worst);
    QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
    QVERIFY(undecided > 0);
}

void TestExport::missingCheckpointIsNamed() {
    QTemporaryDir run;
    QVERIFY(run.isValid());
    wb::save_experiment(wb::Experiment{}, run.filePath("experiment.yaml").toStdString());
    std::ofstream(run.filePath("classes.txt").toStdString()) << "a\nb\n";
    try {
        wb::export_run(run.path().toStdString(), run.filePath("out").toStdString());
        QFAIL("no DataError thrown");
    } catch (const std::exception& error) {
        QVERIFY2(QString(error.what()).contains("best.pt: no such checkpoint"), error.what());
    }
}

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
