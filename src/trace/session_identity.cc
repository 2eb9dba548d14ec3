#include "trace/session_identity.h"

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>
#include <openssl/sha.h>

namespace aitelemetry::trace {
namespace {

// Returns the first non-empty value among `names`, or "".
std::string FirstLabel(const LabelSet& labels, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = labels.find(name);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return std::string();
}

void AppendEscaped(std::string& out, std::string_view field) {
  for (char c : field) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
}

// SHA-256 over tag, a NUL, the fingerprint, a NUL and the decimal nanoseconds.
std::array<uint8_t, SHA256_DIGEST_LENGTH> Digest(std::string_view tag,
                                                 const AlertIdentity& identity) {
  std::string input;
  input.reserve(tag.size() + identity.fingerprint.size() + 24);
  input.append(tag);
  input.push_back('\0');
  input.append(identity.fingerprint);
  input.push_back('\0');
  input.append(std::to_string(ToUnixNanos(identity.starts_at)));
  std::array<uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  return digest;
}

template <size_t N>
std::array<uint8_t, N> NonZeroPrefix(const std::array<uint8_t, SHA256_DIGEST_LENGTH>& digest) {
  std::array<uint8_t, N> id{};
  std::copy_n(digest.begin(), N, id.begin());
  if (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) id[N - 1] = 1;
  return id;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
Result<std::array<uint8_t, N>> ParseHexId(std::string_view hex, std::string_view what) {
  if (hex.size() != 2 * N) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: expected {} hex digits, got {} characters", what, 2 * N, hex.size()));
  }
  std::array<uint8_t, N> id{};
  bool all_zero = true;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: not hex", what));
    }
    id[i] = static_cast<uint8_t>(hi * 16 + lo);
    all_zero = all_zero && id[i] == 0;
  }
  if (all_zero) return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: all zero", what));
  return id;
}

}  // namespace

std::string SessionKey::StableKey() const {
  std::string out;
  bool first = true;
  for (const std::string* field : {&cluster, &namespace_, &pod, &container, &gpu_uuid, &gpu_i_id}) {
    if (!first) out.push_back('/');
    first = false;
    AppendEscaped(out, *field);
  }
  return out;
}

Result<SessionKey> SessionKeyFromLabels(const LabelSet& labels, std::string_view default_cluster) {
  SessionKey key;
  key.cluster = FirstLabel(labels, {"cluster"});
  if (key.cluster.empty()) key.cluster = std::string(default_cluster);
  if (key.cluster.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "labels: no cluster and no default cluster");
  }
  key.namespace_ = FirstLabel(labels, {"namespace", "exported_namespace"});
  if (key.namespace_.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "labels: no namespace or exported_namespace");
  }
  key.pod = FirstLabel(labels, {"pod", "exported_pod"});
  if (key.pod.empty()) return Fail(ErrorCode::kInvalidArgument, "labels: no pod or exported_pod");
  key.container = FirstLabel(labels, {"container", "exported_container"});
  key.gpu_uuid = FirstLabel(labels, {"UUID", "gpu_uuid"});
  if (key.gpu_uuid.empty()) return Fail(ErrorCode::kInvalidArgument, "labels: no UUID or gpu_uuid");
  key.gpu_i_id = FirstLabel(labels, {"GPU_I_ID"});
  return key;
}

std::string AlertIdentity::Key() const {
  return fmt::format("{}@{}", fingerprint, ToUnixNanos(starts_at));
}

AlertIdentity IdentityOf(const Alert& alert) { return {alert.fingerprint, alert.starts_at}; }

TraceId TraceIdFor(const AlertIdentity& identity) {
  return NonZeroPrefix<16>(Digest("aitelemetry.trace_id.v1", identity));
}

SpanId SpanIdFor(const AlertIdentity& identity) {
  return NonZeroPrefix<8>(Digest("aitelemetry.span_id.v1", identity));
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

Result<TraceId> ParseTraceIdHex(std::string_view hex) { return ParseHexId<16>(hex, "trace id"); }

Result<SpanId> ParseSpanIdHex(std::string_view hex) { return ParseHexId<8>(hex, "span id"); }

}  // namespace aitelemetry::trace
