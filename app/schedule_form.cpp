#include "app/schedule_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QStringList>

#include "app/rate_spin_box.h"

namespace wb::ui {
namespace {

QDoubleSpinBox* makeDoubleSpin(double lo, double hi, int decimals, double step) {
    auto* spin = new QDoubleSpinBox;
    spin->setRange(lo, hi);
    spin->setDecimals(decimals);
    spin->setSingleStep(step);
    return spin;
}

QDoubleSpinBox* makeRateSpin(double lo, double hi) {
    auto* spin = new RateSpinBox;
    spin->setRange(lo, hi);
    return spin;
}

void selectData(QComboBox* combo, const QString& data) {
    int index = combo->findData(data);
    if (index < 0) {
        // A value this build does not list: kept as is, for the engine to judge.
        combo->addItem(data, data);
        index = combo->count() - 1;
    }
    combo->setCurrentIndex(index);
}

}  // namespace

QString milestonesText(const std::vector<int>& milestones) {
    QStringList parts;
    for (int epoch : milestones) {
        parts.append(QString::number(epoch));
    }
    return parts.join(QStringLiteral(", "));
}

std::vector<int> parseMilestones(const QString& text) {
    std::vector<int> epochs;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int epoch = part.trimmed().toInt(&ok);
        if (ok) {
            epochs.push_back(epoch);
        }
    }
    return epochs;
}

ScheduleForm::ScheduleForm(QWidget* parent) : QWidget(parent) {
    m_policy = new QComboBox;
    m_policy->addItem(tr("constant"), QStringLiteral("constant"));
    m_policy->addItem(tr("step"), QStringLiteral("step"));
    m_policy->addItem(tr("multistep"), QStringLiteral("multistep"));
    m_policy->addItem(tr("cosine"), QStringLiteral("cosine"));
    m_policy->addItem(tr("1cycle"), QStringLiteral("onecycle"));

    m_peakNote = new QLabel(tr("The learning rate above is the cycle's peak rate."));
    m_stepEpochs = new QSpinBox;
    m_stepEpochs->setRange(1, 100000);
    m_stepEpochs->setPrefix(tr("every "));
    m_stepEpochs->setSuffix(tr(" epochs"));
    m_gamma = makeDoubleSpin(0.0001, 1.0, 4, 0.05);
    m_gamma->setPrefix(tr("× "));
    m_milestones = new QLineEdit;
    m_milestones->setPlaceholderText(tr("epochs, e.g. 30, 60, 90"));
    m_milestones->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[0-9, ]*")), m_milestones));
    m_etaMin = makeRateSpin(0.0, 10.0);
    m_pctStart = makeDoubleSpin(0.01, 0.99, 2, 0.05);
    m_divFactor = makeRateSpin(1e-3, 1e9);
    m_finalDivFactor = makeRateSpin(1e-3, 1e12);
    m_threePhase = new QCheckBox(tr("Three phases (rise, fall back, anneal)"));
    m_anneal = new QComboBox;
    m_anneal->addItem(tr("cosine"), QStringLiteral("cos"));
    m_anneal->addItem(tr("linear"), QStringLiteral("linear"));
    m_cycleMomentum = new QCheckBox(tr("Cycle the momentum (SGD) / beta1 (Adam)"));
    m_baseMomentum = makeDoubleSpin(0.0, 0.9999, 4, 0.01);
    m_maxMomentum = makeDoubleSpin(0.0, 0.9999, 4, 0.01);
    m_warmupSteps = new QSpinBox;
    m_warmupSteps->setRange(0, 100000000);
    m_warmupSteps->setSuffix(tr(" iterations"));
    m_warmupStart = makeDoubleSpin(0.0001, 1.0, 4, 0.05);
    m_warmupStart->setPrefix(tr("× "));

    m_layout = new QFormLayout(this);
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->addRow(tr("Policy"), m_policy);
    m_layout->addRow(m_peakNote);
    m_layout->addRow(tr("Step"), m_stepEpochs);
    m_layout->addRow(tr("Milestones"), m_milestones);
    m_layout->addRow(tr("Gamma"), m_gamma);
    m_layout->addRow(tr("Lowest rate"), m_etaMin);
    m_layout->addRow(tr("Rising part"), m_pctStart);
    m_layout->addRow(tr("Start divisor"), m_divFactor);
    m_layout->addRow(tr("Final divisor"), m_finalDivFactor);
    m_layout->addRow(tr("Annealing"), m_anneal);
    m_layout->addRow(m_threePhase);
    m_layout->addRow(m_cycleMomentum);
    m_layout->addRow(tr("Momentum at peak"), m_baseMomentum);
    m_layout->addRow(tr("Momentum at ends"), m_maxMomentum);
    m_layout->addRow(tr("Warm-up"), m_warmupSteps);
    m_layout->addRow(tr("Warm-up start"), m_warmupStart);
    m_pctStart->setToolTip(tr("Fraction of the iterations spent rising to the peak rate."));
    m_divFactor->setToolTip(tr("The cycle starts at the peak rate divided by this."));
    m_finalDivFactor->setToolTip(tr("The cycle ends at the start rate divided by this."));
    m_warmupStart->setToolTip(tr("The warm-up starts at this fraction of the learning rate."));

    setSchedule(wb::ScheduleConfig{});

    const auto changed = [this] {
        updateShownFields();
        emit edited();
    };
    for (QComboBox* combo : {m_policy, m_anneal}) {
        connect(combo, &QComboBox::activated, this, changed);
    }
    for (QSpinBox* spin : {m_stepEpochs, m_warmupSteps}) {
        connect(spin, &QSpinBox::valueChanged, this, changed);
    }
    for (QDoubleSpinBox* spin : {m_gamma, m_etaMin, m_pctStart, m_divFactor, m_finalDivFactor,
                                 m_baseMomentum, m_maxMomentum, m_warmupStart}) {
        connect(spin, &QDoubleSpinBox::valueChanged, this, changed);
    }
    for (QCheckBox* box : {m_threePhase, m_cycleMomentum}) {
        connect(box, &QCheckBox::toggled, this, changed);
    }
    connect(m_milestones, &QLineEdit::textEdited, this, changed);
}

