// SPDX-License-Identifier: GPL-2.0-only
// Corrupt and hostile bundles (#12, items 1 and 8), end to end through the
// kperflab binary: `show`, `compare --format html` and `export --csv` exit 2
// with a message naming the file and the field, within a time and an output
// bound, and never echo a control character. The small cases are data,
// tests/data/corrupt/<case>/ (meta.json, maybe p.json, and `expect`: the
// message expected); the large ones (200,000 matrix rows, zlib bombs, the
// per-bundle budgets) are generated here at run time. A valid bundle still
// shows byte for byte as tests/golden/show.txt says.
#include <sys/wait.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/hdr_codec.h"
#include "core/probe.h"
#include "results/bundle.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::Histogram;
using nlohmann::json;

namespace {

using kperflab::testing::TmpDir;

// Generous on a shared 2-vCPU machine; the refusals take well under 1 s.
constexpr double kMaxSeconds = 20;
constexpr uintmax_t kMaxOutput = 4096;  // a refused bundle prints nothing to stdout

struct Outcome {
  int rc = -1;
  std::string err;
  uintmax_t out_bytes = 0;
  double seconds = 0;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& f) {
  std::ifstream in(f);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Outcome run(const std::vector<std::string>& args, const fs::path& tmp) {
  std::string cmd = "timeout -s KILL 120 " + quote(KPERFLAB_BIN);
  for (auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(tmp / "out") + " 2>" + quote(tmp / "err");
  auto t0 = std::chrono::steady_clock::now();
  int st = std::system(cmd.c_str());
  Outcome o;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  o.err = slurp(tmp / "err").substr(0, 65536);
  o.out_bytes = fs::file_size(tmp / "out");
  return o;
}

void expect_refused(const fs::path& bundle, const std::string& expect) {
  TmpDir t;
  const std::string b = bundle.string();
  const std::vector<std::vector<std::string>> commands = {
      {"show", b}, {"compare", "--format", "html", b, b}, {"export", "--csv", b}};
  for (auto& args : commands) {
    SCOPED_TRACE(args[0]);
    Outcome o = run(args, t.path);
    EXPECT_EQ(o.rc, 2) << o.err;
    EXPECT_NE(o.err.find(expect), std::string::npos)
        << "expected: " << expect << "\ngot: " << o.err;
    EXPECT_LT(o.seconds, kMaxSeconds);
    EXPECT_LT(o.out_bytes, kMaxOutput);
    for (char c : o.err) {
      if (c == '\n') continue;
      ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << o.err;
    }
  }
}

// A meta.json with every field the readers use.
json valid_meta() {
  json topo = json::array();
  for (int c = 0; c < 2; ++c)
    topo.push_back({{"cpu", c}, {"online", true}, {"core", c}, {"package", 0}, {"llc", 0},
                    {"node", 0}, {"smt_siblings", json::array({c})}});
  return {{"schema", kperflab::kMetaSchema},
          {"status", "complete"},
          {"bundle_id", "fixture"},
          {"suite", {{"version", "0.1.0"}, {"git_sha", "0123456789abcdef"}}},
          {"host",
           {{"hostname", "h1"},
            {"virtualized", true},
            {"hypervisor", "kvm"},
            {"memory_bytes", 1 << 30}}},
          {"kernel",
           {{"release", "6.12.0"},
            {"version", "#1 SMP"},
            {"cmdline", "quiet"},
            {"config",
             {{"source", "/proc/config.gz"},
              {"sha256", std::string(64, 'a')},
              {"options", {{"CONFIG_HZ", "250"}, {"CONFIG_PREEMPT", nullptr}}}}},
            {"clocksource", {{"current", "tsc"}}},
            {"thp", {{"enabled", "always"}}},
            {"vulnerabilities", {{"meltdown", "Not affected"}, {"mds", "Mitigation"}}}}},
          {"cpu",
           {{"model_name", "Fixture CPU"},
            {"online", "0-1"},
            {"online_count", 2},
            {"topology", topo},
            {"smt", {{"control", "off"}, {"active", false}}},
            {"frequency", {{"governor", "performance"}, {"boost", false}}},
            {"idle", {{"driver", "none"}, {"governor", nullptr}}}}},
          {"probes", {{"p", {{"status", "complete"}}}}}};
}

json probe_doc(std::vector<json> reps) {
  return {{"schema", kperflab::kProbeSchema}, {"probe", "p"}, {"status", "complete"},
          {"reason", nullptr}, {"parameters", {{"n", 1}}}, {"repetitions", std::move(reps)}};
}

fs::path write_bundle(const fs::path& dir, const json& meta, const json& probe) {
  fs::create_directories(dir);
  std::ofstream(dir / "meta.json") << meta.dump();
  std::ofstream(dir / "p.json") << probe.dump();
  return dir;
}

// A histogram metric whose text is `raw` (a V2 buffer, possibly followed by
// padding) deflated: valid for the old decoder whatever the padding.
json bomb_metric(size_t pad) {
  Histogram h;
  h.record(1000);
  kperflab::Repetition rep;
  rep.histogram("x", h);
  json m = rep.to_json()["metrics"]["x"];
  std::string raw = kperflab::hdr::encode(h) + std::string(pad, '\0');
  uLongf n = compressBound(raw.size());
  std::string z(n, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
            raw.size(), 9);
  z.resize(n);
  std::string bin = {'\x1c', '\x84', '\x93', '\x14'};
  for (int s = 24; s >= 0; s -= 8) bin.push_back(static_cast<char>(n >> s));
  m["hist"] = kperflab::hdr::base64_encode(bin + z);
  return m;
}

json metrics_rep(size_t n, const json& m) {
  json metrics = json::object();
  for (size_t i = 0; i < n; ++i) metrics["m" + std::to_string(i) + "/latency"] = m;
  return {{"metrics", metrics}, {"skipped", json::object()}};
}

json matrix_rep(json rows, json cols, json values) {
  return {{"metrics", json::object()}, {"skipped", json::object()},
          {"extra", {{"matrices", json::array({{{"title", "ipi"}, {"unit", "ns"}, {"rows", rows},
                                                {"cols", cols}, {"values", values}}})}}}};
}

}  // namespace

TEST(CorruptBundle, DataCases) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(KPERFLAB_CORRUPT_DIR)) {
    SCOPED_TRACE(e.path().filename().string());
    std::string expect = slurp(e.path() / "expect");
    while (!expect.empty() && expect.back() == '\n') expect.pop_back();
    ASSERT_FALSE(expect.empty());
    expect_refused(e.path(), expect);
    ++n;
  }
  EXPECT_GE(n, 18u);
}

