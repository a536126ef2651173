#include "app/run_summary.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "engine/experiment.h"

namespace wb::ui {

QString learningRateText(const RunSummary& run) {
    if (run.optimizer.isEmpty()) {
        return {};
    }
    const QString rate = QString::number(run.learningRate, 'g', 4);
    return run.policy == QLatin1String("onecycle") ? QStringLiteral("max lr %1").arg(rate)
                                                   : QStringLiteral("lr %1").arg(rate);
}

QString hyperparameterText(const RunSummary& run) {
    if (run.optimizer.isEmpty()) {
        return {};
    }
    return QStringLiteral("%1 %2 bs %3")
        .arg(run.optimizer, learningRateText(run))
        .arg(run.batchSize);
}

bool readMetricsCsv(const QString& path, MetricsTable* table, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        if (error) {
            *error = file.errorString();
        }
        return false;
    }
    QTextStream in(&file);
    *table = {};
    bool header = true;
    while (!in.atEnd()) {
        const QString line = in.readLine().trimmed();
        if (line.isEmpty()) {
            continue;
        }
        const QStringList cells = line.split(QLatin1Char(','));
        if (header) {
            for (const QString& c : cells) {
                table->columns.append(c.trimmed());
            }
            header = false;
            continue;
        }
        QList<double> row;
        for (const QString& c : cells) {
            bool ok = false;
            const double v = c.trimmed().toDouble(&ok);
            row.append(ok ? v : std::numeric_limits<double>::quiet_NaN());
        }
        table->rows.append(row);
    }
    return true;
}

QMap<QString, QString> readResultYaml(const QString& path) {
    QMap<QString, QString> values;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        return values;
    }
    QTextStream in(&file);
    while (!in.atEnd()) {
        const QString line = in.readLine();
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        if (colon <= 0 || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char(' '))) {
            continue;
        }
        QString value = line.mid(colon + 1).trimmed();
        if (value.size() >= 2 && value.startsWith(QLatin1Char('"')) &&
            value.endsWith(QLatin1Char('"'))) {
            value = value.mid(1, value.size() - 2);
        }
        values.insert(line.left(colon).trimmed(), value);
    }
    return values;
}

RunSummary readRunSummary(const QString& runDir) {
    RunSummary run;
    const QFileInfo dirInfo(runDir);
    run.dir = dirInfo.absoluteFilePath();
    run.name = dirInfo.fileName();
    run.modified = dirInfo.lastModified();
    const QDir dir(runDir);

    const QString yamlPath = dir.filePath(QStringLiteral("experiment.yaml"));
    if (QFileInfo::exists(yamlPath)) {
        try {
            const wb::Experiment experiment = wb::load_experiment(yamlPath.toStdString());
            run.model = QString::fromStdString(experiment.model.arch);
            run.plannedEpochs = experiment.epochs;
            run.policy = QString::fromStdString(experiment.schedule.policy);
            run.optimizer = QString::fromStdString(experiment.optimizer.type);
            run.learningRate = experiment.optimizer.lr;
            run.batchSize = experiment.batch_size;
            run.seed = experiment.seed;
        } catch (const std::exception& e) {
            run.error = QString::fromUtf8(e.what());
        }
    } else {
        run.error = QObject::tr("no experiment.yaml");
    }

    const QString csvPath = dir.filePath(QStringLiteral("metrics.csv"));
    MetricsTable metrics;
    QString csvError;
    if (QFileInfo::exists(csvPath) && readMetricsCsv(csvPath, &metrics, &csvError)) {
        run.modified = std::max(run.modified, QFileInfo(csvPath).lastModified());
        run.epochsDone = int(metrics.rows.size());
        const int val = metrics.column(QStringLiteral("val_accuracy"));
        const int train = metrics.column(QStringLiteral("train_accuracy"));
        for (int pass = 0; pass < 2 && run.bestEpoch == 0; ++pass) {
            const int col = pass == 0 ? val : train;
            if (col < 0) {
                continue;
            }
            for (int i = 0; i < run.epochsDone; ++i) {
                const QList<double>& row = metrics.rows[i];
                if (col < row.size() && std::isfinite(row[col]) && row[col] > run.bestAccuracy) {
                    run.bestAccuracy = row[col];
                    run.bestEpoch = i + 1;
                    run.bestIsValidation = pass == 0;
                }
            }
        }
    } else if (!csvError.isEmpty() && run.error.isEmpty()) {
        run.error = csvError;
    }

    const QMap<QString, QString> result =
        readResultYaml(dir.filePath(QStringLiteral("result.yaml")));
    if (result.contains(QStringLiteral("test_accuracy"))) {
        run.testAccuracy = result.value(QStringLiteral("test_accuracy")).toDouble(&run.hasTest);
    }
    run.message = result.value(QStringLiteral("message"));

    if (!run.error.isEmpty() && run.model.isEmpty()) {
        run.status = QStringLiteral("unreadable");
    } else if (result.contains(QStringLiteral("status"))) {
        run.status = result.value(QStringLiteral("status"));
    } else if (run.plannedEpochs > 0 && run.epochsDone >= run.plannedEpochs) {
        run.status = QStringLiteral("finished");
    } else {
        run.status = QStringLiteral("incomplete");
    }
    return run;
}

QList<RunSummary> listRuns(const QString& runsDir) {
    QList<RunSummary> runs;
    const QDir dir(runsDir);
    if (!dir.exists()) {
        return runs;
    }
    const QFileInfoList entries = dir.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo& entry : entries) {
        const QDir runDir(entry.absoluteFilePath());
        if (runDir.exists(QStringLiteral("experiment.yaml")) ||
            runDir.exists(QStringLiteral("metrics.csv"))) {
            runs.append(readRunSummary(entry.absoluteFilePath()));
        }
    }
    std::sort(runs.begin(), runs.end(), [](const RunSummary& a, const RunSummary& b) {
        return a.modified != b.modified ? a.modified > b.modified : a.name > b.name;
    });
    return runs;
}

}  // namespace wb::ui
