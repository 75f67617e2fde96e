// SPDX-License-Identifier: GPL-2.0-only
// `kperflab trend SELECTOR` (issue #30): the arguments, the history from the
// catalog (or a directory), then analysis/trend.h finds where it changed.
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/compare.h"
#include "analysis/trend.h"
#include "cli/cli_args.h"
#include "cli/verbs.h"
#include "results/output_file.h"

namespace kperflab::trend {

namespace {

const char* kTrendFooter =
    "SELECTOR picks a history from the catalog (e.g. host:srv1+probe:membarrier), or\n"
    "is a directory of bundles or one bundle. Bundles are ordered by meta.json started\n"
    "(--by time) or by kernel.release in version order, then time (--by kernel);\n"
    "bundles of one boot (kernel.boot_id) are one unit. For each headline figure (p50\n"
    "and p99 of histograms, rates and ratios; each bundle's the median over its\n"
    "repetitions) every point of the history is tested: a window of up to --window\n"
    "boots before against one after (5 a side at least), a pooled t test, Bonferroni\n"
    "over the metric's points, Benjamini-Hochberg over the peaks of every metric. A\n"
    "change is reported when q <= --alpha and it is at least --min-effect and the\n"
    "metric's noise between neighbouring boots. docs/trend.md: the method, what it\n"
    "finds. --format html writes one page with a plot per changed metric.\n"
    "-o never overwrites an existing file without --force and never writes into a\n"
    "bundle.\n"
    "Exit: 0 done, 1 a regression with --fail-on regression, 2 error.";

}  // namespace

int trend_main(const std::vector<std::string>& args) {
  Options opt;
  std::string source, format = "text", out, by = "time", fail_on, runs = "results/runs";
  bool force = false;
  CLI::App app("Where a history of bundles changed.", "kperflab trend");
  app.add_option("history", source, "a catalog selector (tag:NAME, kernel:GLOB, host:GLOB, "
                                    "config:OPT=VAL, probe:NAME, boot:ID; '+' joins terms), a "
                                    "directory of bundles or a bundle")
      ->required()->type_name("SELECTOR");
  app.add_option("--format", format, "text|markdown|json|html (default text)")
      ->check(CLI::IsMember({"text", "markdown", "md", "json", "html"}));
  app.add_option("-o,--output", out, "write the report to FILE")->type_name("FILE");
  app.add_flag("--force", force, "replace FILE if it exists (never a file inside a bundle)");
  app.add_option("--runs-dir", runs, "where selectors look (default results/runs)")
      ->type_name("DIR");
  app.add_option("--by", by, "the history's order: time (meta.json started) or kernel "
                             "(kernel.release in version order, then time); default time")
      ->check(CLI::IsMember({"time", "kernel"}));
  app.add_option("--window", opt.window, "boots in each window at most (default 12; 2 at least)")
      ->check(CLI::Range(size_t{2}, size_t{1000}))->type_name("N");
  app.add_option("--alpha", opt.alpha, "false discovery rate over every metric's peaks "
                                       "(default 0.05)")
      ->check(cli::finite_number(0, 1, true, true))->type_name("A");
  app.add_option("--min-effect", opt.min_effect,
                 "floor of the minimum relative change (default 0.02 = 2%; each metric's own is "
                 "the larger of this and its noise between boots)")
      ->check(cli::finite_number(0, 100))->type_name("E");
  app.add_option("--probe,-p", opt.probes, "only this probe (repeatable)")
      ->allow_extra_args(false)->type_name("NAME");
  app.add_flag("--cross-host", opt.cross_host, "allow bundles of several hosts");
  app.add_option("--fail-on", fail_on, "regression: exit 1 when a regression is found")
      ->check(CLI::IsMember({"regression"}));
  cli::setup(app, kTrendFooter);
  cli::parse(app, args);
  opt.by_kernel = by == "kernel";
  auto src = compare::SideSource::find(source, runs);
  compare::check_bundle_limit({src}, "trend");
  compare::Side side = src.load(false);  // trend plots medians, never a histogram
  Result r = build(side, source, opt);
  std::string text;
  if (format == "json")
    text = to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  else if (format == "html")
    text = html(r);
  else
    text = format == "text" ? trend::text(r) : markdown(r);
  if (out.empty()) write_stdout(text);
  else write_output_file(out, text, force, src.dirs);
  size_t regressions = 0;
  for (const Change* c : r.changes())
    regressions += std::string(verdict(*c, r.metrics[c->metric])) == "regression";
  return !fail_on.empty() && regressions ? 1 : 0;
}

}  // namespace kperflab::trend
