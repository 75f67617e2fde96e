// SPDX-License-Identifier: GPL-2.0-only
// Findings of the default `kperflab show` screen: what the bundle records
// that a kernel engineer must not miss, read from the measurements
// themselves (litmus outcomes, missed IPIs, samples counted invalid), from
// the probes' notes and from meta.json (probe status, noise check).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "cli/show.h"
#include "cli/show_summary.h"

namespace kperflab::show {

namespace {

std::string last_part(const std::string& name) { return name.substr(name.rfind('/') + 1); }

std::string parent(const std::string& name) {
  size_t at = name.rfind('/');
  return at == std::string::npos ? "" : name.substr(0, at);
}

std::string num(double v, const char* f = "%.3g") {
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Counters of samples a probe dropped or could not attribute, by the last
// component of the metric's name, and what a nonzero count means.
const std::map<std::string, const char*>& dropped_kinds() {
  static const std::map<std::string, const char*> k = {
      {"invalid", "samples not measured (failed calls, clock disagreement)"},
      {"invalid_batches", "batches dropped as invalid"},
      {"negative_samples", "samples dropped: negative after the baseline"},
      {"negative", "samples dropped: negative time deltas"},
      {"negative_deltas", "IPI deliveries not timed: handler before send (clock skew)"},
      {"foreign_ipis", "foreign IPIs seen while tracing (other senders' callbacks)"},
      {"unmatched", "lock events without their pair (not timed)"},
      {"slots_full", "holds not timed: tracking slots full"},
      {"oracle_not_busy", "calls the oracle did not see busy"},
      {"errors", "calls that returned an error"},
  };
  return k;
}

// Drop counters, one finding per kind: the metric with the most (summed
// over the repetitions) and how many metrics counted any. Not summed across
// metrics: a probe may store a total beside its per-point counts.
void dropped(const std::string& probe, const std::map<std::string, Series>& s, size_t reps,
             std::vector<Finding>& out) {
  struct Worst {
    double total = 0;
    size_t metrics = 0;
    std::string at;
  };
  std::map<std::string, Worst> by;
  for (auto& [name, x] : s) {
    auto k = dropped_kinds().find(last_part(name));
    if (x.hist || k == dropped_kinds().end()) continue;
    double t = 0;
    for (double v : x.value) t += v;
    if (t <= 0) continue;
    Worst& w = by[k->first];
    ++w.metrics;
    if (t > w.total) w.total = t, w.at = name;
  }
  for (auto& [kind, w] : by)
    out.push_back({1, probe,
                   num(w.total, "%.0f") + " " + dropped_kinds().at(kind) + ": " + w.at + " over " +
                       std::to_string(reps) + " repetitions" +
                       (w.metrics > 1 ? " (" + std::to_string(w.metrics) + " metrics count some)"
                                      : "")});
}

// IPIs a membarrier command should have sent and did not: the registration
// order points (GLOBAL_EXPEDITED skipping registered, running threads,
// judged against the PRIVATE_EXPEDITED control) and any other point that
// missed more than a tenth of them. Once the skip is a finding, the sweep's
// own global_expedited points that missed (the probe registers while single
// threaded, the same cause) are named in it, not said again. Returns the
// points named, whose notes then say nothing new.
std::set<std::string> missed_ipis(const std::string& probe, const std::map<std::string, Series>& s,
                                  std::vector<Finding>& out) {
  std::set<std::string> named;
  std::optional<size_t> skip;  // the GLOBAL_EXPEDITED skip finding in out
  for (bool registered : {true, false})
    for (auto& [name, x] : s) {
      if (last_part(name) != "missed_ipi_fraction" || x.value.empty()) continue;
      if ((name.find("registered=") != std::string::npos) != registered) continue;
      double m = median(x.value);
      if (m <= 0.1) continue;
      std::string point = parent(name);
      std::string missed = " missed " + num(100 * m, "%.0f") + " % of its IPIs";
      named.insert(point);
      if (!registered && skip && point.rfind("global_expedited/", 0) == 0) {
        out[*skip].text += "; in the sweep " + point + missed;
        continue;
      }
      std::string text = point + missed + " (median of " + std::to_string(x.value.size()) +
                         " repetitions)";
      int level = 1;
      auto c = s.find(point + "/control_private_expedited_ipis_per_call");
      if (registered && c != s.end() && !c->second.value.empty()) {
        double ctl = median(c->second.value);
        if (ctl >= 0.5) {
          level = 0;
          text = "GLOBAL_EXPEDITED skips registered threads: " + text +
                 ", while the PRIVATE_EXPEDITED control reached the same running target (" +
                 num(ctl) + " IPIs/call)";
          if (!skip) skip = out.size();
        } else {
          text += "; the control missed too (" + num(ctl) + " IPIs/call): the target was not "
                  "running (a loaded machine)";
        }
      }
      out.push_back({level, probe, text});
    }
  for (auto& [name, x] : s)
    if (last_part(name) == "unexpected_ipi_fraction" && !x.value.empty() && median(x.value) > 0)
      out.push_back({1, probe, parent(name) + ": " + num(100 * median(x.value)) +
                                   " % of IPIs unexpected (sent where no target was)"});
  return named;
}

// A note's kind: its text less a leading point name ("global_expedited/
// targets=1/spin: ...") and free-standing numbers ("missed 0.012"), not
// those of a name ("targets=1").
std::pair<std::string, std::string> note_kind(const std::string& text) {
  std::string point, rest = text;
  size_t colon = text.find(": ");
  if (colon != std::string::npos && text.find(' ') > colon) {
    point = text.substr(0, colon);
    rest = text.substr(colon + 2);
  }
  std::string key;
  for (size_t i = 0; i < rest.size(); ++i) {
    auto c = static_cast<unsigned char>(rest[i]);
    char before = key.empty() ? ' ' : key.back();
    if (std::isdigit(c) && before != '=' && before != '_' && !std::isalpha(before)) {
      while (i + 1 < rest.size() &&
             (std::isdigit(static_cast<unsigned char>(rest[i + 1])) || rest[i + 1] == '.'))
        ++i;
      key += '#';
      continue;
    }
    key += rest[i];
  }
  return {point, key};
}

// Notes the probe wrote (tables whose only column is "note"): one finding
// per kind, naming the points it was written for and in how many
// repetitions, the first such note's text cut to ~3 lines.
// The probes' own notes, one line per kind; notes only about points a
// finding above already names (`covered`) are left to --repetitions.
void notes(const std::string& probe, const std::vector<JsonView>& reps,
           const std::set<std::string>& covered, std::vector<Finding>& out) {
  struct Kind {
    std::string text;
    std::vector<std::string> points;
    std::set<size_t> reps;
  };
  std::vector<std::string> order;
  std::map<std::string, Kind> kinds;
  for (size_t r = 0; r < reps.size(); ++r) {
    auto extra = reps[r].find("extra");
    auto tables = extra ? extra->find("tables") : std::nullopt;
    if (!tables || !tables->is_array()) continue;
    for (auto& t : tables->elements()) {
      auto cols = t.at("columns").elements();
      if (cols.size() != 1 || !cols[0].is_string() || cols[0].str() != "note") continue;
      for (auto& row : t.at("rows").elements()) {
        if (!row.at(size_t{0}).is_string()) continue;
        std::string text = printable(row.at(size_t{0}).str());
        auto [point, key] = note_kind(text);
        Kind& k = kinds[key];
        if (k.text.empty()) order.push_back(key), k.text = text;
        if (!point.empty() &&
            std::find(k.points.begin(), k.points.end(), point) == k.points.end())
          k.points.push_back(point);
        k.reps.insert(r);
      }
    }
  }
  for (auto& key : order) {
    const Kind& k = kinds[key];
    if (!k.points.empty() && std::all_of(k.points.begin(), k.points.end(), [&](auto& p) {
          return covered.count(p) > 0;
        }))
      continue;
    std::string text = k.text.size() > 200 ? k.text.substr(0, 185) + "..." : k.text;
    std::string tail = std::to_string(k.reps.size()) + " of " + std::to_string(reps.size()) +
                       " repetitions";
    for (size_t i = 1; i < k.points.size(); ++i) tail += (i > 1 ? ", " : "; also ") + k.points[i];
    if (tail.size() > 130) tail = tail.substr(0, 115) + "...";
    out.push_back({2, probe, "note: " + text + " (" + tail + "; --repetitions)"});
  }
}

void overflowed(const std::string& probe, const std::map<std::string, Series>& s,
                std::vector<Finding>& out) {
  size_t n = 0;
  std::string first;
  for (auto& [name, x] : s)
    if (x.overflow) {
      if (!n++) first = name;
    }
  if (n)
    out.push_back({1, probe, std::to_string(n) + " histograms overflowed (values past the "
                                                 "tracked range), e.g. " + first});
}

// Thread points that ended at their time cap (core/point_cap.h): a note
// with the samples not taken and the point that cut the most.
void capped(const std::string& probe, const std::map<std::string, Series>& s,
            std::vector<Finding>& out) {
  static const std::string kCut = "/check/samples_cut";
  size_t points = 0;
  double total = 0, most = 0;
  std::string at;
  for (auto& [name, x] : s) {
    if (x.hist || name.size() < kCut.size() ||
        name.compare(name.size() - kCut.size(), kCut.size(), kCut) != 0)
      continue;
    double t = 0;
    for (double v : x.value) t += v;
    if (t <= 0) continue;
    ++points;
    total += t;
    if (t > most) most = t, at = name.substr(0, name.size() - kCut.size());
  }
  if (points)
    out.push_back({2, probe, std::to_string(points) +
                             (points == 1 ? " thread point" : " thread points") +
                             " ended at the time cap (sweep_cap: this host did not run the "
                             "threads side by side), " +
                             num(total, "%.0f") + " samples not taken, most at " + at});
}

// The ipi probe's record of samples it could not measure
// (extra.invalid_samples: {point: {failed, negative, ...}}): calls the
// kernel failed, summed over points and repetitions.
void failed_ipis(const std::string& probe, const std::vector<JsonView>& reps,
                 std::vector<Finding>& out) {
  double failed = 0;
  std::string at;
  for (auto& r : reps) {
    auto e = r.find("extra");
    auto inv = e ? e->find_if("invalid_samples", J_OBJECT) : std::nullopt;
    if (!inv) continue;
    for (auto& [point, x] : inv->members())
      if (auto f = x.find("failed"); f && f->is_number() && f->num() > 0) {
        failed += f->num();
        if (at.empty()) at = printable(point);
      }
  }
  if (failed > 0)
    out.push_back({1, probe, num(failed, "%.0f") + " IPI calls failed over " +
                                 std::to_string(reps.size()) + " repetitions (first at " + at +
                                 "; not timed)"});
}

void until_ci(const std::string& probe, const JsonView& doc, std::vector<Finding>& out) {
  auto u = doc.find("until_ci");
  if (!u || !u->is_object() || u->at("above_target").num() <= 0) return;
  out.push_back({2, probe, "--until-ci +-" + num(u->at("target_half_width_pct").num()) +
                               " % not reached for " + num(u->at("above_target").num()) + " of " +
                               num(u->at("headline_metrics").num()) + " headline metrics (stopped: " +
                               printable(u->at("stopped").str()) + ")"});
}

}  // namespace

std::vector<Finding> findings(const Bundle& b, const std::vector<headline::Probe>& probes,
                              const std::string& only) {
  std::vector<Finding> out;
  JsonView m = b.meta_view();
  if (auto n = m.find_if("noise_check", J_OBJECT); n && only.empty())
    if (n->at("ran").boolean() && n->at("noisy").boolean())
      out.push_back({1, "", "the noise check found this machine noisy (spread above " +
                                printable(n->text("threshold_pct")) +
                                " %): latencies carry other work's interference"});
  for (auto& p : probes) {
    if (!only.empty() && p.name != only) continue;
    for (auto& v : p.violations) out.push_back({0, p.name, v});
    if (p.status == "skipped")
      out.push_back({1, p.name, "skipped: " + (p.reason.empty() ? "no reason given" : p.reason)});
    if (!b.probes.count(p.name)) continue;
    JsonView doc = b.probe_view(p.name);
    auto reps = doc.at("repetitions").elements();
    auto s = collect(doc);
    auto covered = missed_ipis(p.name, s, out);
    dropped(p.name, s, reps.size(), out);
    failed_ipis(p.name, reps, out);
    overflowed(p.name, s, out);
    capped(p.name, s, out);
    for (auto& r : reps)
      if (auto e = r.find("extra"); e && e->has("interrupted")) {
        out.push_back({1, p.name, "interrupted (^C): the last repetition stops part way"});
        break;
      }
    until_ci(p.name, doc, out);
    // The host's other processes paid more than 5 % while points were
    // armed, and more than twice the windows' own noise.
    std::vector<double> by, noise;
    bool load = false;  // a load of ours (the module probes), not attached programs
    for (auto& r : reps)
      if (auto m = r.at("metrics").find("effect/bystander/ratio")) {
        if (auto v = m->find("value"); v && v->is_number()) by.push_back(v->num());
        if (auto l = m->find("labels")) {
          if (auto n = l->find("noise"); n && n->is_number()) noise.push_back(n->num());
          if (l->has("load")) load = true;
        }
      }
    if (!by.empty()) {
      std::sort(by.begin(), by.end());
      std::sort(noise.begin(), noise.end());
      double ratio = by[by.size() / 2];
      double floor = noise.empty() ? 0 : 2 * noise[noise.size() / 2];
      if (ratio < 0.95 && 1 - ratio > floor)
        out.push_back({1, p.name, "a bystander process ran " + num(100 * (1 - ratio), "%.0f") +
                                      (load ? " % slower while this probe's load ran "
                                            : " % slower while this probe's programs were attached ") +
                                      "(effect/bystander/ratio " + num(ratio) +
                                      "): the host's other processes pay it while it measures"});
    }
    if (auto l = doc.find("bpf_links_left"); l && l->is_number() && l->num() > 0)
      out.push_back({0, p.name, num(l->num(), "%.0f") +
                                    " BPF links stayed attached after the probe ended: its "
                                    "programs ran on during the probes after it (a probe bug)"});
    notes(p.name, reps, covered, out);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& x, const Finding& y) { return x.level < y.level; });
  return out;
}

void print_wrapped(const std::string& lead, const std::string& text, size_t indent) {
  std::printf("%s", wrapped(lead, text, indent).c_str());
}

std::string wrapped(const std::string& lead, const std::string& text, size_t indent) {
  std::string out, line = lead;
  size_t start = line.size();
  std::string word;
  auto flush_word = [&] {
    if (word.empty()) return;
    // Past the end: on a new line, unless the word fills a line anyway.
    if (line.size() + 1 + word.size() > kWidth && line.size() > indent &&
        (line.size() > start || word.size() <= kWidth - indent)) {
      out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
      line = std::string(indent, ' ');
      start = line.size();
    }
    if (line.size() > start) line += ' ';
    // A word longer than a line is cut.
    while (line.size() + word.size() > kWidth) {
      size_t room = kWidth - line.size();
      out += line + word.substr(0, room) + "\n";
      word = word.substr(room);
      line = std::string(indent, ' ');
      start = line.size();
    }
    line += word;
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') flush_word();
    else word += c;
  }
  flush_word();
  return out + line + "\n";
}

void print_findings(const std::vector<Finding>& f, size_t max_notes) {
  static const char* const kMark[] = {"!!", "! ", "- "};
  size_t n[3] = {0, 0, 0};
  for (auto& x : f) ++n[x.level];
  std::printf("\nfindings: %zu violations, %zu warnings, %zu notes\n", n[0], n[1], n[2]);
  size_t notes = 0;
  for (auto& x : f) {
    if (x.level == 2 && notes++ >= max_notes) continue;
    print_wrapped(std::string("  ") + kMark[x.level] + " " +
                      (x.probe.empty() ? "" : printable(x.probe) + ": "),
                  x.text, 7);
  }
  if (notes > max_notes)
    std::printf("  -  %zu more notes: --full lists every finding\n", notes - max_notes);
}

}  // namespace kperflab::show
