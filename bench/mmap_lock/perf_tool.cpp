// SPDX-License-Identifier: GPL-2.0-only
#include "perf_tool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "workloads/child.h"

namespace kperflab::mmap_lock {

namespace {

bool executable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

// fork + exec with stdout/stderr to `out` (append for stderr); the child
// dies with us (fork_bound_child). -1 on failure.
pid_t spawn(const std::vector<std::string>& args, const std::string& out) {
  std::string perf = perf_path();
  if (perf.empty()) return -1;
  std::vector<std::string> full = {perf};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  pid_t pid = workloads::fork_bound_child();
  if (pid == 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
  return pid;
}

// waitpid with a deadline; true when the child was reaped (status set).
bool wait_for(pid_t pid, int* status, int timeout_ms) {
  for (int waited = 0;; waited += 20) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;
    if (waited >= timeout_ms) return false;
    sleep_ms(20);
  }
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) return 0;  // perf's ^C
  return -1;
}

}  // namespace

std::string perf_path() {
  if (const char* e = getenv("KPERFLAB_PERF"); e && *e) return executable(e) ? e : "";
  const char* path = getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/usr/sbin:/bin:/sbin");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (executable(dir + "/perf")) return dir + "/perf";
  return "";
}

std::string log_tail(const std::string& path, size_t max_chars) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s.empty() ? "(no output)" : s;
}

PerfSession::PerfSession(std::vector<std::string> args, std::string log, std::string ready_file,
                         int ready_ms)
    : log_(std::move(log)) {
  pid_ = spawn(args, log_);
  if (pid_ < 0) throw std::runtime_error("cannot start perf: " + std::string(strerror(errno)));
  int status = 0;
  // perf record writes its header once the events are open; perf trace
  // gives no sign, so it gets a fixed time.
  for (int waited = 0; waited < (ready_file.empty() ? ready_ms : 10000); waited += 20) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("perf exited at start: " + log_tail(log_));
    }
    struct stat st;
    if (!ready_file.empty() && stat(ready_file.c_str(), &st) == 0 && st.st_size > 0) {
      sleep_ms(100);  // the header is written right after the events open
      return;
    }
    sleep_ms(20);
  }
  if (!ready_file.empty()) {
    stop();
    throw std::runtime_error("perf did not start recording within 10 s: " + log_tail(log_));
  }
}

PerfSession::~PerfSession() { stop(); }

int PerfSession::stop() {
  if (pid_ < 0) return -1;
  int status = 0;
  kill(pid_, SIGINT);
  if (!wait_for(pid_, &status, 20000)) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return exit_code(status);
}

int run_perf(const std::vector<std::string>& args, const std::string& out, int timeout_s) {
  pid_t pid = spawn(args, out);
  if (pid < 0) return -1;
  int status = 0;
  if (!wait_for(pid, &status, timeout_s * 1000)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

// "123.456789012:" -> ns
bool parse_time(std::string_view s, uint64_t& ns) {
  if (!s.empty() && s.back() == ':') s.remove_suffix(1);
  auto dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  uint64_t sec = 0, frac = 0;
  auto a = std::from_chars(s.data(), s.data() + dot, sec);
  std::string_view f = s.substr(dot + 1);
  auto b = std::from_chars(f.data(), f.data() + f.size(), frac);
  if (a.ec != std::errc{} || b.ec != std::errc{} || f.empty() || f.size() > 9) return false;
  for (size_t i = f.size(); i < 9; ++i) frac *= 10;
  ns = sec * 1000000000ull + frac;
  return true;
}

}  // namespace

ContentionTotals parse_contention(std::string_view text, uint64_t lock_addr) {
  ContentionTotals t;
  std::map<uint64_t, uint64_t> open;  // tid -> begin time
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    // "<tid> <time>: lock:contention_begin: 0x<addr> (flags=...)"
    std::istringstream in{std::string(line)};
    std::string tid_s, time_s, event, addr_s;
    if (!(in >> tid_s >> time_s >> event >> addr_s)) continue;
    bool begin = event == "lock:contention_begin:";
    bool end = event == "lock:contention_end:";
    if (!begin && !end) continue;
    uint64_t tid = 0, ns = 0, addr = 0;
    if (std::from_chars(tid_s.data(), tid_s.data() + tid_s.size(), tid).ec != std::errc{} ||
        !parse_time(time_s, ns))
      continue;
    if (addr_s.rfind("0x", 0) == 0) addr_s = addr_s.substr(2);
    if (std::from_chars(addr_s.data(), addr_s.data() + addr_s.size(), addr, 16).ec != std::errc{})
      continue;
    ++t.lines;
    if (addr != lock_addr) continue;
    if (begin) {
      if (open.count(tid)) ++t.unpaired;
      open[tid] = ns;
      continue;
    }
    auto it = open.find(tid);
    if (it == open.end() || ns < it->second) {
      ++t.unpaired;
      if (it != open.end()) open.erase(it);
      continue;
    }
    uint64_t d = ns - it->second;
    open.erase(it);
    ++t.contended;
    t.wait_total_ns += d;
    if (d > t.wait_max_ns) t.wait_max_ns = d;
  }
  t.unpaired += open.size();
  return t;
}

}  // namespace kperflab::mmap_lock
