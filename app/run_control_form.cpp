#include "app/run_control_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSignalBlocker>
#include <QSpinBox>

#include "engine/devices.h"

namespace wb::ui {

RunControlForm::RunControlForm(QWidget* parent) : QWidget(parent) {
    m_device = new QComboBox;
    const std::vector<wb::DeviceInfo> devices = wb::available_devices();
    const bool cuda = devices.size() > 1;
    m_device->addItem(cuda ? tr("Automatic (first CUDA device)") : tr("Automatic (CPU here)"),
                      QStringLiteral("auto"));
    for (const wb::DeviceInfo& d : devices) {
        m_device->addItem(QString::fromStdString(d.label), QString::fromStdString(d.id));
    }
    m_device->setToolTip(cuda ? tr("The devices this build of libtorch finds")
                              : tr("No CUDA device found: this build of libtorch or this "
                                   "machine has none"));
    m_mixedPrecision = new QCheckBox(tr("Mixed precision (float16, CUDA only)"));

    m_checkpointMinutes = new QDoubleSpinBox;
    m_checkpointMinutes->setRange(0, 24 * 60);
    m_checkpointMinutes->setDecimals(1);
    m_checkpointMinutes->setSuffix(tr(" min"));
    m_checkpointMinutes->setSpecialValueText(tr("end of each epoch only"));
    m_checkpointMinutes->setToolTip(
        tr("A checkpoint to resume from is always saved at the end of each epoch; this adds one "
           "inside long epochs"));

    m_earlyStopping = new QCheckBox(tr("Early stopping on"));
    m_earlyStopping->setToolTip(
        tr("End the run when the metric has not improved for the patience's number of epochs; "
           "the test split is then evaluated with the best checkpoint"));
    m_metric = new QComboBox;
    m_metric->addItem(tr("validation loss"), QStringLiteral("val_loss"));
    m_metric->addItem(tr("validation accuracy"), QStringLiteral("val_accuracy"));
    m_patience = new QSpinBox;
    m_patience->setRange(1, 10000);
    m_patience->setSuffix(tr(" epochs"));

    auto* form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(tr("Device"), m_device);
    form->addRow(QString(), m_mixedPrecision);
    form->addRow(tr("Checkpoint every"), m_checkpointMinutes);
    form->addRow(m_earlyStopping, m_metric);
    form->addRow(tr("Patience"), m_patience);

    connect(m_device, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabledFields();
        emit edited();
    });
    connect(m_mixedPrecision, &QCheckBox::toggled, this, &RunControlForm::edited);
    connect(m_checkpointMinutes, &QDoubleSpinBox::valueChanged, this, &RunControlForm::edited);
    connect(m_earlyStopping, &QCheckBox::toggled, this, [this] {
        updateEnabledFields();
        emit edited();
    });
    connect(m_metric, &QComboBox::currentIndexChanged, this, &RunControlForm::edited);
    connect(m_patience, &QSpinBox::valueChanged, this, &RunControlForm::edited);
    updateEnabledFields();
}

void RunControlForm::setExperiment(const wb::Experiment& e) {
    const QSignalBlocker blockers[] = {QSignalBlocker(m_device),
                                       QSignalBlocker(m_mixedPrecision),
                                       QSignalBlocker(m_checkpointMinutes),
                                       QSignalBlocker(m_earlyStopping),
                                       QSignalBlocker(m_metric),
                                       QSignalBlocker(m_patience)};
    const QString device = QString::fromStdString(e.device);
    int index = m_device->findData(device);
    if (index < 0) {
        // A device this machine lacks (an experiment from a GPU machine): kept, so that the
        // engine explains why it cannot train there.
        m_device->addItem(tr("%1 (not found here)").arg(device), device);
        index = m_device->count() - 1;
    }
    m_device->setCurrentIndex(index);
    m_mixedPrecision->setChecked(e.mixed_precision);
    m_checkpointMinutes->setValue(e.checkpoint.every_minutes);
    m_earlyStopping->setChecked(e.early_stopping.enabled);
    m_metric->setCurrentIndex(
        std::max(0, m_metric->findData(QString::fromStdString(e.early_stopping.metric))));
    m_patience->setValue(e.early_stopping.patience);
    updateEnabledFields();
}

wb::Experiment RunControlForm::apply(wb::Experiment e) const {
    e.device = m_device->currentData().toString().toStdString();
    e.mixed_precision = m_mixedPrecision->isEnabled() && m_mixedPrecision->isChecked();
    e.checkpoint.every_minutes = m_checkpointMinutes->value();
    e.early_stopping.enabled = m_earlyStopping->isChecked();
    e.early_stopping.metric = m_metric->currentData().toString().toStdString();
    e.early_stopping.patience = m_patience->value();
    return e;
}

void RunControlForm::updateEnabledFields() {
    const QString device = m_device->currentData().toString();
    const bool cuda = device.startsWith(QLatin1String("cuda")) ||
                      (device == QLatin1String("auto") && wb::available_devices().size() > 1);
    m_mixedPrecision->setEnabled(cuda);
    m_metric->setEnabled(m_earlyStopping->isChecked());
    m_patience->setEnabled(m_earlyStopping->isChecked());
}

}  // namespace wb::ui