void ScheduleForm::setSchedule(const wb::ScheduleConfig& s) {
    const QSignalBlocker blockers[] = {
        QSignalBlocker(m_stepEpochs),   QSignalBlocker(m_gamma),
        QSignalBlocker(m_etaMin),       QSignalBlocker(m_pctStart),
        QSignalBlocker(m_divFactor),    QSignalBlocker(m_finalDivFactor),
        QSignalBlocker(m_threePhase),   QSignalBlocker(m_cycleMomentum),
        QSignalBlocker(m_baseMomentum), QSignalBlocker(m_maxMomentum),
        QSignalBlocker(m_warmupSteps),  QSignalBlocker(m_warmupStart)};
    selectData(m_policy, QString::fromStdString(s.policy));
    m_stepEpochs->setValue(s.step_epochs);
    m_gamma->setValue(s.gamma);
    m_milestones->setText(milestonesText(s.milestones));
    m_etaMin->setValue(s.eta_min);
    m_pctStart->setValue(s.pct_start);
    m_divFactor->setValue(s.div_factor);
    m_finalDivFactor->setValue(s.final_div_factor);
    m_threePhase->setChecked(s.three_phase);
    selectData(m_anneal, QString::fromStdString(s.anneal));
    m_cycleMomentum->setChecked(s.cycle_momentum);
    m_baseMomentum->setValue(s.base_momentum);
    m_maxMomentum->setValue(s.max_momentum);
    m_warmupSteps->setValue(s.warmup_steps);
    m_warmupStart->setValue(s.warmup_start_factor);
    updateShownFields();
}

wb::ScheduleConfig ScheduleForm::schedule(const wb::ScheduleConfig& base) const {
    wb::ScheduleConfig s = base;
    s.policy = policy().toStdString();
    s.step_epochs = m_stepEpochs->value();
    s.gamma = m_gamma->value();
    // An unchanged text keeps the list as it came, even what the text cannot show.
    if (m_milestones->text() != milestonesText(base.milestones)) {
        s.milestones = parseMilestones(m_milestones->text());
    }
    s.eta_min = m_etaMin->value();
    s.pct_start = m_pctStart->value();
    s.div_factor = m_divFactor->value();
    s.final_div_factor = m_finalDivFactor->value();
    s.three_phase = m_threePhase->isChecked();
    s.anneal = m_anneal->currentData().toString().toStdString();
    s.cycle_momentum = m_cycleMomentum->isChecked();
    s.base_momentum = m_baseMomentum->value();
    s.max_momentum = m_maxMomentum->value();
    s.warmup_steps = m_warmupSteps->value();
    s.warmup_start_factor = m_warmupStart->value();
    return s;
}

QString ScheduleForm::policy() const {
    return m_policy->currentData().toString();
}

void ScheduleForm::choosePolicy(const QString& policy) {
    selectData(m_policy, policy);
    updateShownFields();
    emit edited();
}

bool ScheduleForm::isFieldShown(const QWidget* field) const {
    return !field->isHidden();
}

void ScheduleForm::updateShownFields() {
    const QString p = policy();
    const bool onecycle = p == QLatin1String("onecycle");
    const bool cycleMomentum = onecycle && m_cycleMomentum->isChecked();
    const auto show = [this](QWidget* field, bool shown) { m_layout->setRowVisible(field, shown); };
    show(m_peakNote, onecycle);
    show(m_stepEpochs, p == QLatin1String("step"));
    show(m_milestones, p == QLatin1String("multistep"));
    show(m_gamma, p == QLatin1String("step") || p == QLatin1String("multistep"));
    show(m_etaMin, p == QLatin1String("cosine"));
    for (QWidget* field : std::initializer_list<QWidget*>{
             m_pctStart, m_divFactor, m_finalDivFactor, m_anneal, m_threePhase, m_cycleMomentum}) {
        show(field, onecycle);
    }
    show(m_baseMomentum, cycleMomentum);
    show(m_maxMomentum, cycleMomentum);
    show(m_warmupSteps, !onecycle);
    show(m_warmupStart, !onecycle && m_warmupSteps->value() > 0);
}

}  // namespace wb::ui
