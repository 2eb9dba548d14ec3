// Fuzz target: the YAML configuration file (written by a deployer, mounted from a ConfigMap).
// Properties: no crash, exception or sanitizer report; a refusal is kInvalidArgument; an accepted
// config renders with ToYaml, and that rendering loads again to the same rendering.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::config {
namespace {

void Run(std::string text) {
  Sources sources;
  sources.file = "fuzz.yaml";
  sources.file_text = std::move(text);
  auto config = Load(sources);
  if (!config) {
    fuzz::CheckCode(config.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  const std::string yaml = ToYaml(*config);
  sources.file_text = yaml;
  auto again = Load(sources);
  fuzz::Check(again.has_value(), "the rendering of an accepted config does not load");
  fuzz::Check(ToYaml(*again) == yaml, "the rendering of an accepted config changes on reload");
}

}  // namespace
}  // namespace aitelemetry::config

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::config::Run(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
