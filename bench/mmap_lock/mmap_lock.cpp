// SPDX-License-Identifier: GPL-2.0-only
// The mmap_lock probe: wait and hold histograms of mmap_lock from its three
// tracepoints (mmap_lock.bpf.c) while a fault storm (workloads/fault_storm.h)
// runs at sweep points of kind x threads x writer; per-VMA lock outcomes;
// what tracing mmap_lock costs (fault throughput with no probe, ours, and
// perf on the same events, interleaved in one run); and our own process's
// waits against perf's lock:contention_begin/end on the same lock.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

#include "host/bpf_percpu.h"
#include "host/bpf_prog_stats.h"
#include "host/cpu_sample.h"
#include "mmap_lock.h"
#include "mmap_lock.skel.h"
#include "perf_tool.h"
#include "core/probe.h"
#include "core/stop.h"
#include "workloads/bystander.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

// ---- what the running kernel offers ---------------------------------------

// The running kernel's BTF, for the tracepoint flavour and mm_struct's layout.
class KernelBtf {
 public:
  KernelBtf() : btf_(btf__load_vmlinux_btf()) {}
  ~KernelBtf() { btf__free(btf_); }
  KernelBtf(const KernelBtf&) = delete;
  KernelBtf& operator=(const KernelBtf&) = delete;
  bool ok() const { return btf_ != nullptr; }
  bool has_func(const char* f) const {
    return btf_ && btf__find_by_name_kind(btf_, f, BTF_KIND_FUNC) >= 0;
  }
  // Arguments of the tracepoint's probe function, its `void *data` first;
  // -1 when the kernel has no such tracepoint.
  int tracepoint_args(const char* tp) const {
    if (!btf_) return -1;
    int id = btf__find_by_name_kind(btf_, (std::string("btf_trace_") + tp).c_str(),
                                    BTF_KIND_TYPEDEF);
    if (id < 0) return -1;
    const btf_type* t = btf__type_by_id(btf_, id);
    while (t && (btf_is_typedef(t) || btf_is_ptr(t))) t = btf__type_by_id(btf_, t->type);
    return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
  }
  // Byte offset of a member of a struct, looking through anonymous
  // structs and unions (mm_struct wraps most of itself in one); -1 if none.
  long member_offset(const char* st, const char* member) const {
    if (!btf_) return -1;
    int id = btf__find_by_name_kind(btf_, st, BTF_KIND_STRUCT);
    return id < 0 ? -1 : find(btf__type_by_id(btf_, id), member, 0);
  }

 private:
  long find(const btf_type* t, const char* member, long base) const {
    const btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); ++i, ++m) {
      long off = base + static_cast<long>(btf_member_bit_offset(t, i) / 8);
      const char* name = btf__name_by_offset(btf_, m->name_off);
      if (name && *name) {
        if (!strcmp(name, member)) return off;
        continue;
      }
      const btf_type* inner = btf__type_by_id(btf_, m->type);
      while (inner && (btf_is_typedef(inner) || btf_is_mod(inner)))
        inner = btf__type_by_id(btf_, inner->type);
      if (inner && (btf_is_struct(inner) || btf_is_union(inner))) {
        long r = find(inner, member, off);
        if (r >= 0) return r;
      }
    }
    return -1;
  }
  struct btf* btf_;
};

// The arguments of the tracepoints: memcg_path up to 6.13, none from 6.14
// (the event computes memcg_id itself). Found from the probe function's
// arity (data, mm, [memcg_path,] write): never from the version.
enum class Flavour { none, memcg_path, memcg_id };

Flavour flavour(const KernelBtf& btf) {
  switch (btf.tracepoint_args("mmap_lock_start_locking")) {
    case 4: return Flavour::memcg_path;
    case 3: return Flavour::memcg_id;
    default: return Flavour::none;
  }
}

const char* to_string(Flavour f) {
  return f == Flavour::memcg_path ? "memcg_path" : f == Flavour::memcg_id ? "memcg_id" : "none";
}

std::map<std::string, uint64_t> read_vmstat() {
  std::map<std::string, uint64_t> m;
  std::ifstream f("/proc/vmstat");
  std::string k;
  uint64_t v;
  while (f >> k >> v) m[k] = v;
  return m;
}

std::string unavailable_reason() {
  KernelBtf btf;
  if (!btf.ok()) return "no kernel BTF (/sys/kernel/btf/vmlinux): cannot attach to mmap_lock";
  if (flavour(btf) == Flavour::none)
    return "the kernel has no mmap_lock tracepoints (mmap_lock:mmap_lock_start_locking not in "
           "BTF)";
  return "";
}

// ---- parameters ----------------------------------------------------------

json profile_params(Profile p) {
  json j = {{"kinds", {"anon", "file", "cow"}},
            {"threads", json::array()},
            {"writers", {"none", "mmap_munmap"}},
            {"duration_ms", 1000},
            {"region_mib", 128},
            {"rate", 0},
            {"writer_rate", 0},
            {"overhead", true},
            {"overhead_rounds", 3},
            {"crosscheck", true},
            {"bystander_rounds", 5},
            {"bystander_window_ms", 200},
            {"memcg_path", "refuse"},
            {"task_state", "auto"},
            {"sample_cpus", 0}};
  switch (p) {
    case Profile::quick:
      j.update({{"kinds", {"anon"}}, {"duration_ms", 500}, {"overhead_rounds", 2},
                {"sample_cpus", 8}});
      break;
    case Profile::standard:
      // Ten repetitions by default: ~20 s each on 2 vCPUs. The storms
      // spread over a topology sample of 16 CPUs: a storm's set-up and
      // teardown (threads, regions, cow's children) grow with its threads.
      j.update({{"duration_ms", 500}, {"overhead_rounds", 2}, {"sample_cpus", 16}});
      break;
    case Profile::full:
      j.update({{"writers", {"none", "mmap_munmap", "mprotect", "brk"}},
                {"duration_ms", 2000},
                {"overhead_rounds", 5}});
      break;
    case Profile::lab:
      // TCG: absolute rates mean nothing; counts per fault and the pairing do.
      // A lab guest is ours alone: its tax is measured, not spared.
      j.update({{"duration_ms", 300}, {"region_mib", 16}, {"overhead_rounds", 1},
                {"memcg_path", "allow"}});
      break;
  }
  return j;
}

