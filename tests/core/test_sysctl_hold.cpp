// SPDX-License-Identifier: GPL-2.0-only
// SysctlHold and recover_stale_holds against a plain file standing in for a
// /proc/sys entry (under $KPERFLAB_HOLD_ROOT, the temporary directory that
// stands in for /), with the records in a temporary directory. A crash is a
// forked child that takes a hold and leaves with _exit (no destructors run).
// Hostile records (#27, item 9): a path kperflab never holds, a FIFO, a
// directory named *.json, the wrong mode or owner are skipped and reported.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <system_error>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/sysctl_hold.h"

namespace kperflab {
namespace {

namespace fs = std::filesystem;

class SysctlHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kperflab-hold-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    setting_ = root_ / "proc/sys/kernel/numa_balancing";
    fs::create_directories(setting_.parent_path());
    dir_ = root_ / "holds";
    setenv("KPERFLAB_HOLD_ROOT", root_.c_str(), 1);
    set("1");
  }
  void TearDown() override {
    unsetenv("KPERFLAB_HOLD_ROOT");
    fs::remove_all(root_);
  }

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
  EXPECT_EQ(done[0].action, RecoveredHold::Action::refused);  // skipped, reported
  EXPECT_TRUE(fs::exists(dir_ / "garbage.json"));
  EXPECT_EQ(value(), "1");
}

TEST_F(SysctlHoldTest, ReleaseNowPutsBackWhatIsHeldAndDropsTheRecord) {
  // What a second ^C does from the signal handler, before _exit.
  std::optional<SysctlHold> h(std::in_place, setting_, "0", dir_);
  ASSERT_EQ(value(), "0");
  release_holds_now();
  EXPECT_EQ(value(), "1");
  EXPECT_TRUE(records().empty());
  release_holds_now();  // nothing armed any more: nothing happens
  EXPECT_EQ(value(), "1");
  set("7");  // the destructor must not fight a later value either
  h.reset();
  EXPECT_EQ(value(), "7");
}

TEST_F(SysctlHoldTest, ReleaseNowLeavesAValueChangedSince) {
  SysctlHold h(setting_, "0", dir_);
  set("5");
  release_holds_now();
  EXPECT_EQ(value(), "5");
  EXPECT_TRUE(records().empty());
}

TEST_F(SysctlHoldTest, MissingRecordDirectoryIsNoRecords) {
  EXPECT_TRUE(recover_stale_holds(root_ / "nowhere").empty());
}

// --- AutogroupHold ----------------------------------------------------------
// Each test runs in a child with a session, hence an autogroup, of its own
// (setsid), so the session that runs ctest is never touched. "Another run"
// is a grandchild in that session: it shares the autogroup, as two kperflab
// runs of one terminal do.

int nice_now() { return read_autogroup().value_or(std::make_pair(0L, 99)).second; }

// Another run of the same session: holds the autogroup at -20, then on a
// byte releases ('r') or dies without releasing ('k', a crash).
class OtherRun {
 public:
  explicit OtherRun(const fs::path& dir) {
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      char ok = 1, cmd = 0;
      std::optional<AutogroupHold> h;
      try {
        h.emplace(-20, dir);
      } catch (const std::exception&) {
        ok = 0;
      }
      (void)!write(ready[1], &ok, 1);
      (void)!read(go[0], &cmd, 1);
      if (cmd == 'k') _exit(0);  // no destructor: the record stays
      h.reset();
      _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    to_ = go[1];
    char ok = 0;
    ok_ = read(ready[0], &ok, 1) == 1 && ok;
    close(ready[0]);
  }
  bool ok() const { return ok_; }
  void release() { finish('r'); }
  void crash() { finish('k'); }
  ~OtherRun() { finish('r'); }

