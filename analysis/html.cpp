// SPDX-License-Identifier: GPL-2.0-only
// Self-contained HTML report (no scripts, no external resources) with SVG
// plots: latency CDF overlays, sweep curves over the sweep's own count
// (targets, callers, threads), CPU x CPU heatmaps from repetition
// extra.matrices. The page opens with the findings and the rows; plots have
// round ticks and their legend outside the plot area (Frame).
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "analysis/html_parts.h"
#include "analysis/report.h"
#include "core/number_text.h"

namespace kperflab::report {

using compare::Row;
using compare::Verdict;
using nlohmann::json;

const char* const kStyle =
    "<style>body{font:14px sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "font-size:12px}th{background:#f3f3f3}.REGRESSION{color:#b00;font-weight:bold}"
    ".improvement{color:#070}.undecided,.change{color:#a60}figure{display:inline-block;"
    "margin:4px}code{font-size:12px}.warn{color:#a60}</style>";

// Control characters from a bundle are no HTML; printable() spells them.
std::string esc(const std::string& text) {
  std::string s = printable(text), o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Cell colour from blue (lo) to red (hi); grey where not measured.
std::string fill_of(double v, double lo, double hi) {
  if (std::isnan(v)) return "#eee";
  double t = hi > lo ? std::clamp((v - lo) / (hi - lo), 0.0, 1.0) : 0;
  char b[16];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", static_cast<int>(255 * t),
                static_cast<int>(80 + 100 * (1 - t)), static_cast<int>(255 * (1 - t)));
  return b;
}

// key (probe, title, unit, rows, cols) -> merged matrix.
std::map<std::string, Matrix> matrices(const compare::Side& s) {
  std::map<std::string, Matrix> out;
  for (auto& b : s.bundles)
    for (auto& [probe, p] : b.probes)
      for (auto& rep : p.reps)
        for (auto& m : rep.matrices) {
          // rows x cols values (checked on load).
          std::string key = probe + '\x1f' + m.title + '\x1f' + m.unit + '\x1f' +
                            m.rows.dump() + '\x1f' + m.cols.dump();
          Matrix& x = out[key];
          size_t rows = m.rows.size(), cols = m.cols.size();
          if (!x.count) {
            x = {probe, m.title, m.unit, m.rows, m.cols, {}, 0};
            x.cells.assign(rows, std::vector<std::vector<double>>(cols));
          }
          ++x.count;
          for (size_t r = 0; r < rows; ++r)
            for (size_t c = 0; c < cols; ++c)
              if (double v = m.values[r * cols + c]; !std::isnan(v)) x.cells[r][c].push_back(v);
        }
  return out;
}

// The colour scale shared by both sides' heatmaps: lo .. hi in ten steps.
std::string legend(double lo, double hi, const std::string& unit, const std::string& caption) {
  std::ostringstream o;
  o << "<figure><svg width='260' height='44' xmlns='http://www.w3.org/2000/svg'>"
    << "<text x='4' y='12' font-size='11'>" << esc(caption) << "</text>";
  for (int i = 0; i < 10; ++i)
    o << "<rect x='" << 4 + i * 24 << "' y='16' width='24' height='12' fill='"
      << fill_of(lo + (hi - lo) * (i + 0.5) / 10, lo, hi) << "'/>";
  o << "<text x='4' y='40' font-size='10'>" << esc(fmt_value(lo, unit))
    << "</text><text x='244' y='40' font-size='10' text-anchor='end'>"
    << esc(fmt_value(hi, unit)) << "</text></svg></figure>";
  return o.str();
}

std::string heatmap(const Matrix& m, const std::string& side, double lo, double hi) {
  size_t n = m.rows.size(), k = m.cols.size();
  if (!n || !k) return "";
  int cell = static_cast<int>(std::clamp<size_t>(320 / std::max(n, k), 4, 28));
  std::ostringstream o;
  std::string title = side + ": " + m.probe + " " + m.title + " (median of " +
                      std::to_string(m.count) + (m.count == 1 ? " matrix)" : " matrices)");
  int w = std::max(50 + cell * static_cast<int>(k), 8 + 7 * static_cast<int>(title.size()));
  int h = 52 + cell * static_cast<int>(n);
  o << "<figure><svg width='" << w << "' height='" << h << "' xmlns='http://www.w3.org/2000/svg'>"
    << "<text x='4' y='14' font-size='12'>" << esc(title) << "</text>";
  // CPU numbers along the axes where the cells are wide enough to hold them.
  for (size_t r = 0; cell >= 12 && r < n; ++r)
    o << "<text x='36' y='" << 36 + r * cell + cell / 2 << "' font-size='9' text-anchor='end'>"
      << esc(m.rows[r].dump()) << "</text>";
  for (size_t c = 0; cell >= 12 && c < k; ++c)
    o << "<text x='" << 40 + c * cell + cell / 2 << "' y='32' font-size='9' "
      << "text-anchor='middle'>" << esc(m.cols[c].dump()) << "</text>";
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c < k; ++c) {
      double v = m.median(r, c);
      o << "<rect x='" << 40 + c * cell << "' y='" << 36 + r * cell << "' width='" << cell - 1
        << "' height='" << cell - 1 << "' fill='" << fill_of(v, lo, hi) << "'><title>"
        << esc(m.rows[r].dump() + " -> " + m.cols[c].dump() + ": " +
               (std::isnan(v) ? std::string("not measured") : fmt_value(v, m.unit)))
        << "</title></rect>";
    }
  o << "</svg></figure>";
  return o.str();
}

