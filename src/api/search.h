// Search over one model: runs parsed SearchParams against the store under the caller's scope and
// renders the Solr-style answer (JSON or CSV). Plain functions; the REST handler is a thin wrapper.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/params.h"
#include "core/result.h"
#include "store/store.h"

namespace aitelemetry::api {

// Returns the model served under /api/{name}, or nullptr for an unknown name and for internal
// models (inboxes, outboxes, the change feed), which are never served.
const model::Model* ServedModel(std::string_view name);

struct SearchOutput {
  store::QueryResult result;
  // With a cursorMark: the mark for the next page. It equals the mark sent when this page was
  // empty, which tells the caller the export is complete.
  std::optional<std::string> next_cursor;
};

// Runs `params` on `m` with `scope` applied in SQL. Errors: kInvalidArgument from the store's
// validation (naming the field), kUnavailable when the store cannot be reached.
[[nodiscard]] Result<SearchOutput> Search(store::Store& store, const model::Model& m,
                                          const SearchParams& params, const store::Scope& scope);

// The JSON body: {"startNum","foundNum","returnedNum","list":[...],"facet_counts":{"facet_fields":
// {field:{value:count}}},"stats":{"stats_fields":{field:{"min","max","sum","mean","count"}}}} plus
// "nextCursorMark" with a cursor. Facet values keep the store's order (most frequent first).
std::string SearchJson(const SearchParams& params, const SearchOutput& out);

}  // namespace aitelemetry::api
