// SPDX-License-Identifier: GPL-2.0-only
#include "host/sysctl_hold.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <set>
#include <system_error>

#include <charconv>

#include <nlohmann/json.hpp>

#include "host/hold_trust.h"
#include "core/read_file.h"

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using hold::kRecordSchema;
using hold::record_schema;

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
  // O_NONBLOCK: a FIFO standing there fails (ENXIO) instead of blocking.
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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
  hold::make_record_dir(record.parent_path());
  fs::path tmp = record.parent_path() /
                 ("." + record.filename().string() + "." + std::to_string(getpid()) + ".tmp");
  // 0600 in a 0700 directory: what recovery trusts (hold_trust.h).
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail(errno, "create " + tmp.string());
  std::string text = doc.dump(2) + "\n";
  bool ok = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == ssize_t(text.size()) &&
            fsync(fd) == 0;
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

// A record of a setting, checked (hold_trust.h); the error says why not.
std::optional<json> read_record(const fs::path& record, std::string& error) {
  json doc;
  try {
    doc = hold::read_record_file(record);
  } catch (const FileError& e) {
    error = e.problem();
    return std::nullopt;
  }
  if (!record_schema(doc) || !doc["path"].is_string() ||
      !doc["original"].is_string() || !doc["held"].is_string() || !doc["pid"].is_number_integer() ||
      doc["pid"].get<int64_t>() <= 0 || doc["pid"].get<int64_t>() > INT32_MAX) {
    error = "not a " + std::string(kRecordSchema) + " record";
    return std::nullopt;
  }
  fs::path setting = doc["path"].get<std::string>();
  if (auto why = hold::refuse_setting(setting); !why.empty()) {
    error = why;
    return std::nullopt;
  }
  if (record.filename() != record_name(setting)) {
    error = "names " + setting.string() + ", whose record kperflab would call " +
            record_name(setting);
    return std::nullopt;
  }
  return doc;
}

// Applies `record` when its holder is gone; nullopt while it lives.
std::optional<RecoveredHold> apply_if_stale(const fs::path& record) {
  RecoveredHold r;
  r.record = record;
  std::string why;
  auto doc = read_record(record, why);
  if (!doc) {
    r.action = RecoveredHold::Action::refused;
    r.error = why;
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

// --- emergency release ------------------------------------------------------
// What release_holds_now() needs, copied into fixed buffers while no signal
// handler runs: a handler may not allocate or take locks.

struct EmergencySlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled or emptied, 2 armed
  char path[512], original[256], held[256], record[1024];
};
EmergencySlot g_slots[16];

bool copy_to(char* dst, size_t n, const std::string& s) {
  if (s.size() >= n) return false;
  std::memcpy(dst, s.c_str(), s.size() + 1);
  return true;
}

int arm_slot(const fs::path& path, const std::string& original, const std::string& held,
             const fs::path& record) {
  for (int i = 0; i < int(std::size(g_slots)); ++i) {
    int free = 0;
    if (!g_slots[i].state.compare_exchange_strong(free, 1)) continue;
    EmergencySlot& s = g_slots[i];
    if (copy_to(s.path, sizeof s.path, path.string()) &&
        copy_to(s.original, sizeof s.original, original + "\n") &&
        copy_to(s.held, sizeof s.held, held) && copy_to(s.record, sizeof s.record, record.string())) {
      s.state.store(2);
      return i;
    }
    s.state.store(0);  // too long for the buffers: the restore record still covers it
    return -1;
  }
  return -1;
}

void disarm_slot(int i) {
  if (i >= 0) g_slots[i].state.store(0);
}

// --- autogroups -----------------------------------------------------------

constexpr const char* kAutogroupPrefix = "autogroup-";

// Serialises the autogroup records and the value they describe between
// kperflab processes: read the records, decide, write the value, as one step.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    hold::make_record_dir(dir);
    fs::path lock = dir / ".lock";
    fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0600);
    if (fd_ < 0) fail(errno, "open " + lock.string());
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd_);
      fail(err, "flock " + lock.string());
    }
  }
  ~DirLock() { close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_;
};

struct AutogroupRecord {
  fs::path file;
  long id = 0;
  int original = 0, held = 0;
  pid_t pid = 0;
  uint64_t start = 0;
  bool alive() const { return holder_alive(pid, start); }
};

std::string autogroup_name(long id) { return kAutogroupPrefix + std::to_string(id); }

