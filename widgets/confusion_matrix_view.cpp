#include "widgets/confusion_matrix_view.h"

#include <QAbstractScrollArea>
#include <QBoxLayout>
#include <QComboBox>
#include <QHelpEvent>
#include <QImage>
#include <QLabel>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>
#include <QSaveFile>
#include <QScrollBar>
#include <QToolButton>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace wb::ui {
namespace {

constexpr int kMinCell = 4;
constexpr int kMaxCell = 160;
// Fit never goes below this: row names need a cell at least as high as the text.
constexpr int kMinFitCell = 18;
constexpr int kMaxFitCell = 96;
constexpr double kZoomStep = 1.25;
constexpr int kMaxNameWidth = 160;
constexpr int kPad = 6;
constexpr int kEndPad = 8;
constexpr int kMinNumberPixels = 8;
constexpr int kMaxNumberPixels = 16;
// Below this size the zeros are left out: at 100 classes they are mostly noise.
constexpr int kZeroNumberPixels = 10;
// The diagonal's border hides too much of a smaller cell.
constexpr int kMinBorderedCell = 14;
// Non-zero values take the scale from here to its end, so that a single confusion among
// thousands of correct images still shows.
constexpr double kMinNonZeroShade = 0.1;
constexpr int kLegendHeight = 28;
constexpr int kLegendBarWidth = 180;

// matplotlib's "Blues" (ColorBrewer), from 0 to 1 in eight equal steps.
const QColor kBlues[] = {QColor(247, 251, 255), QColor(222, 235, 247), QColor(198, 219, 239),
                         QColor(158, 202, 225), QColor(107, 174, 214), QColor(66, 146, 198),
                         QColor(33, 113, 181),  QColor(8, 81, 156),    QColor(8, 48, 107)};
constexpr int kBluesSteps = int(sizeof(kBlues) / sizeof(kBlues[0])) - 1;

const QColor kEmptyRowColour(232, 232, 232);
const QColor kDiagonalBorder(217, 95, 2);
const QColor kHoverOutline(20, 20, 20);
const QColor kHoverHeader(255, 236, 179);

QColor blues(double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
    const double x = t * kBluesSteps;
    const int i = std::min(int(x), kBluesSteps - 1);
    const double f = x - i;
    const QColor& a = kBlues[i];
    const QColor& b = kBlues[i + 1];
    return QColor(int(std::lround(a.red() + (b.red() - a.red()) * f)),
                  int(std::lround(a.green() + (b.green() - a.green()) * f)),
                  int(std::lround(a.blue() + (b.blue() - a.blue()) * f)));
}

/// A value in (0, 1] on the colour scale: linear from kMinNonZeroShade to 1.
double nonZeroShade(double fraction) {
    return kMinNonZeroShade + (1.0 - kMinNonZeroShade) * std::clamp(fraction, 0.0, 1.0);
}

/// Dark text on light cells, white on dark ones.
QColor textColourOn(const QColor& fill) {
    const double luminance = 0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue();
    return luminance < 140 ? QColor(Qt::white) : QColor(25, 25, 25);
}

QString csvField(const QString& text) {
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r'))) {
        return text;
    }
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString imagesText(qint64 n) {
    return n == 1 ? ConfusionMatrixView::tr("1 image")
                  : ConfusionMatrixView::tr("%1 images").arg(n);
}

QFont pixelFont(const QFont& base, int pixels, bool bold = false) {
    QFont font = base;
    font.setPixelSize(std::max(1, pixels));
    font.setBold(bold);
    return font;
}

/// A widget that leaves its painting to a function of its owner.
class PaintBox : public QWidget {
public:
    using Paint = std::function<void(QPainter&, const QRect&)>;
    PaintBox(Paint paint, int height, QWidget* parent)
        : QWidget(parent), m_paint(std::move(paint)) {
        setFixedHeight(height);
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        m_paint(painter, rect());
    }

private:
    Paint m_paint;
};

}  // namespace

/// The scrolled part: cells and frozen names, painted by the owner into the viewport.
class ConfusionMatrixView::Area : public QAbstractScrollArea {
public:
    explicit Area(ConfusionMatrixView* owner) : QAbstractScrollArea(owner), m_owner(owner) {
        viewport()->setMouseTracking(true);
        viewport()->setBackgroundRole(QPalette::Base);
        setFrameShape(QFrame::NoFrame);
    }

