#include "app/lr_finder_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>
#include <fstream>
#include <limits>

#include "app/lr_finder_worker.h"
#include "app/rate_spin_box.h"
#include "engine/lr_plot_image.h"
#include "widgets/lr_plot.h"

namespace wb::ui {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString rateText(double lr) {
    return QString::number(lr, 'e', 2);
}

std::optional<double> suggestion(const wb::LrFinderResult& r, const QString& name) {
    if (name == QLatin1String("steepest")) {
        return r.steepest;
    }
    if (name == QLatin1String("valley")) {
        return r.valley;
    }
    if (name == QLatin1String("min_div10")) {
        return r.min_div10;
    }
    return std::nullopt;
}

}  // namespace

LrFinderPanel::LrFinderPanel(QWidget* parent)
    : QWidget(parent), m_controller(new LrFinderController(this)) {
    m_start = new RateSpinBox;
    m_start->setRange(1e-12, 1e3);
    m_end = new RateSpinBox;
    m_end->setRange(1e-12, 1e4);
    m_steps = new QSpinBox;
    m_steps->setRange(2, 100000);
    m_mode = new QComboBox;
    m_mode->addItem(tr("exponential"), QStringLiteral("exponential"));
    m_mode->addItem(tr("linear"), QStringLiteral("linear"));
    m_loss = new QComboBox;
    m_loss->addItem(tr("training batches"), QStringLiteral("train"));
    m_loss->addItem(tr("validation subset"), QStringLiteral("val"));
    m_loss->setToolTip(
        tr("Validation subset: after each step, the loss on the same few validation batches. "
           "Slower, less noisy."));
    m_diverge = new QDoubleSpinBox;
    m_diverge->setRange(0, 1000);
    m_diverge->setDecimals(1);
    m_diverge->setSpecialValueText(tr("never"));
    m_diverge->setToolTip(
        tr("Stop when the smoothed loss rises this many times above the best one; 0: never."));

    // Two short rows, so that the panel stays narrow enough to share the window.
    auto* settings = new QGridLayout;
    const auto field = [settings](int row, int column, const QString& label, QWidget* widget) {
        settings->addWidget(new QLabel(label), row, 2 * column);
        settings->addWidget(widget, row, 2 * column + 1);
    };
    field(0, 0, tr("Rate from"), m_start);
    field(0, 1, tr("to"), m_end);
    field(0, 2, tr("Steps"), m_steps);
    field(1, 0, tr("Spacing"), m_mode);
    field(1, 1, tr("Loss of"), m_loss);
    field(1, 2, tr("Stop at ×best"), m_diverge);
    settings->setColumnStretch(6, 1);

    m_run = new QPushButton(tr("Run range test"));
    m_stop = new QPushButton(tr("Stop"));
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_run);
    actions->addWidget(m_stop);
    m_folder = new QLabel;
    m_folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    actions->addWidget(m_folder, 1);

    m_plot = new LrPlot;

    m_steepest = new QPushButton;
    m_valley = new QPushButton;
    m_minDiv10 = new QPushButton;
    m_steepest->setToolTip(tr("Steepest descent of the smoothed loss"));
    m_valley->setToolTip(tr("fastai's valley: well inside the longest descent"));
    m_minDiv10->setToolTip(tr("The rate of the lowest loss, divided by 10"));
    m_picked = new QLabel;
    m_useOnecycle = new QPushButton(tr("Use as 1cycle maximum"));
    m_useFixed = new QPushButton(tr("Use as fixed rate"));
    m_useOnecycle->setToolTip(
        tr("Sets the picked rate as the peak of a 1cycle schedule in the training form"));
    m_useFixed->setToolTip(
        tr("Sets the picked rate as the base rate of the form's schedule (constant if it was "
           "1cycle)"));
    auto* suggestions = new QHBoxLayout;
    suggestions->addWidget(new QLabel(tr("Suggestions:")));
    suggestions->addWidget(m_steepest);
    suggestions->addWidget(m_valley);
    suggestions->addWidget(m_minDiv10);
    suggestions->addStretch(1);
    auto* pick = new QHBoxLayout;
    pick->addWidget(m_picked, 1);
    pick->addWidget(m_useOnecycle);
    pick->addWidget(m_useFixed);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(settings);
    layout->addLayout(actions);
    layout->addWidget(m_plot, 1);
    layout->addLayout(suggestions);
    layout->addLayout(pick);

    setSettings(wb::LrFinderConfig{});

    connect(m_run, &QPushButton::clicked, this, &LrFinderPanel::startRequested);
    connect(m_stop, &QPushButton::clicked, this, &LrFinderPanel::stop);
    connect(m_controller, &LrFinderController::messageLogged, this, &LrFinderPanel::messageLogged);
    connect(m_controller, &LrFinderController::stepsRecorded, this, &LrFinderPanel::onSteps);
    connect(m_controller, &LrFinderController::finished, this, &LrFinderPanel::onFinished);
    connect(m_plot, &LrPlot::pickedRateChanged, this, &LrFinderPanel::onPicked);
    connect(m_steepest, &QPushButton::clicked, this,
            [this] { pickSuggestion(QStringLiteral("steepest")); });
    connect(m_valley, &QPushButton::clicked, this,
            [this] { pickSuggestion(QStringLiteral("valley")); });
    connect(m_minDiv10, &QPushButton::clicked, this,
            [this] { pickSuggestion(QStringLiteral("min_div10")); });
    connect(m_useOnecycle, &QPushButton::clicked, this, [this] { applyPicked(true); });
    connect(m_useFixed, &QPushButton::clicked, this, [this] { applyPicked(false); });
    m_plot->setStatus(tr("Run the range test to see how the loss responds to the rate."));
    updateButtons();
}

