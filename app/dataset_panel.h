#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "app/engine_types.h"
#include "engine/image_folder.h"
#include "widgets/image_grid.h"

class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTableWidget;
class QThread;

namespace wb::ui {

/// The dataset: a folder picked with a file dialog (or a recent one, or the bundled demo),
/// scanned in a background thread; its classes with image counts per split, the files that
/// were skipped and why, and a sample image of each class.
class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetPanel(QWidget* parent = nullptr);
    /// Waits for a scan still running (it cannot be interrupted).
    ~DatasetPanel() override;

    /// Scans `folder` in the background; an empty folder means the bundled demo dataset.
    void scanFolder(const QString& folder);
    /// Opens a folder dialog and scans the chosen folder.
    void browse();

    /// The folder shown (scanned, or being scanned); never empty once a scan was asked for.
    QString folder() const { return m_folder; }
    bool isDemo() const { return m_isDemo; }
    bool isScanning() const { return m_scansRunning > 0; }
    bool hasScan() const { return m_hasScan; }
    /// Why the last scan failed; empty while scanning and after a scan that worked.
    QString scanError() const { return m_scanError; }
    const wb::DatasetScan& scan() const { return m_scan; }
    int classCount() const { return int(m_scan.classes.size()); }

    /// How a folder without train/val/test folders is split; taken from the experiment.
    void setSplitOptions(const wb::SplitOptions& options) { m_splitOptions = options; }

    QStringList recentFolders() const;
    QTableWidget* classTable() const { return m_classTable; }
    QTableWidget* problemTable() const { return m_problemTable; }
    ImageGrid* sampleGrid() const { return m_samples; }
    /// Holds the classes above the skipped files; the user may move the line between them.
    QSplitter* tableSplitter() const { return m_tableSplitter; }

signals:
    void folderChanged(const QString& folder);
    /// A scan ended; `ok` is false when the folder could not be used (the error was logged).
    void scanFinished(bool ok);
    void messageLogged(wb::Level level, const QString& text);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    struct Outcome;
    void apply(const Outcome& outcome);
    void showScan();
    void balanceTables();
    void rememberFolder(const QString& folder);
    void rebuildRecentCombo();
    void onComboActivated(int index);

    QComboBox* m_folderCombo = nullptr;
    QPushButton* m_browseButton = nullptr;
    QPushButton* m_rescanButton = nullptr;
    QLabel* m_summary = nullptr;
    QGroupBox* m_classBox = nullptr;
    QGroupBox* m_problemBox = nullptr;
    QSplitter* m_tableSplitter = nullptr;
    QTableWidget* m_classTable = nullptr;
    QTableWidget* m_problemTable = nullptr;
    ImageGrid* m_samples = nullptr;

    QString m_folder;
    bool m_isDemo = false;
    wb::SplitOptions m_splitOptions;
    wb::DatasetScan m_scan;
    bool m_hasScan = false;
    QString m_scanError;
    int m_scanId = 0;  ///< results of older scans are dropped
    int m_scansRunning = 0;
    bool m_balancePending = false;  ///< a scan came in before the panel had its size
};

}  // namespace wb::ui
