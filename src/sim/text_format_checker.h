// Test support: a strict line parser for the Prometheus text format and OpenMetrics samples, so
// tests check the simulator's output without trusting the code that wrote it.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aitelemetry::sim::testing_support {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in written order, unescaped
  double value = 0;
  bool has_timestamp = false;
  double timestamp = 0;

  // Returns the value of label `name`, or "" when absent.
  std::string Label(std::string_view label) const {
    for (const auto& [k, v] : labels) {
      if (k == label) return v;
    }
    return "";
  }
  bool HasLabel(std::string_view label) const {
    for (const auto& [k, v] : labels) {
      if (k == label) return true;
    }
    return false;
  }
};

inline bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
inline bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

inline bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Parses one sample line `name{k="v",...} value [timestamp]`. Returns false on any deviation.
inline bool ParseSampleLine(std::string_view line, Sample* sample) {
  size_t i = 0;
  if (i >= line.size() || !IsNameStart(line[i])) return false;
  while (i < line.size() && IsNameChar(line[i])) ++i;
  sample->name = std::string(line.substr(0, i));
  sample->labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      const size_t start = i;
      if (i >= line.size() || !IsNameStart(line[i])) return false;
      while (i < line.size() && IsNameChar(line[i])) ++i;
      std::string key(line.substr(start, i - start));
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return false;
      i += 2;
      std::string value;
      while (true) {
        if (i >= line.size()) return false;
        const char c = line[i++];
        if (c == '"') break;
        if (c == '\n') return false;
        if (c == '\\') {
          if (i >= line.size()) return false;
          const char e = line[i++];
          if (e == 'n') {
            value.push_back('\n');
          } else if (e == '\\' || e == '"') {
            value.push_back(e);
          } else {
            return false;
          }
        } else {
          value.push_back(c);
        }
      }
      for (const auto& [k, v] : sample->labels) {
        if (k == key) return false;  // duplicate label
      }
      sample->labels.emplace_back(std::move(key), std::move(value));
      if (i < line.size() && line[i] == ',') {
        ++i;
      } else if (i >= line.size() || line[i] != '}') {
        return false;
      }
    }
  }
  if (i >= line.size() || line[i] != ' ') return false;
  ++i;
  const size_t space = line.find(' ', i);
  const std::string_view value =
      line.substr(i, space == std::string_view::npos ? line.npos : space - i);
  if (!ParseNumber(value, &sample->value)) return false;
  sample->has_timestamp = space != std::string_view::npos;
  if (sample->has_timestamp && !ParseNumber(line.substr(space + 1), &sample->timestamp)) {
    return false;
  }
  return true;
}

// Splits text into lines (without the '\n'); a final line must end with '\n'.
inline std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

}  // namespace aitelemetry::sim::testing_support
