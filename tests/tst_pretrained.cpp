// Pretrained weights in: TorchScript archives (scripted, traced), plain-dict state dicts, our
// checkpoints and run folders, mapped onto our networks by name and checked against
// torchvision's outputs; files that do not fit are reported by name.

#include <torch/torch.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <thread>

#include "engine/models.h"
#include "engine/pretrained.h"
#include "engine/state_dict.h"
#include "model_spec.h"
#include "python_fixture.h"

namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

}  // namespace

class TestPretrained : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void torchvisionFilesGiveTorchvisionOutputs_data();
    void torchvisionFilesGiveTorchvisionOutputs();
    void newHeadKeepsThePretrainedBackbone_data();
    void newHeadKeepsThePretrainedBackbone();
    void ourCheckpointAndRunFolder();
    void badWeightsAreReportedByName_data();
    void badWeightsAreReportedByName();

private:
    /// Skips the test when Python lacks torchvision; fails when the script fails.
    bool need_files();
    std::string file(const QString& name) const { return dir_.filePath(name).toStdString(); }

    QTemporaryDir dir_;
    wb::test::PythonFixture fixture_;
};

void TestPretrained::initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(std::max(1u, std::thread::hardware_concurrency()));
    QVERIFY(dir_.isValid());
}

bool TestPretrained::need_files() {
    return fixture_.run(QStringLiteral("pretrained_files.py"), dir_.path());
}

#define NEED_FILES()                                                        \
    do {                                                                    \
        if (!need_files()) {                                                \
            QVERIFY2(fixture_.error.isEmpty(), qPrintable(fixture_.error)); \
            QSKIP(qPrintable(fixture_.skip));                               \
        }                                                                   \
    } while (false)

// ---------------------------------------------------------------------------------------------

void TestPretrained::torchvisionFilesGiveTorchvisionOutputs_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("torch.jit.script") << "resnet18_scripted.pt";
    QTest::newRow("torch.jit.trace") << "resnet18_traced.pt";
    QTest::newRow("plain-dict state dict") << "resnet18_state.pt";
}

void TestPretrained::torchvisionFilesGiveTorchvisionOutputs() {
    QFETCH(QString, name);
    NEED_FILES();
    auto model = wb::make_model(wb::test::model_spec("resnet18", 10, 3));
    const auto report = wb::load_pretrained(*model, "resnet18", wb::read_weights(file(name)), "x");
    QCOMPARE(report.loaded, std::size_t(122));
    QVERIFY(report.mismatched.empty());
    const auto io = wb::read_state_dict(file("resnet18_io.pt"));
    model->eval();
    torch::NoGradGuard no_grad;
    const double diff = max_diff(model->forward(io.at("input")), io.at("output"));
    qInfo("%s: max abs diff %.3g", qPrintable(name), diff);
    QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
}

void TestPretrained::newHeadKeepsThePretrainedBackbone_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("torch.jit.script") << "resnet18_scripted.pt";
    QTest::newRow("plain-dict state dict") << "resnet18_state.pt";
}

// Five classes instead of ten: fc starts fresh, every other tensor is torchvision's.
void TestPretrained::newHeadKeepsThePretrainedBackbone() {
    QFETCH(QString, name);
    NEED_FILES();
    torch::manual_seed(3);
    auto model = wb::make_model(wb::test::model_spec("resnet18", 5, 3));
    const auto fresh_fc = model->named_parameters()["fc.weight"].clone();
    const auto report = wb::load_pretrained(*model, "resnet18", wb::read_weights(file(name)), "x");
    QCOMPARE(report.loaded, std::size_t(120));
    QCOMPARE(int(report.mismatched.size()), 2);
    QVERIFY2(QString::fromStdString(report.mismatched[0]).contains("[5] in the model, [10]") ||
                 QString::fromStdString(report.mismatched[1]).contains("[5] in the model, [10]"),
             report.mismatched[0].c_str());
    QVERIFY(torch::equal(model->named_parameters()["fc.weight"], fresh_fc));
    const auto io = wb::read_state_dict(file("resnet18_io.pt"));
    model->eval();
    torch::NoGradGuard no_grad;
    const double diff = max_diff(model->features(io.at("input")), io.at("features"));
    QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
}

