// SPDX-License-Identifier: GPL-2.0-only
// The series as text for a mailing list (<= 80 columns) and as Markdown
// (series.h): the sides, the steps with their basis and warnings, the
// findings, and the picks of series_picks.cpp (every line with `all`).
#include <map>
#include <sstream>

#include "analysis/report.h"
#include "analysis/series.h"
#include "analysis/series_internal.h"
#include "core/until_ci.h"

namespace kperflab::series {

using compare::Verdict;
using detail::mark;
using detail::side_tag;
using detail::step_tag;
using detail::step_text;

namespace {

std::string value_text(const Cell& c, const std::string& unit) {
  if (!c.present) return "-";
  if (c.n == 1) return report::fmt_value(c.median, unit) + " (1 unit)";
  return report::fmt_value(c.median, unit) + " [" + report::fmt_value(c.lo, unit) + ", " +
         report::fmt_value(c.hi, unit) + "]";
}

std::string stat_text(const Line& l) {
  return l.stats() + (l.better.empty() ? "" : ", " + l.better + " is better");
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
