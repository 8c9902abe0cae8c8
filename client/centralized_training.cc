#include "client/centralized_training.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "client/seeds.h"
#include "client/step_runner.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model.h"

namespace biofed {
namespace {

// `passes_per_step`: WR's passes over the epoch's steps (1 when WR runs in
// every step), turning its mean fraction per pass into one per step.
std::vector<LayerInsight> InspectLayers(TrainingStep& step, int64_t bins, double passes_per_step) {
  torch::NoGradGuard no_grad;
  std::vector<double> fractions(step.targets().size(), 0.0);
  if (WeightRejuvenation* wr = step.rejuvenation()) {
    fractions = wr->MeanResetFractions();
    for (double& f : fractions) f *= passes_per_step;
    wr->ResetStatistics();
  }
  std::vector<LayerInsight> out;
  for (size_t i = 0; i < step.targets().size(); ++i) {
    const torch::Tensor w = step.targets()[i].tensor.detach().to(torch::kCPU, torch::kDouble);
    LayerInsight layer;
    layer.name = step.targets()[i].name;
    layer.reset_fraction = fractions[i];
    layer.mean = w.mean().item<double>();
    layer.std = w.std().item<double>();
    layer.max_abs = w.abs().max().item<double>();
    const torch::Tensor histogram =
        torch::histc(w, bins, -layer.max_abs, layer.max_abs).to(torch::kLong);
    layer.histogram.assign(histogram.data_ptr<int64_t>(),
                           histogram.data_ptr<int64_t>() + histogram.numel());
    out.push_back(std::move(layer));
  }
  return out;
}

}  // namespace

std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(MixSeed(seed, kDataOrderStream, static_cast<uint64_t>(epoch)));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

std::pair<double, double> Evaluate(const Model& model, const Dataset& data,
                                   const Normalization& norm, const torch::Device& device,
                                   int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.train(false);
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const int64_t end = std::min(begin + batch_size, data.size());
    const torch::Tensor indices = torch::arange(begin, end, torch::kLong);
    const torch::Tensor x = NormalizedImages(data, norm, indices).to(device);
    const torch::Tensor y = data.labels.index_select(0, indices).to(device);
    const torch::Tensor logits = model.forward(x);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kDouble);
    correct += logits.argmax(1).eq(y).sum();
  }
  model.train(true);
  const double n = static_cast<double>(std::max<int64_t>(data.size(), 1));
  return {loss_sum.item<double>() / n, static_cast<double>(correct.item<int64_t>()) / n};
}

absl::StatusOr<TrainResult> RunCentralizedTraining(const TrainConfig& config,
                                                   const DatasetSplits& data,
                                                   const torch::Device& device,
                                                   const StepCallback& on_step) {
  BIOFED_RETURN_IF_ERROR(ValidateOptimizer(config.optimizer));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(config.biomod));
  if (config.biomod.rejuvenation && config.biomod.wr_every.kind != RejuvenationSchedule::Kind::kSteps) {
    return absl::InvalidArgumentError("WR once per round (round-start, round-end) is a federated client's "
                                      "schedule; centralised training has steps: wr_every N");
  }
  if (config.batch_size < 1 || config.epochs < 1) {
    return absl::InvalidArgumentError("batch size and epochs must be >= 1");
  }
  const Dataset train = TakeFirst(data.train, config.train_subset);
  ModelSpec spec;
  spec.architecture = config.architecture;
  spec.input = {train.channels(), train.height(), train.width()};
  spec.num_classes = train.num_classes;
  spec.split_gamma = config.biomod.split_gamma();
  BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(spec, config.seed));
  return CallTorch("training", [&]() -> TrainResult {
    model.to(device);
    model.train(true);
    TrainingStep step(model, config.biomod, config.optimizer, config.seed);
    StepRunner runner(step);
    TrainResult result;
    result.parameter_count = model.ParameterCount();
    const int64_t n = train.size();
    const int64_t steps = (n + config.batch_size - 1) / config.batch_size;
    std::vector<double> accuracies;
    for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      const std::vector<int64_t> order = EpochOrder(n, config.seed, epoch);
      const torch::Tensor order_tensor = torch::tensor(order, torch::kLong);
      torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
      torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t begin = s * config.batch_size;
        const int64_t end = std::min(begin + config.batch_size, n);
        const torch::Tensor indices = order_tensor.slice(0, begin, end);
        const torch::Tensor x = NormalizedImages(train, data.norm, indices).to(device);
        const torch::Tensor y = train.labels.index_select(0, indices).to(device);
        const StepOutput out = runner.Step(x, y);
        loss_sum += out.loss * static_cast<double>(end - begin);
        correct += out.correct;
        if (on_step) on_step(epoch, s + 1, steps);
      }
      EpochRecord record;
      record.epoch = epoch;
      record.train_loss = loss_sum.item<double>() / n;
      record.train_accuracy = static_cast<double>(correct.item<int64_t>()) / n;
      std::tie(record.test_loss, record.test_accuracy) =
          Evaluate(model, data.test, data.norm, device);
      // WR runs at the life-long steps that are multiples of its interval:
      // ceil(b / N) - ceil(a / N) of them in this epoch's [a, b).
      const int64_t every = config.biomod.wr_every.every, first = (epoch - 1) * steps, last = epoch * steps;
      const double passes = static_cast<double>((last + every - 1) / every - (first + every - 1) / every);
      record.layers = InspectLayers(step, config.histogram_bins, passes / static_cast<double>(steps));
      record.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      accuracies.push_back(record.test_accuracy);
      result.epochs.push_back(std::move(record));
    }
    result.speed = ComputeLearningSpeed(accuracies);
    result.accuracy_auc = AccuracyCurveArea(accuracies);
    return result;
  });
}

}  // namespace biofed
