// The window, its panels, the training worker and the charts, on the offscreen platform.
// Training runs use the bundled demo dataset (WB_DEMO_DATA) and write into temporary folders.

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScatterSeries>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/dataset_panel.h"
#include "app/finetune_form.h"
#include "app/log_view.h"
#include "app/lr_finder_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/run_summary.h"
#include "app/runs_panel.h"
#include "app/schedule_curves.h"
#include "app/schedule_form.h"
#include "app/training_panel.h"
#include "app/training_worker.h"
#include "engine/schedule.h"
#include "engine/train_schedule.h"
#include "engine/trainer.h"
#include "tests/video_fixture.h"
#include "widgets/chart_math.h"
#include "widgets/lr_plot.h"
#include "widgets/schedule_preview.h"
#include "widgets/training_charts.h"

using namespace wb::ui;

Q_DECLARE_METATYPE(wb::Experiment)

namespace {

constexpr int kScanTimeoutMs = 60000;
constexpr int kRunTimeoutMs = 180000;

QValueAxis* valueAxis(QChart* chart, Qt::Orientation orientation) {
    const auto axes = chart->axes(orientation);
    return axes.isEmpty() ? nullptr : qobject_cast<QValueAxis*>(axes.front());
}

bool strictlyInside(QValueAxis* axis, double value) {
    return axis && value > axis->min() && value < axis->max();
}

/// The workbench executable next to this test in the build tree (tests/ and app/ folders).
QString workbenchPath() {
    return QDir(QCoreApplication::applicationDirPath())
        .absoluteFilePath(QStringLiteral("../app/workbench"));
}

/// True when every row of `table` is visible without scrolling.
bool showsEveryRow(QTableWidget* table) {
    return table->verticalScrollBar()->maximum() == 0;
}

double maxY(const QList<QPointF>& points) {
    double m = -INFINITY;
    for (const QPointF& p : points) {
        m = std::max(m, p.y());
    }
    return m;
}

}  // namespace

class TestGui : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    // Charts.
    void chartsMarkBestEpoch_data();
    void chartsMarkBestEpoch();
    void chartsKeepEveryIterationAndDecimateTheDisplay();
    void chartsCoalesceRedraws();
    void chartsIgnoreNonFiniteLoss();
    void iterationAxisFitsTheData_data();
    void iterationAxisFitsTheData();
    void chartsWithoutValidationSayTrain();
    void sampleCaptionsFitWithTheFullNameInATooltip();
    void videoDatasetShowsMovingThumbnails();
    void everyLogLineHasATimestamp();

    // Command line (the workbench executable).
    void helpAndVersionNeedNoDisplay_data();
    void helpAndVersionNeedNoDisplay();
    void unsavableScreenshotFailsTheExitStatus_data();
    void unsavableScreenshotFailsTheExitStatus();

    // Window and panels.
    void windowScansDemoDatasetAtStart();
    void badDatasetFolderIsReportedInTheWindow();
    void unusableFolderDisablesStartWithTheReason();
    void skippedFilesGetTheRoomTheClassesDoNotNeed();
    void commandLineRunsFolderIsNotRemembered();
    void runWithoutValidationNeverCallsTrainAccuracyValidation();
    void modelFormRoundTripsExperiment_data();
    void modelFormRoundTripsExperiment();
    void modelFormEditsReachTheExperiment();
    void wheelOverAnUnfocusedFieldScrollsTheForm();
    void fineTuneFormCountsWhatTrains_data();
    void fineTuneFormCountsWhatTrains();
    void choosingARunAsWeightsBringsItsPreprocessing();
    void runsPanelReadsRunFolders();
    void scheduleFormShowsOnlyThePolicysFields_data();
    void scheduleFormShowsOnlyThePolicysFields();
    void schedulePreviewMatchesTheEngineSchedule();
    void schedulePreviewShowsWhyAScheduleIsDegenerate();
    void schedulePreviewWaitsForADataset();
    void smallRatesAreDrawnInUnitsOfAPowerOfTen();

    // Training.
    void startButtonRunsTrainingToTheEnd();
    void stopCancelsRunningTraining();
    void closingWindowWhileTrainingStopsTheRunFirst();
    void destroyingWindowWhileTrainingDoesNotHang();
    void rateChartShowsTheAppliedOneCycleRates();
    void lrFinderPanelHandsThePickedRateToTraining();
    void lrFinderStopKeepsTheCurveSoFar();

private:
    std::unique_ptr<MainWindow> makeWindow(const QString& runsDir, int epochs);
    static void setSmallRun(MainWindow* window, int epochs);
    static bool waitForIterations(TrainingPanel* panel, int timeoutMs);
};

void TestGui::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("WorkbenchTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_gui"));
    if (qEnvironmentVariableIsEmpty("WB_DEMO_DATA")) {
        qputenv("WB_DEMO_DATA", WB_SOURCE_DIR "/resources/demo");
    }
    QVERIFY2(QDir(QString::fromStdString(wb::demo_dataset_dir())).exists(QStringLiteral("train")),
             "the demo dataset is missing");
    wb::set_threads(0);
}

// ---- charts ---------------------------------------------------------------------------------

void TestGui::chartsMarkBestEpoch_data() {
    QTest::addColumn<QList<double>>("accuracies");
    QTest::addColumn<bool>("hasVal");
    QTest::addColumn<int>("override");
    QTest::addColumn<int>("expectedBest");

    QTest::newRow("validation peak in the middle")
        << QList<double>{0.5, 0.8, 0.7} << true << 0 << 2;
    QTest::newRow("ties take the earliest") << QList<double>{0.6, 0.9, 0.9} << true << 0 << 2;
    QTest::newRow("last epoch best, at the axis end")
        << QList<double>{0.2, 0.5, 1.0} << true << 0 << 3;
    QTest::newRow("no validation: train accuracy")
        << QList<double>{0.3, 0.4, 0.9} << false << 0 << 3;
    QTest::newRow("the trainer's choice wins") << QList<double>{0.5, 0.8, 0.7} << true << 1 << 1;
}

void TestGui::chartsMarkBestEpoch() {
    QFETCH(QList<double>, accuracies);
    QFETCH(bool, hasVal);
    QFETCH(int, override);
    QFETCH(int, expectedBest);

    TrainingCharts charts;
    charts.resize(900, 600);
    for (int i = 0; i < accuracies.size(); ++i) {
        EpochPoint p;
        p.epoch = i + 1;
        p.trainLoss = 2.0 - 0.3 * i;
        p.trainAccuracy = hasVal ? 0.5 : accuracies[i];
        p.hasVal = hasVal;
        p.valLoss = 1.5 - 0.1 * i;
        p.valAccuracy = accuracies[i];
        charts.addEpoch(p);
    }
    if (override > 0) {
        charts.setBestEpoch(override);
    }
    charts.flush();

    QCOMPARE(charts.bestEpoch(), expectedBest);
    const EpochPoint& best = charts.epochs().at(expectedBest - 1);
    const double bestAcc = 100.0 * (hasVal ? best.valAccuracy : best.trainAccuracy);
    const double bestLoss = hasVal ? best.valLoss : best.trainLoss;

    const QList<QPointF> accMarker = charts.bestAccuracyMarker()->points();
    QCOMPARE(accMarker.size(), 1);
    QCOMPARE(accMarker.front(), QPointF(expectedBest, bestAcc));
    const QList<QPointF> lossMarker = charts.bestLossMarker()->points();
    QCOMPARE(lossMarker.size(), 1);
    QCOMPARE(lossMarker.front(), QPointF(expectedBest, bestLoss));
    QVERIFY(charts.bestAccuracyMarker()->name().contains(QString::number(expectedBest)));
    // The label says which accuracy picked the epoch.
    QVERIFY2(charts.bestAccuracyMarker()->name().contains(hasVal ? QStringLiteral("val")
                                                                 : QStringLiteral("train")),
             qPrintable(charts.bestAccuracyMarker()->name()));

    // Every epoch is drawn, and no axis hides the marker (not even on its edge).
    QCOMPARE(charts.trainAccuracySeries()->count(), accuracies.size());
    QCOMPARE(charts.valAccuracySeries()->count(), hasVal ? accuracies.size() : 0);
    QVERIFY(strictlyInside(valueAxis(charts.accuracyChart(), Qt::Horizontal), expectedBest));
    QVERIFY(strictlyInside(valueAxis(charts.accuracyChart(), Qt::Vertical), bestAcc));
    QVERIFY(strictlyInside(valueAxis(charts.lossChart(), Qt::Horizontal), expectedBest));
    QVERIFY(strictlyInside(valueAxis(charts.lossChart(), Qt::Vertical), bestLoss));
}

