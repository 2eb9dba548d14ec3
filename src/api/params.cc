#include "api/params.h"

#include <charconv>
#include <set>

#include <fmt/format.h>

#include "api/search_cursor.h"
#include "core/utf8.h"
#include "http/message.h"
#include "model/record.h"

namespace aitelemetry::api {

using model::Field;
using model::Model;
using model::Value;
using store::Filter;

namespace {

// Quotes caller text for an error message: at most 64 bytes, so a 64 KB value is not echoed.
std::string Echo(std::string_view text) {
  if (text.size() <= 64) return std::string(text);
  return std::string(text.substr(0, 64)) + "...";
}

tl::unexpected<Error> Bad(std::string_view fq, std::string_view why) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("fq \"{}\": {}", Echo(fq), why));
}

// A cursor over one fq value.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool Done() const { return i_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[i_]; }
  void Skip() { ++i_; }
  void SkipSpaces() {
    while (!Done() && s_[i_] == ' ') ++i_;
  }
  bool Consume(std::string_view word) {
    if (s_.substr(i_).starts_with(word)) {
      i_ += word.size();
      return true;
    }
    return false;
  }
  std::string_view Rest() const { return s_.substr(i_); }

  // Reads a quoted ("...", with \" and \\ escapes) or bare term. A bare term ends at a space or
  // at one of `stops`; backslash escapes the next character. Sets *wildcard for a bare "*".
  Result<std::string> Term(std::string_view stops, bool* wildcard) {
    std::string out;
    *wildcard = false;
    if (Peek() == '"') {
      Skip();
      for (;;) {
        if (Done()) return Fail(ErrorCode::kInvalidArgument, "unterminated quoted value");
        char c = s_[i_++];
        if (c == '"') return out;
        if (c == '\\') {
          if (Done()) return Fail(ErrorCode::kInvalidArgument, "dangling backslash");
          c = s_[i_++];
        }
        out += c;
      }
    }
    bool escaped_any = false;
    while (!Done()) {
      char c = s_[i_];
      if (c == ' ' || stops.find(c) != std::string_view::npos) break;
      ++i_;
      if (c == '\\') {
        if (Done()) return Fail(ErrorCode::kInvalidArgument, "dangling backslash");
        c = s_[i_++];
        escaped_any = true;
      } else if (c == '"') {
        return Fail(ErrorCode::kInvalidArgument, "stray quote in a value");
      }
      out += c;
    }
    if (out.empty()) return Fail(ErrorCode::kInvalidArgument, "missing value");
    *wildcard = out == "*" && !escaped_any;
    return out;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Result<Value> Typed(const Field& f, const std::string& text) {
  auto v = model::ValueFromText(f, text);
  if (!v) return Fail(v.error());
  return v;
}

bool IsFieldChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

Result<int64_t> NonNegative(std::string_view name, std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || text[0] == '+' ||
      text[0] == '-') {
    if (!text.empty() && text[0] == '-' && ec == std::errc() && p == text.data() + text.size()) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: must not be negative", name));
    }
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: \"{}\" is not a whole number", name, Echo(text)));
  }
  return v;
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    auto c = s.find(',');
    std::string_view part = s.substr(0, c);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.push_back(part);
    if (c == std::string_view::npos) break;
    s = s.substr(c + 1);
  }
  return out;
}

}  // namespace

bool IsValidUtf8(std::string_view s) { return aitelemetry::IsValidUtf8(s); }

