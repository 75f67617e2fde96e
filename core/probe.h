// SPDX-License-Identifier: GPL-2.0-only
// Probe interface and self-registration.
//
// A probe is a small table of callbacks (as in selftests/bpf bench): it says
// whether this host can run it, which parameters each profile uses, and
// produces metrics repetition by repetition. Probes register themselves with
// KPERFLAB_REGISTER_PROBE(Class); nothing keeps a hand list.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/histogram.h"
#include "core/params.h"
#include "core/host_info.h"

namespace kperflab {

enum class Profile { quick, standard, full, lab };
std::string_view to_string(Profile p);
std::optional<Profile> parse_profile(std::string_view s);
// Repetitions a run of this profile stores unless --repeat says otherwise:
// enough that a default compare can flag a 10 % change confined to one
// metric among ~600 rows (the exact rank test's smallest p with 10 v 10,
// 2/C(20,10) = 1.1e-5, is below Benjamini-Hochberg's bar for a single
// discovery, 0.05/600 = 8.3e-5; 9 v 9 is 4.1e-5, 8 v 8 is 1.6e-4). The lab
// profile runs under TCG, where boots, not repetitions, are the unit
// (analysis/README.md): 1, and more with --run-args "--repeat N".
unsigned default_repetitions(Profile p);

struct Availability {
  bool ok = true;
  std::string reason;  // why not, when !ok ("needs kperflab.ko: /dev/kperflab absent")
  static Availability yes() { return {}; }
  static Availability no(std::string why) { return {false, std::move(why)}; }
};

class Progress;

// Metrics of one repetition (an independent sample set). Metric names tell
// command, sweep point and statistic, e.g. "private_expedited/targets=4/spin".
class Repetition {
 public:
  // A latency/cost histogram; summary statistics are derived when stored.
  void histogram(const std::string& name, const Histogram& h, std::string unit = "ns",
                 nlohmann::json labels = nlohmann::json::object());
  // A scalar (a rate, a ratio, a count) where a histogram does not fit.
  void scalar(const std::string& name, double value, std::string unit,
              nlohmann::json labels = nlohmann::json::object());
  // A metric this host or kernel cannot measure, with the reason (e.g. the
  // errno the kernel gave). Recorded, never an error of the run.
  void skip(const std::string& name, std::string reason);
  // Probe-specific structured data (a CPU matrix, a sweep table).
  nlohmann::json& extra() { return extra_; }

  nlohmann::json to_json() const;
  bool empty() const { return metrics_.empty() && skipped_.empty(); }

 private:
  nlohmann::json metrics_ = nlohmann::json::object();
  nlohmann::json skipped_ = nlohmann::json::object();
  nlohmann::json extra_ = nlohmann::json::object();
};

// What a probe sees of the run it is part of.
class RunContext {
 public:
  RunContext(Profile profile, unsigned repetitions, const HostInfo& host, Progress& progress)
      : profile_(profile), repetitions_(repetitions), host_(host), progress_(progress) {}

  Profile profile() const { return profile_; }
  unsigned repetitions() const { return repetitions_; }
  const HostInfo& host() const { return host_; }
  Progress& progress() { return progress_; }
  // The repetition being measured (0 first), and whether it runs the checks
  // that validate the method (2N/N proportionality, calibration, overhead
  // runs, cross-checks): the first repetition only, every one in the full
  // profile or when --repeat asked for every metric N times. Set by the runner.
  unsigned repetition() const { return repetition_; }
  bool run_checks() const { return checks_every_ || repetition_ == 0; }
  void set_repetition(unsigned r, bool checks_every) {
    repetition_ = r;
    checks_every_ = checks_every;
  }
  // True once the user pressed ^C (or a time cap fired): stop at the next
  // safe point; what was measured so far is kept (bundle marked partial).
  bool stop_requested() const;
  // Attach a whole file to the bundle (e.g. "gbench.json"); written when the
  // probe finishes. Name must be a plain file name.
  void attach_file(const std::string& name, std::string contents);
  // Free-form parameters the probe actually used (merged into <probe>.json).
  nlohmann::json& parameters() { return parameters_; }

  // Used by the runner.
  std::map<std::string, std::string>& attachments() { return attachments_; }

