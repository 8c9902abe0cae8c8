// A temporary directory removed at the end of a test, and a file writer.
//
// The removal walks the tree with POSIX nftw, not std::filesystem: PyTorch's
// pip LibTorch exports its own copies of libstdc++'s filesystem functions,
// which then win symbol lookup over libstdc++'s, and its remove_all jumped to
// address 0 on the GPU machine (docs/gpu.md).
#ifndef BIOFED_TESTS_TESTING_TEMP_DIR_H_
#define BIOFED_TESTS_TESTING_TEMP_DIR_H_

#include <ftw.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace biofed::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "biofed-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    // Children before their directory (FTW_DEPTH), links not followed.
    nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = File(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_TEMP_DIR_H_
