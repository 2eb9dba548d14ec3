// What a failed sync may tell the readers of its hub. hub.last_error is readable by anyone with a
// grant in the hub (a researcher with one project), so it names the kind of failure and the
// source with its credentials masked, never an upstream answer's text or a secret.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace aitelemetry::collect {

// Returns the reader-safe text of a source's `error` for `source` (a URL or a list of them, as
// SnapshotSource::Describe gives; masked here with RedactUrlsIn): "{source}: {kind of failure}",
// with " (HTTP nnn)" when the error's message names the status the source answered with. Only
// the error code and that status are taken from the error: its message may quote an answer body.
std::string SyncErrorForReaders(const Error& error, std::string_view source);

}  // namespace aitelemetry::collect
