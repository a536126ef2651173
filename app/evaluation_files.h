#pragma once

// Reading a run's evaluation folders back: the confusion_matrix.csv, predictions.csv and
// evaluation.json that engine/evaluation_report.h writes into <run>/evaluation/val/epoch_NNN/
// and <run>/evaluation/test/, so that a finished run can be shown like a live one.

#include <QList>
#include <QString>
#include <QStringList>

#include "engine/observer.h"

namespace wb::ui {

/// One evaluation read back from its folder.
struct StoredEvaluation {
    /// The report as the trainer made it, except for the probabilities: predictions.csv holds
    /// only the predicted class's, so each row of `probabilities` holds that one value and
    /// zeros elsewhere. The metrics are computed from confusion_matrix.csv.
    wb::EpochEvaluation evaluation;
    /// top5_accuracy (and mean_loss) came from evaluation.json; without that file the top-5
    /// accuracy is unknown and the mean loss is computed from predictions.csv.
    bool hasTop5 = false;
};

/// Splits CSV text into rows of fields per RFC 4180: quoted fields, doubled quotes, commas and
/// line breaks inside quotes; CRLF or LF line ends. Empty lines are skipped.
QList<QStringList> parseCsv(const QString& text);

/// Reads the evaluation in `dir` of `split` ("val" or "test") at `epoch` (0-based; -1 when
/// unknown) of the run in `runDir` (the report's run_dir; evaluation.json's when empty). False
/// with `error` set (naming the file) when confusion_matrix.csv or predictions.csv is missing
/// or malformed, or the two disagree.
bool readEvaluationFolder(const QString& dir, const QString& split, int epoch,
                          const QString& runDir, StoredEvaluation* out, QString* error);

/// Every evaluation of the run in `runDir`: evaluation/val/epoch_NNN/ in epoch order, then
/// evaluation/test/ (its epoch is result.yaml's best_epoch; -1 when the run has none). A
/// folder that cannot be read is skipped, with the reason appended to `errors`.
QList<StoredEvaluation> readRunEvaluations(const QString& runDir, QStringList* errors);

}  // namespace wb::ui
