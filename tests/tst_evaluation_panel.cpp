// The Evaluation tab: evaluations fed as the training worker does (a synthetic report of 3
// classes over 12 images written as PNGs) fill the selector, the matrix, the per-class table
// and the gallery; a finished run's files read back to the same; single-image inference
// agrees with the run's own test predictions; and a training run in the window ends with its
// validation and test evaluations on the tab.

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QMimeData>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>

#include "app/class_metrics_table.h"
#include "app/classify_box.h"
#include "app/evaluation_files.h"
#include "app/evaluation_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/runs_panel.h"
#include "app/training_panel.h"
#include "engine/evaluation.h"
#include "engine/evaluation_report.h"
#include "engine/trainer.h"
#include "stripes_fixture.h"
#include "widgets/confusion_matrix_view.h"
#include "widgets/prediction_gallery.h"

using namespace wb::ui;
namespace fs = std::filesystem;

namespace {

constexpr int kRunTimeoutMs = 180000;
const QStringList kClasses = {QStringLiteral("cat"), QStringLiteral("dog"), QStringLiteral("fox")};

/// The synthetic split: true class, predicted class and the three probabilities of 12 images.
/// Confusion matrix (rows true): cat 2 2 1 / dog 1 3 0 / fox 0 1 2; 7 of 12 right.
struct Image {
    int label;
    int predicted;
    float p[3];
};
const Image kImages[12] = {
    {0, 0, {0.9f, 0.05f, 0.05f}}, {0, 0, {0.6f, 0.3f, 0.1f}}, {0, 1, {0.3f, 0.5f, 0.2f}},
    {0, 1, {0.1f, 0.8f, 0.1f}},   {0, 2, {0.2f, 0.1f, 0.7f}}, {1, 1, {0.1f, 0.8f, 0.1f}},
    {1, 1, {0.05f, 0.9f, 0.05f}}, {1, 1, {0.3f, 0.4f, 0.3f}}, {1, 0, {0.5f, 0.2f, 0.3f}},
    {2, 2, {0.02f, 0.08f, 0.9f}}, {2, 2, {0.1f, 0.2f, 0.7f}}, {2, 1, {0.2f, 0.6f, 0.2f}},
};

/// A report over the images in `paths` (one per kImages row), as the trainer makes it.
std::shared_ptr<wb::EvaluationReport> makeReport(const QString& runDir, const QString& split,
                                                 const QStringList& paths) {
    auto report = std::make_shared<wb::EvaluationReport>();
    report->run_dir = runDir.toStdString();
    report->split = split.toStdString();
    report->checkpoint = split == QLatin1String("test") ? "best.pt" : "epoch 1";
    for (const QString& name : kClasses) {
        report->classes.push_back(name.toStdString());
    }
    wb::Predictions& p = report->predictions;
    p.num_classes = 3;
    for (int i = 0; i < 12; ++i) {
        p.labels.push_back(kImages[i].label);
        p.predicted.push_back(kImages[i].predicted);
        p.probabilities.insert(p.probabilities.end(), kImages[i].p, kImages[i].p + 3);
        p.losses.push_back(-std::log(kImages[i].p[kImages[i].label]));
        p.paths.push_back(paths[i].toStdString());
    }
    wb::compute_metrics(*report);
    return report;
}

wb::EpochEvaluation evaluation(std::shared_ptr<const wb::EvaluationReport> report, int epoch) {
    wb::EpochEvaluation e;
    e.epoch = epoch;
    e.split = report->split;
    e.report = std::move(report);
    return e;
}

QStringList galleryPaths(const PredictionGallery* gallery) {
    QStringList paths;
    for (int i = 0; i < gallery->itemCount(); ++i) {
        paths.append(gallery->item(i).path);
    }
    return paths;
}

/// The column `column` of the class table as shown, without the two average rows.
QList<double> classColumn(const ClassMetricsTable* table, int column) {
    QList<double> values;
    for (int row = 0; row < table->rowCount(); ++row) {
        if (!table->isAverageRow(row)) {
            values.append(table->value(row, column));
        }
    }
    return values;
}

/// Clicks the header of `column`, as a user sorting the table does.
void clickHeader(ClassMetricsTable* table, int column) {
    QHeaderView* header = table->horizontalHeader();
    const QPoint at(header->sectionViewportPosition(column) + header->sectionSize(column) / 2,
                    header->height() / 2);
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, at);
}

}  // namespace

class TestEvaluationPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void selectorMatrixAndTableShowAnEvaluation();
    void classTableSortsByValueWithTheAveragesLast();
    void cellClickShowsItsImagesMostConfidentFirst();
    void topLossesShowsTheHighestLossesFirst();
    void matrixExportsWritePngAndCsv();
    void newEpochIsSelectedUnlessTheUserPickedAnother();
    void evaluationOfAnotherRunIsIgnored();
    void csvParserReadsQuotedFields();
    void loadRunShowsTheSameAsTheLiveEvaluation();
    void loadRunWithoutEvaluationSaysSo();
    void classifyImageAgreesWithTheRunsTestPredictions();
    void windowTrainingRunFillsTheEvaluationTab();

private:
    QTemporaryDir m_dir;
    QString m_run;
    QStringList m_paths;
};

void TestEvaluationPanel::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("WorkbenchTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_evaluation_panel"));
    if (qEnvironmentVariableIsEmpty("WB_DEMO_DATA")) {
        qputenv("WB_DEMO_DATA", WB_SOURCE_DIR "/resources/demo");
    }
    wb::set_threads(0);
    QVERIFY(m_dir.isValid());
    m_run = QDir(m_dir.path()).filePath(QStringLiteral("runs/synthetic"));
    const QDir images(QDir(m_dir.path()).filePath(QStringLiteral("images")));
    QVERIFY(QDir().mkpath(images.path()));
    for (int i = 0; i < 12; ++i) {
        QImage image(8, 8, QImage::Format_Grayscale8);
        image.fill(20 * i);
        // One name with a comma and a space: predictions.csv quotes it.
        const QString name = i == 3 ? QStringLiteral("img 3, copy.png")
                                    : QStringLiteral("img%1.png").arg(i, 2, 10, QLatin1Char('0'));
        m_paths.append(images.filePath(name));
        QVERIFY(image.save(m_paths.back()));
    }
}

