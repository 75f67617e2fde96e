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

// #28: a probe that attaches programs records what observing cost, in the
// first repetition: the bystander's rates and ratio (or a skip naming why),
// and its programs' run time (or a skip of effect/bpf naming why, e.g. a
// kernel without BPF_ENABLE_STATS); some of ours must have run.
inline void expect_probe_effect(const nlohmann::json& doc) {
  const nlohmann::json& rep = doc["repetitions"][0];
  const nlohmann::json& m = rep["metrics"];
  const nlohmann::json& sk = rep["skipped"];
  if (sk.contains("effect/bystander")) {
    std::printf("bystander skipped: %s\n", sk["effect/bystander"].dump().c_str());
  } else {
    ASSERT_TRUE(m.contains("effect/bystander/ratio")) << "no bystander ratio; skipped: " << sk.dump();
    double r = m["effect/bystander/ratio"].value("value", -1.0);
    double off = m["effect/bystander/rounds_per_s_detached"].value("value", -1.0);
    std::printf("bystander: %.3fx (%.0f rounds/s detached)\n", r, off);
    EXPECT_GT(off, 0);
    EXPECT_GT(r, 0.2) << "a bystander 5x slower while armed";
    EXPECT_TRUE(m["effect/bystander/ratio"]["labels"].contains("noise"));
  }
  if (sk.contains("effect/bpf")) {
    std::printf("program costs skipped: %s\n", sk["effect/bpf"].dump().c_str());
    return;
  }
  ASSERT_TRUE(m.contains("effect/bpf/cpu_share")) << "no program cost; skipped: " << sk.dump();
  size_t progs = 0;
  for (auto& [name, v] : m.items())
    if (const std::string tail = "/ns_per_run";
        name.rfind("effect/bpf/", 0) == 0 && name.size() > tail.size() &&
        name.compare(name.size() - tail.size(), tail.size(), tail) == 0) {
      ++progs;
      EXPECT_GT(v.value("value", -1.0), 0) << name;
    }
  EXPECT_GT(progs, 0u) << "no program of ours ran during the points";
}

}  // namespace kperflab::testing
