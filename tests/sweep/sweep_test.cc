// `biofed sweep`'s plan, study and runner: the grid's size and keys, the
// config file's checks, the study's resume bookkeeping, and a small sweep
// run twice (the second finds everything done) and stopped early.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "report/study_reader.h"
#include "report/sweep_report.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"
#include "sweep/sweep_mechanisms.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_store.h"
#include "sweep/sweep_training.h"
#include "tests/testing/small_sweep.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace biofed {
namespace {

using testing::IsOk;
using testing::SmallSweep;
using testing::StatusIs;
using testing::TempDir;

TEST(SweepConfigTest, QuickPresetHasTheGridItDocuments) {
  auto quick = SweepPreset("quick");
  ASSERT_THAT(quick, IsOk());
  ASSERT_THAT(ValidateSweepConfig(*quick), IsOk());
  // MLP: 8 subsets x 2 victims x 2 batches x 2 seeds; defended: 2 subsets x
  // 2 victims x 2 batches x 2 seeds x 4 defenses; the WR-aware attacker: 3
  // subsets x 2 victims x 2 batches x 2 seeds; AlexNet and ResNet20: 8
  // subsets, untrained, batch 1, seed 1.
  const std::vector<AttackCell> cells = ExpandCells(*quick);
  EXPECT_EQ(cells.size(), 8u * 2 * 2 * 2 + 2u * 2 * 2 * 2 * 4 + 3u * 2 * 2 * 2 + 2u * 8);
  // Trained victims: 8 subsets x 2 seeds undefended (the WR-aware attacker's
  // victims among them), 2 x 4 defenses x 2 seeds.
  EXPECT_EQ(TrainingJobsFor(cells).size(), 8u * 2 + 2u * 4 * 2);
  std::set<std::string> keys;
  for (const AttackCell& c : cells) keys.insert(c.Key());
  EXPECT_EQ(keys.size(), cells.size());
  std::set<std::string> subsets;
  for (const AttackCell& c : cells) subsets.insert(c.mechanisms);
  EXPECT_EQ(subsets, (std::set<std::string>{"none", "fl", "wr", "ws", "fl+wr", "fl+ws", "wr+ws", "fl+wr+ws"}));
  ASSERT_THAT(SweepPreset("paper"), IsOk());
  EXPECT_THAT(ValidateSweepConfig(*SweepPreset("paper")), IsOk());
  EXPECT_THAT(SweepPreset("huge"), StatusIs(absl::StatusCode::kInvalidArgument, "paper-cpu or paper"));
}

TEST(SweepConfigTest, PaperCpuPresetHasTheGridItDocuments) {
  auto preset = SweepPreset("paper-cpu");
  ASSERT_THAT(preset, IsOk());
  ASSERT_THAT(ValidateSweepConfig(*preset), IsOk());
  // Shares: 8 subsets x 6 victims (3 shares x untrained/trained) x 2 batches x 5 seeds; WR-aware: 3 subsets x
  // 2 victims x 3 attacks x 2 batches x 5 seeds; the replica: 2 models x 2 subsets x 5 seeds;
  // AlexNet: 3 subsets x 5 seeds at 4000 iterations; ResNet20: 2 subsets x 5 seeds.
  const std::vector<AttackCell> cells = ExpandCells(*preset);
  EXPECT_EQ(cells.size(), 8u * 6 * 2 * 5 + 3u * 2 * 3 * 2 * 5 + 2u * 2 * 5 + 3u * 5 + 2u * 5);
  int64_t alexnet_recipe = 0;
  for (const AttackCell& c : cells) alexnet_recipe += c.model == "alexnet" && c.iterations == 4000;
  EXPECT_EQ(alexnet_recipe, 3 * 5);
  // Every subset trained once per seed, whatever the share or attacker.
  EXPECT_EQ(TrainingJobsFor(cells).size(), 8u * 5);
  std::set<std::string> seeds;
  for (const AttackCell& c : cells) seeds.insert(std::to_string(c.seed));
  EXPECT_EQ(seeds.size(), 5u);
}

TEST(SweepConfigTest, CellsAreCanonicalAndCountedOnce) {
  SweepConfig c;
  SweepGrid g;
  g.mechanisms = {"ws,fl", "fl,ws"};
  g.victims = {"untrained"};
  g.batch_sizes = {2};
  g.seeds = {5};
  g.defenses = {"topk:0.10", "topk:0.1"};
  c.grids = {g, g};
  const std::vector<AttackCell> cells = ExpandCells(c);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].mechanisms, "fl+ws");
  EXPECT_EQ(cells[0].defense, "topk:0.1");
  EXPECT_EQ(cells[0].iterations, c.attacker.config.iterations);
  EXPECT_TRUE(TrainingJobsFor(cells).empty());
}

