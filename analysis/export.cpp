// SPDX-License-Identifier: GPL-2.0-only
// kperflab export: a bundle as an HdrHistogram log (.hlog), as Google
// Benchmark JSON (each statistic one benchmark entry, so its compare.py
// works), or as CSV (one row per metric, repetition and statistic).
#include <ctime>
#include <sstream>

#include "analysis/export.h"
#include "histogram.h"
#include "hlog.h"

namespace kperflab::exporting {

using nlohmann::json;

namespace {

const char* kStats[] = {"p50", "p90", "p99", "p99_9", "p99_99", "mean", "min", "max"};

double epoch_of(const json& meta) {
  std::tm tm{};
  std::string s = meta.value("started", "");
  if (s.empty() || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return static_cast<double>(timegm(&tm));
}

}  // namespace

std::string hlog(const Bundle& b) {
  std::ostringstream o;
  HlogWriter w(o, epoch_of(b.meta));
  w.comment("kperflab bundle " + b.dir.filename().string() + " kernel " +
            b.meta["kernel"]["release"].get<std::string>() + "; one interval per repetition");
  for (auto& [probe, doc] : b.probes) {
    unsigned r = 0;
    for (auto& rep : doc["repetitions"]) {
      for (auto& [name, m] : rep["metrics"].items()) {
        if (m["kind"] != "histogram") continue;
        w.interval(probe + "/" + name + "/rep=" + std::to_string(r), r, 1.0,
                   Histogram::decode_base64(m["hist"].get<std::string>()));
      }
      ++r;
    }
  }
  return o.str();
}

std::string gbench(const Bundle& b) {
  const json& k = b.meta["kernel"];
  json out = {{"context",
               {{"date", b.meta.value("started", "")},
                {"host_name", b.meta["host"]["hostname"]},
                {"executable", "kperflab"},
                {"num_cpus", b.meta["cpu"].value("online_count", 0)},
                {"kernel_release", k["release"]},
                {"kernel_version", k["version"]},
                {"library_build_type", "release"}}},
              {"benchmarks", json::array()}};
  for (auto& [probe, doc] : b.probes) {
    unsigned r = 0, reps = static_cast<unsigned>(doc["repetitions"].size());
    for (auto& rep : doc["repetitions"]) {
      for (auto& [name, m] : rep["metrics"].items()) {
        if (m["kind"] != "histogram") continue;
        double scale = m["unit"] == "ps" ? 1e-3 : 1.0;  // gbench times are ns
        for (const char* st : kStats) {
          if (!m.contains(st) || !m[st].is_number()) continue;
          std::string n = probe + "/" + name + ":" + st;
          double v = m[st].get<double>() * scale;
          out["benchmarks"].push_back({{"name", n}, {"run_name", n}, {"run_type", "iteration"},
                                       {"repetitions", reps}, {"repetition_index", r},
                                       {"threads", 1}, {"iterations", m["count"]},
                                       {"real_time", v}, {"cpu_time", v}, {"time_unit", "ns"}});
        }
      }
      ++r;
    }
  }
  return out.dump(2) + "\n";
}

std::string csv(const Bundle& b) {
  std::ostringstream o;
  o << "probe,metric,repetition,kind,unit,stat,value\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (auto& [probe, doc] : b.probes) {
    unsigned r = 0;
    for (auto& rep : doc["repetitions"]) {
      for (auto& [name, m] : rep["metrics"].items()) {
        std::string pre = quote(probe) + "," + quote(name) + "," + std::to_string(r) + "," +
                          m["kind"].get<std::string>() + "," + quote(m["unit"]) + ",";
        if (m["kind"] == "scalar") {
          o << pre << "value," << (m["value"].is_null() ? "" : m["value"].dump()) << "\n";
          continue;
        }
        for (const char* st : {"count", "min", "max", "mean", "p50", "p90", "p99", "p99_9",
                               "p99_99", "overflow"})
          if (m.contains(st)) o << pre << st << "," << m[st].dump() << "\n";
      }
      ++r;
    }
  }
  return o.str();
}

}  // namespace kperflab::exporting
