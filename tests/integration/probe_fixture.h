// SPDX-License-Identifier: GPL-2.0-only
// Runs `kperflab run --probe P` once per test binary into a temporary
// bundle and loads it (validated) for the tests to inspect.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "results/bundle.h"

namespace kperflab::testing {

inline std::string run_probe_bundle(const std::string& probe, const std::string& extra) {
  char tmpl[] = "/tmp/kperflab-it-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string out = dir + "/bundle";
  std::string cmd = std::string(KPERFLAB_BIN) + " run --probe " + probe + " --out " + out + " " +
                    extra + " > " + dir + "/log 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::string log = "cat " + dir + "/log";
    std::system(log.c_str());
    ADD_FAILURE() << cmd << " exited " << rc;
  }
  return out;
}

// Exits 77 (ctest SKIP) with the reason when the host cannot run the test.
inline void require_root_bpf() {
  if (geteuid() != 0) {
    std::printf("SKIP: needs root (BPF programs and pinned threads)\n");
    std::exit(77);
  }
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    std::printf("SKIP: no kernel BTF (/sys/kernel/btf/vmlinux)\n");
    std::exit(77);
  }
}

// The probe's document in a bundle of `kperflab run --probe PROBE ARGS`,
// measured once per process and argument string and shared by the tests; a
// probe this host skipped exits 77 (ctest SKIP) with the probe's reason.
inline const nlohmann::json& probe_doc(const std::string& probe, const std::string& args) {
  static std::map<std::string, Bundle> bundles;
  const std::string key = probe + " " + args;
  auto it = bundles.find(key);
  if (it == bundles.end()) {
    require_root_bpf();
    it = bundles.emplace(key, Bundle::load(run_probe_bundle(probe, args))).first;
  }
  const nlohmann::json& d = it->second.probes.at(probe);
  if (d["status"] == "skipped") {
    std::printf("SKIP: %s\n", d["reason"].get<std::string>().c_str());
    std::exit(77);
  }
  return d;
}

}  // namespace kperflab::testing
