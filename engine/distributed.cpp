// Data-parallel collectives over c10d: a rendezvous through a TCPStore that rank 0 serves, then
// a Gloo (or NCCL) process group. Tensors travel as one flat buffer per dtype and device, so a
// model's gradients cost one allreduce, not one per parameter.

#include "engine/distributed.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "engine/errors.h"

#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace wb {

namespace {

constexpr double kDefaultTimeoutSeconds = 300;

struct Settings {
    int rank = 0;
    int world_size = 1;
    int local_rank = 0;
    int local_world_size = 1;
    std::string address;
    std::uint16_t port = 0;
    std::chrono::milliseconds timeout{0};
};

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

[[noreturn]] void refuse(const std::string& what) {
    throw ConfigError("environment", 0, 0, what);
}

std::string quoted(const char* name, const std::string& value) {
    return std::string(name) + "='" + value + "'";
}

/// The whole of `value` as an integer in [low, high], or a ConfigError that says `expected`.
long parse_int(const char* name, const std::string& value, long low, long high,
               const std::string& expected) {
    long out = 0;
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, out);
    if (value.empty() || ec != std::errc() || ptr != end || out < low || out > high) {
        refuse(quoted(name, value) + " " + expected);
    }
    return out;
}

std::string required(const char* name, const std::string& why) {
    const std::optional<std::string> value = env(name);
    if (!value || value->empty()) {
        refuse(std::string(name) + " is not set; " + why);
    }
    return *value;
}

/// Reads and checks the variables. Nothing when WORLD_SIZE is unset or 1.
std::optional<Settings> read_settings() {
    const std::optional<std::string> world = env("WORLD_SIZE");
    if (!world) {
        return std::nullopt;
    }
    Settings s;
    s.world_size = int(
        parse_int("WORLD_SIZE", *world, 1, 1 << 20, "is not a number of processes (1 or more)"));
    if (s.world_size == 1) {
        return std::nullopt;
    }
    const std::string group = "WORLD_SIZE=" + *world;
    const std::string last = std::to_string(s.world_size - 1);
    s.rank =
        int(parse_int("RANK", required("RANK", "each process of " + group + " needs one"), 0,
                      s.world_size - 1, "is not a rank from 0 to " + last + " (" + group + ")"));
    s.address = required("MASTER_ADDR", "it is the address of rank 0, needed with " + group);
    s.port = std::uint16_t(parse_int(
        "MASTER_PORT", required("MASTER_PORT", "it is rank 0's port, needed with " + group), 1,
        65535, "is not a port number (1 to 65535)"));
    s.local_rank = s.rank;
    if (const std::optional<std::string> local = env("LOCAL_RANK")) {
        s.local_rank = int(parse_int("LOCAL_RANK", *local, 0, s.world_size - 1,
                                     "is not a rank from 0 to " + last + " (" + group + ")"));
    }
    s.local_world_size = s.world_size;
    if (const std::optional<std::string> local = env("LOCAL_WORLD_SIZE")) {
        s.local_world_size = int(parse_int("LOCAL_WORLD_SIZE", *local, 1, s.world_size,
                                           "is not a number of processes from 1 to " +
                                               std::to_string(s.world_size) + " (" + group + ")"));
    }
    double seconds = kDefaultTimeoutSeconds;
    if (const std::optional<std::string> t = env("WB_DIST_TIMEOUT")) {
        char* end = nullptr;
        seconds = std::strtod(t->c_str(), &end);
        if (t->empty() || end != t->c_str() + t->size() || !(seconds > 0) || seconds > 1e6) {
            refuse(quoted("WB_DIST_TIMEOUT", *t) + " is not a positive number of seconds");
        }
    }
    s.timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
    return s;
}

std::string seconds_text(std::chrono::milliseconds t) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", double(t.count()) / 1000.0);
    return text;
}

/// The message of `e`, without the C++ backtrace that c10 appends.
std::string reason(const std::exception& e) {
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
        return c10->what_without_backtrace();
    }
    return e.what();
}

bool is_loopback(const std::string& address) {
    return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

/// The network device Gloo binds to: the loopback address when every rank runs here, the
/// interface GLOO_SOCKET_IFNAME names, or the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& address) {
    if (is_loopback(address)) {
        return c10d::ProcessGroupGloo::createDeviceForHostname(address);
    }
    if (const std::optional<std::string> name = env("GLOO_SOCKET_IFNAME")) {
        return c10d::ProcessGroupGloo::createDeviceForInterface(*name);
    }
    return c10d::ProcessGroupGloo::createDefaultDevice();
}