ParamSpecs specs(unsigned online_cpus) {
  return {
      ParamSpec::choice_list("kinds", {"anon", "file", "cow"}, 0,
                             "fault storms: anonymous first touch, file-backed read, COW "
                             "after fork"),
      ParamSpec::integer_list("threads", 1, std::max(1u, online_cpus), 0, 64,
                              "fault threads per point (empty: 1 and one per storm CPU, "
                              "see sample_cpus)"),
      ParamSpec::integer("sample_cpus", 0, 65536,
                         "CPUs the storms run on, a topology sample (0: every online CPU); "
                         "given threads run on every online CPU"),
      ParamSpec::choice_list("writers", {"none", "mmap_munmap", "mprotect", "brk"}, 0,
                             "a writer thread in the same mm (mmap_lock for write)"),
      ParamSpec::integer("duration_ms", 50, 600000, "time per sweep point, ms"),
      ParamSpec::integer("region_mib", 1, 65536,
                         "region each fault thread maps, touches and unmaps, MiB"),
      ParamSpec::number("rate", 0, 1e9, "faults per second per thread (0: back to back)"),
      ParamSpec::number("writer_rate", 0, 1e9,
                        "writer operations per second (0: back to back)"),
      ParamSpec::boolean("overhead", "fault throughput with no probe, ours and perf"),
      ParamSpec::integer("overhead_rounds", 1, 50, "interleaved rounds of the overhead runs"),
      ParamSpec::boolean("crosscheck",
                         "our waits against perf's lock:contention_begin/end on our mmap_lock"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate with our "
                         "programs attached and detached (0: not measured)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000,
                         "length of each bystander window, ms"),
      ParamSpec::choice("task_state", {"auto", "lru_hash"},
                        "where the programs keep each task's open waits and holds (auto: task "
                        "storage where the kernel gives it to them, else an LRU hash by tid)"),
      ParamSpec::choice("memcg_path", {"refuse", "allow"},
                        "on kernels whose mmap_lock tracepoints format the memcg path (up to "
                        "6.13), every process pays for it while we are attached: run there "
                        "only when allowed (the lab profile allows it)"),
  };
}

// The CPUs the storms run on, a thread on each (its many-thread points, the
// overhead and cross-check storms): a topology sample of sample_cpus
// (host/cpu_sample.h), or every online CPU when it is 0 or threads are given.
CpuSample storm_cpus(const HostInfo& host, const json& p) {
  auto online = host.online_cpus();
  if (online.empty()) return {};
  unsigned max = p["threads"].empty() ? p["sample_cpus"].get<unsigned>() : 0;
  return sample_cpus(host, online, online.front(), max);
}

// ---- the BPF side --------------------------------------------------------

using Skel = mmap_lock_bpf;

struct Counts {
  kpl_ml_counts c[KPL_ML_NR_COUNTS] = {};  // (who << 1) | op
  const kpl_ml_counts& at(int who, int op) const { return c[(who << 1) | op]; }
};

