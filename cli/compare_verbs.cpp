// SPDX-License-Identifier: GPL-2.0-only
// kperflab compare / kperflab export: argument parsing (CLI11) and output.
#include "cli/verbs.h"

#include "analysis/catalog.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "analysis/compare.h"
#include "analysis/export.h"
#include "analysis/kcidb.h"
#include "analysis/report.h"
#include "analysis/series.h"
#include "cli/cli_args.h"
#include "results/output_file.h"

namespace kperflab {

namespace {

// The catalog's summary cache is only a speed-up: when it could not be used
// or written, the bundles were checked in full, and the user hears why once.
void say_cache_problem(const char* verb, const compare::Side& s) {
  if (!s.loaded.cache_problem.empty())
    std::fprintf(stderr, "kperflab %s: the catalog's summary cache was not used in full (%s): "
                         "bundles checked from their files\n",
                 verb, printable(s.loaded.cache_problem).c_str());
}

const char* kCompareFooter =
    "Each side is a bundle or a directory of bundles. The unit of replication is the\n"
    "boot: with several boots on a side, a moderated t test over the boots' values\n"
    "(paired when both sides ran in the same boots); within one boot, the run (lab\n"
    "--ab, kperflab ab); with one boot per side, the host's noise model (kperflab\n"
    "noise) if there is one. One unit a side decides nothing and fails no CI job\n"
    "unless --trust-one-boot takes the repetitions as units. Benjamini-Hochberg\n"
    "over all comparisons; a change is reported when significant AND at least its\n"
    "minimum effect. With --probe, the corrections run over the chosen probes only.\n"
    "-o never overwrites an existing file without --force and never writes into a\n"
    "bundle.\n"
    "Exit: 0 done, 1 a regression with --fail-on regression, 2 error.";

const char* kExportFooter =
    "--hlog    HdrHistogram interval log: one tagged line per metric and repetition\n"
    "--gbench  Google Benchmark JSON: each statistic one entry (compare.py works on it)\n"
    "--csv     probe,metric,repetition,kind,unit,stat,value\n"
    "--lava    LAVA test cases, one a line: name, result, measurement, units, note\n"
    "          (tab-separated; read by lab/lava/kperflab-lava.sh)\n"
    "--kcidb   KCIDB I/O v5.3 JSON of one or more bundles: a checkout and build per\n"
    "          kernel, a test per probe and per headline figure (status DONE); with\n"
    "          --baseline each figure compared as `compare` does: FAIL for a\n"
    "          regression, PASS otherwise. Send with kcidb-submit (docs/fleet.md).\n"
    "Only --kcidb takes several bundles, --baseline, --origin, --runs-dir, --cross-host.\n"
    "Without -o the export goes to standard output. -o never overwrites an existing\n"
    "file without --force and never writes into a bundle (not even with --force).";

// GLOB=X with X a relative change as --min-effect takes it.
std::string check_effect_for(std::string& v) {
  auto eq = v.rfind('=');
  if (eq == std::string::npos || eq == 0) return "wants GLOB=X, got '" + v.substr(0, 40) + "'";
  std::string x = v.substr(eq + 1);
  return cli::finite_number(0, 100)(x);
}

void emit(const std::string& out, const std::string& text, bool force,
          const std::vector<std::string>& inputs) {
  if (out.empty()) return write_stdout(text);
  write_output_file(out, text, force, {inputs.begin(), inputs.end()});
}

void add_output(CLI::App& app, std::string& out, bool& force, const char* what) {
  app.add_option("-o,--output", out, what)->type_name("FILE");
  app.add_flag("--force", force, "replace FILE if it exists (never a file inside a bundle)");
}

}  // namespace

int compare_main(const std::vector<std::string>& args) {
  compare::Options opt;
  std::vector<std::string> paths, effect_for;
  std::string format, out, fail_on;
  bool all = false, force = false;
  CLI::App app("Compares bundles: BASE against each CAND.", "kperflab compare");
  std::string runs = "results/runs";
  app.add_option("bundles", paths, "BASE, then one or more CAND: bundles, directories of "
                                   "bundles, or catalog selectors (tag:NAME, kernel:GLOB, "
                                   "host:GLOB, config:OPT=VAL, probe:NAME; '+' joins terms)")
      ->required()->expected(2, 1 << 16)->type_name("BASE CAND...");
  app.add_option("--format", format, "text|md|html|term (default: term on a terminal, text "
                                     "otherwise)")
      ->check(CLI::IsMember({"text", "md", "html", "term"}));
  add_output(app, out, force, "write the report to FILE");
  app.add_option("--alpha", opt.alpha, "significance level (default 0.05)")
      ->check(cli::finite_number(0, 1, true, true))->type_name("X");
  app.add_option("--min-effect", opt.min_effect,
                 "floor of the minimum relative change (default 0.02 = 2%; each metric's own is "
                 "the larger of this and its noise)")
      ->check(cli::finite_number(0, 100))->type_name("X");
  app.add_option("--min-effect-for", effect_for,
                 "per metric ('probe/metric:stat' glob) minimum effect, repeatable")
      ->allow_extra_args(false)->check(CLI::Validator(check_effect_for, ""))->type_name("GLOB=X");
  app.add_flag("--cross-host", opt.cross_host, "allow bundles from different hosts");
  app.add_flag("--trust-one-boot", opt.trust_one_boot,
               "decide on the repetitions of one boot (or run) per side: a boot's shift then "
               "reads as changes, and may fail CI");
  app.add_option("--min-abs-effect", opt.min_abs_effect,
                 "minimum absolute change of a row whose base is 0 (default 0.01, in the "
                 "metric's unit)")
      ->check(cli::finite_number(0, 1e18))->type_name("X");
  app.add_option("--runs-dir", runs, "where selectors look (default results/runs)")
      ->type_name("DIR");
  app.add_option("--noise", opt.noise,
                 "the host's noise model (kperflab noise), or 'none' (default: "
                 "results/runs/<host>/noise.json beside the base bundle, when present)")
      ->type_name("FILE|none");
  app.add_option("--threads", opt.threads, "rows computed in parallel (default: online CPUs)")
      ->check(CLI::Range(1u, 1024u))->type_name("N");
  size_t top = 20, top_flagged = 30;
  app.add_flag("--all", all, "list every row, unchanged ones too (default: the --top-flagged "
                             "largest flagged rows, the geometric means and the --top largest "
                             "undecided)");
  app.add_option("--top", top, "undecided rows listed without --all, largest change first "
                               "(default 20)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30))->type_name("N");
  app.add_option("--top-flagged", top_flagged,
                 "flagged rows listed without --all, regressions first, largest change first "
                 "(default 30; the others are counted by probe, and all of them decide "
                 "--fail-on)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))->type_name("N");
  app.add_option("--seed", opt.seed, "bootstrap seed (default 1)")->check(cli::unsigned_integer());
  app.add_option("--probe,-p", opt.probes, "compare only this probe (repeatable)")
      ->allow_extra_args(false)->type_name("NAME");
  app.add_option("--fail-on", fail_on, "regression: exit 1 when a regression is found")
      ->check(CLI::IsMember({"regression"}));
  cli::setup(app, kCompareFooter);
  cli::parse(app, args);
  for (auto& v : effect_for) {
    auto eq = v.rfind('=');
    opt.min_effect_for.emplace_back(v.substr(0, eq), std::stod(v.substr(eq + 1)));
  }
  if (format.empty()) format = out.empty() && isatty(STDOUT_FILENO) ? "term" : "text";
  // A path that exists is a path; otherwise a selector goes to the catalog.
  // A candidate naming the same bundles as an earlier one is compared once;
  // everything loaded counts against compare::kMaxBundles.
  std::vector<compare::SideSource> src;
  std::set<std::set<std::filesystem::path>> cands_seen;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto s = compare::SideSource::find(paths[i], runs);
    std::set<std::filesystem::path> key;
    for (auto& d : s.dirs) key.insert(std::filesystem::weakly_canonical(d));
    if (i > 0 && !cands_seen.insert(key).second) {
      std::fprintf(stderr, "kperflab compare: CAND %s names the same bundles as an earlier one: "
                           "compared once\n", printable(paths[i]).c_str());
      continue;
    }
    src.push_back(std::move(s));
  }
  compare::check_bundle_limit(src, "compare");
  // Only the HTML report plots histograms: the others load summaries without them.
  const bool plots = format == "html";
  compare::Side base = src[0].load(plots);
  std::vector<compare::Side> cands;
  for (size_t i = 1; i < src.size(); ++i) cands.push_back(src[i].load(plots));
  say_cache_problem("compare", base);
  report::Input in{&base, {}, {}, all, opt.alpha, top, top_flagged};
  size_t regressions = 0;
  for (auto& c : cands) {
    in.cands.push_back(&c);
    in.results.push_back(compare::compare(base, c, opt));
    regressions += in.results.back().regressions();
  }
  std::string text = format == "md"     ? report::markdown(in)
                     : format == "html" ? report::html(in)
                     : format == "term" ? report::terminal(in)
                                        : report::text(in);
  emit(out, text, force, paths);
  return !fail_on.empty() && regressions ? 1 : 0;
}

namespace {
const char* kSeriesFooter =
    "Each SIDE is a bundle, a directory of bundles or a catalog selector, in the order\n"
    "of the series (e.g. kernel:6.1* kernel:6.12*cloud* kernel:*rt* tag:own). Every\n"
    "step (side i -> i+1) is a comparison with compare's rules (boots are the unit;\n"
    "see kperflab compare --help). Text and Markdown list every flagged step and the\n"
    "--top largest undecided ones; --all lists every line with each side's value.\n"
    "--format html writes a static site (index.html and a page per probe) into the\n"
    "directory -o names.\n"
    "Exit: 0 done, 1 a regression with --fail-on regression, 2 error.";
}  // namespace

int series::series_main(const std::vector<std::string>& args) {
  series::Options opt;
  std::vector<std::string> paths;
  std::string format = "text", out, fail_on, runs = "results/runs";
  bool force = false;
  CLI::App app("One report over N kernels or configs.", "kperflab series");
  app.add_option("sides", paths, "two or more SIDEs in series order")
      ->required()->expected(2, 1 << 10)->type_name("SIDE SIDE...");
  app.add_option("--format", format, "text|md|html (default text; html needs -o DIR)")
      ->check(CLI::IsMember({"text", "md", "html"}));
  add_output(app, out, force, "write to FILE (html: the site's DIRECTORY)");
  app.add_option("--alpha", opt.compare.alpha, "significance level of each step (default 0.05)")
      ->check(cli::finite_number(0, 1, true, true))->type_name("X");
  app.add_option("--min-effect", opt.compare.min_effect, "floor of the minimum relative change "
                                                         "(default 0.02)")
      ->check(cli::finite_number(0, 100))->type_name("X");
  app.add_flag("--cross-host", opt.compare.cross_host, "allow sides from different hosts");
  app.add_flag("--trust-one-boot", opt.compare.trust_one_boot,
               "decide steps on the repetitions of one boot per side (see compare --help)");
  app.add_option("--runs-dir", runs, "where selectors look (default results/runs)")
      ->type_name("DIR");
  app.add_option("--noise", opt.compare.noise, "the host's noise model, or 'none'")
      ->type_name("FILE|none");
  app.add_flag("--all", opt.all, "list every metric's median across the series (default: "
                                 "the flagged steps and the --top largest undecided)");
  app.add_option("--top", opt.top, "undecided steps listed without --all, largest change "
                                   "first (default 15)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30))->type_name("N");
  app.add_option("--top-flagged", opt.top_flagged,
                 "lines with a flagged step listed by text and Markdown without --all, largest "
                 "change first (default 20; the others are counted by probe; the site lists "
                 "every one)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))->type_name("N");
  app.add_option("--probe,-p", opt.compare.probes, "only this probe (repeatable)")
      ->allow_extra_args(false)->type_name("NAME");
  app.add_option("--seed", opt.compare.seed, "bootstrap seed (default 1)")
      ->check(cli::unsigned_integer());
  app.add_option("--fail-on", fail_on, "regression: exit 1 when a step has a regression")
      ->check(CLI::IsMember({"regression"}));
  cli::setup(app, kSeriesFooter);
  cli::parse(app, args);
  if (format == "html" && out.empty())
    throw std::invalid_argument("series --format html: which directory? -o DIR");
  std::vector<compare::SideSource> src;
  for (auto& p : paths) src.push_back(compare::SideSource::find(p, runs));
  compare::check_bundle_limit(src, "series");
  std::vector<compare::Side> sides;
  sides.reserve(paths.size());
  for (auto& s : src) sides.push_back(s.load(format == "html"));
  if (!sides.empty()) say_cache_problem("series", sides.front());
  std::vector<const compare::Side*> ptrs;
  for (auto& s : sides) ptrs.push_back(&s);
  series::Result r = series::build(ptrs, opt);
  size_t regressions = 0;
  for (auto& s : r.steps) regressions += s.regressions();
  if (format == "html") {
    auto files = series::html_site(r, ptrs, out, force);
    std::printf("series: %zu files in %s (open %s)\n", files.size(), printable(out).c_str(),
                printable((std::filesystem::path(out) / "index.html").string()).c_str());
  } else {
    emit(out, format == "md" ? series::markdown(r) : series::text(r), force, paths);
  }
  return !fail_on.empty() && regressions ? 1 : 0;
}

namespace {

// A side given as paths or catalog selectors, merged into one (the baseline
// may be several bundles, directories or selectors).
compare::Side side_of(const std::vector<std::string>& args, const std::string& runs,
                      size_t others) {
  std::vector<compare::SideSource> src;
  std::vector<std::filesystem::path> dirs;
  std::string label;
  for (const auto& a : args) {
    src.push_back(compare::SideSource::find(a, runs));
    dirs.insert(dirs.end(), src.back().dirs.begin(), src.back().dirs.end());
    label += (label.empty() ? "" : " + ") + a;
  }
  compare::SideSource all;
  all.arg = label;
  all.dirs = compare::unique_dirs(std::move(dirs));
  compare::SideSource held;
  held.dirs.resize(others);
  compare::check_bundle_limit({all, held}, "export --kcidb");
  all.runs_root = runs;
  return all.load(false);
}

// export --kcidb: the bundles, compared with the baseline when one is given.
int export_kcidb(const std::vector<std::string>& paths, const std::vector<std::string>& baseline,
                 const std::string& runs, kcidb::Options& opt, const std::string& out,
                 bool force) {
  if (!kcidb::valid_origin(opt.origin))
    throw std::invalid_argument("--origin '" + printable(opt.origin) +
                                "': KCIDB wants ^[a-z0-9_]+$ (lower case, digits, '_')");
  std::vector<std::filesystem::path> dirs(paths.begin(), paths.end());
  dirs = compare::unique_dirs(std::move(dirs));
  compare::Side base;
  if (!baseline.empty()) {
    base = side_of(baseline, runs, dirs.size());
    opt.baseline = &base;
  } else {
    compare::SideSource held;
    held.dirs = dirs;
    compare::check_bundle_limit({held}, "export --kcidb");
  }
  // Bundle text is printable() already; replace guards the dump anyway.
  std::string text =
      kcidb::report(dirs, opt).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<std::string> inputs = paths;
  inputs.insert(inputs.end(), baseline.begin(), baseline.end());
  emit(out, text + "\n", force, inputs);
  return 0;
}

}  // namespace

int export_main(const std::vector<std::string>& args) {
  std::vector<std::string> paths, baseline;
  std::string out, runs = "results/runs";
  bool hlog = false, gbench = false, csv = false, lava = false, kcidb = false, force = false;
  kcidb::Options kopt;
  CLI::App app("Bundles in another tool's format.", "kperflab export");
  app.add_option("BUNDLE", paths, "the bundle directory (several: --kcidb only)")
      ->required()->expected(1, 1 << 16);
  auto* h = app.add_flag("--hlog", hlog, "HdrHistogram interval log");
  auto* g = app.add_flag("--gbench", gbench, "Google Benchmark JSON");
  auto* c = app.add_flag("--csv", csv, "CSV, one row per statistic");
  auto* l = app.add_flag("--lava", lava, "LAVA test cases of the headline figures");
  auto* k = app.add_flag("--kcidb", kcidb, "KCIDB I/O v5.3 JSON (KernelCI's results database)");
  h->excludes(g)->excludes(c)->excludes(l)->excludes(k);
  g->excludes(c)->excludes(l)->excludes(k);
  c->excludes(l)->excludes(k);
  l->excludes(k);
  auto* bo = app.add_option("--baseline", baseline,
                            "--kcidb: compare against this bundle, directory or catalog "
                            "selector (repeatable: one side)")
                 ->allow_extra_args(false)->type_name("PATH|SELECTOR");
  auto* oo = app.add_option("--origin", kopt.origin, "--kcidb: the submitting CI system's name "
                                                     "(^[a-z0-9_]+$, default kperflab)");
  auto* ro = app.add_option("--runs-dir", runs, "--kcidb: where --baseline selectors look "
                                                "(default results/runs)")->type_name("DIR");
  auto* xo = app.add_flag("--cross-host", kopt.compare.cross_host,
                          "--kcidb: allow a baseline from another host");
  auto* to = app.add_flag("--trust-one-boot", kopt.compare.trust_one_boot,
                          "--kcidb: publish FAIL on the repetitions of one boot per side");
  add_output(app, out, force, "write to FILE (default: standard output)");
  cli::setup(app, kExportFooter);
  cli::parse(app, args);
  if (!hlog && !gbench && !csv && !lava && !kcidb)
    throw std::invalid_argument("export: which format? --hlog, --gbench, --csv, --lava or --kcidb");
  if (!kcidb) {
    for (auto* o : {bo, oo, ro, xo, to})
      if (o->count())
        throw std::invalid_argument(o->get_name() + " goes with --kcidb only");
    if (paths.size() != 1)
      throw std::invalid_argument("one BUNDLE (got " + std::to_string(paths.size()) +
                                  "); only --kcidb takes several");
  }
  if (kcidb) return export_kcidb(paths, baseline, runs, kopt, out, force);
  const std::string& path = paths[0];
  Bundle b = Bundle::load(path);
  emit(out,
       hlog     ? exporting::hlog(b)
       : gbench ? exporting::gbench(b)
       : lava   ? exporting::lava(b)
                : exporting::csv(b),
       force, {path});
  return 0;
}

}  // namespace kperflab