    QPoint scroll() const {
        return QPoint(horizontalScrollBar()->value(), verticalScrollBar()->value());
    }
    void setScroll(const QPoint& offset) {
        horizontalScrollBar()->setValue(offset.x());
        verticalScrollBar()->setValue(offset.y());
    }

    QPoint m_hover{-1, -1};
    QPoint m_pressed{-1, -1};

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(viewport());
        m_owner->paintMatrix(painter, m_owner->m_geometry, scroll(), viewport()->rect(), m_hover);
    }

    void resizeEvent(QResizeEvent*) override {
        if (m_owner->m_fit) {
            m_owner->applyFit();
        } else {
            m_owner->updateGeometryOfArea();
        }
    }

    void scrollContentsBy(int, int) override { viewport()->update(); }

    void wheelEvent(QWheelEvent* event) override {
        if (!(event->modifiers() & Qt::ControlModifier)) {
            QAbstractScrollArea::wheelEvent(event);
            return;
        }
        // Touchpads send fractions of a notch: they add up to whole zoom steps.
        m_wheelRemainder += event->angleDelta().y();
        const int steps = m_wheelRemainder / 120;
        m_wheelRemainder -= steps * 120;
        if (steps != 0 && !m_owner->m_classes.isEmpty()) {
            const double factor = std::pow(kZoomStep, steps);
            const int from = m_owner->m_cellSize;
            int to = int(std::lround(from * factor));
            if (to == from) {
                to += steps > 0 ? 1 : -1;
            }
            m_owner->zoomTo(to, event->position().toPoint());
        }
        event->accept();
    }

    void mousePressEvent(QMouseEvent* event) override {
        m_pressed = event->button() == Qt::LeftButton ? m_owner->cellAt(event->position().toPoint())
                                                      : QPoint(-1, -1);
    }

    void mouseReleaseEvent(QMouseEvent* event) override {
        const QPoint cell = m_owner->cellAt(event->position().toPoint());
        if (event->button() == Qt::LeftButton && cell.x() >= 0 && cell == m_pressed) {
            emit m_owner->cellClicked(cell.y(), cell.x());
        }
        m_pressed = QPoint(-1, -1);
    }

    void mouseMoveEvent(QMouseEvent* event) override {
        setHover(m_owner->cellAt(event->position().toPoint()));
    }

    bool viewportEvent(QEvent* event) override {
        if (event->type() == QEvent::Leave) {
            setHover(QPoint(-1, -1));
        } else if (event->type() == QEvent::ToolTip) {
            showToolTip(static_cast<QHelpEvent*>(event));
            return true;
        }
        return QAbstractScrollArea::viewportEvent(event);
    }

private:
    void setHover(const QPoint& cell) {
        if (cell != m_hover) {
            m_hover = cell;
            viewport()->update();
        }
    }

    void showToolTip(QHelpEvent* help) {
        const QPoint pos = help->pos();
        const QPoint cell = m_owner->cellAt(pos);
        if (cell.x() >= 0) {
            QToolTip::showText(help->globalPos(), m_owner->cellToolTip(cell.y(), cell.x()),
                               viewport(), m_owner->cellRect(cell.y(), cell.x()));
            return;
        }
        // Over a name: the whole name (it may be elided) and the images of the class.
        const Geometry& g = m_owner->m_geometry;
        int index = -1;
        if (g.cell > 0 && pos.x() < g.rowHeaderWidth && pos.y() >= g.columnHeaderHeight) {
            index = (pos.y() - g.columnHeaderHeight + scroll().y()) / g.cell;
            const qint64 total = m_owner->rowTotal(index);
            if (index < g.cells) {
                QToolTip::showText(help->globalPos(),
                                   ConfusionMatrixView::tr("true %1: %2")
                                       .arg(m_owner->m_classes[index], imagesText(total)),
                                   viewport());
                return;
            }
        } else if (g.cell > 0 && pos.y() < g.columnHeaderHeight && pos.x() >= g.rowHeaderWidth) {
            index = (pos.x() - g.rowHeaderWidth + scroll().x()) / g.cell;
            if (index < g.cells) {
                qint64 predicted = 0;
                for (int r = 0; r < g.cells; ++r) {
                    predicted += m_owner->count(r, index);
                }
                QToolTip::showText(help->globalPos(),
                                   ConfusionMatrixView::tr("predicted %1: %2")
                                       .arg(m_owner->m_classes[index], imagesText(predicted)),
                                   viewport());
                return;
            }
        }
        QToolTip::hideText();
        help->ignore();
    }

    ConfusionMatrixView* m_owner;
    int m_wheelRemainder = 0;  ///< Ctrl+wheel angle not yet spent on a zoom step, 1/8 degree
};

