// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>

#include "core/plan.h"
#include "results/bundle.h"
#include "cli/runner.h"
#include "tests/common/tmpdir.h"
#include "host/sysinfo.h"

namespace fs = std::filesystem;

using kperflab::parse_run_args;

TEST(RunArgs, Parses) {
  auto o = parse_run_args({"--probe", "membarrier", "-p", "ipi", "--profile", "lab", "--repeat",
                           "5", "--out", "/tmp/x", "--set", "membarrier.iterations=100"});
  EXPECT_EQ(o.probes, (std::vector<std::string>{"membarrier", "ipi"}));
  EXPECT_EQ(o.profile, kperflab::Profile::lab);
  EXPECT_EQ(o.repeat, 5u);
  ASSERT_TRUE(o.out);
  EXPECT_EQ(o.out->string(), "/tmp/x");
  ASSERT_EQ(o.sets.size(), 1u);
  EXPECT_EQ(o.sets[0].first, "membarrier.iterations");
}

// Without --repeat, the profile's repetitions: enough for compare to flag a
// change confined to one metric (10 v 10: smallest exact p 1.1e-5).
TEST(RunArgs, RepetitionsDefaultToTheProfiles) {
  EXPECT_EQ(parse_run_args({}).repeat, 10u);
  EXPECT_EQ(parse_run_args({"--profile", "standard"}).repeat, 10u);
  EXPECT_EQ(parse_run_args({"--profile", "full"}).repeat, 20u);
  EXPECT_EQ(parse_run_args({"--profile", "lab"}).repeat, 1u);
  EXPECT_EQ(parse_run_args({"--profile", "full", "--repeat", "3"}).repeat, 3u);
}