void TestEvaluationPanel::selectorMatrixAndTableShowAnEvaluation() {
    EvaluationPanel panel;
    QCOMPARE(panel.entryCount(), 0);
    QVERIFY(panel.matrixView()->showsHint());
    QVERIFY(!panel.topLossesButton()->isEnabled());
    QVERIFY(panel.title().startsWith(QStringLiteral("No evaluation yet")));

    panel.setRunDir(m_run);
    QVERIFY(panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 0)));
    QCOMPARE(panel.entryCount(), 1);
    QCOMPARE(panel.selector()->count(), 1);
    QCOMPARE(panel.selector()->itemText(0), QStringLiteral("Validation · epoch 1"));
    QCOMPARE(panel.currentIndex(), 0);

    ConfusionMatrixView* matrix = panel.matrixView();
    QCOMPARE(matrix->classes(), kClasses);
    const qint64 expected[3][3] = {{2, 2, 1}, {1, 3, 0}, {0, 1, 2}};
    for (int t = 0; t < 3; ++t) {
        for (int p = 0; p < 3; ++p) {
            QCOMPARE(matrix->count(t, p), expected[t][p]);
        }
    }
    QCOMPARE(panel.title(),
             QStringLiteral("Validation, epoch 1 — accuracy 58.3%, top-5 100.0%, mean loss %1")
                 .arg(panel.currentEvaluation()->report->mean_loss, 0, 'f', 3));
    QVERIFY(panel.topLossesButton()->isEnabled());
    QVERIFY(panel.exportPngButton()->isEnabled());
    QCOMPARE(panel.statusText(), QStringLiteral("run synthetic"));
    // Regression: the title in the matrix's own label (which does not wrap) made the panel,
    // and so the window, wider than a 1280-pixel screen. The window's right side is about
    // 800 pixels wide.
    QVERIFY2(panel.minimumSizeHint().width() <= 720,
             qPrintable(QString::number(panel.minimumSizeHint().width())));

    // Per class in class order, then the two averages.
    ClassMetricsTable* table = panel.classTable();
    QCOMPARE(table->rowCount(), 5);
    const QStringList names = {"cat", "dog", "fox", "macro avg", "weighted avg"};
    const QStringList precision = {"0.667", "0.500", "0.667", "0.611", "0.611"};
    const QStringList recall = {"0.400", "0.750", "0.667", "0.606", "0.583"};
    const QStringList support = {"5", "4", "3", "12", "12"};
    for (int row = 0; row < 5; ++row) {
        QCOMPARE(table->text(row, ClassMetricsTable::Class), names[row]);
        QCOMPARE(table->text(row, ClassMetricsTable::Precision), precision[row]);
        QCOMPARE(table->text(row, ClassMetricsTable::Recall), recall[row]);
        QCOMPARE(table->text(row, ClassMetricsTable::Support), support[row]);
        QCOMPARE(table->isAverageRow(row), row >= 3);
    }
    // F1 of cat: 2 * (2/3) * 0.4 / (2/3 + 0.4) = 0.5.
    QCOMPARE(table->text(0, ClassMetricsTable::F1), QStringLiteral("0.500"));
}

void TestEvaluationPanel::classTableSortsByValueWithTheAveragesLast() {
    // Supports 9, 100 and 10 sort differently as numbers and as text ("10" < "100" < "9").
    wb::ClassificationMetrics m;
    m.per_class = {{0.95, 0.2, 0.33, 9}, {0.9, 0.5, 0.64, 100}, {0.1, 0.75, 0.18, 10}};
    m.macro = {0.65, 0.48, 0.38, 119};
    m.weighted = {0.85, 0.5, 0.6, 119};
    ClassMetricsTable table;
    table.resize(500, 300);
    table.show();
    QVERIFY(QTest::qWaitForWindowExposed(&table));
    table.setMetrics({"a", "b", "c"}, m);

    clickHeader(&table, ClassMetricsTable::Support);
    const Qt::SortOrder first = table.horizontalHeader()->sortIndicatorOrder();
    QCOMPARE(table.horizontalHeader()->sortIndicatorSection(), int(ClassMetricsTable::Support));
    const QList<double> ascending = {9, 10, 100};
    const QList<double> descending = {100, 10, 9};
    QCOMPARE(classColumn(&table, ClassMetricsTable::Support),
             first == Qt::AscendingOrder ? ascending : descending);
    QVERIFY(table.isAverageRow(3) && table.isAverageRow(4));
    QCOMPARE(table.text(3, ClassMetricsTable::Class), QStringLiteral("macro avg"));
    QCOMPARE(table.text(4, ClassMetricsTable::Class), QStringLiteral("weighted avg"));

    clickHeader(&table, ClassMetricsTable::Support);
    QVERIFY(table.horizontalHeader()->sortIndicatorOrder() != first);
    QCOMPARE(classColumn(&table, ClassMetricsTable::Support),
             first == Qt::AscendingOrder ? descending : ascending);
    QCOMPARE(table.text(3, ClassMetricsTable::Class), QStringLiteral("macro avg"));
    QCOMPARE(table.text(4, ClassMetricsTable::Class), QStringLiteral("weighted avg"));

    table.sortByColumn(ClassMetricsTable::Recall, Qt::DescendingOrder);
    QCOMPARE(classColumn(&table, ClassMetricsTable::Recall), QList<double>({0.75, 0.5, 0.2}));
    // New values keep the sort.
    m.per_class[0].recall = 0.9;
    table.setMetrics({"a", "b", "c"}, m);
    QCOMPARE(table.text(0, ClassMetricsTable::Class), QStringLiteral("a"));
    QVERIFY(table.isAverageRow(4));
}