// Records of autogroup `id`; unreadable ones are skipped (and left in place).
std::vector<AutogroupRecord> autogroup_records(const fs::path& dir, long id) {
  std::vector<AutogroupRecord> v;
  std::string prefix = autogroup_name(id) + ".";
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (!name.starts_with(prefix) || e.path().extension() != ".json") continue;
    json d;
    try {
      d = hold::read_record_file(e.path());
    } catch (const FileError&) {
      continue;  // recover_stale_holds reports it
    }
    if (!record_schema(d) ||
        !d["autogroup"].is_number_integer() || d["autogroup"].get<long>() != id ||
        !d["original"].is_number_integer() || !d["held"].is_number_integer() ||
        !d["pid"].is_number_integer())
      continue;
    v.push_back({e.path(), id, d["original"].get<int>(), d["held"].get<int>(),
                 d["pid"].get<pid_t>(),
                 d.contains("pid_start") && d["pid_start"].is_number_unsigned()
                     ? d["pid_start"].get<uint64_t>()
                     : uint64_t{0}});
  }
  return v;
}

// A process still in autogroup `id` (an autogroup has no file of its own:
// it is set through /proc/PID/autogroup of any of its members).
std::optional<fs::path> autogroup_member(long id) {
  if (auto self = read_autogroup(); self && self->first == id) return fs::path("/proc/self/autogroup");
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    fs::path file = e.path() / "autogroup";
    if (auto ag = read_autogroup(file); ag && ag->first == id) return file;
  }
  return std::nullopt;
}

