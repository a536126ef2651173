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
class QTableWidget;

namespace wb::ui {

/// The run folders in the runs folder: model, status, epochs and best accuracy of each, from
/// its experiment.yaml and metrics.csv. A run's settings can be loaded back into the form.
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

signals:
    /// The runs folder changed, whoever set it (the window at start-up, the command line).
    void runsDirChanged(const QString& dir);
    /// The user chose a runs folder in the panel (typed or browsed); the one worth remembering.
    void runsDirChosen(const QString& dir);
    /// "Load settings" on a run: its experiment.yaml, to be put into the form.
    void experimentRequested(const wb::Experiment& experiment);
    void messageLogged(wb::Level level, const QString& text);

private:
    void browse();
    void choose(const QString& dir);
    void loadSelectedSettings();
    int selectedRow() const;

    QLineEdit* m_dirEdit = nullptr;
    QPushButton* m_browseButton = nullptr;
    QPushButton* m_refreshButton = nullptr;
    QPushButton* m_loadButton = nullptr;
    QLabel* m_summary = nullptr;
    QTableWidget* m_table = nullptr;

    QString m_runsDir;
    QString m_activeRun;
    QList<RunSummary> m_runs;
};

}  // namespace wb::ui
