#include "widgets/prediction_gallery.h"

#include <QAbstractListModel>
#include <QBoxLayout>
#include <QCursor>
#include <QFileInfo>
#include <QLabel>
#include <QListView>
#include <QPainter>
#include <QStackedLayout>
#include <QStyledItemDelegate>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <functional>

namespace wb::ui {
namespace {

constexpr int kPad = 6;
constexpr int kMinCaptionWidth = 150;
constexpr int kSpacing = 4;
constexpr int kTopBars = 3;
constexpr double kSmallFontScale = 0.85;

const QColor kRight(30, 130, 30);
const QColor kWrong(200, 30, 30);
const QColor kBar(66, 146, 198);
const QColor kBarTrack(225, 232, 240);

QString percentText(double probability) {
    if (!std::isfinite(probability)) {
        return QStringLiteral("\u2014");
    }
    return QString::number(100.0 * probability, 'f', 1) + QLatin1Char('%');
}

QFont smallFont(const QFont& base) {
    QFont font = base;
    if (font.pointSizeF() > 0) {
        font.setPointSizeF(font.pointSizeF() * kSmallFontScale);
    } else {
        font.setPixelSize(std::max(1, int(font.pixelSize() * kSmallFontScale)));
    }
    return font;
}

/// Small images grow by a whole factor without smoothing (28x28 stays crisp); large ones shrink
/// smoothly to fit.
QImage makeThumbnail(const QImage& image, int side) {
    if (image.isNull()) {
        return {};
    }
    if (image.width() <= side && image.height() <= side) {
        const int factor = std::max(1, std::min(side / image.width(), side / image.height()));
        return image.scaled(image.width() * factor, image.height() * factor, Qt::IgnoreAspectRatio,
                            Qt::FastTransformation);
    }
    return image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

}  // namespace

class PredictionGallery::Model : public QAbstractListModel {
public:
    explicit Model(PredictionGallery* owner) : QAbstractListModel(owner), m_owner(owner) {}

    int rowCount(const QModelIndex& parent = QModelIndex()) const override {
        return parent.isValid() ? 0 : m_owner->itemCount();
    }

    QVariant data(const QModelIndex& index, int role) const override {
        if (!index.isValid() || index.row() >= m_owner->itemCount()) {
            return {};
        }
        switch (role) {
            case Qt::DisplayRole:
            case Qt::AccessibleTextRole:
                return m_owner->captionLines(index.row()).join(QLatin1Char('\n'));
            case Qt::ToolTipRole:
                return m_owner->toolTipText(index.row());
            default:
                return {};
        }
    }

    void reset(const std::function<void()>& change) {
        beginResetModel();
        change();
        endResetModel();
    }

private:
    PredictionGallery* m_owner;
};

class PredictionGallery::Delegate : public QStyledItemDelegate {
public:
    explicit Delegate(PredictionGallery* owner) : QStyledItemDelegate(owner), m_owner(owner) {}

