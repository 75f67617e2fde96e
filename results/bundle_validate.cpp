// SPDX-License-Identifier: GPL-2.0-only
// Validation of meta.json and <probe>.json against results/schema/*.json
// (kept in step by tests/unit/test_bundle.cpp). Errors name file and field.
#include "histogram.h"
#include "results/bundle.h"

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

enum class T { object, array, string, number, boolean, string_or_null, object_or_null };

bool is(const json& v, T t) {
  switch (t) {
    case T::object: return v.is_object();
    case T::array: return v.is_array();
    case T::string: return v.is_string();
    case T::number: return v.is_number();
    case T::boolean: return v.is_boolean();
    case T::string_or_null: return v.is_string() || v.is_null();
    case T::object_or_null: return v.is_object() || v.is_null();
  }
  return false;
}

const char* name(T t) {
  switch (t) {
    case T::object: return "an object";
    case T::array: return "an array";
    case T::string: return "a string";
    case T::number: return "a number";
    case T::boolean: return "true or false";
    case T::string_or_null: return "a string or null";
    case T::object_or_null: return "an object or null";
  }
  return "?";
}

const json& need(const json& obj, const std::string& key, T t, const fs::path& file,
                 const std::string& path) {
  std::string field = path.empty() ? key : path + "." + key;
  if (!obj.is_object() || !obj.contains(key)) throw BundleError(file, field, "missing");
  const json& v = obj.at(key);
  if (!is(v, t)) throw BundleError(file, field, std::string("must be ") + name(t));
  return v;
}

void one_of(const json& v, std::initializer_list<const char*> allowed, const fs::path& file,
            const std::string& field) {
  for (const char* a : allowed)
    if (v == a) return;
  std::string list;
  for (const char* a : allowed) list += std::string(list.empty() ? "" : "|") + a;
  throw BundleError(file, field, "must be one of " + list + ", is " + v.dump());
}

void validate_metric(const json& m, const fs::path& file, const std::string& path) {
  const json& kind = need(m, "kind", T::string, file, path);
  one_of(kind, {"histogram", "scalar"}, file, path + ".kind");
  need(m, "unit", T::string, file, path);
  if (kind == "scalar") {
    const json& v = m.contains("value") ? m["value"] : json();
    if (!v.is_number() && !v.is_null()) throw BundleError(file, path + ".value", "must be a number or null");
    return;
  }
  const json& h = need(m, "hist", T::string, file, path);
  static const char* kStats[] = {"count", "min", "max", "p50", "p90",
                                 "p99", "p99_9", "p99_99", "overflow"};
  for (const char* k : kStats)
    if (!need(m, k, T::number, file, path).is_number_unsigned())
      throw BundleError(file, path + "." + k, "must be a non-negative integer, is " + m[k].dump());
  Histogram hist;
  try {
    hist = Histogram::decode_base64(h.get<std::string>());
  } catch (const HistogramError& e) {
    throw BundleError(file, path + ".hist", e.what());
  }
  uint64_t total = 0;
  if (__builtin_add_overflow(hist.count(), m["overflow"].get<uint64_t>(), &total) ||
      total != m["count"].get<uint64_t>())
    throw BundleError(file, path + ".count",
                      "is " + m["count"].dump() + " but the histogram holds " +
                          std::to_string(hist.count()) + " (+ overflow " + m["overflow"].dump() +
                          ")");
  // The stored quantiles are derived from the histogram when it is written:
  // they must be what it says (past overflow the stored ones are kept).
  static const std::pair<const char*, double> kQuantiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99_9", 0.999}, {"p99_99", 0.9999}};
  if (m["overflow"].get<uint64_t>() == 0)
    for (const auto& [k, q] : kQuantiles)
      if (m[k].get<uint64_t>() != hist.quantile(q))
        throw BundleError(file, path + "." + k,
                          "is " + m[k].dump() + " but the histogram says " +
                              std::to_string(hist.quantile(q)));
  if (m["min"].get<uint64_t>() > m["max"].get<uint64_t>())
    throw BundleError(file, path + ".min", "is larger than max");
}

}  // namespace

void validate_meta(const json& meta, const fs::path& file) {
  if (!meta.is_object()) throw BundleError(file, "", "must be a JSON object");
  const json& schema = need(meta, "schema", T::string, file, "");
  if (schema != kMetaSchema)
    throw BundleError(file, "schema", "is " + schema.dump() + ", expected \"" + kMetaSchema + "\"");
  one_of(need(meta, "status", T::string, file, ""), {"complete", "partial"}, file, "status");
  const json& suite = need(meta, "suite", T::object, file, "");
  need(suite, "version", T::string, file, "suite");
  need(suite, "git_sha", T::string, file, "suite");
  const json& host = need(meta, "host", T::object, file, "");
  need(host, "hostname", T::string, file, "host");
  const json& kernel = need(meta, "kernel", T::object, file, "");
  need(kernel, "release", T::string, file, "kernel");
  need(kernel, "version", T::string, file, "kernel");
  need(kernel, "config", T::object_or_null, file, "kernel");
  const json& cpu = need(meta, "cpu", T::object, file, "");
  const json& topo = need(cpu, "topology", T::array, file, "cpu");
  for (size_t i = 0; i < topo.size(); ++i)
    need(topo[i], "cpu", T::number, file, "cpu.topology[" + std::to_string(i) + "]");
  const json& probes = need(meta, "probes", T::object, file, "");
  for (auto& [n, p] : probes.items()) {
    one_of(need(p, "status", T::string, file, "probes." + n),
           {"complete", "partial", "skipped", "failed"}, file, "probes." + n + ".status");
  }
}

void validate_probe(const json& doc, const fs::path& file) {
  if (!doc.is_object()) throw BundleError(file, "", "must be a JSON object");
  const json& schema = need(doc, "schema", T::string, file, "");
  if (schema != kProbeSchema)
    throw BundleError(file, "schema", "is " + schema.dump() + ", expected \"" + kProbeSchema + "\"");
  need(doc, "probe", T::string, file, "");
  one_of(need(doc, "status", T::string, file, ""), {"complete", "partial", "skipped", "failed"},
         file, "status");
  need(doc, "reason", T::string_or_null, file, "");
  need(doc, "parameters", T::object, file, "");
  const json& reps = need(doc, "repetitions", T::array, file, "");
  for (size_t r = 0; r < reps.size(); ++r) {
    std::string rp = "repetitions[" + std::to_string(r) + "]";
    const json& metrics = need(reps[r], "metrics", T::object, file, rp);
    for (auto& [n, m] : metrics.items()) validate_metric(m, file, rp + ".metrics." + n);
    need(reps[r], "skipped", T::object, file, rp);
  }
}

}  // namespace kperflab
