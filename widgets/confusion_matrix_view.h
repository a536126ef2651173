#pragma once

#include <QColor>
#include <QList>
#include <QPoint>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QWidget>

class QAbstractScrollArea;
class QComboBox;
class QLabel;
class QPainter;
class QToolButton;

namespace wb::ui {

/// A confusion matrix as a heat map: rows are the true class, columns the predicted class, one
/// cell per pair. Made for 2 to 100 classes; more work, but get slow to read.
///
/// Display modes (the "Show" combo, or setNormalized()): the counts, coloured on a linear scale
/// from 0 to the largest count; or each row as percentages of its true class (each row sums to
/// 100%), coloured from 0% to 100%. A row without images shows "—" in that mode, on grey. Zero
/// is the lightest colour; non-zero values map linearly onto the rest of the scale from its 10%
/// mark, so that a single confusion among thousands of images still shows. The colour scale under
/// the matrix names both ends, beside the overall accuracy.
///
/// Size: "Fit" (the default) picks the largest cell, up to 96 pixels, that shows the whole
/// matrix, but never less than 18 pixels, so class names stay legible; 100 classes therefore
/// scroll. Ctrl + wheel (around the cursor) and the + and − buttons zoom, between 4 and 160
/// pixels a cell. The class names stay in view while scrolling (frozen headers); a column's name
/// is drawn across when it fits its cell, else vertically; names that do not fit are elided, and
/// when the cells are lower than the text only every k-th name is drawn. Numbers are drawn only
/// when the widest one fits its cell at 8 pixels or more, zeros (in grey) only at 10 pixels or
/// more. Diagonal cells (the correct predictions) have an orange border from 14-pixel cells up;
/// the cell under the mouse is outlined and its two class names are highlighted.
///
/// A cell's tooltip reads "true Shirt → predicted T-shirt_top: 123 images (12.3% of Shirt)".
/// Clicking a cell (press and release on the same cell) emits cellClicked().
class ConfusionMatrixView : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionMatrixView(QWidget* parent = nullptr);
    ~ConfusionMatrixView() override;

    /// Replaces the matrix: `classes` names the N classes, `counts` holds N*N image counts, row
    /// by row (counts[true * N + predicted]). Returns false, and shows no matrix, when N is 0,
    /// the sizes disagree or a count is negative. Keeps the display mode; a new N returns to Fit.
    bool setMatrix(const QStringList& classes, const QList<qint64>& counts);
    /// Shows no matrix, only a hint.
    void clear();
    /// The line above the matrix, e.g. "Validation, epoch 5".
    void setTitle(const QString& title);
    QString title() const;

    /// Row-normalized percentages (true) or counts (false, the default).
    void setNormalized(bool normalized);
    bool isNormalized() const { return m_normalized; }

    int classCount() const { return int(m_classes.size()); }
    const QStringList& classes() const { return m_classes; }
    qint64 count(int trueClass, int predictedClass) const;
    /// Images of class `trueClass`, i.e. the sum of its row.
    qint64 rowTotal(int trueClass) const;
    /// Share of row `trueClass` predicted as `predictedClass`, in percent; NaN for an empty row.
    double rowPercent(int trueClass, int predictedClass) const;
    /// The diagonal's share: "Accuracy 90.4% (9036 of 10000 images)"; empty without images.
    QString accuracyText() const;

    /// The text of a cell in the current mode: "123", or "12.3%" with one decimal ("0%" and
    /// "100%" only when exact, so 99.96% reads "100.0%"; "—" for an empty row). Whether it is
    /// drawn depends on the cell size; see numbersShown().
    QString cellText(int trueClass, int predictedClass) const;
    /// The fill colour of a cell in the current mode (light for low values, dark blue for high).
    QColor cellColor(int trueClass, int predictedClass) const;
    /// The tooltip of a cell.
    QString cellToolTip(int trueClass, int predictedClass) const;
    /// The scale ends of the legend: "0" and the largest count, or "0%" and "100%".
    QString scaleMinText() const;
    QString scaleMaxText() const;