void TestGui::chartsKeepEveryIterationAndDecimateTheDisplay() {
    TrainingCharts charts;
    charts.resize(900, 600);
    constexpr int kPoints = 20000;
    QList<QPointF> points;
    for (int i = 0; i < kPoints; ++i) {
        const double loss = 2.0 * std::exp(-i / 5000.0) + 0.1 * ((i * 7919) % 13) / 13.0;
        points.append(QPointF(i, i == 12345 ? 9.5 : loss));  // one spike that must stay visible
    }
    charts.addIterations(points);
    QElapsedTimer timer;
    timer.start();
    charts.flush();
    const qint64 flushMs = timer.elapsed();

    QCOMPARE(charts.iterationLoss().size(), kPoints);
    const QList<QPointF> shown = charts.rawLossSeries()->points();
    QVERIFY2(shown.size() <= charts.maxDisplayPoints() + 2,
             qPrintable(QString::number(shown.size())));
    QVERIFY(shown.size() >= charts.maxDisplayPoints() / 2);
    QCOMPARE(maxY(shown), 9.5);
    QCOMPARE(shown.front().x(), 0.0);
    QCOMPARE(shown.back().x(), double(kPoints - 1));
    const QList<QPointF> smooth = charts.smoothedLossSeries()->points();
    QVERIFY(!smooth.isEmpty());
    QCOMPARE(smooth.back().x(), double(kPoints - 1));
    QVERIFY(smooth.back().y() < 0.5);  // smoothed, not the spike
    QVERIFY(strictlyInside(valueAxis(charts.iterationChart(), Qt::Vertical), 9.5));
    // One redraw of 20,000 points must fit in a frame budget with room to spare.
    qInfo("redraw of %d points took %lld ms", kPoints, flushMs);
}

void TestGui::chartsCoalesceRedraws() {
    TrainingCharts charts;
    const int before = charts.redrawCount();
    for (int i = 0; i < 1000; ++i) {
        charts.addIteration(i, 1.0 / (i + 1));
    }
    EpochPoint p;
    charts.addEpoch(p);
    QCOMPARE(charts.redrawCount(), before);  // nothing drawn without the event loop
    QTRY_COMPARE_WITH_TIMEOUT(charts.redrawCount(), before + 1, 2000);
    QTest::qWait(3 * charts.redrawInterval());
    QCOMPARE(charts.redrawCount(), before + 1);  // the whole burst cost one redraw
    QCOMPARE(charts.rawLossSeries()->count(), 1000);
    QCOMPARE(charts.trainLossSeries()->count(), 1);
}

void TestGui::chartsIgnoreNonFiniteLoss() {
    TrainingCharts charts;
    charts.addIteration(0, 1.0);
    charts.addIteration(1, NAN);
    charts.addIteration(2, INFINITY);
    charts.addIteration(3, 0.5);
    charts.flush();
    QCOMPARE(charts.iterationLoss().size(), 2);
    QVERIFY(strictlyInside(valueAxis(charts.iterationChart(), Qt::Vertical), 0.75));
    QVERIFY(std::isfinite(valueAxis(charts.iterationChart(), Qt::Vertical)->max()));
}

void TestGui::iterationAxisFitsTheData_data() {
    QTest::addColumn<int>("iterations");
    QTest::newRow("one") << 1;
    QTest::newRow("five (was drawn 0 to 10)") << 5;
    QTest::newRow("thirteen") << 13;
    QTest::newRow("twenty thousand") << 20000;
}

void TestGui::iterationAxisFitsTheData() {
    QFETCH(int, iterations);
    const double last = iterations - 1;
    const double span = std::max(1.0, last);

    const AxisRange range = stepAxisRange(0, last, 8);
    QCOMPARE(range.min, 0.0);
    QVERIFY(range.max >= last);
    QVERIFY2(range.max <= 1.1 * span, qPrintable(QString::number(range.max)));
    QVERIFY(range.tickInterval >= 1);
    QCOMPARE(range.tickInterval, std::round(range.tickInterval));  // whole iterations

    TrainingCharts charts;
    QList<QPointF> points;
    for (int i = 0; i < iterations; ++i) {
        points.append(QPointF(i, 1.0 / (i + 1)));
    }
    charts.addIterations(points);
    charts.flush();
    QValueAxis* x = valueAxis(charts.iterationChart(), Qt::Horizontal);
    QVERIFY(x->max() >= last);
    QVERIFY2(x->max() <= 1.1 * span, qPrintable(QString::number(x->max())));
}

void TestGui::chartsWithoutValidationSayTrain() {
    TrainingCharts charts;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        EpochPoint p;
        p.epoch = epoch;
        p.trainLoss = 1.0 / epoch;
        p.trainAccuracy = 0.3 * epoch;
        charts.addEpoch(p);
    }
    charts.setBestEpoch(3);
    charts.flush();
    // No validation line (nor its legend entry) and a best marker that says "train".
    QVERIFY(!charts.valAccuracySeries()->isVisible());
    QVERIFY(!charts.valLossSeries()->isVisible());
    for (QScatterSeries* marker : {charts.bestAccuracyMarker(), charts.bestLossMarker()}) {
        QVERIFY2(marker->name().contains(QStringLiteral("train")), qPrintable(marker->name()));
        QVERIFY2(!marker->name().contains(QStringLiteral("val")), qPrintable(marker->name()));
    }
}

void TestGui::sampleCaptionsFitWithTheFullNameInATooltip() {
    // The dataset panel's grid: every Fashion-MNIST class name is shown whole.
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(window->datasetPanel()->hasScan(), kScanTimeoutMs);
    ImageGrid* samples = window->datasetPanel()->sampleGrid();
    QCOMPARE(samples->count(), 10);
    for (int i = 0; i < samples->count(); ++i) {
        QCOMPARE(samples->shownCaption(i), samples->items().at(i).caption);
        QVERIFY(QFontMetrics(samples->captionFont(i)).horizontalAdvance(samples->shownCaption(i)) <=
                samples->cellSize());
    }

    // A name too long for any font keeps both ends, and its tooltip is the whole name.
    ImageGrid grid;
    grid.setCellSize(60);
    grid.resize(300, 200);
    const QString longName = QStringLiteral("Ankle_boot_with_a_very_long_name_indeed_v2");
    QImage image(28, 28, QImage::Format_Grayscale8);
    image.fill(128);
    grid.setItems({{image, QStringLiteral("Bag")}, {image, longName}});
    grid.show();
    QVERIFY(QTest::qWaitForWindowExposed(&grid));
    const QString shown = grid.shownCaption(1);
    QVERIFY2(shown != longName && shown.startsWith(QStringLiteral("An")) &&
                 shown.endsWith(QStringLiteral("v2")),
             qPrintable(shown));
    QVERIFY(QFontMetrics(grid.captionFont(1)).horizontalAdvance(shown) <= grid.cellSize());
    const QPoint inSecond(60 + 6 + 30, 30);
    QCOMPARE(grid.indexAt(inSecond), 1);
    QCOMPARE(grid.indexAt(QPoint(299, 199)), -1);
    QHelpEvent help(QEvent::ToolTip, inSecond, grid.mapToGlobal(inSecond));
    QCoreApplication::sendEvent(&grid, &help);
    QTRY_COMPARE(QToolTip::text(), longName);
    QToolTip::hideText();
}

