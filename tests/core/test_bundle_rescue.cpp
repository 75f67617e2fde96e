// SPDX-License-Identifier: GPL-2.0-only
// A full disk during a run loses nothing: files the bundle cannot take go
// to the rescue directory and are listed. The disk is a 256 KiB tmpfs in a
// private mount namespace (root only; skipped otherwise).
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/tmpdir.h"
#include "results/bundle.h"

namespace kperflab {
namespace {

namespace fs = std::filesystem;

nlohmann::json small_meta() {
  return {{"schema", kMetaSchema}, {"host", {{"hostname", "h"}}}, {"kernel", {{"release", "r"}}}};
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class BundleRescueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      GTEST_SKIP() << "no private mount namespace here: " << strerror(errno);
    disk_ = tmp_.path / "disk";
    fs::create_directories(disk_);
    ASSERT_EQ(mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=256k"), 0) << strerror(errno);
    setenv("KPERFLAB_RESCUE_DIR", (tmp_.path / "rescue").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("KPERFLAB_RESCUE_DIR");
    if (!disk_.empty()) umount2(disk_.c_str(), MNT_DETACH);
  }
  testing::TmpDir tmp_;
  fs::path disk_;
};

TEST_F(BundleRescueTest, WhatTheDiskCannotTakeIsSavedAndListed) {
  BundleWriter w(disk_ / "b", small_meta(), true);
  EXPECT_TRUE(w.write_failures().empty());
  // 1 MiB of measurements into a 256 KiB disk.
  nlohmann::json big = {{"probe", "p"}, {"data", std::string(1 << 20, 'x')}};
  w.write_json("p.json", big);
  ASSERT_EQ(w.write_failures().size(), 1u);
  const std::string& line = w.write_failures()[0];
  EXPECT_NE(line.find("p.json"), std::string::npos) << line;
  EXPECT_NE(line.find("No space left on device"), std::string::npos) << line;
  fs::path saved = tmp_.path / "rescue" / ("kperflab-rescue-" + w.dir().filename().string()) / "p.json";
  EXPECT_NE(line.find(saved.string()), std::string::npos) << line;
  EXPECT_EQ(nlohmann::json::parse(slurp(saved)), big);
  EXPECT_FALSE(fs::exists(w.dir() / "p.json"));
  EXPECT_FALSE(fs::exists(w.dir() / ".p.json.tmp")) << "no half-written temporary is left";

  // The same file failing again stays one line; small files still fit.
  w.write_json("p.json", big);
  EXPECT_EQ(w.write_failures().size(), 1u);
  w.finish(false);
  EXPECT_EQ(w.write_failures().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(slurp(w.dir() / "meta.json"))["status"], "partial");
}

TEST_F(BundleRescueTest, RescueThatFailsTooSaysLost) {
  setenv("KPERFLAB_RESCUE_DIR", (disk_ / "also-full").c_str(), 1);
  BundleWriter w(disk_ / "b", small_meta(), true);
  w.write_file("blob", std::string(1 << 20, 'y'));
  ASSERT_EQ(w.write_failures().size(), 1u);
  EXPECT_NE(w.write_failures()[0].find("LOST"), std::string::npos) << w.write_failures()[0];
}

}  // namespace
}  // namespace kperflab
