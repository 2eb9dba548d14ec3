// NGSI-LD (ETSI GS CIM 009) representation of registry models: entity ids, Properties and
// Relationships, the served @context, content negotiation and the NGSI-LD error bodies. Plain
// functions: the handlers in ngsi_routes.h only wire them to the store.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "http/message.h"
#include "model/record.h"

namespace aitelemetry::api {

// The project vocabulary every type and attribute name expands under.
inline constexpr std::string_view kNgsiVocabBase = "https://aitelemetry.example/ns#";
// The NGSI-LD core context the served context refers to (listed last, as the spec requires).
inline constexpr std::string_view kNgsiCoreContextUrl =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
inline constexpr std::string_view kNgsiContextPath = "/ngsi-ld/v1/context.jsonld";
inline constexpr std::string_view kNgsiErrorBase = "https://uri.etsi.org/ngsi-ld/errors/";

// Returns true for names the core context defines (id, type, value, object, observedAt,
// unitCode, createdAt, ...). A registry field with such an NGSI name is not an attribute: a field
// named observedAt supplies the observedAt of the entity's measurements instead.
bool IsNgsiCoreTerm(std::string_view name);

// Returns true when `field` of `m` appears as an NGSI-LD attribute (not the key, not a core term).
bool IsNgsiAttribute(const model::Model& m, const model::Field& field);

// Returns the field whose value is the observation time of `m`'s measurements, or nullptr.
const model::Field* NgsiObservedAtField(const model::Model& m);

// Returns "urn:ngsi-ld:{Type}:{key}", percent-encoding key bytes outside the URN set (and '/').
std::string NgsiEntityId(const model::Model& m, std::string_view key);

// Splits an entity id into its served model and its key. Errors: kInvalidArgument when `id` is
// not of the form urn:ngsi-ld:{Type}:{key} or its escapes are malformed; kNotFound when the type
// is unknown or internal.
struct ParsedEntityId {
  const model::Model* model = nullptr;
  std::string key;
};
[[nodiscard]] Result<ParsedEntityId> ParseNgsiEntityId(std::string_view id);

// Returns the served non-internal model whose NGSI-LD type is `type` (short name or full IRI
// under the vocabulary), or nullptr.
const model::Model* FindNgsiType(std::string_view type);

// The @context document served at kNgsiContextPath: every type and attribute term of the
// registry mapped under kNgsiVocabBase, then the core context.
nlohmann::json NgsiContextDocument();

struct NgsiEntityOptions {
  std::vector<const model::Field*> attrs;  // only these attributes; empty: all
  bool key_values = false;                 // the simplified representation (attr: value)
};

// Converts `record` to an NGSI-LD entity. Null values are left out (NGSI-LD has no null
// Property). Fields with a relation become Relationships to urn:ngsi-ld:{TargetType}:{value};
// numeric measurements carry unitCode and observedAt (from NgsiObservedAtField).
nlohmann::json ToNgsiEntity(const model::Record& record, const NgsiEntityOptions& options = {});

// Parses a comma list of attribute names for `m`. Errors: kInvalidArgument naming an unknown one.
[[nodiscard]] Result<std::vector<const model::Field*>> ParseNgsiAttrs(const model::Model& m,
                                                                      std::string_view attrs);

// The representation an Accept header asks for.
enum class NgsiMediaType { kJson, kJsonLd };
// Chooses by q-value among application/json, application/ld+json, application/*, */* (an
// absent or empty header means application/json). Errors: kInvalidArgument when none of these is
// acceptable (the NotAcceptable error).
[[nodiscard]] Result<NgsiMediaType> NegotiateNgsi(std::string_view accept);

// An NGSI-LD error body {"type": kNgsiErrorBase + type, "title", "status", "detail"}.
http::Response NgsiError(int status, std::string_view type, std::string_view detail);
// The NGSI-LD error for a domain error: kInvalidArgument -> 400 BadRequestData, kNotFound -> 404
// ResourceNotFound, 5xx -> InternalError (details stay in the log), and so on.
http::Response NgsiErrorFor(const Error& error);

}  // namespace aitelemetry::api
