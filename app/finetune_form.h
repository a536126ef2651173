#pragma once

#include <QString>
#include <QWidget>

#include "engine/experiment.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace wb::ui {

/// Where a model's first weights come from (random, a file, a previous run folder) and how it
/// is fine-tuned (every layer, the head only, the last N stages; the backbone's relative rate;
/// the epoch from which every layer trains), with the parameter count of the architecture and
/// how many of them train, and where to get ImageNet weights. Fields of wb::ModelConfig the
/// form does not show (the architecture) are taken from the caller.
class FineTuneForm : public QWidget {
    Q_OBJECT
public:
    explicit FineTuneForm(QWidget* parent = nullptr);

    void setConfig(const wb::ModelConfig& config);
    /// The form's fields over `base` (which gives the architecture).
    wb::ModelConfig config(wb::ModelConfig base) const;

    /// Updates the parameter counts for `arch` with `classes` outputs and `channels` inputs.
    void setModelShape(const QString& arch, int classes, int channels);

    QComboBox* sourceCombo() const { return m_source; }
    QLineEdit* weightsEdit() const { return m_weights; }
    QComboBox* modeCombo() const { return m_mode; }
    QSpinBox* stagesSpin() const { return m_stages; }
    QDoubleSpinBox* backboneFactorSpin() const { return m_factor; }
    QSpinBox* unfreezeSpin() const { return m_unfreeze; }
    QLabel* countLabel() const { return m_count; }

signals:
    /// A field was edited by the user (not emitted by setConfig()).
    void edited();
    /// The user chose another weights file or run folder: its preprocessing
    /// (wb::pretrained_preprocessing()) should become the form's.
    void weightsChosen(const QString& path);

private:
    void browse();
    void updateFields();
    void updateCount();

    wb::ModelConfig m_base;
    QString m_arch;
    int m_classes = 10;
    int m_channels = 1;
    QComboBox* m_source = nullptr;
    QLineEdit* m_weights = nullptr;
    QPushButton* m_browse = nullptr;
    QComboBox* m_mode = nullptr;
    QSpinBox* m_stages = nullptr;
    QDoubleSpinBox* m_factor = nullptr;
    QSpinBox* m_unfreeze = nullptr;
    QLabel* m_count = nullptr;
    QLabel* m_hint = nullptr;
};

}  // namespace wb::ui
