// SPDX-License-Identifier: GPL-2.0-only
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
#include "core/sysfs.h"

namespace kperflab::workloads {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
constexpr unsigned kMaxThreads = 1024;     // fault threads, and writers, each
constexpr uint64_t kBatch = 64;            // pages between two looks at the stop flag
constexpr uint64_t kSliceNs = 10'000'000;  // longest sleep between two looks at it

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void check(int rc, const char* what) {
  if (rc != 0) fail(what);
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

rusage thread_rusage() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru;
}

// An mmap()ed range, unmapped when it goes: neither a stop nor an error
// leaves one behind.
class Mapping {
 public:
  Mapping(size_t len, int prot, int flags, int fd = -1) : len_(len) {
    void* p = mmap(nullptr, len, prot, flags, fd, 0);
    if (p == MAP_FAILED) fail("mmap " + std::to_string(len) + " bytes");
    addr_ = static_cast<char*>(p);
  }
  ~Mapping() { munmap(addr_, len_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* data() const { return addr_; }

 private:
  char* addr_ = nullptr;
  size_t len_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Shared with the cow children (MAP_SHARED survives fork): the stop flag a
// child polls between batches, and the page count it reports back.
struct Shared {
  std::atomic<uint32_t> stop{0};
  alignas(64) std::atomic<uint64_t> child_pages[kMaxThreads];
};
static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free,
              "atomics shared with a forked child must be lock-free");

// One thread's tid and counters; written by that thread, read after join.
struct alignas(64) Slot {
  std::atomic<pid_t> tid{0};
  uint64_t pages = 0, minflt = 0, majflt = 0, iterations = 0, ops = 0;
};

// Absolute schedule: item n is due at t0 + n / rate, so time spent in
// mmap, munmap or fork is made up for rather than added to every period.
struct Pacer {
  uint64_t t0 = 0;
  double ns_per_item = 0;  // 0: back to back
  uint64_t due(uint64_t n) const { return t0 + uint64_t(double(n) * ns_per_item); }
};

Pacer pacer(double rate) { return Pacer{now_ns(), rate > 0 ? 1e9 / rate : 0}; }

// About 5 ms of pages per batch when paced, so the sleeps stay few.
uint64_t batch_for(double rate) {
  return rate > 0 ? std::clamp<uint64_t>(uint64_t(rate / 200), 1, kBatch) : kBatch;
}

// Sleeps until `when` in slices of at most kSliceNs; false as soon as stop
// is set. Async-signal-safe: a cow child paces with it.
bool sleep_until(uint64_t when, const std::atomic<uint32_t>& stop) {
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) return false;
    uint64_t now = now_ns();
    if (now >= when) return true;
    uint64_t until = std::min(when, now + kSliceNs);
    timespec ts{static_cast<time_t>(until / 1000000000ULL), static_cast<long>(until % 1000000000ULL)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // EINTR: look again
  }
}

// What a fault thread paces and stops by.
struct Run {
  const std::atomic<uint32_t>& stop;
  Pacer pace;
  uint64_t batch;
  bool stopped() const { return stop.load(std::memory_order_relaxed) != 0; }
};

// Touches `count` bytes `stride` apart (writes or reads), in batches with
// the stop flag looked at, and the pacer waited for, before each. `done` is
// the thread's running count (the pacer's item number). Returns the
// touches made: count unless stop came first. Async-signal-safe: a cow
// child runs it between fork and _exit.
uint64_t touch(char* addr, uint64_t count, size_t stride, bool write, const Run& r, uint64_t done) {
  uint64_t i = 0;
  while (i < count) {
    if (r.pace.ns_per_item > 0 ? !sleep_until(r.pace.due(done + i), r.stop) : r.stopped()) break;
    for (uint64_t end = std::min(count, i + r.batch); i < end; ++i) {
      volatile char* p = addr + i * stride;
      if (write)
        *p = 1;
      else
        (void)*p;
    }
  }
  return i;
}

void run_anon(const FaultStormConfig& cfg, Run& r, Slot& slot) {
  const uint64_t pages = cfg.region_bytes / kPage;
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    Mapping m(cfg.region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    // Always, not only under THP "always": an madvise-mode or mTHP kernel
    // may still map many pages in one fault. EINVAL (no THP) is fine.
    madvise(m.data(), cfg.region_bytes, MADV_NOHUGEPAGE);
    uint64_t n = touch(m.data(), pages, kPage, true, r, slot.pages);
    slot.pages += n;
    if (n == pages) ++slot.iterations;
  }
}

void run_file(const FaultStormConfig& cfg, Run& r, Slot& slot, int fd, size_t pages_per_fault) {
  const uint64_t blocks = (cfg.region_bytes / kPage + pages_per_fault - 1) / pages_per_fault;
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    Mapping m(cfg.region_bytes, PROT_READ, MAP_SHARED, fd);
    uint64_t n = touch(m.data(), blocks, pages_per_fault * kPage, false, r, slot.pages);
    slot.pages += n;
    if (n == blocks) ++slot.iterations;
  }
}

// Waits for a cow child (EINTR retried): it is always reaped.
void reap(pid_t pid, int* status, rusage* ru) {
  while (wait4(pid, status, 0, ru) < 0)
    if (errno != EINTR) fail("wait4 of a cow child");
}

void run_cow(const FaultStormConfig& cfg, Run& r, Slot& slot, std::atomic<uint64_t>& reported,
             const std::function<void()>& setup_done) {
  const uint64_t pages = cfg.region_bytes / kPage;
  Mapping m(cfg.region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  madvise(m.data(), cfg.region_bytes, MADV_NOHUGEPAGE);
  Run setup{r.stop, Pacer{}, kBatch};  // the first write: unpaced, not counted
  if (touch(m.data(), pages, kPage, true, setup, 0) < pages) return;
  setup_done();
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    reported.store(0);
    pid_t pid = fork_bound_child();
    if (pid < 0) fail("fork");
    if (pid == 0) {  // a threaded parent's child: async-signal-safe calls only
      reported.store(touch(m.data(), pages, kPage, true, r, slot.pages));
      _exit(0);
    }
    rusage ru{};
    int status = 0;
    reap(pid, &status, &ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("cow child " + std::to_string(pid) +
                               (WIFSIGNALED(status) ? " killed by signal " + std::to_string(WTERMSIG(status))
                                                    : " exited " + std::to_string(WEXITSTATUS(status))));
    uint64_t n = reported.load();
    slot.pages += n;
    slot.minflt += uint64_t(ru.ru_minflt);
    slot.majflt += uint64_t(ru.ru_majflt);
    if (n == pages) ++slot.iterations;
  }
}

char* sys_brk(char* addr) { return reinterpret_cast<char*>(syscall(SYS_brk, addr)); }

// One page above the break and back. sbrk(0) is glibc's cached view of the
// break (no syscall): the raw brk calls leave that view true, and a break
// glibc has moved since the last round is picked up rather than undone.
void brk_round() {
  char* base = static_cast<char*>(sbrk(0));
  if (base == reinterpret_cast<char*>(-1)) fail("sbrk(0)");
  if (sys_brk(base + kPage) != base + kPage) {
    errno = ENOMEM;
    fail("brk: the program break cannot grow by one page");
  }
  if (sys_brk(base) != base) {
    errno = ENOMEM;
    fail("brk: the program break cannot be put back");
  }
}

// One writer's round: two mmap_lock write acquisitions, the mm left as found.
class WriterRound {
 public:
  explicit WriterRound(WriterKind kind) : kind_(kind) {
    if (kind != WriterKind::mprotect) return;
    // Guard pages (PROT_NONE) on both sides: the toggled page never merges
    // into a neighbouring VMA, so no fault thread's region is split or
    // merged by it, and no fault can meet a read-only page.
    own_ = std::make_unique<Mapping>(3 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    check(mprotect(page(), kPage, PROT_READ | PROT_WRITE), "mprotect");
  }
  void operator()() {
    switch (kind_) {
      case WriterKind::none: return;
      case WriterKind::mmap_munmap: {
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        return;
      }
      case WriterKind::mprotect:
        check(mprotect(page(), kPage, PROT_READ), "mprotect(PROT_READ)");
        check(mprotect(page(), kPage, PROT_READ | PROT_WRITE), "mprotect(PROT_READ|PROT_WRITE)");
        return;
      case WriterKind::brk: brk_round(); return;
    }
  }

 private:
  char* page() const { return own_->data() + kPage; }
  WriterKind kind_;
  std::unique_ptr<Mapping> own_;  // mprotect
};

// A file in `dir` that no other process can open: O_TMPFILE, or (where the
// file system has none) mkostemp and unlink at once.
Fd unlinked_file(const std::string& dir) {
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string path = dir + "/kperflab-fault-storm-XXXXXX";
    fd = mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0 && unlink(path.c_str()) != 0) {
      int err = errno;
      close(fd);
      errno = err;
      fail("unlink " + path);
    }
  }
  if (fd < 0) fail("create a file in file_dir '" + dir + "'");
  return Fd(fd);
}

std::string file_dir(const FaultStormConfig& cfg) { return cfg.file_dir.empty() ? "/tmp" : cfg.file_dir; }

void read_pages(const char* addr, size_t len) {
  for (size_t off = 0; off < len; off += kPage) (void)reinterpret_cast<const volatile char*>(addr)[off];
}

// Brings every page of the file into the page cache as a single-page folio.
// A hole reads as a zeroed, clean page-cache page: no disk write now and no
// writeback in the storm. Without readahead (POSIX_FADV_RANDOM, then
// MADV_RANDOM) the folios stay single pages; readahead grows large folios
// (ext4 since 6.16), and a read fault maps more than its fault-around block
// of those (seen on 6.18: 468 faults for the 2,048 blocks of a 128 MiB
// file). tmpfs keeps holes out of the page cache on read(); the reads
// through the mapping allocate them there, and only map elsewhere.
void populate(int fd, size_t len) {
  posix_fadvise(fd, 0, off_t(len), POSIX_FADV_RANDOM);
  std::vector<char> buf(1u << 20);
  for (size_t off = 0; off < len; off += buf.size())
    if (pread(fd, buf.data(), std::min(buf.size(), len - off), off_t(off)) < 0)
      fail("pread the backing file");
  Mapping m(len, PROT_READ, MAP_SHARED, fd);
  madvise(m.data(), len, MADV_RANDOM);
  read_pages(m.data(), len);
}

// Pages one read fault maps (fault-around), counted over the whole file: a
// power of two, as the kernel rounds fault_around_bytes down to one; an
// unaligned mapping only adds a fault at its start.
size_t measure_pages_per_fault(int fd, size_t len) {
  Mapping m(len, PROT_READ, MAP_SHARED, fd);
  rusage r0 = thread_rusage();
  read_pages(m.data(), len);
  rusage r1 = thread_rusage();
  long faults = (r1.ru_minflt - r0.ru_minflt) + (r1.ru_majflt - r0.ru_majflt);
  if (faults <= 0) return 1;
  double per = double(len / kPage) / double(faults);
  return size_t(1) << std::clamp(std::lround(std::log2(per)), 0L, 20L);
}

void validate(const FaultStormConfig& c) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("FaultStormConfig." + what); };
  // No fault thread at all: writers only (a writer load for other probes).
  if ((c.threads < 1 && c.writers == 0) || c.threads > kMaxThreads)
    bad("threads must be 1..1024 (0 only with writers), not " + std::to_string(c.threads));
  if (c.region_bytes < kPage || c.region_bytes % kPage)
    bad("region_bytes must be a positive multiple of the page size (" + std::to_string(kPage) + "), not " +
        std::to_string(c.region_bytes));
  if (!(c.rate >= 0) || !std::isfinite(c.rate)) bad("rate must be >= 0 (0: back to back)");
  if (!(c.writer_rate >= 0) || !std::isfinite(c.writer_rate))
    bad("writer_rate must be >= 0 (0: back to back)");
  if (c.writers > kMaxThreads) bad("writers must be 0..1024");
  if (c.writer == WriterKind::none && c.writers > 0) bad("writers must be 0 with writer none");
  if (c.writer != WriterKind::none && c.writers == 0)
    bad("writers must be >= 1 with writer " + std::string(to_string(c.writer)));
  for (int cpu : c.cpus)
    if (cpu < 0 || cpu >= CPU_SETSIZE) bad("cpus: no CPU " + std::to_string(cpu));
}

