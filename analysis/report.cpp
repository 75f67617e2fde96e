// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "results/bundle.h"

namespace kperflab::report {

using compare::Row;
using compare::Verdict;

std::string fmt_value(double v, const std::string& unit) {
  char b[48];
  double ns = unit == "ps" ? v / 1000 : v;
  if (unit == "ns" || unit == "ps") {
    if (ns < 1e3) std::snprintf(b, sizeof b, "%.4gns", ns);
    else if (ns < 1e6) std::snprintf(b, sizeof b, "%.4gus", ns / 1e3);
    else if (ns < 1e9) std::snprintf(b, sizeof b, "%.4gms", ns / 1e6);
    else std::snprintf(b, sizeof b, "%.4gs", ns / 1e9);
  } else {
    std::snprintf(b, sizeof b, "%.4g", v);
  }
  return b;
}

std::string fmt_change(double c) {
  if (std::isinf(c)) return "new";
  if (std::isnan(c)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", c * 100);
  return b;
}

bool listed(const Row& r, bool all_rows) { return all_rows || r.verdict != Verdict::unchanged; }

std::vector<const Row*> ordered_rows(const compare::Result& res, bool all_rows) {
  std::vector<const Row*> v;
  for (auto& r : res.rows)
    if (listed(r, all_rows)) v.push_back(&r);
  auto rank = [](const Row* r) {
    switch (r->verdict) {
      case Verdict::regression: return 0;
      case Verdict::improvement: return 1;
      case Verdict::change: return 2;
      case Verdict::undecided: return 3;
      default: return 4;
    }
  };
  std::stable_sort(v.begin(), v.end(), [&](const Row* a, const Row* b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return std::fabs(a->change) > std::fabs(b->change);
  });
  return v;
}

namespace {

std::string ci(const Row& r) {
  return "[" + fmt_change(r.ci_lo) + ", " + fmt_change(r.ci_hi) + "]";
}

std::string pval(double p) {
  char b[32];
  std::snprintf(b, sizeof b, p < 0.001 ? "%.1e" : "%.3f", p);
  return b;
}

// Plain ASCII, wrapped at 78 columns, for mailing lists.
void wrap(std::ostringstream& o, const std::string& s, const std::string& indent) {
  std::string line = indent;
  std::istringstream words(s);
  std::string w;
  while (words >> w) {
    if (line.size() + w.size() + 1 > 78 && line.size() > indent.size()) {
      o << line << "\n";
      line = indent + "  ";
    }
    line += (line.size() > indent.size() && line.back() != ' ' ? " " : "") + w;
  }
  o << line << "\n";
}

}  // namespace

std::string text(const Input& in) {
  std::ostringstream o;
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    o << "kperflab comparison\n";
    wrap(o,
         "base: " + printable(r.base_label) + ", " + std::to_string(r.base_reps) + " repetitions",
         "  ");
    wrap(o,
         "cand: " + printable(r.cand_label) + ", " + std::to_string(r.cand_reps) + " repetitions",
         "  ");
    o << "\nWhat differs between the sides:\n";
    if (r.provenance.empty()) o << "  nothing recorded in the provenance\n";
    for (auto& d : r.provenance)
      wrap(o, printable(d.field) + ": " + printable(d.base) + " -> " + printable(d.cand), "  ");
    for (auto& w : r.warnings) wrap(o, "warning: " + printable(w), "");
    o << "\n" << r.rows.size() << " comparisons, " << r.regressions() << " regressions, "
      << r.improvements() << " improvements (Mann-Whitney U over repetitions,\n"
      << "Benjamini-Hochberg adjusted; reported when significant and past the\n"
      << "minimum effect).\n\n";
    for (const Row* x : ordered_rows(r, in.all_rows)) {
      wrap(o,
           std::string(compare::to_string(x->verdict)) + " " + x->probe + " " +
               printable(x->metric) + " (" + x->stat + ")",
           "");
      o << "    " << fmt_value(x->base_median, x->unit) << " -> "
        << fmt_value(x->cand_median, x->unit) << "  " << fmt_change(x->change) << " "
        << ci(*x) << "  p=" << pval(x->p_adj) << "\n";
    }
    if (i + 1 < in.results.size()) o << "\n" << std::string(72, '-') << "\n\n";
  }
  return o.str();
}

std::string markdown(const Input& in) {
  std::ostringstream o;
  for (const auto& r : in.results) {
    o << "## kperflab comparison\n\n"
      << "- **base**: " << printable(r.base_label) << " (" << r.base_reps << " repetitions)\n"
      << "- **candidate**: " << printable(r.cand_label) << " (" << r.cand_reps
      << " repetitions)\n\n"
      << "### What differs\n\n";
    if (r.provenance.empty()) o << "Nothing recorded in the provenance differs.\n\n";
    else {
      o << "| field | base | candidate |\n|---|---|---|\n";
      for (auto& d : r.provenance)
        o << "| " << printable(d.field) << " | `" << printable(d.base) << "` | `"
          << printable(d.cand) << "` |\n";
      o << "\n";
    }
    for (auto& w : r.warnings) o << "> **warning:** " << printable(w) << "\n\n";
    o << "### Results\n\n" << r.rows.size() << " comparisons, **" << r.regressions()
      << " regressions**, " << r.improvements() << " improvements.\n\n";
    auto rows = ordered_rows(r, in.all_rows);
    if (rows.empty()) continue;
    o << "| verdict | probe | metric | stat | base | candidate | change | 95% CI | p (adj.) |\n"
      << "|---|---|---|---|---:|---:|---:|---|---:|\n";
    for (const Row* x : rows)
      o << "| " << compare::to_string(x->verdict) << " | " << x->probe << " | `"
        << printable(x->metric) << "` | " << x->stat << " | " << fmt_value(x->base_median, x->unit)
        << " | " << fmt_value(x->cand_median, x->unit) << " | " << fmt_change(x->change) << " | "
        << ci(*x) << " | " << pval(x->p_adj) << " |\n";
    o << "\n";
  }
  return o.str();
}

std::string terminal(const Input& in) {
  const char* red = "\033[1;31m";
  const char* green = "\033[32m";
  const char* yellow = "\033[33m";
  const char* dim = "\033[2m";
  const char* off = "\033[0m";
  std::ostringstream o;
  for (const auto& r : in.results) {
    o << "\033[1mbase\033[0m " << printable(r.base_label) << " (" << r.base_reps << " reps)   "
      << "\033[1mcand\033[0m " << printable(r.cand_label) << " (" << r.cand_reps << " reps)\n";
    for (auto& d : r.provenance)
      o << "  " << dim << printable(d.field) << off << ": " << printable(d.base) << " -> "
        << printable(d.cand) << "\n";
    for (auto& w : r.warnings) o << yellow << "warning: " << printable(w) << off << "\n";
    char head[200];
    std::snprintf(head, sizeof head, "\n%-12s %-60s %-6s %11s %11s %8s %s\n", "verdict",
                  "probe/metric", "stat", "base", "cand", "change", "95% CI");
    o << head;
    for (const Row* x : ordered_rows(r, in.all_rows)) {
      const char* c = x->verdict == Verdict::regression    ? red
                      : x->verdict == Verdict::improvement ? green
                      : x->verdict == Verdict::unchanged   ? dim
                                                           : yellow;
      char line[400];
      std::snprintf(line, sizeof line, "%s%-12s%s %-60s %-6s %11s %11s %8s %s\n", c,
                    compare::to_string(x->verdict), off,
                    (x->probe + "/" + printable(x->metric)).c_str(), x->stat.c_str(),
                    fmt_value(x->base_median, x->unit).c_str(),
                    fmt_value(x->cand_median, x->unit).c_str(), fmt_change(x->change).c_str(),
                    ci(*x).c_str());
      o << line;
    }
    o << "\n" << r.rows.size() << " comparisons: " << red << r.regressions() << " regressions"
      << off << ", " << green << r.improvements() << " improvements" << off << "\n";
  }
  return o.str();
}

}  // namespace kperflab::report