class Tracer {
 public:
  Tracer(bool want_vma, bool allow_task_storage) {
    KernelBtf btf;
    flavour_ = flavour(btf);
    if (flavour_ == Flavour::none) throw std::runtime_error(unavailable_reason());
    ncpus_ = bpf::possible_cpus();
    mmap_lock_offset_ = btf.member_offset("mm_struct", "mmap_lock");
    // Per-VMA outcomes: /proc/vmstat counts them with CONFIG_PER_VMA_LOCK_STATS;
    // otherwise fexit lock_vma_under_rcu, where it loads.
    if (read_vmstat().count("vma_lock_success"))
      vma_source_ = "vmstat";
    else if (!btf.has_func("lock_vma_under_rcu"))
      vma_reason_ = "no per-VMA locks on this kernel (no lock_vma_under_rcu in BTF): every "
                    "fault takes mmap_lock";
    std::string last;
    const bool debug = getenv("KPERFLAB_BPF_DEBUG") != nullptr;
    libbpf_print_fn_t old = debug ? nullptr : libbpf_set_print(nullptr);
    // Per-task state in task storage where these programs may use it, else
    // in the LRU hash (#28 item 2): tried in that order for each attach kind.
    for (const char* attach : {"btf", "raw"}) {
      for (bool ts : {true, false}) {
        if (ts && !allow_task_storage) {
          ts_error_ = "not tried (mmap_lock.task_state=lru_hash)";
          continue;
        }
        bool vma = want_vma && vma_source_.empty() && vma_reason_.empty();
        for (int attempt = 0; attempt < 2 && !skel_; ++attempt, vma = false) {
          int rc = try_load(attach, vma, ts);
          if (rc == 0) {
            attach_ = attach == std::string("btf") ? "tp_btf" : "raw_tp";
            task_state_ = ts ? "task_storage" : "lru_hash";
            if (ts) ts_error_.clear();
            if (vma) vma_source_ = "fexit";
          } else {
            last = err(std::string(attach == std::string("btf") ? "tp_btf" : "raw_tp") +
                           (ts ? " load (task storage)" : " load (LRU hash)"),
                       rc);
            if (vma && attempt == 0)
              vma_fexit_error_ = err("fexit lock_vma_under_rcu refused", rc);
            if (ts) ts_error_ = last;
          }
        }
        if (skel_) break;
      }
      if (skel_) break;
    }
    if (!debug) libbpf_set_print(old);
    if (!skel_) throw std::runtime_error("mmap_lock BPF programs: " + last);
    if (vma_source_.empty() && vma_reason_.empty())
      vma_reason_ = want_vma ? "CONFIG_PER_VMA_LOCK_STATS off (no vma_lock_* in /proc/vmstat) and " +
                                   vma_fexit_error_
                             : "not asked";
  }
  ~Tracer() {
    detach();
    if (skel_) mmap_lock_bpf__destroy(skel_);
  }
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // The programs go on the tracepoints (and fexit lock_vma_under_rcu)
  // only while a point measures (#28): on kernels up to 6.13 any program
  // there makes every process's mmap_lock events format a memcg path, and
  // an fexit trampoline taxes every page fault of the host.
  void attach() {
    if (!links_.empty()) return;
    std::vector<bpf_program*> progs = progs_;
    if (vma_fexit_) progs.push_back(skel_->progs.vma_exit);
    for (bpf_program* p : progs) {
      bpf_link* l = bpf_program__attach(p);
      if (!l) {
        int e = errno;
        detach();
        throw std::runtime_error(err(std::string("attach ") + bpf_program__name(p), e));
      }
      links_.push_back(l);
    }
  }
  void detach() {
    for (bpf_link* l : links_) bpf_link__destroy(l);
    links_.clear();
  }
  bool attached() const { return !links_.empty(); }
  // The kernel's run statistics of every program we loaded, by name.
  bpf::ProgRuns runs() const {
    bpf::ProgRuns r;
    for (bpf_program* p : progs_) r[bpf_program__name(p)] = bpf::prog_run(p);
    if (vma_fexit_) r["vma_exit"] = bpf::prog_run(skel_->progs.vma_exit);
    return r;
  }
  // Waits and holds that began before arming are counted, not timed: the
  // programs compare with bpf_ktime_get_ns(), CLOCK_MONOTONIC.
  void arm(bool on) {
    if (on) {
      timespec t{};
      clock_gettime(CLOCK_MONOTONIC, &t);
      __atomic_store_n(&skel_->bss->arm_ts,
                       static_cast<__u64>(t.tv_sec) * 1000000000ull + static_cast<__u64>(t.tv_nsec),
                       __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&skel_->bss->armed, on ? 1u : 0u, __ATOMIC_SEQ_CST);
  }

  // Events whose cgroup found the per-cgroup table full.
  uint64_t cgroups_dropped() const {
    uint64_t n = 0;
    for (auto v : bpf::read_percpu<uint64_t>(skel_->maps.cgroups_dropped, 0, ncpus_)) n += v;
    return n;
  }
  static constexpr size_t kCgroupTableBytes = size_t{8} << 20;
  static uint32_t cgroup_entries(int ncpus) {
    size_t per = sizeof(kpl_ml_cg) * static_cast<size_t>(std::max(ncpus, 1));
    return static_cast<uint32_t>(std::clamp<size_t>(kCgroupTableBytes / per, 64, 4096));
  }
  uint32_t cgroup_capacity() const { return bpf_map__max_entries(skel_->maps.cgroups); }

  void reset() {
    bpf::zero_percpu(skel_->maps.cgroups_dropped, 1, sizeof(uint64_t), ncpus_);
    bpf::zero_percpu(skel_->maps.hists, KPL_ML_NR_HISTS, sizeof(kpl_ml_hist), ncpus_);
    bpf::zero_percpu(skel_->maps.counts, KPL_ML_NR_COUNTS, sizeof(kpl_ml_counts), ncpus_);
    bpf::zero_percpu(skel_->maps.vma, 2, sizeof(kpl_ml_vma), ncpus_);
    int fd = bpf_map__fd(skel_->maps.cgroups);
    uint64_t key, next;
    while (bpf_map_get_next_key(fd, nullptr, &next) == 0) {
      key = next;
      bpf_map_delete_elem(fd, &key);
    }
  }

  Histogram hist(int kind, int who, int op) const {
    return bpf::merge_percpu_hist<kpl_ml_hist>(skel_->maps.hists, KPL_ML_HIST_IDX(kind, who, op),
                                               ncpus_);
  }

  Counts counts() const {
    Counts out;
    for (uint32_t k = 0; k < KPL_ML_NR_COUNTS; ++k) {
      kpl_ml_counts& s = out.c[k];
      // Sums, but the maxima are maxima: not bpf::sum_percpu.
      for (auto& c : bpf::read_percpu<kpl_ml_counts>(skel_->maps.counts, k, ncpus_)) {
        s.start_locking += c.start_locking;
        s.acquired += c.acquired;
        s.failed += c.failed;
        s.unpaired_acquire += c.unpaired_acquire;
        s.downgraded += c.downgraded;
        s.released += c.released;
        s.release_unmatched += c.release_unmatched;
        s.negative += c.negative;
        s.slots_full += c.slots_full;
        s.wait_ns_total += c.wait_ns_total;
        s.wait_ns_max = std::max<uint64_t>(s.wait_ns_max, c.wait_ns_max);
        s.hold_ns_total += c.hold_ns_total;
        s.hold_ns_max = std::max<uint64_t>(s.hold_ns_max, c.hold_ns_max);
        s.before_arm += c.before_arm;
        s.state_failed += c.state_failed;
        s.nested_dropped += c.nested_dropped;
      }
    }
    return out;
  }

  kpl_ml_vma vma(int who) const {
    return bpf::sum_percpu<kpl_ml_vma>(skel_->maps.vma, static_cast<uint32_t>(who), ncpus_);
  }

  // Per cgroup v2 id of the locking task, summed over CPUs.
  json cgroups() const {
    json out = json::array();
    int fd = bpf_map__fd(skel_->maps.cgroups);
    std::vector<kpl_ml_cg> v(static_cast<size_t>(ncpus_));
    uint64_t key = 0, next;
    bool first = true;
    while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
      first = false;
      key = next;
      if (bpf_map_lookup_elem(fd, &key, v.data())) continue;
      kpl_ml_cg s{};
      for (auto& c : v)
        for (int op = 0; op < 2; ++op) {
          s.acquired[op] += c.acquired[op];
          s.waited[op] += c.waited[op];
          s.wait_ns_total[op] += c.wait_ns_total[op];
          s.wait_ns_max[op] = std::max<uint64_t>(s.wait_ns_max[op], c.wait_ns_max[op]);
          s.hold_ns_total[op] += c.hold_ns_total[op];
        }
      json e = {{"cgroup_id", key}};
      for (int op = 0; op < 2; ++op)
        e[op ? "write" : "read"] = {{"acquired", s.acquired[op]},
                                    {"waited", s.waited[op]},
                                    {"wait_ns_total", s.wait_ns_total[op]},
                                    {"wait_ns_max", s.wait_ns_max[op]},
                                    {"hold_ns_total", s.hold_ns_total[op]}};
      out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
      auto total = [](const json& x) {
        return x["read"]["wait_ns_total"].get<uint64_t>() +
               x["write"]["wait_ns_total"].get<uint64_t>();
      };
      return total(a) > total(b);
    });
    return out;
  }

  uint64_t our_mm() const { return skel_->bss->our_mm; }
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
  int try_load(const std::string& attach, bool vma, bool task_storage) {
    Skel* s = mmap_lock_bpf__open();
    if (!s) return -errno;
    s->rodata->target_tgid = static_cast<__u32>(getpid());
    s->rodata->use_task_storage = task_storage ? 1 : 0;
    if (task_storage) {
      bpf_map__set_max_entries(s->maps.tasks, 1);  // unused
    } else {
      // Unused: a plain 1-entry hash (the branch that would use it as
      // task storage is not walked by the verifier with the flag at 0).
      bpf_map__set_type(s->maps.task_store, BPF_MAP_TYPE_HASH);
      bpf_map__set_max_entries(s->maps.task_store, 1);
    }
    // The per-cgroup table is per CPU: 4096 entries x 80 bytes is 82 MiB on
    // 256 CPUs. Held to kCgroupTableBytes whatever the CPU count (4096
    // entries up to 25 CPUs, 409 on 256); the events of cgroups past it
    // are counted (cgroups_dropped).
    bpf_map__set_max_entries(s->maps.cgroups, cgroup_entries(ncpus_));
    std::string f = flavour_ == Flavour::memcg_path ? "path" : "id";
    std::vector<bpf_program*> keep;
    bpf_program* p;
    bpf_object__for_each_program(p, s->obj) {
      std::string name = bpf_program__name(p);
      bool k = name == "start_" + f + "_" + attach || name == "acquire_" + f + "_" + attach ||
               name == "release_" + f + "_" + attach ||
               (!task_storage && name == "exit_" + attach);  // the LRU's deletes
      if (k) keep.push_back(p);
      if (name == "vma_exit" && vma) k = true;
      bpf_program__set_autoload(p, k);
    }
    int rc = mmap_lock_bpf__load(s);
    if (rc) {
      mmap_lock_bpf__destroy(s);
      return rc < 0 ? rc : -rc;
    }
    if (vma) {  // attaches here (not every kernel with BTF has trampolines): tried, then let go
      bpf_link* l = bpf_program__attach(s->progs.vma_exit);
      if (!l) {
        int e = errno;
        mmap_lock_bpf__destroy(s);
        return -e;
      }
      bpf_link__destroy(l);
    }
    skel_ = s;
    progs_ = keep;
    vma_fexit_ = vma;
    return 0;
  }

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