ConfusionMatrixView::ConfusionMatrixView(QWidget* parent) : QWidget(parent) {
    m_titleLabel = new QLabel;
    QFont titleFont = m_titleLabel->font();
    titleFont.setBold(true);
    m_titleLabel->setFont(titleFont);
    m_titleLabel->setTextFormat(Qt::PlainText);

    m_modeCombo = new QComboBox;
    m_modeCombo->addItem(tr("Counts"));
    m_modeCombo->addItem(tr("% of true class"));
    m_modeCombo->setToolTip(tr("Image counts, or each row as percentages of its true class"));
    connect(m_modeCombo, &QComboBox::currentIndexChanged, this,
            [this](int index) { setNormalized(index == 1); });

    auto makeButton = [this](const QString& text, const QString& tip) {
        auto* button = new QToolButton;
        button->setText(text);
        button->setToolTip(tip);
        button->setAutoRaise(true);
        return button;
    };
    m_zoomOutButton = makeButton(QStringLiteral("\u2212"), tr("Smaller cells (Ctrl+wheel)"));
    m_zoomInButton = makeButton(QStringLiteral("+"), tr("Larger cells (Ctrl+wheel)"));
    m_fitButton = makeButton(tr("Fit"), tr("Cells as large as fits the view"));
    m_fitButton->setCheckable(true);
    m_fitButton->setChecked(true);
    connect(m_zoomOutButton, &QToolButton::clicked, this, &ConfusionMatrixView::zoomOut);
    connect(m_zoomInButton, &QToolButton::clicked, this, &ConfusionMatrixView::zoomIn);
    connect(m_fitButton, &QToolButton::clicked, this, &ConfusionMatrixView::fitToView);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(m_titleLabel, 1);
    auto* showLabel = new QLabel(tr("Show"));
    bar->addWidget(showLabel);
    bar->addWidget(m_modeCombo);
    bar->addSpacing(8);
    bar->addWidget(m_zoomOutButton);
    bar->addWidget(m_zoomInButton);
    bar->addWidget(m_fitButton);

    // The legend first: the area's resize handler updates it.
    m_legend =
        new PaintBox([this](QPainter& painter, const QRect& area) { paintLegend(painter, area); },
                     kLegendHeight, this);
    m_area = new Area(this);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(m_area, 1);
    layout->addWidget(m_legend);
    updateGeometryOfArea();
}

ConfusionMatrixView::~ConfusionMatrixView() = default;

QAbstractScrollArea* ConfusionMatrixView::scrollArea() const {
    return m_area;
}

QWidget* ConfusionMatrixView::viewport() const {
    return m_area->viewport();
}

bool ConfusionMatrixView::setMatrix(const QStringList& classes, const QList<qint64>& counts) {
    const qsizetype n = classes.size();
    const bool valid = n > 0 && counts.size() == n * n &&
                       std::none_of(counts.begin(), counts.end(), [](qint64 c) { return c < 0; });
    if (!valid) {
        clear();
        return false;
    }
    if (n != m_classes.size()) {
        m_fit = true;
    }
    m_classes = classes;
    m_counts = counts;
    m_rowTotals = QList<qint64>(n, 0);
    m_maxCount = 0;
    for (qsizetype r = 0; r < n; ++r) {
        for (qsizetype c = 0; c < n; ++c) {
            m_rowTotals[r] += counts[r * n + c];
            m_maxCount = std::max(m_maxCount, counts[r * n + c]);
        }
    }
    m_area->m_hover = QPoint(-1, -1);
    if (m_fit) {
        applyFit();
    } else {
        updateGeometryOfArea();
    }
    return true;
}

void ConfusionMatrixView::clear() {
    m_classes.clear();
    m_counts.clear();
    m_rowTotals.clear();
    m_maxCount = 0;
    m_fit = true;
    m_area->m_hover = QPoint(-1, -1);
    updateGeometryOfArea();
}

void ConfusionMatrixView::setTitle(const QString& title) {
    m_titleLabel->setText(title);
}

QString ConfusionMatrixView::title() const {
    return m_titleLabel->text();
}

