// SPDX-License-Identifier: GPL-2.0-only
#include "cli/ab.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>

#include "cli/cli_args.h"
#include "core/probe.h"
#include "results/bundle.h"
#include "cli/runner.h"

namespace fs = std::filesystem;

namespace kperflab {

namespace {

const char* kAbFooter =
    "Runs `kperflab run COMMON ARGS-A` and `kperflab run COMMON ARGS-B` alternately\n"
    "in this boot, in ABBA order (a b b a a b b a ... for N pairs), each a separate\n"
    "process writing its own bundle: DIR/a/run-01, DIR/b/run-02, DIR/b/run-03,\n"
    "DIR/a/run-04, ... COMMON is every argument that is not ab's own (e.g. --probe\n"
    "membarrier --profile quick --repeat 5). --a and --b each take one string, split\n"
    "on blanks as a shell splits simple words; no shell runs, so quotes and\n"
    "$ ` \\ ; & | < > ( ) * ? { } ~ # ! are refused ([ ] are literal: --set k=[]).\n"
    "Both sides must select the same probes; --out, --runs-dir and --ktap are ab's.\n"
    "Everything is checked as `run` checks it (probe names, --set keys, types and\n"
    "ranges) before the first run starts.\n"
    "Why not two runs one after the other: the machine drifts within a boot (warm-up,\n"
    "heat, page cache, fragmentation), and a sequential A then B adds that drift to\n"
    "the difference. ABBA cancels a linear drift, and the runs of each side are the\n"
    "units `kperflab compare DIR/a DIR/b` compares (meta.json started/finished show\n"
    "that the sides interleave).\n"
    "^C stops the current run as `run` does (its bundle stays, marked partial),\n"
    "starts no further run, and says how many runs of each side completed.\n"
    "Exit: 0 done (with --compare: compare's status, 1 a regression with --fail-on\n"
    "regression), 1 a run failed, 2 bad arguments, 130 interrupted.";

struct AbOptions {
  std::string a, b;  // --a, --b as given
  bool have_a = false, have_b = false;
  unsigned pairs = 4;
  fs::path out;
  bool compare = false;
  std::string fail_on;
  std::vector<std::string> common;  // `run` arguments of both sides
};

// --a/--b are taken out before CLI11 parses the rest: their values start
// with '-' ("--set x=1") and may be empty (side A = the common arguments),
// and CLI11 would read the first as an option and skip the second.
std::vector<std::string> take_sides(const std::vector<std::string>& args, AbOptions& o) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s == "--") {  // what follows is COMMON, untouched
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    const bool a = s == "--a" || s.rfind("--a=", 0) == 0;
    if (!a && s != "--b" && s.rfind("--b=", 0) != 0) {
      rest.push_back(s);
      continue;
    }
    const std::string flag = a ? "--a" : "--b";
    bool& have = a ? o.have_a : o.have_b;
    if (have) throw std::invalid_argument(flag + " given twice");
    have = true;
    if (s.size() > 3) {
      (a ? o.a : o.b) = s.substr(4);
    } else if (i + 1 < args.size()) {
      (a ? o.a : o.b) = args[++i];
    } else {
      throw std::invalid_argument(flag + " needs a value: the run arguments of side " +
                                  flag.substr(2) + " in one string, e.g. " + flag +
                                  " \"--set membarrier.states=spin\"");
    }
  }
  return rest;
}

