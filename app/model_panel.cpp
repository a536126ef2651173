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
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <climits>
#include <cmath>

#include "app/finetune_form.h"
#include "app/rate_spin_box.h"
#include "app/run_control_form.h"
#include "app/schedule_curves.h"
#include "app/schedule_form.h"
#include "app/tensorboard_form.h"
#include "app/wheel_guard.h"
#include "widgets/schedule_preview.h"

namespace wb::ui {
namespace {

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
    m_fineTuneForm = new FineTuneForm;
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

    m_scheduleForm = new ScheduleForm;
    m_preview = new SchedulePreview(tr("Planned learning rate and momentum"));
    m_previewTimer = new QTimer(this);
    m_previewTimer->setSingleShot(true);
    m_previewTimer->setInterval(150);
    connect(m_previewTimer, &QTimer::timeout, this, &ModelPanel::updatePreviewNow);

    m_epochs = makeSpin(1, 100000);
    m_batchSize = makeSpin(1, 65536);
    m_accumulation = makeSpin(1, 4096);
    m_accumulation->setToolTip(
        tr("Batches whose gradients are summed into one optimizer step: the effective batch is "
           "the batch size times this"));
    m_seed = new QLineEdit;
    m_seed->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{1,19}")), this));

    auto* modelBox = new QGroupBox(tr("Model and input"));
    auto* modelForm = new QFormLayout(modelBox);
    modelForm->addRow(tr("Architecture"), m_arch);
    modelForm->addRow(tr("Image size"), m_imageSize);
    modelForm->addRow(tr("Channels"), m_channels);
    modelForm->addRow(tr("Normalization"), m_normalize);

    auto* fineTuneBox = new QGroupBox(tr("Pretrained weights and fine-tuning"));
    auto* fineTuneLayout = new QVBoxLayout(fineTuneBox);
    fineTuneLayout->addWidget(m_fineTuneForm);

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
    auto* scheduleLayout = new QVBoxLayout(scheduleBox);
    scheduleLayout->addWidget(m_scheduleForm);

    auto* runBox = new QGroupBox(tr("Run"));
    auto* runForm = new QFormLayout(runBox);
    runForm->addRow(tr("Epochs"), m_epochs);
    runForm->addRow(tr("Batch size"), m_batchSize);
    runForm->addRow(tr("Batches per step"), m_accumulation);
    runForm->addRow(tr("Seed"), m_seed);
    m_runControl = new RunControlForm;
    runForm->addRow(m_runControl);

    m_form = new QWidget;
    auto* formLayout = new QVBoxLayout(m_form);
    formLayout->addWidget(modelBox);
    formLayout->addWidget(fineTuneBox);
    formLayout->addWidget(augmentBox);
    formLayout->addWidget(optimizerBox);
    formLayout->addWidget(scheduleBox);
    formLayout->addWidget(runBox);
    m_tensorBoardForm = new TensorBoardForm;
    auto* tensorBoardBox = new QGroupBox(tr("TensorBoard"));
    auto* tensorBoardLayout = new QVBoxLayout(tensorBoardBox);
    tensorBoardLayout->addWidget(m_tensorBoardForm);
    formLayout->addWidget(tensorBoardBox);
    formLayout->addStretch(1);

    // The form scrolls rather than clips when the window is short.
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll, 1);
    // Below the form, not in it: the curve stays in view while any field above is edited.
    m_preview->setFixedHeight(230);
    layout->addWidget(m_preview);

    setExperiment(wb::Experiment{});
    new WheelGuard(scroll);

    const auto edited = [this] {
        updateEnabledFields();
        emit experimentEdited();
    };
    for (QComboBox* combo : {m_arch, m_channels, m_normalize, m_optimizer}) {
        connect(combo, &QComboBox::activated, this, edited);
    }
    for (QSpinBox* spin : {m_imageSize, m_cropPadding, m_epochs, m_batchSize, m_accumulation}) {
        connect(spin, &QSpinBox::valueChanged, this, edited);
    }
    for (QDoubleSpinBox* spin : {m_lr, m_momentum, m_weightDecay}) {
        connect(spin, &QDoubleSpinBox::valueChanged, this, edited);
    }
    for (QCheckBox* box : {m_hflip, m_randomCrop}) {
        connect(box, &QCheckBox::toggled, this, edited);
    }
    connect(m_seed, &QLineEdit::textEdited, this, edited);
    connect(m_scheduleForm, &ScheduleForm::edited, this, edited);
    connect(m_fineTuneForm, &FineTuneForm::edited, this, edited);
    connect(m_fineTuneForm, &FineTuneForm::weightsChosen, this,
            &ModelPanel::applyPretrainedPreprocessing);
    for (QComboBox* combo : {m_arch, m_channels}) {
        connect(combo, &QComboBox::activated, this, &ModelPanel::updateModelShape);
    }
    connect(m_tensorBoardForm, &TensorBoardForm::edited, this, edited);
    connect(m_runControl, &RunControlForm::edited, this, edited);
    connect(this, &ModelPanel::experimentEdited, this, &ModelPanel::schedulePreviewUpdate);
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
        QSignalBlocker(m_imageSize),   QSignalBlocker(m_cropPadding), QSignalBlocker(m_epochs),
        QSignalBlocker(m_batchSize),   QSignalBlocker(m_lr),          QSignalBlocker(m_momentum),
        QSignalBlocker(m_weightDecay), QSignalBlocker(m_hflip),       QSignalBlocker(m_randomCrop),
        QSignalBlocker(m_accumulation)};
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

    m_scheduleForm->setSchedule(experiment.schedule);

    m_epochs->setValue(experiment.epochs);
    m_batchSize->setValue(experiment.batch_size);
    m_accumulation->setValue(experiment.grad_accumulation);
    m_seed->setText(QString::number(experiment.seed));
    m_tensorBoardForm->setConfig(experiment.tensorboard);
    m_runControl->setExperiment(experiment);
    m_fineTuneForm->setConfig(experiment.model);
    updateModelShape();
    updateEnabledFields();
    schedulePreviewUpdate();
}

