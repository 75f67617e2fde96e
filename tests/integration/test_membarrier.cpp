// SPDX-License-Identifier: GPL-2.0-only
// The membarrier probe on the host kernel (issues: membarrier probe; #11,
// the delivery BPF side).
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <thread>

#include "probe_fixture.h"

using nlohmann::json;

namespace {

class MembarrierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kperflab::testing::require_root_bpf();
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
      std::printf("SKIP: needs 2 online CPUs for an IPI target\n");
      std::exit(77);
    }
    dir_ = kperflab::testing::run_probe_bundle(
        "membarrier", "--profile quick --repeat 2 --set membarrier.iterations=3000 "
                      "--set membarrier.delivery_iterations=400 --set membarrier.global_calls=10");
    bundle_ = new kperflab::Bundle(kperflab::Bundle::load(dir_));
  }
  static void TearDownTestSuite() { delete bundle_; }

  static const json& doc() { return bundle_->probes.at("membarrier"); }
  static const json& metric(unsigned rep, const std::string& name) {
    const json& m = doc()["repetitions"][rep]["metrics"];
    EXPECT_TRUE(m.contains(name)) << "missing metric " << name;
    static const json none = json::object();
    return m.contains(name) ? m[name] : none;
  }
  static double p50(unsigned rep, const std::string& name) {
    return metric(rep, name).value("p50", 0.0);
  }
  // The spinning target's share of the timed calls on its CPU. Only where it
  // was (nearly) always rq->curr did (nearly) every call send it an IPI; on a
  // loaded 2-vCPU VM it was preempted often enough that targets=1/spin p50
  // equalled targets=1/sleep (1143 v 1143 ns, CI). The probe reports that
  // (targets_on_cpu_fraction and a note) and the latency relations are
  // checked only where they hold by construction. The share is of each
  // window's time (timed calls, traced calls) and must be near 1: a
  // no-IPI call is ~18x shorter here, so 10 % off-CPU time is 2/3 of the
  // calls without an IPI (CI: spin p50 = sleep p50 = 1087 ns at >= 0.9 of
  // one window over both; the floor is now 0.98, see report.h).
  static bool spinner_kept_its_cpu(unsigned rep,
                                   const std::string& point = "private_expedited/targets=1/spin") {
    const json& m = metric(rep, point + "/targets_on_cpu_fraction");
    EXPECT_TRUE(m.contains("value"));
    // 0 is a real figure: a timed window of 3000 no-IPI calls is ~3 ms, one
    // slice of a competing nice -20 loop (seen under such a loop).
    double f = m.value("value", -1.0);
    EXPECT_GE(f, 0.0);
    EXPECT_LE(f, 1.02);
    if (f >= doc()["parameters"]["targets_on_cpu_floor"].get<double>()) return true;
    std::printf("repetition %u, %s: the spinning target was on its CPU for %.1f %% of the "
                "point; what needs it there is not checked\n", rep, point.c_str(), 100 * f);
    return false;
  }
  static bool delivery_traced() {
    return doc()["parameters"]["delivery"].contains("handlers");
  }

  static std::string dir_;
  static kperflab::Bundle* bundle_;
};

std::string MembarrierTest::dir_;
kperflab::Bundle* MembarrierTest::bundle_ = nullptr;

TEST_F(MembarrierTest, BundleCompleteWithGbenchContext) {
  EXPECT_EQ(bundle_->meta["status"], "complete");
  EXPECT_EQ(doc()["status"], "complete");
  ASSERT_EQ(doc()["repetitions"].size(), 2u);
  std::ifstream g(dir_ + "/gbench.json");
  ASSERT_TRUE(g) << "gbench.json missing";
  json gb = json::parse(g);
  EXPECT_TRUE(gb["context"].contains("kernel_release"));
  EXPECT_GT(gb["benchmarks"].size(), 10u);
}

