#include "api/csv.h"

namespace aitelemetry::api {

std::string CsvCell(std::string_view text, bool is_text) {
  std::string cell;
  cell.reserve(text.size() + 3);
  if (is_text && !text.empty()) {
    char c = text.front();
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r') cell += '\'';
  }
  cell.append(text);
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void AppendCsvLine(const std::vector<std::string>& cells, std::string& out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += cells[i];
  }
  out += "\r\n";
}

std::string RecordsToCsv(const model::Model& m, const std::vector<std::string>& fields,
                         const std::vector<model::Record>& records) {
  std::vector<int> columns;
  if (fields.empty()) {
    for (size_t i = 0; i < m.fields.size(); ++i) columns.push_back(static_cast<int>(i));
  } else {
    for (const auto& name : fields) {
      int i = m.FieldIndex(name);
      if (i >= 0) columns.push_back(i);
    }
  }
  std::string out;
  std::vector<std::string> cells;
  cells.reserve(columns.size());
  for (int c : columns) cells.push_back(CsvCell(m.fields[c].name, false));
  AppendCsvLine(cells, out);
  for (const auto& r : records) {
    cells.clear();
    for (int c : columns) {
      const model::Field& f = m.fields[c];
      cells.push_back(
          CsvCell(model::ValueToText(f, r.values[c]), f.type == model::FieldType::kString));
    }
    AppendCsvLine(cells, out);
  }
  return out;
}

}  // namespace aitelemetry::api
