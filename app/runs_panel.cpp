#include "app/runs_panel.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelection>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <exception>

#include "app/logging.h"
#include "widgets/run_comparison.h"

namespace wb::ui {
namespace {

// What a comparison needs first: the runs panel is often narrower than the table.
enum Column { kName, kModel, kPolicy, kHyper, kBest, kTest, kStatus, kEpochs, kColumns };
constexpr int kMaxNameWidth = 280;  // pixels; longer run names are elided in the middle

QColor statusColour(const QString& status) {
    if (status == QLatin1String("running")) {
        return QColor(31, 119, 180);
    }
    if (status == QLatin1String("finished")) {
        return QColor(0, 128, 0);
    }
    if (status == QLatin1String("unreadable") || status == QLatin1String("failed")) {
        return QColor(192, 0, 0);
    }
    return QColor(176, 96, 0);
}

/// The run's per-epoch curves as the comparison draws them: validation accuracy and loss, or
/// the training ones when metrics.csv has no validation value at all.
ComparedRun comparedRun(const RunSummary& run) {
    ComparedRun compared;
    compared.label =
        run.policy.isEmpty() ? run.name : QStringLiteral("%1 · %2").arg(run.name, run.policy);
    compared.bestEpoch = run.bestEpoch;
    MetricsTable metrics;
    if (!readMetricsCsv(QDir(run.dir).filePath(QStringLiteral("metrics.csv")), &metrics, nullptr)) {
        return compared;
    }
    const int epoch = metrics.column(QStringLiteral("epoch"));
    const int valAcc = metrics.column(QStringLiteral("val_accuracy"));
    const auto finite = [&](int column) {
        return column >= 0 &&
               std::any_of(metrics.rows.begin(), metrics.rows.end(), [&](const QList<double>& r) {
                   return column < r.size() && std::isfinite(r[column]);
               });
    };
    compared.validation = finite(valAcc);
    const int acc = compared.validation ? valAcc : metrics.column(QStringLiteral("train_accuracy"));
    const int loss = metrics.column(compared.validation ? QStringLiteral("val_loss")
                                                        : QStringLiteral("train_loss"));
    const auto cell = [](const QList<double>& row, int column) {
        return column >= 0 && column < row.size() ? row[column] : std::nan("");
    };
    for (int i = 0; i < metrics.rows.size(); ++i) {
        const QList<double>& row = metrics.rows[i];
        // The row number is the epoch when the column is missing or unreadable.
        const double e = cell(row, epoch);
        compared.epochs.append(std::isfinite(e) ? e : i + 1);
        compared.accuracy.append(cell(row, acc));
        compared.loss.append(cell(row, loss));
    }
    return compared;
}

}  // namespace

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
    m_dirEdit = new QLineEdit;
    m_dirEdit->setPlaceholderText(tr("Folder that receives the run folders"));
    m_browseButton = new QPushButton(tr("Browse…"));
    m_refreshButton = new QPushButton(tr("Refresh"));
    m_loadButton = new QPushButton(tr("Load settings"));
    m_loadButton->setToolTip(tr("Put the selected run's experiment into the model form"));
    m_loadButton->setEnabled(false);
    m_evaluationButton = new QPushButton(tr("Show evaluation"));
    m_evaluationButton->setToolTip(
        tr("Show the selected run's confusion matrices and predictions on the Evaluation tab"));
    m_evaluationButton->setEnabled(false);
    m_resumeButton = new QPushButton(tr("Resume"));
    m_resumeButton->setToolTip(
        tr("Continue the selected run from its last checkpoint (a run that was stopped, failed "
           "or killed before its last epoch)"));
    m_resumeButton->setEnabled(false);
    m_summary = new QLabel;

