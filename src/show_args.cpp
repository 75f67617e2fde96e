// SPDX-License-Identifier: GPL-2.0-only
#include "show_args.h"

#include "cli_args.h"

namespace kperflab {

ShowArgs parse_show_args(const std::vector<std::string>& args) {
  ShowArgs a;
  CLI::App app("Provenance summary, then count/p50/p99/max of every metric and the probes'\n"
               "sweep tables.", "kperflab show");
  app.add_option("BUNDLE", a.path, "the bundle directory")->required();
  app.add_option("--probe,-p", a.probe, "show only this probe")->type_name("NAME");
  // A flag with an optional "=full", so `--hist BUNDLE` keeps BUNDLE a
  // positional argument.
  std::string hist;
  app.add_flag("--hist{rows}", hist,
               "draw each histogram in log-scaled rows of 1/8 octave; --hist=full: one row per "
               "bucket (the histogram's own resolution, 2 significant digits)")
      ->check(CLI::IsMember({"rows", "full"}));
  app.add_flag("--full", a.full,
               "print CPU matrices and per-CPU metrics whole (default: beyond 16 CPUs, a summary "
               "by topology distance; the bundle always holds everything)");
  cli::setup(app, "");
  cli::parse(app, args);
  a.hist = hist.empty() ? 0 : hist == "full" ? 2 : 1;
  return a;
}

}  // namespace kperflab
