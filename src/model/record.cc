#include "model/record.h"

#include <cassert>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/time.h"

namespace aitelemetry::model {
namespace {

const Value kNull{};
const std::string kEmpty;

tl::unexpected<Error> Mismatch(const Field& field, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("{}: expected {}, got {}", field.name, FieldTypeName(field.type), what));
}

}  // namespace

void Record::Set(std::string_view field, Value v) {
  int i = model->FieldIndex(field);
  assert(i >= 0 && "unknown field");
  if (i < 0) return;
  if (auto* d = std::get_if<double>(&v); d != nullptr && !std::isfinite(*d)) v = std::monostate{};
  values[i] = std::move(v);
}

const Value& Record::Get(std::string_view field) const {
  int i = model->FieldIndex(field);
  return i < 0 ? kNull : values[i];
}

std::string Record::GetString(std::string_view field) const {
  const Value& v = Get(field);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

const std::string& Record::Key() const {
  if (auto* s = std::get_if<std::string>(&values[0])) return *s;
  return kEmpty;
}

static nlohmann::json FieldJson(const Field& f, const Value& v) {
  if (IsNull(v)) return nullptr;
  if (f.type == FieldType::kTime) {
    if (auto* i = std::get_if<int64_t>(&v)) return FormatRfc3339(Timestamp{Nanos{*i}});
  }
  if (f.type == FieldType::kBool) {
    if (auto* b = std::get_if<bool>(&v)) return *b;
    if (auto* i = std::get_if<int64_t>(&v)) return *i != 0;
  }
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(x)) return nullptr;
          return x;
        } else {
          return x;
        }
      },
      v);
}

nlohmann::json ToJson(const Record& record, const std::vector<std::string>& only) {
  nlohmann::json out = nlohmann::json::object();
  const auto& fields = record.model->fields;
  if (only.empty()) {
    for (size_t i = 0; i < fields.size(); ++i)
      out[fields[i].name] = FieldJson(fields[i], record.values[i]);
  } else {
    for (const auto& name : only) {
      int i = record.model->FieldIndex(name);
      if (i >= 0) out[name] = FieldJson(fields[i], record.values[i]);
    }
  }
  return out;
}

Result<Value> ValueFromJson(const Field& field, const nlohmann::json& j) {
  if (j.is_null()) return Value{};
  switch (field.type) {
    case FieldType::kString:
      if (!j.is_string()) return Mismatch(field, j.type_name());
      return Value{j.get<std::string>()};
    case FieldType::kInt:
      if (j.is_number_integer()) return Value{j.get<int64_t>()};
      return Mismatch(field, j.type_name());
    case FieldType::kReal:
      if (j.is_number()) return Value{j.get<double>()};
      return Mismatch(field, j.type_name());
    case FieldType::kBool:
      if (!j.is_boolean()) return Mismatch(field, j.type_name());
      return Value{j.get<bool>()};
    case FieldType::kTime: {
      if (!j.is_string()) return Mismatch(field, j.type_name());
      auto t = ParseRfc3339(j.get<std::string>());
      if (!t)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: {}", field.name, t.error().message));
      return Value{ToUnixNanos(*t)};
    }
  }
  return Mismatch(field, "value");
}

Result<Value> ValueFromText(const Field& field, std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: \"{}\" is not a valid {}", field.name, text.substr(0, 64),
                            FieldTypeName(field.type)));
  };
  switch (field.type) {
    case FieldType::kString:
      return Value{std::string(text)};
    case FieldType::kInt: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return bad();
      return Value{v};
    }
    case FieldType::kReal: {
      double v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty() || !std::isfinite(v))
        return bad();
      return Value{v};
    }
    case FieldType::kBool:
      if (text == "true" || text == "1") return Value{true};
      if (text == "false" || text == "0") return Value{false};
      return bad();
    case FieldType::kTime: {
      auto t = ParseRfc3339(text);
      if (!t) return bad();
      return Value{ToUnixNanos(*t)};
    }
  }
  return bad();
}

std::string ValueToText(const Field& field, const Value& value) {
  if (IsNull(value)) return {};
  if (field.type == FieldType::kTime) {
    if (auto* i = std::get_if<int64_t>(&value)) return FormatRfc3339(Timestamp{Nanos{*i}});
  }
  if (field.type == FieldType::kBool) {
    if (auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
    if (auto* i = std::get_if<int64_t>(&value)) return *i ? "true" : "false";
  }
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{}", x);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

}  // namespace aitelemetry::model
