// The learning-rate range test: the rate schedule, the smoothing, the stopping rules and the
// suggestions on made-up curves; then a real test on a tiny model, which must recycle a short
// loader and leave the model, the optimizer and torch's RNG bit for bit as they were.

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

#include "engine/loader.h"
#include "engine/lr_finder.h"
#include "engine/models.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using wb::test::write_stripes;

std::unique_ptr<wb::Loader> make_loader(std::vector<wb::Sample> samples, int batch_size) {
    wb::Preprocessing pre;
    pre.image_size = 16;
    pre.channels = 1;
    pre.normalize = "none";
    wb::LoaderOptions lo;
    lo.batch_size = batch_size;
    lo.workers = 0;
    lo.seed = 7;
    return std::make_unique<wb::Loader>(std::move(samples), pre, lo);
}

/// A typical range-test curve over log10(lr) in [-7, 1]: flat, a long fall around 1e-3,
/// a bottom near 1e-1, then a blow-up.
std::vector<double> valley_curve(const std::vector<double>& lrs) {
    std::vector<double> y;
    for (double lr : lrs) {
        const double x = std::log10(lr);
        y.push_back(2.3 - 2.0 / (1 + std::exp(-2 * (x + 3))) + std::exp(3 * (x + 0.5)));
    }
    return y;
}

struct Suggestions {
    std::optional<double> steepest, valley, min_div10;
};

Suggestions suggest(const std::vector<double>& lrs, const std::vector<double>& smoothed) {
    return {wb::suggest_steepest(lrs, smoothed), wb::suggest_valley(lrs, smoothed),
            wb::suggest_min_div10(lrs, smoothed)};
}

torch::Tensor bytes(const torch::Tensor& t) {
    return t.contiguous().reshape({-1}).view(at::kByte);
}

/// Bitwise equality of two tensors, undefined equal to undefined only.
bool same(const torch::Tensor& a, const torch::Tensor& b) {
    if (a.defined() != b.defined()) {
        return false;
    }
    return !a.defined() ||
           (a.sizes() == b.sizes() && a.dtype() == b.dtype() && torch::equal(bytes(a), bytes(b)));
}

std::vector<torch::Tensor> deep_copy(const std::vector<torch::Tensor>& tensors) {
    std::vector<torch::Tensor> out;
    for (const auto& t : tensors) {
        out.push_back(t.defined() ? t.detach().clone() : torch::Tensor());
    }
    return out;
}

std::vector<torch::Tensor> grads_of(const torch::nn::Module& model) {
    std::vector<torch::Tensor> out;
    for (const auto& p : model.parameters()) {
        out.push_back(p.grad());
    }
    return out;
}

/// The per-parameter optimizer state as tensors, in parameter order (SGD or Adam).
std::vector<torch::Tensor> optimizer_state(torch::optim::Optimizer& opt) {
    std::vector<torch::Tensor> out;
    for (const auto& group : opt.param_groups()) {
        for (const auto& p : group.params()) {
            const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
            auto it = opt.state().find(key);
            if (it == opt.state().end()) {
                out.emplace_back();
                continue;
            }
            if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
                out.push_back(s->momentum_buffer().clone());
            } else {
                auto& a = dynamic_cast<torch::optim::AdamParamState&>(*it->second);
                out.push_back(torch::tensor({a.step()}, torch::kInt64));
                out.push_back(a.exp_avg().clone());
                out.push_back(a.exp_avg_sq().clone());
            }
        }
    }
    return out;
}

/// The batches a range test of `steps` optimizer steps, `accumulate` batches each, takes from a
/// loader like `loader` (same samples and options): read from a twin, recycling it the same way.
std::vector<wb::Batch> batches_of(wb::Loader& twin, int count) {
    std::vector<wb::Batch> out;
    int epoch = 0;
    twin.start_epoch(epoch);
    while (static_cast<int>(out.size()) < count) {
        auto batch = twin.next();
        if (!batch) {
            twin.start_epoch(++epoch);
            continue;
        }
        out.push_back(std::move(*batch));
    }
    return out;
}

