// SPDX-License-Identifier: GPL-2.0-only
#include "invalidator.h"

#include <fcntl.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "child.h"
#include "spinner.h"

namespace kperflab::workloads {
namespace {

constexpr size_t kHuge = 2UL << 20;
const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void check(int rc, const char* what) {
  if (rc != 0) fail(what);
}

void touch(char* addr, size_t len) {
  for (size_t off = 0; off < len; off += kPage) reinterpret_cast<volatile char*>(addr)[off] = 1;
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

void sleep_until(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000ULL), static_cast<long>(ns % 1000000000ULL)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// The node a page is on, or -1; move_pages with nodes == nullptr queries.
int page_node(char* addr) {
  void* pages[1] = {addr};
  int status[1] = {-1};
  if (syscall(SYS_move_pages, 0, 1UL, pages, nullptr, status, 0) != 0) return -1;
  return status[0];
}

int online_nodes() {
  int n = 0;
  for (int i = 0; i < 1024; ++i) {
    if (access(("/sys/devices/system/node/node" + std::to_string(i)).c_str(), F_OK) != 0) break;
    ++n;
  }
  return n;
}

void migrate(char* addr, size_t len) {
  int to = page_node(addr) == 0 ? 1 : 0;
  std::vector<void*> pages;
  for (size_t off = 0; off < len; off += kPage) pages.push_back(addr + off);
  std::vector<int> nodes(pages.size(), to), status(pages.size());
  if (syscall(SYS_move_pages, 0, pages.size(), pages.data(), nodes.data(), status.data(),
              MPOL_MF_MOVE) < 0)
    fail("move_pages");
}

void fork_cow(char* addr, size_t len) {
  pid_t pid = fork_bound_child();
  if (pid < 0) fail("fork");
  if (pid == 0) _exit(0);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  touch(addr, len);  // breaks COW in the parent
}

// A freshly written page is soft-dirty (pagemap bit 55) only on kernels
// with CONFIG_MEM_SOFT_DIRTY; without it clear_refs 4 write-protects nothing.
bool soft_dirty_supported() {
  AnonBuffer probe(kPage);
  probe.touch();
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t entry = 0;
  off_t off = off_t(reinterpret_cast<uintptr_t>(probe.data()) / kPage * sizeof entry);
  bool ok = pread(fd, &entry, sizeof entry, off) == sizeof entry;
  close(fd);
  return ok && (entry >> 55 & 1);
}

void clear_refs(char* addr, size_t len) {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open /proc/self/clear_refs");
  ssize_t n = write(fd, "4", 1);
  int err = errno;
  close(fd);
  errno = err;
  if (n != 1) fail("write 4 > /proc/self/clear_refs");
  touch(addr, len);
}

void thp_split(char* addr, size_t len) {
  for (size_t off = 0; off + kHuge <= len; off += kHuge) {
    check(madvise(addr + off, kPage, MADV_DONTNEED), "madvise(4K of a THP)");  // splits
    check(madvise(addr + off, kHuge, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    touch(addr + off, kHuge);  // refaults (a huge page when khugepaged/fault allows)
  }
}

}  // namespace

std::string_view to_string(InvalKind k) {
  switch (k) {
    case InvalKind::munmap_mmap: return "munmap";
    case InvalKind::madv_dontneed: return "madvise";
    case InvalKind::mprotect: return "mprotect";
    case InvalKind::migrate: return "migrate";
    case InvalKind::fork_cow: return "fork";
    case InvalKind::clear_refs: return "clear_refs";
    case InvalKind::thp_split: return "thp_split";
  }
  return "?";
}

InvalKind parse_inval_kind(std::string_view name) {
  for (auto k : kAllInvalKinds)
    if (to_string(k) == name) return k;
  throw std::invalid_argument("unknown invalidation kind '" + std::string(name) +
                              "' (munmap, madvise, mprotect, migrate, fork, clear_refs, thp_split)");
}

int notifier_event(InvalKind k) {
  switch (k) {
    case InvalKind::munmap_mmap: return 0;  // MMU_NOTIFY_UNMAP
    case InvalKind::madv_dontneed: return 1;  // MMU_NOTIFY_CLEAR
    case InvalKind::mprotect: return 2;  // MMU_NOTIFY_PROTECTION_VMA
    case InvalKind::fork_cow: return 3;  // MMU_NOTIFY_PROTECTION_PAGE
    case InvalKind::clear_refs: return 4;  // MMU_NOTIFY_SOFT_DIRTY
    // move_pages: try_to_migrate_one() invalidates each page with
    // MMU_NOTIFY_CLEAR (MMU_NOTIFY_MIGRATE is migrate_vma, device memory only):
    // seen in the 6.12 lab guest, one callback per page moved.
    case InvalKind::migrate: return 1;  // MMU_NOTIFY_CLEAR
    case InvalKind::thp_split: return 1;  // MMU_NOTIFY_CLEAR
  }
  return -1;
}

AnonBuffer::AnonBuffer(size_t len, bool huge_aligned) {
  size_t align = huge_aligned ? kHuge : kPage;
  if (len == 0 || len % align) throw std::invalid_argument("buffer length not a multiple of alignment");
  map_len_ = len + align;
  void* p = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("mmap " + std::to_string(len) + " bytes");
  map_ = static_cast<char*>(p);
  addr_ = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(map_) + align - 1) & ~(align - 1));
  len_ = len;
  if (huge_aligned) madvise(addr_, len_, MADV_HUGEPAGE);
}

AnonBuffer::~AnonBuffer() { munmap(map_, map_len_); }

void AnonBuffer::touch() const { kperflab::workloads::touch(addr_, len_); }

std::string inval_unavailable(InvalKind k, const AnonBuffer& buf) {
  if (k == InvalKind::migrate && online_nodes() < 2)
    return "page migration needs two NUMA nodes; this host has " + std::to_string(online_nodes());
  if (k == InvalKind::clear_refs && access("/proc/self/clear_refs", W_OK) != 0)
    return "/proc/self/clear_refs not writable";
  if (k == InvalKind::clear_refs && !soft_dirty_supported())
    return "kernel without soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY: pagemap bit 55 never set)";
  if (k == InvalKind::thp_split) {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string s;
    std::getline(f, s);
    if (!f || s.find("[never]") != std::string::npos)
      return "transparent huge pages disabled (" + (s.empty() ? "no sysfs file" : s) + ")";
    if (reinterpret_cast<uintptr_t>(buf.data()) % kHuge || buf.size() < kHuge)
      return "thp_split needs a 2 MiB aligned buffer of at least 2 MiB";
  }
  return "";
}

void invalidate_once(InvalKind k, char* addr, size_t len, uint64_t seq) {
  switch (k) {
    case InvalKind::munmap_mmap:
      check(munmap(addr, len), "munmap");
      if (mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
          MAP_FAILED)
        fail("mmap(MAP_FIXED)");
      touch(addr, len);
      return;
    case InvalKind::madv_dontneed:
      check(madvise(addr, len, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
      touch(addr, len);
      return;
    case InvalKind::mprotect:  // even seq write-protects, odd restores
      check(mprotect(addr, len, seq % 2 ? PROT_READ | PROT_WRITE : PROT_READ), "mprotect");
      return;
    case InvalKind::migrate: migrate(addr, len); return;
    case InvalKind::fork_cow: fork_cow(addr, len); return;
    case InvalKind::clear_refs: clear_refs(addr, len); return;
    case InvalKind::thp_split: thp_split(addr, len); return;
  }
}

Invalidator::Invalidator(const Config& cfg, AnonBuffer& buf)
    : cfg_(cfg), per_thread_(static_cast<size_t>(std::max(cfg.threads, 1))),
      errors_(per_thread_.size()) {
  if (cfg.threads < 1 || cfg.threads > 1024) throw std::invalid_argument("invalidator threads must be 1..1024");
  if (cfg.rate_hz < 0) throw std::invalid_argument("invalidation rate must be >= 0");
  if (auto why = inval_unavailable(cfg.kind, buf); !why.empty()) throw std::runtime_error(why);
  size_t unit = cfg.kind == InvalKind::thp_split ? kHuge : kPage;
  size_t slices = buf.size() / unit;
  if (slices < size_t(cfg.threads))
    throw std::invalid_argument("buffer too small for one slice per invalidator thread");
  size_t per = slices / size_t(cfg.threads) * unit;
  buf.touch();
  for (int i = 0; i < cfg.threads; ++i)
    threads_.emplace_back([this, i, a = buf.data() + size_t(i) * per, per] { run(i, a, per); });
}

Invalidator::~Invalidator() { stop(); }

void Invalidator::run(int idx, char* addr, size_t len) {
  try {
    if (!cfg_.cpus.empty()) pin_self(cfg_.cpus[size_t(idx) % cfg_.cpus.size()]);
    if (cfg_.gate)
      while (*cfg_.gate == 0 && !stop_.load()) std::this_thread::yield();
    const uint64_t period = cfg_.rate_hz > 0 ? uint64_t(1e9 * cfg_.threads / cfg_.rate_hz) : 0;
    uint64_t next = now_ns();
    for (uint64_t seq = 0; !stop_.load(); ++seq) {
      if (cfg_.gate && *cfg_.gate >= 2) break;
      if (cfg_.max_ops && ops_.fetch_add(1) >= cfg_.max_ops) {
        ops_.fetch_sub(1);
        break;
      }
      uint64_t t0 = now_ns();
      invalidate_once(cfg_.kind, addr, len, seq);
      per_thread_[size_t(idx)].record(now_ns() - t0);
      if (!cfg_.max_ops) ops_.fetch_add(1);
      if (period) {
        next += period;  // absolute schedule: no drift from the op's own time
        sleep_until(next);
      }
    }
    if (cfg_.kind == InvalKind::mprotect) mprotect(addr, len, PROT_READ | PROT_WRITE);
  } catch (const std::exception& e) {
    errors_[size_t(idx)] = e.what();
  }
}

void Invalidator::stop() {
  if (stopped_) return;
  stop_.store(true);
  for (auto& t : threads_) t.join();
  for (auto& h : per_thread_) latency_.merge(h);
  for (auto& e : errors_)
    if (error_.empty() && !e.empty()) error_ = e;
  stopped_ = true;
}

}  // namespace kperflab::workloads
