#pragma once

#include <QImage>
#include <QList>
#include <QPair>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <limits>

class QLabel;
class QListView;
class QStackedLayout;

namespace wb::ui {

/// One evaluated image as the gallery shows it.
struct GalleryItem {
    QImage image;            ///< any size and format; shown as a thumbnail
    QString path;            ///< full path; the caption shows its file name
    QString trueClass;       ///< the label
    QString predictedClass;  ///< the class with the highest probability
    double confidence = 0;   ///< probability of predictedClass, in [0, 1]
    /// Cross-entropy of the true class; NaN: not shown.
    double loss = std::numeric_limits<double>::quiet_NaN();
    /// The highest probabilities, highest first, as (class, probability in [0, 1]); the first
    /// three are drawn as bars.
    QList<QPair<QString, double>> top;
};

/// A scrollable grid of thumbnails of evaluated images, in the order given (the caller sorts:
/// by confidence for the images of one confusion-matrix cell, by loss for "top losses"). Under
/// each thumbnail: the file name (with the loss on the right, when given), "true Shirt",
/// "pred T-shirt_top 87.3%" (green when right, red when wrong; the thumbnail's frame too), and
/// the top three probabilities as small bars. Small images are scaled up by a whole factor
/// without smoothing, so that 28x28 pixels stay crisp; large ones are scaled down smoothly.
///
/// A QListView in icon mode over a model: thumbnails are scaled when first drawn and kept, the
/// view lays out in batches, so a few hundred items stay responsive. The tooltip of an item
/// holds its full path and the whole caption; a double click emits itemDoubleClicked() and
/// shows the path. Without items the widget shows a hint instead of the grid.
class PredictionGallery : public QWidget {
    Q_OBJECT
public:
    explicit PredictionGallery(QWidget* parent = nullptr);
    ~PredictionGallery() override;

    /// Replaces the items and the title above them, e.g. "Shirt predicted as T-shirt_top".
    void setItems(const QString& title, const QList<GalleryItem>& items);
    void clear();
    QString title() const;
    int itemCount() const { return int(m_items.size()); }
    const GalleryItem& item(int index) const { return m_items.at(index); }

    /// Side of the square a thumbnail is fitted into, in pixels (clamped to 32..256); 96 by
    /// default.
    void setThumbnailSize(int pixels);
    int thumbnailSize() const { return m_thumbnailSize; }

    /// The text shown without items; "No images to show" by default.
    void setEmptyHint(const QString& text);

    /// Read back, for tests. The caption lines of an item as drawn before eliding: file name,
    /// "true Shirt", "pred T-shirt_top 87.3%", and "loss 2.31" when the loss is finite.
    QStringList captionLines(int index) const;
    /// The bars' labels: "T-shirt_top 87.3%" for each of the first three of `top`.
    QStringList topTexts(int index) const;
    /// The item's tooltip: the full path, then the caption lines and the top probabilities.
    QString toolTipText(int index) const;
    /// True when the prediction matches the label.
    bool isCorrect(int index) const;
    /// The thumbnail as drawn: a copy of the image scaled to fit thumbnailSize().
    QImage thumbnail(int index) const;
    /// How many thumbnails have been made so far: only those drawn (or asked for).
    int thumbnailsMade() const;
    /// The item drawn at `index`, in listView()->viewport() coordinates.
    QRect itemRect(int index) const;
    /// The count beside the title: "20 images".
    QString countText() const;
    bool showsHint() const;
    QString hintText() const;
    QListView* listView() const { return m_view; }

signals:
    /// An item was double-clicked.
    void itemDoubleClicked(int index, const QString& path);

private:
    class Model;
    class Delegate;
    friend class Model;
    friend class Delegate;

    /// The size of one grid cell: thumbnail and caption.
    QSize cellSize() const;

    QLabel* m_titleLabel = nullptr;
    QLabel* m_countLabel = nullptr;
    QLabel* m_hint = nullptr;
    QStackedLayout* m_stack = nullptr;
    QListView* m_view = nullptr;
    Model* m_model = nullptr;
    Delegate* m_delegate = nullptr;

    QList<GalleryItem> m_items;
    /// Thumbnails, made when first drawn; a null image is not made yet.
    mutable QList<QImage> m_thumbnails;
    int m_thumbnailSize = 96;
};

}  // namespace wb::ui