/// Tensors of one dtype and device, in the order the caller gave them.
struct Bucket {
    at::ScalarType dtype;
    at::Device device;
    std::vector<std::size_t> members;  ///< indices into the caller's vector
    std::int64_t numel = 0;
};

std::vector<Bucket> buckets_of(const std::vector<at::Tensor>& tensors) {
    std::vector<Bucket> buckets;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const at::Tensor& t = tensors[i];
        if (!t.defined()) {
            throw std::invalid_argument("Distributed: undefined tensor at position " +
                                        std::to_string(i));
        }
        auto it = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
            return b.dtype == t.scalar_type() && b.device == t.device();
        });
        if (it == buckets.end()) {
            buckets.push_back({t.scalar_type(), t.device(), {}, 0});
            it = buckets.end() - 1;
        }
        it->members.push_back(i);
        it->numel += t.numel();
    }
    return buckets;
}

}  // namespace

struct Distributed::Impl {
    Settings settings;
    at::Device device{at::kCPU};  ///< where the scalars of sum() and any() travel
    // Declared before the group, which uses it, so that it is destroyed after it.
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> group;
    /// The first failure; the group is unusable after one.
    std::string broken;

    std::string who() const {
        return "rank " + std::to_string(settings.rank) + " of " +
               std::to_string(settings.world_size);
    }

    /// Runs one collective and waits for it; a failure becomes a TrainingError.
    void run(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
        if (!broken.empty()) {
            throw TrainingError("Distributed " + std::string(what) + " on " + who() +
                                ": the group failed earlier: " + broken);
        }
        try {
            start()->wait();
        } catch (const std::exception& e) {
            broken = reason(e);
            throw TrainingError("Distributed " + std::string(what) + " failed on " + who() +
                                " (a process exited or did not take part within " +
                                seconds_text(settings.timeout) + "): " + broken);
        }
    }
};

Distributed::Distributed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Distributed::~Distributed() = default;

std::unique_ptr<Distributed> Distributed::from_environment(const std::string& device_type) {
    if (device_type != "cpu" && device_type != "cuda") {
        throw std::invalid_argument("Distributed: unknown device type '" + device_type + "'");
    }
    const std::optional<Settings> settings = read_settings();
    if (!settings) {
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->settings = *settings;
    const Settings& s = impl->settings;
    const std::string where = s.address + ":" + std::to_string(s.port);
    try {
        c10d::TCPStoreOptions store_options;
        store_options.port = s.port;
        store_options.isServer = s.rank == 0;
        store_options.numWorkers = std::size_t(s.world_size);
        // The group's own rendezvous waits for the others, once: with the store waiting too,
        // a rank that never came was waited for twice the timeout.
        store_options.waitWorkers = false;
        store_options.timeout = s.timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(s.address, store_options);
        if (device_type == "cuda") {
#ifdef USE_C10D_NCCL
            c10::cuda::set_device(static_cast<c10::DeviceIndex>(s.local_rank));
            impl->device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(s.local_rank));
            // wait() then throws once the timeout passes, instead of blocking for ever.
            setenv("NCCL_BLOCKING_WAIT", "1", /*overwrite=*/0);
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = s.timeout;
            impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, s.rank,
                                                                      s.world_size, options);
#else
            throw TrainingError("Distributed training on cuda needs a libtorch built with NCCL");
#endif
        } else {
            auto options = c10d::ProcessGroupGloo::Options::create(s.timeout);
            options->devices.push_back(gloo_device(s.address));
            impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, s.rank,
                                                                      s.world_size, options);
        }
    } catch (const TrainingError&) {
        throw;
    } catch (const std::exception& e) {
        throw TrainingError("Distributed: " + impl->who() + " could not join the group at " +
                            where + " within " + seconds_text(s.timeout) +
                            " (WB_DIST_TIMEOUT); is every one of the " +
                            std::to_string(s.world_size) + " processes started? " + reason(e));
    }
    return std::unique_ptr<Distributed>(new Distributed(std::move(impl)));
}

int Distributed::rank() const {
    return impl_->settings.rank;
}

int Distributed::world_size() const {
    return impl_->settings.world_size;
}

