#include "trace/alertmanager.h"

#include <string>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aitelemetry::trace {
namespace {

using Json = nlohmann::json;

// Go's zero time.Time, which Alertmanager writes as endsAt of a firing alert.
constexpr std::string_view kGoZeroTime = "0001-01-01T00:00:00Z";

tl::unexpected<Error> FieldError(const std::string& path, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, what));
}

std::string_view TypeName(const Json& v) { return v.type_name(); }

// Parses `body`, rejecting duplicated keys and deep nesting (nlohmann keeps the last duplicate
// silently, which would let two different readings of one body disagree).
Result<Json> ParseStrictJson(std::string_view body) {
  std::vector<std::unordered_set<std::string>> keys_by_level;
  std::string problem;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if (!problem.empty()) return false;
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxWebhookDepth) {
          problem = fmt::format("nested deeper than {} levels", kMaxWebhookDepth);
          return false;
        }
        if (event == Json::parse_event_t::object_start) keys_by_level.emplace_back();
        return true;
      case Json::parse_event_t::object_end:
        if (!keys_by_level.empty()) keys_by_level.pop_back();
        return true;
      case Json::parse_event_t::key:
        if (!keys_by_level.empty() &&
            !keys_by_level.back().insert(parsed.get_ref<const std::string&>()).second) {
          problem = fmt::format("duplicate key \"{}\"",
                                parsed.get_ref<const std::string&>().substr(0, 64));
          return false;
        }
        return true;
      default:
        return true;
    }
  };
  Json doc;
  // nlohmann reports syntax errors only as exceptions; this is the edge where untrusted text
  // enters, so the exception is caught here and becomes a value.
  try {
    doc = Json::parse(body.begin(), body.end(), callback, /*allow_exceptions=*/true,
                      /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    if (!problem.empty()) return FieldError("body", problem);
    return FieldError("body", fmt::format("not valid JSON ({})", e.what()));
  }
  if (!problem.empty()) return FieldError("body", problem);
  return doc;
}

// Accessors that name the offending field. `present` is false for an absent key or null.
const Json* Member(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> RequiredString(const Json& object, const char* key, const std::string& path) {
  const Json* v = Member(object, key);
  if (v == nullptr) return FieldError(path, "required");
  if (!v->is_string())
    return FieldError(path, fmt::format("expected a string, got {}", TypeName(*v)));
  return v->get<std::string>();
}

Result<std::string> OptionalString(const Json& object, const char* key, const std::string& path) {
  const Json* v = Member(object, key);
  if (v == nullptr) return std::string();
  if (!v->is_string())
    return FieldError(path, fmt::format("expected a string, got {}", TypeName(*v)));
  return v->get<std::string>();
}

Result<LabelSet> ReadLabels(const Json& object, const char* key, const std::string& path,
                            bool required) {
  const Json* v = Member(object, key);
  if (v == nullptr) {
    if (required) return FieldError(path, "required");
    return LabelSet();
  }
  if (!v->is_object())
    return FieldError(path, fmt::format("expected an object, got {}", TypeName(*v)));
  LabelSet labels;
  for (const auto& [name, value] : v->items()) {
    if (name.empty()) return FieldError(path, "empty label name");
    if (!value.is_string()) {
      return FieldError(fmt::format("{}.{}", path, name.substr(0, 64)),
                        fmt::format("expected a string, got {}", TypeName(value)));
    }
    labels.emplace(name, value.get<std::string>());
  }
  return labels;
}

Result<AlertStatus> ReadStatus(const Json& object, const std::string& path) {
  auto text = RequiredString(object, "status", path);
  if (!text) return Fail(text.error());
  if (*text == "firing") return AlertStatus::kFiring;
  if (*text == "resolved") return AlertStatus::kResolved;
  return FieldError(
      path, fmt::format("expected \"firing\" or \"resolved\", got \"{}\"", text->substr(0, 64)));
}

// Reads an RFC 3339 time; Go's zero time reads as unset.
Result<std::optional<Timestamp>> ReadTime(const Json& object, const char* key,
                                          const std::string& path, bool required) {
  const Json* v = Member(object, key);
  if (v == nullptr) {
    if (required) return FieldError(path, "required");
    return std::optional<Timestamp>();
  }
  if (!v->is_string())
    return FieldError(path, fmt::format("expected a string, got {}", TypeName(*v)));
  const auto& text = v->get_ref<const std::string&>();
  if (text == kGoZeroTime) {
    if (required) return FieldError(path, "required (got the zero time)");
    return std::optional<Timestamp>();
  }
  auto t = ParseRfc3339(text);
  if (!t) return FieldError(path, t.error().message);
  return std::optional<Timestamp>(*t);
}

Result<Alert> ReadAlert(const Json& v, const std::string& path) {
  if (!v.is_object())
    return FieldError(path, fmt::format("expected an object, got {}", TypeName(v)));
  Alert alert;
  auto status = ReadStatus(v, path + ".status");
  if (!status) return Fail(status.error());
  alert.status = *status;
  auto labels = ReadLabels(v, "labels", path + ".labels", /*required=*/true);
  if (!labels) return Fail(labels.error());
  alert.labels = std::move(*labels);
  auto annotations = ReadLabels(v, "annotations", path + ".annotations", /*required=*/false);
  if (!annotations) return Fail(annotations.error());
  alert.annotations = std::move(*annotations);
  auto starts = ReadTime(v, "startsAt", path + ".startsAt", /*required=*/true);
  if (!starts) return Fail(starts.error());
  alert.starts_at = **starts;
  auto ends = ReadTime(v, "endsAt", path + ".endsAt", /*required=*/false);
  if (!ends) return Fail(ends.error());
  alert.ends_at = *ends;
  if (alert.status == AlertStatus::kResolved && !alert.ends_at) {
    return FieldError(path + ".endsAt", "required when status is \"resolved\"");
  }
  if (alert.ends_at && *alert.ends_at < alert.starts_at) {
    return FieldError(path + ".endsAt", "before startsAt");
  }
  auto generator = OptionalString(v, "generatorURL", path + ".generatorURL");
  if (!generator) return Fail(generator.error());
  alert.generator_url = std::move(*generator);
  auto fingerprint = RequiredString(v, "fingerprint", path + ".fingerprint");
  if (!fingerprint) return Fail(fingerprint.error());
  if (fingerprint->empty()) return FieldError(path + ".fingerprint", "empty");
  alert.fingerprint = std::move(*fingerprint);
  return alert;
}

}  // namespace

