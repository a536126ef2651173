// Evaluation: the metrics against hand-computed values and scikit-learn (including classes
// missing from the labels, the predictions or both, and ties in top-k), the report files, and
// the evaluation of a trained run's checkpoint, which must agree with what the trainer reported.

#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "engine/errors.h"
#include "engine/evaluation.h"
#include "engine/experiment.h"
#include "engine/metrics.h"
#include "engine/trainer.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// An RFC 4180 reader, independent of the engine's writer: rows of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false;
    bool any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        any = true;
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.push_back(field);
            field.clear();
        } else if (c == '\n') {
            row.push_back(field);
            rows.push_back(row);
            row.clear();
            field.clear();
            any = false;
        } else {
            field += c;
        }
    }
    if (any) {
        row.push_back(field);
        rows.push_back(row);
    }
    return rows;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Labels, predictions and scores of one metrics case.
struct Case {
    std::string name;
    int num_classes = 0;
    std::vector<int> labels;
    std::vector<int> predicted;
    std::vector<float> probabilities;
    std::vector<int> ks;
};

/// N random images of C classes; about `correct` of the predictions right. Classes in
/// `no_support` never occur in the labels, those in `never_predicted` never in the predictions.
/// `ties` draws scores from {0, 1, 2, 3} before normalizing, so that rows have equal scores.
Case random_case(const std::string& name, int c, int n, double correct, std::set<int> no_support,
                 std::set<int> never_predicted, bool ties, unsigned seed) {
    std::mt19937 rng(seed);
    auto draw = [&](const std::set<int>& excluded) {
        std::vector<int> allowed;
        for (int k = 0; k < c; ++k) {
            if (!excluded.count(k)) {
                allowed.push_back(k);
            }
        }
        return allowed[std::uniform_int_distribution<std::size_t>(0, allowed.size() - 1)(rng)];
    };
    Case r;
    r.name = name;
    r.num_classes = c;
    std::uniform_real_distribution<double> unit(0, 1);
    for (int i = 0; i < n; ++i) {
        const int t = draw(no_support);
        int p = unit(rng) < correct && !never_predicted.count(t) ? t : draw(never_predicted);
        r.labels.push_back(t);
        r.predicted.push_back(p);
        std::vector<float> row(static_cast<std::size_t>(c));
        float sum = 0;
        for (float& v : row) {
            v = ties ? static_cast<float>(rng() % 4) : static_cast<float>(unit(rng)) + 1e-3f;
            sum += v;
        }
        if (c == 2) {
            // Binary: scikit-learn thresholds the score of class 1 at 0.5; keep clear of it.
            row[1] = static_cast<float>(unit(rng) < 0.5 ? 0.4 * unit(rng) : 0.6 + 0.4 * unit(rng));
            row[0] = 1.f - row[1];
            sum = 1.f;
        }
        for (float v : row) {
            r.probabilities.push_back(sum > 0 ? v / sum : 1.f / c);
        }
    }
    // scikit-learn has no top-k accuracy for a single class.
    for (int k : {1, 2, 3, 5, c, c + 1}) {
        if (c > 1 && std::find(r.ks.begin(), r.ks.end(), k) == r.ks.end()) {
            r.ks.push_back(k);
        }
    }
    return r;
}

std::vector<Case> metric_cases() {
    return {
        random_case("random 5 classes", 5, 300, 0.6, {}, {}, false, 1),
        random_case("class never predicted", 6, 200, 0.5, {}, {2}, false, 2),
        random_case("class without support", 6, 200, 0.5, {4}, {}, false, 3),
        random_case("class absent from both", 6, 200, 0.5, {5}, {5}, false, 4),
        random_case("all three", 9, 400, 0.4, {4, 7}, {1, 7}, false, 5),
        random_case("binary", 2, 150, 0.7, {}, {}, false, 6),
        random_case("perfect", 4, 50, 1.0, {}, {}, false, 7),
        random_case("never right", 4, 50, 0.0, {}, {}, false, 8),
        random_case("one image", 3, 1, 0.5, {}, {}, false, 9),
        random_case("tied scores", 5, 300, 0.5, {3}, {0}, true, 10),
        random_case("one class", 1, 20, 1.0, {}, {}, false, 11),
    };
}

