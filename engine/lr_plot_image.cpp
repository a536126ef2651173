#include "engine/lr_plot_image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

namespace wb {

namespace {

const cv::Scalar kWhite(255, 255, 255);
const cv::Scalar kAxis(60, 60, 60);
const cv::Scalar kGrid(225, 225, 225);
const cv::Scalar kRaw(230, 190, 150);     // light blue (BGR)
const cv::Scalar kSmoothed(160, 80, 20);  // dark blue
// The window's colours (widgets/lr_plot.cpp), in BGR.
const cv::Scalar kSteepest(14, 127, 255);   // orange
const cv::Scalar kValley(44, 160, 44);      // green
const cv::Scalar kMinDiv10(189, 103, 148);  // purple
const cv::Scalar kPicked(40, 39, 214);      // red
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

std::string rate_text(double lr) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2e", lr);
    return text;
}

std::string loss_text(double loss) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", loss);
    return text;
}

/// A step of 1, 2 or 5 times a power of ten that cuts `span` into about `parts`.
double nice_step(double span, int parts) {
    const double raw = span / parts;
    const double base = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (m * base >= raw) {
            return m * base;
        }
    }
    return 10 * base;
}

struct Frame {
    cv::Rect area;  // the plot area in pixels
    double x0, x1;  // log10 of the rates at the left and right edges
    double y0, y1;  // losses at the bottom and top edges

    int px(double lr) const {
        return area.x +
               static_cast<int>(std::lround((std::log10(lr) - x0) / (x1 - x0) * (area.width - 1)));
    }
    int py(double loss) const {
        const double t = std::clamp((loss - y0) / (y1 - y0), -0.02, 1.02);
        return area.y + area.height - 1 - static_cast<int>(std::lround(t * (area.height - 1)));
    }
};

void draw_curve(cv::Mat& image, const Frame& f, const std::vector<double>& lrs,
                const std::vector<double>& losses, const cv::Scalar& colour, int thickness) {
    std::vector<cv::Point> run;
    auto flush = [&] {
        if (run.size() >= 2) {
            cv::polylines(image, run, false, colour, thickness, cv::LINE_AA);
        }
        run.clear();
    };
    for (std::size_t i = 0; i < lrs.size() && i < losses.size(); ++i) {
        if (!(lrs[i] > 0) || !std::isfinite(lrs[i]) || !std::isfinite(losses[i])) {
            flush();
            continue;
        }
        run.emplace_back(f.px(lrs[i]), f.py(losses[i]));
    }
    flush();
}

void draw_marker(cv::Mat& image, const Frame& f, double lr, const std::string& label,
                 const cv::Scalar& colour, int row, bool dashed) {
    if (!(lr > 0) || !std::isfinite(lr)) {
        return;
    }
    const int x = f.px(lr);
    if (x < f.area.x || x >= f.area.x + f.area.width) {
        return;
    }
    const int top = f.area.y;
    const int bottom = f.area.y + f.area.height - 1;
    if (dashed) {
        for (int y = top; y < bottom; y += 12) {
            cv::line(image, {x, y}, {x, std::min(y + 6, bottom)}, colour, 2, cv::LINE_AA);
        }
    } else {
        cv::line(image, {x, top}, {x, bottom}, colour, 2, cv::LINE_AA);
    }
    const std::string text = label + " " + rate_text(lr);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, kFont, 0.5, 1, &baseline);
    int tx = x + 5;
    if (tx + size.width > f.area.x + f.area.width) {
        tx = x - 5 - size.width;
    }
    const int ty = top + 18 + row * 20;
    cv::rectangle(image, {tx - 2, ty - size.height - 3}, {tx + size.width + 2, ty + 4}, kWhite,
                  cv::FILLED);
    cv::putText(image, text, {tx, ty}, kFont, 0.5, colour, 1, cv::LINE_AA);
}

}  // namespace