// ---- the measurement -----------------------------------------------------

void sleep_ms_interruptible(uint64_t ms) {
  const uint64_t slice = 20;
  for (uint64_t done = 0; done < ms && !stop_requested(); done += slice) {
    timespec ts{0, static_cast<long>(std::min(slice, ms - done) * 1000000)};
    nanosleep(&ts, nullptr);
  }
}

struct Point {
  workloads::FaultKind kind;
  unsigned threads;
  workloads::WriterKind writer;
  std::string name() const {
    return std::string(workloads::to_string(kind)) + "/threads=" + std::to_string(threads) +
           "/writer=" + std::string(workloads::to_string(writer));
  }
};

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, const json& p) : p_(p) {
    cpus_ = storm_cpus(ctx.host(), p_).cpus;
    if (cpus_.empty()) throw std::runtime_error("no online CPUs");
    if (cpus_.size() < ctx.host().online_count()) ctx.parameters()["sampled_cpus"] = cpus_;
    mem_budget_ = workloads::mem_available_bytes() / 2;
    tracer_ = std::make_unique<Tracer>(true, p_.value("task_state", std::string("auto")) == "auto");
    for (std::string k : p_["kinds"])
      for (unsigned t : thread_counts())
        for (std::string w : p_["writers"])
          points_.push_back(
              {workloads::parse_fault_kind(k), t, workloads::parse_writer_kind(w)});
    auto& pr = ctx.parameters();
    pr["tracepoint_flavour"] = to_string(tracer_->flav());
    pr["attach"] = tracer_->attach_type();
    pr["task_state"] = tracer_->task_state();
    if (!tracer_->task_storage_error().empty())
      pr["task_storage_refused"] = tracer_->task_storage_error();
    pr["per_vma_lock_source"] =
        tracer_->vma_source().empty() ? json(nullptr) : json(tracer_->vma_source());
    if (tracer_->vma_source().empty()) pr["per_vma_lock_unavailable"] = tracer_->vma_reason();
    pr["points"] = json::array();
    for (auto& pt : points_) pr["points"].push_back(pt.name());
    pr["storm_memory_budget_mib"] = mem_budget_ >> 20;
  }

  unsigned steps() const override {
    return static_cast<unsigned>(points_.size()) + check_steps();
  }
  unsigned check_steps() const override {
    return (p_["overhead"].get<bool>() ? 1 : 0) + (p_["crosscheck"].get<bool>() ? 1 : 0) +
           (p_["bystander_rounds"].get<int>() > 0 ? 1 : 0);
  }

  void run_repetition(RunContext& ctx, Repetition& rep) override {
    // The kernel's run time and count of our programs, for this
    // repetition's points (on only while they run: two clock reads per run
    // of every BPF program on the host).
    bpf::run_points_costed(ctx, rep, points_, point_runs_, point_seconds_,
                           [&](const Point& pt) { measure_point(ctx, rep, pt); });
    if (p_["bystander_rounds"].get<int>() > 0 && ctx.run_checks() && !stop_requested()) {
      ctx.progress().step("bystander");
      bystander(ctx, rep);
    }
    // What tracing costs and the cross-check with perf validate the method:
    // once per run (RunContext::run_checks).
    if (p_["overhead"].get<bool>() && ctx.run_checks() && !stop_requested()) {
      ctx.progress().step("overhead");
      overhead(ctx, rep);
    }
    if (p_["crosscheck"].get<bool>() && ctx.run_checks() && !stop_requested()) {
      ctx.progress().step("crosscheck");
      crosscheck(ctx, rep);
    }
    tracer_->detach();  // nothing of ours stays on the host between repetitions
  }

 private:
  std::vector<unsigned> thread_counts() const {
    std::vector<unsigned> v;
    for (auto& t : p_["threads"])
      v.push_back(std::min(t.get<unsigned>(), static_cast<unsigned>(cpus_.size())));
    if (v.empty()) {
      v.push_back(1);
      if (cpus_.size() > 1) v.push_back(static_cast<unsigned>(cpus_.size()));
    }
    return v;
  }

  workloads::FaultStormConfig storm_config(const Point& pt) const {
    workloads::FaultStormConfig c;
    c.kind = pt.kind;
    c.threads = pt.threads;
    c.region_bytes = p_["region_mib"].get<size_t>() << 20;
    // Many threads of large regions: shrunk to half of the memory available
    // when the run began (the point's region_mib label says by how much).
    if (mem_budget_)
      if (size_t fit = workloads::fault_storm_region_that_fits(c, mem_budget_); fit && fit < c.region_bytes)
        c.region_bytes = std::max<size_t>(fit >> 20, 1) << 20;
    c.rate = p_["rate"].get<double>();
    c.writer = pt.writer;
    c.writers = pt.writer == workloads::WriterKind::none ? 0 : 1;
    c.writer_rate = p_["writer_rate"].get<double>();
    c.cpus = cpus_;
    return c;
  }

  // Runs the storm of `pt` for ms; throws on a workload error. Its setup
  // (the file's page cache, cow's first write) is done before `at_go` runs
  // and the threads go: a tracer armed there counts the storm only.
  workloads::FaultStormResult storm(const Point& pt, uint64_t ms,
                                    const std::function<void()>& at_go = {}) {
    workloads::FaultStorm s(storm_config(pt));
    s.prepare();
    if (at_go) at_go();
    s.go();
    sleep_ms_interruptible(ms);
    auto r = s.stop();
    if (!r.error.empty()) throw std::runtime_error(r.error);
    return r;
  }

  void measure_point(RunContext&, Repetition& rep, const Point& pt) {
    const std::string base = pt.name();
    std::string why = workloads::fault_storm_unavailable(storm_config(pt));
    if (!why.empty()) {
      rep.skip(base, why);
      return;
    }
    tracer_->reset();
    std::map<std::string, uint64_t> before;
    workloads::FaultStormResult r;
    const bpf::ProgRuns runs0 = tracer_->runs();
    try {
      r = storm(pt, p_["duration_ms"].get<uint64_t>(), [&] {
        tracer_->attach();  // at go: the storm's set-up ran untraced
        before = read_vmstat();
        tracer_->arm(true);
      });
    } catch (const std::exception& e) {
      tracer_->arm(false);
      tracer_->detach();
      rep.skip(base, e.what());
      return;
    }
    tracer_->arm(false);
    tracer_->detach();  // the storm has stopped
    bpf::add_runs(point_runs_, tracer_->runs(), runs0);
    point_seconds_ += r.seconds;
    auto after = read_vmstat();
    if (stop_requested()) {
      rep.skip(base, "interrupted (^C) during the point (discarded)");
      return;
    }
    json labels = {{"kind", workloads::to_string(pt.kind)},
                   {"threads", pt.threads},
                   {"writer", workloads::to_string(pt.writer)},
                   {"region_mib", storm_config(pt).region_bytes >> 20}};
    static const char* who_name[] = {"ours", "other"};
    static const char* op_name[] = {"read", "write"};
    for (int kind = 0; kind < 2; ++kind)
      for (int w = 0; w < 2; ++w)
        for (int op = 0; op < 2; ++op) {
          Histogram h = tracer_->hist(kind, w, op);
          if (h.empty()) continue;  // e.g. no writer: no write waits
          json l = labels;
          l.update({{"who", who_name[w]}, {"op", op_name[op]}});
          // Up to 6.13 the tracepoints format the memcg path while the lock
          // is held (acquire_returned, released): holds include it. compare
          // never decides a row across the two (analysis/compare.cpp).
          l["comparable_with"] = std::string("tracepoints=") + to_string(tracer_->flav());
          rep.histogram(base + "/" + (kind ? "hold/" : "wait/") + who_name[w] + "/" + op_name[op],
                        h, "ns", l);
        }
    Counts c = tracer_->counts();
    const auto& r_ours = c.at(KPL_ML_OURS, KPL_ML_READ);
    const auto& w_ours = c.at(KPL_ML_OURS, KPL_ML_WRITE);
    uint64_t faults = r.minflt + r.majflt;
    auto scalar = [&](const std::string& name, double v, const char* unit, const char* better,
                      json extra = json::object()) {
      json l = labels;
      l["better"] = better;
      l.update(extra);
      rep.scalar(base + "/" + name, v, unit, l);
    };
    if (r.seconds > 0 && faults > 0) {
      scalar("faults_per_s", faults / r.seconds, "faults/s", "higher",
             {{"faults", faults}, {"pages", r.pages}, {"seconds", r.seconds}});
      // Read acquisitions of our tasks (locks and trylocks) per fault:
      // ~1 where every fault takes mmap_lock, ~0 with per-VMA locks.
      double acq = static_cast<double>(r_ours.acquired);
      scalar("acquisitions_per_fault", acq / faults, "ratio", "lower",
             {{"read_acquisitions", r_ours.acquired}});
    } else {
      rep.skip(base + "/faults_per_s", "the workload took no page faults in the window");
    }
    if (pt.writer != workloads::WriterKind::none && r.seconds > 0)
      scalar("writer_ops_per_s", r.writer_ops / r.seconds, "ops/s", "higher");
    // Our tasks released every lock they took (they stopped before disarm):
    // anything else is a pairing error of the probe, shown, never hidden. A
    // downgrade turns a write hold into a read hold: not a new acquisition.
    uint64_t acquired = r_ours.acquired + w_ours.acquired;
    uint64_t released = r_ours.released + w_ours.released;
    uint64_t unpaired = r_ours.unpaired_acquire + w_ours.unpaired_acquire +
                        r_ours.release_unmatched + w_ours.release_unmatched;
    scalar("ours/acquired", static_cast<double>(acquired), "locks", "none",
           {{"read", r_ours.acquired}, {"write", w_ours.acquired}});
    scalar("ours/downgraded", static_cast<double>(r_ours.downgraded), "locks", "none");
    scalar("ours/unmatched",
           static_cast<double>((acquired > released ? acquired - released : released - acquired) +
                               unpaired),
           "locks", "lower",
           {{"released", released},
            {"release_unmatched", r_ours.release_unmatched + w_ours.release_unmatched},
            {"unpaired_acquire", r_ours.unpaired_acquire + w_ours.unpaired_acquire}});
    // Failed attempts: trylocks that found the lock taken (the fault
    // path's first try), or killable locks cut by a fatal signal.
    scalar("ours/failed", static_cast<double>(r_ours.failed + w_ours.failed), "locks", "lower",
           {{"read", r_ours.failed}, {"write", w_ours.failed}});
    // The other tasks' pairing, as ours: acquire_returned with no start,
    // release with no hold of that task on that mm (most are locks taken
    // before the point attached, or across its end: other tasks never stop).
    const auto& r_other = c.at(KPL_ML_OTHER, KPL_ML_READ);
    const auto& w_other = c.at(KPL_ML_OTHER, KPL_ML_WRITE);
    scalar("other/unpaired",
           static_cast<double>(r_other.unpaired_acquire + w_other.unpaired_acquire +
                               r_other.release_unmatched + w_other.release_unmatched),
           "locks", "none",
           {{"release_unmatched", r_other.release_unmatched + w_other.release_unmatched},
            {"unpaired_acquire", r_other.unpaired_acquire + w_other.unpaired_acquire},
            {"acquired", r_other.acquired + w_other.acquired}});
    uint64_t negative = 0, slots = 0, before_arm = 0, state_failed = 0, nested = 0;
    for (auto& x : c.c) {
      negative += x.negative;
      slots += x.slots_full;
      before_arm += x.before_arm;
      state_failed += x.state_failed;
      nested += x.nested_dropped;
    }
    scalar("check/negative", static_cast<double>(negative), "samples", "lower");
    scalar("check/slots_full", static_cast<double>(slots), "holds", "lower");
    // Waits and holds that began before the point was armed: not timed.
    scalar("check/before_arm", static_cast<double>(before_arm), "samples", "none");
    // Events with no per-task state (task storage's recursion refusal, or
    // the LRU's failed update), and waits past KPL_ML_WAIT_SLOTS open in
    // one task: not timed; 0 expected.
    scalar("check/state_failed", static_cast<double>(state_failed), "events", "lower",
           {{"task_state", tracer_->task_state()}});
    scalar("check/nested_dropped", static_cast<double>(nested), "waits", "lower");
    // Counters of every task, for the extra table.
    json counters = json::object();
    for (int w = 0; w < 2; ++w)
      for (int op = 0; op < 2; ++op) {
        const auto& x = c.at(w, op);
        counters[std::string(who_name[w]) + "/" + op_name[op]] = {
            {"start_locking", x.start_locking}, {"acquired", x.acquired},
            {"failed", x.failed},               {"unpaired_acquire", x.unpaired_acquire},
            {"downgraded", x.downgraded},
            {"released", x.released},           {"release_unmatched", x.release_unmatched},
            {"negative", x.negative},           {"wait_ns_total", x.wait_ns_total},
            {"before_arm", x.before_arm},       {"state_failed", x.state_failed},
            {"nested_dropped", x.nested_dropped},
            {"wait_ns_max", x.wait_ns_max},     {"hold_ns_total", x.hold_ns_total},
            {"hold_ns_max", x.hold_ns_max}};
      }
    json& ex = rep.extra()[base];
    ex["counters"] = counters;
    ex["cgroups"] = tracer_->cgroups();
    {
      json l = labels;
      l["better"] = "lower";
      l["table_entries"] = tracer_->cgroup_capacity();
      rep.scalar(base + "/check/cgroups_dropped", double(tracer_->cgroups_dropped()), "events", l);
    }
    ex["workload"] = {{"pages", r.pages},       {"minflt", r.minflt},
                      {"majflt", r.majflt},     {"iterations", r.iterations},
                      {"writer_ops", r.writer_ops}, {"seconds", r.seconds}};
    per_vma(rep, base, labels, before, after, faults);
  }

  void per_vma(Repetition& rep, const std::string& base, const json& labels,
               const std::map<std::string, uint64_t>& before,
               const std::map<std::string, uint64_t>& after, uint64_t faults) {
    const std::string& src = tracer_->vma_source();
    if (src.empty()) {
      rep.skip(base + "/per_vma", tracer_->vma_reason());
      return;
    }
    json l = labels;
    l["source"] = src;
    l["better"] = "none";
    if (src == "vmstat") {
      // System-wide counters: every process's faults in the window.
      l["scope"] = "system";
      for (const char* k : {"vma_lock_success", "vma_lock_abort", "vma_lock_retry", "vma_lock_miss"}) {
        auto b = before.find(k), a = after.find(k);
        if (b == before.end() || a == after.end()) continue;
        rep.scalar(base + "/per_vma/" + std::string(k).substr(9), double(a->second - b->second),
                   "faults", l);
      }
      return;
    }
    l["scope"] = "ours";
    kpl_ml_vma v = tracer_->vma(KPL_ML_OURS);
    rep.scalar(base + "/per_vma/success", double(v.success), "faults", l);
    l["better"] = "lower";
    rep.scalar(base + "/per_vma/fallback", double(v.fallback), "faults", l);
    if (faults)
      rep.scalar(base + "/per_vma/fallback_per_fault", double(v.fallback) / faults, "ratio", l);
  }

  // ---- overhead ----------------------------------------------------------

  // Fault (and writer) throughput of one storm with nothing attached, with
  // ours, and with perf on the same events: rounds interleave the
  // configurations so drift hits them alike; medians per configuration.
  void overhead(RunContext& ctx, Repetition& rep) {
    const Point pts[] = {
        {workloads::FaultKind::anon, static_cast<unsigned>(cpus_.size()), workloads::WriterKind::none},
        {workloads::FaultKind::anon, static_cast<unsigned>(std::max<size_t>(1, cpus_.size() - 1)),
         workloads::WriterKind::mmap_munmap}};
    std::string perf = perf_path();
    std::vector<std::string> configs = {"none", "ours"};
    std::map<std::string, std::string> refused;
    if (perf.empty()) {
      refused["perf"] = "perf not installed (linux-perf)";
    } else {
      configs.push_back("perf_record_mmap_lock");
      configs.push_back("perf_trace_mmap_lock");
      configs.push_back("perf_record_contention");
    }
    fs::path tmp = fs::temp_directory_path() / ("kperflab-mmap_lock-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    const uint64_t ms = p_["duration_ms"].get<uint64_t>();
    const std::string pid = std::to_string(getpid());
    for (const Point& pt : pts) {
      std::map<std::string, std::vector<double>> faults, writer;
      for (int round = 0; round < p_["overhead_rounds"].get<int>() && !stop_requested(); ++round)
        for (const std::string& cfg : configs) {
          if (refused.count(cfg) || stop_requested()) continue;
          std::unique_ptr<PerfSession> ps;
          try {
            std::string data = (tmp / (cfg + ".data")).string(), log = (tmp / (cfg + ".log")).string();
            fs::remove(data);
            if (cfg == "ours") {
              tracer_->attach();
              tracer_->arm(true);
            } else {
              tracer_->detach();  // the tracepoints' static key off
            }
            if (cfg == "perf_record_mmap_lock")
              ps = std::make_unique<PerfSession>(
                  std::vector<std::string>{"record", "-q", "-e", "mmap_lock:mmap_lock_start_locking",
                                           "-e", "mmap_lock:mmap_lock_acquire_returned", "-e",
                                           "mmap_lock:mmap_lock_released", "-p", pid, "-o", data},
                  log, data);
            else if (cfg == "perf_record_contention")
              ps = std::make_unique<PerfSession>(
                  std::vector<std::string>{"record", "-q", "-e", "lock:contention_begin", "-e",
                                           "lock:contention_end", "-p", pid, "-o", data},
                  log, data);
            else if (cfg == "perf_trace_mmap_lock")
              ps = std::make_unique<PerfSession>(
                  std::vector<std::string>{"trace", "--no-syscalls", "-e", "mmap_lock:*", "-p", pid,
                                           "-o", data},
                  log, "", 1000);
            auto r = storm(pt, ms);
            tracer_->arm(false);
            tracer_->detach();
            if (ps) ps->stop();
            ps.reset();
            if (r.seconds > 0) {
              faults[cfg].push_back((r.minflt + r.majflt) / r.seconds);
              writer[cfg].push_back(r.writer_ops / r.seconds);
            }
          } catch (const std::exception& e) {
            tracer_->arm(false);
            tracer_->detach();
            refused[cfg] = e.what();
          }
        }
      std::string base = "overhead/" + pt.name();
      double none_f = workloads::median_of(faults["none"]);
      double none_w = workloads::median_of(writer["none"]);
      for (const std::string& cfg : configs) {
        if (refused.count(cfg)) {
          rep.skip(base + "/" + cfg, refused[cfg]);
          continue;
        }
        if (faults[cfg].empty()) continue;
        double f = workloads::median_of(faults[cfg]);
        json l = {{"config", cfg}, {"rounds", faults[cfg].size()}, {"better", "higher"}};
        rep.scalar(base + "/" + cfg + "/faults_per_s", f, "faults/s", l);
        if (cfg != "none" && none_f > 0)
          rep.scalar(base + "/" + cfg + "/faults_ratio", f / none_f, "ratio", l);
        if (pt.writer != workloads::WriterKind::none) {
          double w = workloads::median_of(writer[cfg]);
          rep.scalar(base + "/" + cfg + "/writer_ops_per_s", w, "ops/s", l);
          if (cfg != "none" && none_w > 0)
            rep.scalar(base + "/" + cfg + "/writer_ratio", w / none_w, "ratio", l);
        }
      }
      if (refused.count("perf")) rep.skip(base + "/perf", refused["perf"]);
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
    (void)ctx;
  }

  // ---- cross-check -------------------------------------------------------

  // Our process's mmap_lock waits, ours (start_locking -> acquire) against
  // perf's lock:contention_begin/end on &our_mm->mmap_lock, in the same
  // window. Ours includes uncontended (fast path) acquisitions, perf's only
  // the slow path: totals differ by the fast path, maxima should agree.
  void crosscheck(RunContext&, Repetition& rep) {
    const std::string base = "crosscheck";
    std::string perf = perf_path();
    if (perf.empty()) {
      rep.skip(base, "perf not installed (linux-perf)");
      return;
    }
    if (tracer_->mmap_lock_offset() < 0) {
      rep.skip(base, "no mm_struct.mmap_lock in the kernel's BTF");
      return;
    }
    Point pt{workloads::FaultKind::anon, static_cast<unsigned>(std::max<size_t>(1, cpus_.size() - 1)),
             workloads::WriterKind::mmap_munmap};
    fs::path tmp = fs::temp_directory_path() / ("kperflab-mmap_lock-x-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    std::string data = (tmp / "contention.data").string(), log = (tmp / "perf.log").string(),
                script = (tmp / "script.txt").string();
    try {
      tracer_->attach();
      tracer_->reset();
      PerfSession ps({"record", "-q", "-e", "lock:contention_begin", "-e", "lock:contention_end", "-p",
                      std::to_string(getpid()), "-o", data},
                     log, data);
      tracer_->arm(true);
      auto r = storm(pt, p_["duration_ms"].get<uint64_t>());
      tracer_->arm(false);
      tracer_->detach();
      int rc = ps.stop();
      if (rc != 0) throw std::runtime_error("perf record failed: " + log_tail(log));
      if (run_perf({"script", "-i", data, "-F", "tid,time,event,trace", "--ns"}, script) != 0)
        throw std::runtime_error("perf script failed: " + log_tail(script));
      std::ifstream f(script);
      std::string text((std::istreambuf_iterator<char>(f)), {});
      uint64_t mm = tracer_->our_mm();
      if (!mm) throw std::runtime_error("our process took no mmap_lock in the window");
      ContentionTotals t = parse_contention(text, mm + static_cast<uint64_t>(tracer_->mmap_lock_offset()));
      Counts c = tracer_->counts();
      const auto& rd = c.at(KPL_ML_OURS, KPL_ML_READ);
      const auto& wr = c.at(KPL_ML_OURS, KPL_ML_WRITE);
      json l = {{"workload", pt.name()}, {"better", "none"}};
      auto put = [&](const std::string& n, double v, const char* unit, json extra = json::object()) {
        json x = l;
        x.update(extra);
        rep.scalar(base + "/" + n, v, unit, x);
      };
      put("ours/waits", double(rd.acquired + wr.acquired), "locks",
          {{"source", "mmap_lock:start_locking -> acquire_returned (every blocking lock)"}});
      put("ours/wait_total_ns", double(rd.wait_ns_total + wr.wait_ns_total), "ns");
      put("ours/wait_max_ns", double(std::max(rd.wait_ns_max, wr.wait_ns_max)), "ns");
      put("perf/contended", double(t.contended), "locks",
          {{"source", "perf record lock:contention_begin/end on &mm->mmap_lock (slow path)"},
           {"unpaired", t.unpaired},
           {"events", t.lines}});
      put("perf/wait_total_ns", double(t.wait_total_ns), "ns");
      put("perf/wait_max_ns", double(t.wait_max_ns), "ns");
      if (r.seconds <= 0) rep.skip(base + "/workload", "no time elapsed");
    } catch (const std::exception& e) {
      tracer_->arm(false);
      tracer_->detach();
      rep.skip(base, e.what());
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }

  // ---- what observing costs (#28) ----------------------------------------

  // A process that is not ours faulting on the last CPU: its round rate
  // with our programs attached and armed, and detached, in interleaved
  // windows; the ratio is what the host's other processes pay while a
  // point measures (on the memcg_path flavour, the path formatting of
  // every mmap_lock event).
  void bystander(RunContext& ctx, Repetition& rep) {
    double ratio = workloads::record_bystander(
        rep, cpus_.back(), p_["bystander_rounds"].get<int>(),
        p_["bystander_window_ms"].get<uint64_t>(),
        [&](bool on) {
          tracer_->arm(false);
          if (on) {
            tracer_->reset();
            tracer_->attach();
            tracer_->arm(true);
          } else {
            tracer_->detach();
          }
        },
        [] { return stop_requested(); }, {{"flavour", to_string(tracer_->flav())}});
    if (tracer_->flav() == Flavour::memcg_path && std::isfinite(ratio)) {
      char b[64];
      std::snprintf(b, sizeof b, "%.3fx", ratio);
      ctx.progress().note(std::string("mmap_lock: this kernel formats the memcg path of every "
                                      "mmap_lock event while we are attached; a bystander "
                                      "process ran at ") + b + " its rate meanwhile");
    }
  }

  json p_;
  std::vector<int> cpus_;
  std::unique_ptr<Tracer> tracer_;
  std::vector<Point> points_;
  uint64_t mem_budget_ = 0;   // bytes a storm may hold (0: unknown, no cap)
  bpf::ProgRuns point_runs_;  // this repetition's points, per program
  double point_seconds_ = 0;
};

class MmapLockProbe : public Probe {
 public:
  std::string_view name() const override { return "mmap_lock"; }
  std::string_view summary() const override {
    return "mmap_lock wait/hold histograms from its tracepoints under fault storms and "
           "writers; per-VMA lock outcomes; tracing overhead vs perf";
  }
  Availability check(const HostInfo&) const override {
    auto why = unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  // Up to 6.13 (the tracepoints' memcg_path argument, found in BTF), any
  // program on them makes every mmap_lock event of every process format
  // its memcg path under the global kernfs_rename_lock; upstream removed it
  // in 6.14 for the fleet-wide cost. Outside the lab, only when allowed.
  std::string refused(const json& p, const HostInfo&) const override {
    if (p.value("memcg_path", std::string("refuse")) == "allow") return "";
    KernelBtf btf;
    if (!btf.ok() || flavour(btf) != Flavour::memcg_path) return "";
    return "this kernel's mmap_lock tracepoints format the memcg path of every lock event of "
           "every process while any program is attached (up to 6.13): the host pays for it "
           "while we measure; --set mmap_lock.memcg_path=allow runs it and measures that tax";
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned online_cpus) const override { return specs(online_cpus); }
  // Measured on a 2-vCPU VM at load 6-7 (quick and standard, 500 ms): a
  // point takes its duration and its setup, ~0.2 s for anon, ~0.65 s for
  // file (the page cache), ~1.3 s for cow (fork, first writes); an overhead
  // storm ~0.25 s more, ~1.5 s more under perf (perf record/trace start and
  // stop); the cross-check ~1 s more.
  double estimate_seconds(const json& p) const override {
    double per_kind = 0;
    for (auto& k : p["kinds"]) per_kind += k == "anon" ? 0.2 : k == "file" ? 0.65 : 1.3;
    double kinds = static_cast<double>(std::max<size_t>(1, p["kinds"].size()));
    return double(points(p, 2)) * (p["duration_ms"].get<double>() / 1000 + per_kind / kinds) + 0.2;
  }
  double estimate_checks_seconds(const json& p) const override {
    double d = p["duration_ms"].get<double>() / 1000;
    bool perf = !perf_path().empty();
    double over = p["overhead"].get<bool>()
                      ? 2 * p["overhead_rounds"].get<double>() * (2 * (d + 0.25) + (perf ? 3 * (d + 1.5) : 0))
                      : 0;
    double x = p["crosscheck"].get<bool>() && perf ? d + 1 : 0;
    double by = p["bystander_rounds"].get<double>() * 2 *
                (p["bystander_window_ms"].get<double>() + 25) / 1000;
    return over + x + by;
  }
  unsigned points(const json& p, const HostInfo& host) const override {
    return points(p, host.online_count());
  }
  std::string sampled(const json& p, const HostInfo& host) const override {
    CpuSample s = storm_cpus(host, p);
    if (s.whole()) return "";
    return "storms on " + s.summary(host) + ", many-thread points " +
           std::to_string(s.cpus.size()) + " threads";
  }
  static unsigned points(const json& p, unsigned cpus) {
    size_t threads = p["threads"].empty() ? (cpus > 1 ? 2 : 1) : p["threads"].size();
    return static_cast<unsigned>(p["kinds"].size() * threads * p["writers"].size());
  }
  // One round of the overhead runs, then the anon kind only (file and cow
  // add kinds of fault, anon is the headline), then 250 ms points.
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    json c = p;
    if (p["overhead"].get<bool>() && p["overhead_rounds"].get<int>() > 1)
      c["overhead_rounds"] = 1;
    else if (p["kinds"].size() > 1)
      c["kinds"].erase(c["kinds"].size() - 1);
    else if (p["duration_ms"].get<int>() > 250)
      c["duration_ms"] = 250;
    else
      return std::nullopt;
    return c;
  }
  double budget_weight() const override { return 2.5; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    if (params["sample_cpus"].get<unsigned>() == 1)
      throw std::invalid_argument("mmap_lock.sample_cpus: 0 (every CPU) or at least 2");
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(MmapLockProbe);

}  // namespace kperflab::mmap_lock
