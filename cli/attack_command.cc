#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/str_format.h"
#include "attack/attack.h"
#include "attack/image_grid.h"
#include "attack/metrics.h"
#include "attack/victim.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/files.h"
#include "common/progress.h"
#include "common/runtime.h"

namespace biofed {
namespace {

struct AttackFlags {
  std::string capture;
  std::string save_capture;
  std::string model = "mlp";
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int64_t batch = 1;
  std::string biomod = "none";
  double tau = 0.18, d_re = 14.0;
  int64_t gamma = 2;
  std::string wr_variant = "reference";
  int64_t trained_steps = 0;
  double train_lr = 0.1;
  std::string share = "gradient";
  int64_t local_steps = 1;
  double client_lr = 0.01;
  int64_t seed = 0;
  std::string attack = "ig";
  int64_t iterations = 1000;
  double attack_lr = 0.1;
  double tv = 1e-6;
  int64_t restarts = 1;
  double ignore_largest = 0.0;
  std::string labels = "inferred";
  std::string fl_factors = "unknown";
  std::string local_hyperparameters = "known";
  std::string batch_size = "known";
  std::string device = "auto";
  int64_t threads = 0;
  std::string out;
};

void AddFlags(FlagSet& flags, AttackFlags& f) {
  flags.AddString("capture", &f.capture, "attack a captured update record (.bfu) instead of a victim");
  flags.AddString("save-capture", &f.save_capture, "write the victim's update record (.bfu) here");
  flags.AddString("model", &f.model, "victim model: mlp, alexnet, resnet20, resnet32, resnet56");
  flags.AddString("dataset", &f.dataset, "victim dataset");
  flags.AddString("data-dir", &f.data_dir, "dataset directory (default per dataset)");
  flags.AddInt("batch", &f.batch, "victim batch size");
  flags.AddString("biomod", &f.biomod, "victim mechanisms: none, or a comma list of fl, wr, ws");
  flags.AddDouble("tau", &f.tau, "FL spread");
  flags.AddDouble("d-re", &f.d_re, "WR distance");
  flags.AddInt("gamma", &f.gamma, "WS division factor");
  flags.AddString("wr-variant", &f.wr_variant, "reference or paper");
  flags.AddInt("trained-steps", &f.trained_steps, "train the global model this many SGD steps first (0 = untrained)");
  flags.AddDouble("train-lr", &f.train_lr, "lr of those steps (batch 100, momentum 0.9)");
  flags.AddString("share", &f.share, "what the client sends: gradient (one step) or local (K local steps, pseudo-gradient)");
  flags.AddInt("local-steps", &f.local_steps, "K, with --share local");
  flags.AddDouble("client-lr", &f.client_lr, "the client's SGD learning rate");
  flags.AddInt("seed", &f.seed, "seed of the victim (model, batch, private state) and the attack");
  flags.AddString("attack", &f.attack, "ig (Inverting Gradients), dlg, analytic or fedavg");
  flags.AddInt("iterations", &f.iterations, "attack iterations (DLG: L-BFGS steps)");
  flags.AddDouble("attack-lr", &f.attack_lr, "IG/FedAvg Adam learning rate");
  flags.AddDouble("tv", &f.tv, "total-variation weight");
  flags.AddInt("restarts", &f.restarts, "random restarts, best by objective");
  flags.AddDouble("ignore-largest", &f.ignore_largest,
                  "leave this fraction of each weight tensor's largest update entries out of the matching (a "
                  "WR-aware attacker: resets are large and sparse); 0 = off");
  flags.AddString("labels", &f.labels, "known (given the true labels) or inferred");
  flags.AddString("fl-factors", &f.fl_factors, "unknown, or known (adaptive attacker told the client's factors)");
  flags.AddString("batch-size", &f.batch_size,
                  "known, or unknown (the attacker estimates B from the update's rank; needs --labels inferred)");
  flags.AddString("local-hyperparameters", &f.local_hyperparameters,
                  "known (the FedAvg attack replays the K local steps) or unknown (it matches one step)");
  flags.AddString("device", &f.device, "auto, cpu, cuda or cuda:N");
  flags.AddInt("threads", &f.threads, "LibTorch threads (0 = all cores)");
  flags.AddString("out", &f.out, "directory for summary.json and reconstruction.png");
}

absl::StatusOr<CaptureFile> LoadOrMakeCapture(const AttackFlags& f) {
  if (!f.capture.empty()) return ReadCaptureFile(f.capture);
  VictimOptions o;
  auto architecture = ParseArchitecture(f.model);
  if (!architecture.ok()) return architecture.status();
  o.architecture = *architecture;
  BiomodOptions base;
  base.tau = f.tau;
  base.d_re = f.d_re;
  base.gamma = f.gamma;
  auto variant = ParseRejuvenationVariant(f.wr_variant);
  if (!variant.ok()) return variant.status();
  base.variant = *variant;
  auto biomod = ParseBiomod(f.biomod, base);
  if (!biomod.ok()) return biomod.status();
  o.biomod = *biomod;
  o.batch_size = f.batch;
  o.trained_steps = f.trained_steps;
  o.train_lr = f.train_lr;
  if (f.share != "gradient" && f.share != "local") {
    return absl::InvalidArgumentError("--share expects gradient or local");
  }
  o.share = f.share == "gradient" ? SharedKind::kGradient : SharedKind::kPseudoGradient;
  o.local_steps = f.local_steps;
  o.client_lr = f.client_lr;
  o.seed = static_cast<uint64_t>(f.seed);
  auto data = LoadDataset(f.dataset, f.data_dir);
  if (!data.ok()) return data.status();
  return MakeVictimCapture(o, *data);
}

nlohmann::json ScoreJson(const BatchScore& s) {
  nlohmann::json images = nlohmann::json::array();
  for (const ImageScore& i : s.images) {
    images.push_back({{"reconstruction_index", i.reconstruction_index}, {"matched_truth_index", i.truth_index},
                      {"mse", i.mse}, {"psnr_db", i.psnr},
                      {"ssim", i.ssim}, {"relative_error_percent", i.relative_error_percent}});
  }
  return {{"convention", "images denormalised to [0, 1] and clamped; Hungarian matching on per-pair MSE"},
          {"mean_mse", s.mean_mse}, {"mean_psnr_db", s.mean_psnr}, {"mean_ssim", s.mean_ssim},
          {"mean_relative_error_percent", s.mean_relative_error_percent},
          {"best_psnr_db", s.best_psnr},
          {"min_relative_error_percent", s.worst_relative_error_percent},
          {"label_accuracy", s.label_accuracy}, {"unmatched_truths", s.unmatched_truths},
          {"unmatched_reconstructions", s.unmatched_reconstructions}, {"images", images}};
}

}  // namespace

int RunAttackCommand(const std::vector<std::string>& args) {
  AttackFlags f;
  FlagSet flags("attack",
                "Reconstructs a client's batch from exactly what the client sent, and scores it\n"
                "against the true batch (MSE, PSNR, SSIM, relative error, label accuracy).\n"
                "Either --capture FILE (an update record with its audit section), or a victim\n"
                "described by flags.");
  AddFlags(flags, f);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  AttackConfig config;
  auto kind = ParseAttackKind(f.attack);
  if (!kind.ok()) return Fail("attack", kind.status());
  config.kind = *kind;
  config.iterations = f.iterations;
  config.lr = f.attack_lr;
  config.tv_weight = f.tv;
  config.restarts = f.restarts;
  config.ignore_largest_fraction = f.ignore_largest;
  config.seed = static_cast<uint64_t>(f.seed);
  ThreatModel threat;
  if (f.labels != "known" && f.labels != "inferred") return Fail("attack", absl::InvalidArgumentError("--labels expects known or inferred"));
  if (f.fl_factors != "known" && f.fl_factors != "unknown") return Fail("attack", absl::InvalidArgumentError("--fl-factors expects known or unknown"));
  if (f.local_hyperparameters != "known" && f.local_hyperparameters != "unknown") {
    return Fail("attack", absl::InvalidArgumentError("--local-hyperparameters expects known or unknown"));
  }
  threat.labels_known = f.labels == "known";
  threat.fuzzy_factors_known = f.fl_factors == "known";
  threat.local_hyperparameters_known = f.local_hyperparameters == "known";
  if (f.batch_size != "known" && f.batch_size != "unknown") {
    return Fail("attack", absl::InvalidArgumentError("--batch-size expects known or unknown"));
  }
  threat.batch_size_known = f.batch_size == "known";
  const int64_t threads = ConfigureThreads(f.threads);
  auto device = ResolveDevice(f.device);
  if (!device.ok()) return Fail("attack", device.status());

  auto capture = LoadOrMakeCapture(f);
  if (!capture.ok()) return Fail("attack", capture.status());
  if (!f.save_capture.empty()) {
    if (auto s = WriteCaptureFile(f.save_capture, *capture); !s.ok()) return Fail("attack", s);
  }
  if (!capture->audit) {
    return Fail("attack", absl::FailedPreconditionError("the capture has no audit section: nothing to score against"));
  }
  const AuditRecord& audit = *capture->audit;
  AttackerKnowledge knowledge;
  if (threat.labels_known) {
    knowledge.labels.emplace(audit.labels.data_ptr<int64_t>(), audit.labels.data_ptr<int64_t>() + audit.labels.numel());
  }
  if (threat.fuzzy_factors_known) {
    if (audit.tau <= 0) return Fail("attack", absl::InvalidArgumentError("--fl-factors known, but the client ran without FL"));
    knowledge.factors = ClientFuzzyFactors(capture->record.spec, audit.tau, audit.client_seed);
  }
  std::fprintf(stderr, "biofed attack: %s on %s (%s, %lld examples, biomod %s), %s, %lld threads\n",
               AttackKindName(config.kind).c_str(), ArchitectureName(capture->record.spec.architecture).c_str(),
               SharedKindName(capture->record.kind).c_str(),
               static_cast<long long>(capture->record.num_examples), audit.biomod.c_str(),
               device->str().c_str(), static_cast<long long>(threads));
  ProgressBar bar("attack", config.iterations * config.restarts, std::max<int64_t>(config.iterations / 10, 1));
  auto result = RunAttack(capture->record, knowledge, threat, config, *device,
                          [&](int64_t it, int64_t total, double objective) {
                            bar.Update(it, absl::StrFormat("objective %.5g", objective));
                          });
  bar.Finish();
  if (!result.ok()) return Fail("attack", result.status());

  const Normalization& norm = capture->record.norm;
  const torch::Tensor truth01 = Denormalize(audit.images, norm);
  const torch::Tensor rec01 = Denormalize(result->images, norm);
  std::vector<int64_t> true_labels(audit.labels.data_ptr<int64_t>(), audit.labels.data_ptr<int64_t>() + audit.labels.numel());
  const BatchScore score = ScoreReconstruction(rec01, truth01, result->labels, true_labels);
  std::printf("%-10s %10s %9s %7s %12s\n", "image", "mse", "psnr_db", "ssim", "rel_err_%");
  for (const ImageScore& s : score.images) {
    std::printf("%-10lld %10.3g %9.2f %7.4f %12.2f\n", static_cast<long long>(s.reconstruction_index), s.mse, s.psnr,
                s.ssim, s.relative_error_percent);
  }
  if (const auto& e = result->batch_size_estimate) {
    std::printf("batch size estimated from %s: %lld%s (true %lld; singular-value gap %.3g); %lld true images "
                "without a reconstruction, %lld reconstructions without a true image\n",
                e->layer.c_str(), static_cast<long long>(e->batch_size), e->lower_bound ? " or more" : "",
                static_cast<long long>(true_labels.size()), e->gap, static_cast<long long>(score.unmatched_truths),
                static_cast<long long>(score.unmatched_reconstructions));
  }
  std::printf("mean       %10.3g %9.2f %7.4f %12.2f   label accuracy %.2f, %s %.4g, %.1fs\n",
              score.mean_mse, score.mean_psnr, score.mean_ssim, score.mean_relative_error_percent,
              score.label_accuracy, result->objective_name.c_str(), result->objective, result->seconds);
  if (!f.out.empty()) {
    auto png = ComparisonGridPng(truth01, ReconstructionsInTruthOrder(score, rec01, truth01));
    if (!png.ok()) return Fail("attack", png.status());
    const std::string png_path = (std::filesystem::path(f.out) / "reconstruction.png").string();
    if (auto s = WriteFileAtomically(png_path, *png); !s.ok()) return Fail("attack", s);
    const UpdateRecord& r = capture->record;
    nlohmann::json summary = {
        {"victim", {{"model", ArchitectureName(r.spec.architecture)}, {"dataset", r.dataset},
                    {"split_gamma", r.spec.split_gamma}, {"biomod", audit.biomod}, {"tau", audit.tau},
                    {"shared", SharedKindName(r.kind)}, {"lr", r.lr}, {"local_steps", r.local_steps},
                    {"batch_size", r.batch_size}, {"num_examples", r.num_examples},
                    {"source", f.capture.empty() ? "victim flags" : f.capture}}},
        {"threat_model", {{"labels", threat.labels_known ? "known" : "inferred"},
                          {"batch_size_known", threat.batch_size_known},
                          {"batch_size_estimate",
                           result->batch_size_estimate
                               ? nlohmann::json{{"batch_size", result->batch_size_estimate->batch_size},
                                                {"lower_bound", result->batch_size_estimate->lower_bound},
                                                {"singular_value_gap", result->batch_size_estimate->gap},
                                                {"layer", result->batch_size_estimate->layer}}
                               : nlohmann::json(nullptr)},
                          {"local_hyperparameters_known", threat.local_hyperparameters_known},
                          {"fl_factors_known", threat.fuzzy_factors_known},
                          {"batchnorm_mode", r.batchnorm_train_mode ? "train" : "eval"}}},
        {"attack", {{"kind", AttackKindName(config.kind)}, {"iterations", result->iterations},
                    {"lr", config.lr}, {"tv_weight", config.tv_weight}, {"restarts", config.restarts},
                    {"ignore_largest_fraction", config.ignore_largest_fraction}, {"seed", config.seed}, {"device", device->str()}, {"threads", threads},
                    {"seconds", result->seconds},
                    {"final_matching_objective", {{"name", result->objective_name}, {"value", result->objective}}}}},
        {"labels", {{"true", true_labels}, {"attacker", result->labels}, {"inferred", result->labels_inferred}}},
        {"score", ScoreJson(score)}};
    const std::string json_path = (std::filesystem::path(f.out) / "summary.json").string();
    if (auto s = WriteFileAtomically(json_path, summary.dump(2) + "\n"); !s.ok()) return Fail("attack", s);
    std::printf("summary: %s\nimages:  %s\n", json_path.c_str(), png_path.c_str());
  }
  return 0;
}

}  // namespace biofed
