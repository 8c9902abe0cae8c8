#include "common/untrusted_text.h"

#include <gtest/gtest.h>

namespace biofed {
namespace {

TEST(EscapedForLogTest, KeepsPlainNames) { EXPECT_EQ(EscapedForLog("fc1.weight"), "fc1.weight"); }

TEST(EscapedForLogTest, EscapesControlCharactersQuotesAndNonAscii) {
  EXPECT_EQ(EscapedForLog("a\nb\r\t"), "a\\nb\\r\\t");
  EXPECT_EQ(EscapedForLog("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(EscapedForLog("it's \"x\" \\"), "it\\'s \\\"x\\\" \\\\");
  EXPECT_EQ(EscapedForLog(std::string("\0\xff", 2)), "\\x00\\xff");
}

TEST(EscapedForLogTest, TruncatesWithTheOriginalLength) {
  EXPECT_EQ(EscapedForLog("abcdef", 4), "abcd...(6 bytes)");
  EXPECT_EQ(EscapedForLog("abcd", 4), "abcd");
  std::string expected;
  for (int i = 0; i < 128; ++i) expected += "\\n";
  EXPECT_EQ(EscapedForLog(std::string(3 << 20, '\n')), expected + "...(3145728 bytes)");
}

}  // namespace
}  // namespace biofed
