// Process logging: spdlog, as plain text or one JSON object per line.
#pragma once

#include <string_view>

#include "core/result.h"

namespace aitelemetry {

enum class LogFormat { kText, kJson };

// Configures the default logger once at start-up. `level` is one of trace, debug, info, warn,
// error. Returns kInvalidArgument for an unknown level or format name.
[[nodiscard]] Status InitLogging(std::string_view format, std::string_view level);

// Escapes `s` for use inside a JSON string (no surrounding quotes).
std::string JsonEscape(std::string_view s);

}  // namespace aitelemetry
