#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "client/centralized_training.h"
#include "common/files.h"
#include "common/progress.h"
#include "common/runtime.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

struct TrainFlags {
  std::string model = "mlp";
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  std::string optimizer = "sgd";
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  int64_t batch = 100;
  int64_t epochs = 1;
  int64_t seed = 0;
  int64_t threads = 0;
  int64_t train_subset = 0;
  std::string device = "auto";
  std::string biomod = "none";
  double tau = 0.18;
  double d_re = 14.0;
  int64_t gamma = 2;
  std::string wr_variant = "reference";
  bool compare = false;
  std::string out;
};

nlohmann::json ToJson(const TrainResult& result) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochRecord& e : result.epochs) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerInsight& l : e.layers) {
      layers.push_back({{"name", l.name},
                        {"rejuvenated_fraction_per_step", l.reset_fraction},
                        {"mean", l.mean},
                        {"std", l.std},
                        {"max_abs", l.max_abs},
                        {"histogram", {{"range", {-l.max_abs, l.max_abs}}, {"counts", l.histogram}}}});
    }
    epochs.push_back({{"epoch", e.epoch},
                      {"train_loss", e.train_loss},
                      {"train_accuracy", e.train_accuracy},
                      {"test_loss", e.test_loss},
                      {"test_accuracy", e.test_accuracy},
                      {"seconds", e.seconds},
                      {"layers", layers}});
  }
  return {{"parameter_count", result.parameter_count},
          {"epochs", epochs},
          {"learning_speed",
           {{"epoch", result.speed.epoch},
            {"accuracy", result.speed.accuracy},
            {"patience", 5},
            {"patience_exhausted", result.speed.patience_exhausted}}},
          {"accuracy_auc", result.accuracy_auc}};
}

nlohmann::json ConfigJson(const TrainFlags& f, const TrainConfig& c, const std::string& device,
                          int64_t threads) {
  return {{"model", f.model},       {"dataset", f.dataset},
          {"data_dir", f.data_dir.empty() ? DefaultDataDir(f.dataset) : f.data_dir},
          {"optimizer", f.optimizer}, {"lr", f.lr}, {"momentum", f.momentum},
          {"weight_decay", f.weight_decay}, {"batch", f.batch}, {"epochs", f.epochs},
          {"seed", f.seed}, {"threads", threads}, {"device", device},
          {"train_subset", f.train_subset}, {"biomod", BiomodName(c.biomod)},
          {"tau", c.biomod.tau}, {"d_re", c.biomod.d_re}, {"gamma", c.biomod.gamma},
          {"wr_variant", RejuvenationVariantName(c.biomod.variant)}, {"compare", f.compare}};
}

absl::StatusOr<TrainResult> TrainOne(const std::string& label, const TrainConfig& config,
                                     const DatasetSplits& data, const torch::Device& device) {
  std::unique_ptr<ProgressBar> bar;
  int64_t current_epoch = 0;
  auto on_step = [&](int64_t epoch, int64_t step, int64_t steps) {
    if (epoch != current_epoch) {
      if (bar) bar->Finish();
      bar = std::make_unique<ProgressBar>(absl::StrFormat("%s epoch %d/%d", label, epoch, config.epochs),
                                          steps);
      current_epoch = epoch;
    }
    bar->Update(step);
  };
  auto result = RunCentralizedTraining(config, data, device, on_step);
  if (bar) bar->Finish();
  return result;
}

void PrintEpochs(const std::string& label, const TrainResult& r) {
  std::printf("%s\n%6s %11s %10s %10s %9s\n", label.c_str(), "epoch", "train_loss", "train_acc",
              "test_acc", "seconds");
  for (const EpochRecord& e : r.epochs) {
    std::printf("%6lld %11.4f %10.4f %10.4f %9.1f\n", static_cast<long long>(e.epoch), e.train_loss,
                e.train_accuracy, e.test_accuracy, e.seconds);
  }
  std::printf("learning-speed epoch %lld (accuracy %.4f%s), accuracy AUC %.4f\n\n",
              static_cast<long long>(r.speed.epoch), r.speed.accuracy,
              r.speed.patience_exhausted ? "" : ", patience not exhausted", r.accuracy_auc);
}

}  // namespace

