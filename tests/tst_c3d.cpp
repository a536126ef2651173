// C3D with batch norm: fc6's input size from the paper (8192 for 16x112x112) and for smaller
// clips, output shapes for the standard input and smaller ones, and the parameter count of the
// same layout written independently in PyTorch (tests/python/c3d_reference.py).

#include <torch/torch.h>

#include <QFileInfo>
#include <QProcess>
#include <QtTest>

#include "engine/models.h"

namespace {

wb::ModelSpec spec(int frames, int size, double width, int channels, int classes) {
    wb::ModelSpec s;
    s.arch = "c3d_bn";
    s.clip_frames = frames;
    s.image_size = size;
    s.width = width;
    s.in_channels = channels;
    s.num_classes = classes;
    return s;
}

void add_specs() {
    QTest::addColumn<int>("frames");
    QTest::addColumn<int>("size");
    QTest::addColumn<double>("width");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("classes");
    QTest::addColumn<qint64>("flat");
    // The paper: 512 x 1 x 4 x 4 after pool5. The others by hand: time halves at pools 2 to 5
    // (a length of 1 is left alone), space at every pool, pool5 padded: floor(d / 2) + 1.
    QTest::newRow("paper 16x112x112") << 16 << 112 << 1.0 << 3 << 8 << qint64(8192);
    QTest::newRow("8x56x56, width 1/8") << 8 << 56 << 0.125 << 3 << 2 << qint64(64 * 2 * 2);
    QTest::newRow("4x32x32 gray, width 1/4") << 4 << 32 << 0.25 << 1 << 5 << qint64(128 * 2 * 2);
    QTest::newRow("1x16x16") << 1 << 16 << 0.125 << 3 << 2 << qint64(64);
    QTest::newRow("16x64x64, width 1/4") << 16 << 64 << 0.25 << 3 << 8 << qint64(128 * 3 * 3);
}

}  // namespace

class TestC3d : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::manual_seed(0); }
    void flattenedSize_data() { add_specs(); }
    void flattenedSize();
    void outputShape_data() { add_specs(); }
    void outputShape();
    void parameterCountMatchesPyTorch();
    void trainStepReachesEveryParameter();
    void layersAreConvBatchNormRelu();
};

void TestC3d::flattenedSize() {
    QFETCH(int, frames);
    QFETCH(int, size);
    QFETCH(double, width);
    QFETCH(int, channels);
    QFETCH(int, classes);
    QFETCH(qint64, flat);
    QCOMPARE(qint64(wb::c3d_flattened_size(spec(frames, size, width, channels, classes))), flat);
}

void TestC3d::outputShape() {
    QFETCH(int, frames);
    QFETCH(int, size);
    QFETCH(double, width);
    QFETCH(int, channels);
    QFETCH(int, classes);
    auto model = wb::make_model(spec(frames, size, width, channels, classes));
    model->eval();
    torch::NoGradGuard no_grad;
    // The paper's input at batch 2 costs seconds on a CPU; its shape is the same at batch 1.
    const std::int64_t batch = width == 1.0 ? 1 : 2;
    const torch::Tensor x = torch::randn({batch, channels, frames, size, size});
    const torch::Tensor features = model->features(x);
    QCOMPARE(features.sizes().vec(),
             (std::vector<std::int64_t>{batch, std::llround(4096 * width)}));
    QCOMPARE(model->feature_size(), std::llround(4096 * width));
    const torch::Tensor logits = model->classify(features);
    QCOMPARE(logits.sizes().vec(), (std::vector<std::int64_t>{batch, classes}));
    QVERIFY(torch::allclose(logits, model->forward(x)));
}

void TestC3d::parameterCountMatchesPyTorch() {
    const QString python = WB_PYTHON;
    if (!QFileInfo(python).isExecutable()) {
        QSKIP(qPrintable("no Python interpreter at WB_PYTHON=" + python));
    }
    struct Case {
        int frames, size;
        double width;
        int channels, classes;
    };
    const std::vector<Case> cases = {
        {16, 112, 1.0, 3, 8}, {8, 56, 0.125, 3, 2}, {4, 32, 0.25, 1, 5}, {1, 16, 0.125, 3, 2}};
    QStringList args = {QStringLiteral(WB_SOURCE_DIR) + "/tests/python/c3d_reference.py"};
    for (const Case& c : cases) {
        args << QString::number(c.frames) << QString::number(c.size) << QString::number(c.width)
             << QString::number(c.channels) << QString::number(c.classes);
    }
    QProcess process;
    process.start(python, args);
    QVERIFY(process.waitForFinished(300000));
    const QString err = QString::fromUtf8(process.readAllStandardError());
    if (process.exitCode() != 0 && err.contains("No module named 'torch'")) {
        QSKIP(qPrintable(python + " has no torch: " + err));
    }
    QVERIFY2(process.exitCode() == 0, qPrintable(err));
    const QStringList lines =
        QString::fromUtf8(process.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), qsizetype(cases.size()));
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const QStringList fields = lines[qsizetype(i)].split(' ');
        const wb::ModelSpec s = spec(c.frames, c.size, c.width, c.channels, c.classes);
        QCOMPARE(qint64(wb::c3d_flattened_size(s)), fields[0].toLongLong());
        auto model = wb::make_model(s);
        QCOMPARE(qint64(wb::parameter_count(*model)), fields[1].toLongLong());
        QCOMPARE(QString("1x%1").arg(c.classes), fields[2]);
    }
}

void TestC3d::trainStepReachesEveryParameter() {
    auto model = wb::make_model(spec(4, 16, 0.125, 3, 3));
    model->train();
    const torch::Tensor x = torch::randn({4, 3, 4, 16, 16});
    const torch::Tensor y = torch::tensor({0, 1, 2, 1}, torch::kLong);
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    for (const auto& p : model->named_parameters()) {
        QVERIFY2(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0,
                 p.key().c_str());
    }
}

void TestC3d::layersAreConvBatchNormRelu() {
    auto model = wb::make_model(spec(16, 112, 0.125, 3, 8));
    int convs = 0, norms = 0, pools = 0;
    std::string order;
    for (const auto& m : model->modules(/*include_self=*/false)) {
        if (m->as<torch::nn::Conv3d>()) {
            ++convs;
            order += "c";
        } else if (m->as<torch::nn::BatchNorm3d>()) {
            ++norms;
            order += "b";
        } else if (m->as<torch::nn::ReLU>()) {
            order += "r";
        } else if (m->as<torch::nn::MaxPool3d>()) {
            ++pools;
            order += "p";
        }
    }
    QCOMPARE(convs, 8);
    QCOMPARE(norms, 8);
    QCOMPARE(pools, 5);
    QCOMPARE(QString::fromStdString(order), QString("cbrpcbrpcbrcbrpcbrcbrpcbrcbrp"));
}

QTEST_GUILESS_MAIN(TestC3d)
#include "tst_c3d.moc"
