// The experiment file: defaults, exact round trips, and errors that point at the offending
// line and column.

#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <optional>

#include "engine/errors.h"
#include "engine/experiment.h"

using wb::ConfigError;
using wb::Experiment;

Q_DECLARE_METATYPE(Experiment)

namespace wb {
// QCOMPARE prints both experiments as YAML when they differ.
char* toString(const Experiment& experiment) {
    return qstrdup(to_yaml(experiment).c_str());
}
}  // namespace wb

namespace {

Experiment non_default_experiment() {
    Experiment e;
    e.name = "flowers resnet: run #2";
    e.data.root = "/data/my flowers";
    e.data.val_fraction = 0.15;
    e.data.test_fraction = 0.2;
    e.data.split_seed = 18446744073709551615ull;
    e.data.workers = 4;
    e.data.cache_mb = 0;
    e.data.verify_decode = false;
    e.model.arch = "resnet18";
    e.preprocessing.image_size = 224;
    e.preprocessing.resize = 256;
    e.preprocessing.random_crop = true;
    e.preprocessing.crop_padding = 4;
    e.preprocessing.hflip = true;
    e.preprocessing.channels = 3;
    e.preprocessing.normalize = "imagenet";
    e.preprocessing.mean = wb::kImageNetMean;
    e.preprocessing.std = wb::kImageNetStd;
    e.optimizer.type = "adamw";
    e.optimizer.lr = 3e-4;
    e.optimizer.momentum = 0.95;
    e.optimizer.nesterov = true;
    e.optimizer.weight_decay = 0.05;
    e.optimizer.beta1 = 0.85;
    e.optimizer.beta2 = 0.9999;
    e.optimizer.eps = 1e-10;
    e.schedule.policy = "multistep";
    e.schedule.step_epochs = 30;
    e.schedule.gamma = 0.5;
    e.schedule.milestones = {30, 60, 80};
    e.schedule.eta_min = 1e-5;
    e.schedule.pct_start = 0.25;
    e.schedule.div_factor = 10;
    e.schedule.final_div_factor = 100;
    e.schedule.three_phase = true;
    e.schedule.anneal = "linear";
    e.schedule.cycle_momentum = false;
    e.schedule.base_momentum = 0.8;
    e.schedule.max_momentum = 0.9;
    e.schedule.warmup_steps = 500;
    e.schedule.warmup_start_factor = 0.01;
    e.lr_finder.start_lr = 1e-6;
    e.lr_finder.end_lr = 1;
    e.lr_finder.num_iter = 300;
    e.lr_finder.mode = "linear";
    e.lr_finder.smooth_beta = 0.9;
    e.lr_finder.diverge_threshold = 0;
    e.lr_finder.loss = "val";
    e.lr_finder.val_batches = 8;
    e.epochs = 90;
    e.batch_size = 256;
    e.grad_accumulation = 4;
    e.seed = 0;
    e.threads = 2;
    e.device = "cuda:1";
    e.runs_dir = "C:\\runs\\\"quoted\"";
    return e;
}

// Parses `yaml` and returns the ConfigError it throws; fails the test when none is thrown.
std::optional<ConfigError> error_of(const QString& yaml) {
    try {
        wb::parse_experiment(yaml.toStdString(), "exp.yaml");
    } catch (const ConfigError& error) {
        return error;
    }
    return std::nullopt;
}

}  // namespace

class TestExperiment : public QObject {
    Q_OBJECT

private slots:
    void emptyFileGivesDefaults_data();
    void emptyFileGivesDefaults();
    void partialFileUsesDefaults();
    void oldScheduleSectionKeepsItsMeaning();
    void roundTrip_data();
    void roundTrip();
    void saveAndLoad();
    void writtenFileIsReadable();
    void badInput_data();
    void badInput();
    void fileNotFound();
    void validateWithoutPosition();
    void availableModels();
    void pretrainedWeightsBringTheirPreprocessing_data();
    void pretrainedWeightsBringTheirPreprocessing();
    void runFolderWeightsBringTheRunsPreprocessing();
};

void TestExperiment::emptyFileGivesDefaults_data() {
    QTest::addColumn<QString>("yaml");
    QTest::newRow("empty") << "";
    QTest::newRow("comment only") << "# nothing set\n";
    QTest::newRow("empty mapping") << "{}";
    QTest::newRow("empty sections") << "data:\noptimizer:\nschedule: {}\n";
}