void ConfusionMatrixView::setNormalized(bool normalized) {
    if (normalized == m_normalized) {
        return;
    }
    m_normalized = normalized;
    {
        const QSignalBlocker blocker(m_modeCombo);
        m_modeCombo->setCurrentIndex(normalized ? 1 : 0);
    }
    // The widest number changes, and with it whether numbers fit.
    updateGeometryOfArea();
    emit normalizedChanged(normalized);
}

qint64 ConfusionMatrixView::count(int trueClass, int predictedClass) const {
    const int n = classCount();
    if (trueClass < 0 || trueClass >= n || predictedClass < 0 || predictedClass >= n) {
        return 0;
    }
    return m_counts[qsizetype(trueClass) * n + predictedClass];
}

qint64 ConfusionMatrixView::rowTotal(int trueClass) const {
    return trueClass >= 0 && trueClass < classCount() ? m_rowTotals[trueClass] : 0;
}

double ConfusionMatrixView::rowPercent(int trueClass, int predictedClass) const {
    const qint64 total = rowTotal(trueClass);
    if (total <= 0) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return 100.0 * double(count(trueClass, predictedClass)) / double(total);
}

QString ConfusionMatrixView::percentText(double percent) const {
    if (!std::isfinite(percent)) {
        return QStringLiteral("\u2014");
    }
    if (percent == 0.0) {
        return QStringLiteral("0%");
    }
    if (percent == 100.0) {
        return QStringLiteral("100%");
    }
    return QString::number(percent, 'f', 1) + QLatin1Char('%');
}

QString ConfusionMatrixView::accuracyText() const {
    qint64 total = 0;
    qint64 correct = 0;
    for (int i = 0; i < classCount(); ++i) {
        total += m_rowTotals[i];
        correct += count(i, i);
    }
    if (total <= 0) {
        return {};
    }
    return tr("Accuracy %1 (%2 of %3 images)")
        .arg(percentText(100.0 * double(correct) / double(total)))
        .arg(correct)
        .arg(total);
}

QString ConfusionMatrixView::cellText(int trueClass, int predictedClass) const {
    if (m_normalized) {
        return percentText(rowPercent(trueClass, predictedClass));
    }
    return QString::number(count(trueClass, predictedClass));
}

QColor ConfusionMatrixView::cellColor(int trueClass, int predictedClass) const {
    if (m_normalized) {
        const double percent = rowPercent(trueClass, predictedClass);
        if (!std::isfinite(percent)) {
            return kEmptyRowColour;
        }
        return blues(percent > 0 ? nonZeroShade(percent / 100.0) : 0.0);
    }
    const qint64 n = count(trueClass, predictedClass);
    return blues(n > 0 && m_maxCount > 0 ? nonZeroShade(double(n) / double(m_maxCount)) : 0.0);
}

QString ConfusionMatrixView::cellToolTip(int trueClass, int predictedClass) const {
    if (trueClass < 0 || trueClass >= classCount() || predictedClass < 0 ||
        predictedClass >= classCount()) {
        return {};
    }
    const QString& name = m_classes[trueClass];
    const qint64 n = count(trueClass, predictedClass);
    const QString images = imagesText(n);
    const QString share =
        rowTotal(trueClass) > 0
            ? tr("%1 of %2").arg(percentText(rowPercent(trueClass, predictedClass)), name)
            : tr("no images of %1").arg(name);
    return tr("true %1 \u2192 predicted %2: %3 (%4)")
        .arg(name, m_classes[predictedClass], images, share);
}

QString ConfusionMatrixView::scaleMinText() const {
    return m_normalized ? QStringLiteral("0%") : QStringLiteral("0");
}

QString ConfusionMatrixView::scaleMaxText() const {
    return m_normalized ? QStringLiteral("100%") : QString::number(m_maxCount);
}

QString ConfusionMatrixView::widestCellText() const {
    if (m_normalized) {
        // Every percentage is at most this wide in a proportional font.
        return QStringLiteral("100.0%");
    }
    return QString::number(m_maxCount);
}

