// Browser sign-in state kept in the store (the internal "web-session" model), so that every
// replica of the site accepts a session and a restart does not sign everyone out. Two kinds of
// rows: signed-in sessions, and logins between /login and /callback. Rows are keyed by the
// SHA-256 of the secret the browser holds; the secret itself is never stored.
#pragma once

#include <string>
#include <string_view>

#include "auth/grants.h"
#include "auth/jwks.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::auth {

struct WebSession {
  std::string subject;
  std::string name;
  std::string access_token;   // from the code flow or the last refresh
  std::string id_token;       // the hint for RP-initiated logout
  std::string refresh_token;  // recomputes the grants every few minutes; may be empty
  GrantSet grants;            // as of grants_at; recomputed from the issuer when they age
  std::string csrf_token;     // cookie-authenticated writes must send it in X-CSRF-Token
  Timestamp created_at{};
  Timestamp expires_at{};
  Timestamp grants_at{};  // when `grants` were computed (Create: now, when unset)
};

struct PendingLogin {
  std::string nonce;
  std::string code_verifier;
  std::string return_to;  // a local path ("/gpus?x=1"); "/" when none
  Timestamp expires_at{};
};

class SessionStore {
 public:
  // Requires: `store` outlives this object.
  SessionStore(store::Store* store, Clock clock);

  // Stores `session` (its created_at is set to now, its csrf_token to a fresh random token when
  // empty) and returns the new session id: 32 random bytes, base64url. Errors: the store's.
  [[nodiscard]] Result<std::string> Create(WebSession session);

  // Returns the session whose id is `session_id`. kNotFound when there is none or it has expired
  // (an expired row is deleted on the way); the store's errors otherwise.
  [[nodiscard]] Result<WebSession> Find(std::string_view session_id);

  // Rewrites the tokens and grants of the live session `session_id` (after a refresh);
  // created_at, expires_at and csrf_token stay as they are. kNotFound when there is no such live
  // session; the store's errors otherwise.
  [[nodiscard]] Status UpdateGrants(std::string_view session_id, const WebSession& session);

  // Deletes the session `session_id`; Ok when there was none.
  [[nodiscard]] Status Delete(std::string_view session_id);

  // Remembers a login under its OAuth `state` until `login.expires_at`.
  [[nodiscard]] Status SaveLogin(std::string_view state, const PendingLogin& login);

  // Returns and deletes the login saved under `state` (single use). kNotFound when there is none
  // or it has expired.
  [[nodiscard]] Result<PendingLogin> TakeLogin(std::string_view state);

  // Deletes every expired row; returns how many.
  [[nodiscard]] Result<int64_t> DeleteExpired();

 private:
  store::Store* const store_;
  const Clock clock_;
};

// Serialises grants as {"admin":b,"manager":b,"get":[..],"patch":[..]} and back. ParseGrantsJson
// returns kDataLoss for anything else.
std::string GrantsToJson(const GrantSet& grants);
[[nodiscard]] Result<GrantSet> ParseGrantsJson(std::string_view json);

}  // namespace aitelemetry::auth