void TestGui::videoDatasetShowsMovingThumbnails() {
    QTemporaryDir runs, data;
    for (const char* cls : {"left", "right"}) {
        QVERIFY(QDir(data.path()).mkpath(cls));
        for (int i = 0; i < 2; ++i) {
            const QString file = data.filePath(QString("%1/v%2.avi").arg(cls).arg(i));
            QVERIFY(wb::test::write_fixture_video(file.toStdString(), 20, 32, 24, true));
        }
    }
    auto window = makeWindow(runs.path(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(window->datasetPanel()->hasScan(), kScanTimeoutMs);
    wb::Experiment e = window->experiment();
    e.data.root = data.path().toStdString();
    e.data.val_fraction = 0;
    e.data.test_fraction = 0;
    e.model.arch = "c3d_bn";
    e.preprocessing.clip_frames = 4;
    window->setExperiment(e);
    QTRY_VERIFY_WITH_TIMEOUT(
        window->datasetPanel()->hasScan() && window->datasetPanel()->scan().video, kScanTimeoutMs);
    QCOMPARE(window->datasetPanel()->scan().train.size(), std::size_t(4));
    ImageGrid* samples = window->datasetPanel()->sampleGrid();
    QCOMPARE(samples->count(), 2);
    for (const ImageGrid::Item& item : samples->items()) {
        // The centre 16 frames of a 20-frame video: frame values of frames 2 .. 17.
        QCOMPARE(item.frames.size(), 16);
        for (int k = 0; k < 16; ++k) {
            const int gray = qGray(item.frames[k].pixel(1, 1));
            QVERIFY2(std::abs(gray - wb::test::frame_value(k + 2)) <= 4,
                     qPrintable(QString("frame %1: %2").arg(k).arg(gray)));
        }
    }
    // The grid steps through the frames while it is shown.
    const int first = samples->frameIndex();
    QTRY_VERIFY_WITH_TIMEOUT(samples->frameIndex() > first + 1, 5000);
}

void TestGui::everyLogLineHasATimestamp() {
    LogView log;
    log.append(wb::Level::Info, QStringLiteral("one line"));
    // An engine summary: several lines, one of them its own warning, and a final newline.
    log.append(wb::Level::Info, QStringLiteral("/data: 3 classes\n  train 30 images\n"
                                               "  warning: class x has no val images\n"));
    log.append(wb::Level::Warning, QStringLiteral("two\nlines"));
    const QStringList lines = log.toPlainText().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 6);
    static const QRegularExpression stamped(QStringLiteral("^\\d\\d:\\d\\d:\\d\\d +\\S"));
    for (const QString& line : lines) {
        QVERIFY2(stamped.match(line).hasMatch(), qPrintable(line));
    }
    QVERIFY(lines.at(3).contains(QStringLiteral("warning: class x")));
    QCOMPARE(log.count(wb::Level::Info), 2);
    QCOMPARE(log.count(wb::Level::Warning), 1);
}

// ---- command line ---------------------------------------------------------------------------

void TestGui::helpAndVersionNeedNoDisplay_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("expected");
    QTest::newRow("--help") << QStringList{QStringLiteral("--help")} << 0
                            << QStringLiteral("--screenshot");
    QTest::newRow("-h") << QStringList{QStringLiteral("-h")} << 0 << QStringLiteral("--data");
    QTest::newRow("--version") << QStringList{QStringLiteral("--version")} << 0
                               << QStringLiteral("0.1.0");
    QTest::newRow("-v after other options")
        << QStringList{QStringLiteral("--epochs"), QStringLiteral("3"), QStringLiteral("-v")} << 0
        << QStringLiteral("0.1.0");
    QTest::newRow("unknown option")
        << QStringList{QStringLiteral("--bogus")} << 1 << QStringLiteral("bogus");
}

void TestGui::helpAndVersionNeedNoDisplay() {
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, expected);
    if (!QFile::exists(workbenchPath())) {
        QSKIP("the workbench executable is not built next to this test");
    }
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));  // aborts if used
    process.setProcessEnvironment(env);
    process.start(workbenchPath(), arguments);
    QVERIFY(process.waitForFinished(30000));
    const QString output =
        QString::fromLocal8Bit(process.readAllStandardOutput() + process.readAllStandardError());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() == exitCode, qPrintable(output));
    QVERIFY2(output.contains(expected), qPrintable(output));
}

void TestGui::unsavableScreenshotFailsTheExitStatus_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("folder missing (checked at start)") << QStringLiteral("nope/dir/x.png");
    QTest::newRow("save fails (the name is a folder)") << QStringLiteral("folder.png");
}

void TestGui::unsavableScreenshotFailsTheExitStatus() {
    QFETCH(QString, file);
    if (!QFile::exists(workbenchPath())) {
        QSKIP("the workbench executable is not built next to this test");
    }
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.png")));
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("WB_DEMO_DATA"), QString::fromStdString(wb::demo_dataset_dir()));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    process.setProcessEnvironment(env);
    process.start(workbenchPath(), {QStringLiteral("--runs"), dir.filePath(QStringLiteral("runs")),
                                    QStringLiteral("--screenshot"), dir.filePath(file),
                                    QStringLiteral("--screenshot-after"), QStringLiteral("0"),
                                    QStringLiteral("--quit-after-screenshot")});
    QVERIFY(process.waitForFinished(60000));
    const QString output = QString::fromLocal8Bit(process.readAllStandardError());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() != 0, qPrintable(output));
    QVERIFY2(output.contains(QStringLiteral("cannot save the screenshot")), qPrintable(output));
}

// ---- window and panels ----------------------------------------------------------------------

std::unique_ptr<MainWindow> TestGui::makeWindow(const QString& runsDir, int epochs) {
    MainWindowOptions options;
    options.runsDir = runsDir;
    options.epochs = epochs;
    options.errorDialogs = false;
    auto window = std::make_unique<MainWindow>(options);
    window->show();
    return window;
}

void TestGui::setSmallRun(MainWindow* window, int epochs) {
    wb::Experiment e = window->modelPanel()->experiment();
    e.model.arch = "small_cnn";
    e.epochs = epochs;
    e.batch_size = 32;
    window->modelPanel()->setExperiment(e);
}

bool TestGui::waitForIterations(TrainingPanel* panel, int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (panel->iterationsSeen() == 0 && panel->isRunning() && timer.elapsed() < timeoutMs) {
        QTest::qWait(20);
    }
    return panel->iterationsSeen() > 0 && panel->isRunning();
}

void TestGui::windowScansDemoDatasetAtStart() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 0);
    QCOMPARE(window->windowTitle(), QStringLiteral("Workbench"));
    QVERIFY(window->datasetPanel()->isScanning() || window->datasetPanel()->hasScan());
    QTRY_VERIFY_WITH_TIMEOUT(window->datasetPanel()->hasScan(), kScanTimeoutMs);

    DatasetPanel* panel = window->datasetPanel();
    QVERIFY(panel->isDemo());
    QCOMPARE(panel->classCount(), 10);
    QTableWidget* table = panel->classTable();
    QCOMPARE(table->rowCount(), 10);
    int train = 0, val = 0, test = 0;
    for (int row = 0; row < table->rowCount(); ++row) {
        QVERIFY(!table->item(row, 0)->text().isEmpty());
        train += table->item(row, 1)->text().toInt();
        val += table->item(row, 2)->text().toInt();
        test += table->item(row, 3)->text().toInt();
    }
    QCOMPARE(train, 300);
    QCOMPARE(val, 100);
    QCOMPARE(test, 100);
    QCOMPARE(panel->sampleGrid()->count(), 10);
    QCOMPARE(panel->problemTable()->rowCount(), 0);
    QCOMPARE(window->logView()->count(wb::Level::Error), 0);
    // The demo is named by an empty root, so a saved experiment stays portable.
    QVERIFY(window->experiment().data.root.empty());
    QCOMPARE(QString::fromStdString(window->experiment().runs_dir),
             QDir(runs.path()).absolutePath());
}

