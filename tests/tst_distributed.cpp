// Data-parallel collectives. Each scenario launches this executable again as two ranks on
// 127.0.0.1 (the variables torchrun sets, plus the scenario's name); the ranks write what they
// got into a temporary folder and the test compares it. The checks of the environment run in
// the test's own process, since they fail before any network traffic.

#include <torch/torch.h>
#include <unistd.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "engine/distributed.h"
#include "engine/errors.h"
#include "engine/free_port.h"

using namespace wb;

namespace {

constexpr const char* kScenario = "WB_TEST_DIST_SCENARIO";
constexpr const char* kOutput = "WB_TEST_DIST_OUTPUT";
constexpr std::int64_t kGlobalBatch = 16;
constexpr int kSteps = 5;
/// ResNet18's parameters, in floats.
constexpr std::int64_t kResNet18Floats = 11'689'512;

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

QString read_text(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

std::vector<at::Tensor> load_tensors(const QString& path) {
    std::vector<at::Tensor> out;
    torch::load(out, path.toStdString());
    return out;
}

/// The model of the training scenario: no batch norm, so the ranks' halves are independent.
torch::nn::Sequential make_model() {
    return torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::Tanh(),
                                 torch::nn::Linear(8, 3));
}

/// [kGlobalBatch, 4] inputs and [kGlobalBatch] labels in 0..2, the same in every process.
std::pair<at::Tensor, at::Tensor> global_batch() {
    torch::manual_seed(7);
    at::Tensor x = torch::randn({kGlobalBatch, 4});
    at::Tensor y = torch::randint(0, 3, {kGlobalBatch}, torch::kLong);
    return {x, y};
}

/// Trains `model` for kSteps SGD steps on rows [begin, begin + count) of the global batch,
/// averaging the gradients over the group when there is one.
void train(torch::nn::Sequential& model, std::int64_t begin, std::int64_t count,
           Distributed* dist) {
    const auto [x, y] = global_batch();
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    for (int step = 0; step < kSteps; ++step) {
        sgd.zero_grad();
        const at::Tensor loss = torch::nn::functional::cross_entropy(
            model->forward(x.narrow(0, begin, count)), y.narrow(0, begin, count));
        loss.backward();
        if (dist) {
            dist->average_gradients(model->parameters());
        }
        sgd.step();
    }
}

// ---- The ranks' side: each scenario runs in both child processes. ----

void collectives(Distributed& dist, const std::string& prefix) {
    const int r = dist.rank();
    torch::manual_seed(r);
    at::Tensor weight = torch::randn({3, 4}).requires_grad_();
    at::Tensor bias = torch::randn({2}, torch::kDouble);
    at::Tensor steps = torch::full({5}, r + 7, torch::kLong);
    dist.broadcast_parameters({weight, steps, bias});

    std::vector<at::Tensor> params;
    for (std::int64_t n : {12, 5, 2, 3}) {
        params.push_back(torch::zeros({n}).requires_grad_());
    }
    params[0].mutable_grad() = torch::arange(12, torch::kFloat) * float(r + 1);
    torch::manual_seed(10 + r);
    params[1].mutable_grad() = torch::randn({5});
    if (r == 0) {
        params[2].mutable_grad() = torch::tensor({2.f, -4.f});  // undefined on rank 1
    }
    dist.average_gradients(params);  // params[3]: undefined on both

    const std::vector<double> sums = dist.sum({r + 0.5, 10.0 * r, 1.0});
    const double one_sum = dist.sum(r + 1.5);
    const std::vector<bool> flags = {dist.any(false), dist.any(r == 1), dist.any(true)};
    dist.barrier();
    torch::save(
        std::vector<at::Tensor>{
            weight.detach(), steps, bias, params[0].grad(), params[1].grad(),
            params[2].grad().defined() ? params[2].grad() : torch::full({2}, -99.f),
            torch::tensor({params[3].grad().defined() ? 1 : 0}),
            torch::tensor(sums, torch::kDouble), torch::tensor({one_sum}, torch::kDouble),
            torch::tensor({int(flags[0]), int(flags[1]), int(flags[2])})},
        prefix + ".pt");
}

void training(Distributed& dist, const std::string& prefix) {
    torch::manual_seed(100 + dist.rank());  // different starts: the broadcast must unify them
    torch::nn::Sequential model = make_model();
    dist.broadcast_parameters(model->parameters());
    const std::int64_t half = kGlobalBatch / 2;
    train(model, dist.rank() * half, half, &dist);
    torch::save(model->parameters(), prefix + ".pt");
}

/// Rank 1 leaves without a word; rank 0's next collectives must fail, not wait.
void peer_exits(Distributed& dist, const std::string& prefix) {
    dist.barrier();
    if (dist.rank() == 1) {
        std::_Exit(0);
    }
    std::string report;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto start = std::chrono::steady_clock::now();
        try {
            dist.sum(1.0);
            report += "no error\n";
        } catch (const TrainingError& e) {
            const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
            report += std::to_string(took.count()) + "\n" + e.what() + "\n";
        }
    }
    write_text(prefix + ".txt", report);
}