ConfusionMatrixView::Geometry ConfusionMatrixView::geometryFor(int cell) const {
    Geometry g;
    g.cells = classCount();
    g.cell = cell;
    g.endPad = kEndPad;
    const QFontMetrics fm(font());
    int widest = 0;
    for (const QString& name : m_classes) {
        widest = std::max(widest, fm.horizontalAdvance(name));
    }
    // Two pixels of slack: an advance rounds, and a name that just fits must not be elided.
    g.nameWidth = std::min(widest + 2, kMaxNameWidth);
    // The corner holds "predicted" top right and "true" bottom left, across a diagonal.
    const int cornerHeight = 2 * fm.height() + kPad;
    g.rowHeaderWidth =
        std::max(g.nameWidth, fm.horizontalAdvance(tr("predicted")) + fm.height()) + 2 * kPad;
    g.verticalColumnNames = widest + 4 > cell;
    g.columnHeaderHeight =
        g.verticalColumnNames ? std::max(g.nameWidth + 2 * kPad, cornerHeight) : cornerHeight;
    g.nameEvery = cell >= fm.height() ? 1 : (fm.height() + cell - 1) / cell;

    int pixels = std::clamp(int(cell * 0.36), kMinNumberPixels, kMaxNumberPixels);
    const QString wide = widestCellText();
    for (; pixels >= kMinNumberPixels; --pixels) {
        const QFontMetrics numbers(pixelFont(font(), pixels));
        if (numbers.horizontalAdvance(wide) <= cell - 4 && numbers.height() <= cell - 2) {
            break;
        }
    }
    g.numberPixelSize = pixels >= kMinNumberPixels ? pixels : 0;
    return g;
}

bool ConfusionMatrixView::numbersShown() const {
    return m_geometry.numberPixelSize > 0;
}

void ConfusionMatrixView::applyFit() {
    const int n = classCount();
    if (n > 0) {
        const QSize view = m_area->viewport()->size();
        auto fitFor = [&](int headerHeight) {
            const Geometry g = geometryFor(kMinFitCell);
            const int across = (view.width() - g.rowHeaderWidth - kEndPad) / n;
            const int down = (view.height() - headerHeight - kEndPad) / n;
            return std::clamp(std::min(across, down), kMinFitCell, kMaxFitCell);
        };
        // Names across need a low header; try that first, then the tall header of vertical names.
        const QFontMetrics fm(font());
        int cell = fitFor(2 * fm.height() + kPad);
        if (geometryFor(cell).verticalColumnNames) {
            cell = fitFor(geometryFor(kMinFitCell).columnHeaderHeight);
        }
        m_cellSize = cell;
    }
    m_fit = true;
    updateGeometryOfArea();
}

void ConfusionMatrixView::updateGeometryOfArea() {
    m_geometry = geometryFor(m_cellSize);
    const QSize view = m_area->viewport()->size();
    QScrollBar* h = m_area->horizontalScrollBar();
    QScrollBar* v = m_area->verticalScrollBar();
    const bool empty = m_classes.isEmpty();
    h->setRange(0, empty ? 0 : std::max(0, m_geometry.contentWidth() - view.width()));
    v->setRange(0, empty ? 0 : std::max(0, m_geometry.contentHeight() - view.height()));
    h->setPageStep(std::max(1, view.width() - m_geometry.rowHeaderWidth));
    v->setPageStep(std::max(1, view.height() - m_geometry.columnHeaderHeight));
    h->setSingleStep(std::max(1, m_cellSize));
    v->setSingleStep(std::max(1, m_cellSize));
    m_fitButton->setChecked(m_fit);
    m_zoomInButton->setEnabled(!empty && m_cellSize < kMaxCell);
    m_zoomOutButton->setEnabled(!empty && m_cellSize > kMinCell);
    m_area->viewport()->update();
    m_legend->update();
}

void ConfusionMatrixView::zoomTo(int cell, const QPoint& anchor) {
    cell = std::clamp(cell, kMinCell, kMaxCell);
    const int n = classCount();
    if (n == 0) {
        return;
    }
    const Geometry before = m_geometry;
    const QPoint scroll = m_area->scroll();
    // The fraction of the matrix under the anchor stays under it.
    const double fx = double(anchor.x() - before.rowHeaderWidth + scroll.x()) / (n * before.cell);
    const double fy =
        double(anchor.y() - before.columnHeaderHeight + scroll.y()) / (n * before.cell);
    m_cellSize = cell;
    m_fit = false;
    updateGeometryOfArea();
    const Geometry& after = m_geometry;
    m_area->setScroll(
        QPoint(int(std::lround(fx * n * cell)) - (anchor.x() - after.rowHeaderWidth),
               int(std::lround(fy * n * cell)) - (anchor.y() - after.columnHeaderHeight)));
}

void ConfusionMatrixView::zoomIn() {
    const int to = std::max(m_cellSize + 1, int(std::lround(m_cellSize * kZoomStep)));
    zoomTo(to, m_area->viewport()->rect().center());
}

