// SPDX-License-Identifier: GPL-2.0-only
// Validation of what readers print without knowing the probe: every string
// (length, control characters), and the repetition extras `show` and
// `compare --format html` render, tables and matrices (shape, caps).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "results/validate_internal.h"

namespace kperflab::validate {

namespace fs = std::filesystem;
using nlohmann::json;

void each_member(const JsonView& o, unsigned types) {
  for (auto& [k, v] : o.members()) v.need(types);
}

void Fields::find_all(std::span<const std::string_view> names,
                      std::span<const json*> found) const {
  std::fill(found.begin(), found.end(), nullptr);
  if (!obj_.is_object()) return;
  const auto& o = obj_.get_ref<const json::object_t&>();
  auto it = o.begin();
  for (size_t i = 0; i < names.size() && it != o.end();) {
    const std::string& k = it->first;
    // The first byte settles most comparisons without a call to memcmp.
    int c = k.empty() || names[i].empty()
                ? k.compare(names[i])
                : static_cast<unsigned char>(k[0]) - static_cast<unsigned char>(names[i][0]);
    if (c == 0) c = k.compare(names[i]);
    if (c < 0) {
      ++it;
    } else if (c > 0) {
      ++i;
    } else {
      found[i++] = &it->second;
      ++it;
    }
  }
}

void one_of(const JsonView& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v.raw() == a) return;
  std::string list;
  for (const char* a : allowed) list += std::string(list.empty() ? "" : "|") + a;
  v.fail("must be one of " + list + ", is " + v.raw().dump().substr(0, 80));
}

namespace {

// The path of the node being checked is kept as pointers and indexes and
// only spelled out on an error: the walk visits every node of a file that
// may be 256 MiB.
struct Crumb {
  const std::string* key;  // null: an array index
  size_t index;
};

class TextWalk {
 public:
  explicit TextWalk(const fs::path& file) : file_(file) {}

  void walk(const json& j, bool hist) {
    if (at_.size() > limits::kDepth)
      fail("nested deeper than " + std::to_string(limits::kDepth) + " levels");
    switch (j.type()) {
      case json::value_t::string:
        string(j.get_ref<const std::string&>(), hist ? limits::kHistText : limits::kString, "");
        break;
      case json::value_t::number_float:
        if (!std::isfinite(j.get<double>())) fail("must be a finite number");
        break;
      case json::value_t::object:
        for (auto it = j.begin(); it != j.end(); ++it) {
          string(it.key(), limits::kString, "key ");
          at_.push_back({&it.key(), 0});
          walk(it.value(), it.key() == "hist");
          at_.pop_back();
        }
        break;
      case json::value_t::array:
        for (size_t i = 0; i < j.size(); ++i) {
          at_.push_back({nullptr, i});
          walk(j[i], false);
          at_.pop_back();
        }
        break;
      default: break;
    }
  }

 private:
  // Control characters are refused rather than escaped: nothing kperflab
  // writes holds one, and a bundle that does was made to attack a terminal.
  void string(const std::string& s, size_t cap, const char* what) {
    if (s.size() > cap)
      fail(std::string(what) + "is " + std::to_string(s.size()) + " bytes long, at most " +
           std::to_string(cap));
    if (auto why = refused_text(s); !why.empty()) fail(what + why);
  }

  [[noreturn]] void fail(const std::string& what) const {
    std::string path;
    for (auto& c : at_)
      path += c.key ? (path.empty() ? "" : ".") + c.key->substr(0, 64)
                    : "[" + std::to_string(c.index) + "]";
    throw BundleError(file_, path, what);
  }

