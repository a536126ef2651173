#include "engine/torchscript_model.h"

#include <torch/nn/modules/linear.h>
#include <torch/script.h>

#include "engine/errors.h"

namespace wb {

namespace {

bool is_type(const torch::jit::Module& module, const std::string& prefix, const std::string& name) {
    const auto qualified = module.type()->name();
    if (!qualified) {
        return false;
    }
    const std::string text = qualified->qualifiedName();
    // Instances with other constants get mangled names: __torch__.torch.nn.modules.linear.
    // ___torch_mangle_3.Linear.
    return text.rfind(prefix, 0) == 0 && text.size() > name.size() &&
           text.compare(text.size() - name.size() - 1, name.size() + 1, "." + name) == 0;
}

/// Registers the parameters, buffers and submodules of `script` on `target` by the same
/// names: the tensors are shared, so an optimizer step or a loaded checkpoint reaches both.
void mirror(const torch::jit::Module& script, torch::nn::Module& target) {
    for (const auto& p : script.named_parameters(/*recurse=*/false)) {
        target.register_parameter(p.name, p.value, p.value.requires_grad());
    }
    for (const auto& b : script.named_buffers(/*recurse=*/false)) {
        target.register_buffer(b.name, b.value);
    }
    for (const auto& child : script.named_children()) {
        auto module = std::make_shared<torch::nn::Module>();
        mirror(child.value, *module);
        target.register_module(child.name, module);
    }
}

class TorchScriptClassifier : public Classifier {
public:
    TorchScriptClassifier(const std::string& path, int num_classes) {
        try {
            script_ = torch::jit::load(path, torch::kCPU);
        } catch (const c10::Error& error) {
            throw ConfigError("", 0, 0,
                              "model.weights: " + path +
                                  ": not a TorchScript archive (save one with "
                                  "torch.jit.script(model).save(path)): " +
                                  error.what_without_backtrace());
        }
        for (const auto& m : script_.named_modules()) {
            if (is_type(m.value, "__torch__.torch.nn.modules.linear", "Linear")) {
                head_name_ = m.name;
                head_ = m.value;
            }
        }
        if (head_name_.empty()) {
            throw ConfigError("", 0, 0,
                              "model.weights: " + path +
                                  ": the TorchScript module has no torch.nn.Linear layer to "
                                  "replace with a head for the dataset's classes");
        }
        const at::Tensor weight = head_.attr("weight").toTensor();
        features_ = weight.size(1);
        if (weight.size(0) != num_classes) {
            torch::nn::Linear fresh(features_, num_classes);
            head_.register_parameter("weight", fresh->weight.detach().clone(), false);
            head_.register_parameter("bias", fresh->bias.detach().clone(), false);
        }
        for (auto p : script_.parameters(/*recurse=*/true)) {
            p.requires_grad_(true);
        }
        mirror(script_, *this);
    }

    torch::Tensor forward(torch::Tensor x) override {
        return script_.forward({std::move(x)}).toTensor();
    }

    torch::Tensor features(torch::Tensor x) override {
        // The head as the identity for one forward pass; put back however it ends.
        const at::Tensor weight = head_.attr("weight").toTensor();
        const at::Tensor bias = head_.attr("bias").toTensor();
        struct Restore {
            torch::jit::Module head;
            at::Tensor weight, bias;
            ~Restore() {
                head.setattr("weight", weight);
                head.setattr("bias", bias);
            }
        } restore{head_, weight, bias};
        head_.setattr("weight", torch::eye(features_, weight.options()));
        head_.setattr("bias", torch::zeros({features_}, bias.options()));
        return forward(std::move(x));
    }

    torch::Tensor classify(torch::Tensor features) override {
        return torch::linear(features, head_.attr("weight").toTensor(),
                             head_.attr("bias").toTensor());
    }

    std::int64_t feature_size() const override { return features_; }
    std::string head_prefix() const override { return head_name_ + "."; }

    void train(bool on) override {
        Classifier::train(on);
        script_.train(on);
        if (!on) {
            return;
        }
        // As Classifier::train(): batch norm with frozen weight and bias runs in eval mode.
        for (const auto& m : script_.named_modules()) {
            if (is_type(m.value, "__torch__.torch.nn.modules.batchnorm", "BatchNorm2d") &&
                m.value.hasattr("weight") && m.value.attr("weight").isTensor() &&
                !m.value.attr("weight").toTensor().requires_grad()) {
                torch::jit::Module bn = m.value;
                bn.train(false);
            }
        }
    }

    void save(const std::string& path) { script_.save(path); }

private:
    torch::jit::Module script_;
    torch::jit::Module head_;
    std::string head_name_;
    std::int64_t features_ = 0;
};

}  // namespace

std::shared_ptr<Classifier> make_torchscript_classifier(const std::string& path, int num_classes) {
    return std::make_shared<TorchScriptClassifier>(path, num_classes);
}

bool save_torchscript(Classifier& model, const std::string& path) {
    auto* script = dynamic_cast<TorchScriptClassifier*>(&model);
    if (!script) {
        return false;
    }
    script->save(path);
    return true;
}

}  // namespace wb