TEST_F(MembarrierTest, EveryHistogramHoldsTheIterationsRun) {
  const unsigned iters = doc()["parameters"]["iterations"];
  for (auto& rep : doc()["repetitions"])
    for (auto& [name, m] : rep["metrics"].items()) {
      if (m["kind"] != "histogram" || name.find("/latency") == std::string::npos) continue;
      uint64_t want = iters;
      if (name.rfind("global/", 0) == 0) want = doc()["parameters"]["global_calls"];
      if (name.rfind("register_", 0) == 0) want = doc()["parameters"]["register_samples"];
      if (name.find("/callers=") != std::string::npos) {
        // Concurrent callers end at the quick profile's cap (core/point_cap.h):
        // every call planned is stored or counted as cut.
        const uint64_t callers = m["labels"]["callers"].get<uint64_t>();
        want = iters * callers;
        const std::string cut = name.substr(0, name.rfind("/latency")) + "/check/samples_cut";
        if (callers > 1) {  // one caller has no cap
          ASSERT_TRUE(rep["metrics"].contains(cut)) << cut;
          want -= rep["metrics"][cut]["value"].get<uint64_t>();
        } else {
          EXPECT_FALSE(rep["metrics"].contains(cut)) << cut;
        }
      }
      EXPECT_EQ(m["count"].get<uint64_t>(), want) << name;
    }
}

// #26 (core/point_cap.h): at sweep_cap 1e-9 the cap of the 2-caller point
// (1e-9 x at least 30 ms: under 1 ns) has passed by any caller's second
// call, however slow the machine; each caller makes its one call and skips
// the rest, which are counted, never stored. (At 0.0001 the cap followed
// the slowest single-caller point: on a loaded machine it grew past one
// call and a caller took two samples.)
TEST(MembarrierCap, ConcurrentCallersEndAtTheirCapWithTheCutCounted) {
  kperflab::testing::require_root_bpf();
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 online CPUs for 2 callers";
  std::string dir = kperflab::testing::run_probe_bundle(
      "membarrier",
      "--profile quick --repeat 1 --set membarrier.iterations=2000 "
      "--set membarrier.delivery_iterations=10 --set membarrier.global_calls=2 "
      "--set 'membarrier.register_threads=[]' --set membarrier.placement=false "
      "--set 'membarrier.states=[\"sleep\"]' --set membarrier.sweep_counts=3 "
      "--set 'membarrier.sweep_commands=[\"private_expedited\"]' --set membarrier.max_targets=1 "
      "--set membarrier.overhead_rounds=1 --set membarrier.overhead_calls=1000 "
      "--set membarrier.bystander_rounds=0 --set membarrier.order_points=false "
      "--set 'membarrier.litmus=[]' --set membarrier.sweep_cap=1e-9");
  kperflab::Bundle b = kperflab::Bundle::load(dir);
  const json& m = b.probes.at("membarrier")["repetitions"][0]["metrics"];
  ASSERT_TRUE(m.contains("private_expedited/callers=2/latency")) << m.dump().substr(0, 600);
  EXPECT_EQ(m["private_expedited/callers=2/latency"]["count"].get<uint64_t>(), 2u);
  ASSERT_TRUE(m.contains("private_expedited/callers=2/check/samples_cut"));
  EXPECT_EQ(m["private_expedited/callers=2/check/samples_cut"]["value"].get<uint64_t>(), 3998u);
  // Single-caller points have no cap.
  EXPECT_FALSE(m.contains("private_expedited/targets=1/sleep/check/samples_cut"));
  EXPECT_EQ(m["private_expedited/targets=1/sleep/latency"]["count"].get<uint64_t>(), 2000u);
}

TEST_F(MembarrierTest, SpinningTargetsReportTheirShareOfTheCpu) {
  for (unsigned r = 0; r < 2; ++r) {
    const json& m = doc()["repetitions"][r]["metrics"];
    unsigned spin_points = 0;
    for (auto& [name, v] : m.items()) {
      auto at = name.find("/targets=");
      if (at == std::string::npos || name.find("/latency") == std::string::npos) continue;
      std::string point = name.substr(0, name.rfind("/latency"));
      bool spins = point.find("/spin", at) != std::string::npos;
      bool idle = point.find("/sleep", at) != std::string::npos || point.find("/none", at) != std::string::npos;
      if (!spins && !idle) continue;  // half: both
      EXPECT_EQ(m.contains(point + "/targets_on_cpu_fraction"), spins) << point;
      spin_points += spins;
    }
    EXPECT_GT(spin_points, 0u);
  }
}

