// Helpers shared by the collect tests and benches: fixture loading, Prometheus answers rendered
// from samples.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "collect/sample_set.h"

namespace aitelemetry::collect::testing {

// Returns the contents of src/collect/testdata/<name>, or "" when missing.
inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(AITELEMETRY_SOURCE_DIR) + "/src/collect/testdata/" + name,
                   std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Appends `s` as a JSON string literal (control characters as \u00XX).
inline void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// A small deterministic generator for mutation tests (xorshift64).
class Xorshift {
 public:
  uint64_t operator()() {
    seed_ ^= seed_ << 13;
    seed_ ^= seed_ >> 7;
    seed_ ^= seed_ << 17;
    return seed_;
  }

 private:
  uint64_t seed_ = 0x9e3779b97f4a7c15ULL;
};

// The `i`-th mutation of `base` (not empty): truncated, a few bytes flipped, or a run erased.
inline std::string Mutated(const std::string& base, int i, Xorshift& next) {
  std::string body = base;
  switch (i % 3) {
    case 0:
      body.resize(next() % body.size());
      break;
    case 1:
      for (int flips = 1 + static_cast<int>(next() % 3); flips > 0; --flips) {
        body[next() % body.size()] = static_cast<char>(next() & 0xff);
      }
      break;
    default:
      body.erase(next() % body.size(), 1 + next() % 16);
      break;
  }
  return body;
}

// Appends sample `s` of `set` as one series of an instant-query answer, as Prometheus writes it:
// {"metric":{"__name__":...,labels...},"value":[ts,"v"]}; `ts_text` overrides its timestamp.
inline void AppendVectorSeries(const SampleSet& set, const Sample& s, std::string* out,
                               std::string_view ts_text = {}) {
  *out += R"({"metric":{"__name__":)";
  AppendJsonString(set.Metric(s), out);
  for (const LabelPair& p : set.Labels(s)) {
    out->push_back(',');
    AppendJsonString(set.String(p.name), out);
    out->push_back(':');
    AppendJsonString(set.String(p.value), out);
  }
  if (ts_text.empty()) {
    *out += fmt::format(R"(}},"value":[{:.3f},"{}"]}})", static_cast<double>(s.timestamp_ms) / 1e3,
                        s.value);
  } else {
    *out += fmt::format(R"(}},"value":[{},"{}"]}})", ts_text, s.value);
  }
}

// Renders the samples of `set` at indices [begin, end) as one instant-query answer.
inline std::string RenderVectorAnswer(const SampleSet& set, size_t begin, size_t end) {
  std::string out = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (size_t i = begin; i < end; ++i) {
    if (i != begin) out.push_back(',');
    AppendVectorSeries(set, set.samples()[i], &out);
  }
  out += "]}}";
  return out;
}

}  // namespace aitelemetry::collect::testing
