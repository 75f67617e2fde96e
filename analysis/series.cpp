// SPDX-License-Identifier: GPL-2.0-only
// A series built from its sides (series.h): the lines across the series and
// the metric families the site plots. What text, Markdown and the site list
// of it: series_picks.cpp; text and Markdown: series_text.cpp; the site:
// series_html.cpp.
#include "analysis/series.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "analysis/report.h"
#include "analysis/stats.h"
#include "core/until_ci.h"

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

double step_effect(const Line& l, size_t s) {
  const Step& st = l.steps[s];
  if (!std::isnan(st.change) || s + 1 >= l.cells.size()) return report::effect_rank(st.change);
  // No change computed (no variance on a side): the medians shown, as ranked.
  const Cell &a = l.cells[s], &b = l.cells[s + 1];
  if (a.present && b.present && a.median != 0) return report::effect_rank(b.median / a.median - 1);
  return -1;
}

double effect(const Line& l) {
  double e = -1;
  for (size_t s = 0; s < l.steps.size(); ++s)
    if (l.steps[s].present && l.steps[s].verdict != Verdict::unchanged)
      e = std::max(e, step_effect(l, s));
  return e;
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
  r.top = opt.top;
  r.top_flagged = opt.top_flagged;
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
      l = {probe, metric, stat, unit, better, {}, std::vector<Step>(nsteps), {}};
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
              std::string unit = m == c.meta.end() ? "" : m->second->unit;
              line(probe, metric, stat, unit, "");
            }
      }
  auto kept = [&](const Line& l) {
    return l.listed() || (opt.all && (l.stat == "p50" || l.stat == "value"));
  };
  for (auto& [key, l] : lines)  // each side's value of every line listed
    if (kept(l))
      for (auto& c : col) l.cells.push_back(cell_of(c, l));
  // The site plots a metric's p50 and p99 (p90 where p99 is too thin), or
  // its value, together (and a flagged statistic besides), for every metric
  // with a line listed.
  std::map<std::pair<std::string, std::string>, Family> fam;
  for (auto& [key, l] : lines) {
    if (!kept(l)) continue;
    Family& f = fam[{l.probe, l.metric}];
    if (f.probe.empty()) f = {l.probe, l.metric, l.unit, {}, -1, false};
    f.flagged = f.flagged || l.flagged();
    f.effect = std::max(f.effect, effect(l));
  }
  for (auto& [key, f] : fam) {
    const auto& pm = key;  // a structured binding cannot be captured (clang, C++20)
    // The tail: p99, or p90 where p99 was left out (fewer than 1000 samples).
    auto has = [&lines, &pm](const char* stat) {
      return lines.count({pm.first, pm.second, stat}) > 0;
    };
    for (const char* stat : {"p50", has("p99") ? "p99" : "p90", "value"})
      if (auto it = lines.find({pm.first, pm.second, stat}); it != lines.end())
        f.lines.push_back(it->second);
    // A flagged statistic (the mean) is drawn too; with neither p50 nor a
    // value, the listed ones are.
    bool none = f.lines.empty();
    for (auto it = lines.lower_bound({pm.first, pm.second, ""});
         it != lines.end() && std::get<0>(it->first) == pm.first &&
         std::get<1>(it->first) == pm.second; ++it) {
      bool in = std::any_of(f.lines.begin(), f.lines.end(),
                            [&](const Line& l) { return l.stat == it->second.stat; });
      if (!in && kept(it->second) && (none || it->second.flagged()))
        f.lines.push_back(it->second);
    }
    for (auto& l : f.lines)
      if (l.cells.empty())
        for (auto& c : col) l.cells.push_back(cell_of(c, l));
    r.families.push_back(std::move(f));
  }
  std::stable_sort(r.families.begin(), r.families.end(), [](const Family& a, const Family& b) {
    if (a.flagged != b.flagged) return a.flagged;
    return a.effect > b.effect;
  });
  for (auto& [key, l] : lines) {
    if (!kept(l)) continue;
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

}  // namespace kperflab::series
