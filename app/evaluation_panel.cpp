#include "app/evaluation_panel.h"

#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTabWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <numeric>

#include "app/class_metrics_table.h"
#include "app/classify_box.h"
#include "app/evaluation_files.h"
#include "app/logging.h"
#include "app/video_thumbnail.h"
#include "widgets/confusion_matrix_view.h"
#include "widgets/prediction_gallery.h"

namespace wb::ui {
namespace {

/// Images are read at most this large: the gallery's thumbnails are at most 256 pixels.
constexpr int kMaxImageSide = 256;
/// Probabilities drawn as bars under a thumbnail.
constexpr int kGalleryTop = 3;
/// The matrix and the tabs beside it share the width 11 : 9 at first, which leaves the
/// per-class table room for its five columns.
constexpr int kMatrixShare = 550;
constexpr int kDetailsShare = 450;

QString absolute(const QString& dir) {
    return dir.isEmpty() ? QString() : QDir::cleanPath(QDir(dir).absolutePath());
}

QString percent(double fraction) {
    return QString::number(100.0 * fraction, 'f', 1) + QLatin1Char('%');
}

/// The order of the selector: validation epochs ascending, then the test split.
std::pair<int, int> sortKey(const wb::EpochEvaluation& e) {
    return {e.split == "test" ? 1 : 0, e.epoch};
}

QStringList classNames(const wb::EvaluationReport& report) {
    QStringList names;
    for (const std::string& name : report.classes) {
        names.append(QString::fromStdString(name));
    }
    return names;
}

QString splitName(const wb::EpochEvaluation& e) {
    return e.split == "test" ? EvaluationPanel::tr("test") : EvaluationPanel::tr("validation");
}

/// Reads an image no larger than the gallery needs; a video shows its middle frame.
QImage readImage(const QString& path) {
    if (isVideo(path)) {
        return middleFrame(path, kMaxImageSide);
    }
    QImageReader reader(path);
    const QSize size = reader.size();
    if (size.isValid() && (size.width() > kMaxImageSide || size.height() > kMaxImageSide)) {
        reader.setScaledSize(size.scaled(kMaxImageSide, kMaxImageSide, Qt::KeepAspectRatio));
    }
    return reader.read();
}

/// A one-line label that elides its middle rather than widening the window or being cut.
class ElidedLabel : public QLabel {
public:
    using QLabel::QLabel;
    QSize minimumSizeHint() const override { return {0, QLabel::minimumSizeHint().height()}; }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        const QRect area = contentsRect();
        painter.setPen(palette().color(foregroundRole()));
        painter.drawText(area, Qt::AlignLeft | Qt::AlignVCenter,
                         fontMetrics().elidedText(text(), Qt::ElideMiddle, area.width()));
    }
};

GalleryItem galleryItem(const wb::EvaluationReport& report, const QStringList& classes,
                        std::size_t i, bool allProbabilities) {
    const wb::Predictions& p = report.predictions;
    GalleryItem item;
    item.path = i < p.paths.size() ? QString::fromStdString(p.paths[i]) : QString();
    item.image = readImage(item.path);
    item.trueClass = classes.value(p.labels[i]);
    item.predictedClass = classes.value(p.predicted[i]);
    item.confidence = p.confidence(i);
    item.loss = p.losses[i];
    if (!allProbabilities) {
        item.top.append({item.predictedClass, item.confidence});
        return item;
    }
    const std::size_t n = std::size_t(p.num_classes);
    const float* row = p.probabilities.data() + i * n;
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    const std::size_t shown = std::min<std::size_t>(kGalleryTop, n);
    std::partial_sort(
        order.begin(), order.begin() + std::ptrdiff_t(shown), order.end(),
        [row](int a, int b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    for (std::size_t k = 0; k < shown; ++k) {
        item.top.append({classes.value(order[k]), row[order[k]]});
    }
    return item;
}

}  // namespace

EvaluationPanel::EvaluationPanel(QWidget* parent) : QWidget(parent) {
    setAcceptDrops(true);
    m_selector = new QComboBox;
    m_selector->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_selector->setToolTip(
        tr("The evaluation shown: the validation split after an epoch, or the test split on "
           "the best checkpoint at the end of the run"));
    // The title is the panel's, not the matrix's: the matrix's title does not wrap, and a long
    // one would widen the window. The matrix gets it only for exportMatrixPng().
    m_title = new QLabel;
    m_title->setWordWrap(true);
    m_title->setTextFormat(Qt::PlainText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_status = new ElidedLabel;
    m_topLossesButton = new QPushButton(tr("Top losses"));
    m_topLossesButton->setToolTip(
        tr("The %1 images of the split with the highest loss, highest first").arg(kTopLosses));
    m_exportPngButton = new QPushButton(tr("Export PNG…"));
    m_exportPngButton->setToolTip(tr("Save the confusion matrix with its title as an image"));
    m_exportCsvButton = new QPushButton(tr("Export CSV…"));
    m_exportCsvButton->setToolTip(tr("Save the confusion matrix's counts as CSV"));
    m_classifyButton = new QPushButton(tr("Classify an image…"));
    m_classifyButton->setToolTip(
        tr("Run an image file through the run's best checkpoint; dropping a file on this tab "
           "does the same"));

    m_matrix = new ConfusionMatrixView;
    m_table = new ClassMetricsTable;
    m_gallery = new PredictionGallery;
    m_gallery->setEmptyHint(
        tr("Click a cell of the matrix to see its images, or press Top losses"));
    m_classify = new ClassifyBox;
    m_details = new QTabWidget;
    m_details->addTab(m_table, tr("Per class"));
    m_details->addTab(m_gallery, tr("Images"));
    m_details->addTab(m_classify, tr("Classify"));

    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->addWidget(m_matrix);
    m_splitter->addWidget(m_details);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({kMatrixShare, kDetailsShare});

    auto* top = new QHBoxLayout;
    top->addWidget(m_selector);
    top->addWidget(m_topLossesButton);
    top->addWidget(m_status, 1);
    top->addWidget(new QLabel(tr("Matrix:")));
    top->addWidget(m_exportPngButton);
    top->addWidget(m_exportCsvButton);
    top->addSpacing(12);
    top->addWidget(m_classifyButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_title);
    layout->addWidget(m_splitter, 1);

    // activated: the user's pick only, not the panel's own selection of a new evaluation.
    connect(m_selector, &QComboBox::activated, this, &EvaluationPanel::setCurrentIndex);
    connect(m_matrix, &ConfusionMatrixView::cellClicked, this, &EvaluationPanel::showCell);
    connect(m_topLossesButton, &QPushButton::clicked, this, &EvaluationPanel::showTopLosses);
    connect(m_exportPngButton, &QPushButton::clicked, this,
            &EvaluationPanel::exportPngInteractively);
    connect(m_exportCsvButton, &QPushButton::clicked, this,
            &EvaluationPanel::exportCsvInteractively);
    connect(m_classifyButton, &QPushButton::clicked, this, &EvaluationPanel::classifyInteractively);
    clear();
}

EvaluationPanel::~EvaluationPanel() = default;

void EvaluationPanel::setRunDir(const QString& runDir) {
    const QString dir = absolute(runDir);
    if (dir != m_runDir) {
        m_classify->clear();  // its predictor belongs to the other run
    }
    m_runDir = dir;
    if (m_entries.isEmpty()) {
        showEntry(-1);
    }
}

void EvaluationPanel::clear() {
    m_entries.clear();
    m_followNewest = true;
    m_galleryContent = GalleryContent::None;
    m_gallery->clear();
    m_classify->clear();
    rebuildSelector();
    showEntry(-1);
}

bool EvaluationPanel::addEvaluation(const wb::EpochEvaluation& evaluation) {
    if (!evaluation.report) {
        return false;
    }
    const QString run = absolute(QString::fromStdString(evaluation.report->run_dir));
    if (!m_runDir.isEmpty() && !run.isEmpty() && run != m_runDir) {
        qCDebug(lcUi) << "evaluation of" << run << "ignored while showing" << m_runDir;
        return false;
    }
    Entry entry;
    entry.evaluation = evaluation;
    insertEntry(entry, m_followNewest || m_current < 0);
    return true;
}

bool EvaluationPanel::loadRun(const QString& runDir) {
    QStringList errors;
    const QList<StoredEvaluation> stored = readRunEvaluations(runDir, &errors);
    clear();
    setRunDir(runDir);
    for (const QString& error : errors) {
        emit messageLogged(wb::Level::Warning, tr("Evaluation not shown: %1").arg(error));
    }
    const QString name = QDir(runDir).dirName();
    if (stored.isEmpty()) {
        const QString why =
            errors.isEmpty()
                ? tr("Run %1 has no evaluation: its validation split is evaluated after each "
                     "epoch, into evaluation/ in its folder.")
                      .arg(name)
                : tr("Run %1 has no readable evaluation.").arg(name);
        m_title->setText(why);
        emit messageLogged(wb::Level::Warning, why);
        return false;
    }
    for (const StoredEvaluation& s : stored) {
        Entry entry;
        entry.evaluation = s.evaluation;
        entry.allProbabilities = false;
        entry.hasTop5 = s.hasTop5;
        insertEntry(entry, false);
    }
    showEntry(int(m_entries.size()) - 1);
    emit messageLogged(
        wb::Level::Info,
        stored.size() == 1
            ? tr("Showing the evaluation of run %1").arg(name)
            : tr("Showing the %1 evaluations of run %2").arg(stored.size()).arg(name));
    return true;
}

void EvaluationPanel::insertEntry(const Entry& entry, bool select) {
    const auto key = sortKey(entry.evaluation);
    int at = 0;
    while (at < m_entries.size() && sortKey(m_entries[at].evaluation) < key) {
        ++at;
    }
    const bool replace = at < m_entries.size() && sortKey(m_entries[at].evaluation) == key;
    if (replace) {
        m_entries[at] = entry;
    } else {
        m_entries.insert(at, entry);
        if (m_current >= at) {
            ++m_current;
        }
    }
    rebuildSelector();
    if (select || (replace && at == m_current)) {
        showEntry(at);
    }
    // Otherwise the entry shown stays, and rebuildSelector() kept it selected.
}

void EvaluationPanel::rebuildSelector() {
    const QSignalBlocker blocker(m_selector);
    m_selector->clear();
    for (int i = 0; i < m_entries.size(); ++i) {
        m_selector->addItem(entryText(i));
    }
    m_selector->setCurrentIndex(m_current);
}

QString EvaluationPanel::entryText(int index) const {
    if (index < 0 || index >= m_entries.size()) {
        return {};
    }
    const wb::EpochEvaluation& e = m_entries[index].evaluation;
    if (e.split == "test") {
        return tr("Test · best checkpoint");
    }
    return tr("Validation · epoch %1").arg(e.epoch + 1);
}

void EvaluationPanel::setCurrentIndex(int index) {
    if (index < 0 || index >= m_entries.size()) {
        return;
    }
    m_followNewest = index == m_entries.size() - 1;
    showEntry(index);
}

const wb::EpochEvaluation* EvaluationPanel::currentEvaluation() const {
    return m_current >= 0 && m_current < m_entries.size() ? &m_entries[m_current].evaluation
                                                          : nullptr;
}

QString EvaluationPanel::titleOf(const Entry& entry) const {
    const wb::EpochEvaluation& e = entry.evaluation;
    const wb::EvaluationReport& r = *e.report;
    QString what;
    if (e.split == "test") {
        what = e.epoch >= 0 ? tr("Test, best checkpoint (epoch %1)").arg(e.epoch + 1)
                            : tr("Test, best checkpoint");
    } else {
        what = tr("Validation, epoch %1").arg(e.epoch + 1);
    }
    QString title = tr("%1 — accuracy %2").arg(what, percent(r.metrics.accuracy));
    if (entry.hasTop5) {
        title += tr(", top-5 %1").arg(percent(r.top5_accuracy));
    }
    return title + tr(", mean loss %1").arg(r.mean_loss, 0, 'f', 3);
}

void EvaluationPanel::showEntry(int index) {
    const bool valid = index >= 0 && index < m_entries.size();
    m_current = valid ? index : -1;
    {
        const QSignalBlocker blocker(m_selector);
        m_selector->setCurrentIndex(m_current);
    }
    m_selector->setEnabled(!m_entries.isEmpty());
    m_topLossesButton->setEnabled(valid);
    m_exportPngButton->setEnabled(valid);
    m_exportCsvButton->setEnabled(valid);
    if (!valid) {
        m_matrix->clear();
        m_table->clear();
        m_status->clear();
        m_title->setText(m_runDir.isEmpty()
                             ? tr("No evaluation yet: start a run, or pick one on the Runs tab "
                                  "and press Show evaluation.")
                             : tr("No evaluation yet: the validation split is evaluated after "
                                  "each epoch."));
        return;
    }
    const Entry& entry = m_entries[index];
    const wb::EvaluationReport& r = *entry.evaluation.report;
    const QStringList classes = classNames(r);
    QList<qint64> counts;
    counts.reserve(qsizetype(r.metrics.confusion.counts.size()));
    for (std::int64_t c : r.metrics.confusion.counts) {
        counts.append(c);
    }
    m_matrix->setMatrix(classes, counts);
    m_title->setText(titleOf(entry));
    m_table->setMetrics(classes, r.metrics);
    const QString run =
        QDir(m_runDir.isEmpty() ? QString::fromStdString(r.run_dir) : m_runDir).dirName();
    // The images are counted under the matrix.
    m_status->setText(tr("run %1").arg(run));
    m_status->setToolTip(QDir::toNativeSeparators(QString::fromStdString(r.output_dir)));
    refreshGallery();
}

bool EvaluationPanel::showCell(int trueClass, int predictedClass) {
    const wb::EpochEvaluation* e = currentEvaluation();
    if (!e || trueClass < 0 || predictedClass < 0 || trueClass >= int(e->report->classes.size()) ||
        predictedClass >= int(e->report->classes.size())) {
        return false;
    }
    m_galleryContent = GalleryContent::Cell;
    m_cellTrue = trueClass;
    m_cellPredicted = predictedClass;
    refreshGallery();
    m_details->setCurrentWidget(m_gallery);
    return true;
}

bool EvaluationPanel::showTopLosses() {
    if (!currentEvaluation()) {
        return false;
    }
    m_galleryContent = GalleryContent::TopLosses;
    refreshGallery();
    m_details->setCurrentWidget(m_gallery);
    return true;
}

void EvaluationPanel::refreshGallery() {
    const wb::EpochEvaluation* e = currentEvaluation();
    if (!e || m_galleryContent == GalleryContent::None) {
        m_gallery->clear();
        return;
    }
    const Entry& entry = m_entries[m_current];
    const wb::EvaluationReport& r = *e->report;
    const wb::Predictions& p = r.predictions;
    const QStringList classes = classNames(r);
    std::vector<std::size_t> images;
    QString title;
    if (m_galleryContent == GalleryContent::Cell) {
        if (m_cellTrue >= classes.size() || m_cellPredicted >= classes.size()) {
            m_galleryContent = GalleryContent::None;
            m_gallery->clear();
            return;
        }
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (p.labels[i] == m_cellTrue && p.predicted[i] == m_cellPredicted) {
                images.push_back(i);
            }
        }
        std::stable_sort(images.begin(), images.end(), [&p](std::size_t a, std::size_t b) {
            return p.confidence(a) > p.confidence(b);
        });
        const QString cell =
            m_cellTrue == m_cellPredicted
                ? tr("%1 predicted right").arg(classes[m_cellTrue])
                : tr("%1 predicted as %2").arg(classes[m_cellTrue], classes[m_cellPredicted]);
        title = images.size() > std::size_t(kMaxCellImages)
                    ? tr("%1: the %2 most confident of %3")
                          .arg(cell)
                          .arg(kMaxCellImages)
                          .arg(images.size())
                    : tr("%1, most confident first").arg(cell);
        m_gallery->setEmptyHint(tr("No image of %1 was predicted as %2")
                                    .arg(classes[m_cellTrue], classes[m_cellPredicted]));
        images.resize(std::min(images.size(), std::size_t(kMaxCellImages)));
    } else {
        images.resize(p.size());
        std::iota(images.begin(), images.end(), std::size_t(0));
        const std::size_t shown = std::min(images.size(), std::size_t(kTopLosses));
        std::partial_sort(images.begin(), images.begin() + std::ptrdiff_t(shown), images.end(),
                          [&p](std::size_t a, std::size_t b) {
                              return p.losses[a] > p.losses[b] ||
                                     (p.losses[a] == p.losses[b] && a < b);
                          });
        images.resize(shown);
        title = tr("Highest losses of the %1 split, highest first").arg(splitName(*e));
        m_gallery->setEmptyHint(tr("The split has no images"));
    }
    QList<GalleryItem> items;
    items.reserve(qsizetype(images.size()));
    for (std::size_t i : images) {
        items.append(galleryItem(r, classes, i, entry.allProbabilities));
    }
    m_gallery->setItems(title, items);
}

bool EvaluationPanel::exportMatrixPng(const QString& path) {
    if (!currentEvaluation()) {
        return false;
    }
    m_matrix->setTitle(m_title->text());
    const bool ok = m_matrix->exportPng(path);
    m_matrix->setTitle(QString());
    return ok;
}

bool EvaluationPanel::exportMatrixCsv(const QString& path) {
    return currentEvaluation() && m_matrix->exportCsv(path);
}

QString EvaluationPanel::exportBaseName() const {
    const wb::EpochEvaluation* e = currentEvaluation();
    if (!e) {
        return QStringLiteral("confusion_matrix");
    }
    if (e->split == "test") {
        return QStringLiteral("confusion_matrix_test");
    }
    return QStringLiteral("confusion_matrix_val_epoch_%1")
        .arg(e->epoch + 1, 3, 10, QLatin1Char('0'));
}

void EvaluationPanel::exportPngInteractively() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the confusion matrix as PNG"),
        QDir(m_runDir).filePath(exportBaseName() + QStringLiteral(".png")),
        tr("PNG images (*.png)"));
    if (path.isEmpty()) {
        return;
    }
    if (exportMatrixPng(path)) {
        emit messageLogged(wb::Level::Info, tr("Confusion matrix saved to %1").arg(path));
    } else {
        emit messageLogged(wb::Level::Error, tr("Cannot write %1").arg(path));
    }
}

