// SPDX-License-Identifier: GPL-2.0-only
// Checked access to a bundle's JSON. Every reader of a loaded bundle (show,
// compare, report, html, export) goes through JsonView instead of
// nlohmann's operator[] / get<>: a const operator[] on a missing key or an
// index past the end is undefined behaviour (it crashed `compare --format
// html` on a ragged matrix, #12), and get<> throws a type_error that names
// neither the file nor the field. A JsonView knows both, so a field that
// validation let through but a reader cannot use still ends in a BundleError
// naming file and field, never in a bad read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/bundle.h"

namespace kperflab {

// JSON types as a bit mask, for "a string or null" and the like.
enum JType : unsigned {
  J_NULL = 1,
  J_BOOL = 2,
  J_INT = 4,      // an integer (signed or unsigned)
  J_NUMBER = 8,   // any number, integers included
  J_STRING = 16,
  J_OBJECT = 32,
  J_ARRAY = 64,
  J_SCALAR = J_NULL | J_BOOL | J_NUMBER | J_STRING,
};

// Whether j is one of types (JsonView::is on a bare value).
bool json_is(const nlohmann::json& j, unsigned types);

class JsonView {
 public:
  JsonView(const nlohmann::json& j, std::shared_ptr<const std::filesystem::path> file,
           std::string path = "")
      : j_(&j), file_(std::move(file)), path_(std::move(path)) {}

  // The JSON itself, for dump() and copies; never index it.
  const nlohmann::json& raw() const { return *j_; }
  const std::string& path() const { return path_; }
  const std::filesystem::path& file() const { return *file_; }

  bool is(unsigned types) const { return json_is(*j_, types); }
  bool is_null() const { return j_->is_null(); }
  bool is_string() const { return j_->is_string(); }
  bool is_number() const { return j_->is_number(); }
  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  // Throws "must be <types>" unless this is one of them; returns *this.
  const JsonView& need(unsigned types) const;

  // An object holding key (a null value counts as present).
  bool has(std::string_view key) const;
  // Required member / element: BundleError when absent.
  JsonView at(std::string_view key) const;
  JsonView at(size_t i) const;
  // Optional member: nullopt when this is no object or the key is absent.
  std::optional<JsonView> find(std::string_view key) const;
  // Optional member that, when present and not null, must be one of types.
  std::optional<JsonView> find_if(std::string_view key, unsigned types) const;

  size_t size() const;                         // array or object
  std::vector<JsonView> elements() const;      // array
  std::vector<std::pair<std::string, JsonView>> members() const;  // object, key order

  std::string str() const;
  double num() const;
  uint64_t u64() const;
  bool boolean() const;
  // A scalar member as display text: a string as it is, a number or bool as
  // JSON, fallback when absent, null or this is no object.
  std::string text(std::string_view key, const std::string& fallback = "n/a") const;

  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string child(std::string_view key) const;
  std::string child(size_t i) const;

  const nlohmann::json* j_;
  std::shared_ptr<const std::filesystem::path> file_;
  std::string path_;
};

// "a string or null" for J_STRING | J_NULL.
std::string type_names(unsigned types);

}  // namespace kperflab
