// SPDX-License-Identifier: GPL-2.0-only
// Page-fault storms for the mmap_lock probe: threads of this process that
// fault pages in, back to back or at a set rate, while optional writer
// threads in the same mm take mmap_lock for write against them.
//
// What a fault locks depends on the kernel: since 6.4 a fault first tries
// the faulting VMA's own lock (lock_vma_under_rcu) and takes mmap_lock for
// read only when that fails, e.g. while a writer has that VMA write-locked
// (munmap, mprotect or fork of it; not an mmap of some other range).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kperflab::workloads {

enum class FaultKind {
  // Per iteration: mmap region_bytes anonymous private, write one byte per
  // page (first-touch faults), munmap. MADV_NOHUGEPAGE on every region, so
  // THP (or mTHP) never maps 512 pages in one fault.
  anon,
  // One backing file of region_bytes per storm in file_dir, never linked
  // (O_TMPFILE, or unlinked right after creation), its pages brought into
  // the page cache once. Per iteration: mmap MAP_SHARED PROT_READ, read one
  // byte per fault-around block (pages_per_fault pages), munmap.
  //
  // Why not one byte per page: a read fault on a page-cache page maps the
  // whole cached block around it (fault_around_bytes, 64 KiB by default and
  // root-only to change; MADV_RANDOM does not stop it), so reading every
  // page faults once per 16 (4 KiB) pages and `rate` would not be faults per
  // second. The block is measured when the storm is built.
  file,
  // A private anonymous region_bytes mapping per thread, written once. Per
  // iteration: fork; the child writes one byte per page (a COW fault each,
  // in the child's mm) and exits; the parent reaps it with wait4, whose
  // rusage gives the child's faults.
  cow,
};
inline constexpr FaultKind kAllFaultKinds[] = {FaultKind::anon, FaultKind::file, FaultKind::cow};

// A writer's operation is one round that leaves the mm as it found it and
// takes mmap_lock for write twice.
enum class WriterKind {
  none,
  mmap_munmap,  // mmap one anonymous page (not populated), munmap it
  mprotect,     // PROT_READ, then PROT_READ|PROT_WRITE, on a page of the writer's own
  // The break one page up and back (raw brk on the break glibc last set).
  // glibc's main arena moves the break with absolute brk() calls of its
  // own: a malloc that grows or trims the main heap between this writer's
  // two calls would be undone. Run it while the main arena is quiet (the
  // storm's threads allocate nothing while they run).
  brk,
};
inline constexpr WriterKind kAllWriterKinds[] = {WriterKind::none, WriterKind::mmap_munmap,
                                                 WriterKind::mprotect, WriterKind::brk};

std::string_view to_string(FaultKind k);
std::string_view to_string(WriterKind k);
// Throw std::invalid_argument naming the bad value and the valid ones.
FaultKind parse_fault_kind(std::string_view name);
WriterKind parse_writer_kind(std::string_view name);

struct FaultStormConfig {
  FaultKind kind = FaultKind::anon;
  // Fault threads (cow: each forks its own children); 0 with writers >= 1
  // runs the writers alone.
  unsigned threads = 1;
  size_t region_bytes = 128u << 20;  // per thread and iteration; a multiple of the page size
  // Faults per second per thread, 0 = back to back. An absolute schedule
  // (fault n is due at n / rate), kept in batches of about 5 ms of faults.
  double rate = 0;
  WriterKind writer = WriterKind::none;
  unsigned writers = 0;     // writer threads: >= 1 with a writer kind, 0 with none
  double writer_rate = 0;   // operations per second per writer, 0 = back to back
  // Thread i (fault threads first, then writers) on cpus[i % size]; empty: not pinned.
  std::vector<int> cpus;
  std::string file_dir;     // file kind; "" = /tmp
};

struct FaultStormResult {
  // Faulting touches of the fault threads (cow: of their children): one per
  // page, file: one per fault-around block.
  uint64_t pages = 0;
  // RUSAGE_THREAD of each fault thread, read by that thread at its start
  // and end, summed; cow: the children's rusage from wait4, summed.
  uint64_t minflt = 0, majflt = 0;
  uint64_t iterations = 0;  // completed region loops, summed over threads
  uint64_t writer_ops = 0;  // rounds, summed over writers
  double seconds = 0;       // wall time from start() until stop() had joined
  size_t pages_per_fault = 1;  // pages one faulting touch maps (file: the fault-around block)
  std::string error;        // the first error of any thread, "" if none
  double faults_per_second() const;  // (minflt + majflt) / seconds
};

class FaultStorm {
 public:
  // Validates (std::invalid_argument naming the field), checks
  // fault_storm_unavailable (std::runtime_error), and for the file kind
  // creates the backing file and brings it into the page cache
  // (std::system_error).
  explicit FaultStorm(FaultStormConfig cfg);
  ~FaultStorm();  // stops and joins
  FaultStorm(const FaultStorm&) = delete;
  FaultStorm& operator=(const FaultStorm&) = delete;

  // Starts every thread and returns once each is pinned (when cpus asks),
  // has published its tid and has done its setup (cow: the first write of
  // its region, whose faults are not the storm's), holding them there until
  // go(): a tracer armed in between sees the storm and not its setup. A
  // storm starts once: std::logic_error after that.
  void prepare();
  // Lets the prepared threads run; the storm's time starts here.
  void go();
  // prepare() then go().
  void start();
  // Asks the threads to stop at their next batch of pages (a mapping is
  // unmapped, a cow child ends and is reaped), joins them, returns the
  // totals. Later calls return the same totals.
  FaultStormResult stop();
  // Thread ids once started (for BPF filtering): fault threads, then writers.
  std::vector<pid_t> tids() const;

 private:
  struct State;
  void fault_thread(unsigned i) noexcept;
  void writer_thread(unsigned i) noexcept;
  FaultStormConfig cfg_;
  std::unique_ptr<State> st_;
};

// "" if the kind and writer can run here, else the reason (file_dir not
// writable, a program break that cannot grow).
std::string fault_storm_unavailable(const FaultStormConfig& cfg);

// Memory a storm keeps resident at its peak: each anon thread its region,
// each cow thread its region and its child's copy, a file storm the file's
// page cache once (its threads map the same pages).
uint64_t fault_storm_peak_bytes(const FaultStormConfig& cfg);
// MemAvailable of /proc/meminfo in bytes; 0 when unknown.
uint64_t mem_available_bytes();
// The largest region, a page multiple of at most cfg.region_bytes, whose
// peak fits in `budget` bytes; 0 when not even one page per thread does. A
// 32-thread anonymous storm of 128 MiB regions holds 4 GiB: on a many-core
// machine (or a small guest) the probe shrinks the region to fit, and says
// so, rather than let the OOM killer end kperflab or a process of the host
// (the storm itself maps what it is told: its tests make a thread's mmap
// fail on purpose).
size_t fault_storm_region_that_fits(const FaultStormConfig& cfg, uint64_t budget);

}  // namespace kperflab::workloads
