// aitel_sql_exec URL SQL: runs one statement on the database at URL in a process of its own, for
// the tests that need "another process writes to the same database". (A fork of a test binary
// whose servers and store threads are running may leave the child stuck on a lock one of them
// held; a fresh process has no such state.) Exits 0 when the statement ran, else prints one line
// on stderr and exits 1.
#include <cstdio>
#include <string>

#include "store/sql.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: aitel_sql_exec URL SQL\n");
    return 2;
  }
  auto conn = aitelemetry::store::Connect(argv[1]);
  if (!conn) {
    std::fprintf(stderr, "aitel_sql_exec: %s\n", conn.error().message.c_str());
    return 1;
  }
  auto rc = (*conn)->Exec(argv[2]);
  if (!rc) {
    std::fprintf(stderr, "aitel_sql_exec: %s\n", rc.error().message.c_str());
    return 1;
  }
  return 0;
}