void TestExperiment::emptyFileGivesDefaults() {
    QFETCH(QString, yaml);
    QCOMPARE(wb::parse_experiment(yaml.toStdString(), "exp.yaml"), Experiment{});
}

void TestExperiment::partialFileUsesDefaults() {
    const Experiment e = wb::parse_experiment(
        "epochs: 5\n"
        "optimizer:\n"
        "  lr: 0.1\n"
        "preprocessing:\n"
        "  channels: 3\n"
        "  mean: [0.5, 0.25, 0.125]\n"
        "  std: [1, 2, 3]\n",
        "exp.yaml");
    Experiment expected;
    expected.epochs = 5;
    expected.optimizer.lr = 0.1;
    expected.preprocessing.channels = 3;
    expected.preprocessing.mean = {0.5f, 0.25f, 0.125f};
    expected.preprocessing.std = {1.f, 2.f, 3.f};
    QCOMPARE(e, expected);
    QCOMPARE(e.optimizer.momentum, 0.9);
    QCOMPARE(e.data.split_seed, std::uint64_t(42));
}

void TestExperiment::oldScheduleSectionKeepsItsMeaning() {
    // A file written before the schedule had more than step decay.
    const Experiment e = wb::parse_experiment(
        "schedule:\n  policy: step\n  step_epochs: 2\n  gamma: 0.5\n", "old.yaml");
    Experiment expected;
    expected.schedule.policy = "step";
    expected.schedule.step_epochs = 2;
    expected.schedule.gamma = 0.5;
    QCOMPARE(e, expected);
    QCOMPARE(e.schedule.warmup_steps, 0);
    QVERIFY(e.schedule.milestones.empty());
}

void TestExperiment::roundTrip_data() {
    QTest::addColumn<Experiment>("experiment");
    QTest::newRow("defaults") << Experiment{};
    QTest::newRow("non-default values") << non_default_experiment();

    Experiment onecycle;
    onecycle.optimizer.lr = 0.4;
    onecycle.schedule.policy = "onecycle";
    onecycle.schedule.pct_start = 0.1 + 0.2;
    onecycle.schedule.final_div_factor = 1.0 / 3.0;
    onecycle.schedule.base_momentum = 0;
    onecycle.schedule.max_momentum = std::nextafter(1.0, 0.0);
    QTest::newRow("onecycle") << onecycle;

    Experiment control;
    control.device = "cuda:1";
    control.mixed_precision = true;
    control.checkpoint.every_steps = 250;
    control.checkpoint.every_minutes = 0.5;
    control.early_stopping.enabled = true;
    control.early_stopping.metric = "val_accuracy";
    control.early_stopping.patience = 3;
    control.early_stopping.min_delta = 1e-3;
    QTest::newRow("checkpoints, early stopping, device") << control;

    Experiment transfer;
    transfer.model.arch = "resnet50";
    transfer.model.weights = "/weights/resnet50 imagenet.pt";
    transfer.model.finetune = "last_stages";
    transfer.model.stages = 2;
    transfer.model.backbone_lr_factor = 0.1;
    transfer.model.unfreeze_epoch = 3;
    transfer.preprocessing.image_size = 96;  // written out, so not replaced by 224
    QTest::newRow("pretrained weights and fine-tuning") << transfer;

    Experiment cosine;
    cosine.schedule.policy = "cosine";
    cosine.schedule.eta_min = cosine.optimizer.lr;
    cosine.schedule.warmup_steps = 2147483647;
    cosine.schedule.warmup_start_factor = 1;
    cosine.schedule.milestones = {1};
    QTest::newRow("cosine with warm-up") << cosine;

    Experiment awkward;
    awkward.optimizer.lr = 0.1 + 0.2;
    awkward.optimizer.weight_decay = 1.0 / 3.0;
    awkward.optimizer.eps = std::numeric_limits<double>::denorm_min();
    awkward.data.val_fraction = 0.1;
    awkward.data.test_fraction = 1e-17;
    awkward.schedule.gamma = std::nextafter(1.0, 0.0);
    awkward.preprocessing.mean = {0.1f};
    awkward.preprocessing.std = {1.0f / 3.0f};
    QTest::newRow("awkward doubles") << awkward;

    Experiment strings;
    strings.name = "null";
    strings.data.root = "";
    strings.runs_dir = "123";
    strings.device = "cuda";
    QTest::newRow("strings a reader could misread") << strings;

    Experiment syntax;
    syntax.name = "...";
    syntax.data.root = "- x";
    syntax.runs_dir = "[a]: {b}";
    QTest::newRow("strings that look like YAML syntax") << syntax;

    Experiment text;
    text.name = "tab\there, newline\nthere, caf\xc3\xa9, # not a comment, key: value";
    text.runs_dir = " leading and trailing spaces ";
    QTest::newRow("strings with special characters") << text;

    Experiment video;
    video.model.arch = "c3d_bn";
    video.model.width = 0.125;
    video.preprocessing.clip_frames = 16;
    video.preprocessing.frame_stride = 2;
    video.preprocessing.clips_per_video = 3;
    video.preprocessing.clip_sampling = "uniform";
    video.data.disk_cache_mb = 0;
    video.data.cache_dir = "/tmp/clips";
    QTest::newRow("video clips and C3D") << video;
}

