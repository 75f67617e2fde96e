// SPDX-License-Identifier: GPL-2.0-only
// The cpumask probe on the host kernel (issue: BPF cpumask kfunc probe).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe_fixture.h"

using nlohmann::json;

namespace {

const json& bundle_doc(const std::string& args) {
  return kperflab::testing::probe_doc("cpumask", args);
}

// "auto" is SYSCALL programs on this kernel (6.10+); "tracing" forces the
// fallback of 6.4-6.9 kernels (TRACING programs on tp_btf/task_rename).
const json& cpumask_doc(const std::string& prog_type) {
  return bundle_doc(
      "--profile quick --repeat 2 --set cpumask.sample_ms=10 "
      "--set cpumask.densities='[\"half\"]' --set cpumask.prog_type=" +
      prog_type);
}

class CpumaskTest : public ::testing::Test {
 protected:
  static const json& doc() { return cpumask_doc("auto"); }
  static const json& reps() { return doc()["repetitions"]; }
};

// The kfuncs of this kernel, from its BTF (what the probe must cover).
std::vector<std::string> kernel_kfuncs() {
  std::vector<std::string> out;
  btf* b = btf__load_vmlinux_btf();
  for (unsigned id = 1; b && id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (btf_kind(t) != BTF_KIND_FUNC) continue;
    std::string n = btf__name_by_offset(b, t->name_off);
    if (n.rfind("bpf_cpumask_", 0) == 0) out.push_back(n);
  }
  btf__free(b);
  return out;
}

void expect_every_offered_kfunc(const json& doc) {
  EXPECT_EQ(doc["status"], "complete") << doc["reason"];
  const json& m = doc["repetitions"][0]["metrics"];
  for (const std::string& k : kernel_kfuncs()) {
    std::string op = k.substr(strlen("bpf_cpumask_"));
    if (op == "release_dtor") continue;  // destructor for kptrs, not callable
    if (op == "create" || op == "release") op = "create_release";
    if (op == "acquire") op = "acquire_release";
    ASSERT_TRUE(m.contains(op + "/cost")) << k << " not measured";
    // Every sample is recorded, or counted as negative (baseline slower).
    int samples = doc["parameters"]["samples"], count = m[op + "/cost"]["count"];
    double negative = m["check/negative_samples"]["value"];
    EXPECT_LE(count, samples) << op;
    EXPECT_GE(count + negative, samples) << op;
    EXPECT_GT(m[op + "/cost"]["p50"].get<double>(), 0.0) << op;
  }
}

TEST_F(CpumaskTest, EveryOfferedKfuncHasAPositiveCost) {
  EXPECT_EQ(doc()["parameters"]["prog_type"], "syscall");
  expect_every_offered_kfunc(doc());
}

// The fallback for kernels whose SYSCALL programs cannot call the kfuncs,
// forced here: the same kfuncs measured, the same correctness check, and
// the same costs (the program type changes how the batch is started, not
// what is timed). The two runs are separate processes at different times on
// a shared machine, so one kfunc's p50 can differ by more than 2x by itself
// (and/cost 1695 v 3551 ps was seen in CI with every other kfunc close):
// the check is on the median of the per-kfunc ratios, which a timing loop
// that measured something else (0, the baseline, twice the work) moves and
// one disturbed kfunc does not.
TEST(CpumaskTracing, MeasuresEveryKfuncLikeSyscallPrograms) {
  const json& tr = cpumask_doc("tracing");
  EXPECT_EQ(tr["parameters"]["prog_type"], "tracing");
  expect_every_offered_kfunc(tr);
  const json& m = tr["repetitions"][0]["metrics"];
  EXPECT_EQ(m["check/setall_weight"]["value"].get<int>(), libbpf_num_possible_cpus());
  const json& sys = cpumask_doc("auto")["repetitions"][0]["metrics"];
  std::vector<double> ratios;
  std::string seen;
  for (auto& [name, x] : m.items()) {
    if (name.size() < 5 || name.compare(name.size() - 5, 5, "/cost") != 0) continue;
    if (!sys.contains(name) || !x.contains("p50") || !sys[name].contains("p50")) continue;
    double a = x["p50"], b = sys[name]["p50"];
    if (!(a > 0 && b > 0)) continue;
    ratios.push_back(a / b);
    seen += " " + name + "=" + std::to_string(a / b);
  }
  ASSERT_GE(ratios.size(), 10u) << "kfuncs measured by both program types:" << seen;
  std::sort(ratios.begin(), ratios.end());
  double median = ratios[ratios.size() / 2];
  EXPECT_GT(median, 0.5) << "median tracing/syscall cost ratio; per kfunc:" << seen;
  EXPECT_LT(median, 2.0) << "median tracing/syscall cost ratio; per kfunc:" << seen;
}

// The same batch twice as long costs twice as much (baseline subtracted).
// A shared 2-vCPU VM disturbs single repetitions (copy at 2.50 and 2.28 was
// seen with a QEMU guest running beside it): a kfunc passes when either of
// the two repetitions is inside 1.5-2.7, which still tells a cost that
// scales from one that does not (1) or a loop that did not run (0).
TEST_F(CpumaskTest, TwiceTheIterationsCostTwice) {
  for (auto& [name, m] : reps()[0]["metrics"].items()) {
    if (name.find("/proportionality_2n_n") == std::string::npos) continue;
    double a = m["value"], b = reps()[1]["metrics"][name]["value"];
    bool ok = (a >= 1.5 && a <= 2.7) || (b >= 1.5 && b <= 2.7);
    EXPECT_TRUE(ok) << name << ": " << a << " and " << b;
  }
}

// Samples whose baseline took longer are counted, never stored as a cost.
TEST_F(CpumaskTest, NegativeSamplesAreCounted) {
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(reps()[r]["metrics"].contains("check/negative_samples"));
    EXPECT_GE(reps()[r]["metrics"]["check/negative_samples"]["value"].get<double>(), 0);
  }
}

