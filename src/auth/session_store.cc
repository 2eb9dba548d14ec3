#include "auth/session_store.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "auth/oidc_client.h"
#include "model/record.h"
#include "model/registry.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;

constexpr char kSession[] = "session";
constexpr char kLogin[] = "login";

const model::Model& SessionModel() {
  static const model::Model* m = model::FindModel("web-session");
  return *m;
}

model::Value Time(Timestamp t) { return ToUnixNanos(t); }

Timestamp TimeOf(const model::Record& r, std::string_view field) {
  const auto* v = std::get_if<int64_t>(&r.Get(field));
  return v == nullptr ? Timestamp{} : Timestamp(std::chrono::nanoseconds(*v));
}

store::Filter KeyIs(const std::string& key) { return store::Filter::Eq("key", key); }

// Reads the row keyed `key` of `kind`; kNotFound when absent, of another kind, or expired (then
// deleted).
Result<model::Record> Load(store::Store& store, const std::string& key, std::string_view kind,
                           Timestamp now) {
  auto row = store.Get(SessionModel(), key, store::Scope::All());
  if (!row) return Fail(row.error());
  if (row->GetString("kind") != kind) return Fail(ErrorCode::kNotFound, "no such session");
  if (TimeOf(*row, "expires_at") <= now) {
    (void)store.Delete(SessionModel(), {KeyIs(key)});
    return Fail(ErrorCode::kNotFound, "session expired");
  }
  return row;
}

}  // namespace

std::string GrantsToJson(const GrantSet& grants) {
  Json j = {{"admin", grants.admin},
            {"manager", grants.manager},
            {"get", grants.resources},
            {"patch", grants.patch_resources}};
  return j.dump();
}

Result<GrantSet> ParseGrantsJson(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  GrantSet g;
  auto strings = [](const Json& a, std::set<std::string>* out) {
    if (!a.is_array()) return false;
    for (const auto& s : a) {
      if (!s.is_string()) return false;
      out->insert(s.get<std::string>());
    }
    return true;
  };
  if (!j.is_object() || !j.value("admin", Json()).is_boolean() ||
      !j.value("manager", Json()).is_boolean() || !strings(j.value("get", Json()), &g.resources) ||
      !strings(j.value("patch", Json()), &g.patch_resources)) {
    return Fail(ErrorCode::kDataLoss, "web-session: grants_json is malformed");
  }
  g.admin = j["admin"].get<bool>();
  g.manager = j["manager"].get<bool>();
  return g;
}

SessionStore::SessionStore(store::Store* store, Clock clock)
    : store_(store), clock_(std::move(clock)) {}

Result<std::string> SessionStore::Create(WebSession session) {
  std::string id = RandomToken();
  if (session.csrf_token.empty()) session.csrf_token = RandomToken();
  model::Record r(SessionModel());
  r.Set("key", Sha256Hex(id));
  r.Set("kind", std::string(kSession));
  r.Set("subject", session.subject);
  r.Set("name", session.name);
  r.Set("access_token", session.access_token);
  r.Set("id_token", session.id_token);
  r.Set("refresh_token", session.refresh_token);
  r.Set("grants_json", GrantsToJson(session.grants));
  r.Set("grants_at", Time(session.grants_at == Timestamp{} ? clock_() : session.grants_at));
  r.Set("csrf_token", session.csrf_token);
  r.Set("created_at", Time(clock_()));
  r.Set("expires_at", Time(session.expires_at));
  if (auto st = store_->Upsert(SessionModel(), std::span(&r, 1)); !st) return Fail(st.error());
  return id;
}

Status SessionStore::UpdateGrants(std::string_view session_id, const WebSession& session) {
  if (session_id.empty()) return Fail(ErrorCode::kNotFound, "no session");
  std::string key = Sha256Hex(session_id);
  auto row = Load(*store_, key, kSession, clock_());
  if (!row) return Fail(row.error());
  row->Set("access_token", session.access_token);
  row->Set("id_token", session.id_token);
  row->Set("refresh_token", session.refresh_token);
  row->Set("grants_json", GrantsToJson(session.grants));
  row->Set("grants_at", Time(session.grants_at));
  return store_->Upsert(SessionModel(), std::span(&*row, 1));
}

Result<WebSession> SessionStore::Find(std::string_view session_id) {
  if (session_id.empty()) return Fail(ErrorCode::kNotFound, "no session");
  auto row = Load(*store_, Sha256Hex(session_id), kSession, clock_());
  if (!row) return Fail(row.error());
  auto grants = ParseGrantsJson(row->GetString("grants_json"));
  if (!grants) return Fail(grants.error());
  WebSession s;
  s.subject = row->GetString("subject");
  s.name = row->GetString("name");
  s.access_token = row->GetString("access_token");
  s.id_token = row->GetString("id_token");
  s.refresh_token = row->GetString("refresh_token");
  s.grants = std::move(*grants);
  s.csrf_token = row->GetString("csrf_token");
  s.created_at = TimeOf(*row, "created_at");
  s.expires_at = TimeOf(*row, "expires_at");
  // A row written before grants_at existed counts as computed at sign-in.
  s.grants_at = model::IsNull(row->Get("grants_at")) ? s.created_at : TimeOf(*row, "grants_at");
  return s;
}

Status SessionStore::Delete(std::string_view session_id) {
  auto n = store_->Delete(SessionModel(), {KeyIs(Sha256Hex(session_id))});
  if (!n) return Fail(n.error());
  return Ok();
}

Status SessionStore::SaveLogin(std::string_view state, const PendingLogin& login) {
  model::Record r(SessionModel());
  r.Set("key", Sha256Hex(state));
  r.Set("kind", std::string(kLogin));
  r.Set("nonce", login.nonce);
  r.Set("code_verifier", login.code_verifier);
  r.Set("return_to", login.return_to);
  r.Set("created_at", Time(clock_()));
  r.Set("expires_at", Time(login.expires_at));
  return store_->Upsert(SessionModel(), std::span(&r, 1));
}

Result<PendingLogin> SessionStore::TakeLogin(std::string_view state) {
  if (state.empty()) return Fail(ErrorCode::kNotFound, "no login");
  std::string key = Sha256Hex(state);
  auto row = Load(*store_, key, kLogin, clock_());
  if (!row) return Fail(row.error());
  // Single use: only the request that deletes the row may complete the login.
  auto deleted = store_->Delete(SessionModel(), {KeyIs(key)});
  if (!deleted) return Fail(deleted.error());
  if (*deleted != 1) return Fail(ErrorCode::kNotFound, "login already used");
  PendingLogin login;
  login.nonce = row->GetString("nonce");
  login.code_verifier = row->GetString("code_verifier");
  login.return_to = row->GetString("return_to");
  login.expires_at = TimeOf(*row, "expires_at");
  return login;
}

Result<int64_t> SessionStore::DeleteExpired() {
  return store_->Delete(
      SessionModel(),
      {store::Filter::Less("expires_at", Time(clock_() + std::chrono::nanoseconds(1)))});
}

}  // namespace aitelemetry::auth