// A cell's attack is the compact form over the sweep's shared attacker.
TEST(SweepConfigTest, CellAttackersApplyTheirSettingsOverTheSharedOnes) {
  SweepConfig c;
  c.attacker.config.tv_weight = 1e-4;
  auto robust = CellAttacker(c, "ig+ignore-largest:0.10", 300);
  ASSERT_THAT(robust, IsOk());
  EXPECT_EQ(robust->config.ignore_largest_fraction, 0.1);
  EXPECT_EQ(robust->config.tv_weight, 1e-4);
  EXPECT_EQ(robust->config.iterations, 300);
  EXPECT_TRUE(robust->threat.labels_known);  // the sweep's default attacker
  EXPECT_EQ(AttackSpecName(*robust, c.attacker), "ig+ignore-largest:0.1");
  EXPECT_THAT(CellAttacker(c, "ig+mask:0.1", 300), StatusIs(absl::StatusCode::kInvalidArgument, "ig+mask:0.1"));
}

TEST(SweepConfigTest, FileKeysAreCheckedAndGridsReplaced) {
  auto parsed = ParseSweepConfig(R"({"tau": 0.5, "grids": [{"models": ["alexnet"], "seeds": [3]}]})", "x.json",
                                 *SweepPreset("quick"));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->mechanism_parameters.tau, 0.5);
  ASSERT_EQ(parsed->grids.size(), 1u);
  EXPECT_EQ(parsed->grids[0].models, std::vector<std::string>{"alexnet"});
  EXPECT_EQ(parsed->grids[0].batch_sizes, (std::vector<int64_t>{1, 4}));  // SweepGrid's default
  auto round_trip = ParseSweepConfig(SweepConfigJson(*parsed), "printed");
  ASSERT_THAT(round_trip, IsOk());
  EXPECT_EQ(SweepConfigJson(*round_trip), SweepConfigJson(*parsed));
  EXPECT_THAT(ParseSweepConfig(R"({"tua": 1})", "x.json"), StatusIs(absl::StatusCode::kInvalidArgument, "'tua'"));
  EXPECT_THAT(ParseSweepConfig(R"({"grids": [{"model": ["mlp"]}]})", "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "grid 1: unknown key 'model'"));
  EXPECT_THAT(ParseSweepConfig(R"({"train_rounds": 1.5})", "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "train_rounds"));
  EXPECT_THAT(ParseSweepConfig(R"({"grids": {}})", "x.json"), StatusIs(absl::StatusCode::kInvalidArgument, "array"));
}

TEST(SweepConfigTest, ValidationNamesTheBadValue) {
  auto with_grid = [](auto edit) {
    SweepConfig c;
    edit(c.grids[0]);
    return ValidateSweepConfig(c);
  };
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.attacks = {"fedavg"}; }),
              StatusIs(absl::StatusCode::kInvalidArgument, "fedavg attack does not apply"));
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.victims = {"half"}; }), StatusIs(absl::StatusCode::kInvalidArgument, "'half'"));
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.defenses = {"noise:1"}; }), StatusIs(absl::StatusCode::kInvalidArgument, "noise:1"));
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.models = {"vgg"}; }), StatusIs(absl::StatusCode::kInvalidArgument, "grid 1"));
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.batch_sizes = {}; }), StatusIs(absl::StatusCode::kInvalidArgument, "axis"));
  EXPECT_THAT(with_grid([](SweepGrid& g) { g.mechanisms = {"fl,xx"}; }), StatusIs(absl::StatusCode::kInvalidArgument, "grid 1"));
  EXPECT_THAT(ParseSweepConfig(R"({"labels": "guessed"})", "x.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "labels: expected known or inferred"));
}

// The device is a setting every cell shares; the default (cpu) is left
// out of the recorded settings, so studies made before it existed resume.
TEST(SweepConfigTest, DeviceIsASharedSettingRecordedOffTheCpu) {
  SweepConfig c;
  EXPECT_EQ(SweepSharedSettingsJson(c).find("device"), std::string::npos);
  // Nor do the attacker settings added since the first studies, at their defaults.
  for (const char* key : {"imprint_bins", "iterate", "attacker_batchnorm", "mask"}) {
    EXPECT_EQ(SweepSharedSettingsJson(c).find(key), std::string::npos) << key;
  }
  c.attacker.config.mask = UpdateMask::kOracle;
  EXPECT_NE(SweepSharedSettingsJson(c).find(R"("mask":"oracle")"), std::string::npos);
  c.attacker.config.mask = UpdateMask::kNone;
  auto parsed = ParseSweepConfig(R"({"device": "cuda"})", "x.json", c);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->device, "cuda");
  EXPECT_NE(SweepSharedSettingsJson(*parsed).find(R"("device":"cuda")"), std::string::npos);
  c.device = "gpu";
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "device is 'cpu' or 'cuda'"));
  if (!CudaAvailable()) {
    TempDir dir;
    c.device = "cuda";
    auto store = SweepStore::Open(dir.File("study.db"), SweepSharedSettingsJson(c));
    ASSERT_THAT(store, IsOk());
    std::atomic<bool> stop{false};
    EXPECT_THAT(RunSweep(c, **store, 1, stop, [](const std::string&) {}),
                StatusIs(absl::StatusCode::kFailedPrecondition, "no CUDA device"));
  }
}

