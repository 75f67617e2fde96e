// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/series.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "analysis/report.h"
#include "analysis/stats.h"
#include "until_ci.h"

namespace kperflab::series {

using compare::Verdict;

bool Line::flagged() const {
  for (auto& s : steps)
    if (s.present && (s.verdict == Verdict::regression || s.verdict == Verdict::improvement ||
                      s.verdict == Verdict::change))
      return true;
  return false;
}

bool Line::listed() const {
  if (flagged()) return true;
  for (auto& s : steps)
    if (s.present && s.verdict == Verdict::undecided) return true;
  return false;
}

std::string Line::stats() const {
  std::string s = stat;
  for (auto& x : same_stats) s += " = " + x;
  return s;
}

namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // probe, metric, stat

Cell cell_of(const compare::Collected& c, const Line& l) {
  Cell cell;
  auto p = c.v.find(l.probe);
  if (p == c.v.end()) return cell;
  auto m = p->second.find(l.metric);
  if (m == p->second.end()) return cell;
  auto s = m->second.find(l.stat);
  if (s == m->second.end() || s->second.v.empty()) return cell;
  std::vector<double> units =
      c.boots.size() > 1 ? compare::per_boot(s->second, c.boots.size()) : s->second.v;
  cell.present = true;
  cell.n = units.size();
  if (auto ci = median_ci95(units)) {
    cell.median = ci->median, cell.lo = ci->lo, cell.hi = ci->hi, cell.ci = true;
  } else {
    auto [lo, hi] = std::minmax_element(units.begin(), units.end());
    cell.median = stats::median(units);
    cell.lo = *lo, cell.hi = *hi;
  }
  return cell;
}

bool same_values(const Line& a, const Line& b) {
  if (a.cells.size() != b.cells.size() || a.steps.size() != b.steps.size()) return false;
  for (size_t i = 0; i < a.cells.size(); ++i) {
    const Cell &x = a.cells[i], &y = b.cells[i];
    if (x.present != y.present) return false;
    if (x.present && (x.median != y.median || x.lo != y.lo || x.hi != y.hi)) return false;
  }
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const Step &x = a.steps[i], &y = b.steps[i];
    if (x.present != y.present || x.verdict != y.verdict || x.change != y.change) return false;
  }
  return true;
}

}  // namespace

Result build(const std::vector<const compare::Side*>& sides, const Options& opt) {
  if (sides.size() < 2) throw std::invalid_argument("series: needs two sides or more");
  Result r;
  r.alpha = opt.compare.alpha;
  r.all = opt.all;
  std::vector<compare::Collected> col;
  for (const auto* s : sides) {
    r.labels.push_back(s->label);
    r.machines.push_back(report::machine(*s));
    std::set<std::string> rel;
    for (auto& b : s->bundles) rel.insert(b.meta_view().at("kernel").text("release", "?"));
    std::string k;
    for (auto& x : rel) k += (k.empty() ? "" : ", ") + printable(x);
    r.kernels.push_back(k);
    col.push_back(compare::collect(*s));
    r.reps.push_back(col.back().reps);
    r.boots.push_back(col.back().boots.size());
  }
  for (size_t i = 0; i + 1 < sides.size(); ++i)
    r.steps.push_back(compare::compare(*sides[i], *sides[i + 1], opt.compare));

  const size_t nsteps = r.steps.size();
  std::map<Key, Line> lines;
  auto line = [&](const std::string& probe, const std::string& metric, const std::string& stat,
                  const std::string& unit, const std::string& better) -> Line& {
    Line& l = lines[{probe, metric, stat}];
    if (l.probe.empty()) {
      l = {probe, metric, stat, unit, better, {}, std::vector<Step>(nsteps)};
    }
    return l;
  };
  for (size_t s = 0; s < nsteps; ++s)
    for (auto& row : r.steps[s].rows) {
      if (row.summary) continue;  // a probe's geometric mean: no value per side to plot
      Step st{true, row.verdict, row.change, row.p_adj};
      line(row.probe, row.metric, row.stat, row.unit, row.better).steps[s] = st;
      // A merged row stands for its aliases too ("stat" of the same metric,
      // or "metric:stat").
      for (auto& a : row.aliases) {
        auto colon = a.rfind(':');
        std::string metric = colon == std::string::npos ? row.metric : a.substr(0, colon);
        std::string stat = colon == std::string::npos ? a : a.substr(colon + 1);
        line(row.probe, metric, stat, row.unit, row.better).steps[s] = st;
      }
    }
  // Metrics on one side only have no row; --all lists them too.
  if (opt.all)
    for (auto& c : col)
      for (auto& [probe, metrics] : c.v) {
        const auto& only = opt.compare.probes;  // --probe: as compare selects rows
        if (!only.empty() && std::find(only.begin(), only.end(), probe) == only.end()) continue;
        for (auto& [metric, st] : metrics)
          for (const char* stat : {"p50", "value"})
            if (st.count(stat)) {
              auto m = c.meta.find(probe + '\x1f' + metric);
              std::string unit = m == c.meta.end() ? "" : m->second.text("unit", "");
              line(probe, metric, stat, unit, "");
            }
      }
  for (auto& [key, l] : lines) {
    if (!l.listed() && !(opt.all && (l.stat == "p50" || l.stat == "value"))) continue;
    for (auto& c : col) l.cells.push_back(cell_of(c, l));
    // Lines are in (probe, metric, stat) order: an identical statistic of
    // the same metric is already in r.lines.
    Line* twin = nullptr;
    for (size_t i = r.lines.size(); i-- > 0 && r.lines[i].probe == l.probe &&
                                    r.lines[i].metric == l.metric;)
      if (same_values(r.lines[i], l)) twin = &r.lines[i];
    if (twin) twin->same_stats.push_back(l.stat);
    else r.lines.push_back(std::move(l));
  }
  return r;
}

