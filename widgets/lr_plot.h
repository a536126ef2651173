#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QWidget>

class QChart;
class QChartView;
class QColor;
class QEvent;
class QGraphicsRectItem;
class QGraphicsSimpleTextItem;
class QLabel;
class QLineSeries;
class QLogValueAxis;
class QMouseEvent;
class QPushButton;
class QTimer;
class QValueAxis;
class QWheelEvent;

namespace wb::ui {

/// A suggested learning rate, drawn as a labelled dashed vertical line. `lr` NaN (or <= 0) means
/// the rule found nothing: the legend says "<name>: none" and no line is drawn.
struct LrSuggestion {
    QString name;  ///< short, e.g. "steepest", "valley", "min/10"
    double lr = 0;
};

/// The learning-rate range test plot (Leslie Smith's LR finder; fastai's lr_find plot): loss
/// against a log-scale learning rate, raw (thin, light) and smoothed (thick), with the suggested
/// rates as dashed vertical lines and a solid "picked" line the user sets with the mouse.
///
/// Y range rule (the automatic view): a range test ends with the loss blowing up, and an axis
/// that spans the explosion flattens the dip that matters. The y axis therefore spans from the
/// lowest point drawn (raw or smoothed) up to the highest smoothed loss at or before the
/// smoothed minimum (in the order the points came, i.e. rising rate), plus 8% of that span on
/// each side; anything higher (the explosion) is clipped at the top. Without any smoothed point
/// the raw curve takes its place in the rule. A loss range that starts at or above 0 is not
/// padded below 0. The x axis spans the data, the suggestions and the picked rate, padded by 3%
/// of its span in log10; with no data, 1e-7 to 10.
///
/// Mouse, over the plot area:
/// - left click (press and release within 3 pixels): picks the rate under the cursor, rounded
///   to 3 significant digits; within 6 pixels of a suggestion line it picks exactly that
///   suggestion's rate (the nearest line wins).
/// - left drag starting within 6 pixels of the picked line: moves the line with the cursor
///   (snapping to suggestions as a click does); pickedRateChanged() is emitted once, on release.
/// - wheel: zooms x (in log10 rate) and y around the cursor, 20% per notch.
/// - right or middle drag, or Ctrl + left drag: pans.
/// - "Reset view" button: back to the automatic ranges, which then follow the data again. While
///   the view is zoomed or panned, new points do not move it.
/// pickedRateChanged() is emitted for user picks only, and only when the rate changed; never by
/// setPickedRate(), setCurve() or clear().
///
/// Live use: addPoint() stores the point and redraws at most every 100 ms (whole buffers, via
/// QXYSeries::replace); flush() redraws at once. The readout under the chart shows the rate at
/// the cursor, the losses interpolated there linearly in log10(rate), and the picked rate.
///
/// The picked line and each suggestion line are labelled on the plot ("steepest 3.16e-03",
/// "picked 1.00e-03", 3 significant digits); the legend holds the two curves and the suggestions
/// that found nothing.
///
/// Limitation: the rate axis labels powers of 10 only while it spans 4 decades or more; zoomed
/// further in it labels 10^(n/2), 10^(n/4), 10^(n/10), … instead, so labels are not round
/// numbers there (e.g. 3.2e-04, 5.6e-04).
class LrPlot : public QWidget {
    Q_OBJECT
public:
    explicit LrPlot(QWidget* parent = nullptr);
    ~LrPlot() override;

    /// Forgets the curve, the suggestions and the picked rate, and resets the view. Keeps the
    /// status line.
    void clear();
    /// One step of a running test: the rate (> 0), the raw loss and the smoothed loss. A
    /// non-finite value or a rate <= 0 is not drawn (a point keeps whichever of its two losses
    /// is finite). Redraws within 100 ms.
    void addPoint(double lr, double loss, double smoothed);
    /// A finished test, replacing what is there (same rules as addPoint); redraws at once. The
    /// lists are indexed together; extra entries of a longer list are ignored.
    void setCurve(const QList<double>& lrs, const QList<double>& losses,
                  const QList<double>& smoothed);
    /// Replaces the suggestion lines; colours follow the order of the list.
    void setSuggestions(const QList<LrSuggestion>& suggestions);
    /// Sets the picked rate from code without emitting; NaN or <= 0 removes the picked line.
    void setPickedRate(double lr);
    /// The picked rate, NaN when none.
    double pickedRate() const { return m_picked; }
    /// The line above the chart, e.g. "running 42/100" or "stopped: diverged at lr 3.1".
    void setStatus(const QString& text);
    QString status() const;

