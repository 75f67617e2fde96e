// SPDX-License-Identifier: GPL-2.0-only
#include "host/likwid_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "host/perf_events.h"

namespace kperflab {

namespace {

// Marks the re-executed run, so that it measures instead of re-executing.
constexpr const char* kChildEnv = "KPERFLAB_LIKWID_CHILD";

[[maybe_unused]] std::string on_path(const std::string& prog) {
  const char* path = getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty() && access((dir + "/" + prog).c_str(), X_OK) == 0) return dir + "/" + prog;
  return "";
}

// stdout and stderr of a shell command (its words are checked names) and
// its exit status. `timeout`: likwid waits for its access daemon.
[[maybe_unused]] std::string capture(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = popen(("timeout 60 " + cmd + " 2>&1 </dev/null").c_str(), "r");
  if (!p) {
    rc = -1;
    return std::string("popen: ") + std::strerror(errno);
  }
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
    if (out.size() < (1 << 20)) out.append(buf, n);
  int st = pclose(p);
  rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return out;
}

[[maybe_unused]] std::string online_cpus() {
  std::ifstream f("/sys/devices/system/cpu/online");
  std::string s;
  std::getline(f, s);
  return s.empty() ? "0" : s;
}

[[maybe_unused]] std::string first_cpu(const std::string& list) {
  size_t n = list.find_first_not_of("0123456789");
  return list.substr(0, n == std::string::npos ? list.size() : n);
}

std::string env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

nlohmann::json unavailable(const std::string& group, const std::string& why) {
  return {{"group", group}, {"unavailable", why.substr(0, 2000)}};
}

// Returns only when execv failed: why.
[[maybe_unused]] std::string exec_under(const std::string& likwid, const std::string& group,
                       const std::vector<std::string>& run_args) {
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::vector<std::string> argv = {likwid, "-C", online_cpus(), "-g", group, "-m", self, "run"};
  argv.insert(argv.end(), run_args.begin(), run_args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  setenv(kChildEnv, "1", 1);
  std::fflush(nullptr);
  execv(likwid.c_str(), cargv.data());
  std::string error = "execv(" + likwid + "): " + errno_text(errno);
  unsetenv(kChildEnv);
  return error;
}

}  // namespace

std::string check_likwid_group(const std::string& g) {
  bool ok = !g.empty() && g.size() <= 64;
  for (char c : g) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  return ok ? "" : "a likwid group name is 1..64 letters, digits or '_', got '" +
                       g.substr(0, 70) + "'";
}

std::vector<std::string> parse_likwid_groups(const std::string& output) {
  // "%Ns\t%s" rows (name, description) under a line of dashes
  // (likwid-perfctr's print_groups); likwid has no machine-readable list.
  std::vector<std::string> groups;
  std::stringstream ss(output);
  bool table = false;
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("-----", 0) == 0) {
      table = true;
      continue;
    }
    std::string name;
    if (table && (std::stringstream(line) >> name) && check_likwid_group(name).empty())
      groups.push_back(name);
  }
  return groups;
}

std::string likwid_errors(const std::string& output) {
  std::string out;
  std::stringstream ss(output);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("ERROR", 0) != 0) continue;
    // "ERROR - [./src/perfmon.c:perfmon_init_maps:1427] Unsupported Processor"
    size_t loc = line.find("] ");
    std::string msg = loc == std::string::npos ? line : line.substr(loc + 2);
    if (out.find(msg) == std::string::npos) out += (out.empty() ? "" : "; ") + msg;
  }
  return out;
}

nlohmann::json likwid_setup(const std::string& group, const std::vector<std::string>& run_args) {
  if (!env(kChildEnv).empty()) {
    if (env("LIKWID_MODE").empty())
      return unavailable(group, std::string(kChildEnv) + " is set but likwid-perfctr -m did not "
                                                         "start this run (no LIKWID_MODE)");
    return {{"group", group}, {"cpus", env("LIKWID_THREADS")}, {"events", env("LIKWID_EVENTS")},
            {"regions", "kperflab/<probe>/rep<N>, counted on the CPU of the thread that runs "
                        "the repetition"}};
  }
#ifndef KPERFLAB_HAVE_LIKWID
  (void)run_args;
  return unavailable(group, "kperflab was built without likwid's marker API (CMake did not find "
                            "likwid-marker.h and liblikwid)");
#else
  std::string likwid = on_path("likwid-perfctr");
  if (likwid.empty())
    return unavailable(group, "likwid-perfctr is not on PATH (Debian: apt-get install likwid)");
  int rc = 0;
  std::string listing = capture(likwid + " -a", rc);
  std::vector<std::string> groups = parse_likwid_groups(listing);
  if (!groups.empty() && std::find(groups.begin(), groups.end(), group) == groups.end()) {
    std::string names;
    for (auto& g : groups) names += (names.empty() ? "" : ", ") + g;
    throw std::invalid_argument("--likwid " + group + ": likwid-perfctr has no group '" + group +
                                "' on this CPU (groups: " + names + ")");
  }
  // A trivial program under the same options: likwid's own checks (CPU
  // support, MSR or perf_event access, its daemon) before anything is measured.
  std::string cmd = likwid + " -C " + first_cpu(online_cpus()) + " -g " + group + " -m true";
  std::string out = capture(cmd, rc);
  if (rc != 0) {
    std::string why = likwid_errors(out);
    if (why.empty()) why = out.substr(0, 400);
    if (groups.empty() && listing.find("No groups defined") != std::string::npos)
      why += "; likwid-perfctr -a: " + listing.substr(0, listing.find('\n'));
    return unavailable(group, "`" + cmd + "` exited " + std::to_string(rc) + ": " + why);
  }
  return unavailable(group, exec_under(likwid, group, run_args));
#endif
}

}  // namespace kperflab
