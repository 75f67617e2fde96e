// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/campaign.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "analysis/catalog.h"
#include "analysis/report.h"
#include "results/output_file.h"

namespace kperflab::campaign {

namespace {

SideState state_of(const std::string& sel, const compare::Side& s, const std::string& boot_id,
                   const std::string& release) {
  SideState st;
  st.selector = sel;
  std::set<std::string> boots, rel;
  for (auto& b : s.bundles) {
    JsonView k = b.meta_view().at("kernel");
    std::string id = k.text("boot_id", "");
    boots.insert(id.empty() ? "bundle:" + b.dir.string() : id);
    if (!id.empty() && id == boot_id) st.this_boot = true;
    rel.insert(k.text("release", "?"));
  }
  st.boots = boots.size();
  st.releases.assign(rel.begin(), rel.end());
  st.this_kernel = rel.count(release) > 0;
  return st;
}

// "--tag NAME" for a tag:NAME selector; otherwise the selector itself.
std::string run_cmd(const std::string& sel) {
  if (sel.rfind("tag:", 0) == 0 && sel.find('+') == std::string::npos)
    return "`./run.sh run --tag " + sel.substr(4) + "`";
  return "a run that `" + sel + "` selects (e.g. `./run.sh run --tag NAME`)";
}

std::string kernel_of(const SideState& s) {
  std::string k;
  for (auto& r : s.releases) k += (k.empty() ? "" : " or ") + r;
  return k;
}

}  // namespace

State assess(const std::string& sel_a, const compare::Side& a, const std::string& sel_b,
             const compare::Side& b, const compare::Options& opt, const std::string& boot_id,
             const std::string& release, size_t min_boots) {
  State s;
  s.a = state_of(sel_a, a, boot_id, release);
  s.b = state_of(sel_b, b, boot_id, release);
  s.needed = std::max<size_t>(min_boots, 3);
  s.why = "at least " + std::to_string(s.needed) + " boots per side (the t test over boots "
          "needs a spread on each side)";
  if (!a.bundles.empty() && !b.bundles.empty() && s.a.boots >= 2 && s.b.boots >= 2) {
    compare::Result r = compare::compare(a, b, opt);
    if (r.boots_needed > s.needed) {
      s.needed = r.boots_needed;
      s.why = "compare leaves changes undecided with " + std::to_string(s.a.boots) + " vs " +
              std::to_string(s.b.boots) + " boots; about " + std::to_string(r.boots_needed) +
              " per side would find the median undecided change with 80% power";
    } else if (r.basis == compare::Basis::boots) {
      s.why += "; compare over the boots decides every change it sees";
    }
  }
  auto left = [&](const SideState& x) { return x.boots >= s.needed ? 0 : s.needed - x.boots; };
  size_t la = left(s.a), lb = left(s.b);
  if (!la && !lb) {
    s.done = true;
    s.next = "both sides have " + std::to_string(s.needed) + " boots or more: `kperflab compare " +
             sel_a + " " + sel_b + "` (or `kperflab series` with more sides)";
    return s;
  }
  // Run now where this kernel is a side that still needs boots and this
  // boot has not run for it yet; otherwise reboot into the side that lags.
  for (auto* x : {&s.a, &s.b}) {
    size_t l = left(*x);
    if (l && x->this_kernel && !x->this_boot) {
      s.next = "run now on this kernel (" + release + "): " + run_cmd(x->selector) + "; " +
               std::to_string(l) + " more boot" + (l == 1 ? "" : "s") + " needed for " +
               x->selector;
      return s;
    }
  }
  const SideState& lag = la >= lb ? s.a : s.b;
  size_t l = std::max(la, lb);
  if (lag.releases.empty()) {  // nothing run for it yet
    s.next = "on the kernel " + lag.selector + " stands for (reboot into it unless it runs), " +
             run_cmd(lag.selector) + "; " + std::to_string(l) + " boots needed for it";
    return s;
  }
  s.next = "reboot into " + kernel_of(lag) + " (boot loader, or kexec), then " +
           run_cmd(lag.selector) + "; " + std::to_string(l) + " more boot" +
           (l == 1 ? "" : "s") + " needed for " + lag.selector +
           (lag.this_boot ? " (this boot already ran for it: one run per boot counts)" : "");
  return s;
}

std::string text(const State& s) {
  std::ostringstream o;
  o << "campaign: " << s.a.selector << " vs " << s.b.selector << "\n";
  for (auto* x : {&s.a, &s.b}) {
    std::string k;
    for (auto& r : x->releases) k += (k.empty() ? "" : ", ") + r;
    report::wrap(o,
                 x->selector + ": " + std::to_string(x->boots) + " boot" +
                     (x->boots == 1 ? "" : "s") + (k.empty() ? "" : " of " + k) +
                     (x->this_boot ? " (this boot among them)" : ""),
                 "  ", "      ");
  }
  report::wrap(o, "needed: " + std::to_string(s.needed) + " boots per side: " + s.why, "  ",
               "      ");
  report::wrap(o, "next: " + s.next, "  ", "      ");
  return o.str();
}

}  // namespace kperflab::campaign