json case_json(const Case& c) {
    return {{"name", c.name},           {"num_classes", c.num_classes},     {"labels", c.labels},
            {"predicted", c.predicted}, {"probabilities", c.probabilities}, {"ks", c.ks}};
}

/// Records error messages.
class Recorder : public wb::Observer {
public:
    std::vector<std::string> errors;
    void on_message(wb::Level level, const std::string& text) override {
        if (level == wb::Level::Error) {
            errors.push_back(text);
        }
    }
};

constexpr double kTolerance = 1e-12;

}  // namespace

class TestEvaluation : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    // Pure metrics
    void handComputedMetrics();
    void topKRanksTiesAsScikitLearn();
    void noImagesGivesZeros();
    void badInputThrows();
    void metricsMatchScikitLearn_data();
    void metricsMatchScikitLearn();

    // Report files and text
    void csvFieldQuotesPerRfc4180_data();
    void csvFieldQuotesPerRfc4180();
    void predictionsCsvQuotesPathsWithCommas();
    void reportTextLooksLikeScikitLearns();

    // A trained run
    void evaluateBestCheckpointOnTest();
    void validationAccuracyOfTheBestCheckpointMatches();
    void featuresAreCollectedWhenAsked();
    void missingCheckpointNamesTheFile();
    void changedClassesAreRefused();
    void emptySplitIsRefused();
    void unknownSplitIsRefused();
    void cancelWritesNothing();

private:
    /// Runs metrics_reference.py once over metric_cases(); returns the error, if any.
    QString run_reference();
    /// A copy of the trained run folder, to change without touching the original.
    fs::path copy_run(const std::string& name) const;

    QTemporaryDir dir_;
    fs::path data_;
    wb::RunResult run_;
    bool reference_tried_ = false;
    QString reference_skip_;
    QString reference_error_;
    json reference_;
};

void TestEvaluation::initTestCase() {
    QVERIFY(dir_.isValid());
    data_ = fs::path(dir_.path().toStdString()) / "stripes";
    wb::test::write_stripes(data_ / "train", 48, 1);
    wb::test::write_stripes(data_ / "val", 16, 2);
    wb::test::write_stripes(data_ / "test", 16, 3);

    wb::Experiment e;
    e.name = "eval";
    e.data.root = data_.string();
    e.preprocessing.image_size = 16;
    e.preprocessing.channels = 1;
    e.optimizer.type = "adam";
    e.optimizer.lr = 3e-3;
    e.optimizer.weight_decay = 0;
    e.epochs = 2;
    e.batch_size = 16;
    e.threads = 1;
    e.runs_dir = (fs::path(dir_.path().toStdString()) / "runs").string();
    std::atomic<bool> cancel{false};
    Recorder rec;
    run_ = wb::train(e, rec, cancel);
    QCOMPARE(QString::fromStdString(run_.status), QString("finished"));
    QVERIFY(run_.has_test && run_.has_val);
}

// ---------------------------------------------------------------------------------------------
// Pure metrics

