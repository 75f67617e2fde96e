// SPDX-License-Identifier: GPL-2.0-only
#include "cli/ktap.h"

#include <cstdio>
#include <map>
#include <vector>

#include "core/until_ci.h"

namespace kperflab {

namespace {

// A description may hold anything but '#' and a newline (ktap.rst).
std::string description(const std::string& text) {
  std::string out = headline::one_line(text);
  for (char& c : out)
    if (c == '#') c = '_';
  return out;
}

std::string figure(const headline::Figure& f) {
  char v[40];
  std::snprintf(v, sizeof v, "%.6g", f.value);
  return f.metric + (f.stat == "value" ? "" : " " + f.stat) + " " + v + " " + f.unit;
}

}  // namespace

KtapWriter::KtapWriter(std::ostream& out, size_t planned) : out_(out) {
  out_ << "KTAP version 1\n1.." << planned << "\n" << std::flush;
}

void KtapWriter::diag(const std::string& text) {
  out_ << "# " << headline::one_line(text) << "\n" << std::flush;
}

void KtapWriter::probe(const headline::Probe& p) {
  const std::string name = description(p.name);
  ++n_;
  if (p.status == "skipped") {
    out_ << "ok " << n_ << " " << name << " # SKIP "
         << description(p.reason.empty() ? "no reason given" : p.reason) << "\n" << std::flush;
    return;
  }
  // Groups in the order of their first figure (figures are sorted by metric).
  std::vector<std::string> order;
  std::map<std::string, std::vector<const headline::Figure*>> groups;
  for (const auto& f : p.figures) {
    auto [it, fresh] = groups.try_emplace(f.group());
    if (fresh) order.push_back(f.group());
    it->second.push_back(&f);
  }
  // Violations by the group of their metric; the probe's own (it ended
  // partial or failed) apart.
  const std::string own = headline::run_violation(p.status, p.reason);
  std::map<std::string, std::vector<std::string>> bad;  // group -> violations
  for (const auto& v : p.violations) {
    if (v == own) continue;
    bad[headline::Figure{v.substr(0, v.find(' ')), "", 0, "", 0}.group()].push_back(v);
  }
  // kunit_parser (tools/testing/kunit, `kunit.py parse`) counts leaf tests
  // only: a "not ok" probe whose subtests are all "ok" reads as passed there.
  // So every reason for a "not ok" gets a failing subtest of its own: the
  // group of a violation (also a group whose figures were all thin), and
  // "run" for a probe that ended partial or failed.
  std::vector<std::string> bare;  // groups with violations and no figures
  for (const auto& [g, vs] : bad)
    if (!groups.count(g)) bare.push_back(g);
  const std::string in = "    ";
  out_ << in << "KTAP version 1\n" << in << "# Subtest: " << name << "\n"
       << in << "1.." << order.size() + bare.size() + !own.empty() << "\n";
  size_t k = 0;
  for (const auto& g : order) {
    const auto& figs = groups[g];
    for (size_t i = 0; i < figs.size() && i < kFiguresPerGroup; ++i)
      out_ << in << "# " << headline::one_line(figure(*figs[i])) << "\n";
    if (figs.size() > kFiguresPerGroup)
      out_ << in << "# ... and " << figs.size() - kFiguresPerGroup << " more in the bundle\n";
    auto b = bad.find(g);
    if (b != bad.end())
      for (const auto& v : b->second) out_ << in << "# " << headline::one_line(v) << "\n";
    out_ << in << (b == bad.end() ? "ok " : "not ok ") << ++k << " " << description(g) << "\n";
  }
  for (const auto& g : bare) {
    for (const auto& v : bad[g])
      out_ << in << "# " << name << ": " << headline::one_line(v) << "\n";
    out_ << in << "not ok " << ++k << " " << description(g) << "\n";
  }
  if (!own.empty())
    out_ << in << "# " << name << ": " << headline::one_line(own) << "\n"
         << in << "not ok " << ++k << " run\n";
  if (p.thin)
    out_ << "# " << name << ": " << p.thin << " histograms with fewer than "
         << kHeadlineMinCount << " samples in some repetition left out\n";
  out_ << (p.passed() ? "ok " : "not ok ") << n_ << " " << name << "\n" << std::flush;
}

void KtapWriter::not_run(const std::string& name, const std::string& why) {
  ++n_;
  out_ << "# " << description(name) << ": " << headline::one_line(why) << "\n"
       << "not ok " << n_ << " " << description(name) << "\n" << std::flush;
}

}  // namespace kperflab
