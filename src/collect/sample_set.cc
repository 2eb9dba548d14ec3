#include "collect/sample_set.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

namespace aitelemetry::collect {
namespace {

constexpr size_t kMinBlockBytes = 64 * 1024;
constexpr size_t kMaxBlockBytes = 4 * 1024 * 1024;
constexpr size_t kInitialSlots = 1024;

uint64_t HashString(std::string_view s) { return std::hash<std::string_view>{}(s); }

// Mixes a 64-bit value (the finaliser of splitmix64).
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

SampleSet::SampleSet() {
  string_slots_.assign(kInitialSlots, 0);
  set_slots_.assign(kInitialSlots, 0);
  Intern("");
  InternLabelSet({});
}

SampleSet::SampleSet(SampleSet&&) noexcept = default;
SampleSet& SampleSet::operator=(SampleSet&&) noexcept = default;
SampleSet::~SampleSet() = default;

char* SampleSet::Allocate(size_t n) {
  if (blocks_.empty() || block_used_ + n > block_size_) {
    // Blocks double up to kMaxBlockBytes; a string larger than that gets a block of its own.
    size_t size = blocks_.empty() ? kMinBlockBytes : std::min(block_size_ * 2, kMaxBlockBytes);
    size = std::max(size, n);
    blocks_.push_back(std::make_unique<char[]>(size));
    block_size_ = size;
    block_used_ = 0;
    arena_bytes_ += size;
  }
  char* p = blocks_.back().get() + block_used_;
  block_used_ += n;
  return p;
}

std::optional<StringId> SampleSet::FindString(std::string_view s) const {
  uint64_t h = HashString(s);
  uint64_t tag = h >> 32;
  size_t mask = string_slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint64_t slot = string_slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot >> 32) == tag) {
      auto id = static_cast<StringId>((slot & 0xffffffffu) - 1);
      if (strings_[id] == s) return id;
    }
  }
}

StringId SampleSet::Intern(std::string_view s) {
  uint64_t h = HashString(s);
  uint64_t tag = h >> 32;
  size_t mask = string_slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    uint64_t slot = string_slots_[i];
    if (slot == 0) break;
    if ((slot >> 32) == tag) {
      auto id = static_cast<StringId>((slot & 0xffffffffu) - 1);
      if (strings_[id] == s) return id;
    }
  }
  auto id = static_cast<StringId>(strings_.size());
  char* p = s.empty() ? nullptr : Allocate(s.size());
  if (p != nullptr) std::memcpy(p, s.data(), s.size());
  strings_.emplace_back(p == nullptr ? "" : std::string_view(p, s.size()));
  string_slots_[i] = (tag << 32) | (static_cast<uint64_t>(id) + 1);
  if (strings_.size() * 2 > string_slots_.size()) GrowStringSlots();
  return id;
}

void SampleSet::GrowStringSlots() {
  std::vector<uint64_t> slots(string_slots_.size() * 2, 0);
  size_t mask = slots.size() - 1;
  for (StringId id = 0; id < strings_.size(); ++id) {
    uint64_t h = HashString(strings_[id]);
    size_t i = h & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = ((h >> 32) << 32) | (static_cast<uint64_t>(id) + 1);
  }
  string_slots_ = std::move(slots);
}

uint64_t SampleSet::HashPairs(std::span<const LabelPair> labels) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ labels.size();
  for (const LabelPair& p : labels) {
    h = Mix(h ^ ((static_cast<uint64_t>(p.name) << 32) | p.value));
  }
  return h;
}

LabelSetId SampleSet::InternLabelSet(std::span<const LabelPair> labels) {
  uint64_t h = HashPairs(labels);
  uint64_t tag = h >> 32;
  size_t mask = set_slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    uint64_t slot = set_slots_[i];
    if (slot == 0) break;
    if ((slot >> 32) == tag) {
      auto id = static_cast<LabelSetId>((slot & 0xffffffffu) - 1);
      std::span<const LabelPair> have = Labels(id);
      if (have.size() == labels.size() && std::equal(have.begin(), have.end(), labels.begin(),
                                                     [](const LabelPair& a, const LabelPair& b) {
                                                       return a.name == b.name &&
                                                              a.value == b.value;
                                                     })) {
        return id;
      }
    }
  }
  auto id = static_cast<LabelSetId>(set_ranges_.size());
  set_ranges_.push_back(
      Range{static_cast<uint32_t>(pairs_.size()), static_cast<uint32_t>(labels.size())});
  pairs_.insert(pairs_.end(), labels.begin(), labels.end());
  set_slots_[i] = (tag << 32) | (static_cast<uint64_t>(id) + 1);
  if (set_ranges_.size() * 2 > set_slots_.size()) GrowSetSlots();
  return id;
}

void SampleSet::GrowSetSlots() {
  std::vector<uint64_t> slots(set_slots_.size() * 2, 0);
  size_t mask = slots.size() - 1;
  for (LabelSetId id = 0; id < set_ranges_.size(); ++id) {
    uint64_t h = HashPairs(Labels(id));
    size_t i = h & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = ((h >> 32) << 32) | (static_cast<uint64_t>(id) + 1);
  }
  set_slots_ = std::move(slots);
}

std::span<const LabelPair> SampleSet::Labels(LabelSetId set) const {
  const Range& r = set_ranges_[set];
  return std::span<const LabelPair>(pairs_.data() + r.begin, r.count);
}

std::string_view SampleSet::Label(const Sample& s, std::string_view name) const {
  std::optional<StringId> id = FindString(name);
  if (!id) return {};
  return Label(s, *id);
}

std::string_view SampleSet::Label(const Sample& s, StringId name) const {
  for (const LabelPair& p : Labels(s.labels)) {
    if (p.name == name) return strings_[p.value];
  }
  return {};
}

void SampleSet::SetType(StringId metric, MetricType type) {
  for (auto& [m, t] : types_) {
    if (m == metric) {
      t = type;
      return;
    }
  }
  types_.emplace_back(metric, type);
}

MetricType SampleSet::Type(StringId metric) const {
  for (const auto& [m, t] : types_) {
    if (m == metric) return t;
  }
  return MetricType::kUnknown;
}

size_t SampleSet::MemoryUsage() const {
  size_t n = arena_bytes_ + blocks_.capacity() * sizeof(blocks_[0]);
  n += strings_.capacity() * sizeof(std::string_view);
  n += string_slots_.capacity() * sizeof(uint64_t);
  n += pairs_.capacity() * sizeof(LabelPair);
  n += set_ranges_.capacity() * sizeof(Range);
  n += set_slots_.capacity() * sizeof(uint64_t);
  n += samples_.capacity() * sizeof(Sample);
  n += types_.capacity() * sizeof(types_[0]);
  for (const std::string& w : warnings_) n += sizeof(w) + w.capacity();
  return n;
}

std::optional<double> ParsePromFloat(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view body = text;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return std::nullopt;
  char c = body.front();
  if (c == 'i' || c == 'I' || c == 'n' || c == 'N') {
    if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
      double inf = std::numeric_limits<double>::infinity();
      return negative ? -inf : inf;
    }
    if (EqualsIgnoreCase(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
  }
  if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (end != body.data() + body.size()) return std::nullopt;
  // Out of range (1e400) is rejected like any other malformed number rather than clamped.
  if (ec != std::errc()) return std::nullopt;
  return negative ? -v : v;
}

}  // namespace aitelemetry::collect
