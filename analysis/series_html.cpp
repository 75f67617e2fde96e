// SPDX-License-Identifier: GPL-2.0-only
// The series as a static HTML site: index.html (sides, steps, what differs
// per step, a summary per probe) and one page per probe (a plot per line:
// medians with their intervals across the series, the flagged steps
// coloured; CPU matrices of every side on one colour scale). No scripts, no
// external resources: the directory can be published as it is.
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "analysis/html_parts.h"
#include "analysis/report.h"
#include "analysis/series.h"
#include "output_file.h"

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

// Medians (dots) with their intervals (whiskers) at evenly spaced sides;
// each step a segment coloured by its verdict.
std::string line_plot(const Line& l, const Result& r) {
  const size_t n = l.cells.size();
  const int L = 70, R = 16, T = 28, B = 46, W = std::max(360, L + R + 110 * static_cast<int>(n)),
            H = 230;
  double y0 = INFINITY, y1 = -INFINITY;
  for (auto& c : l.cells)
    if (c.present) y0 = std::min(y0, c.lo), y1 = std::max(y1, c.hi);
  if (!std::isfinite(y0)) return "";
  double pad = (y1 - y0) * 0.1;
  if (pad == 0) pad = std::fabs(y1) * 0.05 + 1e-9;
  y0 = y0 >= 0 ? std::max(0.0, y0 - pad) : y0 - pad;  // no negative axis for positive values
  y1 += pad;
  auto px = [&](size_t i) { return L + (W - L - R) * (i + 0.5) / static_cast<double>(n); };
  auto py = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<figure><svg width='" << W << "' height='" << H << "' viewBox='0 0 " << W << " " << H
    << "' xmlns='http://www.w3.org/2000/svg'><rect width='100%' height='100%' fill='#fff'/>"
    << "<text x='" << L << "' y='16' font-size='12'>" << esc(l.metric + " (" + l.stats() + ")")
    << "</text><line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B
    << "' stroke='#444'/><line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='"
    << H - B << "' stroke='#444'/>";
  for (int i = 0; i <= 4; ++i) {
    double v = y0 + (y1 - y0) * i / 4;
    o << "<text x='" << L - 4 << "' y='" << py(v) + 3 << "' font-size='10' text-anchor='end'>"
      << esc(report::fmt_value(v, l.unit)) << "</text><line x1='" << L << "' x2='" << W - R
      << "' y1='" << py(v) << "' y2='" << py(v) << "' stroke='#eee'/>";
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    const Cell &a = l.cells[i], &b = l.cells[i + 1];
    if (!a.present || !b.present) continue;
    bool flagged = l.steps[i].present && l.steps[i].verdict != Verdict::unchanged &&
                   l.steps[i].verdict != Verdict::undecided;
    o << "<line x1='" << px(i) << "' y1='" << py(a.median) << "' x2='" << px(i + 1) << "' y2='"
      << py(b.median) << "' stroke='" << step_colour(l.steps[i]) << "' stroke-width='"
      << (flagged ? 3 : 1.5) << "'><title>"
      << esc(report::fmt_change(l.steps[i].change) + " " +
             compare::to_string(l.steps[i].verdict))
      << "</title></line>";
  }
  for (size_t i = 0; i < n; ++i) {
    const Cell& c = l.cells[i];
    o << "<text x='" << px(i) << "' y='" << H - B + 14 << "' font-size='10' text-anchor='middle'>["
      << i + 1 << "]</text><text x='" << px(i) << "' y='" << H - B + 27
      << "' font-size='9' text-anchor='middle'>" << esc(short_label(r.labels[i])) << "</text>";
    if (!c.present) continue;
    double x = px(i);
    o << "<line x1='" << x << "' x2='" << x << "' y1='" << py(c.lo) << "' y2='" << py(c.hi)
      << "' stroke='#1f4fa0'/><line x1='" << x - 5 << "' x2='" << x + 5 << "' y1='" << py(c.lo)
      << "' y2='" << py(c.lo) << "' stroke='#1f4fa0'/><line x1='" << x - 5 << "' x2='" << x + 5
      << "' y1='" << py(c.hi) << "' y2='" << py(c.hi) << "' stroke='#1f4fa0'/><circle cx='" << x
      << "' cy='" << py(c.median) << "' r='3.5' fill='#1f4fa0'><title>"
      << esc(report::fmt_value(c.median, l.unit) + (c.ci ? " (95% CI " : " (range ") +
             report::fmt_value(c.lo, l.unit) + " .. " + report::fmt_value(c.hi, l.unit) +
             ", n " + std::to_string(c.n) + ")")
      << "</title></circle>";
  }
  o << "</svg></figure>";
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
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& w : r.steps[s].warnings)
      o << "<p class='warn'>" << step_name(s) << " warning: " << esc(w) << "</p>";
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

  for (auto& [probe, lines] : by_probe) {
    std::ostringstream p;
    p << head("kperflab series: " + probe) << "<p><a href='index.html'>series index</a></p><h1>"
      << esc(probe) << "</h1><p>Dots: the median over a side's units (boots when it has several, "
         "else repetitions); whiskers: its 95% CI from 6 units on, else the range. Segments: "
         "red regression, green improvement, orange change, grey unchanged or undecided.</p>";
    for (auto* l : lines) p << line_plot(*l, r);
    p << "<table><tr><th>metric</th><th>stat</th>";
    for (size_t i = 0; i < r.labels.size(); ++i) p << "<th>[" << i + 1 << "]</th>";
    p << "</tr>";
    for (auto* l : lines) {
      p << "<tr><td><code>" << esc(l->metric) << "</code></td><td>" << esc(l->stats()) << "</td>";
      for (size_t i = 0; i < l->cells.size(); ++i) {
        const Cell& c = l->cells[i];
        p << "<td>"
          << (c.present ? esc(report::fmt_value(c.median, l->unit)) : std::string("-"));
        if (i > 0 && l->steps[i - 1].present)
          p << "<br><span class='" << compare::to_string(l->steps[i - 1].verdict) << "'>"
            << report::fmt_change(l->steps[i - 1].change) << "</span>";
        p << "</td>";
      }
      p << "</tr>";
    }
    p << "</table>";
    std::string hm = heatmaps(probe, sides);
    if (!hm.empty()) p << "<h2>CPU matrices</h2>" << hm;
    p << "</body></html>\n";
    put(page_name(probe), p.str());
  }
  return written;
}

}  // namespace kperflab::series
