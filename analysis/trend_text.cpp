// SPDX-License-Identifier: GPL-2.0-only
// `kperflab trend` as text (<= 80 columns, ASCII, for a mailing list),
// Markdown and JSON (analysis/trend.h).
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "analysis/report.h"
#include "analysis/trend.h"
#include "results/json_access.h"

namespace kperflab::trend {

namespace {

// Bundle text for a mail: printable(), and every byte past ASCII spelled.
std::string ascii(const std::string& s) {
  std::string out;
  for (unsigned char c : printable(s)) {
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    char b[8];
    std::snprintf(b, sizeof b, "\\x%02x", c);
    out += b;
  }
  return out;
}

std::string num(const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

std::string plural(size_t n, const std::string& one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

// "+10.3% [+8.1%, +12.6%]", or "new" where the level before was 0.
std::string rel_text(const Change& c) {
  return report::fmt_change(c.change) + " [" + report::fmt_change(c.lo) + ", " +
         report::fmt_change(c.hi) + "]";
}

std::string signed_value(double v, const std::string& unit) {
  std::string s = report::fmt_value(v, unit);
  return (v >= 0 ? "+" : "") + s + (report::is_time_unit(unit) || unit.empty() ? "" : " " + unit);
}

// "+206ns [+162ns, +252ns]": the change in the metric's unit.
std::string abs_text(const Change& c, const Metric& m) {
  return signed_value(c.abs_change, m.unit) + " [" + signed_value(c.abs_lo, m.unit) + ", " +
         signed_value(c.abs_hi, m.unit) + "]";
}

std::string level(double v, const Metric& m) {
  std::string s = report::fmt_value(v, m.unit);
  return report::is_time_unit(m.unit) || m.unit.empty() ? s : s + " " + m.unit;
}

// The minimum effect: "2.4%" (log), or in the metric's unit.
std::string min_text(const Change& c, const Metric& m) {
  return c.log ? num("%.1f%%", c.min_effect * 100) : level(c.min_effect, m);
}

std::string noise_text(const Change& c, const Metric& m) {
  if (!std::isfinite(c.noise)) return "n/a";
  return c.log ? num("%.1f%%", c.noise * 100) : level(c.noise, m);
}

const std::string& unit_kernel(const Result& r, size_t u) { return r.first_bundle(u).release; }

// "6.1.0-1 (10 boots), 6.12.0 (12 boots)": the units of each kernel.
std::string kernel_counts(const Result& r) {
  std::vector<std::pair<std::string, size_t>> k;
  for (size_t u = 0; u < r.units.size(); ++u) {
    const std::string& rel = unit_kernel(r, u);
    if (k.empty() || k.back().first != rel) k.emplace_back(rel, 0);
    ++k.back().second;
  }
  std::string out;
  for (auto& [rel, n] : k) out += (out.empty() ? "" : ", ") + rel + " (" + plural(n, "boot") + ")";
  return out;
}

// "; 2 in fewer than 10 boots not tested; 3 outlying boot values pulled in".
std::string tested_notes(const Result& r) {
  std::string out;
  if (r.det.short_metrics)
    out += "; " + std::to_string(r.det.short_metrics) + " in fewer than " +
           std::to_string(2 * min_side(r.opt)) + " boots not tested";
  if (r.det.clipped)
    out += "; " + plural(r.det.clipped, "outlying boot value") + " pulled in (Hampel filter)";
  return out;
}

std::string by_text(const Result& r) { return r.opt.by_kernel ? "by kernel version" : "by time"; }

std::string method_text(const Result& r, size_t changes) {
  return plural(changes, "change") + " over " + plural(r.det.tested, "metric") +
         " (a window of up to " + std::to_string(r.opt.window) + " boots before each point "
         "against one after, at least " + std::to_string(min_side(r.opt)) +
         " a side; pooled t test of the two; p times the metric's points (Bonferroni); q: "
         "Benjamini-Hochberg over the " + std::to_string(r.det.peaks.size()) +
         " peaks of every metric; reported when q <= " + num("%g", r.opt.alpha) +
         " and |change| >= the metric's minimum effect, " + num("%.1f%%", r.opt.min_effect * 100) +
         " or its noise between neighbouring boots).";
}

}  // namespace

std::string text(const Result& r) {
  std::ostringstream o;
  o << "kperflab trend: " << ascii(r.source) << "\n";
  report::wrap(o, "machine: " + ascii(r.machine), "  ", "    ");
  report::wrap(o, "history: " + plural(r.bundles.size(), "bundle") + " in " +
                      plural(r.units.size(), "boot") + ", " + by_text(r) + ", " +
                      ascii(r.span()),
               "  ", "    ");
  report::wrap(o, "kernels: " + ascii(kernel_counts(r)), "  ", "    ");
  std::string tested = "tested: " + plural(r.det.tested, "metric statistic") +
                       " (p50 and p99 of histograms, rates and ratios)";
  report::wrap(o, tested + tested_notes(r), "  ", "    ");
  auto ch = r.changes();
  o << "\n";
  report::wrap(o, method_text(r, ch.size()), "", "");
  if (ch.empty()) o << "\nNo change found.\n";
  for (const Change* c : ch) {
    const Metric& m = r.metrics[c->metric];
    std::string v = verdict(*c, m);
    if (v == "regression") v = "REGRESSION";  // as compare's text: what must not be missed
    o << "\n";
    report::wrap(o, v + " " + ascii(m.probe) + " " + ascii(m.metric) + " (" + m.stat +
                        ")  " + rel_text(*c),
                 "", "    ");
    report::wrap(o, level(c->before, m) + " -> " + level(c->after, m) + ", " + abs_text(*c, m),
                 "    ");
    report::wrap(o, "kernels " + ascii(unit_kernel(r, c->prev)) + " -> " +
                        ascii(unit_kernel(r, c->at)) + "; windows " +
                        std::to_string(c->before_n) + " v " + std::to_string(c->after_n) + " boots",
                 "    ");
    report::wrap(o, "noise " + noise_text(*c, m) + ", min " + min_text(*c, m) + ", p=" +
                        report::pval(c->p) + ", q=" + report::pval(c->q),
                 "    ");
    const BundleRef& b = r.first_bundle(c->at);
    report::wrap(o, "first after: boot " + std::to_string(c->at + 1) + " of " +
                        std::to_string(r.units.size()) + ", started " + ascii(b.started) + ", " +
                        ascii(b.release),
                 "    ", "      ");
    report::wrap(o, ascii(b.path), "      ");
  }
  return o.str();
}

std::string markdown(const Result& r) {
  std::ostringstream o;
  auto cell = [](const std::string& s) {
    std::string out;
    for (char c : printable(s)) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
  };
  o << "# kperflab trend: `" << cell(r.source) << "`\n\n";
  o << "- machine: " << cell(r.machine) << "\n";
  o << "- history: " << plural(r.bundles.size(), "bundle") << " in "
    << plural(r.units.size(), "boot") << ", " << by_text(r) << ", " << cell(r.span()) << "\n";
  o << "- kernels: " << cell(kernel_counts(r)) << "\n";
  o << "- tested: " << plural(r.det.tested, "metric statistic")
    << " (p50 and p99 of histograms, rates and ratios)";
  o << cell(tested_notes(r));
  auto ch = r.changes();
  o << "\n\n" << method_text(r, ch.size()) << "\n\n";
  if (ch.empty()) {
    o << "No change found.\n";
    return o.str();
  }
  o << "| verdict | metric | stat | change [95% CI] | absolute [95% CI] | kernels | first bundle "
       "after | started | p | q |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Change* c : ch) {
    const Metric& m = r.metrics[c->metric];
    const BundleRef& b = r.first_bundle(c->at);
    o << "| " << verdict(*c, m) << " | `" << cell(m.probe + "/" + m.metric) << "` | " << m.stat
      << " | " << rel_text(*c) << " | " << cell(level(c->before, m) + " -> " + level(c->after, m) +
                                                 ", " + abs_text(*c, m))
      << " | " << cell(unit_kernel(r, c->prev)) << " -> " << cell(unit_kernel(r, c->at))
      << " | boot " << c->at + 1 << ": `" << cell(b.path) << "` | " << cell(b.started) << " | "
      << report::pval(c->p) << " | " << report::pval(c->q) << " |\n";
  }
  return o.str();
}

nlohmann::json to_json(const Result& r) {
  using nlohmann::json;
  auto bundle = [&](size_t unit) {
    const BundleRef& b = r.first_bundle(unit);
    return json{{"unit", unit}, {"path", printable(b.path)}, {"started", printable(b.started)},
                {"release", printable(b.release)}, {"boot_id", printable(b.boot)}};
  };
  json j = {{"schema", "kperflab.trend/1"},
            {"source", printable(r.source)},
            {"machine", r.machine},
            {"by", r.opt.by_kernel ? "kernel" : "time"},
            {"options", {{"window", r.opt.window}, {"min_side", min_side(r.opt)},
                         {"alpha", r.opt.alpha}, {"min_effect", r.opt.min_effect},
                         {"probes", r.opt.probes}}},
            {"bundles", r.bundles.size()},
            {"boots", r.units.size()},
            {"metrics_tested", r.det.tested},
            {"metrics_short", r.det.short_metrics},
            {"values_clipped", r.det.clipped},
            {"peaks", r.det.peaks.size()},
            {"changes", json::array()}};
  for (auto& u : r.units) {
    json b = json::array();
    for (size_t i : u.bundles) b.push_back(printable(r.bundles[i].path));
    j["units"].push_back({{"boot", printable(u.boot)}, {"bundles", b}});
  }
  for (const Change* c : r.changes()) {
    const Metric& m = r.metrics[c->metric];
    // inf ("new": the level before was 0) is no JSON number: null.
    auto n = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    j["changes"].push_back({{"probe", printable(m.probe)},
                            {"metric", printable(m.metric)},
                            {"stat", m.stat},
                            {"unit", printable(m.unit)},
                            {"verdict", verdict(*c, m)},
                            {"scale", c->log ? "log" : "linear"},
                            {"before", n(c->before)},
                            {"after", n(c->after)},
                            {"change", n(c->change)},
                            {"ci", {n(c->lo), n(c->hi)}},
                            {"abs_change", n(c->abs_change)},
                            {"abs_ci", {n(c->abs_lo), n(c->abs_hi)}},
                            {"first_after", bundle(c->at)},
                            {"last_before", bundle(c->prev)},
                            {"kernels", {printable(unit_kernel(r, c->prev)),
                                         printable(unit_kernel(r, c->at))}},
                            {"windows", {c->before_n, c->after_n}},
                            {"noise", n(c->noise)},
                            {"min_effect", n(c->min_effect)},
                            {"t", n(c->t)},
                            {"df", c->df},
                            {"p", c->p},
                            {"p_metric", c->p_metric},
                            {"candidates", c->candidates},
                            {"q", c->q}});
  }
  return j;
}

}  // namespace kperflab::trend