void ConfusionMatrixView::zoomOut() {
    const int to = std::min(m_cellSize - 1, int(std::lround(m_cellSize / kZoomStep)));
    zoomTo(to, m_area->viewport()->rect().center());
}

void ConfusionMatrixView::fitToView() {
    applyFit();
}

void ConfusionMatrixView::setCellSize(int pixels) {
    m_cellSize = std::clamp(pixels, kMinCell, kMaxCell);
    m_fit = false;
    updateGeometryOfArea();
}

void ConfusionMatrixView::ensureCellVisible(int trueClass, int predictedClass) {
    if (trueClass < 0 || trueClass >= classCount() || predictedClass < 0 ||
        predictedClass >= classCount()) {
        return;
    }
    const Geometry& g = m_geometry;
    const QSize view = m_area->viewport()->size();
    QPoint scroll = m_area->scroll();
    // Content offsets of the cell within the scrolled part, and the room beside the names.
    const int left = predictedClass * g.cell;
    const int top = trueClass * g.cell;
    const int roomX = view.width() - g.rowHeaderWidth;
    const int roomY = view.height() - g.columnHeaderHeight;
    if (left < scroll.x()) {
        scroll.setX(left);
    } else if (left + g.cell > scroll.x() + roomX) {
        scroll.setX(left + g.cell - roomX);
    }
    if (top < scroll.y()) {
        scroll.setY(top);
    } else if (top + g.cell > scroll.y() + roomY) {
        scroll.setY(top + g.cell - roomY);
    }
    m_area->setScroll(scroll);
}

QRect ConfusionMatrixView::cellRect(int trueClass, int predictedClass) const {
    const Geometry& g = m_geometry;
    const QPoint scroll = m_area->scroll();
    return QRect(g.rowHeaderWidth + predictedClass * g.cell - scroll.x(),
                 g.columnHeaderHeight + trueClass * g.cell - scroll.y(), g.cell, g.cell);
}

QPoint ConfusionMatrixView::cellAt(const QPoint& pos) const {
    const Geometry& g = m_geometry;
    if (g.cells == 0 || g.cell <= 0 || pos.x() < g.rowHeaderWidth ||
        pos.y() < g.columnHeaderHeight || !m_area->viewport()->rect().contains(pos)) {
        return QPoint(-1, -1);
    }
    const QPoint scroll = m_area->scroll();
    const int c = (pos.x() - g.rowHeaderWidth + scroll.x()) / g.cell;
    const int r = (pos.y() - g.columnHeaderHeight + scroll.y()) / g.cell;
    if (c >= g.cells || r >= g.cells) {
        return QPoint(-1, -1);
    }
    return QPoint(c, r);
}

