#pragma once

// Engine value types that travel in queued signals from the training thread to the GUI.

#include <QList>
#include <QMetaType>

#include "engine/lr_find_run.h"
#include "engine/observer.h"

Q_DECLARE_METATYPE(wb::Level)
Q_DECLARE_METATYPE(wb::DatasetInfo)
Q_DECLARE_METATYPE(wb::RunInfo)
Q_DECLARE_METATYPE(wb::IterationStats)
Q_DECLARE_METATYPE(wb::EpochStats)
Q_DECLARE_METATYPE(wb::RunResult)
Q_DECLARE_METATYPE(wb::EpochEvaluation)
Q_DECLARE_METATYPE(wb::LrFinderStep)
Q_DECLARE_METATYPE(wb::LrFindReport)

namespace wb::ui {

/// Registers the types above for queued connections; cheap to call more than once.
void registerEngineMetaTypes();

}  // namespace wb::ui
