// SPDX-License-Identifier: GPL-2.0-only
#include "delivery.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "membarrier.h"
#include "core/stop.h"
#include "membarrier.skel.h"
#include "workloads/child.h"

namespace kperflab::membarrier {

namespace {

using Skel = membarrier_bpf;

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The running kernel's BTF, loaded once per tracer (it is megabytes).
class KernelBtf {
 public:
  KernelBtf() : btf_(btf__load_vmlinux_btf()) {}
  ~KernelBtf() { btf__free(btf_); }
  KernelBtf(const KernelBtf&) = delete;
  KernelBtf& operator=(const KernelBtf&) = delete;
  // A function for fentry, a btf_trace_<tp> typedef for a tracepoint.
  bool has(const char* name, int kind) const {
    return btf_ && btf__find_by_name_kind(btf_, name, kind) >= 0;
  }
  bool has_func(const char* name) const { return has(name, BTF_KIND_FUNC); }
  bool has_tracepoint(const char* tp) const {
    return has((std::string("btf_trace_") + tp).c_str(), BTF_KIND_TYPEDEF);
  }

 private:
  struct btf* btf_;
};

using Addresses = std::array<uint64_t, 3>;

// Addresses of the membarrier IPI callbacks (static functions: kallsyms
// type 't'); 0 where hidden (kptr_restrict) or absent.
Addresses ipi_callback_addresses() {
  Addresses a = {0, 0, 0};
  const char* names[] = {"ipi_mb", "ipi_rseq", "ipi_sync_core"};
  std::ifstream f("/proc/kallsyms");
  std::string line;
  while (std::getline(f, line)) {
    auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    std::string sym = line.substr(sp + 1);
    for (int i = 0; i < 3; ++i)
      if (sym == names[i]) a[i] = std::stoull(line.substr(0, line.find(' ')), nullptr, 16);
  }
  return a;
}


// The membarrier syscall's function, by the names the syscall wrappers give
// it (x86-64, arm64, architectures without wrappers).
constexpr const char* kSyscallFunctions[] = {"__x64_sys_membarrier", "__arm64_sys_membarrier",
                                             "__se_sys_membarrier", "sys_membarrier"};

// What a skeleton is opened with besides its programs.
struct Config {
  int ncpus = 0;
  Addresses addr{};     // the callbacks' addresses (filters on func)
  std::string call_fn;  // fentry/fexit target of the CALL_WINDOW programs
};

// Opens the skeleton sized for this host in `mode`, with only the programs
// in `keep` (by name) set to load.
Skel* open_with(const std::vector<std::string>& keep, uint32_t mode, const Config& cfg) {
  Skel* s = membarrier_bpf__open();
  if (!s) throw std::runtime_error(err("membarrier BPF open", errno));
  s->rodata->mode = mode;
  s->rodata->nr_cpus = static_cast<__u32>(cfg.ncpus);
  s->rodata->membarrier_nr = SYS_membarrier;
  for (int i = 0; i < 3; ++i) s->rodata->ipi_funcs[i] = cfg.addr[i];
  bpf_map__set_max_entries(s->maps.cpus, static_cast<__u32>(cfg.ncpus));
  bpf_program* p;
  bpf_object__for_each_program(p, s->obj) {
    std::string name = bpf_program__name(p);
    bool k = std::find(keep.begin(), keep.end(), name) != keep.end();
    bpf_program__set_autoload(p, k);
    if (k && (name == "mb_call_entry" || name == "mb_call_exit") &&
        bpf_program__set_attach_target(p, 0, cfg.call_fn.c_str())) {
      membarrier_bpf__destroy(s);
      throw std::runtime_error("no BTF function " + cfg.call_fn + " to attach to");
    }
  }
  return s;
}

// BTF says a function or tracepoint exists, not that this program may
// attach to it: notrace, the verifier's deny list, or a sandbox refusing
// every fentry/fexit load with EPERM before the verifier runs (seen on the
// CI machines' 6.18, where raw_tp and tp_btf load). Try the set alone.
bool loads(const std::vector<std::string>& progs, uint32_t mode, const Config& cfg) {
  const bool debug = getenv("KPERFLAB_BPF_DEBUG") != nullptr;
  libbpf_print_fn_t old = debug ? nullptr : libbpf_set_print(nullptr);
  int rc = -1;
  try {
    Skel* s = open_with(progs, mode, cfg);
    rc = membarrier_bpf__load(s);
    membarrier_bpf__destroy(s);
  } catch (const std::exception&) {
    rc = -1;
  }
  if (!debug) libbpf_set_print(old);
  return rc == 0;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

std::string DeliveryTracer::unavailable_reason() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return "no kernel BTF (/sys/kernel/btf/vmlinux): the BPF programs cannot load";
  if (geteuid() != 0) return "loading BPF programs needs root (CAP_BPF + CAP_PERFMON)";
  KernelBtf btf;
  if (!btf.has_func("ipi_mb")) return "kernel BTF has no ipi_mb (membarrier IPI callback)";
  return "";
}

void DeliveryTracer::SkelDeleter::operator()(membarrier_bpf* s) const {
  membarrier_bpf__destroy(s);
}

namespace {

// Which programs pair callbacks with our sends on this kernel, and why the
// better ones could not.
struct Selection {
  uint32_t mode = 0;
  Config cfg;
  std::string name, send_point, call_window;
  std::vector<std::string> handlers, programs, refused;
};

// Tries the modes best first (membarrier.h), each by test-loading its
// programs; `want` limits the choice to one mode.
class Selector {
 public:
  explicit Selector(int ncpus) {
    s_.cfg.ncpus = ncpus;
    s_.cfg.addr = ipi_callback_addresses();
    have_addr_ = s_.cfg.addr[0] != 0;
  }

