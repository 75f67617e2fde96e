// SPDX-License-Identifier: GPL-2.0-only
// `kperflab list`: every registered probe, whether this host can run it,
// and with --params what each parameter means.
#include <cstdio>

#include "cli/cli_args.h"
#include "cli/runner.h"
#include "host/sysinfo.h"

namespace kperflab {

namespace {

void print_params(Probe& p, const HostInfo& host) {
  auto defaults = p.parameters(Profile::standard, host);
  std::printf("%.*s parameters (--set %.*s.KEY=VALUE; default of the standard profile):\n",
              static_cast<int>(p.name().size()), p.name().data(),
              static_cast<int>(p.name().size()), p.name().data());
  for (const ParamSpec& s : p.param_specs(host.online_count())) {
    std::string def = defaults.contains(s.key) ? defaults[s.key].dump() : "-";
    std::printf("  %-20s %s\n  %-20s %s [default %s]\n", s.key.c_str(), s.allowed().c_str(), "",
                s.description.c_str(), def.c_str());
  }
}

}  // namespace

int list_main(const std::vector<std::string>& args) {
  CLI::App app("Every registered probe and whether this host can run it (with the reason "
               "when not).", "kperflab list");
  bool params = false;
  std::vector<std::string> only;
  app.add_flag("--params", params, "also print each probe's parameters: type, range, meaning");
  app.add_option("--probe,-p", only, "only this probe (repeatable)")->allow_extra_args(false);
  cli::setup(app, "");
  cli::parse(app, args);
  HostInfo host = collect_host_info();
  std::vector<Probe*> probes;
  for (auto& n : only) {
    Probe* p = ProbeRegistry::instance().find(n);
    if (!p) throw std::invalid_argument("--probe " + n + ": no such probe (see: kperflab list)");
    probes.push_back(p);
  }
  if (only.empty()) probes = ProbeRegistry::instance().all();
  std::printf("%-12s %-10s %s\n", "PROBE", "RUNNABLE", "WHAT / WHY NOT");
  for (Probe* p : probes) {
    auto a = p->check(host);
    std::printf("%-12.*s %-10s %.*s\n", static_cast<int>(p->name().size()), p->name().data(),
                a.ok ? "yes" : "no", static_cast<int>(p->summary().size()), p->summary().data());
    if (!a.ok) std::printf("%-12s %-10s -> %s\n", "", "", a.reason.c_str());
  }
  if (params)
    for (Probe* p : probes) {
      std::printf("\n");
      print_params(*p, host);
    }
  return 0;
}

}  // namespace kperflab
