#include "promql/restrict.h"

#include <string>

#include <gtest/gtest.h>

#include "promql/parser.h"
#include "promql/printer.h"

namespace aitelemetry::promql {
namespace {

const RestrictionOptions kOptions{"local", ""};

HubGrants OneProject() {
  HubGrants g;
  g.projects["c1"] = {"alpha"};
  return g;
}

HubGrants TwoClusters() {
  HubGrants g;
  g.projects["c1"] = {"alpha"};
  g.projects["c2"] = {"beta"};
  return g;
}

std::string Restricted(const std::string& q, const Restriction& r) {
  auto e = Parse(q);
  if (!e) return "PARSE: " + e.error().message;
  auto out = Restrict(*e, r);
  if (!out) return std::string(ErrorCodeName(out.error().code));
  std::string text = Print(**out);
  // The printed text, read back, restricts every selector.
  auto again = Parse(text);
  EXPECT_TRUE(again) << text;
  if (again) {
    EXPECT_TRUE(EverySelectorRestricted(**again, r)) << text;
  }
  return text;
}

TEST(PromqlRestriction, BuiltFromGrants) {
  auto print = [](const Restriction& r) {
    std::string out;
    for (const auto& part : r.parts) {
      Expr s;
      s.kind = ExprKind::kVectorSelector;
      s.matchers = part;
      out += Print(s) + ";";
    }
    return out;
  };
  HubGrants hub;
  hub.whole_hub = true;
  EXPECT_TRUE(RestrictionFor(hub, kOptions).Everything());
  EXPECT_TRUE(RestrictionFor(HubGrants{}, kOptions).Nothing());
  EXPECT_EQ(print(RestrictionFor(OneProject(), kOptions)),
            "{cluster=\"c1\", exported_namespace=\"alpha\"};"
            "{cluster=\"c1\", exported_namespace=\"\", namespace=\"alpha\"};");
  EXPECT_EQ(print(RestrictionFor(OneProject(), {"local", "namespace"})),
            "{cluster=\"c1\", namespace=\"alpha\"};");
  // A rectangle (same namespaces in both clusters) is one part per namespace label.
  HubGrants rect;
  rect.projects["c1"] = {"a", "b"};
  rect.projects["c2"] = {"a", "b"};
  EXPECT_EQ(print(RestrictionFor(rect, {"local", "exported_namespace"})),
            "{cluster=~\"c1|c2\", exported_namespace=~\"a|b\"};");
  // Whole clusters, one of them the default (series without a cluster label).
  HubGrants clusters;
  clusters.clusters = {"local", "c.2"};
  clusters.projects["local"] = {"redundant"};
  EXPECT_EQ(print(RestrictionFor(clusters, kOptions)), "{cluster=~\"c\\\\.2|local|\"};");
  // Not a rectangle: one part per namespace set.
  EXPECT_EQ(print(RestrictionFor(TwoClusters(), {"local", "namespace"})),
            "{cluster=\"c1\", namespace=\"alpha\"};{cluster=\"c2\", namespace=\"beta\"};");
}

TEST(PromqlRestriction, OnePartAddsMatchersToEverySelector) {
  Restriction r = RestrictionFor(OneProject(), {"local", "namespace"});
  struct Case {
    std::string query;
    std::string restricted;
  };
  const Case cases[] = {
      {"up", "up{cluster=\"c1\", namespace=\"alpha\"}"},
      // User matchers stay and are ANDed: a negated or regex matcher cannot widen anything.
      {"x{namespace!=\"alpha\"}", "x{namespace!=\"alpha\", cluster=\"c1\", namespace=\"alpha\"}"},
      {"{__name__=~\".+\", namespace=~\".*\"}",
       "{__name__=~\".+\", namespace=~\".*\", cluster=\"c1\", namespace=\"alpha\"}"},
      {"rate(x[5m] offset 1h)", "rate(x{cluster=\"c1\", namespace=\"alpha\"}[5m] offset 1h)"},
      {"x[5m]", "x{cluster=\"c1\", namespace=\"alpha\"}[5m]"},
      {"max_over_time(sum(x)[1h:5m] @ end())",
       "max_over_time(sum(x{cluster=\"c1\", namespace=\"alpha\"})[1h:5m] @ end())"},
      {"a / on(x) group_left b",
       "a{cluster=\"c1\", namespace=\"alpha\"} / on(x) group_left() b{cluster=\"c1\", "
       "namespace=\"alpha\"}"},
      {"absent_over_time(x[5m])", "absent_over_time(x{cluster=\"c1\", namespace=\"alpha\"}[5m])"},
      {"vector(1)", "vector(1)"},
  };
  for (const Case& c : cases) EXPECT_EQ(Restricted(c.query, r), c.restricted) << c.query;
}

TEST(PromqlRestriction, SeveralPartsUnionAtTheSelector) {
  Restriction r = RestrictionFor(TwoClusters(), {"local", "namespace"});
  const std::string a = "{cluster=\"c1\", namespace=\"alpha\"}";
  const std::string b = "{cluster=\"c2\", namespace=\"beta\"}";
  EXPECT_EQ(Restricted("x", r), "(x" + a + " or x" + b + ")");
  // Inside a binary operation each operand is its own union: the operation still pairs series.
  EXPECT_EQ(Restricted("x / y", r), "(x" + a + " or x" + b + ") / (y" + a + " or y" + b + ")");
  EXPECT_EQ(Restricted("sum by (cluster) (x offset 5m)", r),
            "sum by (cluster) ((x" + a + " offset 5m or x" + b + " offset 5m))");
  // A per-series range function is applied per part.
  EXPECT_EQ(Restricted("quantile_over_time(0.9, x[5m] @ 100)", r),
            "(quantile_over_time(0.9, x" + a + "[5m] @ 100) or quantile_over_time(0.9, x" + b +
                "[5m] @ 100))");
  EXPECT_EQ(Restricted("timestamp(x)", r), "(timestamp(x" + a + ") or timestamp(x" + b + "))");
  EXPECT_EQ(Restricted("rate(x[5m])[1h:1m]", r),
            "(rate(x" + a + "[5m]) or rate(x" + b + "[5m]))[1h:1m]");
  // Not exactly restrictable with several parts: refused rather than approximated.
  EXPECT_EQ(Restricted("x[5m]", r), "permission_denied");
  EXPECT_EQ(Restricted("absent_over_time(x[5m])", r), "permission_denied");
  EXPECT_EQ(Restricted("absent(x)", r), "absent((x" + a + " or x" + b + "))");
}

TEST(PromqlRestriction, UnpinnedNamespaceSplitsExportedFromPlain) {
  Restriction r = RestrictionFor(OneProject(), kOptions);
  EXPECT_EQ(Restricted("x", r),
            "(x{cluster=\"c1\", exported_namespace=\"alpha\"} or x{cluster=\"c1\", "
            "exported_namespace=\"\", namespace=\"alpha\"})");
}

TEST(PromqlRestriction, HostileQueriesStayRestricted) {
  Restriction r = RestrictionFor(TwoClusters(), kOptions);
  for (const char* q : {
           "{__name__=~\".+\"}",
           "{__name__=~\".*\", namespace=~\".*\"}",
           "x{namespace=\"\"} or y{exported_namespace!~\"alpha\"}",
           "label_replace(x, \"namespace\", \"beta\", \"namespace\", \".*\")",
           "count by (namespace) ({cluster!=\"c1\"})",
           "x unless on() y",
           "sum_over_time(x[5m:1m] offset -1h)",
           "topk(1, x) + on() group_left sum(y)",
           "x @ start() and x @ end()",
           "histogram_quantile(0.9, sum by (le) (rate(b[5m])))",
           "absent(nonexistent{namespace=\"beta\"})",
       }) {
    std::string out = Restricted(q, r);
    EXPECT_NE(out.find("cluster="), std::string::npos) << q << " -> " << out;
  }
}

TEST(PromqlRestriction, SeriesSelectorsForMetadata) {
  Restriction r = RestrictionFor(TwoClusters(), {"local", "namespace"});
  auto s = ParseSeriesSelector("{namespace=~\".*\"}");
  ASSERT_TRUE(s);
  EXPECT_EQ(RestrictSelector(**s, r),
            (std::vector<std::string>{"{namespace=~\".*\", cluster=\"c1\", namespace=\"alpha\"}",
                                      "{namespace=~\".*\", cluster=\"c2\", namespace=\"beta\"}"}));
  EXPECT_EQ(GrantSelectors(r),
            (std::vector<std::string>{"{__name__=~\".+\", cluster=\"c1\", namespace=\"alpha\"}",
                                      "{__name__=~\".+\", cluster=\"c2\", namespace=\"beta\"}"}));
}

TEST(PromqlRestriction, LongestRange) {
  EXPECT_EQ(LongestRangeMs(**Parse("x")), 0);
  EXPECT_EQ(LongestRangeMs(**Parse("rate(x[5m] offset -1h)")), 3900000);
  EXPECT_EQ(LongestRangeMs(**Parse("max_over_time(rate(x[1m])[1d:1h])")), 86400000);
}

TEST(PromqlRestriction, QuoteRegex) { EXPECT_EQ(QuoteRegex("a.b|c*"), "a\\.b\\|c\\*"); }

}  // namespace
}  // namespace aitelemetry::promql
