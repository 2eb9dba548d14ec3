// The API reference page's static files (swagger-ui-dist from node_modules and docs_init.js),
// embedded at build time by cmake/embed_assets.cmake into a generated docs_assets.cc.
#pragma once

#include <span>
#include <string_view>

namespace aitelemetry::api {

struct EmbeddedAsset {
  std::string_view name;    // file name under /assets/docs/, e.g. "swagger-ui-bundle.js"
  std::string_view bytes;   // the file's contents; static storage
  std::string_view sha256;  // hex digest of bytes, computed at build time (the ETag)
};

// Returns every embedded docs asset. The views live for the whole program.
std::span<const EmbeddedAsset> DocsAssets();

}  // namespace aitelemetry::api
