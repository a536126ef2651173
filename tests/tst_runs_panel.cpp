// The Runs tab: the columns read from each run folder, the selection of several runs and their
// comparison, and its export. Run folders are written by hand into a temporary folder.
// Offscreen platform.

#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "app/run_summary.h"
#include "app/runs_panel.h"
#include "widgets/run_comparison.h"

using namespace wb::ui;

namespace {

const QByteArray kHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,lr\n";

const QString kOneCycle = QStringLiteral("20250101-100000-onecycle");
const QString kStep = QStringLiteral("20250101-110000-step");
const QString kNoVal = QStringLiteral("20250101-120000-noval");

/// The header labels of `table`, by column.
QStringList headers(QTableWidget* table) {
    QStringList labels;
    for (int c = 0; c < table->columnCount(); ++c) {
        labels.append(table->horizontalHeaderItem(c)->text());
    }
    return labels;
}

/// RFC 4180 records, split by hand: quoted fields may hold commas and doubled quotes.
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> records;
    for (const QString& line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        QStringList fields;
        QString field;
        bool quoted = false;
        for (int i = 0; i < line.size(); ++i) {
            const QChar c = line[i];
            if (quoted && c == QLatin1Char('"') && i + 1 < line.size() &&
                line[i + 1] == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = !quoted;
            } else if (c == QLatin1Char(',') && !quoted) {
                fields.append(field);
                field.clear();
            } else {
                field += c;
            }
        }
        fields.append(field);
        records.append(fields);
    }
    return records;
}

}  // namespace

class TestRunsPanel : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();

    void summaryReadsTheHyperparameters();
    void tableShowsPolicyHyperparametersAndBestEpoch();
    void selectedRunsAreCompared();
    void runWithoutValidationIsComparedOnTraining();
    void nothingSelectedShowsTheHint();
    void ctrlClickSelectsSeveralRuns();
    void refreshKeepsTheSelectionAndRereadsMetrics();
    void exportWritesPngAndCsv();
    void resumeIsOfferedForAnUnfinishedRunWithACheckpoint();