  Selection run(const std::string& want) {
    bool ok = false;
    if (want == "auto" || want == "csd") ok = csd();
    if (!ok && (want == "auto" || want == "send_fentry")) ok = send_fentry();
    if (!ok && (want == "auto" || want == "call_window")) ok = call_window();
    if (!ok)
      throw std::runtime_error("no way to pair membarrier IPIs with our sends (delivery_mode " +
                               want + "): " + join(s_.refused));
    return s_;
  }

 private:
  using Progs = std::vector<std::string>;

  bool refuse(const std::string& what, const std::string& why) {
    s_.refused.push_back(what + " (" + why + ")");
    return false;
  }

  // CSD: both csd tracepoints (6.5+), filtered on the callbacks' addresses.
  bool csd() {
    const std::string what = "csd:csd_queue_cpu + csd:csd_function_entry";
    if (!btf_.has_tracepoint("csd_queue_cpu") || !btf_.has_tracepoint("csd_function_entry"))
      return refuse(what, "absent: kernel < 6.5");
    if (!have_addr_) return refuse(what, "ipi_mb hidden in /proc/kallsyms");
    Progs p = {"mb_csd_queue", "mb_csd_entry"};
    if (!loads(p, KPL_MB_MODE_CSD, s_.cfg)) return refuse(what, "load refused");
    s_.mode = KPL_MB_MODE_CSD;
    s_.name = "csd";
    s_.send_point = "csd:csd_queue_cpu (per target CPU, paired by csd pointer)";
    s_.handlers = {"csd:csd_function_entry"};
    s_.programs = p;
    return true;
  }

  // fentry on each callback (probed once); the programs that load.
  const Progs& fentry_receivers() {
    if (probed_) return recv_;
    probed_ = true;
    const std::pair<const char*, const char*> fentries[] = {
        {"mb_ipi_mb", "ipi_mb"}, {"mb_ipi_rseq", "ipi_rseq"}, {"mb_ipi_sync_core", "ipi_sync_core"}};
    for (auto& [prog, func] : fentries) {
      std::string what = std::string("fentry ") + func;
      if (!btf_.has_func(func))
        refuse(what, "absent");
      else if (!loads({prog}, KPL_MB_MODE_CALL_WINDOW, s_.cfg))
        refuse(what, "load refused");
      else {
        recv_.push_back(prog);
        recv_names_.push_back(what);
      }
    }
    return recv_;
  }

  // SEND_FENTRY: the send functions' arguments name the targets (6.1).
  bool send_fentry() {
    const std::string what = "fentry/fexit smp_call_function_many_cond + smp_call_function_single";
    if (fentry_receivers().empty()) return refuse(what, "no fentry on the callbacks");
    if (!btf_.has_func("smp_call_function_many_cond") || !btf_.has_func("smp_call_function_single"))
      return refuse(what, "absent from BTF (inlined?)");
    if (!have_addr_) return refuse(what, "ipi_mb hidden in /proc/kallsyms");
    Progs p = concat(recv_, {"mb_send_many", "mb_send_many_exit", "mb_send_single",
                             "mb_send_single_exit"});
    if (!loads(p, KPL_MB_MODE_SEND_FENTRY, s_.cfg)) return refuse(what, "load refused");
    s_.mode = KPL_MB_MODE_SEND_FENTRY;
    s_.name = "send_fentry";
    s_.send_point = what + " (target CPUs from their arguments)";
    s_.handlers = recv_names_;
    s_.programs = p;
    return true;
  }

