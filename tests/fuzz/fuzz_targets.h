// The fuzz targets: every parser of bytes from outside the process. Each
// takes arbitrary bytes, must never crash, hang or leak, and reports
// whether it accepted the input. The same functions back the libFuzzer
// programs (`make fuzz`) and the corpus replay that every test run does.
#ifndef BIOFED_TESTS_FUZZ_FUZZ_TARGETS_H_
#define BIOFED_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/host_tensor.h"

namespace biofed::fuzz {

struct FuzzTarget {
  const char* name;  // also the corpus folder: tests/fuzz/corpus/<name>/
  const char* parser;
  bool (*run)(const uint8_t* data, size_t size);  // true: the input was accepted
};

const std::vector<FuzzTarget>& FuzzTargets();
// nullptr for an unknown name.
const FuzzTarget* FindFuzzTarget(std::string_view name);

// Valid inputs of `target`, made with the project's own encoders: the seed
// corpus, as (file name, bytes).
std::vector<std::pair<std::string, std::string>> SeedInputs(std::string_view target);

// The update-stream target's input: chunks, each a little-endian uint32
// length and a serialised biofed.v1.UpdateChunk, the first one the header;
// the update must follow the schema of FuzzUpdateModel().
std::string FrameUpdateChunk(const std::string& serialized_chunk);
TensorTable FuzzUpdateModel();

}  // namespace biofed::fuzz

#endif  // BIOFED_TESTS_FUZZ_FUZZ_TARGETS_H_
