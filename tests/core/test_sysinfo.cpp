// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "host/sysinfo.h"

using kperflab::HostInfo;

TEST(Sysfs, ParseCpuList) {
  using kperflab::sysfs::parse_cpu_list;
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_TRUE(parse_cpu_list("").empty());
  EXPECT_THROW(parse_cpu_list("3-1"), std::invalid_argument);
  EXPECT_THROW(parse_cpu_list("a"), std::invalid_argument);
  EXPECT_THROW(parse_cpu_list("1-"), std::invalid_argument);
}

// The real host: topology matches what the kernel says about itself.
TEST(HostInfo, CollectsThisHost) {
  HostInfo h = kperflab::collect_host_info();
  const auto& p = h.provenance();
  EXPECT_EQ(h.online_count(), static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_EQ(p["cpu"]["online_count"], h.online_count());
  ASSERT_FALSE(h.cpus().empty());
  for (auto& c : h.cpus()) {
    if (!c.online) continue;
    EXPECT_GE(c.core, 0) << "cpu " << c.cpu;
    EXPECT_FALSE(c.smt_siblings.empty()) << "cpu " << c.cpu;
  }
  EXPECT_TRUE(p["kernel"]["release"].is_string());
  // Every null carries its reason.
  for (const char* sect : {"host", "kernel", "cpu"})
    for (auto& [k, v] : p[sect].items()) {
      if (v.is_null()) {
        EXPECT_TRUE(p[sect]["unavailable"].contains(k)) << sect << "." << k;
      }
    }
  // The config is found on this host (CI: /proc/config.gz or /boot) or explained.
  if (p["kernel"]["config"].is_null()) {
    EXPECT_TRUE(p["kernel"]["unavailable"].contains("config"));
  } else {
    EXPECT_EQ(p["kernel"]["config"]["sha256"].get<std::string>().size(), 64u);
  }
}

TEST(HostInfo, DistanceFromMetaTopology) {
  nlohmann::json meta = {{"cpu", {{"topology", nlohmann::json::array({
      {{"cpu", 0}, {"online", true}, {"core", 0}, {"package", 0}, {"llc", 0}, {"node", 0}, {"smt_siblings", {0, 1}}},
      {{"cpu", 1}, {"online", true}, {"core", 0}, {"package", 0}, {"llc", 0}, {"node", 0}, {"smt_siblings", {0, 1}}},
      {{"cpu", 2}, {"online", true}, {"core", 1}, {"package", 0}, {"llc", 0}, {"node", 0}, {"smt_siblings", {2}}},
      {{"cpu", 3}, {"online", true}, {"core", 2}, {"package", 0}, {"llc", 1}, {"node", 0}, {"smt_siblings", {3}}},
      {{"cpu", 4}, {"online", true}, {"core", 0}, {"package", 1}, {"llc", 2}, {"node", 1}, {"smt_siblings", {4}}},
      {{"cpu", 5}, {"online", false}}})}}}};
  HostInfo h = HostInfo::from_meta(meta);
  using D = kperflab::CpuDistance;
  EXPECT_EQ(h.distance(0, 0), D::same);
  EXPECT_EQ(h.distance(0, 1), D::smt);
  EXPECT_EQ(h.distance(0, 2), D::llc);
  EXPECT_EQ(h.distance(0, 3), D::package);
  EXPECT_EQ(h.distance(0, 4), D::numa);
  EXPECT_EQ(h.distance(0, 9), D::unknown);
  EXPECT_EQ(h.online_count(), 5u);
}
