#include "engine/metrics.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace wb {

namespace {

/// a / b, or 0 when b is 0 (scikit-learn's zero_division=0).
double ratio(double a, double b) {
    return b == 0 ? 0.0 : a / b;
}

std::string fixed(double value, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, value);
    return buf;
}

/// Columns `text` takes in a terminal: one per UTF-8 character, two for the wide East Asian
/// ones (CJK, Hangul, full-width forms), so that class names in any script line up.
std::size_t display_width(const std::string& text) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const std::size_t length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
        std::uint32_t cp = length == 1 ? byte : byte & (0x7Fu >> length);
        for (std::size_t k = 1; k < length && i + k < text.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
        }
        const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                          (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                          (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                          (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
        width += wide ? 2 : 1;
        i += length;
    }
    return width;
}

std::string pad_left(const std::string& text, std::size_t width) {
    const std::size_t w = display_width(text);
    return w >= width ? text : std::string(width - w, ' ') + text;
}

}  // namespace

ConfusionMatrix confusion_matrix(const std::vector<int>& labels, const std::vector<int>& predicted,
                                 int num_classes) {
    if (num_classes < 1) {
        throw std::invalid_argument("confusion_matrix: num_classes must be at least 1, got " +
                                    std::to_string(num_classes));
    }
    if (labels.size() != predicted.size()) {
        throw std::invalid_argument("confusion_matrix: " + std::to_string(labels.size()) +
                                    " labels but " + std::to_string(predicted.size()) +
                                    " predictions");
    }
    ConfusionMatrix m;
    m.num_classes = num_classes;
    m.counts.assign(static_cast<std::size_t>(num_classes) * num_classes, 0);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int t = labels[i];
        const int p = predicted[i];
        if (t < 0 || t >= num_classes || p < 0 || p >= num_classes) {
            throw std::invalid_argument("confusion_matrix: image " + std::to_string(i) +
                                        " has true class " + std::to_string(t) + " and predicted " +
                                        std::to_string(p) + ", outside 0.." +
                                        std::to_string(num_classes - 1));
        }
        ++m.counts[static_cast<std::size_t>(t) * num_classes + p];
    }
    return m;
}

ClassificationMetrics classification_metrics(const ConfusionMatrix& confusion) {
    const int n = confusion.num_classes;
    ClassificationMetrics r;
    r.confusion = confusion;
    r.per_class.resize(static_cast<std::size_t>(n));
    std::int64_t total = 0;
    for (int k = 0; k < n; ++k) {
        std::int64_t row = 0;
        std::int64_t column = 0;
        for (int j = 0; j < n; ++j) {
            row += confusion.at(k, j);
            column += confusion.at(j, k);
        }
        const double tp = static_cast<double>(confusion.at(k, k));
        ClassMetrics& c = r.per_class[static_cast<std::size_t>(k)];
        c.precision = ratio(tp, static_cast<double>(column));
        c.recall = ratio(tp, static_cast<double>(row));
        c.f1 = ratio(2 * c.precision * c.recall, c.precision + c.recall);
        c.support = row;
        total += row;
        r.correct += confusion.at(k, k);
    }
    r.accuracy = ratio(static_cast<double>(r.correct), static_cast<double>(total));
    for (const ClassMetrics& c : r.per_class) {
        r.macro.precision += c.precision;
        r.macro.recall += c.recall;
        r.macro.f1 += c.f1;
        r.weighted.precision += c.precision * static_cast<double>(c.support);
        r.weighted.recall += c.recall * static_cast<double>(c.support);
        r.weighted.f1 += c.f1 * static_cast<double>(c.support);
    }
    if (n > 0) {
        r.macro.precision /= n;
        r.macro.recall /= n;
        r.macro.f1 /= n;
    }
    r.weighted.precision = ratio(r.weighted.precision, static_cast<double>(total));
    r.weighted.recall = ratio(r.weighted.recall, static_cast<double>(total));
    r.weighted.f1 = ratio(r.weighted.f1, static_cast<double>(total));
    r.macro.support = total;
    r.weighted.support = total;
    return r;
}

ClassificationMetrics classification_metrics(const std::vector<int>& labels,
                                             const std::vector<int>& predicted, int num_classes) {
    return classification_metrics(confusion_matrix(labels, predicted, num_classes));
}