Result<Filter> ParseFilterQuery(const Model& m, std::string_view fq) {
  Filter f;
  std::string_view rest = fq;
  if (rest.starts_with('-')) {
    f.negate = true;
    rest.remove_prefix(1);
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return Bad(fq, "expected field:value");
  std::string_view name = rest.substr(0, colon);
  if (name.empty()) return Bad(fq, "missing field name");
  for (char c : name) {
    if (!IsFieldChar(c)) return Bad(fq, "a field name is lower case letters, digits and _");
  }
  const Field* field = m.FindField(name);
  if (field == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("fq: unknown field \"{}\" of {}", Echo(name), m.name));
  }
  if (!field->Has(model::kFilterable) && !field->Has(model::kFacetable)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("fq: field \"{}\" of {} is not filterable", name, m.name));
  }
  f.field = std::string(name);
  Scanner s(rest.substr(colon + 1));
  bool wildcard = false;
  char open = s.Peek();
  if (open == '[' || open == '{') {
    s.Skip();
    s.SkipSpaces();
    auto lower = s.Term("]}", &wildcard);
    if (!lower) return Bad(fq, lower.error().message);
    bool lower_open = wildcard;
    s.SkipSpaces();
    if (!s.Consume("TO")) return Bad(fq, "a range is [a TO b]");
    if (s.Peek() != ' ') return Bad(fq, "a range is [a TO b]");
    s.SkipSpaces();
    auto upper = s.Term("]}", &wildcard);
    if (!upper) return Bad(fq, upper.error().message);
    bool upper_open = wildcard;
    s.SkipSpaces();
    char close = s.Peek();
    if (close != ']' && close != '}') return Bad(fq, "a range ends with ] or }");
    s.Skip();
    if (!s.Done()) return Bad(fq, "unexpected text after the range");
    f.kind = Filter::Kind::kRange;
    f.lower_inclusive = open == '[';
    f.upper_inclusive = close == ']';
    if (!lower_open) {
      auto v = Typed(*field, *lower);
      if (!v) return Bad(fq, v.error().message);
      f.lower = std::move(*v);
    }
    if (!upper_open) {
      auto v = Typed(*field, *upper);
      if (!v) return Bad(fq, v.error().message);
      f.upper = std::move(*v);
    }
    return f;
  }
  if (open == '(') {
    s.Skip();
    f.kind = Filter::Kind::kAnyOf;
    for (;;) {
      s.SkipSpaces();
      auto term = s.Term(")", &wildcard);
      if (!term) return Bad(fq, term.error().message);
      if (wildcard) return Bad(fq, "* is not allowed inside ( )");
      auto v = Typed(*field, *term);
      if (!v) return Bad(fq, v.error().message);
      f.values.push_back(std::move(*v));
      if (f.values.size() > kMaxTerms) {
        return Bad(fq, fmt::format("more than {} values", kMaxTerms));
      }
      s.SkipSpaces();
      if (s.Peek() == ')') {
        s.Skip();
        break;
      }
      if (!s.Consume("OR ")) return Bad(fq, "values in ( ) are separated by OR");
    }
    if (!s.Done()) return Bad(fq, "unexpected text after )");
    return f;
  }
  auto term = s.Term("", &wildcard);
  if (!term) return Bad(fq, term.error().message);
  if (!s.Done()) return Bad(fq, "unexpected text after the value (quote values with spaces)");
  if (wildcard) {
    f.kind = Filter::Kind::kNotNull;
    return f;
  }
  auto v = Typed(*field, *term);
  if (!v) return Bad(fq, v.error().message);
  f.kind = Filter::Kind::kAnyOf;
  f.values.push_back(std::move(*v));
  return f;
}

Status ParseSort(const Model& m, std::string_view text, std::vector<store::SortKey>& out) {
  for (std::string_view item : SplitComma(text)) {
    if (item.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("sort: empty item in \"{}\"", Echo(text)));
    }
    auto space = item.find(' ');
    std::string_view name = item.substr(0, space);
    std::string_view dir = space == std::string_view::npos ? "asc" : item.substr(space + 1);
    while (!dir.empty() && dir.front() == ' ') dir.remove_prefix(1);
    const Field* f = m.FindField(name);
    if (f == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("sort: unknown field \"{}\" of {}", Echo(name), m.name));
    }
    if (!f->Has(model::kSortable) && f->name != "key") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("sort: field \"{}\" of {} is not sortable", name, m.name));
    }
    if (dir != "asc" && dir != "desc") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("sort: direction \"{}\" is not asc or desc", Echo(dir)));
    }
    for (const auto& k : out) {
      if (k.field == name) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("sort: \"{}\" given twice", name));
      }
    }
    out.push_back({std::string(name), dir == "desc"});
    if (out.size() > kMaxSortKeys) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("sort: at most {} keys", kMaxSortKeys));
    }
  }
  return Ok();
}

Result<std::optional<std::string>> SingleParam(const QueryPairs& query, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : query) {
    if (k != name) continue;
    if (out) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: given more than once", name));
    }
    out = v;
  }
  return out;
}

Status CheckParams(const QueryPairs& query, const std::vector<std::string_view>& allowed) {
  for (const auto& [k, v] : query) {
    if (!IsValidUtf8(k)) {
      return Fail(ErrorCode::kInvalidArgument, "a parameter name is not UTF-8");
    }
    bool known = false;
    for (auto a : allowed) known = known || a == k;
    if (!known) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown parameter \"{}\"", Echo(k)));
    }
    if (v.size() > kMaxValueBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: longer than {} bytes", k, kMaxValueBytes));
    }
    if (!IsValidUtf8(v)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: not valid UTF-8", k));
    }
  }
  return Ok();
}

Result<Format> ParseFormat(const QueryPairs& query, std::string_view accept) {
  auto format = SingleParam(query, "format");
  if (!format) return Fail(format.error());
  auto wt = SingleParam(query, "wt");
  if (!wt) return Fail(wt.error());
  for (const auto* p : {&*format, &*wt}) {
    if (!p->has_value()) continue;
    if (**p == "csv") return Format::kCsv;
    if (**p == "json") return Format::kJson;
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("format: \"{}\" is not json or csv", Echo(**p)));
  }
  if (accept.find("text/csv") != std::string_view::npos &&
      accept.find("application/json") == std::string_view::npos) {
    return Format::kCsv;
  }
  return Format::kJson;
}

