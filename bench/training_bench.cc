// Training benchmarks on random data of the datasets' shapes:
//  - throughput (samples/s) of baseline training at batch 100 for the MLP,
//    AlexNet and ResNet20 on 28x28x1 inputs;
//  - time per training step, baseline vs FL+WR+WS, for the MLP at batch 100
//    (28x28x1) and ResNet20 at batch 128 (32x32x3).
// LibTorch threads: BIOFED_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench/bench_fixtures.h"
#include "client/weight_rejuvenation.h"

namespace biofed {
namespace {

void RunSteps(benchmark::State& state, Architecture architecture, InputShape input, int64_t batch,
              int64_t mechanisms) {
  bench::StepFixture f = bench::MakeStepFixture(architecture, input, batch, mechanisms, torch::kCPU);
  for (int i = 0; i < 2; ++i) f.step->Step(f.images, f.labels);  // warm-up: allocator, BLAS buffers
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.step->Step(f.images, f.labels).loss.item<float>());
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TrainThroughput(benchmark::State& state) {
  const auto architecture = static_cast<Architecture>(state.range(0));
  state.SetLabel(ArchitectureName(architecture) + " 28x28x1 batch 100 baseline");
  RunSteps(state, architecture, {1, 28, 28}, 100, 0);
}
BENCHMARK(BM_TrainThroughput)
    ->Arg(static_cast<int>(Architecture::kMlp))
    ->Arg(static_cast<int>(Architecture::kAlexNet))
    ->Arg(static_cast<int>(Architecture::kResNet20))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_StepMlp(benchmark::State& state) {
  state.SetLabel("mlp b100 " + bench::MechanismLabel(state.range(0)));
  RunSteps(state, Architecture::kMlp, {1, 28, 28}, 100, state.range(0));
}
BENCHMARK(BM_StepMlp)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(7)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_StepResNet20(benchmark::State& state) {
  state.SetLabel("resnet20 b128 " + bench::MechanismLabel(state.range(0)));
  RunSteps(state, Architecture::kResNet20, {3, 32, 32}, 128, state.range(0));
}
BENCHMARK(BM_StepResNet20)->Arg(0)->Arg(7)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

}  // namespace
}  // namespace biofed

namespace biofed {
namespace {

// The fused WR pass alone on the MLP's hidden layer (1000 x 784).
void BM_RejuvenateMlpLayer(benchmark::State& state) {
  torch::manual_seed(0);
  torch::Tensor w = torch::empty({1000, 784}).uniform_(-0.035, 0.035);
  uint64_t call = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RejuvenateOnCpu(w, 14.0, RejuvenationVariant::kReference, 1, call++));
  }
  state.counters["weights_per_s"] =
      benchmark::Counter(static_cast<double>(w.numel()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_RejuvenateMlpLayer)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace biofed
