// SPDX-License-Identifier: GPL-2.0-only
// --tune (host/tune.h) on a fake root: a temporary directory standing in for
// /proc/sys and /sys, records in its own hold directory. A crash is a forked
// child that tunes and is killed with SIGKILL; then the next kperflab
// invocation, or `kperflab restore`, must put every value back, and a value
// someone changed meanwhile must stay.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "host/sysctl_hold.h"
#include "host/tune.h"

namespace kperflab {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::string> kOriginal = {
    {"proc/sys/kernel/nmi_watchdog", "1"},
    {"proc/sys/kernel/numa_balancing", "1"},
    {"sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "powersave"},
    {"sys/devices/system/cpu/cpufreq/policy1/scaling_governor", "performance"},
    {"sys/devices/system/cpu/intel_pstate/no_turbo", "0"},
};
const std::map<std::string, std::string> kTuned = {
    {"proc/sys/kernel/nmi_watchdog", "0"},
    {"proc/sys/kernel/numa_balancing", "0"},
    {"sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "performance"},
    {"sys/devices/system/cpu/cpufreq/policy1/scaling_governor", "performance"},
    {"sys/devices/system/cpu/intel_pstate/no_turbo", "1"},
};

class TuneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kperflab-tune-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ / "holds";
    // The fake root stands in for / in what a restore record may name
    // (host/hold_trust.h); the kperflab children inherit it.
    setenv("KPERFLAB_HOLD_ROOT", root_.c_str(), 1);
    for (auto& [rel, v] : kOriginal) set(rel, v);
  }
  void TearDown() override {
    unsetenv("KPERFLAB_HOLD_ROOT");
    fs::remove_all(root_);
  }