wb::Experiment ModelPanel::experiment() const {
    wb::Experiment e = m_base;
    wb::Preprocessing& p = e.preprocessing;
    e.model.arch = dataOf(m_arch).toStdString();
    e.model = m_fineTuneForm->config(e.model);
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

    e.schedule = m_scheduleForm->schedule(m_base.schedule);

    e.epochs = m_epochs->value();
    e.batch_size = m_batchSize->value();
    e.grad_accumulation = m_accumulation->value();
    bool ok = false;
    const qulonglong seed = m_seed->text().toULongLong(&ok);
    if (ok) {
        e.seed = seed;
    }
    e.tensorboard = m_tensorBoardForm->config();
    return m_runControl->apply(e);
}

void ModelPanel::setEditable(bool editable) {
    // Box by box rather than the whole form, so that the TensorBoard command stays copyable
    // while the run it watches is going.
    for (QWidget* box : m_form->findChildren<QWidget*>(Qt::FindDirectChildrenOnly)) {
        if (!box->isAncestorOf(m_tensorBoardForm)) {
            box->setEnabled(editable);
        }
    }
    m_tensorBoardForm->setEditable(editable);
}

void ModelPanel::setRunsDir(const QString& dir) {
    m_tensorBoardForm->setRunsDir(dir);
}

void ModelPanel::updateEnabledFields() {
    m_momentum->setEnabled(dataOf(m_optimizer) == QLatin1String("sgd"));
    m_cropPadding->setEnabled(m_randomCrop->isChecked());
}

void ModelPanel::setClassCount(int classes) {
    m_classes = std::max(0, classes);
    updateModelShape();
}

void ModelPanel::updateModelShape() {
    // Before a dataset is scanned, the count is for a 10-class head.
    m_fineTuneForm->setModelShape(dataOf(m_arch), m_classes > 0 ? m_classes : 10,
                                  dataOf(m_channels).toInt());
}

void ModelPanel::applyPretrainedPreprocessing(const QString& path) {
    wb::Preprocessing p;
    try {
        p = wb::pretrained_preprocessing(path.toStdString(), experiment().preprocessing);
    } catch (const std::exception&) {
        return;  // a run folder with a bad experiment file: the engine names it at start
    }
    m_imageSize->setValue(p.image_size);
    selectText(m_channels, QString::number(p.channels));
    selectText(m_normalize, QString::fromStdString(p.normalize));
    if (!p.mean.empty()) {
        m_base.preprocessing.normalize = p.normalize;
        m_base.preprocessing.channels = p.channels;
        m_base.preprocessing.mean = p.mean;
        m_base.preprocessing.std = p.std;
    }
    updateModelShape();
    emit experimentEdited();
}

void ModelPanel::setTrainingSetSize(long long images) {
    m_trainImages = std::max(0LL, images);
    schedulePreviewUpdate();
}

void ModelPanel::schedulePreviewUpdate() {
    if (!m_previewTimer->isActive()) {
        m_previewTimer->start();
    }
}

void ModelPanel::updatePreviewNow() {
    m_previewTimer->stop();
    if (m_trainImages <= 0) {
        m_preview->showMessage(
            tr("The preview appears once a dataset is scanned: the number of iterations "
               "depends on the size of its training split."));
        return;
    }
    const wb::Experiment e = experiment();
    const ScheduleCurves curves = computeScheduleCurves(e, m_trainImages);
    if (!curves.error.isEmpty()) {
        m_preview->showMessage(tr("%1\n\n(this run has %n optimizer step(s): %2 per epoch, %3 "
                                  "epochs)",
                                  nullptr, int(std::min<long long>(curves.totalSteps, INT32_MAX)))
                                   .arg(curves.error)
                                   .arg(curves.stepsPerEpoch)
                                   .arg(e.epochs));
        return;
    }
    m_preview->setRunLength(curves.stepsPerEpoch, curves.totalSteps);
    m_preview->setCurves(curves.learningRate, curves.momentum);
}

}  // namespace wb::ui
