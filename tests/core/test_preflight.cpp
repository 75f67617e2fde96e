// SPDX-License-Identifier: GPL-2.0-only
// Preflight (host/preflight.h) on fixture sysfs/procfs trees: a noisy
// bare-metal x86 host, an empty tree (a container: everything unknown,
// nothing fails), PM QoS limits, and the busiest-process arithmetic.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "host/preflight.h"
#include "results/bundle.h"
#include "cli/runner.h"
#include "host/sysinfo.h"

namespace kperflab {
namespace {

namespace fs = std::filesystem;

class PreflightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kperflab-preflight-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& rel, const std::string& text) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  void put_qos(int32_t us) const {
    fs::create_directories(root_ / "dev");
    std::ofstream(root_ / "dev/cpu_dma_latency", std::ios::binary)
        .write(reinterpret_cast<const char*>(&us), sizeof us);
  }
  void idle_states(int cpu, bool c6_enabled) const {
    std::string d = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpuidle/";
    const char* names[] = {"POLL", "C1", "C6"};
    const int lat[] = {0, 2, 133};
    for (int s = 0; s < 3; ++s) {
      std::string st = d + "state" + std::to_string(s) + "/";
      put(st + "name", std::string(names[s]) + "\n");
      put(st + "latency", std::to_string(lat[s]) + "\n");
      put(st + "disable", s == 2 && !c6_enabled ? "1\n" : "0\n");
    }
  }
  // A 4-CPU, 2-node bare-metal x86 host in the noisiest state preflight knows.
  void noisy_host() const {
    const std::string cpu = "sys/devices/system/cpu/";
    put(cpu + "online", "0-3\n");
    put(cpu + "cpufreq/policy0/scaling_governor", "powersave\n");
    put(cpu + "cpufreq/policy0/scaling_driver", "intel_pstate\n");
    put(cpu + "cpufreq/policy1/scaling_governor", "performance\n");
    put(cpu + "cpufreq/policy1/scaling_driver", "intel_pstate\n");
    put(cpu + "intel_pstate/no_turbo", "0\n");
    put(cpu + "cpuidle/current_driver", "intel_idle\n");
    put(cpu + "cpuidle/current_governor", "menu\n");
    for (int c = 0; c < 4; ++c) idle_states(c, c == 0);
    put(cpu + "smt/active", "1\n");
    put(cpu + "smt/control", "on\n");
    put(cpu + "isolated", "2-3\n");
    put(cpu + "nohz_full", "2-3\n");
    put(cpu + "cpu0/thermal_throttle/core_throttle_count", "5\n");
    put(cpu + "cpu0/thermal_throttle/package_throttle_count", "0\n");
    put("sys/devices/system/node/online", "0-1\n");
    put("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
    put("proc/sys/kernel/nmi_watchdog", "1\n");
    put("proc/sys/kernel/randomize_va_space", "2\n");
    put("proc/sys/kernel/numa_balancing", "1\n");
    put("proc/cmdline", "BOOT_IMAGE=/vmlinuz quiet isolcpus=2-3 nohz_full=2-3\n");
    put("proc/loadavg", "3.00 2.00 1.00 2/300 4242\n");
    put("proc/812/comm", "irqbalance\n");
  }
  std::map<std::string, Finding> run(const nlohmann::json& prov) const {
    Preflight p = run_preflight({root_, std::chrono::milliseconds(0), 1, 5}, prov);
    std::map<std::string, Finding> m;
    for (auto& f : p.findings) m[f.what] = f;
    last_ = p;
    return m;
  }

  fs::path root_;
  mutable Preflight last_;
};

TEST_F(PreflightTest, NoisyBareMetalHost) {
  noisy_host();
  auto f = run({{"host", {{"virtualized", false}, {"hypervisor", nullptr}}}});
  EXPECT_EQ(f["cpufreq_governor"].value, "performance x1, powersave x1");
  EXPECT_EQ(f["cpufreq_governor"].severity, "warn");
  EXPECT_EQ(f["scaling_driver"].value, "intel_pstate x2");
  EXPECT_EQ(f["boost"].severity, "warn");
  EXPECT_EQ(f["deepest_cstate"].severity, "warn");
  EXPECT_NE(f["deepest_cstate"].value.find("C6 (exit latency 133 us"), std::string::npos);
  EXPECT_NE(f["deepest_cstate"].why.find("IPI wake-up"), std::string::npos);
  EXPECT_EQ(f["deepest_cstate"].probes, (std::vector<std::string>{"ipi", "membarrier"}));
  EXPECT_EQ(f["irqbalance"].value, "running");
  EXPECT_EQ(f["nmi_watchdog"].value, "on");
  EXPECT_EQ(f["nmi_watchdog"].severity, "warn");
  EXPECT_NE(f["nmi_watchdog"].why.find("perf counter"), std::string::npos);
  EXPECT_EQ(f["thp"].value, "always");
  EXPECT_EQ(f["thp"].severity, "warn");
  EXPECT_EQ(f["numa_balancing"].severity, "warn");
  EXPECT_EQ(f["aslr"].severity, "info");
  EXPECT_EQ(f["smt"].value, "active (control on)");
  EXPECT_NE(f["isolation"].value.find("isolcpus=2-3 nohz_full=2-3"), std::string::npos);
  EXPECT_NE(f["isolation"].value.find("isolated=2-3"), std::string::npos);
  EXPECT_EQ(f["load"].severity, "warn");  // 3.0 > max(0.5, 0.05 x 4)
  EXPECT_EQ(f["thermal_throttle"].severity, "warn");
  EXPECT_EQ(f["virtualization"].value, "bare metal");
  EXPECT_EQ(f["virtualization"].severity, "info");
  // Warnings first.
  bool seen_info = false;
  for (auto& x : last_.findings) {
    if (x.severity == "info") seen_info = true;
    EXPECT_FALSE(seen_info && x.severity == "warn") << x.what << " after an info";
  }
  EXPECT_EQ(last_.online_cpus, 4u);
  EXPECT_EQ(last_.to_json()["warnings"], 9);
}

TEST_F(PreflightTest, QuietHostHasNoWarnings) {
  noisy_host();
  const std::string cpu = "sys/devices/system/cpu/";
  put(cpu + "cpufreq/policy0/scaling_governor", "performance\n");
  put(cpu + "intel_pstate/no_turbo", "1\n");
  for (int c = 0; c < 4; ++c) idle_states(c, false);  // C1 (2 us) is the deepest
  put(cpu + "cpu0/thermal_throttle/core_throttle_count", "0\n");
  fs::remove_all(root_ / "proc/812");
  put("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  put("proc/sys/kernel/nmi_watchdog", "0\n");
  put("proc/sys/kernel/numa_balancing", "0\n");
  put("proc/loadavg", "0.10 0.05 0.01 1/300 4242\n");
  auto f = run({{"host", {{"virtualized", false}}}});
  for (auto& [k, x] : f) EXPECT_EQ(x.severity, "info") << k << " = " << x.value;
  EXPECT_EQ(f["thp"].value, "madvise");
  EXPECT_EQ(f["deepest_cstate"].value, "C1 (exit latency 2 us)");
}

// A container or arm64 board without these files: every finding says
// unknown, and nothing throws.
TEST_F(PreflightTest, EmptyTreeIsUnknownNotAnError) {
  auto f = run(nlohmann::json::object());
  for (const char* k : {"cpufreq_governor", "scaling_driver", "boost", "idle_driver",
                        "deepest_cstate", "smt", "nmi_watchdog", "aslr", "thp", "numa_balancing",
                        "load", "thermal_throttle", "virtualization"}) {
    ASSERT_TRUE(f.count(k)) << k;
    EXPECT_TRUE(f[k].value.starts_with("unknown (")) << k << " = " << f[k].value;
    EXPECT_EQ(f[k].severity, "info") << k;
    EXPECT_FALSE(f[k].why.empty()) << k;
  }
  EXPECT_EQ(f["irqbalance"].value, "not running");
  EXPECT_FALSE(last_.load1.has_value());
}

TEST_F(PreflightTest, PmQosLimitsTheDeepestState) {
  noisy_host();
  put_qos(50);  // C6 (133 us) is out, C1 (2 us) allowed
  auto st = deepest_idle_state(root_, {0, 1, 2, 3});
  ASSERT_TRUE(st);
  EXPECT_EQ(st->name, "C1");
  EXPECT_EQ(st->qos_limit_us, 50);
  put_qos(2000000000);  // "no limit"
  EXPECT_EQ(deepest_idle_state(root_, {0})->name, "C6");
  // A per-CPU resume latency of "n/a" allows no idle state but polling.
  put("sys/devices/system/cpu/cpu0/power/pm_qos_resume_latency_us", "n/a\n");
  EXPECT_EQ(deepest_idle_state(root_, {0})->name, "POLL");
  put("sys/devices/system/cpu/cpu0/power/pm_qos_resume_latency_us", "0\n");  // no constraint
  EXPECT_EQ(deepest_idle_state(root_, {0})->name, "C6");
  EXPECT_FALSE(deepest_idle_state(root_ / "nothing", {0}));
}

// A FIFO where the device should be (#27: nothing a file can do): read as
// no limit at once, never a blocked open or read.
TEST_F(PreflightTest, PmQosFifoIsNoLimitAndNoHang) {
  noisy_host();
  fs::create_directories(root_ / "dev");
  ASSERT_EQ(mkfifo((root_ / "dev/cpu_dma_latency").c_str(), 0600), 0);
  auto st = deepest_idle_state(root_, {0});
  ASSERT_TRUE(st);
  EXPECT_EQ(st->name, "C6");
  EXPECT_FALSE(st->qos_limit_us);
}

TEST_F(PreflightTest, ProcStatAndBusiest) {
  // comm with spaces and a ')' inside; utime 14th, stime 15th field.
  put("proc/42/stat", "42 (a b) c) S 1 42 42 0 -1 4194304 10 0 0 0 30 12 0 0 20 0 1 0 5 0 0\n");
  put("proc/7/stat", "7 (idle) S 1 7 7 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0\n");
  put("proc/self-not-a-pid/stat", "x\n");
  auto m = read_proc_cpu(root_);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[42].comm, "a b) c");
  EXPECT_EQ(m[42].ticks, 42u);
  std::map<pid_t, ProcCpu> before = {{1, {"self", 0}}, {2, {"busy", 100}}, {3, {"idle", 5}},
                                     {4, {"half", 0}}};
  std::map<pid_t, ProcCpu> after = {{1, {"self", 50}}, {2, {"busy", 120}}, {3, {"idle", 5}},
                                    {4, {"half", 10}}, {5, {"new", 99}}};
  auto b = busiest_between(before, after, 0.2, 100, /*self=*/1, 5);
  ASSERT_EQ(b.size(), 2u);  // self, the idle one and the one without a start left out
  EXPECT_EQ(b[0].comm, "busy");
  EXPECT_DOUBLE_EQ(b[0].cpu_pct, 100.0);  // 20 ticks of 10 ms in 0.2 s
  EXPECT_EQ(b[1].comm, "half");
  EXPECT_DOUBLE_EQ(b[1].cpu_pct, 50.0);
  EXPECT_EQ(busiest_between(before, after, 0.2, 100, 1, 1).size(), 1u);
}

TEST(Preflight, BracketedChoice) {
  EXPECT_EQ(bracketed_choice("always [madvise] never"), "madvise");
  EXPECT_EQ(bracketed_choice("[always] madvise never"), "always");
  EXPECT_EQ(bracketed_choice("plain"), "plain");
}

// This host, end to end: the section goes into a meta.json that validates,
// and a broken finding is refused by name.
TEST(Preflight, ThisHostValidatesInMeta) {
  HostInfo host = collect_host_info();
  Preflight p = run_preflight({"/", std::chrono::milliseconds(50)}, host.provenance());
  EXPECT_GE(p.findings.size(), 15u);
  // As a reader sees it: through text (unsigned numbers parse as such).
  nlohmann::json meta = nlohmann::json::parse(make_meta(host, RunOptions{}).dump());
  validate_meta(meta, "meta.json");  // without preflight: older bundles
  meta["preflight"] = nlohmann::json::parse(p.to_json().dump());
  validate_meta(meta, "meta.json");
  meta["preflight"]["findings"][0]["severity"] = "fatal";
  try {
    validate_meta(meta, "meta.json");
    FAIL() << "a bad severity was accepted";
  } catch (const BundleError& e) {
    EXPECT_NE(std::string(e.what()).find("preflight.findings[0].severity"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kperflab
