// The learning-rate schedules: every step's rate and momentum equal to PyTorch 1.13's
// schedulers, degenerate configurations refused by name, bounds, and the run length.

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>

#include "engine/errors.h"
#include "engine/schedule.h"

Q_DECLARE_METATYPE(wb::ScheduleSpec)

namespace {

struct Case {
    QString name;
    wb::ScheduleSpec spec;
    long long total;
    QString optimizer = "sgd";
};

wb::ScheduleSpec onecycle(double pct_start, const char* anneal, bool three_phase,
                          bool cycle_momentum) {
    wb::ScheduleSpec s;
    s.policy = "onecycle";
    s.max_lr = 0.4;
    s.pct_start = pct_start;
    s.anneal_strategy = anneal;
    s.three_phase = three_phase;
    s.cycle_momentum = cycle_momentum;
    return s;
}

wb::ScheduleSpec decaying(const char* policy, double lr, long long warmup = 0,
                          double start_factor = 0.1) {
    wb::ScheduleSpec s;
    s.policy = policy;
    s.lr = lr;
    s.warmup_steps = warmup;
    s.warmup_start_factor = start_factor;
    return s;
}

wb::ScheduleSpec step(long long step_size, double gamma, long long warmup = 0) {
    wb::ScheduleSpec s = decaying("step", 0.1, warmup, 0.25);
    s.step_size = step_size;
    s.gamma = gamma;
    return s;
}

wb::ScheduleSpec multistep(std::vector<long long> milestones, double gamma, long long warmup = 0) {
    wb::ScheduleSpec s = decaying("multistep", 0.05, warmup, 0.01);
    s.milestones = std::move(milestones);
    s.gamma = gamma;
    return s;
}

wb::ScheduleSpec cosine(long long t_max, double eta_min, long long warmup = 0) {
    wb::ScheduleSpec s = decaying("cosine", 0.1, warmup);
    s.t_max = t_max;
    s.eta_min = eta_min;
    return s;
}

template <typename Edit>
wb::ScheduleSpec with(wb::ScheduleSpec spec, Edit edit) {
    edit(spec);
    return spec;
}

const std::vector<Case>& parity_cases() {
    using S = wb::ScheduleSpec;
    static const std::vector<Case> cases = {
        {"onecycle two-phase cos 1000", onecycle(0.3, "cos", false, true), 1000},
        {"onecycle two-phase linear 101 pct 0.25", onecycle(0.25, "linear", false, true), 101},
        {"onecycle three-phase cos 1000", onecycle(0.3, "cos", true, true), 1000},
        {"onecycle three-phase linear 101 pct 0.25", onecycle(0.25, "linear", true, true), 101},
        {"onecycle two-phase cos no momentum 101", onecycle(0.3, "cos", false, false), 101},
        {"onecycle three-phase linear no momentum", onecycle(0.25, "linear", true, false), 1000},
        {"onecycle two-phase cos 7", onecycle(0.3, "cos", false, true), 7},
        {"onecycle two-phase linear 7, rise of one step", onecycle(0.25, "linear", false, true), 7},
        {"onecycle three-phase cos 7", onecycle(0.3, "cos", true, true), 7},
        {"onecycle three-phase pct 0.5", onecycle(0.5, "cos", true, true), 100},
        {"onecycle adam beta1", onecycle(0.3, "cos", false, true), 101, "adam"},
        {"onecycle div 10 final 100",
         with(onecycle(0.25, "cos", false, true),
              [](S& s) { s.div_factor = 10, s.final_div_factor = 100, s.base_momentum = 0.8; }),
         333},
        {"step every 7 epochs of 13 steps", step(7 * 13, 0.1), 20 * 13},
        {"multistep, one milestone past the end", multistep({100, 250, 400, 600}, 0.5), 500},
        {"cosine eta_min", cosine(0, 1e-4), 1000},
        {"cosine t_max 100 rises again", cosine(100, 1e-3), 350},
        {"constant", decaying("constant", 0.05), 50},
        {"constant after warm-up", decaying("constant", 0.05, 10), 50},
        {"step after warm-up", step(30, 0.5, 25), 200},
        {"multistep after warm-up", multistep({40, 80}, 0.1, 20), 150},
        {"cosine after warm-up", cosine(0, 1e-5, 100), 1000},
    };
    return cases;
}

QJsonObject to_json(const Case& c) {
    const wb::ScheduleSpec s = wb::Schedule::make(c.spec, c.total).spec();
    QJsonArray milestones;
    for (long long m : s.milestones) {
        milestones.append(m);
    }
    const QJsonObject spec{
        {"policy", QString::fromStdString(s.policy)},
        {"lr", s.lr},
        {"step_size", s.step_size},
        {"gamma", s.gamma},
        {"milestones", milestones},
        {"t_max", s.t_max},
        {"eta_min", s.eta_min},
        {"max_lr", s.max_lr},
        {"pct_start", s.pct_start},
        {"anneal_strategy", QString::fromStdString(s.anneal_strategy)},
        {"three_phase", s.three_phase},
        {"div_factor", s.div_factor},
        {"final_div_factor", s.final_div_factor},
        {"cycle_momentum", s.cycle_momentum},
        {"base_momentum", s.base_momentum},
        {"max_momentum", s.max_momentum},
        {"warmup_steps", s.warmup_steps},
        {"warmup_start_factor", s.warmup_start_factor},
    };
    return {{"name", c.name}, {"total_steps", c.total}, {"optimizer", c.optimizer}, {"spec", spec}};
}

bool near(double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-15;
}

}  // namespace

