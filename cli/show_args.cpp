// SPDX-License-Identifier: GPL-2.0-only
#include "cli/show_args.h"

#include "cli/cli_args.h"

namespace kperflab {

ShowArgs parse_show_args(const std::vector<std::string>& args) {
  ShowArgs a;
  CLI::App app("A screen worth reading: the run, findings first (forbidden litmus outcomes,\n"
               "missed IPIs, dropped samples, skipped probes, the probes' notes), then each\n"
               "probe's headline figures summarised across repetitions. --repetitions: every\n"
               "metric of every repetition and the probes' tables.", "kperflab show");
  app.add_option("BUNDLE", a.path, "the bundle directory")->required();
  app.add_option("--probe,-p", a.probe, "show only this probe")->type_name("NAME");
  app.add_flag("--repetitions", a.repetitions,
               "print provenance and every metric of every repetition (count/p50/p99/max), the "
               "probes' tables and matrices, instead of the summary");
  // A flag with an optional "=full", so `--hist BUNDLE` keeps BUNDLE a
  // positional argument.
  std::string hist;
  app.add_flag("--hist{rows}", hist,
               "draw each histogram in log-scaled rows of 1/8 octave; --hist=full: one row per "
               "bucket (the histogram's own resolution, 2 significant digits); implies "
               "--repetitions")
      ->check(CLI::IsMember({"rows", "full"}));
  app.add_flag("--full", a.full,
               "everything: the summary, then every repetition with CPU matrices and per-CPU "
               "metrics whole (otherwise, beyond 16 CPUs, by topology distance)");
  cli::setup(app, "");
  cli::parse(app, args);
  a.hist = hist.empty() ? 0 : hist == "full" ? 2 : 1;
  return a;
}

}  // namespace kperflab
