// A TorchScript classifier that is not one of ours: its outputs and penultimate features as in
// PyTorch, its last linear layer replaced for a new number of classes, trained as a fixed
// feature extractor by the trainer, and exported back as TorchScript that Python runs with the
// workbench's predictions.

#include <torch/torch.h>

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <filesystem>

#include "engine/experiment.h"
#include "engine/export.h"
#include "engine/models.h"
#include "engine/predictor.h"
#include "engine/pretrained.h"
#include "engine/state_dict.h"
#include "engine/torchscript_model.h"
#include "engine/trainer.h"
#include "model_spec.h"
#include "python_fixture.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

}  // namespace

class TestTorchScriptModel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void outputsAndFeaturesAsInPyTorch_data();
    void outputsAndFeaturesAsInPyTorch();
    void newHeadForOtherClasses_data();
    void newHeadForOtherClasses();
    void notTorchScriptIsNamed();
    void trainsAsAFixedFeatureExtractorAndExportsTorchScript();

private:
    bool need_files();
    std::string file(const QString& name) const { return dir_.filePath(name).toStdString(); }

    QTemporaryDir dir_;
    wb::test::PythonFixture fixture_;
};

void TestTorchScriptModel::initTestCase() {
    QVERIFY(dir_.isValid());
    torch::set_num_threads(1);
}

bool TestTorchScriptModel::need_files() {
    return fixture_.run(QStringLiteral("torchscript_models.py"), dir_.path());
}

#define NEED_FILES()                                                        \
    do {                                                                    \
        if (!need_files()) {                                                \
            QVERIFY2(fixture_.error.isEmpty(), qPrintable(fixture_.error)); \
            QSKIP(qPrintable(fixture_.skip));                               \
        }                                                                   \
    } while (false)

void TestTorchScriptModel::outputsAndFeaturesAsInPyTorch_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("io");
    QTest::addColumn<int>("classes");
    QTest::addColumn<QString>("head");
    QTest::newRow("custom network, scripted") << "tiny_scripted.pt"
                                              << "tiny_io.pt" << 6 << "fc.";
    QTest::newRow("custom network, traced") << "tiny_traced.pt"
                                            << "tiny_io.pt" << 6 << "fc.";
    QTest::newRow("mobilenet_v3_small, scripted") << "mobilenet_scripted.pt"
                                                  << "mobilenet_io.pt" << 10 << "classifier.3.";
}

void TestTorchScriptModel::outputsAndFeaturesAsInPyTorch() {
    QFETCH(QString, name);
    QFETCH(QString, io);
    QFETCH(int, classes);
    QFETCH(QString, head);
    NEED_FILES();
    auto model = wb::make_model(wb::test::model_spec("torchscript", classes, 3, file(name)));
    QCOMPARE(QString::fromStdString(model->head_prefix()), head);
    model->eval();
    const auto expected = wb::read_state_dict(file(io));
    torch::NoGradGuard no_grad;
    const auto x = expected.at("input");
    QVERIFY(max_diff(model->forward(x), expected.at("output")) < 1e-5);
    const auto features = model->features(x);
    QVERIFY(max_diff(features, expected.at("features")) < 1e-5);
    QCOMPARE(model->feature_size(), features.size(1));
    QVERIFY(max_diff(model->classify(features), expected.at("output")) < 1e-5);
    // features() put the head back.
    QVERIFY(max_diff(model->forward(x), expected.at("output")) < 1e-5);
}

void TestTorchScriptModel::newHeadForOtherClasses_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("io");
    QTest::addColumn<QString>("head");
    QTest::newRow("custom network") << "tiny_scripted.pt"
                                    << "tiny_io.pt"
                                    << "fc";
    QTest::newRow("mobilenet_v3_small") << "mobilenet_scripted.pt"
                                        << "mobilenet_io.pt"
                                        << "classifier.3";
}

