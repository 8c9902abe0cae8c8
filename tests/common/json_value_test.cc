// JsonAs: integers only when they fit, never nlohmann's unchecked cast of a
// float (a fuzzer finding: {"attack_rounds": [2e26]} was undefined behaviour).
#include "common/json_value.h"

#include <gtest/gtest.h>

namespace biofed {
namespace {

using Json = nlohmann::json;

TEST(JsonAsTest, AcceptsIntegersThatFit) {
  EXPECT_EQ(JsonAs<int64_t>(Json::parse("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(JsonAs<int64_t>(Json::parse("-9223372036854775808")), INT64_MIN);
  EXPECT_EQ(JsonAs<uint64_t>(Json::parse("18446744073709551615")), UINT64_MAX);
  EXPECT_EQ(JsonAs<uint32_t>(Json::parse("4294967295")), UINT32_MAX);
  EXPECT_EQ(JsonAs<int>(Json::parse("-2147483648")), INT32_MIN);
  EXPECT_EQ(JsonAs<std::vector<int64_t>>(Json::parse("[1, -2, 3]")), (std::vector<int64_t>{1, -2, 3}));
}

TEST(JsonAsTest, RefusesFloatsWhereIntegersAreExpected) {
  EXPECT_THROW(JsonAs<int64_t>(Json::parse("2e26")), Json::type_error);
  EXPECT_THROW(JsonAs<int64_t>(Json::parse("1.0")), Json::type_error);
  EXPECT_THROW(JsonAs<std::vector<int64_t>>(Json::parse("[1, 199999999999999999999999999]")), Json::type_error);
}

TEST(JsonAsTest, RefusesIntegersOutOfRange) {
  EXPECT_THROW(JsonAs<int64_t>(Json::parse("9223372036854775808")), Json::out_of_range);
  EXPECT_THROW(JsonAs<uint64_t>(Json::parse("-1")), Json::out_of_range);
  EXPECT_THROW(JsonAs<uint32_t>(Json::parse("4294967296")), Json::out_of_range);
  EXPECT_THROW(JsonAs<int>(Json::parse("-2147483649")), Json::out_of_range);
}

TEST(JsonAsTest, OtherTypesReadAsBefore) {
  EXPECT_EQ(JsonAs<std::string>(Json::parse("\"mlp\"")), "mlp");
  EXPECT_DOUBLE_EQ(JsonAs<double>(Json::parse("2e26")), 2e26);
  EXPECT_TRUE(JsonAs<bool>(Json::parse("true")));
  EXPECT_EQ(JsonAs<std::vector<std::string>>(Json::parse("[\"a\"]")), std::vector<std::string>{"a"});
  EXPECT_THROW(JsonAs<std::string>(Json::parse("1")), Json::type_error);
}

}  // namespace
}  // namespace biofed