Result<SearchParams> ParseSearchParams(const Model& m, const QueryPairs& query,
                                       std::string_view accept) {
  static const std::vector<std::string_view> kAllowed = {
      "q",           "fq",          "sort",        "start", "rows",       "fl",     "facet",
      "facet.field", "facet.limit", "stats.field", "stats", "cursorMark", "format", "wt"};
  if (auto st = CheckParams(query, kAllowed); !st) return Fail(st.error());
  SearchParams out;
  store::QuerySpec& spec = out.spec;
  spec.rows = kDefaultRows;
  for (const char* name : {"facet", "stats"}) {
    // Solr's switches; facets and stats are on whenever fields are named, so only check them.
    auto v = SingleParam(query, name);
    if (!v) return Fail(v.error());
    if (*v && **v != "true" && **v != "false" && **v != "on" && **v != "off") {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: expected true or false", name));
    }
  }
  auto q = SingleParam(query, "q");
  if (!q) return Fail(q.error());
  if (*q && **q != "*:*" && **q != "*") spec.text = **q;
  auto start = SingleParam(query, "start");
  if (!start) return Fail(start.error());
  if (*start) {
    auto v = NonNegative("start", **start);
    if (!v) return Fail(v.error());
    spec.start = *v;
  }
  auto rows = SingleParam(query, "rows");
  if (!rows) return Fail(rows.error());
  if (*rows) {
    auto v = NonNegative("rows", **rows);
    if (!v) return Fail(v.error());
    if (*v > kMaxRows) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("rows: at most {}", kMaxRows));
    }
    spec.rows = *v;
  }
  auto fl = SingleParam(query, "fl");
  if (!fl) return Fail(fl.error());
  if (*fl && !(*fl)->empty() && **fl != "*") {
    std::set<std::string> seen;
    for (auto name : SplitComma(**fl)) {
      if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "fl: empty field name");
      if (m.FindField(name) == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("fl: unknown field \"{}\" of {}", Echo(name), m.name));
      }
      if (seen.insert(std::string(name)).second) spec.fields.emplace_back(name);
    }
  }
  auto fqs = [&]() {
    std::vector<std::string> v;
    for (const auto& [k, val] : query)
      if (k == "fq") v.push_back(val);
    return v;
  }();
  if (fqs.size() > kMaxFilters) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("fq: at most {} filters", kMaxFilters));
  }
  for (const auto& fq : fqs) {
    auto f = ParseFilterQuery(m, fq);
    if (!f) return Fail(f.error());
    spec.filters.push_back(std::move(*f));
  }
  for (const auto& [k, v] : query) {
    if (k != "sort") continue;
    if (auto st = ParseSort(m, v, spec.sort); !st) return Fail(st.error());
  }
  auto named_fields = [&](const char* param, model::FieldFlag need, const char* what,
                          std::vector<std::string>& dest) -> Status {
    for (const auto& [k, v] : query) {
      if (k != param) continue;
      const Field* f = m.FindField(v);
      if (f == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown field \"{}\" of {}", param, Echo(v), m.name));
      }
      if (!f->Has(need)) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: field \"{}\" of {} is not {}", param, v, m.name, what));
      }
      bool dup = false;
      for (const auto& d : dest) dup = dup || d == v;
      if (!dup) dest.push_back(v);
      if (dest.size() > kMaxFacets) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: at most {} fields", param, kMaxFacets));
      }
    }
    return Ok();
  };
  if (auto st = named_fields("facet.field", model::kFacetable, "facetable", spec.facets); !st) {
    return Fail(st.error());
  }
  if (auto st = named_fields("stats.field", model::kStat, "numeric", spec.stats); !st) {
    return Fail(st.error());
  }
  auto limit = SingleParam(query, "facet.limit");
  if (!limit) return Fail(limit.error());
  if (*limit) {
    auto v = NonNegative("facet.limit", **limit);
    if (!v) return Fail(v.error());
    if (*v < 1 || *v > kMaxFacetLimit) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("facet.limit: between 1 and {}", kMaxFacetLimit));
    }
    spec.facet_limit = static_cast<int>(*v);
  }
  auto cursor = SingleParam(query, "cursorMark");
  if (!cursor) return Fail(cursor.error());
  if (*cursor) {
    if (spec.start != 0) {
      return Fail(ErrorCode::kInvalidArgument, "cursorMark: cannot be combined with start");
    }
    out.cursor_mark = **cursor;
    if (out.cursor_mark.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "cursorMark: empty (use * to start)");
    }
    if (out.cursor_mark != "*") {
      auto after = DecodeCursor(m, spec.sort, out.cursor_mark);
      if (!after) return Fail(after.error());
      spec.after = std::move(*after);
    }
  }
  auto format = ParseFormat(query, accept);
  if (!format) return Fail(format.error());
  out.format = *format;
  if (auto st = store::ValidateQuery(m, spec); !st) return Fail(st.error());
  return out;
}

std::optional<std::string> PathTail(std::string_view target, size_t segments) {
  std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with('/')) return std::nullopt;
  size_t pos = 1;
  for (size_t i = 0; i < segments; ++i) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos || slash == pos) return std::nullopt;
    pos = slash + 1;
  }
  if (pos >= path.size()) return std::nullopt;
  auto decoded = http::PercentDecode(path.substr(pos));
  if (!decoded || decoded->empty()) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace aitelemetry::api
