#include <fmt/format.h>

#include "store/sql.h"

namespace aitelemetry::store {

Result<std::unique_ptr<SqlConnection>> ConnectSqlite(const std::string& path);
Result<std::unique_ptr<SqlConnection>> ConnectPostgres(const std::string& url);

Result<std::unique_ptr<SqlConnection>> Connect(const std::string& url) {
  if (url.starts_with("sqlite:")) {
    std::string path = SqlitePath(url);
    if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "db: sqlite URL has no path");
    return ConnectSqlite(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return ConnectPostgres(url);
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("db: unknown database URL \"{}\" (use sqlite:PATH or postgresql://...)",
                          RedactUrl(url)));
}

std::string SqlitePath(std::string_view url) {
  if (!url.starts_with("sqlite:")) return {};
  std::string_view path = url.substr(7);
  if (path.starts_with("//")) path = path.substr(2);  // sqlite:///abs/path
  return std::string(path);
}

std::string RedactUrl(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto at = url.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(url);
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return fmt::format("{}:***{}", url.substr(0, colon), url.substr(at));
}

}  // namespace aitelemetry::store