TEST(SweepStoreTest, RowsMarkCellsDoneAndOtherSettingsAreRefused) {
  TempDir dir;
  const std::string path = dir.File("study.db");
  AttackCell cell{"mlp", "fl", "untrained", "ig", "none", 1, 1, 10};
  {
    auto store = SweepStore::Open(path, "settings-A");
    ASSERT_THAT(store, IsOk());
    EXPECT_TRUE((*store)->FinishedCells()->empty());
    CellRow row;
    row.key = cell.Key();
    row.scored.psnr = 12.5;
    ASSERT_THAT((*store)->AddCell(row), IsOk());
    EXPECT_THAT((*store)->TrainedModel("model=mlp|mechanisms=none|defense=none|seed=1"),
                StatusIs(absl::StatusCode::kNotFound, "no finished training"));
    TrainingRow training;
    training.key = TrainingJob{"mlp", "none", "none", 1}.Key();
    training.model_state.bytes = std::string("\0state", 6);
    ASSERT_THAT((*store)->AddTraining(training), IsOk());
  }
  auto reopened = SweepStore::Open(path, "settings-A");
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ(*(*reopened)->FinishedCells(), std::set<std::string>{cell.Key()});
  EXPECT_EQ(*(*reopened)->TrainedModel("model=mlp|mechanisms=none|defense=none|seed=1"), std::string("\0state", 6));
  EXPECT_THAT(SweepStore::Open(path, "settings-B"), StatusIs(absl::StatusCode::kFailedPrecondition, "other shared settings"));
}

// An attack run at two budgets is two groups in the report, and a group whose
// baseline the attack does not reconstruct (mean PSNR under 20 dB) says so.
TEST(SweepReportTest, BudgetsAreGroupedApartAndAFailedBaselineIsMarked) {
  TempDir dir;
  const std::string path = dir.File("study.db");
  {
    auto store = SweepStore::Open(path, "settings");
    ASSERT_THAT(store, IsOk());
    for (int64_t iterations : {1000, 4000}) {
      for (int64_t seed : {1, 2}) {
        const AttackCell cell{"alexnet", "none", "untrained", "ig", "none", 1, seed, iterations};
        CellRow row = CellRowOf(cell);
        row.scored.attack = "ig";
        row.scored.iterations = iterations;
        row.scored.batch_size = 1;
        // Means 11 dB at 1000 iterations and 31 dB at 4000.
        row.scored.psnr = (iterations == 1000 ? 10.0 : 30.0) + 2.0 * static_cast<double>(seed - 1);
        ASSERT_THAT((*store)->AddCell(row), IsOk());
      }
    }
  }
  const absl::StatusOr<std::string> text = SweepSummaryText(path);
  ASSERT_THAT(text, IsOk());
  EXPECT_NE(text->find("ig, 1000 iterations"), std::string::npos) << *text;
  EXPECT_NE(text->find("ig, 4000 iterations"), std::string::npos) << *text;
  EXPECT_NE(text->find("  11.00 +- 1.41"), std::string::npos) << *text;
  EXPECT_NE(text->find("  31.00 +- 1.41"), std::string::npos) << *text;
  EXPECT_NE(text->find("attack fails on the baseline (mean PSNR 11.0 dB < 20 dB): no privacy conclusion"),
            std::string::npos)
      << *text;
  EXPECT_EQ(text->find("31.0 dB < 20 dB"), std::string::npos) << *text;
  const absl::StatusOr<std::string> html = RenderSweepReport(path);
  ASSERT_THAT(html, IsOk());
  EXPECT_NE(html->find("attack fails on the baseline (mean PSNR 11.0 dB"), std::string::npos);
}

TEST(SweepRunnerTest, ASecondRunFindsEveryCellDoneAndAStoppedRunDoesNothing) {
  TempDir dir;
  const SweepConfig c = SmallSweep();
  auto store = SweepStore::Open(dir.File("study.db"), SweepSharedSettingsJson(c));
  ASSERT_THAT(store, IsOk());
  std::atomic<bool> stop{true};
  auto stopped = RunSweep(c, **store, 2, stop, [](const std::string&) {});
  ASSERT_THAT(stopped, IsOk());
  EXPECT_TRUE(stopped->interrupted);
  EXPECT_EQ(stopped->cells_run, 0);
  stop = false;
  std::vector<std::string> lines;
  auto first = RunSweep(c, **store, 2, stop, [&](const std::string& line) { lines.push_back(line); });
  ASSERT_THAT(first, IsOk());
  // 2 subsets x 2 victims x 2 defenses; trainings: 2 subsets x 2 defenses.
  EXPECT_EQ(first->cells, 8);
  EXPECT_EQ(first->cells_run, 8);
  EXPECT_EQ(first->trainings_run, 4);
  EXPECT_FALSE(first->interrupted);
  EXPECT_EQ(lines.size(), 1u + 4 + 8);
  EXPECT_EQ(first->workers, 2);
  ASSERT_EQ(first->by_model.size(), 1u);
  EXPECT_EQ(first->by_model.at("mlp").cells, 8);
  EXPECT_GT(first->by_model.at("mlp").seconds, 0);
  EXPECT_LE(first->by_model.at("mlp").seconds, 2 * first->cell_phase_seconds);
  EXPECT_EQ((*store)->FinishedCells()->size(), 8u);
  auto second = RunSweep(c, **store, 2, stop, [](const std::string&) {});
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->cells_already_done, 8);
  EXPECT_EQ(second->trainings_already_done, 4);
  EXPECT_EQ(second->cells_run + second->trainings_run, 0);
}

