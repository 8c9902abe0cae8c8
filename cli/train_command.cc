#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/flag_groups.h"
#include "client/centralized_training.h"
#include "common/files.h"
#include "common/json_config.h"
#include "common/progress.h"
#include "common/runtime.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

struct TrainFlags {
  std::string model = "mlp";
  DataFlags data;
  OptimizerOptions optimizer;
  int64_t batch = 100;
  int64_t epochs = 1;
  int64_t seed = 0;
  int64_t train_subset = 0;
  ComputeFlags compute;
  BiomodFlags biomod;
  bool compare = false;
  std::string out;
};

void AddFlags(FlagSet& flags, TrainFlags& f) {
  flags.AddString("model", &f.model, "mlp, alexnet, resnet20, resnet32 or resnet56");
  AddDataFlags(flags, &f.data);
  flags.AddString("optimizer", &f.optimizer.name, "sgd or adam (FL is largely normalised away by adam)");
  flags.AddDouble("lr", &f.optimizer.lr, "learning rate");
  flags.AddDouble("momentum", &f.optimizer.momentum, "SGD momentum");
  flags.AddDouble("weight-decay", &f.optimizer.weight_decay, "L2 weight decay");
  flags.AddInt("batch", &f.batch, "mini-batch size");
  flags.AddInt("epochs", &f.epochs, "number of epochs");
  flags.AddInt("seed", &f.seed, "seed of the model init, data order and biomod state");
  flags.AddInt("train-subset", &f.train_subset, "use only the first N training samples (0 = all)");
  AddComputeFlags(flags, &f.compute);
  AddBiomodFlags(flags, &f.biomod, "none, or fl, wr, ws joined by + (with --compare: default fl+wr+ws)");
  flags.AddBool("compare", &f.compare, "run baseline and biomod and compare them");
  flags.AddString("out", &f.out, "directory for summary.json");
}

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
  nlohmann::json j = {{"model", f.model}, {"dataset", f.data.dataset},
                      {"data_dir", f.data.data_dir.empty() ? DefaultDataDir(f.data.dataset) : f.data.data_dir},
                      {"optimizer", f.optimizer.name}, {"lr", f.optimizer.lr}, {"momentum", f.optimizer.momentum},
                      {"weight_decay", f.optimizer.weight_decay}, {"batch", f.batch}, {"epochs", f.epochs},
                      {"seed", f.seed}, {"threads", threads}, {"device", device},
                      {"train_subset", f.train_subset}, {"biomod", BiomodName(c.biomod)}, {"compare", f.compare}};
  WriteJsonKeys(c.biomod, [](const BiomodOptions& o, auto&& v) { VisitParameters(o, v); }, j);
  return j;
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

absl::StatusOr<TrainConfig> ConfigOf(const TrainFlags& f) {
  TrainConfig config;
  BIOFED_ASSIGN_OR_RETURN(config.architecture, ParseArchitecture(f.model));
  config.optimizer = f.optimizer;
  BiomodFlags biomod = f.biomod;
  if (f.compare && biomod.mechanisms == "none") biomod.mechanisms = "fl+wr+ws";
  BIOFED_ASSIGN_OR_RETURN(config.biomod, ParseBiomodFlags(biomod));
  if (f.compare && !config.biomod.any()) return absl::InvalidArgumentError("--compare needs a --biomod other than none");
  config.batch_size = f.batch;
  config.epochs = f.epochs;
  config.seed = static_cast<uint64_t>(f.seed);
  config.train_subset = f.train_subset;
  return config;
}

// One run, or with --compare the baseline and the biomod run; their JSON.
absl::StatusOr<nlohmann::json> Runs(const TrainFlags& f, const TrainConfig& config, const DatasetSplits& data,
                                    const torch::Device& device) {
  if (!f.compare) {
    BIOFED_ASSIGN_OR_RETURN(TrainResult result, TrainOne(BiomodName(config.biomod), config, data, device));
    PrintEpochs(BiomodName(config.biomod), result);
    return nlohmann::json{{"run", ToJson(result)}};
  }
  TrainConfig baseline = config;
  baseline.biomod = ParseBiomod("none", config.biomod).value();
  BIOFED_ASSIGN_OR_RETURN(TrainResult base_result, TrainOne("baseline", baseline, data, device));
  BIOFED_ASSIGN_OR_RETURN(TrainResult bio_result, TrainOne(BiomodName(config.biomod), config, data, device));
  PrintEpochs("baseline", base_result);
  PrintEpochs("biomod " + BiomodName(config.biomod), bio_result);
  return nlohmann::json{{"runs", {{"baseline", ToJson(base_result)}, {"biomod", ToJson(bio_result)}}}};
}

absl::Status Train(const TrainFlags& f) {
  BIOFED_ASSIGN_OR_RETURN(const TrainConfig config, ConfigOf(f));
  const int64_t threads = ConfigureThreads(f.compute.threads);
  BIOFED_ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(f.compute.device));
  BIOFED_ASSIGN_OR_RETURN(const DatasetSplits data, LoadData(f.data));
  std::fprintf(stderr, "biofed train: %s on %s (%lld train / %lld test), %s, %lld threads\n", f.model.c_str(),
               f.data.dataset.c_str(), static_cast<long long>(data.train.size()),
               static_cast<long long>(data.test.size()), device.str().c_str(), static_cast<long long>(threads));
  BIOFED_ASSIGN_OR_RETURN(nlohmann::json summary, Runs(f, config, data, device));
  summary["config"] = ConfigJson(f, config, device.str(), threads);
  if (f.out.empty()) return absl::OkStatus();
  const std::string path = (std::filesystem::path(f.out) / "summary.json").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(path, summary.dump(2) + "\n"));
  std::printf("summary: %s\n", path.c_str());
  return absl::OkStatus();
}

}  // namespace

int RunTrainCommand(const std::vector<std::string>& args) {
  TrainFlags f;
  FlagSet flags("train",
                "Centralised training of one model on one dataset. With --compare, a baseline\n"
                "run and a biomod run (--biomod, default fl+wr+ws) from the same seed on the\n"
                "same data order, with the paper's learning-speed measure and the accuracy AUC.");
  AddFlags(flags, f);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (auto s = Train(f); !s.ok()) return Fail("train", s);
  return 0;
}

}  // namespace biofed
