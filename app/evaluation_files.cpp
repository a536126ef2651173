#include "app/evaluation_files.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <algorithm>
#include <exception>
#include <memory>

#include "app/run_summary.h"
#include "engine/evaluation_report.h"
#include "engine/metrics.h"

namespace wb::ui {
namespace {

bool readText(const QString& path, QString* text, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    *text = QString::fromUtf8(file.readAll());
    return true;
}

/// confusion_matrix.csv: "true/predicted" and the class names, then a row per true class.
bool parseConfusion(const QString& path, QStringList* classes, wb::ConfusionMatrix* confusion,
                    QString* error) {
    QString text;
    if (!readText(path, &text, error)) {
        return false;
    }
    const QList<QStringList> rows = parseCsv(text);
    const auto fail = [&](const QString& why) {
        *error = QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), why);
        return false;
    };
    if (rows.isEmpty() || rows.front().size() < 2) {
        return fail(QStringLiteral("no class names in the first row"));
    }
    *classes = rows.front().mid(1);
    const int n = int(classes->size());
    if (rows.size() != n + 1) {
        return fail(QStringLiteral("%1 rows of counts for %2 classes").arg(rows.size() - 1).arg(n));
    }
    confusion->num_classes = n;
    confusion->counts.assign(std::size_t(n) * std::size_t(n), 0);
    for (int t = 0; t < n; ++t) {
        const QStringList& row = rows[t + 1];
        if (row.size() != n + 1 || row.front() != classes->at(t)) {
            return fail(QStringLiteral("row %1 is not the %2 counts of class %3")
                            .arg(t + 2)
                            .arg(n)
                            .arg(classes->at(t)));
        }
        for (int p = 0; p < n; ++p) {
            bool ok = false;
            const qlonglong count = row[p + 1].toLongLong(&ok);
            if (!ok || count < 0) {
                return fail(
                    QStringLiteral("row %1: '%2' is not a count").arg(t + 2).arg(row[p + 1]));
            }
            confusion->counts[std::size_t(t) * n + p] = count;
        }
    }
    return true;
}

/// predictions.csv: path,true,predicted,probability,loss with classes by name.
bool parsePredictions(const QString& path, const QStringList& classes, wb::Predictions* out,
                      QString* error) {
    QString text;
    if (!readText(path, &text, error)) {
        return false;
    }
    const QList<QStringList> rows = parseCsv(text);
    const auto fail = [&](const QString& why) {
        *error = QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), why);
        return false;
    };
    const QStringList header = {QStringLiteral("path"), QStringLiteral("true"),
                                QStringLiteral("predicted"), QStringLiteral("probability"),
                                QStringLiteral("loss")};
    if (rows.isEmpty() || rows.front() != header) {
        return fail(QStringLiteral("the header is not %1").arg(header.join(QLatin1Char(','))));
    }
    QHash<QString, int> index;
    for (int k = 0; k < classes.size(); ++k) {
        index.insert(classes[k], k);
    }
    const int n = int(classes.size());
    wb::Predictions& p = *out;
    p = {};
    p.num_classes = n;
    const std::size_t images = std::size_t(rows.size() - 1);
    p.labels.reserve(images);
    p.predicted.reserve(images);
    p.losses.reserve(images);
    p.paths.reserve(images);
    p.probabilities.assign(images * std::size_t(n), 0.f);
    for (int r = 1; r < rows.size(); ++r) {
        const QStringList& row = rows[r];
        if (row.size() != header.size()) {
            return fail(QStringLiteral("line %1 has %2 fields, not 5").arg(r + 1).arg(row.size()));
        }
        const int truth = index.value(row[1], -1);
        const int predicted = index.value(row[2], -1);
        if (truth < 0 || predicted < 0) {
            return fail(QStringLiteral("line %1: class '%2' is not in confusion_matrix.csv")
                            .arg(r + 1)
                            .arg(truth < 0 ? row[1] : row[2]));
        }
        bool okProbability = false;
        bool okLoss = false;
        const float probability = row[3].toFloat(&okProbability);
        const float loss = row[4].toFloat(&okLoss);
        if (!okProbability || !okLoss) {
            return fail(
                QStringLiteral("line %1: the probability or loss is not a number").arg(r + 1));
        }
        p.paths.push_back(row[0].toStdString());
        p.labels.push_back(truth);
        p.predicted.push_back(predicted);
        p.losses.push_back(loss);
        p.probabilities[std::size_t(r - 1) * std::size_t(n) + std::size_t(predicted)] = probability;
    }
    return true;
}

}  // namespace

QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    bool rowHasContent = false;
    const auto endRow = [&] {
        if (rowHasContent || !field.isEmpty() || !row.isEmpty()) {
            row.append(field);
            rows.append(row);
        }
        row.clear();
        field.clear();
        rowHasContent = false;
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                    field += c;
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
            rowHasContent = true;
        } else if (c == QLatin1Char(',')) {
            row.append(field);
            field.clear();
            rowHasContent = true;
        } else if (c == QLatin1Char('\n')) {
            endRow();
        } else if (c == QLatin1Char('\r')) {
            if (i + 1 < text.size() && text[i + 1] == QLatin1Char('\n')) {
                continue;  // the LF ends the row
            }
            endRow();
        } else {
            field += c;
        }
    }
    endRow();
    return rows;
}

bool readEvaluationFolder(const QString& dir, const QString& split, int epoch,
                          const QString& runDir, StoredEvaluation* out, QString* error) {
    const QDir folder(dir);
    auto report = std::make_shared<wb::EvaluationReport>();
    QStringList classes;
    wb::ConfusionMatrix confusion;
    if (!parseConfusion(folder.filePath(QStringLiteral("confusion_matrix.csv")), &classes,
                        &confusion, error) ||
        !parsePredictions(folder.filePath(QStringLiteral("predictions.csv")), classes,
                          &report->predictions, error)) {
        return false;
    }
    const wb::Predictions& p = report->predictions;
    try {
        // The matrix of the file and the one of the predictions must be the same.
        if (wb::confusion_matrix(p.labels, p.predicted, p.num_classes).counts != confusion.counts) {
            *error = QStringLiteral("%1: confusion_matrix.csv and predictions.csv disagree")
                         .arg(QDir::toNativeSeparators(folder.absolutePath()));
            return false;
        }
    } catch (const std::exception& e) {
        *error = QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(folder.absolutePath()),
                                              QString::fromUtf8(e.what()));
        return false;
    }
    for (const QString& name : classes) {
        report->classes.push_back(name.toStdString());
    }
    report->metrics = wb::classification_metrics(confusion);
    report->split = split.toStdString();
    report->output_dir = folder.absolutePath().toStdString();
    report->checkpoint = split == QLatin1String("test") ? std::string("best.pt")
                                                        : "epoch " + std::to_string(epoch + 1);
    double sum = 0;
    for (float loss : p.losses) {
        sum += loss;
    }
    report->mean_loss = p.losses.empty() ? 0.0 : sum / double(p.losses.size());

    out->hasTop5 = false;
    QFile json(folder.filePath(QStringLiteral("evaluation.json")));
    if (json.open(QIODevice::ReadOnly)) {
        const QJsonObject o = QJsonDocument::fromJson(json.readAll()).object();
        if (o.contains(QStringLiteral("top5_accuracy"))) {
            report->top5_accuracy = o.value(QStringLiteral("top5_accuracy")).toDouble();
            out->hasTop5 = true;
        }
        if (o.contains(QStringLiteral("mean_loss"))) {
            report->mean_loss = o.value(QStringLiteral("mean_loss")).toDouble();
        }
        report->run_dir = o.value(QStringLiteral("run_dir")).toString().toStdString();
    }
    if (!runDir.isEmpty()) {
        // Where the run is now, which is not where it was written if it has been moved.
        report->run_dir = QDir(runDir).absolutePath().toStdString();
    }
    out->evaluation.epoch = epoch;
    out->evaluation.split = split.toStdString();
    out->evaluation.report = std::move(report);
    return true;
}

QList<StoredEvaluation> readRunEvaluations(const QString& runDir, QStringList* errors) {
    QList<StoredEvaluation> out;
    const QDir run(runDir);
    const QDir val(run.filePath(QStringLiteral("evaluation/val")));
    static const QRegularExpression epochName(QStringLiteral("^epoch_(\\d+)$"));
    QList<QPair<int, QString>> epochs;
    for (const QString& name : val.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QRegularExpressionMatch m = epochName.match(name);
        if (m.hasMatch()) {
            epochs.append({m.captured(1).toInt() - 1, val.filePath(name)});
        }
    }
    std::sort(epochs.begin(), epochs.end());
    const auto read = [&](const QString& dir, const QString& split, int epoch) {
        StoredEvaluation e;
        QString error;
        if (readEvaluationFolder(dir, split, epoch, run.absolutePath(), &e, &error)) {
            out.append(e);
        } else if (errors) {
            errors->append(error);
        }
    };
    for (const auto& [epoch, dir] : epochs) {
        read(dir, QStringLiteral("val"), epoch);
    }
    const QString test = run.filePath(QStringLiteral("evaluation/test"));
    if (QFileInfo::exists(QDir(test).filePath(QStringLiteral("confusion_matrix.csv")))) {
        // result.yaml's best_epoch is 1-based; the trainer tests the best checkpoint.
        bool ok = false;
        const int best = readResultYaml(run.filePath(QStringLiteral("result.yaml")))
                             .value(QStringLiteral("best_epoch"))
                             .toInt(&ok);
        read(test, QStringLiteral("test"), ok && best > 0 ? best - 1 : -1);
    }
    return out;
}

}  // namespace wb::ui