LrFinderPanel::~LrFinderPanel() = default;

void LrFinderPanel::setSettings(const wb::LrFinderConfig& s) {
    m_base = s;
    m_start->setValue(s.start_lr);
    m_end->setValue(s.end_lr);
    m_steps->setValue(s.num_iter);
    m_mode->setCurrentIndex(std::max(0, m_mode->findData(QString::fromStdString(s.mode))));
    m_loss->setCurrentIndex(std::max(0, m_loss->findData(QString::fromStdString(s.loss))));
    m_diverge->setValue(s.diverge_threshold);
}

wb::LrFinderConfig LrFinderPanel::settings() const {
    wb::LrFinderConfig s = m_base;
    s.start_lr = m_start->value();
    s.end_lr = m_end->value();
    s.num_iter = m_steps->value();
    s.mode = m_mode->currentData().toString().toStdString();
    s.loss = m_loss->currentData().toString().toStdString();
    s.diverge_threshold = m_diverge->value();
    return s;
}

bool LrFinderPanel::start(const wb::Experiment& experiment) {
    if (isRunning() || !m_blocked.isEmpty()) {
        return false;
    }
    wb::Experiment e = experiment;
    e.lr_finder = settings();
    m_plannedSteps = e.lr_finder.num_iter;
    if (!m_controller->start(e)) {
        return false;
    }
    m_report = {};
    m_plot->clear();
    m_plot->setStatus(tr("running: scanning the dataset and building the model…"));
    m_folder->clear();
    updateButtons();
    emit runningChanged(true);
    return true;
}

void LrFinderPanel::stop() {
    m_controller->stop();
    if (isRunning()) {
        m_plot->setStatus(tr("stopping…"));
    }
}

bool LrFinderPanel::isRunning() const {
    return m_controller->isRunning();
}

void LrFinderPanel::setStartBlocked(const QString& reason) {
    m_blocked = reason;
    m_run->setToolTip(reason);
    updateButtons();
}

double LrFinderPanel::pickedRate() const {
    return m_plot->pickedRate();
}

void LrFinderPanel::pickRate(double lr) {
    m_plot->setPickedRate(lr);
    onPicked(lr);
}

bool LrFinderPanel::pickSuggestion(const QString& name) {
    const auto lr = suggestion(m_report.result, name);
    if (!lr) {
        return false;
    }
    pickRate(*lr);
    return true;
}

