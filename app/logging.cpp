#include "app/logging.h"

#include "app/engine_types.h"

Q_LOGGING_CATEGORY(lcUi, "wb.ui", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTrain, "wb.train", QtWarningMsg)

namespace wb::ui {

void registerEngineMetaTypes() {
    qRegisterMetaType<wb::Level>();
    qRegisterMetaType<wb::DatasetInfo>();
    qRegisterMetaType<wb::RunInfo>();
    qRegisterMetaType<wb::IterationStats>();
    qRegisterMetaType<QList<wb::IterationStats>>();
    qRegisterMetaType<wb::EpochStats>();
    qRegisterMetaType<wb::RunResult>();
    qRegisterMetaType<wb::EpochEvaluation>();
    qRegisterMetaType<wb::LrFinderStep>();
    qRegisterMetaType<QList<wb::LrFinderStep>>();
    qRegisterMetaType<wb::LrFindReport>();
}

}  // namespace wb::ui
