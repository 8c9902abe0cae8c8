#include "bench/bench_fixtures.h"

#include <torch/torch.h>

#include "attack/gradient_matching.h"
#include "models/model_state.h"

namespace biofed {
namespace bench {

BiomodOptions MechanismsFromMask(int64_t mask) {
  BiomodOptions biomod;
  biomod.fuzzy_learning_rates = (mask & 1) != 0;
  biomod.rejuvenation = (mask & 2) != 0;
  biomod.weight_splitting = (mask & 4) != 0;
  return biomod;
}

std::string MechanismLabel(int64_t mask) {
  const std::string name = BiomodName(MechanismsFromMask(mask));
  return name == "none" ? "baseline" : name;
}

StepFixture MakeStepFixture(Architecture architecture, InputShape input, int64_t batch, int64_t mask,
                            const torch::Device& device) {
  const BiomodOptions biomod = MechanismsFromMask(mask);
  ModelSpec spec;
  spec.architecture = architecture;
  spec.input = input;
  spec.split_gamma = biomod.split_gamma();
  Model model = BuildModel(spec, 0).value().Clone(device);
  StepFixture fixture;
  fixture.step = std::make_unique<TrainingStep>(model, biomod, OptimizerOptions{"sgd", 0.01, 0, 0}, 1);
  torch::manual_seed(0);
  fixture.images = torch::randn({batch, input.channels, input.height, input.width}).to(device);
  fixture.labels = torch::randint(0, 10, {batch}, torch::kLong).to(device);
  return fixture;
}

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

}  // namespace bench
}  // namespace biofed