// A checkpoint as the trainer writes it (an OutputArchive), alone and in a run folder.
void TestPretrained::ourCheckpointAndRunFolder() {
    torch::manual_seed(4);
    auto trained = wb::make_model(wb::test::model_spec("small_cnn", 4, 1));
    {
        torch::NoGradGuard no_grad;
        for (auto& b : trained->named_buffers()) {
            if (b.key().find("running_var") != std::string::npos) {
                b.value().uniform_(0.5, 1.5);
            }
        }
    }
    QTemporaryDir run;
    QVERIFY(run.isValid());
    torch::serialize::OutputArchive archive;
    trained->save(archive);
    archive.save_to(run.filePath("best.pt").toStdString());

    for (const QString& path : {run.filePath("best.pt"), run.path()}) {
        auto model = wb::make_model(wb::test::model_spec("small_cnn", 4, 1));
        const auto report =
            wb::load_pretrained(*model, "small_cnn", wb::read_weights(path.toStdString()), "x");
        QCOMPARE(report.loaded, wb::state_dict(*trained).size());
        for (const auto& [name, tensor] : wb::state_dict(*trained)) {
            QVERIFY2(torch::equal(wb::state_dict(*model).at(name), tensor), name.c_str());
        }
    }
}

void TestPretrained::badWeightsAreReportedByName_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QStringList>("fragments");
    QTest::newRow("OrderedDict from torch.save(model.state_dict())")
        << "resnet18_ordered.pt"
        << "resnet18" << 3
        << QStringList{"not a weights file", "torch.save(dict(model.state_dict()), path)"};
    QTest::newRow("another network")
        << "squeezenet_scripted.pt"
        << "resnet18" << 3
        << QStringList{"the weights do not fit resnet18", "missing: bn1.bias",
                       "unexpected: classifier.1.bias"};
    QTest::newRow("colour weights for a gray model")
        << "resnet18_state.pt"
        << "resnet18" << 1
        << QStringList{
               "1 with another shape: conv1.weight: [64, 1, 7, 7] in the model, "
               "[64, 3, 7, 7] in the weights",
               "set preprocessing.channels to 3"};
    QTest::newRow("resnet18 weights for resnet34")
        << "resnet18_scripted.pt"
        << "resnet34" << 3 << QStringList{"do not fit resnet34", "missing: layer1.2.bn1.bias"};
    QTest::newRow("no such file") << "missing.pt"
                                  << "resnet18" << 3
                                  << QStringList{"missing.pt: no such weights file"};
    QTest::newRow("not PyTorch at all")
        << "notes.pt"
        << "resnet18" << 3 << QStringList{"notes.pt: not a weights file"};
    QTest::newRow("folder without a checkpoint")
        << "empty-run"
        << "resnet18" << 3 << QStringList{"without best.pt or last.pt"};
}

void TestPretrained::badWeightsAreReportedByName() {
    QFETCH(QString, name);
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(QStringList, fragments);
    NEED_FILES();
    {
        QFile notes(dir_.filePath("notes.pt"));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("not a tensor in sight\n");
    }
    QVERIFY(QDir(dir_.path()).mkpath("empty-run"));
    auto model = wb::make_model(wb::test::model_spec(arch.toStdString(), 10, channels));
    const auto before = wb::state_dict(*model).at("layer1.0.conv1.weight").clone();
    try {
        wb::load_pretrained(*model, arch.toStdString(), wb::read_weights(file(name)), file(name));
        QFAIL("no StateDictError thrown");
    } catch (const wb::StateDictError& error) {
        const QString what = error.what();
        QVERIFY2(what.contains(name), error.what());
        for (const auto& fragment : fragments) {
            QVERIFY2(what.contains(fragment), error.what());
        }
    }
    // Nothing is copied from a file that does not fit.
    QVERIFY(torch::equal(wb::state_dict(*model).at("layer1.0.conv1.weight"), before));
}

QTEST_GUILESS_MAIN(TestPretrained)
#include "tst_pretrained.moc"