void TestGui::badDatasetFolderIsReportedInTheWindow() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 0);
    DatasetPanel* panel = window->datasetPanel();
    QTRY_VERIFY_WITH_TIMEOUT(panel->hasScan(), kScanTimeoutMs);

    QTemporaryDir empty;
    QSignalSpy finished(panel, &DatasetPanel::scanFinished);
    panel->scanFolder(empty.path() + QStringLiteral("/does-not-exist"));
    QVERIFY(finished.wait(kScanTimeoutMs));
    QCOMPARE(finished.takeFirst().at(0).toBool(), false);
    QVERIFY(!panel->hasScan());
    QCOMPARE(panel->classTable()->rowCount(), 0);
    QVERIFY(window->logView()->count(wb::Level::Error) >= 1);
    QVERIFY(window->logView()->lastMessage().contains(QStringLiteral("does-not-exist")));
    // And a run on it is refused with the reason in the window, not started.
    QVERIFY(!window->startTraining());
    QVERIFY(!window->trainingPanel()->isRunning());
    QVERIFY(window->logView()->lastMessage().contains(QStringLiteral("cannot be used")));
}

void TestGui::unusableFolderDisablesStartWithTheReason() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 0);
    DatasetPanel* panel = window->datasetPanel();
    TrainingPanel* training = window->trainingPanel();
    QTRY_VERIFY_WITH_TIMEOUT(panel->hasScan(), kScanTimeoutMs);
    QVERIFY(training->startButton()->isEnabled());

    QSignalSpy finished(panel, &DatasetPanel::scanFinished);
    panel->scanFolder(runs.path() + QStringLiteral("/does-not-exist"));
    QVERIFY(finished.wait(kScanTimeoutMs));
    // Start is disabled before anyone presses it, and the header and tooltip say why.
    QVERIFY(!training->startButton()->isEnabled());
    QVERIFY(!training->canStart());
    QVERIFY2(training->startButton()->toolTip().contains(QStringLiteral("cannot be used")),
             qPrintable(training->startButton()->toolTip()));
    QVERIFY2(training->statusText().contains(QStringLiteral("cannot be used")),
             qPrintable(training->statusText()));
    QVERIFY(!training->statusText().contains(QStringLiteral("Ready")));

    // A usable folder lifts it.
    panel->scanFolder({});
    QVERIFY(finished.wait(kScanTimeoutMs));
    QVERIFY(training->startButton()->isEnabled());
    QVERIFY(training->statusText().startsWith(QStringLiteral("Ready")));
}

void TestGui::skippedFilesGetTheRoomTheClassesDoNotNeed() {
    // Three classes of four images and twelve broken files.
    QTemporaryDir data;
    const QDir demo(QString::fromStdString(wb::demo_dataset_dir()) + QStringLiteral("/train"));
    const QStringList classes = {QStringLiteral("Bag"), QStringLiteral("Coat"),
                                 QStringLiteral("Dress")};
    for (const QString& name : classes) {
        QVERIFY(QDir(data.path()).mkpath(name));
        const QStringList files =
            QDir(demo.filePath(name)).entryList({QStringLiteral("*.png")}, QDir::Files);
        QVERIFY(files.size() >= 4);
        for (int i = 0; i < 4; ++i) {
            QVERIFY(QFile::copy(demo.filePath(name + QLatin1Char('/') + files[i]),
                                data.filePath(name + QLatin1Char('/') + files[i])));
        }
        for (int i = 0; i < 4; ++i) {
            QFile empty(data.filePath(name + QStringLiteral("/broken_%1.png").arg(i)));
            QVERIFY(empty.open(QIODevice::WriteOnly));
        }
    }

    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 0);
    QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    DatasetPanel* panel = window->datasetPanel();
    QTRY_VERIFY_WITH_TIMEOUT(panel->hasScan(), kScanTimeoutMs);
    QSignalSpy finished(panel, &DatasetPanel::scanFinished);
    panel->scanFolder(data.path());
    QVERIFY(finished.wait(kScanTimeoutMs));
    QCOMPARE(panel->classTable()->rowCount(), 3);
    QCOMPARE(panel->problemTable()->rowCount(), 12);
    QTest::qWait(50);  // let the layouts settle
    QVERIFY(showsEveryRow(panel->classTable()));
    QVERIFY2(showsEveryRow(panel->problemTable()),
             qPrintable(QStringLiteral("problem table %1 px high")
                            .arg(panel->problemTable()->viewport()->height())));
    // The problem text has the room the file names leave, and its whole text as a tooltip.
    QHeaderView* header = panel->problemTable()->horizontalHeader();
    QCOMPARE(header->sectionResizeMode(1), QHeaderView::Stretch);
    QTableWidgetItem* reason = panel->problemTable()->item(0, 1);
    QCOMPARE(reason->toolTip(), reason->text());
}

void TestGui::commandLineRunsFolderIsNotRemembered() {
    QTemporaryDir remembered, oneOff, chosen;
    QSettings().setValue(QStringLiteral("runs/dir"), remembered.path());
    {
        auto window = makeWindow(oneOff.path(), 0);
        QCOMPARE(window->runsPanel()->runsDir(), QDir(oneOff.path()).absolutePath());
        QCOMPARE(QSettings().value(QStringLiteral("runs/dir")).toString(), remembered.path());

        // A folder chosen in the window is remembered.
        QLineEdit* edit = window->runsPanel()->dirEdit();
        edit->setText(chosen.path());
        emit edit->editingFinished();
        QCOMPARE(window->runsPanel()->runsDir(), QDir(chosen.path()).absolutePath());
        QCOMPARE(QSettings().value(QStringLiteral("runs/dir")).toString(),
                 QDir(chosen.path()).absolutePath());
    }
    {
        // Without --runs, the remembered one is used.
        MainWindowOptions options;
        options.errorDialogs = false;
        MainWindow window(options);
        QCOMPARE(window.runsPanel()->runsDir(), QDir(chosen.path()).absolutePath());
    }
    QSettings().remove(QStringLiteral("runs/dir"));
}

void TestGui::runWithoutValidationNeverCallsTrainAccuracyValidation() {
    TrainingPanel panel;
    QSignalSpy logged(&panel, &TrainingPanel::messageLogged);
    TrainingController* controller = panel.controller();
    wb::RunInfo info;
    info.epochs = 2;
    info.iterations_per_epoch = 3;
    emit controller->runStarted(info);
    for (int epoch = 0; epoch < 2; ++epoch) {
        wb::EpochStats stats;
        stats.epoch = epoch;
        stats.train_loss = 1.0 - 0.3 * epoch;
        stats.train_accuracy = 0.5 + 0.2 * epoch;
        stats.has_val = false;
        stats.is_best = true;
        stats.best_epoch = epoch;
        emit controller->epochFinished(stats);
    }
    wb::RunResult result;
    result.status = "finished";
    result.epochs_done = 2;
    result.best_epoch = 1;
    result.best_val_accuracy = 0.7;  // the trainer's field; train accuracy here
    emit controller->runFinished(result);

    QStringList messages;
    for (const QList<QVariant>& args : logged) {
        messages.append(args.at(1).toString());
    }
    const QString all = messages.join(QLatin1Char('\n'));
    QVERIFY2(!all.contains(QStringLiteral("validation accuracy")), qPrintable(all));
    QVERIFY2(!all.contains(QStringLiteral("validation loss")), qPrintable(all));
    QVERIFY2(messages.last().contains(QStringLiteral("best train accuracy")),
             qPrintable(messages.last()));
    QVERIFY(panel.statusText().contains(QStringLiteral("best train accuracy")));
    panel.charts()->flush();
    QVERIFY(panel.charts()->bestAccuracyMarker()->name().contains(QStringLiteral("train")));
}