    m_table = new QTableWidget(0, kColumns);
    m_table->setHorizontalHeaderLabels({tr("Run"), tr("Model"), tr("Policy"), tr("Hyperparameters"),
                                        tr("Best val"), tr("Test"), tr("Status"), tr("Epochs")});
    m_table->horizontalHeaderItem(kBest)->setToolTip(
        tr("Best validation accuracy @ its epoch (training accuracy where there is no "
           "validation split)"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    // Several runs at once, with Ctrl and Shift: the selected runs are compared below.
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setAlternatingRowColors(true);
    // Run folders are named <date>-<time>-<name>: keep both ends visible when narrow.
    m_table->setTextElideMode(Qt::ElideMiddle);
    // The run's name is fitted to its contents on refresh (up to kMaxNameWidth), the other
    // columns always; a narrow panel scrolls sideways rather than squeezing the names.
    m_table->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::Interactive);
    for (int c = kModel; c < kColumns; ++c) {
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    }
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto* dirRow = new QHBoxLayout;
    dirRow->addWidget(m_dirEdit, 1);
    dirRow->addWidget(m_browseButton);
    auto* buttonRow = new QHBoxLayout;
    buttonRow->addWidget(m_summary, 1);
    buttonRow->addWidget(m_refreshButton);
    buttonRow->addWidget(m_loadButton);
    buttonRow->addWidget(m_evaluationButton);
    buttonRow->addWidget(m_resumeButton);

    m_comparison = new RunComparison;
    m_comparisonTitle = new QLabel;
    m_exportPngButton = new QPushButton(tr("Export PNG…"));
    m_exportPngButton->setToolTip(tr("Save both comparison charts with their legend as an image"));
    m_exportCsvButton = new QPushButton(tr("Export CSV…"));
    m_exportCsvButton->setToolTip(
        tr("Save the compared values, one line per run and epoch: "
           "run,epoch,val_accuracy,val_loss,is_best"));
    auto* exportRow = new QHBoxLayout;
    exportRow->addWidget(m_comparisonTitle, 1);
    exportRow->addWidget(m_exportPngButton);
    exportRow->addWidget(m_exportCsvButton);
    auto* comparisonBox = new QWidget;
    auto* comparisonLayout = new QVBoxLayout(comparisonBox);
    comparisonLayout->setContentsMargins(0, 0, 0, 0);
    comparisonLayout->setSpacing(2);
    comparisonLayout->addLayout(exportRow);
    comparisonLayout->addWidget(m_comparison, 1);

    m_splitter = new QSplitter(Qt::Vertical);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(comparisonBox);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    m_splitter->setSizes({200, 500});

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(dirRow);
    layout->addLayout(buttonRow);
    layout->addWidget(m_splitter, 1);

    connect(m_dirEdit, &QLineEdit::editingFinished, this, [this] {
        if (QDir(m_dirEdit->text()).absolutePath() != m_runsDir) {
            choose(m_dirEdit->text());
        }
    });
    connect(m_browseButton, &QPushButton::clicked, this, &RunsPanel::browse);
    connect(m_refreshButton, &QPushButton::clicked, this, &RunsPanel::refresh);
    connect(m_loadButton, &QPushButton::clicked, this, &RunsPanel::loadSelectedSettings);
    connect(m_evaluationButton, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedRunDirs();
        if (dirs.size() == 1) {
            emit evaluationRequested(dirs.front());
        }
    });
    connect(m_resumeButton, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedRunDirs();
        if (dirs.size() == 1) {
            emit resumeRequested(dirs.front());
        }
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &RunsPanel::onSelectionChanged);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, &RunsPanel::loadSelectedSettings);
    connect(m_exportPngButton, &QPushButton::clicked, this, &RunsPanel::exportPngInteractively);
    connect(m_exportCsvButton, &QPushButton::clicked, this, &RunsPanel::exportCsvInteractively);
    onSelectionChanged();
}

void RunsPanel::setRunsDir(const QString& dir) {
    m_runsDir = QDir(dir.isEmpty() ? QStringLiteral("runs") : dir).absolutePath();
    m_dirEdit->setText(QDir::toNativeSeparators(m_runsDir));
    refresh();
    emit runsDirChanged(m_runsDir);
}

void RunsPanel::setActiveRun(const QString& runDir) {
    m_activeRun = runDir.isEmpty() ? QString() : QDir(runDir).absolutePath();
    refresh();
}

