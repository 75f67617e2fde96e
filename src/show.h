// SPDX-License-Identifier: GPL-2.0-only
// Rendering of bundles on a terminal (kperflab show).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "histogram.h"

namespace kperflab {

std::string format_ns(double ns);
std::string format_value(double v, const std::string& unit);
void draw_histogram(const Histogram& h, const std::string& unit);
// One probe's metrics, skips and its tables (repetition extra "tables").
void show_probe(const std::string& name, const nlohmann::json& doc, bool hist);

}  // namespace kperflab
