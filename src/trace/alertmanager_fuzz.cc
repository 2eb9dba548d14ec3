// Fuzz target: the Alertmanager webhook body (POST /api/alerts, from any caller holding the
// receiver's credentials), then what the worker derives from each alert: its session key and ids.
// Properties: no crash or sanitizer report; errors are kInvalidArgument or kPayloadTooLarge; an
// accepted payload is version "4", each alert has a fingerprint, and derived ids are never zero.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "testing/fuzz_check.h"
#include "trace/alertmanager.h"
#include "trace/session_identity.h"

namespace aitelemetry::trace {
namespace {

void Run(std::string_view body) {
  auto payload = ParseWebhook(body, 64 * 1024);
  if (!payload) {
    fuzz::CheckCode(payload.error(), {ErrorCode::kInvalidArgument, ErrorCode::kPayloadTooLarge});
    return;
  }
  fuzz::Check(payload->version == "4", "accepted a version other than 4");
  for (const Alert& alert : payload->alerts) {
    fuzz::Check(!alert.fingerprint.empty(), "an alert without a fingerprint");
    auto key = SessionKeyFromLabels(alert.labels, "");
    if (!key) fuzz::CheckCode(key.error(), {ErrorCode::kInvalidArgument});
    auto key_with_default = SessionKeyFromLabels(alert.labels, "default");
    if (key_with_default) (void)key_with_default->StableKey();
    const AlertIdentity id = IdentityOf(alert);
    const TraceId trace_id = TraceIdFor(id);
    const SpanId span_id = SpanIdFor(id);
    fuzz::Check(std::any_of(trace_id.begin(), trace_id.end(), [](uint8_t b) { return b != 0; }),
                "an all-zero trace id");
    fuzz::Check(std::any_of(span_id.begin(), span_id.end(), [](uint8_t b) { return b != 0; }),
                "an all-zero span id");
  }
}

}  // namespace
}  // namespace aitelemetry::trace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::trace::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