torch::Tensor cpu_rng_state() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
}

}  // namespace

class TestLrFinder : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { at::set_num_threads(2); }

    void lrRangeExponentialHitsBothEndsWithOneRatio() {
        wb::LrFinderOptions o;  // 1e-7 .. 10, 100 steps
        const auto lrs = wb::lr_range(o);
        QCOMPARE(lrs.size(), size_t(100));
        QCOMPARE(lrs.front(), 1e-7);
        QCOMPARE(lrs.back(), 10.0);
        const double ratio = std::pow(10.0 / 1e-7, 1.0 / 99);
        for (size_t i = 1; i < lrs.size(); ++i) {
            QVERIFY2(std::abs(lrs[i] / lrs[i - 1] / ratio - 1) < 1e-12,
                     qPrintable(QString("step %1").arg(i)));
        }
    }

    void lrRangeLinear() {
        wb::LrFinderOptions o;
        o.start = 0.01;
        o.end = 1.0;
        o.num_iter = 34;
        o.exponential = false;
        const auto lrs = wb::lr_range(o);
        QCOMPARE(lrs.size(), size_t(34));
        QCOMPARE(lrs.front(), 0.01);
        QCOMPARE(lrs.back(), 1.0);
        for (size_t i = 1; i < lrs.size(); ++i) {
            QVERIFY(std::abs(lrs[i] - lrs[i - 1] - 0.99 / 33) < 1e-12);
        }
        o.num_iter = 1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::lr_range(o));
    }

    void smoothingOfConstantIsConstant() {
        const std::vector<double> raw(60, 2.5);
        for (double beta : {0.0, 0.5, 0.98}) {
            const auto s = wb::smooth_losses(raw, beta);
            for (size_t i = 0; i < s.size(); ++i) {
                QVERIFY2(std::abs(s[i] - 2.5) < 1e-12, qPrintable(QString("point %1").arg(i)));
            }
        }
    }

    void smoothingSkipsNonFinite() {
        const double inf = std::numeric_limits<double>::infinity();
        const auto s = wb::smooth_losses({1.0, kNaN, 1.0, inf, 1.0}, 0.9);
        QVERIFY(std::isnan(s[1]));
        QVERIFY(std::isnan(s[3]));
        for (size_t i : {0, 2, 4}) {
            QVERIFY(std::abs(s[i] - 1.0) < 1e-12);
        }
    }

    void nanAtEndDoesNotMoveSuggestions() {
        auto lrs = wb::lr_range({});
        auto raw = valley_curve(lrs);
        const Suggestions before = suggest(lrs, wb::smooth_losses(raw, 0.98));
        QVERIFY(before.steepest && before.valley && before.min_div10);
        lrs.push_back(20.0);
        raw.push_back(kNaN);
        const Suggestions after = suggest(lrs, wb::smooth_losses(raw, 0.98));
        QCOMPARE(after.steepest, before.steepest);
        QCOMPARE(after.valley, before.valley);
        QCOMPARE(after.min_div10, before.min_div10);
    }

    void suggestionsFallInTheValley() {
        const auto lrs = wb::lr_range({});
        const auto smoothed = valley_curve(lrs);  // already smooth
        const Suggestions s = suggest(lrs, smoothed);
        // Steepest fall of the logistic at 1e-3; minimum near 1e-1 (so min/10 near 1e-2).
        QVERIFY2(std::abs(std::log10(*s.steepest) + 3) < 0.2,
                 qPrintable(QString::number(*s.steepest)));
        QVERIFY(*s.valley > 1e-5 && *s.valley < 1e-1);
        QVERIFY(*s.min_div10 > 1e-3 && *s.min_div10 < 1e-1);
    }

    void earlySpikeIsNotSteepest() {
        const auto lrs = wb::lr_range({});
        auto smoothed = valley_curve(lrs);
        smoothed[2] += 50;  // falls from 52 to 2 in one step: steeper than anything after
        const auto unskipped = wb::suggest_steepest(lrs, smoothed, 0, 5);
        QVERIFY(unskipped && *unskipped <= lrs[3]);  // without the skip, the spike wins
        const auto steepest = wb::suggest_steepest(lrs, smoothed);
        QVERIFY(steepest);
        QVERIFY2(std::abs(std::log10(*steepest) + 3) < 0.2, qPrintable(QString::number(*steepest)));
    }

    void fallAfterMinimumIsNotSteepest() {
        std::vector<double> lrs = wb::lr_range({});
        std::vector<double> smoothed;
        for (size_t i = 0; i < lrs.size(); ++i) {
            // Slow fall to a minimum at 60, a rise to 3.7, then a cliff to 2.5 at 80.
            smoothed.push_back(i <= 60 ? 3.0 - 0.02 * i : i < 80 ? 1.8 + 0.1 * (i - 60) : 2.5);
        }
        const auto steepest = wb::suggest_steepest(lrs, smoothed, 0, 0);
        QVERIFY(steepest);
        QVERIFY2(*steepest <= lrs[60], qPrintable(QString::number(*steepest)));
    }

    void fewerThanTwoFinitePointsSuggestNothing_data() {
        QTest::addColumn<std::vector<double>>("smoothed");
        QTest::newRow("empty") << std::vector<double>{};
        QTest::newRow("one") << std::vector<double>{1.0};
        QTest::newRow("one among NaN") << std::vector<double>{kNaN, 1.0, kNaN};
    }

    void fewerThanTwoFinitePointsSuggestNothing() {
        QFETCH(std::vector<double>, smoothed);
        std::vector<double> lrs;
        for (size_t i = 0; i < smoothed.size(); ++i) {
            lrs.push_back(1e-3 * (i + 1));
        }
        const Suggestions s = suggest(lrs, smoothed);
        QVERIFY(!s.steepest);
        QVERIFY(!s.valley);
        QVERIFY(!s.min_div10);
        QVERIFY(!wb::suggest_steepest(lrs, smoothed, 0, 0));
    }

    void negativeLossesDoNotStopTheTest() {
        QVERIFY(!wb::diverged(-9.0, -10.0, 5.0));
        QVERIFY(!wb::diverged(29.0, -10.0, 5.0));
        QVERIFY(wb::diverged(31.0, -10.0, 5.0));
        QVERIFY(wb::diverged(5.1, 1.0, 5.0));
        QVERIFY(!wb::diverged(4.9, 1.0, 5.0));
        QVERIFY(!wb::diverged(1e6, 1.0, 0.0));  // off

        wb::LrRangeRecorder recorder({});
        const auto lrs = wb::lr_range({});
        for (size_t i = 0; i < lrs.size(); ++i) {
            QVERIFY2(recorder.record(lrs[i], -10.0 - 0.1 * std::sin(0.3 * i)),
                     qPrintable(QString("stopped at %1").arg(i)));
        }
        QCOMPARE(recorder.finish().stop_reason, std::string("completed"));
    }

    void recorderStopsOnDivergenceAndNonFinite() {
        wb::LrRangeRecorder rising({});
        int steps = 0;
        while (rising.record(1e-3, std::exp(0.2 * steps)) && steps < 1000) {
            ++steps;
        }
        QCOMPARE(rising.stop_reason(), std::string("diverged"));

        wb::LrRangeRecorder nan({});
        QVERIFY(nan.record(1e-3, 1.0));
        QVERIFY(!nan.record(1e-2, kNaN));
        const auto r = nan.finish();
        QCOMPARE(r.stop_reason, std::string("non-finite loss"));
        QCOMPARE(r.losses.size(), size_t(2));
        QVERIFY(std::isnan(r.smoothed[1]));
    }

    void shortLoaderIsRecycled() {
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString(), 8, 1), 8);  // 2 batches
        QCOMPARE(loader->num_batches(), size_t(2));
        torch::manual_seed(3);
        auto model = wb::make_small_cnn(1, 2);
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
        wb::LrFinderOptions o;
        o.start = 1e-5;
        o.end = 1e-2;
        o.num_iter = 7;
        o.diverge_threshold = 0;
        std::atomic<bool> cancel{false};
        int calls = 0;
        const auto r = wb::range_test(*model, opt, *loader, o, cancel,
                                      [&](const wb::LrFinderStep&) { ++calls; });
        QCOMPARE(r.stop_reason, std::string("completed"));
        QCOMPARE(r.lrs.size(), size_t(7));
        QCOMPARE(r.losses.size(), size_t(7));
        QCOMPARE(calls, 7);
        QCOMPARE(r.lrs, wb::lr_range(o));
    }

    // A backbone trained slower than the head: each step's rate times the group's factor.
    void backboneGroupKeepsItsFactor() {
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString(), 8, 1), 8);
        torch::manual_seed(3);
        auto model = wb::make_small_cnn(1, 2);
        std::vector<torch::Tensor> head, backbone;
        for (const auto& p : model->named_parameters()) {
            (p.key().rfind("fc.", 0) == 0 ? head : backbone).push_back(p.value());
        }
        torch::optim::SGD opt(head, torch::optim::SGDOptions(0.1).momentum(0.9));
        opt.add_param_group(torch::optim::OptimizerParamGroup(
            backbone, std::make_unique<torch::optim::SGDOptions>(0.01)));
        wb::LrFinderOptions o;
        o.start = 1e-5;
        o.end = 1e-2;
        o.num_iter = 5;
        o.diverge_threshold = 0;
        o.lr_factors = {1.0, 0.1};
        std::atomic<bool> cancel{false};
        std::vector<double> head_rates, backbone_rates;
        const auto r =
            wb::range_test(*model, opt, *loader, o, cancel, [&](const wb::LrFinderStep&) {
                head_rates.push_back(opt.param_groups()[0].options().get_lr());
                backbone_rates.push_back(opt.param_groups()[1].options().get_lr());
            });
        QCOMPARE(r.lrs, wb::lr_range(o));
        QCOMPARE(head_rates, r.lrs);
        for (std::size_t i = 0; i < r.lrs.size(); ++i) {
            QCOMPARE(backbone_rates[i], 0.1 * r.lrs[i]);
        }
        // Put back afterwards.
        QCOMPARE(opt.param_groups()[1].options().get_lr(), 0.01);
    }

    void rangeTestRestoresEverything_data() {
        QTest::addColumn<QString>("optimizer");
        QTest::newRow("sgd") << "sgd";
        QTest::newRow("adam") << "adam";
    }

    void rangeTestRestoresEverything() {
        QFETCH(QString, optimizer);
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString(), 8, 2), 4);
        torch::manual_seed(5);
        auto model = wb::make_small_cnn(1, 2);
        std::unique_ptr<torch::optim::Optimizer> opt;
        if (optimizer == "sgd") {
            opt = std::make_unique<torch::optim::SGD>(model->parameters(),
                                                      torch::optim::SGDOptions(0.05).momentum(0.9));
        } else {
            opt = std::make_unique<torch::optim::Adam>(model->parameters(),
                                                       torch::optim::AdamOptions(1e-3));
        }
        // One ordinary step first, so that there are momenta, gradients and BN statistics.
        loader->start_epoch(0);
        auto batch = *loader->next();
        opt->zero_grad();
        torch::nn::functional::cross_entropy(model->forward(batch.images), batch.labels).backward();
        opt->step();
        model->eval();

        const auto params = deep_copy(model->parameters());
        const auto buffers = deep_copy(model->buffers());
        const auto grads = deep_copy(grads_of(*model));
        const auto state = optimizer_state(*opt);
        const double lr = opt->param_groups().front().options().get_lr();
        const auto rng = cpu_rng_state().clone();

        wb::LrFinderOptions o;
        o.start = 1e-4;
        o.end = 1.0;
        o.num_iter = 12;
        std::atomic<bool> cancel{false};
        bool changed = false;
        const auto r =
            wb::range_test(*model, *opt, *loader, o, cancel, [&](const wb::LrFinderStep& s) {
                if (s.iteration > 0 && !same(model->parameters()[0], params[0])) {
                    changed = true;
                }
            });
        QVERIFY(r.lrs.size() >= 2);
        QVERIFY2(changed, "the range test did not train: nothing to restore");

        QVERIFY(!model->is_training());
        const auto params_after = model->parameters();
        for (size_t i = 0; i < params.size(); ++i) {
            QVERIFY2(same(params_after[i], params[i]), qPrintable(QString("parameter %1").arg(i)));
        }
        const auto buffers_after = model->buffers();
        QVERIFY(!buffers.empty());
        for (size_t i = 0; i < buffers.size(); ++i) {
            QVERIFY2(same(buffers_after[i], buffers[i]), qPrintable(QString("buffer %1").arg(i)));
        }
        const auto grads_after = grads_of(*model);
        for (size_t i = 0; i < grads.size(); ++i) {
            QVERIFY2(same(grads_after[i], grads[i]), qPrintable(QString("grad %1").arg(i)));
        }
        const auto state_after = optimizer_state(*opt);
        QCOMPARE(state_after.size(), state.size());
        for (size_t i = 0; i < state.size(); ++i) {
            QVERIFY2(same(state_after[i], state[i]), qPrintable(QString("state %1").arg(i)));
        }
        QCOMPARE(opt->param_groups().front().options().get_lr(), lr);
        if (optimizer == "sgd") {
            QCOMPARE(dynamic_cast<torch::optim::SGDOptions&>(opt->param_groups()[0].options())
                         .momentum(),
                     0.9);
        }
        QVERIFY(same(cpu_rng_state(), rng));
    }

    void freshOptimizerGetsNoState() {
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString(), 4, 3), 4);
        auto model = wb::make_small_cnn(1, 2);
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
        wb::LrFinderOptions o;
        o.num_iter = 3;
        std::atomic<bool> cancel{false};
        wb::range_test(*model, opt, *loader, o, cancel);
        QVERIFY(opt.state().empty());
        QVERIFY(!model->parameters()[0].grad().defined());
    }

    // The rates, raw and smoothed losses of a test on the small CNN against
    // tests/python/lr_finder_reference.py, which repeats it in PyTorch from the definitions, on
    // the same initial weights and the same batches.
    void rangeTestMatchesPythonReference_data() {
        QTest::addColumn<bool>("exponential");
        QTest::addColumn<int>("accumulate");
        QTest::newRow("exponential") << true << 1;
        QTest::newRow("linear, two batches per step") << false << 2;
    }

    void rangeTestMatchesPythonReference() {
        QFETCH(bool, exponential);
        QFETCH(int, accumulate);
        if (!QFileInfo(QStringLiteral(WB_PYTHON)).isExecutable()) {
            QSKIP("no Python interpreter at WB_PYTHON");
        }
        at::set_num_threads(1);
        QTemporaryDir dir;
        const auto samples = write_stripes(dir.path().toStdString(), 12, 6);
        auto loader = make_loader(samples, 6);
        auto twin = make_loader(samples, 6);
        torch::manual_seed(11);
        auto model = wb::make_small_cnn(1, 2);
        wb::LrFinderOptions o;
        o.start = 1e-4;
        o.end = 0.3;
        o.num_iter = 20;
        o.exponential = exponential;
        o.accumulate = accumulate;
        o.diverge_threshold = 0;
        const double momentum = 0.9;

        // What Python gets: the weights before the test, the batches, the settings.
        c10::Dict<std::string, torch::Tensor> input;
        for (const auto& item : model->named_parameters()) {
            input.insert("model." + item.key(), item.value().detach().clone());
        }
        for (const auto& item : model->named_buffers()) {
            input.insert("model." + item.key(), item.value().detach().clone());
        }
        const auto batches = batches_of(*twin, o.num_iter * accumulate);
        std::vector<torch::Tensor> images, labels;
        for (const auto& b : batches) {
            images.push_back(b.images);
            labels.push_back(b.labels);
        }
        input.insert("images", torch::stack(images));
        input.insert("labels", torch::stack(labels));
        const auto scalar = [](double v) { return torch::tensor(v, torch::kFloat64); };
        input.insert("start", scalar(o.start));
        input.insert("end", scalar(o.end));
        input.insert("num_iter", scalar(o.num_iter));
        input.insert("beta", scalar(o.smooth_beta));
        input.insert("lr_momentum", scalar(momentum));
        input.insert("classes", scalar(2));
        input.insert("channels", scalar(1));
        input.insert("exponential", scalar(exponential ? 1 : 0));
        input.insert("accumulate", scalar(accumulate));
        const QString path = dir.filePath("lr_input.pt");
        {
            const auto bytes = torch::pickle_save(c10::IValue(input));
            std::ofstream out(path.toStdString(), std::ios::binary);
            out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        }

        torch::optim::SGD opt(model->parameters(),
                              torch::optim::SGDOptions(o.start).momentum(momentum));
        std::atomic<bool> cancel{false};
        const auto r = wb::range_test(*model, opt, *loader, o, cancel);
        QCOMPARE(r.lrs.size(), size_t(o.num_iter));

        QProcess python;
        python.start(
            QStringLiteral(WB_PYTHON),
            {QStringLiteral(WB_SOURCE_DIR) + "/tests/python/lr_finder_reference.py", path});
        QVERIFY(python.waitForFinished(120000));
        if (python.exitCode() == 3) {
            QSKIP("Python has no torch");
        }
        QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
        const QStringList lines =
            QString::fromUtf8(python.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), o.num_iter);
        for (int i = 0; i < o.num_iter; ++i) {
            const QStringList v = lines[i].split(' ');
            const double lr = v[0].toDouble(), loss = v[1].toDouble(), smoothed = v[2].toDouble();
            const auto close = [](double a, double b, double rel) {
                return std::abs(a - b) <= rel * std::max(std::abs(b), 1e-12);
            };
            QVERIFY2(close(r.lrs[i], lr, 1e-13),
                     qPrintable(QString("step %1: lr %2 vs %3").arg(i).arg(r.lrs[i]).arg(lr)));
            // Float32 convolutions in two builds: equal to about 1e-6, growing with the steps.
            QVERIFY2(
                close(r.losses[i], loss, 1e-4),
                qPrintable(QString("step %1: loss %2 vs %3").arg(i).arg(r.losses[i]).arg(loss)));
            QVERIFY2(
                close(r.smoothed[i], smoothed, 1e-4),
                qPrintable(
                    QString("step %1: smoothed %2 vs %3").arg(i).arg(r.smoothed[i]).arg(smoothed)));
        }
        at::set_num_threads(0 + static_cast<int>(std::thread::hardware_concurrency()));
    }

    // Validation-loss mode: each point is the eval-mode loss of the same first val_batches
    // batches, after the step; checked by computing that loss here at each step.
    void validationLossModeEvaluatesTheFixedSubset() {
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString() + "/train", 8, 7), 4);
        const auto val_samples = write_stripes(dir.path().toStdString() + "/val", 8, 8);
        auto val = make_loader(val_samples, 4);
        auto twin = make_loader(val_samples, 4);
        twin->start_epoch(0);
        const std::vector<wb::Batch> subset = {*twin->next(), *twin->next()};
        torch::manual_seed(2);
        auto model = wb::make_small_cnn(1, 2);
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
        wb::LrFinderOptions o;
        o.start = 1e-4;
        o.end = 1e-1;
        o.num_iter = 6;
        o.val_batches = 2;
        std::atomic<bool> cancel{false};
        std::vector<double> expected;
        const auto r = wb::range_test(
            *model, opt, *loader, o, cancel,
            [&](const wb::LrFinderStep&) {
                torch::NoGradGuard no_grad;
                model->eval();
                double sum = 0;
                int count = 0;
                for (const auto& b : subset) {
                    sum += torch::nn::functional::cross_entropy(model->forward(b.images), b.labels)
                               .item<double>() *
                           b.labels.size(0);
                    count += b.labels.size(0);
                }
                model->train();
                expected.push_back(sum / count);
            },
            val.get());
        QCOMPARE(r.losses.size(), size_t(6));
        for (size_t i = 0; i < expected.size(); ++i) {
            QVERIFY2(
                std::abs(r.losses[i] - expected[i]) <= 1e-6 * expected[i],
                qPrintable(QString("step %1: %2 vs %3").arg(i).arg(r.losses[i]).arg(expected[i])));
        }
    }

    // Suggestions in a diverged region, from a stopped test, or below the first rate are
    // flagged; a clean valley is not.
    void untrustworthySuggestionsAreFlagged() {
        wb::LrFinderOptions o;
        const auto lrs = wb::lr_range(o);
        wb::LrFinderResult clean;
        clean.lrs = lrs;
        clean.smoothed = valley_curve(lrs);
        clean.stop_reason = "completed";
        clean.steepest = wb::suggest_steepest(clean.lrs, clean.smoothed);
        clean.valley = wb::suggest_valley(clean.lrs, clean.smoothed);
        clean.min_div10 = wb::suggest_min_div10(clean.lrs, clean.smoothed);
        QVERIFY(wb::suggestion_warnings(clean).empty());

        wb::LrFinderResult stopped = clean;
        stopped.stop_reason = "cancelled";
        QCOMPARE(int(wb::suggestion_warnings(stopped).size()), 1);

        wb::LrFinderResult diverged = clean;
        diverged.valley = lrs[95];  // on the blow-up, far above the start
        const auto warnings = wb::suggestion_warnings(diverged);
        QCOMPARE(int(warnings.size()), 1);
        QVERIFY2(warnings[0].rfind("valley ", 0) == 0, warnings[0].c_str());

        // Regression: early noise lifted the smoothed loss 1% above its start at a good
        // valley, and the valley was flagged as diverged.
        wb::LrFinderResult noisy = clean;
        const auto at_valley = std::find(lrs.begin(), lrs.end(), *clean.valley) - lrs.begin();
        noisy.smoothed[std::size_t(at_valley)] = 1.01 * noisy.smoothed[0];
        QVERIFY(wb::suggestion_warnings(noisy).empty());

        wb::LrFinderResult flat = clean;
        flat.smoothed.assign(lrs.size(), 2.3);
        flat.smoothed[0] = 2.2;  // the lowest point is the first
        flat.steepest.reset();
        flat.valley.reset();
        flat.min_div10 = wb::suggest_min_div10(flat.lrs, flat.smoothed);
        const auto low = wb::suggestion_warnings(flat);
        QCOMPARE(int(low.size()), 1);
        QVERIFY2(low[0].rfind("min/10 ", 0) == 0, low[0].c_str());
    }

    // Regression: a test that diverged at once (a rising curve) suggested its first rate as
    // the valley, unflagged, and `train --find-lr valley` trained at it.
    void risingCurveHasNoValley() {
        const std::vector<double> lrs = {1e3, 2e3, 4e3};
        QVERIFY(!wb::suggest_valley(lrs, {2.3, 9.0, 40.0}));
        QVERIFY(!wb::suggest_valley(lrs, {2.3, 2.3, 2.3}));
        QCOMPARE(*wb::suggest_valley(lrs, {2.3, 2.0, 40.0}), 1e3);  // a descent of two points
    }

    void cancelStopsBeforeTheNextBatch() {
        QTemporaryDir dir;
        auto loader = make_loader(write_stripes(dir.path().toStdString(), 4, 4), 4);
        auto model = wb::make_small_cnn(1, 2);
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
        std::atomic<bool> cancel{false};
        const auto r =
            wb::range_test(*model, opt, *loader, {}, cancel, [&](const wb::LrFinderStep& s) {
                if (s.iteration == 2) {
                    cancel = true;
                }
            });
        QCOMPARE(r.stop_reason, std::string("cancelled"));
        QCOMPARE(r.lrs.size(), size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestLrFinder)
#include "tst_lr_finder.moc"