void TestGui::modelFormRoundTripsExperiment_data() {
    QTest::addColumn<wb::Experiment>("experiment");

    QTest::newRow("defaults") << wb::Experiment{};

    wb::Experiment adam;
    adam.model.arch = wb::available_models().back();
    adam.optimizer.type = "adam";
    adam.optimizer.lr = 3e-4;
    adam.optimizer.weight_decay = 0;
    adam.schedule.policy = "step";
    adam.schedule.step_epochs = 5;
    adam.schedule.gamma = 0.5;
    adam.epochs = 12;
    adam.batch_size = 128;
    adam.seed = 7;
    QTest::newRow("adam, step schedule") << adam;

    wb::Experiment adamw;
    adamw.optimizer.type = "adamw";
    adamw.optimizer.lr = 1e-6;
    adamw.optimizer.weight_decay = 0.05;
    adamw.preprocessing.image_size = 64;
    adamw.preprocessing.channels = 3;
    adamw.preprocessing.normalize = "imagenet";
    adamw.preprocessing.hflip = true;
    adamw.preprocessing.random_crop = true;
    adamw.preprocessing.crop_padding = 4;
    adamw.seed = 18446744073709551615ull;
    QTest::newRow("adamw, augmentation, 3 channels, largest seed") << adamw;

    wb::Experiment sgd;
    sgd.optimizer.momentum = 0.95;
    sgd.optimizer.nesterov = true;
    sgd.preprocessing.normalize = "none";
    sgd.data.val_fraction = 0.2;
    sgd.name = "kept although not in the form";
    QTest::newRow("sgd, fields outside the form") << sgd;

    wb::Experiment onecycle;
    onecycle.schedule.policy = "onecycle";
    onecycle.schedule.pct_start = 0.25;
    onecycle.schedule.div_factor = 10;
    onecycle.schedule.final_div_factor = 1e3;
    onecycle.schedule.three_phase = true;
    onecycle.schedule.anneal = "linear";
    onecycle.schedule.cycle_momentum = false;
    onecycle.schedule.base_momentum = 0.8;
    onecycle.schedule.max_momentum = 0.9;
    QTest::newRow("onecycle, every field") << onecycle;

    wb::Experiment multistep;
    multistep.schedule.policy = "multistep";
    multistep.schedule.milestones = {3, 6, 10};
    multistep.schedule.gamma = 0.2;
    multistep.schedule.warmup_steps = 25;
    multistep.schedule.warmup_start_factor = 0.05;
    QTest::newRow("multistep with warm-up") << multistep;

    wb::Experiment cosine;
    cosine.schedule.policy = "cosine";
    cosine.schedule.eta_min = 1e-5;
    QTest::newRow("cosine") << cosine;

    wb::Experiment control;
    control.device = "cuda:1";  // not on this machine: kept as it is
    control.mixed_precision = true;
    control.checkpoint.every_minutes = 2.5;
    control.checkpoint.every_steps = 100;  // not in the form
    control.early_stopping.enabled = true;
    control.early_stopping.metric = "val_accuracy";
    control.early_stopping.patience = 4;
    QTest::newRow("device, checkpoints, early stopping") << control;

    wb::Experiment cpu;
    cpu.device = "cpu";
    cpu.checkpoint.every_minutes = 0;
    QTest::newRow("cpu, checkpoints at the end of epochs only") << cpu;
    wb::Experiment transfer;
    transfer.model.arch = "resnet50";
    transfer.model.weights = "/weights/resnet50.pt";
    transfer.model.finetune = "last_stages";
    transfer.model.stages = 2;
    transfer.model.backbone_lr_factor = 0.1;
    transfer.model.unfreeze_epoch = 3;
    transfer.epochs = 5;
    QTest::newRow("pretrained weights, last stages, gradual unfreezing") << transfer;
}

void TestGui::modelFormRoundTripsExperiment() {
    QFETCH(wb::Experiment, experiment);
    ModelPanel panel;
    panel.setExperiment(experiment);
    const wb::Experiment back = panel.experiment();
    QCOMPARE(back.model.arch, experiment.model.arch);
    QCOMPARE(back.optimizer.type, experiment.optimizer.type);
    QCOMPARE(back.optimizer.lr, experiment.optimizer.lr);
    QCOMPARE(back.seed, experiment.seed);
    QVERIFY(back == experiment);
}

void TestGui::modelFormEditsReachTheExperiment() {
    ModelPanel panel;
    panel.setExperiment(wb::Experiment{});
    panel.learningRateSpin()->setValue(0.125);
    panel.epochsSpin()->setValue(9);
    panel.batchSizeSpin()->setValue(48);
    panel.optimizerCombo()->setCurrentIndex(
        panel.optimizerCombo()->findData(QStringLiteral("adamw")));
    const wb::Experiment e = panel.experiment();
    QCOMPARE(e.optimizer.lr, 0.125);
    QCOMPARE(e.epochs, 9);
    QCOMPARE(e.batch_size, 48);
    QCOMPARE(e.optimizer.type, std::string("adamw"));
    QVERIFY(!(e == wb::Experiment{}));
}