namespace {

const char* mark(const Step& s) {
  if (!s.present) return "";
  switch (s.verdict) {
    case Verdict::regression: return "R";
    case Verdict::improvement: return "I";
    case Verdict::change: return "C";
    case Verdict::undecided: return "?";
    default: return "";
  }
}

std::string value_text(const Cell& c, const std::string& unit) {
  if (!c.present) return "-";
  if (c.n == 1) return report::fmt_value(c.median, unit) + " (1 unit)";
  return report::fmt_value(c.median, unit) + " [" + report::fmt_value(c.lo, unit) + ", " +
         report::fmt_value(c.hi, unit) + "]";
}

std::string stat_text(const Line& l) {
  return l.stats() + (l.better.empty() ? "" : ", " + l.better + " is better");
}

std::string step_text(const Step& s) {
  if (!s.present) return "";
  std::string t = report::fmt_change(s.change);
  if (*mark(s)) t += std::string(" ") + mark(s);
  return t;
}

std::string counts(const compare::Result& r) {
  size_t reg = r.regressions(), imp = r.improvements(), chg = 0, und = 0;
  for (auto& x : r.rows) {
    chg += x.verdict == Verdict::change;
    und += x.verdict == Verdict::undecided;
  }
  return std::to_string(reg) + " regressions, " + std::to_string(imp) + " improvements, " +
         std::to_string(chg) + " changes, " + std::to_string(und) + " undecided of " +
         std::to_string(r.rows.size()) + " comparisons";
}

std::string side_tag(size_t i) { return "[" + std::to_string(i + 1) + "]"; }

bool same_machine(const Result& r) {
  for (auto& m : r.machines)
    if (m != r.machines.front()) return false;
  return true;
}

constexpr const char* kLegend =
    "Values: the median over a side's units (its boots when it has several, else its "
    "repetitions) [95% CI of that median, distribution-free, from 6 units on; below 6, "
    "[min, max]]. A step i -> i+1 is a comparison of the two sides (kperflab compare); "
    "R regression, I improvement, C change (no better direction), ? undecided.";

}  // namespace