AbOptions parse_ab_args(const std::vector<std::string>& args) {
  AbOptions o;
  std::vector<std::string> rest = take_sides(args, o);
  std::string out;
  CLI::App app("Compares two settings within one boot: alternating runs of each (ABBA).",
               "kperflab ab");
  // Parsed by take_sides(); declared here for --help.
  std::string help_only;
  app.add_option("--a", help_only, "(required) run arguments of side A, one string, e.g. "
                                   "\"--set membarrier.states=spin\"; \"\": COMMON only")
      ->type_name("ARGS");
  app.add_option("--b", help_only, "(required) run arguments of side B, likewise")
      ->type_name("ARGS");
  app.add_option("--pairs,-n", o.pairs, "ABBA pairs: N runs of each side (default 4)")
      ->check(CLI::Range(1u, 500u))->type_name("N");
  app.add_option("--out,-o", out, "(required) the bundles go to DIR/a and DIR/b, which must "
                                  "be absent or empty")
      ->type_name("DIR");
  app.add_flag("--compare", o.compare, "run `kperflab compare DIR/a DIR/b` at the end");
  app.add_option("--fail-on", o.fail_on, "regression: passed to compare (implies --compare)")
      ->check(CLI::IsMember({"regression"}));
  app.allow_extras();
  cli::setup(app, kAbFooter);
  cli::parse(app, rest);
  o.common = app.remaining();  // in command-line order, with the "--" it was given
  auto dashes = std::find(o.common.begin(), o.common.end(), "--");
  if (dashes != o.common.end()) o.common.erase(dashes);
  if (!o.have_a || !o.have_b)
    throw std::invalid_argument(std::string(o.have_a ? "--b" : "--a") +
                                " is required (the run arguments of each side; \"\" for none)");
  if (out.empty()) throw std::invalid_argument("--out DIR is required (bundles go to DIR/a, DIR/b)");
  o.out = out;
  if (!o.fail_on.empty()) o.compare = true;
  return o;
}

// Words ab decides itself or that would not run: refused in --a/--b.
void refuse_words(const std::vector<std::string>& words, const std::string& flag) {
  for (const auto& w : words) {
    const std::string name = w.substr(0, w.find('='));
    if (name == "--a" || name == "--b" || name == "--ab" || name == "--pairs" ||
        name == "--compare" || name == "--fail-on")
      throw std::invalid_argument(flag + ": '" + w + "' is an A/B argument, and ab does not "
                                  "nest: " + flag + " holds `kperflab run` arguments");
    if (name == "-h" || name == "--help")
      throw std::invalid_argument(flag + ": '" + w + "': see kperflab run --help");
  }
}

// One side as its runs will get it, checked by run's own parser and checks.
// Returns the probes it selects.
std::set<std::string> check_side(const AbOptions& o, char side, std::vector<std::string>& words) {
  const std::string flag = std::string("--") + side;
  const std::string& value = side == 'a' ? o.a : o.b;
  std::vector<std::string> own = split_words(value, flag);
  refuse_words(own, flag);
  words = o.common;
  words.insert(words.end(), own.begin(), own.end());
  RunOptions r;
  std::set<std::string> names;
  try {
    r = parse_run_args(words);
    for (Probe* p : select_probes(r)) names.insert(std::string(p->name()));
    resolve_sets(r, online_cpu_count());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("side " + std::string(1, side) + " (" + flag + " \"" +
                                value.substr(0, 200) + "\" with the common arguments): " +
                                e.what());
  }
  if (r.out || r.runs_root != RunOptions().runs_root)
    throw std::invalid_argument(std::string(r.out ? "--out" : "--runs-dir") + " is ab's own: "
                                "each run writes its bundle to DIR/" + side + "/run-NN, with "
                                "DIR from ab's --out (not inside --a/--b)");
  if (r.ktap)
    throw std::invalid_argument("--ktap: not for the runs of ab (several KTAP plans on one "
                                "output are not one KTAP document)");
  return names;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (auto& n : s) out += (out.empty() ? "" : ",") + n;
  return out;
}

void check_out(const fs::path& dir) {
  if (auto why = refused_text(dir.string(), true); !why.empty())
    throw std::invalid_argument("--out '" + printable(dir.string()) + "' " + why +
                                " (every reader would refuse the bundles)");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw std::invalid_argument("--out " + dir.string() + ": exists and is not a directory");
  for (const char* s : {"a", "b"}) {
    fs::path d = dir / s;
    if (fs::exists(d, ec) && (!fs::is_directory(d, ec) || !fs::is_empty(d, ec)))
      throw std::invalid_argument("--out " + dir.string() + ": " + d.string() +
                                  " exists and is not empty (an A/B never mixes with other runs)");
  }
}