TEST_F(MembarrierTest, ZeroTargetsFasterThanOneSpinningTarget) {
  for (unsigned r = 0; r < 2; ++r) {
    if (spinner_kept_its_cpu(r)) {
      EXPECT_LT(p50(r, "private_expedited/targets=0/none/latency"),
                p50(r, "private_expedited/targets=1/spin/latency"));
    }
  }
}

TEST_F(MembarrierTest, SleepingTargetGetsNoIpi) {
  for (unsigned r = 0; r < 2; ++r) {
    if (spinner_kept_its_cpu(r)) {
      EXPECT_LT(p50(r, "private_expedited/targets=1/sleep/latency"),
                p50(r, "private_expedited/targets=1/spin/latency"));
    }
  }
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  EXPECT_EQ(metric(0, "private_expedited/targets=1/sleep/ipis_per_call")["value"], 0.0);
}

TEST_F(MembarrierTest, GlobalSlowerThanGlobalExpedited) {
  const auto& skipped = doc()["repetitions"][0]["skipped"];
  if (skipped.contains("global/latency") || skipped.contains("global"))
    GTEST_SKIP() << "GLOBAL refused here: " << skipped.dump();
  // GLOBAL is synchronize_rcu(): a normal grace period (milliseconds) only
  // while RCU is not expedited. With /sys/kernel/rcu_expedited = 1 (this
  // CI machine) it is an expedited one that sends our spinner no IPI and was
  // seen at 4.4 us p50 against 49 us for GLOBAL_EXPEDITED: no relation holds.
  const json& kernel = bundle_->meta["kernel"];
  const json rcu = kernel.contains("rcu") ? kernel["rcu"] : json::object();
  if (rcu.value("expedited", "0") != "0" || rcu.value("normal", "0") != "0")
    GTEST_SKIP() << "RCU grace periods are not normal here (" << rcu.dump()
                 << "): GLOBAL is not slower than GLOBAL_EXPEDITED by construction";
  for (unsigned r = 0; r < 2; ++r)
    EXPECT_GT(p50(r, "global/latency"), p50(r, "global_expedited/targets=1/spin/latency"));
}

TEST_F(MembarrierTest, FlagCpuAtAnotherMmSendsNoIpi) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  for (unsigned r = 0; r < 2; ++r) {
    EXPECT_EQ(metric(r, "private_expedited_rseq/flag_cpu/other_mm/ipis_per_call")["value"], 0.0);
    // The same call aimed at our own spinner does send one, except when the
    // spinner was preempted at that instant (a few % on a busy 2-vCPU VM).
    if (spinner_kept_its_cpu(r, "private_expedited_rseq/flag_cpu/own_mm")) {
      EXPECT_GT(metric(r, "private_expedited_rseq/flag_cpu/own_mm/ipis_per_call")["value"]
                    .get<double>(), 0.5);
    }
  }
}

TEST_F(MembarrierTest, DeliveryRecordedForEveryExpectedIpi) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  const auto& d = metric(0, "private_expedited/targets=1/spin/delivery");
  const unsigned calls = doc()["parameters"]["delivery_iterations"];
  // Never more deliveries than calls: foreign callbacks are not ours. A call
  // sends no IPI when the spinner is not rq->curr at that instant: 343 and
  // 346 of 400 were seen on the 2-vCPU CI machine, quiet and loaded alike, so
  // the floor only says deliveries are recorded at all. The exact check
  // (deliveries + negatives == IPIs we queued) needs a send counter.
  EXPECT_LE(d["count"].get<unsigned>(), calls);
  if (spinner_kept_its_cpu(0)) {
    EXPECT_GE(d["count"].get<unsigned>(), calls / 2);
  }
  EXPECT_EQ(metric(0, "private_expedited/targets=1/spin/unexpected_ipi_fraction")["value"], 0.0);
  // Delivery (send -> handler) happens inside the sender's wait, so a call
  // that sent an IPI lasts longer than its delivery. The latency point is
  // another loop, and its p50 counts the calls that sent no IPI (the spinner
  // not rq->curr): on a loaded 2-vCPU machine that p50 fell below the
  // delivery's (3791 vs 4095 ns). Only its tail is made of IPI calls alone.
  EXPECT_LT(d["p50"].get<double>(),
            metric(0, "private_expedited/targets=1/spin/latency")["p99"].get<double>());
}

