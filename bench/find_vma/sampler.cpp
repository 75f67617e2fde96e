// SPDX-License-Identifier: GPL-2.0-only
#include "sampler.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <span>
#include <stdexcept>

#include "host/bpf_percpu.h"
#include "find_vma.skel.h"
#include "workloads/spinner.h"

// Not inlined, not folded, kept in the symbol table: the uprobe's target.
extern "C" __attribute__((noinline, used)) void kperflab_find_vma_mark(void) {
  asm volatile("" ::: "memory");
}

namespace kperflab::find_vma {

namespace {

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

// One look at the running kernel's BTF: is `f` a function there (not
// inlined away, so fentry can attach)?
bool kernel_has_func(const char* f) {
  struct btf* b = btf__load_vmlinux_btf();
  if (!b) return false;
  bool ok = btf__find_by_name_kind(b, f, BTF_KIND_FUNC) >= 0;
  btf__free(b);
  return ok;
}

int perf_open(uint32_t type, uint64_t config, pid_t tid, unsigned freq_hz) {
  perf_event_attr a{};
  a.size = sizeof a;
  a.type = type;
  a.config = config;
  a.freq = 1;
  a.sample_freq = freq_hz;
  a.disabled = 1;
  // Samples in user mode only: the sampled IP is our spinner's, a user
  // address bpf_find_vma can look up.
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  return static_cast<int>(syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = 0;
  return buf;
}

}  // namespace

Sampler::Sampler() {
  ncpus_ = bpf::possible_cpus();
  const bool debug = getenv("KPERFLAB_BPF_DEBUG") != nullptr;
  libbpf_print_fn_t old = debug ? nullptr : libbpf_set_print(nullptr);
  // The perf_event programs are the probe; the others are tried one by
  // one so each refusal has its own reason, then loaded together.
  int rc = try_load(false, false);
  if (rc) {
    if (!debug) libbpf_set_print(old);
    throw std::runtime_error(err("find_vma perf_event programs: load", rc));
  }
  find_vma_bpf__destroy(skel_);
  skel_ = nullptr;
  if ((rc = try_load(true, false)))
    uprobe_reason_ = err("sleepable uprobe (uprobe.s with bpf_get_stack) refused", rc);
  find_vma_bpf__destroy(skel_);
  skel_ = nullptr;
  if (!kernel_has_func("do_mmap_read_unlock"))
    fentry_reason_ = "do_mmap_read_unlock not in the kernel's BTF";
  else if ((rc = try_load(false, true)))
    fentry_reason_ = err("fentry do_mmap_read_unlock refused", rc);
  find_vma_bpf__destroy(skel_);
  skel_ = nullptr;
  rc = try_load(uprobe_ok(), fentry_ok());
  if (!debug) libbpf_set_print(old);
  if (rc) throw std::runtime_error(err("find_vma BPF programs: load", rc));
  // Both attach here once to learn whether they can (the reason goes in
  // the bundle), then go: attach() puts them on for a point's window only
  // (#28: the fentry trampoline is on a path every deferred mmap unlock of
  // the host takes).
  if (fentry_ok()) {
    if (bpf_link* l = attach_fentry()) bpf_link__destroy(l);
    else fentry_reason_ = err("fentry do_mmap_read_unlock: attach", errno);
  }
  if (uprobe_ok()) {
    if (bpf_link* l = attach_uprobe()) bpf_link__destroy(l);
    else uprobe_reason_ = err("uprobe.s on kperflab_find_vma_mark in " + self_exe() + ": attach", errno);
  }
}

std::string Sampler::sleepable_stack() {
  return kernel_has_func("build_id_parse_nofault") ? "faultable" : "nofault";
}

bpf_link* Sampler::attach_fentry() { return bpf_program__attach(skel_->progs.deferred_unlock); }

bpf_link* Sampler::attach_uprobe() {
  LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = "kperflab_find_vma_mark");
  std::string exe = self_exe();
  return bpf_program__attach_uprobe_opts(skel_->progs.mark_sleepable, getpid(), exe.c_str(), 0,
                                         &o);
}

Sampler::~Sampler() {
  detach();
  if (skel_) find_vma_bpf__destroy(skel_);
}

int Sampler::try_load(bool uprobe, bool fentry) {
  find_vma_bpf* s = find_vma_bpf__open();
  if (!s) return -errno;
  s->rodata->target_tgid = static_cast<__u32>(getpid());
  bpf_program__set_autoload(s->progs.mark_sleepable, uprobe);
  bpf_program__set_autoload(s->progs.deferred_unlock, fentry);
  int rc = find_vma_bpf__load(s);
  if (rc) {
    find_vma_bpf__destroy(s);
    return rc < 0 ? rc : -rc;
  }
  skel_ = s;
  return 0;
}

void Sampler::attach(const std::vector<pid_t>& tids, unsigned freq_hz) {
  detach();
  for (bool fentry : {true, false}) {
    if (fentry ? !fentry_ok() : !uprobe_ok()) continue;
    bpf_link* l = fentry ? attach_fentry() : attach_uprobe();
    if (!l) {
      int e = errno;
      detach();
      throw std::runtime_error(err(fentry ? "fentry do_mmap_read_unlock: attach"
                                          : "uprobe.s on kperflab_find_vma_mark: attach", e));
    }
    links_.push_back(l);
  }
  struct Ev {
    uint32_t type;
    uint64_t config;
    bpf_program* prog;
  };
  const Ev evs[] = {{PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, skel_->progs.sample_clock},
                    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, skel_->progs.sample_cycles}};
  cycles_reason_.clear();
  for (const Ev& ev : evs) {
    const bool hw = ev.type == PERF_TYPE_HARDWARE;
    const size_t first_link = links_.size(), first_fd = fds_.size();
    for (pid_t tid : tids) {
      int fd = perf_open(ev.type, ev.config, tid, freq_hz);
      if (fd < 0) {
        int e = errno;
        if (!hw) {
          detach();
          throw std::runtime_error(err("perf_event_open cpu-clock", e));
        }
        cycles_reason_ = err("perf_event_open PERF_COUNT_HW_CPU_CYCLES", e);
        // All threads or none: the cycles events of the threads before
        // this one are detached again (a partial attach would sample some
        // threads and report none).
        const size_t had = fds_.size() - first_fd;
        for (size_t i = first_link; i < links_.size(); ++i) bpf_link__destroy(links_[i]);
        links_.resize(first_link);
        for (size_t i = first_fd; i < fds_.size(); ++i) close(fds_[i]);
        fds_.resize(first_fd);
        if (had)
          cycles_reason_ += " on thread " + std::to_string(had + 1) + " of " +
                            std::to_string(tids.size()) + " (the " + std::to_string(had) +
                            " attached before it were detached)";
        break;
      }
      fds_.push_back(fd);
      bpf_link* l = bpf_program__attach_perf_event(ev.prog, fd);
      if (!l) {
        int e = errno;
        detach();
        throw std::runtime_error(err(std::string("attach ") + bpf_program__name(ev.prog), e));
      }
      links_.push_back(l);
    }
  }
}