int Distributed::local_rank() const {
    return impl_->settings.local_rank;
}

int Distributed::local_world_size() const {
    return impl_->settings.local_world_size;
}

bool Distributed::is_main() const {
    return impl_->settings.rank == 0;
}

std::chrono::milliseconds Distributed::timeout() const {
    return impl_->settings.timeout;
}

void Distributed::broadcast_parameters(const std::vector<at::Tensor>& tensors) {
    at::NoGradGuard no_grad;
    for (const Bucket& bucket : buckets_of(tensors)) {
        if (bucket.numel == 0) {
            continue;  // the same on every rank, since the shapes are
        }
        at::Tensor flat = at::empty({bucket.numel},
                                    at::TensorOptions().dtype(bucket.dtype).device(bucket.device));
        std::int64_t offset = 0;
        for (std::size_t i : bucket.members) {
            const at::Tensor& t = tensors[i];
            flat.narrow(0, offset, t.numel()).view(t.sizes()).copy_(t);
            offset += t.numel();
        }
        std::vector<at::Tensor> io{flat};
        impl_->run("broadcast", [&] { return impl_->group->broadcast(io); });
        if (is_main()) {
            continue;
        }
        offset = 0;
        for (std::size_t i : bucket.members) {
            at::Tensor t = tensors[i];
            t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
            offset += t.numel();
        }
    }
}

void Distributed::average_gradients(const std::vector<at::Tensor>& params) {
    at::NoGradGuard no_grad;
    for (const Bucket& bucket : buckets_of(params)) {
        // The grads, then one count per parameter of the ranks on which its grad is defined.
        const auto count = static_cast<std::int64_t>(bucket.members.size());
        at::Tensor flat = at::empty({bucket.numel + count},
                                    at::TensorOptions().dtype(bucket.dtype).device(bucket.device));
        at::Tensor defined = at::empty({count}, at::kFloat);
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < bucket.members.size(); ++k) {
            const at::Tensor& p = params[bucket.members[k]];
            const at::Tensor& grad = p.grad();
            at::Tensor slice = flat.narrow(0, offset, p.numel()).view(p.sizes());
            if (grad.defined()) {
                if (grad.is_sparse()) {
                    throw std::invalid_argument("Distributed: sparse gradients are not supported");
                }
                slice.copy_(grad);
            } else {
                slice.zero_();
            }
            defined.data_ptr<float>()[k] = grad.defined() ? 1.f : 0.f;
            offset += p.numel();
        }
        flat.narrow(0, bucket.numel, count).copy_(defined);
        std::vector<at::Tensor> io{flat};
        impl_->run("allreduce of the gradients", [&] { return impl_->group->allreduce(io); });
        flat.narrow(0, 0, bucket.numel).div_(world_size());
        const at::Tensor ranks_defined =
            flat.narrow(0, bucket.numel, count).to(at::kCPU, at::kFloat);
        const float* ranks = ranks_defined.data_ptr<float>();
        offset = 0;
        for (std::size_t k = 0; k < bucket.members.size(); ++k) {
            at::Tensor p = params[bucket.members[k]];
            const at::Tensor mean = flat.narrow(0, offset, p.numel()).view(p.sizes());
            offset += p.numel();
            if (ranks[k] == 0.f) {
                continue;  // undefined everywhere: stays so
            }
            if (p.grad().defined()) {
                p.mutable_grad().copy_(mean);
            } else {
                p.mutable_grad() = mean.clone();
            }
        }
    }
}

double Distributed::sum(double value) {
    return sum(std::vector<double>{value}).front();
}

std::vector<double> Distributed::sum(const std::vector<double>& values) {
    if (values.empty()) {
        return {};
    }
    at::Tensor host = at::empty({std::int64_t(values.size())}, at::kDouble);
    std::memcpy(host.data_ptr<double>(), values.data(), values.size() * sizeof(double));
    std::vector<at::Tensor> io{host.to(impl_->device)};
    impl_->run("sum", [&] { return impl_->group->allreduce(io); });
    const at::Tensor result = io.front().to(at::kCPU);
    const double* out = result.data_ptr<double>();
    return std::vector<double>(out, out + values.size());
}

bool Distributed::any(bool flag) {
    return sum(flag ? 1.0 : 0.0) > 0.0;
}

void Distributed::barrier() {
    impl_->run("barrier", [&] { return impl_->group->barrier(); });
}

}  // namespace wb