    QSize sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const override {
        return m_owner->cellSize();
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        const int row = index.row();
        if (row < 0 || row >= m_owner->itemCount()) {
            return;
        }
        const GalleryItem& item = m_owner->m_items[row];
        const QRect cell = option.rect;
        const QPalette& palette = option.palette;
        painter->save();
        if (option.state & QStyle::State_Selected) {
            QColor highlight = palette.color(QPalette::Highlight);
            highlight.setAlpha(60);
            painter->fillRect(cell, highlight);
        } else if (option.state & QStyle::State_MouseOver) {
            painter->fillRect(cell, palette.color(QPalette::AlternateBase));
        }

        // Thumbnail, framed green when right and red when wrong.
        const int side = m_owner->m_thumbnailSize;
        const QRect box(cell.left() + (cell.width() - side) / 2, cell.top() + kPad, side, side);
        painter->fillRect(box, QColor(244, 244, 244));
        const QImage thumb = m_owner->thumbnail(row);
        if (!thumb.isNull()) {
            QRect target(QPoint(0, 0), thumb.size());
            target.moveCenter(box.center());
            painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
            painter->drawImage(target.topLeft(), thumb);
        }
        const bool correct = m_owner->isCorrect(row);
        painter->setPen(QPen(correct ? kRight : kWrong, 2));
        painter->setBrush(Qt::NoBrush);
        painter->drawRect(QRectF(box).adjusted(-1, -1, 1, 1));

        const QStringList lines = m_owner->captionLines(row);
        const QFont normal = option.font;
        const QFont small = smallFont(normal);
        const QFontMetrics fm(normal);
        const QFontMetrics sm(small);
        const int left = cell.left() + kPad;
        const int width = cell.width() - 2 * kPad;
        int y = box.bottom() + 5;

        // File name, and the loss on the right.
        painter->setFont(small);
        painter->setPen(palette.color(QPalette::Disabled, QPalette::Text));
        int nameWidth = width;
        if (lines.size() > 3) {
            const int lossWidth = sm.horizontalAdvance(lines[3]);
            painter->drawText(QRect(left, y, width, sm.height()),
                              Qt::AlignRight | Qt::AlignVCenter | Qt::TextDontClip, lines[3]);
            nameWidth = std::max(0, width - lossWidth - kPad);
        }
        painter->drawText(QRect(left, y, nameWidth, sm.height()),
                          Qt::AlignLeft | Qt::AlignVCenter | Qt::TextDontClip,
                          sm.elidedText(lines[0], Qt::ElideMiddle, nameWidth));
        y += sm.height() + 1;

        painter->setFont(normal);
        painter->setPen(palette.color(QPalette::Text));
        painter->drawText(QRect(left, y, width, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                          fm.elidedText(lines[1], Qt::ElideRight, width));
        y += fm.height();
        painter->setPen(correct ? kRight : kWrong);
        painter->drawText(QRect(left, y, width, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                          fm.elidedText(lines[2], Qt::ElideMiddle, width));
        y += fm.height() + 3;

        // Top probabilities: name, bar, percentage.
        painter->setFont(small);
        const int percentWidth = sm.horizontalAdvance(QStringLiteral("100.0%"));
        const int labelWidth = int(width * 0.45);
        const int barLeft = left + labelWidth + 3;
        const int barWidth = std::max(4, width - labelWidth - percentWidth - 6);
        const int count = int(std::min<qsizetype>(kTopBars, item.top.size()));
        for (int i = 0; i < count; ++i) {
            const QString& name = item.top[i].first;
            const double p = std::clamp(item.top[i].second, 0.0, 1.0);
            const bool isTrue = name == item.trueClass;
            QFont font = small;
            font.setBold(isTrue);
            painter->setFont(font);
            painter->setPen(palette.color(QPalette::Text));
            painter->drawText(QRect(left, y, labelWidth, sm.height()),
                              Qt::AlignLeft | Qt::AlignVCenter | Qt::TextDontClip,
                              QFontMetrics(font).elidedText(name, Qt::ElideMiddle, labelWidth));
            const QRect track(barLeft, y + sm.height() / 4, barWidth, sm.height() / 2 + 1);
            painter->fillRect(track, kBarTrack);
            painter->fillRect(
                QRect(track.topLeft(), QSize(int(std::lround(track.width() * p)), track.height())),
                isTrue ? kRight : kBar);
            painter->setFont(small);
            painter->drawText(QRect(barLeft + barWidth + 3, y, percentWidth, sm.height()),
                              Qt::AlignRight | Qt::AlignVCenter | Qt::TextDontClip,
                              percentText(item.top[i].second));
            y += sm.height() + 1;
        }
        painter->restore();
    }

private:
    PredictionGallery* m_owner;
};

PredictionGallery::PredictionGallery(QWidget* parent) : QWidget(parent) {
    m_titleLabel = new QLabel;
    QFont titleFont = m_titleLabel->font();
    titleFont.setBold(true);
    m_titleLabel->setFont(titleFont);
    m_titleLabel->setTextFormat(Qt::PlainText);
    m_countLabel = new QLabel;
    m_countLabel->setEnabled(false);  // greyed: secondary to the title

    m_model = new Model(this);
    m_delegate = new Delegate(this);
    m_view = new QListView;
    m_view->setViewMode(QListView::IconMode);
    m_view->setFlow(QListView::LeftToRight);
    m_view->setWrapping(true);
    m_view->setResizeMode(QListView::Adjust);
    m_view->setMovement(QListView::Static);
    m_view->setUniformItemSizes(true);
    // Lays out a few hundred items in steps, keeping the window responsive.
    m_view->setLayoutMode(QListView::Batched);
    m_view->setBatchSize(64);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setDragEnabled(false);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setMouseTracking(true);
    m_view->setItemDelegate(m_delegate);
    m_view->setModel(m_model);
    m_view->setGridSize(cellSize() + QSize(kSpacing, kSpacing));
    connect(m_view, &QListView::doubleClicked, this, [this](const QModelIndex& index) {
        if (!index.isValid() || index.row() >= itemCount()) {
            return;
        }
        const QString path = m_items[index.row()].path;
        QToolTip::showText(QCursor::pos(), path, m_view);
        emit itemDoubleClicked(index.row(), path);
    });

    m_hint = new QLabel(tr("No images to show"));
    m_hint->setAlignment(Qt::AlignCenter);
    m_hint->setWordWrap(true);
    m_hint->setMargin(12);
    m_hint->setEnabled(false);  // drawn greyed, as a placeholder

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(m_titleLabel, 1);
    bar->addWidget(m_countLabel);

    auto* body = new QWidget;
    m_stack = new QStackedLayout(body);
    m_stack->setContentsMargins(0, 0, 0, 0);
    m_stack->addWidget(m_view);
    m_stack->addWidget(m_hint);
    m_stack->setCurrentWidget(m_hint);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(body, 1);
}

PredictionGallery::~PredictionGallery() = default;

void PredictionGallery::setItems(const QString& title, const QList<GalleryItem>& items) {
    m_titleLabel->setText(title);
    m_model->reset([&] {
        m_items = items;
        m_thumbnails = QList<QImage>(items.size());
    });
    m_countLabel->setText(countText());
    m_stack->setCurrentWidget(m_items.isEmpty() ? static_cast<QWidget*>(m_hint) : m_view);
    m_view->scrollToTop();
}

void PredictionGallery::clear() {
    setItems(QString(), {});
}

QString PredictionGallery::title() const {
    return m_titleLabel->text();
}

void PredictionGallery::setThumbnailSize(int pixels) {
    m_thumbnailSize = std::clamp(pixels, 32, 256);
    m_model->reset([&] { m_thumbnails = QList<QImage>(m_items.size()); });
    m_view->setGridSize(cellSize() + QSize(kSpacing, kSpacing));
}

void PredictionGallery::setEmptyHint(const QString& text) {
    m_hint->setText(text);
}

QSize PredictionGallery::cellSize() const {
    const QFontMetrics fm(m_view ? m_view->font() : font());
    const QFontMetrics sm(smallFont(m_view ? m_view->font() : font()));
    const int width = std::max(m_thumbnailSize, kMinCaptionWidth) + 2 * kPad;
    const int height = kPad + m_thumbnailSize + 5 + (sm.height() + 1) + 2 * fm.height() + 3 +
                       kTopBars * (sm.height() + 1) + kPad;
    return QSize(width, height);
}

QStringList PredictionGallery::captionLines(int index) const {
    if (index < 0 || index >= itemCount()) {
        return {};
    }
    const GalleryItem& item = m_items[index];
    QStringList lines = {QFileInfo(item.path).fileName(), tr("true %1").arg(item.trueClass),
                         tr("pred %1 %2").arg(item.predictedClass, percentText(item.confidence))};
    if (std::isfinite(item.loss)) {
        lines.append(tr("loss %1").arg(QString::number(item.loss, 'f', 2)));
    }
    return lines;
}

QStringList PredictionGallery::topTexts(int index) const {
    if (index < 0 || index >= itemCount()) {
        return {};
    }
    QStringList texts;
    const auto& top = m_items[index].top;
    for (int i = 0; i < std::min<qsizetype>(kTopBars, top.size()); ++i) {
        texts.append(top[i].first + QLatin1Char(' ') + percentText(top[i].second));
    }
    return texts;
}

QString PredictionGallery::toolTipText(int index) const {
    if (index < 0 || index >= itemCount()) {
        return {};
    }
    QStringList lines = captionLines(index);
    lines[0] = m_items[index].path;
    const QStringList top = topTexts(index);
    if (!top.isEmpty()) {
        lines.append(tr("top: %1").arg(top.join(QStringLiteral(", "))));
    }
    return lines.join(QLatin1Char('\n'));
}

bool PredictionGallery::isCorrect(int index) const {
    return index >= 0 && index < itemCount() &&
           m_items[index].trueClass == m_items[index].predictedClass;
}

QImage PredictionGallery::thumbnail(int index) const {
    if (index < 0 || index >= itemCount()) {
        return {};
    }
    if (m_thumbnails[index].isNull()) {
        m_thumbnails[index] = makeThumbnail(m_items[index].image, m_thumbnailSize);
    }
    return m_thumbnails[index];
}

int PredictionGallery::thumbnailsMade() const {
    return int(std::count_if(m_thumbnails.begin(), m_thumbnails.end(),
                             [](const QImage& image) { return !image.isNull(); }));
}

QRect PredictionGallery::itemRect(int index) const {
    return m_view->visualRect(m_model->index(index));
}

QString PredictionGallery::countText() const {
    if (m_items.isEmpty()) {
        return {};
    }
    return itemCount() == 1 ? tr("1 image") : tr("%1 images").arg(itemCount());
}

bool PredictionGallery::showsHint() const {
    return m_stack->currentWidget() == m_hint;
}

QString PredictionGallery::hintText() const {
    return m_hint->text();
}

}  // namespace wb::ui
