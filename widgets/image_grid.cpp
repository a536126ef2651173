#include "widgets/image_grid.h"

#include <QFontMetrics>
#include <QPainter>
#include <algorithm>

namespace wb::ui {

ImageGrid::ImageGrid(QWidget* parent) : QWidget(parent) {
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void ImageGrid::setItems(const QList<Item>& items) {
    m_items = items;
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
    const QFontMetrics metrics = fontMetrics();
    for (int i = 0; i < count(); ++i) {
        const int x = (i % columns) * (m_cellSize + m_spacing);
        const int y = (i / columns) * rowHeight();
        const QRect cell(x, y, m_cellSize, m_cellSize);
        painter.fillRect(cell, palette().color(QPalette::Base));
        const Item& item = m_items[i];
        if (!item.image.isNull()) {
            const QSize fitted = item.image.size().scaled(cell.size(), Qt::KeepAspectRatio);
            QRect target(QPoint(0, 0), fitted);
            target.moveCenter(cell.center());
            painter.drawImage(target, item.image);
        }
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(cell.adjusted(0, 0, -1, -1));
        painter.setPen(palette().color(QPalette::WindowText));
        const QRect captionRect(x, y + m_cellSize, m_cellSize, captionHeight());
        painter.drawText(captionRect, Qt::AlignHCenter | Qt::AlignTop,
                         metrics.elidedText(item.caption, Qt::ElideRight, m_cellSize));
    }
}

}  // namespace wb::ui