class TestSchedule : public QObject {
    Q_OBJECT

private slots:
    void parityWithPyTorch_data();
    void parityWithPyTorch();
    void refusesDegenerateSpec_data();
    void refusesDegenerateSpec();
    void staysWithinBounds_data();
    void staysWithinBounds();
    void steppingPastTheEndThrows();
    void momentumOnlyWhenCycled();
    void warmupRampsLinearlyThenFollowsThePolicy();
    void totalSteps_data();
    void totalSteps();
    void totalStepsRefusesEmptyRuns_data();
    void totalStepsRefusesEmptyRuns();

private:
    /// Runs tests/python/scheduler_reference.py once over parity_cases(); returns the error.
    QString write_references();

    QTemporaryDir reference_dir_;
    bool references_tried_ = false;
    QJsonObject references_;
    QString references_skip_;   // why there is no reference (no Python, no torch)
    QString references_error_;  // why the script failed
};

QString TestSchedule::write_references() {
    if (references_tried_) {
        return references_error_;
    }
    references_tried_ = true;
    const QString python = WB_PYTHON;
    const QString script = QStringLiteral(WB_SOURCE_DIR) + "/tests/python/scheduler_reference.py";
    if (!QFileInfo(python).isExecutable()) {
        references_skip_ = "no Python interpreter at WB_PYTHON=" + python;
        return {};
    }
    if (!reference_dir_.isValid()) {
        return references_error_ = "no temporary folder: " + reference_dir_.errorString();
    }
    QJsonArray cases;
    for (const Case& c : parity_cases()) {
        try {
            cases.append(to_json(c));
        } catch (const std::exception& error) {
            return references_error_ = c.name + " is refused: " + error.what();
        }
    }
    const QString in_path = reference_dir_.filePath("cases.json");
    const QString out_path = reference_dir_.filePath("reference.json");
    QFile in(in_path);
    if (!in.open(QIODevice::WriteOnly) || in.write(QJsonDocument(cases).toJson()) < 0) {
        return references_error_ = "cannot write " + in_path;
    }
    in.close();
    QProcess process;
    process.start(python, {script, in_path, out_path});
    if (!process.waitForFinished(120000)) {
        return references_error_ = "scheduler_reference.py did not finish in 2 minutes";
    }
    const QString err = QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
    if (process.exitStatus() == QProcess::NormalExit && process.exitCode() == 3) {
        references_skip_ = python + " has no torch: " + err;
        return {};
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return references_error_ = "scheduler_reference.py failed: " + err;
    }
    QFile out(out_path);
    if (!out.open(QIODevice::ReadOnly)) {
        return references_error_ = "cannot read " + out_path;
    }
    references_ = QJsonDocument::fromJson(out.readAll()).object();
    return {};
}

// ---------------------------------------------------------------------------------------------
// Parity with PyTorch

void TestSchedule::parityWithPyTorch_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < parity_cases().size(); ++i) {
        QTest::newRow(qPrintable(parity_cases()[i].name)) << static_cast<int>(i);
    }
}

