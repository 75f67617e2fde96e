// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run`'s arguments: every flag checked (type, range, form) before
// anything runs; the plan and the run itself are runner.cpp's.
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/runner.h"
#include "host/likwid_run.h"
#include "host/perf_events.h"
#include "results/bundle.h"

namespace kperflab {

namespace {

const char* kRunFooter =
    "Runs the probes (default: all this host can run) into one result bundle under\n"
    "results/runs/<host>/<kernel>/<UTC stamp>-<id>/ (or exactly DIR with --out).\n"
    "Each profile has a time budget (quick 150 s, standard 500 s of probes on a 2-vCPU\n"
    "machine; full and lab none) and the plan, printed before measuring (--plan: only\n"
    "that), fits every probe into its share: sweeps cut before repetitions, method checks\n"
    "in the first repetition only. --repeat N or a --set overrides the plan for the probes\n"
    "it touches: N independent repetitions of every metric, as asked. ^C stops cleanly,\n"
    "also inside a sweep point, and keeps what was measured whole in a bundle marked\n"
    "partial. Every --set is checked (type, range, that the probe runs) before anything\n"
    "runs; `kperflab list --params` lists each probe's parameters.\n"
    "Before measuring, a preflight describes the machine (meta.json \"preflight\", shown\n"
    "by `kperflab show`); docs/quiet-machine.md explains --tune and the noise check.\n"
    "Exit: 0 ok, 1 a probe failed or a file went to the rescue directory (full disk),\n"
    "2 bad arguments, 3 refused by --strict (noisy machine), 130 interrupted.";

// "membarrier.iterations=5": PROBE.KEY before the first '='.
std::string check_set(std::string& v) {
  auto eq = v.find('=');
  auto dot = v.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 ||
      dot + 1 == eq)
    return "wants PROBE.KEY=VALUE, got '" + v.substr(0, 60) + "'";
  return "";
}

std::string check_tag(const std::string& v) { return tag_problem(v); }

}  // namespace

