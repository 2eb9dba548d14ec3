// A row of any model: one Value per registry field, plus its JSON form.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "model/registry.h"

namespace aitelemetry::model {

struct Record {
  const Model* model = nullptr;
  std::vector<Value> values;  // values[i] belongs to model->fields[i]

  Record() = default;
  explicit Record(const Model& m) : model(&m), values(m.fields.size()) {}

  // Sets the field named `field`. Requires: the model has that field (checked: a misspelt name
  // aborts in debug builds and is ignored in release builds, and a unit test covers every name).
  void Set(std::string_view field, Value v);
  // Returns the value of `field`, or null when the model has no such field.
  const Value& Get(std::string_view field) const;
  // Returns the string value of `field`, or "" when null or not a string.
  std::string GetString(std::string_view field) const;
  const std::string& Key() const;
};

// Converts `record` to JSON: times as RFC 3339 strings, nulls as null. When `only` is non-empty,
// only those fields (the caller checked them against the registry) are written.
nlohmann::json ToJson(const Record& record, const std::vector<std::string>& only = {});

// Converts a JSON scalar to a Value of `field`'s type. Returns kInvalidArgument naming the field on
// a type mismatch (a string for an integer, a fraction for an integer, a bad time).
[[nodiscard]] Result<Value> ValueFromJson(const Field& field, const nlohmann::json& j);

// Parses text (from a query string) as a Value of `field`'s type: integers, reals, true/false,
// RFC 3339 times. Returns kInvalidArgument naming the field and the text.
[[nodiscard]] Result<Value> ValueFromText(const Field& field, std::string_view text);

// Formats a value as text (the inverse of ValueFromText, for CSV and facet keys).
std::string ValueToText(const Field& field, const Value& value);

}  // namespace aitelemetry::model