void TestExperiment::roundTrip() {
    QFETCH(Experiment, experiment);
    const std::string yaml = wb::to_yaml(experiment);
    QCOMPARE(wb::parse_experiment(yaml, "round-trip.yaml"), experiment);
}

void TestExperiment::saveAndLoad() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("experiment.yaml").toStdString();
    const Experiment e = non_default_experiment();
    wb::save_experiment(e, path);
    QCOMPARE(wb::load_experiment(path), e);
}

void TestExperiment::writtenFileIsReadable() {
    Experiment e;
    e.optimizer.lr = 3e-4;
    const QString yaml = QString::fromStdString(wb::to_yaml(e));
    QVERIFY(yaml.startsWith("#"));
    QVERIFY(yaml.contains("\noptimizer:\n"));
    QVERIFY2(yaml.contains("  lr: 0.0003"), qPrintable(yaml));
    QVERIFY2(yaml.contains("  weight_decay: 0.0005"), qPrintable(yaml));
    QVERIFY2(yaml.contains("\nname: experiment\n"), qPrintable(yaml));
    QVERIFY2(yaml.contains("  mean: []"), qPrintable(yaml));
    QVERIFY2(yaml.contains("  milestones: []"), qPrintable(yaml));
    QVERIFY2(yaml.contains("the peak rate is optimizer.lr"), qPrintable(yaml));
}