void TestEvaluationPanel::cellClickShowsItsImagesMostConfidentFirst() {
    EvaluationPanel panel;
    panel.resize(1000, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setRunDir(m_run);
    panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 0));
    PredictionGallery* gallery = panel.gallery();
    QCOMPARE(gallery->itemCount(), 0);

    // A real click on the cell (true cat, predicted dog): images 3 (80%) then 2 (50%).
    ConfusionMatrixView* matrix = panel.matrixView();
    matrix->ensureCellVisible(0, 1);
    QTest::mouseClick(matrix->viewport(), Qt::LeftButton, {}, matrix->cellRect(0, 1).center());
    QCOMPARE(panel.detailTabs()->currentWidget(), gallery);
    QCOMPARE(gallery->itemCount(), 2);
    QCOMPARE(galleryPaths(gallery), QStringList({m_paths[3], m_paths[2]}));
    QCOMPARE(gallery->title(), QStringLiteral("cat predicted as dog, most confident first"));
    QCOMPARE(gallery->item(0).trueClass, QStringLiteral("cat"));
    QCOMPARE(gallery->item(0).predictedClass, QStringLiteral("dog"));
    QCOMPARE(gallery->item(0).confidence, double(0.8f));
    QVERIFY(!gallery->item(0).image.isNull());
    QCOMPARE(gallery->item(0).image.size(), QSize(8, 8));
    // Top three from the probabilities, the lower class first on a tie.
    QCOMPARE(gallery->topTexts(0), QStringList({"dog 80.0%", "cat 10.0%", "fox 10.0%"}));
    QCOMPARE(gallery->topTexts(1), QStringList({"dog 50.0%", "cat 30.0%", "fox 20.0%"}));

    // The diagonal: 2 right cats, 90% before 60%.
    QVERIFY(panel.showCell(0, 0));
    QCOMPARE(galleryPaths(gallery), QStringList({m_paths[0], m_paths[1]}));
    // An empty cell says so.
    QVERIFY(panel.showCell(1, 2));
    QCOMPARE(gallery->itemCount(), 0);
    QVERIFY(gallery->showsHint());
    QVERIFY(gallery->hintText().contains(QStringLiteral("dog was predicted as fox")));
    QVERIFY(!panel.showCell(3, 0));
}

void TestEvaluationPanel::topLossesShowsTheHighestLossesFirst() {
    EvaluationPanel panel;
    panel.setRunDir(m_run);
    const auto report = makeReport(m_run, "val", m_paths);
    panel.addEvaluation(evaluation(report, 0));
    QTest::mouseClick(panel.topLossesButton(), Qt::LeftButton);
    PredictionGallery* gallery = panel.gallery();
    QCOMPARE(panel.detailTabs()->currentWidget(), gallery);
    QCOMPARE(gallery->itemCount(), 12);  // fewer than kTopLosses

    std::vector<int> order(12);
    std::iota(order.begin(), order.end(), 0);
    const std::vector<float>& losses = report->predictions.losses;
    std::stable_sort(order.begin(), order.end(),
                     [&losses](int a, int b) { return losses[a] > losses[b]; });
    QStringList expected;
    for (int i : order) {
        expected.append(m_paths[i]);
    }
    QCOMPARE(galleryPaths(gallery), expected);
    QCOMPARE(expected.front(), m_paths[3]);  // cat at 10%: the highest loss
    for (int i = 1; i < gallery->itemCount(); ++i) {
        QVERIFY(gallery->item(i - 1).loss >= gallery->item(i).loss);
    }
}

