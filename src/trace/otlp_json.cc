#include "trace/otlp_json.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aitelemetry::trace {
namespace {

using Json = nlohmann::json;

// The request is written directly rather than built as a JSON document and dumped (which costs
// more than the rest of closing a session), with the output of the document form byte for byte:
// object keys in byte order (nlohmann::json keeps objects in a std::map), no spaces, strings
// escaped by nlohmann's serializer, doubles in its shortest round-trip form.

// Appends `s` as a JSON string. Printable ASCII without quote or backslash, the common case, is
// copied as it is; anything else goes through nlohmann (escapes, and U+FFFD for invalid UTF-8).
void AppendString(std::string& out, std::string_view s) {
  bool plain = true;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += Json(std::string(s)).dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

// Appends a decimal integer in quotes: OTLP JSON writes 64-bit integers as strings.
void AppendQuotedInt(std::string& out, int64_t value) {
  out += '"';
  out += std::to_string(value);
  out += '"';
}

void AppendAnyValue(std::string& out, const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    out += R"({"stringValue":)";
    AppendString(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    out += R"({"intValue":)";
    AppendQuotedInt(out, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    out += R"({"doubleValue":)";
    if (std::isnan(*d)) {
      out += R"("NaN")";
    } else if (std::isinf(*d)) {
      out += *d > 0 ? R"("Infinity")" : R"("-Infinity")";
    } else {
      out += Json(*d).dump();
    }
  } else {
    out += R"({"boolValue":)";
    out += std::get<bool>(value) ? "true" : "false";
  }
  out += '}';
}

void AppendAttributes(std::string& out, const std::vector<Attribute>& attributes) {
  out += '[';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i) out += ',';
    out += R"({"key":)";
    AppendString(out, attributes[i].key);
    out += R"(,"value":)";
    AppendAnyValue(out, attributes[i].value);
    out += '}';
  }
  out += ']';
}

void AppendSpan(std::string& out, const SpanRecord& span) {
  out += R"({"attributes":)";
  AppendAttributes(out, span.attributes);
  out += R"(,"endTimeUnixNano":)";
  AppendQuotedInt(out, ToUnixNanos(span.end));
  out += R"(,"events":[)";
  for (size_t i = 0; i < span.events.size(); ++i) {
    const SpanEvent& e = span.events[i];
    if (i) out += ',';
    out += R"({"attributes":)";
    AppendAttributes(out, e.attributes);
    out += R"(,"name":)";
    AppendString(out, e.name);
    out += R"(,"timeUnixNano":)";
    AppendQuotedInt(out, ToUnixNanos(e.time));
    out += '}';
  }
  out += R"(],"kind":)";
  out += std::to_string(static_cast<int>(span.kind));
  out += R"(,"name":)";
  AppendString(out, span.name);
  out += R"(,"spanId":)";
  AppendString(out, ToHex(span.span_id));
  out += R"(,"startTimeUnixNano":)";
  AppendQuotedInt(out, ToUnixNanos(span.start));
  out += R"(,"status":{"code":)";
  out += std::to_string(static_cast<int>(span.status_code));
  if (!span.status_message.empty()) {
    out += R"(,"message":)";
    AppendString(out, span.status_message);
  }
  out += R"(},"traceId":)";
  AppendString(out, ToHex(span.trace_id));
  out += '}';
}

tl::unexpected<Error> BadResponse(std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("OTLP export response: {}", what));
}

}  // namespace

std::string EncodeExportTraceRequest(const std::vector<SpanRecord>& spans,
                                     const ResourceInfo& resource) {
  std::vector<Attribute> resource_attributes = {
      {kAttrServiceName, std::string("aitelemetry")},
      {kAttrServiceVersion, resource.service_version},
  };
  resource_attributes.insert(resource_attributes.end(), resource.extra_attributes.begin(),
                             resource.extra_attributes.end());
  std::string out;
  out.reserve(1024 * spans.size() + 256);
  out += R"({"resourceSpans":[{"resource":{"attributes":)";
  AppendAttributes(out, resource_attributes);
  out += R"(},"scopeSpans":[{"scope":{"name":)";
  AppendString(out, kScopeName);
  out += R"(},"spans":[)";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i) out += ',';
    AppendSpan(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
}

Result<PartialSuccess> ParseExportTraceResponse(std::string_view body) {
  PartialSuccess out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return BadResponse("not JSON");
  if (!doc.is_object()) return BadResponse("expected an object");
  auto it = doc.find("partialSuccess");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) return BadResponse("partialSuccess: expected an object");
  if (auto r = it->find("rejectedSpans"); r != it->end() && !r->is_null()) {
    if (r->is_number_integer()) {
      out.rejected_spans = r->get<int64_t>();
    } else if (r->is_string()) {
      const auto& text = r->get_ref<const std::string&>();
      int64_t value = 0;
      bool ok = !text.empty() && text.size() <= 18;
      for (char c : text) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) value = value * 10 + (c - '0');
      }
      if (!ok) return BadResponse("partialSuccess.rejectedSpans: not a decimal integer");
      out.rejected_spans = value;
    } else {
      return BadResponse("partialSuccess.rejectedSpans: expected an integer");
    }
    if (out.rejected_spans < 0) return BadResponse("partialSuccess.rejectedSpans: negative");
  }
  if (auto m = it->find("errorMessage"); m != it->end() && !m->is_null()) {
    if (!m->is_string()) return BadResponse("partialSuccess.errorMessage: expected a string");
    out.error_message = m->get<std::string>();
  }
  return out;
}

}  // namespace aitelemetry::trace