void TestSchedule::parityWithPyTorch() {
    QFETCH(int, index);
    const QString error = write_references();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    if (!references_skip_.isEmpty()) {
        QSKIP(qPrintable("no PyTorch reference: " + references_skip_));
    }
    const Case& c = parity_cases()[static_cast<std::size_t>(index)];
    const auto schedule = wb::Schedule::make(c.spec, c.total);
    const QJsonObject ref = references_.value(c.name).toObject();
    const QJsonArray lrs = ref.value("lr").toArray();
    const QJsonArray momenta = ref.value("momentum").toArray();
    QCOMPARE(lrs.size(), static_cast<qsizetype>(c.total));
    QCOMPARE(momenta.size(), static_cast<qsizetype>(c.total));
    const double optimizer_momentum = momenta.first().toDouble();
    for (long long i = 0; i < c.total; ++i) {
        const double want_lr = lrs.at(i).toDouble();
        const double want_momentum = momenta.at(i).toDouble();
        const double got_lr = schedule.lr(i);
        QVERIFY2(near(got_lr, want_lr), qPrintable(QString("step %1: lr %2, PyTorch %3")
                                                       .arg(i)
                                                       .arg(got_lr, 0, 'g', 17)
                                                       .arg(want_lr, 0, 'g', 17)));
        if (schedule.has_momentum()) {
            const double got = schedule.momentum(i);
            QVERIFY2(near(got, want_momentum),
                     qPrintable(QString("step %1: momentum %2, PyTorch %3")
                                    .arg(i)
                                    .arg(got, 0, 'g', 17)
                                    .arg(want_momentum, 0, 'g', 17)));
        } else {
            // PyTorch leaves the optimizer's own momentum alone, as the trainer will.
            QCOMPARE(want_momentum, optimizer_momentum);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals and bounds

void TestSchedule::refusesDegenerateSpec_data() {
    using S = wb::ScheduleSpec;
    QTest::addColumn<S>("spec");
    QTest::addColumn<qlonglong>("total");
    QTest::addColumn<QString>("field");

    const S one = onecycle(0.3, "cos", false, true);
    const S three = onecycle(0.3, "cos", true, true);
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    const auto row = [](const char* name, const S& spec, qlonglong total, const char* field) {
        QTest::newRow(name) << spec << total << QString(field);
    };
    row("no step", decaying("constant", 0.1), 0, "total_steps");
    row("negative steps", one, -5, "total_steps");
    row("unknown policy", decaying("exponential", 0.1), 10, "schedule.policy");
    row("max_lr 0", with(one, [](S& s) { s.max_lr = 0; }), 100, "schedule.max_lr");
    row("max_lr negative", with(one, [](S& s) { s.max_lr = -0.1; }), 100, "schedule.max_lr");
    row("div_factor 0", with(one, [](S& s) { s.div_factor = 0; }), 100, "schedule.div_factor");
    row("final_div_factor negative", with(one, [](S& s) { s.final_div_factor = -1; }), 100,
        "schedule.final_div_factor");
    row("pct_start 0", with(one, [](S& s) { s.pct_start = 0; }), 100, "schedule.pct_start");
    row("pct_start 1", with(one, [](S& s) { s.pct_start = 1; }), 100, "schedule.pct_start");
    row("pct_start NaN", with(one, [](S& s) { s.pct_start = nan; }), 100, "schedule.pct_start");
    row("rise of exactly one step divides by zero", onecycle(0.25, "cos", false, true), 4,
        "schedule.pct_start");
    row("rise shorter than a step", one, 3, "schedule.pct_start");
    row("three-phase fall without a step", three, 4, "schedule.pct_start");
    row("three-phase end without a step", onecycle(0.6, "cos", true, true), 10,
        "schedule.pct_start");
    row("anneal 'cosine'", onecycle(0.3, "cosine", false, true), 100, "schedule.anneal_strategy");
    row("max_momentum 1", with(one, [](S& s) { s.max_momentum = 1; }), 100,
        "schedule.max_momentum");
    row("base_momentum above max", with(one, [](S& s) { s.base_momentum = 0.99; }), 100,
        "schedule.base_momentum");
    row("base_momentum negative", with(one, [](S& s) { s.base_momentum = -0.1; }), 100,
        "schedule.base_momentum");
    row("onecycle with warm-up", with(one, [](S& s) { s.warmup_steps = 10; }), 100,
        "schedule.warmup_steps");
    row("lr 0", with(step(10, 0.1), [](S& s) { s.lr = 0; }), 100, "schedule.lr");
    row("lr negative", decaying("constant", -0.1), 100, "schedule.lr");
    row("lr NaN", decaying("cosine", nan), 100, "schedule.lr");
    row("gamma 0", step(10, 0), 100, "schedule.gamma");
    row("gamma above 1", step(10, 1.5), 100, "schedule.gamma");
    row("gamma negative", multistep({10}, -0.1), 100, "schedule.gamma");
    row("step_size 0", step(0, 0.1), 100, "schedule.step_size");
    row("no milestones", multistep({}, 0.1), 100, "schedule.milestones");
    row("repeated milestone", multistep({50, 50}, 0.1), 100, "schedule.milestones");
    row("decreasing milestones", multistep({80, 40}, 0.1), 100, "schedule.milestones");
    row("milestone 0", multistep({0, 10}, 0.1), 100, "schedule.milestones");
    row("eta_min above lr", cosine(0, 0.2), 100, "schedule.eta_min");
    row("eta_min negative", cosine(0, -1e-6), 100, "schedule.eta_min");
    row("t_max negative", cosine(-1, 0), 100, "schedule.t_max");
    row("warm-up as long as the run", step(10, 0.1, 100), 100, "schedule.warmup_steps");
    row("warm-up negative", step(10, 0.1, -1), 100, "schedule.warmup_steps");
    row("warm-up from 0", decaying("constant", 0.1, 10, 0), 100, "schedule.warmup_start_factor");
    row("warm-up from above", decaying("constant", 0.1, 10, 1.5), 100,
        "schedule.warmup_start_factor");
}

void TestSchedule::refusesDegenerateSpec() {
    QFETCH(wb::ScheduleSpec, spec);
    QFETCH(qlonglong, total);
    QFETCH(QString, field);
    try {
        wb::Schedule::make(spec, total);
        QFAIL("the spec was accepted");
    } catch (const wb::ConfigError& error) {
        const QString message = error.what();
        QVERIFY2(message.startsWith(field + ": "), qPrintable(message));
        QCOMPARE(error.line(), 0);
    }
}

void TestSchedule::staysWithinBounds_data() {
    parityWithPyTorch_data();
}

void TestSchedule::staysWithinBounds() {
    QFETCH(int, index);
    const Case& c = parity_cases()[static_cast<std::size_t>(index)];
    const auto schedule = wb::Schedule::make(c.spec, c.total);
    QVERIFY(schedule.min_lr() >= 0);
    QVERIFY(schedule.min_lr() <= schedule.max_lr());
    for (long long i = 0; i < c.total; ++i) {
        const double lr = schedule.lr(i);
        QVERIFY2(lr >= schedule.min_lr() && lr <= schedule.max_lr(),
                 qPrintable(QString("step %1: lr %2 outside [%3, %4]")
                                .arg(i)
                                .arg(lr)
                                .arg(schedule.min_lr())
                                .arg(schedule.max_lr())));
        if (schedule.has_momentum()) {
            const double m = schedule.momentum(i);
            QVERIFY(m >= c.spec.base_momentum && m <= c.spec.max_momentum);
        }
    }
    // The bounds are the curve's own, not loose ones: step 0 or the peak attains the top.
    if (c.spec.policy == "onecycle") {
        QCOMPARE(schedule.max_lr(), c.spec.max_lr);
        QCOMPARE(schedule.lr(c.total - 1), schedule.min_lr());
    } else {
        QCOMPARE(schedule.lr(c.spec.warmup_steps), schedule.max_lr());
    }
}

void TestSchedule::steppingPastTheEndThrows() {
    const auto schedule = wb::Schedule::make(onecycle(0.3, "linear", false, true), 100);
    QVERIFY(schedule.lr(99) >= 0);
    // PyTorch's OneCycleLR still answers step 100 of 100: linear, it gives -0.0057 here.
    try {
        schedule.lr(100);
        QFAIL("step 100 of 100 was answered");
    } catch (const std::out_of_range& error) {
        const QString message = error.what();
        QVERIFY2(message.contains("100") && message.contains("[0, 100)"), qPrintable(message));
    }
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, schedule.lr(-1));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, schedule.momentum(100));
    const auto constant = wb::Schedule::make(decaying("constant", 0.1), 1);
    QCOMPARE(constant.lr(0), 0.1);
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, constant.lr(1));
}

