#include "attack/attack_settings.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/field_flags.h"
#include "common/json_config.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

TEST(AttackSpecTest, CompactNamesListTheSettingsThatDifferFromTheBase) {
  const AttackSpec base;
  auto robust = ParseAttackSpec("ig+ignore-largest:0.10", base);
  ASSERT_THAT(robust, IsOk());
  EXPECT_EQ(robust->config.kind, AttackKind::kInvertingGradients);
  EXPECT_EQ(robust->config.ignore_largest_fraction, 0.1);
  EXPECT_EQ(AttackSpecName(*robust, base), "ig+ignore-largest:0.1");
  EXPECT_EQ(AttackSpecName(*ParseAttackSpec("dlg", base), base), "dlg");
  auto two = ParseAttackSpec("ig+tv-weight:0.0001+restarts:4", base);
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(two->config.tv_weight, 1e-4);
  EXPECT_EQ(two->config.restarts, 4);
  EXPECT_EQ(AttackSpecName(*two, base), "ig+tv-weight:0.0001+restarts:4");
  // The threat model and the iterations have columns of their own: a name
  // leaves them out even where they differ from the base.
  auto informed = ParseAttackSpec("ig+labels:known+attack-iterations:20", base);
  ASSERT_THAT(informed, IsOk());
  EXPECT_TRUE(informed->threat.labels_known);
  EXPECT_EQ(informed->config.iterations, 20);
  EXPECT_EQ(AttackSpecName(*informed, base), "ig");
  // The paper's pipeline, as attacker settings (the raw share is the victim's).
  auto replica = ParseAttackSpec("ig+iterate:last+attacker-batchnorm:eval", base);
  ASSERT_THAT(replica, IsOk());
  EXPECT_TRUE(replica->config.last_iterate);
  EXPECT_TRUE(replica->config.attacker_batchnorm_eval);
  EXPECT_EQ(AttackSpecName(*replica, base), "ig+iterate:last+attacker-batchnorm:eval");
}

TEST(AttackSpecTest, BadNamesAndCombinationsAreRefusedWithThePartNamed) {
  const AttackSpec base;
  for (const char* bad : {"ig+ignore-largest:1", "ig+mask:0.1", "ig+", "pgd", "ig+ignore-largest:x",
                          "analytic+ignore-largest:0.1", "ig+labels:maybe", "ig+attack:dlg", "imprint+iterate:last",
                          "ig+iterate:first", "ig+attacker-batchnorm:train"}) {
    EXPECT_THAT(ParseAttackSpec(bad, base), StatusIs(absl::StatusCode::kInvalidArgument, bad)) << bad;
  }
  AttackSpec blind;
  blind.threat.labels_known = true;
  blind.threat.batch_size_known = false;
  EXPECT_THAT(ValidateAttackSpec(blind), StatusIs(absl::StatusCode::kInvalidArgument, "give the batch size away"));
}

// A spec written as JSON by its field list reads back equal, coded fields as
// their words.
TEST(AttackSpecTest, JsonRoundTripThroughTheFieldList) {
  AttackSpec spec;
  spec.config.kind = AttackKind::kDlg;
  spec.config.lr = 0.5;
  spec.threat.labels_known = true;
  spec.threat.local_hyperparameters_known = false;
  const nlohmann::json j = RecordToJson(spec);
  EXPECT_EQ(j.at("attack"), "dlg");
  EXPECT_EQ(j.at("labels"), "known");
  EXPECT_EQ(j.at("local_hyperparameters"), "unknown");
  AttackSpec back;
  ASSERT_THAT(ApplyJsonKeys(j, "spec", back, [](AttackSpec& s, auto&& v) { VisitFields(s, v); }), IsOk());
  EXPECT_EQ(RecordToJson(back), j);
  EXPECT_THAT(ApplyJsonKeys(nlohmann::json{{"labels", "guessed"}}, "x.json", back,
                            [](AttackSpec& s, auto&& v) { VisitFields(s, v); }),
              StatusIs(absl::StatusCode::kInvalidArgument, "labels: expected known or inferred"));
}

// The command-line flags derived from the field list parse into the spec.
TEST(AttackSpecTest, DerivedFlagsSetTheSettings) {
  AttackSpec spec;
  FlagSet flags("test", "");
  AddFieldFlags(flags, spec, [](AttackSpec& s, auto&& v) { VisitFields(s, v); }, AttackSettingHelp());
  ASSERT_THAT(flags.Parse({"--attack", "analytic", "--attack-iterations=7", "--labels", "known", "--fl-factors",
                           "known", "--batch-size", "estimated", "--tv-weight", "0.01"}),
              IsOk());
  EXPECT_EQ(spec.config.kind, AttackKind::kAnalytic);
  EXPECT_EQ(spec.config.iterations, 7);
  EXPECT_EQ(spec.config.tv_weight, 0.01);
  EXPECT_TRUE(spec.threat.labels_known);
  EXPECT_TRUE(spec.threat.fuzzy_factors_known);
  EXPECT_FALSE(spec.threat.batch_size_known);
  EXPECT_THAT(flags.Parse({"--labels", "maybe"}), StatusIs(absl::StatusCode::kInvalidArgument, "--labels"));
  EXPECT_THAT(flags.Parse({"--restarts", "two"}), StatusIs(absl::StatusCode::kInvalidArgument, "--restarts"));
  const std::string usage = flags.Usage();
  for (const auto& [key, help] : AttackSettingHelp()) EXPECT_NE(usage.find(help), std::string::npos) << key;
}

}  // namespace
}  // namespace biofed