private:
    void write(const QString& run, const QString& file, const QByteArray& text);
    int rowOf(const RunsPanel& panel, const QString& name) const;
    QString cell(const RunsPanel& panel, const QString& name, const QString& column) const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestRunsPanel::write(const QString& run, const QString& file, const QByteArray& text) {
    QDir root(m_dir->path());
    QVERIFY(root.mkpath(run));
    QFile f(root.filePath(run + QLatin1Char('/') + file));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

void TestRunsPanel::init() {
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    write(kOneCycle, QStringLiteral("experiment.yaml"),
          "model: {arch: small_cnn}\n"
          "optimizer: {type: sgd, lr: 0.1}\n"
          "schedule: {policy: onecycle}\n"
          "epochs: 3\nbatch_size: 64\nseed: 7\n");
    write(kOneCycle, QStringLiteral("metrics.csv"),
          kHeader +
              "1,1.2,0.60,1.0,0.700,1.0,0.05\n"
              "2,0.8,0.80,0.6,0.912,1.0,0.1\n"
              "3,0.5,0.90,0.7,0.900,1.0,0.001\n");
    write(kStep, QStringLiteral("experiment.yaml"),
          "model: {arch: small_cnn}\n"
          "optimizer: {type: adam, lr: 0.003}\n"
          "schedule: {policy: step, step_epochs: 2}\n"
          "epochs: 3\nbatch_size: 32\nseed: 11\n");
    write(kStep, QStringLiteral("metrics.csv"),
          kHeader +
              "1,1.3,0.55,1.1,0.650,1.0,0.003\n"
              "2,0.9,0.75,0.8,0.800,1.0,0.003\n"
              "3,0.7,0.85,0.6,0.850,1.0,0.0003\n");
    write(kNoVal, QStringLiteral("experiment.yaml"), "schedule: {policy: constant}\nepochs: 2\n");
    write(kNoVal, QStringLiteral("metrics.csv"),
          kHeader +
              "1,1.1,0.50,,,1.0,0.01\n"
              "2,0.9,0.70,,,1.0,0.01\n");
}

void TestRunsPanel::cleanup() {
    m_dir.reset();
}

int TestRunsPanel::rowOf(const RunsPanel& panel, const QString& name) const {
    for (int row = 0; row < panel.runCount(); ++row) {
        if (panel.runs()[row].name == name) {
            return row;
        }
    }
    return -1;
}

QString TestRunsPanel::cell(const RunsPanel& panel, const QString& name,
                            const QString& column) const {
    const int row = rowOf(panel, name);
    const int col = int(headers(panel.table()).indexOf(column));
    if (row < 0 || col < 0) {
        return QStringLiteral("<no such cell>");
    }
    QTableWidgetItem* item = panel.table()->item(row, col);
    return item ? item->text() : QString();
}

void TestRunsPanel::summaryReadsTheHyperparameters() {
    const RunSummary one = readRunSummary(QDir(m_dir->path()).filePath(kOneCycle));
    QCOMPARE(one.policy, QStringLiteral("onecycle"));
    QCOMPARE(one.optimizer, QStringLiteral("sgd"));
    QCOMPARE(one.learningRate, 0.1);
    QCOMPARE(one.batchSize, 64);
    QCOMPARE(one.plannedEpochs, 3);
    QCOMPARE(one.seed, quint64(7));
    QCOMPARE(one.bestEpoch, 2);
    QCOMPARE(learningRateText(one), QStringLiteral("max lr 0.1"));  // 1cycle: the peak
    QCOMPARE(hyperparameterText(one), QStringLiteral("sgd max lr 0.1 bs 64"));

    const RunSummary step = readRunSummary(QDir(m_dir->path()).filePath(kStep));
    QCOMPARE(learningRateText(step), QStringLiteral("lr 0.003"));
    QCOMPARE(hyperparameterText(step), QStringLiteral("adam lr 0.003 bs 32"));
    QCOMPARE(step.seed, quint64(11));

    // An unreadable experiment leaves the hyperparameters blank rather than made up.
    write(QStringLiteral("broken"), QStringLiteral("experiment.yaml"), "epochs: [oops\n");
    const RunSummary broken = readRunSummary(QDir(m_dir->path()).filePath("broken"));
    QVERIFY(broken.policy.isEmpty());
    QVERIFY(hyperparameterText(broken).isEmpty());
}

void TestRunsPanel::tableShowsPolicyHyperparametersAndBestEpoch() {
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    QCOMPARE(panel.runCount(), 3);
    const QStringList labels = headers(panel.table());
    for (const char* column :
         {"Run", "Model", "Policy", "Hyperparameters", "Status", "Epochs", "Best val", "Test"}) {
        QVERIFY2(labels.contains(QString::fromLatin1(column)), column);
    }
    QCOMPARE(cell(panel, kOneCycle, "Policy"), QStringLiteral("onecycle"));
    QCOMPARE(cell(panel, kOneCycle, "Hyperparameters"), QStringLiteral("sgd max lr 0.1 bs 64"));
    QCOMPARE(cell(panel, kOneCycle, "Best val"), QStringLiteral("91.2% @ 2"));
    QCOMPARE(cell(panel, kStep, "Policy"), QStringLiteral("step"));
    QCOMPARE(cell(panel, kStep, "Hyperparameters"), QStringLiteral("adam lr 0.003 bs 32"));
    QCOMPARE(cell(panel, kStep, "Best val"), QStringLiteral("85.0% @ 3"));
    QCOMPARE(cell(panel, kNoVal, "Policy"), QStringLiteral("constant"));
    QCOMPARE(cell(panel, kNoVal, "Hyperparameters"), QStringLiteral("sgd lr 0.01 bs 64"));
    QCOMPARE(cell(panel, kNoVal, "Best val"), QStringLiteral("70.0% @ 2 (train)"));
    // The seed and epochs are in the tooltip of the hyperparameters.
    const int hyper = int(labels.indexOf("Hyperparameters"));
    const QString tip = panel.table()->item(rowOf(panel, kOneCycle), hyper)->toolTip();
    QVERIFY2(tip.contains(QStringLiteral("seed 7")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("3 epochs")), qPrintable(tip));
    QCOMPARE(panel.table()->selectionMode(), QAbstractItemView::ExtendedSelection);
}

void TestRunsPanel::selectedRunsAreCompared() {
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    QCOMPARE(panel.selectRuns({kOneCycle, QDir(m_dir->path()).filePath(kStep)}), 2);
    QCOMPARE(panel.selectedRows().size(), 2);
    RunComparison* comparison = panel.comparison();
    QCOMPARE(comparison->runCount(), 2);
    QVERIFY(!comparison->showsHint());
    // Table order (newest first) sets the order and the colours.
    QStringList labels;
    for (int r = 0; r < 2; ++r) {
        labels.append(comparison->runs()[r].label);
        QVERIFY(comparison->runs()[r].validation);
    }
    QVERIFY2(labels.contains(kOneCycle + QStringLiteral(" · onecycle")),
             qPrintable(labels.join(";")));
    QVERIFY(labels.contains(kStep + QStringLiteral(" · step")));
    for (int r = 0; r < 2; ++r) {
        const bool isOneCycle = labels[r].startsWith(kOneCycle);
        QCOMPARE(comparison->bestEpoch(r), isOneCycle ? 2 : 3);
        QCOMPARE(comparison->accuracySeries(r)->count(), 3);
        QCOMPARE(comparison->bestAccuracyMarker(r)->at(0),
                 isOneCycle ? QPointF(2, 91.2) : QPointF(3, 85.0));
        QCOMPARE(comparison->bestLossMarker(r)->at(0),
                 isOneCycle ? QPointF(2, 0.6) : QPointF(3, 0.6));
    }
    QVERIFY(comparison->accuracySeries(0)->pen().color() !=
            comparison->accuracySeries(1)->pen().color());
    // Loading settings needs exactly one run.
    QPushButton* load = nullptr;
    for (QPushButton* button : panel.findChildren<QPushButton*>()) {
        if (button->text() == QLatin1String("Load settings")) {
            load = button;
        }
    }
    QVERIFY(load);
    QVERIFY(!load->isEnabled());
    QCOMPARE(panel.selectRuns({kStep}), 1);
    QVERIFY(load->isEnabled());
    QCOMPARE(comparison->runCount(), 1);
    QCOMPARE(panel.selectedRunDirs(), QStringList{QDir(m_dir->path()).filePath(kStep)});
    QCOMPARE(panel.selectRuns({QStringLiteral("no-such-run")}), 0);
    QCOMPARE(comparison->runCount(), 0);
}

void TestRunsPanel::runWithoutValidationIsComparedOnTraining() {
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    QCOMPARE(panel.selectRuns({kNoVal}), 1);
    RunComparison* comparison = panel.comparison();
    QCOMPARE(comparison->runCount(), 1);
    QVERIFY(!comparison->runs()[0].validation);
    QCOMPARE(comparison->displayLabel(0), kNoVal + QStringLiteral(" · constant (train)"));
    QCOMPARE(comparison->runs()[0].accuracy, (QList<double>{0.50, 0.70}));
    QCOMPARE(comparison->runs()[0].loss, (QList<double>{1.1, 0.9}));
    QCOMPARE(comparison->bestEpoch(0), 2);
}

void TestRunsPanel::nothingSelectedShowsTheHint() {
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    QVERIFY(panel.selectedRows().isEmpty());
    QVERIFY(panel.comparison()->showsHint());
    QVERIFY(panel.comparison()->hintText().contains(QStringLiteral("Select runs")));
    QList<QPushButton*> exports;
    for (QPushButton* button : panel.findChildren<QPushButton*>()) {
        if (button->text().startsWith(QStringLiteral("Export"))) {
            exports.append(button);
        }
    }
    QCOMPARE(exports.size(), 2);
    for (QPushButton* button : exports) {
        QVERIFY(!button->isEnabled());
    }
    QSignalSpy logged(&panel, &RunsPanel::messageLogged);
    QVERIFY(!panel.exportComparison(QDir(m_dir->path()).filePath("x.png"), {}));
    QCOMPARE(logged.size(), 1);
    QVERIFY(!QFile::exists(QDir(m_dir->path()).filePath("x.png")));
    panel.selectRows({0});
    for (QPushButton* button : exports) {
        QVERIFY(button->isEnabled());
    }
}

void TestRunsPanel::ctrlClickSelectsSeveralRuns() {
    RunsPanel panel;
    panel.resize(900, 700);
    panel.setRunsDir(m_dir->path());
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTableWidget* table = panel.table();
    auto clickRow = [&](int row, Qt::KeyboardModifiers modifiers) {
        const QRect rect = table->visualRect(table->model()->index(row, 1));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, modifiers, rect.center());
    };
    clickRow(0, Qt::NoModifier);
    QCOMPARE(panel.comparison()->runCount(), 1);
    clickRow(2, Qt::ControlModifier);
    QCOMPARE(panel.selectedRows(), (QList<int>{0, 2}));
    QCOMPARE(panel.comparison()->runCount(), 2);
    clickRow(1, Qt::ShiftModifier);
    QCOMPARE(panel.comparison()->runCount(), 3);
}

