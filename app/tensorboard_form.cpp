#include "app/tensorboard_form.h"

#include <QCheckBox>
#include <QClipboard>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>

namespace wb::ui {
namespace {

/// `field` and `button` side by side, the field taking the width.
QWidget* fieldWithButton(QWidget* field, QPushButton* button) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(field, 1);
    layout->addWidget(button);
    return row;
}

}  // namespace

QString shellQuoted(const QString& text) {
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9@%+=:,./_-]+$"));
    if (safe.match(text).hasMatch()) {
        return text;
    }
    // Inside single quotes every character is literal except the quote itself, which closes
    // the quotes, is given in double quotes, and reopens them.
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\"'\"'"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QString tensorBoardCommand(const QString& logDir) {
    return QStringLiteral("tensorboard --logdir ") + shellQuoted(logDir);
}

TensorBoardForm::TensorBoardForm(QWidget* parent) : QWidget(parent) {
    m_enabled = new QCheckBox(tr("Write TensorBoard logs"));
    m_enabled->setToolTip(
        tr("Event files for tensorboard --logdir. Loss, accuracy, learning rate, momentum and "
           "speed are always written; the summaries below can be turned off."));

    m_logDir = new QLineEdit;
    m_logDir->setPlaceholderText(tr("inside each run folder"));
    m_logDir->setToolTip(
        tr("Empty: a tensorboard/ folder inside each run folder. Otherwise a folder shared by "
           "all runs, with one subfolder per run, named as the run folder."));
    m_browse = new QPushButton(tr("Browse…"));

    m_histograms = new QCheckBox(tr("Weight and gradient histograms"));
    m_histograms->setToolTip(tr("Of every parameter, each epoch"));
    m_images = new QCheckBox(tr("Images"));
    m_images->setToolTip(tr("A training batch, the confusion matrix and the worst mistakes"));
    m_prCurves = new QCheckBox(tr("PR curves"));
    m_prCurves->setToolTip(
        tr("Precision-recall curve per class, on the validation set, each "
           "epoch"));
    m_embeddings = new QCheckBox(tr("Embeddings, at most"));
    m_embeddings->setToolTip(
        tr("Penultimate features of validation images, for TensorBoard's projector"));
    m_embeddingImages = new QSpinBox;
    m_embeddingImages->setRange(1, 1000000);
    m_embeddingImages->setSuffix(tr(" images"));
    m_text = new QCheckBox(tr("Experiment text"));
    m_text->setToolTip(tr("The experiment file, in the Text tab"));
    m_hparams = new QCheckBox(tr("Hyperparameters"));
    m_hparams->setToolTip(
        tr("The run's hyperparameters with its final metrics, in the HParams "
           "tab"));

    m_command = new QLineEdit;
    m_command->setReadOnly(true);
    m_copy = new QPushButton(tr("Copy"));
    m_copy->setToolTip(tr("Copy the command to the clipboard"));
    m_hint =
        new QLabel(tr("On a remote machine: ssh -L 6006:localhost:6006 user@host, then open "
                      "http://localhost:6006"));
    m_hint->setWordWrap(true);
    m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(m_enabled);
    form->addRow(tr("Log folder"), fieldWithButton(m_logDir, m_browse));
    form->addRow(m_histograms);
    form->addRow(m_images);
    form->addRow(m_prCurves);
    form->addRow(m_embeddings, m_embeddingImages);
    form->addRow(m_text);
    form->addRow(m_hparams);
    // Full width: the command is long, and the whole of it should be readable.
    form->addRow(new QLabel(tr("Watch the logs with")));
    form->addRow(fieldWithButton(m_command, m_copy));
    form->addRow(m_hint);

    setConfig(wb::TensorBoardConfig{});

    const auto changed = [this] {
        updateEnabledFields();
        emit edited();
    };
    for (QCheckBox* box :
         {m_enabled, m_histograms, m_images, m_prCurves, m_embeddings, m_text, m_hparams}) {
        connect(box, &QCheckBox::toggled, this, changed);
    }
    connect(m_embeddingImages, &QSpinBox::valueChanged, this, changed);
    connect(m_logDir, &QLineEdit::textEdited, this, changed);
    connect(m_logDir, &QLineEdit::textChanged, this, &TensorBoardForm::updateCommand);
    connect(m_browse, &QPushButton::clicked, this, &TensorBoardForm::browseLogDir);
    connect(m_copy, &QPushButton::clicked, this, &TensorBoardForm::copyCommand);
}

