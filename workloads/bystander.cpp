// SPDX-License-Identifier: GPL-2.0-only
#include "bystander.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>

#include "child.h"
#include "core/probe.h"

namespace kperflab::workloads {

namespace {

struct SharedPage {
  uint64_t rounds;
  int state;  // 0 starting, 1 running, 2 failed
  int err;    // the child's errno when it failed
};

constexpr size_t kRegion = size_t{1} << 20;

[[noreturn]] void bystander_main(int cpu, SharedPage* sh) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    sh->err = errno;
    __atomic_store_n(&sh->state, 2, __ATOMIC_RELEASE);
    _exit(1);
  }
  __atomic_store_n(&sh->state, 1, __ATOMIC_RELEASE);
  const long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  for (;;) {
    void* p = mmap(nullptr, kRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      timespec ts{0, 1000000};  // memory pressure: try again shortly
      nanosleep(&ts, nullptr);
      continue;
    }
    for (size_t off = 0; off < kRegion; off += static_cast<size_t>(page))
      static_cast<volatile char*>(p)[off] = 1;
    munmap(p, kRegion);
    __atomic_add_fetch(&sh->rounds, 1, __ATOMIC_RELAXED);
  }
}

}  // namespace

Bystander::Bystander(int cpu) : cpu_(cpu) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "bystander: mmap");
  shared_ = page;
  auto* sh = static_cast<SharedPage*>(page);
  pid_ = fork_bound_child();
  if (pid_ < 0) {
    int e = errno;
    munmap(page, 4096);
    throw std::system_error(e, std::generic_category(), "bystander: fork");
  }
  if (pid_ == 0) bystander_main(cpu, sh);
  // Started when it has pinned itself (or failed to): at most ~1 s.
  for (int i = 0; i < 1000 && __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) == 0; ++i) {
    timespec ts{0, 1000000};
    nanosleep(&ts, nullptr);
  }
  int st = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
  if (st != 1) {
    int e = st == 2 ? sh->err : ETIMEDOUT;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    munmap(page, 4096);
    throw std::system_error(e, std::generic_category(),
                            "bystander: pinning the process to CPU " + std::to_string(cpu));
  }
}

Bystander::~Bystander() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (shared_) munmap(shared_, 4096);
}

namespace {
// Sleeps ms in 20 ms slices while !stop().
void sleep_ms(uint64_t ms, const std::function<bool()>& stop) {
  for (uint64_t done = 0; done < ms && !stop(); done += 20) {
    uint64_t slice = std::min<uint64_t>(20, ms - done);
    timespec ts{0, static_cast<long>(slice * 1000000)};
    nanosleep(&ts, nullptr);
  }
}
}  // namespace

BystanderRates bystander_rates(int cpu, int rounds, uint64_t window_ms,
                               const std::function<void(bool on)>& set,
                               const std::function<bool()>& stop) {
  BystanderRates out;
  out.cpu = cpu;
  Bystander b(cpu);
  sleep_ms(50, stop);  // its first rounds fault its page tables in
  try {
    for (int r = 0; r < rounds && !stop(); ++r)
      for (int k = 0; k < 2 && !stop(); ++k) {
        const bool on = (r % 2) ? k == 0 : k == 1;
        set(on);
        sleep_ms(20, stop);
        uint64_t c0 = b.rounds();
        auto t0 = std::chrono::steady_clock::now();
        sleep_ms(window_ms, stop);
        uint64_t c1 = b.rounds();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > 0 && !stop()) (on ? out.on : out.off).push_back(static_cast<double>(c1 - c0) / s);
      }
  } catch (...) {
    set(false);
    throw;
  }
  set(false);
  return out;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v.size() % 2 ? v[v.size() / 2]
                                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double record_bystander(Repetition& rep, int cpu, int rounds, uint64_t window_ms,
                      const std::function<void(bool on)>& set, const std::function<bool()>& stop,
                      const nlohmann::json& labels, const std::string& base) {
  BystanderRates rates;
  try {
    rates = bystander_rates(cpu, rounds, window_ms, set, stop);
  } catch (const std::exception& e) {
    rep.skip(base, e.what());
    return NAN;
  }
  if (stop()) {
    rep.skip(base, "interrupted (^C) during the bystander windows (discarded)");
    return NAN;
  }
  double off = median_of(rates.off), on = median_of(rates.on);
  auto spread = [](const std::vector<double>& v) {
    double m = median_of(v);
    std::vector<double> dev;
    for (double x : v) dev.push_back(std::fabs(x - m));
    return m > 0 ? 1.4826 * median_of(dev) / m : NAN;
  };
  nlohmann::json l = labels;
  l.update({{"cpu", rates.cpu}, {"rounds", rates.on.size()}, {"window_ms", window_ms},
            {"noise", std::max(spread(rates.off), spread(rates.on))}, {"better", "higher"}});
  rep.scalar(base + "/rounds_per_s_detached", off, "rounds/s", l);
  rep.scalar(base + "/rounds_per_s_attached", on, "rounds/s", l);
  if (off > 0) {
    rep.scalar(base + "/ratio", on / off, "ratio", l);
    return on / off;
  }
  rep.skip(base + "/ratio", "the bystander completed no round with our programs detached");
  return NAN;
}

double record_bystander_under_load(Repetition& rep, int cpu, int rounds, uint64_t window_ms,
                                   const std::function<void()>& step,
                                   const std::function<bool()>& stop, const std::string& what,
                                   const nlohmann::json& labels) {
  std::atomic<bool> on{false};
  std::string error;
  std::thread load;
  auto end_load = [&] {
    on = false;
    if (load.joinable()) load.join();
  };
  struct Join {  // also when record_bystander throws
    std::function<void()> f;
    ~Join() { f(); }
  } join{end_load};
  return record_bystander(
      rep, cpu, rounds, window_ms,
      [&](bool attach) {
        end_load();
        if (!error.empty()) throw std::runtime_error(what + " failed: " + error);
        if (!attach) return;
        on = true;
        load = std::thread([&] {
          try {
            while (on.load() && !stop()) step();
          } catch (const std::exception& e) {
            error = e.what();
          }
        });
      },
      stop, labels);
}

uint64_t Bystander::rounds() const {
  return __atomic_load_n(&static_cast<SharedPage*>(shared_)->rounds, __ATOMIC_RELAXED);
}

}  // namespace kperflab::workloads
