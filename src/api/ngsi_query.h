// The NGSI-LD query language (ETSI GS CIM 009, clause 4.9) subset this server answers, translated
// into store filters. Only conjunctions are supported, because the store ANDs its filters.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/registry.h"
#include "store/query.h"

namespace aitelemetry::api {

// The longest `q` accepted, in bytes.
inline constexpr size_t kMaxNgsiQueryBytes = 4096;

// Returns the field of `m` whose NGSI-LD attribute name (Field::NgsiName) or full vocabulary IRI
// is `attribute`, or nullptr. Never returns the key field (the entity id stands for it).
const model::Field* FindNgsiAttribute(const model::Model& m, std::string_view attribute);

// Parses `q` against model `m` into filters that must all hold.
//
// Supported: terms joined by ';' (AND); a bare attribute (it exists: not null); `attr==value`,
// `attr!=value`, `attr>value`, `attr>=value`, `attr<value`, `attr<=value`; for == and != a
// comma list (`a==1,2,3`) or a range (`a==1..5`). Values: "quoted strings" (escapes:
// backslash-quote and backslash-backslash), numbers, true/false, RFC 3339 date-times, and for
// relationship attributes the target's URN (`isPartOf==urn:ngsi-ld:Node:KEY`). Unquoted text is
// accepted for string attributes.
//
// Returns kInvalidArgument (for the NGSI-LD BadRequestData error) for a malformed query, an
// unknown or non-filterable attribute, a value of the wrong type, and for what is not supported:
// '|' (OR), parentheses, pattern operators (~=, !~=) and compound paths (a.b, a[b]).
[[nodiscard]] Result<std::vector<store::Filter>> ParseNgsiQuery(const model::Model& m,
                                                                std::string_view q);

}  // namespace aitelemetry::api