    /// Redraws pending points now instead of waiting for the timer.
    void flush();
    /// Restores the automatic ranges (the "Reset view" button).
    void resetView();
    /// True while the axes follow the data, false once zoomed or panned.
    bool isAutoView() const { return m_autoView; }

    /// Renders the whole widget (status, chart, readout) to a PNG file; false if it cannot be
    /// written. Pending points are drawn first.
    bool saveImage(const QString& path) const;

    /// The smoothed (or raw) loss at `lr`, linear in log10(lr) between the two neighbouring
    /// points; NaN outside the curve. This is what the readout shows.
    double smoothedLossAt(double lr) const;
    double rawLossAt(double lr) const;

    /// Read back, for tests.
    QChart* chart() const { return m_chart; }
    QChartView* view() const { return m_view; }
    QLineSeries* rawSeries() const { return m_rawSeries; }
    QLineSeries* smoothedSeries() const { return m_smoothSeries; }
    QLogValueAxis* xAxis() const { return m_x; }
    QValueAxis* yAxis() const { return m_y; }
    /// One line series per suggestion, in the order given; its name is the legend text
    /// ("steepest 3.20e-03" or "valley: none").
    const QList<QLineSeries*>& suggestionSeries() const { return m_suggestionSeries; }
    /// The text drawn beside each suggestion line ("steepest 3.20e-03"); empty for "none".
    QStringList suggestionLabels() const;
    QLineSeries* pickedSeries() const { return m_pickedSeries; }
    QString pickedLabel() const;
    QString readoutText() const;
    QPushButton* resetViewButton() const { return m_resetButton; }
    int redrawCount() const { return m_redrawCount; }
    /// Viewport pixel of the data point (lr, loss), for mouse events in tests.
    QPointF positionOf(double lr, double loss) const;

signals:
    /// The user picked a rate (click, or the end of a drag of the picked line).
    void pickedRateChanged(double lr);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    /// Text on a white box, drawn beside a marker line in chart coordinates.
    struct Label {
        QGraphicsRectItem* box = nullptr;
        QGraphicsSimpleTextItem* text = nullptr;
    };
    Label makeLabel(const QColor& color);
    static void setLabelText(const Label& label, const QString& text);

    void scheduleRedraw();
    void redraw();
    void applyAutoRanges();
    void setXRange(double lo, double hi);
    void setYRange(double lo, double hi);
    void updateMarkers();
    void updateLabels();
    void updateReadout();

    bool mousePress(QMouseEvent* event);
    bool mouseMove(QMouseEvent* event);
    bool mouseRelease(QMouseEvent* event);
    bool wheel(QWheelEvent* event);
    /// Data value (lr, loss) at a viewport pixel, and whether the pixel is in the plot area.
    QPointF valueAt(const QPointF& viewportPos, bool* inPlot = nullptr) const;
    /// The rate a click at `viewportPos` picks: a suggestion nearby, else the rounded rate.
    double rateForPick(const QPointF& viewportPos) const;
    double pixelX(double lr) const;
    void setPicked(double lr);

    QChart* m_chart = nullptr;
    QChartView* m_view = nullptr;
    QLineSeries* m_rawSeries = nullptr;
    QLineSeries* m_smoothSeries = nullptr;
    QLineSeries* m_pickedSeries = nullptr;
    QList<QLineSeries*> m_suggestionSeries;
    QLogValueAxis* m_x = nullptr;
    QValueAxis* m_y = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_readout = nullptr;
    QPushButton* m_resetButton = nullptr;
    QTimer* m_redrawTimer = nullptr;
    QList<Label> m_suggestionLabels;  ///< one per suggestion, in order
    Label m_pickedLabel;

    QList<QPointF> m_raw;       ///< (lr, loss), finite, lr > 0, in the order given
    QList<QPointF> m_smoothed;  ///< (lr, smoothed loss), same rules
    QList<LrSuggestion> m_suggestions;
    double m_picked;
    bool m_autoView = true;
    bool m_dirty = false;
    int m_redrawCount = 0;

    /// Pending: left button down, not moved yet (a click if released now). Ignored: a left
    /// drag that did not start on the picked line.
    enum class Drag { None, Pending, Marker, Pan, Ignored };
    Drag m_drag = Drag::None;
    bool m_pressOnMarker = false;
    QPointF m_pressPos;        ///< viewport pixel of the press
    double m_pressPicked;      ///< picked rate when the press happened
    double m_pressLogMin = 0;  ///< view at the press, for panning
    double m_pressLogMax = 0;
    double m_pressYMin = 0;
    double m_pressYMax = 0;
    bool m_hovering = false;
    QPointF m_hoverPos;
};

}  // namespace wb::ui
