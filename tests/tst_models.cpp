// The networks: output shapes, parameter counts and names as torchvision's, and eval-mode
// outputs equal to torchvision's for the same weights.

#include <torch/torch.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <thread>

#include "engine/errors.h"
#include "engine/models.h"
#include "engine/state_dict.h"

namespace {

std::shared_ptr<wb::Classifier> build(const QString& arch, int classes, int channels) {
    return wb::make_model({arch.toStdString(), classes, channels});
}

QStringList module_names(const torch::nn::Module& module) {
    QStringList names;
    for (const auto& item : module.named_modules()) {
        names << QString::fromStdString(item.key());
    }
    return names;
}

QString shape_text(const torch::Tensor& t) {
    std::ostringstream text;
    text << t.sizes();
    return QString::fromStdString(text.str());
}

}  // namespace

class TestModels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void outputShape_data();
    void outputShape();
    void parameterCount_data();
    void parameterCount();
    void trainableParameterCount();
    void stateDictNames_data();
    void stateDictNames();
    void trainStepReachesEveryParameter_data();
    void trainStepReachesEveryParameter();
    void smallCnnFitsATinyProblem();
    void badSpecThrows_data();
    void badSpecThrows();
    void forwardIsLastLinearOfFeatures_data();
    void forwardIsLastLinearOfFeatures();

    void loadStateDictCopiesByName();
    void loadStateDictStrictReportsEveryName();
    void loadStateDictLenientSkipsANewHead();
    void readStateDictMissingFile();

    void torchvisionParity_data();
    void torchvisionParity();

private:
    /// Runs tests/python/torchvision_reference.py once into reference_dir_; returns the error.
    QString write_references();

    QTemporaryDir reference_dir_;
    bool references_tried_ = false;
    QString references_skip_;   // why there is no reference (no Python, no torchvision)
    QString references_error_;  // why the script failed
};

void TestModels::initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(std::max(1u, std::thread::hardware_concurrency()));
    QVERIFY(reference_dir_.isValid());
}

QString TestModels::write_references() {
    if (references_tried_) {
        return references_error_;
    }
    references_tried_ = true;
    const QString python = WB_PYTHON;
    const QString script = QStringLiteral(WB_SOURCE_DIR) + "/tests/python/torchvision_reference.py";
    if (!QFileInfo(python).isExecutable()) {
        references_skip_ = "no Python interpreter at WB_PYTHON=" + python;
        return {};
    }
    QProcess process;
    process.start(python, {script, reference_dir_.path()});
    if (!process.waitForFinished(300000)) {
        return references_error_ = "torchvision_reference.py did not finish in 5 minutes";
    }
    const QString err = QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
    if (process.exitStatus() == QProcess::NormalExit && process.exitCode() == 3) {
        references_skip_ = python + " has no torch or torchvision: " + err;
    } else if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        references_error_ = "torchvision_reference.py failed: " + err;
    }
    return references_error_;
}

// ---------------------------------------------------------------------------------------------
// Shapes, counts, names

void TestModels::outputShape_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("height");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("classes");

    QTest::newRow("small_cnn fashion-mnist") << "small_cnn" << 1 << 28 << 28 << 10;
    QTest::newRow("small_cnn rgb 32") << "small_cnn" << 3 << 32 << 32 << 5;
    QTest::newRow("small_cnn 64x48") << "small_cnn" << 1 << 64 << 48 << 3;
    QTest::newRow("small_cnn 8x8, below the pooled size") << "small_cnn" << 1 << 8 << 8 << 2;
    QTest::newRow("small_cnn 4x4, the smallest") << "small_cnn" << 1 << 4 << 4 << 10;
    QTest::newRow("resnet18 cifar") << "resnet18" << 3 << 32 << 32 << 10;
    QTest::newRow("resnet18 gray 28") << "resnet18" << 1 << 28 << 28 << 10;
    QTest::newRow("resnet18 imagenet") << "resnet18" << 3 << 224 << 224 << 1000;
    QTest::newRow("resnet18 non-square") << "resnet18" << 1 << 64 << 40 << 7;
    QTest::newRow("resnet18 8x8") << "resnet18" << 3 << 8 << 8 << 2;
    QTest::newRow("resnet34 cifar") << "resnet34" << 3 << 32 << 32 << 10;
    QTest::newRow("resnet50 gray non-square") << "resnet50" << 1 << 48 << 32 << 5;
    QTest::newRow("vgg16_bn cifar") << "vgg16_bn" << 3 << 32 << 32 << 10;
    QTest::newRow("vgg16_bn gray non-square") << "vgg16_bn" << 1 << 40 << 64 << 3;
}