/// Rank 1 stays alive but takes no part; rank 0's collective must fail after the timeout.
void peer_stalls(Distributed& dist, const std::string& prefix) {
    dist.barrier();
    if (dist.rank() == 1) {
        std::this_thread::sleep_for(std::chrono::seconds(6));
        std::_Exit(0);
    }
    const auto start = std::chrono::steady_clock::now();
    try {
        dist.sum(1.0);
        write_text(prefix + ".txt", "no error");
    } catch (const TrainingError& e) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        write_text(prefix + ".txt", std::to_string(took.count()) + "\n" + e.what());
    }
}

/// Milliseconds per average_gradients() of a ResNet18-sized gradient.
void allreduce_time(Distributed& dist, const std::string& prefix) {
    at::Tensor param = torch::zeros({kResNet18Floats}).requires_grad_();
    param.mutable_grad() = torch::full({kResNet18Floats}, float(dist.rank()));
    dist.average_gradients({param});  // warm-up: the first one allocates
    constexpr int kRepeats = 5;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRepeats; ++i) {
        dist.average_gradients({param});
    }
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    write_text(prefix + ".txt", std::to_string(took.count() / kRepeats) + "\n" +
                                    std::to_string(param.grad()[0].item<float>()));
}

int run_rank(const std::string& scenario, const std::string& output) {
    at::set_num_threads(1);  // two processes on few cores
    const std::map<std::string, void (*)(Distributed&, const std::string&)> scenarios = {
        {"collectives", collectives},
        {"training", training},
        {"peer_exits", peer_exits},
        {"peer_stalls", peer_stalls},
        {"allreduce_time", allreduce_time}};
    try {
        std::unique_ptr<Distributed> dist = Distributed::from_environment("cpu");
        if (!dist) {
            std::fprintf(stderr, "not in a group\n");
            return 3;
        }
        scenarios.at(scenario)(*dist, output + "/rank" + std::to_string(dist->rank()));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}

// ---- The test's side. ----

struct RankRun {
    int exitCode = -1;
    QString output;  ///< stdout and stderr
};

/// Runs `scenario` as ranks 0 and 1 of a group of 2; results go to `dir`.
std::array<RankRun, 2> run_ranks(const QString& scenario, const QString& dir,
                                 const QString& timeoutSeconds = "20") {
    const QString port = QString::number(wb::free_loopback_port());
    std::array<std::unique_ptr<QProcess>, 2> processes;
    for (int r = 0; r < 2; ++r) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("WORLD_SIZE", "2");
        env.insert("RANK", QString::number(r));
        env.insert("LOCAL_RANK", QString::number(r));
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", port);
        env.insert("WB_DIST_TIMEOUT", timeoutSeconds);
        env.insert(kScenario, scenario);
        env.insert(kOutput, dir);
        auto& p = processes[std::size_t(r)];
        p = std::make_unique<QProcess>();
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::MergedChannels);
        p->start(QCoreApplication::applicationFilePath(), {});
    }
    std::array<RankRun, 2> runs;
    for (int r = 0; r < 2; ++r) {
        QProcess& p = *processes[std::size_t(r)];
        if (!p.waitForFinished(45'000)) {
            p.kill();
            p.waitForFinished();
        }
        RankRun& run = runs[std::size_t(r)];
        run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        run.output = QString::fromUtf8(p.readAll());
    }
    return runs;
}

