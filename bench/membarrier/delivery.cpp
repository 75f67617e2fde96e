// SPDX-License-Identifier: GPL-2.0-only
#include "delivery.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <array>
#include <fstream>
#include <cstring>
#include <stdexcept>

#include "membarrier.h"
#include "membarrier.skel.h"

namespace kperflab::membarrier {

namespace {

// True when the running kernel's BTF has this name of this kind (a
// function for fentry, a btf_trace_<tp> typedef for tp_btf).
bool kernel_has(const char* name, int kind) {
  struct btf* btf = btf__load_vmlinux_btf();
  if (!btf) return false;
  bool found = btf__find_by_name_kind(btf, name, kind) >= 0;
  btf__free(btf);
  return found;
}

bool kernel_has_func(const char* name) { return kernel_has(name, BTF_KIND_FUNC); }

// Addresses of the membarrier IPI callbacks (static functions: kallsyms
// type 't'); 0 where hidden (kptr_restrict) or absent.
std::array<uint64_t, 3> ipi_callback_addresses() {
  std::array<uint64_t, 3> a = {0, 0, 0};
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

std::string err(const char* what, int e) {
  return std::string(what) + ": " + std::strerror(e < 0 ? -e : e);
}

}  // namespace

std::string DeliveryTracer::unavailable_reason() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return "no kernel BTF (/sys/kernel/btf/vmlinux): fentry programs cannot load";
  if (geteuid() != 0) return "loading BPF programs needs root (CAP_BPF + CAP_PERFMON)";
  if (!kernel_has_func("ipi_mb")) return "kernel BTF has no ipi_mb (membarrier IPI callback)";
  return "";
}

void DeliveryTracer::SkelDeleter::operator()(membarrier_bpf* s) const {
  membarrier_bpf__destroy(s);
}

namespace {

using Skel = membarrier_bpf;

// Opens the skeleton sized for this host, with only the programs in `keep`
// (by name) set to load.
Skel* open_with(const std::vector<std::string>& keep, int ncpus) {
  Skel* s = membarrier_bpf__open();
  if (!s) throw std::runtime_error(err("membarrier BPF open", errno));
  s->rodata->target_tgid = static_cast<__u32>(getpid());
  s->rodata->membarrier_nr = SYS_membarrier;
  auto addr = ipi_callback_addresses();
  for (int i = 0; i < 3; ++i) s->rodata->ipi_funcs[i] = addr[i];
  bpf_map__set_max_entries(s->maps.cpus, static_cast<__u32>(ncpus));
  bpf_program* p;
  bpf_object__for_each_program(p, s->obj) {
    bool k = std::find(keep.begin(), keep.end(), bpf_program__name(p)) != keep.end();
    bpf_program__set_autoload(p, k);
  }
  return s;
}

// BTF says a function exists, not that fentry may attach to it (notrace,
// noinstr and the verifier's deny list answer EPERM): try each optional
// program alone.
bool loads(const char* prog, int ncpus) {
  libbpf_print_fn_t old = getenv("KPERFLAB_BPF_DEBUG") ? nullptr : libbpf_set_print(nullptr);
  Skel* s = open_with({"mb_sys_enter", prog}, ncpus);
  int rc = membarrier_bpf__load(s);
  membarrier_bpf__destroy(s);
  if (!getenv("KPERFLAB_BPF_DEBUG")) libbpf_set_print(old);
  return rc == 0;
}

}  // namespace

DeliveryTracer::DeliveryTracer() {
  ncpus_ = libbpf_num_possible_cpus();
  if (ncpus_ <= 0) throw std::runtime_error(err("libbpf_num_possible_cpus", ncpus_));
  std::vector<std::string> keep = {"mb_sys_enter"};
  auto try_prog = [&](const char* prog, bool present, const std::string& what) {
    if (present && loads(prog, ncpus_)) {
      keep.push_back(prog);
      return true;
    }
    not_attachable_.push_back(what + (present ? " (load refused)" : " (absent)"));
    return false;
  };
  // Receive side: fentry on the callbacks, else the csd tracepoint.
  const std::pair<const char*, const char*> fentries[] = {
      {"mb_ipi_mb", "ipi_mb"}, {"mb_ipi_rseq", "ipi_rseq"}, {"mb_ipi_sync_core", "ipi_sync_core"}};
  for (auto& [prog, func] : fentries)
    if (try_prog(prog, kernel_has_func(func), std::string("fentry ") + func))
      handlers_.push_back(std::string("fentry ") + func);
  auto addr = ipi_callback_addresses();
  bool have_addr = addr[0] != 0;
  if (handlers_.empty() &&
      try_prog("mb_csd_entry",
               have_addr && kernel_has("btf_trace_csd_function_entry", BTF_KIND_TYPEDEF),
               "csd:csd_function_entry"))
    handlers_.push_back("csd:csd_function_entry");
  if (handlers_.empty())
    throw std::runtime_error("no way to see membarrier IPIs arrive: " + [&] {
      std::string s;
      for (auto& n : not_attachable_) s += (s.empty() ? "" : ", ") + n;
      return s;
    }());
  // Send side: per-target csd queue time, else the send function, else the
  // syscall entry.
  send_point_ = "sys_enter (membarrier() entry)";
  if (try_prog("mb_csd_queue",
               have_addr && kernel_has("btf_trace_csd_queue_cpu", BTF_KIND_TYPEDEF),
               "csd:csd_queue_cpu"))
    send_point_ = "csd:csd_queue_cpu (per target CPU)";
  else if (try_prog("mb_send", kernel_has_func("smp_call_function_many_cond"),
                    "fentry smp_call_function_many_cond"))
    send_point_ = "fentry smp_call_function_many_cond";
  skel_.reset(open_with(keep, ncpus_));
  int rc = membarrier_bpf__load(skel_.get());
  if (rc) throw std::runtime_error(err("membarrier BPF load (see libbpf messages)", rc));
}

DeliveryTracer::~DeliveryTracer() { disarm(); }

void DeliveryTracer::arm() {
  disarm();
  std::vector<kpl_mb_cpu> zero(1);
  std::memset(zero.data(), 0, sizeof(kpl_mb_cpu));
  int fd = bpf_map__fd(skel_->maps.cpus);
  for (__u32 cpu = 0; cpu < static_cast<__u32>(ncpus_); ++cpu)
    if (bpf_map_update_elem(fd, &cpu, zero.data(), BPF_ANY))
      throw std::runtime_error(err("reset delivery map", errno));
  skel_->bss->calls = 0;
  skel_->bss->send_ts = 0;
  bpf_program* p;
  bpf_object__for_each_program(p, skel_->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_link* l = bpf_program__attach(p);
    if (!l) {
      int e = errno;
      disarm();
      throw std::runtime_error(err((std::string("attach ") + bpf_program__name(p)).c_str(), e));
    }
    links_.push_back(l);
  }
  __atomic_store_n(&skel_->bss->armed, 1, __ATOMIC_SEQ_CST);
}

void DeliveryTracer::disarm() {
  if (skel_) __atomic_store_n(&skel_->bss->armed, 0, __ATOMIC_SEQ_CST);
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
}

uint64_t DeliveryTracer::calls() const { return skel_->bss->calls; }

std::vector<CpuDelivery> DeliveryTracer::read() const {
  std::vector<CpuDelivery> out;
  std::vector<kpl_mb_cpu> v(1);
  int fd = bpf_map__fd(skel_->maps.cpus);
  for (__u32 cpu = 0; cpu < static_cast<__u32>(ncpus_); ++cpu) {
    if (bpf_map_lookup_elem(fd, &cpu, v.data()))
      throw std::runtime_error(err("read delivery map", errno));
    CpuDelivery d{static_cast<int>(cpu), v[0].received, Histogram()};
    d.latency.merge_truncated(std::span<const unsigned long long>(v[0].counts, KPL_MB_HIST_LEN),
                              v[0].overflow);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace kperflab::membarrier