double top_k_accuracy(const std::vector<float>& probabilities, const std::vector<int>& labels,
                      int num_classes, int k) {
    if (k < 1 || num_classes < 1) {
        throw std::invalid_argument("top_k_accuracy: k and num_classes must be at least 1");
    }
    const std::size_t c = static_cast<std::size_t>(num_classes);
    if (probabilities.size() != labels.size() * c) {
        throw std::invalid_argument("top_k_accuracy: " + std::to_string(probabilities.size()) +
                                    " scores for " + std::to_string(labels.size()) + " images of " +
                                    std::to_string(num_classes) + " classes");
    }
    if (labels.empty()) {
        return 0.0;
    }
    std::size_t hits = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int t = labels[i];
        if (t < 0 || t >= num_classes) {
            throw std::invalid_argument("top_k_accuracy: label " + std::to_string(t) +
                                        " outside 0.." + std::to_string(num_classes - 1));
        }
        const float* row = probabilities.data() + i * c;
        // Classes ranked before the true one: a higher score, or an equal score and a higher
        // index (scikit-learn's reversed stable sort).
        int ahead = 0;
        for (int j = 0; j < num_classes; ++j) {
            if (row[j] > row[t] || (row[j] == row[t] && j > t)) {
                ++ahead;
            }
        }
        hits += ahead < k;
    }
    return static_cast<double>(hits) / static_cast<double>(labels.size());
}

std::string classification_report_text(const ClassificationMetrics& m,
                                       const std::vector<std::string>& class_names, int digits) {
    const std::size_t n = m.per_class.size();
    std::size_t name_width = std::string("weighted avg").size();
    for (std::size_t k = 0; k < n; ++k) {
        name_width =
            std::max(name_width, k < class_names.size() ? display_width(class_names[k]) : 0);
    }
    const std::size_t w = std::max<std::size_t>(9, static_cast<std::size_t>(digits) + 5);
    auto row = [&](const std::string& name, const ClassMetrics& c) {
        return pad_left(name, name_width) + " " + pad_left(fixed(c.precision, digits), w) + " " +
               pad_left(fixed(c.recall, digits), w) + " " + pad_left(fixed(c.f1, digits), w) + " " +
               pad_left(std::to_string(c.support), w) + "\n";
    };
    std::string out = std::string(name_width, ' ') + " " + pad_left("precision", w) + " " +
                      pad_left("recall", w) + " " + pad_left("f1-score", w) + " " +
                      pad_left("support", w) + "\n\n";
    for (std::size_t k = 0; k < n; ++k) {
        out += row(k < class_names.size() ? class_names[k] : std::to_string(k), m.per_class[k]);
    }
    out += "\n" + pad_left("accuracy", name_width) + " " + std::string(2 * (w + 1), ' ') +
           pad_left(fixed(m.accuracy, digits), w) + " " +
           pad_left(std::to_string(m.macro.support), w) + "\n";
    out += row("macro avg", m.macro);
    out += row("weighted avg", m.weighted);
    return out;
}

std::string confusion_matrix_text(const ConfusionMatrix& confusion,
                                  const std::vector<std::string>& class_names) {
    const int n = confusion.num_classes;
    std::vector<std::string> row_names;
    std::size_t name_width = 0;
    for (int k = 0; k < n; ++k) {
        const std::size_t i = static_cast<std::size_t>(k);
        row_names.push_back(std::to_string(k) + " " +
                            (i < class_names.size() ? class_names[i] : std::string()));
        name_width = std::max(name_width, display_width(row_names.back()));
    }
    std::size_t w = std::to_string(std::max(n - 1, 0)).size();
    for (std::int64_t count : confusion.counts) {
        w = std::max(w, std::to_string(count).size());
    }
    w += 1;
    std::string out = "rows: true class, columns: predicted class\n" + std::string(name_width, ' ');
    for (int k = 0; k < n; ++k) {
        out += " " + pad_left(std::to_string(k), w);
    }
    out += "\n";
    for (int t = 0; t < n; ++t) {
        out += row_names[static_cast<std::size_t>(t)] +
               std::string(name_width - display_width(row_names[static_cast<std::size_t>(t)]), ' ');
        for (int p = 0; p < n; ++p) {
            out += " " + pad_left(std::to_string(confusion.at(t, p)), w);
        }
        out += "\n";
    }
    return out;
}

}  // namespace wb