void RunsPanel::refresh() {
    // The selection follows the run folders, not the rows: a new run comes in at the top.
    const QStringList selected = selectedRunDirs();
    m_rebuilding = true;
    m_runs = listRuns(m_runsDir);
    for (RunSummary& run : m_runs) {
        if (!m_activeRun.isEmpty() && run.dir == m_activeRun) {
            run.status = QStringLiteral("running");
        }
    }
    m_table->setSortingEnabled(false);
    m_table->setRowCount(int(m_runs.size()));
    for (int row = 0; row < m_runs.size(); ++row) {
        const RunSummary& run = m_runs[row];
        auto* name = new QTableWidgetItem(run.name);
        QString tip = tr("%1\nmodified %2")
                          .arg(run.dir, run.modified.toString(QStringLiteral("yyyy-MM-dd HH:mm")));
        if (!run.error.isEmpty()) {
            tip += QLatin1Char('\n') + run.error;
        }
        name->setToolTip(tip);
        m_table->setItem(row, kName, name);
        m_table->setItem(row, kModel, new QTableWidgetItem(run.model));
        m_table->setItem(row, kPolicy, new QTableWidgetItem(run.policy));
        auto* hyper = new QTableWidgetItem(hyperparameterText(run));
        if (!run.optimizer.isEmpty()) {
            hyper->setToolTip(tr("optimizer %1, %2, batch size %3, %4 epochs, seed %5")
                                  .arg(run.optimizer, learningRateText(run))
                                  .arg(run.batchSize)
                                  .arg(run.plannedEpochs)
                                  .arg(run.seed));
        }
        m_table->setItem(row, kHyper, hyper);
        auto* status = new QTableWidgetItem(run.status);
        status->setForeground(statusColour(run.status));
        if (!run.message.isEmpty()) {
            status->setToolTip(run.message);
        }
        m_table->setItem(row, kStatus, status);
        const QString epochs =
            run.plannedEpochs > 0
                ? QStringLiteral("%1/%2").arg(run.epochsDone).arg(run.plannedEpochs)
                : QString::number(run.epochsDone);
        m_table->setItem(row, kEpochs, new QTableWidgetItem(epochs));
        QString best;
        if (run.bestEpoch > 0) {
            best = QStringLiteral("%1% @ %2")
                       .arg(100.0 * run.bestAccuracy, 0, 'f', 1)
                       .arg(run.bestEpoch);
            if (!run.bestIsValidation) {
                best += tr(" (train)");
            }
        }
        auto* bestItem = new QTableWidgetItem(best);
        bestItem->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        if (run.bestEpoch > 0) {
            bestItem->setToolTip(
                run.bestIsValidation
                    ? tr("validation accuracy, epoch %1").arg(run.bestEpoch)
                    : tr("training accuracy (no validation split), epoch %1").arg(run.bestEpoch));
        }
        m_table->setItem(row, kBest, bestItem);
        auto* testItem = new QTableWidgetItem(
            run.hasTest ? QStringLiteral("%1%").arg(100.0 * run.testAccuracy, 0, 'f', 1)
                        : QString());
        testItem->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_table->setItem(row, kTest, testItem);
    }
    m_summary->setText(QDir(m_runsDir).exists() ? tr("%n run(s)", nullptr, int(m_runs.size()))
                                                : tr("No runs yet (the folder is made by the "
                                                     "first run)"));
    m_table->resizeColumnToContents(kName);
    m_table->setColumnWidth(kName, std::min(m_table->columnWidth(kName), kMaxNameWidth));
    m_table->clearSelection();
    m_rebuilding = false;
    if (selectRuns(selected) == 0) {
        // Nothing selected before, or the selected runs are gone: no selection signal.
        onSelectionChanged();
    }
    qCDebug(lcUi) << "runs listed:" << m_runs.size() << "in" << m_runsDir;
}

void RunsPanel::browse() {
    const QString chosen =
        QFileDialog::getExistingDirectory(this, tr("Choose the runs folder"), m_runsDir);
    if (!chosen.isEmpty()) {
        choose(chosen);
    }
}

void RunsPanel::choose(const QString& dir) {
    setRunsDir(dir);
    emit runsDirChosen(m_runsDir);
}

