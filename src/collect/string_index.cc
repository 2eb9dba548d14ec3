#include "collect/string_index.h"

#include <cstring>
#include <functional>

namespace aitelemetry::collect {
namespace {

constexpr size_t kInitialSlots = 64;

}  // namespace

StringIndex::StringIndex() : slots_(kInitialSlots) {}

uint64_t StringIndex::Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

uint32_t StringIndex::TagOf(uint64_t hash) {
  auto tag = static_cast<uint32_t>(hash >> 32);
  return tag == 0 ? 1 : tag;
}

std::optional<uint32_t> StringIndex::Find(std::string_view key) const {
  const uint64_t h = Hash(key);
  const uint32_t tag = TagOf(h);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.tag == 0) return std::nullopt;
    if (s.tag == tag && s.key_size == key.size() &&
        (key.empty() || std::memcmp(arena_.data() + s.key_offset, key.data(), key.size()) == 0)) {
      return s.value;
    }
  }
}

void StringIndex::Insert(std::string_view key, uint32_t value) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const uint64_t h = Hash(key);
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].tag != 0) i = (i + 1) & mask;
  slots_[i] = Slot{TagOf(h), value, arena_.size(), key.size()};
  arena_.insert(arena_.end(), key.begin(), key.end());
  ++size_;
}

void StringIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.tag == 0) continue;
    size_t i = Hash(std::string_view(arena_.data() + s.key_offset, s.key_size)) & mask;
    while (slots_[i].tag != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringIndex::Clear() {
  slots_.assign(kInitialSlots, Slot{});
  arena_.clear();
  size_ = 0;
}

size_t StringIndex::MemoryUsage() const {
  return slots_.capacity() * sizeof(Slot) + arena_.capacity();
}

}  // namespace aitelemetry::collect
