// Fine-tuning: which parameters train in each mode (the others, and the running statistics of
// their batch norm, do not change), the backbone's rate relative to the head's under every
// schedule, and gradual unfreezing in real runs.

#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <filesystem>

#include "engine/experiment.h"
#include "engine/finetune.h"
#include "engine/models.h"
#include "engine/pretrained.h"
#include "engine/schedule.h"
#include "engine/state_dict.h"
#include "engine/train_schedule.h"
#include "engine/trainer.h"
#include "engine/training_setup.h"
#include "model_spec.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

namespace {

// Whether `name` starts with one of `prefixes`; "" matches every name.
bool listed(const std::string& name, const QStringList& prefixes) {
    for (const auto& p : prefixes) {
        if (name.rfind(p.toStdString(), 0) == 0) {
            return true;
        }
    }
    return false;
}

wb::StateDict cloned(const wb::StateDict& state) {
    wb::StateDict copy;
    for (const auto& [name, tensor] : state) {
        copy[name] = tensor.detach().clone();
    }
    return copy;
}

class Messages : public wb::Observer {
public:
    std::vector<std::string> info;
    std::vector<std::string> errors;
    void on_message(wb::Level level, const std::string& text) override {
        (level == wb::Level::Error ? errors : info).push_back(text);
    }
};

}  // namespace

class TestFineTune : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void frozenParametersDoNotChange_data();
    void frozenParametersDoNotChange();
    void backboneRateKeepsItsRatio_data();
    void backboneRateKeepsItsRatio();
    void fixedFeatureExtractorRunKeepsTheBackbone();
    void gradualUnfreezingTrainsTheBackboneLater();

private:
    wb::Experiment stripes_experiment(const std::string& name) const;

    QTemporaryDir dir_;
    fs::path data_;
};

void TestFineTune::initTestCase() {
    QVERIFY(dir_.isValid());
    torch::set_num_threads(1);
    data_ = fs::path(dir_.path().toStdString()) / "stripes";
    wb::test::write_stripes(data_ / "train", 32, 1);
    wb::test::write_stripes(data_ / "val", 8, 2);
    wb::test::write_stripes(data_ / "test", 8, 3);
}

// ---------------------------------------------------------------------------------------------
// One mode at a time: two SGD steps with momentum and weight decay (which would move a frozen
// parameter that got a zero gradient) on a random batch in training mode.

void TestFineTune::frozenParametersDoNotChange_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<int>("stages");
    QTest::addColumn<int>("unfreeze");
    QTest::addColumn<int>("epoch");
    QTest::addColumn<QStringList>("trained");  // prefixes of what trains; "" is everything

    QTest::newRow("resnet18 head only") << "resnet18"
                                        << "head" << 1 << 0 << 0 << QStringList{"fc."};
    QTest::newRow("resnet18 last stage")
        << "resnet18"
        << "last_stages" << 1 << 0 << 0 << QStringList{"fc.", "layer4."};
    QTest::newRow("resnet18 last two stages")
        << "resnet18"
        << "last_stages" << 2 << 0 << 0 << QStringList{"fc.", "layer4.", "layer3."};
    QTest::newRow("resnet18 every stage but the stem")
        << "resnet18"
        << "last_stages" << 4 << 0 << 0
        << QStringList{"fc.", "layer4.", "layer3.", "layer2.", "layer1."};
    QTest::newRow("resnet18 all") << "resnet18"
                                  << "all" << 1 << 0 << 0 << QStringList{""};
    QTest::newRow("resnet18 head, unfrozen at epoch 3, in epoch 2")
        << "resnet18"
        << "head" << 1 << 3 << 1 << QStringList{"fc."};
    QTest::newRow("resnet18 head, unfrozen at epoch 3, in epoch 3")
        << "resnet18"
        << "head" << 1 << 3 << 2 << QStringList{""};
    QTest::newRow("resnet50 last stage")
        << "resnet50"
        << "last_stages" << 1 << 0 << 0 << QStringList{"fc.", "layer4."};
    // The second block: conv 7, BN 8, conv 10, BN 11 of features.
    QTest::newRow("small_cnn last stage")
        << "small_cnn"
        << "last_stages" << 1 << 0 << 0
        << QStringList{"fc.", "features.7.", "features.8.", "features.10.", "features.11."};
    QTest::newRow("vgg16_bn head only") << "vgg16_bn"
                                        << "head" << 1 << 0 << 0 << QStringList{"classifier.6."};
    QTest::newRow("vgg16_bn last stage: the hidden linear layers")
        << "vgg16_bn"
        << "last_stages" << 1 << 0 << 0 << QStringList{"classifier."};
}