bool LrFinderPanel::applyPicked(bool onecycle) {
    const double lr = pickedRate();
    if (!(lr > 0) || !std::isfinite(lr)) {
        return false;
    }
    const QString dir = QString::fromStdString(m_report.run_dir);
    if (!dir.isEmpty()) {
        // The folder keeps the picture with the rate that was used, and the choice.
        try {
            wb::write_lr_plot_png(m_report.result, (dir + "/lr_find.png").toStdString(), lr);
        } catch (const std::exception& error) {
            emit messageLogged(wb::Level::Warning, QString::fromUtf8(error.what()));
        }
        std::ofstream yaml((dir + "/lr_find.yaml").toStdString(), std::ios::app);
        yaml << "picked_lr: " << QString::number(lr, 'g', 8).toStdString() << "\n"
             << "used_as: " << (onecycle ? "onecycle_max_lr" : "fixed_lr") << "\n";
    }
    emit rateApplied(lr, onecycle, dir);
    return true;
}

void LrFinderPanel::onSteps(const QList<wb::LrFinderStep>& steps) {
    for (const auto& s : steps) {
        m_plot->addPoint(s.lr, s.loss, s.smoothed);
    }
    if (!steps.isEmpty()) {
        const auto& last = steps.back();
        m_plot->setStatus(tr("running: step %1 of %2, lr %3")
                              .arg(last.iteration + 1)
                              .arg(m_plannedSteps)
                              .arg(rateText(last.lr)));
    }
}

void LrFinderPanel::onFinished(const wb::LrFindReport& report) {
    m_report = report;
    const auto& r = report.result;
    if (report.status == "failed") {
        m_plot->setStatus(tr("failed: %1").arg(QString::fromStdString(report.message)));
    } else {
        QList<double> lrs(r.lrs.begin(), r.lrs.end());
        QList<double> losses(r.losses.begin(), r.losses.end());
        QList<double> smoothed(r.smoothed.begin(), r.smoothed.end());
        m_plot->setCurve(lrs, losses, smoothed);
        const auto value = [](const std::optional<double>& lr) { return lr ? *lr : kNaN; };
        m_plot->setSuggestions({{tr("steepest"), value(r.steepest)},
                                {tr("valley"), value(r.valley)},
                                {tr("min/10"), value(r.min_div10)}});
        QString status = tr("%1 after %2 steps (%3 s)")
                             .arg(QString::fromStdString(r.stop_reason))
                             .arg(r.lrs.size())
                             .arg(report.seconds, 0, 'f', 1);
        if (!r.lrs.empty()) {
            status += tr(", last lr %1").arg(rateText(r.lrs.back()));
        }
        for (const auto& warning : r.warnings) {
            status += QStringLiteral("\n") + tr("Warning: %1").arg(QString::fromStdString(warning));
            emit messageLogged(wb::Level::Warning, QString::fromStdString(warning));
        }
        m_plot->setStatus(status);
        m_folder->setText(tr("Saved in %1").arg(QString::fromStdString(report.run_dir)));
        // A first pick the user can move: the valley, else the steepest point.
        if (r.valley) {
            m_plot->setPickedRate(*r.valley);
        } else if (r.steepest) {
            m_plot->setPickedRate(*r.steepest);
        }
    }
    updateButtons();
    emit runningChanged(false);
    emit finished(report);
}

void LrFinderPanel::onPicked(double) {
    updateButtons();
}

void LrFinderPanel::updateButtons() {
    const bool running = isRunning();
    m_run->setEnabled(!running && m_blocked.isEmpty());
    m_stop->setEnabled(running);
    const auto& r = m_report.result;
    const auto label = [](QPushButton* button, const QString& name,
                          const std::optional<double>& lr) {
        button->setText(lr ? QStringLiteral("%1 %2").arg(name, rateText(*lr))
                           : QStringLiteral("%1: none").arg(name));
        button->setEnabled(lr.has_value());
    };
    label(m_steepest, tr("steepest"), running ? std::nullopt : r.steepest);
    label(m_valley, tr("valley"), running ? std::nullopt : r.valley);
    label(m_minDiv10, tr("min/10"), running ? std::nullopt : r.min_div10);
    const double lr = pickedRate();
    const bool picked = lr > 0 && std::isfinite(lr);
    m_picked->setText(picked ? tr("Picked: <b>%1</b>").arg(rateText(lr))
                             : tr("Click the plot to pick a rate"));
    m_useOnecycle->setEnabled(picked && !running);
    m_useFixed->setEnabled(picked && !running);
}

}  // namespace wb::ui