void html_provenance(std::ostringstream& o, const compare::Result& r, const std::string& base,
                     const std::string& cand) {
  bool any = false, measured = false;
  for (auto& d : r.provenance) (d.measured ? measured : any) = true;
  if (!any) o << "<p>Nothing recorded in the provenance differs.</p>";
  auto table = [&](bool want) {
    o << "<table><tr><th>field</th><th>" << esc(base) << "</th><th>" << esc(cand) << "</th></tr>";
    for (auto& d : r.provenance) {
      if (d.measured != want) continue;
      auto cell = [&](const std::string& v, char sign) {
        if (!d.words) return esc(v);
        std::string c;
        std::istringstream in(v);
        for (std::string w; in >> w;) c += (c.empty() ? "" : " ") + esc(sign + w);
        return c;
      };
      o << "<tr><td>" << esc(d.field) << (d.words ? " (words that differ)" : "")
        << "</td><td><code>" << cell(d.base, '-') << "</code></td><td><code>"
        << cell(d.cand, '+') << "</code></td></tr>";
    }
    o << "</table>";
  };
  if (any) table(false);
  if (measured) o << "<p><b>Measured</b> values more than 1% apart:</p>", table(true);
}

Ticks linear_ticks(double lo, double hi, int want, bool integer) {
  // One value (or a span below double's resolution of it): an axis around it.
  if (!(hi > lo) || hi - lo < 1e-9 * std::max(std::fabs(lo), std::fabs(hi))) {
    double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= d, hi += d;
  }
  double raw = (hi - lo) / std::max(1, want - 1);
  double p = std::pow(10, std::floor(std::log10(raw)));
  double step = 10 * p;
  for (double m : {1.0, 2.0, 5.0})
    if (m * p >= raw * 0.999) {
      step = m * p;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  Ticks t;
  long a = static_cast<long>(std::floor(lo / step + 1e-9)),
       b = static_cast<long>(std::ceil(hi / step - 1e-9));
  for (long k = a; k <= b; ++k) {
    double v = k * step;
    // k * 0.1 is 0.30000000000000004: round to the step's digits.
    double q = std::pow(10, std::floor(std::log10(step)) - 1);
    t.at.push_back(std::round(v / q) * q);
  }
  t.lo = t.at.front(), t.hi = t.at.back();
  return t;
}

Ticks log_ticks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo)) return linear_ticks(lo, hi);
  Ticks t{lo, hi, {}};
  int d0 = static_cast<int>(std::floor(std::log10(lo))), d1 = static_cast<int>(std::ceil(std::log10(hi)));
  for (int every : {0, 1, 2, 3}) {  // 1-2-5, then powers of ten, every 2nd, 3rd decade
    t.at.clear();
    for (int d = d0; d <= d1; ++d) {
      if (every > 1 && (d - d0) % every) continue;
      for (double m : {1.0, 2.0, 5.0}) {
        if (every && m != 1) continue;
        double v = m * std::pow(10, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.at.push_back(v);
      }
    }
    if (t.at.size() <= 7) break;
  }
  if (t.at.size() >= 2) return t;
  // Less than a 1-2-5 step wide: round linear ticks inside lo..hi.
  Ticks lin = linear_ticks(lo, hi, 4);
  t.at.clear();
  for (double v : lin.at)
    if (v >= lo && v <= hi && v > 0) t.at.push_back(v);
  return t;
}