QList<int> RunsPanel::selectedRows() const {
    QList<int> rows;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows()) {
        rows.append(index.row());
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

QStringList RunsPanel::selectedRunDirs() const {
    QStringList dirs;
    for (int row : selectedRows()) {
        if (row < m_runs.size()) {
            dirs.append(m_runs[row].dir);
        }
    }
    return dirs;
}

int RunsPanel::selectRuns(const QStringList& dirs) {
    QList<int> rows;
    for (const QString& dir : dirs) {
        const QString path = QDir(m_runsDir).absoluteFilePath(dir);
        for (int row = 0; row < m_runs.size(); ++row) {
            if (QDir(m_runs[row].dir) == QDir(path)) {
                rows.append(row);
            }
        }
    }
    return selectRows(rows);
}

int RunsPanel::selectRows(const QList<int>& rows) {
    // One selection change, so the comparison is redrawn once.
    QItemSelection selection;
    int count = 0;
    for (int row : rows) {
        if (row >= 0 && row < m_table->rowCount()) {
            const QModelIndex index = m_table->model()->index(row, 0);
            selection.select(index, index);
            ++count;
        }
    }
    m_table->selectionModel()->select(
        selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    return count;
}

void RunsPanel::onSelectionChanged() {
    if (m_rebuilding) {
        return;
    }
    m_loadButton->setEnabled(selectedRows().size() == 1);
    m_evaluationButton->setEnabled(selectedRows().size() == 1);
    bool resumable = false;
    if (selectedRows().size() == 1) {
        const RunSummary& run = m_runs[selectedRows().front()];
        resumable = run.status != QStringLiteral("finished") &&
                    run.status != QStringLiteral("running") && run.dir != m_activeRun &&
                    QFileInfo::exists(QDir(run.dir).filePath(QStringLiteral("resume.pt")));
    }
    m_resumeButton->setEnabled(resumable);
    updateComparison();
}

void RunsPanel::updateComparison() {
    QList<ComparedRun> compared;
    for (int row : selectedRows()) {
        if (row < m_runs.size()) {
            compared.append(comparedRun(m_runs[row]));
        }
    }
    m_comparison->setRuns(compared);
    m_exportPngButton->setEnabled(!compared.isEmpty());
    m_exportCsvButton->setEnabled(!compared.isEmpty());
    m_comparisonTitle->setText(compared.isEmpty()
                                   ? tr("Comparison")
                                   : tr("Comparison of %n run(s)", nullptr, int(compared.size())));
}

bool RunsPanel::exportComparison(const QString& pngPath, const QString& csvPath) {
    if (m_comparison->runCount() == 0) {
        emit messageLogged(wb::Level::Error,
                           tr("Nothing to export: select runs in the table to compare them"));
        return false;
    }
    bool ok = true;
    const auto write = [&](const QString& path, bool written) {
        if (written) {
            emit messageLogged(wb::Level::Info, tr("Saved the comparison of %n run(s) to %1",
                                                   nullptr, m_comparison->runCount())
                                                    .arg(QDir::toNativeSeparators(path)));
        } else {
            emit messageLogged(
                wb::Level::Error,
                tr("Cannot save the comparison to %1").arg(QDir::toNativeSeparators(path)));
            ok = false;
        }
    };
    if (!pngPath.isEmpty()) {
        write(pngPath, m_comparison->exportPng(pngPath));
    }
    if (!csvPath.isEmpty()) {
        write(csvPath, m_comparison->exportCsv(csvPath));
    }
    return ok;
}

void RunsPanel::exportPngInteractively() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the comparison as PNG"),
        QDir(m_runsDir).filePath(QStringLiteral("comparison.png")), tr("PNG images (*.png)"));
    if (!path.isEmpty()) {
        exportComparison(path, {});
    }
}

void RunsPanel::exportCsvInteractively() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the comparison as CSV"),
        QDir(m_runsDir).filePath(QStringLiteral("comparison.csv")), tr("CSV files (*.csv)"));
    if (!path.isEmpty()) {
        exportComparison({}, path);
    }
}

void RunsPanel::loadSelectedSettings() {
    const QList<int> rows = selectedRows();
    if (rows.size() != 1 || rows.front() >= m_runs.size()) {
        return;
    }
    const int row = rows.front();
    const QString path = QDir(m_runs[row].dir).filePath(QStringLiteral("experiment.yaml"));
    try {
        emit experimentRequested(wb::load_experiment(path.toStdString()));
        emit messageLogged(wb::Level::Info,
                           tr("Loaded the settings of run %1").arg(m_runs[row].name));
    } catch (const std::exception& e) {
        emit messageLogged(wb::Level::Error,
                           tr("Cannot load %1: %2").arg(path, QString::fromUtf8(e.what())));
    }
}

}  // namespace wb::ui