void TestSchedule::momentumOnlyWhenCycled() {
    QVERIFY(wb::Schedule::make(onecycle(0.3, "cos", false, true), 10).has_momentum());
    const auto flat = wb::Schedule::make(onecycle(0.3, "cos", false, false), 10);
    QVERIFY(!flat.has_momentum());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, flat.momentum(0));
    const auto cosine_schedule = wb::Schedule::make(cosine(0, 0), 10);
    QVERIFY(!cosine_schedule.has_momentum());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, cosine_schedule.momentum(0));
}

void TestSchedule::warmupRampsLinearlyThenFollowsThePolicy() {
    // lr 0.1 from 0.25 * lr over 4 steps, then halved every 3 steps of the policy's own clock.
    const auto schedule = wb::Schedule::make(step(3, 0.5, 4), 12);
    const double want[] = {0.025, 0.04375, 0.0625, 0.08125, 0.1,   0.1,
                           0.1,   0.05,    0.05,   0.05,    0.025, 0.025};
    for (long long i = 0; i < 12; ++i) {
        QVERIFY2(near(schedule.lr(i), want[i]), qPrintable(QString("step %1").arg(i)));
    }
    QCOMPARE(schedule.min_lr(), 0.025);
    // A cosine after a warm-up spans the rest of the run unless t_max says otherwise.
    const auto annealed = wb::Schedule::make(cosine(0, 0, 10), 110);
    QCOMPARE(annealed.spec().t_max, 100LL);
    QCOMPARE(annealed.lr(10), 0.1);
    QVERIFY(near(annealed.lr(60), 0.05));
}

