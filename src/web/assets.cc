#include "web/assets.h"

namespace aitelemetry::web {

const EmbeddedAsset* FindAsset(std::string_view path) {
  // A few dozen files: a linear scan is cheaper than building an index.
  for (const auto& asset : EmbeddedAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace aitelemetry::web