void TestModels::outputShape() {
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(int, height);
    QFETCH(int, width);
    QFETCH(int, classes);

    auto model = build(arch, classes, channels);
    model->eval();
    torch::NoGradGuard no_grad;
    const auto y = model->forward(torch::randn({2, channels, height, width}));
    QCOMPARE(shape_text(y), shape_text(torch::empty({2, classes})));
    QVERIFY(torch::isfinite(y).all().item<bool>());
}

void TestModels::parameterCount_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("classes");
    QTest::addColumn<qint64>("expected");

    // torchvision: sum(p.numel() for p in resnet18().parameters()), likewise vgg16_bn.
    QTest::newRow("resnet18") << "resnet18" << 3 << 1000 << qint64(11'689'512);
    QTest::newRow("resnet34") << "resnet34" << 3 << 1000 << qint64(21'797'672);
    QTest::newRow("resnet50") << "resnet50" << 3 << 1000 << qint64(25'557'032);
    QTest::newRow("vgg16_bn") << "vgg16_bn" << 3 << 1000 << qint64(138'365'992);
    // resnet50's fc sees 2048 features.
    QTest::newRow("resnet50 10 classes")
        << "resnet50" << 3 << 10 << qint64(25'557'032 - 2049 * 990);
    // A 10-class head keeps 513 * 10 of fc's 513 * 1000.
    QTest::newRow("resnet18 10 classes") << "resnet18" << 3 << 10 << qint64(11'689'512 - 513 * 990);
    // One input channel: conv1 has 64 * 7 * 7 weights per input channel.
    QTest::newRow("resnet18 gray") << "resnet18" << 1 << 1000 << qint64(11'689'512 - 2 * 3136);
    // conv 9*32 + bn 64 + conv 9*32*32 + bn 64 + conv 9*32*64 + bn 128 + conv 9*64*64 + bn 128
    // + fc 64*7*7*10 + 10.
    QTest::newRow("small_cnn") << "small_cnn" << 1 << 10
                               << qint64(288 + 64 + 9216 + 64 + 18432 + 128 + 36864 + 128 + 31370);
}

void TestModels::parameterCount() {
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(int, classes);
    QFETCH(qint64, expected);
    QCOMPARE(qint64(wb::parameter_count(*build(arch, classes, channels))), expected);
}

void TestModels::trainableParameterCount() {
    auto model = build("resnet18", 10, 3);
    const auto all = wb::parameter_count(*model);
    QCOMPARE(wb::parameter_count(*model, /*trainable_only=*/true), all);
    for (auto& p : model->named_parameters()) {
        if (p.key().rfind("fc.", 0) != 0) {
            p.value().requires_grad_(false);
        }
    }
    QCOMPARE(wb::parameter_count(*model, true), std::int64_t(513 * 10));
    QCOMPARE(wb::parameter_count(*model), all);
}

