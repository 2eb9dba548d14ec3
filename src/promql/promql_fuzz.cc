// Fuzz target: the PromQL parser, printer and grant rewrite of /prom/{hub}/api/v1/*. Input: a
// query. Properties: no crash or sanitizer report; a refusal is kInvalidArgument; an accepted
// query prints to text that parses back to the same text; restricting it to grants in two
// clusters either succeeds, with every selector of the re-parsed result carrying a grant's
// matchers, or is refused with kPermissionDenied.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "promql/lexer.h"
#include "promql/parser.h"
#include "promql/printer.h"
#include "promql/restrict.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::promql {
namespace {

const Restriction& TwoClusters() {
  static const Restriction r = [] {
    HubGrants g;
    g.clusters = {"whole"};
    g.projects["c1"] = {"alpha", "beta"};
    g.projects["c2"] = {"alpha"};
    return RestrictionFor(g, RestrictionOptions{"local", ""});
  }();
  return r;
}

void Run(std::string_view input) {
  auto e = Parse(input);
  if (!e) {
    fuzz::CheckCode(e.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  std::string printed = Print(**e);
  auto again = Parse(printed);
  // Escapes may make the text longer than the limit; nothing else may stop it parsing.
  if (!again && printed.size() > kMaxQueryBytes) return;
  fuzz::Check(again.has_value(), "the printed query does not parse");
  fuzz::Check(Print(**again) == printed, "printing is not a fixed point");
  auto restricted = Restrict(*e, TwoClusters());
  if (!restricted) {
    fuzz::CheckCode(restricted.error(), {ErrorCode::kPermissionDenied});
    return;
  }
  std::string text = Print(**restricted);
  auto reread = Parse(text);
  // A restricted query may nest deeper than the original by one level per selector; past the
  // limit it is refused as a whole, which leaks nothing.
  if (!reread) {
    fuzz::CheckCode(reread.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  fuzz::Check(EverySelectorRestricted(**reread, TwoClusters()),
              "a selector of the restricted query lacks the grant's matchers");
}

}  // namespace
}  // namespace aitelemetry::promql

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::promql::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
