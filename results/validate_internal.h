// SPDX-License-Identifier: GPL-2.0-only
// Shared by bundle_validate.cpp (meta.json, <probe>.json, metrics) and
// bundle_validate_extra.cpp (text, tables, matrices). Not for readers.
#pragma once

#include <initializer_list>
#include <string>

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

// The whole document: depth, string and key lengths, no control characters,
// no non-finite numbers. Runs before any typed check, so every string a
// reader prints is short and safe for a terminal.
void text(const nlohmann::json& doc, const std::filesystem::path& file);

// A repetition's "extra": tables and matrices (cells counted in budget).
void extra(const JsonView& extra, LoadBudget& budget);

// meta.json "counters": the run's --perf-stat and --likwid requests.
void meta_counters(const JsonView& counters);

}  // namespace kperflab::validate
