// The run comparison widget: one coloured line per run in both charts, the best epochs marked,
// gaps for missing values, and the PNG and CSV exports. Offscreen platform.

#include <QChart>
#include <QFile>
#include <QImage>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSet>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>
#include <cmath>
#include <limits>

#include "widgets/run_comparison.h"

using namespace wb::ui;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ComparedRun makeRun(const QString& label, const QList<double>& accuracy, const QList<double>& loss,
                    int bestEpoch = 0) {
    ComparedRun run;
    run.label = label;
    for (int i = 0; i < accuracy.size(); ++i) {
        run.epochs.append(i + 1);
    }
    run.accuracy = accuracy;
    run.loss = loss;
    run.bestEpoch = bestEpoch;
    return run;
}

QValueAxis* axisOf(QChart* chart, Qt::Orientation orientation) {
    const auto axes = chart->axes(orientation);
    return axes.isEmpty() ? nullptr : qobject_cast<QValueAxis*>(axes.front());
}

/// RFC 4180 records, parsed independently of the widget: quoted fields may hold commas, quotes
/// (doubled) and line breaks.
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    bool fieldStarted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"') && !fieldStarted) {
            quoted = true;
            fieldStarted = true;
        } else if (c == QLatin1Char(',')) {
            record.append(field);
            field.clear();
            fieldStarted = false;
        } else if (c == QLatin1Char('\n')) {
            record.append(field);
            records.append(record);
            record.clear();
            field.clear();
            fieldStarted = false;
        } else if (c != QLatin1Char('\r')) {
            field += c;
            fieldStarted = true;
        }
    }
    if (fieldStarted || !record.isEmpty()) {
        record.append(field);
        records.append(record);
    }
    return records;
}

}  // namespace

class TestRunComparison : public QObject {
    Q_OBJECT
private slots:
    void withoutRunsShowsAHint();
    void eachRunHasItsOwnColourInBothCharts();
    void paletteColoursAreDistinct();
    void bestEpochIsMarkedOnBothCharts_data();
    void bestEpochIsMarkedOnBothCharts();
    void nanValuesAreSkipped();
    void epochAxisHasWholeTicks();
    void runWithoutValidationSaysTrain();
    void legendNamesEveryRunWithItsBest();
    void setRunsReplacesTheSeries();
    void chartsStackWhenNarrow();
    void csvIsExact();
    void csvReadsBackWithCommasAndQuotes();
    void pngIsLoadableAndNotBlank();
};

void TestRunComparison::withoutRunsShowsAHint() {
    RunComparison widget;
    QVERIFY(widget.showsHint());
    QCOMPARE(widget.hintText(), QStringLiteral("Select runs in the table to compare them"));
    widget.setRuns({makeRun("a", {0.5}, {1.0})});
    QVERIFY(!widget.showsHint());
    QVERIFY(widget.hintText().isEmpty());
    widget.setRuns({});
    QVERIFY(widget.showsHint());
    QCOMPARE(widget.runCount(), 0);
    QVERIFY(widget.accuracyChart()->series().isEmpty());
}

void TestRunComparison::eachRunHasItsOwnColourInBothCharts() {
    RunComparison widget;
    widget.setRuns({makeRun("a", {0.5, 0.6}, {1.0, 0.8}), makeRun("b", {0.4, 0.7}, {1.2, 0.7}),
                    makeRun("c", {0.3, 0.65}, {1.3, 0.9})});
    QCOMPARE(widget.runCount(), 3);
    QSet<QRgb> colours;
    for (int r = 0; r < 3; ++r) {
        QLineSeries* acc = widget.accuracySeries(r);
        QLineSeries* loss = widget.lossSeries(r);
        QVERIFY(acc && loss);
        QCOMPARE(acc->count(), 2);
        QCOMPARE(loss->count(), 2);
        QCOMPARE(acc->name(), widget.runs()[r].label);
        QCOMPARE(acc->pen().color(), loss->pen().color());
        QCOMPARE(widget.bestAccuracyMarker(r)->color(), acc->pen().color());
        QCOMPARE(widget.bestLossMarker(r)->color(), acc->pen().color());
        colours.insert(acc->pen().color().rgb());
        QVERIFY(acc->chart() == widget.accuracyChart());
        QVERIFY(loss->chart() == widget.lossChart());
    }
    QCOMPARE(colours.size(), 3);
    // A line and a best-epoch marker per run in each chart, nothing else.
    QCOMPARE(widget.accuracyChart()->series().size(), 6);
    QCOMPARE(widget.lossChart()->series().size(), 6);
    QVERIFY(widget.accuracySeries(3) == nullptr);
}

