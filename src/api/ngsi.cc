#include "api/ngsi.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

namespace aitelemetry::api {
namespace {

using model::Field;
using model::FieldType;
using model::Model;

constexpr std::array<std::string_view, 23> kCoreTerms = {"id",
                                                         "type",
                                                         "value",
                                                         "object",
                                                         "observedAt",
                                                         "unitCode",
                                                         "createdAt",
                                                         "modifiedAt",
                                                         "deletedAt",
                                                         "datasetId",
                                                         "instanceId",
                                                         "location",
                                                         "observationSpace",
                                                         "operationSpace",
                                                         "scope",
                                                         "Property",
                                                         "Relationship",
                                                         "GeoProperty",
                                                         "LanguageProperty",
                                                         "languageMap",
                                                         "values",
                                                         "objects",
                                                         "@context"};

bool UrnSafe(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TitleFor(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsNgsiCoreTerm(std::string_view name) {
  return std::find(kCoreTerms.begin(), kCoreTerms.end(), name) != kCoreTerms.end();
}

bool IsNgsiAttribute(const Model& m, const Field& field) {
  return &field != &m.fields[0] && !IsNgsiCoreTerm(field.NgsiName());
}

const Field* NgsiObservedAtField(const Model& m) {
  for (const auto& f : m.fields) {
    if (f.type == FieldType::kTime && f.NgsiName() == "observedAt") return &f;
  }
  if (m.entity && !m.time_field.empty()) return m.FindField(m.time_field);
  return nullptr;
}

std::string NgsiEntityId(const Model& m, std::string_view key) {
  std::string id = fmt::format("urn:ngsi-ld:{}:", m.type_name);
  for (unsigned char c : key) {
    if (UrnSafe(c)) {
      id.push_back(static_cast<char>(c));
    } else {
      id += fmt::format("%{:02X}", c);
    }
  }
  return id;
}

Result<ParsedEntityId> ParseNgsiEntityId(std::string_view id) {
  constexpr std::string_view kPrefix = "urn:ngsi-ld:";
  if (!id.starts_with(kPrefix)) {
    return Fail(ErrorCode::kInvalidArgument, "entity id must start with urn:ngsi-ld:");
  }
  std::string_view rest = id.substr(kPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    return Fail(ErrorCode::kInvalidArgument, "entity id must be urn:ngsi-ld:{Type}:{key}");
  }
  const Model* m = FindNgsiType(rest.substr(0, colon));
  if (!m) return Fail(ErrorCode::kNotFound, "no such entity type");
  ParsedEntityId out;
  out.model = m;
  for (size_t i = colon + 1; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '%') {
      int hi = i + 2 < rest.size() ? HexDigit(rest[i + 1]) : -1;
      int lo = i + 2 < rest.size() ? HexDigit(rest[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        return Fail(ErrorCode::kInvalidArgument, "malformed escape in entity id");
      }
      out.key.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (UrnSafe(static_cast<unsigned char>(c))) {
      out.key.push_back(c);
    } else {
      return Fail(ErrorCode::kInvalidArgument, "entity id has a character outside a URN");
    }
  }
  return out;
}

const Model* FindNgsiType(std::string_view type) {
  if (type.starts_with(kNgsiVocabBase)) type.remove_prefix(kNgsiVocabBase.size());
  const Model* m = model::FindModelByType(type);
  return m && !m->internal ? m : nullptr;
}

nlohmann::json NgsiContextDocument() {
  nlohmann::json terms = nlohmann::json::object();
  auto iri = [](std::string_view name) { return std::string(kNgsiVocabBase) + std::string(name); };
  for (const auto& m : model::Models()) {
    if (m.internal) continue;
    terms[m.type_name] = iri(m.type_name);
    for (const auto& f : m.fields) {
      if (!IsNgsiAttribute(m, f) || terms.contains(f.NgsiName())) continue;
      if (!f.relation.empty()) {
        terms[f.NgsiName()] = {{"@id", iri(f.NgsiName())}, {"@type", "@id"}};
      } else if (f.type == FieldType::kTime) {
        terms[f.NgsiName()] = {{"@id", iri(f.NgsiName())},
                               {"@type", "https://uri.etsi.org/ngsi-ld/DateTime"}};
      } else {
        terms[f.NgsiName()] = iri(f.NgsiName());
      }
    }
  }
  return {{"@context", nlohmann::json::array({terms, std::string(kNgsiCoreContextUrl)})}};
}

nlohmann::json ToNgsiEntity(const model::Record& record, const NgsiEntityOptions& options) {
  const Model& m = *record.model;
  nlohmann::json plain = model::ToJson(record);
  nlohmann::json e = {{"id", NgsiEntityId(m, record.Key())}, {"type", m.type_name}};
  const Field* observed = NgsiObservedAtField(m);
  nlohmann::json observed_at;
  if (observed && !plain[observed->name].is_null()) observed_at = plain[observed->name];
  for (const auto& f : m.fields) {
    if (!IsNgsiAttribute(m, f)) continue;
    if (!options.attrs.empty() &&
        std::find(options.attrs.begin(), options.attrs.end(), &f) == options.attrs.end()) {
      continue;
    }
    const nlohmann::json& v = plain[f.name];
    if (v.is_null()) continue;
    const Model* target = f.relation.empty() ? nullptr : model::FindModel(f.relation);
    if (target && v.is_string()) {
      std::string object = NgsiEntityId(*target, v.get<std::string>());
      if (options.key_values) {
        e[f.NgsiName()] = object;
      } else {
        e[f.NgsiName()] = {{"type", "Relationship"}, {"object", object}};
      }
      continue;
    }
    if (options.key_values) {
      e[f.NgsiName()] = v;
      continue;
    }
    nlohmann::json p = {{"type", "Property"}, {"value", v}};
    if (!f.unit_code.empty()) p["unitCode"] = f.unit_code;
    if (f.Has(model::kStat) && !observed_at.is_null()) p["observedAt"] = observed_at;
    e[f.NgsiName()] = std::move(p);
  }
  return e;
}

Result<std::vector<const Field*>> ParseNgsiAttrs(const Model& m, std::string_view attrs) {
  std::vector<const Field*> out;
  size_t begin = 0;
  while (begin <= attrs.size()) {
    size_t comma = attrs.find(',', begin);
    if (comma == std::string_view::npos) comma = attrs.size();
    std::string_view name = Trim(attrs.substr(begin, comma - begin));
    if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "attrs: empty attribute name");
    const Field* f = nullptr;
    std::string_view bare = name;
    if (bare.starts_with(kNgsiVocabBase)) bare.remove_prefix(kNgsiVocabBase.size());
    for (const auto& candidate : m.fields) {
      if (IsNgsiAttribute(m, candidate) && candidate.NgsiName() == bare) f = &candidate;
    }
    if (!f) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("attrs: {} has no attribute \"{}\"",
                                                           m.type_name, name.substr(0, 64)));
    }
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    begin = comma + 1;
  }
  return out;
}

Result<NgsiMediaType> NegotiateNgsi(std::string_view accept) {
  if (Trim(accept).empty()) return NgsiMediaType::kJson;
  double best_q = 0;
  std::optional<NgsiMediaType> best;
  size_t begin = 0;
  while (begin <= accept.size()) {
    size_t comma = accept.find(',', begin);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view item = accept.substr(begin, comma - begin);
    begin = comma + 1;
    size_t semi = item.find(';');
    std::string range(Trim(item.substr(0, semi)));
    std::transform(range.begin(), range.end(), range.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    double q = 1;
    while (semi != std::string_view::npos) {
      size_t next = item.find(';', semi + 1);
      std::string_view param = Trim(item.substr(semi + 1, next - semi - 1));
      if (param.starts_with("q=") || param.starts_with("Q=")) {
        std::string text(param.substr(2));
        char* end = nullptr;
        q = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !(q >= 0 && q <= 1)) q = 0;
      }
      semi = next;
    }
    std::optional<NgsiMediaType> type;
    if (range == "application/ld+json") {
      type = NgsiMediaType::kJsonLd;
    } else if (range == "application/json" || range == "application/*" || range == "*/*") {
      type = NgsiMediaType::kJson;
    }
    if (type && q > best_q) {
      best_q = q;
      best = type;
    }
  }
  if (!best) {
    return Fail(ErrorCode::kInvalidArgument,
                "only application/json and application/ld+json are served");
  }
  return *best;
}

http::Response NgsiError(int status, std::string_view type, std::string_view detail) {
  nlohmann::json body = {{"type", std::string(kNgsiErrorBase) + std::string(type)},
                         {"title", TitleFor(status)},
                         {"status", status},
                         {"detail", detail}};
  return http::JsonResponse(status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response NgsiErrorFor(const Error& error) {
  int status = http::StatusFor(error.code);
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return NgsiError(status, "BadRequestData", error.message);
    case ErrorCode::kNotFound:
      return NgsiError(status, "ResourceNotFound", error.message);
    case ErrorCode::kAlreadyExists:
      return NgsiError(status, "AlreadyExists", error.message);
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
      return NgsiError(status, "NoPermission", error.message);
    case ErrorCode::kPayloadTooLarge:
      return NgsiError(status, "InvalidRequest", error.message);
    case ErrorCode::kFailedPrecondition:
      return NgsiError(status, "OperationNotSupported", error.message);
    default:
      break;
  }
  // Internal details stay in the log, as in http::ProblemFor.
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kDeadlineExceeded) {
    return NgsiError(status, "InternalError", error.message);
  }
  return NgsiError(status, "InternalError", "internal error");
}

}  // namespace aitelemetry::api
