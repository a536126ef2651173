#pragma once

#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>
#include <memory>

class QLabel;
class QProgressBar;

namespace wb {
class Predictor;
}

namespace wb::ui {

/// Single-image inference with a run's best checkpoint (wb::Predictor, with the run's saved
/// preprocessing): the image and its five most probable classes as bars. The predictor is
/// made once per run and made again only when best.pt changes (a run still training writes a
/// new one at each best epoch). Inference runs in the GUI thread: one image takes a few
/// milliseconds with the models of the workbench.
class ClassifyBox : public QWidget {
    Q_OBJECT
public:
    /// Classes listed, most probable first.
    static constexpr int kTopClasses = 5;

    explicit ClassifyBox(QWidget* parent = nullptr);
    ~ClassifyBox() override;

    /// Classifies the image file with <runDir>/best.pt and shows the result; false, with the
    /// reason shown instead (message()), when there is no run or checkpoint yet, or the image
    /// or the run cannot be read.
    bool classify(const QString& runDir, const QString& imagePath);
    /// Forgets the result shown and the predictor.
    void clear();

    /// The result shown: (class, probability in [0, 1]), most probable first; empty after an
    /// error.
    const QList<QPair<QString, double>>& top() const { return m_top; }
    /// The line under the bars: the checkpoint used, the reason of a failure, or a hint.
    QString message() const;
    QString imagePath() const { return m_imagePath; }
    /// The bar labels as shown: "T-shirt_top 87.3%".
    QStringList barTexts() const;

private:
    void showTop();
    bool fail(const QString& why);

    QLabel* m_image = nullptr;
    QLabel* m_file = nullptr;
    QList<QLabel*> m_names;
    QList<QProgressBar*> m_bars;
    QLabel* m_message = nullptr;

    std::unique_ptr<wb::Predictor> m_predictor;
    QString m_predictorCheckpoint;  ///< the best.pt it was made from
    QDateTime m_predictorStamp;     ///< that file's modification time then
    QString m_imagePath;
    QList<QPair<QString, double>> m_top;
};

}  // namespace wb::ui