TEST_F(CpumaskTest, SetallThenWeightIsNrCpuIds) {
  EXPECT_EQ(reps()[0]["metrics"]["check/setall_weight"]["value"].get<int>(),
            libbpf_num_possible_cpus());
}

TEST_F(CpumaskTest, ConcurrencySweepCoversEveryOnlineCpu) {
  const json& m = reps()[0]["metrics"];
  std::string all = "create_release/threads=" + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + "/cost";
  ASSERT_TRUE(m.contains(all)) << all;
  EXPECT_GT(m[all]["p50"].get<double>(), 0.0);
}

// #26 (core/point_cap.h): a thread point of the budgeted profiles ends at
// sweep_cap x one thread's time. At 0.001 the cap passes within the first
// batch: each thread takes its one sample, the rest of the 2 x 20 planned
// are counted as cut, never stored; the 1-thread point is never capped.
TEST(CpumaskCap, ThreadPointEndsAtItsCapWithTheCutCounted) {
  const json& d = bundle_doc(
      "--profile quick --set cpumask.samples=20 --set cpumask.sample_ms=5 "
      "--set cpumask.ops='[\"create_release\"]' --set cpumask.threads='[1,2]' "
      "--set cpumask.sweep_cap=0.001");
  ASSERT_EQ(d["status"], "complete") << d["reason"];
  const json& m = d["repetitions"][0]["metrics"];
  ASSERT_TRUE(m.contains("create_release/threads=2/cost")) << m.dump().substr(0, 400);
  ASSERT_TRUE(m.contains("create_release/threads=2/check/samples_cut"));
  const double cut = m["create_release/threads=2/check/samples_cut"]["value"];
  const double count = m["create_release/threads=2/cost"]["count"];
  EXPECT_GT(cut, 0.0);
  EXPECT_LE(cut, 38.0) << "a thread took no sample";
  EXPECT_GE(count, 1.0);
  EXPECT_LE(count + cut, 40.0);
  EXPECT_FALSE(m.contains("create_release/threads=1/check/samples_cut"));
}

TEST_F(CpumaskTest, BudgetedProfilesCapThreadPoints) {
  EXPECT_EQ(doc()["parameters"]["sweep_cap"].get<double>(), 2.0);
}