void TestExperiment::badInput_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("fragment");

    // Keys
    QTest::newRow("unknown key lists the allowed ones")
        << "epochs: 3\ncolour: red\n"
        << 2 << 1 << "unknown key 'colour' (allowed: name, data,";
    QTest::newRow("typo at the top level") << "epoch: 3\n" << 1 << 1 << "did you mean 'epochs'?";
    QTest::newRow("typo in a section")
        << "optimizer:\n  type: sgd\n  wieght_decay: 0.1\n"
        << 3 << 3 << "unknown key 'wieght_decay' in 'optimizer'; did you mean 'weight_decay'?";
    QTest::newRow("key in the wrong section")
        << "lr: 0.1\n"
        << 1 << 1 << "unknown key 'lr'; it belongs in the 'optimizer' section (allowed: name,";
    QTest::newRow("top-level key inside a section")
        << "data:\n  epochs: 3\n"
        << 2 << 3 << "unknown key 'epochs' in 'data'; it belongs at the top level";
    QTest::newRow("duplicate key") << "epochs: 3\nseed: 1\nepochs: 4\n"
                                   << 3 << 1 << "duplicate key 'epochs'";

    // Types
    QTest::newRow("c3d_bn without clips") << "model:\n  arch: c3d_bn\n"
                                          << 2 << 9 << "c3d_bn classifies video clips";
    QTest::newRow("clips for an image model")
        << "model:\n  arch: resnet18\npreprocessing:\n  clip_frames: 16\n"
        << 2 << 9 << "resnet18 classifies images, not clips";
    QTest::newRow("unknown clip sampling")
        << "model:\n  arch: c3d_bn\npreprocessing:\n  clip_frames: 8\n  clip_sampling: middle\n"
        << 5 << 18 << "unknown clip sampling 'middle'";
    QTest::newRow("zero width")
        << "model:\n  arch: c3d_bn\n  width: 0\npreprocessing:\n  clip_frames: 8\n"
        << 3 << 10 << "model.width";
    QTest::newRow("word for an integer") << "epochs: three\n"
                                         << 1 << 9 << "'epochs' expects an integer, got 'three'";
    QTest::newRow("fraction for an integer") << "batch_size: 6.5\n"
                                             << 1 << 13 << "'batch_size' expects an integer";
    QTest::newRow("quoted number") << "epochs: \"3\"\n"
                                   << 1 << 9 << "expects an integer, got the quoted string \"3\"";
    QTest::newRow("integer out of range") << "epochs: 99999999999\n"
                                          << 1 << 9 << "'epochs' is out of range";
    QTest::newRow("negative seed") << "seed: -1\n"
                                   << 1 << 7 << "'seed' expects a non-negative integer";
    QTest::newRow("word for a number") << "optimizer:\n  lr: fast\n"
                                       << 2 << 7 << "'optimizer.lr' expects a number";
    QTest::newRow("word for a boolean") << "data:\n  verify_decode: maybe\n"
                                        << 2 << 18 << "expects true or false";
    QTest::newRow("list for text") << "name: [a, b]\n"
                                   << 1 << 7 << "'name' expects text, got a list";
    QTest::newRow("number for a list") << "preprocessing:\n  mean: 0.5\n"
                                       << 2 << 9 << "expects a list of numbers";
    QTest::newRow("word in a list") << "preprocessing:\n  channels: 3\n  mean: [0.5, x, 0.5]\n"
                                    << 3 << 15 << "'preprocessing.mean' expects numbers, got 'x'";
    QTest::newRow("section not a mapping") << "name: a\ndata: 5\n"
                                           << 2 << 7 << "'data' must be a mapping";
    QTest::newRow("top level is a list")
        << "- epochs: 3\n"
        << 1 << 1 << "mapping of settings (key: value) at the top level";
    QTest::newRow("top level is text") << "just some text\n"
                                       << 1 << 1 << "at the top level, got 'just some text'";

    // Values
    QTest::newRow("negative lr") << "optimizer:\n  lr: -0.1\n"
                                 << 2 << 7 << "optimizer.lr must be positive, got -0.1";
    QTest::newRow("fractions summing to 1") << "data:\n  val_fraction: 0.5\n  test_fraction: 0.5\n"
                                            << 3 << 18 << "must be below 1";
    QTest::newRow("fraction of 1") << "data:\n  val_fraction: 1\n"
                                   << 2 << 17 << "data.val_fraction must be in [0, 1)";
    QTest::newRow("unknown arch") << "model:\n  arch: resnet19\n"
                                  << 2 << 9
                                  << "unknown architecture 'resnet19'; did you mean 'resnet18'?";
    QTest::newRow("unknown optimizer")
        << "optimizer:\n  type: rmsprop\n"
        << 2 << 9 << "unknown optimizer 'rmsprop' (allowed: sgd, adam, adamw)";
    QTest::newRow("unknown policy")
        << "schedule:\n  policy: cosin\n"
        << 2 << 11
        << "unknown schedule policy 'cosin'; did you mean 'cosine'? (allowed: constant, step, "
           "multistep, cosine, onecycle)";
    QTest::newRow("unknown normalization") << "preprocessing:\n  normalize: imagenett\n"
                                           << 2 << 14 << "did you mean 'imagenet'?";
    QTest::newRow("two channels") << "preprocessing:\n  channels: 2\n"
                                  << 2 << 13 << "channels must be 1 or 3, got 2";
    QTest::newRow("mean does not match channels")
        << "preprocessing:\n  channels: 3\n  mean: [0.5]\n  std: [0.5]\n"
        << 3 << 9 << "one value per channel (3), got 1";
    QTest::newRow("std without mean") << "preprocessing:\n  std: [0.5]\n"
                                      << 2 << 8 << "must be given together";
    QTest::newRow("zero std") << "preprocessing:\n  mean: [0.5]\n  std: [0]\n"
                              << 3 << 8 << "must be positive";
    QTest::newRow("resize below image size")
        << "preprocessing:\n  image_size: 224\n  resize: 200\n"
        << 3 << 11 << "at least preprocessing.image_size (224)";
    QTest::newRow("zero batch size") << "batch_size: 0\n"
                                     << 1 << 13 << "batch_size must be at least 2, got 0";
    QTest::newRow("batch of one image for batch norm")
        << "batch_size: 1\n"
        << 1 << 13 << "batch_size must be at least 2, got 1";
    QTest::newRow("image too small for vgg16_bn")
        << "model:\n  arch: vgg16_bn\npreprocessing:\n  image_size: 28\n"
        << 4 << 15 << "vgg16_bn needs images of at least 32 pixels, got 28";
    QTest::newRow("zero epochs") << "epochs: 0\n" << 1 << 9 << "epochs must be at least 1";
    QTest::newRow("nesterov without momentum")
        << "optimizer:\n  momentum: 0\n  nesterov: true\n"
        << 3 << 13 << "nesterov needs optimizer.momentum above 0";
    QTest::newRow("gamma above 1") << "schedule:\n  gamma: 2\n"
                                   << 2 << 10 << "schedule.gamma must be in (0, 1]";
    QTest::newRow("milestones not a list")
        << "schedule:\n  milestones: 30\n"
        << 2 << 15 << "'schedule.milestones' expects a list of integers such as [30, 60]";
    QTest::newRow("word in milestones")
        << "schedule:\n  milestones: [30, x]\n"
        << 2 << 20 << "'schedule.milestones' expects an integer, got 'x'";
    QTest::newRow("milestones not increasing")
        << "schedule:\n  policy: multistep\n  milestones: [30, 20]\n"
        << 3 << 15
        << "schedule.milestones must be positive and increasing epochs, got 20 at "
           "position 2";
    QTest::newRow("zero milestone") << "schedule:\n  milestones: [0, 20]\n"
                                    << 2 << 15 << "got 0 at position 1";
    QTest::newRow("multistep without milestones")
        << "schedule:\n  policy: multistep\n"
        << 2 << 11 << "schedule.milestones: multistep needs at least one epoch";
    QTest::newRow("negative eta_min") << "schedule:\n  eta_min: -1\n"
                                      << 2 << 12 << "schedule.eta_min must be non-negative";
    QTest::newRow("eta_min above the rate of cosine")
        << "optimizer:\n  lr: 0.01\nschedule:\n  policy: cosine\n  eta_min: 0.1\n"
        << 5 << 12 << "schedule.eta_min (0.1) must not exceed optimizer.lr (0.01)";
    QTest::newRow("pct_start of 1") << "schedule:\n  pct_start: 1\n"
                                    << 2 << 14 << "schedule.pct_start must be in (0, 1), got 1";
    QTest::newRow("zero div_factor") << "schedule:\n  div_factor: 0\n"
                                     << 2 << 15 << "schedule.div_factor must be positive, got 0";
    QTest::newRow("negative final_div_factor")
        << "schedule:\n  final_div_factor: -2\n"
        << 2 << 21 << "schedule.final_div_factor must be positive, got -2";
    QTest::newRow("unknown anneal")
        << "schedule:\n  anneal: cosine\n"
        << 2 << 11 << "unknown annealing 'cosine' (allowed: cos, linear)";
    QTest::newRow("word for three_phase") << "schedule:\n  three_phase: 3\n"
                                          << 2 << 16 << "expects true or false";
    QTest::newRow("max_momentum of 1")
        << "schedule:\n  max_momentum: 1\n"
        << 2 << 17 << "schedule.max_momentum must be in [0, 1), got 1";
    QTest::newRow("base_momentum above max_momentum")
        << "schedule:\n  base_momentum: 0.96\n"
        << 2 << 18 << "schedule.base_momentum (0.96) must not exceed schedule.max_momentum (0.95)";
    QTest::newRow("warm-up for onecycle")
        << "schedule:\n  policy: onecycle\n  warmup_steps: 100\n"
        << 3 << 17 << "schedule.warmup_steps must be 0 for onecycle";
    QTest::newRow("zero grad_accumulation")
        << "grad_accumulation: 0\n"
        << 1 << 20 << "grad_accumulation must be at least 1, got 0";
    QTest::newRow("range test ending below its start")
        << "lr_finder:\n  start_lr: 0.1\n  end_lr: 0.01\n"
        << 3 << 11 << "lr_finder.end_lr (0.01) must be above lr_finder.start_lr (0.1)";
    QTest::newRow("range test of one step")
        << "lr_finder:\n  num_iter: 1\n"
        << 2 << 13 << "lr_finder.num_iter must be at least 2, got 1";
    QTest::newRow("unknown range test spacing")
        << "lr_finder:\n  mode: log\n"
        << 2 << 9 << "unknown rate spacing 'log' (allowed: exponential, linear)";
    QTest::newRow("range test smoothing of 1")
        << "lr_finder:\n  smooth_beta: 1\n"
        << 2 << 16 << "lr_finder.smooth_beta must be in [0, 1), got 1";
    QTest::newRow("divergence threshold below 1")
        << "lr_finder:\n  diverge_threshold: 0.5\n"
        << 2 << 22 << "lr_finder.diverge_threshold must be above 1";
    QTest::newRow("unknown range test loss")
        << "lr_finder:\n  loss: test\n"
        << 2 << 9 << "unknown loss 'test' (allowed: train, val)";
    QTest::newRow("negative warm-up")
        << "schedule:\n  warmup_steps: -5\n"
        << 2 << 17 << "schedule.warmup_steps must be at least 0, got -5";
    QTest::newRow("fractional warm-up") << "schedule:\n  warmup_steps: 2.5\n"
                                        << 2 << 17 << "'schedule.warmup_steps' expects an integer";
    QTest::newRow("zero warm-up start")
        << "schedule:\n  warmup_start_factor: 0\n"
        << 2 << 24 << "schedule.warmup_start_factor must be in (0, 1], got 0";
    QTest::newRow("unknown device")
        << "device: gpu\n"
        << 1 << 9 << "device must be auto, cpu, cuda or cuda:N, got 'gpu'";
    QTest::newRow("mixed precision on the CPU") << "device: cpu\nmixed_precision: true\n"
                                                << 2 << 18 << "mixed_precision needs a CUDA device";
    QTest::newRow("zero patience") << "early_stopping:\n  patience: 0\n"
                                   << 2 << 13 << "early_stopping.patience must be at least 1";
    QTest::newRow("unknown stopping metric")
        << "early_stopping:\n  metric: accuracy\n"
        << 2 << 11 << "unknown metric 'accuracy' (allowed: val_loss, val_accuracy)";
    QTest::newRow("negative checkpoint interval")
        << "checkpoint:\n  every_minutes: -1\n"
        << 2 << 18 << "checkpoint.every_minutes must be non-negative, got -1";

    // Fine-tuning
    QTest::newRow("unknown fine-tuning mode")
        << "model:\n  finetune: heads\n"
        << 2 << 13 << "model.finetune: unknown fine-tuning mode 'heads'; did you mean 'head'?";
    QTest::newRow("zero stages") << "model:\n  finetune: last_stages\n  stages: 0\n"
                                 << 3 << 11 << "model.stages must be at least 1, got 0";
    QTest::newRow("more stages than resnet18 has")
        << "model:\n  arch: resnet18\n  finetune: last_stages\n  stages: 6\n"
        << 4 << 11 << "model.stages: resnet18 has 5 backbone stages, got 6";
    QTest::newRow("backbone factor of 0") << "model:\n  backbone_lr_factor: 0\n"
                                          << 2 << 23 << "must be in (0, 1], got 0";
    QTest::newRow("backbone faster than the head") << "model:\n  backbone_lr_factor: 1.5\n"
                                                   << 2 << 23 << "must be in (0, 1], got 1.5";
    QTest::newRow("unfreezing with every layer training")
        << "epochs: 5\nmodel:\n  unfreeze_epoch: 2\n"
        << 3 << 19 << "model.unfreeze_epoch needs model.finetune: head or last_stages";
    QTest::newRow("unfreezing at the first epoch")
        << "model:\n  finetune: head\n  unfreeze_epoch: 1\n"
        << 3 << 19 << "must be 0 (never) or an epoch from 2 to epochs (3), got 1";
    QTest::newRow("unfreezing after the last epoch")
        << "epochs: 4\nmodel:\n  finetune: head\n  unfreeze_epoch: 5\n"
        << 4 << 19 << "from 2 to epochs (4), got 5";

    // Syntax
    QTest::newRow("unclosed list") << "epochs: 3\nseed: [1, 2\n" << 3 << 1 << "YAML syntax error";
    QTest::newRow("bad indentation") << "data:\n  root: a\n workers: 2\n"
                                     << 3 << 2 << "YAML syntax error";
}

