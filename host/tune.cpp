// SPDX-License-Identifier: GPL-2.0-only
// --tune (tune.h) and `kperflab restore`.
#include "host/tune.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <system_error>

#include "results/bundle.h"

namespace kperflab {

namespace fs = std::filesystem;

Tuning::Tuning(TuneOptions opt) : opt_(std::move(opt)) {
  // A run that died tuned left its records: the values before it are the
  // originals, not what it set (`run` has done this already; other callers
  // may not have).
  try {
    (void)recover_stale_holds(opt_.hold_dir);
  } catch (const std::exception&) {
    // Each SysctlHold below still applies a stale record of its own path.
  }
  governors();
  cpu_latency();
  hold("kernel.nmi_watchdog", opt_.root / "proc/sys/kernel/nmi_watchdog", "0");
  hold("kernel.numa_balancing", opt_.root / "proc/sys/kernel/numa_balancing", "0");
  if (opt_.boost_off) {
    fs::path nt = opt_.root / "sys/devices/system/cpu/intel_pstate/no_turbo";
    fs::path b = opt_.root / "sys/devices/system/cpu/cpufreq/boost";
    if (fs::exists(nt) || !fs::exists(b)) hold("boost (intel_pstate/no_turbo)", nt, "1");
    else hold("boost (cpufreq/boost)", b, "0");
  }
}

Tuning::~Tuning() { release(); }

void Tuning::hold(const std::string& setting, const fs::path& path, const std::string& to) {
  TuneItem it{setting, path.string(), "", "", to, "", 0, ""};
  try {
    auto cur = read_setting(path);
    if (!cur) {
      it.status = "absent";
    } else if (it.from = *cur; *cur == to) {
      it.status = "already";
    } else {
      auto h = std::make_unique<SysctlHold>(path, to, opt_.hold_dir);
      it.from = h->original();
      it.to = h->held();
      it.status = "tuned";
      holds_.emplace_back(items_.size(), std::move(h));
    }
  } catch (const std::system_error& e) {
    it.status = e.code().value() == ENOENT ? "absent" : "failed";
    it.err = e.code().value();
    it.error = printable(e.what());
  } catch (const std::exception& e) {
    it.status = "failed";
    it.error = printable(e.what());
  }
  items_.push_back(std::move(it));
}

void Tuning::governors() {
  // One scaling_governor per cpufreq policy (CPUs sharing a clock); older
  // kernels without policy directories: one per CPU.
  std::vector<std::pair<std::string, fs::path>> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(opt_.root / "sys/devices/system/cpu/cpufreq", ec))
    if (auto n = e.path().filename().string(); n.starts_with("policy"))
      files.emplace_back("cpufreq governor " + n, e.path() / "scaling_governor");
  if (files.empty())
    for (auto& e : fs::directory_iterator(opt_.root / "sys/devices/system/cpu", ec)) {
      auto n = e.path().filename().string();
      if (n.size() > 3 && n.starts_with("cpu") && n.find_first_not_of("0123456789", 3) == n.npos &&
          fs::exists(e.path() / "cpufreq/scaling_governor"))
        files.emplace_back("cpufreq governor " + n, e.path() / "cpufreq/scaling_governor");
    }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    items_.push_back({"cpufreq governor", (opt_.root / "sys/devices/system/cpu/cpufreq").string(),
                      "absent", "", "performance", "no cpufreq policies on this host", 0, ""});
    return;
  }
  for (auto& [name, file] : files) hold(name, file, "performance");
}

void Tuning::cpu_latency() {
  // A PM QoS request lives as long as the open file: nothing to restore.
  fs::path dev = opt_.root / "dev/cpu_dma_latency";
  TuneItem it{"C-states (PM QoS cpu_dma_latency)", dev.string(), "", "", "0 us", "", 0, ""};
  struct stat st {};
  if (stat(dev.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) {
    it.status = "absent";
    it.error = "no PM QoS character device here";
  } else if (int fd = open(dev.c_str(), O_RDWR | O_CLOEXEC); fd < 0) {
    it.status = "failed";
    it.err = errno;
    it.error = "open " + dev.string() + ": " + std::strerror(errno);
  } else {
    int32_t cur = 0, zero = 0;
    if (read(fd, &cur, sizeof cur) == ssize_t(sizeof cur))
      it.from = cur >= 2000000000 ? "no limit" : std::to_string(cur) + " us";
    if (write(fd, &zero, sizeof zero) != ssize_t(sizeof zero)) {
      it.status = "failed";
      it.err = errno;
      it.error = "write 0 to " + dev.string() + ": " + std::strerror(errno);
      close(fd);
    } else {
      it.status = "tuned";
      qos_fd_ = fd;
      qos_item_ = items_.size();
    }
  }
  items_.push_back(std::move(it));
}

void Tuning::release() {
  if (released_) return;
  released_ = true;
  for (auto& [i, h] : holds_) {
    TuneItem& it = items_[i];
    try {
      auto cur = read_setting(h->path());
      h->release();
      it.restored = !cur ? "absent now" : *cur == h->held() ? "yes"
                                                          : "kept " + *cur + " (changed by someone else)";
    } catch (const std::exception& e) {
      it.restored = printable(std::string("failed: ") + e.what() + " (record kept: `kperflab restore`)");
    }
  }
  holds_.clear();
  if (qos_fd_ >= 0) {
    close(qos_fd_);
    qos_fd_ = -1;
    items_[qos_item_].restored = "yes (request dropped)";
  }
}

nlohmann::json Tuning::to_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (auto& it : items_) {
    nlohmann::json j = {{"setting", it.setting}, {"path", it.path}, {"status", it.status},
                        {"from", it.from}, {"to", it.to}};
    if (!it.error.empty()) j["error"] = it.error;
    if (it.err) j["errno"] = it.err;
    if (!it.restored.empty()) j["restored"] = it.restored;
    a.push_back(std::move(j));
  }
  return {{"boost_off", opt_.boost_off}, {"settings", a}};
}

std::string Tuning::summary() const {
  int n[4] = {};
  for (auto& it : items_)
    n[it.status == "tuned" ? 0 : it.status == "already" ? 1 : it.status == "absent" ? 2 : 3]++;
  return "tuned " + std::to_string(n[0]) + ", already " + std::to_string(n[1]) + ", absent " +
         std::to_string(n[2]) + ", failed " + std::to_string(n[3]);
}

}  // namespace kperflab
