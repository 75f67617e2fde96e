// SPDX-License-Identifier: GPL-2.0-only
#include "results/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/read_file.h"
#include "results/bundle.h"

namespace kperflab {

namespace fs = std::filesystem;

namespace {

// meta.json decides what a bundle is; only its schema is read, and a file
// too large to be a meta.json is not one.
bool is_bundle_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path meta = dir / "meta.json";
  if (!fs::is_regular_file(meta, ec)) return false;
  try {
    auto j = read_json(meta, limits::kMetaFile);  // bounded (read_file.h)
    return j.is_object() && j.value("schema", "") == "kperflab.meta/1";
  } catch (const FileError&) {
    return false;
  }
}

[[noreturn]] void fail(const std::string& what, const fs::path& p, int err) {
  throw std::runtime_error(what + " " + p.string() + ": " + std::strerror(err));
}

// Owns the temporary file until it is renamed into place.
class TempFile {
 public:
  explicit TempFile(const fs::path& target) {
    std::string t = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
    fd_ = mkostemp(t.data(), O_CLOEXEC);
    if (fd_ < 0) fail("cannot create a temporary file for", target, errno);
    path_ = t;
    mode_t mask = umask(0);  // mkstemp makes 0600; a report is as any new file
    umask(mask);
    if (fchmod(fd_, 0666 & ~mask) != 0) fail("cannot set the mode of", path_, errno);
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write_all(const std::string& text) {
    for (size_t off = 0; off < text.size();) {
      ssize_t n = ::write(fd_, text.data() + off, text.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write", path_, n < 0 ? errno : EIO);
      off += static_cast<size_t>(n);
    }
    if (fsync(fd_) != 0) fail("cannot fsync", path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) fail("cannot close", path_, errno);
  }

  // RENAME_NOREPLACE: a file that appeared since the check is not replaced.
  void commit(const fs::path& target, bool replace) {
    int rc = replace ? rename(path_.c_str(), target.c_str())
                     : renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, target.c_str(),
                                 RENAME_NOREPLACE);
    if (rc != 0 && !replace && errno == EINVAL) {  // file system without NOREPLACE
      if (fs::exists(target)) fail("refusing to overwrite", target, EEXIST);
      rc = rename(path_.c_str(), target.c_str());
    }
    if (rc != 0) fail("cannot rename the temporary file to", target, errno);
    path_.clear();
  }

 private:
  int fd_ = -1;
  fs::path path_;
};

}  // namespace

fs::path bundle_containing(const fs::path& path, const std::vector<fs::path>& inputs) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::vector<fs::path> in;
  for (auto& i : inputs) {
    fs::path c = fs::weakly_canonical(fs::absolute(i), ec);
    in.push_back(ec ? fs::absolute(i).lexically_normal() : c);
  }
  for (fs::path d = p.parent_path(); !d.empty(); d = d.parent_path()) {
    for (auto& i : in)
      if (d == i) return d;
    if (is_bundle_dir(d)) return d;
    if (d == d.root_path()) break;
  }
  return {};
}

void write_output_file(const fs::path& path, const std::string& text, bool force,
                       const std::vector<fs::path>& inputs) {
  if (path.empty() || path.filename().empty() || path.filename() == "." || path.filename() == "..")
    throw std::invalid_argument("-o '" + path.string() + "': not a file name");
  if (fs::path b = bundle_containing(path, inputs); !b.empty())
    throw std::invalid_argument("-o " + path.string() + ": inside the bundle " + b.string() +
                                "; a bundle is never written to (not even with --force)");
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st))
      throw std::invalid_argument("-o " + path.string() +
                                  ": exists and is not a regular file (use a shell redirection)");
    if (!force)
      throw std::invalid_argument("-o " + path.string() +
                                  ": exists; refusing to overwrite it without --force");
  }
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  TempFile tmp(dir / path.filename());
  tmp.write_all(text);
  tmp.commit(path, force);
}

void write_stdout(const std::string& text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw std::runtime_error(std::string("cannot write standard output: ") +
                             std::strerror(errno ? errno : EIO));
}

}  // namespace kperflab