// ^C and SIGTERM: no new run starts, and the signal goes on to the run in
// progress (in its own process group, so a terminal's ^C reaches it once,
// through here), which stops as `run` does; a second one, forwarded too,
// makes that run exit at once.
std::atomic<bool> g_ab_stop{false};
std::atomic<pid_t> g_ab_child{0};

extern "C" void ab_on_signal(int sig) {
  g_ab_stop.store(true);
  pid_t c = g_ab_child.load();
  if (c > 0) kill(c, sig);
}

void install_ab_signals() {
  struct sigaction sa {};
  sa.sa_handler = ab_on_signal;
  sigemptyset(&sa.sa_mask);
  // SIGHUP and SIGPIPE as SIGTERM: the run in progress puts back what it
  // holds (runner.cpp) instead of dying with it.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &sa, nullptr);
}

fs::path self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this program (/proc/self/exe): " + ec.message());
  return p;
}

// Runs this program with args; returns the wait status.
int spawn(const fs::path& exe, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string arg0 = exe.string();
  argv.push_back(arg0.data());
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  std::fflush(nullptr);
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);  // until g_ab_child names the child
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // ab killed: the run stops cleanly
    if (getppid() != parent) _exit(130);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execv(arg0.c_str(), argv.data());
    std::fprintf(stderr, "kperflab ab: cannot run %s: %s\n", arg0.c_str(), std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    throw std::runtime_error(std::string("fork: ") + std::strerror(e));
  }
  setpgid(pid, pid);  // either side may win the race; both set the same group
  g_ab_child.store(pid);
  if (g_ab_stop.load()) kill(pid, SIGINT);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_ab_child.store(0);
  return status;
}

std::string run_name(unsigned i, unsigned total) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "run-%0*u", total >= 100 ? 3 : 2, i + 1);
  return buf;
}

// The words as a shell would take them back (for the user to read and paste).
std::string shell_line(const std::vector<std::string>& words) {
  std::string s;
  for (auto& w : words) {
    bool plain = !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                                   "QRSTUVWXYZ0123456789-_.,:=/+%@") == w.npos;
    std::string q;
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += " " + (plain ? w : "'" + q + "'");
  }
  return s;
}

std::string tally(const unsigned done[2], unsigned pairs) {
  return "complete runs: a " + std::to_string(done[0]) + " of " + std::to_string(pairs) + ", b " +
         std::to_string(done[1]) + " of " + std::to_string(pairs);
}

// meta.json "started"/"finished" have whole seconds: a run starts in a
// later second than the one before it ended, so that ordering the runs by
// their times (as compare does to see that they interleave) has no ties.
void next_second_after(std::time_t t) {
  while (std::time(nullptr) <= t && !g_ab_stop.load()) usleep(20000);
}