// Under the lock: drops the records of dead holders of autogroup `id`. When
// no live holder remains and the value is still what the holders set, the
// original comes back. One entry per dead record.
std::vector<RecoveredHold> settle_autogroup(const fs::path& dir, long id) {
  std::vector<AutogroupRecord> dead;
  bool live = false;
  for (auto& r : autogroup_records(dir, id)) {
    if (r.alive()) live = true;
    else dead.push_back(r);
  }
  std::vector<RecoveredHold> out;
  if (dead.empty()) return out;
  RecoveredHold::Action action = RecoveredHold::Action::shared;
  std::string found, error;
  if (!live) {
    try {
      auto member = autogroup_member(id);
      auto cur = member ? read_autogroup(*member) : std::nullopt;
      if (!cur) {
        action = RecoveredHold::Action::absent;  // the session ended: nothing to restore
      } else if (found = std::to_string(cur->second); cur->second != dead.front().held) {
        action = RecoveredHold::Action::unchanged;
      } else {
        write_setting(*member, std::to_string(dead.front().original));
        action = RecoveredHold::Action::restored;
      }
    } catch (const std::exception& e) {
      action = RecoveredHold::Action::failed;
      error = e.what();
    }
  }
  for (auto& d : dead) {
    RecoveredHold r;
    r.record = d.file;
    r.setting = autogroup_name(id) + " nice";
    r.original = std::to_string(d.original);
    r.found = found;
    r.pid = d.pid;
    r.action = action;
    r.error = error;
    if (action != RecoveredHold::Action::failed) fs::remove(d.file);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::optional<std::pair<long, int>> read_autogroup(const fs::path& file) {
  std::optional<std::string> line;
  try {
    line = read_setting(file);
  } catch (const std::system_error&) {
    return std::nullopt;  // a process that exited meanwhile, or no permission
  }
  // "/autogroup-17 nice 0"
  if (!line || !line->starts_with("/autogroup-")) return std::nullopt;
  long id = 0;
  int nice = 0;
  if (std::sscanf(line->c_str(), "/autogroup-%ld nice %d", &id, &nice) != 2 || id <= 0)
    return std::nullopt;
  return std::make_pair(id, nice);
}

AutogroupHold::AutogroupHold(int nice, fs::path record_dir) : dir_(std::move(record_dir)) {
  auto cur = read_autogroup();
  if (!cur) return;  // no autogroups here: nothing to raise
  id_ = cur->first;
  held_ = nice;
  DirLock lock(dir_);
  (void)settle_autogroup(dir_, id_);  // crashed holders of this session first
  cur = read_autogroup();
  if (!cur || cur->first != id_) throw std::runtime_error("autogroup changed while being held");
  auto holders = autogroup_records(dir_, id_);  // all alive after settling
  original_ = holders.empty() ? cur->second : holders.front().original;
  fs::path record = dir_ / (autogroup_name(id_) + "." + std::to_string(getpid()) + ".json");
  replace_record(record, {{"schema", kRecordSchema}, {"kind", "autogroup"}, {"autogroup", id_},
                          {"original", original_}, {"held", held_}, {"pid", getpid()},
                          {"pid_start", pid_start_time(getpid()).value_or(0)},
                          {"since", int64_t(std::time(nullptr))}});
  if (cur->second != held_) {
    try {
      write_setting("/proc/self/autogroup", std::to_string(held_));
    } catch (...) {
      fs::remove(record);
      throw;
    }
  }
  record_ = record;
}

AutogroupHold::~AutogroupHold() {
  try {
    release();
  } catch (const std::exception&) {
    // The record stays; the next invocation puts the value back.
  }
}

void AutogroupHold::release() {
  if (!active()) return;
  DirLock lock(dir_);
  (void)settle_autogroup(dir_, id_);
  fs::remove(record_);
  record_.clear();
  if (!autogroup_records(dir_, id_).empty()) return;  // another run still holds it
  auto cur = read_autogroup();
  if (cur && cur->first == id_ && cur->second == held_)
    write_setting("/proc/self/autogroup", std::to_string(original_));
}

void release_holds_now() noexcept {
  for (auto& s : g_slots) {
    int armed = 2;
    if (!s.state.compare_exchange_strong(armed, 1)) continue;
    char cur[256];
    ssize_t n = -1;
    int fd = open(s.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
      n = read(fd, cur, sizeof cur - 1);
      close(fd);
    }
    while (n > 0 && (cur[n - 1] == '\n' || cur[n - 1] == ' ' || cur[n - 1] == '\t')) --n;
    if (n >= 0 && size_t(n) == strlen(s.held) && memcmp(cur, s.held, size_t(n)) == 0) {
      fd = open(s.path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK);
      bool ok = fd >= 0 && write(fd, s.original, strlen(s.original)) == ssize_t(strlen(s.original));
      if (fd >= 0) close(fd);
      if (ok) unlink(s.record);  // else the record stays for the next invocation
    } else if (n >= 0) {
      unlink(s.record);  // changed by someone since: theirs stays
    }
  }
}

fs::path default_hold_dir() {
  if (const char* d = std::getenv("KPERFLAB_HOLD_DIR"); d && *d) return d;
  return "/run/kperflab/holds";
}

std::optional<std::string> read_setting(const fs::path& path) {
  // A sysctl or sysfs file is a regular file of at most a page or so; a
  // FIFO or a device where a record says one is, is an error (read_file.h).
  std::string s;
  try {
    s = read_file(path, size_t{64} << 10, "a sysctl or sysfs setting");
  } catch (const FileError& e) {
    if (e.err() == ENOENT) return std::nullopt;
    fail(e.err() ? e.err() : EINVAL, path.string() + ": " + e.problem());
  }
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
    if (stale->action == RecoveredHold::Action::failed ||
        stale->action == RecoveredHold::Action::refused || attempt > 0)
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
    std::string why;
    auto doc = read_record(record_, why);
    if (!doc) fail(EINVAL, "restore record " + record_.string() + ": " + why);
    (*doc)["held_read"] = held_;
    replace_record(record_, *doc);
  }
  slot_ = arm_slot(path_, original_, held_, record_);
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
  disarm_slot(slot_);
  slot_ = -1;
  auto cur = read_setting(path_);
  if (cur && *cur == held_) write_setting(path_, original_);
  fs::remove(record_);
  released_ = true;
}

std::vector<RecoveredHold> recover_stale_holds(const fs::path& dir) {
  std::vector<RecoveredHold> out;
  if (auto why = hold::refuse_dir(dir); !why.empty()) {
    RecoveredHold r;
    r.record = dir;
    r.action = RecoveredHold::Action::refused;
    r.error = why;
    return {r};
  }
  std::set<long> autogroups;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(".") && name.ends_with(".tmp")) {
      // A holder that died between creating and linking its record.
      auto dot = name.rfind('.', name.size() - 5);
      pid_t pid = 0;
      if (dot != std::string::npos)
        std::from_chars(name.data() + dot + 1, name.data() + name.size() - 4, pid);
      if (pid > 0 && !holder_alive(pid, 0)) fs::remove(e.path(), ec);
      continue;
    }
    if (e.path().extension() != ".json") continue;
    if (name.starts_with(kAutogroupPrefix)) {
      long id = 0;
      const char* p = name.data() + strlen(kAutogroupPrefix);
      auto [end, err] = std::from_chars(p, name.data() + name.size(), id);
      try {
        if (err != std::errc() || id <= 0 || *end != '.')
          throw FileError(e.path(), "not an autogroup record name");
        (void)hold::read_record_file(e.path());  // what settle_autogroup will skip
        autogroups.insert(id);
      } catch (const FileError& fe) {
        RecoveredHold r;
        r.record = e.path();
        r.action = RecoveredHold::Action::refused;
        r.error = fe.problem();
        out.push_back(std::move(r));
      }
      continue;
    }
    if (auto r = apply_if_stale(e.path())) out.push_back(std::move(*r));
  }
  for (long id : autogroups) {
    DirLock lock(dir);
    for (auto& r : settle_autogroup(dir, id)) out.push_back(std::move(r));
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
    case RecoveredHold::Action::shared:
      return "dropped the record of " + r.setting.string() + ", still held by a live run" + who;
    case RecoveredHold::Action::refused:
      return "skipped " + r.record.string() + ": " + r.error +
             " (not applied, left in place; remove it by hand)";
    case RecoveredHold::Action::failed: break;
  }
  return "could not apply " + r.record.string() + ": " + r.error;
}

}  // namespace kperflab
