// SPDX-License-Identifier: GPL-2.0-only
// The one way kperflab reads a file it did not just write itself (#27,
// items 1 and 2): bundle files, kconfig.gz, noise models, restore records,
// /proc and /sys through sysfs::read. Anything a user can point us at may
// be a FIFO (an open or read that blocks forever), /dev/zero (never ends),
// a symlink loop, or a JSON text that costs gigabytes to hold:
//
//  - read_file opens with O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY (a
//    FIFO's open returns at once), then fstat()s the open file (no race
//    between a check and the open): a regular file only, at most max_bytes
//    (st_size first; then the read itself, since /proc and /sys files say
//    0 bytes);
//  - parse_json parses with a depth and an element budget counted by the
//    parser (SAX) as it goes: the parse stops at the first value past
//    either, so a 64 MiB "[[[[..." costs a few KiB, not gigabytes.
//
// Errors name the file and the problem (FileError), never nlohmann's
// "[json.exception.parse_error.101]" prefix.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kperflab {

class FileError : public std::runtime_error {
 public:
  // err: the errno behind it, 0 when none (a limit, a parse error).
  FileError(const std::filesystem::path& file, const std::string& problem, int err = 0);
  const std::filesystem::path& file() const { return file_; }
  const std::string& problem() const { return problem_; }
  int err() const { return err_; }

 private:
  std::filesystem::path file_;
  std::string problem_;
  int err_;
};

// What one kind of file may cost. `kind` names it in messages ("a meta.json").
struct ReadLimits {
  size_t bytes;         // file size
  size_t depth = 64;    // JSON nesting (arrays and objects)
  size_t elements = size_t{1} << 20;  // JSON values; an object member counts twice
  const char* kind = "this file";
};

// The whole of a regular file of at most max_bytes. Throws FileError:
// "cannot open: No such file or directory" (err ENOENT), "not a regular file
// (a FIFO)", "larger than 4 MiB (the limit for a meta.json)", "read error: ...".
// `st`, when given, receives the fstat() of the file that was read (its
// owner and mode, for callers that trust by them).
std::string read_file(const std::filesystem::path& path, size_t max_bytes,
                      const char* kind = "this file", struct stat* st = nullptr);

// Parses text read from `file` within limits.depth and limits.elements.
// Throws FileError: "not valid JSON: syntax error at line 1, column 3: ...",
// "refused: nested deeper than 64 levels (the limit for a meta.json)",
// "refused: more than 200000 JSON values (the limit for a meta.json)".
nlohmann::json parse_json(std::string_view text, const ReadLimits& limits,
                          const std::filesystem::path& file);

// read_file then parse_json. The text is read into a buffer each thread
// keeps for its next file when it is at most 4 MiB, else freed before the
// value returns.
nlohmann::json read_json(const std::filesystem::path& path, const ReadLimits& limits);

// An nlohmann exception's what() without its "[json.exception.NAME.ID] "
// prefix (the position it gives stays); other text unchanged.
std::string json_error_text(std::string_view what);

// "64 MiB", "512 KiB", "100 bytes".
std::string byte_size(size_t n);

}  // namespace kperflab