 private:
  void finish(char c) {
    if (pid_ <= 0) return;
    (void)!write(to_, &c, 1);
    close(to_);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  int to_ = -1;
  bool ok_ = false;
};

class AutogroupHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!read_autogroup())
      GTEST_SKIP() << "no autogroups here (CONFIG_SCHED_AUTOGROUP=n or kernel.sched_autogroup_enabled=0)";
    if (geteuid() != 0) GTEST_SKIP() << "raising an autogroup's priority needs CAP_SYS_NICE (root)";
    std::string tmpl = (fs::temp_directory_path() / "kperflab-aghold-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Runs `body` in a new session; the test fails when the body did.
  template <class F>
  void in_own_session(F body) {
    std::fflush(stdout);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto before = read_autogroup();
      if (setsid() < 0 || !read_autogroup() || read_autogroup()->first == before->first) _exit(3);
      body();
      std::fflush(stdout);
      _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "session child status " << st;
  }
  size_t records() const {
    size_t n = 0;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_, ec)) n += e.path().extension() == ".json";
    return n;
  }
  fs::path dir_;
};

TEST_F(AutogroupHoldTest, RaisesAndRestores) {
  in_own_session([&] {
    EXPECT_EQ(nice_now(), 0);
    {
      AutogroupHold h(-20, dir_);
      EXPECT_TRUE(h.active());
      EXPECT_EQ(nice_now(), -20);
      EXPECT_EQ(records(), 1u);
    }
    EXPECT_EQ(nice_now(), 0);
    EXPECT_EQ(records(), 0u);
  });
}

TEST_F(AutogroupHoldTest, OverlappingRunsRestoreAfterTheLastOneOnly) {
  in_own_session([&] {
    std::optional<AutogroupHold> mine(std::in_place, -20, dir_);
    OtherRun other(dir_);  // started second: it reads -20, but its original is ours (0)
    ASSERT_TRUE(other.ok());
    mine.reset();  // the first run ends while the second still spins
    EXPECT_EQ(nice_now(), -20) << "restored under a run that still holds it";
    other.release();
    EXPECT_EQ(nice_now(), 0) << "the last run must put back the value before the first hold";
    EXPECT_EQ(records(), 0u);
  });
}

TEST_F(AutogroupHoldTest, KilledRunIsRestoredByTheNextInvocation) {
  in_own_session([&] {
    OtherRun other(dir_);
    ASSERT_TRUE(other.ok());
    other.crash();
    EXPECT_EQ(nice_now(), -20);
    EXPECT_EQ(records(), 1u);
    auto done = recover_stale_holds(dir_);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].action, RecoveredHold::Action::restored) << describe(done[0]);
    EXPECT_EQ(nice_now(), 0);
    EXPECT_EQ(records(), 0u);
  });
}

TEST_F(AutogroupHoldTest, KilledRunBesideALiveOneLeavesTheValueToIt) {
  in_own_session([&] {
    OtherRun other(dir_);
    ASSERT_TRUE(other.ok());
    std::optional<AutogroupHold> mine(std::in_place, -20, dir_);
    other.crash();
    auto done = recover_stale_holds(dir_);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].action, RecoveredHold::Action::shared) << describe(done[0]);
    EXPECT_EQ(nice_now(), -20);
    mine.reset();
    EXPECT_EQ(nice_now(), 0);
    EXPECT_EQ(records(), 0u);
  });
}

TEST_F(AutogroupHoldTest, ValueChangedMeanwhileIsKept) {
  in_own_session([&] {
    {
      AutogroupHold h(-20, dir_);
      std::ofstream("/proc/self/autogroup") << 5 << std::flush;
    }
    EXPECT_EQ(nice_now(), 5);
    EXPECT_EQ(records(), 0u);
  });
}

// --- hostile records (#27, item 9) -----------------------------------------

// A record as a crashed kperflab would leave it, but naming `setting`.
void plant_record(const fs::path& dir, const std::string& name, const fs::path& setting) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  nlohmann::json doc = {{"schema", "kperflab.hold/1"}, {"path", setting.string()},
                        {"original", "PWNED"}, {"held", "0"}, {"pid", 999999999},
                        {"pid_start", 0}};
  std::ofstream(dir / name) << doc.dump();
  fs::permissions(dir / name, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
}

