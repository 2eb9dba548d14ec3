// StringIndex: a map from strings to uint32 values for lookups by the million (the mapper's GPU
// index by UUID). Open addressing over 24-byte slots that hold the hash tag, the value and where
// the key lies in one append-only arena, so a lookup touches one slot and the key's bytes, and a
// string_view is looked up without building a std::string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace aitelemetry::collect {

class StringIndex {
 public:
  StringIndex();

  // Returns the value stored for `key`, or nullopt.
  std::optional<uint32_t> Find(std::string_view key) const;
  // Stores `value` for `key`. Requires: Find(key) is nullopt.
  void Insert(std::string_view key, uint32_t value);
  // Forgets every key.
  void Clear();

  size_t size() const { return size_; }
  // Returns the bytes held on the heap.
  size_t MemoryUsage() const;

 private:
  struct Slot {
    uint32_t tag = 0;  // the hash's high 32 bits, or 0 for an empty slot (a real tag of 0 is 1)
    uint32_t value = 0;
    uint64_t key_offset = 0;  // into arena_
    size_t key_size = 0;
  };
  static uint64_t Hash(std::string_view key);
  static uint32_t TagOf(uint64_t hash);
  void Grow();

  std::vector<Slot> slots_;  // power-of-two size, load <= 1/2
  std::vector<char> arena_;  // the keys, back to back
  size_t size_ = 0;
};

}  // namespace aitelemetry::collect