TEST(RunArgs, BadInputNamesTheProblem) {
  auto msg = [](std::vector<std::string> a) {
    try {
      parse_run_args(a);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg({"--repeat", "0"}).find("--repeat"), std::string::npos);
  EXPECT_NE(msg({"--repeat", "3x"}).find("3x"), std::string::npos);
  EXPECT_NE(msg({"--profile", "fast"}).find("fast"), std::string::npos);
  EXPECT_NE(msg({"--probe"}).find("--probe"), std::string::npos);  // CLI11: "1 required ... missing"
  EXPECT_NE(msg({"--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(msg({"--set", "novalue"}).find("PROBE.KEY=VALUE"), std::string::npos);
}

// ---- the plan (#26, core/plan.h) -------------------------------------------

namespace {

using kperflab::HostInfo;
using kperflab::Probe;
using kperflab::Profile;
using nlohmann::json;

// A probe whose cost is its parameters: `width` sweep points of `point_s`
// seconds a repetition, `check_s` of method checks; cheaper() halves width.
class FakeProbe : public Probe {
 public:
  FakeProbe(std::string name, unsigned width, double point_s, double check_s, double weight = 1)
      : name_(std::move(name)), width_(width), point_s_(point_s), check_s_(check_s),
        weight_(weight) {}
  std::string_view name() const override { return name_; }
  std::string_view summary() const override { return "fake"; }
  kperflab::Availability check(const HostInfo&) const override {
    return runnable ? kperflab::Availability::yes() : kperflab::Availability::no("not here");
  }
  json parameters(Profile, const HostInfo&) const override {
    return {{"width", width_}, {"point_s", point_s_}};
  }
  kperflab::ParamSpecs param_specs(unsigned) const override {
    return {kperflab::ParamSpec::integer("width", 1, 1000, "points"),
            kperflab::ParamSpec::number("point_s", 0, 1000, "seconds a point")};
  }
  double estimate_seconds(const json& p) const override {
    return p["width"].get<double>() * p["point_s"].get<double>();
  }
  double estimate_checks_seconds(const json&) const override { return check_s_; }
  unsigned points(const json& p, const HostInfo&) const override { return p["width"]; }
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    if (p["width"].get<unsigned>() <= min_width) return std::nullopt;
    json c = p;
    c["width"] = std::max(min_width, p["width"].get<unsigned>() / 2);
    return c;
  }
  double budget_weight() const override { return weight_; }
  // Wide sweeps need consent here (as mmap_lock on memcg_path kernels).
  std::string refused(const json& p, const HostInfo&) const override {
    return p["width"].get<unsigned>() > 500 ? "too wide without consent" : "";
  }
  std::unique_ptr<kperflab::ProbeSession> prepare(kperflab::RunContext&, const json&) override {
    return nullptr;
  }
  bool runnable = true;
  unsigned min_width = 1;

 private:
  std::string name_;
  unsigned width_;
  double point_s_, check_s_, weight_;
};

const HostInfo& host() {
  static HostInfo h = kperflab::collect_host_info();
  return h;
}

kperflab::PlanRequest request(Profile p, double budget_s) {
  kperflab::PlanRequest r;
  r.profile = p;
  r.budget_s = budget_s;
  return r;
}

}  // namespace

TEST(Plan, ProfilesHaveBudgetsFullAndLabNone) {
  EXPECT_LE(*kperflab::profile_budget_s(Profile::quick), 180.0);
  EXPECT_LE(*kperflab::profile_budget_s(Profile::standard), 600.0);
  EXPECT_FALSE(kperflab::profile_budget_s(Profile::full));
  EXPECT_FALSE(kperflab::profile_budget_s(Profile::lab));
}

// Shares follow the weights; a probe under its share gives the rest to the
// others; the method checks count once (first repetition), not per repetition.
TEST(Plan, BudgetSplitByWeightAndWaterFilled) {
  FakeProbe small("small", 1, 1, 0, 1), a("a", 100, 1, 5, 1), b("b", 100, 1, 5, 3);
  FakeProbe off("off", 1, 1, 0, 100);
  off.runnable = false;  // takes no share
  auto plan = kperflab::make_plan({&small, &a, &b, &off}, host(), request(Profile::quick, 410));
  const auto* ps = plan.find("small");
  const auto* pa = plan.find("a");
  const auto* pb = plan.find("b");
  ASSERT_TRUE(ps && pa && pb);
  EXPECT_DOUBLE_EQ(ps->estimated_s, 10);  // 10 repetitions of 1 s, no checks
  EXPECT_DOUBLE_EQ(*ps->budget_s, 10);
  // 400 s left for a and b, 1:3.
  EXPECT_DOUBLE_EQ(*pa->budget_s, 100);
  EXPECT_DOUBLE_EQ(*pb->budget_s, 300);
  EXPECT_LE(pa->estimated_s, 100);
  EXPECT_LE(pb->estimated_s, 300);
  EXPECT_EQ(pa->check_repetitions, 1u);
  EXPECT_DOUBLE_EQ(pb->estimated_s, 25.0 * 10 + 5);  // width 100 -> 50 -> 25
  EXPECT_FALSE(plan.find("off")->runnable);
  EXPECT_LE(plan.estimated_s, 410);
}

// Over its share: sweeps are cut first (cheaper()), repetitions only when
// nothing is left to cut, and never below kMinPlannedRepetitions.
TEST(Plan, OverItsShareGetsFewerPointsThenRepetitions) {
  FakeProbe p("p", 64, 1, 0);
  p.min_width = 8;
  auto plan = kperflab::make_plan({&p}, host(), request(Profile::standard, 200));
  const auto& pp = plan.probes[0];
  EXPECT_EQ(pp.params["width"], 16);  // 160 s at 10 repetitions
  EXPECT_EQ(pp.points, 16u);
  EXPECT_EQ(pp.repetitions, 10u);
  ASSERT_FALSE(pp.cuts.empty());
  EXPECT_NE(pp.cuts[0].find("width 64 -> 16"), std::string::npos) << pp.cuts[0];

  plan = kperflab::make_plan({&p}, host(), request(Profile::standard, 70));
  EXPECT_EQ(plan.probes[0].params["width"], 8);
  EXPECT_EQ(plan.probes[0].repetitions, 8u);  // 8 x 8 s = 64 s <= 70
  plan = kperflab::make_plan({&p}, host(), request(Profile::standard, 10));
  EXPECT_EQ(plan.probes[0].repetitions, kperflab::kMinPlannedRepetitions);
  EXPECT_NE(kperflab::format_plan(plan).find("over its share"), std::string::npos);
}

// --repeat and --set override the plan: the probe runs as asked, the plan
// says so, and the rest of the budget goes to the others.
TEST(Plan, RepeatAndSetOverrideThePlan) {
  FakeProbe p("p", 64, 1, 0), q("q", 64, 1, 0);
  auto req = request(Profile::standard, 100);
  req.sets = {{"p", {{"width", 40}}}};
  auto plan = kperflab::make_plan({&p, &q}, host(), req);
  EXPECT_EQ(plan.find("p")->params["width"], 40);
  EXPECT_EQ(plan.find("p")->repetitions, 10u);
  EXPECT_EQ(plan.find("p")->overridden, "--set");
  EXPECT_TRUE(plan.find("p")->cuts.empty());
  EXPECT_TRUE(plan.find("q")->overridden.empty());
  EXPECT_NE(kperflab::format_plan(plan).find("budget overridden by --set"), std::string::npos);

  req = request(Profile::standard, 100);
  req.repeat = 3;
  plan = kperflab::make_plan({&p, &q}, host(), req);
  for (auto& pp : plan.probes) {
    EXPECT_EQ(pp.repetitions, 3u);
    EXPECT_EQ(pp.params["width"], 64);
    EXPECT_EQ(pp.overridden, "--repeat 3");
  }
  // No budget (full, lab): estimated only, nothing cut.
  req = kperflab::PlanRequest{};
  req.profile = Profile::full;
  req.checks_every = true;
  plan = kperflab::make_plan({&p}, host(), req);
  EXPECT_FALSE(plan.budget_s);
  EXPECT_EQ(plan.probes[0].repetitions, 20u);
  EXPECT_EQ(plan.probes[0].check_repetitions, 20u);
  EXPECT_DOUBLE_EQ(plan.estimated_s, 64.0 * 20);
}

// #28: a probe that would tax the host runs only with consent: skipped
// with its reason, no repetitions, nothing estimated; --set changes it.
TEST(Plan, RefusedWithoutConsentIsSkippedWithTheReason) {
  FakeProbe p("p", 64, 1, 0), wide("wide", 600, 0.01, 0);
  auto plan = kperflab::make_plan({&p, &wide}, host(), request(Profile::standard, 100));
  const auto* w = plan.find("wide");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->runnable);
  EXPECT_EQ(w->reason, "too wide without consent");
  EXPECT_EQ(w->repetitions, 0u);
  EXPECT_TRUE(plan.find("p")->runnable);
  EXPECT_NE(kperflab::format_plan(plan).find("wide: skipped: too wide without consent"),
            std::string::npos)
      << kperflab::format_plan(plan);
  auto req = request(Profile::standard, 100);
  req.sets = {{"wide", {{"width", 400}}}};
  plan = kperflab::make_plan({&wide}, host(), req);
  EXPECT_TRUE(plan.find("wide")->runnable);
  EXPECT_TRUE(plan.find("wide")->reason.empty());
}

TEST(Plan, BundleFieldsValidate) {
  FakeProbe p("p", 4, 1, 2);
  p.min_width = 4;
  auto plan = kperflab::make_plan({&p}, host(), request(Profile::quick, 10));
  json pj = kperflab::probe_plan_json(plan.probes[0], 12.5);
  EXPECT_EQ(pj["points"], 4);
  EXPECT_EQ(pj["repetitions"], kperflab::kMinPlannedRepetitions);
  EXPECT_DOUBLE_EQ(pj["actual_s"].get<double>(), 12.5);
  json mj = kperflab::run_plan_json(plan, 13);
  EXPECT_EQ(mj["budget_s"], 10.0);

  kperflab::RunOptions opt;
  // As a reader sees it: parsed from the file (non-negative numbers unsigned).
  json meta = json::parse(kperflab::make_meta(host(), opt).dump());
  json doc = {{"schema", kperflab::kProbeSchema}, {"probe", "p"}, {"status", "complete"},
              {"reason", nullptr}, {"parameters", json::object()},
              {"repetitions", json::array()}};
  // Absent (bundles older than #26) and present are both good.
  EXPECT_NO_THROW(kperflab::validate_meta(meta, "meta.json"));
  EXPECT_NO_THROW(kperflab::validate_probe(doc, "p.json"));
  meta["plan"] = json::parse(mj.dump());
  doc["plan"] = json::parse(pj.dump());
  EXPECT_NO_THROW(kperflab::validate_meta(meta, "meta.json"));
  EXPECT_NO_THROW(kperflab::validate_probe(doc, "p.json"));
  meta["plan"]["budget_s"] = nullptr;  // a profile without a budget
  EXPECT_NO_THROW(kperflab::validate_meta(meta, "meta.json"));
  doc["plan"]["sampled"] = "64 of 4032 CPU pairs";
  EXPECT_NO_THROW(kperflab::validate_probe(doc, "p.json"));

  auto error = [](auto f) {
    try {
      f();
    } catch (const kperflab::BundleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json bad = meta;
  bad["plan"]["actual_s"] = "12 s";
  std::string m = error([&] { kperflab::validate_meta(bad, "/b/meta.json"); });
  EXPECT_NE(m.find("/b/meta.json"), std::string::npos) << m;
  EXPECT_NE(m.find("plan.actual_s"), std::string::npos) << m;
  bad = meta;
  bad["plan"].erase("estimated_s");
  m = error([&] { kperflab::validate_meta(bad, "/b/meta.json"); });
  EXPECT_NE(m.find("plan.estimated_s"), std::string::npos) << m;
  json bad_doc = doc;
  bad_doc["plan"]["points"] = 2.5;
  m = error([&] { kperflab::validate_probe(bad_doc, "/b/p.json"); });
  EXPECT_NE(m.find("/b/p.json"), std::string::npos) << m;
  EXPECT_NE(m.find("plan.points"), std::string::npos) << m;
  bad_doc = doc;
  bad_doc["plan"]["sampled"] = 3;
  m = error([&] { kperflab::validate_probe(bad_doc, "/b/p.json"); });
  EXPECT_NE(m.find("plan.sampled"), std::string::npos) << m;
  bad_doc = doc;
  bad_doc["plan"] = "fast";
  m = error([&] { kperflab::validate_probe(bad_doc, "/b/p.json"); });
  EXPECT_NE(m.find("plan"), std::string::npos) << m;
}

// `run` prints the plan before the first measurement: the plan's lines come
// before the probe's first progress line. Runs the kperflab next to this
// test's build (a cheap find_vma point); SKIPs when it is not there.
TEST(Plan, RunPrintsThePlanBeforeMeasuring) {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path kperflab;
  for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
    if (fs::exists(d / "kperflab") && fs::is_regular_file(d / "kperflab")) {
      kperflab = d / "kperflab";
      break;
    }
  if (kperflab.empty()) GTEST_SKIP() << "no kperflab binary above " << exe;
  kperflab::testing::TmpDir t;
  auto run = [&](const std::string& args) {
    std::string cmd = kperflab.string() + " run --probe find_vma --profile quick " + args +
                      " > " + (t.path / "out").string() + " 2> " + (t.path / "err").string();
    int rc = std::system(cmd.c_str());
    std::ifstream f(t.path / "err");
    return std::make_pair(rc, std::string((std::istreambuf_iterator<char>(f)), {}));
  };
  // --plan: the plan alone, nothing measured, no bundle.
  auto [rc, err] = run("--plan --out " + (t.path / "b0").string());
  EXPECT_EQ(rc, 0) << err;
  EXPECT_NE(err.find("plan, profile quick, budget"), std::string::npos) << err;
  EXPECT_NE(err.find("find_vma"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(t.path / "b0"));
  std::tie(rc, err) = run("--repeat 1 --set find_vma.duration_ms=50 --set 'find_vma.writer_rates=[0]' "
                          "--out " + (t.path / "b1").string());
  size_t plan = err.find("kperflab run: plan, profile quick");
  size_t first = err.find("[kperflab] find_vma:");
  ASSERT_NE(plan, std::string::npos) << err;
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_LT(plan, first) << err;
  EXPECT_NE(err.find("budget overridden by --repeat 1, --set"), std::string::npos) << err;
  // The bundle records estimate and actual.
  std::ifstream m(t.path / "b1" / "meta.json");
  ASSERT_TRUE(m) << err;
  json meta = json::parse(m);
  ASSERT_TRUE(meta.contains("plan")) << meta.dump();
  EXPECT_GT(meta["plan"]["actual_s"].get<double>(), 0);
  EXPECT_TRUE(meta["plan"]["budget_s"].is_number());
  std::ifstream pf(t.path / "b1" / "find_vma.json");
  json doc = json::parse(pf);
  ASSERT_TRUE(doc.contains("plan")) << doc.dump();
  EXPECT_EQ(doc["plan"]["repetitions"], 1);
  EXPECT_EQ(doc["plan"]["overridden"], "--repeat 1, --set");
}
