// Text vocabulary: UTF-8 checks and repair for text that comes from outside (collected label
// values), so that everything the store holds serialises to JSON.
#pragma once

#include <string>
#include <string_view>

namespace aitelemetry {

// Returns whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, no
// code points past U+10FFFF, no truncated sequences).
bool IsValidUtf8(std::string_view text);

// Replaces, in place, every byte of `*text` that does not begin or continue a well-formed
// sequence with U+FFFD (EF BF BD); well-formed text is left untouched. Returns whether anything
// was replaced.
bool MakeValidUtf8(std::string* text);

}  // namespace aitelemetry
