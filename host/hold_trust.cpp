// SPDX-License-Identifier: GPL-2.0-only
#include "host/hold_trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "core/read_file.h"

namespace kperflab::hold {

namespace fs = std::filesystem;

namespace {

constexpr ReadLimits kRecord{size_t{64} << 10, 8, 256, "a restore record"};

bool trusted_owner(uid_t uid) { return uid == 0 || uid == geteuid(); }

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(m & 07777));
  return buf;
}

// `p` is `base` or lies below it (both normal paths).
bool under(const fs::path& p, const fs::path& base) {
  auto b = base.begin(), i = p.begin();
  for (; b != base.end(); ++b, ++i)
    if (i == p.end() || *i != *b) return false;
  return i != p.end();  // strictly below
}

}  // namespace

fs::path root() {
  if (const char* r = std::getenv("KPERFLAB_HOLD_ROOT"); r && *r) return fs::path(r);
  return "/";
}

std::string refuse_setting(const fs::path& setting) {
  if (setting.empty() || !setting.is_absolute()) return "names no absolute path";
  if (setting.lexically_normal() != setting) return "names a path that is not in normal form";
  for (auto& c : setting)
    if (c == "..") return "names a path with '..'";
  const fs::path r = root();
  if (under(setting, r / "proc/sys") || under(setting, r / "sys/devices/system/cpu")) return "";
  // /proc/<pid>/autogroup and /proc/self/autogroup
  if (setting.filename() == "autogroup" && setting.parent_path().parent_path() == r / "proc") {
    std::string pid = setting.parent_path().filename().string();
    if (pid == "self" || (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos))
      return "";
  }
  return "names " + setting.string() +
         ", which is not under /proc/sys or /sys/devices/system/cpu nor an autogroup";
}

void make_record_dir(const fs::path& dir) {
  if (mkdir(dir.c_str(), 0700) == 0) return;
  if (errno == ENOENT) {  // parents first (/run/kperflab)
    fs::create_directories(dir.parent_path());
    if (mkdir(dir.c_str(), 0700) == 0) return;
  }
  if (errno != EEXIST) throw std::system_error(errno, std::generic_category(), "mkdir " + dir.string());
  struct stat st {};
  if (lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
      (st.st_mode & 077) != 0)
    chmod(dir.c_str(), 0700);  // ours, from an older kperflab: close it
}

std::string refuse_dir(const fs::path& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return errno == ENOENT ? "" : std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "the record directory " + dir.string() + " is no directory";
  if (!trusted_owner(st.st_uid))
    return "the record directory " + dir.string() + " belongs to uid " + std::to_string(st.st_uid) +
           ", not root: no record in it is applied";
  if (st.st_mode & 022)
    return "the record directory " + dir.string() + " has mode " + mode_text(st.st_mode) +
           " (not 0700: others may write in it): no record in it is applied";
  // 0755 from an older kperflab: nobody else could write in it; close it.
  if ((st.st_mode & 077) && st.st_uid == geteuid()) chmod(dir.c_str(), 0700);
  return "";
}

nlohmann::json read_record_file(const fs::path& record) {
  // Owner and mode of the file actually read (fstat of the open file): the
  // check and the read see the same inode.
  struct stat st {};
  std::string text = read_file(record, kRecord.bytes, kRecord.kind, &st);
  if (!trusted_owner(st.st_uid))
    throw FileError(record, "belongs to uid " + std::to_string(st.st_uid) + ", not root");
  if ((st.st_mode & 07777) != 0600)
    throw FileError(record, "has mode " + mode_text(st.st_mode) + ", not 0600");
  return parse_json(text, kRecord, record);
}

bool record_schema(const nlohmann::json& d) {
  if (!d.is_object()) return false;
  auto it = d.find("schema");
  return it != d.end() && it->is_string() && it->get<std::string>() == kRecordSchema;
}

}  // namespace kperflab::hold
