// SPDX-License-Identifier: GPL-2.0-only
// Validation of meta.json and <probe>.json against results/schema/*.json
// (kept in step by hand: every field a reader uses is checked here, with its
// type, shape and caps; results/README.md lists them). Errors name file and
// field. Tables, matrices and the text walk are in bundle_validate_extra.cpp.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>
#include <memory>

#include "core/hdr_codec.h"
#include "core/histogram.h"
#include "results/date_time.h"
#include "core/number_text.h"
#include "results/validate_internal.h"

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;
using validate::one_of;
using validate::opt;
using validate::req;

namespace {

constexpr unsigned kText = J_STRING | J_NULL;  // collected, or null with a reason

// The numbers readers take from a metric's name ("membarrier/cpu=3/...",
// ".../targets=8/..."), parsed in range here once, so that no reader meets
// a bare "stoi" later (#27, item 8).
std::string metric_name_problem(const std::string& name) {
  for (const char* key : {"cpu=", "targets=", "callers=", "threads="}) {
    for (size_t at = name.find(key); at != std::string::npos; at = name.find(key, at + 1)) {
      if (at > 0 && name[at - 1] != '/' && std::isalnum(static_cast<unsigned char>(name[at - 1])))
        continue;  // "xcpu=": another word
      size_t b = at + std::strlen(key), e = b;
      while (e < name.size() && std::isdigit(static_cast<unsigned char>(name[e]))) ++e;
      if (e == b) continue;
      auto v = number_from<uint32_t>(std::string_view(name).substr(b, e - b));
      uint32_t max = std::string_view(key) == "cpu=" ? uint32_t(limits::kCpus - 1) : 1u << 20;
      if (!v || *v > max)
        return "the name's " + std::string(key) + name.substr(b, std::min<size_t>(e - b, 24)) +
               " is out of range (at most " + std::to_string(max) + ")";
    }
  }
  return "";
}

// What validation keeps from one histogram to the next (one validate_probe
// call): the decode buffers and the counts list, their storage reused.
struct HistScratch {
  hdr::DecodeScratch decode;
  hdr::Counts counts;
};

// The members of a metric that validation reads, in the byte order the
// object's keys are kept in: found in one pass (Fields::find_all).
enum MetricKey {
  kCount, kHist, kKind, kLabels, kMax, kMean, kMin, kOverflow,
  kP50, kP90, kP99, kP99_9, kP99_99, kStddev, kUnit, kValue, kMetricKeys
};
constexpr std::string_view kMetricKeyNames[kMetricKeys] = {
    "count", "hist", "kind", "labels", "max", "mean", "min", "overflow",
    "p50", "p90", "p99", "p99_9", "p99_99", "stddev", "unit", "value"};
static_assert(std::ranges::is_sorted(kMetricKeyNames));
using MetricFields = const json* [kMetricKeys];

const char* key(MetricKey k) { return kMetricKeyNames[k].data(); }  // literals: NUL-terminated

void validate_histogram(const validate::Fields& m, const MetricFields& f, LoadBudget& budget,
                        HistScratch& scratch) {
  const std::string& hist_text = m.req("hist", f[kHist], J_STRING).get_ref<const std::string&>();
  static constexpr MetricKey kStats[] = {kCount, kMin, kMax, kP50, kP90,
                                         kP99, kP99_9, kP99_99, kOverflow};
  uint64_t stat[std::size(kStats)];
  for (size_t i = 0; i < std::size(kStats); ++i) stat[i] = m.u64(key(kStats[i]), f[kStats[i]]);
  const uint64_t count = stat[0], min = stat[1], max = stat[2], overflow = stat[8];
  const uint64_t* stored_q = stat + 3;
  m.opt("mean", f[kMean], J_NUMBER | J_NULL);
  m.opt("stddev", f[kStddev], J_NUMBER | J_NULL);
  // Every histogram of the bundle is decoded here, so the whole bundle's
  // decoding work is bounded: a count and a total of inflated bytes.
  if (++budget.histograms > limits::kHistograms)
    m.fail("hist", "the bundle holds more than " + std::to_string(limits::kHistograms) +
                       " histograms");
  // Its non-empty counts are all that the checks below need: no counts
  // array is allocated and cleared per histogram.
  hdr::Counts& hist = scratch.counts;
  size_t inflated = 0;
  try {
    hdr::decode_compressed_base64(hist_text, hist, scratch.decode, &inflated);
  } catch (const HistogramError& e) {
    m.fail("hist", e.what());
  }
  budget.inflated += inflated;
  if (budget.inflated > limits::kInflated)
    m.fail("hist", "the bundle's histograms decode to more than " +
                       std::to_string(limits::kInflated >> 20) + " MiB");
  uint64_t total = 0;
  if (__builtin_add_overflow(hist.total, overflow, &total) || total != count)
    m.fail("count", "is " + std::to_string(count) + " but the histogram holds " +
                        std::to_string(hist.total) + " (+ overflow " + std::to_string(overflow) +
                        ")");
  // The stored quantiles are derived from the histogram when it is written:
  // they must be what it says (past overflow the stored ones are kept). All
  // five in one pass over the counts, as the writer takes them.
  static constexpr MetricKey kQuantileKeys[] = {kP50, kP90, kP99, kP99_9, kP99_99};
  static constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
  if (overflow == 0) {
    uint64_t q[std::size(kQuantiles)];
    quantiles_of(hist.nonzero, hist.total, kQuantiles, q);
    for (size_t i = 0; i < std::size(kQuantiles); ++i)
      if (stored_q[i] != q[i])
        m.fail(key(kQuantileKeys[i]), "is " + std::to_string(stored_q[i]) +
                                          " but the histogram says " + std::to_string(q[i]));
  }
  if (min > max) m.fail("min", "is larger than max");
}

void validate_metric(const validate::Fields& m, LoadBudget& budget, HistScratch& scratch) {
  m.need_object();
  MetricFields f;
  m.find_all(kMetricKeyNames, f);
  const json& kind = m.req("kind", f[kKind], J_STRING);
  const std::string& k = kind.get_ref<const std::string&>();
  if (k != "histogram" && k != "scalar") one_of(m.view().at("kind"), {"histogram", "scalar"});
  m.req("unit", f[kUnit], J_STRING);
  if (const json* labels = f[kLabels]) {
    if (!labels->is_object()) m.view().at("labels").need(J_OBJECT);
    if (auto better = labels->find("better"); better != labels->end()) {
      const json& b = *better;
      if (!(b.is_string() && (b == "higher" || b == "lower" || b == "none")))
        one_of(m.view().at("labels").at("better"), {"higher", "lower", "none"});
    }
  }
  if (k == "scalar") {
    m.req("value", f[kValue], J_NUMBER | J_NULL);
    return;
  }
  validate_histogram(m, f, budget, scratch);
}

void validate_kernel(const JsonView& k) {
  req(k, "release", J_STRING);
  req(k, "version", J_STRING);
  opt(k, "machine", J_STRING);
  opt(k, "cmdline", kText);
  opt(k, "boot_id", kText);
  JsonView config = req(k, "config", J_OBJECT | J_NULL);
  if (config.is_object()) {
    req(config, "source", J_STRING);
    req(config, "sha256", J_STRING);
    validate::each_member(req(config, "options", J_OBJECT), kText);
  }
  if (auto u = k.find("unavailable")) validate::each_member(u->need(J_OBJECT), J_STRING);
  JsonView cs = req(k, "clocksource", J_OBJECT);
  req(cs, "current", kText);
  opt(cs, "available", kText);
  JsonView thp = req(k, "thp", J_OBJECT);
  req(thp, "enabled", kText);
  if (auto v = k.find_if("vulnerabilities", J_OBJECT)) validate::each_member(*v, J_STRING);
}

void validate_topology(const JsonView& topo) {
  if (topo.size() > limits::kCpus)
    topo.fail("has " + std::to_string(topo.size()) + " entries, at most " +
              std::to_string(limits::kCpus));
  for (auto& t : topo.elements()) {
    t.need(J_OBJECT);
    t.at("cpu").u64();
    req(t, "online", J_BOOL);
    for (const char* k : {"core", "package", "llc", "node"}) req(t, k, J_INT);  // -1: unknown
    JsonView sib = t.at("smt_siblings");
    if (!sib.is_array() || sib.size() > limits::kSmtSiblings)
      sib.fail("expected an array of at most " + std::to_string(limits::kSmtSiblings) +
               " CPU numbers");
    for (auto& s : sib.elements())
      if (!s.raw().is_number_unsigned()) sib.fail("expected an array of CPU numbers");
  }
}

void validate_cpu(const JsonView& c) {
  for (const char* k : {"model_name", "microcode"}) opt(c, k, kText);
  opt(c, "online", J_STRING);
  for (const char* k : {"online_count", "packages", "llcs", "numa_nodes"})
    if (c.has(k)) c.at(k).u64();
  JsonView smt = req(c, "smt", J_OBJECT);
  req(smt, "control", kText);
  opt(smt, "active", J_BOOL | J_NULL);
  JsonView freq = req(c, "frequency", J_OBJECT);
  req(freq, "governor", kText);
  opt(freq, "boost", J_BOOL | J_NULL);
  if (auto idle = c.find("idle")) {  // bundles older than the idle fields lack it
    idle->need(J_OBJECT);
    opt(*idle, "driver", kText);
    opt(*idle, "governor", kText);
  }
  validate_topology(req(c, "topology", J_ARRAY));
}

// The quiet-machine sections (host/preflight.h, tune.h, noise_check.h):
// optional, bundles older than them lack them.
void validate_preflight(const JsonView& p) {
  p.need(J_OBJECT);
  opt(p, "sample_ms", J_INT);
  opt(p, "load1", J_NUMBER | J_NULL);
  for (auto& f : req(p, "findings", J_ARRAY).elements()) {
    f.need(J_OBJECT);
    for (const char* k : {"what", "value", "why"}) req(f, k, J_STRING);
    one_of(req(f, "severity", J_STRING), {"info", "warn"});
    for (auto& pr : req(f, "probes", J_ARRAY).elements()) pr.need(J_STRING);
  }
  if (auto b = p.find("busiest"))
    for (auto& x : b->need(J_ARRAY).elements()) {
      x.need(J_OBJECT);
      req(x, "pid", J_INT);
      req(x, "comm", J_STRING);
      req(x, "cpu_pct", J_NUMBER);
    }
}

void validate_tuning(const JsonView& t) {
  t.need(J_OBJECT);
  opt(t, "boost_off", J_BOOL);
  for (auto& s : req(t, "settings", J_ARRAY).elements()) {
    s.need(J_OBJECT);
    for (const char* k : {"setting", "path", "from", "to"}) req(s, k, J_STRING);
    one_of(req(s, "status", J_STRING), {"tuned", "already", "absent", "failed"});
    for (const char* k : {"error", "restored"}) opt(s, k, J_STRING);
    opt(s, "errno", J_INT);
  }
}

void validate_noise_check(const JsonView& n) {
  n.need(J_OBJECT);
  if (!req(n, "ran", J_BOOL).boolean()) {
    opt(n, "reason", J_STRING);
    return;
  }
  req(n, "threshold_pct", J_NUMBER);
  req(n, "noisy", J_BOOL);
  for (const char* k : {"rounds", "iterations"}) opt(n, k, J_INT);
  for (auto& c : req(n, "cpus", J_ARRAY).elements()) {
    c.need(J_OBJECT);
    req(c, "cpu", J_INT);
    for (const char* k : {"median_ns", "mad_ns", "spread_pct"}) req(c, k, J_NUMBER);
    opt(c, "error", J_STRING);
    if (auto s = c.find("samples_ns"))
      for (auto& x : s->need(J_ARRAY).elements()) x.need(J_NUMBER);
  }
}

// --until-ci's record of why a probe stopped repeating (core/until_ci.h).
void validate_until_ci(const JsonView& u) {
  u.need(J_OBJECT);
  for (const char* k : {"target_half_width_pct", "confidence", "budget_s", "elapsed_s"})
    req(u, k, J_NUMBER);
  for (const char* k : {"min_repetitions", "max_repetitions", "repetitions", "headline_metrics",
                        "above_target"})
    req(u, k, J_INT);
  opt(u, "statistic", J_STRING);
  one_of(req(u, "stopped", J_STRING),
         {"converged", "budget", "max_repetitions", "interrupted", "no_headline_metric"});
  for (auto& w : req(u, "widest", J_ARRAY).elements()) {
    w.need(J_OBJECT);
    req(w, "metric", J_STRING);
    req(w, "half_width_pct", J_NUMBER);
  }
}

// The run's plan and what it took (core/plan.h): optional, bundles older
// than #26 lack it. budget_s is null for a profile without a budget.
void validate_meta_plan(const JsonView& p) {
  p.need(J_OBJECT);
  req(p, "budget_s", J_NUMBER | J_NULL);
  req(p, "estimated_s", J_NUMBER);
  req(p, "actual_s", J_NUMBER);
}

void validate_probe_plan(const JsonView& p) {
  validate_meta_plan(p);
  req(p, "points", J_INT);
  req(p, "repetitions", J_INT);
  opt(p, "sampled", J_STRING);
  opt(p, "overridden", J_STRING);
  if (auto c = p.find("cuts"))
    for (auto& x : c->need(J_ARRAY).elements()) x.need(J_STRING);
}

}  // namespace

