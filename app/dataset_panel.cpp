#include "app/dataset_panel.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QResizeEvent>
#include <QSettings>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <algorithm>
#include <exception>
#include <memory>

#include "app/logging.h"
#include "app/video_thumbnail.h"
#include "engine/trainer.h"

namespace wb::ui {
namespace {

const char* const kRecentKey = "dataset/recentFolders";
constexpr int kMaxRecent = 8;
constexpr int kMaxLoggedSkips = 5;

QTableWidgetItem* numberItem(int value) {
    auto* item = new QTableWidgetItem(QString::number(value));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QTableWidget* makeTable(const QStringList& headers) {
    auto* table = new QTableWidget(0, int(headers.size()));
    table->setHorizontalHeaderLabels(headers);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->verticalHeader()->setVisible(false);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    table->setAlternatingRowColors(true);
    // One line a row: with wrapping, "class/file.png" breaks at the slash and loses its name.
    table->setWordWrap(false);
    return table;
}

/// Height that shows every row of `table` without scrolling.
int contentHeight(const QTableWidget* table) {
    int rows = 0;
    for (int r = 0; r < table->rowCount(); ++r) {
        rows += table->rowHeight(r);
    }
    return table->horizontalHeader()->sizeHint().height() + rows + 2 * table->frameWidth();
}

constexpr int kThumbnailSide = 64;
constexpr int kThumbnailFrames = 16;

int total(const std::vector<int>& counts) {
    int sum = 0;
    for (int c : counts) {
        sum += c;
    }
    return sum;
}

}  // namespace

struct DatasetPanel::Outcome {
    int id = 0;
    QString folder;
    bool ok = false;
    QString error;
    wb::DatasetScan scan;
    QList<ImageGrid::Item> samples;
    qint64 milliseconds = 0;
};

DatasetPanel::DatasetPanel(QWidget* parent) : QWidget(parent) {
    m_folderCombo = new QComboBox;
    m_folderCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_folderCombo->setMinimumContentsLength(16);
    m_folderCombo->setToolTip(tr("The bundled demo dataset or a recently used folder"));
    m_browseButton = new QPushButton(tr("Browse…"));
    m_browseButton->setToolTip(
        tr("A folder with train/, val/, test/ folders of classes, or one folder per class"));
    m_rescanButton = new QPushButton(tr("Rescan"));

    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folderCombo, 1);
    folderRow->addWidget(m_browseButton);
    folderRow->addWidget(m_rescanButton);

    m_summary = new QLabel(tr("No dataset scanned yet."));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_classTable = makeTable({tr("Class"), tr("Train"), tr("Val"), tr("Test")});
    m_classTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c) {
        m_classTable->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    }

    m_problemTable = makeTable({tr("File"), tr("Problem")});
    m_problemTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_problemTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_problemTable->setColumnWidth(0, 150);
    // File names are <class>/<name>: keep both ends when a name is long.
    m_problemTable->setTextElideMode(Qt::ElideMiddle);

    m_samples = new ImageGrid;
    m_samples->setCellSize(64);

    m_classBox = new QGroupBox(tr("Classes"));
    auto* classBox = m_classBox;
    auto* classLayout = new QVBoxLayout(classBox);
    classLayout->addWidget(m_summary);
    classLayout->addWidget(m_classTable, 1);

    m_problemBox = new QGroupBox(tr("Skipped files and warnings"));
    auto* problemBox = m_problemBox;
    auto* problemLayout = new QVBoxLayout(problemBox);
    problemLayout->addWidget(m_problemTable);
    m_problemTable->setMinimumHeight(70);
    m_classTable->setMinimumHeight(70);

    // The line between classes and problems is set after each scan (balanceTables); the user
    // may move it.
    m_tableSplitter = new QSplitter(Qt::Vertical);
    m_tableSplitter->addWidget(classBox);
    m_tableSplitter->addWidget(problemBox);
    m_tableSplitter->setChildrenCollapsible(false);
    m_tableSplitter->setStretchFactor(0, 1);
    m_tableSplitter->setStretchFactor(1, 1);

    auto* sampleBox = new QGroupBox(tr("Samples (one per class, training split)"));
    auto* sampleLayout = new QVBoxLayout(sampleBox);
    sampleLayout->addWidget(m_samples);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(folderRow);
    layout->addWidget(m_tableSplitter, 1);
    layout->addWidget(sampleBox, 0);