void write_lr_plot_png(const LrFinderResult& r, const std::string& path,
                       std::optional<double> picked, int width, int height) {
    cv::Mat image(height, width, CV_8UC3, kWhite);
    Frame f;
    f.area = cv::Rect(80, 50, width - 110, height - 110);

    // The rate range: the test's rates (all positive by construction).
    double lo_lr = 0, hi_lr = 0;
    for (double lr : r.lrs) {
        if (lr > 0 && std::isfinite(lr)) {
            lo_lr = lo_lr == 0 ? lr : std::min(lo_lr, lr);
            hi_lr = std::max(hi_lr, lr);
        }
    }
    // The loss range: lowest finite loss to the highest smoothed loss before the minimum.
    double lo = INFINITY, hi = -INFINITY;
    std::size_t argmin = 0;
    double best = INFINITY;
    for (std::size_t i = 0; i < r.smoothed.size(); ++i) {
        if (std::isfinite(r.smoothed[i]) && r.smoothed[i] < best) {
            best = r.smoothed[i];
            argmin = i;
        }
    }
    for (std::size_t i = 0; i < r.smoothed.size(); ++i) {
        if (std::isfinite(r.smoothed[i])) {
            lo = std::min(lo, r.smoothed[i]);
            if (i <= argmin) {
                hi = std::max(hi, r.smoothed[i]);
            }
        }
    }
    for (double loss : r.losses) {
        if (std::isfinite(loss)) {
            lo = std::min(lo, loss);
        }
    }
    const bool has_curve = lo_lr > 0 && std::isfinite(lo) && std::isfinite(hi);
    if (has_curve) {
        if (hi_lr <= lo_lr) {
            hi_lr = lo_lr * 10;
        }
        if (hi - lo < 1e-9) {
            hi = lo + std::max(std::abs(lo) * 0.1, 1e-3);
        }
        const double margin = (hi - lo) * 0.08;
        f.x0 = std::log10(lo_lr);
        f.x1 = std::log10(hi_lr);
        f.y0 = lo - margin;
        f.y1 = hi + margin;

        // Grid and tick labels: a vertical line per decade, about six loss steps.
        for (int d = static_cast<int>(std::ceil(f.x0 - 1e-9)); d <= std::floor(f.x1 + 1e-9); ++d) {
            const int x = f.px(std::pow(10.0, d));
            cv::line(image, {x, f.area.y}, {x, f.area.y + f.area.height}, kGrid, 1);
            char label[16];
            std::snprintf(label, sizeof label, "1e%d", d);
            cv::putText(image, label, {x - 14, f.area.y + f.area.height + 20}, kFont, 0.45, kAxis,
                        1, cv::LINE_AA);
        }
        const double step = nice_step(f.y1 - f.y0, 6);
        for (double y = std::ceil(f.y0 / step) * step; y <= f.y1; y += step) {
            const int py = f.py(y);
            cv::line(image, {f.area.x, py}, {f.area.x + f.area.width, py}, kGrid, 1);
            cv::putText(image, loss_text(std::abs(y) < step * 1e-6 ? 0.0 : y), {10, py + 5}, kFont,
                        0.45, kAxis, 1, cv::LINE_AA);
        }
        draw_curve(image, f, r.lrs, r.losses, kRaw, 1);
        draw_curve(image, f, r.lrs, r.smoothed, kSmoothed, 2);
    } else {
        cv::putText(image, "no finite point to draw", {f.area.x + 20, f.area.y + f.area.height / 2},
                    kFont, 0.7, kAxis, 1, cv::LINE_AA);
    }
    cv::rectangle(image, f.area, kAxis, 1);
    cv::putText(image, "learning rate (log scale)",
                {f.area.x + f.area.width / 2 - 100, height - 18}, kFont, 0.5, kAxis, 1,
                cv::LINE_AA);
    cv::putText(image, "loss", {10, f.area.y - 12}, kFont, 0.5, kAxis, 1, cv::LINE_AA);
    const std::string title =
        "Learning-rate range test: " + std::to_string(r.lrs.size()) + " steps, " + r.stop_reason;
    cv::putText(image, title, {f.area.x, 30}, kFont, 0.6, kAxis, 1, cv::LINE_AA);
    if (has_curve) {
        int row = 0;
        const auto mark = [&](const std::optional<double>& lr, const std::string& name,
                              const cv::Scalar& colour) {
            if (lr) {
                draw_marker(image, f, *lr, name, colour, row++, false);
            }
        };
        mark(r.steepest, "steepest", kSteepest);
        mark(r.valley, "valley", kValley);
        mark(r.min_div10, "min/10", kMinDiv10);
        if (picked) {
            draw_marker(image, f, *picked, "picked", kPicked, row, true);
        }
    }
    // Legend, top right inside the plot.
    const int lx = f.area.x + f.area.width - 170;
    const int ly = f.area.y + f.area.height - 50;
    cv::line(image, {lx, ly}, {lx + 30, ly}, kRaw, 1, cv::LINE_AA);
    cv::putText(image, "raw loss", {lx + 38, ly + 5}, kFont, 0.45, kAxis, 1, cv::LINE_AA);
    cv::line(image, {lx, ly + 20}, {lx + 30, ly + 20}, kSmoothed, 2, cv::LINE_AA);
    cv::putText(image, "smoothed loss", {lx + 38, ly + 25}, kFont, 0.45, kAxis, 1, cv::LINE_AA);

    bool ok = false;
    try {
        ok = cv::imwrite(path, image);
    } catch (const cv::Exception&) {
        ok = false;
    }
    if (!ok) {
        throw std::runtime_error(path + ": cannot write the range-test plot");
    }
}

}  // namespace wb