  void set(const std::string& rel, const std::string& v) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << v << "\n";
  }
  std::map<std::string, std::string> values() const {
    std::map<std::string, std::string> m;
    for (auto& [rel, v] : kOriginal) m[rel] = read_setting(root_ / rel).value_or("<absent>");
    return m;
  }
  size_t records() const {
    size_t n = 0;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_, ec)) n += e.path().extension() == ".json";
    return n;
  }
  TuneOptions opts() const { return {true, root_, dir_}; }
  // A process that tunes and is killed with SIGKILL while it holds.
  void crash_while_tuned() const {
    pid_t pid = fork();
    if (pid == 0) {
      auto* leaked = new Tuning(opts());  // never released
      (void)leaked;
      raise(SIGKILL);
      _exit(1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "status " << st;
  }
  int kperflab(const std::string& args) const {
    std::string cmd = "KPERFLAB_HOLD_DIR='" + dir_.string() + "' '" KPERFLAB_BIN "' " + args +
                      " >'" + (root_ / "out").string() + "' 2>&1";
    int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  std::string out() const {
    std::ifstream f(root_ / "out");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  fs::path root_, dir_;
};

TEST_F(TuneTest, AppliesAndRestores) {
  {
    Tuning t(opts());
    EXPECT_EQ(values(), kTuned);
    EXPECT_EQ(records(), 4u);  // policy1 was already performance: no record
    std::map<std::string, std::string> status;
    for (auto& it : t.items()) status[it.setting] = it.status;
    EXPECT_EQ(status["cpufreq governor policy0"], "tuned");
    EXPECT_EQ(status["cpufreq governor policy1"], "already");
    EXPECT_EQ(status["kernel.nmi_watchdog"], "tuned");
    EXPECT_EQ(status["kernel.numa_balancing"], "tuned");
    EXPECT_EQ(status["boost (intel_pstate/no_turbo)"], "tuned");
    EXPECT_EQ(status["C-states (PM QoS cpu_dma_latency)"], "absent");  // no device in a fake root
    EXPECT_EQ(t.summary(), "tuned 4, already 1, absent 1, failed 0");
    t.release();
    for (auto& it : t.items())
      if (it.status == "tuned") {
        EXPECT_EQ(it.restored, "yes") << it.setting;
      }
    auto j = t.to_json();
    EXPECT_EQ(j["boost_off"], true);
    EXPECT_EQ(j["settings"].size(), 6u);
  }
  EXPECT_EQ(values(), kOriginal);
  EXPECT_EQ(records(), 0u);
}

TEST_F(TuneTest, DestructorRestoresAndBoostStaysWithoutTheFlag) {
  {
    Tuning t({false, root_, dir_});
    EXPECT_EQ(read_setting(root_ / "sys/devices/system/cpu/intel_pstate/no_turbo"), "0");
  }
  EXPECT_EQ(values(), kOriginal);
}

// Settings this host lacks are reported, never an error; one that cannot be
// read or written is reported with its errno.
TEST_F(TuneTest, AbsentAndFailedAreReported) {
  fs::remove_all(root_ / "sys");
  fs::remove(root_ / "proc/sys/kernel/nmi_watchdog");
  fs::create_directories(root_ / "proc/sys/kernel/nmi_watchdog");  // reads fail: EISDIR
  Tuning t(opts());
  std::map<std::string, TuneItem> by;
  for (auto& it : t.items()) by[it.setting] = it;
  EXPECT_EQ(by["cpufreq governor"].status, "absent");
  EXPECT_EQ(by["boost (intel_pstate/no_turbo)"].status, "absent");
  EXPECT_EQ(by["kernel.nmi_watchdog"].status, "failed");
  EXPECT_EQ(by["kernel.nmi_watchdog"].err, EISDIR);
  EXPECT_EQ(by["kernel.numa_balancing"].status, "tuned");
  EXPECT_EQ(t.to_json()["settings"][2]["errno"], EISDIR);
}

TEST_F(TuneTest, CrashThenRestoreVerb) {
  crash_while_tuned();
  EXPECT_EQ(values(), kTuned);  // the crash left them changed ...
  EXPECT_EQ(records(), 4u);     // ... and said so first
  ASSERT_EQ(kperflab("restore"), 0) << out();
  EXPECT_EQ(values(), kOriginal);
  EXPECT_EQ(records(), 0u);
  EXPECT_NE(out().find("restored " + (root_ / "proc/sys/kernel/nmi_watchdog").string() + " to 1"),
            std::string::npos) << out();
  ASSERT_EQ(kperflab("restore"), 0);
  EXPECT_NE(out().find("nothing to restore"), std::string::npos) << out();
}

// Any next invocation applies the records of a dead run, before its own work.
TEST_F(TuneTest, CrashThenNextInvocationRestores) {
  crash_while_tuned();
  EXPECT_EQ(values(), kTuned);
  ASSERT_EQ(kperflab("list"), 0) << out();
  EXPECT_EQ(values(), kOriginal);
  EXPECT_EQ(records(), 0u);
}

// The next --tune after a crash starts from the values before the crash,
// not from what the crashed run had set.
TEST_F(TuneTest, CrashThenTuneAgainRestoresTheRealOriginals) {
  crash_while_tuned();
  {
    Tuning t(opts());
    EXPECT_EQ(values(), kTuned);
    for (auto& it : t.items())
      if (it.setting == "kernel.nmi_watchdog") {
        EXPECT_EQ(it.status, "tuned");
        EXPECT_EQ(it.from, "1");
      }
  }
  EXPECT_EQ(values(), kOriginal);
  EXPECT_EQ(records(), 0u);
}

TEST_F(TuneTest, ValueChangedMeanwhileIsKept) {
  crash_while_tuned();
  set("proc/sys/kernel/numa_balancing", "2");  // an admin, after the crash
  ASSERT_EQ(kperflab("restore"), 0) << out();
  auto want = kOriginal;
  want["proc/sys/kernel/numa_balancing"] = "2";
  EXPECT_EQ(values(), want);
  EXPECT_NE(out().find("changed since"), std::string::npos) << out();
  // And in a live run: release leaves someone else's value alone.
  set("proc/sys/kernel/numa_balancing", "1");
  Tuning t(opts());
  set("proc/sys/kernel/nmi_watchdog", "5");
  t.release();
  EXPECT_EQ(read_setting(root_ / "proc/sys/kernel/nmi_watchdog"), "5");
  EXPECT_EQ(read_setting(root_ / "proc/sys/kernel/numa_balancing"), "1");
  for (auto& it : t.items())
    if (it.setting == "kernel.nmi_watchdog") {
      EXPECT_EQ(it.restored, "kept 5 (changed by someone else)");
    }
}

}  // namespace
}  // namespace kperflab