// "A matrix with 200,000 value rows and one column label makes compare
// --format html segfault" and "200,000 row labels make show write 8.5 GB".
TEST(CorruptBundle, HugeMatrices) {
  TmpDir t;
  json values = json::array();
  for (int i = 0; i < 200000; ++i) values.push_back(json::array({1}));
  write_bundle(t.path / "rows", valid_meta(),
               probe_doc({matrix_rep(json::array({0}), json::array({0}), values)}));
  expect_refused(t.path / "rows",
                 "p.json: field 'repetitions[0].extra.matrices[0].values': has 200000 rows, "
                 "'rows' has 1 labels");
  json labels = json::array();
  for (int i = 0; i < 200000; ++i) labels.push_back(i);
  write_bundle(t.path / "labels", valid_meta(),
               probe_doc({matrix_rep(labels, json::array({0}), json::array({{1}}))}));
  expect_refused(t.path / "labels",
                 "p.json: field 'repetitions[0].extra.matrices[0].rows': has 200000 labels, "
                 "at most 4096");
}

// 42 histograms that inflate to 60 MiB each (a valid V2 buffer and zeros).
TEST(CorruptBundle, ZlibBombHistograms) {
  TmpDir t;
  write_bundle(t.path / "b", valid_meta(), probe_doc({metrics_rep(42, bomb_metric(60u << 20))}));
  expect_refused(t.path / "b", "p.json: field 'repetitions[0].metrics.m0/latency.hist': zlib: "
                               "more than");
}

// Each histogram under the per-histogram cap, together past the bundle's.
TEST(CorruptBundle, InflatedBytesBudget) {
  TmpDir t;
  write_bundle(t.path / "b", valid_meta(), probe_doc({metrics_rep(5000, bomb_metric(60000))}));
  expect_refused(t.path / "b",
                 "latency.hist': the bundle's histograms decode to more than 256 MiB");
}

TEST(CorruptBundle, HistogramCountBudget) {
  TmpDir t;
  write_bundle(t.path / "b", valid_meta(),
               probe_doc({metrics_rep(kperflab::limits::kHistograms + 1, bomb_metric(0))}));
  expect_refused(t.path / "b", "latency.hist': the bundle holds more than 100000 histograms");
}

// A path with an escape sequence is echoed escaped (#12, item 11).
TEST(CorruptBundle, ControlCharactersInThePath) {
  TmpDir t;
  json meta = valid_meta();
  meta["cpu"].erase("smt");
  write_bundle(t.path / "bad\x1b[31mdir", meta, probe_doc({}));
  expect_refused(t.path / "bad\x1b[31mdir", "bad\\x1b[31mdir/meta.json: field 'cpu.smt': missing");
}