void TestFineTune::frozenParametersDoNotChange() {
    QFETCH(QString, arch);
    QFETCH(QString, mode);
    QFETCH(int, stages);
    QFETCH(int, unfreeze);
    QFETCH(int, epoch);
    QFETCH(QStringList, trained);

    wb::Experiment e;
    e.epochs = 3;
    e.preprocessing.image_size = 32;
    e.model.arch = arch.toStdString();
    e.model.finetune = mode.toStdString();
    e.model.stages = stages;
    e.model.unfreeze_epoch = unfreeze;
    e.optimizer.lr = 0.05;
    e.optimizer.momentum = 0.9;
    e.optimizer.weight_decay = 1e-3;
    wb::validate(e);
    torch::manual_seed(5);
    auto model = wb::make_model(wb::test::model_spec(e.model.arch, 4, 3));
    std::vector<double> factors;
    auto optimizer = wb::make_model_optimizer(*model, e, &factors);
    const std::int64_t trainable = wb::set_trainable(*model, e.model, epoch);
    model->train();
    const wb::StateDict before = cloned(wb::state_dict(*model));

    std::int64_t expected_trainable = 0;
    for (const auto& p : model->named_parameters()) {
        if (listed(p.key(), trained)) {
            expected_trainable += p.value().numel();
        }
    }
    QCOMPARE(trainable, expected_trainable);
    QCOMPARE(wb::parameter_count(*model, true), expected_trainable);

    for (int step = 0; step < 2; ++step) {
        model->zero_grad(/*set_to_none=*/true);
        const auto x = torch::randn({4, 3, 32, 32});
        torch::nn::functional::cross_entropy(model->forward(x), torch::tensor({0, 1, 2, 3}))
            .backward();
        optimizer->step();
    }
    int changed = 0;
    for (const auto& [name, tensor] : wb::state_dict(*model)) {
        const bool trains = listed(name, trained);
        const bool same = torch::equal(tensor, before.at(name));
        // Frozen: neither the weights nor the running statistics of batch norm move.
        QVERIFY2(trains || same, qPrintable(QString::fromStdString(name) + " changed"));
        if (trains && name.find("num_batches_tracked") == std::string::npos) {
            QVERIFY2(!same, qPrintable(QString::fromStdString(name) + " did not change"));
        }
        changed += !same;
    }
    QVERIFY(changed > 0);
}

// ---------------------------------------------------------------------------------------------

void TestFineTune::backboneRateKeepsItsRatio_data() {
    QTest::addColumn<QString>("policy");
    QTest::addColumn<int>("warmup");
    QTest::newRow("constant") << "constant" << 0;
    QTest::newRow("constant after a warm-up") << "constant" << 3;
    QTest::newRow("step") << "step" << 0;
    QTest::newRow("cosine") << "cosine" << 2;
    QTest::newRow("onecycle") << "onecycle" << 0;
}

