// SPDX-License-Identifier: GPL-2.0-only
// The run's plan: budgets, shares, cuts (core/plan.h).
#include "core/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

namespace kperflab {

std::optional<double> profile_budget_s(Profile p) {
  // On a 2-vCPU VM (the smallest machine we promise): quick <= 3 min and
  // standard <= 10 min of wall time, less what a run spends outside the
  // probes (provenance, preflight, the noise check, loading BPF objects)
  // and the estimators' error.
  switch (p) {
    case Profile::quick: return 150.0;
    case Profile::standard: return 500.0;
    case Profile::full:
    case Profile::lab: return std::nullopt;
  }
  return std::nullopt;
}

const ProbePlan* RunPlan::find(std::string_view name) const {
  for (auto& p : probes)
    if (p.name == name) return &p;
  return nullptr;
}

double estimate_probe_s(const Probe& p, const nlohmann::json& params, unsigned reps,
                        unsigned check_reps) {
  return p.estimate_seconds(params) * reps + p.estimate_checks_seconds(params) * check_reps;
}

namespace {

double estimate(const ProbePlan& pp) {
  return estimate_probe_s(*pp.probe, pp.params, pp.repetitions, pp.check_repetitions);
}

void set_reps(ProbePlan& pp, unsigned reps, bool checks_every) {
  pp.repetitions = reps;
  pp.check_repetitions = checks_every ? reps : std::min(1u, reps);
}

// "samples 40 -> 20" for every parameter the cuts changed.
std::vector<std::string> describe_cuts(const nlohmann::json& from, const nlohmann::json& to) {
  std::vector<std::string> v;
  for (auto& [k, val] : to.items())
    if (!from.contains(k) || from[k] != val)
      v.push_back(k + " " + (from.contains(k) ? from[k].dump() : "-") + " -> " + val.dump());
  return v;
}

// Cuts one probe to its share: sweeps first, then repetitions.
void fit(ProbePlan& pp, double share, const HostInfo& host, bool checks_every) {
  pp.budget_s = share;
  const nlohmann::json before = pp.params;
  const unsigned reps_before = pp.repetitions;
  while (estimate(pp) > share) {
    if (auto c = pp.probe->cheaper(pp.params, host)) {
      pp.params = std::move(*c);
      continue;
    }
    if (pp.repetitions <= kMinPlannedRepetitions) break;
    // The fewest cuts that fit, in one step (each repetition costs alike).
    double per = pp.probe->estimate_seconds(pp.params) +
                 (checks_every ? pp.probe->estimate_checks_seconds(pp.params) : 0);
    double fixed = estimate(pp) - per * pp.repetitions;
    unsigned fits = per > 0 ? static_cast<unsigned>(std::max(0.0, (share - fixed) / per)) : 0;
    set_reps(pp, std::clamp(fits, kMinPlannedRepetitions, pp.repetitions - 1), checks_every);
  }
  pp.cuts = describe_cuts(before, pp.params);
  if (pp.repetitions != reps_before)
    pp.cuts.push_back("repetitions " + std::to_string(reps_before) + " -> " +
                      std::to_string(pp.repetitions));
}

// Water filling: a probe under its share keeps what it needs and the rest
// goes to the others, by weight; the ones left are cut to their shares.
void share_budget(std::vector<ProbePlan*> open, double left, const HostInfo& host,
                  bool checks_every) {
  for (bool changed = true; changed && !open.empty();) {
    changed = false;
    double w = 0;
    for (auto* pp : open) w += std::max(1e-9, pp->probe->budget_weight());
    for (auto it = open.begin(); it != open.end();) {
      double share = std::max(0.0, left) * std::max(1e-9, (*it)->probe->budget_weight()) / w;
      double need = estimate(**it);
      if (need <= share) {
        (*it)->budget_s = need;
        left -= need;
        it = open.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
  double w = 0;
  for (auto* pp : open) w += std::max(1e-9, pp->probe->budget_weight());
  for (auto* pp : open)
    fit(*pp, std::max(0.0, left) * std::max(1e-9, pp->probe->budget_weight()) / w, host,
        checks_every);
}

}  // namespace

RunPlan make_plan(const std::vector<Probe*>& probes, const HostInfo& host,
                  const PlanRequest& req) {
  RunPlan plan;
  plan.profile = req.profile;
  plan.budget_s = req.budget_s ? req.budget_s : profile_budget_s(req.profile);
  const unsigned reps = req.repeat ? req.repeat : default_repetitions(req.profile);
  std::vector<ProbePlan*> open;
  double left = plan.budget_s.value_or(0);
  plan.probes.reserve(probes.size());
  for (Probe* p : probes) {
    ProbePlan& pp = plan.probes.emplace_back();
    pp.probe = p;
    pp.name = std::string(p->name());
    set_reps(pp, reps, req.checks_every);
    auto avail = p->check(host);
    if (!avail.ok) {
      pp.runnable = false;
      pp.reason = avail.reason;
      set_reps(pp, 0, req.checks_every);
      continue;
    }
    try {
      pp.params = p->parameters(req.profile, host);
      if (req.sets.contains(pp.name)) pp.params.update(req.sets[pp.name]);
      // The profile's defaults obey the same declaration (tests/core/test_params.cpp).
      check_params(pp.name, p->param_specs(host.online_count()), pp.params);
    } catch (const std::exception& e) {
      pp.reason = e.what();  // run_probe reports it as the probe's failure
      continue;
    }
    if (std::string why = p->refused(pp.params, host); !why.empty()) {
      pp.runnable = false;
      pp.reason = why;
      set_reps(pp, 0, req.checks_every);
      continue;
    }
    if (req.repeat)
      pp.overridden =
          req.repeat_by.empty() ? "--repeat " + std::to_string(req.repeat) : req.repeat_by;
    if (req.sets.contains(pp.name))
      pp.overridden += std::string(pp.overridden.empty() ? "" : ", ") + "--set";
    if (!pp.overridden.empty())
      left -= estimate(pp);
    else if (plan.budget_s)
      open.push_back(&pp);
  }
  if (plan.budget_s) share_budget(open, left, host, req.checks_every);
  for (auto& pp : plan.probes) {
    if (!pp.runnable || !pp.reason.empty()) continue;
    pp.estimated_s = estimate(pp);
    pp.points = pp.probe->points(pp.params, host);
    pp.sampled = pp.probe->sampled(pp.params, host);
    plan.estimated_s += pp.estimated_s;
  }
  return plan;
}

namespace {

std::string secs(double s) {
  char b[32];
  if (s < 600)
    std::snprintf(b, sizeof b, "%.0f s", s);
  else
    std::snprintf(b, sizeof b, "%.0f min", s / 60);
  return b;
}

}  // namespace

std::string format_plan(const RunPlan& plan) {
  std::string out = "kperflab run: plan, profile " + std::string(to_string(plan.profile)) +
                    ", budget " +
                    (plan.budget_s ? secs(*plan.budget_s) : std::string("none (estimated only)")) +
                    ", estimated " + secs(plan.estimated_s) + "\n";
  char b[200];
  std::snprintf(b, sizeof b, "  %-11s %6s %5s %9s %9s\n", "PROBE", "POINTS", "REPS", "ESTIMATE",
                "SHARE");
  out += b;
  for (auto& pp : plan.probes) {
    if (!pp.runnable || !pp.reason.empty()) {
      out += "  " + pp.name + ": " + (pp.runnable ? "fails: " : "skipped: ") + pp.reason + "\n";
      continue;
    }
    std::string share = pp.budget_s ? secs(*pp.budget_s) : "-";
    std::snprintf(b, sizeof b, "  %-11s %6u %5u %9s %9s\n", pp.name.c_str(), pp.points,
                  pp.repetitions, secs(pp.estimated_s).c_str(), share.c_str());
    out += b;
    if (pp.check_repetitions < pp.repetitions && pp.probe->estimate_checks_seconds(pp.params) > 0)
      out += "    method checks in the first repetition only\n";
    if (!pp.overridden.empty())
      out += "    budget overridden by " + pp.overridden + ": runs as asked\n";
    if (!pp.cuts.empty()) {
      std::string c;
      for (auto& x : pp.cuts) c += (c.empty() ? "" : "; ") + x;
      out += "    cut to fit its share: " + c + "\n";
    }
    if (pp.budget_s && pp.estimated_s > *pp.budget_s * 1.05 && pp.overridden.empty())
      out += "    over its share: nothing left to cut\n";
    if (!pp.sampled.empty()) out += "    sampled: " + pp.sampled + "\n";
  }
  return out;
}

nlohmann::json probe_plan_json(const ProbePlan& p, double actual_s) {
  nlohmann::json j = {{"estimated_s", p.estimated_s},
                      {"actual_s", actual_s},
                      {"budget_s", p.budget_s ? nlohmann::json(*p.budget_s) : nlohmann::json()},
                      {"points", p.points},
                      {"repetitions", p.repetitions}};
  if (!p.sampled.empty()) j["sampled"] = p.sampled;
  if (!p.overridden.empty()) j["overridden"] = p.overridden;
  if (!p.cuts.empty()) j["cuts"] = p.cuts;
  return j;
}

nlohmann::json run_plan_json(const RunPlan& plan, double actual_s) {
  return {{"budget_s", plan.budget_s ? nlohmann::json(*plan.budget_s) : nlohmann::json()},
          {"estimated_s", plan.estimated_s},
          {"actual_s", actual_s}};
}

}  // namespace kperflab
