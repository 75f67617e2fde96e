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

bool flagged(const Step& s) {
  return s.present && (s.verdict == Verdict::regression || s.verdict == Verdict::improvement ||
                       s.verdict == Verdict::change);
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
std::string step_tag(size_t s) { return side_tag(s) + "->" + side_tag(s + 1); }

bool same_machine(const Result& r) {
  for (auto& m : r.machines)
    if (m != r.machines.front()) return false;
  return true;
}

bool same_basis(const Result& r) {
  for (auto& s : r.steps)
    if (s.basis != r.steps.front().basis) return false;
  return true;
}

constexpr const char* kLegend =
    "Values: the median over a side's units (its boots when it has several, else its "
    "repetitions) [95% CI of that median, distribution-free, from 6 units on; below 6, "
    "[min, max]]. A step i -> i+1 is a comparison of the two sides (kperflab compare); "
    "R regression, I improvement, C change (no better direction), ? undecided.";

}  // namespace

// Every line with a flagged step (its flagged steps), by probe, largest
// change first.
std::vector<Pick> flagged_picks(const Result& r, size_t limit,
                                std::map<std::string, size_t>* left) {
  std::vector<std::pair<double, Pick>> v;
  for (auto& l : r.lines) {
    Pick p{&l, {}};
    double e = -1;
    for (size_t s = 0; s < l.steps.size(); ++s)
      if (flagged(l.steps[s])) p.steps.push_back(s), e = std::max(e, step_effect(l, s));
    if (!p.steps.empty()) v.emplace_back(e, p);
  }
  if (v.size() > limit) {  // the largest changes over every probe
    std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first > b.first; });
    if (left)
      for (size_t i = limit; i < v.size(); ++i) ++(*left)[v[i].second.line->probe];
    v.resize(limit);
  }
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) {
    if (a.second.line->probe != b.second.line->probe)
      return a.second.line->probe < b.second.line->probe;
    return a.first > b.first;
  });
  std::vector<Pick> out;
  for (auto& [e, p] : v) out.push_back(p);
  return out;
}

// The `top` undecided steps of largest |change| over every line, grouped by
// line (largest first); `total`: the undecided steps of every line.
std::vector<Pick> undecided_picks(const Result& r, size_t& total) {
  std::vector<std::tuple<double, size_t, size_t>> v;  // effect, line, step
  for (size_t i = 0; i < r.lines.size(); ++i)
    for (size_t s = 0; s < r.lines[i].steps.size(); ++s)
      if (r.lines[i].steps[s].present && r.lines[i].steps[s].verdict == Verdict::undecided)
        v.emplace_back(step_effect(r.lines[i], s), i, s);
  total = v.size();
  std::stable_sort(v.begin(), v.end(),
                   [](auto& a, auto& b) { return std::get<0>(a) > std::get<0>(b); });
  if (v.size() > r.top) v.resize(r.top);
  std::vector<Pick> out;
  std::map<size_t, size_t> at;  // line -> index in out
  for (auto& [e, i, s] : v) {
    auto [it, fresh] = at.emplace(i, out.size());
    if (fresh) out.push_back({&r.lines[i], {}});
    out[it->second].steps.push_back(s);
  }
  for (auto& p : out) std::sort(p.steps.begin(), p.steps.end());
  return out;
}

