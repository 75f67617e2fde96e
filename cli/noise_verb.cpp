// SPDX-License-Identifier: GPL-2.0-only
// `kperflab noise`: the arguments, then analysis/noise.h builds the model.
#include <cstdio>
#include <stdexcept>

#include "analysis/compare.h"
#include "analysis/noise.h"
#include "cli/cli_args.h"
#include "cli/verbs.h"
#include "core/read_file.h"
#include "results/output_file.h"

namespace kperflab::compare {

namespace {

const char* kNoiseFooter =
    "Measures how much every metric moves between boots of one kernel on this host,\n"
    "from bundles of 8 or more boots (run, reboot, run, ...; the same kernel). The\n"
    "model goes beside the results, results/runs/<host>/noise.json (or -o FILE), where\n"
    "compare finds it: with one boot per side, a change must stand out from this\n"
    "spread. Exit: 0 written, 2 error.";

}  // namespace

int noise_main(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::string out;
  bool force = false;
  CLI::App app("Builds the host's noise model from A/A runs across boots.", "kperflab noise");
  app.add_option("bundles", paths, "bundles or directories of bundles, one kernel, 8+ boots")
      ->required()->expected(1, 1 << 16)->type_name("DIR...");
  app.add_option("-o,--output", out, "write the model to FILE (default: beside the results)")
      ->type_name("FILE");
  app.add_flag("--force", force, "replace FILE if it exists");
  cli::setup(app, kNoiseFooter);
  cli::parse(app, args);
  // Every bundle once, however often its path (or a directory above it) is
  // given; at most kMaxBundles.
  SideSource src;
  for (auto& p : paths) {
    auto s = SideSource::find(p, "");
    src.dirs.insert(src.dirs.end(), s.dirs.begin(), s.dirs.end());
  }
  src.dirs = unique_dirs(std::move(src.dirs));
  src.arg = paths.size() == 1 ? paths[0] : std::to_string(paths.size()) + " paths";
  src.runs_root = "results/runs";  // its catalog caches the summaries, when there is one
  check_bundle_limit({src}, "noise");
  Side all = src.load(false);
  NoiseModel nm = NoiseModel::build(all);
  if (nm.kernels.size() > 1)
    std::fprintf(stderr, "kperflab noise: warning: %zu kernels among the bundles; a noise model "
                         "is meant to be measured on one\n", nm.kernels.size());
  if (out.empty()) {
    auto d = default_noise_path(all.bundles[0].dir, nm.host);
    if (!d)
      throw std::invalid_argument("noise: " + printable(all.bundles[0].dir.string()) +
                                  " is not under results/runs/<host>/<kernel>/: give -o FILE");
    out = d->string();
    force = true;  // the host's model is rebuilt in place
  }
  write_output_file(out, nm.to_json().dump(1) + "\n", force, {paths.begin(), paths.end()});
  std::printf("noise model: %s (%zu boots, %zu bundles, %zu metric statistics)\n",
              printable(out).c_str(),
              nm.boots, nm.bundles, nm.metrics.size());
  return 0;
}

}  // namespace kperflab::compare
