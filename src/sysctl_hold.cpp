// SPDX-License-Identifier: GPL-2.0-only
#include "sysctl_hold.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kRecordSchema = "kperflab.hold/1";

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, s.find_first_not_of(ws) == std::string::npos ? s.size() : s.find_first_not_of(ws));
  return s;
}

// Writes with O_TRUNC and without O_CREAT, as `echo v > file` would minus the
// creation: a setting that vanished must not come back as a regular file.
void write_setting(const fs::path& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) fail(errno, "open " + path.string() + " for writing");
  std::string line = value + "\n";
  ssize_t n = write(fd, line.data(), line.size());
  int err = errno;
  close(fd);
  if (n < 0) fail(err, "write '" + value + "' to " + path.string());
  if (size_t(n) != line.size()) fail(EIO, "short write of '" + value + "' to " + path.string());
}

// The record's file name: the setting's path, flattened. One record per
// setting, so two holders of the same setting meet at link() below.
std::string record_name(const fs::path& setting) {
  std::string n;
  for (char c : setting.string()) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    n += plain ? c : '_';
  }
  n.erase(0, n.find_first_not_of('_'));
  if (n.size() > 200)  // NAME_MAX is 255: keep a prefix and make it unique
    n = n.substr(0, 180) + "-" + std::to_string(std::hash<std::string>{}(setting.string()));
  return n + ".json";
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot): tells
// a live holder from a later process that reuses its pid.
std::optional<uint64_t> pid_start_time(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return std::nullopt;
  auto paren = s.rfind(')');  // comm may hold spaces and parentheses
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && (rest >> field); ++i)
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  return std::nullopt;
}

bool holder_alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  auto now = pid_start_time(pid);
  return !(start && now && *now != start);
}

// A record is never seen half-written: it is written to a temporary file
// (".NAME.PID.tmp") first, then linked or renamed into place.
fs::path write_tmp(const fs::path& record, const json& doc) {
  fs::create_directories(record.parent_path());
  fs::path tmp = record.parent_path() /
                 ("." + record.filename().string() + "." + std::to_string(getpid()) + ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno, "create " + tmp.string());
  std::string text = doc.dump(2) + "\n";
  bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok) {
    unlink(tmp.c_str());
    fail(err, "write " + tmp.string());
  }
  return tmp;
}

// Creates `record`; false when it already exists (link() does not replace,
// so of two processes holding the same setting exactly one gets here).
bool create_record(const fs::path& record, const json& doc) {
  fs::path tmp = write_tmp(record, doc);
  int rc = link(tmp.c_str(), record.c_str());
  int err = errno;
  unlink(tmp.c_str());
  if (rc == 0) return true;
  if (err == EEXIST) return false;
  fail(err, "link " + record.string());
}

void replace_record(const fs::path& record, const json& doc) {
  fs::path tmp = write_tmp(record, doc);
  if (rename(tmp.c_str(), record.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    fail(err, "rename to " + record.string());
  }
}

std::optional<json> read_record(const fs::path& record) {
  std::ifstream f(record);
  auto doc = json::parse(f, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("schema", "") != kRecordSchema ||
      !doc["path"].is_string() || !doc["original"].is_string() || !doc["held"].is_string() ||
      !doc["pid"].is_number_integer())
    return std::nullopt;
  return doc;
}

// Applies `record` when its holder is gone; nullopt while it lives.
std::optional<RecoveredHold> apply_if_stale(const fs::path& record) {
  RecoveredHold r;
  r.record = record;
  auto doc = read_record(record);
  if (!doc) {
    r.error = "not a " + std::string(kRecordSchema) + " record (left in place; remove it by hand)";
    return r;
  }
  r.setting = (*doc)["path"].get<std::string>();
  r.original = (*doc)["original"];
  r.pid = (*doc)["pid"].get<pid_t>();
  if (holder_alive(r.pid, doc->value("pid_start", uint64_t{0}))) return std::nullopt;
  try {
    auto cur = read_setting(r.setting);
    r.found = cur.value_or("");
    if (!cur) {
      r.action = RecoveredHold::Action::absent;
    } else if (*cur != (*doc)["held"].get<std::string>() && *cur != doc->value("held_read", "")) {
      r.action = RecoveredHold::Action::unchanged;  // changed by someone since: theirs stays
    } else {
      write_setting(r.setting, r.original);
      r.action = RecoveredHold::Action::restored;
    }
    fs::remove(record);
  } catch (const std::exception& e) {
    r.action = RecoveredHold::Action::failed;
    r.error = e.what();
  }
  return r;
}

}  // namespace