double Frame::px(double v) const {
  double a = xlog ? std::log10(x.lo) : x.lo, b = xlog ? std::log10(x.hi) : x.hi;
  double u = xlog ? std::log10(v) : v;
  return l + (u - a) / (b - a) * (w - l - r);
}

double Frame::py(double v) const {
  double a = ylog ? std::log10(y.lo) : y.lo, b = ylog ? std::log10(y.hi) : y.hi;
  double u = ylog ? std::log10(v) : v;
  return h - this->b - (u - a) / (b - a) * (h - t - this->b);
}

std::string Frame::open() const {
  std::ostringstream o;
  int right = w - r;
  o << "<figure><svg width='" << w << "' height='" << h << "' viewBox='0 0 " << w << " " << h
    << "' xmlns='http://www.w3.org/2000/svg'><rect width='100%' height='100%' fill='#fff'/>"
    << "<text x='" << l << "' y='15' font-size='12'>" << esc(title) << "</text>"
    << "<rect class='plot-area' x='" << l << "' y='" << t << "' width='" << right - l
    << "' height='" << h - b - t << "' fill='none' stroke='#444'/>";
  for (size_t i = 0; i < x.at.size(); ++i) {
    double v = px(x.at[i]);
    o << "<line x1='" << v << "' x2='" << v << "' y1='" << t << "' y2='" << h - b
      << "' stroke='#eee'/><text class='xtick' x='" << v << "' y='" << h - b + 13
      << "' font-size='10' text-anchor='middle'>" << esc(xtick_text[i]) << "</text>";
  }
  for (size_t i = 0; i < y.at.size(); ++i) {
    double v = py(y.at[i]);
    o << "<line x1='" << l << "' x2='" << right << "' y1='" << v << "' y2='" << v
      << "' stroke='#eee'/><text class='ytick' x='" << l - 4 << "' y='" << v + 3
      << "' font-size='10' text-anchor='end'>" << esc(ytick_text[i]) << "</text>";
  }
  o << "<text class='xlabel' x='" << (l + right) / 2 << "' y='" << h - 6
    << "' font-size='11' text-anchor='middle'>" << esc(xlabel)
    << "</text><text class='ylabel' transform='translate(12," << (t + h - b) / 2
    << ") rotate(-90)' font-size='11' text-anchor='middle'>" << esc(ylabel) << "</text>";
  return o.str();
}

std::string Frame::close() const {
  std::ostringstream o;
  int x0 = w - r + 10;
  for (size_t i = 0; i < legend.size(); ++i) {
    int y0 = t + 8 + 16 * static_cast<int>(i);
    o << "<g class='legend'><line x1='" << x0 << "' x2='" << x0 + 16 << "' y1='" << y0
      << "' y2='" << y0 << "' stroke='" << legend[i].second
      << "' stroke-width='2.5'/><text class='legend' x='" << x0 + 20 << "' y='" << y0 + 4
      << "' font-size='11'>" << esc(legend[i].first) << "</text></g>";
  }
  o << "</svg></figure>";
  return o.str();
}

namespace {

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
};

