// SPDX-License-Identifier: GPL-2.0-only
// SysctlHold and recover_stale_holds against a plain file standing in for a
// /proc/sys entry, with the records in a temporary directory. A crash is a
// forked child that takes a hold and leaves with _exit (no destructors run).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <system_error>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sysctl_hold.h"

namespace kperflab {
namespace {

namespace fs = std::filesystem;

class SysctlHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kperflab-hold-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    setting_ = root_ / "numa_balancing";
    dir_ = root_ / "holds";
    set("1");
  }
  void TearDown() override { fs::remove_all(root_); }

  void set(const std::string& v) const { std::ofstream(setting_) << v << "\n"; }
  std::string value() const { return read_setting(setting_).value_or("<absent>"); }
  std::vector<fs::path> records() const {
    std::vector<fs::path> v;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_, ec)) v.push_back(e.path());
    return v;
  }
  // A process that holds the setting at `v` and dies without releasing it.
  pid_t crash_while_holding(const std::string& v) const {
    pid_t pid = fork();
    if (pid == 0) {
      try {
        auto* leaked = new SysctlHold(setting_, v, dir_);  // never released
        (void)leaked;
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return pid;
  }

  fs::path root_, setting_, dir_;
};

TEST_F(SysctlHoldTest, ReadSettingTrimsAndTellsAbsent) {
  set("  2 \n");
  EXPECT_EQ(read_setting(setting_), "2");
  EXPECT_EQ(read_setting(root_ / "no-such-setting"), std::nullopt);
}

TEST_F(SysctlHoldTest, RestoresOnDestruction) {
  {
    SysctlHold h(setting_, "0", dir_);
    EXPECT_EQ(h.original(), "1");
    EXPECT_EQ(h.held(), "0");
    EXPECT_EQ(value(), "0");
  }
  EXPECT_EQ(value(), "1");
  EXPECT_TRUE(records().empty());
}

TEST_F(SysctlHoldTest, RecordWrittenBeforeAndRemovedAfter) {
  SysctlHold h(setting_, "0", dir_);
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(records()[0], h.record());
  std::ifstream f(h.record());
  auto rec = nlohmann::json::parse(f);
  EXPECT_EQ(rec["schema"], "kperflab.hold/1");
  EXPECT_EQ(rec["path"], setting_.string());
  EXPECT_EQ(rec["original"], "1");
  EXPECT_EQ(rec["held"], "0");
  EXPECT_EQ(rec["pid"], getpid());
  h.release();
  EXPECT_EQ(value(), "1");
  EXPECT_TRUE(records().empty());
  h.release();  // idempotent
  EXPECT_EQ(value(), "1");
}

TEST_F(SysctlHoldTest, StaleRecordOfDeadPidIsApplied) {
  pid_t dead = crash_while_holding("0");
  ASSERT_EQ(value(), "0");
  ASSERT_EQ(records().size(), 1u);
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].action, RecoveredHold::Action::restored) << describe(done[0]);
  EXPECT_EQ(done[0].pid, dead);
  EXPECT_EQ(done[0].setting, setting_);
  EXPECT_EQ(value(), "1");
  EXPECT_TRUE(records().empty());
  EXPECT_TRUE(recover_stale_holds(dir_).empty());
}

TEST_F(SysctlHoldTest, RecordOfLivePidIsLeftAlone) {
  SysctlHold h(setting_, "0", dir_);
  EXPECT_TRUE(recover_stale_holds(dir_).empty());
  EXPECT_EQ(value(), "0");
  EXPECT_EQ(records().size(), 1u);
  // A second holder of the same setting is refused while the first lives.
  EXPECT_THROW(SysctlHold(setting_, "2", dir_), std::runtime_error);
  EXPECT_EQ(value(), "0");
}

TEST_F(SysctlHoldTest, ReusedPidCountsAsDead) {
  crash_while_holding("0");
  ASSERT_EQ(records().size(), 1u);
  fs::path rec = records()[0];
  auto doc = nlohmann::json::parse(std::ifstream(rec));
  doc["pid"] = getpid();  // alive, but not the process that wrote it
  doc["pid_start"] = 1;
  std::ofstream(rec) << doc.dump();
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].action, RecoveredHold::Action::restored) << describe(done[0]);
  EXPECT_EQ(value(), "1");
}

TEST_F(SysctlHoldTest, NewHoldAppliesStaleRecordOfSameSettingFirst) {
  crash_while_holding("0");
  ASSERT_EQ(value(), "0");
  {
    SysctlHold h(setting_, "0", dir_);
    EXPECT_EQ(h.original(), "1");  // not the 0 the crashed holder left
  }
  EXPECT_EQ(value(), "1");
  EXPECT_TRUE(records().empty());
}

TEST_F(SysctlHoldTest, ValueChangedByOthersIsNotOverwritten) {
  {
    SysctlHold h(setting_, "0", dir_);
    set("3");  // an administrator, meanwhile
  }
  EXPECT_EQ(value(), "3");
  EXPECT_TRUE(records().empty());
  crash_while_holding("0");
  set("2");
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].action, RecoveredHold::Action::unchanged) << describe(done[0]);
  EXPECT_EQ(value(), "2");
  EXPECT_TRUE(records().empty());
}

TEST_F(SysctlHoldTest, AbsentSettingIsRefusedAndItsStaleRecordDropped) {
  EXPECT_THROW(SysctlHold(root_ / "no-such-setting", "0", dir_), std::system_error);
  EXPECT_TRUE(records().empty());
  crash_while_holding("0");
  fs::remove(setting_);
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].action, RecoveredHold::Action::absent) << describe(done[0]);
  EXPECT_TRUE(records().empty());
  EXPECT_FALSE(fs::exists(setting_));  // never recreated as a plain file
}

TEST_F(SysctlHoldTest, UnreadableRecordIsReportedAndKept) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "garbage.json") << "{ not json";
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].action, RecoveredHold::Action::failed);
  EXPECT_TRUE(fs::exists(dir_ / "garbage.json"));
  EXPECT_EQ(value(), "1");
}

TEST_F(SysctlHoldTest, MissingRecordDirectoryIsNoRecords) {
  EXPECT_TRUE(recover_stale_holds(root_ / "nowhere").empty());
}

}  // namespace
}  // namespace kperflab