void TestRunComparison::paletteColoursAreDistinct() {
    const int n = RunComparison::paletteSize();
    QVERIFY(n >= 8);
    for (int i = 0; i < n; ++i) {
        QVERIFY(!RunComparison::isDashed(i));
        for (int j = i + 1; j < n; ++j) {
            const QColor a = RunComparison::colourFor(i);
            const QColor b = RunComparison::colourFor(j);
            const int distance = std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) +
                                 std::abs(a.blue() - b.blue());
            QVERIFY2(distance > 60, qPrintable(QStringLiteral("%1 and %2").arg(i).arg(j)));
        }
    }
    // Past the palette, the colours repeat with a dashed line.
    QCOMPARE(RunComparison::colourFor(n), RunComparison::colourFor(0));
    QVERIFY(RunComparison::isDashed(n));
    RunComparison widget;
    QList<ComparedRun> many;
    for (int i = 0; i <= n; ++i) {
        many.append(makeRun(QString::number(i), {0.5}, {1.0}));
    }
    widget.setRuns(many);
    QCOMPARE(widget.accuracySeries(0)->pen().style(), Qt::SolidLine);
    QCOMPARE(widget.accuracySeries(n)->pen().style(), Qt::DashLine);
}

void TestRunComparison::bestEpochIsMarkedOnBothCharts_data() {
    QTest::addColumn<QList<double>>("accuracy");
    QTest::addColumn<QList<double>>("loss");
    QTest::addColumn<int>("given");
    QTest::addColumn<int>("expected");
    QTest::addColumn<QString>("text");

    QTest::newRow("as the trainer chose")
        << QList<double>{0.5, 0.912, 0.95, 0.9} << QList<double>{1.0, 0.5, 0.4, 0.45} << 2 << 2
        << "best 91.2% @ 2";
    QTest::newRow("highest when not given")
        << QList<double>{0.5, 0.912, 0.95, 0.9} << QList<double>{1.0, 0.5, 0.4, 0.45} << 0 << 3
        << "best 95.0% @ 3";
    QTest::newRow("earliest of equals")
        << QList<double>{0.5, 0.8, 0.8} << QList<double>{1.0, 0.5, 0.4} << 0 << 2
        << "best 80.0% @ 2";
    QTest::newRow("not an epoch of the run")
        << QList<double>{0.5, 0.8} << QList<double>{1.0, 0.5} << 7 << 2 << "best 80.0% @ 2";
    QTest::newRow("given on a missing value")
        << QList<double>{0.5, kNaN, 0.7} << QList<double>{1.0, 0.5, 0.4} << 2 << 3
        << "best 70.0% @ 3";
    QTest::newRow("no value at all")
        << QList<double>{kNaN, kNaN} << QList<double>{1.0, 0.5} << 0 << 0 << "";
}

void TestRunComparison::bestEpochIsMarkedOnBothCharts() {
    QFETCH(QList<double>, accuracy);
    QFETCH(QList<double>, loss);
    QFETCH(int, given);
    QFETCH(int, expected);
    QFETCH(QString, text);

    RunComparison widget;
    // A second run, so that the markers are checked per run, not per chart.
    widget.setRuns({makeRun("other", {0.1, 0.2, 0.3}, {2.0, 1.9, 1.8}, 3),
                    makeRun("run", accuracy, loss, given)});
    QCOMPARE(widget.bestEpoch(1), expected);
    QCOMPARE(widget.bestText(1), text);
    QScatterSeries* acc = widget.bestAccuracyMarker(1);
    QScatterSeries* lossMarker = widget.bestLossMarker(1);
    if (expected == 0) {
        QCOMPARE(acc->count(), 0);
        QCOMPARE(lossMarker->count(), 0);
        return;
    }
    QCOMPARE(acc->count(), 1);
    QCOMPARE(lossMarker->count(), 1);
    QCOMPARE(acc->at(0), QPointF(expected, 100.0 * accuracy[expected - 1]));
    QCOMPARE(lossMarker->at(0), QPointF(expected, loss[expected - 1]));
    // The other run keeps its own marker.
    QCOMPARE(widget.bestAccuracyMarker(0)->at(0), QPointF(3, 30.0));
    // Every marker is inside the axes.
    QValueAxis* y = axisOf(widget.accuracyChart(), Qt::Vertical);
    QVERIFY(acc->at(0).y() > y->min() && acc->at(0).y() < y->max());
    QValueAxis* ly = axisOf(widget.lossChart(), Qt::Vertical);
    QVERIFY(lossMarker->at(0).y() > ly->min() && lossMarker->at(0).y() < ly->max());
}

