#pragma once

#include <QImage>
#include <QList>
#include <QString>
#include <QWidget>

class QTimer;

namespace wb::ui {

/// A grid of small images with a caption under each, scaled up with nearest-neighbour
/// sampling so that 28x28 pixels stay crisp. Columns follow the widget's width. A caption that
/// is wider than its cell is drawn in a smaller font, and elided in the middle when even that
/// is too wide; the whole caption is the cell's tooltip.
class ImageGrid : public QWidget {
    Q_OBJECT
public:
    struct Item {
        QImage image;
        QString caption;
        /// A moving thumbnail (a video clip): drawn in turn instead of `image`, at
        /// frameInterval() apart, looping.
        QList<QImage> frames;
    };

    explicit ImageGrid(QWidget* parent = nullptr);

    void setItems(const QList<Item>& items);
    void clear();
    const QList<Item>& items() const { return m_items; }
    int count() const { return int(m_items.size()); }

    /// Side of the square cell an image is drawn in, in pixels. Default 56.
    void setCellSize(int pixels);
    int cellSize() const { return m_cellSize; }
    /// Milliseconds between two frames of a moving thumbnail. Default 100.
    int frameInterval() const;
    /// The frame of the moving thumbnails drawn now (counts up while any item has frames).
    int frameIndex() const { return m_frame; }

    /// Columns that fit into `width` pixels.
    int columnsFor(int width) const;
    /// The item drawn at `pos` (image or caption), or -1.
    int indexAt(const QPoint& pos) const;
    /// The caption of item `index` as drawn (possibly elided) and the font it is drawn in.
    QString shownCaption(int index) const;
    QFont captionFont(int index) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

private:
    int captionHeight() const;
    int rowHeight() const;
    QRect cellRect(int index, int columns) const;

    QList<Item> m_items;
    QTimer* m_timer = nullptr;  ///< steps the frames of moving thumbnails
    int m_frame = 0;
    int m_cellSize = 56;
    int m_spacing = 6;
};

}  // namespace wb::ui