// Regression: the wheel over the form changed the momentum under the pointer, silently.
void TestGui::wheelOverAnUnfocusedFieldScrollsTheForm() {
    ModelPanel panel;
    panel.resize(480, 400);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QDoubleSpinBox* lr = panel.learningRateSpin();
    const double before = lr->value();
    auto* bar = panel.findChild<QScrollArea*>()->verticalScrollBar();
    const int scrolled = bar->value();
    const auto wheel = [lr] {
        const QPoint centre = lr->rect().center();
        QWheelEvent event(centre, lr->mapToGlobal(centre), QPoint(), QPoint(0, -120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(lr, &event);
    };
    wheel();
    QCOMPARE(lr->value(), before);
    QVERIFY2(bar->value() > scrolled, "the form scrolls instead");
    lr->setFocus();
    QTRY_VERIFY(lr->hasFocus());
    wheel();
    QVERIFY2(lr->value() != before, "a focused field takes the wheel");
}

// Counts from torchvision's resnet18(num_classes=10): 11,181,642 parameters; fc has 5,130;
// layer4 and fc together 8,398,858.
void TestGui::fineTuneFormCountsWhatTrains_data() {
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("stagesEnabled");
    QTest::newRow("all") << "all"
                         << "11.18 M, of which 11.18 M train (100.0%)" << false;
    QTest::newRow("head") << "head"
                          << "of which " + QLocale().toString(5130) + " train (0.046%)" << false;
    QTest::newRow("last stage") << "last_stages"
                                << "of which 8.40 M train (75.1%)" << true;
}

void TestGui::fineTuneFormCountsWhatTrains() {
    QFETCH(QString, mode);
    QFETCH(QString, text);
    QFETCH(bool, stagesEnabled);
    ModelPanel panel;
    wb::Experiment e;
    e.model.arch = "resnet18";
    e.model.finetune = mode.toStdString();
    e.preprocessing.channels = 3;
    panel.setExperiment(e);
    panel.setClassCount(10);
    FineTuneForm* form = panel.fineTuneForm();
    QVERIFY2(form->countLabel()->text().contains(text), qPrintable(form->countLabel()->text()));
    QCOMPARE(form->stagesSpin()->isEnabled(), stagesEnabled);
    QCOMPARE(form->unfreezeSpin()->isEnabled(), mode != "all");
    QCOMPARE(form->stagesSpin()->maximum(), 5);  // the stem and layer1 to layer4
    // Random weights: no file to pick.
    QVERIFY(!form->weightsEdit()->isEnabled());
}

void TestGui::choosingARunAsWeightsBringsItsPreprocessing() {
    QTemporaryDir run;
    QVERIFY(run.isValid());
    wb::Experiment pretrained;
    pretrained.preprocessing.image_size = 32;
    pretrained.preprocessing.channels = 1;
    pretrained.preprocessing.mean = {0.25f};
    pretrained.preprocessing.std = {0.5f};
    wb::save_experiment(pretrained, run.filePath("experiment.yaml").toStdString());

    ModelPanel panel;
    panel.setExperiment(wb::Experiment{});
    QSignalSpy edited(&panel, &ModelPanel::experimentEdited);
    FineTuneForm* form = panel.fineTuneForm();
    form->sourceCombo()->setCurrentIndex(form->sourceCombo()->findData("run"));
    form->weightsEdit()->setText(run.path());
    emit form->weightsEdit()->editingFinished();
    QVERIFY(edited.count() >= 1);
    const wb::Experiment e = panel.experiment();
    QCOMPARE(QString::fromStdString(e.model.weights), run.path());
    QCOMPARE(e.preprocessing.image_size, 32);
    QCOMPARE(e.preprocessing.mean, std::vector<float>{0.25f});
    QCOMPARE(panel.imageSizeSpin()->value(), 32);

    // A file: ImageNet's preprocessing.
    form->sourceCombo()->setCurrentIndex(form->sourceCombo()->findData("file"));
    form->weightsEdit()->setText(run.filePath("resnet18.pt"));
    emit form->weightsEdit()->editingFinished();
    const wb::Experiment f = panel.experiment();
    QCOMPARE(f.preprocessing.image_size, 224);
    QCOMPARE(f.preprocessing.channels, 3);
    QCOMPARE(f.preprocessing.normalize, std::string("imagenet"));
}

void TestGui::scheduleFormShowsOnlyThePolicysFields_data() {
    QTest::addColumn<QString>("policy");
    QTest::addColumn<QStringList>("shown");
    QTest::newRow("constant") << "constant" << QStringList{"warmup", "warmup_start"};
    QTest::newRow("step") << "step" << QStringList{"step", "gamma", "warmup", "warmup_start"};
    QTest::newRow("multistep") << "multistep"
                               << QStringList{"milestones", "gamma", "warmup", "warmup_start"};
    QTest::newRow("cosine") << "cosine" << QStringList{"eta_min", "warmup", "warmup_start"};
    QTest::newRow("onecycle") << "onecycle"
                              << QStringList{"peak",      "pct_start",     "div",
                                             "final_div", "anneal",        "three_phase",
                                             "cycle",     "base_momentum", "max_momentum"};
}

void TestGui::scheduleFormShowsOnlyThePolicysFields() {
    QFETCH(QString, policy);
    QFETCH(QStringList, shown);
    ScheduleForm form;
    wb::ScheduleConfig config;
    config.warmup_steps = 10;  // the start factor shows only with a warm-up
    form.setSchedule(config);
    form.choosePolicy(policy);
    const std::vector<std::pair<const char*, const QWidget*>> fields = {
        {"peak", form.peakRateNote()},
        {"step", form.stepEpochsSpin()},
        {"milestones", form.milestonesEdit()},
        {"gamma", form.gammaSpin()},
        {"eta_min", form.etaMinSpin()},
        {"pct_start", form.pctStartSpin()},
        {"div", form.divFactorSpin()},
        {"final_div", form.finalDivFactorSpin()},
        {"anneal", form.annealCombo()},
        {"three_phase", form.threePhaseCheck()},
        {"cycle", form.cycleMomentumCheck()},
        {"base_momentum", form.baseMomentumSpin()},
        {"max_momentum", form.maxMomentumSpin()},
        {"warmup", form.warmupStepsSpin()},
        {"warmup_start", form.warmupStartSpin()}};
    for (const auto& [name, widget] : fields) {
        QVERIFY2(form.isFieldShown(widget) == shown.contains(QLatin1String(name)), name);
    }
    if (policy == QLatin1String("onecycle")) {
        // Without cycling, the momentum bounds mean nothing.
        form.cycleMomentumCheck()->setChecked(false);
        QVERIFY(!form.isFieldShown(form.baseMomentumSpin()));
        QVERIFY(!form.isFieldShown(form.maxMomentumSpin()));
    }
}

void TestGui::schedulePreviewMatchesTheEngineSchedule() {
    wb::Experiment e;
    e.optimizer.lr = 0.05;
    e.epochs = 4;
    e.batch_size = 32;
    e.schedule.policy = "onecycle";
    e.schedule.pct_start = 0.4;
    ModelPanel panel;
    panel.setExperiment(e);
    panel.setTrainingSetSize(300);  // 10 iterations of 32 per epoch, the last one partial
    panel.updatePreviewNow();
    SchedulePreview* preview = panel.schedulePreview();
    QVERIFY2(preview->showsCurves(), qPrintable(preview->message()));

    // Made here from the numbers, not through the app's conversion.
    wb::ScheduleSpec spec;
    spec.policy = "onecycle";
    spec.max_lr = 0.05;
    spec.pct_start = 0.4;
    const wb::Schedule schedule = wb::Schedule::make(spec, 40);
    const QList<QPointF>& lr = preview->learningRates();
    const QList<QPointF>& momentum = preview->momenta();
    QCOMPARE(lr.size(), 40);
    QCOMPARE(momentum.size(), 40);
    for (int step : {0, 20, 39}) {
        QCOMPARE(lr[step].x(), double(step));
        QCOMPARE(lr[step].y(), schedule.lr(step));
        QCOMPARE(momentum[step].y(), schedule.momentum(step));
    }
    QCOMPARE(preview->learningRateSeries()->count(), 40);
    // A tick on every epoch boundary, counted from step 0.
    QCOMPARE(preview->stepAxis()->tickInterval(), 10.0);
    QCOMPARE(preview->stepAxis()->tickAnchor(), 0.0);

    // An edit reaches the preview, coalesced.
    panel.epochsSpin()->setValue(5);
    panel.epochsSpin()->setValue(6);
    QTRY_COMPARE(preview->learningRates().size(), 60);
}

void TestGui::schedulePreviewShowsWhyAScheduleIsDegenerate() {
    wb::Experiment e;
    e.epochs = 1;
    e.batch_size = 32;
    e.schedule.policy = "onecycle";
    e.schedule.three_phase = true;
    e.schedule.pct_start = 0.6;  // the fall back would end after the run
    ModelPanel panel;
    panel.setExperiment(e);
    panel.setTrainingSetSize(300);
    panel.updatePreviewNow();
    SchedulePreview* preview = panel.schedulePreview();
    QVERIFY(!preview->showsCurves());
    QVERIFY2(preview->message().contains(QStringLiteral("schedule.pct_start")),
             qPrintable(preview->message()));
    QVERIFY(preview->message().contains(QStringLiteral("10 optimizer step")));
    QVERIFY(!computeScheduleCurves(e, 300).error.isEmpty());

    panel.scheduleForm()->threePhaseCheck()->setChecked(false);
    QTRY_VERIFY(preview->showsCurves());
}

void TestGui::smallRatesAreDrawnInUnitsOfAPowerOfTen() {
    SchedulePreview preview(QStringLiteral("rates"));
    preview.setCurves({{0, 2.5e-5}, {1, 6.28e-4}, {2, 1e-4}}, {});
    QCOMPARE(preview.learningRateScaleExponent(), -4);
    QVERIFY(valueAxis(preview.chart(), Qt::Vertical)->titleText().contains(QStringLiteral("1e-4")));
    QCOMPARE(preview.learningRateSeries()->at(1).y(), 6.28);
    QCOMPARE(preview.learningRates().at(1).y(), 6.28e-4);  // the data keep their values
    preview.setCurves({{0, 0.05}, {1, 0.1}}, {});
    QCOMPARE(preview.learningRateScaleExponent(), 0);
    QCOMPARE(preview.learningRateSeries()->at(1).y(), 0.1);
    // Regression: a constant 0.01 was labelled "0.0100", elided to "0.01…" beside the chart.
    preview.setCurves({{0, 0.01}, {1, 0.01}}, {});
    QCOMPARE(preview.learningRateScaleExponent(), -2);
    QCOMPARE(valueAxis(preview.chart(), Qt::Vertical)->labelFormat(), QStringLiteral("%.2f"));
}

void TestGui::schedulePreviewWaitsForADataset() {
    ModelPanel panel;
    panel.updatePreviewNow();
    QVERIFY(!panel.schedulePreview()->showsCurves());
    QVERIFY(panel.schedulePreview()->message().contains(QStringLiteral("dataset")));
    QCOMPARE(stepsPerEpoch(300, 32), 10LL);
    QCOMPARE(stepsPerEpoch(320, 32), 10LL);
    QCOMPARE(stepsPerEpoch(0, 32), 0LL);
    QCOMPARE(stepsPerEpoch(321, 32), 10LL);  // a last batch of one image is left out
    QCOMPARE(stepsPerEpoch(300, 32, 4), 3LL);
    QCOMPARE(stepsPerEpoch(1, 32), 0LL);
}

void TestGui::runsPanelReadsRunFolders() {
    QTemporaryDir runs;
    QDir root(runs.path());
    auto write = [&](const QString& run, const QString& file, const QByteArray& text) {
        root.mkpath(run);
        QFile f(root.filePath(run + QLatin1Char('/') + file));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    };
    wb::Experiment e;
    e.model.arch = "small_cnn";
    e.epochs = 2;
    write(QStringLiteral("a-done"), QStringLiteral("experiment.yaml"),
          QByteArray::fromStdString(wb::to_yaml(e)));
    write(QStringLiteral("a-done"), QStringLiteral("metrics.csv"),
          "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,lr\n"
          "1,1.5,0.40,1.4,0.45,1.0,0.01\n2,1.0,0.60,1.1,0.625,1.0,0.01\n");
    write(QStringLiteral("b-half"), QStringLiteral("experiment.yaml"),
          QByteArray::fromStdString(wb::to_yaml(e)));
    write(QStringLiteral("b-half"), QStringLiteral("metrics.csv"),
          "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,lr\n"
          "1,1.5,0.40,nan,nan,1.0,0.01\n");
    write(QStringLiteral("b-half"), QStringLiteral("result.yaml"),
          "status: cancelled\nepochs_done: 1\n");
    write(QStringLiteral("c-broken"), QStringLiteral("experiment.yaml"), "epochs: [oops\n");
    root.mkpath(QStringLiteral("not-a-run"));

    RunsPanel panel;
    panel.setRunsDir(runs.path());
    QCOMPARE(panel.runCount(), 3);
    QCOMPARE(panel.table()->rowCount(), 3);
    QHash<QString, RunSummary> byName;
    for (const RunSummary& r : panel.runs()) {
        byName.insert(r.name, r);
    }
    QCOMPARE(byName.value("a-done").status, QStringLiteral("finished"));
    QCOMPARE(byName.value("a-done").model, QStringLiteral("small_cnn"));
    QCOMPARE(byName.value("a-done").bestEpoch, 2);
    QCOMPARE(byName.value("a-done").bestAccuracy, 0.625);
    QVERIFY(byName.value("a-done").bestIsValidation);
    QCOMPARE(byName.value("b-half").status, QStringLiteral("cancelled"));
    QCOMPARE(byName.value("b-half").bestAccuracy, 0.40);  // no validation: train accuracy
    QVERIFY(!byName.value("b-half").bestIsValidation);
    QCOMPARE(byName.value("c-broken").status, QStringLiteral("unreadable"));
    QVERIFY(!byName.value("c-broken").error.isEmpty());

    panel.setActiveRun(root.filePath(QStringLiteral("b-half")));
    for (const RunSummary& r : panel.runs()) {
        QCOMPARE(r.status == QLatin1String("running"), r.name == QLatin1String("b-half"));
    }
}

// ---- training -------------------------------------------------------------------------------

void TestGui::startButtonRunsTrainingToTheEnd() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 1);
    setSmallRun(window.get(), 1);
    TrainingPanel* training = window->trainingPanel();
    QSignalSpy finished(training, &TrainingPanel::runFinished);
    QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    const int tabsWidth = window->tabs()->width();

    QTest::mouseClick(training->startButton(), Qt::LeftButton);
    QVERIFY(training->isRunning());
    QVERIFY(!training->startButton()->isEnabled());
    QVERIFY(training->stopButton()->isEnabled());
    QVERIFY(finished.wait(kRunTimeoutMs));
    QVERIFY(!training->isRunning());

    const wb::RunResult& result = training->lastResult();
    QVERIFY2(result.status == "finished", result.message.c_str());
    QCOMPARE(result.epochs_done, 1);
    QVERIFY(training->startButton()->isEnabled());
    // The run's long summary wraps rather than taking width from the dataset panel.
    QTest::qWait(50);
    QCOMPARE(window->tabs()->width(), tabsWidth);

    // The charts got every iteration (300 images in batches of 32) and the epoch.
    TrainingCharts* charts = training->charts();
    charts->flush();
    QCOMPARE(charts->iterationLoss().size(), 10);
    QCOMPARE(training->iterationsSeen(), 10);
    QCOMPARE(charts->rawLossSeries()->count(), 10);
    QVERIFY(charts->smoothedLossSeries()->count() > 0);
    QCOMPARE(charts->epochs().size(), 1);
    QCOMPARE(charts->trainLossSeries()->count(), 1);
    QCOMPARE(charts->valAccuracySeries()->count(), 1);
    QCOMPARE(charts->bestEpoch(), 1);
    QCOMPARE(charts->bestAccuracyMarker()->count(), 1);
    QCOMPARE(training->progressBar()->value(), training->progressBar()->maximum());

    // The run folder is listed with its status and accuracy.
    RunsPanel* runsPanel = window->runsPanel();
    QTRY_COMPARE(runsPanel->runCount(), 1);
    const RunSummary& run = runsPanel->runs().front();
    QCOMPARE(run.status, QStringLiteral("finished"));
    QCOMPARE(run.model, QStringLiteral("small_cnn"));
    QCOMPARE(run.epochsDone, 1);
    QVERIFY(run.bestAccuracy >= 0);
    QCOMPARE(window->logView()->count(wb::Level::Error), 0);
}

