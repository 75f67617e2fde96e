// SPDX-License-Identifier: GPL-2.0-only
// A fault storm's setup and figures (fault_storm.h): the kind names, the
// config's checks, the never-linked backing file brought into the page
// cache and its fault-around block, and the memory a storm keeps resident.
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "fault_storm_internal.h"
#include "core/sysfs.h"

namespace kperflab::workloads {

namespace detail {

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

namespace {

void read_pages(const char* addr, size_t len) {
  for (size_t off = 0; off < len; off += kPage) (void)reinterpret_cast<const volatile char*>(addr)[off];
}

}  // namespace

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

}  // namespace detail

using namespace detail;

namespace {

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

}  // namespace kperflab::workloads