// Validates the sweep `c`, runs all of it into a new study in `dir` with 2
// workers, and reads the study back.
absl::StatusOr<SweepStudy> RunStudy(const SweepConfig& c, const TempDir& dir) {
  BIOFED_RETURN_IF_ERROR(ValidateSweepConfig(c));
  BIOFED_ASSIGN_OR_RETURN(auto store, SweepStore::Open(dir.File("study.db"), SweepSharedSettingsJson(c)));
  std::atomic<bool> stop{false};
  BIOFED_RETURN_IF_ERROR(RunSweep(c, *store, 2, stop, [](const std::string&) {}).status());
  store.reset();
  return ReadSweepStudy(dir.File("study.db"));
}

// DP-SGD as a defense: the training federation's clients and the attacked
// victim train with it, and every row states its epsilon at delta 1e-5. The
// attacked release is one step with every example of the batch in it: the
// Gaussian mechanism, RDP a / (2 sigma^2) at order a (Mironov 2017), so
// epsilon = min over a of a / (2 sigma^2) + log(1 / delta) / (a - 1). The
// training's 3 steps at a sampling rate below 1% cost less than that one
// release. Rows without DP-SGD state no guarantee (+infinity).
TEST(SweepRunnerTest, DpSgdRowsStateTheirPrivacyBudget) {
  TempDir dir;
  SweepConfig c = SmallSweep();
  c.grids[0].mechanisms = {"none"};
  c.grids[0].defenses = {"none", "dp:1:1.1"};
  auto study = RunStudy(c, dir);
  ASSERT_THAT(study, IsOk());
  const double sigma = 1.1, delta = 1e-5;
  double release = INFINITY;
  for (int a = 2; a <= 64; ++a) release = std::min(release, a / (2 * sigma * sigma) + std::log(1 / delta) / (a - 1));
  ASSERT_EQ(study->cells.size(), 4u);
  for (const CellRow& cell : study->cells) {
    EXPECT_EQ(cell.dp_delta, delta);
    if (cell.defense == "none") {
      EXPECT_TRUE(std::isinf(cell.dp_epsilon)) << cell.key;
    } else {
      EXPECT_NEAR(cell.dp_epsilon, release, 1e-9 * release) << cell.key;
    }
  }
  ASSERT_EQ(study->trainings.size(), 2u);
  for (const TrainingRow& t : study->trainings) {
    if (t.defense == "none") {
      EXPECT_TRUE(std::isinf(t.dp_epsilon)) << t.key;
    } else {
      EXPECT_GT(t.dp_epsilon, 0) << t.key;
      EXPECT_LT(t.dp_epsilon, release) << t.key;
    }
  }
}

// DP-SGD is refused on models with BatchNorm, in the config's check.
TEST(SweepConfigTest, DpSgdNeedsModelsWithoutBatchNorm) {
  SweepConfig c = SmallSweep();
  c.grids[0].models = {"mlp", "resnet20"};
  c.grids[0].defenses = {"dp:1:1.1"};
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "BatchNorm"));
  c.grids[0].models = {"mlp", "alexnet"};
  EXPECT_THAT(ValidateSweepConfig(c), IsOk());
}

TEST(SweepConfigTest, VictimsAreOneClientOrTheAggregateOfK) {
  EXPECT_FALSE(ParseSweepVictim("untrained")->trained);
  EXPECT_EQ(ParseSweepVictim("trained+aggregate:4")->clients, 4);
  EXPECT_TRUE(ParseSweepVictim("trained+aggregate:4")->trained);
  // One client's aggregate is the client: the same cell as plain "untrained".
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("untrained+aggregate:1")), "untrained");
  for (const char* bad : {"", "aggregate:4", "untrained+aggregate:0", "untrained+aggregate:65", "trained+x:2",
                          "untrained+aggregate:2+aggregate:2"}) {
    EXPECT_THAT(ParseSweepVictim(bad), StatusIs(absl::StatusCode::kInvalidArgument, "expected untrained")) << bad;
  }
  SweepConfig c = SmallSweep();
  c.grids[0].victims = {"untrained+aggregate:2"};
  EXPECT_THAT(ValidateSweepConfig(c), IsOk());
  c.grids[0].attacks = {"ig+mask:oracle"};
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "not replayable"));
  c.grids[0].attacks = {"ig"};
  c.attacker.threat.fuzzy_factors_known = true;
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "aggregate"));
}

