// SPDX-License-Identifier: GPL-2.0-only
// What analysis holds of a bundle (issue #27 item 5): compare, series,
// noise and campaign read a few statistics per metric and repetition, yet
// held every bundle's JSON tree whole (36 MB for a 9.5 MB bundle of a
// 64-CPU host). A bundle is loaded and validated by Bundle::load as before,
// reduced at once to a BundleSummary and its tree freed. A summary is plain
// data (no JsonView into a freed tree), so a catalog could keep it per file
// identity (issue #30).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/bundle.h"
#include "results/json_access.h"

namespace kperflab {

// What a metric is: shared by its repetitions and by every metric of the
// probe with the same kind, unit and labels (labels dominate a probe's
// text: 1,783 distinct over 16,000 metric values in a real bundle).
struct MetricInfo {
  bool histogram = false;
  std::string unit;
  nlohmann::json labels = nlohmann::json::object();  // {} when the metric has none
  // labels.better ("" for none or absent), labels.comparable_with ("" when
  // absent); a comparable_with that is no string is refused on load.
  std::string better, comparable_with;
};

// The statistics of one metric in one repetition.
struct MetricValues {
  // A histogram's p50, p90, p99, p99_9, mean; a scalar's value in [0].
  // NaN where the bundle has none (mean and value may be null).
  static constexpr const char* kStats[] = {"p50", "p90", "p99", "p99_9", "mean"};
  std::array<double, 5> stat{};
  uint64_t count = 0;       // histograms: samples (overflow included)
  uint64_t hist_at = 0;     // the encoded histogram in ProbeSummary::hist_text
  uint32_t hist_len = 0;
  uint32_t name = 0;        // index into ProbeSummary::names
  uint32_t info = 0;        // index into ProbeSummary::infos
  bool overflow = false;    // histograms: values past the range were recorded
};

// A repetition's extra.matrices entry, as `compare --format html` merges
// them (title and unit as JsonView::text gives them).
struct MatrixSummary {
  std::string title, unit;
  nlohmann::json rows, cols;   // the labels
  std::vector<double> values;  // rows x cols, row-major; NaN where no number
};

struct RepSummary {
  std::vector<MetricValues> metrics;  // by name (the names' order is sorted)
  std::vector<MatrixSummary> matrices;
};

struct ProbeSummary {
  nlohmann::json parameters;
  std::vector<std::string> names;  // every metric name of the probe, sorted
  std::vector<std::shared_ptr<const MetricInfo>> infos;
  std::string hist_text;  // each histogram's base64 text, end to end
  std::vector<RepSummary> reps;

  std::string_view hist(const MetricValues& m) const;
  const std::string& name(const MetricValues& m) const { return names[m.name]; }
  const MetricInfo& info(const MetricValues& m) const { return *infos[m.info]; }
  // The metric of that name in a repetition, nullptr when it has none.
  const MetricValues* find(const RepSummary& rep, std::string_view metric) const;
};

struct BundleSummary {
  std::filesystem::path dir;
  nlohmann::json meta;  // meta.json whole: provenance reads much of it (25 KB for 64 CPUs)
  std::map<std::string, ProbeSummary> probes;
  // Bytes the summary holds in memory (an estimate from sizes and
  // capacities, within ~20% of what malloc reports): estimate_bytes().
  size_t bytes = 0;
  // Whether each probe's hist_text is held: a command that plots no
  // histogram loads summaries without them (issue #30: compare reads HDR
  // payloads only for what it plots). ProbeSummary::hist() of a summary
  // without them throws std::logic_error.
  bool histograms = true;

  // The summary of a loaded bundle.
  static BundleSummary of(const Bundle& b);
  // Bundle::load (every check), then of(); the tree is freed on return.
  static BundleSummary load(const std::filesystem::path& dir);
  JsonView meta_view() const;
  // Frees every probe's hist_text (histograms becomes false).
  void drop_histograms();
  size_t estimate_bytes() const;
  // A probe's parameters; BundleError when the bundle has no such probe.
  JsonView parameters_view(const std::string& probe) const;
};

// Estimated bytes a JSON tree holds (nodes, keys, strings).
size_t json_bytes(const nlohmann::json& j);

}  // namespace kperflab