// The valid fixture: show prints what tests/golden/show.txt holds (made by
// the readers before the checked-access layer), compare and export succeed.
TEST(CorruptBundle, ValidBundleStillReads) {
  TmpDir t;
  Histogram h;
  for (uint64_t v = 100; v < 90000; v += 37) h.record(v);
  kperflab::Repetition rep;
  rep.histogram("a/latency", h);
  rep.scalar("a/rate", 12.5, "1/s");
  rep.skip("b/latency", "EINVAL");
  rep.extra()["tables"] = json::array(
      {{{"title", "sweep"}, {"columns", {"targets", "p50"}}, {"rows", {{1, 1200.5}, {2, "n/a"}}}}});
  rep.extra()["matrices"] = json::array({{{"title", "ipi"},
                                          {"unit", "ns"},
                                          {"rows", {0, 1}},
                                          {"cols", {0, 1}},
                                          {"values", {{nullptr, 2100}, {2300.5, nullptr}}}}});
  fs::path b = write_bundle(t.path / "b", valid_meta(), probe_doc({rep.to_json()}));
  if (const char* keep = std::getenv("KPERFLAB_KEEP_FIXTURE")) fs::copy(b, keep);
  Outcome o = run({"show", b.string(), "--hist"}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::string golden = std::string(KPERFLAB_GOLDEN) + "/show.txt";
  if (std::getenv("KPERFLAB_UPDATE_GOLDEN")) fs::copy_file(t.path / "out", golden,
                                                           fs::copy_options::overwrite_existing);
  EXPECT_EQ(slurp(t.path / "out"), slurp(golden));
  EXPECT_EQ(run({"compare", "--format", "html", b.string(), b.string()}, t.path).rc, 0);
  EXPECT_EQ(run({"export", "--csv", b.string()}, t.path).rc, 0);
}

// Issue #17 (many cores): beyond 16 CPUs, show summarises a CPU x CPU
// matrix by topology distance and a per-CPU metric family in one line;
// --full prints both whole. A 32-CPU fixture: 2 packages on 2 NUMA nodes,
// 8 cores each, SMT2, one LLC per package; values by distance.
TEST(ShowManyCpus, SummarisedByTopologyDistance) {
  TmpDir t;
  json meta = valid_meta();
  json topo = json::array();
  auto pkg = [](int c) { return c / 16; };
  for (int c = 0; c < 32; ++c) {
    int sib = c % 2 ? c - 1 : c + 1;
    topo.push_back({{"cpu", c}, {"online", true}, {"core", c / 2}, {"package", pkg(c)},
                    {"llc", pkg(c)}, {"node", pkg(c)}, {"smt_siblings", json::array({std::min(c, sib), std::max(c, sib)})}});
  }
  meta["cpu"]["topology"] = topo;
  meta["cpu"]["online"] = "0-31";
  meta["cpu"]["online_count"] = 32;
  json ids = json::array(), values = json::array();
  for (int a = 0; a < 32; ++a) {
    ids.push_back(a);
    json row = json::array();
    for (int b = 0; b < 32; ++b) {
      if (a == b) row.push_back(nullptr);
      else if (a / 2 == b / 2) row.push_back(1000);  // smt
      else if (pkg(a) == pkg(b)) row.push_back(2000 + b);  // llc
      else row.push_back(a == 3 && b == 30 ? 9000 : 5000);  // numa
    }
    values.push_back(row);
  }
  kperflab::Repetition rep;
  Histogram h;
  for (uint64_t v = 100; v < 200; ++v) h.record(v);
  for (int c = 0; c < 32; ++c) {
    Histogram hc;
    for (uint64_t v = 0; v < 50; ++v) hc.record(1000 + 10 * c + v);
    rep.histogram("p/delivery/cpu=" + std::to_string(c), hc);
  }
  rep.histogram("p/latency", h);
  rep.extra()["matrices"] = json::array(
      {{{"title", "ipi"}, {"unit", "ns"}, {"rows", ids}, {"cols", ids}, {"values", values}}});
  fs::path b = write_bundle(t.path / "b", meta, probe_doc({rep.to_json()}));
  Outcome o = run({"show", b.string()}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::string out = slurp(t.path / "out");
  EXPECT_NE(out.find("ipi (32 x 32 CPUs, by topology distance; --full prints it whole)"),
            std::string::npos) << out;
  EXPECT_NE(out.find("    smt             32     1.00us     1.00us     1.00us"), std::string::npos) << out;
  EXPECT_NE(out.find("    numa           512     5.00us     5.00us     9.00us"), std::string::npos) << out;
  EXPECT_NE(out.find("    llc            448     2.00us"), std::string::npos) << out;
  EXPECT_NE(out.find("slowest: 3->30 9.00us, 0->16 5.00us, 0->17 5.00us"), std::string::npos) << out;
  EXPECT_NE(out.find("topology  32 CPUs (32 online): 2 packages, 2 nodes, 2 LLCs, 16 cores, SMT2"),
            std::string::npos) << out;
  EXPECT_NE(out.find("p/delivery/cpu=*"), std::string::npos) << out;
  EXPECT_NE(out.find("32 CPUs, p50 min"), std::string::npos) << out;
  EXPECT_NE(out.find("(cpu 31)"), std::string::npos) << out;
  EXPECT_EQ(out.find("p/delivery/cpu=7 "), std::string::npos) << "a per-CPU row printed";
  EXPECT_NE(out.find("p/latency"), std::string::npos);
  o = run({"show", "--full", b.string()}, t.path);
  ASSERT_EQ(o.rc, 0) << o.err;
  out = slurp(t.path / "out");
  EXPECT_NE(out.find("p/delivery/cpu=7 "), std::string::npos);
  EXPECT_EQ(out.find("by topology distance"), std::string::npos);
  EXPECT_NE(out.find("(rows: source CPU, columns: target CPU)"), std::string::npos);
  EXPECT_NE(out.find("topology  cpu online core package llc node smt_siblings"), std::string::npos);
}