QString describe(const std::array<RankRun, 2>& runs) {
    return QString("rank 0 exited with %1: %2\nrank 1 exited with %3: %4")
        .arg(runs[0].exitCode)
        .arg(runs[0].output)
        .arg(runs[1].exitCode)
        .arg(runs[1].output);
}

bool same(const at::Tensor& a, const at::Tensor& b) {
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && a.equal(b);
}

/// Sets the distributed variables for one scope and restores them after.
class Environment {
public:
    explicit Environment(const std::map<QByteArray, QByteArray>& values) {
        for (const char* name : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                                 "MASTER_ADDR", "MASTER_PORT", "WB_DIST_TIMEOUT"}) {
            if (qEnvironmentVariableIsSet(name)) {
                saved_[name] = qgetenv(name);
            } else {
                saved_[name] = std::nullopt;
            }
            qunsetenv(name);
        }
        for (const auto& [name, value] : values) {
            qputenv(name.constData(), value);
        }
    }
    ~Environment() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                qputenv(name.constData(), *value);
            } else {
                qunsetenv(name.constData());
            }
        }
    }

private:
    std::map<QByteArray, std::optional<QByteArray>> saved_;
};

}  // namespace

class TestDistributed : public QObject {
    Q_OBJECT

private slots:
    void singleProcessWithoutWorldSize();
    void badEnvironmentNamesTheVariable_data();
    void badEnvironmentNamesTheVariable();
    void rankThatNeverComesTimesOut();
    void collectivesAgreeAcrossRanks();
    void trainingOnHalvesEqualsTrainingOnTheWhole();
    void peerThatExitsRaisesAnError();
    void peerThatStallsRaisesAnErrorAfterTheTimeout();
    void allreduceTimeOfAResNet18Gradient();
};

void TestDistributed::singleProcessWithoutWorldSize() {
    {
        Environment env({});
        QVERIFY(!Distributed::from_environment("cpu"));
    }
    {
        Environment env({{"WORLD_SIZE", "1"}, {"RANK", "0"}});
        QVERIFY(!Distributed::from_environment("cpu"));
    }
}

void TestDistributed::badEnvironmentNamesTheVariable_data() {
    QTest::addColumn<QByteArray>("variable");
    QTest::addColumn<QByteArray>("value");  // empty: unset
    QTest::addColumn<QString>("message");
    QTest::newRow("rank out of range") << QByteArray("RANK") << QByteArray("5") << "RANK='5'";
    QTest::newRow("rank unset") << QByteArray("RANK") << QByteArray() << "RANK is not set";
    QTest::newRow("port not a number")
        << QByteArray("MASTER_PORT") << QByteArray("abc") << "MASTER_PORT='abc'";
    QTest::newRow("port too large")
        << QByteArray("MASTER_PORT") << QByteArray("70000") << "MASTER_PORT='70000'";
    QTest::newRow("address unset")
        << QByteArray("MASTER_ADDR") << QByteArray() << "MASTER_ADDR is not set";
    QTest::newRow("world size not a number")
        << QByteArray("WORLD_SIZE") << QByteArray("two") << "WORLD_SIZE='two'";
    QTest::newRow("world size 0") << QByteArray("WORLD_SIZE") << QByteArray("0")
                                  << "WORLD_SIZE='0'";
    QTest::newRow("negative timeout")
        << QByteArray("WB_DIST_TIMEOUT") << QByteArray("-1") << "WB_DIST_TIMEOUT='-1'";
    QTest::newRow("local rank out of range")
        << QByteArray("LOCAL_RANK") << QByteArray("2") << "LOCAL_RANK='2'";
}