void ConfusionMatrixView::paintMatrix(QPainter& painter, const Geometry& g, const QPoint& scroll,
                                      const QRect& area, const QPoint& hover) const {
    const QColor base = palette().color(QPalette::Base);
    const QColor text = palette().color(QPalette::Text);
    painter.fillRect(area, base);
    if (g.cells == 0) {
        painter.setPen(palette().color(QPalette::Disabled, QPalette::Text));
        painter.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
                         tr("No confusion matrix to show"));
        return;
    }
    const int n = g.cells;
    const int x0 = g.rowHeaderWidth - scroll.x();  // left of column 0
    const int y0 = g.columnHeaderHeight - scroll.y();
    const int firstColumn = std::clamp(scroll.x() / g.cell, 0, n - 1);
    const int lastColumn = std::clamp((scroll.x() + area.width()) / g.cell, 0, n - 1);
    const int firstRow = std::clamp(scroll.y() / g.cell, 0, n - 1);
    const int lastRow = std::clamp((scroll.y() + area.height()) / g.cell, 0, n - 1);
    const int gap = g.cell >= 10 ? 1 : 0;

    // Cells.
    painter.save();
    painter.setClipRect(QRect(g.rowHeaderWidth, g.columnHeaderHeight, area.width(), area.height()));
    const QFont numberFont = pixelFont(font(), std::max(1, g.numberPixelSize));
    painter.setFont(numberFont);
    for (int r = firstRow; r <= lastRow; ++r) {
        for (int c = firstColumn; c <= lastColumn; ++c) {
            const QRect cell(x0 + c * g.cell, y0 + r * g.cell, g.cell, g.cell);
            const QRect fill = cell.adjusted(0, 0, -gap, -gap);
            const QColor colour = cellColor(r, c);
            painter.fillRect(fill, colour);
            const bool zero = count(r, c) == 0;
            if (g.numberPixelSize > 0 && (!zero || g.numberPixelSize >= kZeroNumberPixels)) {
                painter.setPen(zero ? QColor(150, 150, 150) : textColourOn(colour));
                painter.drawText(fill, Qt::AlignCenter, cellText(r, c));
            }
        }
    }
    // The diagonal: correct predictions.
    if (g.cell >= kMinBorderedCell) {
        const int width = std::max(2, g.cell / 18);
        QPen pen(kDiagonalBorder, width);
        pen.setJoinStyle(Qt::MiterJoin);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        for (int i = std::max(firstRow, firstColumn); i <= std::min(lastRow, lastColumn); ++i) {
            const QRect cell(x0 + i * g.cell, y0 + i * g.cell, g.cell - gap, g.cell - gap);
            const int inset = width / 2;
            painter.drawRect(QRectF(cell).adjusted(inset, inset, -inset, -inset));
        }
    }
    if (hover.x() >= 0 && hover.y() >= 0) {
        painter.setPen(QPen(kHoverOutline, 2));
        painter.setBrush(Qt::NoBrush);
        painter.drawRect(
            QRect(x0 + hover.x() * g.cell, y0 + hover.y() * g.cell, g.cell - gap, g.cell - gap)
                .adjusted(1, 1, -1, -1));
    }
    painter.restore();

    const QFontMetrics fm(font());
    painter.setFont(font());

    // Column names (predicted), frozen at the top.
    painter.save();
    painter.fillRect(QRect(0, 0, area.width(), g.columnHeaderHeight), base);
    painter.setClipRect(QRect(g.rowHeaderWidth, 0, area.width(), g.columnHeaderHeight));
    for (int c = firstColumn; c <= lastColumn; ++c) {
        const QRect column(x0 + c * g.cell, 0, g.cell, g.columnHeaderHeight);
        if (c == hover.x()) {
            painter.fillRect(column.adjusted(0, 0, -gap, 0), kHoverHeader);
        }
        if (c % g.nameEvery != 0) {
            continue;
        }
        painter.setPen(text);
        if (g.verticalColumnNames) {
            painter.save();
            painter.translate(column.center().x() + 1, g.columnHeaderHeight - kPad);
            painter.rotate(-90);
            const QString name = fm.elidedText(m_classes[c], Qt::ElideMiddle, g.nameWidth);
            painter.drawText(QRect(0, -fm.height() / 2, g.nameWidth, fm.height()),
                             Qt::AlignLeft | Qt::AlignVCenter, name);
            painter.restore();
        } else {
            const QString name = fm.elidedText(m_classes[c], Qt::ElideMiddle, g.cell - 4);
            painter.drawText(QRect(column.left(), g.columnHeaderHeight - kPad / 2 - fm.height(),
                                   g.cell, fm.height()),
                             Qt::AlignCenter, name);
        }
    }
    painter.restore();

    // Row names (true), frozen at the left.
    painter.save();
    painter.fillRect(QRect(0, g.columnHeaderHeight, g.rowHeaderWidth, area.height()), base);
    painter.setClipRect(QRect(0, g.columnHeaderHeight, g.rowHeaderWidth, area.height()));
    for (int r = firstRow; r <= lastRow; ++r) {
        const QRect row(0, y0 + r * g.cell, g.rowHeaderWidth, g.cell);
        if (r == hover.y()) {
            painter.fillRect(row.adjusted(0, 0, 0, -gap), kHoverHeader);
        }
        if (r % g.nameEvery != 0) {
            continue;
        }
        painter.setPen(text);
        const QString name = fm.elidedText(m_classes[r], Qt::ElideMiddle, g.nameWidth);
        const QRect box(kPad, row.center().y() - fm.height() / 2, g.rowHeaderWidth - 2 * kPad,
                        fm.height());
        painter.drawText(box, Qt::AlignRight | Qt::AlignVCenter, name);
    }
    painter.restore();

    // The corner: "true \ predicted", as in the CSV's first field.
    const QRect corner(0, 0, g.rowHeaderWidth, g.columnHeaderHeight);
    painter.fillRect(corner, base);
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawLine(corner.topLeft() + QPoint(kPad, kPad), corner.bottomRight() - QPoint(kPad, 2));
    QFont italic = font();
    italic.setItalic(true);
    painter.setFont(italic);
    QColor cornerText = text;
    cornerText.setAlpha(150);
    painter.setPen(cornerText);
    painter.drawText(corner.adjusted(kPad, kPad, -kPad, -kPad), Qt::AlignRight | Qt::AlignTop,
                     tr("predicted"));
    painter.drawText(corner.adjusted(kPad, kPad, -kPad, -2), Qt::AlignLeft | Qt::AlignBottom,
                     tr("true"));
    painter.setFont(font());
}