void TestModels::stateDictNames_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("entries");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<QStringList>("children");

    // len(resnet18().state_dict()) == 122, len(vgg16_bn().state_dict()) == 97.
    QTest::newRow("resnet18") << "resnet18" << 122
                              << QStringList{"conv1.weight",
                                             "bn1.num_batches_tracked",
                                             "layer1.0.conv1.weight",
                                             "layer1.1.bn2.running_var",
                                             "layer2.0.downsample.0.weight",
                                             "layer2.0.downsample.1.running_mean",
                                             "layer4.1.bn2.bias",
                                             "fc.weight",
                                             "fc.bias"}
                              << QStringList{"conv1",  "bn1",    "relu",   "maxpool", "layer1",
                                             "layer2", "layer3", "layer4", "avgpool", "fc"};
    // len(resnet34().state_dict()) == 218, len(resnet50().state_dict()) == 320.
    QTest::newRow("resnet34") << "resnet34" << 218
                              << QStringList{"conv1.weight",          "bn1.num_batches_tracked",
                                             "layer1.2.conv2.weight", "layer3.5.bn2.running_var",
                                             "layer4.2.bn2.bias",     "fc.weight"}
                              << QStringList{"conv1",  "bn1",    "relu",   "maxpool", "layer1",
                                             "layer2", "layer3", "layer4", "avgpool", "fc"};
    QTest::newRow("resnet50") << "resnet50" << 320
                              << QStringList{"conv1.weight",
                                             "bn1.num_batches_tracked",
                                             "layer1.0.downsample.0.weight",
                                             "layer1.0.conv3.weight",
                                             "layer3.5.bn3.running_var",
                                             "layer4.2.bn3.bias",
                                             "fc.weight"}
                              << QStringList{"conv1",  "bn1",    "relu",   "maxpool", "layer1",
                                             "layer2", "layer3", "layer4", "avgpool", "fc"};
    QTest::newRow("vgg16_bn")
        << "vgg16_bn" << 97
        << QStringList{"features.0.weight",      "features.0.bias",
                       "features.1.running_var", "features.7.weight",
                       "features.40.weight",     "features.41.num_batches_tracked",
                       "classifier.0.weight",    "classifier.3.weight",
                       "classifier.6.bias"}
        << QStringList{"features", "avgpool", "classifier"};
}

void TestModels::stateDictNames() {
    QFETCH(QString, arch);
    QFETCH(int, entries);
    QFETCH(QStringList, names);
    QFETCH(QStringList, children);

    auto model = build(arch, 10, 3);
    const auto state = wb::state_dict(*model);
    QCOMPARE(int(state.size()), entries);
    for (const auto& name : names) {
        QVERIFY2(state.count(name.toStdString()), qPrintable(name));
    }
    QStringList child_names;
    for (const auto& child : model->named_children()) {
        child_names << QString::fromStdString(child.key());
    }
    QCOMPARE(child_names, children);
    QCOMPARE(state.at(names[1].toStdString()).scalar_type(),
             names[1].endsWith("num_batches_tracked") ? torch::kLong : torch::kFloat);
}

// ---------------------------------------------------------------------------------------------
// Training

void TestModels::trainStepReachesEveryParameter_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("size");
    QTest::newRow("small_cnn") << "small_cnn" << 28;
    QTest::newRow("resnet18") << "resnet18" << 32;
    QTest::newRow("resnet50") << "resnet50" << 32;
    QTest::newRow("vgg16_bn") << "vgg16_bn" << 32;
}

void TestModels::trainStepReachesEveryParameter() {
    QFETCH(QString, arch);
    QFETCH(int, size);
    auto model = build(arch, 4, 3);
    model->train();
    const auto loss = torch::nn::functional::cross_entropy(
        model->forward(torch::randn({2, 3, size, size})), torch::tensor({1, 3}));
    loss.backward();
    for (const auto& p : model->named_parameters()) {
        QVERIFY2(p.value().grad().defined() && p.value().grad().abs().sum().item<float>() > 0,
                 qPrintable(QString::fromStdString(p.key()) + " got no gradient"));
    }
    // Training mode counts the batches in every BN layer.
    for (const auto& b : model->named_buffers()) {
        if (b.key().find("num_batches_tracked") != std::string::npos) {
            QCOMPARE(b.value().item<std::int64_t>(), std::int64_t(1));
        }
    }
}

