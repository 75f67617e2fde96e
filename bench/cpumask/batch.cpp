// SPDX-License-Identifier: GPL-2.0-only
#include "batch.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cpumask.skel.h"
#include "cpumask_populate.skel.h"
#include "cpumask_tracing.skel.h"

namespace kperflab::cpumask {

const std::vector<Op>& ops() {
  static const std::vector<Op> o = {
      {"create_release", {"bpf_cpumask_create", "bpf_cpumask_release"}},
      {"acquire_release", {"bpf_cpumask_acquire", "bpf_cpumask_release"}},
      {"first", {"bpf_cpumask_first"}, false, true},
      {"first_zero", {"bpf_cpumask_first_zero"}, false, true},
      {"first_and", {"bpf_cpumask_first_and"}, false, true},
      {"set_cpu", {"bpf_cpumask_set_cpu"}, true},
      {"clear_cpu", {"bpf_cpumask_clear_cpu"}, true},
      {"test_cpu", {"bpf_cpumask_test_cpu"}, true},
      {"test_and_set_cpu", {"bpf_cpumask_test_and_set_cpu"}, true},
      {"test_and_clear_cpu", {"bpf_cpumask_test_and_clear_cpu"}, true},
      {"setall", {"bpf_cpumask_setall"}},
      {"clear", {"bpf_cpumask_clear"}},
      {"and", {"bpf_cpumask_and"}, false, true},
      {"or", {"bpf_cpumask_or"}, false, true},
      {"xor", {"bpf_cpumask_xor"}, false, true},
      {"equal", {"bpf_cpumask_equal"}, false, true},
      {"intersects", {"bpf_cpumask_intersects"}, false, true},
      {"subset", {"bpf_cpumask_subset"}, false, true},
      {"empty", {"bpf_cpumask_empty"}, false, true},
      {"full", {"bpf_cpumask_full"}, false, true},
      {"copy", {"bpf_cpumask_copy"}},
      {"any_distribute", {"bpf_cpumask_any_distribute"}, false, true},
      {"any_and_distribute", {"bpf_cpumask_any_and_distribute"}, false, true},
      {"weight", {"bpf_cpumask_weight"}, false, true},
      {"populate", {"bpf_cpumask_populate"}, false, false, "pop_baseline"},
  };
  return o;
}

namespace {

// Every program builds its masks with these; the loop with the iterator.
const std::vector<const char*> kCommon = {"bpf_cpumask_create", "bpf_cpumask_release",
                                          "bpf_cpumask_set_cpu", "bpf_cpumask_xor",
                                          "bpf_iter_num_new"};

// The id of each timed operation is its position in cpumask_ops.def.
const char* const kOpIds[] = {
#define KPL_CM_OP(name, ...) #name,
#include "cpumask_ops.def"
#undef KPL_CM_OP
};

uint32_t op_id(const std::string& op) {
  if (op == "check_setall_weight") return KPL_CM_CHECK_ID;
  for (uint32_t i = 0; i < std::size(kOpIds); ++i)
    if (op == kOpIds[i]) return i;
  throw std::runtime_error("cpumask op '" + op + "' is not in cpumask_ops.def");
}

struct Btf {
  btf* b = btf__load_vmlinux_btf();
  ~Btf() { btf__free(b); }
  bool has(const char* f) const { return b && btf__find_by_name_kind(b, f, BTF_KIND_FUNC) >= 0; }
};

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

// Autoload the programs whose kfuncs the kernel has (all of them, or with
// only_baseline the empty loop); the others are listed in missing.
void select_programs(bpf_object* obj, const Btf& btf, bool only_baseline,
                     std::vector<std::pair<std::string, std::string>>* missing) {
  bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    std::string name = bpf_program__name(p);
    bool load = !only_baseline || name == "cm_baseline";
    for (auto& op : ops()) {
      if (!load || "cm_" + std::string(op.name) != name) continue;
      for (const char* k : op.kfuncs)
        if (!btf.has(k)) {
          load = false;
          if (missing) missing->emplace_back(op.name, std::string("kernel lacks ") + k);
        }
    }
    bpf_program__set_autoload(p, load);
  }
}

// Whether the object's empty-loop program (it calls the mask kfuncs) loads.
template <class Skel>
int try_load(Skel* (*open)(), int (*load)(Skel*), void (*destroy)(Skel*), const Btf& btf) {
  Skel* s = open();
  if (!s) return -errno;
  select_programs(s->obj, btf, true, nullptr);
  libbpf_print_fn_t old = libbpf_set_print(nullptr);
  int rc = load(s);
  libbpf_set_print(old);
  destroy(s);
  return rc;
}

}  // namespace