void TestEvaluation::handComputedMetrics() {
    // Class 2 is never predicted, class 3 never occurs at all.
    const auto m = wb::classification_metrics({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 4);
    const std::vector<std::int64_t> confusion = {1, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    QCOMPARE(m.confusion.counts, confusion);
    QCOMPARE(m.confusion.at(2, 0), std::int64_t(1));
    const double precision[] = {0.5, 2.0 / 3, 0, 0};
    const double recall[] = {0.5, 1, 0, 0};
    const double f1[] = {0.5, 0.8, 0, 0};
    const std::int64_t support[] = {2, 2, 1, 0};
    for (int k = 0; k < 4; ++k) {
        QVERIFY(qAbs(m.per_class[k].precision - precision[k]) < kTolerance);
        QVERIFY(qAbs(m.per_class[k].recall - recall[k]) < kTolerance);
        QVERIFY(qAbs(m.per_class[k].f1 - f1[k]) < kTolerance);
        QCOMPARE(m.per_class[k].support, support[k]);
    }
    QVERIFY(qAbs(m.macro.precision - (0.5 + 2.0 / 3) / 4) < kTolerance);
    QVERIFY(qAbs(m.macro.recall - 0.375) < kTolerance);
    QVERIFY(qAbs(m.macro.f1 - 0.325) < kTolerance);
    QVERIFY(qAbs(m.weighted.precision - (1 + 4.0 / 3) / 5) < kTolerance);
    QVERIFY(qAbs(m.weighted.recall - 0.6) < kTolerance);
    QVERIFY(qAbs(m.weighted.f1 - 0.52) < kTolerance);
    QCOMPARE(m.accuracy, 0.6);
    QCOMPARE(m.correct, std::int64_t(3));
    QCOMPARE(m.macro.support, std::int64_t(5));
}

void TestEvaluation::topKRanksTiesAsScikitLearn() {
    // On a tie the higher class index ranks first.
    const std::vector<float> scores = {0.5f, 0.5f, 0.f,    // true 0: second, after class 1
                                       0.f,  0.5f, 0.5f,   // true 1: second, after class 2
                                       0.2f, 0.3f, 0.5f};  // true 0: third
    const std::vector<int> labels = {0, 1, 0};
    QCOMPARE(wb::top_k_accuracy(scores, labels, 3, 1), 0.0);
    QCOMPARE(wb::top_k_accuracy(scores, labels, 3, 2), 2.0 / 3);
    QCOMPARE(wb::top_k_accuracy(scores, labels, 3, 3), 1.0);
    QCOMPARE(wb::top_k_accuracy(scores, labels, 3, 7), 1.0);
}

void TestEvaluation::noImagesGivesZeros() {
    const auto m = wb::classification_metrics({}, {}, 3);
    QCOMPARE(m.confusion.counts, std::vector<std::int64_t>(9, 0));
    QCOMPARE(m.accuracy, 0.0);
    QCOMPARE(m.macro.f1, 0.0);
    QCOMPARE(m.weighted.precision, 0.0);
    QCOMPARE(wb::top_k_accuracy({}, {}, 3, 1), 0.0);
}

void TestEvaluation::badInputThrows() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::confusion_matrix({0, 1}, {0}, 2));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::confusion_matrix({0, 2}, {0, 1}, 2));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::confusion_matrix({0, 1}, {0, -1}, 2));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::confusion_matrix({}, {}, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::top_k_accuracy({0.5f}, {0}, 2, 1));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::top_k_accuracy({0.5f, 0.5f}, {0}, 2, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, wb::top_k_accuracy({0.5f, 0.5f}, {2}, 2, 1));
}

QString TestEvaluation::run_reference() {
    if (reference_tried_) {
        return reference_error_;
    }
    reference_tried_ = true;
    const QString python = WB_PYTHON;
    const QString script = QStringLiteral(WB_SOURCE_DIR) + "/tests/python/metrics_reference.py";
    if (!QFileInfo(python).isExecutable()) {
        reference_skip_ = "no Python interpreter at WB_PYTHON=" + python;
        return {};
    }
    json cases = json::array();
    for (const Case& c : metric_cases()) {
        cases.push_back(case_json(c));
    }
    const fs::path in = fs::path(dir_.path().toStdString()) / "metric_cases.json";
    const fs::path out = fs::path(dir_.path().toStdString()) / "metric_reference.json";
    std::ofstream(in) << cases.dump();
    QProcess process;
    process.start(python, {script, QString::fromStdString(in.string()),
                           QString::fromStdString(out.string())});
    if (!process.waitForFinished(120000)) {
        return reference_error_ = "metrics_reference.py did not finish in 2 minutes";
    }
    const QString err = QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
    if (process.exitStatus() == QProcess::NormalExit && process.exitCode() == 3) {
        reference_skip_ = python + " has no scikit-learn (python3-sklearn): " + err;
        return {};
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return reference_error_ = "metrics_reference.py failed: " + err;
    }
    reference_ = json::parse(read_file(out));
    return {};
}

void TestEvaluation::metricsMatchScikitLearn_data() {
    QTest::addColumn<int>("index");
    const auto cases = metric_cases();
    for (std::size_t i = 0; i < cases.size(); ++i) {
        QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
    }
}

