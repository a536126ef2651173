#pragma once

#include <QWidget>

#include "engine/experiment.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace wb::ui {

/// The fields of wb::ScheduleConfig: a policy and the fields of that policy only (the others
/// are hidden, and keep their values). Epoch counts stay epochs; the trainer turns them into
/// optimizer steps.
class ScheduleForm : public QWidget {
    Q_OBJECT
public:
    explicit ScheduleForm(QWidget* parent = nullptr);

    void setSchedule(const wb::ScheduleConfig& schedule);
    /// `base` with the form's values; fields the form does not show are kept from it.
    wb::ScheduleConfig schedule(const wb::ScheduleConfig& base) const;

    /// The policy shown, as in ScheduleConfig::policy.
    QString policy() const;
    /// Shows `policy`'s fields, as if the user had picked it (emits edited()).
    void choosePolicy(const QString& policy);
    /// True when the row of `field` (one of the widgets below) is shown for the current policy.
    bool isFieldShown(const QWidget* field) const;

    QComboBox* policyCombo() const { return m_policy; }
    QSpinBox* stepEpochsSpin() const { return m_stepEpochs; }
    QDoubleSpinBox* gammaSpin() const { return m_gamma; }
    QLineEdit* milestonesEdit() const { return m_milestones; }
    QDoubleSpinBox* etaMinSpin() const { return m_etaMin; }
    QDoubleSpinBox* pctStartSpin() const { return m_pctStart; }
    QDoubleSpinBox* divFactorSpin() const { return m_divFactor; }
    QDoubleSpinBox* finalDivFactorSpin() const { return m_finalDivFactor; }
    QCheckBox* threePhaseCheck() const { return m_threePhase; }
    QComboBox* annealCombo() const { return m_anneal; }
    QCheckBox* cycleMomentumCheck() const { return m_cycleMomentum; }
    QDoubleSpinBox* baseMomentumSpin() const { return m_baseMomentum; }
    QDoubleSpinBox* maxMomentumSpin() const { return m_maxMomentum; }
    QSpinBox* warmupStepsSpin() const { return m_warmupSteps; }
    QDoubleSpinBox* warmupStartSpin() const { return m_warmupStart; }
    QLabel* peakRateNote() const { return m_peakNote; }

signals:
    /// A field was edited by the user.
    void edited();

private:
    void updateShownFields();

    QFormLayout* m_layout = nullptr;
    QComboBox* m_policy = nullptr;
    QLabel* m_peakNote = nullptr;
    QSpinBox* m_stepEpochs = nullptr;
    QDoubleSpinBox* m_gamma = nullptr;
    QLineEdit* m_milestones = nullptr;
    QDoubleSpinBox* m_etaMin = nullptr;
    QDoubleSpinBox* m_pctStart = nullptr;
    QDoubleSpinBox* m_divFactor = nullptr;
    QDoubleSpinBox* m_finalDivFactor = nullptr;
    QCheckBox* m_threePhase = nullptr;
    QComboBox* m_anneal = nullptr;
    QCheckBox* m_cycleMomentum = nullptr;
    QDoubleSpinBox* m_baseMomentum = nullptr;
    QDoubleSpinBox* m_maxMomentum = nullptr;
    QSpinBox* m_warmupSteps = nullptr;
    QDoubleSpinBox* m_warmupStart = nullptr;
};

/// "30, 60, 90" for {30, 60, 90}.
QString milestonesText(const std::vector<int>& milestones);
/// The numbers of a comma-separated list, in order; pieces that are not numbers are left out.
std::vector<int> parseMilestones(const QString& text);

}  // namespace wb::ui
