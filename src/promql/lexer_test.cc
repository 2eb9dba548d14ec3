#include "promql/lexer.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

namespace aitelemetry::promql {
namespace {

TEST(PromqlLexer, DurationsParseAndFormat) {
  struct Case {
    std::string text;
    int64_t ms;
    std::string canonical;
  };
  for (const Case& c :
       {Case{"5m", 300000, "5m"}, Case{"1h30m", 5400000, "1h30m"}, Case{"90m", 5400000, "1h30m"},
        Case{"250ms", 250, "250ms"}, Case{"1y2w3d", 365LL * 86400000 + 17LL * 86400000, "1y2w3d"},
        Case{"0s", 0, "0s"}}) {
    auto ms = ParseDurationMs(c.text);
    ASSERT_TRUE(ms) << c.text;
    EXPECT_EQ(*ms, c.ms) << c.text;
    EXPECT_EQ(FormatDuration(c.ms), c.canonical) << c.text;
  }
  EXPECT_EQ(FormatDuration(-300000), "-5m");
  for (const char* bad : {"", "5", "m", "5x", "1m1h", "1h1h", "99999999999999999999y", "5 m"}) {
    EXPECT_FALSE(ParseDurationMs(bad)) << bad;
  }
}

TEST(PromqlLexer, NumbersStringsAndOperators) {
  auto t = Lex(R"(x{a=~"b\"\\",c!~'d'} 0x1F 1.5e3 .5 Inf nan `r\n` # comment)");
  ASSERT_TRUE(t) << t.error().message;
  std::vector<TokenKind> kinds;
  for (const auto& tok : *t) kinds.push_back(tok.kind);
  EXPECT_EQ(kinds,
            (std::vector<TokenKind>{TokenKind::kIdentifier, TokenKind::kLeftBrace,
                                    TokenKind::kIdentifier, TokenKind::kRegexEq, TokenKind::kString,
                                    TokenKind::kComma, TokenKind::kIdentifier, TokenKind::kRegexNeq,
                                    TokenKind::kString, TokenKind::kRightBrace, TokenKind::kNumber,
                                    TokenKind::kNumber, TokenKind::kNumber, TokenKind::kNumber,
                                    TokenKind::kNumber, TokenKind::kString, TokenKind::kEnd}));
  EXPECT_EQ((*t)[4].text, "b\"\\");
  EXPECT_EQ((*t)[10].number, 31);
  EXPECT_EQ((*t)[11].number, 1500);
  EXPECT_EQ((*t)[12].number, 0.5);
  EXPECT_TRUE(std::isinf((*t)[13].number));
  EXPECT_TRUE(std::isnan((*t)[14].number));
  EXPECT_EQ((*t)[15].text, "r\\n");  // raw strings keep backslashes
}

TEST(PromqlLexer, EscapesDecodeAsGoDoes) {
  auto t = Lex(R"("\x41\u00e9\101\t\U0001F600")");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[0].text,
            "A\xC3\xA9"
            "A\t\xF0\x9F\x98\x80");
}

TEST(PromqlLexer, RefusesMalformedInput) {
  for (const char* bad :
       {"\"unterminated", "'a\nb'", "\"\\q\"", "\"\\x4\"", "\"\\ud800\"", "\"\\400\"", "1.2.3",
        "1e", "0x", "5mm", "12abc", "$", "a ! b", "\"\xff\""}) {
    EXPECT_FALSE(Lex(bad)) << bad;
  }
  EXPECT_FALSE(Lex(std::string(kMaxQueryBytes + 1, ' ')));
}

}  // namespace
}  // namespace aitelemetry::promql
