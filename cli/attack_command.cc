// `biofed attack`: one attack on one victim's update (built from flags, or
// read from a capture file), scored against the true batch.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attack/server_behaviour.h"
#include "attack/victim.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/flag_groups.h"
#include "client/dp_accounting.h"
#include "common/files.h"
#include "common/progress.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "experiment/attack_and_score.h"

namespace biofed {
namespace {

struct AttackFlags {
  std::string capture;
  std::string save_capture;
  std::string model = "mlp";
  DataFlags data;
  BiomodFlags biomod;
  int64_t batch = 1;
  int64_t clients = 1;
  int64_t trained_steps = 0;
  double train_lr = 0.1;
  std::string share = "gradient";
  int64_t local_steps = 1;
  double client_lr = 0.01;
  DpSgdOptions dp;
  int64_t seed = 0;
  AttackSpec attacker;
  ComputeFlags compute;
  std::string out;
  std::string replica;  // "paper" or empty
};

// --replica paper: the paper's own pipeline over whatever the other flags
// said (docs/attacks.md): the raw gradient, the attacker's BatchNorm in eval
// mode, the last iterate, the labels given; its score is the gradient error.
absl::Status ApplyReplica(AttackFlags& f) {
  if (f.replica.empty()) return absl::OkStatus();
  if (f.replica != "paper") return absl::InvalidArgumentError("--replica: the one replica is 'paper'");
  f.share = "raw";
  f.attacker.config.last_iterate = true;
  f.attacker.config.attacker_batchnorm_eval = true;
  f.attacker.threat.labels_known = true;
  return absl::OkStatus();
}

void AddFlags(FlagSet& flags, AttackFlags& f) {
  flags.AddString("capture", &f.capture, "attack a captured update record (.bfu) instead of a victim");
  flags.AddString("save-capture", &f.save_capture, "write the victim's update record (.bfu) here");
  flags.AddString("model", &f.model, "victim model: mlp, alexnet, resnet20, resnet32, resnet56");
  AddDataFlags(flags, &f.data);
  AddBiomodFlags(flags, &f.biomod, "victim mechanisms: none, or fl, wr, ws joined by +");
  flags.AddInt("batch", &f.batch, "victim batch size");
  flags.AddInt("clients", &f.clients,
               "attack the mean update of this many clients of the round (each its own batch): the aggregate an "
               "observer of secure aggregation sees");
  flags.AddInt("trained-steps", &f.trained_steps, "train the global model this many SGD steps first (0 = untrained)");
  flags.AddDouble("train-lr", &f.train_lr, "lr of those steps (batch 100, momentum 0.9)");
  flags.AddString("share", &f.share,
                  "what the client sends: gradient (the one step's, after FL), raw (its autograd gradient before FL "
                  "and WR: an attacker who taps the client) or pseudo_gradient ((w - w') / lr after K steps, WR "
                  "inside)");
  flags.AddInt("local-steps", &f.local_steps, "K, with --share pseudo_gradient");
  flags.AddDouble("client-lr", &f.client_lr, "the client's SGD learning rate");
  flags.AddDouble("dp-clip", &f.dp.clip,
                  "DP-SGD in the victim's steps: clip each example's gradient to this L2 norm (0: off)");
  flags.AddDouble("dp-noise", &f.dp.noise_multiplier,
                  "DP-SGD noise multiplier sigma (noise std sigma x clip per coordinate), with --dp-clip");
  flags.AddInt("seed", &f.seed, "seed of the victim (model, batch, private state) and the attack");
  AddAttackerFlags(flags, &f.attacker);
  AddComputeFlags(flags, &f.compute);
  flags.AddString("out", &f.out, "directory for summary.json and reconstruction.png");
  flags.AddString("replica", &f.replica,
                  "paper: the paper's own pipeline (sets --share raw, --iterate last, --attacker-batchnorm eval, "
                  "--labels known); compare its gradient error, not its image scores, with the paper's percentages");
}

// Victim flags a capture cannot take.
absl::Status CheckVictimFlags(const AttackFlags& f) {
  BIOFED_RETURN_IF_ERROR(ValidateDpSgd(f.dp));
  if (f.dp.noise_multiplier > 0 && !f.dp.enabled()) return absl::InvalidArgumentError("--dp-noise needs --dp-clip");
  if (f.dp.enabled() && !f.capture.empty()) {
    return absl::InvalidArgumentError("--dp-clip describes a victim; a --capture is attacked as it was recorded");
  }
  if (f.clients != 1 && !f.capture.empty()) {
    return absl::InvalidArgumentError("--clients describes a victim; a --capture is attacked as it was recorded");
  }
  return absl::OkStatus();
}

absl::StatusOr<CaptureFile> LoadOrMakeCapture(const AttackFlags& f) {
  BIOFED_RETURN_IF_ERROR(CheckVictimFlags(f));
  if (!f.capture.empty()) return ReadCaptureFile(f.capture);
  VictimOptions o;
  BIOFED_ASSIGN_OR_RETURN(o.architecture, ParseArchitecture(f.model));
  BIOFED_ASSIGN_OR_RETURN(o.biomod, ParseBiomodFlags(f.biomod));
  BIOFED_ASSIGN_OR_RETURN(o.share, ParseSharedKind(f.share));
  o.batch_size = f.batch;
  o.clients = f.clients;
  o.trained_steps = f.trained_steps;
  o.train_lr = f.train_lr;
  o.local_steps = f.local_steps;
  o.client_lr = f.client_lr;
  o.dp = f.dp;
  // --attack imprint is a malicious server: it sends the victim its model.
  o.server = ServerBehaviourOf(f.attacker.config);
  o.seed = static_cast<uint64_t>(f.seed);
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadData(f.data));
  return MakeVictimCapture(o, data);
}

void PrintScores(const AttackOutcome& o, const AuditRecord& audit) {
  std::printf("%-10s %10s %9s %7s %12s\n", "image", "mse", "psnr_db", "ssim", "rel_err_%");
  for (const ImageScore& s : o.score.images) {
    std::printf("%-10lld %10.3g %9.2f %7.4f %12.2f\n", static_cast<long long>(s.reconstruction_index), s.mse, s.psnr,
                s.ssim, s.relative_error_percent);
  }
  if (const auto& e = o.result.batch_size_estimate) {
    std::printf("batch size estimated from %s: %lld%s (true %lld; singular-value gap %.3g); %lld true images "
                "without a reconstruction, %lld reconstructions without a true image\n",
                e->layer.c_str(), static_cast<long long>(e->batch_size), e->lower_bound ? " or more" : "",
                static_cast<long long>(audit.labels.numel()), e->gap, static_cast<long long>(o.score.unmatched_truths),
                static_cast<long long>(o.score.unmatched_reconstructions));
  }
  const ScoredAttack& s = o.scored;
  std::printf("mean       %10.3g %9.2f %7.4f %12.2f   label accuracy %.2f, %s %.4g, %.1fs\n", s.mse, s.psnr, s.ssim,
              s.relative_error_percent, s.label_accuracy, s.objective_name.c_str(), s.objective, s.seconds);
  std::printf("recovered (PSNR >= %.0f dB): %.0f%% of %lld true images\n", kRecoveredPsnrDb,
              100 * s.recovered_fraction, static_cast<long long>(audit.labels.numel()));
  std::printf("gradient error 100 (1 - cos) of the final match (the paper's measure): %.4g%%\n",
              s.gradient_error_percent);
}

nlohmann::json ImageScoresJson(const BatchScore& score) {
  nlohmann::json images = nlohmann::json::array();
  for (const ImageScore& i : score.images) {
    images.push_back({{"reconstruction_index", i.reconstruction_index}, {"matched_truth_index", i.truth_index},
                      {"mse", i.mse}, {"psnr", i.psnr}, {"ssim", i.ssim},
                      {"relative_error_percent", i.relative_error_percent}});
  }
  return images;
}

// The victim's DP-SGD and the (epsilon, 1e-5) of the release attacked: its
// steps with every example of the batch in each (sampling rate 1); null
// without DP-SGD. Clipping without noise guarantees nothing: epsilon null.
absl::StatusOr<nlohmann::json> DpSgdJson(const AttackFlags& f, const UpdateRecord& r) {
  if (!f.dp.enabled()) return nlohmann::json(nullptr);
  constexpr double kDelta = 1e-5;
  nlohmann::json j = {{"clip", f.dp.clip},
                      {"noise_multiplier", f.dp.noise_multiplier},
                      {"delta", kDelta},
                      {"epsilon", nullptr},
                      {"rdp_order", nullptr}};
  if (f.dp.noise_multiplier > 0) {
    BIOFED_ASSIGN_OR_RETURN(const PrivacySpent spent,
                            DpSgdEpsilon({1.0, f.dp.noise_multiplier, std::max<int64_t>(r.local_steps, 1)}, kDelta));
    j["epsilon"] = spent.epsilon;
    j["rdp_order"] = spent.order;
  }
  return j;
}

// summary.json: the victim, the attacker's settings, the scored attack (the
// record every study keeps) and the per-image scores and labels.
nlohmann::json Summary(const AttackFlags& f, const CaptureFile& capture, const AttackRequest& request,
                       const AttackOutcome& o, const std::string& device, const nlohmann::json& dp_sgd) {
  const UpdateRecord& r = capture.record;
  const AuditRecord& audit = *capture.audit;
  nlohmann::json estimate = nullptr;
  if (const auto& e = o.result.batch_size_estimate) {
    estimate = {{"batch_size", e->batch_size}, {"lower_bound", e->lower_bound}, {"singular_value_gap", e->gap},
                {"layer", e->layer}};
  }
  return {{"victim", {{"model", ArchitectureName(r.spec.architecture)}, {"dataset", r.dataset},
                      {"split_gamma", r.spec.split_gamma}, {"imprint_bins", r.spec.imprint_bins},
                      {"biomod", audit.biomod}, {"tau", audit.tau},
                      {"shared", SharedKindName(r.kind)}, {"lr", r.lr}, {"local_steps", r.local_steps},
                      {"batch_size", r.batch_size}, {"clients", r.clients}, {"num_examples", r.num_examples},
                      {"dp_sgd", dp_sgd},
                      {"source", f.capture.empty() ? "victim flags" : f.capture}}},
          {"attacker", RecordToJson(request.spec)},
          {"seed", request.seed},
          {"device", device},
          {"scored", RecordToJson(o.scored)},
          {"batch_size_estimate", estimate},
          {"labels", {{"attacker", o.result.labels}, {"inferred", o.result.labels_inferred}}},
          {"images", ImageScoresJson(o.score)},
          {"convention", "images denormalised to [0, 1] and clamped; Hungarian matching on per-pair MSE"}};
}

absl::Status WriteOutputs(const AttackFlags& f, const CaptureFile& capture, const AttackRequest& request,
                          const AttackOutcome& o, const std::string& device) {
  BIOFED_RETURN_IF_ERROR(MakeDirectories(f.out));
  const std::string png_path = (std::filesystem::path(f.out) / "reconstruction.png").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(png_path, o.scored.png.bytes));
  const std::string json_path = (std::filesystem::path(f.out) / "summary.json").string();
  BIOFED_ASSIGN_OR_RETURN(const nlohmann::json dp_sgd, DpSgdJson(f, capture.record));
  if (!dp_sgd.is_null() && !dp_sgd["epsilon"].is_null()) {
    std::printf("DP-SGD (clip %g, noise multiplier %g): this release is (%.3g, %g)-DP\n", f.dp.clip,
                f.dp.noise_multiplier, dp_sgd["epsilon"].get<double>(), dp_sgd["delta"].get<double>());
  } else if (!dp_sgd.is_null()) {
    std::printf("DP-SGD clipping to %g without noise: no privacy guarantee\n", f.dp.clip);
  }
  BIOFED_RETURN_IF_ERROR(
      WriteFileAtomically(json_path, Summary(f, capture, request, o, device, dp_sgd).dump(2) + "\n"));
  std::printf("summary: %s\nimages:  %s\n", json_path.c_str(), png_path.c_str());
  return absl::OkStatus();
}