// The head's group gets the schedule's rate, the backbone's the factor times it; one plain SGD
// step moves each parameter by its group's rate times its gradient.
void TestFineTune::backboneRateKeepsItsRatio() {
    QFETCH(QString, policy);
    QFETCH(int, warmup);
    wb::Experiment e;
    e.epochs = 4;
    e.model.arch = "small_cnn";
    e.model.backbone_lr_factor = 0.1;
    e.optimizer.lr = 0.2;
    e.optimizer.momentum = 0;
    e.optimizer.weight_decay = 0;
    e.schedule.policy = policy.toStdString();
    e.schedule.step_epochs = 1;
    e.schedule.gamma = 0.5;
    e.schedule.warmup_steps = warmup;
    e.schedule.cycle_momentum = false;
    wb::validate(e);
    const long long per_epoch = 3;
    const wb::Schedule schedule =
        wb::Schedule::make(wb::schedule_spec(e, per_epoch), 4 * per_epoch);

    torch::manual_seed(6);
    auto model = wb::make_model(wb::test::model_spec("small_cnn", 3, 1));
    std::vector<double> factors;
    auto optimizer = wb::make_model_optimizer(*model, e, &factors);
    QCOMPARE(factors, (std::vector<double>{1.0, 0.1}));
    auto& groups = optimizer->param_groups();
    QCOMPARE(int(groups.size()), 2);
    QCOMPARE(int(groups[0].params().size()), 2);  // fc.weight, fc.bias
    QVERIFY(groups[0].params()[0].is_same(model->named_parameters()["fc.weight"]));

    const auto head = model->named_parameters()["fc.weight"];
    const auto backbone = model->named_parameters()["features.0.weight"];
    for (long long step = 0; step < 4 * per_epoch; ++step) {
        const double lr = schedule.lr(step);
        const wb::AppliedSchedule applied = wb::apply_schedule(*optimizer, schedule, step, factors);
        QCOMPARE(applied.lr, lr);
        QCOMPARE(groups[0].options().get_lr(), lr);
        QCOMPARE(groups[1].options().get_lr(), lr * 0.1);

        model->zero_grad(/*set_to_none=*/true);
        torch::nn::functional::cross_entropy(model->forward(torch::randn({4, 1, 16, 16})),
                                             torch::tensor({0, 1, 2, 0}))
            .backward();
        const auto head_before = head.detach().clone();
        const auto backbone_before = backbone.detach().clone();
        optimizer->step();
        const auto head_expected = head_before - lr * head.grad();
        const auto backbone_expected = backbone_before - 0.1 * lr * backbone.grad();
        QVERIFY((head.detach() - head_expected).abs().max().item<double>() < 1e-6);
        QVERIFY((backbone.detach() - backbone_expected).abs().max().item<double>() < 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// Whole runs on the stripes dataset, from a first run's folder.

wb::Experiment TestFineTune::stripes_experiment(const std::string& name) const {
    wb::Experiment e;
    e.name = name;
    e.data.root = data_.string();
    e.preprocessing.image_size = 16;
    e.preprocessing.channels = 1;
    e.optimizer.lr = 0.05;
    e.epochs = 2;
    e.batch_size = 16;
    e.threads = 1;
    e.tensorboard.enabled = false;
    e.runs_dir = (fs::path(dir_.path().toStdString()) / "runs").string();
    return e;
}

void TestFineTune::fixedFeatureExtractorRunKeepsTheBackbone() {
    std::atomic<bool> cancel{false};
    Messages first_messages;
    const wb::RunResult first = wb::train(stripes_experiment("first"), first_messages, cancel);
    QCOMPARE(QString::fromStdString(first.status), QString("finished"));

    wb::Experiment e = stripes_experiment("head");
    e.model.weights = first.run_dir;
    e.model.finetune = "head";
    e.optimizer.lr = 0.5;
    Messages messages;
    const wb::RunResult head = wb::train(e, messages, cancel);
    QCOMPARE(QString::fromStdString(head.status), QString("finished"));
    QVERIFY(std::any_of(messages.info.begin(), messages.info.end(), [](const std::string& m) {
        return m.find("pretrained weights: ") != std::string::npos;
    }));

    const wb::StateDict pretrained =
        wb::read_weights((fs::path(first.run_dir) / "best.pt").string());
    for (const char* file : {"best.pt", "last.pt"}) {
        const wb::StateDict tuned = wb::read_weights((fs::path(head.run_dir) / file).string());
        for (const auto& [name, tensor] : pretrained) {
            const bool same = torch::equal(tuned.at(name), tensor);
            if (name.rfind("fc.", 0) == 0) {
                QVERIFY2(!same, name.c_str());
            } else {
                QVERIFY2(same, qPrintable(QString::fromStdString(name) + " changed in " + file));
            }
        }
    }
}

void TestFineTune::gradualUnfreezingTrainsTheBackboneLater() {
    std::atomic<bool> cancel{false};
    Messages first_messages;
    const wb::RunResult first = wb::train(stripes_experiment("base"), first_messages, cancel);
    QCOMPARE(QString::fromStdString(first.status), QString("finished"));

    wb::Experiment e = stripes_experiment("unfreeze");
    e.model.weights = first.run_dir;
    e.model.finetune = "head";
    e.model.unfreeze_epoch = 2;
    e.model.backbone_lr_factor = 0.5;
    Messages messages;
    const wb::RunResult run = wb::train(e, messages, cancel);
    QCOMPARE(QString::fromStdString(run.status), QString("finished"));
    QVERIFY(std::any_of(messages.info.begin(), messages.info.end(), [](const std::string& m) {
        return m.find("epoch 2: every layer trains from now on") != std::string::npos;
    }));
    const wb::StateDict pretrained =
        wb::read_weights((fs::path(first.run_dir) / "best.pt").string());
    const wb::StateDict last = wb::read_weights((fs::path(run.run_dir) / "last.pt").string());
    QVERIFY(!torch::equal(last.at("features.0.weight"), pretrained.at("features.0.weight")));
    QVERIFY(!torch::equal(last.at("features.1.running_mean"),
                          pretrained.at("features.1.running_mean")));
    // The saved experiment names the weights, so the run repeats.
    const wb::Experiment saved =
        wb::load_experiment((fs::path(run.run_dir) / "experiment.yaml").string());
    QCOMPARE(saved.model.weights, first.run_dir);
    QCOMPARE(saved.model.unfreeze_epoch, 2);
}

QTEST_GUILESS_MAIN(TestFineTune)
#include "tst_finetune.moc"
