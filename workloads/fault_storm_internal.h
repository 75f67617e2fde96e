// SPDX-License-Identifier: GPL-2.0-only
// Shared by the parts of the fault storm (fault_storm.h): fault_storm.cpp
// (the storm and its threads), fault_storm_loops.cpp (what a fault thread
// and a writer do) and fault_storm_setup.cpp (names, checks, the backing
// file, the memory a storm needs). Not for readers.
#pragma once

#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "fault_storm.h"

namespace kperflab::workloads::detail {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
constexpr unsigned kMaxThreads = 1024;     // fault threads, and writers, each
constexpr uint64_t kBatch = 64;            // pages between two looks at the stop flag
constexpr uint64_t kSliceNs = 10'000'000;  // longest sleep between two looks at it

[[noreturn]] inline void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

inline void check(int rc, const char* what) {
  if (rc != 0) fail(what);
}

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

inline rusage thread_rusage() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru;
}

// An mmap()ed range, unmapped when it goes: neither a stop nor an error
// leaves one behind.
class Mapping {
 public:
  Mapping(size_t len, int prot, int flags, int fd = -1) : len_(len) {
    void* p = mmap(nullptr, len, prot, flags, fd, 0);
    if (p == MAP_FAILED) fail("mmap " + std::to_string(len) + " bytes");
    addr_ = static_cast<char*>(p);
  }
  ~Mapping() { munmap(addr_, len_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* data() const { return addr_; }

 private:
  char* addr_ = nullptr;
  size_t len_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Shared with the cow children (MAP_SHARED survives fork): the stop flag a
// child polls between batches, and the page count it reports back.
struct Shared {
  std::atomic<uint32_t> stop{0};
  alignas(64) std::atomic<uint64_t> child_pages[kMaxThreads];
};
static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free,
              "atomics shared with a forked child must be lock-free");

// One thread's tid and counters; written by that thread, read after join.
struct alignas(64) Slot {
  std::atomic<pid_t> tid{0};
  uint64_t pages = 0, minflt = 0, majflt = 0, iterations = 0, ops = 0;
};

// Absolute schedule: item n is due at t0 + n / rate, so time spent in
// mmap, munmap or fork is made up for rather than added to every period.
struct Pacer {
  uint64_t t0 = 0;
  double ns_per_item = 0;  // 0: back to back
  uint64_t due(uint64_t n) const { return t0 + uint64_t(double(n) * ns_per_item); }
};

inline Pacer pacer(double rate) { return Pacer{now_ns(), rate > 0 ? 1e9 / rate : 0}; }

// About 5 ms of pages per batch when paced, so the sleeps stay few.
inline uint64_t batch_for(double rate) {
  return rate > 0 ? std::clamp<uint64_t>(uint64_t(rate / 200), 1, kBatch) : kBatch;
}

// Sleeps until `when` in slices of at most kSliceNs; false as soon as stop
// is set. Async-signal-safe: a cow child paces with it.
bool sleep_until(uint64_t when, const std::atomic<uint32_t>& stop);

// What a fault thread paces and stops by.
struct Run {
  const std::atomic<uint32_t>& stop;
  Pacer pace;
  uint64_t batch;
  bool stopped() const { return stop.load(std::memory_order_relaxed) != 0; }
};

// A fault thread's loop of each kind (fault_storm_loops.cpp), until stop.
void run_anon(const FaultStormConfig& cfg, Run& r, Slot& slot);
void run_file(const FaultStormConfig& cfg, Run& r, Slot& slot, int fd, size_t pages_per_fault);
void run_cow(const FaultStormConfig& cfg, Run& r, Slot& slot, std::atomic<uint64_t>& reported,
             const std::function<void()>& setup_done);

// One page above the program break and back (std::system_error if not).
void brk_round();

// One writer's round: two mmap_lock write acquisitions, the mm left as found.
class WriterRound {
 public:
  explicit WriterRound(WriterKind kind) : kind_(kind) {
    if (kind != WriterKind::mprotect) return;
    // Guard pages (PROT_NONE) on both sides: the toggled page never merges
    // into a neighbouring VMA, so no fault thread's region is split or
    // merged by it, and no fault can meet a read-only page.
    own_ = std::make_unique<Mapping>(3 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    check(mprotect(page(), kPage, PROT_READ | PROT_WRITE), "mprotect");
  }
  void operator()() {
    switch (kind_) {
      case WriterKind::none: return;
      case WriterKind::mmap_munmap: {
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        return;
      }
      case WriterKind::mprotect:
        check(mprotect(page(), kPage, PROT_READ), "mprotect(PROT_READ)");
        check(mprotect(page(), kPage, PROT_READ | PROT_WRITE), "mprotect(PROT_READ|PROT_WRITE)");
        return;
      case WriterKind::brk: brk_round(); return;
    }
  }

 private:
  char* page() const { return own_->data() + kPage; }
  WriterKind kind_;
  std::unique_ptr<Mapping> own_;  // mprotect
};

// The storm's setup (fault_storm_setup.cpp).
Fd unlinked_file(const std::string& dir);
std::string file_dir(const FaultStormConfig& cfg);
void populate(int fd, size_t len);
size_t measure_pages_per_fault(int fd, size_t len);
void validate(const FaultStormConfig& c);

}  // namespace kperflab::workloads::detail
