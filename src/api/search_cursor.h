// Cursor marks for deep paging (Solr's cursorMark): an opaque, URL-safe token holding the keyset
// position (the sort values, then the key) of the last row a page returned.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/record.h"
#include "store/query.h"

namespace aitelemetry::api {

// Returns the cursor mark that continues after `last` under `sort`: unpadded base64url of a small
// JSON document with a version, the sort it belongs to and the keyset values. Null sort values
// are written as the store's sort sentinels, so the keyset comparison matches ORDER BY.
std::string EncodeCursor(const model::Model& m, const std::vector<store::SortKey>& sort,
                         const model::Record& last);

// Decodes a mark made by EncodeCursor into QuerySpec::after values. Returns kInvalidArgument
// ("cursorMark: ...", never echoing the mark) for anything else: bad base64url or JSON, another
// version, a mark made for another sort, or values of the wrong count or type.
[[nodiscard]] Result<std::vector<model::Value>> DecodeCursor(
    const model::Model& m, const std::vector<store::SortKey>& sort, std::string_view mark);

}  // namespace aitelemetry::api
