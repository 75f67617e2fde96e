// SPDX-License-Identifier: GPL-2.0-only
// The cpumask timing programs (cpumask.bpf.c): which the running kernel
// can load, and one timed batch of n operations, run as a SYSCALL program
// through BPF_PROG_TEST_RUN (6.10+) or as a TRACING program fired by the
// calling thread (6.4-6.9; cpumask_bench.bpf.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpumask.h"

struct cpumask_bpf;
struct cpumask_tracing_bpf;
struct cpumask_populate_bpf;
struct bpf_link;

namespace kperflab::cpumask {

struct Op {
  const char* name;                   // metric name; program cm_<name>
  std::vector<const char*> kfuncs;    // all must be in the kernel's BTF
  bool uses_cpu = false;              // the bit position matters
  bool density_matters = false;       // scans or combines whole masks
  const char* baseline = "baseline";  // empty-loop program of the same object
};

const std::vector<Op>& ops();

// How the timing programs run: "syscall", "tracing", or "auto" (syscall
// where the kernel allows kfuncs there, tracing otherwise).
enum class ProgType { syscall, tracing };
ProgType prog_type_of(const std::string& name);  // throws std::invalid_argument
const char* to_string(ProgType t);

// Why the probe cannot run here, or "" (BTF kfuncs present, and a SYSCALL
// or a TRACING program calling them loads). With `found`, the program type
// that loads (syscall preferred).
std::string unavailable_reason(ProgType* found = nullptr);

class Batches {
 public:
  // Loads every program whose kfuncs exist; throws on failure.
  explicit Batches(ProgType type);
  ~Batches();
  Batches(const Batches&) = delete;
  Batches& operator=(const Batches&) = delete;

  ProgType type() const { return type_; }
  bool loaded(const std::string& op) const;
  std::string missing_reason(const std::string& op) const;
  // One batch; throws std::runtime_error on a failed test run or -ENOMEM.
  // Whether its loop ran all n iterations (a.iterations == n) is for the
  // caller to check: such a batch is not an error of the program.
  kpl_cm_args run(const std::string& op, uint64_t n, uint32_t cpu, uint32_t density) const;
  // The TRACING programs on tp_btf/task_rename, for a repetition (no-ops
  // with the syscall type: nothing is attached there). attach() throws.
  void attach();
  void detach();

 private:
  struct Deleter {
    void operator()(cpumask_bpf* s) const;
    void operator()(cpumask_tracing_bpf* s) const;
    void operator()(cpumask_populate_bpf* s) const;
    void operator()(bpf_link* l) const;
  };
  kpl_cm_args run_tracing(const std::string& op, kpl_cm_args a) const;

  ProgType type_;
  std::unique_ptr<cpumask_bpf, Deleter> skel_;             // syscall
  std::unique_ptr<cpumask_tracing_bpf, Deleter> tracing_;  // tracing
  std::vector<std::unique_ptr<bpf_link, Deleter>> links_;
  std::unique_ptr<cpumask_populate_bpf, Deleter> pop_;  // 6.15+ only
  std::vector<std::pair<std::string, std::string>> missing_;
  uint32_t nr_cpus_ = 0;
};

}  // namespace kperflab::cpumask
