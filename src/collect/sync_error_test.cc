#include "collect/sync_error.h"

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

TEST(SyncErrorForReaders, KeepsKindAndStatusAndDropsAnswersAndCredentials) {
  struct Case {
    Error error;
    const char* source;
    const char* want;
  } cases[] = {
      {{ErrorCode::kUnavailable,
        "http://u:pw@prom:9090: HTTP 502: <html>upstream secret page</html>"},
       "http://u:pw@prom:9090",
       "http://***@prom:9090: the source is unreachable or failed (HTTP 502)"},
      {{ErrorCode::kInvalidArgument,
        "https://prom/api?token=t: HTTP 400: prometheus bad_data: query echo s3cret"},
       "https://prom/api?token=t",
       "https://prom/api?token=***: the source refused the query or sent an answer that cannot "
       "be read (HTTP 400)"},
      {{ErrorCode::kUnauthenticated, "http://n:9400/metrics?key=k: HTTP 401"},
       "http://n:9400/metrics?key=k, http://m:9400/metrics",
       "http://n:9400/metrics?key=***, http://m:9400/metrics: the source refused the credentials "
       "(HTTP 401)"},
      {{ErrorCode::kUnavailable, "POST http://h/api/v1/query: Couldn't connect to server"},
       "http://h",
       "http://h: the source is unreachable or failed"},
      {{ErrorCode::kFailedPrecondition, "bearer token file /run/t: No such file"},
       "http://h",
       "http://h: a credential of the source cannot be read"},
      {{ErrorCode::kInvalidArgument, "line 3: HTTP 4000 \"x\""},
       "http://h",
       "http://h: the source refused the query or sent an answer that cannot be read"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(SyncErrorForReaders(c.error, c.source), c.want) << c.error.message;
  }
}

}  // namespace
}  // namespace aitelemetry::collect