// Issue #14: both registration orders of GLOBAL_EXPEDITED and the litmus
// metrics, named for compare (scalars; raw counts so that a zero base is
// visible; labels.better = "lower").
TEST_F(MembarrierTest, RegistrationOrdersAndLitmusInBundle) {
  for (unsigned r = 0; r < 2; ++r) {
    const json& m = doc()["repetitions"][r]["metrics"];
    const json& sk = doc()["repetitions"][r]["skipped"];
    for (const char* order : {"before_threads", "after_threads"}) {
      std::string p = std::string("global_expedited/registered=") + order + "/targets=1/spin";
      ASSERT_TRUE(m.contains(p + "/missed_ipi_fraction")) << p << "; skipped: " << sk.dump();
      ASSERT_TRUE(m.contains(p + "/control_private_expedited_ipis_per_call")) << p;
      double missed = m[p + "/missed_ipi_fraction"]["value"];
      EXPECT_GE(missed, 0.0);
      EXPECT_LE(missed, 1.0);
    }
    for (const char* c : {"none/control", "private_expedited/before_threads",
                          "global_expedited/before_threads", "global_expedited/after_threads",
                          "private_expedited_rseq/before_threads"}) {
      std::string base = std::string("litmus/") + c;
      ASSERT_TRUE(m.contains(base + "/forbidden_per_million")) << base << "; skipped: " << sk.dump();
      const json& pm = m[base + "/forbidden_per_million"];
      EXPECT_EQ(pm["kind"], "scalar");
      // The control has no direction (its reordering is expected): compare's
      // forbidden-outcome rule must not fire on it.
      EXPECT_EQ(pm["labels"]["better"], std::string(c) == "none/control" ? "none" : "lower")
          << base;
      double trials = m[base + "/trials"]["value"], forbidden = m[base + "/forbidden"]["value"];
      EXPECT_GT(trials, 0.0) << base;
      EXPECT_NEAR(pm["value"].get<double>(), 1e6 * forbidden / trials, 1e-6) << base;
    }
    // The guarantee itself: a registered PRIVATE_EXPEDITED never allows it.
    EXPECT_EQ(m["litmus/private_expedited/before_threads/forbidden"]["value"], 0.0);
  }
}

// What the probe's programs cost another process's syscalls: measured once
// per run (first repetition), both sides finite and positive.
void expect_overhead_figure(const json& doc) {
  if (!doc["parameters"]["delivery"].contains("handlers")) return;
  const json& m = doc["repetitions"][0]["metrics"];
  for (const char* k : {"off_ns", "on_ns", "added_ns", "ratio"}) {
    std::string name = std::string("delivery/syscall_overhead/") + k;
    ASSERT_TRUE(m.contains(name)) << name << " missing; skipped: "
                                  << doc["repetitions"][0]["skipped"].dump();
    ASSERT_TRUE(m[name]["value"].is_number()) << name << " = " << m[name].dump();
    EXPECT_TRUE(std::isfinite(m[name]["value"].get<double>())) << name;
  }
  EXPECT_GT(m["delivery/syscall_overhead/off_ns"]["value"].get<double>(), 0.0);
  EXPECT_GT(m["delivery/syscall_overhead/on_ns"]["value"].get<double>(), 0.0);
  for (size_t r = 1; r < doc["repetitions"].size(); ++r)
    EXPECT_FALSE(doc["repetitions"][r]["metrics"].contains("delivery/syscall_overhead/on_ns"))
        << "measured once per run, not per repetition";
}

