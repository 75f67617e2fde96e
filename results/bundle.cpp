// SPDX-License-Identifier: GPL-2.0-only
#include "results/bundle.h"
#include "results/json_access.h"
#include "core/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <sstream>

namespace kperflab {

namespace fs = std::filesystem;

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (0: not valid UTF-8).
size_t utf8_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) hex(c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t n = utf8_length(s, i);
    // U+0080..U+009F (C1 controls, 8-bit CSI among them) are C2 80..C2 9F.
    bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
    if (n == 0 || c1) {
      for (size_t k = 0; k < (n ? n : 1); ++k) hex(static_cast<unsigned char>(s[i + k]));
      i += n ? n : 1;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

namespace {

// True when no byte of s is one the rule below looks at: below 0x20, DEL,
// 0xc2 (C1 controls are C2 80..C2 9F) and, for a path, 0x80 and above.
// Eight bytes at a time: every string of every bundle passes here, the
// histograms' base64 among them.
bool plain_text(std::string_view s, bool as_path) {
  constexpr uint64_t kOnes = ~uint64_t{0} / 255, kHighs = kOnes * 0x80;
  auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const uint64_t high = as_path ? kHighs : 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (((x - kOnes * 0x20) & ~x & kHighs) | has_zero(x ^ (kOnes * 0x7f)) |
        has_zero(x ^ (kOnes * 0xc2)) | (x & high))
      return false;
  }
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == 0xc2 || (as_path && c >= 0x80)) return false;
  }
  return true;
}

}  // namespace

std::string refused_text(std::string_view s, bool as_path) {
  if (plain_text(s, as_path)) return "";
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c < 0x20 && (as_path || (c != '\t' && c != '\n'))) || c == 0x7f ||
        (c == 0xc2 && next >= 0x80 && next < 0xa0)) {
      char b[80];
      std::snprintf(b, sizeof b, "contains the control character 0x%02x at byte %zu",
                    c == 0xc2 ? next : c, i);
      return b;
    }
    if (as_path && c >= 0x80) {
      size_t n = utf8_length(s, i);
      if (n == 0) return "is not UTF-8 at byte " + std::to_string(i);
      i += n - 1;
    }
  }
  return "";
}

std::string tag_problem(std::string_view v) {
  if (v.empty() || v.size() > 64)
    return "a tag is 1..64 characters, got '" + printable(v.substr(0, 70)) + "'";
  for (char c : v)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return "a tag has letters, digits, '.', '_' and '-' only, got '" +
             printable(v.substr(0, 70)) + "'";
  return "";
}

BundleError::BundleError(const fs::path& file, const std::string& field, const std::string& what)
    : std::runtime_error(printable(
          file.string() + (field.empty() ? "" : ": field '" + field + "'") + ": " + what)) {}

namespace {

// A path component from free text (hostnames and releases are usually safe,
// but a bundle path must never escape the runs directory).
std::string component(std::string s) {
  for (char& c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+'))
      c = '_';
  if (s.empty() || s[0] == '.') s = "_" + s;
  return s;
}

std::string stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char id[16];
  std::snprintf(id, sizeof id, "%06x", rd() & 0xffffff);
  return std::string(buf) + "-" + id;
}

// Every step checked (a full disk shows up at write, fsync or close): on
// failure the temporary file goes and the old file, if any, stays.
void write_atomic(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + strerror(errno));
  auto fail = [&](const char* what, int e) {
    if (fd >= 0) close(fd);
    unlink(tmp.c_str());
    throw std::runtime_error(std::string("cannot ") + what + " " + path.string() + ": " +
                             strerror(e));
  };
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write", n < 0 ? errno : ENOSPC);
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 && errno != EINVAL) fail("sync", errno);
  int rc = close(fd);
  fd = -1;
  if (rc != 0) fail("close", errno);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("rename into", ec.value());
}

}  // namespace