// Issue #11: one open-coded loop runs no iteration at all past 2^23
// (bpf_iter_num_new: -E2BIG), and a fast kfunc needs more for a 100 ms
// batch, so those batches timed an empty loop and stored a cost of 0 and a
// 2n/n ratio of 0 (or 1), silently. The programs now nest the loop and
// report the iterations run; a batch that ran short is never a sample.
// Three samples of four of the fastest kfuncs (1.4-2.5 ns here; every op
// took both flavours to 4.5 minutes): a bit op, a whole-mask write, a read
// whose cost depends on the density, and a search. TRACING uses 50 ms (its
// batch holds the CPU with preemption off), where the 2n batches still pass
// 2^23 iterations on this VM.
const json& long_batches_doc(const std::string& prog_type) {
  return bundle_doc(std::string("--profile quick --repeat 2 --set cpumask.samples=3 ") +
                    "--set cpumask.sample_ms=" + (prog_type == "tracing" ? "50" : "100") +
                    " --set cpumask.densities='[\"half\"]' --set cpumask.prog_type=" +
                    prog_type +
                    " --set cpumask.ops='[\"test_cpu\",\"clear\",\"weight\",\"first\"]'");
}

void expect_long_batches_scale(const std::string& prog_type) {
  const json& doc = long_batches_doc(prog_type);
  ASSERT_EQ(doc["status"], "complete") << doc["reason"];
  const json& reps = doc["repetitions"];
  ASSERT_EQ(reps.size(), 2u);
  for (const json& r : reps) {
    const json& m = r["metrics"];
    if (!m.contains("check/invalid_batches")) {
      ADD_FAILURE() << "no check/invalid_batches: the iterations a batch ran go unchecked";
      continue;
    }
    EXPECT_EQ(m["check/invalid_batches"]["value"].get<double>(), 0.0)
        << m["check/invalid_batches"]["labels"].dump();
  }
  // Wide band: 3 samples, a noisy 2-vCPU VM; what it catches is 0 or 1
  // (an empty or a fixed-length loop), in both repetitions.
  unsigned nested = 0, checked = 0;
  for (auto& [name, m] : reps[0]["metrics"].items()) {
    if (name.find("/proportionality_2n_n") == std::string::npos) continue;
    ++checked;
    // The check runs n and 2n: a loop past 2^23 at one of them at least.
    if (2 * m["labels"]["n"].get<uint64_t>() > (uint64_t{1} << 23)) ++nested;
    double a = m["value"], b = reps[1]["metrics"][name]["value"];
    bool ok = (a >= 1.5 && a <= 2.7) || (b >= 1.5 && b <= 2.7);
    EXPECT_TRUE(ok) << name << " (n " << m["labels"]["n"] << "): " << a << " and " << b;
  }
  EXPECT_GT(checked, 0u) << "no proportionality_2n_n metric";
  // cpumask.ops measured those four and nothing else (no thread sweep
  // without create_release).
  for (auto& [name, m] : reps[0]["metrics"].items()) {
    if (name.rfind("check/", 0) == 0) continue;
    std::string op = name.substr(0, name.find('/'));
    EXPECT_TRUE(op == "test_cpu" || op == "clear" || op == "weight" || op == "first") << name;
  }
  for (const json& r : reps) {
    for (auto& [name, m] : r["metrics"].items()) {
      if (name.size() > 5 && name.compare(name.size() - 5, 5, "/cost") == 0) {
        EXPECT_GT(m["p50"].get<double>(), 0.0) << name;
      }
    }
  }
  if (nested == 0)
    GTEST_SKIP() << "no kfunc needed more than 2^23 iterations for a batch on this CPU: "
                    "the nested loop was not exercised";
  std::printf("%u of %u kfuncs ran batches of more than 2^23 iterations (2n)\n", nested, checked);
}

TEST(CpumaskLongBatches, SyscallProgramsRunEveryIteration) { expect_long_batches_scale("auto"); }

TEST(CpumaskLongBatches, TracingProgramsRunEveryIteration) {
  expect_long_batches_scale("tracing");
}

TEST_F(CpumaskTest, NoBpfLinkOutlivesTheProbe) {
  // #28: the runner counts this process's BPF link fds before and after
  // the probe; every link the probe attached is gone when it ends.
  ASSERT_TRUE(doc().contains("bpf_links_left")) << "the runner did not count the links";
  EXPECT_EQ(doc()["bpf_links_left"].get<int>(), 0) << "links still attached after the probe";
}

}  // namespace