TEST_F(MembarrierTest, SyscallOverheadMeasuredOncePerRun) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  expect_overhead_figure(doc());
}

TEST_F(MembarrierTest, ForeignAndNegativeCountedPerTracedPoint) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  for (auto& rep : doc()["repetitions"]) {
    const json& m = rep["metrics"];
    for (const char* k : {"delivery/foreign_ipis", "delivery/negative_deltas"}) {
      ASSERT_TRUE(m.contains(k)) << k;
      EXPECT_GE(m[k]["value"].get<double>(), 0.0);
    }
    for (const char* p : {"private_expedited/targets=1/spin", "private_expedited/targets=0/none"}) {
      EXPECT_TRUE(m.contains(std::string(p) + "/foreign_ipis")) << p;
      EXPECT_TRUE(m.contains(std::string(p) + "/negative_deltas")) << p;
    }
  }
}

// Another process sending its own membarrier IPIs: a caller pinned to the
// probe's caller CPU and a spinner pinned to the probe's target CPU, both
// at nice 0 in the probe's session (one autogroup: nice shares each CPU).
// The caller gets half of CPU0 next to the probe's caller; the spinner
// yields CPU1 to the probe's nice -20 spinners (so our own IPIs still land)
// and has it alone at the points without one (targets=0).
// Alternates PRIVATE_EXPEDITED (IPIs to its spinner whenever that runs) and,
// where registered, PRIVATE_EXPEDITED_SYNC_CORE (also a callback on its own
// CPU at every call). Killed and reaped on destruction.
class NoiseSender {
 public:
  NoiseSender(int caller_cpu, int spinner_cpu) {
    int ready[2];
    if (pipe(ready) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      close(ready[0]);
      child(ready[1], caller_cpu, spinner_cpu);
    }
    close(ready[1]);
    char ok = 0;
    ssize_t n = read(ready[0], &ok, 1);
    close(ready[0]);
    if (n != 1 || !ok) {
      reap();
      throw std::runtime_error("noise sender could not register or pin its threads");
    }
  }
  ~NoiseSender() { reap(); }
  NoiseSender(const NoiseSender&) = delete;
  NoiseSender& operator=(const NoiseSender&) = delete;

 private:
  static long mb(int cmd) { return syscall(__NR_membarrier, cmd, 0u, 0); }
  static bool pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
  }
  [[noreturn]] static void child(int ready, int caller_cpu, int spinner_cpu) {
    // Register while single-threaded (registering a multi-threaded mm waits
    // for a grace period).
    char ok = mb(16 /* REGISTER_PRIVATE_EXPEDITED */) == 0 && pin(caller_cpu) ? 1 : 0;
    bool sync_core = mb(64 /* REGISTER_PRIVATE_EXPEDITED_SYNC_CORE */) == 0;
    std::thread spinner([spinner_cpu] {
      pin(spinner_cpu);
      for (;;) asm volatile("" ::: "memory");
    });
    spinner.detach();
    (void)!write(ready, &ok, 1);
    close(ready);
    for (;;) {
      mb(8 /* PRIVATE_EXPEDITED */);
      if (sync_core) mb(32 /* PRIVATE_EXPEDITED_SYNC_CORE */);
    }
  }
  void reap() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
};

