// TempDir: a fresh directory under /tmp for one test, removed with everything in it when the test ends.
//
// Contract: for tests only. path() is unique per instance (mkdtemp). file_text() is a file's whole
// contents, "" when it cannot be read.
// Thread-safety: one owner.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace voxlog::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/voxlog-es-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory that does not exist yet.
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace voxlog::test
