// Inverting Gradients iterations per second, batch 1 and 8, on synthetic
// Fashion-MNIST-shaped victims (28x28x1) of the MLP, AlexNet and ResNet20,
// through the real attack path (RunAttack); and the machine's floating-point
// rate on large products and on ResNet20's convolutions, the bound an
// iteration's FLOP count is held against (docs/benchmarks.md). LibTorch
// threads: BIOFED_BENCH_THREADS (default 2).
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
  // Amortises the set-up (model build, label inference); a convolutional
  // iteration at batch 8 costs several at batch 1, so fewer of them suffice.
  config.iterations = state.range(2);
  config.report_every = 0;
  for (auto _ : state) {
    auto result = RunAttack(record, {}, ThreatModel{}, config, torch::kCPU);
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
  }
  state.counters["iterations_per_s"] =
      benchmark::Counter(static_cast<double>(config.iterations), benchmark::Counter::kIsIterationInvariantRate);
}
// (architecture, batch, iterations per attack)
BENCHMARK(BM_InvertingGradients)
    ->Args({static_cast<int>(Architecture::kMlp), 1, 200})
    ->Args({static_cast<int>(Architecture::kAlexNet), 1, 200})
    ->Args({static_cast<int>(Architecture::kResNet20), 1, 200})
    ->Args({static_cast<int>(Architecture::kMlp), 8, 200})
    ->Args({static_cast<int>(Architecture::kAlexNet), 8, 50})
    ->Args({static_cast<int>(Architecture::kResNet20), 8, 50})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// FLOP/s of a 1024x1024x1024 float matrix product (BLAS).
void BM_MatmulFlops(benchmark::State& state) {
  torch::manual_seed(1);
  const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b));
  state.counters["flops"] = benchmark::Counter(2.0 * 1024 * 1024 * 1024, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MatmulFlops)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// FLOP/s of ResNet20's most frequent convolution (16 to 16 channels, 3x3,
// 28x28) forward at batch 64, where LibTorch picks oneDNN.
void BM_ConvolutionFlops(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({64, 16, 28, 28}), w = torch::randn({16, 16, 3, 3});
  for (auto _ : state) benchmark::DoNotOptimize(torch::conv2d(x, w, {}, 1, 1));
  state.counters["flops"] =
      benchmark::Counter(2.0 * 64 * 28 * 28 * 16 * 16 * 9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ConvolutionFlops)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace biofed
