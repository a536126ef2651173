#pragma once

#include <QList>
#include <QString>
#include <QWidget>

#include "app/engine_types.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTabWidget;

namespace wb::ui {

class ClassMetricsTable;
class ClassifyBox;
class ConfusionMatrixView;
class PredictionGallery;

/// The evaluations of one run: the validation split after each epoch and the test split on the
/// best checkpoint. A selector picks one ("Validation · epoch 5", "Test · best checkpoint");
/// the panel shows its confusion matrix, and beside it, in tabs, the per-class precision,
/// recall, F1 and support, the images of a clicked matrix cell (or the split's highest
/// losses), and single-image inference with the run's best.pt ("Classify an image…", or drop
/// an image file anywhere on the panel).
///
/// Fed live (addEvaluation(), from the training run's evaluationFinished) or from the files of
/// a finished run (loadRun()). Evaluations of a run other than runDir() are ignored, so a run
/// loaded while another trains stays on screen.
class EvaluationPanel : public QWidget {
    Q_OBJECT
public:
    /// Images shown for a matrix cell (the most confident first) and for "Top losses".
    static constexpr int kMaxCellImages = 300;
    static constexpr int kTopLosses = 100;

    explicit EvaluationPanel(QWidget* parent = nullptr);
    ~EvaluationPanel() override;

    /// The run whose evaluations are shown and whose best.pt classifies single images.
    void setRunDir(const QString& runDir);
    QString runDir() const { return m_runDir; }
    /// Adds an evaluation of runDir()'s run (any run when runDir() is empty), replacing one of
    /// the same split and epoch. It is selected unless the user picked an older one; picking
    /// the newest again follows the newest again. False when it belongs to another run or has
    /// no report.
    bool addEvaluation(const wb::EpochEvaluation& evaluation);
    /// Forgets the evaluations, the images and the classification; keeps runDir().
    void clear();
    /// Shows a finished (or running) run from its evaluation/val/epoch_NNN/ and
    /// evaluation/test/ folders, the test selected when there is one. Their predictions.csv
    /// holds only the predicted class's probability, so the gallery shows only that one. False
    /// with the reason shown (and logged) when the run has no readable evaluation.
    bool loadRun(const QString& runDir);

    /// Entries of the selector, in its order: validation epochs ascending, then the test.
    int entryCount() const { return int(m_entries.size()); }
    QString entryText(int index) const;
    int currentIndex() const { return m_current; }
    /// Shows entry `index`, as picking it in the selector does.
    void setCurrentIndex(int index);
    /// The evaluation shown; nullptr when none.
    const wb::EpochEvaluation* currentEvaluation() const;

    /// The gallery of the images of true class `trueClass` predicted as `predictedClass`, most
    /// confident first (at most kMaxCellImages), as a click on that matrix cell; false when
    /// there is no such cell.
    bool showCell(int trueClass, int predictedClass);
    /// The gallery of the kTopLosses images of the split with the highest loss, highest first.
    bool showTopLosses();

    /// Writes the matrix shown, with title(), as a PNG, or its counts as CSV
    /// (ConfusionMatrixView::exportPng/exportCsv); false when there is none or the file cannot
    /// be written.
    bool exportMatrixPng(const QString& path);
    bool exportMatrixCsv(const QString& path);

    /// Classifies an image file with runDir()'s best.pt and shows the five most probable
    /// classes on the Classify tab; false with the reason shown there.
    bool classifyImage(const QString& path);

    QComboBox* selector() const { return m_selector; }
    ConfusionMatrixView* matrixView() const { return m_matrix; }
    ClassMetricsTable* classTable() const { return m_table; }
    PredictionGallery* gallery() const { return m_gallery; }
    ClassifyBox* classifyBox() const { return m_classify; }
    /// Per class, Images, Classify.
    QTabWidget* detailTabs() const { return m_details; }
    QSplitter* splitter() const { return m_splitter; }
    QPushButton* topLossesButton() const { return m_topLossesButton; }
    QPushButton* exportPngButton() const { return m_exportPngButton; }
    QPushButton* exportCsvButton() const { return m_exportCsvButton; }
    QPushButton* classifyButton() const { return m_classifyButton; }
    /// The line above the matrix: "Validation, epoch 5 — accuracy 91.2%, top-5 99.6%, mean
    /// loss 0.254", or why nothing is shown.
    QString title() const;
    /// Beside the selector: "run <folder name>"; empty when nothing is shown.
    QString statusText() const;

signals:
    void messageLogged(wb::Level level, const QString& text);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    struct Entry {
        wb::EpochEvaluation evaluation;
        /// Every class's probability is known (a live report); a loaded run has only the
        /// predicted class's.
        bool allProbabilities = true;
        bool hasTop5 = true;
    };
    /// What the gallery shows, kept when another entry is selected.
    enum class GalleryContent { None, Cell, TopLosses };

    void insertEntry(const Entry& entry, bool select);
    void rebuildSelector();
    void showEntry(int index);
    void refreshGallery();
    QString titleOf(const Entry& entry) const;
    void exportPngInteractively();
    void exportCsvInteractively();
    void classifyInteractively();
    QString exportBaseName() const;

    QComboBox* m_selector = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_topLossesButton = nullptr;
    QPushButton* m_exportPngButton = nullptr;
    QPushButton* m_exportCsvButton = nullptr;
    QPushButton* m_classifyButton = nullptr;
    QSplitter* m_splitter = nullptr;
    ConfusionMatrixView* m_matrix = nullptr;
    QTabWidget* m_details = nullptr;
    ClassMetricsTable* m_table = nullptr;
    PredictionGallery* m_gallery = nullptr;
    ClassifyBox* m_classify = nullptr;

    QString m_runDir;
    QList<Entry> m_entries;
    int m_current = -1;
    /// Select each new evaluation; off while the user looks at an older one.
    bool m_followNewest = true;
    GalleryContent m_galleryContent = GalleryContent::None;
    int m_cellTrue = -1;
    int m_cellPredicted = -1;
};

}  // namespace wb::ui
