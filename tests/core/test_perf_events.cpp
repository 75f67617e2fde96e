// SPDX-License-Identifier: GPL-2.0-only
// run --perf-stat's event names (host/perf_events.h), the CPU PMU lookup on
// fixture trees, per-repetition counts, and the bits of likwid-perfctr's
// output that run --likwid reads (host/likwid_run.h).
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/counters.h"
#include "host/likwid_run.h"
#include "host/perf_events.h"

namespace fs = std::filesystem;
using kperflab::parse_perf_event;
using kperflab::parse_perf_events;

namespace {

// perf's aliases name the same event as the canonical name.
const std::pair<const char*, const char*> kSameEvent[] = {
    {"cpu-cycles", "cycles"},
    {"branch-instructions", "branches"},
    {"idle-cycles-frontend", "stalled-cycles-frontend"},
    {"idle-cycles-backend", "stalled-cycles-backend"},
    {"cs", "context-switches"},
    {"migrations", "cpu-migrations"},
    {"faults", "page-faults"},
};

std::string rejection(const std::string& name) {
  try {
    parse_perf_events(name);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

fs::path fixture(std::initializer_list<const char*> devices) {
  fs::path d = fs::path(testing::TempDir()) / ("pmu-" + std::to_string(std::rand()));
  fs::create_directories(d / "software");
  for (const char* n : devices) fs::create_directories(d / n);
  return d;
}

}  // namespace

TEST(PerfEvents, GenericNamesAndTheirAliases) {
  // What a name is, from include/uapi/linux/perf_event.h.
  struct Want {
    const char* name;
    uint32_t type;
    uint64_t config;
  };
  for (const Want& w : {Want{"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
                        Want{"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
                        Want{"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
                        Want{"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
                        Want{"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
                        Want{"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
                        Want{"emulation-faults", PERF_TYPE_SOFTWARE,
                             PERF_COUNT_SW_EMULATION_FAULTS}}) {
    auto e = parse_perf_event(w.name);
    EXPECT_EQ(e.name, w.name);
    EXPECT_EQ(e.type, w.type) << w.name;
    EXPECT_EQ(e.config, w.config) << w.name;
    EXPECT_EQ(e.needs_pmu(), w.type == PERF_TYPE_HARDWARE) << w.name;
  }
  for (auto [alias, name] : kSameEvent) {
    auto a = parse_perf_event(alias), n = parse_perf_event(name);
    EXPECT_EQ(a.name, alias);
    EXPECT_EQ(a.type, n.type) << alias;
    EXPECT_EQ(a.config, n.config) << alias;
  }
}

TEST(PerfEvents, HwCacheNames) {
  auto e = parse_perf_event("L1-dcache-load-misses");
  EXPECT_EQ(e.type, PERF_TYPE_HW_CACHE);
  EXPECT_EQ(e.config, PERF_COUNT_HW_CACHE_L1D | PERF_COUNT_HW_CACHE_OP_READ << 8 |
                          PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
  e = parse_perf_event("LLC-stores");
  EXPECT_EQ(e.config, PERF_COUNT_HW_CACHE_LL | PERF_COUNT_HW_CACHE_OP_WRITE << 8 |
                          PERF_COUNT_HW_CACHE_RESULT_ACCESS << 16);
  e = parse_perf_event("dTLB-prefetch-misses");
  EXPECT_EQ(e.config, PERF_COUNT_HW_CACHE_DTLB | PERF_COUNT_HW_CACHE_OP_PREFETCH << 8 |
                          PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
  EXPECT_EQ(parse_perf_event("node-loads").config, uint64_t{PERF_COUNT_HW_CACHE_NODE});
  EXPECT_TRUE(parse_perf_event("iTLB-load-misses").needs_pmu());
  for (const char* bad : {"L1-dcache", "L1-dcache-", "L1-dcache-load", "L2-loads", "LLC-misses"})
    EXPECT_NE(rejection(bad), "") << bad;
}

TEST(PerfEvents, RawHex) {
  auto e = parse_perf_event("r1a8");
  EXPECT_EQ(e.type, PERF_TYPE_RAW);
  EXPECT_EQ(e.config, 0x1a8u);
  EXPECT_EQ(parse_perf_event("rC0").config, 0xc0u);
  EXPECT_EQ(parse_perf_event("rffffffffffffffff").config, ~uint64_t{0});
  for (const char* bad : {"r", "rxyz", "r12g", "r10000000000000000", "R1a8", "r-1", "r0x1a8"})
    EXPECT_NE(rejection(bad), "") << bad;
}

TEST(PerfEvents, RejectsJunkNamingItAndListingWhatIsAccepted) {
  std::string m = rejection("bogus");
  EXPECT_NE(m.find("unknown event 'bogus'"), std::string::npos) << m;
  EXPECT_NE(m.find("task-clock"), std::string::npos) << m;
  EXPECT_NE(m.find("rNNNN"), std::string::npos) << m;
  EXPECT_NE(rejection("cycles:u").find("modifiers"), std::string::npos);
  EXPECT_NE(rejection("cpu/config=0x3c/").find("pmu/config"), std::string::npos);
  for (const char* bad : {"", ",", "cycles,", ",cycles", "cycles,,cs", "CYCLES", " cycles",
                          "cycles ", "task clock", "cycles\n"})
    EXPECT_NE(rejection(bad), "") << "'" << bad << "'";
  EXPECT_NE(rejection("").find("empty event name"), std::string::npos);
  // An overlong name is refused and not echoed whole.
  std::string longname(5000, 'x');
  m = rejection(longname);
  EXPECT_NE(m.find("unknown event 'xxxx"), std::string::npos);
  EXPECT_LT(m.size(), 1500u);
  EXPECT_NE(rejection("cs,cycles,cs").find("'cs' is listed twice"), std::string::npos);
  std::string many = "r1";
  for (size_t i = 2; i <= kperflab::kMaxPerfEvents + 1; ++i) many += ",r" + std::to_string(i);
  EXPECT_NE(rejection(many).find("more than 32"), std::string::npos);
}

TEST(PerfEvents, ListKeepsOrderAndNames) {
  auto v = parse_perf_events("task-clock,cs,cycles,r3c");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].name, "task-clock");
  EXPECT_EQ(v[1].name, "cs");
  EXPECT_EQ(v[2].type, PERF_TYPE_HARDWARE);
  EXPECT_EQ(v[3].config, 0x3cu);
}

TEST(PerfEvents, CpuPmuFromSysfs) {
  EXPECT_FALSE(kperflab::cpu_pmu(fixture({"tracepoint", "breakpoint", "msr"})));
  EXPECT_EQ(kperflab::cpu_pmu(fixture({"cpu", "msr"})), "cpu");
  EXPECT_EQ(kperflab::cpu_pmu(fixture({"cpu_atom", "cpu_core"})), "cpu_core");
  EXPECT_EQ(kperflab::cpu_pmu(fixture({"armv8_pmuv3_1", "armv8_pmuv3_0"})), "armv8_pmuv3_0");
  EXPECT_FALSE(kperflab::cpu_pmu("/nonexistent/devices"));
  EXPECT_NE(kperflab::no_pmu_reason().find("no CPU PMU"), std::string::npos);
}

// task-clock counts on every kernel with perf_event; cycles either counts
// or says why not, naming the event, and naming the PMU's absence where
// there is none.
TEST(PerfEvents, CountedPerRepetitionOrSaidWhyNot) {
  kperflab::Counters c(parse_perf_events("task-clock,cs,cycles"));
  c.start("test");
  volatile double x = 0;
  for (int i = 0; i < 5000000; ++i) x = x + i;
  auto r = c.stop();
  ASSERT_TRUE(r.contains("perf_stat")) << r;
  auto tc = r["perf_stat"]["task-clock"];
  if (tc.contains("unavailable")) GTEST_SKIP() << "no perf_event here: " << tc.dump();
  EXPECT_GT(tc["value"].get<double>(), 1e6) << tc;  // > 1 ms of work
  EXPECT_GT(tc["enabled_ns"].get<double>(), 0) << tc;
  EXPECT_EQ(tc["running_ns"], tc["enabled_ns"]) << tc;  // software events never multiplex
  EXPECT_EQ(tc["scaled"], false);
  auto cy = r["perf_stat"]["cycles"];
  if (kperflab::cpu_pmu()) {
    if (cy.contains("unavailable"))  // a PMU that refuses (e.g. perf_event_paranoid)
      EXPECT_EQ(cy["unavailable"].get<std::string>().rfind("perf_event_open(cycles): ", 0), 0u);
    else
      EXPECT_GT(cy["value"].get<double>(), 1e6) << cy;
  } else {
    ASSERT_TRUE(cy.contains("unavailable")) << cy;
    std::string why = cy["unavailable"];
    EXPECT_EQ(why.rfind("perf_event_open(cycles): E", 0), 0u) << why;
    EXPECT_NE(why.find("no CPU PMU"), std::string::npos) << why;
  }
}

// Counts of threads that exited in an earlier region must not come back in
// the next one (PERF_EVENT_IOC_RESET leaves them in the parent's child_count).
TEST(PerfEvents, ExitedThreadsDoNotCarryIntoTheNextRegion) {
  constexpr size_t kPages = 4096;
  kperflab::Counters c(parse_perf_events("page-faults"));
  c.start("one");
  std::thread([] {
    size_t len = kPages * 4096;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    madvise(p, len, MADV_NOHUGEPAGE);  // one fault per page
    for (size_t i = 0; i < len; i += 4096) static_cast<volatile char*>(p)[i] = 1;
    munmap(p, len);
  }).join();
  auto one = c.stop()["perf_stat"]["page-faults"];
  if (one.contains("unavailable")) GTEST_SKIP() << one.dump();
  EXPECT_GE(one["value"].get<double>(), kPages) << one;
  c.start("two");
  auto two = c.stop()["perf_stat"]["page-faults"];
  EXPECT_LT(two["value"].get<double>(), kPages / 2) << two;
}

// What likwid-perfctr 5.2.2 prints here (a VM, "Oxide Virtual Turin-like").
TEST(Likwid, ErrorsAndGroupsFromItsOutput) {
  const std::string check =
      "--------------------------------------------------------------------------------\n"
      "CPU name:\tOxide Virtual Turin-like Processor\n"
      "ERROR - [./src/perfmon.c:perfmon_init_maps:1427] Unsupported Processor\n"
      "ERROR - [./src/perfmon.c:perfmon_init_funcs:1845] Unsupported Processor\n"
      "ERROR - [./src/access_client.c:210] No such file or directory\n"
      "Exiting due to timeout: The socket file at '/tmp/likwid-10651' could not be\n";
  EXPECT_EQ(kperflab::likwid_errors(check), "Unsupported Processor; No such file or directory");
  EXPECT_TRUE(kperflab::parse_likwid_groups("No groups defined for nil\n").empty());
  const std::string listing =
      "Group name\tDescription\n"
      "--------------------------------------------------------------------------------\n"
      "    BRANCH\tBranch prediction miss rate/ratio\n"
      "     CLOCK\tPower and Energy consumption\n"
      "  FLOPS_DP\tDouble Precision MFLOP/s\n";
  EXPECT_EQ(kperflab::parse_likwid_groups(listing),
            (std::vector<std::string>{"BRANCH", "CLOCK", "FLOPS_DP"}));
  EXPECT_EQ(kperflab::check_likwid_group("FLOPS_DP"), "");
  for (const char* bad : {"", "a b", "../x", "G;rm", "X:PMC0"})
    EXPECT_NE(kperflab::check_likwid_group(bad), "") << bad;
}