void ConfusionMatrixView::paintLegend(QPainter& painter, const QRect& area) const {
    if (m_classes.isEmpty()) {
        return;
    }
    const QFontMetrics fm(font());
    painter.setFont(font());
    painter.setPen(palette().color(QPalette::WindowText));
    const QString minText = scaleMinText();
    const QString maxText = scaleMaxText();
    const int barHeight = std::min(14, area.height() - 8);
    const int right = area.right() - kPad;
    const int maxWidth = fm.horizontalAdvance(maxText);
    const QRect bar(right - maxWidth - kPad - kLegendBarWidth, area.center().y() - barHeight / 2,
                    kLegendBarWidth, barHeight);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= kBluesSteps; ++i) {
        gradient.setColorAt(double(i) / kBluesSteps, kBlues[i]);
    }
    painter.fillRect(bar, gradient);
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawRect(bar.adjusted(0, 0, -1, -1));
    painter.setPen(palette().color(QPalette::WindowText));
    painter.drawText(QRect(bar.right() + kPad, area.top(), maxWidth + 2, area.height()),
                     Qt::AlignLeft | Qt::AlignVCenter, maxText);
    const int minWidth = fm.horizontalAdvance(minText);
    painter.drawText(
        QRect(bar.left() - kPad - minWidth - 2, area.top(), minWidth + 2, area.height()),
        Qt::AlignRight | Qt::AlignVCenter, minText);
    const int textRight = bar.left() - 2 * kPad - minWidth;
    painter.drawText(
        QRect(area.left() + kPad, area.top(), std::max(0, textRight - kPad), area.height()),
        Qt::AlignLeft | Qt::AlignVCenter,
        fm.elidedText(accuracyText(), Qt::ElideRight, std::max(0, textRight - kPad - area.left())));
}

int ConfusionMatrixView::exportCellSize() const {
    int cell = classCount() <= 30 ? 56 : 36;
    const QFontMetrics numbers(pixelFont(font(), 10));
    while (numbers.horizontalAdvance(widestCellText()) + 6 > cell) {
        cell += 4;
    }
    return cell;
}

bool ConfusionMatrixView::exportPng(const QString& path) const {
    if (m_classes.isEmpty()) {
        return false;
    }
    const Geometry g = geometryFor(exportCellSize());
    const QFontMetrics fm(font());
    const int titleHeight = fm.height() + 2 * kPad;
    const int width = std::max(g.contentWidth(), 560);
    const int height = titleHeight + g.contentHeight() + kLegendHeight + kPad;
    QImage image(width, height, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::TextAntialiasing);
    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(Qt::black);
    QString heading = title().isEmpty() ? tr("Confusion matrix") : title();
    heading += m_normalized ? tr(" (% of true class)") : tr(" (counts)");
    painter.drawText(QRect(kPad, 0, width - 2 * kPad, titleHeight),
                     Qt::AlignLeft | Qt::AlignVCenter, heading);
    painter.translate(0, titleHeight);
    paintMatrix(painter, g, QPoint(0, 0), QRect(0, 0, width, g.contentHeight()), QPoint(-1, -1));
    painter.translate(0, g.contentHeight());
    paintLegend(painter, QRect(0, 0, width, kLegendHeight));
    painter.end();
    return image.save(path, "PNG");
}

QString ConfusionMatrixView::csvText() const {
    if (m_classes.isEmpty()) {
        return {};
    }
    QString text = QStringLiteral("true\\predicted");
    for (const QString& name : m_classes) {
        text += QLatin1Char(',') + csvField(name);
    }
    text += QLatin1Char('\n');
    for (int r = 0; r < classCount(); ++r) {
        text += csvField(m_classes[r]);
        for (int c = 0; c < classCount(); ++c) {
            text += QLatin1Char(',') + QString::number(count(r, c));
        }
        text += QLatin1Char('\n');
    }
    return text;
}

bool ConfusionMatrixView::exportCsv(const QString& path) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return false;
    }
    file.write(csvText().toUtf8());
    return file.commit();
}

}  // namespace wb::ui
