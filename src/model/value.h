// Field values: the few types a model field can hold, with null meaning "unknown" (never zero).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace aitelemetry::model {

enum class FieldType {
  kString,  // UTF-8 text
  kInt,     // 64-bit signed integer
  kReal,    // double; NaN and infinities are stored as null
  kBool,    // stored as 0/1
  kTime,    // instant, nanoseconds since the Unix epoch (UTC); JSON as RFC 3339
};

// monostate is null ("unknown"). A kTime field holds its nanoseconds as int64_t.
using Value = std::variant<std::monostate, int64_t, double, std::string, bool>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// Returns the value as a double when it is numeric (int, real, bool), else nothing.
bool AsDouble(const Value& v, double* out);

// Returns a short name of the type, for error messages and OpenAPI ("string", "integer", ...).
const char* FieldTypeName(FieldType type);

}  // namespace aitelemetry::model