bool skipped(const RecoveredHold& r) { return describe(r).starts_with("skipped "); }

TEST_F(SysctlHoldTest, RecordNamingAFileOutsideIsNotApplied) {
  fs::path victim = root_ / "etc/victim";
  fs::create_directories(victim.parent_path());
  std::ofstream(victim) << "0\n";
  std::string name = victim.string();
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  name.erase(0, name.find_first_not_of('_'));
  plant_record(dir_, name + ".json", victim);
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(skipped(done[0])) << describe(done[0]);
  EXPECT_NE(describe(done[0]).find("not under /proc/sys"), std::string::npos) << describe(done[0]);
  EXPECT_EQ(read_setting(victim), "0");  // not "PWNED"
  EXPECT_TRUE(fs::exists(dir_ / (name + ".json")));  // reported, left for a human
}

TEST_F(SysctlHoldTest, RecordWhoseNameIsNotItsSettingsIsNotApplied) {
  crash_while_holding("0");
  plant_record(dir_, "other.json", setting_);  // a real setting, a foreign record name
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 2u);
  size_t n_skipped = 0;
  for (auto& r : done) n_skipped += skipped(r);
  EXPECT_EQ(n_skipped, 1u);
  EXPECT_EQ(value(), "1");  // the genuine record, never PWNED
}

TEST_F(SysctlHoldTest, DirectoryNamedLikeARecordBlocksNothing) {
  crash_while_holding("0");
  fs::create_directories(dir_ / "a.json");
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 2u);
  size_t restored = 0, n_skipped = 0;
  for (auto& r : done) {
    restored += r.action == RecoveredHold::Action::restored;
    n_skipped += skipped(r) && describe(r).find("a directory") != std::string::npos;
  }
  EXPECT_EQ(restored, 1u);
  EXPECT_EQ(n_skipped, 1u);
  EXPECT_EQ(value(), "1");
}

// A FIFO where a record should be: a reader that opens it blocks forever.
// Run in a child with an alarm, so that a hang fails instead of stalling.
TEST_F(SysctlHoldTest, FifoRecordIsSkippedAtOnce) {
  crash_while_holding("0");
  ASSERT_EQ(mkfifo((dir_ / "fifo.json").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((dir_ / "autogroup-1.1.json").c_str(), 0600), 0);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    auto done = recover_stale_holds(dir_);
    size_t n_skipped = 0;
    for (auto& r : done) n_skipped += skipped(r) && describe(r).find("FIFO") != std::string::npos;
    _exit(n_skipped == 2 && done.size() == 3 ? 0 : 3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_EQ(value(), "1");
}

TEST_F(SysctlHoldTest, RecordWithLooseModeOrForeignOwnerIsNotApplied) {
  crash_while_holding("0");
  ASSERT_EQ(records().size(), 1u);
  fs::path rec = records()[0];
  fs::permissions(rec, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read,
                  fs::perm_options::replace);
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(skipped(done[0])) << describe(done[0]);
  EXPECT_NE(describe(done[0]).find("mode 0604"), std::string::npos) << describe(done[0]);
  EXPECT_EQ(value(), "0");
  if (geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  fs::permissions(rec, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  ASSERT_EQ(chown(rec.c_str(), 4321, 4321), 0);
  done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(describe(done[0]).find("uid 4321"), std::string::npos) << describe(done[0]);
  EXPECT_EQ(value(), "0");
}

TEST_F(SysctlHoldTest, RecordDirectoryOpenToOthersIsNotTrusted) {
  crash_while_holding("0");
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::others_all, fs::perm_options::replace);
  auto done = recover_stale_holds(dir_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(skipped(done[0])) << describe(done[0]);
  EXPECT_NE(describe(done[0]).find("not 0700"), std::string::npos) << describe(done[0]);
  EXPECT_EQ(value(), "0");
}

TEST_F(SysctlHoldTest, RecordsAre0600InA0700Directory) {
  SysctlHold h(setting_, "0", dir_);
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(stat(h.record().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

}  // namespace
}  // namespace kperflab
