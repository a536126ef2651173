#pragma once

#include <QLoggingCategory>

// Debug logging of the GUI, quiet by default. Turn on with QT_LOGGING_RULES="wb.*.debug=true".
// What the user must know goes to the window's message log, not only here.
Q_DECLARE_LOGGING_CATEGORY(lcUi)     // wb.ui: panels, scans, settings
Q_DECLARE_LOGGING_CATEGORY(lcTrain)  // wb.train: the worker thread and the run's life cycle