// What the victim shares is part of its name: the default (pseudo-gradient)
// unnamed, so older studies' cells keep theirs; raw and gradient named, in
// either order with the aggregate, each once.
TEST(SweepConfigTest, VictimsNameWhatTheirClientShares) {
  EXPECT_EQ(ParseSweepVictim("untrained")->share, SharedKind::kPseudoGradient);
  EXPECT_EQ(ParseSweepVictim("trained+share:raw")->share, SharedKind::kRaw);
  const SweepVictim both = *ParseSweepVictim("untrained+share:gradient+aggregate:2");
  EXPECT_EQ(both.share, SharedKind::kGradient);
  EXPECT_EQ(both.clients, 2);
  EXPECT_EQ(SweepVictimName(both), "untrained+aggregate:2+share:gradient");
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("trained+share:pseudo_gradient")), "trained");
  for (const char* bad : {"untrained+share:update", "untrained+share:raw+share:raw", "untrained+share"}) {
    EXPECT_THAT(ParseSweepVictim(bad), StatusIs(absl::StatusCode::kInvalidArgument, "+share:S")) << bad;
  }
}

// Mechanism parameters are part of the mechanisms axis: parsed over the
// shared ones, named canonically (a value equal to the shared one unnamed),
// and refused where the subset lacks their mechanism.
TEST(SweepConfigTest, MechanismParametersAreAxisValues) {
  BiomodOptions shared;
  shared.tau = 0.18;
  shared.d_re = 8;
  const BiomodOptions both = *ParseSweepMechanisms("fl,wr+tau:0.5+d-re:6", shared);
  EXPECT_TRUE(both.fuzzy_learning_rates && both.rejuvenation && !both.weight_splitting);
  EXPECT_EQ(both.tau, 0.5);
  EXPECT_EQ(both.d_re, 6);
  EXPECT_EQ(SweepMechanismsName(both, shared), "fl+wr+tau:0.5+d-re:6");
  EXPECT_EQ(SweepMechanismsName(*ParseSweepMechanisms("fl+tau:0.18", shared), shared), "fl");
  const BiomodOptions split = *ParseSweepMechanisms("ws+gamma:4+wr+wr-variant:paper", shared);
  EXPECT_EQ(SweepMechanismsName(split, shared), "wr+ws+gamma:4+wr-variant:paper");
  EXPECT_EQ(SweepMechanismsName(*ParseSweepMechanisms("none", shared), shared), "none");
  EXPECT_THAT(ParseSweepMechanisms("wr+tau:0.5", shared), StatusIs(absl::StatusCode::kInvalidArgument, "of fl"));
  EXPECT_THAT(ParseSweepMechanisms("fl+tau:x", shared), StatusIs(absl::StatusCode::kInvalidArgument, "tau"));
  EXPECT_THAT(ParseSweepMechanisms("fl+tau:1+tau:2", shared), StatusIs(absl::StatusCode::kInvalidArgument, "twice"));
  EXPECT_THAT(ParseSweepMechanisms("fl+speed:1", shared), StatusIs(absl::StatusCode::kInvalidArgument, "speed:1"));
  EXPECT_THAT(ParseSweepMechanisms("fl+tau:0.1234567", shared),
              StatusIs(absl::StatusCode::kInvalidArgument, "significant digits"));
  EXPECT_THAT(ParseSweepMechanisms("fl+wr-variant:odd", shared),
              StatusIs(absl::StatusCode::kInvalidArgument, "wr-variant"));
  EXPECT_EQ(*ParseSweepVictim("untrained+client-lr:0.05"), (SweepVictim{false, 1, SharedKind::kPseudoGradient, 0.05}));
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("trained+client-lr:0.05")), "trained+client-lr:0.05");
  for (const char* bad : {"untrained+client-lr:0", "untrained+client-lr:-1", "untrained+client-lr:x"}) {
    EXPECT_THAT(ParseSweepVictim(bad), StatusIs(absl::StatusCode::kInvalidArgument, "+client-lr:LR")) << bad;
  }
  SweepConfig c = SmallSweep();
  c.grids[0].victims = {"untrained+client-lr:0.1"};  // the shared lr: the same cells as "untrained"
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "equals the shared lr"));
  c.grids[0].mechanisms = {"wr+d-re:inf"};
  c.grids[0].victims = {"untrained"};
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "d_re must be finite"));
}

