#include "widgets/image_grid.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHelpEvent>
#include <QPainter>
#include <QTimer>
#include <QToolTip>
#include <algorithm>

namespace wb::ui {
namespace {

/// Smallest caption font, relative to the widget's: smaller than that is hard to read.
constexpr double kMinCaptionScale = 0.75;

}  // namespace

ImageGrid::ImageGrid(QWidget* parent) : QWidget(parent) {
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
    m_timer = new QTimer(this);
    m_timer->setInterval(100);
    connect(m_timer, &QTimer::timeout, this, [this] {
        ++m_frame;
        update();
    });
}

int ImageGrid::frameInterval() const {
    return m_timer->interval();
}

void ImageGrid::setItems(const QList<Item>& items) {
    m_items = items;
    m_frame = 0;
    const bool moving = std::any_of(m_items.begin(), m_items.end(),
                                    [](const Item& item) { return !item.frames.isEmpty(); });
    if (moving) {
        m_timer->start();
    } else {
        m_timer->stop();
    }
    updateGeometry();
    update();
}

void ImageGrid::clear() {
    setItems({});
}

void ImageGrid::setCellSize(int pixels) {
    m_cellSize = std::max(8, pixels);
    updateGeometry();
    update();
}

int ImageGrid::captionHeight() const {
    return fontMetrics().height();
}

int ImageGrid::rowHeight() const {
    return m_cellSize + captionHeight() + m_spacing;
}

int ImageGrid::columnsFor(int width) const {
    return std::max(1, (width + m_spacing) / (m_cellSize + m_spacing));
}

int ImageGrid::heightForWidth(int width) const {
    if (m_items.isEmpty()) {
        return rowHeight();
    }
    const int columns = columnsFor(width);
    const int rows = (count() + columns - 1) / columns;
    return rows * rowHeight();
}

QRect ImageGrid::cellRect(int index, int columns) const {
    const int x = (index % columns) * (m_cellSize + m_spacing);
    const int y = (index / columns) * rowHeight();
    return QRect(x, y, m_cellSize, m_cellSize);
}

int ImageGrid::indexAt(const QPoint& pos) const {
    const int columns = columnsFor(width());
    for (int i = 0; i < count(); ++i) {
        const QRect cell = cellRect(i, columns);
        if (cell.adjusted(0, 0, 0, captionHeight()).contains(pos)) {
            return i;
        }
    }
    return -1;
}

QFont ImageGrid::captionFont(int index) const {
    QFont font = this->font();
    if (index < 0 || index >= count()) {
        return font;
    }
    const QString& caption = m_items[index].caption;
    const bool points = font.pointSizeF() > 0;
    const double full = points ? font.pointSizeF() : font.pixelSize();
    for (double scale = 1.0; scale >= kMinCaptionScale - 1e-9; scale -= 0.05) {
        if (points) {
            font.setPointSizeF(full * scale);
        } else {
            font.setPixelSize(std::max(1, int(full * scale)));
        }
        if (QFontMetrics(font).horizontalAdvance(caption) <= m_cellSize) {
            break;
        }
    }
    return font;
}

QString ImageGrid::shownCaption(int index) const {
    if (index < 0 || index >= count()) {
        return {};
    }
    // The middle goes: class names that share a prefix or a suffix stay distinguishable.
    return QFontMetrics(captionFont(index))
        .elidedText(m_items[index].caption, Qt::ElideMiddle, m_cellSize);
}

bool ImageGrid::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int index = indexAt(help->pos());
        if (index >= 0 && !m_items[index].caption.isEmpty()) {
            QToolTip::showText(help->globalPos(), m_items[index].caption, this);
        } else {
            QToolTip::hideText();
            event->ignore();
        }
        return true;
    }
    return QWidget::event(event);
}

QSize ImageGrid::sizeHint() const {
    const int columns = std::min(std::max(1, count()), 8);
    const int width = columns * (m_cellSize + m_spacing) - m_spacing;
    return QSize(width, heightForWidth(width));
}

QSize ImageGrid::minimumSizeHint() const {
    return QSize(m_cellSize, rowHeight());
}

void ImageGrid::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    const int columns = columnsFor(width());
    for (int i = 0; i < count(); ++i) {
        const QRect cell = cellRect(i, columns);
        painter.fillRect(cell, palette().color(QPalette::Base));
        const Item& item = m_items[i];
        const QImage& image =
            item.frames.isEmpty() ? item.image : item.frames[m_frame % item.frames.size()];
        if (!image.isNull()) {
            const QSize fitted = image.size().scaled(cell.size(), Qt::KeepAspectRatio);
            QRect target(QPoint(0, 0), fitted);
            target.moveCenter(cell.center());
            painter.drawImage(target, image);
        }
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(cell.adjusted(0, 0, -1, -1));
        painter.setPen(palette().color(QPalette::WindowText));
        const QRect captionRect(cell.left(), cell.bottom() + 1, m_cellSize, captionHeight());
        painter.setFont(captionFont(i));
        painter.drawText(captionRect, Qt::AlignHCenter | Qt::AlignVCenter, shownCaption(i));
    }
}

}  // namespace wb::ui
