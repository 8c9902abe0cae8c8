// biofed_fuzz_tool: the fuzz targets without libFuzzer.
//   seeds DIR               writes every target's seed corpus to DIR/<target>/
//   replay CORPUS REGRESS   runs every target on CORPUS/<target>/* (each must
//                           be accepted) and REGRESS/<target>/* (inputs that
//                           once crashed: each must return, accepted or not)
// Exit status 1 when a seed is refused; a crash is the test's failure.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "common/log.h"
#include "tests/fuzz/fuzz_targets.h"

namespace fs = std::filesystem;
using biofed::fuzz::FuzzTarget;

namespace {

constexpr char kUsage[] =
    "usage: biofed_fuzz_tool seeds DIR\n"
    "       biofed_fuzz_tool replay CORPUS_DIR REGRESSIONS_DIR\n";

int WriteSeeds(const fs::path& root) {
  for (const FuzzTarget& target : biofed::fuzz::FuzzTargets()) {
    fs::create_directories(root / target.name);
    for (const auto& [name, bytes] : biofed::fuzz::SeedInputs(target.name)) {
      std::ofstream out(root / target.name / name, std::ios::binary | std::ios::trunc);
      out << bytes;
      if (!out) {
        std::cerr << "cannot write " << (root / target.name / name) << "\n";
        return 1;
      }
    }
  }
  return 0;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs `target` on every file under `dir`; returns how many were refused.
int RunFolder(const FuzzTarget& target, const fs::path& dir, int* count) {
  int refused = 0;
  if (!fs::is_directory(dir)) return 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = ReadAll(entry.path());
    ++*count;
    if (!target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
      ++refused;
      std::cout << "  refused: " << entry.path().string() << "\n";
    }
  }
  return refused;
}

int Replay(const fs::path& corpus, const fs::path& regressions) {
  int failures = 0;
  for (const FuzzTarget& target : biofed::fuzz::FuzzTargets()) {
    int seeds = 0;
    int regression_inputs = 0;
    const int refused_seeds = RunFolder(target, corpus / target.name, &seeds);
    RunFolder(target, regressions / target.name, &regression_inputs);
    std::cout << target.name << ": " << seeds << " seeds (" << refused_seeds << " refused), " << regression_inputs
              << " regression inputs survived\n";
    if (seeds == 0) {
      std::cout << "  no seed corpus under " << (corpus / target.name).string() << "\n";
      ++failures;
    }
    failures += refused_seeds;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  biofed::SetLogQuiet(true);
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "seeds" && argc == 3) return WriteSeeds(argv[2]);
  if (command == "replay" && argc == 4) return Replay(argv[2], argv[3]);
  std::cerr << kUsage;
  return command == "--help" || command == "-h" ? 0 : 2;
}