// K local steps are a victim axis of the pseudo-gradient share; the fedavg
// attack (which replays them) applies to K > 1 and mask:oracle (which
// replays one step) to K = 1. WR's schedule is a mechanism parameter.
TEST(SweepConfigTest, LocalStepsAndWrScheduleAreAxisValues) {
  const SweepVictim k4 = *ParseSweepVictim("untrained+local-steps:4");
  EXPECT_EQ(k4.local_steps, 4);
  EXPECT_EQ(SweepVictimName(k4), "untrained+local-steps:4");
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("untrained+local-steps:1")), "untrained");
  for (const char* bad : {"untrained+local-steps:0", "untrained+local-steps:101", "untrained+share:raw+local-steps:2",
                          "untrained+share:gradient+local-steps:2"}) {
    EXPECT_THAT(ParseSweepVictim(bad), StatusIs(absl::StatusCode::kInvalidArgument, "+local-steps:K")) << bad;
  }
  SweepConfig c = SmallSweep();
  c.grids[0].victims = {"untrained+local-steps:2"};
  c.grids[0].attacks = {"fedavg", "ig", "ig+mask:predicted"};
  EXPECT_THAT(ValidateSweepConfig(c), IsOk());
  c.grids[0].attacks = {"ig+mask:oracle"};
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "K > 1"));
  c.grids[0].victims = {"untrained"};
  c.grids[0].attacks = {"fedavg"};
  EXPECT_THAT(ValidateSweepConfig(c), StatusIs(absl::StatusCode::kInvalidArgument, "fedavg attack does not apply"));

  const BiomodOptions shared;
  const BiomodOptions periodic = *ParseSweepMechanisms("wr+wr-every:10", shared);
  EXPECT_EQ(periodic.wr_every.every, 10);
  EXPECT_EQ(SweepMechanismsName(periodic, shared), "wr+wr-every:10");
  EXPECT_EQ(SweepMechanismsName(*ParseSweepMechanisms("wr+wr-every:1", shared), shared), "wr");
  EXPECT_EQ(ParseSweepMechanisms("wr+wr-every:round-end", shared)->wr_every.kind,
            RejuvenationSchedule::Kind::kRoundEnd);
  EXPECT_THAT(ParseSweepMechanisms("fl+wr-every:2", shared), StatusIs(absl::StatusCode::kInvalidArgument, "of wr"));
  EXPECT_THAT(ParseSweepMechanisms("wr+wr-every:0", shared), StatusIs(absl::StatusCode::kInvalidArgument, "wr-every"));
}

// The victim's K steps and WR's schedule reach the client: a K-step row
// records K and its K batches' indices, and its resets, of K passes, are not
// replayed (NaN); a client that runs WR only after its update was taken
// sends exactly the baseline's update.
TEST(SweepRunnerTest, LocalStepsAndWrScheduleChangeWhatTheClientSends) {
  TempDir dir;
  SweepConfig c = SmallSweep();
  c.grids[0].mechanisms = {"none", "wr", "wr+wr-every:round-end"};
  c.grids[0].victims = {"untrained", "untrained+local-steps:3"};
  c.grids[0].defenses = {"none"};
  auto study = RunStudy(c, dir);
  ASSERT_THAT(study, IsOk());
  std::map<std::pair<std::string, std::string>, CellRow> row;
  for (const CellRow& cell : study->cells) row[{cell.mechanisms, cell.victim}] = cell;
  ASSERT_EQ(row.size(), 6u);
  for (const std::string m : {"none", "wr", "wr+wr-every:round-end"}) {
    const CellRow& k3 = row.at({m, "untrained+local-steps:3"});
    EXPECT_EQ(k3.scored.local_steps, 3) << m;
    EXPECT_EQ(std::vector<std::string>(absl::StrSplit(k3.test_indices, ',')).size(), 3u) << m;
    EXPECT_TRUE(std::isnan(k3.reset_fraction)) << m;
    EXPECT_EQ(row.at({m, "untrained"}).scored.local_steps, 1) << m;
  }
  const CellRow& end = row.at({"wr+wr-every:round-end", "untrained"});
  EXPECT_EQ(end.update_norm, row.at({"none", "untrained"}).update_norm);
  EXPECT_EQ(end.reset_fraction, 0);
  EXPECT_EQ(end.update_norm, row.at({"wr+wr-every:round-end", "untrained"}).gradient_part_norm);
  EXPECT_GT(row.at({"wr", "untrained"}).reset_fraction, 0);
  EXPECT_GT(row.at({"wr", "untrained"}).update_norm, 2 * end.update_norm);
}