int RunTrainCommand(const std::vector<std::string>& args) {
  TrainFlags f;
  FlagSet flags("train",
                "Centralised training of one model on one dataset. With --compare, a baseline\n"
                "run and a biomod run (--biomod, default fl,wr,ws) from the same seed on the\n"
                "same data order, with the paper's learning-speed measure and the accuracy AUC.");
  flags.AddString("model", &f.model, "mlp, alexnet, resnet20, resnet32 or resnet56");
  flags.AddString("dataset", &f.dataset, "fashion-mnist, mnist, cifar10 or cifar100");
  flags.AddString("data-dir", &f.data_dir, "directory of the dataset files (default per dataset)");
  flags.AddString("optimizer", &f.optimizer, "sgd or adam (FL is largely normalised away by adam)");
  flags.AddDouble("lr", &f.lr, "learning rate");
  flags.AddDouble("momentum", &f.momentum, "SGD momentum");
  flags.AddDouble("weight-decay", &f.weight_decay, "L2 weight decay");
  flags.AddInt("batch", &f.batch, "mini-batch size");
  flags.AddInt("epochs", &f.epochs, "number of epochs");
  flags.AddInt("seed", &f.seed, "seed of the model init, data order and biomod state");
  flags.AddInt("threads", &f.threads, "LibTorch threads (0 = all cores)");
  flags.AddInt("train-subset", &f.train_subset, "use only the first N training samples (0 = all)");
  flags.AddString("device", &f.device, "auto, cpu, cuda or cuda:N");
  flags.AddString("biomod", &f.biomod, "none, or a comma list of fl, wr, ws");
  flags.AddDouble("tau", &f.tau, "FL spread: factors ~ U(1 - tau/2, 1 + tau/2)");
  flags.AddDouble("d-re", &f.d_re, "WR distance: sigma = max|W| / d_re");
  flags.AddInt("gamma", &f.gamma, "WS division factor");
  flags.AddString("wr-variant", &f.wr_variant, "reference (two-sided on |w|) or paper (eq. 3)");
  flags.AddBool("compare", &f.compare, "run baseline and biomod and compare them");
  flags.AddString("out", &f.out, "directory for summary.json");
  if (auto exit = ParseOrExit(flags, args)) return *exit;

  TrainConfig config;
  auto architecture = ParseArchitecture(f.model);
  if (!architecture.ok()) return Fail("train", architecture.status());
  config.architecture = *architecture;
  config.optimizer = {f.optimizer, f.lr, f.momentum, f.weight_decay};
  BiomodOptions base;
  base.tau = f.tau;
  base.d_re = f.d_re;
  base.gamma = f.gamma;
  auto variant = ParseRejuvenationVariant(f.wr_variant);
  if (!variant.ok()) return Fail("train", variant.status());
  base.variant = *variant;
  const std::string biomod_list = (f.compare && !flags.WasSet("biomod")) ? "fl,wr,ws" : f.biomod;
  auto biomod = ParseBiomod(biomod_list, base);
  if (!biomod.ok()) return Fail("train", biomod.status());
  config.biomod = *biomod;
  config.batch_size = f.batch;
  config.epochs = f.epochs;
  config.seed = static_cast<uint64_t>(f.seed);
  config.train_subset = f.train_subset;
  if (f.compare && !config.biomod.any()) {
    return Fail("train", absl::InvalidArgumentError("--compare needs a --biomod other than none"));
  }

  const int64_t threads = ConfigureThreads(f.threads);
  auto device = ResolveDevice(f.device);
  if (!device.ok()) return Fail("train", device.status());
  auto data = LoadDataset(f.dataset, f.data_dir);
  if (!data.ok()) return Fail("train", data.status());
  std::fprintf(stderr, "biofed train: %s on %s (%lld train / %lld test), %s, %lld threads\n",
               f.model.c_str(), f.dataset.c_str(), static_cast<long long>(data->train.size()),
               static_cast<long long>(data->test.size()), device->str().c_str(),
               static_cast<long long>(threads));

  nlohmann::json summary = {{"config", ConfigJson(f, config, device->str(), threads)}};
  if (f.compare) {
    TrainConfig baseline = config;
    baseline.biomod = ParseBiomod("none", config.biomod).value();
    auto base_result = TrainOne("baseline", baseline, *data, *device);
    if (!base_result.ok()) return Fail("train", base_result.status());
    auto bio_result = TrainOne(BiomodName(config.biomod), config, *data, *device);
    if (!bio_result.ok()) return Fail("train", bio_result.status());
    PrintEpochs("baseline", *base_result);
    PrintEpochs("biomod " + BiomodName(config.biomod), *bio_result);
    summary["runs"] = {{"baseline", ToJson(*base_result)}, {"biomod", ToJson(*bio_result)}};
  } else {
    auto result = TrainOne(BiomodName(config.biomod), config, *data, *device);
    if (!result.ok()) return Fail("train", result.status());
    PrintEpochs(BiomodName(config.biomod), *result);
    summary["run"] = ToJson(*result);
  }
  if (!f.out.empty()) {
    const std::string path = (std::filesystem::path(f.out) / "summary.json").string();
    const absl::Status written = WriteFileAtomically(path, summary.dump(2) + "\n");
    if (!written.ok()) return Fail("train", written);
    std::printf("summary: %s\n", path.c_str());
  }
  return 0;
}

}  // namespace biofed
