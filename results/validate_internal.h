// SPDX-License-Identifier: GPL-2.0-only
// Shared by bundle_validate.cpp (meta.json, <probe>.json, metrics) and
// bundle_validate_extra.cpp (text, tables, matrices). Not for readers.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "results/bundle.h"
#include "results/json_access.h"

namespace kperflab::validate {

// A required member of one of types.
inline JsonView req(const JsonView& o, const char* key, unsigned types) {
  JsonView v = o.at(key);
  v.need(types);
  return v;
}

// An optional member: when present it must be one of types.
inline void opt(const JsonView& o, const char* key, unsigned types) {
  if (auto v = o.find(key)) v->need(types);
}

// Every member of an object must be one of types (e.g. reasons: strings).
void each_member(const JsonView& o, unsigned types);

void one_of(const JsonView& v, std::initializer_list<const char*> allowed);

// The members of one object, looked up where validation runs per metric
// (thousands a bundle): JsonView::at spells each member's path (a string
// built, a shared_ptr copied) on every call; this spells none until a check
// fails, and then throws through the very JsonView call that says it
// always did (same field, same message). The object is `key` of `parent`.
class Fields {
 public:
  Fields(const JsonView& parent, const std::string& key, const nlohmann::json& obj)
      : parent_(parent), key_(key), obj_(obj) {}

  // The object's own view (its path spelled): for the error paths.
  JsonView view() const { return parent_.at(key_); }
  // As view().need(J_OBJECT).
  void need_object() const {
    if (!obj_.is_object()) view().need(J_OBJECT);
  }
  // The members named (sorted in byte order, as the object's keys are),
  // found in one pass over the object: found[i] for names[i], null when
  // absent. A metric's fifteen lookups cost one walk of its members so.
  void find_all(std::span<const std::string_view> names,
                std::span<const nlohmann::json*> found) const;
  // As req(view(), key, types), v the member key found (null: absent).
  const nlohmann::json& req(const char* key, const nlohmann::json* v, unsigned types) const {
    if (!v || !json_is(*v, types)) validate::req(view(), key, types);
    return *v;
  }
  // As opt(view(), key, types), v the member key found (null: absent).
  void opt(const char* key, const nlohmann::json* v, unsigned types) const {
    if (v && !json_is(*v, types)) validate::opt(view(), key, types);
  }
  // As view().at(key).u64(), v the member key found (null: absent).
  uint64_t u64(const char* key, const nlohmann::json* v) const {
    if (!v || !v->is_number_unsigned()) return view().at(key).u64();
    return v->get<uint64_t>();
  }
  [[noreturn]] void fail(const char* key, const std::string& what) const {
    view().at(key).fail(what);
  }

 private:
  const JsonView& parent_;
  const std::string& key_;
  const nlohmann::json& obj_;
};

// The whole document: depth, string and key lengths, no control characters,
// no non-finite numbers. Runs before any typed check, so every string a
// reader prints is short and safe for a terminal.
void text(const nlohmann::json& doc, const std::filesystem::path& file);

// A repetition's "extra": tables and matrices (cells counted in budget).
void extra(const JsonView& extra, LoadBudget& budget);

// meta.json "counters": the run's --perf-stat and --likwid requests.
void meta_counters(const JsonView& counters);

}  // namespace kperflab::validate
