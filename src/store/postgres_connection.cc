// PostgreSQL backend over libpq: text-format parameters and results, `?` rewritten to `$n`.
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "store/sql.h"

namespace aitelemetry::store {
namespace {

// Rewrites `?` placeholders to $1, $2, ... The store never puts literal '?' in SQL text.
std::string Number(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    auto res = Run(sql, params);
    if (!res) return Fail(res.error());
    const char* n = PQcmdTuples(*res);
    int64_t changed = (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
    PQclear(*res);
    return changed;
  }

  Status Query(std::string_view sql, std::span<const Value> params,
               std::span<const FieldType> types,
               const std::function<void(std::vector<Value>&)>& on_row) override {
    auto res = Run(sql, params);
    if (!res) return Fail(res.error());
    int rows = PQntuples(*res);
    std::vector<Value> row(types.size());
    for (int r = 0; r < rows; ++r) {
      row.resize(types.size());  // the callback may have moved the vector away
      for (size_t i = 0; i < types.size(); ++i) {
        int c = static_cast<int>(i);
        if (PQgetisnull(*res, r, c)) {
          row[i] = Value{};
          continue;
        }
        std::string_view text(PQgetvalue(*res, r, c), PQgetlength(*res, r, c));
        row[i] = Convert(text, types[i]);
      }
      on_row(row);
    }
    PQclear(*res);
    return Ok();
  }

  Status Begin() override { return Simple("BEGIN"); }
  Status Commit() override { return Simple("COMMIT"); }
  void Rollback() override {
    PGresult* r = PQexec(conn_, "ROLLBACK");
    PQclear(r);
  }

  Result<std::vector<std::string>> Columns(std::string_view table) override {
    std::vector<std::string> out;
    FieldType types[] = {FieldType::kString};
    Value p[] = {std::string(table)};
    auto st = Query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        p, types, [&](std::vector<Value>& row) { out.push_back(std::get<std::string>(row[0])); });
    if (!st) return Fail(st.error());
    return out;
  }

 private:
  Status Simple(const char* sql) {
    auto res = Run(sql, {});
    if (!res) return Fail(res.error());
    PQclear(*res);
    return Ok();
  }

  static Value Convert(std::string_view text, FieldType type) {
    switch (type) {
      case FieldType::kString:
        return Value{std::string(text)};
      case FieldType::kInt:
      case FieldType::kTime: {
        int64_t v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return Value{v};
      }
      case FieldType::kReal: {
        double v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return Value{v};
      }
      case FieldType::kBool:
        return Value{text == "1" || text == "t" || text == "true"};
    }
    return Value{};
  }

  Result<PGresult*> Run(std::string_view sql, std::span<const Value> params) {
    std::string text = Number(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        values[i] = nullptr;
        continue;
      }
      if (auto* n = std::get_if<int64_t>(&v)) {
        storage[i] = std::to_string(*n);
      } else if (auto* d = std::get_if<double>(&v)) {
        storage[i] = fmt::format("{}", *d);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        storage[i] = *s;
      } else if (auto* b = std::get_if<bool>(&v)) {
        storage[i] = *b ? "1" : "0";
      }
      values[i] = storage[i].c_str();
    }
    PGresult* res = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
    std::string msg = fmt::format("postgresql: {} (in: {:.80})", PQresultErrorMessage(res), sql);
    while (!msg.empty() && (msg.back() == '\n')) msg.pop_back();
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    PQclear(res);
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
        sqlstate.starts_with("57P")) {
      return Fail(ErrorCode::kUnavailable, msg);
    }
    if (sqlstate == "23505") return Fail(ErrorCode::kAlreadyExists, msg);
    if (sqlstate == "40001" || sqlstate == "40P01") return Fail(ErrorCode::kUnavailable, msg);
    return Fail(ErrorCode::kInternal, msg);
  }

  PGconn* conn_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> ConnectPostgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    for (auto& c : msg) {
      if (c == '\n') c = ' ';
    }
    PQfinish(conn);
    return Fail(ErrorCode::kUnavailable,
                fmt::format("postgresql: cannot connect to {}: {}", RedactUrl(url), msg));
  }
  PGresult* r = PQexec(conn, "SET client_min_messages = warning");
  PQclear(r);
  return std::unique_ptr<SqlConnection>(std::make_unique<PostgresConnection>(conn));
}

}  // namespace aitelemetry::store
