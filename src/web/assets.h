// The web assets (our modules and styles, and the pinned uPlot build) embedded in the binary at
// build time by embed_assets.cmake, so one binary serves the whole site with no CDN.
#pragma once

#include <span>
#include <string_view>

namespace aitelemetry::web {

// One embedded file. Every view points into static storage that lives for the whole program.
struct EmbeddedAsset {
  std::string_view path;          // URL path below /static/, e.g. "vendor/uPlot.esm.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // strong ETag, quoted: a prefix of the file's SHA-256
  std::string_view body;          // the file's bytes
};

// Returns every embedded asset (defined in the generated assets_generated.cc).
std::span<const EmbeddedAsset> EmbeddedAssets();

// Returns the asset at `path` (below /static/, no leading slash), or nullptr.
const EmbeddedAsset* FindAsset(std::string_view path);

}  // namespace aitelemetry::web
