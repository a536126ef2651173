#include "app/runs_panel.h"

#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <exception>

#include "app/logging.h"

namespace wb::ui {
namespace {

enum Column { kName, kModel, kStatus, kEpochs, kBest, kTest, kColumns };

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

}  // namespace

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
    m_dirEdit = new QLineEdit;
    m_dirEdit->setPlaceholderText(tr("Folder that receives the run folders"));
    m_browseButton = new QPushButton(tr("Browse…"));
    m_refreshButton = new QPushButton(tr("Refresh"));
    m_loadButton = new QPushButton(tr("Load settings"));
    m_loadButton->setToolTip(tr("Put the selected run's experiment into the model form"));
    m_loadButton->setEnabled(false);
    m_summary = new QLabel;

    m_table = new QTableWidget(0, kColumns);
    m_table->setHorizontalHeaderLabels(
        {tr("Run"), tr("Model"), tr("Status"), tr("Epochs"), tr("Best val"), tr("Test")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setAlternatingRowColors(true);
    // Run folders are named <date>-<time>-<name>: keep both ends visible when narrow.
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::Stretch);
    for (int c = kModel; c < kColumns; ++c) {
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    }

    auto* dirRow = new QHBoxLayout;
    dirRow->addWidget(m_dirEdit, 1);
    dirRow->addWidget(m_browseButton);
    auto* buttonRow = new QHBoxLayout;
    buttonRow->addWidget(m_summary, 1);
    buttonRow->addWidget(m_refreshButton);
    buttonRow->addWidget(m_loadButton);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(dirRow);
    layout->addLayout(buttonRow);
    layout->addWidget(m_table, 1);

    connect(m_dirEdit, &QLineEdit::editingFinished, this, [this] {
        if (QDir(m_dirEdit->text()).absolutePath() != m_runsDir) {
            choose(m_dirEdit->text());
        }
    });
    connect(m_browseButton, &QPushButton::clicked, this, &RunsPanel::browse);
    connect(m_refreshButton, &QPushButton::clicked, this, &RunsPanel::refresh);
    connect(m_loadButton, &QPushButton::clicked, this, &RunsPanel::loadSelectedSettings);
    connect(m_table, &QTableWidget::itemSelectionChanged, this,
            [this] { m_loadButton->setEnabled(selectedRow() >= 0); });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, &RunsPanel::loadSelectedSettings);
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
            best = QStringLiteral("%1%").arg(100.0 * run.bestAccuracy, 0, 'f', 1);
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
    m_loadButton->setEnabled(selectedRow() >= 0);
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

int RunsPanel::selectedRow() const {
    const QList<QTableWidgetItem*> items = m_table->selectedItems();
    return items.isEmpty() ? -1 : items.front()->row();
}

void RunsPanel::loadSelectedSettings() {
    const int row = selectedRow();
    if (row < 0 || row >= m_runs.size()) {
        return;
    }
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
