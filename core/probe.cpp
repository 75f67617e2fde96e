// SPDX-License-Identifier: GPL-2.0-only
#include "core/probe.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "core/stop.h"

namespace kperflab {

std::string_view to_string(Profile p) {
  switch (p) {
    case Profile::quick: return "quick";
    case Profile::standard: return "standard";
    case Profile::full: return "full";
    case Profile::lab: return "lab";
  }
  return "?";
}

std::optional<Profile> parse_profile(std::string_view s) {
  for (auto p : {Profile::quick, Profile::standard, Profile::full, Profile::lab})
    if (to_string(p) == s) return p;
  return std::nullopt;
}

unsigned default_repetitions(Profile p) {
  switch (p) {
    case Profile::quick:
    case Profile::standard: return 10;
    case Profile::full: return 20;
    case Profile::lab: return 1;
  }
  return 1;
}

namespace {

void check_name(const nlohmann::json& metrics, const nlohmann::json& skipped,
                const std::string& name) {
  if (name.empty()) throw std::invalid_argument("metric name is empty");
  if (metrics.contains(name) || skipped.contains(name))
    throw std::logic_error("metric recorded twice in one repetition: " + name);
}

// JSON has no NaN/inf: store them as null so the file stays valid.
nlohmann::json finite(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json histogram_metric(const Histogram& h, const std::string& unit) {
  static constexpr double kQ[] = {0.50, 0.90, 0.99, 0.999, 0.9999};
  uint64_t q[std::size(kQ)];
  h.quantiles(kQ, q);  // one pass (the loader checks them the same way)
  return {
      {"kind", "histogram"}, {"unit", unit},
      {"hist", h.encode_base64()}, {"count", h.count()},
      {"min", h.min()}, {"max", h.max()},
      {"mean", finite(h.mean())}, {"stddev", finite(h.stddev())},
      {"p50", q[0]}, {"p90", q[1]},
      {"p99", q[2]}, {"p99_9", q[3]},
      {"p99_99", q[4]}, {"overflow", h.overflow()},
  };
}

void Repetition::histogram(const std::string& name, const Histogram& h, std::string unit,
                           nlohmann::json labels) {
  check_name(metrics_, skipped_, name);
  auto m = histogram_metric(h, unit);
  m["labels"] = std::move(labels);
  metrics_[name] = std::move(m);
}

void Repetition::scalar(const std::string& name, double value, std::string unit,
                        nlohmann::json labels) {
  check_name(metrics_, skipped_, name);
  metrics_[name] = {{"kind", "scalar"}, {"unit", std::move(unit)},
                    {"value", finite(value)}, {"labels", std::move(labels)}};
}

void Repetition::skip(const std::string& name, std::string reason) {
  check_name(metrics_, skipped_, name);
  skipped_[name] = std::move(reason);
}

nlohmann::json Repetition::to_json() const {
  return {{"metrics", metrics_}, {"skipped", skipped_}, {"extra", extra_}};
}

bool RunContext::stop_requested() const { return kperflab::stop_requested(); }

void RunContext::attach_file(const std::string& name, std::string contents) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.' ||
      name == "meta.json" || name == "kconfig.gz")
    throw std::invalid_argument("bad attachment name: '" + name + "'");
  attachments_[name] = std::move(contents);
}

ProbeRegistry& ProbeRegistry::instance() {
  static ProbeRegistry r;
  return r;
}

void ProbeRegistry::add(std::unique_ptr<Probe> p) {
  if (find(p->name()))
    throw std::logic_error("probe registered twice: " + std::string(p->name()));
  probes_.push_back(std::move(p));
}

std::vector<Probe*> ProbeRegistry::all() const {
  std::vector<Probe*> v;
  for (auto& p : probes_) v.push_back(p.get());
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  return v;
}

Probe* ProbeRegistry::find(std::string_view name) const {
  for (auto& p : probes_)
    if (p->name() == name) return p.get();
  return nullptr;
}

}  // namespace kperflab