void validate_meta(const json& meta, const fs::path& file) {
  if (!meta.is_object()) throw BundleError(file, "", "must be a JSON object");
  validate::text(meta, file);
  JsonView m(meta, std::make_shared<const fs::path>(file));
  JsonView schema = req(m, "schema", J_STRING);
  if (schema.str() != kMetaSchema)
    schema.fail("is " + schema.raw().dump() + ", expected \"" + kMetaSchema + "\"");
  one_of(req(m, "status", J_STRING), {"complete", "partial"});
  for (const char* k : {"bundle_id", "started", "finished", "profile"}) opt(m, k, J_STRING);
  // Exports pass these on (KCIDB start_time, gbench context.date): a time
  // that does not exist is refused here, not published.
  for (const char* k : {"started", "finished"})
    if (auto t = m.find(k))
      if (std::string why = date_time_error(t->str()); !why.empty())
        t->fail("'" + t->str() + "' " + why);
  if (m.has("repetitions")) m.at("repetitions").u64();
  if (auto tags = m.find("tags")) {  // --tag (older bundles have none)
    tags->need(J_ARRAY);
    for (auto& t : tags->elements()) t.need(J_STRING);
  }
  JsonView suite = req(m, "suite", J_OBJECT);
  req(suite, "version", J_STRING);
  req(suite, "git_sha", J_STRING);
  JsonView host = req(m, "host", J_OBJECT);
  req(host, "hostname", J_STRING);
  opt(host, "virtualized", J_BOOL);
  opt(host, "hypervisor", kText);
  opt(host, "memory_bytes", J_INT | J_NULL);
  validate_kernel(req(m, "kernel", J_OBJECT));
  validate_cpu(req(m, "cpu", J_OBJECT));
  if (auto p = m.find("preflight")) validate_preflight(*p);
  if (auto t = m.find("tuning")) validate_tuning(*t);
  if (auto n = m.find("noise_check")) validate_noise_check(*n);
  if (auto c = m.find("counters")) validate::meta_counters(*c);
  if (auto p = m.find("plan")) validate_meta_plan(*p);
  if (auto u = m.find("until_ci")) {
    u->need(J_OBJECT);
    req(*u, "target_half_width_pct", J_NUMBER);
    req(*u, "min_repetitions", J_INT);
    opt(*u, "budget_s", J_NUMBER);
  }
  for (auto& [n, p] : req(m, "probes", J_OBJECT).members()) {
    p.need(J_OBJECT);
    one_of(req(p, "status", J_STRING), {"complete", "partial", "skipped", "failed"});
    opt(p, "reason", kText);
  }
}

