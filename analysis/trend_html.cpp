// SPDX-License-Identifier: GPL-2.0-only
// `kperflab trend --format html`: one self-contained page (no scripts, no
// external resources): the history, the changes as a table, then a plot per
// flagged metric: each boot's value in the history's order, the windows'
// levels either side of each change and the change marked where it
// happened, in the plot helpers of the compare and series pages
// (analysis/html_parts.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "analysis/html_parts.h"
#include "analysis/report.h"
#include "analysis/trend.h"

namespace kperflab::trend {

using report::esc;

namespace {

const char* colour_of(const std::string& verdict) {
  return verdict == "regression" ? "#c0181c" : verdict == "improvement" ? "#118a2a" : "#d08000";
}

std::string value_text(double v, const Metric& m) {
  std::string s = report::fmt_value(v, m.unit);
  return report::is_time_unit(m.unit) || m.unit.empty() ? s : s + " " + m.unit;
}

// The plot's frame: x the boots 1..n in the history's order, y the
// metric's values (log when they span more than a factor 20).
report::Frame frame_for(const Result& r, const Metric& m, double y0, double y1) {
  const size_t n = m.v.size();
  report::Frame f;
  f.w = std::max(560, f.l + f.r + 12 * static_cast<int>(n));
  f.title = m.probe + "/" + m.metric + " (" + m.stat + ")";
  f.xlabel = r.opt.by_kernel ? "boot, by kernel version" : "boot, by time";
  f.ylabel = report::is_time_unit(m.unit) ? "latency"
             : m.unit.empty()            ? "value"
                                         : "value (" + m.unit + ")";
  f.x = report::linear_ticks(1, static_cast<double>(n), 8, true);
  f.x.lo = 0.5, f.x.hi = n + 0.5;  // every boot inside the area
  f.x.at.erase(std::remove_if(f.x.at.begin(), f.x.at.end(),
                              [&](double v) { return v < 1 || v > static_cast<double>(n); }),
               f.x.at.end());
  for (double v : f.x.at) f.xtick_text.push_back(std::to_string(static_cast<long>(v)));
  f.ylog = y0 > 0 && y1 / y0 > 20;
  f.y = f.ylog ? report::log_ticks(y0, y1) : report::linear_ticks(y0, y1);
  for (double v : f.y.at) f.ytick_text.push_back(report::fmt_value(v, m.unit));
  return f;
}

// One change: each window's level as a segment over the boots it holds, a
// dashed line between the last boot before and the first after, its size.
void mark(std::ostringstream& o, const report::Frame& f, const Result& r, const Metric& m,
          const Change& c, const char* colour) {
  std::vector<size_t> present;  // the boots with a value: the windows count those
  for (size_t u = 0; u < m.v.size(); ++u)
    if (std::isfinite(m.v[u])) present.push_back(u);
  size_t at = static_cast<size_t>(std::find(present.begin(), present.end(), c.at) -
                                  present.begin());
  size_t a0 = present[at - c.before_n], b1 = present[at + c.after_n - 1];
  double xm = (f.px(c.prev + 1.0) + f.px(c.at + 1.0)) / 2;
  o << "<line class='level' x1='" << f.px(a0 + 1.0) << "' x2='" << f.px(c.prev + 1.0)
    << "' y1='" << f.py(c.before) << "' y2='" << f.py(c.before) << "' stroke='" << colour
    << "' stroke-width='2.5'/><line class='level' x1='" << f.px(c.at + 1.0) << "' x2='"
    << f.px(b1 + 1.0) << "' y1='" << f.py(c.after) << "' y2='" << f.py(c.after) << "' stroke='"
    << colour << "' stroke-width='2.5'/>";
  o << "<line class='change' x1='" << xm << "' x2='" << xm << "' y1='" << f.t << "' y2='"
    << f.h - f.b << "' stroke='" << colour << "' stroke-dasharray='5,3' stroke-width='1.5'>"
    << "<title>"
    << esc(std::string(verdict(c, m)) + " " + report::fmt_change(c.change) + " [" +
           report::fmt_change(c.lo) + ", " + report::fmt_change(c.hi) + "] from boot " +
           std::to_string(c.at + 1) + " (" + r.first_bundle(c.at).release + "), q " +
           report::pval(c.q))
    << "</title></line><text x='" << xm + 3 << "' y='" << f.t + 12 << "' font-size='11' fill='"
    << colour << "'>" << esc(report::fmt_change(c.change)) << "</text>";
}

// A metric's history with its changes marked: dots per boot joined by a
// thin line, and each change (mark).
std::string plot(const Result& r, const Metric& m, const std::vector<const Change*>& ch) {
  const size_t n = m.v.size();
  double y0 = INFINITY, y1 = -INFINITY;
  for (double v : m.v)
    if (std::isfinite(v)) y0 = std::min(y0, v), y1 = std::max(y1, v);
  if (!std::isfinite(y0)) return "";
  report::Frame f = frame_for(r, m, y0, y1);
  std::ostringstream o;
  o << f.open();
  std::string path;
  for (size_t u = 0; u < n; ++u)
    if (std::isfinite(m.v[u]))
      path += (path.empty() ? "M" : " L") + std::to_string(f.px(u + 1.0)) + "," +
              std::to_string(f.py(m.v[u]));
  o << "<path d='" << path << "' fill='none' stroke='#9ab' stroke-width='1'/>";
  for (size_t u = 0; u < n; ++u) {
    if (!std::isfinite(m.v[u])) continue;
    const BundleRef& b = r.first_bundle(u);
    o << "<circle class='boot' cx='" << f.px(u + 1.0) << "' cy='" << f.py(m.v[u])
      << "' r='2.8' fill='#1f4fa0'><title>"
      << esc("boot " + std::to_string(u + 1) + ": " + value_text(m.v[u], m) + ", " + b.release +
             ", " + b.started)
      << "</title></circle>";
  }
  const char* names[] = {"regression", "improvement", "change"};
  bool seen[3] = {};
  for (const Change* c : ch) {
    std::string v = verdict(*c, m);
    seen[v == "regression" ? 0 : v == "improvement" ? 1 : 2] = true;
    mark(o, f, r, m, *c, colour_of(v));
  }
  f.legend.emplace_back("each boot", "#1f4fa0");
  for (int k = 0; k < 3; ++k)
    if (seen[k]) f.legend.emplace_back(names[k], colour_of(names[k]));
  o << f.close();
  return o.str();
}

// The history and what was tested, then the method in one paragraph.
void header(std::ostringstream& o, const Result& r, size_t changes) {
  o << "<table><tr><th>machine</th><td>" << esc(r.machine)
    << "</td></tr><tr><th>history</th><td>" << r.bundles.size() << " bundles in "
    << r.units.size() << " boots, " << (r.opt.by_kernel ? "by kernel version" : "by time")
    << ", " << esc(r.span()) << "</td></tr><tr><th>kernels</th><td>";
  auto ks = r.kernels();
  for (size_t i = 0; i < ks.size(); ++i) o << (i ? ", " : "") << esc(ks[i]);
  o << "</td></tr><tr><th>tested</th><td>" << r.det.tested
    << " metric statistics (p50 and p99 of histograms, rates and ratios)";
  if (r.det.short_metrics)
    o << "; " << r.det.short_metrics << " in fewer than " << 2 * min_side(r.opt)
      << " boots not tested";
  if (r.det.clipped)
    o << "; " << r.det.clipped << " outlying boot values pulled in (Hampel filter)";
  o << "</td></tr></table>";
  o << "<p>" << changes << (changes == 1 ? " change" : " changes")
    << ". At each point a window of up to " << r.opt.window
    << " boots before against one after (at least " << min_side(r.opt)
    << " a side), a pooled t test of the two; p times the metric's points (Bonferroni), q: "
       "Benjamini-Hochberg over the "
    << r.det.peaks.size() << " peaks of every metric; reported when q &lt;= " << r.opt.alpha
    << " and |change| at least the metric's minimum effect (" << r.opt.min_effect * 100
    << "% or its noise between neighbouring boots).</p>";
}

void changes_table(std::ostringstream& o, const Result& r, const std::vector<const Change*>& ch) {
  o << "<h2>Changes</h2><table><tr><th>verdict</th><th>metric</th><th>stat</th><th>change "
       "[95% CI]</th><th>before → after</th><th>kernels</th><th>first bundle after</th>"
       "<th>started</th><th>p</th><th>q</th></tr>";
  for (const Change* c : ch) {
    const Metric& m = r.metrics[c->metric];
    const BundleRef& b = r.first_bundle(c->at);
    std::string v = verdict(*c, m);
    o << "<tr><td class='" << (v == "regression" ? "REGRESSION" : v) << "'>" << v
      << "</td><td><code>" << esc(m.probe + "/" + m.metric) << "</code></td><td>" << m.stat
      << "</td><td>" << report::fmt_change(c->change) << " [" << report::fmt_change(c->lo)
      << ", " << report::fmt_change(c->hi) << "]</td><td>" << esc(value_text(c->before, m))
      << " → " << esc(value_text(c->after, m)) << "</td><td>"
      << esc(r.first_bundle(c->prev).release) << " → " << esc(b.release) << "</td><td>boot "
      << c->at + 1 << ": <code>" << esc(b.path) << "</code></td><td>" << esc(b.started)
      << "</td><td>" << report::pval(c->p) << "</td><td>" << report::pval(c->q) << "</td></tr>";
  }
  o << "</table>";
}

}  // namespace

std::string html(const Result& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>kperflab trend: "
    << esc(r.source) << "</title>" << report::kStyle
    << "<style>td{overflow-wrap:anywhere}</style></head><body><h1>kperflab trend: <code>"
    << esc(r.source) << "</code></h1>";
  auto ch = r.changes();
  header(o, r, ch.size());
  if (ch.empty()) {
    o << "<p>No change found.</p></body></html>\n";
    return o.str();
  }
  changes_table(o, r, ch);
  o << "<h2>Plots</h2><p>Dots: each boot's value (the median of its bundles', each the median "
       "over its repetitions); segments: the windows' levels (geometric means; arithmetic "
       "where a value is 0 or less) either side of a change; dashed: where it changed.</p>";
  // One plot per changed metric, with every change of it; largest change first.
  std::vector<size_t> order;
  std::map<size_t, std::vector<const Change*>> by_metric;
  for (const Change* c : ch) {
    if (!by_metric.count(c->metric)) order.push_back(c->metric);
    by_metric[c->metric].push_back(c);
  }
  for (size_t mi : order) o << plot(r, r.metrics[mi], by_metric[mi]);
  o << "</body></html>\n";
  return o.str();
}

}  // namespace kperflab::trend
