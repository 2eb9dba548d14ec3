// Who is calling: set on each request by the authentication middleware and read by every handler.
// The grant scope here is what the store applies inside its SQL.
#pragma once

#include <set>
#include <string>

#include "core/time.h"
#include "http/message.h"
#include "store/query.h"

namespace aitelemetry::api {

struct Caller {
  bool authenticated = false;  // a valid token or session was presented (or open local mode)
  bool open_mode = false;      // no issuer configured: loopback-only, everyone is admin
  std::string subject;         // the token's `sub`
  std::string name;            // preferred_username, or the client id for programs
  bool admin = false;          // sees everything, may PATCH anything
  bool manager = false;
  store::Scope scope;  // what this caller may read
  // Resource names (HUB-..., HUB-...-CLUSTER-..., ...-PROJECT-...) the caller may PATCH.
  std::set<std::string> patch_resources;
  std::string csrf_token;  // for browser sessions: the token writes must echo
  bool browser_session = false;
  // When the credentials stop being valid (the token's exp, the session's end); zero: never.
  // Long-lived answers (event streams) end then.
  Timestamp expires_at{};
};

// Returns the caller the middleware attached to `request`; when none is attached (a route outside
// the middleware), a caller that may see nothing.
inline const Caller& CallerOf(const http::Request& request) {
  static const Caller kNobody{};
  if (const auto* c = std::any_cast<Caller>(&request.principal)) return *c;
  return kNobody;
}

}  // namespace aitelemetry::api
