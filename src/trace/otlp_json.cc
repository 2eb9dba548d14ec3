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

Json AnyValue(const AttributeValue& value) {
  Json out = Json::object();
  if (const auto* s = std::get_if<std::string>(&value)) {
    out["stringValue"] = *s;
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    out["intValue"] = std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    if (std::isnan(*d)) {
      out["doubleValue"] = "NaN";
    } else if (std::isinf(*d)) {
      out["doubleValue"] = *d > 0 ? "Infinity" : "-Infinity";
    } else {
      out["doubleValue"] = *d;
    }
  } else {
    out["boolValue"] = std::get<bool>(value);
  }
  return out;
}

Json Attributes(const std::vector<Attribute>& attributes) {
  Json out = Json::array();
  for (const auto& a : attributes) {
    out.push_back(Json{{"key", a.key}, {"value", AnyValue(a.value)}});
  }
  return out;
}

std::string Nanos(Timestamp t) { return std::to_string(ToUnixNanos(t)); }

Json Span(const SpanRecord& span) {
  Json out = Json::object();
  out["traceId"] = ToHex(span.trace_id);
  out["spanId"] = ToHex(span.span_id);
  out["name"] = span.name;
  out["kind"] = static_cast<int>(span.kind);
  out["startTimeUnixNano"] = Nanos(span.start);
  out["endTimeUnixNano"] = Nanos(span.end);
  out["attributes"] = Attributes(span.attributes);
  Json events = Json::array();
  for (const auto& e : span.events) {
    events.push_back(Json{{"timeUnixNano", Nanos(e.time)},
                          {"name", e.name},
                          {"attributes", Attributes(e.attributes)}});
  }
  out["events"] = std::move(events);
  Json status = Json::object();
  status["code"] = static_cast<int>(span.status_code);
  if (!span.status_message.empty()) status["message"] = span.status_message;
  out["status"] = std::move(status);
  return out;
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
  Json span_list = Json::array();
  for (const auto& span : spans) span_list.push_back(Span(span));
  Json scope_spans = Json::array();
  scope_spans.push_back(
      Json{{"scope", Json{{"name", kScopeName}}}, {"spans", std::move(span_list)}});
  Json resource_spans = Json::array();
  resource_spans.push_back(Json{{"resource", Json{{"attributes", Attributes(resource_attributes)}}},
                                {"scopeSpans", std::move(scope_spans)}});
  Json request = Json{{"resourceSpans", std::move(resource_spans)}};
  return request.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
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