void TestRunsPanel::refreshKeepsTheSelectionAndRereadsMetrics() {
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    panel.selectRuns({kOneCycle, kStep});
    const QStringList before = panel.selectedRunDirs();
    QCOMPARE(before.size(), 2);

    // A new run appears (at the top: newest first) and a compared run gets another epoch.
    write(QStringLiteral("20990101-000000-new"), QStringLiteral("experiment.yaml"), "epochs: 1\n");
    QFile metrics(QDir(m_dir->path()).filePath(kStep + QStringLiteral("/metrics.csv")));
    QVERIFY(metrics.open(QIODevice::Append));
    metrics.write("4,0.6,0.88,0.5,0.875,1.0,0.0003\n");
    metrics.close();
    panel.refresh();

    QCOMPARE(panel.runCount(), 4);
    QCOMPARE(panel.selectedRunDirs(), before);
    QCOMPARE(panel.comparison()->runCount(), 2);
    for (int r = 0; r < 2; ++r) {
        if (panel.comparison()->runs()[r].label.startsWith(kStep)) {
            QCOMPARE(panel.comparison()->runs()[r].epochs.size(), 4);
            QCOMPARE(panel.comparison()->bestEpoch(r), 4);
        }
    }
}

void TestRunsPanel::exportWritesPngAndCsv() {
    RunsPanel panel;
    panel.resize(470, 700);  // as narrow as the tab: the export is laid out at its own size
    panel.setRunsDir(m_dir->path());
    QCOMPARE(panel.selectRuns({kOneCycle, kStep}), 2);
    QTemporaryDir out;
    const QString png = out.filePath(QStringLiteral("comparison.png"));
    const QString csv = out.filePath(QStringLiteral("comparison.csv"));
    QSignalSpy logged(&panel, &RunsPanel::messageLogged);
    QVERIFY(panel.exportComparison(png, csv));
    QCOMPARE(logged.size(), 2);

    QImage image;
    QVERIFY(image.load(png));
    QCOMPARE(image.width(), 1200);
    int coloured = 0;  // pixels of the two runs' colours: the lines and markers were drawn
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QRgb p = image.pixel(x, y) | 0xff000000;
            coloured +=
                p == RunComparison::colourFor(0).rgb() || p == RunComparison::colourFor(1).rgb();
        }
    }
    QVERIFY2(coloured > 500, qPrintable(QString::number(coloured)));

    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QStringList> records = parseCsv(QString::fromUtf8(file.readAll()));
    QCOMPARE(records.size(), 1 + 3 + 3);
    QCOMPARE(records[0], (QStringList{"run", "epoch", "val_accuracy", "val_loss", "is_best"}));
    QHash<QString, QStringList> bestByRun;
    for (int i = 1; i < records.size(); ++i) {
        QCOMPARE(records[i].size(), 5);
        if (records[i][4] == QLatin1String("1")) {
            bestByRun[records[i][0]] = records[i];
        }
    }
    QCOMPARE(bestByRun.size(), 2);
    const QStringList one = bestByRun.value(kOneCycle + QStringLiteral(" · onecycle"));
    QCOMPARE(one,
             (QStringList{kOneCycle + QStringLiteral(" · onecycle"), "2", "0.912", "0.6", "1"}));
    const QStringList step = bestByRun.value(kStep + QStringLiteral(" · step"));
    QCOMPARE(step, (QStringList{kStep + QStringLiteral(" · step"), "3", "0.85", "0.6", "1"}));

    // A folder that does not exist: false, and said.
    logged.clear();
    QVERIFY(!panel.exportComparison({}, out.filePath(QStringLiteral("missing/x.csv"))));
    QCOMPARE(logged.size(), 1);
    QCOMPARE(logged.front().at(0).value<wb::Level>(), wb::Level::Error);
}