void TestModels::smallCnnFitsATinyProblem() {
    // Four classes: which quadrant of a noisy 28x28 image is bright.
    torch::manual_seed(1);
    const int n = 64;
    auto x = 0.3 * torch::randn({n, 1, 28, 28});
    auto y = torch::randint(0, 4, {n}, torch::kLong);
    for (int i = 0; i < n; ++i) {
        const auto q = y[i].item<std::int64_t>();
        x[i].slice(1, (q / 2) * 14, (q / 2) * 14 + 14).slice(2, (q % 2) * 14, (q % 2) * 14 + 14) +=
            1.0;
    }
    auto model = build("small_cnn", 4, 1);
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    model->train();
    // Few steps: once the loss reaches 0 the gradients turn denormal and a step gets 30 times
    // slower.
    for (int step = 0; step < 8; ++step) {
        sgd.zero_grad();
        torch::nn::functional::cross_entropy(model->forward(x), y).backward();
        sgd.step();
    }
    model->eval();
    torch::NoGradGuard no_grad;
    const double accuracy =
        model->forward(x).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
    QVERIFY2(accuracy > 0.95, qPrintable(QString::number(accuracy)));
}

void TestModels::badSpecThrows_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QString>("fragment");
    QTest::newRow("unknown arch") << "resnet101" << 10 << 3
                                  << "unknown architecture 'resnet101' (available: small_cnn";
    QTest::newRow("no classes") << "small_cnn" << 0 << 1 << "at least one class";
    QTest::newRow("no channels") << "resnet18" << 10 << 0 << "at least one input channel";
}

void TestModels::badSpecThrows() {
    QFETCH(QString, arch);
    QFETCH(int, classes);
    QFETCH(int, channels);
    QFETCH(QString, fragment);
    try {
        build(arch, classes, channels);
        QFAIL("no ConfigError thrown");
    } catch (const wb::ConfigError& error) {
        QVERIFY2(QString(error.what()).contains(fragment), error.what());
    }
}

// ---------------------------------------------------------------------------------------------
// State dicts

void TestModels::loadStateDictCopiesByName() {
    auto source = build("resnet18", 10, 3);
    auto target = build("resnet18", 10, 3);
    source->eval();
    target->eval();
    torch::NoGradGuard no_grad;
    for (auto& b : source->named_buffers()) {
        if (b.key().find("running_mean") != std::string::npos) {
            b.value().uniform_(-0.5, 0.5);
        }
    }
    const auto x = torch::randn({2, 3, 32, 32});
    QVERIFY(!torch::equal(source->forward(x), target->forward(x)));

    const auto report = wb::load_state_dict(*target, wb::state_dict(*source));
    QCOMPARE(report.loaded, std::size_t(122));
    QVERIFY(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty());
    QVERIFY(torch::equal(source->forward(x), target->forward(x)));
}

void TestModels::loadStateDictStrictReportsEveryName() {
    auto model = build("small_cnn", 10, 1);
    auto state = wb::state_dict(*build("small_cnn", 10, 1));
    state.erase("features.1.running_var");
    state["features.99.weight"] = torch::zeros({3});
    state["fc.weight"] = torch::zeros({5, 3136});
    const auto before = model->named_parameters()["features.0.weight"].clone();
    try {
        wb::load_state_dict(*model, state);
        QFAIL("no StateDictError thrown");
    } catch (const wb::StateDictError& error) {
        const QString what = error.what();
        QVERIFY2(what.contains("1 missing: features.1.running_var"), error.what());
        QVERIFY2(what.contains("1 unexpected: features.99.weight"), error.what());
        QVERIFY2(what.contains("fc.weight: [10, 3136] in the module, [5, 3136] in the dict"),
                 error.what());
    }
    // Strict loading changes nothing when it fails.
    QVERIFY(torch::equal(model->named_parameters()["features.0.weight"], before));
}

void TestModels::loadStateDictLenientSkipsANewHead() {
    auto pretrained = build("resnet18", 1000, 3);
    auto model = build("resnet18", 5, 3);
    const auto report = wb::load_state_dict(*model, wb::state_dict(*pretrained), false);
    QCOMPARE(report.loaded, std::size_t(120));
    QCOMPARE(report.mismatched.size(), std::size_t(2));
    QVERIFY(report.missing.empty() && report.unexpected.empty());
    QVERIFY(torch::equal(model->named_parameters()["layer3.1.conv2.weight"],
                         pretrained->named_parameters()["layer3.1.conv2.weight"]));
    QCOMPARE(shape_text(model->named_parameters()["fc.weight"]), QString("[5, 512]"));
}