void TestRunComparison::nanValuesAreSkipped() {
    RunComparison widget;
    widget.setRuns({makeRun("gaps", {0.5, kNaN, 0.7, 0.75}, {1.0, 0.9, kNaN, 0.6})});
    QLineSeries* acc = widget.accuracySeries(0);
    QLineSeries* loss = widget.lossSeries(0);
    QCOMPARE(acc->count(), 3);
    QCOMPARE(acc->at(0), QPointF(1, 50));
    QCOMPARE(acc->at(1), QPointF(3, 70));
    QCOMPARE(acc->at(2), QPointF(4, 75));
    QCOMPARE(loss->count(), 3);
    QCOMPARE(loss->at(0), QPointF(1, 1.0));
    QCOMPARE(loss->at(1), QPointF(2, 0.9));
    QCOMPARE(loss->at(2), QPointF(4, 0.6));
    for (QChart* chart : {widget.accuracyChart(), widget.lossChart()}) {
        QValueAxis* y = axisOf(chart, Qt::Vertical);
        QVERIFY(std::isfinite(y->min()) && std::isfinite(y->max()) && y->min() < y->max());
    }
}

void TestRunComparison::epochAxisHasWholeTicks() {
    RunComparison widget;
    QList<double> acc, loss;
    for (int i = 0; i < 30; ++i) {
        acc.append(0.5 + i * 0.01);
        loss.append(1.0 - i * 0.01);
    }
    widget.setRuns({makeRun("short", {0.5, 0.6}, {1.0, 0.9}), makeRun("long", acc, loss)});
    for (QChart* chart : {widget.accuracyChart(), widget.lossChart()}) {
        QValueAxis* x = axisOf(chart, Qt::Horizontal);
        QCOMPARE(x->min(), 0.5);
        QCOMPARE(x->max(), 30.5);
        QCOMPARE(x->tickAnchor(), 1.0);
        QVERIFY(x->tickInterval() >= 1);
        QCOMPARE(x->tickInterval(), std::round(x->tickInterval()));
        QCOMPARE(x->labelFormat(), QStringLiteral("%.0f"));
    }
}

void TestRunComparison::runWithoutValidationSaysTrain() {
    RunComparison widget;
    ComparedRun train = makeRun("no-val", {0.6, 0.8}, {0.9, 0.5});
    train.validation = false;
    widget.setRuns({makeRun("val", {0.5, 0.6}, {1.0, 0.8}), train});
    QCOMPARE(widget.displayLabel(0), QStringLiteral("val"));
    QCOMPARE(widget.displayLabel(1), QStringLiteral("no-val (train)"));
    QCOMPARE(widget.accuracySeries(1)->name(), QStringLiteral("no-val (train)"));
    QCOMPARE(widget.bestText(1), QStringLiteral("best 80.0% @ 2 (train)"));
    QVERIFY(widget.legendText().contains(QStringLiteral("no-val (train)")));
    // The titles no longer claim that every line is validation.
    QVERIFY(widget.accuracyChart()->title().contains(QStringLiteral("training where marked")));

    widget.setRuns({makeRun("val", {0.5, 0.6}, {1.0, 0.8})});
    QCOMPARE(widget.accuracyChart()->title(), QStringLiteral("Validation accuracy per epoch"));
    QCOMPARE(widget.lossChart()->title(), QStringLiteral("Validation loss per epoch"));
}

void TestRunComparison::legendNamesEveryRunWithItsBest() {
    RunComparison widget;
    widget.setRuns({makeRun("20250101-a · onecycle", {0.5, 0.912, 0.9}, {1.0, 0.5, 0.6}, 2),
                    makeRun("20250101-b · step", {0.4, 0.7, 0.85}, {1.2, 0.7, 0.6}, 3)});
    const QStringList lines = widget.legendText().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines[0].startsWith(QStringLiteral("20250101-a · onecycle")));
    QVERIFY(lines[0].endsWith(QStringLiteral("best 91.2% @ 2")));
    QVERIFY(lines[1].startsWith(QStringLiteral("20250101-b · step")));
    QVERIFY(lines[1].endsWith(QStringLiteral("best 85.0% @ 3")));
}

void TestRunComparison::setRunsReplacesTheSeries() {
    RunComparison widget;
    widget.setRuns({makeRun("a", {0.5}, {1.0}), makeRun("b", {0.5}, {1.0})});
    QPointer<QLineSeries> old = widget.accuracySeries(0);
    widget.setRuns({makeRun("c", {0.5, 0.6}, {1.0, 0.9})});
    QVERIFY(old.isNull());  // deleted, not leaked in the chart
    QCOMPARE(widget.accuracyChart()->series().size(), 2);
    QCOMPARE(widget.accuracySeries(0)->name(), QStringLiteral("c"));
    // The first run gets the first colour again.
    QCOMPARE(widget.accuracySeries(0)->pen().color(), RunComparison::colourFor(0));
}