fs::path default_hold_dir() {
  if (const char* d = std::getenv("KPERFLAB_HOLD_DIR"); d && *d) return d;
  return "/run/kperflab/holds";
}

std::optional<std::string> read_setting(const fs::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(errno, "open " + path.string());
  }
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n < 0) fail(err, "read " + path.string());
  std::string s(buf, size_t(n));
  return trim(s.substr(0, s.find('\n')));
}

SysctlHold::SysctlHold(fs::path path, std::string value, fs::path record_dir)
    : path_(std::move(path)), record_(record_dir / record_name(path_)) {
  for (int attempt = 0;; ++attempt) {
    auto cur = read_setting(path_);
    if (!cur) fail(ENOENT, path_.string());
    original_ = *cur;
    json doc = {{"schema", kRecordSchema}, {"path", path_.string()}, {"original", original_},
                {"held", trim(value)}, {"pid", getpid()},
                {"pid_start", pid_start_time(getpid()).value_or(0)},
                {"since", int64_t(std::time(nullptr))}};
    if (create_record(record_, doc)) break;
    auto stale = apply_if_stale(record_);
    if (!stale)
      throw std::runtime_error(path_.string() + " is already held by a live process (record " +
                               record_.string() + ")");
    if (stale->action == RecoveredHold::Action::failed || attempt > 0)
      throw std::runtime_error("stale hold record " + record_.string() + ": " + describe(*stale));
  }
  try {
    write_setting(path_, value);
    held_ = read_setting(path_).value_or(trim(value));
  } catch (...) {
    fs::remove(record_);  // nothing was changed
    throw;
  }
  if (held_ != trim(value)) {  // the kernel shows it otherwise: record that too
    json doc = *read_record(record_);
    doc["held_read"] = held_;
    replace_record(record_, doc);
  }
}

SysctlHold::~SysctlHold() {
  try {
    release();
  } catch (const std::exception& e) {
    release_error_ = e.what();
  }
}

void SysctlHold::release() {
  if (released_) return;
  auto cur = read_setting(path_);
  if (cur && *cur == held_) write_setting(path_, original_);
  fs::remove(record_);
  released_ = true;
}

std::vector<RecoveredHold> recover_stale_holds(const fs::path& dir) {
  std::vector<RecoveredHold> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(".") && name.ends_with(".tmp")) {
      // A holder that died between creating and linking its record.
      auto dot = name.rfind('.', name.size() - 5);
      pid_t pid = dot == std::string::npos ? 0 : std::atoi(name.c_str() + dot + 1);
      if (!holder_alive(pid, 0)) fs::remove(e.path(), ec);
      continue;
    }
    if (e.path().extension() != ".json") continue;
    if (auto r = apply_if_stale(e.path())) out.push_back(std::move(*r));
  }
  return out;
}

std::string describe(const RecoveredHold& r) {
  std::string who = " (hold of pid " + std::to_string(r.pid) + ", which is gone)";
  switch (r.action) {
    case RecoveredHold::Action::restored:
      return "restored " + r.setting.string() + " to " + r.original + who;
    case RecoveredHold::Action::unchanged:
      return "left " + r.setting.string() + " at " + r.found + ", changed since" + who;
    case RecoveredHold::Action::absent:
      return "dropped the record of " + r.setting.string() + ", which no longer exists" + who;
    case RecoveredHold::Action::failed: break;
  }
  return "could not apply " + r.record.string() + ": " + r.error;
}

}  // namespace kperflab
