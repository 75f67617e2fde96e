// SPDX-License-Identifier: GPL-2.0-only
// Hold a sysctl or sysfs value for the duration of a measurement and put the
// original back afterwards: on destruction (normal return, exception, ^C via
// the runner's stop flag), and after a crash through a restore record that
// the next kperflab invocation applies (recover_stale_holds).
//
// Order of a hold: read the original; write the record (path, original,
// held value, pid, pid start time) atomically into the record directory;
// only then write the new value. Release: write the original back, then
// remove the record. A crash anywhere in between leaves a record whose pid
// is dead, and applying it is always right (at worst it rewrites the value
// that is already there).
//
// The default record directory is under /run, a tmpfs: a reboot resets the
// kernel's values and forgets the records together, so a record never
// outlives the state it describes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kperflab {

// /run/kperflab/holds, or $KPERFLAB_HOLD_DIR when set (tests, non-root runs).
std::filesystem::path default_hold_dir();

// First line of a sysctl/sysfs file, surrounding white space removed;
// nullopt when the file does not exist (the feature is absent). Throws
// std::system_error on any other failure.
std::optional<std::string> read_setting(const std::filesystem::path& path);

class SysctlHold {
 public:
  // Holds `path` at `value`. Applies a stale record of the same path first
  // (a crashed earlier holder), so `original()` is the value before any
  // kperflab hold. Throws std::system_error / std::runtime_error naming the
  // path: the file is absent or not writable, the record cannot be written,
  // or a live process (this one included) already holds the path.
  SysctlHold(std::filesystem::path path, std::string value,
             std::filesystem::path record_dir = default_hold_dir());
  ~SysctlHold();  // release(), errors swallowed (see release_error())
  SysctlHold(const SysctlHold&) = delete;
  SysctlHold& operator=(const SysctlHold&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::string& original() const { return original_; }
  // The value as read back after writing (the kernel may normalize it).
  const std::string& held() const { return held_; }
  const std::filesystem::path& record() const { return record_; }

  // Puts the original back unless someone else changed the value meanwhile
  // (then their value stays), and removes the record. Idempotent. Throws
  // when the original cannot be written; the record then stays, so the next
  // invocation retries.
  void release();
  // What went wrong in the destructor's release, "" if nothing.
  const std::string& release_error() const { return release_error_; }

 private:
  std::filesystem::path path_, record_;
  std::string original_, held_, release_error_;
  bool released_ = false;
  int slot_ = -1;  // release_holds_now()'s copy
};

// For a signal handler about to _exit (a second ^C): puts back every
// setting this process holds through SysctlHold, where it still has the
// held value, and removes their records. Async-signal-safe (open, read,
// write, close, unlink only). Autogroup holds are left to the next
// invocation: their records stay, and it applies them.
void release_holds_now() noexcept;

// Raises the nice value of this process's autogroup (/proc/self/autogroup,
// CONFIG_SCHED_AUTOGROUP: CFS shares a CPU between sessions first, so a
// nice -20 spinner still loses half a CPU to another session's busy task).
// The autogroup is the whole terminal session's and outlives us, so:
//  - several kperflab runs of one session may hold it at once; each keeps
//    its own record (autogroup id, the value before the first hold, pid);
//  - the value before the first hold comes back when the last live holder
//    lets go, never earlier, and never a value one of the holders saw only
//    because another run had raised it;
//  - a holder killed or crashed leaves its record; recover_stale_holds puts
//    the value back once no live holder remains (through any process still
//    in that autogroup: the next run of the session is one);
//  - someone who changed the value meanwhile keeps theirs.
// Records and the value change under one flock (record_dir/.lock).
class AutogroupHold {
 public:
  // Inactive (no error) where the kernel has no autogroups or they are
  // off: there is nothing to raise. Throws std::system_error naming the
  // file when the value cannot be written (e.g. without CAP_SYS_NICE).
  explicit AutogroupHold(int nice, std::filesystem::path record_dir = default_hold_dir());
  ~AutogroupHold();  // release(), errors swallowed
  AutogroupHold(const AutogroupHold&) = delete;
  AutogroupHold& operator=(const AutogroupHold&) = delete;

  bool active() const { return !record_.empty(); }
  long autogroup() const { return id_; }
  int original() const { return original_; }
  void release();

 private:
  std::filesystem::path dir_, record_;
  long id_ = -1;
  int original_ = 0, held_ = 0;
};

// This process's autogroup: {id, nice}; nullopt without autogroups.
std::optional<std::pair<long, int>> read_autogroup(const std::filesystem::path& file =
                                                       "/proc/self/autogroup");

// One record found by recover_stale_holds.
struct RecoveredHold {
  std::filesystem::path record;   // the record file
  std::filesystem::path setting;  // what it held ("" when unreadable)
  std::string original, found;    // value put back; value found before
  pid_t pid = 0;
  // restored: original written back; unchanged: someone changed the value
  // since (left as found); absent: the setting no longer exists; failed:
  // could not be applied (record kept, `error` says why).
  // shared (autogroups): another live run still holds it, the record is
  // dropped and the value stays until that run lets go.
  // refused: not a record kperflab trusts (hold_trust.h: not a regular
  // file, wrong owner or mode, a setting kperflab never holds); skipped,
  // left in place, `error` says why.
  enum class Action { restored, unchanged, absent, shared, refused, failed } action = Action::failed;
  std::string error;
};

// Applies every record in `dir` whose process is gone (pid dead, or reused:
// its start time differs) and removes it; records of live processes are
// left alone. Returns what it did, one entry per stale record; an absent
// directory is no records.
std::vector<RecoveredHold> recover_stale_holds(const std::filesystem::path& dir =
                                                   default_hold_dir());
// One line per entry for a log ("restored /proc/sys/... to 1 (pid 123 gone)").
std::string describe(const RecoveredHold& r);

}  // namespace kperflab
