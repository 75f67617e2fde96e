// SPDX-License-Identifier: GPL-2.0-only
// Typed, ranged probe parameters (issue #12, item 3).
//
// Every probe declares each parameter it accepts: its type, its range or
// choices, and one line saying what it does. `--set PROBE.KEY=VALUE` is
// checked against that declaration before anything runs, so -1 cannot wrap
// to 2^32-1, 0 or 1e99 cannot reach a CHECK, and a typo is an error instead
// of a run with defaults. The profiles' own defaults pass the same check
// (tests/core/test_params.cpp).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

enum class ParamType {
  integer,       // whole number in [lo, hi]
  number,        // finite number in [lo, hi]
  boolean,       // true | false
  text,          // free text (a further rule may restrict it)
  choice,        // one of choices
  integer_list,  // list of integers, each in [lo, hi]
  number_list,   // list of finite numbers, each in [lo, hi]
  choice_list,   // list of distinct choices
};

struct ParamSpec {
  std::string key;
  ParamType type = ParamType::integer;
  double lo = 0, hi = 0;                // integer/number and their lists' elements
  std::vector<std::string> choices;     // choice, choice_list
  size_t min_items = 0, max_items = 0;  // lists
  std::string description;
  // A further rule on a value that already has the right type and range:
  // returns why the value is refused, or "" when it is fine.
  std::function<std::string(const nlohmann::json&)> rule;
  std::string rule_text;  // what the rule allows, for allowed()

  static ParamSpec integer(std::string key, double lo, double hi, std::string what);
  static ParamSpec number(std::string key, double lo, double hi, std::string what);
  static ParamSpec boolean(std::string key, std::string what);
  static ParamSpec text(std::string key, std::string what);
  static ParamSpec choice(std::string key, std::vector<std::string> choices, std::string what);
  static ParamSpec integer_list(std::string key, double lo, double hi, size_t min_items,
                                size_t max_items, std::string what);
  static ParamSpec number_list(std::string key, double lo, double hi, size_t min_items,
                               size_t max_items, std::string what);
  static ParamSpec choice_list(std::string key, std::vector<std::string> choices,
                               size_t min_items, std::string what);
  ParamSpec&& with_rule(std::function<std::string(const nlohmann::json&)> r,
                        std::string allows = "") && {
    rule = std::move(r);
    rule_text = std::move(allows);
    return std::move(*this);
  }

  // "integer 1..1000000", "list of spin|sleep|half (1 to 3 items)".
  std::string allowed() const;
};

using ParamSpecs = std::vector<ParamSpec>;

const ParamSpec* find_spec(const ParamSpecs& specs, const std::string& key);

// The typed value of `--set PROBE.KEY=TEXT`. Lists are JSON arrays
// ('["spin","sleep"]') or comma lists (spin,sleep). Throws
// std::invalid_argument naming probe.key, the text and what is allowed.
nlohmann::json parse_param(const std::string& probe, const ParamSpec& spec,
                           const std::string& text);

// Checks a value already in JSON form (a profile's default, a parsed --set).
// Throws std::invalid_argument as parse_param does.
// `shown` is the value as the user typed it ("" = value's own text).
void check_param(const std::string& probe, const ParamSpec& spec, const nlohmann::json& value,
                 const std::string& shown = "");

// Every key of params must be declared and valid; throws otherwise.
void check_params(const std::string& probe, const ParamSpecs& specs,
                  const nlohmann::json& params);

// "iterations, states, ..." for error messages.
std::string spec_keys(const ParamSpecs& specs);

}  // namespace kperflab
