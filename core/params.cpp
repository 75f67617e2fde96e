// SPDX-License-Identifier: GPL-2.0-only
#include "core/params.h"

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/read_file.h"

namespace kperflab {

using nlohmann::json;

namespace {

// A --set value: a JSON list on the command line (probe lists are short).
constexpr ReadLimits kParamText{size_t{1} << 20, 4, 65536, "a --set value"};

// Bounds are whole numbers for integers; print them without an exponent.
std::string num(double v) {
  std::ostringstream o;
  if (v == std::floor(v) && std::fabs(v) < 1e15) o << static_cast<long long>(v);
  else o << v;
  return o.str();
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

bool is_list(ParamType t) {
  return t == ParamType::integer_list || t == ParamType::number_list ||
         t == ParamType::choice_list;
}

ParamType element_type(ParamType t) {
  switch (t) {
    case ParamType::integer_list: return ParamType::integer;
    case ParamType::number_list: return ParamType::number;
    case ParamType::choice_list: return ParamType::choice;
    default: return t;
  }
}

// Strict: an optional sign and digits only ("1e3", "1.0", " 5" refused),
// so the text means exactly one integer.
bool parse_integer(const std::string& s, long long& out) {
  size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (s.size() == i || s.size() - i > 18) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), out);
  return err == std::errc() && end == s.data() + s.size();
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno == 0 && std::isfinite(out);
}

// One scalar of `type` from command-line text; nullopt-like: discarded json.
json scalar_from_text(ParamType type, const std::string& s) {
  switch (type) {
    case ParamType::integer: {
      long long v;
      return parse_integer(s, v) ? json(v) : json(json::value_t::discarded);
    }
    case ParamType::number: {
      double v;
      return parse_number(s, v) ? json(v) : json(json::value_t::discarded);
    }
    case ParamType::boolean:
      if (s == "true") return true;
      if (s == "false") return false;
      return json(json::value_t::discarded);
    default:  // text, choice: JSON-quoted or bare
      if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        try {
          if (auto j = parse_json(s, kParamText, "the value"); j.is_string()) return j;
        } catch (const FileError&) {
        }
      }
      return s;
  }
}

// Why a scalar JSON value is refused by an element of `spec`, "" if fine.
std::string scalar_problem(const ParamSpec& spec, ParamType type, const json& v) {
  switch (type) {
    case ParamType::integer:
      if (!v.is_number_integer()) return "not an integer";
      if (v.get<double>() < spec.lo || v.get<double>() > spec.hi) return "out of range";
      return "";
    case ParamType::number:
      if (!v.is_number() || !std::isfinite(v.get<double>())) return "not a finite number";
      if (v.get<double>() < spec.lo || v.get<double>() > spec.hi) return "out of range";
      return "";
    case ParamType::boolean:
      return v.is_boolean() ? "" : "not true or false";
    case ParamType::text:
      return v.is_string() ? "" : "not text";
    case ParamType::choice:
      if (!v.is_string()) return "not text";
      for (auto& c : spec.choices)
        if (v.get<std::string>() == c) return "";
      return "not one of the choices";
    default:
      return "a list where one value is wanted";
  }
}

[[noreturn]] void refuse(const std::string& probe, const ParamSpec& spec, const std::string& shown,
                         const std::string& why) {
  throw std::invalid_argument("--set " + probe + "." + spec.key + "=" + shown.substr(0, 60) +
                              ": " + why + "; allowed: " + spec.allowed());
}

}  // namespace

