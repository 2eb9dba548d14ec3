#include "core/redact.h"

#include <cctype>

namespace aitelemetry {
namespace {

// Returns the length of the scheme at the start of `s` when "scheme://" follows, else 0.
size_t SchemeLength(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return 0;
  size_t i = 1;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') break;
    ++i;
  }
  return s.substr(i).starts_with("://") ? i : 0;
}

bool EndsUrl(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isspace(u) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || u < 0x20;
}

// Masks every value of a query string ("a=1&b" -> "a=***&b").
std::string MaskQuery(std::string_view query) {
  std::string out;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out += part;
    } else {
      out += part.substr(0, eq + 1);
      out += "***";
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    pos = amp + 1;
  }
  return out;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t scheme = SchemeLength(url);
  if (scheme == 0) return std::string(url);
  const size_t start = scheme + 3;
  std::string out(url.substr(0, start));
  std::string_view rest = url.substr(start);
  size_t fragment = rest.find('#');
  std::string_view before_fragment = rest.substr(0, fragment);
  size_t query = before_fragment.find('?');
  std::string_view before_query = before_fragment.substr(0, query);
  // The userinfo ends at the last '@' before the query: a password with an unencoded '/' or '@'
  // is still masked whole (a path holding '@' loses a little more than it has to).
  size_t at = before_query.rfind('@');
  if (at != std::string_view::npos) {
    out += "***";
    out += before_query.substr(at);
  } else {
    out += before_query;
  }
  if (query != std::string_view::npos) {
    out += '?';
    out += MaskQuery(before_fragment.substr(query + 1));
  }
  if (fragment != std::string_view::npos) out += "#***";
  return out;
}

std::string RedactUrlsIn(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const bool boundary = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    const size_t scheme = boundary ? SchemeLength(text.substr(i)) : 0;
    if (scheme == 0) {
      out += text[i++];
      continue;
    }
    size_t end = i + scheme + 3;
    while (end < text.size() && !EndsUrl(text[end])) ++end;
    // Punctuation that ends a URL ends the sentence around it ("http://h/x: HTTP 502").
    size_t url_end = end;
    while (url_end > i + scheme + 3 &&
           std::string_view(".,;:)]").find(text[url_end - 1]) != std::string_view::npos) {
      --url_end;
    }
    out += RedactUrl(text.substr(i, url_end - i));
    out += text.substr(url_end, end - url_end);
    i = end;
  }
  return out;
}

}  // namespace aitelemetry
