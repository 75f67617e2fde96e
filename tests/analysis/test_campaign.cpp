// SPDX-License-Identifier: GPL-2.0-only
// `kperflab campaign` (issue #17): boots per side, boots still needed, and
// the next step (run now, or reboot first) from synthetic bundles with boot
// ids and kernel releases.
#include <gtest/gtest.h>

#include "analysis/campaign.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::compare::Side;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;
namespace campaign = kperflab::campaign;

namespace {

Side boots(const fs::path& dir, const std::string& release, unsigned n, double scale,
           double noise = 0.01, uint64_t seed = 1) {
  SynthSpec s;
  s.metrics = 2;
  s.repetitions = 4;
  s.samples = 300;
  s.release = release;
  s.scale = scale;
  s.boot_noise = noise;
  for (unsigned i = 0; i < n; ++i) {
    s.seed = seed + i;
    s.boot_id = release + "-boot" + std::to_string(i);
    write_synth_bundle(dir / s.boot_id, s);
  }
  return Side::load(dir);
}

TEST(Campaign, RunNowOnTheKernelThatLagsAndRebootWhenThisBootCounted) {
  kperflab::testing::TmpDir t;
  Side a = boots(t.path / "a", "6.12-a", 3, 1.0);
  Side b = boots(t.path / "b", "6.12-b", 1, 1.0);
  auto s = campaign::assess("tag:base", a, "tag:nohz", b, {}, "a-fresh-boot", "6.12-b", 3);
  EXPECT_EQ(s.a.boots, 3u);
  EXPECT_EQ(s.b.boots, 1u);
  EXPECT_FALSE(s.done);
  EXPECT_EQ(s.needed, 3u);
  EXPECT_NE(s.next.find("run now"), std::string::npos) << s.next;
  EXPECT_NE(s.next.find("--tag nohz"), std::string::npos) << s.next;
  EXPECT_NE(s.next.find("2 more boots"), std::string::npos) << s.next;
  // This boot already ran for tag:nohz: another run in it adds no boot.
  s = campaign::assess("tag:base", a, "tag:nohz", b, {}, "6.12-b-boot0", "6.12-b", 3);
  EXPECT_TRUE(s.b.this_boot);
  EXPECT_NE(s.next.find("reboot into 6.12-b"), std::string::npos) << s.next;
  // On the other kernel, which has its boots: reboot into the lagging one.
  s = campaign::assess("tag:base", a, "tag:nohz", b, {}, "x", "6.12-a", 3);
  EXPECT_NE(s.next.find("reboot into 6.12-b"), std::string::npos) << s.next;
  EXPECT_NE(campaign::text(s).find("tag:nohz: 1 boot of 6.12-b"), std::string::npos)
      << campaign::text(s);
}

TEST(Campaign, DoneWhenBothSidesHaveTheBootsCompareNeeds) {
  kperflab::testing::TmpDir t;
  Side a = boots(t.path / "a", "6.12-a", 3, 1.0, 0.01, 1);
  Side b = boots(t.path / "b", "6.12-b", 3, 1.4, 0.01, 50);
  auto s = campaign::assess("tag:a", a, "tag:b", b, {}, "x", "6.12-a", 3);
  EXPECT_TRUE(s.done) << s.why << " / " << s.next;
  EXPECT_NE(s.next.find("kperflab compare tag:a tag:b"), std::string::npos);
  // --boots raises the floor.
  s = campaign::assess("tag:a", a, "tag:b", b, {}, "x", "6.12-a", 5);
  EXPECT_FALSE(s.done);
  EXPECT_EQ(s.needed, 5u);
}

TEST(Campaign, UndecidedChangesAskForMoreBoots) {
  kperflab::testing::TmpDir t;
  // A 12 % shift under a 6 % boot-to-boot spread: beyond the noise, not
  // significant with 3 v 3 boots.
  Side a = boots(t.path / "a", "6.12-a", 3, 1.0, 0.06, 1);
  Side b = boots(t.path / "b", "6.12-b", 3, 1.12, 0.06, 50);
  auto s = campaign::assess("tag:a", a, "tag:b", b, {}, "x", "6.12-a", 3);
  EXPECT_GT(s.needed, 3u) << s.why;
  EXPECT_FALSE(s.done);
  EXPECT_NE(s.why.find("undecided"), std::string::npos) << s.why;
}

TEST(Campaign, AStartWithNothingRunSaysWhatToRun) {
  Side none;
  none.label = "tag:base";
  kperflab::testing::TmpDir t;
  Side b;
  b.label = "tag:nohz";
  auto s = campaign::assess("tag:base", none, "tag:nohz", b, {}, "x", "6.12-a", 3);
  EXPECT_EQ(s.a.boots, 0u);
  EXPECT_NE(s.next.find("--tag base"), std::string::npos) << s.next;
  EXPECT_NE(s.next.find("3 boots needed"), std::string::npos) << s.next;
}

}  // namespace
