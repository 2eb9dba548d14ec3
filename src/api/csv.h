// CSV bodies for exports (RFC 4180), safe to open in a spreadsheet: text cells that a spreadsheet
// would run as a formula are neutralised as OWASP recommends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/record.h"

namespace aitelemetry::api {

// Returns `text` as one CSV cell: quoted (with quotes doubled) when it holds a comma, quote, CR or
// LF. When `is_text` (a value from a text field, not a number this API formatted), a cell starting
// with =, +, -, @, a tab or a CR is first prefixed with a single quote so spreadsheets show it
// as text instead of evaluating it.
std::string CsvCell(std::string_view text, bool is_text);

// Appends one CSV line (cells joined by commas, CRLF-terminated) to `out`.
void AppendCsvLine(const std::vector<std::string>& cells, std::string& out);

// Returns a CSV document: a header line of `fields` (all of the model's fields when empty), then
// one line per record; nulls are empty cells, times RFC 3339.
std::string RecordsToCsv(const model::Model& m, const std::vector<std::string>& fields,
                         const std::vector<model::Record>& records);

}  // namespace aitelemetry::api
