// SPDX-License-Identifier: GPL-2.0-only
// kperflab export --kcidb (analysis/kcidb.h). Field names, required fields,
// patterns and formats follow kcidb-io's v05_03.py; tests/fixtures/
// kcidb-v5.3-subset.schema.json encodes them and tests/core/cli_kcidb.sh
// validates real exports against it (formats checked as strictly as
// kcidb-io's jsonschema[format] does: tests/common/kcidb_validate.py).
#include "analysis/kcidb.h"

#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

#include "results/headline.h"
#include "results/date_time.h"
#include "results/json_access.h"
#include "core/codec.h"

namespace kperflab::kcidb {

using nlohmann::json;

namespace {

// ^[a-z0-9_]*$ by hand: std::regex recurses once per character and a
// 50,000-character --origin overflowed the stack (issue #27 item 5).
bool lower_word(const std::string& s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// KCIDB forbids NUL in every text field and caps log excerpts; bundle text
// also goes through printable() so a hostile bundle cannot smuggle terminal
// escapes into a dashboard.
constexpr size_t kExcerptMax = 16384;

std::string text(const std::string& s) { return printable(s); }

std::string excerpt(const std::string& s) {
  std::string t = printable(s);
  return t.size() <= kExcerptMax ? t : t.substr(0, kExcerptMax - 3) + "...";
}

// The member at a dotted path of meta.json when it is a scalar and not null:
// KCIDB allows no nulls, and a fact the bundle does not know is left out.
std::optional<json> fact(const JsonView& meta, std::initializer_list<const char*> path) {
  std::optional<JsonView> v = meta;
  for (const char* k : path) {
    v = v->find(k);
    if (!v) return std::nullopt;
  }
  if (v->is_null() || v->is_object() || v->is_array()) return std::nullopt;
  if (v->is_string()) return json(text(v->str()));
  return v->raw();
}

std::string short_hash(const std::string& s) { return sha256_hex(s).substr(0, 16); }

// Priority order of KCIDB statuses (v05_03.py: "listed in priority order"),
// the highest first: a summary takes the highest of its parts.
int rank(const std::string& s) {
  static const char* order[] = {"FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"};
  for (int i = 0; i < 6; ++i)
    if (s == order[i]) return i;
  return 6;
}

struct Kernel {
  json checkout, build;
};

Kernel kernel_of(const JsonView& meta, const std::string& origin) {
  JsonView k = meta.at("kernel");
  std::string release = k.at("release").str(), version = k.at("version").str();
  // The source identity a bundle knows is the running kernel's release and
  // version string (uname -r, -v); no git commit is recorded, so none is sent.
  json co = {{"id", origin + ":" + short_hash("kernel\n" + release + "\n" + version)},
             {"origin", origin},
             {"comment", text("Linux " + release + " " + version)},
             {"misc", {{"kernel_release", text(release)}, {"kernel_version", text(version)}}}};
  json misc = json::object();
  std::string sha, machine;
  if (auto c = k.find("config"); c && c->is_object()) {
    if (auto s = c->find("sha256"); s && s->is_string()) sha = s->str();
    if (auto v = fact(k, {"config", "source"})) misc["config_source"] = *v;
    if (auto o = c->find("options"); o && o->is_object()) {
      json opts = json::object();
      for (auto& [name, v] : o->members())
        if (!v.is_null()) opts[text(name)] = v.is_string() ? json(text(v.str())) : v.raw();
      misc["config_options"] = opts;
    }
  }
  if (!sha.empty()) misc["config_sha256"] = text(sha);
  else if (auto why = fact(k, {"unavailable", "config"})) misc["config_unavailable"] = *why;
  if (auto m = k.find("machine"); m && m->is_string()) machine = m->str();
  std::string build_key = co["id"].get<std::string>() + "\n" + sha + "\n" + machine;
  json b = {{"id", origin + ":" + short_hash("build\n" + build_key)},
            {"origin", origin},
            {"checkout_id", co["id"]},
            {"comment", text(release + (sha.empty() ? std::string(", config unknown")
                                                    : ", config sha256 " + sha.substr(0, 12)))}};
  // KCIDB's architecture is ^[a-z0-9_]*$; uname -m values (x86_64, aarch64)
  // fit; one that does not stays in misc only.
  if (!machine.empty()) {
    misc["kernel_machine"] = text(machine);
    if (lower_word(machine)) b["architecture"] = machine;
  }
  b["misc"] = misc;
  // No build status: kperflab did not see the build, only the booted kernel.
  return {co, b};
}

// The host facts every test of a bundle carries (environment.misc).
json environment_of(const Bundle& b, const std::string& bundle_id) {
  JsonView m = b.meta_view();
  json misc = json::object();
  auto put = [&](const char* key, std::initializer_list<const char*> path) {
    if (auto v = fact(m, path)) misc[key] = *v;
  };
  put("hostname", {"host", "hostname"});
  put("virtualized", {"host", "virtualized"});
  put("hypervisor", {"host", "hypervisor"});
  put("cpu_vendor", {"cpu", "vendor"});
  put("cpu_model", {"cpu", "model_name"});
  put("online_cpus", {"cpu", "online_count"});
  put("numa_nodes", {"cpu", "numa_nodes"});
  put("smt_active", {"cpu", "smt", "active"});
  put("governor", {"cpu", "frequency", "governor"});
  put("boost", {"cpu", "frequency", "boost"});
  put("clocksource", {"kernel", "clocksource", "current"});
  put("boot_id", {"kernel", "boot_id"});
  put("profile", {"profile"});
  put("repetitions", {"repetitions"});
  put("suite_version", {"suite", "version"});
  put("suite_git_sha", {"suite", "git_sha"});
  misc["bundle_id"] = bundle_id;
  std::string comment = misc.value("hostname", std::string("unknown host"));
  if (misc.contains("cpu_model")) comment += ": " + misc["cpu_model"].get<std::string>();
  if (misc.contains("online_cpus")) comment += ", " + misc["online_cpus"].dump() + " CPUs";
  return {{"comment", comment}, {"misc", misc}};
}

// A comparison row's facts for a test's misc; non-finite numbers left out
// (JSON has none, and KCIDB allows no nulls).
json verdict_misc(const compare::Row& r, const std::string& baseline) {
  json v = {{"verdict", compare::to_string(r.verdict)},
            {"basis", compare::to_string(r.basis)},
            {"baseline", text(baseline)},
            {"base_n", r.base_n},
            {"cand_n", r.cand_n}};
  if (!r.better.empty()) v["better"] = r.better;
  if (!r.note.empty()) v["note"] = text(r.note);
  for (auto [k, x] : {std::pair{"change", r.change}, {"ci_lo", r.ci_lo}, {"ci_hi", r.ci_hi},
                      {"p", r.p}, {"q", r.p_adj}, {"min_effect", r.min_effect},
                      {"base_median", r.base_median}, {"cand_median", r.cand_median}})
    if (std::isfinite(x)) v[k] = x;
  return v;
}

using RowKey = std::tuple<std::string, std::string, std::string>;  // probe, metric, stat

// Every row of a comparison by what it stands for, its merged aliases too
// ("stat" of the same metric, or "metric:stat"; as series.cpp reads them).
std::map<RowKey, const compare::Row*> rows_by_key(const compare::Result& res) {
  std::map<RowKey, const compare::Row*> out;
  for (auto& r : res.rows) {
    out[{r.probe, r.metric, r.stat}] = &r;
    for (auto& a : r.aliases) {
      auto colon = a.rfind(':');
      if (colon == std::string::npos) out[{r.probe, r.metric, a}] = &r;
      else out[{r.probe, a.substr(0, colon), a.substr(colon + 1)}] = &r;
    }
  }
  return out;
}

// The probe's own status before its figures are counted in.
std::string probe_status(const headline::Probe& p) {
  if (p.status == "skipped") return "SKIP";
  if (p.status == "partial" || p.status == "failed") return "ERROR";
  return p.violations.empty() ? "DONE" : "FAIL";
}

}  // namespace

bool valid_origin(const std::string& origin) { return !origin.empty() && lower_word(origin); }

json number(double value, const std::string& unit) {
  static const std::map<std::string, double> to_seconds = {
      {"ps", 1e-12}, {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
  if (auto t = to_seconds.find(unit); t != to_seconds.end())
    return {{"value", value * t->second}, {"unit", "s"}, {"prefix", "metric"}};
  if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "/s") == 0)
    return {{"value", value}, {"unit", text(unit)}, {"prefix", "metric"}};
  if (unit.empty() || unit == "ratio") return {{"value", value}};
  return {{"value", value}, {"unit", text(unit)}};
}

std::string test_path(const std::string& probe, const std::string& metric,
                      const std::string& stat) {
  std::string raw = "kperflab." + headline::case_name(probe);
  if (!metric.empty()) raw += "." + headline::case_name(metric) + "." + headline::case_name(stat);
  std::string out;
  bool start = true;  // at the start of a component
  for (char c : raw) {
    if (c == '.' && start) out += '_';
    out += c;
    start = c == '.';
  }
  if (start) out += '_';
  return out;
}

const char* status_of(compare::Verdict v) {
  switch (v) {
    case compare::Verdict::regression: return "FAIL";
    case compare::Verdict::unchanged:
    case compare::Verdict::improvement:
    case compare::Verdict::change: return "PASS";
    case compare::Verdict::undecided: return "DONE";
  }
  return "DONE";
}

namespace {

// The tests of one bundle, appended to out.
void bundle_tests(const Bundle& b, const json& build_id, const Options& opt, json& out) {
  JsonView meta = b.meta_view();
  std::string bundle_id = b.dir.filename().string();
  if (auto id = meta.find("bundle_id"); id && id->is_string()) bundle_id = id->str();
  bundle_id = text(bundle_id);
  std::string prefix = opt.origin + ":" + bundle_id + ":";
  json env = environment_of(b, bundle_id);
  std::string started = meta.text("started", "");
  std::map<RowKey, const compare::Row*> rows;
  compare::Result res;
  if (opt.baseline) {
    compare::Side cand{"export " + b.dir.string(), {BundleSummary::of(b)}, nullptr, {}};
    res = compare::compare(*opt.baseline, cand, opt.compare);
    rows = rows_by_key(res);
  }
  auto common = [&](json& t) {
    t["origin"] = opt.origin;
    t["build_id"] = build_id;
    t["environment"] = env;
    // RFC 3339 as KCIDB's date-time wants it (a real date and time: the
    // loader refused any other "started"); left out rather than sent bad.
    if (is_date_time(started)) t["start_time"] = started;
  };
  for (const auto& p : headline::summarize(b)) {
    json probe = {{"id", prefix + text(p.name)}, {"path", test_path(p.name)}};
    common(probe);
    std::string status = probe_status(p);
    size_t regressions = 0;
    for (const auto& f : p.figures) {
      json t = {{"id", prefix + text(p.name + ":" + f.metric + ":" + f.stat)},
                {"path", test_path(p.name, f.metric, f.stat)},
                {"comment", text(p.name + " " + f.metric + " " + f.stat)},
                {"number", number(f.value, f.unit)}};
      common(t);
      json misc = {{"repetitions", f.repetitions}, {"bundle", text(b.dir.string())},
                   {"unit", text(f.unit)}, {"value", f.value}};
      std::string st = "DONE";
      if (auto r = rows.find({p.name, f.metric, f.stat}); r != rows.end()) {
        st = status_of(r->second->verdict);
        misc["comparison"] = verdict_misc(*r->second, opt.baseline->label);
      }
      regressions += st == "FAIL";
      if (rank(st) < rank(status)) status = st;
      t["status"] = st;
      t["misc"] = misc;
      out.push_back(std::move(t));
    }
    json misc = {{"status", p.status}, {"figures", p.figures.size()}, {"thin", p.thin},
                 {"bundle", text(b.dir.string())}};
    if (opt.baseline) misc["regressions"] = regressions;
    std::string log;
    if (!p.reason.empty()) {
      misc["reason"] = text(p.reason);
      log = p.reason + "\n";
    }
    if (!p.violations.empty()) {
      misc["violations"] = json::array();
      for (auto& v : p.violations) {
        misc["violations"].push_back(text(v));
        log += v + "\n";
      }
    }
    if (!log.empty()) probe["log_excerpt"] = excerpt(log);
    probe["status"] = status;
    probe["misc"] = misc;
    out.push_back(std::move(probe));
  }
}

}  // namespace

namespace {

// One report being made: each bundle adds its checkout, build (once per
// kernel) and tests; the tests' tree is counted against kMaxReportBytes.
class Report {
 public:
  explicit Report(const Options& opt) : opt_(opt) {
    if (!valid_origin(opt.origin))
      throw std::invalid_argument("origin '" + printable(opt.origin) +
                                  "': KCIDB wants ^[a-z0-9_]+$ (lower case, digits, '_')");
  }
  void add(const Bundle& b) {
    JsonView meta = b.meta_view();
    std::string id = b.dir.filename().string();
    if (auto i = meta.find("bundle_id"); i && i->is_string()) id = i->str();
    auto [it, fresh] = ids_.emplace(id, b.dir.string());
    if (!fresh)
      throw std::invalid_argument("bundles " + printable(it->second) + " and " +
                                  printable(b.dir.string()) + " share bundle id '" +
                                  printable(id) + "': their KCIDB test ids would clash");
    Kernel k = kernel_of(meta, opt_.origin);
    if (seen_checkouts_.insert(k.checkout["id"]).second) out_["checkouts"].push_back(k.checkout);
    if (seen_builds_.insert(k.build["id"]).second) out_["builds"].push_back(k.build);
    json& tests = out_["tests"];
    size_t first = tests.size();
    bundle_tests(b, k.build["id"], opt_, tests);
    for (size_t i = first; i < tests.size(); ++i) bytes_ += json_bytes(tests[i]);
    ++bundles_;
    if (bytes_ > kMaxReportBytes)
      throw std::invalid_argument(
          "the KCIDB report passed " + std::to_string(kMaxReportBytes >> 20) + " MiB in memory at " +
          std::to_string(bundles_) + " bundles (" + std::to_string(tests.size()) +
          " tests): export fewer bundles per report");
  }
  json take() { return std::move(out_); }

 private:
  const Options& opt_;
  json out_ = {{"version", {{"major", kMajor}, {"minor", kMinor}}},
               {"checkouts", json::array()},
               {"builds", json::array()},
               {"tests", json::array()}};
  std::set<std::string> seen_checkouts_, seen_builds_;
  std::map<std::string, std::string> ids_;  // bundle id -> dir
  size_t bytes_ = 0, bundles_ = 0;
};

}  // namespace

json report(const std::vector<Bundle>& bundles, const Options& opt) {
  Report r(opt);
  for (const auto& b : bundles) r.add(b);
  return r.take();
}

json report(const std::vector<std::filesystem::path>& dirs, const Options& opt) {
  Report r(opt);
  for (const auto& d : dirs) r.add(Bundle::load(d));  // its tree freed before the next loads
  return r.take();
}

}  // namespace kperflab::kcidb
