// SPDX-License-Identifier: GPL-2.0-only
// Per-probe part of `kperflab show`. Probes present sweeps and matrices
// through conventions in a repetition's "extra" (documented in
// results/README.md), so show needs no probe-specific code:
//   extra.tables   = [{"title", "columns": [..], "rows": [[..], ..]}]
//   extra.matrices = [{"title", "unit", "rows": [cpu..], "cols": [cpu..],
//                      "values": [[v|null, ..], ..]}]
// Their shapes (row widths, rows x cols values, caps) are checked on load;
// every string is printed through printable().
#include <algorithm>
#include <cstdio>

#include "show.h"

namespace kperflab {

using nlohmann::json;

namespace {

std::string cell(const json& v) {
  if (v.is_string()) return printable(v.get<std::string>());
  if (v.is_null()) return "-";
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string title(const JsonView& t) { return printable(t.text("title", "")); }

void print_table(const JsonView& t) {
  std::printf("  -- %s\n", title(t).c_str());
  JsonView columns = t.at("columns");
  std::vector<JsonView> rows = t.at("rows").elements();
  auto cells = [](const JsonView& row) {
    std::vector<std::string> out;
    for (auto& c : row.elements()) out.push_back(cell(c.raw()));
    return out;
  };
  std::vector<std::vector<std::string>> text{cells(columns)};
  for (auto& r : rows) text.push_back(cells(r));
  std::vector<size_t> w;
  for (auto& row : text)
    for (size_t i = 0; i < row.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], row[i].size());
    }
  for (auto& row : text) {
    std::printf("    ");
    for (size_t i = 0; i < row.size(); ++i)
      std::printf("%*s  ", static_cast<int>(w[i]), row[i].c_str());
    std::printf("\n");
  }
}

void print_matrix(const JsonView& m) {
  std::string unit = m.text("unit", "");
  std::printf("  -- %s (rows: source CPU, columns: target CPU)\n        ", title(m).c_str());
  for (auto& c : m.at("cols").elements()) std::printf("%9s", cell(c.raw()).c_str());
  std::printf("\n");
  JsonView rows = m.at("rows"), values = m.at("values");
  for (size_t r = 0; r < rows.size(); ++r) {
    std::printf("    %3s ", cell(rows.at(r).raw()).c_str());
    for (auto& v : values.at(r).elements())
      std::printf("%9s", v.is_number() ? format_value(v.num(), unit).c_str() : "-");
    std::printf("\n");
  }
}

void print_metric(const std::string& name, const JsonView& m, int hist) {
  std::string unit = m.at("unit").str();
  if (m.at("kind").str() == "scalar") {
    JsonView v = m.at("value");
    std::printf("  %-58s %s\n", name.c_str(),
                v.is_number() ? format_value(v.num(), unit).c_str() : "n/a");
    return;
  }
  auto q = [&](const char* k) { return format_value(static_cast<double>(m.at(k).u64()), unit); };
  std::printf("  %-58s %9llu %10s %10s %10s%s\n", name.c_str(),
              static_cast<unsigned long long>(m.at("count").u64()), q("p50").c_str(),
              q("p99").c_str(), q("max").c_str(), m.at("overflow").u64() ? "  (overflow!)" : "");
  if (hist) draw_histogram(Histogram::decode_base64(m.at("hist").str()), unit, hist == 2);
}

}  // namespace

void show_probe(const std::string& name, const JsonView& doc, int hist) {
  std::printf("\n== %s: %s", printable(name).c_str(), printable(doc.at("status").str()).c_str());
  if (doc.at("reason").is_string()) std::printf(" (%s)", printable(doc.at("reason").str()).c_str());
  std::printf("\n");
  if (auto u = doc.find("until_ci"); u && u->is_object()) {
    // Written by the runner (src/until_ci.h); checked here only for shape.
    std::printf(" --until-ci +-%.3g %%: %.0f repetitions in %.0f s, stopped: %s; %.0f of %.0f "
                "headline metrics wider\n",
                u->at("target_half_width_pct").num(), u->at("repetitions").num(),
                u->at("elapsed_s").num(), printable(u->at("stopped").str()).c_str(),
                u->at("above_target").num(), u->at("headline_metrics").num());
    for (auto& w : u->at("widest").elements())
      std::printf("   +-%.3g %%  %s\n", w.at("half_width_pct").num(),
                  printable(w.at("metric").str()).c_str());
  }
  std::vector<JsonView> reps = doc.at("repetitions").elements();
  for (size_t r = 0; r < reps.size(); ++r) {
    if (reps.size() > 1) std::printf(" repetition %zu\n", r);
    std::printf("  %-58s %9s %10s %10s %10s\n", "metric", "count", "p50", "p99", "max");
    for (auto& [n, m] : reps[r].at("metrics").members()) print_metric(printable(n), m, hist);
    for (auto& [n, why] : reps[r].at("skipped").members())
      std::printf("  %-58s skipped: %s\n", printable(n).c_str(), printable(why.str()).c_str());
    auto extra = reps[r].find("extra");
    if (!extra) continue;  // optional: a repetition with nothing but metrics
    if (auto t = extra->find("tables"))
      for (auto& x : t->elements()) print_table(x);
    if (auto m = extra->find("matrices"))
      for (auto& x : m->elements()) print_matrix(x);
  }
}

}  // namespace kperflab
