// SPDX-License-Identifier: GPL-2.0-only
// Invalidation generators for the mmu notifier probe: operations on an
// anonymous private buffer of this process that make the kernel call the
// mmu notifiers of that range, at a controlled rate or back to back, from
// one or several threads (each thread owns a page-aligned slice, so a
// munmap in one never faults the others).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/histogram.h"

namespace kperflab::workloads {

// Each kind and the mmu_notifier_event the kernel reports for it.
enum class InvalKind {
  munmap_mmap,    // UNMAP: munmap + mmap(MAP_FIXED) + touch
  madv_dontneed,  // CLEAR: madvise(MADV_DONTNEED) + touch
  mprotect,       // PROTECTION_VMA: toggle PROT_READ <-> PROT_READ|PROT_WRITE
  migrate,        // CLEAR (per page): move_pages to the other NUMA node
  fork_cow,       // PROTECTION_PAGE: fork (child exits), then write (COW: CLEAR)
  clear_refs,     // SOFT_DIRTY: "4" > /proc/self/clear_refs (whole mm), then write
  thp_split,      // CLEAR: DONTNEED of one 4K page splits the huge PMD; refault a THP
};
inline constexpr InvalKind kAllInvalKinds[] = {
    InvalKind::munmap_mmap, InvalKind::madv_dontneed, InvalKind::mprotect, InvalKind::migrate,
    InvalKind::fork_cow,    InvalKind::clear_refs,    InvalKind::thp_split};

std::string_view to_string(InvalKind k);
// Throws std::invalid_argument naming the unknown kind.
InvalKind parse_inval_kind(std::string_view name);
// The enum mmu_notifier_event value the kernel reports (6.1..6.12).
int notifier_event(InvalKind k);

// An anonymous private mapping, page (or 2 MiB for THP) aligned; unmapped
// on destruction.
class AnonBuffer {
 public:
  explicit AnonBuffer(size_t len, bool huge_aligned = false);
  ~AnonBuffer();
  AnonBuffer(const AnonBuffer&) = delete;
  AnonBuffer& operator=(const AnonBuffer&) = delete;
  char* data() const { return addr_; }
  size_t size() const { return len_; }
  void touch() const;  // writes one byte per page

 private:
  char* addr_ = nullptr;
  char* map_ = nullptr;
  size_t len_ = 0, map_len_ = 0;
};

// "" when the kind can run on this buffer and host, else the reason.
std::string inval_unavailable(InvalKind k, const AnonBuffer& buf);

// One invalidation of [addr, addr+len); seq is the caller's operation
// number (mprotect: even write-protects, odd restores). Throws
// std::system_error.
void invalidate_once(InvalKind k, char* addr, size_t len, uint64_t seq = 0);

class Invalidator {
 public:
  struct Config {
    InvalKind kind = InvalKind::madv_dontneed;
    double rate_hz = 0;        // total over threads; 0 = back to back
    int threads = 1;
    std::vector<int> cpus;     // thread i pinned to cpus[i % size]; empty: not pinned
    uint64_t max_ops = 0;      // total; 0 = until stop()
    // Optional gate (e.g. the module's ready word): wait while 0, stop at >= 2.
    const volatile uint32_t* gate = nullptr;
  };
  // Checks the kind (inval_unavailable) and starts the threads.
  Invalidator(const Config& cfg, AnonBuffer& buf);
  ~Invalidator();
  Invalidator(const Invalidator&) = delete;
  Invalidator& operator=(const Invalidator&) = delete;

  void stop();                  // joins; idempotent
  uint64_t ops() const { return ops_.load(); }
  // Per-operation latency (ns), merged over threads; valid after stop().
  const Histogram& latency() const { return latency_; }
  // First error of a thread, "" if none; valid after stop().
  const std::string& error() const { return error_; }

 private:
  void run(int idx, char* addr, size_t len);
  Config cfg_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ops_{0};
  std::vector<Histogram> per_thread_;
  std::vector<std::string> errors_;
  std::vector<std::thread> threads_;
  Histogram latency_;
  std::string error_;
  bool stopped_ = false;
};

}  // namespace kperflab::workloads