    rebuildRecentCombo();
    connect(m_browseButton, &QPushButton::clicked, this, &DatasetPanel::browse);
    connect(m_rescanButton, &QPushButton::clicked, this,
            [this] { scanFolder(m_isDemo ? QString() : m_folder); });
    connect(m_folderCombo, &QComboBox::activated, this, &DatasetPanel::onComboActivated);
}

DatasetPanel::~DatasetPanel() {
    // Limitation: wb::scan_image_folder has no cancel flag, so closing during the scan of a
    // large folder waits for it to end.
    const QList<QThread*> threads = findChildren<QThread*>(Qt::FindDirectChildrenOnly);
    for (QThread* thread : threads) {
        thread->wait();
    }
}

void DatasetPanel::browse() {
    const QString start = m_isDemo || m_folder.isEmpty() ? QDir::homePath() : m_folder;
    const QString chosen =
        QFileDialog::getExistingDirectory(this, tr("Choose a dataset folder"), start);
    if (!chosen.isEmpty()) {
        scanFolder(chosen);
    }
}

void DatasetPanel::scanFolder(const QString& folder) {
    const QString demo = QDir(QString::fromStdString(wb::demo_dataset_dir())).absolutePath();
    const QString path = folder.isEmpty() ? demo : QDir(folder).absolutePath();
    m_folder = path;
    m_isDemo = path == demo;
    m_scanError.clear();
    const int id = ++m_scanId;
    ++m_scansRunning;
    m_summary->setText(tr("Scanning %1 …").arg(QDir::toNativeSeparators(path)));
    m_rescanButton->setEnabled(false);
    rebuildRecentCombo();
    qCDebug(lcUi) << "scan" << id << "of" << path;
    emit folderChanged(path);

    QThread* thread = QThread::create([this, id, path, options = m_splitOptions] {
        auto outcome = std::make_shared<Outcome>();
        outcome->id = id;
        outcome->folder = path;
        QElapsedTimer timer;
        timer.start();
        try {
            outcome->scan = wb::scan_image_folder(path.toStdString(), options);
            outcome->ok = true;
            // One sample per class from the training split, decoded here so that the GUI
            // thread only draws. QImage (unlike QPixmap) may be used off the GUI thread.
            const auto& samples =
                outcome->scan.train.empty() ? outcome->scan.test : outcome->scan.train;
            // Videos: the one in the middle of each class's list, as the first ones often
            // start with a fade from black.
            std::vector<const wb::Sample*> order;
            if (outcome->scan.video) {
                std::vector<std::vector<const wb::Sample*>> byClass(outcome->scan.classes.size());
                for (const wb::Sample& s : samples) {
                    if (s.label >= 0 && size_t(s.label) < byClass.size() && s.clip == 0) {
                        byClass[size_t(s.label)].push_back(&s);
                    }
                }
                for (const auto& list : byClass) {
                    for (std::size_t k = 0; k < list.size(); ++k) {
                        order.push_back(list[(list.size() / 2 + k) % list.size()]);
                    }
                }
            } else {
                for (const wb::Sample& s : samples) {
                    order.push_back(&s);
                }
            }
            std::vector<bool> taken(outcome->scan.classes.size(), false);
            for (const wb::Sample* sample : order) {
                const wb::Sample& s = *sample;
                if (s.label < 0 || size_t(s.label) >= taken.size() || taken[s.label]) {
                    continue;
                }
                ImageGrid::Item item;
                item.caption = QString::fromStdString(outcome->scan.classes[s.label]);
                if (outcome->scan.video) {
                    item.frames = clipFrames(QString::fromStdString(s.path), kThumbnailFrames,
                                             options.frame_stride, kThumbnailSide);
                    item.image = item.frames.isEmpty() ? QImage() : item.frames.front();
                } else {
                    item.image = QImage(QString::fromStdString(s.path));
                }
                if (item.image.isNull()) {
                    continue;
                }
                taken[s.label] = true;
                outcome->samples.append(item);
            }
        } catch (const std::exception& e) {
            outcome->error = QString::fromUtf8(e.what());
        } catch (...) {
            outcome->error = tr("unknown error while scanning");
        }
        outcome->milliseconds = timer.elapsed();
        // Queued onto the panel's thread; dropped by Qt if the panel is gone by then.
        QMetaObject::invokeMethod(
            this, [this, outcome] { apply(*outcome); }, Qt::QueuedConnection);
    });
    thread->setObjectName(QStringLiteral("wb-scan"));
    thread->setParent(this);
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void DatasetPanel::apply(const Outcome& outcome) {
    --m_scansRunning;
    if (outcome.id != m_scanId) {
        qCDebug(lcUi) << "dropping the result of older scan" << outcome.id;
        return;
    }
    m_rescanButton->setEnabled(true);
    const QString shown = QDir::toNativeSeparators(outcome.folder);
    if (!outcome.ok) {
        m_hasScan = false;
        m_scanError = outcome.error;
        m_scan = {};
        m_classTable->setRowCount(0);
        m_problemTable->setRowCount(0);
        m_samples->clear();
        m_problemBox->setTitle(tr("Skipped files and warnings"));
        m_summary->setText(
            tr("<span style=\"color:#c00000\"><b>Cannot use this folder:</b> %1</span>")
                .arg(outcome.error.toHtmlEscaped()));
        emit messageLogged(wb::Level::Error,
                           tr("Cannot use dataset folder %1: %2").arg(shown, outcome.error));
        emit scanFinished(false);
        return;
    }

    m_scan = outcome.scan;
    m_hasScan = true;
    m_samples->setItems(outcome.samples);
    showScan();
    if (!m_isDemo) {
        rememberFolder(outcome.folder);
    }

    const QString name = m_isDemo ? tr("the demo dataset") : shown;
    emit messageLogged(wb::Level::Info,
                       (m_scan.video ? tr("Scanned %1 in %2 s: %3 classes, %4 clips")
                                     : tr("Scanned %1 in %2 s: %3 classes, %4 images"))
                           .arg(name)
                           .arg(outcome.milliseconds / 1000.0, 0, 'f', 1)
                           .arg(m_scan.classes.size())
                           .arg(m_scan.train.size() + m_scan.val.size() + m_scan.test.size()));
    if (!m_scan.skipped.empty()) {
        emit messageLogged(wb::Level::Warning,
                           tr("%n file(s) skipped in %1 (listed in the Dataset tab)", nullptr,
                              int(m_scan.skipped.size()))
                               .arg(name));
        for (size_t i = 0; i < m_scan.skipped.size() && int(i) < kMaxLoggedSkips; ++i) {
            emit messageLogged(wb::Level::Warning,
                               tr("skipped %1: %2")
                                   .arg(QString::fromStdString(m_scan.skipped[i].path),
                                        QString::fromStdString(m_scan.skipped[i].reason)));
        }
    }
    for (const std::string& warning : m_scan.warnings) {
        emit messageLogged(wb::Level::Warning, QString::fromStdString(warning));
    }
    emit scanFinished(true);
}

void DatasetPanel::showScan() {
    const auto train = m_scan.class_counts(wb::Split::Train);
    const auto val = m_scan.class_counts(wb::Split::Val);
    const auto test = m_scan.class_counts(wb::Split::Test);
    auto at = [](const std::vector<int>& counts, size_t i) {
        return i < counts.size() ? counts[i] : 0;
    };
    m_classTable->setRowCount(int(m_scan.classes.size()));
    for (size_t i = 0; i < m_scan.classes.size(); ++i) {
        const int row = int(i);
        m_classTable->setItem(row, 0,
                              new QTableWidgetItem(QString::fromStdString(m_scan.classes[i])));
        m_classTable->setItem(row, 1, numberItem(at(train, i)));
        m_classTable->setItem(row, 2, numberItem(at(val, i)));
        m_classTable->setItem(row, 3, numberItem(at(test, i)));
    }

    const QDir root(QString::fromStdString(m_scan.root));
    m_problemTable->setRowCount(int(m_scan.skipped.size() + m_scan.warnings.size()));
    int row = 0;
    for (const wb::SkippedFile& skipped : m_scan.skipped) {
        const QString path = QString::fromStdString(skipped.path);
        auto* file = new QTableWidgetItem(root.relativeFilePath(path));
        file->setToolTip(path);
        m_problemTable->setItem(row, 0, file);
        auto* reason = new QTableWidgetItem(QString::fromStdString(skipped.reason));
        reason->setToolTip(reason->text());
        m_problemTable->setItem(row, 1, reason);
        ++row;
    }
    for (const std::string& warning : m_scan.warnings) {
        m_problemTable->setItem(row, 0, new QTableWidgetItem(tr("(warning)")));
        auto* text = new QTableWidgetItem(QString::fromStdString(warning));
        text->setToolTip(text->text());
        m_problemTable->setItem(row, 1, text);
        ++row;
    }

    // The file column as wide as its names, up to 45% of the table; the problem gets the rest.
    m_problemTable->resizeColumnToContents(0);
    const int fileMax = m_problemTable->viewport()->width() * 45 / 100;
    m_problemTable->setColumnWidth(
        0, std::clamp(m_problemTable->columnWidth(0), 80, std::max(80, fileMax)));

    const int problems = int(m_scan.skipped.size() + m_scan.warnings.size());
    m_problemBox->setTitle(problems == 0 ? tr("Skipped files and warnings: none")
                                         : tr("Skipped files and warnings: %1").arg(problems));

    const QString where =
        m_isDemo ? tr("Demo dataset (Fashion-MNIST subset)") : QDir::toNativeSeparators(m_folder);
    QString text =
        (m_scan.video ? tr("<b>%1</b><br>%2 classes · %3 train · %4 val · %5 test clips "
                           "(the thumbnails play the centre of one video per class) · %6")
                      : tr("<b>%1</b><br>%2 classes · %3 train · %4 val · %5 test "
                           "images · %6"))
            .arg(where.toHtmlEscaped())
            .arg(m_scan.classes.size())
            .arg(total(train))
            .arg(total(val))
            .arg(total(test))
            .arg(m_scan.phase_layout ? tr("train/val/test folders")
                                     : tr("split by the experiment's fractions"));
    if (!m_scan.skipped.empty() || !m_scan.warnings.empty()) {
        text += tr("<br><span style=\"color:#b06000\">%1 skipped files, %2 warnings</span>")
                    .arg(m_scan.skipped.size())
                    .arg(m_scan.warnings.size());
    }
    m_summary->setText(text);
    balanceTables();
}

void DatasetPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (m_balancePending) {
        balanceTables();
    }
}

