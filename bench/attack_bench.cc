// Inverting Gradients iterations per second, batch 1 (and 8), on synthetic
// Fashion-MNIST-shaped victims (28x28x1; ResNet20 and AlexNet too), through
// the real attack path (RunAttack). LibTorch threads: BIOFED_BENCH_THREADS
// (default 2).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/gradient_matching.h"
#include "common/runtime.h"
#include "models/model_state.h"

namespace biofed {
namespace {

UpdateRecord SyntheticRecord(Architecture architecture, int64_t batch) {
  ModelSpec spec;
  spec.architecture = architecture;
  Model model = BuildModel(spec, 0).value();
  model.train(true);
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({batch, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
  UpdateRecord r;
  r.spec = spec;
  r.global_state = CopyState(model);
  const auto grads = CandidateGradients(model, x, y, false);
  const auto named = model.named_parameters();
  for (size_t i = 0; i < named.size(); ++i) r.update.push_back({named[i].name, grads[i].detach()});
  r.batch_size = r.num_examples = batch;
  r.norm = {{0.286}, {0.353}};
  r.dataset = "synthetic";
  return r;
}

void BM_InvertingGradients(benchmark::State& state) {
  const auto architecture = static_cast<Architecture>(state.range(0));
  const int64_t batch = state.range(1);
  state.SetLabel(ArchitectureName(architecture) + " batch " + std::to_string(batch));
  const UpdateRecord record = SyntheticRecord(architecture, batch);
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
