#pragma once

#include <QWidget>

#include "app/engine_types.h"
#include "engine/experiment.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace wb::ui {

class LrFinderController;
class LrPlot;
class RateSpinBox;

/// The learning-rate range test in the window: its settings, Run and Stop, the curve drawn
/// live, the three suggestions as buttons, and the rate the user picks on the plot (a click,
/// a dragged marker or a suggestion button), which "Use as 1cycle maximum" or "Use as fixed
/// rate" hands to the training form.
class LrFinderPanel : public QWidget {
    Q_OBJECT
public:
    explicit LrFinderPanel(QWidget* parent = nullptr);
    ~LrFinderPanel() override;

    void setSettings(const wb::LrFinderConfig& settings);
    /// The form's settings; fields it does not show come from the last setSettings().
    wb::LrFinderConfig settings() const;

    /// Runs the test of `experiment` with this panel's settings; false when one is running.
    bool start(const wb::Experiment& experiment);
    void stop();
    bool isRunning() const;
    /// Why a test cannot start now (a run is training, the dataset is unusable); empty: it can.
    void setStartBlocked(const QString& reason);

    /// The rate picked on the plot; NaN when none.
    double pickedRate() const;
    /// Picks `lr` as if the user had clicked it.
    void pickRate(double lr);
    /// Picks a suggestion by name ("steepest", "valley", "min_div10"); false when it has none.
    bool pickSuggestion(const QString& name);
    /// Hands the picked rate to the form: emits rateApplied(); false when nothing is picked.
    bool applyPicked(bool onecycle);

    /// The last finished test; its status is empty before the first one ends.
    const wb::LrFindReport& report() const { return m_report; }
    LrPlot* plot() const { return m_plot; }
    QPushButton* runButton() const { return m_run; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* onecycleButton() const { return m_useOnecycle; }
    QPushButton* fixedButton() const { return m_useFixed; }

signals:
    /// Run was clicked; the window assembles the experiment and calls start().
    void startRequested();
    void runningChanged(bool running);
    void finished(const wb::LrFindReport& report);
    /// The user chose `lr` as the 1cycle maximum (onecycle) or as the fixed rate.
    void rateApplied(double lr, bool onecycle, const QString& lrFindDir);
    void messageLogged(wb::Level level, const QString& text);

private:
    void onSteps(const QList<wb::LrFinderStep>& steps);
    void onFinished(const wb::LrFindReport& report);
    void onPicked(double lr);
    void updateButtons();

    wb::LrFinderConfig m_base;
    LrFinderController* m_controller = nullptr;
    RateSpinBox* m_start = nullptr;
    RateSpinBox* m_end = nullptr;
    QSpinBox* m_steps = nullptr;
    QComboBox* m_mode = nullptr;
    QComboBox* m_loss = nullptr;
    QDoubleSpinBox* m_diverge = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    LrPlot* m_plot = nullptr;
    QPushButton* m_steepest = nullptr;
    QPushButton* m_valley = nullptr;
    QPushButton* m_minDiv10 = nullptr;
    QLabel* m_picked = nullptr;
    QPushButton* m_useOnecycle = nullptr;
    QPushButton* m_useFixed = nullptr;
    QLabel* m_folder = nullptr;
    QString m_blocked;
    int m_plannedSteps = 0;
    wb::LrFindReport m_report;
};

}  // namespace wb::ui