void validate_probe(const json& doc, const fs::path& file) {
  LoadBudget budget;
  validate_probe(doc, file, budget);
}

void validate_probe(const json& doc, const fs::path& file, LoadBudget& budget) {
  if (!doc.is_object()) throw BundleError(file, "", "must be a JSON object");
  validate::text(doc, file);
  JsonView d(doc, std::make_shared<const fs::path>(file));
  JsonView schema = req(d, "schema", J_STRING);
  if (schema.str() != kProbeSchema)
    schema.fail("is " + schema.raw().dump() + ", expected \"" + kProbeSchema + "\"");
  req(d, "probe", J_STRING);
  one_of(req(d, "status", J_STRING), {"complete", "partial", "skipped", "failed"});
  req(d, "reason", kText);
  req(d, "parameters", J_OBJECT);
  if (auto u = d.find("until_ci")) validate_until_ci(*u);
  if (auto p = d.find("plan")) validate_probe_plan(*p);
  if (auto l = d.find("bpf_links_left")) {
    l->need(J_INT);
    if (l->num() < 0) l->fail("must be a count (0 ..), is " + l->raw().dump());
  }
  HistScratch scratch;
  for (auto& rep : req(d, "repetitions", J_ARRAY).elements()) {
    rep.need(J_OBJECT);
    JsonView metrics = req(rep, "metrics", J_OBJECT);
    for (auto& [n, m] : metrics.raw().items()) {
      if (auto why = metric_name_problem(n); !why.empty()) metrics.at(n).fail(why);
      validate_metric(validate::Fields(metrics, n, m), budget, scratch);
    }
    validate::each_member(req(rep, "skipped", J_OBJECT), J_STRING);
    if (auto extra = rep.find("extra")) validate::extra(*extra, budget);
  }
}

}  // namespace kperflab