void TestGui::stopCancelsRunningTraining() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 500);
    setSmallRun(window.get(), 500);
    TrainingPanel* training = window->trainingPanel();
    QSignalSpy finished(training, &TrainingPanel::runFinished);
    QVERIFY(window->startTraining());
    QVERIFY(waitForIterations(training, kRunTimeoutMs));

    QElapsedTimer timer;
    timer.start();
    QTest::mouseClick(training->stopButton(), Qt::LeftButton);
    QVERIFY(training->isStopping());
    QVERIFY(finished.wait(10000));
    const qint64 stopMs = timer.elapsed();
    QVERIFY2(stopMs < 5000, qPrintable(QStringLiteral("stop took %1 ms").arg(stopMs)));
    QCOMPARE(training->lastResult().status, std::string("cancelled"));
    QVERIFY(training->lastResult().epochs_done < 500);
    QVERIFY(!training->isRunning());
    QVERIFY(training->startButton()->isEnabled());
}

void TestGui::closingWindowWhileTrainingStopsTheRunFirst() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 500);
    setSmallRun(window.get(), 500);
    TrainingPanel* training = window->trainingPanel();
    QVERIFY(window->startTraining());
    QVERIFY(waitForIterations(training, kRunTimeoutMs));

    QElapsedTimer timer;
    timer.start();
    QVERIFY(!window->close());  // refused for now: the run stops first
    QVERIFY(training->isStopping());
    QTRY_VERIFY_WITH_TIMEOUT(!window->isVisible(), 10000);
    QVERIFY(timer.elapsed() < 5000);
    QVERIFY(!training->isRunning());
    QCOMPARE(training->lastResult().status, std::string("cancelled"));
}

