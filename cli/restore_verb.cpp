// SPDX-License-Identifier: GPL-2.0-only
// `kperflab restore`: puts back what a killed run left changed, from the
// restore records host/sysctl_hold.h keeps.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/verbs.h"
#include "results/bundle.h"
#include "host/sysctl_hold.h"
#include "host/tune.h"

namespace kperflab {

int restore_main(const std::vector<std::string>& args) {
  CLI::App app("Puts back what a killed or crashed `kperflab run` (--tune, numa_balancing, "
               "autogroup) left changed, from its restore records.", "kperflab restore");
  std::string dir = default_hold_dir().string();
  app.add_option("--dir", dir, "the restore records (default $KPERFLAB_HOLD_DIR or "
                 "/run/kperflab/holds)")->type_name("DIR");
  cli::setup(app, "Records of runs still alive are left alone. Exit: 0 done (or nothing to do), "
                  "1 a record could not be applied or was refused (it stays).");
  cli::parse(app, args);
  auto done = recover_stale_holds(dir);
  bool failed = false;
  for (auto& r : done) {
    std::cout << printable(describe(r)) << "\n";
    failed = failed || r.action == RecoveredHold::Action::failed ||
             r.action == RecoveredHold::Action::refused;
  }
  if (done.empty()) std::cout << "nothing to restore in " << printable(dir) << "\n";
  return failed ? 1 : 0;
}

}  // namespace kperflab