// The probe measures while NoiseSender runs: the other process's callbacks
// must be counted as foreign and never as ours.
class MembarrierForeignTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kperflab::testing::require_root_bpf();
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
      std::printf("SKIP: needs 2 online CPUs for an IPI target\n");
      std::exit(77);
    }
    cpu_set_t online;
    sched_getaffinity(0, sizeof online, &online);
    int first = -1, last = -1;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &online)) {
        if (first < 0) first = c;
        last = c;
      }
    // The probe calls from the first online CPU; its last target is the
    // last online CPU.
    std::optional<NoiseSender> noise;
    try {
      noise.emplace(first, last);
    } catch (const std::exception& e) {
      setup_error_ = e.what();
      return;
    }
    std::string dir = kperflab::testing::run_probe_bundle(
        "membarrier",
        "--profile quick --repeat 1 --set membarrier.iterations=300 "
        "--set membarrier.delivery_iterations=3000 --set membarrier.global_calls=2 "
        "--set 'membarrier.register_threads=[]' --set membarrier.placement=false "
        "--set membarrier.callers_sweep=false --set 'membarrier.states=[\"spin\"]' "
        "--set 'membarrier.sweep_commands=[\"private_expedited\",\"private_expedited_sync_core\"]' "
        "--set membarrier.overhead_rounds=3 --set membarrier.overhead_calls=20000 "
        "--set 'membarrier.litmus=[]'");
    noise.reset();
    bundle_ = new kperflab::Bundle(kperflab::Bundle::load(dir));
  }
  static void TearDownTestSuite() { delete bundle_; }
  void SetUp() override { ASSERT_NE(bundle_, nullptr) << "setup failed: " << setup_error_; }

  static const json& doc() { return bundle_->probes.at("membarrier"); }
  static const json& metrics() { return doc()["repetitions"][0]["metrics"]; }
  static bool delivery_traced() { return doc()["parameters"]["delivery"].contains("handlers"); }

  static kperflab::Bundle* bundle_;
  static std::string setup_error_;
};

kperflab::Bundle* MembarrierForeignTest::bundle_ = nullptr;
std::string MembarrierForeignTest::setup_error_;

TEST_F(MembarrierForeignTest, OtherProcessCallbacksCountedAsForeign) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  // Thousands of the noise's callbacks land while we trace; one suffices.
  EXPECT_GT(metrics()["delivery/foreign_ipis"]["value"].get<double>(), 0.0)
      << doc()["repetitions"][0]["extra"].dump();
}

TEST_F(MembarrierForeignTest, DeliveriesNeverExceedOurCallsTimesTargets) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  const double calls = doc()["parameters"]["delivery_iterations"];
  const double cpus = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  unsigned checked = 0;
  for (auto& [name, m] : metrics().items()) {
    auto ends = [&n = name](const std::string& suffix) {  // clang 14: no captured bindings
      return n.size() > suffix.size() &&
             n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (m["kind"] != "histogram") {
      if (ends("/ipis_per_call")) {
        EXPECT_LE(m["value"].get<double>(), cpus) << name;
      }
    } else if (ends("/delivery")) {
      double targets = m["labels"].value("targets", 1.0);
      if (m["labels"]["cmd"] == "private_expedited_sync_core") targets += 1;  // own CPU
      EXPECT_LE(m["count"].get<double>(), calls * targets) << name;
      ++checked;
    } else if (name.find("/delivery/cpu=") != std::string::npos) {
      EXPECT_LE(m["count"].get<double>(), calls) << name;  // one of ours per call at most
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u) << "no delivery histogram in the bundle";
  // Our calls with no other thread of ours running send nothing: every
  // callback there was the noise's. Exact where callbacks pair with sends
  // by csd or by target CPU; the call-window fallback cannot tell.
  if (doc()["parameters"]["delivery"]["mode"] != "call_window") {
    EXPECT_EQ(metrics()["private_expedited/targets=0/none/ipis_per_call"]["value"], 0.0);
  }
}

TEST_F(MembarrierForeignTest, SyscallOverheadFigureFinite) {
  if (!delivery_traced()) GTEST_SKIP() << doc()["parameters"]["delivery"].dump();
  expect_overhead_figure(doc());
}

TEST_F(MembarrierTest, NoBpfLinkOutlivesTheProbe) {
  // #28: the runner counts this process's BPF link fds before and after
  // the probe; every link the probe attached is gone when it ends.
  ASSERT_TRUE(doc().contains("bpf_links_left")) << "the runner did not count the links";
  EXPECT_EQ(doc()["bpf_links_left"].get<int>(), 0) << "links still attached after the probe";
}

TEST_F(MembarrierTest, ProbeEffectIsRecorded) {
  // #28: the bystander's ratio and our programs' run time, every run.
  kperflab::testing::expect_probe_effect(doc());
}

}  // namespace