// kStep has all its epochs (finished); kNoVal stopped after 2 of 4 epochs, with or without a
// checkpoint to resume from.
void TestRunsPanel::resumeIsOfferedForAnUnfinishedRunWithACheckpoint() {
    write(kNoVal, QStringLiteral("experiment.yaml"), "schedule: {policy: constant}\nepochs: 4\n");
    write(kStep, QStringLiteral("resume.pt"), "checkpoint");
    RunsPanel panel;
    panel.setRunsDir(m_dir->path());
    QSignalSpy requested(&panel, &RunsPanel::resumeRequested);
    QCOMPARE(panel.selectRuns({kNoVal}), 1);
    QVERIFY2(!panel.resumeButton()->isEnabled(), "no resume.pt: nothing to resume from");

    write(kNoVal, QStringLiteral("resume.pt"), "checkpoint");
    panel.refresh();
    QCOMPARE(panel.selectRuns({kNoVal}), 1);
    QVERIFY(panel.resumeButton()->isEnabled());
    panel.resumeButton()->click();
    QCOMPARE(requested.count(), 1);
    QCOMPARE(requested.front().front().toString(), QDir(m_dir->path()).filePath(kNoVal));

    QCOMPARE(panel.selectRuns({kStep}), 1);
    QVERIFY2(!panel.resumeButton()->isEnabled(), "a finished run is not resumed");
    QCOMPARE(panel.selectRuns({kStep, kNoVal}), 2);
    QVERIFY(!panel.resumeButton()->isEnabled());
    panel.setActiveRun(QDir(m_dir->path()).filePath(kNoVal));
    QCOMPARE(panel.selectRuns({kNoVal}), 1);
    QVERIFY2(!panel.resumeButton()->isEnabled(), "the run being trained");
}

QTEST_MAIN(TestRunsPanel)
#include "tst_runs_panel.moc"