// The parameter axes reach the client: WR's reset part of the pseudo-gradient
// (w - w') / lr grows with WR's sigma = max|W| / d_re (each weight is reset
// with probability erfc(|w| / (sigma sqrt 2)), so a smaller d_re resets more)
// and shrinks as 1 / lr, while the baseline's pseudo-gradient is the
// gradient whatever lr (the same seed gives the same model and batch).
TEST(SweepRunnerTest, ParameterAxesChangeWhatTheClientSends) {
  TempDir dir;
  SweepConfig c = SmallSweep();
  c.grids[0].mechanisms = {"none", "wr+d-re:3", "wr+d-re:30"};
  c.grids[0].victims = {"untrained", "untrained+client-lr:1"};
  c.grids[0].defenses = {"none"};
  auto study = RunStudy(c, dir);
  ASSERT_THAT(study, IsOk());
  std::map<std::pair<std::string, std::string>, double> norm;
  for (const CellRow& cell : study->cells) norm[{cell.mechanisms, cell.victim}] = cell.update_norm;
  ASSERT_EQ(norm.size(), 6u);
  const double baseline = norm.at({"none", "untrained"});
  EXPECT_NEAR(norm.at({"none", "untrained+client-lr:1"}), baseline, 1e-4 * baseline);
  EXPECT_GT(norm.at({"wr+d-re:3", "untrained"}), norm.at({"wr+d-re:30", "untrained"}));
  EXPECT_GT(norm.at({"wr+d-re:3", "untrained"}), norm.at({"wr+d-re:3", "untrained+client-lr:1"}));
  EXPECT_GT(norm.at({"wr+d-re:3", "untrained+client-lr:1"}), baseline);
  // Every row splits its update at the client's resets and names its batch.
  for (const CellRow& cell : study->cells) {
    const double whole = std::hypot(cell.reset_norm, cell.gradient_part_norm);
    EXPECT_NEAR(whole, cell.update_norm, 1e-6 * cell.update_norm) << cell.key;
    const std::vector<std::string> indices = absl::StrSplit(cell.test_indices, ',');
    EXPECT_EQ(indices.size(), 1u) << cell.key;  // batch 1
    if (cell.mechanisms == "none") {
      EXPECT_EQ(cell.reset_fraction, 0) << cell.key;
      EXPECT_EQ(cell.reset_norm, 0) << cell.key;
    } else {
      EXPECT_GT(cell.reset_fraction, 0) << cell.key;
      EXPECT_LT(cell.reset_fraction, 0.5) << cell.key;
    }
  }
  // The reset part scales as 1 / lr while the gradient part does not: 10 times the lr, a tenth of it (up to the
  // gradient's own entries at the reset positions, which are part of reset_norm).
  auto row = [&](const std::string& mechanisms, const std::string& victim) {
    for (const CellRow& cell : study->cells) {
      if (cell.mechanisms == mechanisms && cell.victim == victim) return cell;
    }
    return CellRow{};
  };
  const CellRow slow = row("wr+d-re:3", "untrained"), fast = row("wr+d-re:3", "untrained+client-lr:1");
  EXPECT_EQ(slow.reset_fraction, fast.reset_fraction);
  EXPECT_NEAR(fast.gradient_part_norm, slow.gradient_part_norm, 1e-4 * slow.gradient_part_norm);
  EXPECT_LT(fast.reset_norm, 0.2 * slow.reset_norm);
  // The batch is the seed's, whatever the mechanisms.
  EXPECT_EQ(study->cells.front().test_indices, study->cells.back().test_indices);
}

TEST(SweepConfigTest, TrainedVictimsAreMidOrConverged) {
  EXPECT_TRUE(ParseSweepVictim("trained+state:converged")->converged);
  EXPECT_FALSE(ParseSweepVictim("trained+state:mid")->converged);
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("trained+state:mid")), "trained");
  EXPECT_EQ(SweepVictimName(*ParseSweepVictim("trained+share:raw+state:converged")),
            "trained+share:raw+state:converged");
  for (const char* bad : {"untrained+state:converged", "trained+state:done", "trained+state:mid+state:mid"}) {
    EXPECT_THAT(ParseSweepVictim(bad), StatusIs(absl::StatusCode::kInvalidArgument, "+state:converged")) << bad;
  }
  // A mid job keeps the key older studies hold; a converged one has its own.
  EXPECT_EQ((TrainingJob{"mlp", "none", "none", 1}.Key()), "model=mlp|mechanisms=none|defense=none|seed=1");
  EXPECT_EQ((TrainingJob{"mlp", "none", "none", 1, true}.Key()),
            "model=mlp|mechanisms=none|defense=none|seed=1|state=converged");
}

// The plateau rule: the best of the last k evaluations against the best before them.
TEST(SweepTrainingTest, PlateauIsNoGainOverTheLastEvaluations) {
  using Curve = std::vector<std::pair<int64_t, double>>;
  EXPECT_FALSE(Plateaued(Curve{{20, 0.5}, {40, 0.6}}, 2, 0.01));               // too few evaluations
  EXPECT_FALSE(Plateaued(Curve{{20, 0.5}, {40, 0.6}, {60, 0.62}}, 2, 0.01));   // 0.62 > 0.5 + 0.01
  EXPECT_TRUE(Plateaued(Curve{{20, 0.7}, {40, 0.6}, {60, 0.705}}, 2, 0.01));   // 0.705 <= 0.7 + 0.01
  EXPECT_TRUE(Plateaued(Curve{{20, 0.7}, {40, 0.71}}, 1, 0.01));                // gain exactly at the bound
}

