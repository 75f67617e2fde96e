// SPDX-License-Identifier: GPL-2.0-only
// kperflab: list | run | ab | show | compare | export. The verb is picked here
// (CLI11); each verb parses its own arguments (cli/cli_args.h) so that
// `kperflab VERB --help` is that verb's help. Errors are caught here,
// printed with what was wrong, and turned into a non-zero exit: 2 for bad
// arguments and for errors before a verb's work starts.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/ab.h"
#include "cli/cli_args.h"
#include "cli/runner.h"
#include "cli/verbs.h"
#include "core/read_file.h"
#include "host/sysctl_hold.h"
#include "host/tune.h"
#include "kperflab_version.h"
#include "results/bundle.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(const std::vector<std::string>&);
  const char* summary;
};

const Command kCommands[] = {
    {"list", kperflab::list_main,
     "every probe and whether this host can run it; --params: their parameters"},
    {"run", kperflab::run_main, "run probes into one result bundle"},
    {"ab", kperflab::ab_main,
     "two settings in one boot: alternating runs of each (ABBA) into DIR/a and DIR/b"},
    {"show", kperflab::show_main, "provenance and metrics of a bundle"},
    {"compare", kperflab::compare_main, "compare bundles: regressions and improvements"},
    {"series", kperflab::series::series_main,
     "one report over N kernels or configs: a line per metric, the significant steps"},
    {"trend", kperflab::trend::trend_main,
     "one history (a selector) in order of time or kernel: where each metric changed"},
    {"campaign", kperflab::campaign::campaign_main,
     "two kernels across reboots: boots per side, boots still needed, what to do next"},
    {"noise", kperflab::compare::noise_main,
     "the host's noise between boots (from A/A bundles), for compare"},
    {"catalog", kperflab::catalog::catalog_main,
     "the bundles under results/runs, selected by tag, kernel, config option, host"},
    {"export", kperflab::export_main,
     "bundles as HdrHistogram log, gbench JSON, CSV, LAVA test cases or KCIDB JSON"},
    {"restore", kperflab::restore_main,
     "put back settings a killed run left changed (--tune, numa_balancing, autogroup)"},
};

// Every invocation first applies the restore records of runs that died
// holding a setting (host/sysctl_hold.h). `run` does it itself (and records
// it in the bundle), and so do the runs of `ab`; `restore` reports each
// record. Quiet when there are none.
void recover_for(const char* verb) {
  const std::string v = verb;
  if (v == "run" || v == "ab" || v == "restore") return;
  try {
    for (const auto& r : kperflab::recover_stale_holds())
      std::fprintf(stderr, "kperflab: %s\n", kperflab::printable(kperflab::describe(r)).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kperflab: warning: restore records not checked: %s\n",
                 kperflab::printable(e.what()).c_str());
  }
}

// A standard stream that is closed (`kperflab show B >&-`) is made a
// descriptor every write to fails on: output then errs instead of vanishing,
// and no file opened later (a report, the catalog) takes its number and
// receives what was meant for the terminal.
void guard_standard_fds() {
  for (int fd : {0, 1, 2}) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    int n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    if (n >= 0 && n != fd) {
      dup2(n, fd);
      close(n);
    }
  }
}

// Whatever a verb printed must have arrived (issue #27: `show >&-` and
// `catalog >&-` exited 0): a failed write to standard output is an error.
int check_stdout(const char* verb, int rc) {
  errno = 0;
  bool bad = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.flush();
  if (!bad) return rc;
  std::fprintf(stderr, "kperflab %s: error: cannot write standard output: %s\n", verb,
               std::strerror(errno ? errno : EIO));
  return 2;
}

int run_verb(const Command& c, const std::vector<std::string>& args) {
  recover_for(c.name);
  try {
    return check_stdout(c.name, c.fn(args));
  } catch (const kperflab::cli::HelpShown&) {
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "kperflab %s: %s\n", c.name, kperflab::printable(e.what()).c_str());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // Not "filesystem error: status: Too many levels of symbolic links
    // [a] [b]": the path, then the problem.
    std::string where = e.path1().string();
    if (!e.path2().empty()) where += " -> " + e.path2().string();
    std::fprintf(stderr, "kperflab %s: error: %s: %s\n", c.name, kperflab::printable(where).c_str(),
                 kperflab::printable(e.code().message()).c_str());
    return 2;
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "kperflab %s: error: %s\n", c.name,
                 kperflab::printable(kperflab::json_error_text(e.what())).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kperflab %s: error: %s\n", c.name, kperflab::printable(e.what()).c_str());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  guard_standard_fds();
  CLI::App app("kperflab " KPERFLAB_VERSION " (" KPERFLAB_GIT_SHA
               "): performance lab for kernel synchronization paths",
               "kperflab");
  app.require_subcommand(1);
  app.set_version_flag("--version", "kperflab " KPERFLAB_VERSION " " KPERFLAB_GIT_SHA);
  app.footer("`kperflab VERB --help` prints a verb's options, e.g. `kperflab run --help`,\n"
             "`kperflab compare --help`; `kperflab list --params` the probes' parameters.");
  for (const auto& c : kCommands) {
    // Everything after the verb is the verb's own (its parser, its --help).
    auto* sub = app.add_subcommand(c.name, c.summary);
    sub->prefix_command();
    sub->set_help_flag();
  }
  if (argc < 2) {
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  bool known = argv[1][0] == '-';
  for (const auto& c : kCommands) known = known || std::string(argv[1]) == c.name;
  if (!known) {
    std::fprintf(stderr, "kperflab: unknown command '%s'\n\n%s", kperflab::printable(argv[1]).c_str(),
                 app.help().c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "kperflab: %s\n\n%s", kperflab::printable(e.what()).c_str(),
                 app.help().c_str());
    return 2;
  }
  for (const auto& c : kCommands)
    if (app.got_subcommand(c.name)) return run_verb(c, app.get_subcommand(c.name)->remaining());
  return 2;
}