bpf::ProgRuns Sampler::runs() const { return bpf::loaded_runs(skel_->obj); }

void Sampler::detach() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  for (int fd : fds_) close(fd);
  fds_.clear();
}

void Sampler::arm(bool on) { __atomic_store_n(&skel_->bss->armed, on ? 1u : 0u, __ATOMIC_SEQ_CST); }

void Sampler::reset() {
  bpf::zero_percpu(skel_->maps.hists, KPL_FV_NR_HISTS, sizeof(kpl_fv_hist), ncpus_);
  bpf::zero_percpu(skel_->maps.counts, KPL_FV_NR_SOURCES, sizeof(kpl_fv_counts), ncpus_);
  bpf::zero_percpu(skel_->maps.unlocks, 1, sizeof(kpl_fv_unlocks), ncpus_);
}


SourceCounts Sampler::counts(int src) const {
  SourceCounts s;
  static_cast<kpl_fv_counts&>(s) =
      bpf::sum_percpu<kpl_fv_counts>(skel_->maps.counts, static_cast<uint32_t>(src), ncpus_);
  return s;
}

kpl_fv_unlocks Sampler::unlocks() const {
  return bpf::sum_percpu<kpl_fv_unlocks>(skel_->maps.unlocks, 0, ncpus_);
}

Histogram Sampler::hist(int src, int call) const {
  return bpf::merge_percpu_hist<kpl_fv_hist>(skel_->maps.hists, KPL_FV_HIST_IDX(src, call), ncpus_);
}

// ---- the load ------------------------------------------------------------

Load::Load(const LoadConfig& cfg) {
  const size_t n = cfg.cpus.size();
  std::vector<std::atomic<pid_t>> tids(cfg.threads);
  // Spinners: arithmetic in user space, pinned; the sampled threads.
  for (unsigned i = 0; i < cfg.threads; ++i)
    threads_.emplace_back([this, &tids, i, cpu = cfg.cpus[i % n]] {
      try {
        workloads::pin_self(cpu);
      } catch (...) {
      }
      tids[i].store(gettid());
      ready_.fetch_add(1);
      ready_.notify_all();
      uint64_t x = 0x9e3779b97f4a7c15ULL;
      while (!stop_.load(std::memory_order_relaxed))
        for (int k = 0; k < 4096; ++k) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      asm volatile("" ::"r"(x));
    });
  // The marker: calls the uprobe's function at mark_rate, on the last CPU.
  if (cfg.mark_rate > 0)
    threads_.emplace_back([this, cpu = cfg.cpus[n - 1], rate = cfg.mark_rate] {
      try {
        workloads::pin_self(cpu);
      } catch (...) {
      }
      ready_.fetch_add(1);
      ready_.notify_all();
      const long ns = static_cast<long>(1e9 / rate);
      while (!stop_.load(std::memory_order_relaxed)) {
        kperflab_find_vma_mark();
        marks_.fetch_add(1, std::memory_order_relaxed);
        timespec ts{ns / 1000000000L, ns % 1000000000L};
        nanosleep(&ts, nullptr);
      }
    });
  const unsigned want = cfg.threads + (cfg.mark_rate > 0 ? 1 : 0);
  for (unsigned r; (r = ready_.load()) < want;) ready_.wait(r);
  for (auto& t : tids) tids_.push_back(t.load());
  if (cfg.writer_rate > 0 && cfg.writers > 0) {
    workloads::FaultStormConfig w;
    w.kind = workloads::FaultKind::anon;
    w.threads = 0;  // writers alone
    w.region_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    w.writer = cfg.writer;
    w.writers = cfg.writers;
    w.writer_rate = cfg.writer_rate >= 1e9 ? 0 : cfg.writer_rate;  // 1e9: back to back
    // Writers on the CPUs after the spinners' (shared when there are none).
    for (unsigned i = 0; i < cfg.writers; ++i) w.cpus.push_back(cfg.cpus[(cfg.threads + i) % n]);
    try {
      writers_ = std::make_unique<workloads::FaultStorm>(w);
      writers_->start();
    } catch (...) {
      stop();
      throw;
    }
  }
}

workloads::FaultStormResult Load::stop() {
  if (stopped_) return result_;
  stopped_ = true;
  if (writers_) result_ = writers_->stop();
  stop_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
  return result_;
}

Load::~Load() { stop(); }

}  // namespace kperflab::find_vma
