// SPDX-License-Identifier: GPL-2.0-only
// The mmap_lock probe's BPF side as the rest of the probe sees it: what the
// running kernel offers (BTF, tracepoint flavour, /proc/vmstat) and the
// Tracer that loads mmap_lock.bpf.c, attaches it only while a point
// measures, and reads its maps back. Shared by the session's parts and the
// Probe's availability checks; the libbpf detail stays in tracer.cpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host/bpf_prog_stats.h"
#include "mmap_lock.h"
#include "core/probe.h"

struct btf;
struct btf_type;
struct mmap_lock_bpf;

namespace kperflab::mmap_lock {

using nlohmann::json;

// ---- what the running kernel offers ---------------------------------------

// The running kernel's BTF, for the tracepoint flavour and mm_struct's layout.
class KernelBtf {
 public:
  KernelBtf();
  ~KernelBtf();
  KernelBtf(const KernelBtf&) = delete;
  KernelBtf& operator=(const KernelBtf&) = delete;
  bool ok() const { return btf_ != nullptr; }
  bool has_func(const char* f) const;
  // Arguments of the tracepoint's probe function, its `void *data` first;
  // -1 when the kernel has no such tracepoint.
  int tracepoint_args(const char* tp) const;
  // Byte offset of a member of a struct, looking through anonymous
  // structs and unions (mm_struct wraps most of itself in one); -1 if none.
  long member_offset(const char* st, const char* member) const;

 private:
  long find(const btf_type* t, const char* member, long base) const;
  struct btf* btf_;
};

// The arguments of the tracepoints: memcg_path up to 6.13, none from 6.14
// (the event computes memcg_id itself). Found from the probe function's
// arity (data, mm, [memcg_path,] write): never from the version.
enum class Flavour { none, memcg_path, memcg_id };

Flavour flavour(const KernelBtf& btf);
const char* to_string(Flavour f);

std::map<std::string, uint64_t> read_vmstat();

// Why the probe cannot attach here, or "".
std::string unavailable_reason();

// ---- the BPF side --------------------------------------------------------

using Skel = mmap_lock_bpf;

struct Counts {
  kpl_ml_counts c[KPL_ML_NR_COUNTS] = {};  // (who << 1) | op
  const kpl_ml_counts& at(int who, int op) const { return c[(who << 1) | op]; }
};

class Tracer {
 public:
  Tracer(bool want_vma, bool allow_task_storage);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // The programs go on the tracepoints (and fexit lock_vma_under_rcu)
  // only while a point measures (#28): on kernels up to 6.13 any program
  // there makes every process's mmap_lock events format a memcg path, and
  // an fexit trampoline taxes every page fault of the host.
  void attach();
  void detach();
  bool attached() const { return !links_.empty(); }
  // The kernel's run statistics of every program we loaded, by name.
  bpf::ProgRuns runs() const;
  // Waits and holds that began before arming are counted, not timed: the
  // programs compare with bpf_ktime_get_ns(), CLOCK_MONOTONIC.
  void arm(bool on);

  // Events whose cgroup found the per-cgroup table full.
  uint64_t cgroups_dropped() const;
  static constexpr size_t kCgroupTableBytes = size_t{8} << 20;
  static uint32_t cgroup_entries(int ncpus) {
    size_t per = sizeof(kpl_ml_cg) * static_cast<size_t>(std::max(ncpus, 1));
    return static_cast<uint32_t>(std::clamp<size_t>(kCgroupTableBytes / per, 64, 4096));
  }
  uint32_t cgroup_capacity() const;

  void reset();

  Histogram hist(int kind, int who, int op) const;

  Counts counts() const;

  kpl_ml_vma vma(int who) const;

  // Per cgroup v2 id of the locking task, summed over CPUs.
  json cgroups() const;

  uint64_t our_mm() const;
  long mmap_lock_offset() const { return mmap_lock_offset_; }
  Flavour flav() const { return flavour_; }
  const std::string& attach_type() const { return attach_; }
  // "task_storage" | "lru_hash", and why task storage was not used ("").
  const std::string& task_state() const { return task_state_; }
  const std::string& task_storage_error() const { return ts_error_; }
  const std::string& vma_source() const { return vma_source_; }
  const std::string& vma_reason() const { return vma_reason_; }

 private:
  // Loads the set `attach` ("btf" | "raw") of the running kernel's flavour,
  // with fexit lock_vma_under_rcu when `vma`. 0 or -errno.
  int try_load(const std::string& attach, bool vma, bool task_storage);

  Skel* skel_ = nullptr;
  std::vector<bpf_program*> progs_;
  std::vector<bpf_link*> links_;
  bool vma_fexit_ = false;  // vma_exit is loaded: attach() adds it
  int ncpus_ = 0;
  long mmap_lock_offset_ = -1;
  Flavour flavour_ = Flavour::none;
  std::string attach_, vma_source_, vma_reason_, vma_fexit_error_ = "fexit not tried";
  std::string task_state_, ts_error_;
};

}  // namespace kperflab::mmap_lock
