// SPDX-License-Identifier: GPL-2.0-only
// `kperflab campaign`: the arguments and the sides from the catalog, then
// analysis/campaign.h says where the campaign stands.
#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <vector>

#include "analysis/campaign.h"
#include "analysis/catalog.h"
#include "cli/cli_args.h"
#include "cli/verbs.h"
#include "results/output_file.h"

namespace kperflab::campaign {

namespace {
std::string read_line(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}
}  // namespace

int campaign_main(const std::vector<std::string>& args) {
  std::vector<std::string> sels;
  std::string runs = "results/runs";
  size_t min_boots = 3;
  compare::Options opt;
  CLI::App app("Where a two-kernel campaign across reboots stands, and what to do next.",
               "kperflab campaign");
  app.add_option("sides", sels, "the two sides as catalog selectors, e.g. tag:base tag:nohz")
      ->required()->expected(2)->type_name("SEL_A SEL_B");
  app.add_option("--runs-dir", runs, "where the catalog looks (default results/runs)")
      ->type_name("DIR");
  app.add_option("--boots", min_boots, "boots per side at the least (default 3)")
      ->check(CLI::Range(2u, 1000u))->type_name("N");
  app.add_flag("--cross-host", opt.cross_host, "allow sides from different hosts");
  app.add_option("--noise", opt.noise, "the host's noise model, or 'none'")->type_name("FILE|none");
  cli::setup(app,
             "Each run of a side is one boot: run, reboot into the other kernel, run, and so\n"
             "on. This says how many boots each side has and needs, and what to do next.\n"
             "Exit: 0 both sides have enough boots, 3 more are needed, 2 error.");
  cli::parse(app, args);
  // Errors are errors (exit 2), never "0 boots": a malformed selector, a
  // missing runs directory or a file given as one. Only a selector that
  // matches nothing yet is a campaign's start.
  for (auto& s : sels) catalog::parse_selector(s);
  catalog::Catalog cat(runs);
  std::vector<compare::SideSource> src(2);
  for (size_t i = 0; i < 2; ++i) {
    src[i].arg = sels[i];
    src[i].selector = true;
    src[i].runs_root = runs;
    for (auto& e : cat.select(sels[i])) src[i].dirs.push_back(cat.root() / e.path);
    src[i].dirs = compare::unique_dirs(std::move(src[i].dirs));
  }
  compare::check_bundle_limit(src, "campaign");
  auto load = [&](const compare::SideSource& s) {
    if (!s.dirs.empty()) return s.load(false);
    compare::Side none;
    none.label = s.arg;
    return none;
  };
  compare::Side a = load(src[0]), b = load(src[1]);
  utsname u{};
  uname(&u);
  State s = assess(sels[0], a, sels[1], b, opt, read_line("/proc/sys/kernel/random/boot_id"),
                   u.release, min_boots);
  write_stdout(text(s));
  return s.done ? 0 : 3;
}

}  // namespace kperflab::campaign