void DatasetPanel::balanceTables() {
    const int available = m_tableSplitter->height() - m_tableSplitter->handleWidth();
    if (!isVisible() || available <= 0) {
        m_balancePending = true;
        return;
    }
    m_balancePending = false;
    // What each box needs to show every row: its table's content plus the box around it
    // (title, summary), measured once the boxes are laid out for the new summary.
    m_classBox->layout()->activate();
    m_problemBox->layout()->activate();
    const int classChrome = std::max(0, m_classBox->height() - m_classTable->height());
    const int problemChrome = std::max(0, m_problemBox->height() - m_problemTable->height());
    const int classWanted = classChrome + contentHeight(m_classTable);
    const int problemWanted = problemChrome + contentHeight(m_problemTable);
    const int problemLeast = problemChrome + m_problemTable->minimumHeight();
    int classHeight = 0;
    if (m_problemTable->rowCount() == 0) {
        // Nothing skipped: the classes get the room, the empty list keeps its minimum.
        classHeight = available - problemLeast;
    } else if (classWanted + problemWanted <= available) {
        // Both fit: the classes get what they need, the rest goes to the problems.
        classHeight = classWanted;
    } else {
        // Both are long: neither gets less than a third.
        classHeight = std::clamp(available - problemWanted, available / 3,
                                 std::min(classWanted, available * 2 / 3));
    }
    classHeight = std::clamp(classHeight, 0, available);
    m_tableSplitter->setSizes({classHeight, available - classHeight});
}

