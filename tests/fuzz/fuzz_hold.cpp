// SPDX-License-Identifier: GPL-2.0-only
// The restore-record reader (#27, item 9): every kperflab invocation reads
// the records in the hold directory and, as root, writes what they say.
// Input: one byte choosing what stands at the record's place (a record of
// mode 0600, one of mode 0644, a directory, a FIFO), then the record's text,
// where "@ROOT@" becomes this run's fake root (a tree standing in for /,
// $KPERFLAB_HOLD_ROOT), so that seeds can name its settings.
// Oracle beyond "no crash, no hang": recover_stale_holds never writes a file
// outside the fake root's proc/sys and sys/devices/system/cpu (a victim file
// beside them keeps its text), never applies a record that is not a 0600
// regular file, and reports every record it did not apply.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "host/hold_trust.h"
#include "core/read_file.h"
#include "host/sysctl_hold.h"

namespace fs = std::filesystem;
using namespace kperflab;

namespace {

struct Scratch {
  fs::path top, root, holds, setting, victim;
  Scratch() {
    std::string t = (fs::temp_directory_path() / "kperflab-fuzz-hold-XXXXXX").string();
    if (!mkdtemp(t.data())) std::abort();
    top = t;
    root = top / "root";
    holds = top / "holds";
    setting = root / "proc/sys/kernel/x";
    victim = root / "etc/victim";
    fs::create_directories(setting.parent_path());
    fs::create_directories(victim.parent_path());
    setenv("KPERFLAB_HOLD_ROOT", root.c_str(), 1);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The name kperflab gives the record of `setting` (sysctl_hold.cpp).
std::string record_name(const fs::path& setting) {
  std::string n;
  for (char c : setting.string())
    n += (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  n.erase(0, n.find_first_not_of('_'));
  return n + ".json";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Scratch s;
  if (size < 1) return 0;
  const unsigned kind = data[0] % 4;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at; (at = text.find("@ROOT@")) != std::string::npos;)
    text.replace(at, 6, s.root.string());

  std::error_code ec;
  fs::remove_all(s.holds, ec);
  if (mkdir(s.holds.c_str(), 0700) != 0) std::abort();
  std::ofstream(s.setting) << "held\n";
  std::ofstream(s.victim) << "victim\n";
  fs::path rec = s.holds / record_name(s.setting);
  if (kind == 2) {
    fs::create_directory(rec);
  } else if (kind == 3) {
    if (mkfifo(rec.c_str(), 0600) != 0) std::abort();
  } else {
    std::ofstream(rec, std::ios::binary) << text;
    chmod(rec.c_str(), kind == 0 ? 0600 : 0644);
  }

  try {
    (void)hold::read_record_file(rec);
  } catch (const FileError&) {
  }
  std::vector<RecoveredHold> done;
  try {
    done = recover_stale_holds(s.holds);
  } catch (const std::exception&) {
    std::abort();  // recovery reports, it never throws over a record
  }
  if (slurp(s.victim) != "victim\n") std::abort();
  bool applied = slurp(s.setting) != "held\n";
  if (applied && kind != 0) std::abort();
  for (auto& r : done) {
    if (describe(r).empty()) std::abort();
    if (r.action == RecoveredHold::Action::restored && kind != 0) std::abort();
  }
  if (kind != 0 && done.empty()) std::abort();  // an untrusted record is always reported
  return 0;
}