template <class K, size_t N>
std::string names(const K (&all)[N]) {
  std::string s;
  for (auto k : all) s += (s.empty() ? "" : ", ") + std::string(to_string(k));
  return s;
}

}  // namespace

std::string_view to_string(FaultKind k) {
  switch (k) {
    case FaultKind::anon: return "anon";
    case FaultKind::file: return "file";
    case FaultKind::cow: return "cow";
  }
  return "?";
}

std::string_view to_string(WriterKind k) {
  switch (k) {
    case WriterKind::none: return "none";
    case WriterKind::mmap_munmap: return "mmap_munmap";
    case WriterKind::mprotect: return "mprotect";
    case WriterKind::brk: return "brk";
  }
  return "?";
}

FaultKind parse_fault_kind(std::string_view name) {
  for (auto k : kAllFaultKinds)
    if (to_string(k) == name) return k;
  throw std::invalid_argument("unknown fault kind '" + std::string(name) + "' (" +
                              names(kAllFaultKinds) + ")");
}

WriterKind parse_writer_kind(std::string_view name) {
  for (auto k : kAllWriterKinds)
    if (to_string(k) == name) return k;
  throw std::invalid_argument("unknown writer kind '" + std::string(name) + "' (" +
                              names(kAllWriterKinds) + ")");
}