// The ABBA sequence; returns ab's exit status.
int run_pairs(const AbOptions& o, const std::vector<std::string> words[2]) {
  const unsigned total = 2 * o.pairs;
  const fs::path exe = self_exe();
  unsigned done[2] = {0, 0};
  std::time_t last_end = 0;
  install_ab_signals();
  for (unsigned i = 0; i < total; ++i) {
    const char side = abba_side(i);
    const fs::path bundle = o.out / std::string(1, side) / run_name(i, total);
    next_second_after(last_end);
    if (g_ab_stop.load()) {
      std::fprintf(stderr, "kperflab ab: interrupted before run %u of %u; %s\n", i + 1, total,
                   tally(done, o.pairs).c_str());
      return 130;
    }
    std::fprintf(stderr, "ab: pair %u/%u, side %c (run %u of %u)\n", i / 2 + 1, o.pairs, side,
                 i + 1, total);
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), words[side - 'a'].begin(), words[side - 'a'].end());
    args.insert(args.end(), {"--out", bundle.string()});
    const int st = spawn(exe, args);
    last_end = std::time(nullptr);
    const bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok) ++done[side - 'a'];
    const bool interrupted = (WIFEXITED(st) && WEXITSTATUS(st) == 130) ||
                             (WIFSIGNALED(st) && (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM));
    if (!ok && (interrupted || g_ab_stop.load())) {
      std::fprintf(stderr, "kperflab ab: interrupted in run %u of %u (side %c; %s is partial); %s\n",
                   i + 1, total, side, bundle.c_str(), tally(done, o.pairs).c_str());
      return 130;
    }
    if (!ok) {
      std::string why = WIFEXITED(st) ? "exit status " + std::to_string(WEXITSTATUS(st))
                                      : "killed by signal " + std::to_string(WTERMSIG(st));
      if (WIFEXITED(st) && WEXITSTATUS(st) == kExitNoisy) why += " (refused by --strict: noisy)";
      std::error_code ec;
      const std::string where = fs::exists(bundle, ec) ? ", " + bundle.string() : "";
      std::fprintf(stderr, "kperflab ab: run %u of %u (side %c%s) failed: %s; stopped, %s\n",
                   i + 1, total, side, where.c_str(), why.c_str(), tally(done, o.pairs).c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

std::vector<std::string> split_words(const std::string& args, const std::string& flag) {
  static const std::string kRefused = "'\"`\\$;&|<>()*?{}~#!";
  std::vector<std::string> words;
  std::string cur;
  for (char c : args) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (kRefused.find(c) != std::string::npos || u < 0x20 || u == 0x7f) {
      std::string shown = u < 0x20 || u == 0x7f ? "a control character" : "'" + std::string(1, c) + "'";
      throw std::invalid_argument(flag + " \"" + printable(args.substr(0, 200)) + "\": " + shown +
                                  " is not allowed: the words are split on blanks only and no "
                                  "shell runs, so quotes and shell metacharacters are refused");
    }
    cur += c;
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

char abba_side(unsigned i) {
  const bool a_first = (i / 2) % 2 == 0;
  return (i % 2 == 0) == a_first ? 'a' : 'b';
}

int ab_main(const std::vector<std::string>& args) {
  const AbOptions o = parse_ab_args(args);
  std::vector<std::string> words[2];
  const auto probes_a = check_side(o, 'a', words[0]);
  const auto probes_b = check_side(o, 'b', words[1]);
  if (probes_a != probes_b)
    throw std::invalid_argument("the sides select different probes (a: " + join(probes_a) +
                                "; b: " + join(probes_b) + "): both must run the same ones; "
                                "put --probe in the common arguments");
  check_out(o.out);
  std::string order;
  for (unsigned i = 0; i < 2 * o.pairs && i < 8; ++i) order += std::string(" ") + abba_side(i);
  std::fprintf(stderr, "ab: %u pair%s in ABBA order (%s%s) of\n  a: kperflab run%s\n"
               "  b: kperflab run%s\n", o.pairs, o.pairs == 1 ? "" : "s", order.substr(1).c_str(),
               o.pairs > 4 ? " ..." : "", shell_line(words[0]).c_str(),
               shell_line(words[1]).c_str());
  int rc = run_pairs(o, words);
  if (rc != 0) return rc;
  const std::string a = (o.out / "a").string(), b = (o.out / "b").string();
  std::cout << "ab: " << o.pairs << " runs of each side: " << a << ", " << b << "\n";
  if (!o.compare) {
    std::cout << "compare: kperflab compare " << a << " " << b << "\n";
    return 0;
  }
  std::vector<std::string> cmp = {"compare", a, b};
  if (!o.fail_on.empty()) cmp.insert(cmp.end(), {"--fail-on", o.fail_on});
  std::cout << "ab: kperflab" << shell_line(cmp) << "\n";
  const int st = spawn(self_exe(), cmp);
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return g_ab_stop.load() ? 130 : 1;
}

}  // namespace kperflab
