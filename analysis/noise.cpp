// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/noise.h"

#include <cmath>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "analysis/compare.h"
#include "core/read_file.h"
#include "results/json_access.h"

namespace kperflab::compare {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "kperflab-noise/1";
// A model holds 7 JSON values per metric statistic; real ones have a few
// thousand statistics (under 1 MiB). Room for 100 times that.
constexpr ReadLimits kNoiseFile{size_t{32} << 20, 16, size_t{2} << 20, "a noise model"};

double sample_sd(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

NoiseModel NoiseModel::build(const Side& s) {
  NoiseModel nm;
  nm.bundles = s.bundles.size();
  std::set<std::string> hosts, kernels;
  for (auto& b : s.bundles) {
    hosts.insert(b.meta_view().at("host").at("hostname").str());
    kernels.insert(b.meta_view().at("kernel").at("release").str());
  }
  if (hosts.size() != 1)
    throw std::invalid_argument("noise: the bundles come from " + std::to_string(hosts.size()) +
                                " hosts; a noise model is of one host");
  nm.host = *hosts.begin();
  nm.cpu_model = s.bundles[0].meta_view().text("cpu") == "n/a"
                     ? "n/a"
                     : s.bundles[0].meta_view().at("cpu").text("model_name");
  nm.kernels.assign(kernels.begin(), kernels.end());
  Collected c = collect(s);
  nm.boots = c.boots.size();
  if (nm.boots < kMinBoots)
    throw std::invalid_argument(
        "noise: the bundles come from " + std::to_string(nm.boots) +
        " boot(s); the spread between boots needs bundles from " + std::to_string(kMinBoots) +
        " or more boots of one kernel (reboot between runs; bundles without kernel.boot_id "
        "count one boot each)");
  {
    std::time_t now = std::time(nullptr);
    char t[32];
    std::strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    nm.created = t;
  }
  // Repetitions per boot.
  std::vector<size_t> per(nm.boots, 0);
  for (auto& [probe, metrics] : c.v)
    for (auto& [name, st] : metrics)
      for (auto& [stat, ser] : st) {
        std::vector<size_t> n(nm.boots, 0);
        for (size_t b : ser.boot) ++n[b];
        for (size_t i = 0; i < nm.boots; ++i) per[i] = std::max(per[i], n[i]);
        std::vector<double> u = per_boot(ser, nm.boots);
        if (u.size() < 3) continue;
        NoiseEntry e;
        e.boots = u.size();
        e.log = std::all_of(u.begin(), u.end(), [](double x) { return x > 0; });
        if (e.log)
          for (auto& x : u) x = std::log(x);
        e.sd = sample_sd(u);
        nm.metrics[probe + "/" + name + ":" + stat] = e;
      }
  nm.reps_min = *std::min_element(per.begin(), per.end());
  nm.reps_max = *std::max_element(per.begin(), per.end());
  return nm;
}

json NoiseModel::to_json() const {
  json m = json::object();
  for (auto& [k, e] : metrics)
    m[k] = {{"scale", e.log ? "log" : "linear"}, {"sd", e.sd}, {"boots", e.boots}};
  return {{"format", kFormat},
          {"host", host},
          {"cpu_model", cpu_model},
          {"kernels", kernels},
          {"boots", boots},
          {"bundles", bundles},
          {"created", created},
          {"repetitions_per_boot", {{"min", reps_min}, {"max", reps_max}}},
          {"metrics", m}};
}

NoiseModel NoiseModel::load(const fs::path& file) {
  // Through the one reader (core/read_file.h): a FIFO or /dev/zero given as
  // --noise, or planted as <runs>/<host>/noise.json, is refused at once.
  json doc;
  try {
    doc = read_json(file, kNoiseFile);
  } catch (const FileError& e) {
    throw std::invalid_argument("noise model " + printable(file.string()) + ": " + e.problem());
  }
  try {
    JsonView j(doc, std::make_shared<const fs::path>(file));
    if (j.at("format").str() != kFormat)
      throw std::invalid_argument("noise model " + printable(file.string()) +
                                  ": format is not " + kFormat);
    NoiseModel nm;
    nm.file = file;
    nm.host = j.at("host").str();
    nm.cpu_model = j.at("cpu_model").str();
    for (auto& k : j.at("kernels").elements()) nm.kernels.push_back(k.str());
    nm.boots = j.at("boots").u64();
    nm.bundles = j.at("bundles").u64();
    if (j.has("created")) nm.created = j.at("created").str();
    nm.reps_min = j.at("repetitions_per_boot").at("min").u64();
    nm.reps_max = j.at("repetitions_per_boot").at("max").u64();
    for (auto& [k, e] : j.at("metrics").need(J_OBJECT).members()) {
      NoiseEntry ne;
      std::string scale = e.at("scale").str();
      if (scale != "log" && scale != "linear")
        throw BundleError(file, e.path() + ".scale", "must be log or linear");
      ne.log = scale == "log";
      ne.sd = e.at("sd").num();
      ne.boots = e.at("boots").u64();
      if (!std::isfinite(ne.sd) || ne.sd < 0)
        throw BundleError(file, e.path() + ".sd", "must be a finite number >= 0");
      nm.metrics[k] = ne;
    }
    return nm;
  } catch (const BundleError& e) {
    throw std::invalid_argument(std::string("noise model: ") + e.what());
  }
}

std::string noise_age(const NoiseModel& nm) {
  std::tm tm{};
  if (nm.created.empty() || !strptime(nm.created.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm))
    return "age unknown";
  double days = std::difftime(std::time(nullptr), timegm(&tm)) / 86400;
  if (days < 1) return "less than a day old";
  return std::to_string(static_cast<long>(days)) + (days < 2 ? " day old" : " days old");
}

const NoiseEntry* NoiseModel::find(const std::string& key) const {
  auto it = metrics.find(key);
  return it == metrics.end() ? nullptr : &it->second;
}

std::optional<fs::path> default_noise_path(const fs::path& bundle_dir, const std::string& host) {
  fs::path host_dir = bundle_dir.parent_path().parent_path();
  if (host_dir.filename() != host) return std::nullopt;
  return host_dir / "noise.json";
}

}  // namespace kperflab::compare
