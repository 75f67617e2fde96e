// SPDX-License-Identifier: GPL-2.0-only
// The series as a static HTML site: index.html (sides, steps, warnings once,
// what differs per step, a summary per probe) and one page per probe (its
// findings and flagged lines first, then a plot per metric with its p50 and
// p99 across the series, flagged metrics first and then by effect; CPU
// matrices of every side on one colour scale). No scripts, no
// external resources: the directory can be published as it is.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "analysis/html_parts.h"
#include "analysis/report.h"
#include "analysis/series.h"
#include "results/output_file.h"

namespace kperflab::series {

namespace fs = std::filesystem;
using compare::Verdict;
using report::esc;

namespace {

const char* step_colour(const Step& s) {
  if (!s.present) return "#bbb";
  switch (s.verdict) {
    case Verdict::regression: return "#c0181c";
    case Verdict::improvement: return "#118a2a";
    case Verdict::change: return "#d08000";
    default: return "#8a8a8a";
  }
}

std::string short_label(const std::string& s) {
  std::string p = printable(s);
  return p.size() > 16 ? p.substr(0, 15) + "~" : p;
}

const char* stat_colour(size_t i) {
  static const char* c[] = {"#1f4fa0", "#8e44ad", "#2a9d8f", "#6b6b6b"};
  return c[std::min<size_t>(i, 3)];
}

// A metric's p50 and p99 (or its value) across the series: per line the
// medians (dots) with their intervals (whiskers) joined by a line in the
// statistic's colour; a flagged step drawn over in its verdict's colour
// with its letter. Legend at the right, outside the plot area.
std::string family_plot(const Family& fam, const Result& r) {
  const size_t n = r.labels.size();
  double y0 = INFINITY, y1 = -INFINITY;
  for (auto& l : fam.lines)
    for (auto& c : l.cells)
      if (c.present) y0 = std::min(y0, c.lo), y1 = std::max(y1, c.hi);
  if (!std::isfinite(y0)) return "";
  report::Frame f;
  f.w = std::max(520, f.l + f.r + 90 * static_cast<int>(n));
  f.b = 54;
  std::string stats;
  for (auto& l : fam.lines) stats += (stats.empty() ? "" : ", ") + l.stats();
  f.title = fam.metric + " (" + stats + ")";
  f.xlabel = "side";
  f.ylabel = report::is_time_unit(fam.unit) ? "latency"
             : fam.unit.empty()            ? "value"
                                           : "value (" + fam.unit + ")";
  f.x = {0.5, n + 0.5, {}};
  for (size_t i = 0; i < n; ++i) f.x.at.push_back(i + 1.0), f.xtick_text.push_back("[" + std::to_string(i + 1) + "]");
  // Log scale when the statistics lie more than a factor 20 apart.
  f.ylog = y0 > 0 && y1 / y0 > 20;
  f.y = f.ylog ? report::log_ticks(y0, y1) : report::linear_ticks(y0, y1);
  for (double v : f.y.at) f.ytick_text.push_back(report::fmt_value(v, fam.unit));
  std::ostringstream o;
  o << f.open();
  for (size_t i = 0; i < n; ++i)
    o << "<text x='" << f.px(i + 1.0) << "' y='" << f.h - f.b + 25
      << "' font-size='9' text-anchor='middle'>" << esc(short_label(r.labels[i])) << "</text>";
  std::set<Verdict> seen;
  for (size_t k = 0; k < fam.lines.size(); ++k) {
    const Line& l = fam.lines[k];
    const char* colour = stat_colour(k);
    for (size_t i = 0; i + 1 < n; ++i) {
      const Cell &a = l.cells[i], &b = l.cells[i + 1];
      if (!a.present || !b.present) continue;
      const Step& st = l.steps[i];
      bool flag = st.present && st.verdict != Verdict::unchanged && st.verdict != Verdict::undecided;
      double xa = f.px(i + 1.0), ya = f.py(a.median), xb = f.px(i + 2.0), yb = f.py(b.median);
      o << "<line x1='" << xa << "' y1='" << ya << "' x2='" << xb << "' y2='" << yb
        << "' stroke='" << (flag ? step_colour(st) : colour) << "' stroke-width='"
        << (flag ? 3.5 : 1.6) << "'><title>"
        << esc(l.stats() + " " + report::fmt_change(st.change) + " " +
               (st.present ? compare::to_string(st.verdict) : "not compared"))
        << "</title></line>";
      if (flag) {
        seen.insert(st.verdict);
        const char* letter = st.verdict == Verdict::regression    ? "R"
                             : st.verdict == Verdict::improvement ? "I"
                                                                  : "C";
        o << "<text x='" << (xa + xb) / 2 << "' y='" << (ya + yb) / 2 - 6 << "' fill='"
          << step_colour(st) << "' font-size='11' font-weight='bold' text-anchor='middle'>"
          << letter << "</text>";
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const Cell& c = l.cells[i];
      if (!c.present) continue;
      double x = f.px(i + 1.0) + (k - (fam.lines.size() - 1) / 2.0) * 4;  // stats side by side
      o << "<line x1='" << x << "' x2='" << x << "' y1='" << f.py(c.lo) << "' y2='" << f.py(c.hi)
        << "' stroke='" << colour << "'/><circle cx='" << x << "' cy='" << f.py(c.median)
        << "' r='3.5' fill='" << colour << "'><title>"
        << esc(l.stats() + " " + report::fmt_value(c.median, l.unit) +
               (c.ci ? " (95% CI " : " (range ") + report::fmt_value(c.lo, l.unit) + " .. " +
               report::fmt_value(c.hi, l.unit) + ", n " + std::to_string(c.n) + ")")
        << "</title></circle>";
    }
    f.legend.emplace_back(l.stats(), colour);
  }
  for (Verdict v : seen)
    f.legend.emplace_back(compare::to_string(v), step_colour(Step{true, v, 0, 1}));
  o << f.close();
  return o.str();
}

// Long provenance values (config hashes, handler lists) wrap in their cells.
std::string head(const std::string& title) {
  return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + esc(title) + "</title>" +
         report::kStyle + "<style>td{overflow-wrap:anywhere}</style></head><body>";
}

std::string page_name(const std::string& probe) {
  std::string s;
  for (char c : probe) s += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '-';
  return "probe-" + s + ".html";
}

std::string step_name(size_t s) {
  return "[" + std::to_string(s + 1) + "] → [" + std::to_string(s + 2) + "]";
}

// Every side's heatmaps of each of the probe's matrices, one colour scale.
std::string heatmaps(const std::string& probe, const std::vector<const compare::Side*>& sides) {
  std::vector<std::map<std::string, report::Matrix>> per;
  std::set<std::string> keys;
  for (auto* s : sides) {
    per.push_back(report::matrices(*s));
    for (auto& [k, m] : per.back())
      if (m.probe == probe) keys.insert(k);
  }
  std::string out;
  for (auto& key : keys) {
    double lo = INFINITY, hi = -INFINITY;
    std::string unit;
    for (auto& side : per)
      if (auto it = side.find(key); it != side.end()) {
        unit = it->second.unit;
        for (size_t r = 0; r < it->second.rows.size(); ++r)
          for (size_t c = 0; c < it->second.cols.size(); ++c)
            if (double v = it->second.median(r, c); !std::isnan(v))
              lo = std::min(lo, v), hi = std::max(hi, v);
      }
    if (!std::isfinite(lo)) continue;
    out += "<div>";
    for (size_t i = 0; i < per.size(); ++i)
      if (auto it = per[i].find(key); it != per[i].end())
        out += report::heatmap(it->second, "[" + std::to_string(i + 1) + "]", lo, hi);
    out += report::legend(lo, hi, unit, "colour scale (every side)") + "</div>";
  }
  return out;
}

// Lines with each side's median and each step's change, coloured by verdict.
void line_table(std::ostringstream& p, const std::vector<const Line*>& lines, const Result& r) {
  p << "<table><tr><th>metric</th><th>stat</th>";
  for (size_t i = 0; i < r.labels.size(); ++i) p << "<th>[" << i + 1 << "]</th>";
  p << "</tr>";
  for (auto* l : lines) {
    p << "<tr><td><code>" << esc(l->metric) << "</code></td><td>" << esc(l->stats()) << "</td>";
    for (size_t i = 0; i < l->cells.size(); ++i) {
      const Cell& c = l->cells[i];
      p << "<td>" << (c.present ? esc(report::fmt_value(c.median, l->unit)) : std::string("-"));
      if (i > 0 && l->steps[i - 1].present)
        p << "<br><span class='" << compare::to_string(l->steps[i - 1].verdict) << "'>"
          << report::fmt_change(l->steps[i - 1].change) << "</span>";
      p << "</td>";
    }
    p << "</tr>";
  }
  p << "</table>";
}

}  // namespace

std::vector<fs::path> html_site(const Result& r, const std::vector<const compare::Side*>& sides,
                                const fs::path& dir, bool force) {
  std::vector<fs::path> inputs;
  for (auto* s : sides)
    for (auto& b : s->bundles) inputs.push_back(b.dir);
  if (auto b = bundle_containing(dir, inputs); !b.empty())
    throw std::invalid_argument("series: " + dir.string() + " is inside the bundle " +
                                b.string() + ": a site never goes into a bundle");
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw std::invalid_argument("series: " + dir.string() + " exists and is not a directory");
  if (fs::exists(dir) && !fs::is_empty(dir) && !force)
    throw std::invalid_argument("series: " + dir.string() +
                                " is not empty (--force writes the site into it)");
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("series: cannot create " + dir.string() + ": " + ec.message());

  std::map<std::string, std::vector<const Line*>> by_probe;
  for (auto& l : r.lines) by_probe[l.probe].push_back(&l);
  // Ordered by effect, not by name: flagged lines first, then the largest change.
  for (auto& [probe, lines] : by_probe)
    std::stable_sort(lines.begin(), lines.end(), [](const Line* a, const Line* b) {
      if (a->flagged() != b->flagged()) return a->flagged();
      return effect(*a) > effect(*b);
    });
  std::vector<fs::path> written;
  auto put = [&](const std::string& name, const std::string& text) {
    write_output_file(dir / name, text, true, inputs);
    written.push_back(dir / name);
  };

  std::ostringstream o;
  o << head("kperflab series") << "<h1>kperflab series: " << r.labels.size() << " sides</h1>";
  o << "<table><tr><th>side</th><th>selection</th><th>kernel</th><th>units</th>"
       "<th>machine</th></tr>";
  for (size_t i = 0; i < r.labels.size(); ++i)
    o << "<tr><td>[" << i + 1 << "]</td><td><code>" << esc(r.labels[i]) << "</code></td><td>"
      << esc(r.kernels[i]) << "</td><td>" << report::side_counts(r.reps[i], r.boots[i])
      << "</td><td>" << esc(r.machines[i]) << "</td></tr>";
  o << "</table><h2>Steps</h2><p>Each step compares two neighbouring sides (kperflab compare, "
       "alpha "
    << r.alpha << ", Benjamini-Hochberg over the rows of each step, of the probes chosen with --probe or all).</p><table><tr><th>step</th>"
       "<th>regressions</th><th>improvements</th><th>comparisons</th><th>basis</th></tr>";
  for (size_t s = 0; s < r.steps.size(); ++s)
    o << "<tr><td>" << step_name(s) << "</td><td class='REGRESSION'>" << r.steps[s].regressions()
      << "</td><td class='improvement'>" << r.steps[s].improvements() << "</td><td>"
      << r.steps[s].rows.size() << "</td><td>" << esc(report::basis_text(r.steps[s].basis))
      << "</td></tr>";
  o << "</table>";
  // A warning several steps gave is said once, with the steps.
  for (auto& [w, steps] : step_warnings(r))
    o << "<p class='warn'>" << esc(steps_text(steps, r.steps.size(), " → ")) << " warning: "
      << esc(w) << "</p>";
  o << "<h2>Probes</h2><table><tr><th>probe</th><th>lines listed</th>";
  for (size_t s = 0; s < r.steps.size(); ++s) o << "<th>" << step_name(s) << " R / I</th>";
  o << "</tr>";
  for (auto& [probe, lines] : by_probe) {
    o << "<tr><td><a href='" << page_name(probe) << "'>" << esc(probe) << "</a></td><td>"
      << lines.size() << "</td>";
    for (size_t s = 0; s < r.steps.size(); ++s) {
      size_t reg = 0, imp = 0;
      for (auto* l : lines) {
        reg += l->steps[s].present && l->steps[s].verdict == Verdict::regression;
        imp += l->steps[s].present && l->steps[s].verdict == Verdict::improvement;
      }
      o << "<td>" << reg << " / " << imp << "</td>";
    }
    o << "</tr>";
  }
  o << "</table>";
  if (by_probe.empty())
    o << "<p>No step flagged a change" << (r.all ? "" : " (--all lists every metric)")
      << ".</p>";
  o << "<h2>What differs per step</h2>";
  for (size_t s = 0; s < r.steps.size(); ++s) {
    o << "<h3>" << step_name(s) << "</h3>";
    report::html_provenance(o, r.steps[s], "[" + std::to_string(s + 1) + "]",
                            "[" + std::to_string(s + 2) + "]");
  }
  o << "</body></html>\n";
  put("index.html", o.str());

  auto found = findings(r, " → ");
  auto flagged_all = flagged_picks(r);
  for (auto& [probe, lines] : by_probe) {
    std::ostringstream p;
    p << head("kperflab series: " + probe) << "<p><a href='index.html'>series index</a></p><h1>"
      << esc(probe) << "</h1>";
    // What was found and the flagged lines first, then the plots.
    p << "<h2>Findings</h2>";
    bool said = false;
    for (auto& [fp, t] : found)
      if (fp == probe) p << "<p>" << esc(t) << "</p>", said = true;
    if (!said) p << "<p>No step flagged a row of this probe.</p>";
    p << "<p><small>Rows flagged per step: R regressions, I improvements, C changes; gm: the "
         "probe's geometric mean of its lower-is-better rows. Warnings of the steps: "
         "<a href='index.html'>series index</a>.</small></p>";
    std::vector<const Line*> flagged_lines, open_lines;
    for (auto& pk : flagged_all)
      if (pk.line->probe == probe) flagged_lines.push_back(pk.line);
    for (auto* l : lines)  // this probe's undecided lines, largest first
      if (!l->flagged() && l->listed()) open_lines.push_back(l);
    std::stable_sort(open_lines.begin(), open_lines.end(),
                     [](const Line* a, const Line* b) { return effect(*a) > effect(*b); });
    size_t open_total = open_lines.size();
    if (open_lines.size() > r.top) open_lines.resize(r.top);
    p << "<h2>Flagged lines</h2>";
    if (flagged_lines.empty()) p << "<p>No step flagged a line of this probe.</p>";
    else line_table(p, flagged_lines, r);
    if (!open_lines.empty()) {
      p << "<h2>Largest undecided lines</h2><p>" << open_lines.size() << " of " << open_total
        << ", largest change first (changed by more than their minimum effect, not "
           "significant).</p>";
      line_table(p, open_lines, r);
    }
    p << "<h2>Plots</h2><p>One plot per metric, its p50 and p99 (or its value), flagged "
         "metrics first, then by the largest change. Dots: the median over a side's units "
         "(boots when it has several, else repetitions); whiskers: its 95% CI from 6 units on, "
         "else the range. A flagged step is drawn in its verdict's colour: red regression, "
         "green improvement, orange change.</p>";
    for (auto& fam : r.families)
      if (fam.probe == probe) p << family_plot(fam, r);
    p << "<h2>Every line</h2>";
    line_table(p, lines, r);
    std::string hm = heatmaps(probe, sides);
    if (!hm.empty()) p << "<h2>CPU matrices</h2>" << hm;
    p << "</body></html>\n";
    put(page_name(probe), p.str());
  }
  return written;
}

}  // namespace kperflab::series
