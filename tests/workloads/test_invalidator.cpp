// SPDX-License-Identifier: GPL-2.0-only
// Each invalidation generator really takes the pages (or their write
// permission) away, and the rate control holds.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "invalidator.h"

using namespace kperflab::workloads;

namespace {

Invalidator::Config cfg(InvalKind k, double rate = 0, int threads = 1, uint64_t max_ops = 0,
                        const volatile uint32_t* gate = nullptr) {
  Invalidator::Config c;
  c.kind = k;
  c.rate_hz = rate;
  c.threads = threads;
  c.max_ops = max_ops;
  c.gate = gate;
  return c;
}

constexpr size_t kLen = 64 * 4096;

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt;
}

// Faults taken by the touch inside one invalidate_once on a touched buffer.
long faults_of(InvalKind k, AnonBuffer& buf) {
  buf.touch();
  long before = minor_faults();
  invalidate_once(k, buf.data(), buf.size());
  return minor_faults() - before;
}

// The permissions column of /proc/self/maps for the mapping holding p.
std::string perms_of(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    uintptr_t lo, hi;
    char dash;
    std::string perms;
    in >> std::hex >> lo >> dash >> hi >> perms;
    if (a >= lo && a < hi) return perms;
  }
  return "";
}

}  // namespace

TEST(Invalidator, NamesRoundTripAndUnknownIsNamed) {
  for (auto k : kAllInvalKinds) EXPECT_EQ(parse_inval_kind(to_string(k)), k);
  try {
    parse_inval_kind("bogus");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos);
  }
}

TEST(Invalidator, PageTakingKindsRefaultEveryPage) {
  const long pages = kLen / 4096;
  for (auto k : {InvalKind::madv_dontneed, InvalKind::munmap_mmap, InvalKind::fork_cow}) {
    AnonBuffer buf(kLen);
    EXPECT_GE(faults_of(k, buf), pages) << to_string(k);
  }
  AnonBuffer quiet(kLen);
  quiet.touch();
  long before = minor_faults();
  quiet.touch();
  EXPECT_LT(minor_faults() - before, pages) << "touching a resident buffer refaults: test is blind";
}

TEST(Invalidator, ClearRefsWriteProtectsForSoftDirty) {
  AnonBuffer buf(kLen);
  if (auto why = inval_unavailable(InvalKind::clear_refs, buf); !why.empty()) GTEST_SKIP() << why;
  EXPECT_GE(faults_of(InvalKind::clear_refs, buf), long(kLen / 4096));
}

TEST(Invalidator, MprotectTogglesWritePermission) {
  AnonBuffer buf(kLen);
  invalidate_once(InvalKind::mprotect, buf.data(), buf.size(), 0);
  EXPECT_EQ(perms_of(buf.data()).substr(0, 2), "r-");
  invalidate_once(InvalKind::mprotect, buf.data(), buf.size(), 1);
  EXPECT_EQ(perms_of(buf.data()).substr(0, 2), "rw");
}

TEST(Invalidator, MigrationNeedsTwoNodes) {
  AnonBuffer buf(kLen);
  auto why = inval_unavailable(InvalKind::migrate, buf);
  if (!why.empty()) GTEST_SKIP() << why;
  buf.touch();
  EXPECT_NO_THROW(invalidate_once(InvalKind::migrate, buf.data(), buf.size()));
}

TEST(Invalidator, ThpSplitRefaults) {
  AnonBuffer buf(4UL << 20, true);
  if (auto why = inval_unavailable(InvalKind::thp_split, buf); !why.empty()) GTEST_SKIP() << why;
  EXPECT_GE(faults_of(InvalKind::thp_split, buf), 2);  // at least one refault per 2 MiB
  AnonBuffer small(kLen);
  EXPECT_FALSE(inval_unavailable(InvalKind::thp_split, small).empty());
}

TEST(Invalidator, RateControlHolds) {
  AnonBuffer buf(kLen);
  for (int threads : {1, 2}) {
    Invalidator inv(cfg(InvalKind::madv_dontneed, 200, threads), buf);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    inv.stop();
    EXPECT_EQ(inv.error(), "");
    EXPECT_GE(inv.ops(), 160u) << threads << " threads";
    EXPECT_LE(inv.ops(), 240u) << threads << " threads";
    EXPECT_EQ(inv.latency().count(), inv.ops());
  }
  // Unpaced, 300 operations take far less than the 1.5 s they take at
  // 200/s: a fixed count rather than a fixed time, so a loaded machine that
  // gives the thread little CPU (seen: 151 ops in 300 ms with two builds
  // running) cannot fail the check, only a limiter that paces when it must not.
  Invalidator fast(cfg(InvalKind::madv_dontneed, 0, 1, 300), buf);
  auto start = std::chrono::steady_clock::now();
  while (fast.ops() < 300 && std::chrono::steady_clock::now() - start < std::chrono::seconds(1))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto took = std::chrono::steady_clock::now() - start;
  fast.stop();
  EXPECT_EQ(fast.ops(), 300u) << "back to back is not faster than 300 per second, took "
                              << std::chrono::duration<double>(took).count() << " s";
}

TEST(Invalidator, MaxOpsAndGate) {
  AnonBuffer buf(kLen);
  volatile uint32_t gate = 0;
  Invalidator inv(cfg(InvalKind::mprotect, 0, 1, 7, &gate), buf);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(inv.ops(), 0u) << "ran before the gate opened";
  gate = 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  inv.stop();
  EXPECT_EQ(inv.ops(), 7u);
  EXPECT_EQ(perms_of(buf.data()).substr(0, 2), "rw") << "mprotect left the buffer read-only";
}

TEST(Invalidator, RejectsBadConfig) {
  AnonBuffer buf(kLen);
  EXPECT_THROW(Invalidator(cfg(InvalKind::madv_dontneed, -1), buf), std::invalid_argument);
  EXPECT_THROW(Invalidator(cfg(InvalKind::madv_dontneed, 0, 0), buf), std::invalid_argument);
  EXPECT_THROW(Invalidator(cfg(InvalKind::madv_dontneed, 0, 100), buf), std::invalid_argument);  // 64 pages
}