void TestEvaluationPanel::matrixExportsWritePngAndCsv() {
    EvaluationPanel panel;
    const QString png = QDir(m_dir.path()).filePath(QStringLiteral("matrix.png"));
    const QString csv = QDir(m_dir.path()).filePath(QStringLiteral("matrix.csv"));
    QVERIFY(!panel.exportMatrixPng(png));  // nothing to export yet
    panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 0));
    QVERIFY(panel.exportMatrixPng(png));
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 3 * panel.matrixView()->exportCellSize());
    // The title goes into the image only; on screen it is the panel's.
    QVERIFY(panel.matrixView()->title().isEmpty());
    QVERIFY(panel.exportMatrixCsv(csv));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QCOMPARE(text, panel.matrixView()->csvText());
    QVERIFY2(text.contains(QStringLiteral("\ncat,2,2,1\ndog,1,3,0\nfox,0,1,2\n")),
             qPrintable(text));
    QVERIFY(!panel.exportMatrixCsv(QDir(m_dir.path()).filePath(QStringLiteral("no/such/x.csv"))));
}

void TestEvaluationPanel::newEpochIsSelectedUnlessTheUserPickedAnother() {
    EvaluationPanel panel;
    panel.setRunDir(m_run);
    for (int epoch = 0; epoch < 2; ++epoch) {
        panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), epoch));
    }
    QCOMPARE(panel.entryCount(), 2);
    QCOMPARE(panel.entryText(1), QStringLiteral("Validation · epoch 2"));
    QCOMPARE(panel.currentIndex(), 1);
    QCOMPARE(panel.selector()->currentIndex(), 1);
    QVERIFY(panel.title().startsWith(QStringLiteral("Validation, epoch 2 —")));

    // The user looks at epoch 1: epoch 3 arrives but epoch 1 stays.
    panel.showCell(0, 1);
    panel.setCurrentIndex(0);
    panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 2));
    QCOMPARE(panel.entryCount(), 3);
    QCOMPARE(panel.currentIndex(), 0);
    QCOMPARE(panel.selector()->currentText(), QStringLiteral("Validation · epoch 1"));
    QVERIFY(panel.title().startsWith(QStringLiteral("Validation, epoch 1 —")));

    // Picking the newest again follows the newest; the gallery keeps showing the same cell.
    panel.setCurrentIndex(2);
    panel.addEvaluation(evaluation(makeReport(m_run, "test", m_paths), 1));
    QCOMPARE(panel.entryCount(), 4);
    QCOMPARE(panel.entryText(3), QStringLiteral("Test · best checkpoint"));
    QCOMPARE(panel.currentIndex(), 3);
    QVERIFY2(panel.title().startsWith(
                 QStringLiteral("Test, best checkpoint (epoch 2) — accuracy 58.3%")),
             qPrintable(panel.title()));
    QCOMPARE(panel.gallery()->itemCount(), 2);

    // The same split and epoch again replaces the entry.
    panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 1));
    QCOMPARE(panel.entryCount(), 4);

    panel.clear();
    QCOMPARE(panel.entryCount(), 0);
    QCOMPARE(panel.selector()->count(), 0);
    QVERIFY(panel.matrixView()->showsHint());
    QCOMPARE(panel.gallery()->itemCount(), 0);
    QCOMPARE(panel.classTable()->rowCount(), 0);
}

void TestEvaluationPanel::evaluationOfAnotherRunIsIgnored() {
    EvaluationPanel panel;
    panel.setRunDir(m_run);
    const QString other = QDir(m_dir.path()).filePath(QStringLiteral("runs/other"));
    QVERIFY(!panel.addEvaluation(evaluation(makeReport(other, "val", m_paths), 0)));
    QVERIFY(!panel.addEvaluation(wb::EpochEvaluation{}));
    QCOMPARE(panel.entryCount(), 0);
    // The same folder named differently is the same run.
    QVERIFY(panel.addEvaluation(evaluation(makeReport(m_run + "/./", "val", m_paths), 0)));
}

