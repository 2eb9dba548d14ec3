#include "auth/base64url.h"

#include <gtest/gtest.h>

namespace aitelemetry::auth {
namespace {

TEST(Base64Url, RoundTripsRfc4648Vectors) {
  struct Case {
    std::string plain, encoded;
  };
  const Case cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Base64UrlEncode(c.plain), c.encoded) << c.plain;
    auto decoded = Base64UrlDecode(c.encoded);
    ASSERT_TRUE(decoded.has_value()) << c.encoded;
    EXPECT_EQ(*decoded, c.plain);
  }
}

TEST(Base64Url, RejectsNonStrictText) {
  const char* bad[] = {
      "Zg==",     // padding
      "Zm8=",     // padding
      "+_8",      // standard alphabet
      "-/8",      // standard alphabet
      "Zm9 v",    // whitespace
      "Zm9v\n",   // newline
      "Z",        // impossible length
      "Zh",       // non-zero trailing bits (Zg is canonical)
      "Zm9",      // non-zero trailing bits (Zm8 is canonical)
      "Zm9v.",    // separator
      "Zm\x80v",  // non-ASCII
  };
  for (const char* text : bad) {
    auto decoded = Base64UrlDecode(text);
    EXPECT_FALSE(decoded.has_value()) << text;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(Base64Url, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string part = all.substr(0, len);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(part)).value(), part);
  }
}

}  // namespace
}  // namespace aitelemetry::auth
