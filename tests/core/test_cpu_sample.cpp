// SPDX-License-Identifier: GPL-2.0-only
// Topology sampling of CPUs (host/cpu_sample.h, issue #26): bounded, every
// distance class kept, every LLC group reached while there is room, the same
// sample for the same topology.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "host/cpu_sample.h"

using kperflab::CpuDistance;
using kperflab::HostInfo;
using kperflab::sample_cpus;

namespace {

// nodes x llcs_per_node x cores_per_llc x smt CPUs, numbered like Linux
// numbers a two-socket x86 server: the first thread of every core first.
HostInfo machine(int nodes, int llcs, int cores, int smt) {
  const int per_thread = nodes * llcs * cores;
  nlohmann::json topo = nlohmann::json::array();
  for (int t = 0; t < smt; ++t)
    for (int n = 0; n < nodes; ++n)
      for (int l = 0; l < llcs; ++l)
        for (int c = 0; c < cores; ++c) {
          int core = (n * llcs + l) * cores + c;
          int cpu = t * per_thread + core;
          nlohmann::json sib = nlohmann::json::array();
          for (int u = 0; u < smt; ++u) sib.push_back(u * per_thread + core);
          topo.push_back({{"cpu", cpu}, {"online", true}, {"core", core}, {"package", n},
                          {"llc", n * llcs + l}, {"node", n}, {"smt_siblings", sib}});
        }
  return HostInfo::from_meta({{"cpu", {{"topology", topo}}}});
}

}  // namespace

TEST(CpuSample, WholeWhenSmallOrUnbounded) {
  HostInfo h = machine(1, 1, 4, 1);
  auto s = sample_cpus(h, h.online_cpus(), 0, 16);
  EXPECT_TRUE(s.whole());
  EXPECT_EQ(s.cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.summary(h), "all 4 CPUs");
  HostInfo big = machine(2, 4, 8, 2);  // 128 CPUs
  EXPECT_EQ(sample_cpus(big, big.online_cpus(), 0, 0).cpus.size(), 128u);
}

TEST(CpuSample, BoundedAndKeepsEveryDistanceClassAndGroup) {
  HostInfo h = machine(2, 4, 8, 2);  // 2 nodes, 8 LLCs, 64 cores, 128 CPUs
  for (unsigned max : {8u, 16u, 32u}) {
    auto s = sample_cpus(h, h.online_cpus(), 0, max);
    ASSERT_EQ(s.cpus.size(), max);
    EXPECT_EQ(s.of, 128u);
    EXPECT_EQ(s.cpus.front(), 0);
    std::set<CpuDistance> classes;
    std::set<int> llcs;
    for (int c : s.cpus) {
      classes.insert(h.distance(0, c));
      llcs.insert(c % 64 / 8);  // machine(): core = cpu % 64, 8 cores per LLC
    }
    for (auto d : {CpuDistance::same, CpuDistance::smt, CpuDistance::llc, CpuDistance::package,
                   CpuDistance::numa})
      EXPECT_TRUE(classes.count(d)) << "max " << max << ": no CPU at distance " << to_string(d);
    // The anchor's SMT sibling and LLC neighbour share its group: every
    // LLC group once there is room for 8 groups besides those two.
    EXPECT_EQ(llcs.size(), std::min<size_t>(8, max - 2)) << "max " << max;
    EXPECT_EQ(std::set<int>(s.cpus.begin(), s.cpus.end()).size(), s.cpus.size());
  }
  auto s = sample_cpus(h, h.online_cpus(), 0, 16);
  EXPECT_EQ(s.summary(h), "16 of 128 CPUs (smt 1, llc 2, package 6, numa 6 from CPU 0)");
}

TEST(CpuSample, SameTopologySameSampleWhateverTheOrder) {
  HostInfo h = machine(2, 2, 4, 2);
  auto cpus = h.online_cpus();
  auto a = sample_cpus(h, cpus, 0, 8);
  std::reverse(cpus.begin(), cpus.end());
  auto b = sample_cpus(h, cpus, 0, 8);
  EXPECT_EQ(a.cpus, b.cpus);
}

TEST(CpuSample, AnchorMustBeAmongTheCpus) {
  HostInfo h = machine(1, 1, 4, 1);
  EXPECT_THROW(sample_cpus(h, {1, 2, 3}, 0, 2), std::invalid_argument);
}

TEST(CpuSample, UnknownTopologyStillBounded) {
  HostInfo h = HostInfo::from_meta({{"cpu", {{"topology", nlohmann::json::array()}}}});
  std::vector<int> cpus;
  for (int c = 0; c < 64; ++c) cpus.push_back(c);
  auto s = sample_cpus(h, cpus, 0, 16);
  EXPECT_EQ(s.cpus.size(), 16u);
  EXPECT_EQ(s.of, 64u);
}
