// SPDX-License-Identifier: GPL-2.0-only
// `kperflab show` (#26): the default screen of a small deterministic bundle
// is byte for byte tests/golden/show-summary.txt (KPERFLAB_UPDATE_GOLDEN=1
// rewrites it): findings before the figures, every line <= 100 columns and
// ASCII; --repetitions keeps the per-repetition listing; --probe one probe.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/histogram.h"
#include "core/probe.h"
#include "results/bundle.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::Histogram;
using kperflab::testing::TmpDir;
using nlohmann::json;

namespace {

constexpr int kReps = 6;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Out {
  int rc = -1;
  std::string out, err;
};

Out show(const std::vector<std::string>& args, const fs::path& tmp) {
  std::string cmd = std::string("timeout -s KILL 60 ") + KPERFLAB_BIN + " show";
  for (auto& a : args) cmd += " '" + a + "'";
  cmd += " >" + (tmp / "out").string() + " 2>" + (tmp / "err").string();
  int st = std::system(cmd.c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(tmp / "out"), slurp(tmp / "err")};
}

json meta() {
  json topo = json::array();
  for (int c = 0; c < 4; ++c)
    topo.push_back({{"cpu", c}, {"online", true}, {"core", c}, {"package", 0}, {"llc", 0},
                    {"node", 0}, {"smt_siblings", json::array({c})}});
  json pf = json::array(
      {{{"severity", "warn"}, {"what", "load"}, {"value", "1.9 over 4 CPUs"},
        {"why", "other work shares the CPUs"}, {"probes", {"p"}}},
       {{"severity", "info"}, {"what", "boost"}, {"value", "unknown"}, {"why", "no cpufreq"},
        {"probes", {"p"}}}});
  return {{"schema", kperflab::kMetaSchema},
          {"status", "complete"},
          {"bundle_id", "golden"},
          {"profile", "standard"},
          {"repetitions", kReps},
          {"started", "2026-12-05T12:00:00Z"},
          {"finished", "2026-12-05T12:05:30Z"},
          {"plan", {{"budget_s", 600}, {"estimated_s", 300}, {"actual_s", 330}}},
          {"suite", {{"version", "0.1.0"}, {"git_sha", "0123456789abcdef"}}},
          {"host", {{"hostname", "h1"}, {"virtualized", true}, {"hypervisor", "kvm"}}},
          {"kernel",
           {{"release", "6.12.0"},
            {"version", "#1 SMP"},
            {"cmdline", "quiet"},
            {"config",
             {{"source", "/proc/config.gz"},
              {"sha256", std::string(64, 'a')},
              {"options", {{"CONFIG_HZ", "250"}}}}},
            {"clocksource", {{"current", "tsc"}}},
            {"thp", {{"enabled", "always"}}}}},
          {"cpu",
           {{"model_name", "Golden CPU"},
            {"online", "0-3"},
            {"online_count", 4},
            {"topology", topo},
            {"smt", {{"control", "off"}}},
            {"frequency", {{"governor", "performance"}}}}},
          {"preflight", {{"sample_ms", 200}, {"findings", pf}, {"busiest", json::array()}}},
          {"noise_check", {{"ran", false}, {"reason", "off"}}},
          {"probes",
           {{"p", {{"status", "complete"}, {"metrics", 1}, {"reason", nullptr}}},
            {"q", {{"status", "skipped"}, {"metrics", 0}, {"reason", "kperflab.ko not loaded"}}}}}};
}

// n samples spread evenly over [lo, lo + width).
Histogram spread(uint64_t lo, uint64_t width, uint64_t n = 200) {
  Histogram h;
  for (uint64_t i = 0; i < n; ++i) h.record(lo + width * i / n);
  return h;
}

json repetition(int r) {
  kperflab::Repetition rep;
  uint64_t d = 10 * static_cast<uint64_t>(r);  // each repetition a little slower
  rep.histogram("op/latency", spread(1000 + d, 1000));
  for (int t = 1; t <= 3; ++t) {
    std::string pt = "targets=" + std::to_string(t);
    rep.histogram("send/" + pt + "/spin/latency", spread(2000 * t + d, 500));
    rep.histogram("send/" + pt + "/spin/delivery", spread(1500 * t + d, 400));
  }
  rep.histogram("solo/callers=1/latency", spread(900 + d, 100));
  rep.histogram("solo/callers=2/latency", spread(4000 + d, 3000));
  // The point ended at its time cap in one repetition (core/point_cap.h).
  rep.scalar("solo/callers=2/check/samples_cut", r == 0 ? 120 : 0, "calls");
  for (int c = 0; c < 4; ++c)
    rep.histogram("send/delivery/cpu=" + std::to_string(c), spread(1000 + 100 * c + d, 50));
  rep.histogram("thin/latency", spread(100, 10, 5));  // under 10 samples: not a headline
  rep.scalar("litmus/private_expedited/before_threads/forbidden", r == 0 ? 1 : 0, "count");
  rep.scalar("litmus/private_expedited/before_threads/forbidden_per_million", r == 0 ? 50 : 0,
             "per_million");
  std::string g = "global_expedited/registered=before_threads/targets=1/spin/";
  rep.scalar(g + "missed_ipi_fraction", 1.0, "ratio");
  rep.scalar(g + "control_private_expedited_ipis_per_call", 0.98, "ratio");
  // The sweep's own GLOBAL_EXPEDITED point misses for the same reason (the
  // probe registers single-threaded): said in the finding above, once.
  rep.scalar("global_expedited/targets=2/spin/missed_ipi_fraction", 1.0, "ratio");
  rep.scalar("send/targets=1/spin/ipis_per_call", 1.0, "ratio");
  rep.scalar("send/targets=2/spin/ipis_per_call", 2.0 - 0.01 * r, "ratio");
  rep.scalar("check/negative_samples", r == 1 ? 2 : 0, "samples");
  rep.scalar("op/rate", 12345.0 + 100 * r, "ops/s");
  // What observing cost (#28): a 10 % bystander slowdown is a finding.
  rep.scalar("effect/bystander/ratio", 0.90 + 0.001 * r, "ratio");
  rep.scalar("effect/bpf/cpu_share", 0.054, "CPUs");
  rep.scalar("effect/bpf/start_id_btf/ns_per_run", 275.0, "ns");
  rep.scalar("effect/bpf/release_id_btf/ns_per_run", 128.0 + r, "ns");
  rep.skip("wide/latency", "half-and-half needs at least 2 target CPUs");
  if (r == 2) rep.extra()["invalid_samples"]["send/targets=1"] = {{"done", 100}, {"failed", 3}};
  rep.extra()["tables"] = json::array(
      {{{"title", "notes"},
        {"columns", {"note"}},
        {"rows", {{"send/targets=" + std::to_string(r % 2 + 1) +
                   "/spin: the spinners ran 97 % of the time (preempted)"},
                  {"global_expedited/targets=2/spin: missed_ipi_fraction 1. GLOBAL_EXPEDITED "
                   "skipped them"}}}}});
  return rep.to_json();
}

fs::path write(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "meta.json") << meta().dump();
  json reps = json::array();
  for (int r = 0; r < kReps; ++r) reps.push_back(repetition(r));
  json p = {{"schema", kperflab::kProbeSchema}, {"probe", "p"}, {"status", "complete"},
            {"reason", nullptr}, {"parameters", {{"n", 1}}}, {"repetitions", reps},
            {"bpf_links_left", 1},
            {"plan", {{"estimated_s", 100}, {"actual_s", 110}, {"budget_s", 120},
                      {"points", 8}, {"repetitions", kReps}, {"sampled", "every other point"}}}};
  std::ofstream(dir / "p.json") << p.dump();
  json q = {{"schema", kperflab::kProbeSchema}, {"probe", "q"}, {"status", "skipped"},
            {"reason", "kperflab.ko not loaded"}, {"parameters", json::object()},
            {"repetitions", json::array()}};
  std::ofstream(dir / "q.json") << q.dump();
  return dir;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(Show, SummaryGolden) {
  TmpDir t;
  fs::path b = write(t.path / "b");
  Out o = show({b.string()}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::string golden = std::string(KPERFLAB_GOLDEN) + "/show-summary.txt";
  if (std::getenv("KPERFLAB_UPDATE_GOLDEN")) std::ofstream(golden) << o.out;
  EXPECT_EQ(o.out, slurp(golden));
  size_t findings = 0, first_probe = 0, n = 0;
  for (auto& l : lines(o.out)) {
    ++n;
    EXPECT_LE(l.size(), 100u) << l;
    for (unsigned char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << l;
    if (!findings && l.rfind("findings:", 0) == 0) findings = n;
    if (!first_probe && l.rfind("== ", 0) == 0) first_probe = n;
  }
  EXPECT_GT(findings, 0u);
  EXPECT_LT(findings, first_probe);
  EXPECT_NE(o.out.find("!! p: litmus/private_expedited/before_threads/forbidden = 1"),
            std::string::npos);
  EXPECT_NE(o.out.find("GLOBAL_EXPEDITED skips registered threads"), std::string::npos);
  // The sweep point's miss is in that finding, not a warning or note of its own.
  EXPECT_NE(o.out.find("in the sweep global_expedited/targets=2/spin missed 100 %"),
            std::string::npos);
  EXPECT_EQ(o.out.find("p: global_expedited/targets=2/spin missed"), std::string::npos);
  EXPECT_EQ(o.out.find("note: global_expedited/targets=2/spin"), std::string::npos);
  EXPECT_NE(o.out.find("q: skipped: kperflab.ko not loaded"), std::string::npos);
  EXPECT_NE(o.out.find("p: 3 IPI calls failed over 6 repetitions"), std::string::npos);
  EXPECT_NE(o.out.find("p: 1 BPF links stayed attached after the probe ended"), std::string::npos);
  EXPECT_NE(o.out.find("p: a bystander process ran 10 % slower while this probe's programs"),
            std::string::npos);
  EXPECT_NE(o.out.find("  probe effect: bystander at 0.903x its rate; our programs 5.4 % of a "
                       "CPU, 130-275 ns a run\n"),
            std::string::npos)
      << o.out;
  EXPECT_EQ(o.out.find("thin/latency"), std::string::npos);
}

TEST(Show, RepetitionsKeepsTheListing) {
  TmpDir t;
  fs::path b = write(t.path / "b");
  Out o = show({b.string(), "--repetitions"}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  for (int r = 0; r < kReps; ++r)
    EXPECT_NE(o.out.find(" repetition " + std::to_string(r) + "\n"), std::string::npos);
  EXPECT_NE(o.out.find("topology  cpu online core package llc node smt_siblings"),
            std::string::npos);
  EXPECT_EQ(o.out.find("findings:"), std::string::npos);
  Out full = show({b.string(), "--full"}, t.path);
  ASSERT_EQ(full.rc, 0) << full.err;
  EXPECT_NE(full.out.find("findings:"), std::string::npos);
  EXPECT_NE(full.out.find(" repetition 5\n"), std::string::npos);
}

// #26: a thread point that ended at its time cap is a note with the
// samples not taken (every note listed with --probe).
TEST(Show, CappedThreadPointsAreANote) {
  TmpDir t;
  fs::path b = write(t.path / "b");
  Out o = show({b.string(), "--probe", "p"}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("p: 1 thread point ended at the time cap (sweep_cap"), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("120 samples not taken, most at solo/callers=2"), std::string::npos);
}

TEST(Show, OneProbe) {
  TmpDir t;
  fs::path b = write(t.path / "b");
  Out o = show({b.string(), "--probe", "q"}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.out.find("== p:"), std::string::npos);
  EXPECT_NE(o.out.find("== q: skipped"), std::string::npos);
  o = show({b.string(), "--probe", "nosuch"}, t.path);
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("show --probe nosuch: not in this bundle (it has: p, q)"),
            std::string::npos) << o.err;
}
