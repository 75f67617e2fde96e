// SPDX-License-Identifier: GPL-2.0-only
// Typed probe parameters (#12, item 3): every profile's defaults obey the
// probe's own declaration on this host, and --set refuses what could hang
// or abort a run before anything runs.
#include <gtest/gtest.h>

#include "core/params.h"
#include "core/probe.h"
#include "cli/runner.h"
#include "host/sysinfo.h"

using namespace kperflab;

namespace {

std::string set_error(std::vector<std::string> args) {
  try {
    resolve_sets(parse_run_args(args), 2);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Params, EveryProbeDeclaresParameters) {
  auto all = ProbeRegistry::instance().all();
  ASSERT_GE(all.size(), 4u);  // membarrier, cpumask, ipi, notifier
  for (Probe* p : all) EXPECT_FALSE(p->param_specs(2).empty()) << p->name();
}

TEST(Params, ProfileDefaultsPassTheirOwnSpecOnThisHost) {
  HostInfo host = collect_host_info();
  for (Probe* p : ProbeRegistry::instance().all())
    for (auto prof : {Profile::quick, Profile::standard, Profile::full, Profile::lab}) {
      auto params = p->parameters(prof, host);
      auto specs = p->param_specs(host.online_count());
      EXPECT_NO_THROW(check_params(std::string(p->name()), specs, params))
          << p->name() << " " << to_string(prof);
      // And every declared key is one the probe uses (no dead declarations).
      for (auto& s : specs) EXPECT_TRUE(params.contains(s.key)) << p->name() << "." << s.key;
    }
}

TEST(Params, SetRefusesHangsAndAborts) {
  for (const char* v : {"-1", "0", "1e99", "abc", "nan", "4294967295", "1.5", "", " 5"}) {
    std::string e = set_error({"--set", std::string("membarrier.iterations=") + v});
    EXPECT_NE(e.find("membarrier.iterations=" + std::string(v)), std::string::npos) << e;
    EXPECT_NE(e.find("1..1000000"), std::string::npos) << e;
  }
  EXPECT_NE(set_error({"--set", "cpumask.sample_ms=nan"}).find("0.1..100"), std::string::npos);
  EXPECT_NE(set_error({"--set", "cpumask.sample_ms=inf"}).find("sample_ms"), std::string::npos);
  EXPECT_NE(set_error({"--set", "membarrier.placement=yes"}).find("true|false"),
            std::string::npos);
  EXPECT_NE(set_error({"--set", "membarrier.states=spin,bogus"}).find("bogus"),
            std::string::npos);
  EXPECT_NE(set_error({"--set", "membarrier.states=spin,spin"}).find("twice"), std::string::npos);
  EXPECT_NE(set_error({"--set", "membarrier.states=[]"}).find("0 items"), std::string::npos);
  EXPECT_NE(set_error({"--set", "notifier.rates_hz=[-2]"}).find("-2"), std::string::npos);
  EXPECT_NE(set_error({"--set", "notifier.rates_hz=-0.5"}).find("other than -1"),
            std::string::npos);
  EXPECT_NE(set_error({"--set", "ipi.targets=idle,bsy"}).find("bsy"), std::string::npos);
  // CPU counts follow the host (2 CPUs here): at most one other CPU.
  EXPECT_NE(set_error({"--set", "membarrier.max_targets=2"}).find("0..1"), std::string::npos);
  EXPECT_NE(set_error({"--set", "cpumask.threads=3"}).find("1..2"), std::string::npos);
}

TEST(Params, SetTyposAreErrors) {
  EXPECT_NE(set_error({"--set", "nosuch.k=1"}).find("no probe 'nosuch'"), std::string::npos);
  auto e = set_error({"--set", "membarrier.iteration=5"});
  EXPECT_NE(e.find("no parameter 'iteration'"), std::string::npos) << e;
  EXPECT_NE(e.find("iterations, delivery_iterations"), std::string::npos) << e;  // lists keys
  e = set_error({"--probe", "membarrier", "--set", "ipi.samples=5"});
  EXPECT_NE(e.find("does not run in this invocation"), std::string::npos) << e;
}

TEST(Params, SetValuesAreTyped) {
  auto o = parse_run_args({"--probe", "membarrier", "--probe", "cpumask", "--set",
                           "membarrier.iterations=1000000", "--set", "membarrier.placement=false",
                           "--set", "membarrier.states=spin,sleep", "--set",
                           R"(cpumask.densities=["half"])", "--set", "cpumask.sample_ms=2.5",
                           "--set", "membarrier.register_threads=[]"});
  auto s = resolve_sets(o, 2);
  EXPECT_EQ(s["membarrier"]["iterations"], 1000000);
  EXPECT_EQ(s["membarrier"]["placement"], false);
  EXPECT_EQ(s["membarrier"]["states"], (nlohmann::json{"spin", "sleep"}));
  EXPECT_EQ(s["membarrier"]["register_threads"], nlohmann::json::array());
  EXPECT_EQ(s["cpumask"]["densities"], (nlohmann::json{"half"}));
  EXPECT_DOUBLE_EQ(s["cpumask"]["sample_ms"].get<double>(), 2.5);
}

namespace {

// nodes x llcs x cores x 2 SMT threads, numbered like a two-socket x86 box.
HostInfo many_core_host(int nodes, int llcs, int cores) {
  const int per_thread = nodes * llcs * cores;
  nlohmann::json topo = nlohmann::json::array();
  for (int t = 0; t < 2; ++t)
    for (int core = 0; core < per_thread; ++core) {
      int node = core / (llcs * cores);
      topo.push_back({{"cpu", t * per_thread + core}, {"online", true}, {"core", core},
                      {"package", node}, {"llc", core / cores}, {"node", node},
                      {"smt_siblings", {core, per_thread + core}}});
    }
  return HostInfo::from_meta({{"cpu", {{"topology", topo}}}});
}

}  // namespace

// Issue #26: under the standard profile no probe's points grow with the CPU
// count like N^2; from 16 to 256 CPUs each stays within 1.5x (what grows is
// said by the probe's sampled() text, which the plan prints).
TEST(Params, StandardPointsHoldAsTheCpuCountGrows) {
  HostInfo h16 = many_core_host(2, 1, 4), h256 = many_core_host(2, 8, 8);
  ASSERT_EQ(h16.online_count(), 16u);
  ASSERT_EQ(h256.online_count(), 256u);
  for (Probe* p : ProbeRegistry::instance().all()) {
    unsigned a = p->points(p->parameters(Profile::standard, h16), h16);
    unsigned b = p->points(p->parameters(Profile::standard, h256), h256);
    std::cout << p->name() << ": " << a << " points at 16 CPUs, " << b << " at 256\n";
    EXPECT_LE(b, a + a / 2) << p->name();
  }
  Probe* ipi = ProbeRegistry::instance().find("ipi");
  ASSERT_NE(ipi, nullptr);
  EXPECT_EQ(ipi->sampled(ipi->parameters(Profile::standard, h16), h16), "");
  std::string s = ipi->sampled(ipi->parameters(Profile::standard, h256), h256);
  std::cout << "ipi sampled at 256 CPUs: " << s << "\n";
  EXPECT_NE(s.find("16 of 256 CPUs"), std::string::npos) << s;
  EXPECT_NE(s.find("matrix 240 of 65280 pairs"), std::string::npos) << s;
  EXPECT_EQ(ipi->sampled(ipi->parameters(Profile::full, h256), h256), "");
}

// The sweeps' counts on many CPUs: 0, 1 and all kept, the powers of two
// between thinned evenly, and said (issue #26).
TEST(Params, MembarrierSweepCountsSampledOnManyCpus) {
  Probe* m = ProbeRegistry::instance().find("membarrier");
  ASSERT_NE(m, nullptr);
  HostInfo h16 = many_core_host(2, 1, 4), h64 = many_core_host(2, 2, 8);
  ASSERT_EQ(h64.online_count(), 64u);
  EXPECT_EQ(m->sampled(m->parameters(Profile::standard, h16), h16), "");
  EXPECT_EQ(m->sampled(m->parameters(Profile::standard, h64), h64),
            "targets 0,1,2,8,32,63 of 0,1,2,4,8,16,32,63; callers 1,2,8,32,64 of 1,2,4,8,16,32,64");
  EXPECT_EQ(m->sampled(m->parameters(Profile::full, h64), h64), "");
  EXPECT_NE(set_error({"--set", "membarrier.sweep_counts=65"}).find("sweep_counts"),
            std::string::npos);
}

// The mmap_lock storms' threads grow with the CPUs (a thread, a region and,
// for cow, a child each): under quick and standard they run on a topology
// sample, said in the plan; full, lab and given thread counts use every CPU
// (issue #26).
TEST(Params, MmapLockStormsOnATopologySample) {
  Probe* m = ProbeRegistry::instance().find("mmap_lock");
  ASSERT_NE(m, nullptr);
  HostInfo h16 = many_core_host(2, 1, 4), h64 = many_core_host(2, 2, 8);
  EXPECT_EQ(m->sampled(m->parameters(Profile::standard, h16), h16), "");
  std::string s = m->sampled(m->parameters(Profile::standard, h64), h64);
  EXPECT_EQ(s.rfind("storms on 16 of 64 CPUs (", 0), 0u) << s;
  EXPECT_NE(s.find("many-thread points 16 threads"), std::string::npos) << s;
  EXPECT_NE(m->sampled(m->parameters(Profile::quick, h64), h64).find("8 of 64 CPUs"),
            std::string::npos);
  EXPECT_EQ(m->sampled(m->parameters(Profile::full, h64), h64), "");
  EXPECT_EQ(m->sampled(m->parameters(Profile::lab, h64), h64), "");
  auto given = m->parameters(Profile::standard, h64);
  given["threads"] = {1, 64};
  EXPECT_EQ(m->sampled(given, h64), "");
}
