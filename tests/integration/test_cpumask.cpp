// SPDX-License-Identifier: GPL-2.0-only
// The cpumask probe on the host kernel (issue: BPF cpumask kfunc probe).
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe_fixture.h"

using nlohmann::json;

namespace {

class CpumaskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kperflab::testing::require_root_bpf();
    dir_ = kperflab::testing::run_probe_bundle(
        "cpumask", "--profile quick --repeat 2 --set cpumask.sample_ms=10 "
                   "--set cpumask.densities='[\"half\"]'");
    bundle_ = new kperflab::Bundle(kperflab::Bundle::load(dir_));
    if (doc()["status"] == "skipped") {
      std::printf("SKIP: %s\n", doc()["reason"].get<std::string>().c_str());
      std::exit(77);
    }
  }
  static void TearDownTestSuite() { delete bundle_; }
  static const json& doc() { return bundle_->probes.at("cpumask"); }
  static const json& reps() { return doc()["repetitions"]; }

  static std::string dir_;
  static kperflab::Bundle* bundle_;
};

std::string CpumaskTest::dir_;
kperflab::Bundle* CpumaskTest::bundle_ = nullptr;

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

TEST_F(CpumaskTest, EveryOfferedKfuncHasAPositiveCost) {
  EXPECT_EQ(doc()["status"], "complete") << doc()["reason"];
  const json& m = reps()[0]["metrics"];
  for (const std::string& k : kernel_kfuncs()) {
    std::string op = k.substr(strlen("bpf_cpumask_"));
    if (op == "release_dtor") continue;  // destructor for kptrs, not callable
    if (op == "create" || op == "release") op = "create_release";
    if (op == "acquire") op = "acquire_release";
    ASSERT_TRUE(m.contains(op + "/cost")) << k << " not measured";
    EXPECT_EQ(m[op + "/cost"]["count"], doc()["parameters"]["samples"]) << op;
    EXPECT_GT(m[op + "/cost"]["p50"].get<double>(), 0.0) << op;
  }
}

// The same batch twice as long costs twice as much (baseline subtracted).
// A shared 2-vCPU VM occasionally disturbs one repetition: a kfunc passes
// when either of the two repetitions is inside 1.8-2.2.
TEST_F(CpumaskTest, TwiceTheIterationsCostTwice) {
  for (auto& [name, m] : reps()[0]["metrics"].items()) {
    if (name.find("/proportionality_2n_n") == std::string::npos) continue;
    double a = m["value"], b = reps()[1]["metrics"][name]["value"];
    bool ok = (a >= 1.8 && a <= 2.2) || (b >= 1.8 && b <= 2.2);
    EXPECT_TRUE(ok) << name << ": " << a << " and " << b;
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

}  // namespace
