#pragma once

#include <QWidget>

#include "engine/experiment.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace wb::ui {

/// The model and its hyperparameters, as a form over wb::Experiment: architecture,
/// preprocessing and augmentation, optimizer, learning-rate schedule, epochs, batch size and
/// seed. Fields the form does not show are kept from the last experiment given to it, so
/// `setExperiment(e)` then `experiment()` gives back `e`.
class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);

    void setExperiment(const wb::Experiment& experiment);
    wb::Experiment experiment() const;

    /// Locks the form while a run is going.
    void setEditable(bool editable);

    QComboBox* architectureCombo() const { return m_arch; }
    QComboBox* optimizerCombo() const { return m_optimizer; }
    QDoubleSpinBox* learningRateSpin() const { return m_lr; }
    QSpinBox* epochsSpin() const { return m_epochs; }
    QSpinBox* batchSizeSpin() const { return m_batchSize; }

signals:
    /// Any field was edited by the user.
    void experimentEdited();

private:
    void updateEnabledFields();
    static void selectText(QComboBox* combo, const QString& text);

    wb::Experiment m_base;
    QWidget* m_form = nullptr;
    QComboBox* m_arch = nullptr;
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
    QComboBox* m_schedule = nullptr;
    QSpinBox* m_stepEpochs = nullptr;
    QDoubleSpinBox* m_gamma = nullptr;
    QSpinBox* m_epochs = nullptr;
    QSpinBox* m_batchSize = nullptr;
    QLineEdit* m_seed = nullptr;
};

}  // namespace wb::ui