double FaultStormResult::faults_per_second() const {
  return seconds > 0 ? double(minflt + majflt) / seconds : 0;
}

std::string fault_storm_unavailable(const FaultStormConfig& cfg) {
  if (cfg.kind == FaultKind::file) {
    try {
      unlinked_file(file_dir(cfg));
    } catch (const std::system_error& e) {
      return e.what();
    }
  }
  if (cfg.writer == WriterKind::brk && cfg.writers > 0) {
    try {
      brk_round();
    } catch (const std::system_error& e) {
      return std::string(e.what()) + " (a mapping right above the heap?)";
    }
  }
  return "";
}

uint64_t fault_storm_peak_bytes(const FaultStormConfig& cfg) {
  const uint64_t r = cfg.region_bytes;
  switch (cfg.kind) {
    case FaultKind::anon: return r * cfg.threads;
    case FaultKind::cow: return 2 * r * cfg.threads;
    case FaultKind::file: return r;
  }
  return r * cfg.threads;
}

uint64_t mem_available_bytes() {
  auto mi = sysfs::read("/proc/meminfo");  // the one reader of /proc (read_file.h)
  if (!mi) return 0;
  size_t at = mi->find("MemAvailable:");
  if (at == std::string::npos) return 0;
  unsigned long long kb = std::strtoull(mi->c_str() + at + 13, nullptr, 10);
  return static_cast<uint64_t>(kb) * 1024;
}

size_t fault_storm_region_that_fits(const FaultStormConfig& cfg, uint64_t budget) {
  FaultStormConfig one = cfg;
  one.region_bytes = kPage;
  const uint64_t per_page = fault_storm_peak_bytes(one);  // bytes per page of region
  if (per_page == 0 || budget < per_page) return 0;
  const uint64_t pages = std::min<uint64_t>(budget / per_page, cfg.region_bytes / kPage);
  return static_cast<size_t>(pages * kPage);
}

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