void TestExperiment::badInput() {
    QFETCH(QString, yaml);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, fragment);

    const auto error = error_of(yaml);
    QVERIFY2(error, "no ConfigError thrown");
    const QString what = QString::fromStdString(error->what());
    QVERIFY2(what.contains(fragment), qPrintable(what));
    QCOMPARE(error->source(), std::string("exp.yaml"));
    QCOMPARE(error->line(), line);
    QCOMPARE(error->column(), column);
    QVERIFY2(what.startsWith(QString("exp.yaml:%1:%2: ").arg(line).arg(column)), qPrintable(what));
}

void TestExperiment::fileNotFound() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("missing.yaml").toStdString();
    try {
        wb::load_experiment(path);
        QFAIL("no ConfigError thrown");
    } catch (const ConfigError& error) {
        QCOMPARE(error.source(), path);
        QCOMPARE(error.line(), 0);
        QCOMPARE(error.column(), 0);
        QVERIFY2(QString(error.what()).contains("cannot open"), error.what());
    }
}

void TestExperiment::validateWithoutPosition() {
    Experiment e;
    wb::validate(e);
    e.data.val_fraction = 0.6;
    e.data.test_fraction = 0.4;
    try {
        wb::validate(e);
        QFAIL("no ConfigError thrown");
    } catch (const ConfigError& error) {
        QCOMPARE(error.line(), 0);
        QCOMPARE(error.column(), 0);
        QVERIFY2(QString(error.what()).contains("must be below 1"), error.what());
    }
}

