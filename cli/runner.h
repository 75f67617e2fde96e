// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run`: runs probes into one bundle.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/perf_events.h"
#include "core/probe.h"
#include "core/until_ci.h"
#include "core/stop.h"
#include "host/sysinfo.h"

namespace kperflab {

struct RunOptions {
  std::vector<std::string> probes;  // empty: every probe this host can run
  Profile profile = Profile::quick;
  unsigned repeat = 0;  // 0: the profile's default_repetitions()
  // --repeat as given (0: not given): the plan then runs every probe that
  // many times, with the method checks in each (core/plan.h).
  unsigned repeat_asked = 0;
  std::optional<std::filesystem::path> out;  // exact bundle dir (--out)
  std::filesystem::path runs_root = "results/runs";
  std::vector<std::pair<std::string, std::string>> sets;  // --set probe.key=value
  std::vector<std::string> tags;  // --tag: labels for the catalog (analysis/catalog.h)
  bool tune = false;           // --tune (host/tune.h)
  bool tune_boost_off = false;  // --tune-boost-off
  std::optional<bool> noise_check;  // --[no-]noise-check; unset: on for standard and full
  bool ktap = false;            // --ktap: KTAP v1 on stdout (cli/ktap.h)
  bool plan_only = false;       // --plan: print the plan and exit, nothing measured
  bool strict = false;          // --strict: a noisy machine refuses the run
  double noise_threshold_pct = 5.0;  // --noise-threshold (kNoiseThresholdPct)
  // --until-ci PCT: repeat each probe until its headline metrics are known
  // to +-PCT % or its budget ends (core/until_ci.h); `repeat` is then the
  // minimum (at least UntilCi::kMinReps).
  std::optional<UntilCi> until_ci;
  std::vector<PerfEventSpec> perf_stat;  // --perf-stat EVENTS (host/perf_events.h)
  std::optional<std::string> likwid;     // --likwid GROUP (host/likwid_run.h)
};

// Exit status of a run refused by --strict before measuring (noisy machine).
inline constexpr int kExitNoisy = 3;

// Whether this run does the noise check (host/noise_check.h).
bool wants_noise_check(const RunOptions& opt);

// Returns the process exit status; prints a summary on stdout.
int run_main(const std::vector<std::string>& args);
int list_main(const std::vector<std::string>& args);
int show_main(const std::vector<std::string>& args);

// Parses `run` arguments; throws std::invalid_argument naming the flag
// (cli::HelpShown after printing --help).
RunOptions parse_run_args(const std::vector<std::string>& args);

// The probes opt selects (--probe, in order; none: every registered one).
// An unknown name throws std::invalid_argument naming it.
std::vector<Probe*> select_probes(const RunOptions& opt);

// The typed values of every --set, {probe: {key: value}}, checked against
// the probes' declarations (param_specs): unknown probe, a probe this run
// does not select, unknown key, wrong type or range throw
// std::invalid_argument naming the key, the value and what is allowed.
nlohmann::json resolve_sets(const RunOptions& opt, unsigned online_cpus);


// The bundle's meta.json skeleton for this host.
nlohmann::json make_meta(const HostInfo& host, const RunOptions& opt);

}  // namespace kperflab
