#pragma once

#include <QString>
#include <QWidget>

#include "engine/experiment.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace wb::ui {

/// The fields of wb::TensorBoardConfig: whether a run writes TensorBoard logs, where, and which
/// of the optional summaries (scalars are always written). Below them, read-only and ready to
/// copy, the `tensorboard --logdir` command that watches the logs, with a hint for remote
/// machines. Fields the form does not show are kept from the last setConfig(), so
/// `setConfig(c)` then `config()` gives back `c`.
class TensorBoardForm : public QWidget {
    Q_OBJECT
public:
    explicit TensorBoardForm(QWidget* parent = nullptr);

    void setConfig(const wb::TensorBoardConfig& config);
    wb::TensorBoardConfig config() const;

    /// The folder that receives the run folders, watched when no shared log folder is set.
    void setRunsDir(const QString& dir);
    QString runsDir() const { return m_runsDir; }

    /// Locks the settings while a run is going; the command and Copy stay usable.
    void setEditable(bool editable);

    /// The command shown: `tensorboard --logdir <dir>`, the path quoted for a POSIX shell.
    QString command() const;
    /// Puts command() on the clipboard.
    void copyCommand();

    QCheckBox* enabledCheck() const { return m_enabled; }
    QLineEdit* logDirEdit() const { return m_logDir; }
    QPushButton* browseButton() const { return m_browse; }
    QCheckBox* histogramsCheck() const { return m_histograms; }
    QCheckBox* imagesCheck() const { return m_images; }
    QCheckBox* prCurvesCheck() const { return m_prCurves; }
    QCheckBox* embeddingsCheck() const { return m_embeddings; }
    QSpinBox* embeddingImagesSpin() const { return m_embeddingImages; }
    QCheckBox* textCheck() const { return m_text; }
    QCheckBox* hparamsCheck() const { return m_hparams; }
    QLineEdit* commandEdit() const { return m_command; }
    QPushButton* copyButton() const { return m_copy; }
    QLabel* remoteHint() const { return m_hint; }

signals:
    /// A setting was edited by the user (not emitted by setConfig() or setRunsDir()).
    void edited();

private:
    void browseLogDir();
    void updateEnabledFields();
    void updateCommand();

    wb::TensorBoardConfig m_base;
    QString m_runsDir = QStringLiteral("runs");
    bool m_editable = true;
    QCheckBox* m_enabled = nullptr;
    QLineEdit* m_logDir = nullptr;
    QPushButton* m_browse = nullptr;
    QCheckBox* m_histograms = nullptr;
    QCheckBox* m_images = nullptr;
    QCheckBox* m_prCurves = nullptr;
    QCheckBox* m_embeddings = nullptr;
    QSpinBox* m_embeddingImages = nullptr;
    QCheckBox* m_text = nullptr;
    QCheckBox* m_hparams = nullptr;
    QLineEdit* m_command = nullptr;
    QPushButton* m_copy = nullptr;
    QLabel* m_hint = nullptr;
};

/// `text` as one word for a POSIX shell: unchanged when it holds only letters, digits and
/// `@%+=:,./_-`, else in single quotes, each `'` inside written `'"'"'`. "" gives `''`.
QString shellQuoted(const QString& text);

/// `tensorboard --logdir <dir>`, `dir` quoted by shellQuoted().
QString tensorBoardCommand(const QString& logDir);

}  // namespace wb::ui