  const fs::path& file_;
  std::vector<Crumb> at_;
};

void charge(LoadBudget& b, uint64_t cells, const JsonView& where) {
  b.cells += cells;
  if (b.cells > limits::kCells)
    where.fail("the bundle's tables and matrices hold more than " +
               std::to_string(limits::kCells) + " cells");
}

// Labels and table cells are scalars: printed as they are, never walked.
void scalars(const JsonView& a, const char* what) {
  const json& raw = a.raw();
  for (size_t i = 0; i < raw.size(); ++i)
    if (raw[i].is_structured()) a.at(i).fail(std::string("must be a ") + what +
                                             " (a string, number, true/false or null)");
}

void table(const JsonView& t, LoadBudget& budget) {
  t.need(J_OBJECT);
  opt(t, "title", J_STRING);
  JsonView cols = req(t, "columns", J_ARRAY);
  if (cols.size() > limits::kTableColumns)
    cols.fail("has " + std::to_string(cols.size()) + " columns, at most " +
              std::to_string(limits::kTableColumns));
  scalars(cols, "column title");
  JsonView rows = req(t, "rows", J_ARRAY);
  charge(budget, (rows.size() + 1) * std::max<size_t>(cols.size(), 1), rows);
  for (size_t r = 0; r < rows.size(); ++r) {
    JsonView row = rows.at(r);
    row.need(J_ARRAY);
    if (row.size() != cols.size())
      row.fail("has " + std::to_string(row.size()) + " cells, the table has " +
               std::to_string(cols.size()) + " columns");
    scalars(row, "cell");
  }
}

void labels(const JsonView& l) {
  l.need(J_ARRAY);
  if (l.size() > limits::kMatrixSide)
    l.fail("has " + std::to_string(l.size()) + " labels, at most " +
           std::to_string(limits::kMatrixSide));
  scalars(l, "label");
}

void matrix(const JsonView& m, LoadBudget& budget) {
  m.need(J_OBJECT);
  opt(m, "title", J_STRING);
  opt(m, "unit", J_STRING);
  JsonView rows = m.at("rows"), cols = m.at("cols");
  labels(rows);
  labels(cols);
  JsonView values = req(m, "values", J_ARRAY);
  if (values.size() != rows.size())
    values.fail("has " + std::to_string(values.size()) + " rows, 'rows' has " +
                std::to_string(rows.size()) + " labels");
  charge(budget, rows.size() * std::max<size_t>(cols.size(), 1), values);
  for (size_t r = 0; r < values.size(); ++r) {
    JsonView row = values.at(r);
    row.need(J_ARRAY);
    if (row.size() != cols.size())
      row.fail("has " + std::to_string(row.size()) + " values, 'cols' has " +
               std::to_string(cols.size()) + " labels");
    const json& raw = row.raw();
    for (size_t c = 0; c < raw.size(); ++c)
      if (!raw[c].is_number() && !raw[c].is_null()) row.at(c).fail("must be a number or null");
  }
}

// One counter of a repetition: counted, or why not (never a silent zero).
void counter(const JsonView& c, bool perf_stat) {
  c.need(J_OBJECT);
  if (c.has("unavailable")) {
    req(c, "unavailable", J_STRING);
    return;
  }
  req(c, "value", J_NUMBER);
  req(c, "scaled", J_BOOL);
  if (perf_stat)
    for (const char* k : {"enabled_ns", "running_ns"}) req(c, k, J_NUMBER);
}

void counters(const JsonView& c) {
  c.need(J_OBJECT);
  if (auto ps = c.find("perf_stat"))
    for (auto& [n, e] : ps->need(J_OBJECT).members()) counter(e, true);
  if (auto lk = c.find("likwid")) {
    lk->need(J_OBJECT);
    req(*lk, "region", J_STRING);
    if (auto ev = lk->find("events")) each_member(ev->need(J_OBJECT), J_NUMBER);
  }
}

}  // namespace

void meta_counters(const JsonView& c) {
  c.need(J_OBJECT);
  if (auto ps = c.find("perf_stat")) {
    ps->need(J_OBJECT);
    for (auto& e : req(*ps, "events", J_ARRAY).elements()) e.need(J_STRING);
    req(*ps, "pmu", J_STRING | J_NULL);
    req(*ps, "why", J_STRING | J_NULL);
  }
  if (auto lk = c.find("likwid")) {
    lk->need(J_OBJECT);
    req(*lk, "group", J_STRING);
    opt(*lk, "unavailable", J_STRING);
    opt(*lk, "cpus", J_STRING);
  }
}

void text(const json& doc, const fs::path& file) { TextWalk(file).walk(doc, false); }

void extra(const JsonView& extra, LoadBudget& budget) {
  extra.need(J_OBJECT);
  if (auto c = extra.find("counters")) counters(*c);
  if (auto t = extra.find("tables"))
    for (auto& x : t->need(J_ARRAY).elements()) table(x, budget);
  if (auto m = extra.find("matrices"))
    for (auto& x : m->need(J_ARRAY).elements()) matrix(x, budget);
}

}  // namespace kperflab::validate