    /// Writes the whole matrix (title, names, numbers and colour scale) as a PNG, whatever is
    /// scrolled into view, with cells of exportCellSize() pixels; false if it cannot be written.
    bool exportPng(const QString& path) const;
    /// Side of a cell in exportPng(): 56 pixels up to 30 classes, else 36, wider when the widest
    /// number of the current mode needs it.
    int exportCellSize() const;
    /// Writes csvText() as UTF-8; false if it cannot be written.
    bool exportCsv(const QString& path) const;
    /// The counts (whatever the display mode) as CSV, lines ending in "\n":
    ///
    ///     true\predicted,Shirt,T-shirt_top
    ///     Shirt,812,123
    ///     T-shirt_top,95,880
    ///
    /// Class names are quoted per RFC 4180 when they hold a comma, a quote or a line break.
    QString csvText() const;

    /// Zoom, as the buttons do. zoomIn() and zoomOut() scale the cell by 1.25 around the middle
    /// of the view; fitToView() returns to Fit.
    void zoomIn();
    void zoomOut();
    void fitToView();
    /// Sets the cell side in pixels (clamped to 4..160) and leaves Fit.
    void setCellSize(int pixels);
    int cellSize() const { return m_cellSize; }
    bool isFitToView() const { return m_fit; }
    /// Scrolls the least needed to show the cell whole (beside the frozen names).
    void ensureCellVisible(int trueClass, int predictedClass);

    /// Read back, for tests: where a cell is drawn, in viewport() coordinates at the current
    /// scroll position (possibly outside the viewport, or under the frozen names).
    QRect cellRect(int trueClass, int predictedClass) const;
    /// The cell under a viewport pixel as (predicted, true) = (x, y), or (-1, -1) off the cells.
    QPoint cellAt(const QPoint& viewportPos) const;
    /// True when the numbers fit the cells at the current size.
    bool numbersShown() const;
    QAbstractScrollArea* scrollArea() const;
    QWidget* viewport() const;
    QComboBox* modeCombo() const { return m_modeCombo; }
    QToolButton* zoomInButton() const { return m_zoomInButton; }
    QToolButton* zoomOutButton() const { return m_zoomOutButton; }
    QToolButton* fitButton() const { return m_fitButton; }
    /// Whether the "no matrix" hint is drawn instead of cells.
    bool showsHint() const { return m_classes.isEmpty(); }

signals:
    /// A cell was clicked: the true class is its row, the predicted class its column.
    void cellClicked(int trueClass, int predictedClass);
    /// The display mode changed, from the combo or from setNormalized().
    void normalizedChanged(bool normalized);

private:
    class Area;
    friend class Area;

    /// Sizes of the drawing, in pixels, for a given cell size. Content coordinates: the row
    /// names take the left strip, the column names the top strip, the cells start below and
    /// right of both.
    struct Geometry {
        int cells = 0;               ///< N
        int cell = 0;                ///< side of a cell
        int rowHeaderWidth = 0;      ///< names of the true classes, left
        int columnHeaderHeight = 0;  ///< names of the predicted classes, top
        int nameWidth = 0;           ///< names are elided to this
        bool verticalColumnNames = false;
        int nameEvery = 1;        ///< draw every k-th name when cells are lower than the text
        int numberPixelSize = 0;  ///< 0: numbers do not fit
        int endPad = 0;           ///< blank right of and below the cells
        int contentWidth() const { return rowHeaderWidth + cells * cell + endPad; }
        int contentHeight() const { return columnHeaderHeight + cells * cell + endPad; }
    };
    Geometry geometryFor(int cell) const;
    /// Paints names and cells; `scroll` is the content offset of the cells (0 for an export).
    void paintMatrix(QPainter& painter, const Geometry& g, const QPoint& scroll, const QRect& area,
                     const QPoint& hover) const;
    void paintLegend(QPainter& painter, const QRect& area) const;
    void updateGeometryOfArea();
    void applyFit();
    /// Zooms to `cell` keeping the content under `anchor` (a viewport pixel) in place.
    void zoomTo(int cell, const QPoint& anchor);
    QString widestCellText() const;
    QString percentText(double percent) const;

    Area* m_area = nullptr;
    QLabel* m_titleLabel = nullptr;
    QComboBox* m_modeCombo = nullptr;
    QToolButton* m_zoomInButton = nullptr;
    QToolButton* m_zoomOutButton = nullptr;
    QToolButton* m_fitButton = nullptr;
    QWidget* m_legend = nullptr;

    QStringList m_classes;
    QList<qint64> m_counts;     ///< N*N, row-major
    QList<qint64> m_rowTotals;  ///< N
    qint64 m_maxCount = 0;
    bool m_normalized = false;
    int m_cellSize = 40;
    bool m_fit = true;
    Geometry m_geometry;
};

}  // namespace wb::ui
