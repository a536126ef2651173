#pragma once

#include <QList>
#include <QPointF>
#include <QString>

#include "engine/experiment.h"

namespace wb::ui {

/// The planned learning-rate and momentum curves of an experiment, as the schedule preview
/// draws them.
struct ScheduleCurves {
    long long stepsPerEpoch = 0;
    long long totalSteps = 0;
    /// (optimizer step, rate); every step up to `maxPoints`, evenly spaced steps beyond
    /// (the first and the last always among them).
    QList<QPointF> learningRate;
    /// (optimizer step, SGD momentum or Adam beta1): the schedule's under 1cycle with
    /// cycle_momentum, else the optimizer's own, flat.
    QList<QPointF> momentum;
    /// Why there is no curve (the ConfigError text); empty when the curves are valid.
    QString error;
};

/// Optimizer steps per epoch for `trainImages` training images in batches of `batchSize`, one
/// step per `accumulation` batches, as the trainer counts them: the last, partial batch is kept
/// (left out only when it would hold one image, which batch norm cannot train on) and so is the
/// last, shorter group of batches. 0 when an argument is below 1.
long long stepsPerEpoch(long long trainImages, int batchSize, int accumulation = 1);

/// The curves of `experiment` for a training split of `trainImages` images, computed with the
/// same wb::Schedule the trainer uses.
ScheduleCurves computeScheduleCurves(const wb::Experiment& experiment, long long trainImages,
                                     int maxPoints = 4000);

}  // namespace wb::ui
