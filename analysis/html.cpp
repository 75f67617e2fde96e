// SPDX-License-Identifier: GPL-2.0-only
// Self-contained HTML report (no scripts, no external resources) with SVG
// plots: latency CDF overlays, sweep curves over CPU counts, CPU x CPU
// heatmaps from repetition extra.matrices.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "analysis/report.h"

namespace kperflab::report {

using compare::Row;
using compare::Verdict;
using nlohmann::json;

namespace {

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

constexpr int W = 460, H = 260, L = 60, R = 20, T = 24, B = 40;

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
};

// A line plot; log_x for latency axes.
std::string plot(const std::string& title, const std::vector<Series>& s, bool log_x,
                 const std::string& xlabel, const std::string& ylabel) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (auto& se : s)
    for (auto& [x, y] : se.pts) {
      double xv = log_x ? std::log10(std::max(x, 1.0)) : x;
      x0 = std::min(x0, xv), x1 = std::max(x1, xv), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) return "";
  if (x1 == x0) x1 = x0 + 1;
  y0 = std::min(y0, 0.0);
  if (y1 == y0) y1 = y0 + 1;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<figure><svg width='" << W << "' height='" << H << "' viewBox='0 0 " << W << " " << H
    << "' xmlns='http://www.w3.org/2000/svg'><rect width='100%' height='100%' fill='#fff'/>"
    << "<text x='" << W / 2 << "' y='15' text-anchor='middle' font-size='12'>" << esc(title)
    << "</text><line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B
    << "' stroke='#444'/><line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='"
    << H - B << "' stroke='#444'/>";
  for (int i = 0; i <= 4; ++i) {
    double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
    double xl = log_x ? std::pow(10, xv) : xv;
    o << "<text x='" << px(xv) << "' y='" << H - B + 14 << "' font-size='10' text-anchor='middle'>"
      << esc(fmt_value(xl, log_x ? "ns" : "")) << "</text><text x='" << L - 4 << "' y='"
      << py(yv) + 3 << "' font-size='10' text-anchor='end'>"
      << esc(fmt_value(yv, ylabel == "ns" ? "ns" : "")) << "</text>";
  }
  o << "<text x='" << (L + W - R) / 2 << "' y='" << H - 6
    << "' font-size='11' text-anchor='middle'>" << esc(xlabel) << "</text>";
  int legend = 0;
  for (auto& se : s) {
    o << "<polyline fill='none' stroke='" << se.color << "' stroke-width='1.8' points='";
    for (auto& [x, y] : se.pts) o << px(log_x ? std::log10(std::max(x, 1.0)) : x) << "," << py(y) << " ";
    o << "'/><text x='" << W - R - 4 << "' y='" << T + 14 * ++legend << "' fill='" << se.color
      << "' font-size='11' text-anchor='end'>" << esc(se.name) << "</text>";
  }
  o << "</svg></figure>";
  return o.str();
}

// Cell colour from blue (lo) to red (hi); grey where not measured.
std::string fill_of(const JsonView& v, double lo, double hi) {
  if (!v.is_number()) return "#eee";
  double t = hi > lo ? (v.num() - lo) / (hi - lo) : 0;
  char b[16];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", static_cast<int>(255 * t),
                static_cast<int>(80 + 100 * (1 - t)), static_cast<int>(255 * (1 - t)));
  return b;
}

// rows x cols values (checked on load; at() would throw on a ragged one).
std::string heatmap(const JsonView& m, const std::string& side) {
  JsonView values = m.at("values"), rows = m.at("rows"), cols = m.at("cols");
  if (values.size() == 0) return "";
  double lo = INFINITY, hi = -INFINITY;
  for (auto& row : values.elements())
    for (auto& v : row.elements())
      if (v.is_number()) lo = std::min(lo, v.num()), hi = std::max(hi, v.num());
  if (!std::isfinite(lo)) return "";
  size_t n = values.size(), k = cols.size();
  int cell = static_cast<int>(std::clamp<size_t>(320 / std::max(n, k), 4, 28));
  std::ostringstream o;
  int w = 50 + cell * static_cast<int>(k), h = 40 + cell * static_cast<int>(n);
  std::string unit = m.text("unit", "");
  o << "<figure><svg width='" << w << "' height='" << h << "' xmlns='http://www.w3.org/2000/svg'>"
    << "<text x='4' y='14' font-size='12'>" << esc(side + ": " + m.text("title", "")) << " ("
    << esc(fmt_value(lo, unit)) << " .. " << esc(fmt_value(hi, unit)) << ")</text>";
  for (size_t r = 0; r < n; ++r) {
    JsonView row = values.at(r);
    for (size_t c = 0; c < k; ++c) {
      JsonView v = row.at(c);
      o << "<rect x='" << 40 + c * cell << "' y='" << 24 + r * cell << "' width='" << cell - 1
        << "' height='" << cell - 1 << "' fill='" << fill_of(v, lo, hi) << "'><title>"
        << esc(rows.at(r).raw().dump() + " -> " + cols.at(c).raw().dump() + ": " + v.raw().dump())
        << "</title></rect>";
    }
  }
  o << "</svg></figure>";
  return o.str();
}