static void setup_run_cli(CLI::App& app, RunOptions& o) {
  app.add_option("--probe,-p", o.probes, "run this probe (repeatable; default: all)")
      ->allow_extra_args(false)->type_name("NAME");
  app.add_option_function<std::string>(
         "--profile",
         [&o](const std::string& v) { o.profile = *parse_profile(v); },
         "sizes of the sweeps (default quick)")
      ->check(CLI::IsMember({"quick", "standard", "full", "lab"}))->type_name("PROFILE");
  app.add_option("--repeat,-r", o.repeat,
                 "independent repetitions of every metric (default: the profile's, 10 for "
                 "quick and standard, 20 full, 1 lab)")
      ->check(CLI::Range(1u, 1000u))->type_name("N");
  app.add_option_function<std::string>(
         "--out,-o", [&o](const std::string& v) { o.out = v; }, "write the bundle to exactly DIR")
      ->type_name("DIR");
  app.add_option_function<std::string>(
         "--runs-dir", [&o](const std::string& v) { o.runs_root = v; },
         "root of the bundle tree (default results/runs)")
      ->type_name("DIR");
  app.add_option_function<std::vector<std::string>>(
         "--set",
         [&o](const std::vector<std::string>& vs) {
           for (auto& v : vs) {
             auto eq = v.find('=');
             o.sets.emplace_back(v.substr(0, eq), v.substr(eq + 1));
           }
         },
         "a probe parameter (repeatable; see kperflab list --params)")
      ->allow_extra_args(false)
      ->check(CLI::Validator(check_set, ""))
      ->type_name("PROBE.KEY=VALUE");
  app.add_option("--tag,-t", o.tags,
                 "label the bundle (repeatable): compare and the catalog select by it, "
                 "e.g. `kperflab compare tag:base tag:nohz`")
      ->allow_extra_args(false)
      ->check(CLI::Validator(check_tag, ""))
      ->type_name("NAME");
  app.add_flag("--tune", o.tune,
               "for this run only: performance governor, no deep C-states (PM QoS), NMI "
               "watchdog and NUMA balancing off; put back afterwards, also after a crash "
               "(kperflab restore)");
  app.add_flag_callback(
      "--tune-boost-off", [&o] { o.tune = o.tune_boost_off = true; },
      "--tune, and turbo/boost off as well");
  app.add_flag_function(
      "--noise-check,!--no-noise-check", [&o](int64_t n) { o.noise_check = n > 0; },
      "time a fixed loop on a few CPUs before measuring and warn when its spread is above 5 % "
      "(default: on for standard and full)");
  app.add_option("--noise-threshold", o.noise_threshold_pct,
                 "the noise check's limit on MAD/median, in % (default 5)")
      ->check(cli::finite_number(0, 100))->type_name("PCT");
  app.add_option_function<double>(
         "--until-ci",
         [&o](double v) {
           if (!o.until_ci) o.until_ci.emplace();
           o.until_ci->pct = v;
         },
         "repeat each probe until this boot's median of every headline metric is known to "
         "+-PCT % (95 %, over repetitions; at least 6, or --repeat) or its budget ends; "
         "another boot's median differs by more (compare across boots)")
      ->check(cli::finite_number(0.01, 100))->type_name("PCT");
  app.add_option_function<double>(
         "--until-ci-budget",
         [&o](double v) {
           if (!o.until_ci) o.until_ci.emplace();
           o.until_ci->budget_s = v;
         },
         "seconds per probe for --until-ci (default: 10 estimated repetitions, at least 60)")
      ->check(cli::finite_number(1, 7 * 86400))->type_name("SECONDS");
  app.add_option_function<std::string>(
         "--perf-stat", [&o](const std::string& v) { o.perf_stat = parse_perf_events(v); },
         "also count these perf events (comma list, perf's names: cycles, instructions, "
         "task-clock, cs, ..., L1-dcache-load-misses, rNNNN) in every repetition; without a "
         "PMU the hardware ones are recorded as unavailable with the reason")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            try {
              parse_perf_events(v);
            } catch (const std::invalid_argument& e) {
              return e.what();
            }
            return "";
          },
          ""))
      ->type_name("EVENTS");
  app.add_option_function<std::string>(
         "--likwid", [&o](const std::string& v) { o.likwid = v; },
         "run under likwid-perfctr -g GROUP -m, each repetition its own marker region; where "
         "likwid cannot measure, run without it and record why")
      ->check(CLI::Validator([](std::string& v) { return check_likwid_group(v); }, ""))
      ->type_name("GROUP");
  app.add_flag("--ktap", o.ktap,
               "KTAP v1 on standard output (one test per probe, subtests per metric group, "
               "headline figures as diagnostics), for kselftest-style runners; progress stays "
               "on standard error");
  app.add_flag("--plan", o.plan_only,
               "print the plan (points, repetitions, estimated time per probe, the profile's "
               "budget) and exit: nothing is measured, no bundle");
  app.add_flag("--strict", o.strict,
               "refuse to measure (exit 3, no bundle) when the noise check finds the machine noisy "
               "(turns the check on unless --no-noise-check)");
}

RunOptions parse_run_args(const std::vector<std::string>& args) {
  RunOptions o;
  CLI::App app("Runs probes into one result bundle.", "kperflab run");
  setup_run_cli(app, o);
  cli::setup(app, kRunFooter);
  cli::parse(app, args);
  if (o.until_ci && !(o.until_ci->pct > 0))
    throw std::invalid_argument("--until-ci-budget needs --until-ci PCT (the target to reach)");
  // The bundle's path is printed and its name stored in meta.json: a name
  // the loader would refuse is refused now, before anything is measured.
  for (auto [flag, p] : {std::pair{"--out", o.out},
                         std::pair{"--runs-dir", std::optional(o.runs_root)}})
    if (p)
      if (auto why = refused_text(p->string(), true); !why.empty())
        throw std::invalid_argument(std::string(flag) + " '" + printable(p->string()) + "' " + why +
                                    " (every reader would refuse the bundle)");
  o.repeat_asked = o.repeat;
  if (o.until_ci) {
    o.repeat = std::max(o.repeat, UntilCi::kMinReps);
    o.until_ci->min_reps = o.repeat;
  }
  if (o.repeat == 0) o.repeat = default_repetitions(o.profile);
  return o;
}

}  // namespace kperflab
