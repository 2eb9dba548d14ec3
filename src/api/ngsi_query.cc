#include "api/ngsi_query.h"

#include <string>

#include <fmt/format.h>

#include "api/ngsi.h"
#include "model/record.h"

namespace aitelemetry::api {
namespace {

using model::Field;
using model::FieldType;
using model::Value;
using store::Filter;

tl::unexpected<Error> Bad(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, "q: " + std::move(message));
}

// Splits `s` at `sep` outside double-quoted strings. Returns false when a quote is unterminated.
bool SplitOutsideQuotes(std::string_view s, std::string_view sep,
                        std::vector<std::string_view>* out) {
  bool quoted = false;
  size_t begin = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (s.substr(i, sep.size()) == sep) {
      out->push_back(s.substr(begin, i - begin));
      i += sep.size() - 1;
      begin = i + 1;
    }
  }
  if (quoted) return false;
  out->push_back(s.substr(begin));
  return true;
}

// Unquotes a "..." token. Returns false when it is not exactly one well-formed quoted string.
bool Unquote(std::string_view token, std::string* out) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  out->clear();
  for (size_t i = 1; i + 1 < token.size(); ++i) {
    char c = token[i];
    if (c == '"') return false;  // an unescaped quote inside
    if (c == '\\') {
      if (i + 2 >= token.size()) return false;
      char next = token[++i];
      if (next != '"' && next != '\\') return false;
      c = next;
    }
    out->push_back(c);
  }
  return true;
}

Result<Value> ParseValue(const Field& field, std::string_view token) {
  if (token.empty()) return Bad(fmt::format("empty value for {}", field.NgsiName()));
  std::string text;
  bool quoted = token.front() == '"';
  if (quoted) {
    if (!Unquote(token, &text)) return Bad("malformed quoted string");
  } else {
    text = std::string(token);
    if (text.find('"') != std::string::npos) return Bad("stray quote in a value");
  }
  if (!field.relation.empty() && text.starts_with("urn:ngsi-ld:")) {
    auto id = ParseNgsiEntityId(text);
    if (!id || id->model->name != field.relation) {
      return Bad(fmt::format("{} must name a {} entity", field.NgsiName(),
                             model::FindModel(field.relation)
                                 ? model::FindModel(field.relation)->type_name
                                 : field.relation));
    }
    return Value{id->key};
  }
  if (quoted && field.type != FieldType::kString && field.type != FieldType::kTime) {
    return Bad(fmt::format("{} is a {}, not a string", field.NgsiName(),
                           model::FieldTypeName(field.type)));
  }
  auto v = model::ValueFromText(field, text);
  if (!v) return Bad(v.error().message);
  if (field.type == FieldType::kBool && text != "true" && text != "false") {
    return Bad(fmt::format("{}: use true or false", field.NgsiName()));
  }
  return v;
}

Result<Filter> ParseTerm(const model::Model& m, std::string_view term) {
  if (term.empty()) return Bad("empty term");
  size_t op_at = term.find_first_of("=!<>~");
  std::string_view attribute = term.substr(0, op_at);
  if (attribute.empty()) return Bad(fmt::format("term \"{}\" has no attribute", term));
  bool iri = attribute.starts_with("http://") || attribute.starts_with("https://");
  if (!iri && attribute.find_first_of(".[]") != std::string_view::npos) {
    return Bad(fmt::format("compound attribute paths such as \"{}\" are not supported", attribute));
  }
  for (char c : attribute) {
    if (c == ' ' || c == '"' || c == '\'' || static_cast<unsigned char>(c) < 0x20) {
      return Bad(fmt::format("bad character in attribute \"{}\"", attribute));
    }
  }
  const Field* field = FindNgsiAttribute(m, attribute);
  if (!field) {
    return Bad(fmt::format("{} has no attribute \"{}\"", m.type_name, attribute.substr(0, 64)));
  }
  if (!field->Has(model::kFilterable) && !field->Has(model::kFacetable)) {
    return Bad(fmt::format("{} cannot be queried", field->NgsiName()));
  }
  Filter f;
  f.field = field->name;
  if (op_at == std::string_view::npos) {
    f.kind = Filter::Kind::kNotNull;
    return f;
  }
  std::string_view rest = term.substr(op_at);
  std::string_view op;
  for (std::string_view candidate : {"!~=", "==", "!=", ">=", "<=", "~=", ">", "<"}) {
    if (rest.starts_with(candidate)) {
      op = candidate;
      break;
    }
  }
  if (op.empty()) return Bad(fmt::format("unknown operator in \"{}\"", term.substr(0, 64)));
  if (op == "~=" || op == "!~=") return Bad("pattern operators (~=, !~=) are not supported");
  std::string_view value = rest.substr(op.size());
  if (op == "==" || op == "!=") {
    f.negate = op == "!=";
    std::vector<std::string_view> range;
    SplitOutsideQuotes(value, "..", &range);
    if (range.size() == 2) {
      auto lower = ParseValue(*field, range[0]);
      if (!lower) return Fail(lower.error());
      auto upper = ParseValue(*field, range[1]);
      if (!upper) return Fail(upper.error());
      f.kind = Filter::Kind::kRange;
      f.lower = *lower;
      f.upper = *upper;
      return f;
    }
    if (range.size() > 2) return Bad("a range has two ends");
    std::vector<std::string_view> list;
    SplitOutsideQuotes(value, ",", &list);
    for (auto item : list) {
      auto v = ParseValue(*field, item);
      if (!v) return Fail(v.error());
      f.values.push_back(std::move(*v));
    }
    return f;
  }
  auto v = ParseValue(*field, value);
  if (!v) return Fail(v.error());
  f.kind = Filter::Kind::kRange;
  if (op[0] == '>') {
    f.lower = std::move(*v);
    f.lower_inclusive = op == ">=";
  } else {
    f.upper = std::move(*v);
    f.upper_inclusive = op == "<=";
  }
  return f;
}

}  // namespace

const model::Field* FindNgsiAttribute(const model::Model& m, std::string_view attribute) {
  if (attribute.starts_with(kNgsiVocabBase)) attribute.remove_prefix(kNgsiVocabBase.size());
  for (const auto& f : m.fields) {
    if (IsNgsiAttribute(m, f) && f.NgsiName() == attribute) return &f;
  }
  return nullptr;
}

Result<std::vector<store::Filter>> ParseNgsiQuery(const model::Model& m, std::string_view q) {
  if (q.size() > kMaxNgsiQueryBytes) {
    return Bad(fmt::format("longer than {} bytes", kMaxNgsiQueryBytes));
  }
  std::vector<std::string_view> terms;
  if (!SplitOutsideQuotes(q, ";", &terms)) return Bad("unterminated quoted string");
  std::vector<store::Filter> filters;
  for (auto term : terms) {
    // '|' and parentheses outside quotes would need OR in the store; say so rather than guess.
    std::vector<std::string_view> parts;
    SplitOutsideQuotes(term, "|", &parts);
    if (parts.size() > 1) return Bad("'|' (OR) is not supported; use a value list a==x,y");
    for (std::string_view paren : {"(", ")"}) {
      parts.clear();
      SplitOutsideQuotes(term, paren, &parts);
      if (parts.size() > 1) return Bad("parentheses are not supported");
    }
    auto f = ParseTerm(m, term);
    if (!f) return Fail(f.error());
    filters.push_back(std::move(*f));
  }
  return filters;
}

}  // namespace aitelemetry::api