// Tick labels in the unit of the values: time units scaled (ps values read
// as ns/us/...), others as plain numbers.
std::string tick(double v, const std::string& unit) {
  if (is_time_unit(unit)) return fmt_value(v, unit);
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// An axis title: time units are in the ticks; any other unit is named.
std::string axis_title(const std::string& label, const std::string& unit) {
  return unit.empty() || is_time_unit(unit) ? label : label + " (" + unit + ")";
}

struct Axis {
  std::string label, unit;
  bool log = false;
  bool integer = false;  // a count: integer ticks
};

// A line plot; log x for latency axes (only positive values are drawn).
std::string plot(const std::string& title, const std::vector<Series>& s, const Axis& xa,
                 const Axis& ya) {
  auto drawn = [&](double x) { return !xa.log || x > 0; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (auto& se : s)
    for (auto& [x, y] : se.pts) {
      if (!drawn(x)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) return "";
  y0 = std::min(y0, 0.0);
  Frame f;
  f.title = title;
  f.xlabel = axis_title(xa.label, xa.unit);
  f.ylabel = axis_title(ya.label, ya.unit);
  f.xlog = xa.log && x1 > x0;
  f.x = f.xlog ? log_ticks(x0, x1) : linear_ticks(x0, x1, 5, xa.integer);
  f.y = linear_ticks(y0, y1);
  for (double v : f.x.at) f.xtick_text.push_back(tick(v, xa.unit));
  for (double v : f.y.at) f.ytick_text.push_back(tick(v, ya.unit));
  std::ostringstream o;
  o << f.open();
  for (auto& se : s) {
    o << "<polyline fill='none' stroke='" << se.color << "' stroke-width='1.8' points='";
    for (auto& [x, y] : se.pts)
      if (drawn(x)) o << f.px(x) << "," << f.py(y) << " ";
    o << "'/>";
    f.legend.emplace_back(se.name, se.color);
  }
  o << f.close();
  return o.str();
}

// Both sides' heatmaps of each matrix on one colour scale, with its legend.
std::string heatmaps(const compare::Side& base, const compare::Side& cand) {
  auto a = matrices(base), b = matrices(cand);
  std::set<std::string> keys;
  for (auto* side : {&a, &b})
    for (auto& [k, m] : *side) keys.insert(k);
  std::string out;
  for (auto& key : keys) {
    double lo = INFINITY, hi = -INFINITY;
    const Matrix* any = nullptr;
    for (auto* side : {&a, &b})
      if (auto it = side->find(key); it != side->end()) {
        any = &it->second;
        for (size_t r = 0; r < any->rows.size(); ++r)
          for (size_t c = 0; c < any->cols.size(); ++c)
            if (double v = any->median(r, c); !std::isnan(v))
              lo = std::min(lo, v), hi = std::max(hi, v);
      }
    if (!std::isfinite(lo)) continue;
    out += "<div>";
    if (auto it = a.find(key); it != a.end()) out += heatmap(it->second, "base", lo, hi);
    if (auto it = b.find(key); it != b.end()) out += heatmap(it->second, "candidate", lo, hi);
    out += legend(lo, hi, any->unit, "colour scale (both sides)") + "</div>";
  }
  return out;
}

// Sweep curves: p50 rows whose names carry a count, grouped by the metric
// name with that count replaced by '*'; the x axis is named by the count's
// parameter and has integer ticks.
std::string sweeps(const compare::Result& r) {
  static const std::regex count_re("(targets|callers|threads)=([0-9]+)");
  std::map<std::string, std::pair<Series, Series>> groups;
  std::map<std::string, std::string> units;
  for (auto& row : r.rows) {
    if (row.stat != "p50") continue;
    std::smatch m;
    if (!std::regex_search(row.metric, m, count_re)) continue;
    std::string key = row.probe + "/" + m.prefix().str() + m[1].str() + "=*" + m.suffix().str();
    units[key] = row.unit;
    key += '\x1f' + row.unit;
    auto x = number_from<double>(m[2].str());  // 400 digits: no bare "stod" (#27)
    if (!x) continue;
    auto& g = groups[key];
    g.first.pts.emplace_back(*x, row.base_median);
    g.second.pts.emplace_back(*x, row.cand_median);
  }
  std::string out;
  for (auto& [key, g] : groups) {
    if (g.first.pts.size() < 2) continue;
    std::sort(g.first.pts.begin(), g.first.pts.end());
    std::sort(g.second.pts.begin(), g.second.pts.end());
    g.first.name = "base", g.first.color = "#1f6fd0";
    g.second.name = "candidate", g.second.color = "#d0341f";
    std::string name = key.substr(0, key.find('\x1f')), unit = key.substr(key.find('\x1f') + 1);
    // The sweep's own parameter names the axis: targets, callers, threads.
    std::string param = name.substr(0, name.rfind("=*"));
    param = param.substr(param.find_last_of("/") + 1);
    out += plot(name + " (p50)", {g.first, g.second}, {param, "", false, true},
                {"p50", unit, false});
  }
  return out.empty() ? "<p>No metric with a CPU count (targets=N, callers=N, threads=N) in its "
                       "name.</p>"
                     : out;
}

std::string cdfs(const Input& in, size_t i) {
  const auto& r = in.results[i];
  std::vector<const Row*> pick;
  for (const Row* x : ordered_rows(r, true))
    if (x->stat == "p50" && (x->verdict != Verdict::unchanged || pick.size() < 6))
      pick.push_back(x);
  if (pick.size() > 12) pick.resize(12);
  std::string out;
  for (const Row* x : pick) {
    Series a{"base", "#1f6fd0", {}}, b{"candidate", "#d0341f", {}};
    for (auto& [side, se] : {std::pair{in.base, &a}, std::pair{in.cands[i], &b}}) {
      json pts = compare::merged_cdf(*side, x->probe, x->metric);
      if (pts.is_null()) continue;
      for (auto& p : pts) se->pts.emplace_back(p[0].get<double>(), p[1]);
    }
    if (a.pts.empty() && b.pts.empty()) continue;
    std::string label = is_time_unit(x->unit) ? "latency" : "value";
    out += plot(x->probe + "/" + x->metric + " CDF", {a, b}, {label, x->unit, true},
                {"fraction", "", false});
  }
  return out;
}

void html_rows(std::ostringstream& o, const Input& in, const compare::Result& r) {
  auto sel = selected_rows(r, in.all_rows, in.top, in.top_flagged);
  const auto& rows = sel.rows;
  if (rows.empty()) return;
  o << "<table><tr><th>verdict</th><th>probe</th><th>metric</th><th>stat</th><th>base</th>"
       "<th>candidate</th><th>change</th><th>"
    << esc(ci_label(in.alpha))
    << "</th><th>p (adj.)</th><th>n (basis)</th><th>spread</th></tr>";
  for (const Row* x : rows) {
    char p[32];
    std::snprintf(p, sizeof p, "%.3g", x->p_adj);
    std::string merged;
    for (auto& a : x->aliases) merged += (merged.empty() ? "" : ", ") + a;
    o << "<tr><td class='" << compare::to_string(x->verdict) << "'>"
      << compare::to_string(x->verdict) << "</td><td>" << esc(x->probe) << "</td><td><code>"
      << esc(x->metric) << "</code>"
      << (merged.empty() ? "" : "<br><small>merged: " + esc(merged) + "</small>") << "</td><td>"
      << esc(x->stat) << "</td><td>" << esc(fmt_value(x->base_median, x->unit)) << "</td><td>"
      << esc(fmt_value(x->cand_median, x->unit)) << "</td><td>" << esc(fmt_change(*x, x->change))
      << "</td><td>[" << esc(fmt_change(*x, x->ci_lo)) << ", " << esc(fmt_change(*x, x->ci_hi)) << "]</td><td>"
      << p << "</td><td>" << esc(fmt_n(*x)) << "</td><td>" << fmt_spread(x->base_spread)
      << " vs " << fmt_spread(x->cand_spread) << "</td></tr>";
  }
  o << "</table>";
  if (!sel.left_flagged.empty()) o << "<p>" << esc(left_flagged_text(sel.left_flagged, "rows")) << "</p>";
  if (sel.left) o << "<p>" << esc(left_text(sel.left)) << "</p>";
}

}  // namespace

std::string html(const Input& in) {
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>kperflab comparison</title>"
    << kStyle << "</head><body>";
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    std::string mb = machine(*in.base), mc = machine(*in.cands[i]);
    o << "<h1>kperflab comparison</h1><p>";
    if (mb == mc) o << "<b>machine</b>: " << esc(mb);
    else o << "<b>base machine</b>: " << esc(mb) << "<br><b>candidate machine</b>: " << esc(mc);
    o << "<br><b>base</b>: " << esc(r.base_label) << " ("
      << side_counts(r.base_reps, r.base_boots) << ")<br><b>candidate</b>: "
      << esc(r.cand_label) << " (" << side_counts(r.cand_reps, r.cand_boots)
      << ")<br><b>basis</b>: " << esc(basis_text(r.basis)) << "</p>";
    // What was found and the flagged rows first, then what differs, then plots.
    o << "<h2>Findings</h2><p>" << r.rows.size() << " comparisons, <b>" << r.regressions()
      << " regressions</b>, " << r.improvements() << " improvements.</p>";
    for (auto& w : r.warnings) o << "<p class='warn'>warning: " << esc(w) << "</p>";
    if (!r.shifts.empty())
      o << "<p>Common shift per unit (median over its rows): " << esc(shifts_text(r)) << "</p>";
    o << "<h2>Rows</h2>";
    html_rows(o, in, r);
    o << "<h2>What differs</h2>";
    html_provenance(o, r, "base", "candidate");
    o << "<h2>Latency distributions</h2>" << cdfs(in, i) << "<h2>Sweeps</h2>" << sweeps(r);
    std::string hm = heatmaps(*in.base, *in.cands[i]);
    if (!hm.empty()) o << "<h2>CPU matrices</h2>" << hm;
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace kperflab::report
