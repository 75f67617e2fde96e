// SPDX-License-Identifier: GPL-2.0-only
// kperflab export: a bundle as an HdrHistogram log (.hlog), as Google
// Benchmark JSON (each statistic one benchmark entry, so its compare.py
// works), as CSV (one row per metric, repetition and statistic), or as the
// LAVA test cases of its headline figures (lab/lava/kperflab-lava.sh).
#include <cstdio>
#include <ctime>
#include <sstream>

#include "analysis/export.h"
#include "results/headline.h"
#include "core/histogram.h"
#include "core/hlog.h"
#include "results/json_access.h"

namespace kperflab::exporting {

using nlohmann::json;

namespace {

const char* kStats[] = {"p50", "p90", "p99", "p99_9", "p99_99", "mean", "min", "max"};

double epoch_of(const JsonView& meta) {
  std::tm tm{};
  std::string s = meta.text("started", "");
  if (s.empty() || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return static_cast<double>(timegm(&tm));
}

// A probe's repetitions, checked access (results/json_access.h).
std::vector<JsonView> repetitions(const Bundle& b, const std::string& probe) {
  return b.probe_view(probe).at("repetitions").elements();
}

}  // namespace

std::string hlog(const Bundle& b) {
  std::ostringstream o;
  JsonView meta = b.meta_view();
  HlogWriter w(o, epoch_of(meta));
  w.comment("kperflab bundle " + printable(b.dir.filename().string()) + " kernel " +
            printable(meta.at("kernel").at("release").str()) + "; one interval per repetition");
  for (auto& [probe, doc] : b.probes) {
    unsigned r = 0;
    for (auto& rep : repetitions(b, probe)) {
      for (auto& [name, m] : rep.at("metrics").members()) {
        if (m.at("kind").str() != "histogram") continue;
        w.interval(probe + "/" + name + "/rep=" + std::to_string(r), r, 1.0,
                   Histogram::decode_base64(m.at("hist").str()));
      }
      ++r;
    }
  }
  return o.str();
}

std::string gbench(const Bundle& b) {
  JsonView meta = b.meta_view(), k = meta.at("kernel"), cpu = meta.at("cpu");
  json out = {{"context",
               {{"date", meta.text("started", "")},
                {"host_name", meta.at("host").at("hostname").str()},
                {"executable", "kperflab"},
                {"num_cpus", cpu.has("online_count") ? cpu.at("online_count").u64() : 0},
                {"kernel_release", k.at("release").str()},
                {"kernel_version", k.at("version").str()},
                {"library_build_type", "release"}}},
              {"benchmarks", json::array()}};
  for (auto& [probe, doc] : b.probes) {
    auto reps = repetitions(b, probe);
    unsigned r = 0;
    for (auto& rep : reps) {
      for (auto& [name, m] : rep.at("metrics").members()) {
        if (m.at("kind").str() != "histogram") continue;
        double scale = m.at("unit").str() == "ps" ? 1e-3 : 1.0;  // gbench times are ns
        for (const char* st : kStats) {
          auto x = m.find(st);
          if (!x || !x->is_number()) continue;
          std::string n = probe + "/" + name + ":" + st;
          double v = x->num() * scale;
          out["benchmarks"].push_back({{"name", n}, {"run_name", n}, {"run_type", "iteration"},
                                       {"repetitions", static_cast<unsigned>(reps.size())},
                                       {"repetition_index", r}, {"threads", 1},
                                       {"iterations", m.at("count").u64()}, {"real_time", v},
                                       {"cpu_time", v}, {"time_unit", "ns"}});
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
    for (auto& rep : repetitions(b, probe)) {
      for (auto& [name, m] : rep.at("metrics").members()) {
        std::string kind = m.at("kind").str();
        std::string pre = quote(probe) + "," + quote(name) + "," + std::to_string(r) + "," +
                          kind + "," + quote(m.at("unit").str()) + ",";
        if (kind == "scalar") {
          JsonView v = m.at("value");
          o << pre << "value," << (v.is_null() ? "" : v.raw().dump()) << "\n";
          continue;
        }
        for (const char* st : {"count", "min", "max", "mean", "p50", "p90", "p99", "p99_9",
                               "p99_99", "overflow"})
          if (auto x = m.find(st)) o << pre << st << "," << x->raw().dump() << "\n";
      }
      ++r;
    }
  }
  return o.str();
}

namespace {

// lava-server keeps a test case name in 100 characters (TestCase.name):
// a longer one keeps its head and its end around a hash of the whole, so
// two long names never collide.
std::string lava_name(const std::string& full) {
  constexpr size_t kMax = 100;
  if (full.size() <= kMax) return full;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : full) h = (h ^ c) * 1099511628211ull;
  char tag[12];
  std::snprintf(tag, sizeof tag, "~%08x~", static_cast<unsigned>(h ^ (h >> 32)));
  size_t keep = kMax - 10, tail = keep / 2;
  return full.substr(0, keep - tail) + tag + full.substr(full.size() - tail);
}

// A unit as LAVA stores it: unchanged ("faults/s", "ns", "%"), because
// lava-test-case passes it through and lava-server keeps it as text. Only
// what would break the signal line <LAVA_SIGNAL_TESTCASE ... UNITS=u ...>
// is replaced: the dispatcher splits its parameters on whitespace and '=',
// and '<' or '>' would end the signal or start another.
std::string lava_units(const std::string& unit) {
  std::string out = printable(unit);
  for (char& c : out)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '=' || c == '<' || c == '>')
      c = '_';
  return out.empty() ? "-" : out;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string lava(const Bundle& b) {
  std::ostringstream o;
  auto line = [&o](const std::string& name, const char* result, const std::string& value,
                   const std::string& unit, const std::string& note) {
    o << lava_name(name) << '\t' << result << '\t' << value << '\t' << unit << '\t'
      << headline::one_line(note) << '\n';
  };
  for (const auto& p : headline::summarize(b)) {
    std::string probe = headline::case_name(p.name);
    if (p.status == "skipped") {
      line(probe, "skip", "-", "-", "skipped: " + (p.reason.empty() ? "no reason given" : p.reason));
      continue;
    }
    std::string note = p.status + ", " + std::to_string(p.figures.size()) + " headline figures";
    if (p.thin) note += ", " + std::to_string(p.thin) + " thin histograms left out";
    for (const auto& v : p.violations) note += "; " + v;
    line(probe, p.passed() ? "pass" : "fail", "-", "-", note);
    for (const auto& f : p.figures)
      line(probe + "." + headline::case_name(f.metric) + (f.stat == "value" ? "" : "." + f.stat),
           "pass", number(f.value),
           lava_units(f.unit), "median of " + std::to_string(f.repetitions) + " repetitions");
  }
  return o.str();
}

}  // namespace kperflab::exporting