// Sweep curves: p50 rows whose labels carry a CPU count, grouped by the
// metric name with that count replaced by '*'.
std::string sweeps(const compare::Result& r) {
  static const std::regex count_re("(targets|callers|threads)=([0-9]+)");
  std::map<std::string, std::pair<Series, Series>> groups;
  for (auto& row : r.rows) {
    if (row.stat != "p50") continue;
    std::smatch m;
    if (!std::regex_search(row.metric, m, count_re)) continue;
    std::string key = row.probe + "/" + m.prefix().str() + m[1].str() + "=*" + m.suffix().str();
    double x = std::stod(m[2].str());
    auto& g = groups[key];
    g.first.pts.emplace_back(x, row.base_median);
    g.second.pts.emplace_back(x, row.cand_median);
  }
  std::string out;
  for (auto& [key, g] : groups) {
    if (g.first.pts.size() < 2) continue;
    std::sort(g.first.pts.begin(), g.first.pts.end());
    std::sort(g.second.pts.begin(), g.second.pts.end());
    g.first.name = "base", g.first.color = "#1f6fd0";
    g.second.name = "candidate", g.second.color = "#d0341f";
    out += plot(key + " (p50)", {g.first, g.second}, false, "CPUs", "ns");
  }
  return out;
}

std::string cdfs(const Input& in, size_t i) {
  const auto& r = in.results[i];
  std::vector<const Row*> pick;
  for (const Row* x : ordered_rows(r, true))
    if (x->stat == "p50" && (x->unit == "ns" || x->unit == "ps") &&
        (x->verdict != Verdict::unchanged || pick.size() < 6))
      pick.push_back(x);
  if (pick.size() > 12) pick.resize(12);
  std::string out;
  for (const Row* x : pick) {
    Series a{"base", "#1f6fd0", {}}, b{"candidate", "#d0341f", {}};
    for (auto& [side, se] : {std::pair{in.base, &a}, std::pair{in.cands[i], &b}}) {
      json pts = compare::merged_cdf(*side, x->probe, x->metric);
      if (pts.is_null()) continue;
      for (auto& p : pts)
        se->pts.emplace_back(p[0].get<double>() / (x->unit == "ps" ? 1000.0 : 1.0), p[1]);
    }
    out += plot(x->probe + "/" + x->metric + " CDF", {a, b}, true, "latency", "fraction");
  }
  return out;
}

std::string matrices(const compare::Side& s, const std::string& side) {
  std::string out;
  for (auto& b : s.bundles) {
    for (auto& [probe, doc] : b.probes)
      for (auto& rep : b.probe_view(probe).at("repetitions").elements()) {
        auto extra = rep.find("extra");
        auto ms = extra ? extra->find("matrices") : std::nullopt;
        if (!ms) continue;
        for (auto& m : ms->elements()) out += heatmap(m, side);
        return out;  // the first repetition that has them
      }
  }
  return out;
}

}  // namespace

std::string html(const Input& in) {
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>kperflab comparison</title>"
       "<style>body{font:14px sans-serif;margin:2em;max-width:1200px}"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
       "font-size:12px}th{background:#f3f3f3}.REGRESSION{color:#b00;font-weight:bold}"
       ".improvement{color:#070}.undecided,.change{color:#a60}figure{display:inline-block;"
       "margin:4px}code{font-size:12px}.warn{color:#a60}</style></head><body>";
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    o << "<h1>kperflab comparison</h1><p><b>base</b>: " << esc(r.base_label) << " ("
      << r.base_reps << " repetitions)<br><b>candidate</b>: " << esc(r.cand_label) << " ("
      << r.cand_reps << " repetitions)</p><h2>What differs</h2>";
    if (r.provenance.empty()) o << "<p>Nothing recorded in the provenance differs.</p>";
    else {
      o << "<table><tr><th>field</th><th>base</th><th>candidate</th></tr>";
      for (auto& d : r.provenance)
        o << "<tr><td>" << esc(d.field) << "</td><td><code>" << esc(d.base)
          << "</code></td><td><code>" << esc(d.cand) << "</code></td></tr>";
      o << "</table>";
    }
    for (auto& w : r.warnings) o << "<p class='warn'>warning: " << esc(w) << "</p>";
    o << "<h2>Results</h2><p>" << r.rows.size() << " comparisons, <b>" << r.regressions()
      << " regressions</b>, " << r.improvements() << " improvements.</p>";
    auto rows = ordered_rows(r, in.all_rows);
    if (!rows.empty()) {
      o << "<table><tr><th>verdict</th><th>probe</th><th>metric</th><th>stat</th><th>base</th>"
           "<th>candidate</th><th>change</th><th>95% CI</th><th>p (adj.)</th></tr>";
      for (const Row* x : rows) {
        char p[32];
        std::snprintf(p, sizeof p, "%.3g", x->p_adj);
        o << "<tr><td class='" << compare::to_string(x->verdict) << "'>"
          << compare::to_string(x->verdict) << "</td><td>" << esc(x->probe) << "</td><td><code>"
          << esc(x->metric) << "</code></td><td>" << x->stat << "</td><td>"
          << esc(fmt_value(x->base_median, x->unit)) << "</td><td>"
          << esc(fmt_value(x->cand_median, x->unit)) << "</td><td>" << fmt_change(x->change)
          << "</td><td>[" << fmt_change(x->ci_lo) << ", " << fmt_change(x->ci_hi) << "]</td><td>"
          << p << "</td></tr>";
      }
      o << "</table>";
    }
    o << "<h2>Latency distributions</h2>" << cdfs(in, i) << "<h2>Sweeps</h2>" << sweeps(r);
    std::string hm = matrices(*in.base, "base") + matrices(*in.cands[i], "candidate");
    if (!hm.empty()) o << "<h2>CPU matrices</h2>" << hm;
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace kperflab::report
