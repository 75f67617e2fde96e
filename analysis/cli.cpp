// SPDX-License-Identifier: GPL-2.0-only
// kperflab compare / kperflab export: argument parsing and output.
#include "analysis/cli.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "analysis/compare.h"
#include "analysis/export.h"
#include "analysis/report.h"

namespace kperflab {

namespace {

const char* kCompareHelp =
    "kperflab compare BASE CAND [CAND...] [options]\n"
    "  Each side is a bundle or a directory of bundles (their repetitions pool).\n"
    "  Per metric and statistic: Mann-Whitney U across repetitions, bootstrap CI of the\n"
    "  relative change of medians, Benjamini-Hochberg over all comparisons; a change is\n"
    "  reported when significant AND at least the minimum effect.\n"
    "  --format text|md|html|term   (default: term on a terminal, text otherwise)\n"
    "  -o FILE                      write the report to FILE\n"
    "  --alpha X                    significance level (default 0.05)\n"
    "  --min-effect X               minimum relative change (default 0.05 = 5%)\n"
    "  --min-effect-for GLOB=X      per metric ('probe/metric:stat' glob), repeatable\n"
    "  --cross-host                 allow bundles from different hosts\n"
    "  --all                        list unchanged metrics too\n"
    "  --seed N                     bootstrap seed (default 1)\n"
    "  --probe NAME                 compare only this probe (repeatable); corrections\n"
    "                               (Benjamini-Hochberg) then run over these probes only\n"
    "  --fail-on regression         exit 1 when a regression is found (0 none, 2 error)\n";

const char* kExportHelp =
    "kperflab export --hlog|--gbench|--csv BUNDLE -o FILE\n"
    "  --hlog    HdrHistogram interval log: one tagged line per metric and repetition\n"
    "  --gbench  Google Benchmark JSON: each statistic one entry (compare.py works on it)\n"
    "  --csv     probe,metric,repetition,kind,unit,stat,value\n";

// A finite number (nan and inf would disable every comparison they enter).
double number(const std::string& flag, const std::string& v) {
  try {
    size_t pos = 0;
    double d = std::stod(v, &pos);
    if (pos == v.size() && std::isfinite(d)) return d;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + " wants a finite number, got '" + v.substr(0, 40) + "'");
}

// A non-negative relative change (0.05 = 5 %).
double effect(const std::string& flag, const std::string& v) {
  double d = number(flag, v);
  if (d < 0 || d > 100) throw std::invalid_argument(flag + " must be in [0, 100], got " + v);
  return d;
}

uint64_t unsigned_integer(const std::string& flag, const std::string& v) {
  if (!v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos) {
    try {
      return std::stoull(v);
    } catch (const std::exception&) {
    }
  }
  throw std::invalid_argument(flag + " wants an unsigned integer, got '" + v.substr(0, 40) + "'");
}

void emit(const std::string& out, const std::string& text) {
  if (out.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream f(out);
  if (!(f << text)) throw std::runtime_error("cannot write " + out);
}

}  // namespace

int compare_main(const std::vector<std::string>& args) {
  compare::Options opt;
  std::vector<std::string> paths;
  std::string format, out;
  bool fail_on = false, all = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kCompareHelp, stdout);
      return 0;
    } else if (a == "--format") {
      format = value();
      if (format != "text" && format != "md" && format != "html" && format != "term")
        throw std::invalid_argument("--format must be text, md, html or term, got '" + format + "'");
    } else if (a == "-o" || a == "--output") {
      out = value();
    } else if (a == "--alpha") {
      opt.alpha = number(a, value());
      if (opt.alpha <= 0 || opt.alpha >= 1) throw std::invalid_argument("--alpha must be in (0, 1)");
    } else if (a == "--min-effect") {
      opt.min_effect = effect(a, value());
    } else if (a == "--min-effect-for") {
      std::string v = value();
      auto eq = v.rfind('=');
      if (eq == std::string::npos) throw std::invalid_argument("--min-effect-for wants GLOB=X");
      opt.min_effect_for.emplace_back(v.substr(0, eq), effect(a, v.substr(eq + 1)));
    } else if (a == "--cross-host") {
      opt.cross_host = true;
    } else if (a == "--all") {
      all = true;
    } else if (a == "--probe") {
      opt.probes.push_back(value());
    } else if (a == "--seed") {
      opt.seed = unsigned_integer(a, value());
    } else if (a == "--fail-on") {
      if (value() != "regression") throw std::invalid_argument("--fail-on takes 'regression'");
      fail_on = true;
    } else if (!a.empty() && a[0] == '-') {
      throw std::invalid_argument("compare: unknown option '" + a + "'");
    } else {
      paths.push_back(a);
    }
  }
  if (paths.size() < 2) throw std::invalid_argument("compare needs BASE and at least one CAND");
  if (format.empty()) format = out.empty() && isatty(STDOUT_FILENO) ? "term" : "text";
  compare::Side base = compare::Side::load(paths[0]);
  std::vector<compare::Side> cands;
  for (size_t i = 1; i < paths.size(); ++i) cands.push_back(compare::Side::load(paths[i]));
  report::Input in{&base, {}, {}, all};
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
  emit(out, text);
  return fail_on && regressions ? 1 : 0;
}

int export_main(const std::vector<std::string>& args) {
  std::string kind, path, out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kExportHelp, stdout);
      return 0;
    } else if (a == "--hlog" || a == "--gbench" || a == "--csv") {
      if (!kind.empty()) throw std::invalid_argument("export: give one of --hlog, --gbench, --csv");
      kind = a.substr(2);
    } else if (a == "-o" || a == "--output") {
      if (i + 1 >= args.size()) throw std::invalid_argument("-o needs a file");
      out = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      throw std::invalid_argument("export: unknown option '" + a + "'");
    } else if (path.empty()) {
      path = a;
    } else {
      throw std::invalid_argument("export takes one bundle");
    }
  }
  if (kind.empty()) throw std::invalid_argument("export: which format? --hlog, --gbench or --csv");
  if (path.empty()) throw std::invalid_argument("export: which bundle?");
  Bundle b = Bundle::load(path);
  emit(out, kind == "hlog" ? exporting::hlog(b) : kind == "gbench" ? exporting::gbench(b)
                                                                   : exporting::csv(b));
  return 0;
}

}  // namespace kperflab
