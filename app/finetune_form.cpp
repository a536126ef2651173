#include "app/finetune_form.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>

#include "engine/model_stages.h"
#include "engine/parameter_counts.h"

namespace wb::ui {
namespace {

QString millions(std::int64_t n) {
    return n >= 1'000'000 ? QStringLiteral("%1 M").arg(double(n) / 1e6, 0, 'f', 2)
                          : QLocale().toString(qlonglong(n));
}

}  // namespace

FineTuneForm::FineTuneForm(QWidget* parent) : QWidget(parent) {
    m_source = new QComboBox;
    m_source->addItem(tr("Random initialization"), "random");
    m_source->addItem(tr("Weights file (.pt)"), "file");
    m_source->addItem(tr("A previous run"), "run");
    m_weights = new QLineEdit;
    m_weights->setPlaceholderText(tr("TorchScript archive, plain-dict state dict or run folder"));
    m_browse = new QPushButton(tr("Browse…"));
    auto* weightsRow = new QHBoxLayout;
    weightsRow->setContentsMargins(0, 0, 0, 0);
    weightsRow->addWidget(m_weights, 1);
    weightsRow->addWidget(m_browse);

    m_mode = new QComboBox;
    m_mode->addItem(tr("Fine-tune every layer"), "all");
    m_mode->addItem(tr("Fixed feature extractor (head only)"), "head");
    m_mode->addItem(tr("Fine-tune the last stages"), "last_stages");
    m_stages = new QSpinBox;
    m_stages->setRange(1, 16);
    m_stages->setToolTip(
        tr("Backbone stages that train, counted from the head (ResNet: layer4, "
           "layer3, ...)"));
    m_factor = new QDoubleSpinBox;
    m_factor->setRange(0.001, 1.0);
    m_factor->setDecimals(3);
    m_factor->setSingleStep(0.1);
    m_factor->setToolTip(
        tr("The backbone's learning rate as a fraction of the head's; every "
           "schedule keeps the ratio"));
    m_unfreeze = new QSpinBox;
    m_unfreeze->setRange(0, 100000);
    m_unfreeze->setSpecialValueText(tr("never"));
    m_unfreeze->setToolTip(tr("Gradual unfreezing: every layer trains from this epoch on"));
    m_count = new QLabel;
    m_hint = new QLabel(
        tr("ImageNet weights: torchvision downloads them on a machine with internet access; "
           "save them in a form the workbench reads with<br><code>python3 -c \"import torch, "
           "torchvision; m = torchvision.models.resnet18(weights='DEFAULT'); "
           "torch.jit.script(m).save('resnet18.pt')\"</code><br>or <code>torch.save(dict("
           "m.state_dict()), 'resnet18_state.pt')</code>."));
    m_hint->setWordWrap(true);
    m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(tr("Weights"), m_source);
    form->addRow(QString(), weightsRow);
    form->addRow(tr("Training"), m_mode);
    form->addRow(tr("Stages that train"), m_stages);
    form->addRow(tr("Backbone rate factor"), m_factor);
    form->addRow(tr("Unfreeze all at epoch"), m_unfreeze);
    form->addRow(tr("Parameters"), m_count);
    form->addRow(m_hint);

    const auto changed = [this] {
        updateFields();
        updateCount();
        emit edited();
    };
    connect(m_source, &QComboBox::activated, this, [this, changed] {
        if (m_source->currentData().toString() == QLatin1String("random")) {
            m_weights->clear();
        }
        changed();
    });
    connect(m_mode, &QComboBox::activated, this, changed);
    connect(m_stages, &QSpinBox::valueChanged, this, changed);
    connect(m_factor, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_unfreeze, &QSpinBox::valueChanged, this, changed);
    connect(m_weights, &QLineEdit::editingFinished, this, [this, changed] {
        changed();
        if (!m_weights->text().isEmpty()) {
            emit weightsChosen(m_weights->text());
        }
    });
    connect(m_browse, &QPushButton::clicked, this, &FineTuneForm::browse);
    setConfig(wb::ModelConfig{});
}

void FineTuneForm::browse() {
    const bool run = m_source->currentData().toString() == QLatin1String("run");
    const QString start = QFileInfo(m_weights->text()).absolutePath();
    const QString path =
        run ? QFileDialog::getExistingDirectory(this, tr("Run folder with best.pt"), start)
            : QFileDialog::getOpenFileName(this, tr("Pretrained weights"), start,
                                           tr("PyTorch files (*.pt *.pth);;All files (*)"));
    if (path.isEmpty()) {
        return;
    }
    m_weights->setText(path);
    if (m_source->currentData().toString() == QLatin1String("random")) {
        m_source->setCurrentIndex(m_source->findData(run ? "run" : "file"));
    }
    updateFields();
    updateCount();
    emit edited();
    emit weightsChosen(path);
}

void FineTuneForm::setConfig(const wb::ModelConfig& config) {
    m_base = config;
    const QSignalBlocker blockers[] = {QSignalBlocker(m_stages), QSignalBlocker(m_factor),
                                       QSignalBlocker(m_unfreeze)};
    const QString weights = QString::fromStdString(config.weights);
    m_weights->setText(weights);
    const QString source =
        weights.isEmpty() ? "random" : (QFileInfo(weights).isDir() ? "run" : "file");
    m_source->setCurrentIndex(m_source->findData(source));
    int mode = m_mode->findData(QString::fromStdString(config.finetune));
    if (mode < 0) {
        m_mode->addItem(QString::fromStdString(config.finetune),
                        QString::fromStdString(config.finetune));
        mode = m_mode->count() - 1;
    }
    m_mode->setCurrentIndex(mode);
    m_stages->setValue(config.stages);
    m_factor->setValue(config.backbone_lr_factor);
    m_unfreeze->setValue(config.unfreeze_epoch);
    m_arch = QString::fromStdString(config.arch);
    updateFields();
    updateCount();
}

wb::ModelConfig FineTuneForm::config(wb::ModelConfig base) const {
    base.weights = m_source->currentData().toString() == QLatin1String("random")
                       ? std::string()
                       : m_weights->text().trimmed().toStdString();
    base.finetune = m_mode->currentData().toString().toStdString();
    base.stages = m_stages->value();
    base.backbone_lr_factor = m_factor->value();
    base.unfreeze_epoch = m_unfreeze->value();
    return base;
}

void FineTuneForm::setModelShape(const QString& arch, int classes, int channels) {
    m_arch = arch;
    m_classes = std::max(1, classes);
    m_channels = channels;
    updateFields();
    updateCount();
}

void FineTuneForm::updateFields() {
    const bool pretrained = m_source->currentData().toString() != QLatin1String("random");
    m_weights->setEnabled(pretrained);
    m_browse->setEnabled(pretrained);
    const QString mode = m_mode->currentData().toString();
    m_stages->setEnabled(mode == QLatin1String("last_stages"));
    const int backbone = static_cast<int>(wb::model_stages(m_arch.toStdString()).size()) - 1;
    m_stages->setMaximum(std::max(1, backbone));
    m_unfreeze->setEnabled(mode != QLatin1String("all"));
}

void FineTuneForm::updateCount() {
    wb::ModelConfig c = config(m_base);
    c.arch = m_arch.toStdString();
    const wb::ParameterCounts n = wb::count_parameters(c, m_classes, m_channels);
    if (n.all == 0) {
        m_count->setText(tr("unknown for %1").arg(m_arch));
        return;
    }
    const double percent = 100.0 * double(n.trainable) / double(n.all);
    m_count->setText(tr("%1, of which %2 train (%3%)")
                         .arg(millions(n.all), millions(n.trainable),
                              percent < 1 ? QString::number(percent, 'g', 2)
                                          : QString::number(percent, 'f', 1)));
}

}  // namespace wb::ui