void TestModels::readStateDictMissingFile() {
    const std::string path = reference_dir_.filePath("missing.pt").toStdString();
    try {
        wb::read_state_dict(path);
        QFAIL("no StateDictError thrown");
    } catch (const wb::StateDictError& error) {
        QVERIFY2(QString(error.what()).contains(QString::fromStdString(path)), error.what());
    }
}

// features(): what the last linear layer (found by its torchvision name) sees.

void TestModels::forwardIsLastLinearOfFeatures_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("last_linear");
    QTest::addColumn<int>("feature_size");
    QTest::addColumn<int>("side");
    QTest::newRow("small_cnn") << "small_cnn" << QString("fc") << 64 * 7 * 7 << 28;
    QTest::newRow("resnet18") << "resnet18" << QString("fc") << 512 << 32;
    QTest::newRow("resnet34") << "resnet34" << QString("fc") << 512 << 32;
    QTest::newRow("resnet50") << "resnet50" << QString("fc") << 2048 << 32;
    QTest::newRow("vgg16_bn") << "vgg16_bn" << QString("classifier.6") << 4096 << 32;
}

void TestModels::forwardIsLastLinearOfFeatures() {
    QFETCH(QString, arch);
    QFETCH(QString, last_linear);
    QFETCH(int, feature_size);
    QFETCH(int, side);
    auto model = build(arch, 7, 3);
    model->eval();  // VGG's dropout before the last layer is the identity only in eval mode
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({3, 3, side, side});
    const auto features = model->features(x);
    QCOMPARE(shape_text(features), shape_text(torch::zeros({3, feature_size})));
    QCOMPARE(model->feature_size(), std::int64_t(feature_size));
    const auto params = model->named_parameters();
    const auto weight = params[(last_linear + ".weight").toStdString()];
    const auto bias = params[(last_linear + ".bias").toStdString()];
    QCOMPARE(shape_text(weight), shape_text(torch::zeros({7, feature_size})));
    const auto expected = torch::nn::functional::linear(features, weight, bias);
    const auto logits = model->forward(x);
    QVERIFY2(
        torch::equal(logits, expected),
        qPrintable(QString("max abs diff %1").arg((logits - expected).abs().max().item<double>())));
    QVERIFY(torch::equal(model->classify(features), logits));
}

// ---------------------------------------------------------------------------------------------
// Parity with torchvision

void TestModels::torchvisionParity_data() {
    QTest::addColumn<QString>("arch");
    QTest::newRow("resnet18") << "resnet18";
    QTest::newRow("resnet34") << "resnet34";
    QTest::newRow("resnet50") << "resnet50";
    QTest::newRow("vgg16_bn") << "vgg16_bn";
}

void TestModels::torchvisionParity() {
    QFETCH(QString, arch);
    const QString error = write_references();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    if (!references_skip_.isEmpty()) {
        QSKIP(qPrintable("no torchvision reference: " + references_skip_));
    }
    const auto file = [&](const QString& suffix) {
        return reference_dir_.filePath(arch + suffix).toStdString();
    };
    auto model = build(arch, 10, 3);

    QFile modules(QString::fromStdString(file("_modules.txt")));
    QVERIFY(modules.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList expected_modules = QString::fromUtf8(modules.readAll()).split('\n');
    QCOMPARE(module_names(*model) << QString(), expected_modules);

    // Strict: every name of torchvision's state dict, with its shape.
    wb::load_state_dict(*model, wb::read_state_dict(file("_weights.pt")));
    const auto io = wb::read_state_dict(file("_io.pt"));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto y = model->forward(io.at("input"));
    const auto& expected = io.at("output");
    QCOMPARE(shape_text(y), shape_text(expected));
    const double diff = (y - expected).abs().max().item<double>();
    qInfo("%s: max abs diff %.3g, output std %.3g", qPrintable(arch), diff,
          expected.std().item<double>());
    QVERIFY2(diff < 1e-4, qPrintable(QString("max abs diff %1").arg(diff)));
}

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