void TestEvaluationPanel::csvParserReadsQuotedFields() {
    const QList<QStringList> rows =
        parseCsv(QStringLiteral("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\n\"two\nlines\",,x\n"));
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows[0], QStringList({"a", "b,c", "say \"hi\""}));
    QCOMPARE(rows[1], QStringList({"two\nlines", "", "x"}));
}

void TestEvaluationPanel::loadRunShowsTheSameAsTheLiveEvaluation() {
    const QString run = QDir(m_dir.path()).filePath(QStringLiteral("runs/finished"));
    const auto val = makeReport(run, "val", m_paths);
    const auto test = makeReport(run, "test", m_paths);
    wb::write_evaluation_files(*val,
                               (fs::path(run.toStdString()) / "evaluation/val/epoch_001").string());
    wb::write_evaluation_files(*val,
                               (fs::path(run.toStdString()) / "evaluation/val/epoch_002").string());
    wb::write_evaluation_files(*test, (fs::path(run.toStdString()) / "evaluation/test").string());
    QFile result(QDir(run).filePath(QStringLiteral("result.yaml")));
    QVERIFY(result.open(QIODevice::WriteOnly));
    result.write("status: finished\nepochs_done: 2\nbest_epoch: 2\n");
    result.close();

    EvaluationPanel live;
    live.addEvaluation(evaluation(val, 0));
    EvaluationPanel loaded;
    QSignalSpy messages(&loaded, &EvaluationPanel::messageLogged);
    QVERIFY(loaded.loadRun(run));
    QCOMPARE(loaded.runDir(), QDir(run).absolutePath());
    QCOMPARE(loaded.entryCount(), 3);
    QCOMPARE(loaded.entryText(0), QStringLiteral("Validation · epoch 1"));
    QCOMPARE(loaded.entryText(1), QStringLiteral("Validation · epoch 2"));
    QCOMPARE(loaded.entryText(2), QStringLiteral("Test · best checkpoint"));
    QCOMPARE(loaded.currentIndex(), 2);
    QVERIFY2(loaded.title().startsWith(
                 QStringLiteral("Test, best checkpoint (epoch 2) — accuracy 58.3%, top-5 100.0%")),
             qPrintable(loaded.title()));

    loaded.setCurrentIndex(0);
    QCOMPARE(loaded.title(), live.title());
    QCOMPARE(loaded.matrixView()->csvText(), live.matrixView()->csvText());
    for (int row = 0; row < 5; ++row) {
        for (int column = 0; column < ClassMetricsTable::ColumnCount; ++column) {
            QCOMPARE(loaded.classTable()->text(row, column), live.classTable()->text(row, column));
        }
    }
    // The same images in the same order; only the predicted class's probability is known.
    QVERIFY(loaded.showCell(0, 1));
    QVERIFY(live.showCell(0, 1));
    QCOMPARE(galleryPaths(loaded.gallery()), galleryPaths(live.gallery()));
    QCOMPARE(galleryPaths(loaded.gallery()), QStringList({m_paths[3], m_paths[2]}));
    QCOMPARE(loaded.gallery()->topTexts(0), QStringList({"dog 80.0%"}));
    QCOMPARE(loaded.gallery()->item(0).loss, live.gallery()->item(0).loss);
    QVERIFY(loaded.showTopLosses());
    QVERIFY(live.showTopLosses());
    QCOMPARE(galleryPaths(loaded.gallery()), galleryPaths(live.gallery()));
    QCOMPARE(messages.size(), 1);  // "Showing 3 evaluations of run finished"
}

