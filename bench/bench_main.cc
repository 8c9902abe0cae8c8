// The main() of every biofed benchmark: sets LibTorch's thread count from
// BIOFED_BENCH_THREADS (default 2, the CI machine's cores) and keeps large
// freed blocks in the heap (as every biofed command does) before running.
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "common/memory.h"
#include "common/runtime.h"

int main(int argc, char** argv) {
  const char* threads = std::getenv("BIOFED_BENCH_THREADS");
  biofed::ConfigureThreads(threads ? std::atoi(threads) : 2);
  biofed::KeepLargeAllocations();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
