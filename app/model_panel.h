#pragma once

#include <QWidget>

#include "engine/experiment.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QTimer;

namespace wb::ui {

class RunControlForm;
class FineTuneForm;
class ScheduleForm;
class TensorBoardForm;
class SchedulePreview;

/// The model and its hyperparameters, as a form over wb::Experiment: architecture,
/// The model and its hyperparameters, as a form over wb::Experiment: architecture,
/// pretrained weights and fine-tuning, preprocessing and augmentation, optimizer, learning-rate
/// schedule, epochs, batch size, seed, device, checkpoints, early stopping and TensorBoard
/// logging, with a preview of the planned learning-rate and momentum curves. Fields the form
/// does not show are kept from the last experiment given to it, so `setExperiment(e)` then
/// `experiment()` gives back `e`.
class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);

    void setExperiment(const wb::Experiment& experiment);
    wb::Experiment experiment() const;

    /// Locks the form while a run is going (the TensorBoard command can still be copied).
    void setEditable(bool editable);

    /// The folder that receives the run folders, for the TensorBoard command.
    void setRunsDir(const QString& dir);

    /// Images in the training split of the scanned dataset (0: none scanned yet), which the
    /// preview needs for the number of iterations per epoch.
    void setTrainingSetSize(long long images);
    /// Classes of the scanned dataset (0: none scanned yet), for the parameter counts.
    void setClassCount(int classes);
    /// Recomputes the preview now instead of after the coalescing delay.
    void updatePreviewNow();

    QComboBox* architectureCombo() const { return m_arch; }
    QComboBox* optimizerCombo() const { return m_optimizer; }
    QDoubleSpinBox* learningRateSpin() const { return m_lr; }
    QSpinBox* epochsSpin() const { return m_epochs; }
    QSpinBox* batchSizeSpin() const { return m_batchSize; }
    QSpinBox* accumulationSpin() const { return m_accumulation; }
    ScheduleForm* scheduleForm() const { return m_scheduleForm; }
    FineTuneForm* fineTuneForm() const { return m_fineTuneForm; }
    QSpinBox* imageSizeSpin() const { return m_imageSize; }
    QComboBox* channelsCombo() const { return m_channels; }
    QComboBox* normalizeCombo() const { return m_normalize; }
    TensorBoardForm* tensorBoardForm() const { return m_tensorBoardForm; }
    RunControlForm* runControlForm() const { return m_runControl; }
    SchedulePreview* schedulePreview() const { return m_preview; }

signals:
    /// Any field was edited by the user.
    void experimentEdited();

private:
    void updateEnabledFields();
    void updateModelShape();
    /// Puts the preprocessing that the weights at `path` come with into the form.
    void applyPretrainedPreprocessing(const QString& path);
    void schedulePreviewUpdate();
    static void selectText(QComboBox* combo, const QString& text);

    wb::Experiment m_base;
    QWidget* m_form = nullptr;
    QComboBox* m_arch = nullptr;
    FineTuneForm* m_fineTuneForm = nullptr;
    int m_classes = 0;
    QSpinBox* m_imageSize = nullptr;
    QComboBox* m_channels = nullptr;
    QComboBox* m_normalize = nullptr;
    QCheckBox* m_hflip = nullptr;
    QCheckBox* m_randomCrop = nullptr;
    QSpinBox* m_cropPadding = nullptr;
    QComboBox* m_optimizer = nullptr;
    QDoubleSpinBox* m_lr = nullptr;
    QDoubleSpinBox* m_momentum = nullptr;
    QDoubleSpinBox* m_weightDecay = nullptr;
    ScheduleForm* m_scheduleForm = nullptr;
    SchedulePreview* m_preview = nullptr;
    RunControlForm* m_runControl = nullptr;
    QTimer* m_previewTimer = nullptr;  ///< coalesces edits into one preview update
    long long m_trainImages = 0;
    QSpinBox* m_epochs = nullptr;
    QSpinBox* m_batchSize = nullptr;
    QSpinBox* m_accumulation = nullptr;
    TensorBoardForm* m_tensorBoardForm = nullptr;
    QLineEdit* m_seed = nullptr;
};

}  // namespace wb::ui
