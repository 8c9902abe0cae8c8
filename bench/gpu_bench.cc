// The GPU figures of bench/gpu.sh (docs/gpu.md), on a CUDA device:
//  - time per training step, baseline vs FL+WR+WS, eager and replayed as a
//    CUDA graph: MLP batch 100 (28x28x1), ResNet20 and ResNet56 batch 128
//    (32x32x3); the MLP also per mechanism;
//  - the WR pass alone over a model's weights, CUDA kernels vs tensor ops;
//  - Inverting Gradients iterations per second (MLP, AlexNet, ResNet20;
//    batch 1 and 8) through the real attack path, and with cuDNN's
//    benchmark mode for the convolutional models at batch 1.
// Each benchmark reports an error instead of a figure where LibTorch sees no
// CUDA device. Steps synchronise with the host once per 10.
#include <functional>
#include <optional>

#include <ATen/Context.h>
#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "bench/bench_fixtures.h"
#include "client/weight_rejuvenation.h"
#include "common/runtime.h"
#ifdef BIOFED_WITH_CUDA
#include "client/graphed_training_step.h"
#endif

namespace biofed {
namespace {

constexpr int kStepsPerIteration = 10;

std::optional<torch::Device> Cuda(benchmark::State& state) {
  auto device = ResolveDevice("cuda");
  if (!device.ok()) {
    state.SkipWithError(std::string(device.status().message()).c_str());
    return std::nullopt;
  }
  return *device;
}

struct StepCase {
  Architecture architecture;
  InputShape input;
  int64_t batch;
};

StepCase CaseOf(int64_t index) {
  if (index == 0) return {Architecture::kMlp, {1, 28, 28}, 100};
  if (index == 1) return {Architecture::kResNet20, {3, 32, 32}, 128};
  return {Architecture::kResNet56, {3, 32, 32}, 128};
}

// range(0): case (0 MLP, 1 ResNet20, 2 ResNet56); range(1): mechanism mask
// (1 FL, 2 WR, 4 WS); range(2): 1 = replayed as a CUDA graph.
void BM_GpuStep(benchmark::State& state) {
  const auto device = Cuda(state);
  if (!device) return;
  const StepCase c = CaseOf(state.range(0));
  const bool graphed = state.range(2) != 0;
  state.SetLabel(ArchitectureName(c.architecture) + " b" + std::to_string(c.batch) + " " +
                 bench::MechanismLabel(state.range(1)) + (graphed ? " graph" : " eager"));
  bench::StepFixture f = bench::MakeStepFixture(c.architecture, c.input, c.batch, state.range(1), *device);
  std::function<void()> step = [&] { f.step->Step(f.images, f.labels); };
#ifdef BIOFED_WITH_CUDA
  std::unique_ptr<GraphedTrainingStep> graph;
  if (graphed) {
    StepOutput first;
    auto captured = GraphedTrainingStep::Capture(*f.step, f.images, f.labels, &first);
    if (!captured.ok()) {
      state.SkipWithError(std::string(captured.status().message()).c_str());
      return;
    }
    graph = std::move(*captured);
    step = [&] { graph->Replay(f.images, f.labels); };
  }
#else
  if (graphed) {
    state.SkipWithError("CUDA graphs need a BIOFED_WITH_CUDA build");
    return;
  }
#endif
  for (int i = 0; i < 3; ++i) step();  // warm-up: allocator, cuDNN's choices
  torch::cuda::synchronize();
  for (auto _ : state) {
    for (int i = 0; i < kStepsPerIteration; ++i) step();
    torch::cuda::synchronize();
  }
  state.counters["steps_per_s"] =
      benchmark::Counter(kStepsPerIteration, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GpuStep)
    ->ArgsProduct({{0}, {0, 1, 2, 4, 7}, {0}})
    ->ArgsProduct({{0}, {0, 7}, {1}})
    ->ArgsProduct({{1, 2}, {0, 7}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// range(0): 0 = the CUDA kernels (WeightRejuvenation), 1 = tensor ops per
// layer; range(1): case of BM_GpuStep (its MechanismTargets).
void BM_GpuRejuvenation(benchmark::State& state) {
  const auto device = Cuda(state);
  if (!device) return;
  const bool kernels = state.range(0) == 0;
  const StepCase c = CaseOf(state.range(1));
  state.SetLabel(ArchitectureName(c.architecture) + (kernels ? " kernels" : " tensor ops"));
  if (kernels && !RejuvenationKernelsBuilt()) {
    state.SkipWithError("the WR kernels need a BIOFED_WITH_CUDA build");
    return;
  }
  ModelSpec spec;
  spec.architecture = c.architecture;
  spec.input = c.input;
  Model model = BuildModel(spec, 0).value().Clone(*device);
  const std::vector<NamedTensor> targets = model.MechanismTargets();
  WeightRejuvenation wr(targets, 14.0, RejuvenationVariant::kReference, 1);
  uint64_t call = 0;
  auto pass = [&] {
    if (kernels) {
      wr.Apply();
      return;
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      torch::Tensor w = targets[i].tensor.detach();
      RejuvenateWithTensorOps(w, 14.0, RejuvenationVariant::kReference, 1, (call << 16) | i);
    }
    ++call;
  };
  pass();
  torch::cuda::synchronize();
  for (auto _ : state) {
    for (int i = 0; i < kStepsPerIteration; ++i) pass();
    torch::cuda::synchronize();
  }
  state.counters["passes_per_s"] =
      benchmark::Counter(kStepsPerIteration, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GpuRejuvenation)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

// range(0): architecture; range(1): batch; range(2): 1 = cuDNN's benchmark
// mode (it times the convolution algorithms once per shape).
void BM_GpuInvertingGradients(benchmark::State& state) {
  const auto device = Cuda(state);
  if (!device) return;
  const auto architecture = static_cast<Architecture>(state.range(0));
  const int64_t batch = state.range(1);
  const bool cudnn_benchmark = state.range(2) != 0;
  state.SetLabel(ArchitectureName(architecture) + " batch " + std::to_string(batch) +
                 (cudnn_benchmark ? " cudnn-benchmark" : ""));
  at::globalContext().setBenchmarkCuDNN(cudnn_benchmark);
  const UpdateRecord record = bench::SyntheticRecord(architecture, batch);
  AttackConfig config;
  config.iterations = 200;  // amortises the set-up (model build, label inference)
  config.report_every = 0;
  for (auto _ : state) {
    auto result = RunAttack(record, {}, ThreatModel{}, config, *device);
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
  }
  at::globalContext().setBenchmarkCuDNN(false);
  state.counters["iterations_per_s"] =
      benchmark::Counter(static_cast<double>(config.iterations), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GpuInvertingGradients)
    ->ArgsProduct({{static_cast<int>(Architecture::kMlp), static_cast<int>(Architecture::kAlexNet),
                    static_cast<int>(Architecture::kResNet20)},
                   {1, 8},
                   {0}})
    ->ArgsProduct({{static_cast<int>(Architecture::kAlexNet), static_cast<int>(Architecture::kResNet20)}, {1}, {1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace
}  // namespace biofed
