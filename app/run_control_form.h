#pragma once

#include <QWidget>

#include "engine/experiment.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace wb::ui {

/// Where and how safely a run trains: the device (automatic, the CPU, or each CUDA device this
/// build of libtorch finds), mixed precision (CUDA only), how often a checkpoint to resume
/// from is saved inside an epoch, and early stopping on the validation metric. Works on the
/// experiment's `device`, `mixed_precision`, `checkpoint` and `early_stopping`; the rest of the
/// experiment passes through unchanged.
class RunControlForm : public QWidget {
    Q_OBJECT
public:
    explicit RunControlForm(QWidget* parent = nullptr);

    void setExperiment(const wb::Experiment& experiment);
    /// `base` with this form's fields set.
    wb::Experiment apply(wb::Experiment base) const;

    QComboBox* deviceCombo() const { return m_device; }
    QCheckBox* mixedPrecisionCheck() const { return m_mixedPrecision; }
    QDoubleSpinBox* checkpointMinutesSpin() const { return m_checkpointMinutes; }
    QCheckBox* earlyStoppingCheck() const { return m_earlyStopping; }
    QComboBox* stoppingMetricCombo() const { return m_metric; }
    QSpinBox* patienceSpin() const { return m_patience; }

signals:
    /// A field was edited by the user (not emitted by setExperiment()).
    void edited();

private:
    void updateEnabledFields();

    QComboBox* m_device = nullptr;
    QCheckBox* m_mixedPrecision = nullptr;
    QDoubleSpinBox* m_checkpointMinutes = nullptr;
    QCheckBox* m_earlyStopping = nullptr;
    QComboBox* m_metric = nullptr;
    QSpinBox* m_patience = nullptr;
};

}  // namespace wb::ui
