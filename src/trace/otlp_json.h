// OTLP/HTTP JSON encoding of spans (an ExportTraceServiceRequest) and decoding of the collector's
// ExportTraceServiceResponse, following the OTLP specification's JSON mapping: lowerCamelCase keys,
// trace and span ids as hex, enums as integers, 64-bit integers as decimal strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "trace/session_identity.h"

namespace aitelemetry::trace {

// Attribute names, in OpenTelemetry semantic-convention style.
inline constexpr char kAttrServiceName[] = "service.name";
inline constexpr char kAttrServiceVersion[] = "service.version";
inline constexpr char kAttrClusterName[] = "k8s.cluster.name";
inline constexpr char kAttrNamespaceName[] = "k8s.namespace.name";
inline constexpr char kAttrPodName[] = "k8s.pod.name";
inline constexpr char kAttrContainerName[] = "k8s.container.name";
inline constexpr char kAttrGpuUuid[] = "gpu.uuid";
inline constexpr char kAttrGpuModel[] = "gpu.model";
inline constexpr char kAttrGpuMigProfile[] = "gpu.mig.profile";
inline constexpr char kAttrGpuMigInstanceId[] = "gpu.mig.instance_id";
inline constexpr char kAttrGpuActiveSeconds[] = "gpu.active_seconds";
inline constexpr char kAttrGpuEnergyJoules[] = "gpu.energy_joules";
inline constexpr char kAttrGpuMemoryPeakBytes[] = "gpu.memory.peak_bytes";

// An attribute value: OTLP AnyValue's scalar kinds.
using AttributeValue = std::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

struct SpanEvent {
  Timestamp time;
  std::string name;
  std::vector<Attribute> attributes;
};

// OTLP Status.code values.
enum class SpanStatusCode { kUnset = 0, kOk = 1, kError = 2 };

// OTLP Span.kind values (only the ones this product writes).
enum class SpanKind { kInternal = 1 };

// One span to export. Times are exact nanoseconds (the alert's startsAt and endsAt).
struct SpanRecord {
  TraceId trace_id{};
  SpanId span_id{};
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  Timestamp start;
  Timestamp end;
  std::vector<Attribute> attributes;
  std::vector<SpanEvent> events;
  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string status_message;
};

// What describes the exporting process: service.name is always "aitelemetry".
struct ResourceInfo {
  std::string service_version;
  std::vector<Attribute> extra_attributes;  // appended after service.name and service.version
};

// Name of the instrumentation scope the spans are reported under.
inline constexpr char kScopeName[] = "aitelemetry";

// Returns the ExportTraceServiceRequest JSON for `spans`, all under one resource and one scope:
//   {"resourceSpans":[{"resource":{"attributes":[...]},
//                      "scopeSpans":[{"scope":{"name":"aitelemetry"},"spans":[...]}]}]}
// Strings that are not valid UTF-8 have the bad bytes replaced by U+FFFD. Non-finite doubles are
// written as the strings "NaN", "Infinity", "-Infinity", as the protobuf JSON mapping says.
std::string EncodeExportTraceRequest(const std::vector<SpanRecord>& spans,
                                     const ResourceInfo& resource);

// The collector's answer to a successful export (ExportTraceServiceResponse.partialSuccess).
struct PartialSuccess {
  int64_t rejected_spans = 0;
  std::string error_message;  // a warning when rejected_spans is 0
};

// Parses an ExportTraceServiceResponse JSON body. An empty body, "{}" and a missing partialSuccess
// mean full success. rejectedSpans may be a decimal string or a JSON integer. Errors:
// kInvalidArgument for a body that is not JSON or has wrong types.
[[nodiscard]] Result<PartialSuccess> ParseExportTraceResponse(std::string_view body);

}  // namespace aitelemetry::trace
