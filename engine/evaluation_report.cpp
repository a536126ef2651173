#include "engine/evaluation_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace wb {

namespace {

/// Shortest text that reads back as the same float.
std::string float_text(float value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(value));
    return buf;
}

nlohmann::ordered_json metrics_json(const ClassMetrics& c) {
    return {{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
}

const std::string& class_name(const std::vector<std::string>& classes, int k) {
    if (k < 0 || static_cast<std::size_t>(k) >= classes.size()) {
        throw std::invalid_argument("class " + std::to_string(k) + " has no name (" +
                                    std::to_string(classes.size()) + " class names)");
    }
    return classes[static_cast<std::size_t>(k)];
}

}  // namespace

void compute_metrics(EvaluationReport& report) {
    const Predictions& p = report.predictions;
    report.metrics = classification_metrics(p.labels, p.predicted, p.num_classes);
    report.top5_accuracy = top_k_accuracy(p.probabilities, p.labels, p.num_classes, kTopK);
    double sum = 0;
    for (float loss : p.losses) {
        sum += loss;
    }
    report.mean_loss = p.losses.empty() ? 0.0 : sum / static_cast<double>(p.losses.size());
}

std::string evaluation_json(const EvaluationReport& r) {
    const ClassificationMetrics& m = r.metrics;
    nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < m.per_class.size(); ++k) {
        nlohmann::ordered_json c = metrics_json(m.per_class[k]);
        c["class"] = class_name(r.classes, static_cast<int>(k));
        per_class.push_back(std::move(c));
    }
    nlohmann::ordered_json confusion = nlohmann::ordered_json::array();
    for (int t = 0; t < m.confusion.num_classes; ++t) {
        nlohmann::ordered_json row = nlohmann::ordered_json::array();
        for (int p = 0; p < m.confusion.num_classes; ++p) {
            row.push_back(m.confusion.at(t, p));
        }
        confusion.push_back(std::move(row));
    }
    nlohmann::ordered_json j;
    j["run_dir"] = r.run_dir;
    j["checkpoint"] = r.checkpoint;
    j["split"] = r.split;
    j["images"] = r.predictions.size();
    j["accuracy"] = m.accuracy;
    j["top5_accuracy"] = r.top5_accuracy;
    j["mean_loss"] = r.mean_loss;
    j["classes"] = r.classes;
    j["per_class"] = std::move(per_class);
    j["macro_avg"] = metrics_json(m.macro);
    j["weighted_avg"] = metrics_json(m.weighted);
    j["confusion_matrix"] = std::move(confusion);
    j["zero_division"] =
        "0: a class never predicted has precision 0, a class without support recall 0 "
        "(scikit-learn's zero_division=0); the macro average counts every class";
    return j.dump(2) + "\n";
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string out = "\"";
    for (char c : text) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string confusion_matrix_csv(const ConfusionMatrix& confusion,
                                 const std::vector<std::string>& classes) {
    std::string out = "true/predicted";
    for (int p = 0; p < confusion.num_classes; ++p) {
        out += "," + csv_field(class_name(classes, p));
    }
    out += "\n";
    for (int t = 0; t < confusion.num_classes; ++t) {
        out += csv_field(class_name(classes, t));
        for (int p = 0; p < confusion.num_classes; ++p) {
            out += "," + std::to_string(confusion.at(t, p));
        }
        out += "\n";
    }
    return out;
}

std::string predictions_csv(const Predictions& p, const std::vector<std::string>& classes) {
    std::string out = "path,true,predicted,probability,loss\n";
    for (std::size_t i = 0; i < p.size(); ++i) {
        out += csv_field(i < p.paths.size() ? p.paths[i] : std::string()) + "," +
               csv_field(class_name(classes, p.labels[i])) + "," +
               csv_field(class_name(classes, p.predicted[i])) + "," + float_text(p.confidence(i)) +
               "," + float_text(p.losses[i]) + "\n";
    }
    return out;
}

std::string evaluation_text(const EvaluationReport& r) {
    char line[256];
    std::string out = "evaluated " + r.checkpoint + " on the " + r.split + " split (" +
                      std::to_string(r.predictions.size()) + " images) of " + r.run_dir + "\n\n";
    out += classification_report_text(r.metrics, r.classes);
    std::snprintf(line, sizeof line, "\ntop-%d accuracy %.4f, mean loss %.4f\n\n", kTopK,
                  r.top5_accuracy, r.mean_loss);
    out += line;
    out += confusion_matrix_text(r.metrics.confusion, r.classes);
    return out;
}

}  // namespace wb
