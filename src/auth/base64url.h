// Strict base64url (RFC 4648 section 5) without padding, as JOSE (RFC 7515 section 2) requires.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace aitelemetry::auth {

// Encodes `bytes` as unpadded base64url.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes unpadded base64url text. Strict: every character must be in [A-Za-z0-9_-]; padding '=',
// the standard alphabet's '+' and '/', whitespace, a length of 1 mod 4, and non-zero unused
// trailing bits (a non-canonical encoding) are all rejected, so one byte string has exactly one
// accepted encoding. Returns kInvalidArgument on any of these; the message never echoes the input.
[[nodiscard]] Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace aitelemetry::auth
