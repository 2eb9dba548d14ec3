// A fresh database per test on either backend: a new SQLite file in a temp directory, or a new
// database on the PostgreSQL server the `postgres` ctest fixture started (tests/pg.sh writes its
// URL to <build>/pg/url). Header-only, tests only.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "store/sql.h"

namespace aitelemetry::test_support {

// The URL of the fixture's PostgreSQL server ("" when it is not running).
inline std::string PgBaseUrl() {
  std::ifstream in(std::string(AITELEMETRY_BINARY_DIR) + "/pg/url");
  std::string url;
  std::getline(in, url);
  return url;
}

// Returns the URL of a new, empty database for `backend` ("sqlite" or "postgres") whose name
// starts with `prefix` (a lower-case word: it names a PostgreSQL database), or "" when
// PostgreSQL is not running or refuses. SQLite files go when the test program exits; the
// PostgreSQL server goes with its data when the fixture stops it.
inline std::string FreshDatabase(const std::string& backend, const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::string name = prefix + std::to_string(getpid()) + "_" + std::to_string(counter++);
  if (backend == "sqlite") {
    // Removed with their write-ahead log and index when the test program exits.
    static struct Files {
      std::vector<std::filesystem::path> paths;
      ~Files() {
        std::error_code ec;
        for (const auto& p : paths) {
          for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::filesystem::remove(p.string() + suffix, ec);
          }
        }
      }
    } files;
    auto dir = std::filesystem::temp_directory_path() / ("aitelemetry-" + prefix + "-test");
    std::filesystem::create_directories(dir);
    auto path = dir / (name + ".db");
    std::filesystem::remove(path);
    files.paths.push_back(path);
    return "sqlite:" + path.string();
  }
  std::string base = PgBaseUrl();
  if (base.empty()) return {};
  auto admin = store::Connect(base);
  if (!admin) return {};
  (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name);
  if (!(*admin)->Exec("CREATE DATABASE " + name)) return {};
  return base.substr(0, base.rfind('/') + 1) + name;
}

#ifdef AITEL_SQL_EXEC
// Runs `sql` on the database at `url` from another process (the aitel_sql_exec helper, spawned,
// never a fork of this threaded one); returns whether it ran.
inline bool ExecInAnotherProcess(const std::string& url, const std::string& sql) {
  std::string exe = AITEL_SQL_EXEC;
  char* argv[] = {exe.data(), const_cast<char*>(url.c_str()), const_cast<char*>(sql.c_str()),
                  nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, environ) != 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
#endif

}  // namespace aitelemetry::test_support