void EvaluationPanel::exportCsvInteractively() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the confusion matrix as CSV"),
        QDir(m_runDir).filePath(exportBaseName() + QStringLiteral(".csv")),
        tr("CSV files (*.csv)"));
    if (path.isEmpty()) {
        return;
    }
    if (exportMatrixCsv(path)) {
        emit messageLogged(wb::Level::Info, tr("Confusion matrix counts saved to %1").arg(path));
    } else {
        emit messageLogged(wb::Level::Error, tr("Cannot write %1").arg(path));
    }
}

bool EvaluationPanel::classifyImage(const QString& path) {
    m_details->setCurrentWidget(m_classify);
    const bool ok = m_classify->classify(m_runDir, path);
    if (!ok) {
        emit messageLogged(wb::Level::Warning, m_classify->message());
    }
    return ok;
}

void EvaluationPanel::classifyInteractively() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Classify an image"), QString(),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"));
    if (!path.isEmpty()) {
        classifyImage(path);
    }
}

QString EvaluationPanel::title() const {
    return m_title->text();
}

QString EvaluationPanel::statusText() const {
    return m_status->text();
}

void EvaluationPanel::dragEnterEvent(QDragEnterEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile() &&
        QFileInfo(urls.front().toLocalFile()).isFile()) {
        event->acceptProposedAction();
    }
}

void EvaluationPanel::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile()) {
        return;
    }
    event->acceptProposedAction();
    classifyImage(urls.front().toLocalFile());
}

}  // namespace wb::ui
