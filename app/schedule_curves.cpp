#include "app/schedule_curves.h"

#include <algorithm>
#include <exception>

#include "engine/schedule.h"
#include "engine/train_schedule.h"

namespace wb::ui {

long long stepsPerEpoch(long long trainImages, int batchSize, int accumulation) {
    if (trainImages < 1 || batchSize < 1 || accumulation < 1) {
        return 0;
    }
    const bool dropLast = trainImages % batchSize == 1;
    if (dropLast && trainImages < batchSize) {
        return 0;
    }
    return wb::total_steps(trainImages, batchSize, 1, accumulation, dropLast);
}

ScheduleCurves computeScheduleCurves(const wb::Experiment& experiment, long long trainImages,
                                     int maxPoints) {
    ScheduleCurves curves;
    curves.stepsPerEpoch =
        stepsPerEpoch(trainImages, experiment.batch_size, experiment.grad_accumulation);
    curves.totalSteps = curves.stepsPerEpoch * std::max(0, experiment.epochs);
    try {
        const wb::Schedule schedule = wb::Schedule::make(
            wb::schedule_spec(experiment, curves.stepsPerEpoch), curves.totalSteps);
        const long long total = schedule.total_steps();
        const long long count = std::clamp<long long>(total, 1, std::max(2, maxPoints));
        const double fixedMomentum = experiment.optimizer.type == "sgd"
                                         ? experiment.optimizer.momentum
                                         : experiment.optimizer.beta1;
        curves.learningRate.reserve(count);
        curves.momentum.reserve(count);
        long long previous = -1;
        for (long long i = 0; i < count; ++i) {
            const long long step = count == 1 ? 0 : i * (total - 1) / (count - 1);
            if (step == previous) {
                continue;
            }
            previous = step;
            curves.learningRate.append(QPointF(double(step), schedule.lr(step)));
            curves.momentum.append(QPointF(
                double(step), schedule.has_momentum() ? schedule.momentum(step) : fixedMomentum));
        }
    } catch (const std::exception& error) {
        curves.learningRate.clear();
        curves.momentum.clear();
        curves.error = QString::fromUtf8(error.what());
    }
    return curves;
}

}  // namespace wb::ui
