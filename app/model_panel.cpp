#include "app/model_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLineEdit>
#include <QLocale>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

namespace wb::ui {
namespace {

/// A spin box that shows 0.0003 as "0.0003" and 1e-06 as "1e-06", not "0.000300": learning
/// rates and weight decays span many decades. Values keep 12 decimals.
class RateSpinBox : public QDoubleSpinBox {
public:
    explicit RateSpinBox(QWidget* parent = nullptr) : QDoubleSpinBox(parent) {
        setDecimals(12);
        setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    }

protected:
    QString textFromValue(double value) const override { return locale().toString(value, 'g', 6); }
    double valueFromText(const QString& text) const override {
        return locale().toDouble(text.trimmed());
    }
    QValidator::State validate(QString& text, int&) const override {
        const QString t = text.trimmed();
        if (t.isEmpty() || t.endsWith(QLatin1Char('e'), Qt::CaseInsensitive) ||
            t.endsWith(QLatin1Char('-')) || t.endsWith(locale().decimalPoint())) {
            return QValidator::Intermediate;
        }
        bool ok = false;
        const double v = locale().toDouble(t, &ok);
        if (!ok) {
            return QValidator::Invalid;
        }
        return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    }
};

QSpinBox* makeSpin(int lo, int hi) {
    auto* spin = new QSpinBox;
    spin->setRange(lo, hi);
    return spin;
}

QDoubleSpinBox* makeDoubleSpin(double lo, double hi, int decimals, double step) {
    auto* spin = new QDoubleSpinBox;
    spin->setRange(lo, hi);
    spin->setDecimals(decimals);
    spin->setSingleStep(step);
    return spin;
}

QComboBox* makeCombo(const QList<QPair<QString, QString>>& textAndData) {
    auto* combo = new QComboBox;
    for (const auto& [text, data] : textAndData) {
        combo->addItem(text, data);
    }
    return combo;
}

QString dataOf(const QComboBox* combo) {
    return combo->currentData().toString();
}

}  // namespace

ModelPanel::ModelPanel(QWidget* parent) : QWidget(parent) {
    m_arch = new QComboBox;
    for (const std::string& name : wb::available_models()) {
        m_arch->addItem(QString::fromStdString(name), QString::fromStdString(name));
    }
    m_imageSize = makeSpin(8, 1024);
    m_imageSize->setSuffix(tr(" px"));
    m_channels = makeCombo({{tr("1 (gray)"), "1"}, {tr("3 (RGB)"), "3"}});
    m_normalize = makeCombo({{tr("none"), "none"},
                             {tr("ImageNet mean/std"), "imagenet"},
                             {tr("dataset mean/std"), "dataset"}});
    m_hflip = new QCheckBox(tr("Horizontal flip"));
    m_randomCrop = new QCheckBox(tr("Random crop, padding"));
    m_cropPadding = makeSpin(0, 256);
    m_cropPadding->setSuffix(tr(" px"));

    m_optimizer = makeCombo({{tr("SGD"), "sgd"}, {tr("Adam"), "adam"}, {tr("AdamW"), "adamw"}});
    m_lr = new RateSpinBox;
    m_lr->setRange(1e-8, 10.0);
    m_momentum = makeDoubleSpin(0.0, 0.9999, 4, 0.01);
    m_weightDecay = new RateSpinBox;
    m_weightDecay->setRange(0.0, 1.0);

    m_schedule = makeCombo({{tr("constant"), "constant"}, {tr("step"), "step"}});
    m_stepEpochs = makeSpin(1, 10000);
    m_stepEpochs->setPrefix(tr("every "));
    m_stepEpochs->setSuffix(tr(" epochs"));
    m_gamma = makeDoubleSpin(0.0001, 1.0, 4, 0.05);
    m_gamma->setPrefix(tr("× "));

    m_epochs = makeSpin(1, 100000);
    m_batchSize = makeSpin(1, 65536);
    m_seed = new QLineEdit;
    m_seed->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{1,19}")), this));

    auto* modelBox = new QGroupBox(tr("Model and input"));
    auto* modelForm = new QFormLayout(modelBox);
    modelForm->addRow(tr("Architecture"), m_arch);
    modelForm->addRow(tr("Image size"), m_imageSize);
    modelForm->addRow(tr("Channels"), m_channels);
    modelForm->addRow(tr("Normalization"), m_normalize);

    auto* augmentBox = new QGroupBox(tr("Augmentation (training only)"));
    auto* augmentForm = new QFormLayout(augmentBox);
    augmentForm->addRow(m_hflip);
    augmentForm->addRow(m_randomCrop, m_cropPadding);

    auto* optimizerBox = new QGroupBox(tr("Optimizer"));
    auto* optimizerForm = new QFormLayout(optimizerBox);
    optimizerForm->addRow(tr("Type"), m_optimizer);
    optimizerForm->addRow(tr("Learning rate"), m_lr);
    optimizerForm->addRow(tr("Momentum"), m_momentum);
    optimizerForm->addRow(tr("Weight decay"), m_weightDecay);

    auto* scheduleBox = new QGroupBox(tr("Learning-rate schedule"));
    auto* scheduleForm = new QFormLayout(scheduleBox);
    scheduleForm->addRow(tr("Policy"), m_schedule);
    scheduleForm->addRow(tr("Step"), m_stepEpochs);
    scheduleForm->addRow(tr("Gamma"), m_gamma);

    auto* runBox = new QGroupBox(tr("Run"));
    auto* runForm = new QFormLayout(runBox);
    runForm->addRow(tr("Epochs"), m_epochs);
    runForm->addRow(tr("Batch size"), m_batchSize);
    runForm->addRow(tr("Seed"), m_seed);

    m_form = new QWidget;
    auto* formLayout = new QVBoxLayout(m_form);
    formLayout->addWidget(modelBox);
    formLayout->addWidget(augmentBox);
    formLayout->addWidget(optimizerBox);
    formLayout->addWidget(scheduleBox);
    formLayout->addWidget(runBox);
    formLayout->addStretch(1);

    // The form scrolls rather than clips when the window is short.
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll);

