// SPDX-License-Identifier: GPL-2.0-only
// The find_vma probe's kernel side seen from user space: the BPF skeleton
// (which programs this kernel loads, and why not), the perf events that
// sample our threads, and the threads themselves (pinned user-space
// spinners, a marker thread for the sleepable uprobe, writers in the same
// mm from workloads/fault_storm.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "host/bpf_prog_stats.h"
#include "find_vma.h"
#include "core/histogram.h"
#include "workloads/fault_storm.h"

struct find_vma_bpf;
struct bpf_link;

// The function the sleepable uprobe attaches to; the marker thread calls it.
extern "C" void kperflab_find_vma_mark(void);

namespace kperflab::find_vma {

// Sums over CPUs of one source's counters.
struct SourceCounts : kpl_fv_counts {};

class Sampler {
 public:
  // Loads the perf_event programs (required: throws with the reason), and
  // the sleepable uprobe and fentry do_mmap_read_unlock where they load.
  Sampler();
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Opens one sampling event per thread and source (cpu-clock always,
  // cycles where perf_event_open accepts it) at freq_hz and attaches the
  // program; the uprobe on the marker and the fentry on
  // do_mmap_read_unlock when they loaded: all of it for one point's window,
  // detach() takes every link off. Throws when the cpu-clock event cannot
  // be opened or a program that attached at load no longer does.
  void attach(const std::vector<pid_t>& tids, unsigned freq_hz);
  void detach();
  void arm(bool on);
  void reset();
  // The kernel's run time and count of each of our programs (#28).
  bpf::ProgRuns runs() const;

  SourceCounts counts(int src) const;
  Histogram hist(int src, int call) const;
  kpl_fv_unlocks unlocks() const;

  bool cycles_ok() const { return cycles_reason_.empty(); }
  const std::string& cycles_reason() const { return cycles_reason_; }
  bool uprobe_ok() const { return uprobe_reason_.empty(); }
  const std::string& uprobe_reason() const { return uprobe_reason_; }
  bool fentry_ok() const { return fentry_reason_.empty(); }
  // What the kernel does for a build-id stack in a sleepable program,
  // from its BTF (build_id_parse_nofault, the 6.12 split): "faultable"
  // (build_id_parse may fault the ELF note in, under a blocking
  // mmap_read_lock) or "nofault" (the page-cache-only parse, as with IRQs
  // off: a sleepable program loads there too, e.g. 6.1, but gains nothing).
  static std::string sleepable_stack();
  const std::string& fentry_reason() const { return fentry_reason_; }

 private:
  int try_load(bool uprobe, bool fentry);
  bpf_link* attach_fentry();
  bpf_link* attach_uprobe();
  find_vma_bpf* skel_ = nullptr;
  int ncpus_ = 0;
  std::vector<int> fds_;
  std::vector<bpf_link*> links_;
  std::string cycles_reason_, uprobe_reason_, fentry_reason_;
};

struct LoadConfig {
  unsigned threads = 1;          // sampled spinners, on cpus[0..threads)
  double writer_rate = 0;        // ops/s per writer; 0: no writer
  unsigned writers = 1;
  workloads::WriterKind writer = workloads::WriterKind::mmap_munmap;
  double mark_rate = 0;          // marker calls per second; 0: no marker thread
  std::vector<int> cpus;         // online CPUs
};

// Sampled spinners, writers and the marker thread; stopped on destruction.
class Load {
 public:
  explicit Load(const LoadConfig& cfg);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;
  const std::vector<pid_t>& spinner_tids() const { return tids_; }
  // Stops everything; the writers' totals (writer_ops, seconds, error).
  workloads::FaultStormResult stop();
  uint64_t marks() const { return marks_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> ready_{0};  // threads placed (a member: they touch it after start)
  std::atomic<uint64_t> marks_{0};
  std::vector<pid_t> tids_;
  std::vector<std::thread> threads_;
  std::unique_ptr<workloads::FaultStorm> writers_;
  workloads::FaultStormResult result_;
  bool stopped_ = false;
};

}  // namespace kperflab::find_vma