void TestRunComparison::chartsStackWhenNarrow() {
    RunComparison widget;
    widget.setRuns({makeRun("a", {0.5, 0.6}, {1.0, 0.9})});
    widget.resize(1200, 500);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    QVERIFY(widget.isSideBySide());
    widget.resize(460, 520);
    QTRY_VERIFY(!widget.isSideBySide());
}

void TestRunComparison::csvIsExact() {
    RunComparison widget;
    ComparedRun train = makeRun("b \"step\"", {0.25, 0.5}, {1.5, kNaN}, 2);
    train.validation = false;
    widget.setRuns({makeRun("a, onecycle", {0.5, 0.912, 0.9}, {1.0, 0.5, 0.55}, 2), train});
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("comparison.csv"));
    QVERIFY(widget.exportCsv(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray expected =
        "run,epoch,val_accuracy,val_loss,is_best\n"
        "\"a, onecycle\",1,0.5,1,0\n"
        "\"a, onecycle\",2,0.912,0.5,1\n"
        "\"a, onecycle\",3,0.9,0.55,0\n"
        "\"b \"\"step\"\" (train)\",1,0.25,1.5,0\n"
        "\"b \"\"step\"\" (train)\",2,0.5,,1\n";
    QCOMPARE(file.readAll(), expected);
    QCOMPARE(widget.csvText().toUtf8(), expected);
    QVERIFY(!widget.exportCsv(dir.filePath(QStringLiteral("no/such/folder/x.csv"))));
}

void TestRunComparison::csvReadsBackWithCommasAndQuotes() {
    RunComparison widget;
    const ComparedRun a =
        makeRun("20250101-120000-a, lr 0.1 · onecycle", {0.5, 0.912, 0.9}, {1.0, 0.5, 0.55}, 2);
    const ComparedRun b = makeRun("plain", {0.1 + 0.2, 0.7}, {1.2, 0.4}, 0);
    widget.setRuns({a, b});
    const QList<QStringList> records = parseCsv(widget.csvText());
    QCOMPARE(records.size(), 1 + 3 + 2);
    QCOMPARE(records[0], (QStringList{"run", "epoch", "val_accuracy", "val_loss", "is_best"}));
    for (int i = 1; i < records.size(); ++i) {
        QCOMPARE(records[i].size(), 5);
    }
    for (int e = 0; e < 3; ++e) {
        const QStringList& r = records[1 + e];
        QCOMPARE(r[0], a.label);
        QCOMPARE(r[1].toInt(), e + 1);
        QCOMPARE(r[2].toDouble(), a.accuracy[e]);  // read back to the same double
        QCOMPARE(r[3].toDouble(), a.loss[e]);
        QCOMPARE(r[4], e == 1 ? QStringLiteral("1") : QStringLiteral("0"));
    }
    QCOMPARE(records[4][0], QStringLiteral("plain"));
    QCOMPARE(records[4][2].toDouble(), 0.1 + 0.2);
    QCOMPARE(records[5][4], QStringLiteral("1"));  // the computed best: epoch 2
}

void TestRunComparison::pngIsLoadableAndNotBlank() {
    RunComparison widget;
    widget.resize(420, 300);  // narrow on screen; the export is laid out at its own size
    widget.setRuns({makeRun("a · onecycle", {0.5, 0.8, 0.9, 0.88}, {1.0, 0.6, 0.4, 0.45}, 3),
                    makeRun("b · step", {0.45, 0.7, 0.75, 0.8}, {1.1, 0.8, 0.7, 0.6}, 4)});
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("comparison.png"));
    QVERIFY(widget.exportPng(path));
    QImage image;
    QVERIFY(image.load(path));
    QCOMPARE(image.width(), 1200);
    QVERIFY(image.height() >= 400);
    QCOMPARE(widget.size(), QSize(420, 300));

    // Not blank: many colours, and both runs' colours drawn in quantity.
    QSet<QRgb> distinct;
    int first = 0;
    int second = 0;
    const QRgb c0 = RunComparison::colourFor(0).rgb();
    const QRgb c1 = RunComparison::colourFor(1).rgb();
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QRgb p = image.pixel(x, y) | 0xff000000;
            distinct.insert(p);
            first += p == c0;
            second += p == c1;
        }
    }
    QVERIFY2(distinct.size() > 50, qPrintable(QString::number(distinct.size())));
    QVERIFY2(first > 200, qPrintable(QString::number(first)));
    QVERIFY2(second > 200, qPrintable(QString::number(second)));
    QVERIFY(!widget.exportPng(dir.filePath(QStringLiteral("no/such/folder/x.png"))));
}

QTEST_MAIN(TestRunComparison)
#include "tst_run_comparison.moc"
