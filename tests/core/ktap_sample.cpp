// SPDX-License-Identifier: GPL-2.0-only
// The KTAP that `kperflab run --ktap` prints (cli/ktap.h) for one kind of
// probe outcome, on standard output, without running a probe: so that
// tests/core/ktap_kunit.sh can hand every outcome to the kernel's own KTAP
// parser (tools/testing/kunit/kunit.py parse) on any host.
//   ktap_sample complete|partial|failed|forbidden|thin|skipped|not_run|all
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "results/headline.h"
#include "cli/ktap.h"

using kperflab::KtapWriter;
using kperflab::headline::Figure;
using kperflab::headline::Probe;

namespace {

// Seven figures in three groups, as a quick membarrier run has them.
std::vector<Figure> figures() {
  return {{"global/latency", "p50", 2100, "ns", 3},
          {"global/latency", "p99", 4800, "ns", 3},
          {"litmus/private_expedited/before_threads/forbidden_per_million", "value", 0,
           "per_million", 3},
          {"private_expedited/targets=1/spin/latency", "p50", 900, "ns", 3},
          {"private_expedited/targets=1/spin/latency", "p99", 2300, "ns", 3},
          {"private_expedited/targets=1/spin/ipis_per_call", "value", 1, "ratio", 3},
          {"writer/ops", "value", 1e6, "ops/s", 3}};
}

Probe probe(const std::string& status, const std::string& reason = "") {
  Probe p{"membarrier", status, reason, figures(), {}, 0};
  if (auto v = kperflab::headline::run_violation(status, reason); !v.empty())
    p.violations.push_back(v);
  return p;
}

// One outcome (a name main() checked).
void emit(KtapWriter& k, const std::string& what) {
  if (what == "complete") {
    k.probe(probe("complete"));
  } else if (what == "partial") {
    // The case of issue #25 item 10: every group "ok", the probe interrupted.
    k.probe(probe("partial", "the run was interrupted"));
  } else if (what == "failed") {
    Probe p{"cpumask", "failed", "the BPF program did not load", {}, {}, 0};
    p.violations.push_back(kperflab::headline::run_violation(p.status, p.reason));
    k.probe(p);
  } else if (what == "forbidden") {
    Probe p = probe("complete");
    p.violations.push_back("litmus/private_expedited/before_threads/forbidden = 1 over 3 "
                           "repetitions (an outcome the command forbids was observed)");
    k.probe(p);
  } else if (what == "thin") {
    // A violation in a group whose histograms were all too thin to report.
    Probe p = probe("complete");
    p.violations.push_back("delivery/forbidden = 2 over 3 repetitions");
    p.thin = 4;
    k.probe(p);
  } else if (what == "skipped") {
    k.probe({"ipi", "skipped", "kperflab.ko is not loaded", {}, {}, 0});
  } else if (what == "not_run") {
    k.not_run("notifier", "not run: the run was interrupted");
  }
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<std::string> all = {"complete", "partial", "failed", "forbidden",
                                               "thin",     "skipped", "not_run"};
  std::string what = argc == 2 ? argv[1] : "";
  std::vector<std::string> cases = what == "all" ? all : std::vector<std::string>{what};
  if (what != "all" && std::find(all.begin(), all.end(), what) == all.end()) {
    std::fprintf(stderr, "usage: ktap_sample complete|partial|failed|forbidden|thin|skipped|"
                         "not_run|all\n");
    return 2;
  }
  KtapWriter k(std::cout, cases.size());
  for (const auto& c : cases) emit(k, c);
  return 0;
}
