#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QWidget>

class QBoxLayout;
class QChart;
class QLabel;
class QLineSeries;
class QScatterSeries;
class QStackedLayout;
class QValueAxis;

namespace wb::ui {

/// One run as the comparison draws it: per-epoch values, index for index.
struct ComparedRun {
    QString label;           ///< shown in the legend and written to the CSV's run column
    QList<double> epochs;    ///< 1-based epoch numbers, ascending
    QList<double> accuracy;  ///< in [0, 1], drawn in percent; NaN where there is no value
    QList<double> loss;      ///< NaN where there is no value
    /// False when the run has no validation split and `accuracy` and `loss` are its training
    /// values: the legend and the CSV then say "(train)" after the label.
    bool validation = true;
    /// 1-based best epoch as the trainer chose it. 0, or an epoch without a finite accuracy,
    /// means the one with the highest accuracy (the earliest of equals).
    int bestEpoch = 0;
};

/// Validation accuracy and loss per epoch of several runs overlaid, one colour per run (the same
/// in both charts), the best epoch of each run marked by a star on both charts. Above the charts
/// a legend names each run with its best accuracy ("best 91.2% @ 5"); hovering a star shows the
/// same in a tooltip. Non-finite values are skipped: the line joins the neighbouring epochs.
/// Without runs the widget shows a hint instead of empty charts.
///
/// The two charts sit side by side when the widget is wide enough, else one above the other.
class RunComparison : public QWidget {
    Q_OBJECT
public:
    explicit RunComparison(QWidget* parent = nullptr);
    ~RunComparison() override;

    /// Replaces the runs shown; the order sets the colours (see colourFor()).
    void setRuns(const QList<ComparedRun>& runs);
    const QList<ComparedRun>& runs() const { return m_runs; }
    int runCount() const { return int(m_runs.size()); }

    /// The best epoch drawn for `run` (resolved when the input said 0); 0 when the run has no
    /// finite accuracy at all.
    int bestEpoch(int run) const;
    /// "best 91.2% @ 5", or "best 91.2% @ 5 (train)"; empty without a best epoch.
    QString bestText(int run) const;
    /// The label with "(train)" after it when the run has no validation split.
    QString displayLabel(int run) const;

    /// Writes the widget as a PNG at a fixed size of 1200 pixels wide, the charts side by side,
    /// whatever its size on screen, so an export from a narrow panel stays legible.
    bool exportPng(const QString& path) const;
    /// Writes a long-format CSV, one line per run and epoch, in the order of runs() then epochs:
    ///
    ///     run,epoch,val_accuracy,val_loss,is_best
    ///     20250101-120000-a · onecycle,1,0.81,0.52,0
    ///
    /// `run` is displayLabel() (quoted per RFC 4180 when it holds a comma, a quote or a line
    /// break); `epoch` as given; accuracy in [0, 1] and loss in the shortest form that reads
    /// back to the same double, empty for NaN; `is_best` 1 on the best epoch's line, else 0.
    /// For a run without validation the two value columns hold its training values. Lines end
    /// in "\n".
    bool exportCsv(const QString& path) const;
    /// The CSV text that exportCsv() writes.
    QString csvText() const;

    /// The palette colour for the run at `index`: ten clearly distinct colours (Tableau 10),
    /// then the same again, drawn with a dashed line (see isDashed()).
    static QColor colourFor(int index);
    static bool isDashed(int index);
    static int paletteSize();

    /// Read back, for tests.
    bool showsHint() const;
    QString hintText() const;
    QString legendText() const;
    QChart* accuracyChart() const { return m_accuracyChart; }
    QChart* lossChart() const { return m_lossChart; }
    QLineSeries* accuracySeries(int run) const;
    QLineSeries* lossSeries(int run) const;
    QScatterSeries* bestAccuracyMarker(int run) const;
    QScatterSeries* bestLossMarker(int run) const;
    /// True while the charts are side by side.
    bool isSideBySide() const;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    /// The series of one run in both charts.
    struct RunSeries {
        QLineSeries* accuracy = nullptr;
        QLineSeries* loss = nullptr;
        QScatterSeries* bestAccuracy = nullptr;
        QScatterSeries* bestLoss = nullptr;
    };

    void rebuild();
    void updateLegend();
    void updateDirection();
    int resolvedBest(const ComparedRun& run) const;

    QStackedLayout* m_stack = nullptr;
    QLabel* m_hint = nullptr;
    QWidget* m_legendBox = nullptr;
    QBoxLayout* m_charts = nullptr;
    QChart* m_accuracyChart = nullptr;
    QChart* m_lossChart = nullptr;
    QValueAxis* m_accX = nullptr;
    QValueAxis* m_accY = nullptr;
    QValueAxis* m_lossX = nullptr;
    QValueAxis* m_lossY = nullptr;

    QList<ComparedRun> m_runs;
    QList<RunSeries> m_series;
    QList<int> m_best;  ///< resolved best epoch per run, 0 for none
    QString m_legendText;
};

}  // namespace wb::ui