void TestEvaluation::metricsMatchScikitLearn() {
    QFETCH(int, index);
    const QString error = run_reference();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    if (!reference_skip_.isEmpty()) {
        QSKIP(qPrintable("no scikit-learn reference: " + reference_skip_));
    }
    const Case c = metric_cases()[static_cast<std::size_t>(index)];
    const json& ref = reference_.at(c.name);
    const auto m = wb::classification_metrics(c.labels, c.predicted, c.num_classes);
    auto close = [](double a, double b) { return std::abs(a - b) <= kTolerance; };
    auto message = [](const char* what, int k, double ours, double theirs) {
        return QString("%1 of class %2: %3, scikit-learn %4")
            .arg(what)
            .arg(k)
            .arg(ours, 0, 'g', 17)
            .arg(theirs, 0, 'g', 17);
    };
    for (int t = 0; t < c.num_classes; ++t) {
        for (int p = 0; p < c.num_classes; ++p) {
            QCOMPARE(m.confusion.at(t, p), ref["confusion"][t][p].get<std::int64_t>());
        }
    }
    for (int k = 0; k < c.num_classes; ++k) {
        const auto& ours = m.per_class[static_cast<std::size_t>(k)];
        const double p = ref["precision"][k], r = ref["recall"][k], f = ref["f1"][k];
        QVERIFY2(close(ours.precision, p), qPrintable(message("precision", k, ours.precision, p)));
        QVERIFY2(close(ours.recall, r), qPrintable(message("recall", k, ours.recall, r)));
        QVERIFY2(close(ours.f1, f), qPrintable(message("f1", k, ours.f1, f)));
        QCOMPARE(ours.support, ref["support"][k].get<std::int64_t>());
    }
    for (const auto& [name, ours] :
         {std::pair{"macro", m.macro}, std::pair{"weighted", m.weighted}}) {
        for (const auto& [field, value] :
             {std::pair{"precision", ours.precision}, std::pair{"recall", ours.recall},
              std::pair{"f1", ours.f1}}) {
            const double theirs = ref[name][field];
            QVERIFY2(close(value, theirs), qPrintable(QString("%1 %2: %3, scikit-learn %4")
                                                          .arg(name, field)
                                                          .arg(value, 0, 'g', 17)
                                                          .arg(theirs, 0, 'g', 17)));
        }
    }
    QVERIFY(close(m.accuracy, ref["accuracy"].get<double>()));
    for (int k : c.ks) {
        const double ours = wb::top_k_accuracy(c.probabilities, c.labels, c.num_classes, k);
        const double theirs = ref["top_k"][std::to_string(k)];
        QVERIFY2(close(ours, theirs),
                 qPrintable(QString("top-%1: %2, scikit-learn %3").arg(k).arg(ours).arg(theirs)));
    }
}

// ---------------------------------------------------------------------------------------------
// Report files and text

void TestEvaluation::csvFieldQuotesPerRfc4180_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("field");
    QTest::newRow("plain") << "a/b c.png"
                           << "a/b c.png";
    QTest::newRow("comma") << "a,b.png"
                           << "\"a,b.png\"";
    QTest::newRow("quote") << "say \"hi\".png"
                           << "\"say \"\"hi\"\".png\"";
    QTest::newRow("newline") << "a\nb"
                             << "\"a\nb\"";
    QTest::newRow("empty") << ""
                           << "";
}

void TestEvaluation::csvFieldQuotesPerRfc4180() {
    QFETCH(QString, text);
    QFETCH(QString, field);
    QCOMPARE(QString::fromStdString(wb::csv_field(text.toStdString())), field);
}

void TestEvaluation::predictionsCsvQuotesPathsWithCommas() {
    wb::Predictions p;
    p.num_classes = 2;
    p.labels = {0, 1};
    p.predicted = {1, 1};
    p.probabilities = {0.25f, 0.75f, 0.125f, 0.875f};
    p.losses = {1.5f, 0.25f};
    p.paths = {"/data/a,b/\"x\".png", "/data/c.png"};
    const auto rows = parse_csv(wb::predictions_csv(p, {"cat, small", "dog"}));
    QCOMPARE(int(rows.size()), 3);
    QCOMPARE(rows[0],
             (std::vector<std::string>{"path", "true", "predicted", "probability", "loss"}));
    QCOMPARE(rows[1],
             (std::vector<std::string>{"/data/a,b/\"x\".png", "cat, small", "dog", "0.75", "1.5"}));
    QCOMPARE(rows[2], (std::vector<std::string>{"/data/c.png", "dog", "dog", "0.875", "0.25"}));

    const auto confusion = parse_csv(
        wb::confusion_matrix_csv(wb::confusion_matrix(p.labels, p.predicted, 2), {"a,b", "c"}));
    QCOMPARE(confusion[0], (std::vector<std::string>{"true/predicted", "a,b", "c"}));
    QCOMPARE(confusion[1], (std::vector<std::string>{"a,b", "0", "1"}));
    QCOMPARE(confusion[2], (std::vector<std::string>{"c", "0", "1"}));
}