    setExperiment(wb::Experiment{});

    const auto edited = [this] {
        updateEnabledFields();
        emit experimentEdited();
    };
    for (QComboBox* combo : {m_arch, m_channels, m_normalize, m_optimizer, m_schedule}) {
        connect(combo, &QComboBox::activated, this, edited);
    }
    for (QSpinBox* spin : {m_imageSize, m_cropPadding, m_stepEpochs, m_epochs, m_batchSize}) {
        connect(spin, &QSpinBox::valueChanged, this, edited);
    }
    for (QDoubleSpinBox* spin : {m_lr, m_momentum, m_weightDecay, m_gamma}) {
        connect(spin, &QDoubleSpinBox::valueChanged, this, edited);
    }
    for (QCheckBox* box : {m_hflip, m_randomCrop}) {
        connect(box, &QCheckBox::toggled, this, edited);
    }
    connect(m_seed, &QLineEdit::textEdited, this, edited);
}

void ModelPanel::selectText(QComboBox* combo, const QString& data) {
    int index = combo->findData(data);
    if (index < 0) {
        // A value this build does not list (an experiment from elsewhere): shown as is, so
        // that it survives the round trip and the engine gets to judge it.
        combo->addItem(data, data);
        index = combo->count() - 1;
    }
    combo->setCurrentIndex(index);
}

void ModelPanel::setExperiment(const wb::Experiment& experiment) {
    m_base = experiment;
    const QSignalBlocker blockers[] = {
        QSignalBlocker(m_imageSize), QSignalBlocker(m_cropPadding), QSignalBlocker(m_stepEpochs),
        QSignalBlocker(m_epochs),    QSignalBlocker(m_batchSize),   QSignalBlocker(m_lr),
        QSignalBlocker(m_momentum),  QSignalBlocker(m_weightDecay), QSignalBlocker(m_gamma),
        QSignalBlocker(m_hflip),     QSignalBlocker(m_randomCrop)};
    const wb::Preprocessing& p = experiment.preprocessing;
    selectText(m_arch, QString::fromStdString(experiment.model.arch));
    m_imageSize->setValue(p.image_size);
    selectText(m_channels, QString::number(p.channels));
    selectText(m_normalize, QString::fromStdString(p.normalize));
    m_hflip->setChecked(p.hflip);
    m_randomCrop->setChecked(p.random_crop);
    m_cropPadding->setValue(p.crop_padding);

    const wb::OptimizerConfig& o = experiment.optimizer;
    selectText(m_optimizer, QString::fromStdString(o.type));
    m_lr->setValue(o.lr);
    m_momentum->setValue(o.momentum);
    m_weightDecay->setValue(o.weight_decay);

    selectText(m_schedule, QString::fromStdString(experiment.schedule.policy));
    m_stepEpochs->setValue(experiment.schedule.step_epochs);
    m_gamma->setValue(experiment.schedule.gamma);

    m_epochs->setValue(experiment.epochs);
    m_batchSize->setValue(experiment.batch_size);
    m_seed->setText(QString::number(experiment.seed));
    updateEnabledFields();
}

wb::Experiment ModelPanel::experiment() const {
    wb::Experiment e = m_base;
    wb::Preprocessing& p = e.preprocessing;
    e.model.arch = dataOf(m_arch).toStdString();
    p.image_size = m_imageSize->value();
    p.channels = dataOf(m_channels).toInt();
    p.normalize = dataOf(m_normalize).toStdString();
    if (p.normalize != m_base.preprocessing.normalize ||
        p.channels != m_base.preprocessing.channels) {
        // Statistics resolved for other settings would be wrong; the engine recomputes them.
        p.mean.clear();
        p.std.clear();
    }
    p.hflip = m_hflip->isChecked();
    p.random_crop = m_randomCrop->isChecked();
    p.crop_padding = m_cropPadding->value();

    e.optimizer.type = dataOf(m_optimizer).toStdString();
    e.optimizer.lr = m_lr->value();
    e.optimizer.momentum = m_momentum->value();
    e.optimizer.weight_decay = m_weightDecay->value();

    e.schedule.policy = dataOf(m_schedule).toStdString();
    e.schedule.step_epochs = m_stepEpochs->value();
    e.schedule.gamma = m_gamma->value();

    e.epochs = m_epochs->value();
    e.batch_size = m_batchSize->value();
    bool ok = false;
    const qulonglong seed = m_seed->text().toULongLong(&ok);
    if (ok) {
        e.seed = seed;
    }
    return e;
}

void ModelPanel::setEditable(bool editable) {
    m_form->setEnabled(editable);
}

void ModelPanel::updateEnabledFields() {
    m_momentum->setEnabled(dataOf(m_optimizer) == QLatin1String("sgd"));
    const bool step = dataOf(m_schedule) == QLatin1String("step");
    m_stepEpochs->setEnabled(step);
    m_gamma->setEnabled(step);
    m_cropPadding->setEnabled(m_randomCrop->isChecked());
}

}  // namespace wb::ui
