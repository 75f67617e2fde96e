// SPDX-License-Identifier: GPL-2.0-only
// Per-probe part of `kperflab show`. Probes present sweeps and matrices
// through conventions in a repetition's "extra" (documented in
// results/README.md), so show needs no probe-specific code:
//   extra.tables   = [{"title", "columns": [..], "rows": [[..], ..]}]
//   extra.matrices = [{"title", "unit", "rows": [cpu..], "cols": [cpu..],
//                      "values": [[v|null, ..], ..]}]
#include <algorithm>
#include <cstdio>

#include "show.h"

namespace kperflab {

using nlohmann::json;

namespace {

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v.get<double>());
    return b;
  }
  return v.dump();
}

void print_table(const json& t) {
  std::printf("  -- %s\n", t.value("title", "").c_str());
  std::vector<size_t> w;
  auto widen = [&](const json& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], cell(row[i]).size());
    }
  };
  widen(t["columns"]);
  for (auto& r : t["rows"]) widen(r);
  auto print_row = [&](const json& row) {
    std::printf("    ");
    for (size_t i = 0; i < row.size(); ++i)
      std::printf("%*s  ", static_cast<int>(w[i]), cell(row[i]).c_str());
    std::printf("\n");
  };
  print_row(t["columns"]);
  for (auto& r : t["rows"]) print_row(r);
}

void print_matrix(const json& m) {
  std::string unit = m.value("unit", "");
  std::printf("  -- %s (rows: source CPU, columns: target CPU)\n        ",
              m.value("title", "").c_str());
  for (auto& c : m["cols"]) std::printf("%9s", cell(c).c_str());
  std::printf("\n");
  for (size_t r = 0; r < m["rows"].size(); ++r) {
    std::printf("    %3s ", cell(m["rows"][r]).c_str());
    for (auto& v : m["values"][r])
      std::printf("%9s", v.is_number() ? format_value(v.get<double>(), unit).c_str() : "-");
    std::printf("\n");
  }
}

void print_metric(const std::string& name, const json& m, int hist) {
  std::string unit = m["unit"];
  if (m["kind"] == "scalar") {
    std::printf("  %-58s %s\n", name.c_str(),
                m["value"].is_number() ? format_value(m["value"].get<double>(), unit).c_str()
                                       : "n/a");
    return;
  }
  auto q = [&](const char* k) { return format_value(m[k].get<double>(), unit); };
  std::printf("  %-58s %9llu %10s %10s %10s%s\n", name.c_str(),
              static_cast<unsigned long long>(m["count"].get<uint64_t>()), q("p50").c_str(),
              q("p99").c_str(), q("max").c_str(),
              m["overflow"].get<uint64_t>() ? "  (overflow!)" : "");
  if (hist) draw_histogram(Histogram::decode_base64(m["hist"].get<std::string>()), unit, hist == 2);
}

}  // namespace

void show_probe(const std::string& name, const json& doc, int hist) {
  std::printf("\n== %s: %s", name.c_str(), doc["status"].get<std::string>().c_str());
  if (doc["reason"].is_string()) std::printf(" (%s)", doc["reason"].get<std::string>().c_str());
  std::printf("\n");
  const json& reps = doc["repetitions"];
  for (size_t r = 0; r < reps.size(); ++r) {
    if (reps.size() > 1) std::printf(" repetition %zu\n", r);
    std::printf("  %-58s %9s %10s %10s %10s\n", "metric", "count", "p50", "p99", "max");
    for (auto& [n, m] : reps[r]["metrics"].items()) print_metric(n, m, hist);
    for (auto& [n, why] : reps[r]["skipped"].items())
      std::printf("  %-58s skipped: %s\n", n.c_str(), why.get<std::string>().c_str());
    const json& extra = reps[r]["extra"];
    if (extra.contains("tables"))
      for (auto& t : extra["tables"]) print_table(t);
    if (extra.contains("matrices"))
      for (auto& m : extra["matrices"]) print_matrix(m);
  }
}

}  // namespace kperflab