void TestGui::destroyingWindowWhileTrainingDoesNotHang() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 500);
    setSmallRun(window.get(), 500);
    QVERIFY(window->startTraining());
    QVERIFY(waitForIterations(window->trainingPanel(), kRunTimeoutMs));
    QElapsedTimer timer;
    timer.start();
    window.reset();  // cancels and joins the training thread
    QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
}

void TestGui::rateChartShowsTheAppliedOneCycleRates() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 2);
    setSmallRun(window.get(), 2);
    wb::Experiment e = window->modelPanel()->experiment();
    e.schedule.policy = "onecycle";
    window->modelPanel()->setExperiment(e);
    QTRY_VERIFY_WITH_TIMEOUT(window->datasetPanel()->hasScan(), kScanTimeoutMs);
    TrainingPanel* training = window->trainingPanel();
    QSignalSpy finished(training, &TrainingPanel::runFinished);
    QVERIFY(window->startTraining());
    QVERIFY(finished.wait(kRunTimeoutMs));
    QVERIFY2(training->lastResult().status == "finished", training->lastResult().message.c_str());

    TrainingCharts* charts = training->charts();
    charts->flush();
    const wb::Schedule schedule = wb::Schedule::make(wb::schedule_spec(e, 10), 20);
    const QList<QPointF>& lr = charts->appliedLearningRates();
    const QList<QPointF>& momentum = charts->appliedMomenta();
    QCOMPARE(lr.size(), 20);
    QCOMPARE(momentum.size(), 20);
    for (int step = 0; step < 20; ++step) {
        QCOMPARE(lr[step].x(), double(step));
        QCOMPARE(lr[step].y(), schedule.lr(step));
        QCOMPARE(momentum[step].y(), schedule.momentum(step));
    }
    QCOMPARE(charts->rateChart()->learningRateSeries()->count(), 20);
    QCOMPARE(charts->rateChart()->momentumSeries()->count(), 20);
    QVERIFY(charts->rateChart()->showsCurves());
}

// ---- learning-rate range test ----------------------------------------------------------------

void TestGui::lrFinderPanelHandsThePickedRateToTraining() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 1);
    setSmallRun(window.get(), 1);
    QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    QTRY_VERIFY_WITH_TIMEOUT(window->datasetPanel()->hasScan(), kScanTimeoutMs);
    LrFinderPanel* panel = window->lrFinderPanel();
    wb::LrFinderConfig settings;
    settings.start_lr = 1e-5;
    settings.end_lr = 1;
    settings.num_iter = 30;
    panel->setSettings(settings);
    QSignalSpy finished(panel, &LrFinderPanel::finished);

    QTest::mouseClick(panel->runButton(), Qt::LeftButton);
    QVERIFY(panel->isRunning());
    QCOMPARE(window->workTabs()->currentWidget(), panel);
    QVERIFY(!panel->runButton()->isEnabled());
    QVERIFY(panel->stopButton()->isEnabled());
    QVERIFY(!window->startTraining());  // one job at a time
    QVERIFY(finished.wait(kRunTimeoutMs));
    QVERIFY(!panel->isRunning());

    const wb::LrFindReport& report = panel->report();
    QVERIFY2(report.status == "finished", report.message.c_str());
    const QDir folder(QString::fromStdString(report.run_dir));
    QCOMPARE(folder.absolutePath(),
             QDir(runs.path() + "/lr-find")
                 .absoluteFilePath(QFileInfo(folder.absolutePath()).fileName()));
    for (const char* name : {"lr_find.csv", "lr_find.png", "lr_find.yaml", "experiment.yaml"}) {
        QVERIFY2(folder.exists(QString::fromLatin1(name)), name);
    }
    QFile csv(folder.filePath(QStringLiteral("lr_find.csv")));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const int rows = int(csv.readAll().count('\n')) - 1;
    QCOMPARE(rows, int(report.result.lrs.size()));
    // The plot holds the whole curve, and a first pick is made for the user.
    LrPlot* plot = panel->plot();
    plot->flush();
    QCOMPARE(plot->smoothedSeries()->count(), int(report.result.lrs.size()));
    QVERIFY(std::isfinite(panel->pickedRate()));

    // A click on the plot picks the rate under the cursor.
    const double target = report.result.lrs[report.result.lrs.size() / 2];
    const QPointF at = plot->positionOf(target, report.result.smoothed[0]);
    QTest::mouseClick(plot->view()->viewport(), Qt::LeftButton, {}, at.toPoint());
    QVERIFY2(std::abs(std::log10(panel->pickedRate() / target)) < 0.05,
             qPrintable(QString("picked %1, clicked at %2").arg(panel->pickedRate()).arg(target)));
    const double picked = panel->pickedRate();

    QTest::mouseClick(panel->onecycleButton(), Qt::LeftButton);
    wb::Experiment e = window->modelPanel()->experiment();
    QCOMPARE(e.schedule.policy, std::string("onecycle"));
    QVERIFY(std::abs(e.optimizer.lr / picked - 1) < 1e-6);
    QFile yaml(folder.filePath(QStringLiteral("lr_find.yaml")));
    QVERIFY(yaml.open(QIODevice::ReadOnly));
    QVERIFY(yaml.readAll().contains("used_as: onecycle_max_lr"));

    QTest::mouseClick(panel->fixedButton(), Qt::LeftButton);
    e = window->modelPanel()->experiment();
    QCOMPARE(e.schedule.policy, std::string("constant"));
    QVERIFY(std::abs(e.optimizer.lr / picked - 1) < 1e-6);

    // Training at that rate keeps the range test's files in its run folder.
    TrainingPanel* training = window->trainingPanel();
    QSignalSpy trained(training, &TrainingPanel::runFinished);
    QVERIFY(window->startTraining());
    QCOMPARE(window->workTabs()->currentWidget(), training);
    QVERIFY(!panel->runButton()->isEnabled());
    QVERIFY(trained.wait(kRunTimeoutMs));
    const QDir run(QString::fromStdString(training->lastResult().run_dir));
    QVERIFY2(run.exists(QStringLiteral("lr_find.csv")), qPrintable(run.absolutePath()));
    QVERIFY(run.exists(QStringLiteral("lr_find.png")));
    QTRY_VERIFY(panel->runButton()->isEnabled());
}

void TestGui::lrFinderStopKeepsTheCurveSoFar() {
    QTemporaryDir runs;
    auto window = makeWindow(runs.path(), 1);
    setSmallRun(window.get(), 1);
    LrFinderPanel* panel = window->lrFinderPanel();
    wb::LrFinderConfig settings;
    settings.num_iter = 100000;
    settings.diverge_threshold = 0;
    settings.end_lr = 1e-3;
    panel->setSettings(settings);
    QSignalSpy finished(panel, &LrFinderPanel::finished);
    QVERIFY(window->startLrFinder());
    QTRY_VERIFY_WITH_TIMEOUT(panel->plot()->smoothedSeries()->count() >= 3, kRunTimeoutMs);
    QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
    QVERIFY(finished.wait(kRunTimeoutMs));
    const wb::LrFindReport& report = panel->report();
    QCOMPARE(report.status, std::string("cancelled"));
    QCOMPARE(report.result.stop_reason, std::string("cancelled"));
    QVERIFY(report.result.lrs.size() >= 3);
    QVERIFY(QFile::exists(QString::fromStdString(report.run_dir) + "/lr_find.png"));
    QVERIFY(panel->runButton()->isEnabled());
}

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