namespace {

std::string pick_text(const Pick& p, bool with_probe) {
  std::string s = (with_probe ? printable(p.line->probe) + " " : "") + printable(p.line->metric) +
                  " (" + p.line->stats() + "):";
  for (size_t i = 0; i < p.steps.size(); ++i) {
    size_t st = p.steps[i];
    s += (i ? "; " : " ") + step_tag(st) + " ";
    const Cell &a = p.line->cells[st], &b = p.line->cells[st + 1];
    if (a.present && b.present)
      s += report::fmt_value(a.median, p.line->unit) + " -> " +
           report::fmt_value(b.median, p.line->unit) + " ";
    s += step_text(p.line->steps[st]);
  }
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> findings(const Result& r,
                                                          const std::string& arrow) {
  std::map<std::string, std::vector<std::string>> per;  // probe -> per step
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& x : r.steps[s].rows) per[x.probe].resize(r.steps.size());
  for (auto& [probe, v] : per)
    for (size_t s = 0; s < r.steps.size(); ++s) {
      size_t n[3] = {0, 0, 0};
      const compare::Row* gm = nullptr;
      for (auto& x : r.steps[s].rows) {
        if (x.probe != probe) continue;
        if (x.summary) gm = &x;
        else if (x.verdict == Verdict::regression) ++n[0];
        else if (x.verdict == Verdict::improvement) ++n[1];
        else if (x.verdict == Verdict::change) ++n[2];
      }
      std::string t;
      const char* what[] = {" R", " I", " C"};
      for (int k = 0; k < 3; ++k)
        if (n[k]) t += (t.empty() ? "" : ", ") + std::to_string(n[k]) + what[k];
      if (gm) {
        Step st{true, gm->verdict, gm->change, gm->p_adj};
        t += (t.empty() ? "" : ", ") + std::string("gm ") + step_text(st);
      }
      // A step with nothing flagged and no geometric mean says nothing.
      if (!t.empty()) v[s] = side_tag(s) + arrow + side_tag(s + 1) + " " + t;
    }
  std::vector<std::pair<std::string, std::string>> out;
  std::string quiet;
  for (auto& [probe, v] : per) {
    std::string t;
    for (auto& x : v)
      if (!x.empty()) t += (t.empty() ? "" : "; ") + x;
    if (t.empty()) quiet += (quiet.empty() ? "" : ", ") + printable(probe);
    else out.emplace_back(probe, t);
  }
  if (!quiet.empty()) out.emplace_back("nothing flagged", quiet);
  return out;
}

namespace {

constexpr const char* kFindings =
    "Findings per probe and step (rows flagged: R regressions, I improvements, C changes; gm: "
    "the probe's geometric mean of its lower-is-better rows):";

// Every line with the value of each side (--all; as the report always was).
void text_lines(std::ostringstream& o, const Result& r) {
  std::string probe;
  for (auto& l : r.lines) {
    if (l.probe != probe) {
      probe = l.probe;
      size_t n = 0;
      for (auto& x : r.lines) n += x.probe == probe;
      o << "\n== " << printable(probe) << " (" << n << (n == 1 ? " line" : " lines") << ")\n";
    }
    report::wrap(o, printable(l.metric) + " (" + stat_text(l) + ")", "", "    ");
    for (size_t i = 0; i < l.cells.size(); ++i) {
      std::string s = side_tag(i) + " " + value_text(l.cells[i], l.unit);
      if (i > 0 && l.steps[i - 1].present) s += "  " + step_text(l.steps[i - 1]);
      report::wrap(o, s, "  ", "      ");
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, std::vector<size_t>>> step_warnings(const Result& r) {
  std::vector<std::pair<std::string, std::vector<size_t>>> out;
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& w : r.steps[s].warnings) {
      auto it = std::find_if(out.begin(), out.end(), [&](auto& x) { return x.first == w; });
      if (it == out.end()) out.push_back({w, {s}});
      else it->second.push_back(s);
    }
  return out;
}

std::string steps_text(const std::vector<size_t>& steps, size_t nsteps, const std::string& arrow) {
  if (steps.size() == nsteps && nsteps > 1) return "every step";
  std::string t;
  for (size_t s : steps) t += (t.empty() ? "" : ", ") + side_tag(s) + arrow + side_tag(s + 1);
  return t;
}

namespace {
// A step's warning without its examples (kperflab compare of the two sides
// names them): three steps of "e.g. <three metric names>" fill a screen.
std::string brief(const std::string& w) {
  auto eg = w.find(", e.g. ");
  return printable(eg == std::string::npos ? w : w.substr(0, eg));
}
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
  auto warnings = step_warnings(r);
  // The basis and the warnings that several steps share are said once.
  if (same_basis(r) && r.steps.size() > 1)
    report::wrap(o, "basis of every step: " + report::basis_text(r.steps.front().basis), "  ",
                 "    ");
  for (auto& [w, steps] : warnings)
    if (steps.size() > 1)
      report::wrap(o, "warning (" + steps_text(steps, r.steps.size()) + "): " + brief(w), "  ",
                   "    ");
  for (size_t s = 0; s < r.steps.size(); ++s) {
    const auto& st = r.steps[s];
    report::wrap(o, side_tag(s) + " -> " + side_tag(s + 1) + ": " + counts(st), "  ", "      ");
    if (!same_basis(r) || r.steps.size() == 1)
      report::wrap(o, "basis: " + report::basis_text(st.basis), "      ", "        ");
    if (!st.shifts.empty())
      report::wrap(o, "common shift per unit (median over its rows): " + report::shifts_text(st),
                   "      ", "        ");
    size_t shown = 0;
    for (auto& d : st.provenance) {
      if (d.measured) continue;
      if (shown++ == 4) {
        o << "      (more differences: kperflab compare " << "the two sides)\n";
        break;
      }
      report::wrap(o, "differs: " + printable(d.field) + ": " + report::fmt_diff(d), "      ",
                   "        ");
    }
    for (auto& [w, steps] : warnings)
      if (steps.size() == 1 && steps[0] == s)
        report::wrap(o, "warning: " + brief(w), "      ", "        ");
  }
  auto found = findings(r, "->");
  if (!found.empty()) {
    o << "\n";
    report::wrap(o, kFindings, "", "");
    for (auto& [probe, t] : found) report::wrap(o, printable(probe) + ": " + t, "  ", "      ");
  }
  if (r.all) {
    o << "\n";
    report::wrap(o, kLegend, "", "");
    text_lines(o, r);
    if (r.lines.empty()) o << "\nNo metric in any side.\n";
    return o.str();
  }
  std::map<std::string, size_t> left;
  auto flagged_lines = flagged_picks(r, r.top_flagged, &left);
  size_t undecided = 0;
  auto open = undecided_picks(r, undecided);
  if (!flagged_lines.empty()) {
    o << "\n";
    report::wrap(o, std::string("Flagged steps, ") +
                        (left.empty() ? "every one" : "the lines of largest change") +
                        ", largest change first (R regression, I improvement, C change; --all "
                        "lists every side's value):", "", "");
    std::string probe;
    for (auto& p : flagged_lines) {
      if (p.line->probe != probe) {
        probe = p.line->probe;
        size_t n = 0;
        for (auto& x : flagged_lines) n += x.line->probe == probe;
        o << "== " << printable(probe) << " (" << n << (n == 1 ? " line" : " lines") << ")\n";
      }
      report::wrap(o, pick_text(p, false), "", "    ");
    }
    if (!left.empty()) report::wrap(o, report::left_flagged_text(left, "lines"), "", "");
  }
  if (!open.empty()) {
    o << "\n";
    size_t shown = 0;
    for (auto& p : open) shown += p.steps.size();
    report::wrap(o, "Largest undecided steps (" + std::to_string(shown) + " of " +
                        std::to_string(undecided) +
                        "; changed by more than their minimum effect, not significant; --all "
                        "lists every line):", "", "");
    for (auto& p : open) report::wrap(o, pick_text(p, true), "", "    ");
  }
  if (flagged_lines.empty() && open.empty())
    o << "\nNo step flagged a change or left one undecided (--all lists every metric's median "
         "across\nthe series).\n";
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

void md_head(std::ostringstream& o, const Result& r, bool with_probe) {
  o << "|" << (with_probe ? " probe |" : "") << " metric (stat) |";
  for (size_t i = 0; i < r.labels.size(); ++i) o << " " << side_tag(i) << " |";
  o << "\n|" << (with_probe ? "---|" : "") << "---|";
  for (size_t i = 0; i < r.labels.size(); ++i) o << "---:|";
  o << "\n";
}

void md_line(std::ostringstream& o, const Line& l, bool with_probe) {
  o << "|" << (with_probe ? " " + md(l.probe) + " |" : "") << " `" << printable(l.metric)
    << "` (" << stat_text(l) << ") |";
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
  for (auto& [w, steps] : step_warnings(r))
    o << "\n> " << steps_text(steps, r.steps.size(), " → ") << " warning: " << md(w) << "\n";
  auto found = findings(r, " → ");
  if (!found.empty()) {
    o << "\n## Findings\n\n" << kFindings << "\n\n| probe | per step |\n|---|---|\n";
    for (auto& [probe, t] : found) o << "| " << md(probe) << " | " << md(t) << " |\n";
  }
  o << "\n" << kLegend << "\n";
  if (r.all) {
    std::string probe;
    for (auto& l : r.lines) {
      if (l.probe != probe) {
        probe = l.probe;
        o << "\n## " << md(probe) << "\n\n";
        md_head(o, r, false);
      }
      md_line(o, l, false);
    }
    if (r.lines.empty()) o << "\nNo metric in any side.\n";
    return o.str();
  }
  std::map<std::string, size_t> left;
  auto flagged_lines = flagged_picks(r, r.top_flagged, &left);
  size_t undecided = 0;
  auto open = undecided_picks(r, undecided);
  if (!flagged_lines.empty()) {
    o << "\n## Flagged\n\n"
      << (left.empty() ? "Every line" : "The lines of largest change")
      << " with a flagged step, largest change first.\n\n";
    md_head(o, r, true);
    for (auto& p : flagged_lines) md_line(o, *p.line, true);
    if (!left.empty()) o << "\n" << md(report::left_flagged_text(left, "lines")) << "\n";
  }
  if (!open.empty()) {
    size_t shown = 0;
    for (auto& p : open) shown += p.steps.size();
    o << "\n## Largest undecided\n\n" << shown << " of " << undecided
      << " undecided steps, largest change first (--all lists every line).\n\n";
    md_head(o, r, true);
    for (auto& p : open) md_line(o, *p.line, true);
  }
  if (flagged_lines.empty() && open.empty()) o << "\nNo step flagged a change.\n";
  return o.str();
}

}  // namespace kperflab::series
