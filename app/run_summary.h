#pragma once

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>

namespace wb::ui {

/// What the runs list shows about one run folder, read from its experiment.yaml,
/// metrics.csv (columns epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,lr) and,
/// once the run has ended, result.yaml (status, best epoch, test accuracy).
struct RunSummary {
    QString dir;
    QString name;   ///< the folder's name
    QString model;  ///< architecture, from experiment.yaml
    /// From experiment.yaml; empty (and 0) when it cannot be read.
    QString policy;           ///< schedule.policy: "constant", "step", …, "onecycle"
    QString optimizer;        ///< optimizer.type: "sgd", "adam" or "adamw"
    double learningRate = 0;  ///< optimizer.lr; the peak rate when the policy is "onecycle"
    int batchSize = 0;
    quint64 seed = 0;
    /// From result.yaml: "finished", "cancelled" or "failed". Without it: "finished" when
    /// metrics.csv has all planned epochs, else "incomplete" (still running elsewhere, or
    /// killed). "running" is set by the caller for the active run; "unreadable" comes with
    /// `error`.
    QString status;
    QString message;  ///< result.yaml's message, for a failed run
    QString error;
    int plannedEpochs = 0;
    int epochsDone = 0;
    int bestEpoch = 0;         ///< 1-based row of metrics.csv; 0 when there is none
    double bestAccuracy = -1;  ///< validation accuracy in [0, 1], train when no validation
    bool bestIsValidation = false;
    bool hasTest = false;
    double testAccuracy = 0;
    QDateTime modified;
};

/// "lr 0.05", or "max lr 0.05" for a 1cycle run (where optimizer.lr is the peak); empty when
/// the experiment could not be read.
QString learningRateText(const RunSummary& run);

/// The key hyperparameters in a few words: "sgd lr 0.1 bs 64", "adam max lr 0.003 bs 128".
QString hyperparameterText(const RunSummary& run);

/// Per-epoch rows of a metrics.csv, by column name.
struct MetricsTable {
    QStringList columns;
    QList<QList<double>> rows;  ///< NaN where a cell is empty or not a number
    int column(const QString& name) const { return int(columns.indexOf(name)); }
};

/// Reads a metrics.csv; false with `error` set when the file cannot be read.
bool readMetricsCsv(const QString& path, MetricsTable* table, QString* error);

/// Reads the flat "key: value" lines of a result.yaml; empty when the file is missing.
QMap<QString, QString> readResultYaml(const QString& path);

/// Reads one run folder; never throws.
RunSummary readRunSummary(const QString& runDir);

/// Every run folder (a folder holding experiment.yaml or metrics.csv) directly in `runsDir`,
/// newest first.
QList<RunSummary> listRuns(const QString& runsDir);

}  // namespace wb::ui