void TestEvaluationPanel::loadRunWithoutEvaluationSaysSo() {
    const QString run = QDir(m_dir.path()).filePath(QStringLiteral("runs/empty"));
    QVERIFY(QDir().mkpath(run));
    EvaluationPanel panel;
    panel.addEvaluation(evaluation(makeReport(m_run, "val", m_paths), 0));
    QSignalSpy messages(&panel, &EvaluationPanel::messageLogged);
    QVERIFY(!panel.loadRun(run));
    QCOMPARE(panel.entryCount(), 0);
    QVERIFY2(panel.title().contains(QStringLiteral("has no evaluation")),
             qPrintable(panel.title()));
    QCOMPARE(messages.size(), 1);

    // A broken file is named in the log, and the readable evaluations are still shown.
    const QString broken = QDir(m_dir.path()).filePath(QStringLiteral("runs/broken"));
    const auto val = makeReport(broken, "val", m_paths);
    wb::write_evaluation_files(
        *val, (fs::path(broken.toStdString()) / "evaluation/val/epoch_001").string());
    const QString bad = QDir(broken).filePath(QStringLiteral("evaluation/val/epoch_002"));
    QVERIFY(QDir().mkpath(bad));
    QFile csv(QDir(bad).filePath(QStringLiteral("confusion_matrix.csv")));
    QVERIFY(csv.open(QIODevice::WriteOnly));
    csv.write("true/predicted,cat\ncat,x\n");
    csv.close();
    messages.clear();
    QVERIFY(panel.loadRun(broken));
    QCOMPARE(panel.entryCount(), 1);
    QCOMPARE(messages.size(), 2);
    QVERIFY2(messages.front().at(1).toString().contains(QStringLiteral("confusion_matrix.csv")),
             qPrintable(messages.front().at(1).toString()));
}

void TestEvaluationPanel::classifyImageAgreesWithTheRunsTestPredictions() {
    const fs::path root = fs::path(m_dir.path().toStdString()) / "stripes";
    wb::test::write_stripes(root / "train", 48, 1);
    wb::test::write_stripes(root / "val", 16, 2);
    wb::test::write_stripes(root / "test", 16, 3);
    wb::Experiment e;
    e.name = "classify";
    e.data.root = root.string();
    e.preprocessing.image_size = 16;
    e.preprocessing.channels = 1;
    e.optimizer.type = "adam";
    e.optimizer.lr = 3e-3;
    e.optimizer.weight_decay = 0;
    e.epochs = 2;
    e.batch_size = 16;
    e.threads = 1;
    e.runs_dir = (fs::path(m_dir.path().toStdString()) / "stripes-runs").string();
    wb::Observer quiet;
    std::atomic<bool> cancel{false};
    const wb::RunResult result = wb::train(e, quiet, cancel);
    QVERIFY2(result.status == "finished", result.message.c_str());
    const QString run = QString::fromStdString(result.run_dir);

    EvaluationPanel panel;
    // Without a run, or with a file that is no image, the reason is shown.
    QVERIFY(!panel.classifyImage(m_paths[0]));
    QVERIFY(panel.classifyBox()->message().contains(QStringLiteral("No run")));
    QVERIFY(panel.classifyBox()->top().isEmpty());

    QVERIFY(panel.loadRun(run));
    QCOMPARE(panel.entryText(panel.entryCount() - 1), QStringLiteral("Test · best checkpoint"));
    const QString notAnImage = QDir(run).filePath(QStringLiteral("experiment.yaml"));
    QVERIFY(!panel.classifyImage(notAnImage));
    QVERIFY2(panel.classifyBox()->message().contains(notAnImage),
             qPrintable(panel.classifyBox()->message()));

    QFile file(QDir(run).filePath(QStringLiteral("evaluation/test/predictions.csv")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(file.readAll()));
    QCOMPARE(rows.size(), 1 + 32);
    for (int row : {1, 2, 17, 32}) {
        const QString path = rows[row][0];
        QVERIFY2(panel.classifyImage(path), qPrintable(panel.classifyBox()->message()));
        QCOMPARE(panel.detailTabs()->currentWidget(), panel.classifyBox());
        const auto& top = panel.classifyBox()->top();
        QCOMPARE(top.size(), 2);  // two classes
        QCOMPARE(top.front().first, rows[row][2]);
        QVERIFY2(std::abs(top.front().second - rows[row][3].toDouble()) < 1e-3,
                 qPrintable(QStringLiteral("%1 vs %2").arg(top.front().second).arg(rows[row][3])));
        QVERIFY(top.front().second >= top.back().second);
    }

    // Dropping an image file on the panel classifies it too.
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(rows[5][0])});
    QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    enter.setAccepted(false);
    QApplication::sendEvent(&panel, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&panel, &drop);
    QCOMPARE(panel.classifyBox()->imagePath(), rows[5][0]);
    QCOMPARE(panel.classifyBox()->top().front().first, rows[5][2]);
}

