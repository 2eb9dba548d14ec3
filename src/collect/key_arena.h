// KeyArena: strings kept back to back in blocks until Clear, so that a map of a few hundred
// thousand keys (the collector's mirror of a hub, its energy counters per GPU) can key by
// string_view and spend the keys' bytes instead of a std::string and an allocation each.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace aitelemetry::collect {

class KeyArena {
 public:
  explicit KeyArena(size_t block_bytes = 64 << 10) : block_(block_bytes) {}

  // A copy of `s` that stays valid (and unmoved) until Clear or destruction.
  std::string_view Keep(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > block_ / 4) {  // a long one gets a block of its own
      blocks_.push_back(std::make_unique<char[]>(s.size()));
      std::memcpy(blocks_.back().get(), s.data(), s.size());
      return {blocks_.back().get(), s.size()};
    }
    if (open_ == nullptr || used_ + s.size() > block_) {
      blocks_.push_back(std::make_unique<char[]>(block_));
      open_ = blocks_.back().get();
      used_ = 0;
    }
    char* at = open_ + used_;
    std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return {at, s.size()};
  }

  // Frees every string kept.
  void Clear() {
    blocks_.clear();
    open_ = nullptr;
    used_ = 0;
  }

 private:
  size_t block_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* open_ = nullptr;  // the block short strings go to, one of blocks_
  size_t used_ = 0;       // bytes of open_ in use
};

}  // namespace aitelemetry::collect
