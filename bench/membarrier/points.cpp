// SPDX-License-Identifier: GPL-2.0-only
#include "points.h"

#include "commands.h"

namespace kperflab::membarrier {

using nlohmann::json;
using workloads::ThreadState;

std::vector<unsigned> target_counts(unsigned others, unsigned max) {
  std::vector<unsigned> v = {0};
  for (unsigned n = 1; n < others; n *= 2) v.push_back(n);
  if (others > 0) v.push_back(others);
  if (max == 0 || v.size() <= max || max < 3) return v;
  // v = 0, 1, mid..., others: keep max - 3 of the middle, evenly spaced.
  std::vector<unsigned> mid(v.begin() + 2, v.end() - 1), out = {0, 1};
  const size_t k = max - 3, m = mid.size();
  for (size_t i = 0; i < k; ++i)
    out.push_back(mid[k == 1 ? m / 2 : (i * (m - 1) + (k - 1) / 2) / (k - 1)]);
  out.push_back(others);
  return out;
}

namespace {

struct Ctx {
  const json& params;
  const HostInfo& host;
  int caller;
  std::vector<int> others;  // online CPUs but the caller's
  std::vector<Point>& out;
  std::vector<Skipped>& skipped;
};

void add_targets_sweep(Ctx& c, const Command& cmd) {
  const unsigned iters = c.params["iterations"];
  for (unsigned n : target_counts(static_cast<unsigned>(c.others.size()),
                                  c.params.value("sweep_counts", 0u))) {
    for (std::string state : c.params["states"]) {
      if (n == 0 && state != "spin") continue;  // no threads: one point
      if (state == "half" && n < 2) {
        if (n == 1)
          c.skipped.push_back({std::string(cmd.name) + "/targets=1/half",
                               "half-and-half needs at least 2 target CPUs"});
        continue;
      }
      Point p;
      std::string st = n == 0 ? "none" : state;
      p.name = std::string(cmd.name) + "/targets=" + std::to_string(n) + "/" + st;
      p.labels = {{"cmd", cmd.name}, {"targets", n}, {"state", st}, {"callers", 1}};
      p.cmd = cmd.cmd;
      p.caller_cpu = c.caller;
      p.iters = iters;
      for (unsigned i = 0; i < n; ++i) {
        bool spin = state == "spin" || (state == "half" && i < n / 2);
        p.threads.push_back({c.others[i], spin ? ThreadState::spin : ThreadState::sleep});
        if (spin) p.expected.push_back(c.others[i]);
      }
      // SYNC_CORE runs its callback on the caller's CPU too (on_each_cpu_mask).
      if (cmd.cmd == kPrivateExpeditedSyncCore) p.expected.push_back(c.caller);
      p.delivery = true;
      p.per_cpu = n == c.others.size() && n > 0;
      c.out.push_back(std::move(p));
    }
  }
}

void add_placement(Ctx& c) {
  const Command* cmd = find_command("private_expedited");
  for (CpuDistance d : {CpuDistance::smt, CpuDistance::llc, CpuDistance::package,
                        CpuDistance::numa}) {
    std::string name = std::string("private_expedited/placement=") + to_string(d);
    int target = -1;
    for (int cpu : c.others)
      if (c.host.distance(c.caller, cpu) == d) {
        target = cpu;
        break;
      }
    if (target < 0) {
      c.skipped.push_back({name, std::string("no online CPU at distance '") + to_string(d) +
                                     "' from CPU " + std::to_string(c.caller)});
      continue;
    }
    Point p;
    p.name = name;
    p.labels = {{"cmd", cmd->name}, {"placement", to_string(d)}, {"target_cpu", target}};
    p.cmd = cmd->cmd;
    p.caller_cpu = c.caller;
    p.iters = c.params["iterations"];
    p.threads.push_back({target, ThreadState::spin});
    p.expected = {target};
    p.delivery = true;
    c.out.push_back(std::move(p));
  }
}

void add_callers(Ctx& c) {
  std::vector<int> cpus = {c.caller};
  cpus.insert(cpus.end(), c.others.begin(), c.others.end());
  for (unsigned n : target_counts(static_cast<unsigned>(cpus.size()),
                                  c.params.value("sweep_counts", 0u))) {
    if (n == 0) continue;
    Point p;
    p.name = "private_expedited/callers=" + std::to_string(n);
    p.labels = {{"cmd", "private_expedited"}, {"callers", n}};
    p.cmd = kPrivateExpedited;
    p.caller_cpu = c.caller;
    p.callers = n;
    p.iters = c.params["iterations"];
    c.out.push_back(std::move(p));
  }
}

// RSEQ with MEMBARRIER_CMD_FLAG_CPU aimed at one CPU running our spinner
// (one IPI per call) and at one running another process (no IPI at all).
void add_flag_cpu(Ctx& c) {
  if (c.others.empty()) {
    c.skipped.push_back({"private_expedited_rseq/flag_cpu", "needs a second online CPU"});
    return;
  }
  int t = c.others.back();
  for (bool own : {true, false}) {
    Point p;
    p.name = std::string("private_expedited_rseq/flag_cpu/") + (own ? "own_mm" : "other_mm");
    p.labels = {{"cmd", "private_expedited_rseq"}, {"flag_cpu", true},
                {"target", own ? "own_mm" : "other_mm"}, {"target_cpu", t}};
    p.cmd = kPrivateExpeditedRseq;
    p.flags = kFlagCpu;
    p.cpu_id = t;
    p.caller_cpu = c.caller;
    p.iters = c.params["iterations"];
    if (own) {
      p.threads.push_back({t, ThreadState::spin});
      p.expected = {t};
    } else {
      p.foreign_cpu = t;
    }
    p.delivery = true;
    c.out.push_back(std::move(p));
  }
}

void add_plain(Ctx& c, const char* name, int cmd, unsigned iters) {
  Point p;
  p.name = name;
  p.labels = {{"cmd", name}};
  p.cmd = cmd;
  p.caller_cpu = c.caller;
  p.iters = iters;
  c.out.push_back(std::move(p));
}

}  // namespace

std::vector<Point> build_points(const json& params, const HostInfo& host, long mask,
                                std::vector<Skipped>& skipped) {
  std::vector<Point> out;
  auto online = host.online_cpus();
  Ctx c{params, host, online.empty() ? 0 : online.front(), {}, out, skipped};
  for (int cpu : online)
    if (cpu != c.caller) c.others.push_back(cpu);
  unsigned max_targets = params.value("max_targets", 0u);
  if (max_targets && c.others.size() > max_targets) c.others.resize(max_targets);

  add_plain(c, "query", kQuery, params["iterations"]);
  if (mask & kGetRegistrations) add_plain(c, "get_registrations", kGetRegistrations, params["iterations"]);
  else skipped.push_back({"get_registrations", "MEMBARRIER_CMD_QUERY lacks GET_REGISTRATIONS (kernel < 6.3)"});
  if (mask & kGlobal) add_plain(c, "global", kGlobal, params["global_calls"]);
  else skipped.push_back({"global", "MEMBARRIER_CMD_QUERY lacks GLOBAL (nohz_full active?)"});
  for (std::string name : params["sweep_commands"]) {
    const Command* cmd = find_command(name);
    if (!cmd || !cmd->sends_ipis)
      throw std::invalid_argument("membarrier.sweep_commands: unknown command '" + name + "'");
    if (!(mask & cmd->cmd)) {
      skipped.push_back({name, "not in MEMBARRIER_CMD_QUERY's mask: the kernel lacks it"});
      continue;
    }
    add_targets_sweep(c, *cmd);
  }
  if (mask & kPrivateExpedited) {
    if (params.value("placement", true)) add_placement(c);
    if (params.value("callers_sweep", true)) add_callers(c);
  }
  if (mask & kPrivateExpeditedRseq) add_flag_cpu(c);
  else skipped.push_back({"private_expedited_rseq/flag_cpu", "kernel lacks PRIVATE_EXPEDITED_RSEQ (CONFIG_RSEQ off?)"});
  return out;
}

}  // namespace kperflab::membarrier