  // CALL_WINDOW: callbacks by fentry or the csd tracepoint; our call by the
  // syscall function, else by the raw syscall tracepoints (every syscall
  // of every process pays for those: the last resort).
  bool call_window() {
    Progs recv = fentry_receivers();
    Progs names = recv_names_;
    if (recv.empty()) {
      if (!btf_.has_tracepoint("csd_function_entry") || !have_addr_ ||
          !loads({"mb_csd_entry"}, KPL_MB_MODE_CALL_WINDOW, s_.cfg))
        return refuse("csd:csd_function_entry alone", "absent or refused");
      recv = {"mb_csd_entry"};
      names = {"csd:csd_function_entry"};
    }
    for (const char* fn : kSyscallFunctions) {
      if (!btf_.has_func(fn)) continue;
      Progs p = concat(recv, {"mb_call_entry", "mb_call_exit"});
      Config with_fn = s_.cfg;
      with_fn.call_fn = fn;
      if (!loads(p, KPL_MB_MODE_CALL_WINDOW, with_fn)) {
        refuse(std::string("fentry/fexit ") + fn, "load refused");
        continue;
      }
      s_.cfg.call_fn = fn;
      s_.call_window = std::string("fentry/fexit ") + fn;
      s_.programs = p;
      break;
    }
    if (s_.call_window.empty()) {
      Progs p = concat(recv, {"mb_sys_enter", "mb_sys_exit"});
      if (!loads(p, KPL_MB_MODE_CALL_WINDOW, s_.cfg))
        return refuse("tp_btf/sys_enter + sys_exit", "load refused");
      s_.call_window = "tp_btf/sys_enter + sys_exit (run for every syscall on the machine)";
      s_.programs = p;
    }
    s_.mode = KPL_MB_MODE_CALL_WINDOW;
    s_.name = "call_window";
    s_.send_point = "membarrier() entry (" + s_.call_window + ")";
    s_.handlers = names;
    return true;
  }

