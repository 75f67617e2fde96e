// SPDX-License-Identifier: GPL-2.0-only
// The run's plan (#26): every profile has a time budget, every probe a share
// of it (its budget_weight() over the probes that run here), and the planner
// fits each probe's points and repetitions into its share before anything
// is measured. `run` prints the plan; the bundle records it with the actual
// times (meta.json "plan", <probe>.json "plan").
//
// How a probe is fitted: a probe whose estimate is under its share keeps its
// profile's parameters and gives the rest back to the others (water
// filling). One over its share is cut, widest sweeps first (its cheaper()),
// then repetitions, never below kMinPlannedRepetitions: repetitions of the
// headline metrics are what compare decides on, a wide sweep is not.
// --repeat N or a --set for a probe overrides its plan: it runs as asked,
// and the plan says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/probe.h"

namespace kperflab {

// The budget of a profile in seconds on the host it runs on; nullopt: no
// budget (full, estimated only; lab, which runs what the lab tests expect).
std::optional<double> profile_budget_s(Profile p);

// Cut repetitions to this many at least (the smallest n with a 95 %
// order-statistic interval for a median, core/until_ci.h).
inline constexpr unsigned kMinPlannedRepetitions = 6;

struct ProbePlan {
  Probe* probe = nullptr;
  std::string name;
  bool runnable = true;
  std::string reason;       // why not runnable, or the parameters' error
  nlohmann::json params;    // what run_probe uses (profile + cuts + --set)
  unsigned repetitions = 0;
  unsigned check_repetitions = 0;  // repetitions that run the method checks
  unsigned points = 0;
  double estimated_s = 0;
  std::optional<double> budget_s;  // this probe's share; none without a budget
  std::string sampled;             // Probe::sampled(), "" none
  std::vector<std::string> cuts;   // what the planner cut to fit, in words
  std::string overridden;          // "--repeat 3", "--set": runs as asked
};

struct RunPlan {
  Profile profile = Profile::quick;
  std::optional<double> budget_s;
  double estimated_s = 0;  // runnable probes' estimates
  std::vector<ProbePlan> probes;
  const ProbePlan* find(std::string_view name) const;
};

struct PlanRequest {
  Profile profile = Profile::quick;
  unsigned repeat = 0;       // --repeat N, 0: the planner's choice
  std::string repeat_by;     // the flag that fixed `repeat` ("" : --repeat N)
  bool checks_every = false;  // method checks in every repetition
  std::optional<double> budget_s;  // default: profile_budget_s(profile)
  nlohmann::json sets = nlohmann::json::object();  // resolve_sets(): {probe: {key: value}}
};

// Estimated seconds of a probe with these parameters and repetitions.
double estimate_probe_s(const Probe& p, const nlohmann::json& params, unsigned reps,
                        unsigned check_reps);

RunPlan make_plan(const std::vector<Probe*>& probes, const HostInfo& host,
                  const PlanRequest& req);

// The plan as `run` prints it (to stderr, before measuring).
std::string format_plan(const RunPlan& plan);

// <probe>.json "plan" and meta.json "plan" (the bundle's fields; actual_s
// is the measured wall time).
nlohmann::json probe_plan_json(const ProbePlan& p, double actual_s);
nlohmann::json run_plan_json(const RunPlan& plan, double actual_s);

}  // namespace kperflab