 private:
  Profile profile_;
  unsigned repetitions_;
  const HostInfo& host_;
  Progress& progress_;
  unsigned repetition_ = 0;
  bool checks_every_ = true;
  nlohmann::json parameters_ = nlohmann::json::object();
  std::map<std::string, std::string> attachments_;
};

// A prepared measurement: owns every kernel object of the probe (skeletons,
// fds, threads) and releases them in its destructor.
class ProbeSession {
 public:
  virtual ~ProbeSession() = default;
  // Number of progress steps one repetition takes (sweep points).
  virtual unsigned steps() const { return 1; }
  // Of those, the steps only a repetition that runs the checks takes
  // (RunContext::run_checks): the progress line's total.
  virtual unsigned check_steps() const { return 0; }
  virtual void run_repetition(RunContext& ctx, Repetition& rep) = 0;
};

class Probe {
 public:
  virtual ~Probe() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view summary() const = 0;
  // Feature detection at run time (BTF, syscalls, /dev/kperflab, CPU count),
  // never by kernel version alone.
  virtual Availability check(const HostInfo& host) const = 0;
  // Parameters for a profile; sizes follow host.online_cpus().
  virtual nlohmann::json parameters(Profile profile, const HostInfo& host) const = 0;
  // Why these parameters must not run on this host without the user's
  // consent (a probe whose programs would tax every process here: #28), or
  // "" to run. The plan skips the probe with this reason, which names the
  // --set that gives consent.
  virtual std::string refused(const nlohmann::json&, const HostInfo&) const { return ""; }
  // Every parameter parameters() may return, typed and ranged; bounds that
  // depend on the host take its online CPU count. `--set` is checked against
  // this before anything runs (core/params.h).
  virtual ParamSpecs param_specs(unsigned online_cpus) const = 0;
  // Estimated seconds one repetition takes with these parameters, without
  // the method checks (the plan, the progress line, --until-ci's budget).
  // Calibrated against measured times on a 2-vCPU VM (bench/<probe>/README.md).
  virtual double estimate_seconds(const nlohmann::json& params) const = 0;
  // Estimated seconds of the method checks (RunContext::run_checks), paid
  // by the repetitions that run them: once per run unless full or --repeat.
  virtual double estimate_checks_seconds(const nlohmann::json&) const { return 0; }
  // Sweep points of one repetition (the plan's "points").
  virtual unsigned points(const nlohmann::json&, const HostInfo&) const { return 1; }
  // The planner's knob (core/plan.h): these parameters with one cut that
  // makes a repetition cheaper (a narrower sweep, fewer samples per point),
  // the widest sweeps first and the headline metrics last; nullopt when
  // nothing is left to cut. Never called for a probe the user --set.
  virtual std::optional<nlohmann::json> cheaper(const nlohmann::json&, const HostInfo&) const {
    return std::nullopt;
  }
  // What these parameters sample instead of measuring whole on this host
  // (pairs of a CPU x CPU matrix, target counts of a sweep), in words; ""
  // when everything is measured.
  virtual std::string sampled(const nlohmann::json&, const HostInfo&) const { return ""; }
  // This probe's weight in a profile's time budget (core/plan.h): shares are
  // weights over the probes that run here.
  virtual double budget_weight() const { return 1.0; }
  virtual std::unique_ptr<ProbeSession> prepare(RunContext& ctx,
                                                const nlohmann::json& params) = 0;
};

class ProbeRegistry {
 public:
  static ProbeRegistry& instance();
  void add(std::unique_ptr<Probe> p);
  // Sorted by name.
  std::vector<Probe*> all() const;
  Probe* find(std::string_view name) const;

 private:
  std::vector<std::unique_ptr<Probe>> probes_;
};

template <class P>
struct ProbeRegistrar {
  ProbeRegistrar() { ProbeRegistry::instance().add(std::make_unique<P>()); }
};

#define KPERFLAB_REGISTER_PROBE(cls) \
  static const ::kperflab::ProbeRegistrar<cls> kperflab_probe_registrar_##cls

// Where a probe says how far it is: each sweep point done, and lines that
// stay (warnings, skips). The runner's console implementation draws it
// (cli/progress.h).
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void begin_probe(std::string_view probe, unsigned total_steps, double estimate_s) = 0;
  virtual void step(std::string_view label) = 0;
  virtual void add_steps(unsigned n) = 0;  // a probe repeating beyond its plan
  // Seconds the probes after this one are planned to take (the run's ETA).
  virtual void set_after_s(double s) = 0;
  virtual void note(std::string_view msg) = 0;  // a line that stays (warnings, skips)
  virtual void end_probe(std::string_view status) = 0;
};

}  // namespace kperflab
