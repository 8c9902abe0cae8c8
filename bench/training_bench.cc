// Training benchmarks on random data of the datasets' shapes:
//  - throughput (samples/s) of baseline training at batch 100 for the MLP,
//    AlexNet and ResNet20 on 28x28x1 inputs;
//  - time per training step, baseline vs FL+WR+WS, for the MLP at batch 100
//    (28x28x1) and ResNet20 at batch 128 (32x32x3).
// LibTorch threads: BIOFED_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "client/training_step.h"
#include "client/weight_rejuvenation.h"
#include "common/runtime.h"
#include "models/model.h"

namespace biofed {
namespace {

// `mechanisms` is a bit mask: 1 = FL, 2 = WR, 4 = WS.
void RunSteps(benchmark::State& state, Architecture architecture, InputShape input, int64_t batch,
              int64_t mechanisms) {
  BiomodOptions biomod;
  biomod.fuzzy_learning_rates = (mechanisms & 1) != 0;
  biomod.rejuvenation = (mechanisms & 2) != 0;
  biomod.weight_splitting = (mechanisms & 4) != 0;
  ModelSpec spec;
  spec.architecture = architecture;
  spec.input = input;
  spec.split_gamma = biomod.split_gamma();
  Model model = BuildModel(spec, 0).value();
  TrainingStep step(model, biomod, OptimizerOptions{"sgd", 0.01, 0, 0}, 1);
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({batch, input.channels, input.height, input.width});
  const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
  for (int i = 0; i < 2; ++i) step.Step(x, y);  // warm-up: allocator, BLAS buffers
  for (auto _ : state) {
    benchmark::DoNotOptimize(step.Step(x, y).loss.item<float>());
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

std::string MechanismLabel(int64_t mask) {
  if (mask == 0) return "baseline";
  std::string out;
  for (auto [bit, name] : {std::pair<int64_t, const char*>{1, "fl"}, {2, "wr"}, {4, "ws"}}) {
    if (mask & bit) out += out.empty() ? name : std::string("+") + name;
  }
  return out;
}

void BM_StepMlp(benchmark::State& state) {
  state.SetLabel("mlp b100 " + MechanismLabel(state.range(0)));
  RunSteps(state, Architecture::kMlp, {1, 28, 28}, 100, state.range(0));
}
BENCHMARK(BM_StepMlp)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(7)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_StepResNet20(benchmark::State& state) {
  state.SetLabel("resnet20 b128 " + MechanismLabel(state.range(0)));
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