void TensorBoardForm::setConfig(const wb::TensorBoardConfig& config) {
    m_base = config;
    const QSignalBlocker blockers[] = {
        QSignalBlocker(m_enabled), QSignalBlocker(m_logDir),   QSignalBlocker(m_histograms),
        QSignalBlocker(m_images),  QSignalBlocker(m_prCurves), QSignalBlocker(m_embeddings),
        QSignalBlocker(m_text),    QSignalBlocker(m_hparams),  QSignalBlocker(m_embeddingImages)};
    m_enabled->setChecked(config.enabled);
    m_logDir->setText(QString::fromStdString(config.log_dir));
    m_histograms->setChecked(config.histograms);
    m_images->setChecked(config.images);
    m_prCurves->setChecked(config.pr_curves);
    m_embeddings->setChecked(config.embeddings);
    m_embeddingImages->setValue(config.embedding_images);
    m_text->setChecked(config.text);
    m_hparams->setChecked(config.hparams);
    updateEnabledFields();
    updateCommand();
}

wb::TensorBoardConfig TensorBoardForm::config() const {
    wb::TensorBoardConfig c = m_base;
    c.enabled = m_enabled->isChecked();
    c.log_dir = m_logDir->text().toStdString();
    c.histograms = m_histograms->isChecked();
    c.images = m_images->isChecked();
    c.pr_curves = m_prCurves->isChecked();
    c.embeddings = m_embeddings->isChecked();
    c.embedding_images = m_embeddingImages->value();
    c.text = m_text->isChecked();
    c.hparams = m_hparams->isChecked();
    return c;
}

void TensorBoardForm::setRunsDir(const QString& dir) {
    m_runsDir = dir;
    updateCommand();
}

void TensorBoardForm::setEditable(bool editable) {
    m_editable = editable;
    updateEnabledFields();
}

QString TensorBoardForm::command() const {
    return m_command->text();
}

void TensorBoardForm::copyCommand() {
    QGuiApplication::clipboard()->setText(command());
}

void TensorBoardForm::browseLogDir() {
    const QString start = !m_logDir->text().isEmpty() ? m_logDir->text() : m_runsDir;
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Folder for the TensorBoard logs"), start);
    if (dir.isEmpty()) {
        return;
    }
    m_logDir->setText(dir);
    updateEnabledFields();
    emit edited();
}

void TensorBoardForm::updateEnabledFields() {
    m_enabled->setEnabled(m_editable);
    const bool on = m_editable && m_enabled->isChecked();
    for (QWidget* field :
         std::initializer_list<QWidget*>{m_logDir, m_browse, m_histograms, m_images, m_prCurves,
                                         m_embeddings, m_text, m_hparams}) {
        field->setEnabled(on);
    }
    m_embeddingImages->setEnabled(on && m_embeddings->isChecked());
}

void TensorBoardForm::updateCommand() {
    QString logDir = m_logDir->text();
    if (logDir.isEmpty()) {
        // No runs folder given yet: the engine's default, relative to where the run starts.
        logDir = !m_runsDir.isEmpty() ? m_runsDir : QStringLiteral("runs");
    }
    m_command->setText(tensorBoardCommand(logDir));
    m_command->setToolTip(tr("%1\n\nRun this to watch the logs, then open the address it prints.")
                              .arg(m_command->text()));
    m_command->setCursorPosition(0);
}

}  // namespace wb::ui
