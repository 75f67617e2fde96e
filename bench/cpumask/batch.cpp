// SPDX-License-Identifier: GPL-2.0-only
#include "batch.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cpumask.skel.h"
#include "cpumask_populate.skel.h"

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

struct Btf {
  btf* b = btf__load_vmlinux_btf();
  ~Btf() { btf__free(b); }
  bool has(const char* f) const { return b && btf__find_by_name_kind(b, f, BTF_KIND_FUNC) >= 0; }
};

std::string err(const std::string& what, int e) {
  return what + ": " + std::strerror(e < 0 ? -e : e);
}

}  // namespace

std::string unavailable_reason() {
  if (geteuid() != 0) return "loading BPF programs needs root";
  Btf btf;
  if (!btf.b) return "no kernel BTF (/sys/kernel/btf/vmlinux)";
  for (const char* f : kCommon)
    if (!btf.has(f))
      return std::string("kernel BTF lacks ") + f +
             (std::string(f).rfind("bpf_cpumask", 0) == 0
                  ? " (BPF cpumask kfuncs arrived in 6.3)"
                  : " (open-coded iterators arrived in 6.4)");
  // Kfuncs became callable from SYSCALL programs in 6.10: try it.
  cpumask_bpf* s = cpumask_bpf__open();
  if (!s) return err("open cpumask BPF object", errno);
  bpf_program* p;
  bpf_object__for_each_program(p, s->obj)
      bpf_program__set_autoload(p, std::string(bpf_program__name(p)) == "cm_baseline");
  libbpf_print_fn_t old = libbpf_set_print(nullptr);
  int rc = cpumask_bpf__load(s);
  libbpf_set_print(old);
  cpumask_bpf__destroy(s);
  if (rc)
    return err("a SYSCALL program calling bpf_cpumask kfuncs does not load "
               "(kfuncs in SYSCALL programs need 6.10+)", rc);
  return "";
}

void Batches::Deleter::operator()(cpumask_bpf* s) const { cpumask_bpf__destroy(s); }
void Batches::Deleter::operator()(cpumask_populate_bpf* s) const {
  cpumask_populate_bpf__destroy(s);
}

Batches::Batches() {
  nr_cpus_ = static_cast<uint32_t>(libbpf_num_possible_cpus());
  skel_.reset(cpumask_bpf__open());
  if (!skel_) throw std::runtime_error(err("open cpumask BPF object", errno));
  Btf btf;
  bpf_program* p;
  bpf_object__for_each_program(p, skel_->obj) {
    std::string name = bpf_program__name(p);
    bool load = true;
    for (auto& op : ops()) {
      if ("cm_" + std::string(op.name) != name) continue;
      for (const char* k : op.kfuncs)
        if (!btf.has(k)) {
          load = false;
          missing_.emplace_back(op.name, std::string("kernel lacks ") + k);
        }
    }
    bpf_program__set_autoload(p, load);
  }
  int rc = cpumask_bpf__load(skel_.get());
  if (rc) throw std::runtime_error(err("load cpumask BPF programs (libbpf log above)", rc));
  if (!btf.has("bpf_cpumask_populate")) {
    missing_.emplace_back("populate", "kernel lacks bpf_cpumask_populate (6.15+)");
    return;
  }
  pop_.reset(cpumask_populate_bpf__open());
  if (!pop_ || (rc = cpumask_populate_bpf__load(pop_.get()))) {
    pop_.reset();
    missing_.emplace_back("populate", err("load cpumask_populate BPF object", rc ? rc : errno));
  }
}

Batches::~Batches() = default;

bool Batches::loaded(const std::string& op) const { return missing_reason(op).empty(); }

std::string Batches::missing_reason(const std::string& op) const {
  for (auto& [o, why] : missing_)
    if (o == op) return why;
  return "";
}

kpl_cm_args Batches::run(const std::string& op, uint64_t n, uint32_t cpu, uint32_t density) const {
  bpf_object* obj = op == "populate" || op == "pop_baseline"
                        ? (pop_ ? pop_->obj : nullptr)
                        : skel_->obj;
  bpf_program* prog = obj ? bpf_object__find_program_by_name(obj, ("cm_" + op).c_str()) : nullptr;
  if (!prog || !bpf_program__autoload(prog))
    throw std::runtime_error("cpumask op '" + op + "' not loaded");
  kpl_cm_args a{};
  a.n = n;
  a.cpu = cpu;
  a.density = density;
  a.nr_cpus = nr_cpus_;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.ctx_in = &a;
  opts.ctx_size_in = sizeof a;
  // SYSCALL programs take no ctx_out: the kernel copies the context back
  // into ctx_in.
  int rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
  if (rc) throw std::runtime_error(err("BPF_PROG_TEST_RUN cm_" + op, errno));
  if (a.error) throw std::runtime_error("cm_" + op + ": bpf_cpumask_create returned NULL");
  return a;
}

}  // namespace kperflab::cpumask