absl::Status Attack(AttackFlags f) {
  BIOFED_RETURN_IF_ERROR(ApplyReplica(f));
  BIOFED_RETURN_IF_ERROR(ValidateAttackSpec(f.attacker));
  const int64_t threads = ConfigureThreads(f.compute.threads);
  BIOFED_ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(f.compute.device));
  BIOFED_ASSIGN_OR_RETURN(const CaptureFile capture, LoadOrMakeCapture(f));
  if (!f.save_capture.empty()) BIOFED_RETURN_IF_ERROR(WriteCaptureFile(f.save_capture, capture));
  if (!capture.audit) {
    return absl::FailedPreconditionError("the capture has no audit section: nothing to score against");
  }
  if (!f.replica.empty() && capture.record.kind != SharedKind::kRaw) {
    return absl::InvalidArgumentError(absl::StrCat("the paper's pipeline attacks the raw gradient; the capture holds the ",
                                                   SharedKindName(capture.record.kind)));
  }
  std::fprintf(stderr, "biofed attack: %s on %s (%s, %lld examples, biomod %s), %s, %lld threads\n",
               AttackKindName(f.attacker.config.kind).c_str(),
               ArchitectureName(capture.record.spec.architecture).c_str(), SharedKindName(capture.record.kind).c_str(),
               static_cast<long long>(capture.record.num_examples), capture.audit->biomod.c_str(),
               device.str().c_str(), static_cast<long long>(threads));
  if (!f.replica.empty()) {
    std::fprintf(stderr, "biofed attack: replica of the paper's pipeline (raw gradient, attacker BatchNorm eval, last "
                         "iterate, labels given): its gradient error is the paper's measure\n");
  }
  if (f.capture.empty()) {  // the victim is built here: its protocol is known
    BIOFED_ASSIGN_OR_RETURN(const BiomodOptions victim, ParseBiomodFlags(f.biomod));
    f.attacker = WithProtocolWr(f.attacker, victim.d_re, victim.variant == RejuvenationVariant::kPaper);
  }
  const AttackConfig& config = f.attacker.config;
  // The closed-form attacks are one step, whatever the iteration setting says.
  const bool closed_form = IsClosedForm(config.kind);
  const int64_t steps = closed_form ? 1 : config.iterations * config.restarts;
  ProgressBar bar("attack", steps, std::max<int64_t>(steps / 10, 1));
  AttackRequest request{f.attacker, AttackSpecName(f.attacker, AttackSpec{}), static_cast<uint64_t>(f.seed),
                        /*report_every=*/50, [&](int64_t it, int64_t, double objective) {
                          bar.Update(it, absl::StrFormat("objective %.5g", objective));
                        }};
  absl::StatusOr<AttackOutcome> outcome = AttackAndScore(request, capture.record, *capture.audit, device);
  if (closed_form && outcome.ok()) bar.Update(1);
  bar.Finish();
  if (!outcome.ok()) return outcome.status();
  PrintScores(*outcome, *capture.audit);
  if (f.out.empty()) return absl::OkStatus();
  return WriteOutputs(f, capture, request, *outcome, device.str());
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
  if (auto s = Attack(f); !s.ok()) return Fail("attack", s);
  return 0;
}

}  // namespace biofed
