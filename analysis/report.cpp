// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "results/bundle.h"

namespace kperflab::report {

using compare::Row;
using compare::Verdict;

bool is_time_unit(const std::string& unit) {
  return unit == "ps" || unit == "ns" || unit == "us" || unit == "ms" || unit == "s";
}

std::string fmt_value(double v, const std::string& unit) {
  char b[48];
  if (is_time_unit(unit)) {
    double ns = unit == "ps" ? v / 1e3 : unit == "us" ? v * 1e3 : unit == "ms" ? v * 1e6
              : unit == "s"  ? v * 1e9 : v;
    double a = std::fabs(ns);
    if (a < 1e3) std::snprintf(b, sizeof b, "%.4gns", ns);
    else if (a < 1e6) std::snprintf(b, sizeof b, "%.4gus", ns / 1e3);
    else if (a < 1e9) std::snprintf(b, sizeof b, "%.4gms", ns / 1e6);
    else std::snprintf(b, sizeof b, "%.4gs", ns / 1e9);
  } else {
    std::snprintf(b, sizeof b, "%.4g", v);
  }
  return b;
}

std::string fmt_change(double c) {
  if (std::isinf(c)) return "new";
  if (std::isnan(c)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", c * 100);
  return b;
}

std::string fmt_change(const Row& r, double c) {
  if (!r.absolute) return fmt_change(c);
  if (std::isnan(c)) return "n/a";
  char b[48];
  std::snprintf(b, sizeof b, "%+.4g %s", c, r.unit.c_str());
  return printable(b);
}

std::string fmt_min_effect(const Row& r) {
  char b[48];
  if (r.absolute) std::snprintf(b, sizeof b, "%.4g %s", r.min_effect, r.unit.c_str());
  else std::snprintf(b, sizeof b, "%.1f%%", r.min_effect * 100);
  return printable(b);
}

std::string shifts_text(const compare::Result& r) {
  std::string out;
  for (bool cand : {false, true}) {
    std::string side;
    for (auto& s : r.shifts) {
      if (s.cand != cand) continue;
      char b[32];
      std::snprintf(b, sizeof b, "%+.1f%%", s.shift * 100);
      side += (side.empty() ? "" : ", ") + printable(s.unit) + " " + b;
    }
    if (!side.empty()) out += (out.empty() ? "" : "; ") + std::string(cand ? "cand " : "base ") + side;
  }
  return out;
}

std::string ci_label(double alpha) {
  char b[48];
  std::snprintf(b, sizeof b, "%.4g%% CI", (1 - alpha) * 100);
  return b;
}

std::string fmt_spread(double s) {
  if (std::isnan(s)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", s * 100);
  return b;
}

std::string fmt_n(const Row& r) {
  return std::to_string(r.base_n) + " vs " + std::to_string(r.cand_n) + " (" +
         compare::to_string(r.basis) + ")";
}

std::string machine(const compare::Side& s) {
  std::vector<std::string> seen;
  for (auto& b : s.bundles) {
    JsonView m = b.meta_view();
    std::string cpus = m.at("cpu").text("online_count", "");
    if (cpus.empty()) {  // older bundles: count the online CPUs of the topology
      size_t n = 0;
      if (auto t = m.at("cpu").find_if("topology", J_ARRAY))
        for (auto& c : t->elements()) n += c.find("online") && c.at("online").raw() == true;
      cpus = std::to_string(n);
    }
    std::string one = m.at("host").text("hostname") + ", " + m.at("cpu").text("model_name") +
                      ", " + cpus + (cpus == "1" ? " CPU" : " CPUs");
    if (std::find(seen.begin(), seen.end(), one) == seen.end()) seen.push_back(one);
  }
  std::string out;
  for (auto& x : seen) out += (out.empty() ? "" : " | ") + x;
  return printable(out);
}

std::string basis_text(compare::Basis b) {
  switch (b) {
    case compare::Basis::boots:
      return "boots: one value per boot (the median of its repetitions), a moderated t test "
             "across boots";
    case compare::Basis::paired:
      return "paired boots: both sides ran in each of the same boots (interleaved A/B), a "
             "paired moderated t test over boots";
    case compare::Basis::runs:
      return "runs: one boot, several runs a side; one value per run (the median of its "
             "repetitions), a moderated t test across runs";
    case compare::Basis::noise:
      return "noise model: one boot per side, judged against the spread between boots that "
             "this host's noise model measured for each metric";
    case compare::Basis::one_boot:
      return "one run a side in one boot: one unit a side, nothing decided (repetitions "
             "tested only with --trust-one-boot)";
    case compare::Basis::confounded:
      return "one boot a side and no noise model: a kernel effect cannot be told from a boot "
             "effect, nothing decided (repetitions tested only with --trust-one-boot)";
  }
  return "?";
}

std::string side_counts(size_t reps, size_t boots) {
  return std::to_string(reps) + (reps == 1 ? " repetition, " : " repetitions, ") +
         std::to_string(boots) + (boots == 1 ? " boot" : " boots");
}

std::string fmt_diff(const compare::ProvDiff& d) {
  if (!d.words) return printable(d.base) + " -> " + printable(d.cand);
  std::string out;
  for (auto [text, sign] : {std::pair{&d.base, '-'}, std::pair{&d.cand, '+'}}) {
    std::istringstream in(printable(*text));
    for (std::string w; in >> w;) out += (out.empty() ? "" : " ") + (sign + w);
  }
  return out;
}

bool listed(const Row& r, bool all_rows) { return all_rows || r.verdict != Verdict::unchanged; }

std::vector<const Row*> ordered_rows(const compare::Result& res, bool all_rows) {
  std::vector<const Row*> v;
  for (auto& r : res.rows)
    if (listed(r, all_rows)) v.push_back(&r);
  auto rank = [](const Row* r) {
    switch (r->verdict) {
      case Verdict::regression: return 0;
      case Verdict::improvement: return 1;
      case Verdict::change: return 2;
      case Verdict::undecided: return 3;
      default: return 4;
    }
  };
  std::stable_sort(v.begin(), v.end(), [&](const Row* a, const Row* b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return row_effect(*a) > row_effect(*b);
  });
  return v;
}

double row_effect(const Row& r) {
  if (!std::isnan(r.change)) return effect_rank(r.change);
  // No change computed (no variance on a side): the values shown, as ranked.
  if (r.base_median != 0) return effect_rank(r.cand_median / r.base_median - 1);
  return -1;
}

double effect_rank(double change) {
  if (std::isnan(change)) return -1;
  return std::isinf(change) ? HUGE_VAL : std::fabs(change);
}

Selection selected_rows(const compare::Result& r, bool all_rows, size_t top,
                        size_t top_flagged) {
  Selection s;
  s.rows = ordered_rows(r, all_rows);
  if (all_rows) return s;
  // Flagged rows come first and undecided ones last, each largest change
  // first: keep the first `top_flagged` and `top` of them.
  std::vector<const Row*> kept;
  size_t undecided = 0, flagged_n = 0;
  for (const Row* x : s.rows) {
    bool flagged = x->verdict == Verdict::regression || x->verdict == Verdict::improvement ||
                   x->verdict == Verdict::change;
    if (flagged && !x->summary && flagged_n++ >= top_flagged) ++s.left_flagged[x->probe];
    else if (flagged || x->summary || undecided++ < top) kept.push_back(x);
    else ++s.left;
  }
  // A probe's geometric-mean row is listed whatever its verdict.
  for (auto& x : r.rows)
    if (x.summary && x.verdict == Verdict::unchanged) kept.push_back(&x);
  s.rows = std::move(kept);
  return s;
}

std::string left_text(size_t left) {
  return std::to_string(left) + " more undecided " + (left == 1 ? "row" : "rows") +
         ", smaller changes: --all lists every row, unchanged ones too.";
}

std::string left_flagged_text(const std::map<std::string, size_t>& left,
                              const std::string& what) {
  if (left.empty()) return "";
  size_t n = 0;
  std::string by;
  for (auto& [probe, k] : left) {
    n += k;
    by += (by.empty() ? "" : ", ") + printable(probe) + " " + std::to_string(k);
  }
  return std::to_string(n) + " more flagged " + what + ", smaller changes (" + by +
         "): --top-flagged N or --all lists them.";
}

std::string pval(double p) {
  char b[32];
  std::snprintf(b, sizeof b, p < 0.001 ? "%.1e" : "%.3f", p);
  return b;
}

// Plain ASCII, wrapped at 78 columns, for mailing lists; continuation
// lines start with `cont`. A word longer than a line goes on a line alone.
void wrap(std::ostringstream& o, const std::string& s, const std::string& indent,
          const std::string& cont) {
  std::string line = indent;
  size_t start = indent.size();
  std::istringstream words(s);
  std::string w;
  while (words >> w) {
    if (line.size() + w.size() + 1 > 78 && line.size() > start) {
      o << line << "\n";
      line = cont;
      start = cont.size();
    }
    // A word wider than a line (a long value without spaces) is cut.
    while (line.size() + w.size() + 1 > 78 && line.size() == start) {
      size_t fit = 78 - line.size();
      o << line << w.substr(0, fit) << "\n";
      w.erase(0, fit);
      line = cont;
      start = cont.size();
    }
    line += (line.size() > start ? " " : "") + w;
  }
  o << line << "\n";
}

void wrap(std::ostringstream& o, const std::string& s, const std::string& indent) {
  wrap(o, s, indent, indent + "  ");
}

namespace {

std::string ci(const Row& r) {
  return "[" + fmt_change(r, r.ci_lo) + ", " + fmt_change(r, r.ci_hi) + "]";
}

std::string aliases(const Row& r) {
  std::string s;
  for (auto& a : r.aliases) s += (s.empty() ? "" : ", ") + printable(a);
  return s;
}

// The two sides, the machine and the basis of the verdicts.
void text_header(std::ostringstream& o, const Input& in, size_t i) {
  const auto& r = in.results[i];
  std::string mb = machine(*in.base), mc = machine(*in.cands[i]);
  if (mb == mc) wrap(o, "machine: " + mb, "  ", "    ");
  else wrap(o, "base machine: " + mb, "  ", "    "), wrap(o, "cand machine: " + mc, "  ", "    ");
  wrap(o, "base: " + printable(r.base_label) + ", " + side_counts(r.base_reps, r.base_boots),
       "  ", "    ");
  wrap(o, "cand: " + printable(r.cand_label) + ", " + side_counts(r.cand_reps, r.cand_boots),
       "  ", "    ");
  wrap(o, "basis: " + basis_text(r.basis), "  ", "    ");
}

void text_provenance(std::ostringstream& o, const compare::Result& r) {
  o << "\nWhat differs between the sides:\n";
  size_t shown = 0, measured = 0;
  for (auto& d : r.provenance) {
    if (d.measured) {
      ++measured;
      continue;
    }
    wrap(o, printable(d.field) + ": " + fmt_diff(d), "  ", "    ");
    ++shown;
  }
  if (!shown) o << "  nothing recorded in the provenance\n";
  if (!measured) return;
  o << "Measured values (more than 1% apart):\n";
  for (auto& d : r.provenance)
    if (d.measured) wrap(o, printable(d.field) + ": " + fmt_diff(d), "  ", "    ");
}

}  // namespace

std::string text(const Input& in) {
  std::ostringstream o;
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    o << "kperflab comparison\n";
    text_header(o, in, i);
    text_provenance(o, r);
    for (auto& w : r.warnings) wrap(o, "warning: " + printable(w), "");
    if (!r.shifts.empty()) wrap(o, "common shift per unit (median over its rows): " + shifts_text(r), "");
    o << "\n";
    wrap(o,
         std::to_string(r.rows.size()) + " comparisons, " + std::to_string(r.regressions()) +
             " regressions, " + std::to_string(r.improvements()) +
             " improvements (" +
             (compare::has_units(r.basis)
                  ? std::string("moderated t test over units")
                  : std::string("exact Mann-Whitney U over repetitions")) +
             ", Benjamini-Hochberg adjusted; reported when "
             "significant and past the row's minimum effect). Per row: base -> cand (geometric "
             "mean of the units; medians of repetitions with one unit a side), change "
             "[" + ci_label(in.alpha) + "], adjusted p; n units tested per side (basis); "
             "spread: 1.4826 MAD / median of the units; min: the row's minimum effect.",
         "", "");
    o << "\n";
    auto sel = selected_rows(r, in.all_rows, in.top, in.top_flagged);
    // A note on many rows (one unit a side, no variance) is said once.
    std::map<std::string, size_t> note_rows;
    for (const Row* x : sel.rows)
      if (!x->note.empty()) ++note_rows[x->note];
    std::map<std::string, size_t> note_no;
    for (const Row* x : sel.rows)
      if (!x->note.empty() && note_rows[x->note] >= 3 && !note_no.count(x->note)) {
        size_t n = note_no.size() + 1;
        note_no[x->note] = n;
        wrap(o, "note " + std::to_string(n) + " (" + std::to_string(note_rows[x->note]) +
                    " of the rows below): " + printable(x->note), "");
      }
    if (!note_no.empty()) o << "\n";
    for (const Row* x : sel.rows) {
      std::string head = std::string(compare::to_string(x->verdict)) + " " + printable(x->probe) + " " +
                         printable(x->metric) + " (" + x->stat + ")";
      if (!x->aliases.empty()) head += " merged: " + aliases(*x);
      wrap(o, head, "", "    ");
      std::string values = fmt_value(x->base_median, x->unit) + " -> " +
                           fmt_value(x->cand_median, x->unit) + "  " + fmt_change(*x, x->change) +
                           " " + ci(*x) + "  p=" + pval(x->p_adj);
      if (values.size() <= 74) o << "    " << values << "\n";
      else wrap(o, values, "    ");
      wrap(o,
           "n " + fmt_n(*x) + ", spread " + fmt_spread(x->base_spread) + " vs " +
               fmt_spread(x->cand_spread) + ", min " + fmt_min_effect(*x) +
               (x->overflow ? ", OVERFLOW: values past the histogram's range, the tail is a "
                              "floor" : "") +
               (x->note.empty()           ? ""
                : note_no.count(x->note) ? "; note " + std::to_string(note_no[x->note])
                                         : "; " + x->note),
           "    ");
    }
    if (!sel.left_flagged.empty()) o << "\n", wrap(o, left_flagged_text(sel.left_flagged, "rows"), "");
    if (sel.left) o << "\n", wrap(o, left_text(sel.left), "");
    if (i + 1 < in.results.size()) o << "\n" << std::string(72, '-') << "\n\n";
  }
  return o.str();
}

namespace {

// A Markdown table cell: printable, '|' escaped (also inside code spans).
std::string md(const std::string& s) {
  std::string out;
  for (char c : printable(s)) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

void md_provenance(std::ostringstream& o, const compare::Result& r) {
  o << "### What differs\n\n";
  bool any = false, measured = false;
  for (auto& d : r.provenance) (d.measured ? measured : any) = true;
  if (!any) o << "Nothing recorded in the provenance differs.\n\n";
  auto table = [&](bool want) {
    o << "| field | base | candidate |\n|---|---|---|\n";
    for (auto& d : r.provenance) {
      if (d.measured != want) continue;
      auto cell = [&](const std::string& v, char sign) {
        if (!d.words) return "`" + md(v) + "`";
        std::string c;
        std::istringstream in(v);
        for (std::string w; in >> w;) c += (c.empty() ? "`" : " ") + (sign + md(w));
        return c.empty() ? std::string("") : c + "`";
      };
      o << "| " << md(d.field) << (d.words ? " (words that differ)" : "") << " | "
        << cell(d.base, '-') << " | " << cell(d.cand, '+') << " |\n";
    }
    o << "\n";
  };
  if (any) table(false);
  if (measured) o << "**Measured** values more than 1% apart:\n\n", table(true);
}

}  // namespace

std::string markdown(const Input& in) {
  std::ostringstream o;
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    std::string mb = machine(*in.base), mc = machine(*in.cands[i]);
    o << "## kperflab comparison\n\n";
    if (mb == mc) o << "- **machine**: " << md(mb) << "\n";
    else o << "- **base machine**: " << md(mb) << "\n- **candidate machine**: " << md(mc) << "\n";
    o << "- **base**: " << md(r.base_label) << " (" << side_counts(r.base_reps, r.base_boots)
      << ")\n- **candidate**: " << md(r.cand_label) << " ("
      << side_counts(r.cand_reps, r.cand_boots) << ")\n- **basis**: " << basis_text(r.basis)
      << "\n\n";
    md_provenance(o, r);
    for (auto& w : r.warnings) o << "> **warning:** " << printable(w) << "\n\n";
    if (!r.shifts.empty())
      o << "Common shift per unit (median over its rows): " << md(shifts_text(r)) << "\n\n";
    o << "### Results\n\n" << r.rows.size() << " comparisons, **" << r.regressions()
      << " regressions**, " << r.improvements() << " improvements.\n\n";
    auto sel = selected_rows(r, in.all_rows, in.top, in.top_flagged);
    const auto& rows = sel.rows;
    if (rows.empty()) continue;
    o << "| verdict | probe | metric | stat | base | candidate | change | " << ci_label(in.alpha)
      << " | p (adj.) | n (basis) | spread | min |\n"
      << "|---|---|---|---|---:|---:|---:|---|---:|---|---|---:|\n";
    for (const Row* x : rows) {
      o << "| " << compare::to_string(x->verdict) << " | " << md(x->probe) << " | `"
        << md(x->metric) << "`";
      if (!x->aliases.empty()) o << " (merged: " << md(aliases(*x)) << ")";
      o << " | " << x->stat << " | " << fmt_value(x->base_median, x->unit) << " | "
        << fmt_value(x->cand_median, x->unit) << " | " << fmt_change(*x, x->change) << " | "
        << ci(*x) << " | " << pval(x->p_adj) << " | " << fmt_n(*x) << " | "
        << fmt_spread(x->base_spread) << " vs " << fmt_spread(x->cand_spread) << " | "
        << md(fmt_min_effect(*x)) << (x->overflow ? " (overflow)" : "") << " |\n";
    }
    o << "\n";
    if (!sel.left_flagged.empty()) o << left_flagged_text(sel.left_flagged, "rows") << "\n\n";
    if (sel.left) o << left_text(sel.left) << "\n\n";
  }
  return o.str();
}

std::string terminal(const Input& in) {
  const char* red = "\033[1;31m";
  const char* green = "\033[32m";
  const char* yellow = "\033[33m";
  const char* dim = "\033[2m";
  const char* bold = "\033[1m";
  const char* off = "\033[0m";
  std::ostringstream o;
  for (size_t i = 0; i < in.results.size(); ++i) {
    const auto& r = in.results[i];
    std::string mb = machine(*in.base), mc = machine(*in.cands[i]);
    if (mb == mc) o << bold << "machine" << off << " " << mb << "\n";
    else o << bold << "base machine" << off << " " << mb << "\n" << bold << "cand machine" << off
           << " " << mc << "\n";
    o << bold << "base" << off << " " << printable(r.base_label) << " ("
      << side_counts(r.base_reps, r.base_boots) << ")   " << bold << "cand" << off << " "
      << printable(r.cand_label) << " (" << side_counts(r.cand_reps, r.cand_boots) << ")\n"
      << bold << "basis" << off << " " << basis_text(r.basis) << "\n";
    for (auto& d : r.provenance)
      o << "  " << dim << (d.measured ? "measured " : "") << printable(d.field) << off << ": "
        << fmt_diff(d) << "\n";
    for (auto& w : r.warnings) o << yellow << "warning: " << printable(w) << off << "\n";
    if (!r.shifts.empty()) o << dim << "common shift per unit: " << shifts_text(r) << off << "\n";
    char head[300];
    std::snprintf(head, sizeof head, "\n%-12s %-60s %-6s %11s %11s %8s %-18s %-28s %s\n",
                  "verdict", "probe/metric", "stat", "base", "cand", "change",
                  ci_label(in.alpha).c_str(), "n (basis)", "spread");
    o << head;
    auto sel = selected_rows(r, in.all_rows, in.top, in.top_flagged);
    for (const Row* x : sel.rows) {
      const char* c = x->verdict == Verdict::regression    ? red
                      : x->verdict == Verdict::improvement ? green
                      : x->verdict == Verdict::unchanged   ? dim
                                                           : yellow;
      char line[600];
      std::snprintf(line, sizeof line, "%s%-12s%s %-60s %-6s %11s %11s %8s %-18s %-28s %s\n", c,
                    compare::to_string(x->verdict), off,
                    printable(x->probe + "/" + x->metric).c_str(), x->stat.c_str(),
                    fmt_value(x->base_median, x->unit).c_str(),
                    fmt_value(x->cand_median, x->unit).c_str(), fmt_change(*x, x->change).c_str(),
                    ci(*x).c_str(), fmt_n(*x).c_str(),
                    (fmt_spread(x->base_spread) + " vs " + fmt_spread(x->cand_spread)).c_str());
      o << line;
      if (!x->aliases.empty()) o << dim << "             merged: " << aliases(*x) << off << "\n";
    }
    if (!sel.left_flagged.empty())
      o << dim << left_flagged_text(sel.left_flagged, "rows") << off << "\n";
    if (sel.left) o << dim << left_text(sel.left) << off << "\n";
    o << "\n" << r.rows.size() << " comparisons: " << red << r.regressions() << " regressions"
      << off << ", " << green << r.improvements() << " improvements" << off << "\n";
    if (i + 1 < in.results.size()) o << "\n";
  }
  return o.str();
}

}  // namespace kperflab::report