std::string text(const Result& r) {
  std::ostringstream o;
  o << "kperflab series: " << r.labels.size() << " sides, " << r.steps.size()
    << (r.steps.size() == 1 ? " step\n" : " steps\n");
  if (same_machine(r)) report::wrap(o, "machine: " + r.machines.front(), "  ", "    ");
  for (size_t i = 0; i < r.labels.size(); ++i) {
    std::string s = side_tag(i) + " " + printable(r.labels[i]);
    if (printable(r.labels[i]).find(r.kernels[i]) == std::string::npos) s += ": " + r.kernels[i];
    s += "; " + report::side_counts(r.reps[i], r.boots[i]);
    if (!same_machine(r)) s += "; machine: " + r.machines[i];
    report::wrap(o, s, "  ", "      ");
  }
  o << "\nSteps (alpha " << r.alpha << ", Benjamini-Hochberg over the rows of each step, of the probes\n"
       "chosen with --probe or all):\n";
  for (size_t s = 0; s < r.steps.size(); ++s) {
    const auto& st = r.steps[s];
    report::wrap(o, side_tag(s) + " -> " + side_tag(s + 1) + ": " + counts(st), "  ", "      ");
    report::wrap(o, "basis: " + report::basis_text(st.basis), "      ", "        ");
    size_t shown = 0;
    for (auto& d : st.provenance) {
      if (d.measured) continue;
      if (shown++ == 6) {
        o << "      (more differences: kperflab compare " << "the two sides)\n";
        break;
      }
      report::wrap(o, "differs: " + printable(d.field) + ": " + report::fmt_diff(d), "      ",
                   "        ");
    }
    for (auto& w : st.warnings) report::wrap(o, "warning: " + w, "      ", "        ");
  }
  o << "\n";
  report::wrap(o, kLegend, "", "");
  std::string probe;
  size_t listed = 0;
  for (auto& l : r.lines) {
    if (l.probe != probe) {
      probe = l.probe;
      size_t n = 0;
      for (auto& x : r.lines) n += x.probe == probe;
      o << "\n== " << printable(probe) << " (" << n << (n == 1 ? " line" : " lines")
        << (r.all ? "" : " with a flagged or undecided step") << ")\n";
    }
    ++listed;
    report::wrap(o, printable(l.metric) + " (" + stat_text(l) + ")", "", "    ");
    for (size_t i = 0; i < l.cells.size(); ++i) {
      std::string s = side_tag(i) + " " + value_text(l.cells[i], l.unit);
      if (i > 0 && l.steps[i - 1].present) s += "  " + step_text(l.steps[i - 1]);
      report::wrap(o, s, "  ", "      ");
    }
  }
  if (!listed)
    o << "\nNo step flagged a change or left one undecided"
      << (r.all ? "" : " (--all lists every metric's median across the series)") << ".\n";
  return o.str();
}

namespace {
std::string md(const std::string& s) {
  std::string o;
  for (char c : printable(s)) {
    if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>') o += '\\';
    o += c;
  }
  return o;
}
}  // namespace

std::string markdown(const Result& r) {
  std::ostringstream o;
  o << "# kperflab series: " << r.labels.size() << " sides\n\n";
  if (same_machine(r)) o << "**machine**: " << md(r.machines.front()) << "\n\n";
  o << "| side | selection | kernel | units |" << (same_machine(r) ? "" : " machine |") << "\n"
    << "|---|---|---|---|" << (same_machine(r) ? "" : "---|") << "\n";
  for (size_t i = 0; i < r.labels.size(); ++i) {
    o << "| " << side_tag(i) << " | " << md(r.labels[i]) << " | " << md(r.kernels[i]) << " | "
      << report::side_counts(r.reps[i], r.boots[i]) << " |";
    if (!same_machine(r)) o << " " << md(r.machines[i]) << " |";
    o << "\n";
  }
  o << "\n## Steps (alpha " << r.alpha << ")\n\n| step | verdicts | basis |\n|---|---|---|\n";
  for (size_t s = 0; s < r.steps.size(); ++s)
    o << "| " << side_tag(s) << " → " << side_tag(s + 1) << " | " << counts(r.steps[s]) << " | "
      << md(report::basis_text(r.steps[s].basis)) << " |\n";
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& w : r.steps[s].warnings)
      o << "\n> " << side_tag(s) << " → " << side_tag(s + 1) << " warning: " << md(w) << "\n";
  o << "\n" << kLegend << "\n";
  std::string probe;
  for (auto& l : r.lines) {
    if (l.probe != probe) {
      probe = l.probe;
      o << "\n## " << md(probe) << "\n\n| metric (stat) |";
      for (size_t i = 0; i < r.labels.size(); ++i) o << " " << side_tag(i) << " |";
      o << "\n|---|";
      for (size_t i = 0; i < r.labels.size(); ++i) o << "---:|";
      o << "\n";
    }
    o << "| `" << printable(l.metric) << "` (" << stat_text(l) << ") |";
    for (size_t i = 0; i < l.cells.size(); ++i) {
      o << " " << md(value_text(l.cells[i], l.unit));
      if (i > 0 && l.steps[i - 1].present && *mark(l.steps[i - 1]))
        o << "<br>**" << step_text(l.steps[i - 1]) << "**";
      else if (i > 0 && l.steps[i - 1].present)
        o << "<br>" << step_text(l.steps[i - 1]);
      o << " |";
    }
    o << "\n";
  }
  if (r.lines.empty()) o << "\nNo step flagged a change.\n";
  return o.str();
}

}  // namespace kperflab::series
