#pragma once

#include <QList>
#include <QString>
#include <QWidget>

#include "app/engine_types.h"
#include "app/run_summary.h"
#include "engine/experiment.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTableWidget;

namespace wb::ui {

class RunComparison;

/// The run folders in the runs folder: model, schedule policy, key hyperparameters, status,
/// epochs and best accuracy of each, from its experiment.yaml and metrics.csv. A run's settings
/// can be loaded back into the form. The runs selected in the table (several with Ctrl or
/// Shift) are overlaid below it, validation accuracy and loss per epoch, and the comparison can
/// be exported as PNG and CSV.
class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(QWidget* parent = nullptr);

    void setRunsDir(const QString& dir);
    QString runsDir() const { return m_runsDir; }
    /// The run being trained now, shown as "running"; empty for none.
    void setActiveRun(const QString& runDir);
    void refresh();

    const QList<RunSummary>& runs() const { return m_runs; }
    int runCount() const { return int(m_runs.size()); }
    QTableWidget* table() const { return m_table; }
    QLineEdit* dirEdit() const { return m_dirEdit; }
    QPushButton* evaluationButton() const { return m_evaluationButton; }
    QPushButton* resumeButton() const { return m_resumeButton; }

    /// Selects the runs whose folders are `dirs` (paths, or folder names in the runs folder),
    /// and only those; returns how many were found.
    int selectRuns(const QStringList& dirs);
    /// Selects the table rows `rows` (0 is the newest run), and only those; rows out of range
    /// are ignored. Returns how many were selected.
    int selectRows(const QList<int>& rows);
    /// The selected rows, ascending, and their run folders.
    QList<int> selectedRows() const;
    QStringList selectedRunDirs() const;

    /// Writes the comparison of the selected runs: a PNG to `pngPath` and a CSV to `csvPath`
    /// (see RunComparison::exportPng and exportCsv); an empty path skips that file. False, with
    /// the reason logged, when no run is selected or a file cannot be written.
    bool exportComparison(const QString& pngPath, const QString& csvPath);
    RunComparison* comparison() const { return m_comparison; }
    QSplitter* splitter() const { return m_splitter; }

signals:
    /// The runs folder changed, whoever set it (the window at start-up, the command line).
    void runsDirChanged(const QString& dir);
    /// The user chose a runs folder in the panel (typed or browsed); the one worth remembering.
    void runsDirChosen(const QString& dir);
    /// "Load settings" on a run: its experiment.yaml, to be put into the form.
    void experimentRequested(const wb::Experiment& experiment);
    /// "Show evaluation" on a run: its folder, whose evaluations are to be shown.
    void evaluationRequested(const QString& runDir);
    /// "Resume" on a stopped, failed or killed run that has a checkpoint: its folder.
    void resumeRequested(const QString& runDir);
    void messageLogged(wb::Level level, const QString& text);

private:
    void browse();
    void choose(const QString& dir);
    void loadSelectedSettings();
    void onSelectionChanged();
    void updateComparison();
    void exportPngInteractively();
    void exportCsvInteractively();

    QLineEdit* m_dirEdit = nullptr;
    QPushButton* m_browseButton = nullptr;
    QPushButton* m_refreshButton = nullptr;
    QPushButton* m_loadButton = nullptr;
    QPushButton* m_evaluationButton = nullptr;
    QPushButton* m_resumeButton = nullptr;
    QLabel* m_summary = nullptr;
    QTableWidget* m_table = nullptr;
    QSplitter* m_splitter = nullptr;
    RunComparison* m_comparison = nullptr;
    QLabel* m_comparisonTitle = nullptr;
    QPushButton* m_exportPngButton = nullptr;
    QPushButton* m_exportCsvButton = nullptr;
    bool m_rebuilding = false;  ///< the table is being refilled: selection changes are not news

    QString m_runsDir;
    QString m_activeRun;
    QList<RunSummary> m_runs;
};

}  // namespace wb::ui