QStringList DatasetPanel::recentFolders() const {
    return QSettings().value(QLatin1String(kRecentKey)).toStringList();
}

void DatasetPanel::rememberFolder(const QString& folder) {
    QStringList recent = recentFolders();
    recent.removeAll(folder);
    recent.prepend(folder);
    while (recent.size() > kMaxRecent) {
        recent.removeLast();
    }
    QSettings().setValue(QLatin1String(kRecentKey), recent);
    rebuildRecentCombo();
}

void DatasetPanel::rebuildRecentCombo() {
    m_folderCombo->clear();
    m_folderCombo->addItem(tr("Demo: Fashion-MNIST subset"), QString());
    for (const QString& folder : recentFolders()) {
        m_folderCombo->addItem(QDir::toNativeSeparators(folder), folder);
        m_folderCombo->setItemData(m_folderCombo->count() - 1, folder, Qt::ToolTipRole);
    }
    int current = m_isDemo ? 0 : m_folderCombo->findData(m_folder);
    if (current < 0 && !m_folder.isEmpty()) {
        // A folder being scanned for the first time: shown, remembered only once it worked.
        m_folderCombo->addItem(QDir::toNativeSeparators(m_folder), m_folder);
        current = m_folderCombo->count() - 1;
    }
    m_folderCombo->setCurrentIndex(std::max(0, current));
}

void DatasetPanel::onComboActivated(int index) {
    scanFolder(m_folderCombo->itemData(index).toString());
}

}  // namespace wb::ui
