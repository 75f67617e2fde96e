// SPDX-License-Identifier: GPL-2.0-only
// The fault storm (fault_storm.h): its threads, started, held until go(),
// stopped and summed. What they do: fault_storm_loops.cpp; names, checks,
// the backing file and the memory a storm needs: fault_storm_setup.cpp.
#include "fault_storm.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "child.h"
#include "spinner.h"
#include "fault_storm_internal.h"
#include "core/sysfs.h"

namespace kperflab::workloads {

using namespace detail;

struct FaultStorm::State {
  enum class Phase { built, running, stopped } phase = Phase::built;
  Mapping shared_map{sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS};
  Shared* shared = new (shared_map.data()) Shared;  // placed in the page, which owns it
  Fd file;
  size_t pages_per_fault = 1;
  std::vector<Slot> slots;  // fault threads, then writers
  std::vector<std::thread> threads;
  std::atomic<unsigned> started{0};
  std::atomic<unsigned> prepared{0};  // threads done with their setup (or failed)
  std::atomic<uint32_t> released{0};  // go() (or stop()) was called
  uint64_t t_start = 0;
  std::mutex error_mu;
  std::string error;
  FaultStormResult result;

  explicit State(size_t n) : slots(n) {}
  void record(const std::string& who, const char* what) {
    std::lock_guard lock(error_mu);
    if (error.empty()) error = who + ": " + what;
  }
  // Pins thread i (when asked), then publishes its tid: start() returns
  // after both, so a caller sees every thread placed. false: pinning
  // failed, and the error is recorded.
  bool place(const FaultStormConfig& cfg, unsigned i, const std::string& who) {
    bool ok = true;
    try {
      if (!cfg.cpus.empty()) pin_self(cfg.cpus[i % cfg.cpus.size()]);
    } catch (const std::exception& e) {
      record(who, e.what());
      ok = false;
    }
    slots[i].tid.store(gettid());
    started.fetch_add(1);
    started.notify_all();
    return ok;
  }
  // This thread is set up (or gave up): counted once, then it waits for
  // go() unless `wait` is false or the storm is stopping.
  void arrive(bool& arrived, bool wait) {
    if (arrived) return;
    arrived = true;
    prepared.fetch_add(1);
    prepared.notify_all();
    while (wait && released.load() == 0) released.wait(0);
  }
};

FaultStorm::FaultStorm(FaultStormConfig cfg) : cfg_(std::move(cfg)) {
  validate(cfg_);
  if (auto why = fault_storm_unavailable(cfg_); !why.empty()) throw std::runtime_error(why);
  st_ = std::make_unique<State>(size_t(cfg_.threads) + cfg_.writers);
  if (cfg_.kind == FaultKind::file) {
    st_->file = unlinked_file(file_dir(cfg_));
    if (ftruncate(st_->file.get(), off_t(cfg_.region_bytes)) != 0)
      fail("ftruncate the backing file to " + std::to_string(cfg_.region_bytes) + " bytes");
    populate(st_->file.get(), cfg_.region_bytes);
    st_->pages_per_fault = measure_pages_per_fault(st_->file.get(), cfg_.region_bytes);
  }
}

FaultStorm::~FaultStorm() { stop(); }

void FaultStorm::prepare() {
  State& s = *st_;
  if (s.phase != State::Phase::built) throw std::logic_error("FaultStorm::start: a storm starts once");
  s.phase = State::Phase::running;
  s.t_start = now_ns();
  const unsigned total = cfg_.threads + cfg_.writers;
  try {
    for (unsigned i = 0; i < total; ++i)
      s.threads.emplace_back([this, i] { i < cfg_.threads ? fault_thread(i) : writer_thread(i); });
  } catch (...) {
    stop();
    throw;
  }
  for (unsigned n; (n = s.started.load()) < total;) s.started.wait(n);
  for (unsigned n; (n = s.prepared.load()) < total;) s.prepared.wait(n);
}

void FaultStorm::go() {
  State& s = *st_;
  if (s.phase != State::Phase::running || s.released.load()) return;
  s.t_start = now_ns();
  s.released.store(1);
  s.released.notify_all();
}

void FaultStorm::start() {
  prepare();
  go();
}

FaultStormResult FaultStorm::stop() {
  State& s = *st_;
  if (s.phase != State::Phase::running) return s.result;
  s.shared->stop.store(1);
  s.released.store(1);  // threads still held by prepare() end at once
  s.released.notify_all();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.phase = State::Phase::stopped;
  FaultStormResult r;
  r.seconds = double(now_ns() - s.t_start) / 1e9;
  for (const Slot& slot : s.slots) {
    r.pages += slot.pages;
    r.minflt += slot.minflt;
    r.majflt += slot.majflt;
    r.iterations += slot.iterations;
    r.writer_ops += slot.ops;
  }
  r.pages_per_fault = s.pages_per_fault;
  r.error = s.error;
  return s.result = r;
}

std::vector<pid_t> FaultStorm::tids() const {
  std::vector<pid_t> out;
  if (st_->phase == State::Phase::built) return out;
  for (const Slot& slot : st_->slots) out.push_back(slot.tid.load());
  return out;
}

void FaultStorm::fault_thread(unsigned i) noexcept {
  State& s = *st_;
  Slot& slot = s.slots[i];
  const std::string who = "fault thread " + std::to_string(i);
  bool arrived = false;
  if (!s.place(cfg_, i, who)) return s.arrive(arrived, false);
  // anon and file have no setup of their own; cow writes its region first.
  if (cfg_.kind != FaultKind::cow) s.arrive(arrived, true);
  const rusage r0 = thread_rusage();
  try {
    Run r{s.shared->stop, pacer(cfg_.rate), batch_for(cfg_.rate)};
    switch (cfg_.kind) {
      case FaultKind::anon: run_anon(cfg_, r, slot); break;
      case FaultKind::file: run_file(cfg_, r, slot, s.file.get(), s.pages_per_fault); break;
      case FaultKind::cow:
        run_cow(cfg_, r, slot, s.shared->child_pages[i], [&] { s.arrive(arrived, true); });
        break;
    }
  } catch (const std::exception& e) {
    s.record(who, e.what());
  }
  s.arrive(arrived, false);  // a setup that failed or was stopped still arrives
  if (cfg_.kind != FaultKind::cow) {  // cow: the children's, summed as they were reaped
    const rusage r1 = thread_rusage();
    slot.minflt = uint64_t(r1.ru_minflt - r0.ru_minflt);
    slot.majflt = uint64_t(r1.ru_majflt - r0.ru_majflt);
  }
}

void FaultStorm::writer_thread(unsigned i) noexcept {
  State& s = *st_;
  Slot& slot = s.slots[i];
  const std::string who = std::string(to_string(cfg_.writer)) + " writer " + std::to_string(i - cfg_.threads);
  bool arrived = false;
  if (!s.place(cfg_, i, who)) return s.arrive(arrived, false);
  s.arrive(arrived, true);
  try {
    WriterRound round(cfg_.writer);
    const Pacer pace = pacer(cfg_.writer_rate);
    const std::atomic<uint32_t>& stop = s.shared->stop;
    for (uint64_t n = 0;; ++n) {
      if (pace.ns_per_item > 0 ? !sleep_until(pace.due(n), stop) : stop.load(std::memory_order_relaxed) != 0)
        break;
      round();
      slot.ops = n + 1;
    }
  } catch (const std::exception& e) {
    s.record(who, e.what());
  }
}

}  // namespace kperflab::workloads