// A converged victim's federation runs blocks of eval_every rounds until the
// plateau rule holds (here at once: any gain under 1 passes) or its round
// limit (here never: more evaluations than the limit allows), next to the
// mid training of the same subset and seed, and every row says which.
TEST(SweepRunnerTest, ConvergedTrainingsStopAtThePlateauOrTheirLimit) {
  for (const bool reachable : {true, false}) {
    TempDir dir;
    SweepConfig c = SmallSweep();
    c.grids[0].mechanisms = {"none"};
    c.grids[0].victims = {"trained", "trained+state:converged"};
    c.grids[0].defenses = {"none"};
    c.converge_max_rounds = 4 * c.eval_every;
    c.plateau_evaluations = reachable ? 1 : 10;
    c.plateau_gain = 1.0;
    auto study = RunStudy(c, dir);
    ASSERT_THAT(study, IsOk());
    ASSERT_EQ(study->trainings.size(), 2u);
    for (const TrainingRow& t : study->trainings) {
      if (t.state == "mid") {
        EXPECT_EQ(t.rounds, c.train_rounds);
        EXPECT_FALSE(t.plateaued);
        continue;
      }
      ASSERT_EQ(t.state, "converged");
      EXPECT_EQ(t.plateaued, reachable);
      EXPECT_EQ(t.rounds, reachable ? 2 * c.eval_every : c.converge_max_rounds) << t.key;
      const nlohmann::json curve = nlohmann::json::parse(t.accuracy_curve_json);
      ASSERT_EQ(static_cast<int64_t>(curve.size()), t.rounds / c.eval_every);
      EXPECT_EQ(curve.back()[0].get<int64_t>(), t.rounds);
    }
    EXPECT_EQ(study->cells.size(), 2u);
  }
}

// A malicious server as a sweep's attacker: the imprint cells send their
// victims an imprint block and read a baseline batch back whole (PSNR of
// float32 rounding), one client's or the aggregate of two.
TEST(SweepRunnerTest, ImprintCellsRecoverTheBaselineBatch) {
  TempDir dir;
  SweepConfig c = SmallSweep();
  c.grids[0].mechanisms = {"none"};
  c.grids[0].victims = {"untrained", "untrained+aggregate:2"};
  c.grids[0].attacks = {"imprint+imprint-bins:1024"};
  c.grids[0].batch_sizes = {2};
  c.grids[0].defenses = {"none"};
  auto study = RunStudy(c, dir);
  ASSERT_THAT(study, IsOk());
  ASSERT_EQ(study->cells.size(), 2u);
  EXPECT_TRUE(study->trainings.empty());
  for (const CellRow& cell : study->cells) {
    EXPECT_EQ(cell.scored.attack, "imprint+imprint-bins:1024") << cell.key;
    EXPECT_DOUBLE_EQ(cell.scored.recovered_fraction, 1.0) << cell.key;
    EXPECT_GE(cell.scored.psnr, 60.0) << cell.key;
  }
}

// The quick preset's convolutional cells (300 iterations at 5-10x the MLP's
// cost per iteration) come first, then the MLP's batch-4 cells, then its
// batch-1 cells; cells of equal cost keep grid order.
TEST(SweepRunnerTest, CellsRunLongestExpectedFirst) {
  const std::vector<AttackCell> grid = ExpandCells(*SweepPreset("quick"));
  const std::vector<AttackCell> ordered = LongestFirst(grid);
  ASSERT_EQ(ordered.size(), grid.size());
  for (size_t i = 0; i < 16; ++i) EXPECT_NE(ordered[i].model, "mlp") << i;
  for (size_t i = 1; i < ordered.size(); ++i) {
    EXPECT_GE(ExpectedCellSeconds(ordered[i - 1]), ExpectedCellSeconds(ordered[i])) << i;
  }
  size_t last_batch_four = 0, first_batch_one = ordered.size();
  for (size_t i = 16; i < ordered.size(); ++i) {
    if (ordered[i].batch_size == 4) last_batch_four = i;
    if (ordered[i].batch_size == 1) first_batch_one = std::min(first_batch_one, i);
  }
  EXPECT_LT(last_batch_four, first_batch_one);
  std::vector<std::string> mlp_batch_one_in_grid, mlp_batch_one_ordered;
  for (const AttackCell& c : grid) {
    if (c.model == "mlp" && c.batch_size == 1 && c.attack == "ig") mlp_batch_one_in_grid.push_back(c.Key());
  }
  for (const AttackCell& c : ordered) {
    if (c.model == "mlp" && c.batch_size == 1 && c.attack == "ig") mlp_batch_one_ordered.push_back(c.Key());
  }
  EXPECT_EQ(mlp_batch_one_ordered, mlp_batch_one_in_grid);
}

TEST(SweepRunnerTest, CellsPerHourCountsEveryWorker) {
  EXPECT_DOUBLE_EQ(CellsPerHour({10, 100.0}, 2), 720.0);  // 10 s per cell, two at a time
  EXPECT_EQ(CellsPerHour({0, 0.0}, 2), 0.0);
}

}  // namespace
}  // namespace biofed
