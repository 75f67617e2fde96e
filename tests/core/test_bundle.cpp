// SPDX-License-Identifier: GPL-2.0-only
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/probe.h"
#include "results/bundle.h"
#include "results/date_time.h"
#include "tests/common/tmpdir.h"
#include "core/codec.h"

namespace fs = std::filesystem;
using kperflab::Bundle;
using kperflab::BundleError;
using kperflab::BundleWriter;
using nlohmann::json;

namespace {

using kperflab::testing::TmpDir;

json minimal_meta() {
  return {{"schema", kperflab::kMetaSchema},
          {"suite", {{"version", "0"}, {"git_sha", "abc"}}},
          {"host", {{"hostname", "h1"}}},
          {"kernel", {{"release", "6.18.0"}, {"version", "#1"}, {"config", nullptr},
                      {"clocksource", {{"current", "tsc"}}}, {"thp", {{"enabled", nullptr}}}}},
          {"cpu", {{"topology", json::array({{{"cpu", 0}, {"online", true}, {"core", 0},
                                              {"package", 0}, {"llc", 0}, {"node", 0},
                                              {"smt_siblings", json::array({0})}}})},
                   {"smt", {{"control", nullptr}}}, {"frequency", {{"governor", nullptr}}}}},
          {"probes", json::object()}};
}

json probe_doc() {
  kperflab::Histogram h;
  for (uint64_t v = 1; v < 5000; v += 7) h.record(v);
  kperflab::Repetition rep;
  rep.histogram("a/latency", h);
  rep.scalar("a/rate", 12.5, "1/s");
  rep.skip("b/latency", "EINVAL");
  return {{"schema", kperflab::kProbeSchema}, {"probe", "p"}, {"status", "complete"},
          {"reason", nullptr}, {"parameters", json::object()},
          {"repetitions", json::array({rep.to_json()})}};
}

std::string error_of(const fs::path& dir) {
  try {
    Bundle::load(dir);
  } catch (const BundleError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Bundle, WriteLoadRoundTrip) {
  TmpDir t;
  BundleWriter w(t.path, minimal_meta());
  EXPECT_EQ(w.dir().parent_path().parent_path().filename(), "h1");
  EXPECT_EQ(w.dir().parent_path().filename(), "6.18.0");
  // Partial and readable right after creation.
  EXPECT_EQ(Bundle::load(w.dir()).meta["status"], "partial");
  w.write_json("p.json", probe_doc());
  w.meta()["probes"]["p"] = {{"status", "complete"}};
  w.finish(true);
  Bundle b = Bundle::load(w.dir());
  EXPECT_EQ(b.meta["status"], "complete");
  ASSERT_EQ(b.probes.count("p"), 1u);
  auto& m = b.probes["p"]["repetitions"][0]["metrics"]["a/latency"];
  EXPECT_EQ(m["count"], 715);  // 1, 8, ..., 4999
  EXPECT_EQ(b.probes["p"]["repetitions"][0]["skipped"]["b/latency"], "EINVAL");
  for (auto& e : fs::directory_iterator(w.dir()))
    EXPECT_NE(e.path().filename().string()[0], '.') << "temporary file left: " << e.path();
}

TEST(Bundle, ExactOutRefusesNonEmpty) {
  TmpDir t;
  fs::create_directories(t.path / "out");
  std::ofstream(t.path / "out" / "x") << "x";
  EXPECT_THROW(BundleWriter(t.path / "out", minimal_meta(), true), std::invalid_argument);
  BundleWriter ok(t.path / "fresh", minimal_meta(), true);
  EXPECT_EQ(ok.dir(), t.path / "fresh");
}

// --out edge cases (#12, item 6): a trailing slash names the directory; an
// empty path, an existing file and a racing second run are refused clearly,
// and no hidden temporary directory is left behind.
TEST(Bundle, ExactOutEdgeCases) {
  TmpDir t;
  BundleWriter slash(fs::path(t.path.string() + "/slash/"), minimal_meta(), true);
  EXPECT_EQ(slash.dir(), t.path / "slash");
  EXPECT_TRUE(fs::exists(t.path / "slash" / "meta.json"));
  EXPECT_THROW(BundleWriter(fs::path(""), minimal_meta(), true), std::invalid_argument);
  std::ofstream(t.path / "file") << "x";
  EXPECT_THROW(BundleWriter(t.path / "file", minimal_meta(), true), std::invalid_argument);
  // The same --out again: refused, with the existing bundle intact.
  EXPECT_THROW(BundleWriter(t.path / "slash", minimal_meta(), true), std::invalid_argument);
  EXPECT_TRUE(fs::exists(t.path / "slash" / "meta.json"));
  // A parent that cannot be created: a message, not a raw filesystem error.
  try {
    BundleWriter(t.path / "file" / "sub", minimal_meta(), true);
    ADD_FAILURE() << "a bundle under a regular file";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the bundle"), std::string::npos)
        << e.what();
  }
  for (auto& e : fs::directory_iterator(t.path))
    EXPECT_NE(e.path().filename().string()[0], '.') << "left behind: " << e.path();
}

TEST(Bundle, CorruptFilesNameFileAndField) {
  TmpDir t;
  BundleWriter w(t.path, minimal_meta());
  auto doc = probe_doc();
  w.meta()["probes"]["p"] = {{"status", "complete"}};
  w.finish(true);

  w.write_json("p.json", doc);
  EXPECT_EQ(error_of(w.dir()), "");

  auto bad = doc;
  bad["repetitions"][0]["metrics"]["a/latency"]["hist"] = "!!notbase64";
  w.write_json("p.json", bad);
  EXPECT_NE(error_of(w.dir()).find("p.json: field 'repetitions[0].metrics.a/latency.hist'"),
            std::string::npos)
      << error_of(w.dir());

  bad = doc;
  bad["repetitions"][0]["metrics"]["a/latency"]["count"] = 3;
  w.write_json("p.json", bad);
  EXPECT_NE(error_of(w.dir()).find("metrics.a/latency.count"), std::string::npos);

  // Negative counts and quantiles that the histogram does not say (#12).
  bad = doc;
  bad["repetitions"][0]["metrics"]["a/latency"]["overflow"] = -1;
  w.write_json("p.json", bad);
  EXPECT_NE(error_of(w.dir()).find("a/latency.overflow': must be a non-negative integer"),
            std::string::npos)
      << error_of(w.dir());
  bad = doc;
  bad["repetitions"][0]["metrics"]["a/latency"]["p99"] =
      bad["repetitions"][0]["metrics"]["a/latency"]["p99"].get<uint64_t>() + 1000;
  w.write_json("p.json", bad);
  EXPECT_NE(error_of(w.dir()).find("a/latency.p99': is"), std::string::npos) << error_of(w.dir());

  bad = doc;
  bad["schema"] = "kperflab.probe/9";
  w.write_json("p.json", bad);
  EXPECT_NE(error_of(w.dir()).find("field 'schema'"), std::string::npos);

  w.write_file("p.json", "{\"schema\": ");
  EXPECT_NE(error_of(w.dir()).find("not valid JSON"), std::string::npos);

  fs::remove(w.dir() / "p.json");
  EXPECT_NE(error_of(w.dir()).find("missing"), std::string::npos);

  auto meta = w.meta();
  meta["status"] = "done";
  w.write_json("meta.json", meta);
  EXPECT_NE(error_of(w.dir()).find("meta.json: field 'status'"), std::string::npos);
  meta = w.meta();
  meta["cpu"].erase("topology");
  w.write_json("meta.json", meta);
  EXPECT_NE(error_of(w.dir()).find("field 'cpu.topology': missing"), std::string::npos);
}

// meta.json "started"/"finished" are RFC 3339 date-times that exist
// (#25, item 12): "2026-02-30T24:00:61Z" became 523 invalid KCIDB
// start_times. Refused on load, naming file and field; real ones load.
TEST(Bundle, TimesAreRealRfc3339DateTimes) {
  TmpDir t;
  BundleWriter w(t.path, minimal_meta());
  w.meta()["started"] = "2026-02-28T23:59:59Z";
  w.finish(true);
  EXPECT_EQ(error_of(w.dir()), "");
  const std::pair<const char*, const char*> bad[] = {
      {"2026-02-30T24:00:61Z", "has day 30 in month 2 of 2026"},
      {"2026-02-29T00:00:00Z", "has day 29 in month 2 of 2026"},
      {"2026-13-01T00:00:00Z", "has month 13"},
      {"2026-01-01T24:00:00Z", "has hour 24"},
      {"2026-01-01T12:60:00Z", "has minute 60"},
      {"2026-01-01T12:00:61Z", "has second 61"},
      {"2026-06-30T12:00:60Z", "has second 60 outside a leap second"},
      {"2026-01-01T00:00:00", "is not an RFC 3339 date-time"},
      {"2026-01-01 00:00:00Z", "is not an RFC 3339 date-time"},
      {"2026-01-01T00:00:00.Z", "is not an RFC 3339 date-time"},
      {"2026-01-01T00:00:00+24:00", "has an offset beyond"},
      {"", "is not an RFC 3339 date-time"}};
  for (const char* field : {"started", "finished"}) {
    for (auto [value, why] : bad) {
      SCOPED_TRACE(value);
      auto meta = w.meta();
      meta[field] = value;
      w.write_json("meta.json", meta);
      std::string want = std::string("meta.json: field '") + field + "': '" + value + "' " + why;
      EXPECT_NE(error_of(w.dir()).find(want), std::string::npos) << error_of(w.dir());
    }
  }
  for (const char* ok : {"2024-02-29T00:00:00Z", "2016-12-31T23:59:60Z",
                         "2017-01-01T00:59:60+01:00", "2026-02-28t23:59:59.123456z",
                         "2026-07-01T08:00:00-07:00"}) {
    auto meta = w.meta();
    meta["started"] = ok;
    w.write_json("meta.json", meta);
    EXPECT_EQ(error_of(w.dir()), "") << ok;
    EXPECT_TRUE(kperflab::is_date_time(ok)) << ok;
  }
}

// Hostile bundles: a probe name that walks out of the bundle, meta.json as a
// FIFO or a symlink to /dev/zero (would block or read forever).
TEST(Bundle, RefusesTraversalAndNonRegularFiles) {
  TmpDir t;
  BundleWriter w(t.path, minimal_meta());
  w.meta()["probes"]["p"] = {{"status", "complete"}};
  w.finish(true);
  w.write_json("p.json", probe_doc());
  ASSERT_EQ(error_of(w.dir()), "");

  auto meta = w.meta();
  meta["probes"]["../evil"] = {{"status", "complete"}};
  w.write_json("meta.json", meta);
  EXPECT_NE(error_of(w.dir()).find("probe name is not"), std::string::npos) << error_of(w.dir());

  fs::remove(w.dir() / "meta.json");
  fs::create_symlink("/dev/zero", w.dir() / "meta.json");
  EXPECT_NE(error_of(w.dir()).find("meta.json: not a regular file"), std::string::npos)
      << error_of(w.dir());
  fs::remove(w.dir() / "meta.json");
  ASSERT_EQ(mkfifo((w.dir() / "meta.json").c_str(), 0600), 0);
  EXPECT_NE(error_of(w.dir()).find("not a regular file"), std::string::npos);
}

TEST(Bundle, GzipAndSha256) {
  std::string text(100000, 'x');
  text += "CONFIG_HZ=1000\n";
  EXPECT_EQ(kperflab::gzip_decompress(kperflab::gzip_compress(text)), text);
  EXPECT_THROW(kperflab::gzip_decompress("not gzip"), std::runtime_error);
  // FIPS 180-2 test vectors.
  EXPECT_EQ(kperflab::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(kperflab::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(kperflab::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Repetition, RefusesDuplicateMetric) {
  kperflab::Repetition r;
  r.scalar("x", 1, "count");
  EXPECT_THROW(r.scalar("x", 2, "count"), std::logic_error);
  EXPECT_THROW(r.skip("x", "why"), std::logic_error);
}
