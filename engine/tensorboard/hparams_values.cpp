#include <google/protobuf/struct.pb.h>

#include <stdexcept>

#include "engine/tensorboard/summary_values.h"
#include "tbproto/hparams.pb.h"

namespace wb::tb::detail {

namespace {

// The plugin rejects other versions of its data.
constexpr int kHParamsDataVersion = 0;

void check_text(const std::string& text, const char* what) {
    if (!is_utf8(text)) {
        throw std::invalid_argument(std::string("a hyperparameter ") + what +
                                    " must be UTF-8: " + text);
    }
}

void set_value(google::protobuf::Value& out, const HParamValue& value) {
    switch (value.kind()) {
        case HParamValue::Kind::Number:
            out.set_number_value(value.number());
            break;
        case HParamValue::Kind::String:
            check_text(value.string(), "value");
            out.set_string_value(value.string());
            break;
        case HParamValue::Kind::Bool:
            out.set_bool_value(value.boolean());
            break;
    }
}

proto::HParamDataType data_type(HParamValue::Kind kind) {
    switch (kind) {
        case HParamValue::Kind::Number:
            return proto::DATA_TYPE_FLOAT64;
        case HParamValue::Kind::String:
            return proto::DATA_TYPE_STRING;
        case HParamValue::Kind::Bool:
            return proto::DATA_TYPE_BOOL;
    }
    return proto::DATA_TYPE_UNSET;
}

/// The summary every hparams event carries: plugin "hparams", the plugin data as content and
/// the scalar float 0 that TensorBoard itself stores as the tensor of these summaries.
proto::Summary::Value plugin_value(const char* tag, const proto::HParamsPluginData& data) {
    proto::Summary::Value out;
    out.set_tag(tag);
    auto* plugin = out.mutable_metadata()->mutable_plugin_data();
    plugin->set_plugin_name("hparams");
    plugin->set_content(data.SerializeAsString());
    auto* tensor = out.mutable_tensor();
    tensor->set_dtype(proto::DT_FLOAT);
    tensor->mutable_tensor_shape();
    tensor->add_float_val(0.0f);
    return out;
}

}  // namespace

proto::Summary::Value hparams_experiment_value(const HParamsExperiment& experiment, double now) {
    proto::HParamsPluginData data;
    data.set_version(kHParamsDataVersion);
    auto* out = data.mutable_experiment();
    out->set_name(experiment.name);
    out->set_description(experiment.description);
    out->set_user(experiment.user);
    out->set_time_created_secs(experiment.time_created_secs != 0 ? experiment.time_created_secs
                                                                 : now);
    for (const HParamInfo& info : experiment.hparams) {
        check_text(info.name, "name");
        auto* h = out->add_hparam_infos();
        h->set_name(info.name);
        h->set_display_name(info.display_name);
        h->set_description(info.description);
        h->set_type(data_type(info.type));
        if (!info.domain_discrete.empty()) {
            auto* list = h->mutable_domain_discrete();
            for (const HParamValue& v : info.domain_discrete) {
                set_value(*list->add_values(), v);
            }
        } else if (info.domain_interval) {
            h->mutable_domain_interval()->set_min_value(info.domain_interval->first);
            h->mutable_domain_interval()->set_max_value(info.domain_interval->second);
        }
    }
    for (const MetricInfo& info : experiment.metrics) {
        check_tag(info.tag);
        auto* m = out->add_metric_infos();
        m->mutable_name()->set_group(info.group);
        m->mutable_name()->set_tag(info.tag);
        m->set_display_name(info.display_name);
        m->set_description(info.description);
        m->set_dataset_type(static_cast<proto::DatasetType>(info.dataset_type));
    }
    return plugin_value(kHParamsExperimentTag, data);
}

proto::Summary::Value hparams_session_start_value(const HParams& hparams,
                                                  const SessionStartOptions& options, double now) {
    proto::HParamsPluginData data;
    data.set_version(kHParamsDataVersion);
    auto* out = data.mutable_session_start_info();
    for (const auto& [name, value] : hparams) {
        check_text(name, "name");
        set_value((*out->mutable_hparams())[name], value);
    }
    out->set_model_uri(options.model_uri);
    out->set_monitor_url(options.monitor_url);
    out->set_group_name(options.group_name);
    out->set_start_time_secs(options.start_time_secs != 0 ? options.start_time_secs : now);
    return plugin_value(kHParamsSessionStartTag, data);
}

proto::Summary::Value hparams_session_end_value(SessionStatus status, double now) {
    proto::HParamsPluginData data;
    data.set_version(kHParamsDataVersion);
    auto* out = data.mutable_session_end_info();
    out->set_status(static_cast<proto::Status>(status));
    out->set_end_time_secs(now);
    return plugin_value(kHParamsSessionEndTag, data);
}

}  // namespace wb::tb::detail
