#include "api/search_cursor.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "auth/base64url.h"
#include "core/utf8.h"

namespace aitelemetry::api {

using model::Field;
using model::FieldType;
using model::Model;
using model::Value;

namespace {

constexpr int kVersion = 1;
// The sentinels store::SortExpr maps nulls to.
constexpr double kNullReal = -1e308;
constexpr int64_t kNullInt = -9223372036854775807;

// The fields of the keyset, in the store's order: non-key sort fields, then the key.
std::vector<const Field*> KeysetFields(const Model& m, const std::vector<store::SortKey>& sort) {
  std::vector<const Field*> out;
  for (const auto& s : sort) {
    if (s.field != "key") out.push_back(m.FindField(s.field));
  }
  out.push_back(&m.fields[0]);
  return out;
}

std::string Signature(const std::vector<store::SortKey>& sort) {
  std::string sig;
  for (const auto& s : sort) {
    sig += s.field;
    sig += s.descending ? " desc," : " asc,";
  }
  return sig;
}

tl::unexpected<Error> Junk(const char* why) {
  return Fail(ErrorCode::kInvalidArgument, std::string("cursorMark: ") + why);
}

}  // namespace

std::string EncodeCursor(const Model& m, const std::vector<store::SortKey>& sort,
                         const model::Record& last) {
  nlohmann::json values = nlohmann::json::array();
  for (const Field* f : KeysetFields(m, sort)) {
    const Value& v = last.values[static_cast<size_t>(m.FieldIndex(f->name))];
    switch (f->type) {
      case FieldType::kString: {
        std::string text = model::IsNull(v) ? std::string() : std::get<std::string>(v);
        // Text that is not UTF-8 (stored before collection repaired it) cannot be a JSON string:
        // it travels as {"b": base64url of its bytes}, so the keyset position stays exact.
        if (IsValidUtf8(text)) {
          values.push_back(std::move(text));
        } else {
          values.push_back({{"b", auth::Base64UrlEncode(text)}});
        }
        break;
      }
      case FieldType::kReal: {
        double d = kNullReal;
        if (!model::AsDouble(v, &d)) d = kNullReal;
        values.push_back(d);
        break;
      }
      default: {
        int64_t i = kNullInt;
        if (auto* p = std::get_if<int64_t>(&v)) i = *p;
        if (auto* b = std::get_if<bool>(&v)) i = *b ? 1 : 0;
        values.push_back(i);
        break;
      }
    }
  }
  nlohmann::json doc = {{"v", kVersion}, {"s", Signature(sort)}, {"a", std::move(values)}};
  return auth::Base64UrlEncode(doc.dump());
}

Result<std::vector<Value>> DecodeCursor(const Model& m, const std::vector<store::SortKey>& sort,
                                        std::string_view mark) {
  if (mark.size() > 4096) return Junk("too long");
  auto raw = auth::Base64UrlDecode(mark);
  if (!raw) return Junk("not a cursor mark from this API");
  auto doc = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.size() != 3 || !doc.contains("v") || !doc.contains("s") ||
      !doc.contains("a")) {
    return Junk("not a cursor mark from this API");
  }
  if (!doc["v"].is_number_integer() || doc["v"].get<int64_t>() != kVersion) {
    return Junk("made by another version");
  }
  if (!doc["s"].is_string() || doc["s"].get<std::string>() != Signature(sort)) {
    return Junk("made for another sort");
  }
  const auto& a = doc["a"];
  auto fields = KeysetFields(m, sort);
  if (!a.is_array() || a.size() != fields.size()) return Junk("does not match the sort");
  std::vector<Value> out;
  out.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& j = a[i];
    switch (fields[i]->type) {
      case FieldType::kString: {
        std::string text;
        if (j.is_string()) {
          text = j.get<std::string>();
        } else if (j.is_object() && j.size() == 1 && j.contains("b") && j["b"].is_string()) {
          auto bytes = auth::Base64UrlDecode(j["b"].get<std::string>());
          if (!bytes) return Junk("a value has the wrong type");
          text = std::move(*bytes);
        } else {
          return Junk("a value has the wrong type");
        }
        if (text.find('\0') != std::string::npos) return Junk("a value has a NUL byte");
        out.emplace_back(std::move(text));
        break;
      }
      case FieldType::kReal: {
        if (!j.is_number()) return Junk("a value has the wrong type");
        double d = j.get<double>();
        if (!std::isfinite(d)) return Junk("a value has the wrong type");
        out.emplace_back(d);
        break;
      }
      default:
        if (!j.is_number_integer() ||
            (j.is_number_unsigned() &&
             j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
          return Junk("a value has the wrong type");
        }
        out.emplace_back(j.get<int64_t>());
        break;
    }
  }
  return out;
}

}  // namespace aitelemetry::api