ProgType prog_type_of(const std::string& name) {
  if (name == "syscall") return ProgType::syscall;
  if (name == "tracing") return ProgType::tracing;
  throw std::invalid_argument("cpumask.prog_type: '" + name + "' is not auto, syscall or tracing");
}

const char* to_string(ProgType t) { return t == ProgType::syscall ? "syscall" : "tracing"; }

std::string unavailable_reason(ProgType* found) {
  if (geteuid() != 0) return "loading BPF programs needs root";
  Btf btf;
  if (!btf.b) return "no kernel BTF (/sys/kernel/btf/vmlinux)";
  for (const char* f : kCommon)
    if (!btf.has(f))
      return std::string("kernel BTF lacks ") + f +
             (std::string(f).rfind("bpf_cpumask", 0) == 0
                  ? " (BPF cpumask kfuncs arrived in 6.3)"
                  : " (open-coded iterators arrived in 6.4)");
  // Kfuncs became callable from SYSCALL programs in 6.10; TRACING programs
  // could call them from 6.3. Try both rather than trust a version.
  int sys = try_load(cpumask_bpf__open, cpumask_bpf__load, cpumask_bpf__destroy, btf);
  if (!sys) {
    if (found) *found = ProgType::syscall;
    return "";
  }
  int tr = try_load(cpumask_tracing_bpf__open, cpumask_tracing_bpf__load,
                    cpumask_tracing_bpf__destroy, btf);
  if (!tr) {
    if (found) *found = ProgType::tracing;
    return "";
  }
  return err("a SYSCALL program calling bpf_cpumask kfuncs does not load (6.10+)", sys) + "; " +
         err("nor does a TRACING program on tp_btf/task_rename", tr);
}

void Batches::Deleter::operator()(cpumask_bpf* s) const { cpumask_bpf__destroy(s); }
void Batches::Deleter::operator()(cpumask_tracing_bpf* s) const {
  cpumask_tracing_bpf__destroy(s);
}
void Batches::Deleter::operator()(cpumask_populate_bpf* s) const {
  cpumask_populate_bpf__destroy(s);
}
void Batches::Deleter::operator()(bpf_link* l) const { bpf_link__destroy(l); }

Batches::Batches(ProgType type) : type_(type) {
  nr_cpus_ = static_cast<uint32_t>(libbpf_num_possible_cpus());
  Btf btf;
  int rc;
  if (type == ProgType::syscall) {
    skel_.reset(cpumask_bpf__open());
    if (!skel_) throw std::runtime_error(err("open cpumask BPF object", errno));
    select_programs(skel_->obj, btf, false, &missing_);
    if ((rc = cpumask_bpf__load(skel_.get())))
      throw std::runtime_error(err("load cpumask BPF programs (libbpf log above)", rc));
  } else {
    tracing_.reset(cpumask_tracing_bpf__open());
    if (!tracing_) throw std::runtime_error(err("open cpumask_tracing BPF object", errno));
    select_programs(tracing_->obj, btf, false, &missing_);
    if ((rc = cpumask_tracing_bpf__load(tracing_.get())))
      throw std::runtime_error(err("load cpumask TRACING programs (libbpf log above)", rc));
    // Attached here once, to learn that they can, and let go: attach()
    // puts them on for a repetition only.
    attach();
    detach();
  }
  if (!btf.has("bpf_cpumask_populate")) {
    missing_.emplace_back("populate", "kernel lacks bpf_cpumask_populate (6.15+)");
    return;
  }
  rc = 0;
  pop_.reset(cpumask_populate_bpf__open());
  if (!pop_ || (rc = cpumask_populate_bpf__load(pop_.get()))) {
    pop_.reset();
    missing_.emplace_back("populate", err("load cpumask_populate BPF object", rc ? rc : errno));
  }
}

