// SPDX-License-Identifier: GPL-2.0-only
// `kperflab show BUNDLE [--probe NAME] [--repetitions] [--full] [--hist]`:
// by default the summary screen (show_summary.h); --repetitions (or --hist)
// the provenance, then every metric of every repetition with its
// count/p50/p99/max; --hist draws each histogram.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>

#include "core/histogram.h"
#include "kperflab/hist.h"
#include "results/bundle.h"
#include "results/json_access.h"
#include "cli/runner.h"
#include "cli/show.h"
#include "cli/show_args.h"
#include "cli/show_summary.h"

namespace kperflab {

namespace {

// Display text of a member (n/a when absent or null), safe for a terminal.
std::string str(const JsonView& j, const char* key) { return printable(j.text(key)); }

// Optional sub-objects read as "n/a" fields when absent.
std::string str(const std::optional<JsonView>& j, const char* key) {
  return j ? str(*j, key) : "n/a";
}

void print_config(const JsonView& k) {
  JsonView config = k.at("config");
  if (!config.is_object()) {
    std::printf("config   n/a (%s)\n", str(k.find("unavailable"), "config").c_str());
    return;
  }
  std::printf("config   sha256=%s (%s)\n", str(config, "sha256").substr(0, 16).c_str(),
              str(config, "source").c_str());
  std::string line;
  for (auto& [o, v] : config.at("options").members()) {
    // "CONFIG_" dropped; a hostile bundle's other names are shown whole.
    std::string name = o.rfind("CONFIG_", 0) == 0 ? o.substr(7) : o;
    std::string item = printable(name) + "=" +
                       (v.is_string() ? printable(v.str()) : v.is_null() ? "n" : v.raw().dump());
    if (line.size() + item.size() > 90) {
      std::printf("         %s\n", line.c_str());
      line.clear();
    }
    line += (line.empty() ? "" : " ") + item;
  }
  if (!line.empty()) std::printf("         %s\n", line.c_str());
}

}  // namespace

// Counts per level; the per-CPU table is in the bundle (--full).
void print_topology_counts(const JsonView& c) {
  auto cpus = c.at("topology").elements();
  std::set<std::string> cores, packages, llcs, nodes;
  size_t online = 0, smt = 1;
  for (auto& t : cpus) {
    online += t.at("online").boolean();
    packages.insert(str(t, "package"));
    llcs.insert(str(t, "llc"));
    nodes.insert(str(t, "node"));
    cores.insert(str(t, "package") + "/" + str(t, "core"));
    smt = std::max(smt, t.at("smt_siblings").size());
  }
  std::printf("topology  %zu CPUs (%zu online): %zu packages, %zu nodes, %zu LLCs, %zu cores, "
              "SMT%zu (--full lists every CPU)\n",
              cpus.size(), online, packages.size(), nodes.size(), llcs.size(), cores.size(),
              smt);
}

namespace {

void print_topology(const JsonView& c, bool full) {
  if (c.at("topology").size() > kShowCpus && !full) {
    print_topology_counts(c);
    return;
  }
  std::printf("topology  cpu online core package llc node smt_siblings\n");
  for (auto& t : c.at("topology").elements()) {
    std::string sib;
    for (auto& s : t.at("smt_siblings").elements())
      sib += (sib.empty() ? "" : ",") + s.raw().dump();
    std::printf("          %3s %6s %4s %7s %3s %4s %s\n", str(t, "cpu").c_str(),
                t.at("online").boolean() ? "yes" : "no", str(t, "core").c_str(),
                str(t, "package").c_str(), str(t, "llc").c_str(), str(t, "node").c_str(),
                sib.c_str());
  }
}

void print_provenance(const JsonView& m, bool full) {
  JsonView k = m.at("kernel"), c = m.at("cpu"), h = m.at("host"), suite = m.at("suite");
  std::printf("bundle   %s  status=%s  suite=%s (%s)\n", str(m, "bundle_id").c_str(),
              str(m, "status").c_str(), str(suite, "version").c_str(),
              str(suite, "git_sha").substr(0, 12).c_str());
  std::printf("host     %s  virtualized=%s  hypervisor=%s  memory=%s\n",
              str(h, "hostname").c_str(), str(h, "virtualized").c_str(),
              str(h, "hypervisor").c_str(), str(h, "memory_bytes").c_str());
  std::printf("kernel   %s  %s\n", str(k, "release").c_str(), str(k, "version").c_str());
  std::printf("cmdline  %s\n", str(k, "cmdline").c_str());
  print_config(k);
  std::printf("cpu      %s  microcode=%s  online=%s (%s)  packages=%s llcs=%s nodes=%s\n",
              str(c, "model_name").c_str(), str(c, "microcode").c_str(), str(c, "online").c_str(),
              str(c, "online_count").c_str(), str(c, "packages").c_str(), str(c, "llcs").c_str(),
              str(c, "numa_nodes").c_str());
  // Bundles older than the idle fields lack them.
  auto idle = c.find_if("idle", J_OBJECT);
  std::printf("         smt=%s governor=%s boost=%s idle=%s/%s clocksource=%s thp=%s\n",
              str(c.at("smt"), "control").c_str(), str(c.at("frequency"), "governor").c_str(),
              str(c.at("frequency"), "boost").c_str(), str(idle, "driver").c_str(),
              str(idle, "governor").c_str(), str(k.at("clocksource"), "current").c_str(),
              str(k.at("thp"), "enabled").c_str());
  print_topology(c, full);
  if (auto vulns = k.find_if("vulnerabilities", J_OBJECT)) {
    int n = 0;
    for (auto& [v, s] : vulns->members())
      if (s.str().rfind("Not affected", 0) != 0) ++n;
    std::printf("mitigations: %d of %zu vulnerability entries not 'Not affected'\n", n,
                vulns->size());
  }
  // Preflight findings, warnings first; what --tune changed; the noise check.
  // Bundles older than these sections lack them and print nothing here.
  print_preflight_all(m);
  print_tuning(m);
  print_meta_counters(m);
  print_noise_check(m);
}

}  // namespace

void print_preflight_all(const JsonView& m) {
  if (auto pf = m.find_if("preflight", J_OBJECT)) {
    auto findings = pf->at("findings").elements();
    std::printf("preflight (%s ms sample): %s\n", str(*pf, "sample_ms").c_str(),
                findings.empty() ? "no findings" : "warnings first");
    for (const char* sev : {"warn", "info"})
      for (auto& f : findings) {
        if (f.at("severity").str() != sev) continue;
        std::string probes;
        for (auto& p : f.at("probes").elements()) probes += (probes.empty() ? "" : ",") + p.str();
        std::printf("  %-4s %-18s %s\n       %s [%s]\n", sev, str(f, "what").c_str(),
                    str(f, "value").c_str(), str(f, "why").c_str(), printable(probes).c_str());
      }
  }
}

void print_tuning(const JsonView& m) {
  if (auto t = m.find_if("tuning", J_OBJECT)) {
    std::printf("tuning (--tune%s):\n", t->has("boost_off") && t->at("boost_off").boolean()
                                            ? " --tune-boost-off" : "");
    for (auto& s : t->at("settings").elements()) {
      std::string st = s.at("status").str();
      std::printf("  %-8s %s", st.c_str(), str(s, "setting").c_str());
      if (st == "tuned" || st == "already")
        std::printf(" %s -> %s", str(s, "from").c_str(), str(s, "to").c_str());
      if (s.has("error")) std::printf(": %s", str(s, "error").c_str());
      if (s.has("restored")) std::printf("; restored: %s", str(s, "restored").c_str());
      std::printf("\n");
    }
  }
}

void print_meta_counters(const JsonView& m) {
  // run --perf-stat / --likwid: what was asked and, without a PMU, why the
  // hardware events are missing; the counts are per repetition (show_probe).
  if (auto c = m.find_if("counters", J_OBJECT)) {
    if (auto ps = c->find_if("perf_stat", J_OBJECT)) {
      std::string evs;
      for (auto& e : ps->at("events").elements()) evs += (evs.empty() ? "" : ",") + e.str();
      std::printf("perf-stat: %s; PMU: %s\n", printable(evs).c_str(),
                  ps->at("pmu").is_string() ? str(*ps, "pmu").c_str()
                                            : ("none: " + str(*ps, "why")).c_str());
    }
    if (auto lk = c->find_if("likwid", J_OBJECT))
      std::printf("likwid: group %s: %s\n", str(*lk, "group").c_str(),
                  lk->has("unavailable") ? ("unavailable: " + str(*lk, "unavailable")).c_str()
                                         : ("measured on CPUs " + str(*lk, "cpus")).c_str());
  }
}

void print_noise_check(const JsonView& m) {
  if (auto n = m.find_if("noise_check", J_OBJECT)) {
    if (!n->at("ran").boolean()) {
      std::printf("noise check: not run (%s)\n", str(*n, "reason").c_str());
      return;
    }
    std::string cpus;
    char buf[64];
    for (auto& c : n->at("cpus").elements()) {
      std::snprintf(buf, sizeof buf, "cpu%s %.1f%%", str(c, "cpu").c_str(), c.at("spread_pct").num());
      cpus += (cpus.empty() ? "" : ", ") + std::string(buf);
    }
    std::printf("noise check: spread (MAD/median) %s; threshold %s%% -> %s\n", cpus.c_str(),
                str(*n, "threshold_pct").c_str(), n->at("noisy").boolean() ? "NOISY" : "quiet");
  }
}

std::string format_ns(double ns) {
  char buf[32];
  if (ns < 100 && ns != static_cast<double>(static_cast<long long>(ns)))
    std::snprintf(buf, sizeof buf, "%.2fns", ns);
  else if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0fns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.2fus", ns / 1e3);
  else if (ns < 1e9) std::snprintf(buf, sizeof buf, "%.2fms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
  return buf;
}

std::string format_value(double v, const std::string& unit) {
  if (unit == "ns") return format_ns(v);
  if (unit == "ps") return format_ns(v / 1000.0);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g %s", v, unit.c_str());
  return buf;
}

// Rows of 1/8 of a power of two (16 counts indexes in the upper half of each
// HDR bucket) or, with full resolution, one row per counts index; empty rows
// skipped, bar length linear in the count as in bpftrace's hist(); the row
// bounds are the histogram's own bucket bounds.
void draw_histogram(const Histogram& h, const std::string& unit, bool full) {
  const auto& counts = h.counts();
  const uint32_t kRow = full ? 1 : 16;
  uint64_t peak = 0;
  std::vector<std::pair<uint32_t, uint64_t>> rows;
  for (uint32_t i = 0; i < counts.size(); i += kRow) {
    uint64_t sum = 0;
    for (uint32_t j = i; j < i + kRow && j < counts.size(); ++j) sum += counts[j];
    if (sum) rows.emplace_back(i, sum);
    peak = std::max(peak, sum);
  }
  for (auto& [i, sum] : rows) {
    uint32_t last = std::min<uint32_t>(i + kRow, static_cast<uint32_t>(counts.size())) - 1;
    int len = static_cast<int>(std::lround(50.0 * sum / peak));
    std::printf("  [%9s, %9s] %10llu |%-50s|\n", format_value(kpl_hist_lowest(i), unit).c_str(),
                format_value(kpl_hist_highest(last), unit).c_str(),
                static_cast<unsigned long long>(sum), std::string(len, '@').c_str());
  }
  if (h.overflow())
    std::printf("  [>= %s] %10llu  overflow (not in the tracked range)\n",
                format_value(h.overflow_floor(), unit).c_str(),
                static_cast<unsigned long long>(h.overflow()));
}

int show_main(const std::vector<std::string>& args) {
  const ShowArgs a = parse_show_args(args);  // CLI11 (show_args.cpp)
  Bundle b = Bundle::load(a.path);
  if (!a.probe.empty() && !b.probes.count(a.probe)) {
    std::string have;
    for (auto& [name, doc] : b.probes) have += (have.empty() ? "" : ", ") + name;
    throw std::invalid_argument("show --probe " + a.probe + ": not in this bundle (it has: " +
                                (have.empty() ? "no probe" : have) + ")");
  }
  // The screen worth reading (#26) unless every repetition was asked for;
  // --full: that screen, then every repetition with matrices whole.
  const bool per_rep = a.repetitions || a.hist;
  if (!per_rep) show_summary(b, a);
  if (!per_rep && !a.full) return 0;
  if (!per_rep) std::printf("\n== every repetition (--full)\n");
  print_provenance(b.meta_view(), a.full);
  const HostInfo host = HostInfo::from_meta(b.meta);
  for (auto& [name, doc] : b.probes) {
    if (!a.probe.empty() && name != a.probe) continue;
    show_probe(name, b.probe_view(name), a.hist, host, a.full);
  }
  return 0;
}

}  // namespace kperflab
