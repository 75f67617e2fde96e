// SPDX-License-Identifier: GPL-2.0-only
#include "results/json_access.h"

#include <cmath>

namespace kperflab {

using nlohmann::json;

std::string type_names(unsigned t) {
  static const std::pair<unsigned, const char*> kNames[] = {
      {J_OBJECT, "an object"}, {J_ARRAY, "an array"}, {J_STRING, "a string"},
      {J_NUMBER, "a number"},  {J_INT, "an integer"}, {J_BOOL, "true or false"},
      {J_NULL, "null"}};
  std::string s;
  for (auto& [bit, name] : kNames) {
    if (!(t & bit) || (bit == J_INT && (t & J_NUMBER))) continue;
    s += (s.empty() ? "" : " or ") + std::string(name);
  }
  return s;
}

bool json_is(const json& j, unsigned t) {
  switch (j.type()) {
    case json::value_t::null: return t & J_NULL;
    case json::value_t::boolean: return t & J_BOOL;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return t & (J_INT | J_NUMBER);
    case json::value_t::number_float: return t & J_NUMBER;
    case json::value_t::string: return t & J_STRING;
    case json::value_t::object: return t & J_OBJECT;
    case json::value_t::array: return t & J_ARRAY;
    default: return false;
  }
}

const JsonView& JsonView::need(unsigned t) const {
  if (!is(t)) fail("must be " + type_names(t));
  return *this;
}

void JsonView::fail(const std::string& what) const { throw BundleError(*file_, path_, what); }

std::string JsonView::child(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string JsonView::child(size_t i) const { return path_ + "[" + std::to_string(i) + "]"; }

bool JsonView::has(std::string_view key) const {
  return j_->is_object() && j_->find(key) != j_->end();
}

JsonView JsonView::at(std::string_view key) const {
  need(J_OBJECT);
  auto it = j_->find(key);
  if (it == j_->end()) throw BundleError(*file_, child(key), "missing");
  return JsonView(*it, file_, child(key));
}

JsonView JsonView::at(size_t i) const {
  need(J_ARRAY);
  if (i >= j_->size())
    throw BundleError(*file_, child(i), "missing (the array has " +
                                            std::to_string(j_->size()) + " elements)");
  return JsonView((*j_)[i], file_, child(i));
}

std::optional<JsonView> JsonView::find(std::string_view key) const {
  if (!j_->is_object()) return std::nullopt;
  auto it = j_->find(key);
  if (it == j_->end()) return std::nullopt;
  return JsonView(*it, file_, child(key));
}

std::optional<JsonView> JsonView::find_if(std::string_view key, unsigned t) const {
  auto v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  v->need(t);
  return v;
}

size_t JsonView::size() const {
  need(J_ARRAY | J_OBJECT);
  return j_->size();
}

std::vector<JsonView> JsonView::elements() const {
  need(J_ARRAY);
  std::vector<JsonView> out;
  out.reserve(j_->size());
  for (size_t i = 0; i < j_->size(); ++i) out.emplace_back((*j_)[i], file_, child(i));
  return out;
}

std::vector<std::pair<std::string, JsonView>> JsonView::members() const {
  need(J_OBJECT);
  std::vector<std::pair<std::string, JsonView>> out;
  out.reserve(j_->size());
  for (auto it = j_->begin(); it != j_->end(); ++it)
    out.emplace_back(it.key(), JsonView(it.value(), file_, child(it.key())));
  return out;
}

std::string JsonView::str() const { return need(J_STRING).j_->get<std::string>(); }

double JsonView::num() const {
  double d = need(J_NUMBER).j_->get<double>();
  if (!std::isfinite(d)) fail("must be a finite number");
  return d;
}

uint64_t JsonView::u64() const {
  if (!j_->is_number_unsigned()) fail("must be a non-negative integer, is " + j_->dump());
  return j_->get<uint64_t>();
}

bool JsonView::boolean() const { return need(J_BOOL).j_->get<bool>(); }

std::string JsonView::text(std::string_view key, const std::string& fallback) const {
  auto v = find(key);
  if (!v || v->is_null()) return fallback;
  return v->is_string() ? v->j_->get<std::string>() : v->j_->dump();
}

JsonView Bundle::meta_view() const {
  return JsonView(meta, std::make_shared<const std::filesystem::path>(dir / "meta.json"));
}

JsonView Bundle::probe_view(const std::string& name) const {
  auto it = probes.find(name);
  auto file = std::make_shared<const std::filesystem::path>(dir / (name + ".json"));
  if (it == probes.end()) throw BundleError(*file, "", "not in this bundle");
  return JsonView(it->second, file);
}

}  // namespace kperflab