Batches::~Batches() = default;

// All at once: each runs only for its own op id, and every task_rename of
// the host (exec, prctl) runs them while attached, each returning at its
// op check: on for a repetition's measurements only (#28).
void Batches::attach() {
  if (type_ != ProgType::tracing || !links_.empty()) return;
  bpf_program* p;
  bpf_object__for_each_program(p, tracing_->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_link* l = bpf_program__attach(p);
    if (!l) {
      int e = errno;
      detach();
      throw std::runtime_error(
          err(std::string("attach ") + bpf_program__name(p) + " to tp_btf/task_rename", e));
    }
    links_.emplace_back(l);
  }
}

void Batches::detach() { links_.clear(); }

bool Batches::loaded(const std::string& op) const { return missing_reason(op).empty(); }

std::string Batches::missing_reason(const std::string& op) const {
  for (auto& [o, why] : missing_)
    if (o == op) return why;
  return "";
}

// The calling thread renames itself (to its own name): task_rename fires in
// its context, and the program whose op id matches runs the batch with the
// arguments stored under this thread's id.
kpl_cm_args Batches::run_tracing(const std::string& op, kpl_cm_args a) const {
  int fd = bpf_map__fd(tracing_->maps.cm_args);
  __u32 tid = static_cast<__u32>(gettid());
  if (bpf_map_update_elem(fd, &tid, &a, BPF_ANY))
    throw std::runtime_error(err("cm_args map update for cm_" + op, errno));
  char name[16] = {};
  prctl(PR_GET_NAME, name);
  int rc = prctl(PR_SET_NAME, name);
  int e = errno;
  int lrc = bpf_map_lookup_elem(fd, &tid, &a);
  int le = errno;
  bpf_map_delete_elem(fd, &tid);
  if (rc) throw std::runtime_error(err("prctl(PR_SET_NAME) to fire cm_" + op, e));
  if (lrc) throw std::runtime_error(err("cm_args map lookup for cm_" + op, le));
  return a;
}

kpl_cm_args Batches::run(const std::string& op, uint64_t n, uint32_t cpu, uint32_t density) const {
  const bool pop = op == "populate" || op == "pop_baseline";
  bpf_object* obj = pop ? (pop_ ? pop_->obj : nullptr)
                        : type_ == ProgType::syscall ? skel_->obj
                                                     : tracing_->obj;
  bpf_program* prog = obj ? bpf_object__find_program_by_name(obj, ("cm_" + op).c_str()) : nullptr;
  if (!prog || !bpf_program__autoload(prog))
    throw std::runtime_error("cpumask op '" + op + "' not loaded");
  kpl_cm_args a{};
  a.n = n;
  a.cpu = cpu;
  a.density = density;
  a.nr_cpus = nr_cpus_;
  if (type_ == ProgType::tracing && !pop) a.op = op_id(op);
  // bpf_mem_alloc serves bpf_cpumask_create from a per-CPU cache that is
  // refilled asynchronously (irq_work; a kthread on PREEMPT_RT), so a batch
  // that finds it empty gets NULL: give the refill a moment and try again.
  for (int attempt = 0;; ++attempt) {
    a.error = KPL_CM_NOT_RUN;
    a.iterations = 0;
    if (type_ == ProgType::tracing && !pop) {
      a = run_tracing(op, a);
    } else {
      LIBBPF_OPTS(bpf_test_run_opts, opts);
      opts.ctx_in = &a;
      opts.ctx_size_in = sizeof a;
      // SYSCALL programs take no ctx_out: the kernel copies the context
      // back into ctx_in.
      if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
        throw std::runtime_error(err("BPF_PROG_TEST_RUN cm_" + op, errno));
    }
    if (a.error == KPL_CM_NOT_RUN)
      throw std::runtime_error("cm_" + op + " did not run (" + to_string(type_) + " program)");
    if (!a.error) return a;
    if (attempt == 20)
      throw std::runtime_error("cm_" + op + ": bpf_cpumask_create returned NULL 21 times in a row (" +
                               to_string(type_) + " program; bpf_mem_alloc cache not refilled)");
    usleep(attempt < 5 ? 1000 : 20000);
  }
}

}  // namespace kperflab::cpumask