BundleWriter::BundleWriter(const fs::path& root, nlohmann::json meta, bool exact)
    : meta_(std::move(meta)) {
  meta_["status"] = "partial";
  if (exact) {
    if (root.empty()) throw std::invalid_argument("--out: an empty path");
    if (auto why = refused_text(root.string(), true); !why.empty())
      throw std::invalid_argument("--out '" + printable(root.string()) + "' " + why +
                                  " (readers refuse such a bundle)");
    dir_ = root.lexically_normal();
    if (!dir_.has_filename()) dir_ = dir_.parent_path();  // "DIR/" is DIR
    if (dir_.empty() || dir_ == "." || dir_ == ".." || dir_ == "/")
      throw std::invalid_argument("--out " + root.string() + ": not a directory to create");
    std::error_code ec;
    if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec))
      throw std::invalid_argument("--out " + dir_.string() + ": exists and is not a directory");
    if (fs::exists(dir_, ec) && !fs::is_empty(dir_, ec))
      throw std::invalid_argument("--out " + dir_.string() +
                                  ": exists and is not empty (a bundle is never overwritten)");
  } else {
    std::string host = meta_["host"].value("hostname", "unknown");
    std::string rel = meta_["kernel"].value("release", "unknown");
    dir_ = root / component(host) / component(rel) / stamp();
  }
  fs::path parent = dir_.has_parent_path() ? dir_.parent_path() : fs::path(".");
  fs::path tmp = parent / ("." + dir_.filename().string() + ".tmp" + std::to_string(getpid()));
  try {
    fs::create_directories(parent);
    fs::create_directory(tmp);
    write_atomic(tmp / "meta.json", meta_.dump(2) + "\n");
    fs::rename(tmp, dir_);  // replaces an empty --out directory, never a full one
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);  // nothing hidden is left behind
    const auto* fe = dynamic_cast<const fs::filesystem_error*>(&e);
    throw std::runtime_error("cannot create the bundle " + dir_.string() + ": " +
                             (fe ? fe->code().message() : std::string(e.what())));
  }
  meta_["bundle_id"] = dir_.filename().string();
}

void BundleWriter::write_json(const std::string& file, const nlohmann::json& doc) {
  write(file, doc.dump(2) + "\n");
}

void BundleWriter::write_file(const std::string& file, const std::string& bytes) {
  write(file, bytes);
}

fs::path BundleWriter::rescue_root() {
  if (const char* d = std::getenv("KPERFLAB_RESCUE_DIR"); d && *d) return d;
  if (access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path();
}

// Measured data outlives a bundle that cannot take it: the bytes go to the
// rescue directory and the failure is listed for the run's summary.
void BundleWriter::write(const std::string& file, const std::string& bytes) {
  try {
    write_atomic(dir_ / file, bytes);
    return;
  } catch (const std::exception& e) {
    std::string line = file + ": " + e.what();
    try {
      if (rescue_dir_.empty()) {
        fs::path d = rescue_root() / ("kperflab-rescue-" + dir_.filename().string());
        fs::create_directories(d);
        rescue_dir_ = d;
      }
      write_atomic(rescue_dir_ / file, bytes);
      line += "; saved as " + (rescue_dir_ / file).string();
    } catch (const std::exception& r) {
      line += "; LOST (the rescue copy failed too: " + std::string(r.what()) + ")";
    }
    // A file rewritten after each repetition fails again and again: one
    // line per file, the latest outcome.
    auto same = [&](const std::string& f) { return f.starts_with(file + ": "); };
    std::erase_if(failures_, same);
    failures_.push_back(line);
  }
}

void BundleWriter::flush_meta() { write_json("meta.json", meta_); }

void BundleWriter::finish(bool complete) {
  meta_["status"] = complete ? "complete" : "partial";
  flush_meta();
}

namespace {

// Through the one reader (core/read_file.h): a FIFO, /dev/zero or a symlink
// loop is refused at open, a JSON bomb during the parse; the message names
// the file.
nlohmann::json read_bundle_json(const fs::path& file, const ReadLimits& limits) {
  try {
    return kperflab::read_json(file, limits);
  } catch (const FileError& e) {
    throw BundleError(file, "", e.problem());
  }
}

}  // namespace

Bundle Bundle::load(const fs::path& dir) {
  Bundle b;
  b.dir = dir;
  std::error_code ec;
  auto st = fs::status(dir, ec);  // a symlink loop is ELOOP here, not an exception
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw BundleError(dir, "", "cannot read: " + ec.message());
  if (!fs::is_directory(st)) throw BundleError(dir, "", "not a bundle directory");
  b.meta = read_bundle_json(dir / "meta.json", limits::kMetaFile);
  validate_meta(b.meta, dir / "meta.json");
  LoadBudget budget;  // shared by all probe files: the bundle's work is bounded
  JsonView meta = b.meta_view();
  for (auto& [name, info] : meta.at("probes").members()) {
    // The name becomes a path: a probe is [a-z0-9_]+, never "../x".
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      throw BundleError(dir / "meta.json", "probes",
                        "probe name is not [a-z0-9_]{1,64}: '" + name.substr(0, 64) + "'");
    fs::path file = dir / (name + ".json");
    if (fs::status(file, ec).type() == fs::file_type::not_found) {
      if (meta.at("status").str() == "partial") continue;  // crashed before writing it
      throw BundleError(file, "", "listed in meta.json probes but missing");
    }
    auto doc = read_bundle_json(file, limits::kProbeFile);
    validate_probe(doc, file, budget);
    if (doc.at("probe") != name) throw BundleError(file, "probe", "does not match the file name");
    b.probes[name] = std::move(doc);
  }
  return b;
}

}  // namespace kperflab
