// SPDX-License-Identifier: GPL-2.0-only
// A host's noise model: how much every metric statistic moves between boots
// of one kernel, measured from A/A runs (`kperflab noise`), stored beside the
// results (results/runs/<host>/noise.json). With one boot per side, compare
// uses it as the spread a kernel effect must stand out from
// (analysis/README.md "Between boots").
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab::compare {

struct Side;

// Between-boot spread of one metric statistic: the sample SD of the boots'
// values (each boot's value: the median of its repetitions), on the log
// scale when every boot's value is positive (a relative spread), else
// linear. df = boots - 1.
struct NoiseEntry {
  bool log = true;
  double sd = 0;
  size_t boots = 0;
};

struct NoiseModel {
  std::string host, cpu_model;
  std::vector<std::string> kernels;  // releases the boots ran
  size_t boots = 0, bundles = 0;
  size_t reps_min = 0, reps_max = 0;  // repetitions per boot
  std::filesystem::path file;          // where it was loaded from
  std::string created;                 // UTC time it was built (empty: older file)
  std::map<std::string, NoiseEntry> metrics;  // "probe/metric:stat"

  // Fewer boots give a spread too uncertain to judge others by (the SD of
  // 3 boots is off by a factor 2 one time in ten).
  static constexpr size_t kMinBoots = 8;
  // Needs bundles of one host from at least kMinBoots distinct boots; throws
  // std::invalid_argument naming what is missing.
  static NoiseModel build(const Side& s);
  // Throws std::invalid_argument (file and field) on a malformed file.
  static NoiseModel load(const std::filesystem::path& file);
  nlohmann::json to_json() const;
  const NoiseEntry* find(const std::string& key) const;
};

// Where a bundle's host keeps its noise model: results/runs/<host>/noise.json
// for a bundle at results/runs/<host>/<kernel>/<stamp>/. nullopt when the
// bundle is not in such a tree.
std::optional<std::filesystem::path> default_noise_path(const std::filesystem::path& bundle_dir,
                                                        const std::string& hostname);

// "3 days old" from created (or "age unknown").
std::string noise_age(const NoiseModel& nm);


}  // namespace kperflab::compare