std::string_view AlertStatusName(AlertStatus status) {
  return status == AlertStatus::kResolved ? "resolved" : "firing";
}

Result<WebhookPayload> ParseWebhook(std::string_view body, size_t max_body_bytes) {
  if (body.size() > max_body_bytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("body: {} bytes, over the limit of {}", body.size(), max_body_bytes));
  }
  auto doc = ParseStrictJson(body);
  if (!doc) return Fail(doc.error());
  if (!doc->is_object()) {
    return FieldError("body", fmt::format("expected an object, got {}", TypeName(*doc)));
  }
  WebhookPayload payload;
  auto version = RequiredString(*doc, "version", "version");
  if (!version) return Fail(version.error());
  if (*version != "4") {
    return FieldError("version",
                      fmt::format("unsupported \"{}\", expected \"4\"", version->substr(0, 64)));
  }
  payload.version = std::move(*version);
  auto receiver = OptionalString(*doc, "receiver", "receiver");
  if (!receiver) return Fail(receiver.error());
  payload.receiver = std::move(*receiver);
  auto status = ReadStatus(*doc, "status");
  if (!status) return Fail(status.error());
  payload.status = *status;

  const Json* alerts = Member(*doc, "alerts");
  if (alerts == nullptr) return FieldError("alerts", "required");
  if (!alerts->is_array()) {
    return FieldError("alerts", fmt::format("expected an array, got {}", TypeName(*alerts)));
  }
  payload.alerts.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    auto alert = ReadAlert((*alerts)[i], fmt::format("alerts[{}]", i));
    if (!alert) return Fail(alert.error());
    payload.alerts.push_back(std::move(*alert));
  }

  auto group_labels = ReadLabels(*doc, "groupLabels", "groupLabels", false);
  if (!group_labels) return Fail(group_labels.error());
  payload.group_labels = std::move(*group_labels);
  auto common_labels = ReadLabels(*doc, "commonLabels", "commonLabels", false);
  if (!common_labels) return Fail(common_labels.error());
  payload.common_labels = std::move(*common_labels);
  auto common_annotations = ReadLabels(*doc, "commonAnnotations", "commonAnnotations", false);
  if (!common_annotations) return Fail(common_annotations.error());
  payload.common_annotations = std::move(*common_annotations);
  auto external_url = OptionalString(*doc, "externalURL", "externalURL");
  if (!external_url) return Fail(external_url.error());
  payload.external_url = std::move(*external_url);
  auto group_key = OptionalString(*doc, "groupKey", "groupKey");
  if (!group_key) return Fail(group_key.error());
  payload.group_key = std::move(*group_key);

  if (const Json* truncated = Member(*doc, "truncatedAlerts")) {
    if (!truncated->is_number_integer() || truncated->get<int64_t>() < 0) {
      return FieldError("truncatedAlerts", "expected a non-negative integer");
    }
    payload.truncated_alerts = truncated->get<int64_t>();
  }
  return payload;
}

}  // namespace aitelemetry::trace
