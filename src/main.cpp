// SPDX-License-Identifier: GPL-2.0-only
// kperflab: list | run | show | compare | export. Errors are caught here,
// printed with what was wrong, and turned into a non-zero exit.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "analysis/cli.h"
#include "kperflab_version.h"
#include "runner.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(const std::vector<std::string>&);
  const char* help;
};

const Command kCommands[] = {
    {"list", kperflab::list_main,
     "kperflab list\n  Every registered probe and whether this host can run it (with the reason "
     "when not).\n"},
    {"run", kperflab::run_main,
     "kperflab run [--probe NAME]... [--profile quick|standard|full|lab] [--repeat N]\n"
     "             [--out DIR] [--runs-dir DIR] [--set PROBE.KEY=VALUE]...\n"
     "  Runs the probes (default: all this host can run) into one result bundle under\n"
     "  results/runs/<host>/<kernel>/<UTC stamp>-<id>/ (or exactly DIR with --out).\n"
     "  --repeat N stores N independent repetitions of every metric. ^C stops cleanly and\n"
     "  keeps what was measured in a bundle marked partial. Exit: 0 ok, 1 a probe failed,\n"
     "  2 bad arguments, 130 interrupted.\n"},
    {"show", kperflab::show_main,
     "kperflab show BUNDLE [--hist | --hist=full] [--probe NAME]\n"
     "  Provenance summary, then count/p50/p99/max of every metric and the probes' sweep\n"
     "  tables; --hist draws each histogram in log-scaled rows of 1/8 octave, --hist=full\n"
     "  one row per bucket (the histogram's own resolution: 2 significant digits).\n"},
    {"compare", kperflab::compare_main,
     "kperflab compare BASE CAND [CAND...] [options]\n  See `kperflab compare --help`.\n"},
    {"export", kperflab::export_main,
     "kperflab export --hlog|--gbench|--csv BUNDLE -o FILE\n  See `kperflab export --help`.\n"},
};

void usage(FILE* out) {
  std::fprintf(out, "kperflab %s (%s): performance lab for kernel synchronization paths\n\n",
               KPERFLAB_VERSION, KPERFLAB_GIT_SHA);
  for (const auto& c : kCommands) std::fprintf(out, "%s\n", c.help);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("kperflab %s %s\n", KPERFLAB_VERSION, KPERFLAB_GIT_SHA);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    bool wants_help = false;
    for (auto& a : args) wants_help = wants_help || a == "--help" || a == "-h";
    if (wants_help && std::strcmp(c.name, "compare") && std::strcmp(c.name, "export")) {
      std::fputs(c.help, stdout);
      return 0;
    }
    try {
      return c.fn(args);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "kperflab %s: %s\n", c.name, e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kperflab %s: error: %s\n", c.name, e.what());
      return 2;
    }
  }
  std::fprintf(stderr, "kperflab: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