  bool have_addr_ = false;
  KernelBtf btf_;
  Selection s_;
  bool probed_ = false;
  Progs recv_, recv_names_;
};

}  // namespace

DeliveryTracer::DeliveryTracer(const std::string& want) {
  if (want != "auto" && want != "csd" && want != "send_fentry" && want != "call_window")
    throw std::invalid_argument("membarrier.delivery_mode: '" + want +
                                "' is none of auto, csd, send_fentry, call_window");
  ncpus_ = libbpf_num_possible_cpus();
  if (ncpus_ <= 0) throw std::runtime_error(err("libbpf_num_possible_cpus", ncpus_));
  Selection s = Selector(ncpus_).run(want);
  skel_.reset(open_with(s.programs, s.mode, s.cfg));
  int rc = membarrier_bpf__load(skel_.get());
  if (rc) throw std::runtime_error(err("membarrier BPF load (see libbpf messages)", rc));
  mode_ = s.name;
  send_point_ = s.send_point;
  call_window_ = s.call_window;
  handlers_ = s.handlers;
  programs_ = s.programs;
  not_attachable_ = s.refused;
}

DeliveryTracer::~DeliveryTracer() { disarm(); }

void DeliveryTracer::arm(pid_t tgid) {
  disarm();
  skel_->bss->target_tgid = static_cast<__u32>(tgid > 0 ? tgid : getpid());
  std::vector<kpl_mb_cpu> zero(1);
  std::memset(zero.data(), 0, sizeof(kpl_mb_cpu));
  int fd = bpf_map__fd(skel_->maps.cpus);
  for (__u32 cpu = 0; cpu < static_cast<__u32>(ncpus_); ++cpu)
    if (bpf_map_update_elem(fd, &cpu, zero.data(), BPF_ANY))
      throw std::runtime_error(err("reset delivery map", errno));
  // seq keeps counting: a generation is never reused within a run.
  skel_->bss->inflight = 0;
  skel_->bss->inflight_ts = 0;
  skel_->bss->caller_tid = 0;
  skel_->bss->first_queue_ts = 0;
  bpf_program* p;
  bpf_object__for_each_program(p, skel_->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_link* l = bpf_program__attach(p);
    if (!l) {
      int e = errno;
      disarm();
      throw std::runtime_error(err(std::string("attach ") + bpf_program__name(p), e));
    }
    links_.push_back(l);
  }
  runs_at_arm_ = runs();
  armed_at_ = std::chrono::steady_clock::now();
  armed_ = true;
  __atomic_store_n(&skel_->bss->armed, 1, __ATOMIC_SEQ_CST);
}

void DeliveryTracer::disarm() {
  if (skel_) __atomic_store_n(&skel_->bss->armed, 0, __ATOMIC_SEQ_CST);
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  if (armed_) {
    armed_ = false;
    bpf::add_runs(armed_total_.runs, runs(), runs_at_arm_);
    armed_total_.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - armed_at_).count();
  }
}

bpf::ProgRuns DeliveryTracer::runs() const { return bpf::loaded_runs(skel_->obj); }

DeliveryTracer::Armed DeliveryTracer::take_armed() {
  Armed a = std::move(armed_total_);
  armed_total_ = {};
  return a;
}

std::vector<CpuDelivery> DeliveryTracer::read() const {
  std::vector<CpuDelivery> out;
  std::vector<kpl_mb_cpu> v(1);
  int fd = bpf_map__fd(skel_->maps.cpus);
  for (__u32 cpu = 0; cpu < static_cast<__u32>(ncpus_); ++cpu) {
    if (bpf_map_lookup_elem(fd, &cpu, v.data()))
      throw std::runtime_error(err("read delivery map", errno));
    CpuDelivery d{static_cast<int>(cpu), v[0].received, v[0].foreign, v[0].negative, Histogram()};
    d.latency.merge_truncated(std::span<const unsigned long long>(v[0].counts, KPL_MB_HIST_LEN),
                              v[0].overflow);
    out.push_back(std::move(d));
  }
  return out;
}

nlohmann::json DeliveryTracer::describe() const {
  return {{"mode", mode_},
          {"send_point", send_point_},
          {"handlers", handlers_},
          {"call_window", call_window_.empty() ? nlohmann::json(nullptr) : nlohmann::json(call_window_)},
          {"programs", programs_},
          {"not_attachable", not_attachable_}};
}

namespace {

// A child process (another tgid: the programs' filters reject it, as they
// reject every other process) that, on each request, times `calls`
// getppid() calls and answers the nanoseconds. Timed in the child's own
// CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine wall time is
// mostly the time the child was preempted. Killed and reaped on destruction.
class SyscallLoopChild {
 public:
  SyscallLoopChild(int cpu, uint64_t calls) {
    int req[2], ans[2];
    if (pipe2(req, O_CLOEXEC) != 0) throw std::runtime_error(err("pipe", errno));
    if (pipe2(ans, O_CLOEXEC) != 0) {
      close(req[0]);
      close(req[1]);
      throw std::runtime_error(err("pipe", errno));
    }
    pid_ = workloads::fork_bound_child();
    if (pid_ < 0) {
      int e = errno;
      for (int fd : {req[0], req[1], ans[0], ans[1]}) close(fd);
      throw std::runtime_error(err("fork", e));
    }
    if (pid_ == 0) child(req[0], ans[1], cpu, calls);  // never returns
    close(req[0]);
    close(ans[1]);
    to_ = req[1];
    from_ = ans[0];
  }
  ~SyscallLoopChild() {
    close(to_);
    close(from_);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  SyscallLoopChild(const SyscallLoopChild&) = delete;
  SyscallLoopChild& operator=(const SyscallLoopChild&) = delete;

  uint64_t run() {
    char go = 'g';
    uint64_t ns = 0;
    if (write(to_, &go, 1) != 1 || ::read(from_, &ns, sizeof ns) != sizeof ns)
      throw std::runtime_error("syscall overhead child (getppid loop) stopped answering");
    return ns;
  }

 private:
  // After fork in a possibly multi-threaded process: only async-signal-safe
  // calls from here on.
  [[noreturn]] static void child(int req, int ans, int cpu, uint64_t calls) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
    char go;
    while (::read(req, &go, 1) == 1) {
      timespec a{}, b{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      for (uint64_t i = 0; i < calls; ++i) syscall(SYS_getppid);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      uint64_t ns = static_cast<uint64_t>(b.tv_sec - a.tv_sec) * 1000000000ull +
                    static_cast<uint64_t>(b.tv_nsec) - static_cast<uint64_t>(a.tv_nsec);
      if (write(ans, &ns, sizeof ns) != sizeof ns) break;
    }
    _exit(0);
  }
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

SyscallOverhead DeliveryTracer::measure_syscall_overhead(int cpu, unsigned rounds,
                                                         uint64_t calls) {
  if (rounds == 0 || calls == 0)
    throw std::invalid_argument("syscall overhead: rounds and calls must be positive");
  SyscallLoopChild child(cpu, calls);
  disarm();
  child.run();  // warm-up: the child's first pass faults in its pages
  std::vector<double> off, on;
  for (unsigned r = 0; r < rounds; ++r) {
    // Half a round is at most overhead_calls (<= 500000) getppid() calls.
    if (stop_requested()) {
      disarm();
      throw std::runtime_error("interrupted (^C) before every round was measured");
    }
    // Off-on, then on-off: a drift in the machine's load cancels out.
    for (int k = 0; k < 2; ++k) {
      bool attached = (r % 2 == 0) == (k == 1);
      if (attached)
        arm();
      else
        disarm();
      double ns = static_cast<double>(child.run()) / static_cast<double>(calls);
      (attached ? on : off).push_back(ns);
    }
  }
  disarm();
  return {median(off), median(on), rounds, calls};
}

}  // namespace kperflab::membarrier