ParamSpec ParamSpec::integer(std::string key, double lo, double hi, std::string what) {
  ParamSpec s{std::move(key), ParamType::integer, lo, hi, {}, 0, 0, std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::number(std::string key, double lo, double hi, std::string what) {
  ParamSpec s{std::move(key), ParamType::number, lo, hi, {}, 0, 0, std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::boolean(std::string key, std::string what) {
  ParamSpec s{std::move(key), ParamType::boolean, 0, 0, {}, 0, 0, std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::text(std::string key, std::string what) {
  ParamSpec s{std::move(key), ParamType::text, 0, 0, {}, 0, 0, std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::choice(std::string key, std::vector<std::string> choices, std::string what) {
  ParamSpec s{std::move(key), ParamType::choice, 0, 0, std::move(choices), 0, 0,
              std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::integer_list(std::string key, double lo, double hi, size_t min_items,
                                  size_t max_items, std::string what) {
  ParamSpec s{std::move(key), ParamType::integer_list, lo, hi, {}, min_items, max_items,
              std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::number_list(std::string key, double lo, double hi, size_t min_items,
                                 size_t max_items, std::string what) {
  ParamSpec s{std::move(key), ParamType::number_list, lo, hi, {}, min_items, max_items,
              std::move(what), {}, {}};
  return s;
}
ParamSpec ParamSpec::choice_list(std::string key, std::vector<std::string> choices,
                                 size_t min_items, std::string what) {
  size_t n = choices.size();
  ParamSpec s{std::move(key), ParamType::choice_list, 0, 0, std::move(choices), min_items, n,
              std::move(what), {}, {}};
  return s;
}

std::string ParamSpec::allowed() const {
  if (!rule_text.empty()) return rule_text;
  std::string items = " (" + std::to_string(min_items) + " to " + std::to_string(max_items) +
                      " items, a JSON array or a comma list)";
  switch (type) {
    case ParamType::integer: return "integer " + num(lo) + ".." + num(hi);
    case ParamType::number: return "number " + num(lo) + ".." + num(hi);
    case ParamType::boolean: return "true|false";
    case ParamType::text: return "text";
    case ParamType::choice: return join(choices, "|");
    case ParamType::integer_list: return "list of integers " + num(lo) + ".." + num(hi) + items;
    case ParamType::number_list: return "list of numbers " + num(lo) + ".." + num(hi) + items;
    case ParamType::choice_list: return "list of distinct " + join(choices, "|") + items;
  }
  return "?";
}

const ParamSpec* find_spec(const ParamSpecs& specs, const std::string& key) {
  for (auto& s : specs)
    if (s.key == key) return &s;
  return nullptr;
}

std::string spec_keys(const ParamSpecs& specs) {
  std::vector<std::string> keys;
  for (auto& s : specs) keys.push_back(s.key);
  return join(keys, ", ");
}

void check_param(const std::string& probe, const ParamSpec& spec, const json& value,
                 const std::string& typed) {
  const std::string shown =
      !typed.empty() ? typed : value.is_string() ? value.get<std::string>() : value.dump();
  if (!is_list(spec.type)) {
    if (auto why = scalar_problem(spec, spec.type, value); !why.empty())
      refuse(probe, spec, shown, why);
  } else {
    if (!value.is_array()) refuse(probe, spec, shown, "not a list");
    if (value.size() < spec.min_items || value.size() > spec.max_items)
      refuse(probe, spec, shown, std::to_string(value.size()) + " items");
    std::set<std::string> seen;
    for (auto& e : value) {
      const std::string es = e.is_string() ? e.get<std::string>() : e.dump();
      if (auto why = scalar_problem(spec, element_type(spec.type), e); !why.empty())
        refuse(probe, spec, shown, "item " + es + ": " + why);
      if (spec.type == ParamType::choice_list && !seen.insert(es).second)
        refuse(probe, spec, shown, "item " + es + " given twice");
    }
  }
  if (spec.rule)
    if (auto why = spec.rule(value); !why.empty()) refuse(probe, spec, shown, why);
}

json parse_param(const std::string& probe, const ParamSpec& spec, const std::string& text) {
  json v;
  if (!is_list(spec.type)) {
    v = scalar_from_text(spec.type, text);
  } else if (!text.empty() && text.front() == '[') {
    try {
      v = parse_json(text, kParamText, "the value");  // bounded: an argument may be a bomb too
    } catch (const FileError& e) {
      refuse(probe, spec, text.substr(0, 80), e.problem());
    }
  } else {
    v = json::array();
    for (size_t pos = 0; !text.empty() && pos <= text.size();) {
      size_t comma = text.find(',', pos);
      std::string item = text.substr(pos, comma == std::string::npos ? comma : comma - pos);
      json e = scalar_from_text(element_type(spec.type), item);
      if (e.is_discarded()) refuse(probe, spec, text, "item '" + item + "' has the wrong type");
      v.push_back(std::move(e));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (v.is_discarded()) refuse(probe, spec, text, "not a valid value");
  check_param(probe, spec, v, text);
  return v;
}

void check_params(const std::string& probe, const ParamSpecs& specs, const json& params) {
  for (auto& [key, value] : params.items()) {
    const ParamSpec* s = find_spec(specs, key);
    if (!s)
      throw std::invalid_argument("probe '" + probe + "' has no parameter '" + key +
                                  "' (it has: " + spec_keys(specs) + ")");
    check_param(probe, *s, value);
  }
}

}  // namespace kperflab