void TestEvaluation::reportTextLooksLikeScikitLearns() {
    const auto m = wb::classification_metrics({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 3);
    const QString text =
        QString::fromStdString(wb::classification_report_text(m, {"cat", "dog", "bird"}));
    const QStringList lines = text.split('\n');
    QVERIFY2(lines[0].simplified() == "precision recall f1-score support", qPrintable(text));
    QCOMPARE(lines[2].simplified(), QString("cat 0.5000 0.5000 0.5000 2"));
    QCOMPARE(lines[3].simplified(), QString("dog 0.6667 1.0000 0.8000 2"));
    QCOMPARE(lines[4].simplified(), QString("bird 0.0000 0.0000 0.0000 1"));
    QCOMPARE(lines[6].simplified(), QString("accuracy 0.6000 5"));
    QCOMPARE(lines[7].simplified(), QString("macro avg 0.3889 0.5000 0.4333 5"));
    QCOMPARE(lines[8].simplified(), QString("weighted avg 0.4667 0.6000 0.5200 5"));
    // Columns line up: every number ends where its header does.
    QCOMPARE(lines[2].size(), lines[0].size());
    QCOMPARE(lines[6].size(), lines[0].size());

    const QString matrix =
        QString::fromStdString(wb::confusion_matrix_text(m.confusion, {"cat", "dog", "bird"}));
    QCOMPARE(matrix.split('\n')[1].simplified(), QString("0 1 2"));
    QCOMPARE(matrix.split('\n')[2].simplified(), QString("0 cat 1 1 0"));
    QCOMPARE(matrix.split('\n')[4].simplified(), QString("2 bird 1 0 0"));

    // Regression: names were padded by their UTF-8 bytes, so accented and CJK rows stood out.
    // A CJK character takes two columns, every other character one.
    const QString utf8 =
        QString::fromStdString(wb::classification_report_text(m, {"Ünïcødé", "クラス", "b"}));
    const QStringList u = utf8.split('\n');
    const auto columns = [](const QString& line) {
        int width = 0;
        for (const QChar c : line) {
            width += c.unicode() >= 0x2E80 && c.unicode() <= 0xA4CF ? 2 : 1;
        }
        return width;
    };
    QCOMPARE(columns(u[2]), columns(u[0]));
    QCOMPARE(columns(u[3]), columns(u[0]));
    QCOMPARE(columns(u[4]), columns(u[0]));
}

// ---------------------------------------------------------------------------------------------
// A trained run

fs::path TestEvaluation::copy_run(const std::string& name) const {
    const fs::path copy = fs::path(dir_.path().toStdString()) / name;
    fs::remove_all(copy);
    fs::copy(run_.run_dir, copy, fs::copy_options::recursive);
    fs::remove_all(copy / "evaluation");
    return copy;
}

void TestEvaluation::evaluateBestCheckpointOnTest() {
    std::atomic<bool> cancel{false};
    Recorder rec;
    const wb::EvaluationReport r = wb::evaluate_checkpoint(run_.run_dir, {}, rec, cancel);
    QVERIFY(!r.cancelled);
    QCOMPARE(QString::fromStdString(r.split), QString("test"));
    QCOMPARE(QString::fromStdString(r.checkpoint), QString("best.pt"));
    const auto& p = r.predictions;
    QCOMPARE(int(p.size()), 32);
    QCOMPARE(p.num_classes, 2);
    QCOMPARE(r.classes, (std::vector<std::string>{"horizontal", "vertical"}));

    // The trainer evaluated the same checkpoint on the same batches.
    QCOMPARE(r.metrics.accuracy, run_.test_accuracy);
    QVERIFY2(std::abs(r.mean_loss - run_.test_loss) < 1e-5 * std::max(1.0, run_.test_loss),
             qPrintable(QString("%1 vs %2").arg(r.mean_loss).arg(run_.test_loss)));

    // One prediction per test image, each labelled by its folder.
    std::set<std::string> expected_paths;
    for (const auto& entry : fs::recursive_directory_iterator(data_ / "test")) {
        if (entry.is_regular_file()) {
            expected_paths.insert(entry.path().string());
        }
    }
    QCOMPARE(std::set<std::string>(p.paths.begin(), p.paths.end()), expected_paths);
    for (std::size_t i = 0; i < p.size(); ++i) {
        QCOMPARE(fs::path(p.paths[i]).parent_path().filename().string(), r.classes[p.labels[i]]);
        float sum = 0;
        for (int k = 0; k < 2; ++k) {
            sum += p.probabilities[i * 2 + k];
        }
        QVERIFY(std::abs(sum - 1.f) < 1e-5f);
        QVERIFY(p.confidence(i) >= 0.5f);  // the predicted class is the more likely
        QVERIFY(p.losses[i] >= 0.f);
        QVERIFY(std::abs(p.losses[i] + std::log(p.probabilities[i * 2 + p.labels[i]])) < 1e-4f);
    }

    // The files, parsed back, hold the same numbers.
    const fs::path out = fs::path(run_.run_dir) / "evaluation" / "test";
    QCOMPARE(QString::fromStdString(r.output_dir), QString::fromStdString(out.string()));
    const json j = json::parse(read_file(out / "evaluation.json"));
    QCOMPARE(j["accuracy"].get<double>(), run_.test_accuracy);
    QCOMPARE(j["top5_accuracy"].get<double>(), 1.0);  // two classes
    QCOMPARE(j["images"].get<int>(), 32);
    QCOMPARE(j["split"].get<std::string>(), std::string("test"));
    QCOMPARE(j["classes"].get<std::vector<std::string>>(), r.classes);
    std::vector<std::vector<std::int64_t>> counted(2, std::vector<std::int64_t>(2, 0));
    for (std::size_t i = 0; i < p.size(); ++i) {
        ++counted[p.labels[i]][p.predicted[i]];
    }
    QCOMPARE(j["confusion_matrix"].get<std::vector<std::vector<std::int64_t>>>(), counted);
    for (int k = 0; k < 2; ++k) {
        const json& c = j["per_class"][k];
        QCOMPARE(c["class"].get<std::string>(), r.classes[k]);
        QCOMPARE(c["support"].get<std::int64_t>(), counted[k][0] + counted[k][1]);
        QCOMPARE(c["precision"].get<double>(), r.metrics.per_class[k].precision);
        QCOMPARE(c["recall"].get<double>(), r.metrics.per_class[k].recall);
        QCOMPARE(c["f1"].get<double>(), r.metrics.per_class[k].f1);
    }
    QCOMPARE(j["macro_avg"]["f1"].get<double>(), r.metrics.macro.f1);
    QCOMPARE(j["weighted_avg"]["recall"].get<double>(), r.metrics.weighted.recall);
    QCOMPARE(j["weighted_avg"]["recall"].get<double>(), r.metrics.accuracy);

    const auto rows = parse_csv(read_file(out / "predictions.csv"));
    QCOMPARE(int(rows.size()), 1 + 32);
    for (std::size_t i = 0; i < p.size(); ++i) {
        const auto& row = rows[i + 1];
        QCOMPARE(int(row.size()), 5);
        QCOMPARE(row[0], p.paths[i]);
        QCOMPARE(row[1], r.classes[p.labels[i]]);
        QCOMPARE(row[2], r.classes[p.predicted[i]]);
        QCOMPARE(std::stof(row[3]), p.confidence(i));
        QCOMPARE(std::stof(row[4]), p.losses[i]);
    }
    const auto matrix = parse_csv(read_file(out / "confusion_matrix.csv"));
    QCOMPARE(int(matrix.size()), 3);
    QCOMPARE(matrix[0], (std::vector<std::string>{"true/predicted", "horizontal", "vertical"}));
    for (int t = 0; t < 2; ++t) {
        QCOMPARE(matrix[t + 1][0], r.classes[t]);
        QCOMPARE(std::stoll(matrix[t + 1][1]), counted[t][0]);
        QCOMPARE(std::stoll(matrix[t + 1][2]), counted[t][1]);
    }
}

void TestEvaluation::validationAccuracyOfTheBestCheckpointMatches() {
    std::atomic<bool> cancel{false};
    Recorder rec;
    wb::EvaluationOptions options;
    options.split = "val";
    const auto r = wb::evaluate_checkpoint(run_.run_dir, options, rec, cancel);
    QCOMPARE(int(r.predictions.size()), 32);
    QCOMPARE(r.metrics.accuracy, run_.best_val_accuracy);
    QVERIFY(fs::exists(fs::path(run_.run_dir) / "evaluation" / "val" / "evaluation.json"));
}

void TestEvaluation::featuresAreCollectedWhenAsked() {
    std::atomic<bool> cancel{false};
    Recorder rec;
    wb::EvaluationOptions options;
    options.features = true;
    options.write_files = false;
    const auto with = wb::evaluate_checkpoint(run_.run_dir, options, rec, cancel);
    options.features = false;
    const auto without = wb::evaluate_checkpoint(run_.run_dir, options, rec, cancel);
    QVERIFY(with.output_dir.empty());
    QCOMPARE(with.predictions.feature_size, std::int64_t(64 * 7 * 7));  // small_cnn
    QCOMPARE(with.predictions.features.size(), std::size_t(32 * 64 * 7 * 7));
    QVERIFY(without.predictions.features.empty());
    QCOMPARE(with.predictions.predicted, without.predictions.predicted);
    QCOMPARE(with.predictions.probabilities, without.predictions.probabilities);
    // Features after a ReLU and average pooling are never negative.
    QVERIFY(*std::min_element(with.predictions.features.begin(), with.predictions.features.end()) >=
            0.f);
}

void TestEvaluation::missingCheckpointNamesTheFile() {
    std::atomic<bool> cancel{false};
    Recorder rec;
    wb::EvaluationOptions options;
    options.checkpoint = "nope.pt";
    try {
        wb::evaluate_checkpoint(run_.run_dir, options, rec, cancel);
        QFAIL("no DataError thrown");
    } catch (const wb::DataError& error) {
        const std::string expected = (fs::path(run_.run_dir) / "nope.pt").string();
        QVERIFY2(std::string(error.what()).find(expected) != std::string::npos, error.what());
    }
}

void TestEvaluation::changedClassesAreRefused() {
    const fs::path run = copy_run("changed-classes");
    std::ofstream(run / "classes.txt") << "horizontal\ndiagonal\n";
    std::atomic<bool> cancel{false};
    Recorder rec;
    try {
        wb::evaluate_checkpoint(run.string(), {}, rec, cancel);
        QFAIL("no DataError thrown");
    } catch (const wb::DataError& error) {
        const std::string text = error.what();
        QVERIFY2(text.find((run / "classes.txt").string()) != std::string::npos, error.what());
        QVERIFY2(text.find("differ") != std::string::npos, error.what());
    }
    QVERIFY(!fs::exists(run / "evaluation"));
}

void TestEvaluation::emptySplitIsRefused() {
    // The same classes, but no test/ folder.
    const fs::path data = fs::path(dir_.path().toStdString()) / "stripes-no-test";
    wb::test::write_stripes(data / "train", 8, 4);
    wb::test::write_stripes(data / "val", 4, 5);
    const fs::path run = copy_run("no-test");
    wb::Experiment e = wb::load_experiment((run / "experiment.yaml").string());
    e.data.root = data.string();
    wb::save_experiment(e, (run / "experiment.yaml").string());
    std::atomic<bool> cancel{false};
    Recorder rec;
    try {
        wb::evaluate_checkpoint(run.string(), {}, rec, cancel);
        QFAIL("no DataError thrown");
    } catch (const wb::DataError& error) {
        const std::string text = error.what();
        QVERIFY2(text.find("test split has no images") != std::string::npos, error.what());
        QVERIFY2(text.find(data.string()) != std::string::npos, error.what());
    }
}

void TestEvaluation::unknownSplitIsRefused() {
    std::atomic<bool> cancel{false};
    Recorder rec;
    wb::EvaluationOptions options;
    options.split = "holdout";
    QVERIFY_THROWS_EXCEPTION(wb::ConfigError,
                             wb::evaluate_checkpoint(run_.run_dir, options, rec, cancel));
}

void TestEvaluation::cancelWritesNothing() {
    const fs::path run = copy_run("cancelled");
    std::atomic<bool> cancel{true};
    Recorder rec;
    const auto r = wb::evaluate_checkpoint(run.string(), {}, rec, cancel);
    QVERIFY(r.cancelled);
    QVERIFY(r.output_dir.empty());
    QVERIFY(!fs::exists(run / "evaluation"));
}

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
