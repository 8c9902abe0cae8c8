// Inverting Gradients iterations per second, batch 1 (and 8), on synthetic
// Fashion-MNIST-shaped victims (28x28x1; ResNet20 and AlexNet too), through
// the real attack path (RunAttack). LibTorch threads: BIOFED_BENCH_THREADS
// (default 2).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "bench/bench_fixtures.h"

namespace biofed {
namespace {

void BM_InvertingGradients(benchmark::State& state) {
  const auto architecture = static_cast<Architecture>(state.range(0));
  const int64_t batch = state.range(1);
  state.SetLabel(ArchitectureName(architecture) + " batch " + std::to_string(batch));
  const UpdateRecord record = bench::SyntheticRecord(architecture, batch);
  AttackConfig config;
  config.iterations = 200;  // amortises the set-up (model build, label inference)
  config.report_every = 0;
  for (auto _ : state) {
    auto result = RunAttack(record, {}, ThreatModel{}, config, torch::kCPU);
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
  }
  state.counters["iterations_per_s"] =
      benchmark::Counter(static_cast<double>(config.iterations), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_InvertingGradients)
    ->Args({static_cast<int>(Architecture::kMlp), 1})
    ->Args({static_cast<int>(Architecture::kAlexNet), 1})
    ->Args({static_cast<int>(Architecture::kResNet20), 1})
    ->Args({static_cast<int>(Architecture::kMlp), 8})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

}  // namespace
}  // namespace biofed
