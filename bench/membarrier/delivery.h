// SPDX-License-Identifier: GPL-2.0-only
// IPI delivery tracing for the membarrier probe (membarrier.bpf.c): RAII
// owner of the skeleton and its links. Programs are attached only while
// armed, so the syscall-latency passes run without BPF overhead.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "histogram.h"

struct membarrier_bpf;
struct bpf_link;

namespace kperflab::membarrier {

struct CpuDelivery {
  int cpu;
  uint64_t received = 0;  // handler runs (IPIs delivered, or local runs)
  Histogram latency;      // send -> handler entry, ns
};

class DeliveryTracer {
 public:
  // Empty when this host can trace delivery; else why not.
  static std::string unavailable_reason();

  DeliveryTracer();  // throws std::runtime_error naming the failing step
  ~DeliveryTracer();
  DeliveryTracer(const DeliveryTracer&) = delete;
  DeliveryTracer& operator=(const DeliveryTracer&) = delete;

  void arm();     // zero the records, attach, start recording
  void disarm();  // stop recording, detach
  uint64_t calls() const;  // membarrier() entries of this process while armed
  std::vector<CpuDelivery> read() const;
  // "smp_call_function_many_cond" or "sys_enter" (where send time is taken).
  const std::string& send_point() const { return send_point_; }
  std::vector<std::string> handlers() const { return handlers_; }
  // Functions present in BTF or expected but refusing fentry here.
  std::vector<std::string> not_attachable() const { return not_attachable_; }

 private:
  struct SkelDeleter {
    void operator()(membarrier_bpf* s) const;
  };
  std::unique_ptr<membarrier_bpf, SkelDeleter> skel_;
  std::vector<::bpf_link*> links_;
  std::string send_point_;
  std::vector<std::string> handlers_;
  std::vector<std::string> not_attachable_;
  int ncpus_ = 0;
};

}  // namespace kperflab::membarrier
