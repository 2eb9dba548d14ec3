#include "core/redact.h"

#include <gtest/gtest.h>

namespace aitelemetry {
namespace {

TEST(RedactUrl, MasksUserinfoQueryValuesAndFragment) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"https://prom.example:9091/api/v1", "https://prom.example:9091/api/v1"},
      {"http://user:s3cret@prom.example/api", "http://***@prom.example/api"},
      {"http://tok3n@prom.example", "http://***@prom.example"},
      {"http://u:p/a@ss@host:1/x", "http://***@host:1/x"},
      {"http://host/metrics?token=abc&hub=moc", "http://host/metrics?token=***&hub=***"},
      {"http://host/metrics?flag&x=", "http://host/metrics?flag&x=***"},
      {"https://u:p@host/p?access_token=t#frag", "https://***@host/p?access_token=***#***"},
      {"postgresql://app:pw@db:5432/x", "postgresql://***@db:5432/x"},
      {"not a url", "not a url"},
      {"/relative?token=x", "/relative?token=x"},
  };
  for (const auto& c : cases) EXPECT_EQ(RedactUrl(c.in), c.want) << c.in;
}

TEST(RedactUrlsIn, MasksEveryUrlInText) {
  EXPECT_EQ(RedactUrlsIn("POST http://u:pw@h:9090/api/v1/query: Couldn't connect to server"),
            "POST http://***@h:9090/api/v1/query: Couldn't connect to server");
  EXPECT_EQ(RedactUrlsIn("a \"https://x:y@h/?k=v\" and <http://h/?t=1>, done"),
            "a \"https://***@h/?k=***\" and <http://h/?t=***>, done");
  EXPECT_EQ(RedactUrlsIn("hub moc: http://h/metrics?token=s3cret: HTTP 401"),
            "hub moc: http://h/metrics?token=***: HTTP 401");
  EXPECT_EQ(RedactUrlsIn("no urls here: a://"), "no urls here: a://");
  EXPECT_EQ(RedactUrlsIn(""), "");
}

}  // namespace
}  // namespace aitelemetry