void TestTorchScriptModel::newHeadForOtherClasses() {
    QFETCH(QString, name);
    QFETCH(QString, io);
    QFETCH(QString, head);
    NEED_FILES();
    auto model = wb::make_model(wb::test::model_spec("torchscript", 3, 3, file(name)));
    const auto expected = wb::read_state_dict(file(io));
    const auto original = wb::read_weights(file(name));
    const auto state = wb::state_dict(*model);
    QCOMPARE(state.size(), original.size());  // the same names, the head resized
    const std::string weight = head.toStdString() + ".weight";
    QCOMPARE(state.at(weight).size(0), std::int64_t(3));
    QCOMPARE(state.at(weight).size(1), original.at(weight).size(1));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto x = expected.at("input");
    QCOMPARE(model->forward(x).size(1), std::int64_t(3));
    QVERIFY(max_diff(model->features(x), expected.at("features")) < 1e-5);
}

void TestTorchScriptModel::notTorchScriptIsNamed() {
    NEED_FILES();
    try {
        wb::make_model(wb::test::model_spec("torchscript", 3, 3, file("tiny_io.pt")));
        QFAIL("no error thrown");
    } catch (const std::exception& error) {
        QVERIFY2(QString(error.what()).contains("tiny_io.pt: not a TorchScript archive"),
                 error.what());
    }
}

void TestTorchScriptModel::trainsAsAFixedFeatureExtractorAndExportsTorchScript() {
    NEED_FILES();
    const fs::path data = fs::path(dir_.path().toStdString()) / "stripes";
    wb::test::write_stripes(data / "train", 24, 1);
    wb::test::write_stripes(data / "val", 4, 2);
    const auto images = wb::test::write_stripes(data / "test", 3, 3);

    wb::Experiment e;
    e.name = "torchscript";
    e.data.root = data.string();
    e.model.arch = "torchscript";
    e.model.weights = file("tiny_scripted.pt");
    e.model.finetune = "head";
    e.preprocessing.image_size = 16;
    e.preprocessing.channels = 3;
    e.optimizer.lr = 0.05;
    e.epochs = 2;
    e.batch_size = 8;
    e.threads = 1;
    e.tensorboard.enabled = false;
    e.runs_dir = (fs::path(dir_.path().toStdString()) / "runs").string();
    std::atomic<bool> cancel{false};
    wb::Observer quiet;
    const wb::RunResult run = wb::train(e, quiet, cancel);
    QCOMPARE(QString::fromStdString(run.status), QString("finished"));

    const auto original = wb::read_weights(file("tiny_scripted.pt"));
    const auto best = wb::read_weights((fs::path(run.run_dir) / "best.pt").string());
    for (const auto& [name, tensor] : original) {
        if (name.rfind("fc.", 0) != 0) {
            QVERIFY2(torch::equal(best.at(name), tensor), name.c_str());
        }
    }
    QCOMPARE(best.at("fc.weight").size(0), std::int64_t(2));

    const std::string out = (fs::path(run.run_dir) / "export").string();
    const auto files = wb::export_run(run.run_dir, out);
    QCOMPARE(int(files.size()), 3);
    QVERIFY(fs::exists(fs::path(out) / "model.pt"));

    QStringList args{QStringLiteral(WB_SOURCE_DIR) + "/tests/python/export_check.py",
                     QString::fromStdString(out)};
    for (const auto& s : images) {
        args << QString::fromStdString(s.path);
    }
    QProcess python;
    python.start(QStringLiteral(WB_PYTHON), args);
    QVERIFY(python.waitForFinished(300000));
    QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
    const QJsonObject theirs = QJsonDocument::fromJson(python.readAllStandardOutput()).object();
    const wb::Predictor ours(run.run_dir);
    double worst = 0;
    for (const auto& s : images) {
        const QJsonArray probabilities = theirs.value(QString::fromStdString(s.path)).toArray();
        QCOMPARE(probabilities.size(), 2);
        for (const auto& [name, p] : ours.predict(s.path, 2)) {
            worst = std::max(worst,
                             std::abs(p - probabilities[name == "horizontal" ? 0 : 1].toDouble()));
        }
    }
    qInfo("largest probability difference %.3g", worst);
    QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
}

QTEST_GUILESS_MAIN(TestTorchScriptModel)
#include "tst_torchscript_model.moc"
