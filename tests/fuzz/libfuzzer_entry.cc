// The libFuzzer program of one target (BIOFED_FUZZ_TARGET names it).
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "tests/fuzz/fuzz_targets.h"

namespace {
const biofed::fuzz::FuzzTarget* target = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  target = biofed::fuzz::FindFuzzTarget(BIOFED_FUZZ_TARGET);
  if (target == nullptr) {
    std::fprintf(stderr, "unknown fuzz target %s\n", BIOFED_FUZZ_TARGET);
    std::abort();
  }
  biofed::SetLogQuiet(true);
  at::set_num_threads(1);
  // LibTorch and protobuf allocate their process-wide state on first use:
  // run the seeds once here so that it does not read as a leak of the
  // first fuzz input.
  for (const auto& [name, bytes] : biofed::fuzz::SeedInputs(BIOFED_FUZZ_TARGET)) {
    target->run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  target->run(data, size);
  return 0;
}