void TestEvaluationPanel::windowTrainingRunFillsTheEvaluationTab() {
    QTemporaryDir runs;
    MainWindowOptions options;
    options.runsDir = runs.path();
    options.epochs = 1;
    options.errorDialogs = false;
    MainWindow window(options);
    window.show();
    wb::Experiment e = window.modelPanel()->experiment();
    e.model.arch = "small_cnn";
    e.epochs = 1;
    e.batch_size = 32;
    window.modelPanel()->setExperiment(e);
    EvaluationPanel* panel = window.evaluationPanel();
    QCOMPARE(window.workTabs()->count(), 3);
    QCOMPARE(window.workTabs()->tabText(2), QStringLiteral("Evaluation"));
    QCOMPARE(window.workTabs()->widget(2), panel);

    TrainingPanel* training = window.trainingPanel();
    QSignalSpy evaluations(training, &TrainingPanel::evaluationFinished);
    QSignalSpy finished(training, &TrainingPanel::runFinished);
    QTRY_VERIFY_WITH_TIMEOUT(training->canStart(), 60000);
    QVERIFY(window.startTraining());
    QVERIFY(finished.wait(kRunTimeoutMs));
    QVERIFY2(training->lastResult().status == "finished", training->lastResult().message.c_str());
    QCOMPARE(evaluations.size(), 2);

    QCOMPARE(panel->entryCount(), 2);
    QCOMPARE(panel->entryText(0), QStringLiteral("Validation · epoch 1"));
    QCOMPARE(panel->entryText(1), QStringLiteral("Test · best checkpoint"));
    QCOMPARE(panel->currentIndex(), 1);
    QCOMPARE(panel->runDir(),
             QDir(QString::fromStdString(training->lastResult().run_dir)).absolutePath());
    QCOMPARE(panel->matrixView()->classCount(), 10);
    qint64 images = 0;
    for (int t = 0; t < 10; ++t) {
        images += panel->matrixView()->rowTotal(t);
    }
    QCOMPARE(images, 100);  // the demo's test split
    QCOMPARE(panel->classTable()->rowCount(), 12);
    // The tab fits a 1280-pixel screen, and the table shows its five columns without
    // scrolling sideways.
    window.workTabs()->setCurrentWidget(panel);
    QVERIFY2(window.minimumSizeHint().width() <= 1280,
             qPrintable(QString::number(window.minimumSizeHint().width())));
    QTRY_VERIFY(panel->classTable()->isVisible());
    QCOMPARE(panel->classTable()->horizontalScrollBar()->maximum(), 0);

    // The Runs tab's button shows the finished run from its files.
    RunsPanel* runsPanel = window.runsPanel();
    QTRY_COMPARE(runsPanel->runCount(), 1);
    QVERIFY(!runsPanel->evaluationButton()->isEnabled());
    QCOMPARE(runsPanel->selectRows({0}), 1);
    QVERIFY(runsPanel->evaluationButton()->isEnabled());
    window.workTabs()->setCurrentIndex(0);
    QTest::mouseClick(runsPanel->evaluationButton(), Qt::LeftButton);
    QCOMPARE(window.workTabs()->currentWidget(), panel);
    QCOMPARE(panel->entryCount(), 2);
    QCOMPARE(panel->entryText(1), QStringLiteral("Test · best checkpoint"));
    QCOMPARE(panel->matrixView()->classCount(), 10);
}

QTEST_MAIN(TestEvaluationPanel)
#include "tst_evaluation_panel.moc"
