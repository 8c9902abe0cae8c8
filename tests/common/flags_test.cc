#include "common/flags.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

struct Fixture {
  std::string name = "x";
  int64_t count = 1;
  double rate = 0.5;
  bool on = false;
  FlagSet flags{"demo", "a demo"};
  Fixture() {
    flags.AddString("name", &name, "a name");
    flags.AddInt("count", &count, "a count");
    flags.AddDouble("rate", &rate, "a rate");
    flags.AddBool("on", &on, "a switch");
  }
};

TEST(FlagSetTest, ParsesBothSyntaxesAndBooleans) {
  Fixture f;
  ASSERT_THAT(f.flags.Parse({"--name", "abc", "--count=7", "--rate", "0.25", "--on", "pos"}), IsOk());
  EXPECT_EQ(f.name, "abc");
  EXPECT_EQ(f.count, 7);
  EXPECT_DOUBLE_EQ(f.rate, 0.25);
  EXPECT_TRUE(f.on);
  EXPECT_EQ(f.flags.positional(), std::vector<std::string>{"pos"});
  EXPECT_TRUE(f.flags.WasSet("count"));
  Fixture g;
  ASSERT_THAT(g.flags.Parse({"--on", "--no-on"}), IsOk());
  EXPECT_FALSE(g.on);
}

TEST(FlagSetTest, RejectsUnknownFlagsAndBadValues) {
  Fixture f;
  EXPECT_THAT(f.flags.Parse({"--nope"}), StatusIs(absl::StatusCode::kInvalidArgument, "unknown flag --nope"));
  Fixture g;
  EXPECT_THAT(g.flags.Parse({"--count", "many"}), StatusIs(absl::StatusCode::kInvalidArgument, "--count expects an integer"));
  Fixture h;
  EXPECT_THAT(h.flags.Parse({"--name"}), StatusIs(absl::StatusCode::kInvalidArgument, "--name needs a value"));
}

TEST(FlagSetTest, UsageListsFlagsWithDefaults) {
  Fixture f;
  ASSERT_THAT(f.flags.Parse({"--help"}), IsOk());
  EXPECT_TRUE(f.flags.help_requested());
  const std::string usage = f.flags.Usage();
  EXPECT_NE(usage.find("--count"), std::string::npos);
  EXPECT_NE(usage.find("(default: 1)"), std::string::npos);
}

}  // namespace
}  // namespace biofed
