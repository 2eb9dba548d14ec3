// CSV cells: RFC 4180 quoting and spreadsheet formula neutralising.
#include "api/csv.h"

#include <gtest/gtest.h>

#include "core/time.h"

namespace aitelemetry::api {
namespace {

TEST(CsvCell, QuotesAndNeutralisesFormulas) {
  struct Case {
    std::string in;
    bool is_text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"plain", true, "plain"},
      {"", true, ""},
      {"a,b", true, "\"a,b\""},
      {"say \"hi\"", true, "\"say \"\"hi\"\"\""},
      {"two\nlines", true, "\"two\nlines\""},
      {"cr\rhere", true, "\"cr\rhere\""},
      {"=HYPERLINK(\"http://x\")", true, "\"'=HYPERLINK(\"\"http://x\"\")\""},
      {"=1+2", true, "'=1+2"},
      {"+1", true, "'+1"},
      {"-1", true, "'-1"},
      {"@SUM(A1)", true, "'@SUM(A1)"},
      {"\tx", true, "'\tx"},
      {"\rx", true, "\"'\rx\""},
      {"-12.5", false, "-12.5"},  // a number this API formatted stays a number
      {"a=b", true, "a=b"},
      {"é,漢字", true, "\"é,漢字\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(CsvCell(c.in, c.is_text), c.want);
  }
}

TEST(RecordsToCsv, WritesAHeaderAndOneCrlfLinePerRecord) {
  const auto& m = *model::FindModel("gpu");
  model::Record r(m);
  r.Set("key", std::string("k1"));
  r.Set("model_name", std::string("=cmd|' /C calc'!A0"));
  r.Set("power_watts", -5.5);
  r.Set("mig_enabled", true);
  r.Set("last_seen_at", ToUnixNanos(*ParseRfc3339("2026-01-02T03:04:05Z")));
  std::string csv = RecordsToCsv(
      m, {"key", "model_name", "power_watts", "mig_enabled", "last_seen_at", "project"}, {r});
  EXPECT_EQ(csv,
            "key,model_name,power_watts,mig_enabled,last_seen_at,project\r\n"
            "k1,'=cmd|' /C calc'!A0,-5.5,true,2026-01-02T03:04:05Z,\r\n");
  std::string all = RecordsToCsv(m, {}, {});
  EXPECT_TRUE(all.starts_with("key,hub,cluster,"));
  EXPECT_TRUE(all.ends_with("\r\n"));
}

}  // namespace
}  // namespace aitelemetry::api