void TestDistributed::badEnvironmentNamesTheVariable() {
    QFETCH(QByteArray, variable);
    QFETCH(QByteArray, value);
    QFETCH(QString, message);
    std::map<QByteArray, QByteArray> values = {{"WORLD_SIZE", "2"},
                                               {"RANK", "1"},
                                               {"MASTER_ADDR", "127.0.0.1"},
                                               {"MASTER_PORT", "1"}};  // never contacted
    values.erase(variable);
    if (!value.isEmpty()) {
        values[variable] = value;
    }
    Environment env(values);
    try {
        Distributed::from_environment("cpu");
        QFAIL("no error");
    } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains(message), e.what());
        QCOMPARE(QString::fromStdString(e.source()), QString("environment"));
    }
}

void TestDistributed::rankThatNeverComesTimesOut() {
    Environment env({{"WORLD_SIZE", "2"},
                     {"RANK", "0"},
                     {"MASTER_ADDR", "127.0.0.1"},
                     {"MASTER_PORT", QByteArray::number(wb::free_loopback_port())},
                     {"WB_DIST_TIMEOUT", "1"}});
    QElapsedTimer timer;
    timer.start();
    try {
        Distributed::from_environment("cpu");
        QFAIL("no error");
    } catch (const TrainingError& e) {
        QVERIFY2(QString(e.what()).contains("rank 0 of 2 could not join the group at 127.0.0.1:"),
                 e.what());
    }
    QVERIFY2(timer.elapsed() < 10'000, qPrintable(QString::number(timer.elapsed())));
}

void TestDistributed::collectivesAgreeAcrossRanks() {
    QTemporaryDir dir;
    const auto runs = run_ranks("collectives", dir.path());
    QVERIFY2(runs[0].exitCode == 0 && runs[1].exitCode == 0, qPrintable(describe(runs)));
    const std::vector<at::Tensor> r0 = load_tensors(dir.filePath("rank0.pt"));
    const std::vector<at::Tensor> r1 = load_tensors(dir.filePath("rank1.pt"));
    QCOMPARE(r0.size(), std::size_t(10));
    QCOMPARE(r1.size(), std::size_t(10));

    // Broadcast: rank 0's values everywhere, whatever the dtype.
    torch::manual_seed(0);
    const at::Tensor weight = torch::randn({3, 4});
    const at::Tensor bias = torch::randn({2}, torch::kDouble);
    for (const auto* r : {&r0, &r1}) {
        QVERIFY(same((*r)[0], weight));
        QVERIFY(same((*r)[1], torch::full({5}, 7, torch::kLong)));
        QVERIFY(same((*r)[2], bias));
    }
    // Gradients: the mean, the same on both ranks.
    torch::manual_seed(10);
    const at::Tensor b0 = torch::randn({5});
    torch::manual_seed(11);
    const at::Tensor b1 = torch::randn({5});
    for (const auto* r : {&r0, &r1}) {
        QVERIFY(same((*r)[3], torch::arange(12, torch::kFloat) * 1.5f));
        QVERIFY(torch::allclose((*r)[4], (b0 + b1) / 2, 0, 1e-7));
        QVERIFY(same((*r)[5], torch::tensor({1.f, -2.f})));  // zeros where undefined
        QCOMPARE((*r)[6].item<int>(), 0);                    // undefined on all: stays so
        QVERIFY(same((*r)[7], torch::tensor({2.0, 10.0, 2.0}, torch::kDouble)));
        QCOMPARE((*r)[8].item<double>(), 4.0);
        QVERIFY(same((*r)[9], torch::tensor({0, 1, 1})));
    }
    QVERIFY(same(r0[4], r1[4]));
}

void TestDistributed::trainingOnHalvesEqualsTrainingOnTheWhole() {
    QTemporaryDir dir;
    const auto runs = run_ranks("training", dir.path());
    QVERIFY2(runs[0].exitCode == 0 && runs[1].exitCode == 0, qPrintable(describe(runs)));
    const std::vector<at::Tensor> r0 = load_tensors(dir.filePath("rank0.pt"));
    const std::vector<at::Tensor> r1 = load_tensors(dir.filePath("rank1.pt"));

    torch::manual_seed(100);  // rank 0's start
    torch::nn::Sequential model = make_model();
    std::vector<at::Tensor> start;
    for (const at::Tensor& p : model->parameters()) {
        start.push_back(p.detach().clone());
    }
    train(model, 0, kGlobalBatch, nullptr);
    const std::vector<at::Tensor> want = model->parameters();
    QCOMPARE(r0.size(), want.size());
    QCOMPARE(r1.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        QVERIFY2(torch::allclose(r0[i], want[i], 0, 1e-6),
                 qPrintable(QString("parameter %1: max difference %2")
                                .arg(i)
                                .arg((r0[i] - want[i]).abs().max().item<double>())));
        QVERIFY(same(r0[i], r1[i]));
        QVERIFY((want[i] - start[i]).abs().max().item<double>() > 1e-3);  // it did train
    }
}

void TestDistributed::peerThatExitsRaisesAnError() {
    QTemporaryDir dir;
    const auto runs = run_ranks("peer_exits", dir.path());
    QVERIFY2(runs[0].exitCode == 0, qPrintable(describe(runs)));
    const QStringList lines = read_text(dir.filePath("rank0.txt")).split('\n');
    QVERIFY2(lines.size() >= 4, qPrintable(lines.join('\n')));
    QVERIFY2(lines[0].toDouble() < 10, qPrintable(lines.join('\n')));  // the timeout is 20 s
    QVERIFY2(lines[1].startsWith("Distributed sum failed on rank 0 of 2"),
             qPrintable(lines.join('\n')));
    // Once failed, the group refuses at once.
    QVERIFY2(lines[2].toDouble() < 1, qPrintable(lines.join('\n')));
    QVERIFY2(lines[3].contains("the group failed earlier"), qPrintable(lines.join('\n')));
}

void TestDistributed::peerThatStallsRaisesAnErrorAfterTheTimeout() {
    QTemporaryDir dir;
    const auto runs = run_ranks("peer_stalls", dir.path(), "2");
    QVERIFY2(runs[0].exitCode == 0, qPrintable(describe(runs)));
    const QStringList lines = read_text(dir.filePath("rank0.txt")).split('\n');
    QVERIFY2(lines.size() >= 2, qPrintable(lines.join('\n')));
    const double took = lines[0].toDouble();
    QVERIFY2(took > 1.5 && took < 5, qPrintable(lines.join('\n')));  // rank 1 exits at 6 s
    QVERIFY2(lines[1].contains("within 2 s"), qPrintable(lines.join('\n')));
}

void TestDistributed::allreduceTimeOfAResNet18Gradient() {
    QTemporaryDir dir;
    const auto runs = run_ranks("allreduce_time", dir.path());
    QVERIFY2(runs[0].exitCode == 0 && runs[1].exitCode == 0, qPrintable(describe(runs)));
    const QStringList lines = read_text(dir.filePath("rank0.txt")).split('\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines[1].toDouble(), 0.5);  // the mean of 0 and 1
    // A figure for the log, not a check: timed assertions are flaky on shared machines.
    qInfo("average_gradients of %lld floats between 2 processes: %.0f ms",
          static_cast<long long>(kResNet18Floats), lines[0].toDouble());
}

int main(int argc, char** argv) {
    if (const char* scenario = std::getenv(kScenario)) {
        const char* output = std::getenv(kOutput);
        return run_rank(scenario, output ? output : ".");
    }
    QCoreApplication app(argc, argv);
    TestDistributed test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_distributed.moc"