void TestExperiment::availableModels() {
    const auto& models = wb::available_models();
    QCOMPARE(models, (std::vector<std::string>{"small_cnn", "resnet18", "resnet34", "resnet50",
                                               "vgg16_bn", "c3d_bn", "torchscript"}));
}

// ImageNet's preprocessing for a weights file, except for the keys the file sets.
void TestExperiment::pretrainedWeightsBringTheirPreprocessing_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QString>("normalize");
    const QString weights = "model:\n  arch: resnet18\n  weights: r18.pt\n";
    QTest::newRow("nothing set") << weights << 224 << 3 << "imagenet";
    QTest::newRow("a smaller size") << weights + "preprocessing:\n  image_size: 32\n"
                                    << 32 << 3 << "imagenet";
    QTest::newRow("gray, own statistics")
        << weights + "preprocessing:\n  channels: 1\n  normalize: dataset\n"
        << 224 << 1 << "dataset";
    QTest::newRow("random weights keep the defaults") << "model:\n  arch: resnet18\n"
                                                      << 28 << 1 << "dataset";
}

void TestExperiment::pretrainedWeightsBringTheirPreprocessing() {
    QFETCH(QString, yaml);
    QFETCH(int, size);
    QFETCH(int, channels);
    QFETCH(QString, normalize);
    const Experiment e = wb::parse_experiment(yaml.toStdString(), "exp.yaml");
    QCOMPARE(e.preprocessing.image_size, size);
    QCOMPARE(e.preprocessing.channels, channels);
    QCOMPARE(QString::fromStdString(e.preprocessing.normalize), normalize);
    QVERIFY(e.preprocessing.mean.empty());
}

void TestExperiment::runFolderWeightsBringTheRunsPreprocessing() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Experiment run;
    run.preprocessing.image_size = 32;
    run.preprocessing.channels = 1;
    run.preprocessing.normalize = "dataset";
    run.preprocessing.mean = {0.286f};
    run.preprocessing.std = {0.353f};
    run.preprocessing.hflip = true;  // augmentation is not the weights' business
    wb::save_experiment(run, dir.filePath("experiment.yaml").toStdString());

    const std::string yaml = "model:\n  arch: resnet18\n  weights: " + dir.path().toStdString() +
                             "\npreprocessing:\n  random_crop: true\n";
    const Experiment e = wb::parse_experiment(yaml, "exp.yaml");
    QCOMPARE(e.preprocessing.image_size, 32);
    QCOMPARE(e.preprocessing.channels, 1);
    QCOMPARE(e.preprocessing.mean, std::vector<float>{0.286f});
    QCOMPARE(e.preprocessing.std, std::vector<float>{0.353f});
    QVERIFY(!e.preprocessing.hflip);
    QVERIFY(e.preprocessing.random_crop);
}

QTEST_GUILESS_MAIN(TestExperiment)
#include "tst_experiment.moc"
