// SPDX-License-Identifier: GPL-2.0-only
// The mmap_lock probe's libbpf side, kept apart from the storms and checks
// that use it: which set of programs this kernel loads (tracepoint flavour,
// tp_btf or raw_tp, task storage or an LRU hash, fexit for per-VMA locks),
// and how the per-CPU maps are summed back (maxima stay maxima).
#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "host/bpf_percpu.h"
#include "mmap_lock.skel.h"

namespace kperflab::mmap_lock {

namespace {

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

}  // namespace

// ---- what the running kernel offers ---------------------------------------

KernelBtf::KernelBtf() : btf_(btf__load_vmlinux_btf()) {}
KernelBtf::~KernelBtf() { btf__free(btf_); }

bool KernelBtf::has_func(const char* f) const {
  return btf_ && btf__find_by_name_kind(btf_, f, BTF_KIND_FUNC) >= 0;
}

int KernelBtf::tracepoint_args(const char* tp) const {
  if (!btf_) return -1;
  int id = btf__find_by_name_kind(btf_, (std::string("btf_trace_") + tp).c_str(),
                                  BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const btf_type* t = btf__type_by_id(btf_, id);
  while (t && (btf_is_typedef(t) || btf_is_ptr(t))) t = btf__type_by_id(btf_, t->type);
  return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

long KernelBtf::member_offset(const char* st, const char* member) const {
  if (!btf_) return -1;
  int id = btf__find_by_name_kind(btf_, st, BTF_KIND_STRUCT);
  return id < 0 ? -1 : find(btf__type_by_id(btf_, id), member, 0);
}

long KernelBtf::find(const btf_type* t, const char* member, long base) const {
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

// ---- the BPF side --------------------------------------------------------

Tracer::Tracer(bool want_vma, bool allow_task_storage) {
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

Tracer::~Tracer() {
  detach();
  if (skel_) mmap_lock_bpf__destroy(skel_);
}

void Tracer::attach() {
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

void Tracer::detach() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
}

bpf::ProgRuns Tracer::runs() const {
  bpf::ProgRuns r;
  for (bpf_program* p : progs_) r[bpf_program__name(p)] = bpf::prog_run(p);
  if (vma_fexit_) r["vma_exit"] = bpf::prog_run(skel_->progs.vma_exit);
  return r;
}

void Tracer::arm(bool on) {
  if (on) {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    __atomic_store_n(&skel_->bss->arm_ts,
                     static_cast<__u64>(t.tv_sec) * 1000000000ull + static_cast<__u64>(t.tv_nsec),
                     __ATOMIC_SEQ_CST);
  }
  __atomic_store_n(&skel_->bss->armed, on ? 1u : 0u, __ATOMIC_SEQ_CST);
}

uint64_t Tracer::cgroups_dropped() const {
  uint64_t n = 0;
  for (auto v : bpf::read_percpu<uint64_t>(skel_->maps.cgroups_dropped, 0, ncpus_)) n += v;
  return n;
}

uint32_t Tracer::cgroup_capacity() const { return bpf_map__max_entries(skel_->maps.cgroups); }

void Tracer::reset() {
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

Histogram Tracer::hist(int kind, int who, int op) const {
  return bpf::merge_percpu_hist<kpl_ml_hist>(skel_->maps.hists, KPL_ML_HIST_IDX(kind, who, op),
                                             ncpus_);
}

Counts Tracer::counts() const {
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

kpl_ml_vma Tracer::vma(int who) const {
  return bpf::sum_percpu<kpl_ml_vma>(skel_->maps.vma, static_cast<uint32_t>(who), ncpus_);
}

json Tracer::cgroups() const {
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

uint64_t Tracer::our_mm() const { return skel_->bss->our_mm; }

int Tracer::try_load(const std::string& attach, bool vma, bool task_storage) {
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

}  // namespace kperflab::mmap_lock
