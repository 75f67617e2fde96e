// SPDX-License-Identifier: GPL-2.0-only
// The cpumask timing programs (cpumask.bpf.c): which the running kernel
// can load, and one timed batch of n operations through BPF_PROG_TEST_RUN.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpumask.h"

struct cpumask_bpf;
struct cpumask_populate_bpf;

namespace kperflab::cpumask {

struct Op {
  const char* name;                   // metric name; program cm_<name>
  std::vector<const char*> kfuncs;    // all must be in the kernel's BTF
  bool uses_cpu = false;              // the bit position matters
  bool density_matters = false;       // scans or combines whole masks
  const char* baseline = "baseline";  // empty-loop program of the same object
};

const std::vector<Op>& ops();

// Why the probe cannot run here, or "" (BTF kfuncs present, a SYSCALL
// program calling them loads).
std::string unavailable_reason();

class Batches {
 public:
  Batches();  // loads every program whose kfuncs exist; throws on failure
  ~Batches();
  Batches(const Batches&) = delete;
  Batches& operator=(const Batches&) = delete;

  bool loaded(const std::string& op) const;
  std::string missing_reason(const std::string& op) const;
  // One batch; throws std::runtime_error on a failed test run or -ENOMEM.
  kpl_cm_args run(const std::string& op, uint64_t n, uint32_t cpu, uint32_t density) const;

 private:
  struct Deleter {
    void operator()(cpumask_bpf* s) const;
    void operator()(cpumask_populate_bpf* s) const;
  };
  std::unique_ptr<cpumask_bpf, Deleter> skel_;
  std::unique_ptr<cpumask_populate_bpf, Deleter> pop_;  // 6.15+ only
  std::vector<std::pair<std::string, std::string>> missing_;
  uint32_t nr_cpus_ = 0;
};

}  // namespace kperflab::cpumask
