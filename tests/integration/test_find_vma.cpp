// SPDX-License-Identifier: GPL-2.0-only
// The find_vma probe on the host kernel (issue #16). One bundle: one
// sampled spinner at 2 kHz (cpu-clock) with no writer, a slow writer
// (200 mmap/munmap per second) and a writer back to back in the same mm.
// Relations only: no writer, (nearly) every find_vma succeeds and its
// oracle is busy; a busy writer makes -EBUSY appear, more than a slow one;
// every call is counted once.
#include <fstream>

#include "probe_fixture.h"

using nlohmann::json;

namespace {

const json& doc() {
  return kperflab::testing::probe_doc(
      "find_vma",
      "--profile quick --repeat 1 --set find_vma.freqs_hz='[2000]' "
      "--set find_vma.writer_rates='[0,200,1e9]' --set find_vma.threads='[1]' "
      "--set find_vma.duration_ms=2500");
}

const json& metrics() { return doc()["repetitions"][0]["metrics"]; }
const json& skipped() { return doc()["repetitions"][0]["skipped"]; }

double value(const std::string& name) {
  const json& m = metrics();
  if (!m.contains(name)) {
    ADD_FAILURE() << "no metric " << name << "; skipped: " << skipped().dump();
    return -1;
  }
  return m[name].value("value", -1.0);
}

const std::string kNone = "freq=2000/writer_rate=none/threads=1/clock";
const std::string kSlow = "freq=2000/writer_rate=200/threads=1/clock";
const std::string kBusy = "freq=2000/writer_rate=max/threads=1/clock";

// No writer: the lock is free, the irq_work idle between samples (it runs
// as soon as the sample's hardirq ends): find_vma succeeds on (nearly)
// every sample; the oracle, right after, is busy every time.
TEST(FindVma, NoWriterSucceedsAndTheOracleIsBusy) {
  double calls = value(kNone + "/find_vma/calls");
  ASSERT_GT(calls, 200) << "too few samples of the spinner";
  double ok = value(kNone + "/find_vma/ok");
  std::printf("no writer: %.0f calls, %.0f ok, %.0f ebusy, %.0f enoent; oracle ebusy %.0f\n",
              calls, ok, value(kNone + "/find_vma/ebusy"), value(kNone + "/find_vma/enoent"),
              value(kNone + "/oracle/ebusy"));
  EXPECT_GE(ok, 0.95 * calls);
  EXPECT_GE(value(kNone + "/oracle/ebusy"), ok);
  EXPECT_EQ(value(kNone + "/check/oracle_not_busy"), 0);
}

// A writer back to back makes -EBUSY appear, more often than a slow one.
TEST(FindVma, EbusyGrowsWithTheWriterRate) {
  double slow = value(kSlow + "/find_vma/ebusy_ratio");
  double busy = value(kBusy + "/find_vma/ebusy_ratio");
  std::printf("ebusy ratio: none %.4f, 200/s %.4f, back to back %.4f (%.0f of %.0f calls)\n",
              value(kNone + "/find_vma/ebusy_ratio"), slow, busy, value(kBusy + "/find_vma/ebusy"),
              value(kBusy + "/find_vma/calls"));
  EXPECT_GE(value(kBusy + "/find_vma/ebusy"), 10);
  EXPECT_GT(busy, slow);
  EXPECT_GT(value(kBusy.substr(0, kBusy.size() - 6) + "/writer_ops_per_s"),
            value(kSlow.substr(0, kSlow.size() - 6) + "/writer_ops_per_s"));
}

// Every call lands in exactly one outcome; each has a latency sample; the
// oracle held at every point (it is checked in every run of the probe).
TEST(FindVma, OutcomesAddUpToTheCalls) {
  for (const std::string& p : {kNone, kSlow, kBusy}) {
    for (const char* call : {"find_vma", "oracle"}) {
      double sum = 0;
      for (const char* o : {"ok", "ebusy", "enoent", "other"})
        sum += value(p + "/" + call + "/" + o);
      EXPECT_EQ(sum, value(p + "/" + call + "/calls")) << p << " " << call;
      const json& h = metrics()[p + "/latency/" + call];
      EXPECT_EQ(h.value("count", 0.0) + value(p + "/check/negative"),
                value(p + "/" + call + "/calls"))
          << p << " " << call;
    }
    EXPECT_EQ(value(p + "/check/oracle_not_busy"), 0) << p;
    // Runs alternate: a find_vma pair, then a stack.
    double runs = value(p + "/samples");
    EXPECT_EQ(value(p + "/find_vma/calls") + value(p + "/stack/calls"), runs) << p;
    EXPECT_LE(value(p + "/stack/all_ip") + value(p + "/stack/some_ip") +
                  value(p + "/stack/all_valid") + value(p + "/stack/errors"),
              value(p + "/stack/calls"))
        << p;
  }
}

// Build-id stacks: with no writer most frames carry a build id; a busy
// writer turns whole stacks into IPs.
TEST(FindVma, BuildIdStacksFallBackUnderTheWriter) {
  double valid = value(kNone + "/stack/frames_valid");
  double ip = value(kNone + "/stack/frames_ip");
  std::printf("stacks, no writer: %.0f valid, %.0f ip frames; back to back: all-ip stacks %.0f of "
              "%.0f\n",
              valid, ip, value(kBusy + "/stack/all_ip"), value(kBusy + "/stack/calls"));
  EXPECT_GT(valid, 0);
  EXPECT_GT(value(kBusy + "/stack/all_ip"), value(kNone + "/stack/all_ip"));
}

// The sleepable uprobe (where it loads) takes the same stacks with IRQs on:
// no irq_work, so under the same writer far fewer frames fall back than in
// the perf_event program (bpf_find_vma still uses a trylock there: -EBUSY
// stays possible).
TEST(FindVma, SleepableStacksFallBackLess) {
  const std::string u = "freq=2000/writer_rate=max/threads=1/uprobe_s";
  if (skipped().contains(u)) GTEST_SKIP() << skipped()[u].get<std::string>();
  ASSERT_GT(value(u + "/stack/calls"), 10);
  EXPECT_GT(value(u + "/stack/frames_valid"), 0);
  std::printf("frame fallback under the writer: uprobe.s %.4f, perf_event %.4f\n",
              value(u + "/stack/fallback_ratio"), value(kBusy + "/stack/fallback_ratio"));
  EXPECT_LT(value(u + "/stack/fallback_ratio"), value(kBusy + "/stack/fallback_ratio"));
  EXPECT_EQ(value(u + "/find_vma/other"), 0);
}

// #28: the NMI sampling's host-wide side effect is watched. The kernel
// lowers perf_event_max_sample_rate when NMI handlers run long; the probe
// compares it before and after its points and puts it back. Here: counted,
// and the host's value after the run is not below the one before.
TEST(FindVma, MaxSampleRateComparedAndKept) {
  const json& m = metrics();
  ASSERT_TRUE(m.contains("check/perf_event_max_sample_rate_lowered_by")) << skipped().dump();
  const json& l = m["check/perf_event_max_sample_rate_lowered_by"]["labels"];
  std::ifstream f("/proc/sys/kernel/perf_event_max_sample_rate");
  long now = 0;
  ASSERT_TRUE(f >> now);
  EXPECT_GE(now, l["before"].get<long>()) << "left lowered after the probe";
}

TEST(FindVma, NoBpfLinkOutlivesTheProbe) {
  // #28: the runner counts this process's BPF link fds before and after
  // the probe; every link the probe attached is gone when it ends.
  ASSERT_TRUE(doc().contains("bpf_links_left")) << "the runner did not count the links";
  EXPECT_EQ(doc()["bpf_links_left"].get<int>(), 0) << "links still attached after the probe";
}

TEST(FindVma, ProbeEffectIsRecorded) {
  // #28: the bystander's ratio and our programs' run time, every run.
  kperflab::testing::expect_probe_effect(doc());
}

}  // namespace
