#pragma once

// Single-image inference with a trained run: its model, checkpoint, classes and exactly the
// preprocessing saved in its experiment.yaml (normalization statistics included).

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wb {

class Predictor {
public:
    /// Loads <run_dir>/experiment.yaml, classes.txt and `checkpoint` (a file in the run
    /// folder, or an absolute path). Throws DataError naming the file that is missing or
    /// cannot be read, ConfigError for a bad experiment file.
    explicit Predictor(const std::string& run_dir, const std::string& checkpoint = "best.pt");
    ~Predictor();
    Predictor(const Predictor&) = delete;
    Predictor& operator=(const Predictor&) = delete;

    const std::vector<std::string>& classes() const;

    /// The `k` most probable classes of the image file (softmax probabilities), most probable
    /// first. Throws DataError naming the file when it cannot be decoded.
    std::vector<std::pair<std::string, double>> predict(const std::string& image_path,
                                                        int k = 5) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace wb