// ---------------------------------------------------------------------------------------------
// Run length

void TestSchedule::totalSteps_data() {
    QTest::addColumn<qlonglong>("samples");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("epochs");
    QTest::addColumn<int>("accumulation");
    QTest::addColumn<bool>("dropLast");
    QTest::addColumn<qlonglong>("steps");

    QTest::newRow("partial batch counts") << 1000LL << 64 << 3 << 1 << false << 48LL;
    QTest::newRow("drop_last drops it") << 1000LL << 64 << 3 << 1 << true << 45LL;
    QTest::newRow("exact batches") << 1024LL << 64 << 2 << 1 << true << 32LL;
    QTest::newRow("one short batch") << 10LL << 64 << 5 << 1 << false << 5LL;
    QTest::newRow("accumulation divides") << 1024LL << 64 << 2 << 4 << false << 8LL;
    QTest::newRow("accumulation rounds up per epoch") << 1000LL << 64 << 3 << 3 << false << 18LL;
    QTest::newRow("accumulation with drop_last") << 1000LL << 64 << 3 << 4 << true << 12LL;
    QTest::newRow("accumulation beyond an epoch") << 100LL << 10 << 4 << 32 << false << 4LL;
}

void TestSchedule::totalSteps() {
    QFETCH(qlonglong, samples);
    QFETCH(int, batch);
    QFETCH(int, epochs);
    QFETCH(int, accumulation);
    QFETCH(bool, dropLast);
    QFETCH(qlonglong, steps);
    QCOMPARE(wb::total_steps(samples, batch, epochs, accumulation, dropLast), steps);
}

void TestSchedule::totalStepsRefusesEmptyRuns_data() {
    QTest::addColumn<qlonglong>("samples");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("epochs");
    QTest::addColumn<int>("accumulation");
    QTest::addColumn<bool>("dropLast");
    QTest::addColumn<QString>("field");

    QTest::newRow("empty dataset") << 0LL << 64 << 3 << 1 << false << QString("dataset_size");
    QTest::newRow("batch 0") << 100LL << 0 << 3 << 1 << false << QString("batch_size");
    QTest::newRow("no epoch") << 100LL << 64 << 0 << 1 << false << QString("epochs");
    QTest::newRow("accumulation 0")
        << 100LL << 64 << 3 << 0 << false << QString("grad_accumulation");
    QTest::newRow("drop_last drops everything")
        << 10LL << 64 << 3 << 1 << true << QString("batch_size");
}

void TestSchedule::totalStepsRefusesEmptyRuns() {
    QFETCH(qlonglong, samples);
    QFETCH(int, batch);
    QFETCH(int, epochs);
    QFETCH(int, accumulation);
    QFETCH(bool, dropLast);
    QFETCH(QString, field);
    try {
        wb::total_steps(samples, batch, epochs, accumulation, dropLast);
        QFAIL("the run was accepted");
    } catch (const wb::ConfigError& error) {
        QVERIFY2(QString(error.what()).startsWith(field + ": "), error.what());
    }
}

QTEST_GUILESS_MAIN(TestSchedule)
#include "tst_schedule.moc"
