// SPDX-License-Identifier: GPL-2.0-only
// What a restore record must be before kperflab applies it (#27, item 9).
// Every kperflab invocation applies the records of dead holders as root, so
// a record is a request to write a value into a file: it is trusted only
// when kperflab could have written it and names what kperflab holds.
//
//  - the record directory is owned by root (or by this process's user when
//    it is not root: tests and non-root runs) and writable by nobody else
//    (one of ours that is 0755, from an older kperflab, is made 0700);
//  - a record is a regular file (read through read_file.h: a FIFO or a
//    directory named *.json is refused at once, never blocks the others),
//    with the same owner, mode 0600, at most 64 KiB of JSON, 8 levels;
//  - the setting it names lies under /proc/sys, /sys/devices/system/cpu or
//    is /proc/<pid>/autogroup (normal, absolute, no "..") and the record's
//    file name is the one kperflab gives that setting.
// Anything else is skipped and reported (RecoveredHold::Action::refused).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace kperflab::hold {

// "/", or $KPERFLAB_HOLD_ROOT: a directory standing in for it (tests hold
// a file tree that looks like /proc/sys and /sys/devices/system/cpu).
std::filesystem::path root();

// "" when a restore record may name `setting`; else why not.
std::string refuse_setting(const std::filesystem::path& setting);

// Creates the record directory with mode 0700, or tightens one of ours.
void make_record_dir(const std::filesystem::path& dir);

// "" when the records in `dir` may be applied; else why not. An absent
// directory is fine (no records).
std::string refuse_dir(const std::filesystem::path& dir);

// A record's JSON, or FileError naming the record and what is wrong with
// it (type, owner, mode, size, JSON).
nlohmann::json read_record_file(const std::filesystem::path& record);

// The schema every record of ours names, and whether `d` names it (checked
// without json::value(), which throws when the key holds another type: a
// record must never make recovery throw).
inline constexpr const char* kRecordSchema = "kperflab.hold/1";
bool record_schema(const nlohmann::json& d);

}  // namespace kperflab::hold
