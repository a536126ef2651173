#include "engine/tensorboard/summary_values.h"

#include <stdexcept>

#include "tbproto/plugins.pb.h"

namespace wb::tb::detail {

namespace {

void set_plugin(proto::Summary::Value& value, const char* plugin_name, std::string content = {}) {
    auto* plugin = value.mutable_metadata()->mutable_plugin_data();
    plugin->set_plugin_name(plugin_name);
    plugin->set_content(std::move(content));
}

proto::Summary::Value tagged(const std::string& tag) {
    check_tag(tag);
    proto::Summary::Value value;
    value.set_tag(tag);
    return value;
}

std::string hex_bytes(std::string_view text) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

}  // namespace

bool is_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        int extra = 0;
        std::uint32_t code = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;  // cut short
        }
        for (int k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3F);
        }
        const std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
        if (code < smallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

void check_tag(const std::string& tag) {
    if (tag.empty()) {
        throw std::invalid_argument("a TensorBoard tag cannot be empty");
    }
    if (!is_utf8(tag)) {
        throw std::invalid_argument("a TensorBoard tag must be UTF-8: \"" + hex_bytes(tag) + "\"");
    }
}

proto::Summary::Value scalar_value(const std::string& tag, float value) {
    proto::Summary::Value out = tagged(tag);
    out.set_simple_value(value);
    set_plugin(out, "scalars");
    return out;
}

proto::Summary::Value histogram_value(const std::string& tag, const Histogram& histogram) {
    proto::Summary::Value out = tagged(tag);
    auto* histo = out.mutable_histo();
    histo->set_min(histogram.min);
    histo->set_max(histogram.max);
    histo->set_num(histogram.num);
    histo->set_sum(histogram.sum);
    histo->set_sum_squares(histogram.sum_squares);
    histo->mutable_bucket_limit()->Add(histogram.bucket_limit.begin(),
                                       histogram.bucket_limit.end());
    histo->mutable_bucket()->Add(histogram.bucket.begin(), histogram.bucket.end());
    set_plugin(out, "histograms");
    return out;
}

proto::Summary::Value image_value(const std::string& tag, int height, int width, int colorspace,
                                  std::string encoded) {
    proto::Summary::Value out = tagged(tag);
    auto* image = out.mutable_image();
    image->set_height(height);
    image->set_width(width);
    image->set_colorspace(colorspace);
    image->set_encoded_image_string(std::move(encoded));
    set_plugin(out, "images");
    return out;
}

proto::Summary::Value text_value(const std::string& tag, const std::string& text) {
    proto::Summary::Value out = tagged(tag);
    auto* tensor = out.mutable_tensor();
    tensor->set_dtype(proto::DT_STRING);
    tensor->mutable_tensor_shape();  // rank 0: one string
    tensor->add_string_val(text);
    proto::TextPluginData data;
    data.set_version(0);
    set_plugin(out, "text", data.SerializeAsString());
    return out;
}

proto::Summary::Value pr_curve_value(const std::string& tag, const PrCurve& curve) {
    const auto n = static_cast<std::size_t>(curve.num_thresholds);
    const std::vector<float>* rows[] = {&curve.true_positives, &curve.false_positives,
                                        &curve.true_negatives, &curve.false_negatives,
                                        &curve.precision,      &curve.recall};
    for (const auto* row : rows) {
        if (curve.num_thresholds < 2 || row->size() != n) {
            throw std::invalid_argument("a PR curve with " + std::to_string(n) +
                                        " thresholds needs 6 rows of that length");
        }
    }
    proto::Summary::Value out = tagged(tag);
    auto* tensor = out.mutable_tensor();
    tensor->set_dtype(proto::DT_FLOAT);
    tensor->mutable_tensor_shape()->add_dim()->set_size(6);
    tensor->mutable_tensor_shape()->add_dim()->set_size(curve.num_thresholds);
    for (const auto* row : rows) {
        tensor->mutable_float_val()->Add(row->begin(), row->end());
    }
    proto::PrCurvePluginData data;
    data.set_version(0);
    data.set_num_thresholds(static_cast<std::uint32_t>(curve.num_thresholds));
    set_plugin(out, "pr_curves", data.SerializeAsString());
    return out;
}

}  // namespace wb::tb::detail
