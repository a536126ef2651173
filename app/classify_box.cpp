#include "app/classify_box.h"

#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QVBoxLayout>
#include <algorithm>
#include <exception>

#include "app/logging.h"
#include "app/video_thumbnail.h"
#include "engine/errors.h"
#include "engine/predictor.h"

namespace wb::ui {
namespace {

constexpr int kThumbnail = 140;
constexpr int kBarSteps = 1000;

/// Small images grow by a whole factor without smoothing (28x28 stays crisp); large ones
/// shrink smoothly.
QPixmap thumbnail(const QImage& image) {
    if (image.isNull()) {
        return {};
    }
    if (image.width() <= kThumbnail && image.height() <= kThumbnail) {
        const int factor =
            std::max(1, std::min(kThumbnail / image.width(), kThumbnail / image.height()));
        return QPixmap::fromImage(
            image.scaled(image.size() * factor, Qt::IgnoreAspectRatio, Qt::FastTransformation));
    }
    return QPixmap::fromImage(
        image.scaled(kThumbnail, kThumbnail, Qt::KeepAspectRatio, Qt::SmoothTransformation));
}

QString percent(double probability) {
    return QString::number(100.0 * probability, 'f', 1) + QLatin1Char('%');
}

}  // namespace

ClassifyBox::ClassifyBox(QWidget* parent) : QWidget(parent) {
    m_image = new QLabel;
    m_image->setFixedSize(kThumbnail + 4, kThumbnail + 4);
    m_image->setAlignment(Qt::AlignCenter);
    m_image->setFrameShape(QFrame::StyledPanel);
    m_file = new QLabel;
    m_file->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_file->setMinimumWidth(1);
    QFont bold = m_file->font();
    bold.setBold(true);
    m_file->setFont(bold);

    auto* bars = new QGridLayout;
    bars->setColumnStretch(1, 1);
    for (int k = 0; k < kTopClasses; ++k) {
        auto* name = new QLabel;
        auto* bar = new QProgressBar;
        bar->setRange(0, kBarSteps);
        bar->setTextVisible(true);
        bar->setMaximumHeight(fontMetrics().height() + 6);
        bars->addWidget(name, k, 0);
        bars->addWidget(bar, k, 1);
        m_names.append(name);
        m_bars.append(bar);
    }
    auto* right = new QVBoxLayout;
    right->addWidget(m_file);
    right->addLayout(bars);
    right->addStretch(1);
    auto* top = new QHBoxLayout;
    top->addWidget(m_image, 0, Qt::AlignTop);
    top->addLayout(right, 1);

    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_message);
    layout->addStretch(1);
    clear();
}

ClassifyBox::~ClassifyBox() = default;

void ClassifyBox::clear() {
    m_predictor.reset();
    m_predictorCheckpoint.clear();
    m_imagePath.clear();
    m_top.clear();
    m_image->clear();
    m_image->setText(tr("No image"));
    m_file->clear();
    showTop();
    m_message->setText(
        tr("Drop an image file on this tab, or press Classify an image…, to see the five "
           "classes the run's best checkpoint finds most probable."));
}

QString ClassifyBox::message() const {
    return m_message->text();
}

QStringList ClassifyBox::barTexts() const {
    QStringList texts;
    for (const auto& [name, probability] : m_top) {
        texts.append(name + QLatin1Char(' ') + percent(probability));
    }
    return texts;
}

bool ClassifyBox::fail(const QString& why) {
    m_top.clear();
    showTop();
    m_message->setText(why);
    qCDebug(lcUi) << "classify:" << why;
    return false;
}

bool ClassifyBox::classify(const QString& runDir, const QString& imagePath) {
    m_imagePath = imagePath;
    m_file->setText(QFileInfo(imagePath).fileName());
    m_file->setToolTip(QDir::toNativeSeparators(imagePath));
    // The engine reads what it trains on (OpenCV), which is more than Qt shows: a file
    // without a preview is still classified, and one the engine cannot read is refused by it.
    const QImage image =
        isVideo(imagePath) ? middleFrame(imagePath, 256) : QImageReader(imagePath).read();
    m_image->setPixmap(thumbnail(image));
    if (image.isNull()) {
        m_image->setText(tr("No preview"));
    }
    if (runDir.isEmpty()) {
        return fail(
            tr("No run to classify with: train one, or pick one on the Runs tab and "
               "press Show evaluation."));
    }
    const QString checkpoint = QDir(runDir).filePath(QStringLiteral("best.pt"));
    const QFileInfo info(checkpoint);
    if (!info.isFile()) {
        return fail(tr("%1 has no best.pt yet; it is written after the first epoch.")
                        .arg(QDir::toNativeSeparators(runDir)));
    }
    try {
        if (!m_predictor || m_predictorCheckpoint != checkpoint ||
            m_predictorStamp != info.lastModified()) {
            m_predictor.reset();
            m_predictor = std::make_unique<wb::Predictor>(runDir.toStdString(), "best.pt");
            m_predictorCheckpoint = checkpoint;
            m_predictorStamp = info.lastModified();
        }
        const auto top = m_predictor->predict(imagePath.toStdString(), kTopClasses);
        m_top.clear();
        for (const auto& [name, probability] : top) {
            m_top.append({QString::fromStdString(name), probability});
        }
    } catch (const wb::DataError& e) {
        return fail(QString::fromUtf8(e.what()));
    } catch (const std::exception& e) {
        m_predictor.reset();
        return fail(tr("Cannot classify with %1: %2")
                        .arg(QDir::toNativeSeparators(checkpoint), QString::fromUtf8(e.what())));
    }
    showTop();
    m_message->setText(tr("Classified with %1 of %2 (saved %3).")
                           .arg(QStringLiteral("best.pt"), QDir(runDir).dirName(),
                                QLocale().toString(m_predictorStamp, QLocale::ShortFormat)));
    return true;
}

void ClassifyBox::showTop() {
    for (int k = 0; k < kTopClasses; ++k) {
        const bool shown = k < m_top.size();
        m_names[k]->setText(shown ? m_top[k].first : QString());
        m_bars[k]->setValue(shown ? int(m_top[k].second * kBarSteps + 0.5) : 0);
        m_bars[k]->setFormat(shown ? percent(m_top[k].second) : QString());
        m_names[k]->setVisible(shown);
        m_bars[k]->setVisible(shown);
    }
}

}  // namespace wb::ui
