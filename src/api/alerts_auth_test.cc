#include "api/alerts_auth.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace aitelemetry::api {
namespace {

// Tokens the fake validator knows: "realm-role", "client-role", "other-client-role", "no-role"
// are valid; "keys-down" fails as an unreachable issuer would; anything else is refused.
Result<auth::Claims> FakeValidate(std::string_view token) {
  auth::Claims c;
  c.subject = "service-account-alertmanager";
  c.azp = "alertmanager";
  if (token == "realm-role") {
    c.realm_roles = {"offline_access", "aitelemetry-alerts"};
  } else if (token == "client-role") {
    c.client_roles["ai-telemetry"] = {"aitelemetry-alerts"};
  } else if (token == "other-client-role") {
    c.client_roles["another-app"] = {"aitelemetry-alerts"};
  } else if (token == "no-role") {
    c.realm_roles = {"offline_access"};
  } else if (token == "keys-down") {
    return Fail(ErrorCode::kUnavailable, "issuer unreachable");
  } else {
    return Fail(ErrorCode::kUnauthenticated, "signature");
  }
  return c;
}

http::Request WithAuthorization(std::string value) {
  http::Request r;
  r.method = "POST";
  r.path = "/api/alerts";
  r.remote_address = "192.0.2.1";
  if (!value.empty()) r.headers.emplace_back("authorization", std::move(value));
  return r;
}

int StatusOf(const AlertsAuthenticator& a, const http::Request& r) {
  auto refusal = a.Check(r);
  return refusal ? refusal->status : 200;
}

TEST(AlertsAuthenticator, StaticTokenAndRolesEitherMayMatch) {
  AlertsAuthOptions o;
  o.bearer_token = "static-s3cret";
  o.jwt_roles = {"aitelemetry-alerts"};
  o.client_id = "ai-telemetry";
  AlertsAuthenticator a(o, FakeValidate);
  struct Case {
    std::string authorization;
    int status;
  } cases[] = {
      {"Bearer static-s3cret", 200},
      {"bearer static-s3cret", 200},
      {"Bearer realm-role", 200},
      {"Bearer client-role", 200},
      {"Bearer other-client-role", 403},
      {"Bearer no-role", 403},
      {"Bearer forged", 401},
      {"Bearer static-s3cretx", 401},
      {"Basic static-s3cret", 401},
      {"static-s3cret", 401},
      {"", 401},
      {"Bearer keys-down", 503},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(StatusOf(a, WithAuthorization(c.authorization)), c.status) << c.authorization;
  }
  auto refusal = a.Check(WithAuthorization("Bearer forged"));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->Header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
}

TEST(AlertsAuthenticator, StaticTokenAloneNeverCallsTheValidator) {
  AlertsAuthOptions o;
  o.bearer_token = "static-s3cret";
  AlertsAuthenticator a(o, [](std::string_view) -> Result<auth::Claims> {
    ADD_FAILURE() << "no access tokens are configured";
    return Fail(ErrorCode::kInternal, "called");
  });
  EXPECT_EQ(StatusOf(a, WithAuthorization("Bearer static-s3cret")), 200);
  EXPECT_EQ(StatusOf(a, WithAuthorization("Bearer realm-role")), 401);
}

TEST(AlertsAuthenticator, ClientCertificateIsRequiredOnTopOfTheToken) {
  AlertsAuthOptions o;
  o.bearer_token = "static-s3cret";
  o.require_client_certificate = true;
  o.client_subjects = {"alertmanager.example"};
  AlertsAuthenticator a(o, FakeValidate);
  auto good = std::make_shared<http::ClientCertificate>();
  good->verified = true;
  good->subject = "CN=alertmanager,O=Example";
  good->common_name = "alertmanager";
  good->alt_names = {"alertmanager.example"};
  http::Request r = WithAuthorization("Bearer static-s3cret");
  EXPECT_EQ(StatusOf(a, r), 403) << "no certificate";
  r.client_certificate = good;
  EXPECT_EQ(StatusOf(a, r), 200);
  EXPECT_EQ(StatusOf(a,
                     [&] {
                       http::Request no_token = WithAuthorization("");
                       no_token.client_certificate = good;
                       return no_token;
                     }()),
            401);
  auto foreign = std::make_shared<http::ClientCertificate>(*good);
  foreign->verified = false;
  r.client_certificate = foreign;
  EXPECT_EQ(StatusOf(a, r), 403) << "another CA";
  auto other = std::make_shared<http::ClientCertificate>(*good);
  other->alt_names = {"grafana.example"};
  r.client_certificate = other;
  EXPECT_EQ(StatusOf(a, r), 403) << "not one of the subjects";

  AlertsAuthOptions cert_only;
  cert_only.require_client_certificate = true;
  AlertsAuthenticator c(cert_only, nullptr);
  http::Request bare = WithAuthorization("");
  EXPECT_EQ(StatusOf(c, bare), 403);
  bare.client_certificate = other;
  EXPECT_EQ(StatusOf(c, bare), 200) << "any certificate of the CA without client_subjects";
}

TEST(CertificateRefusal, MatchesCommonNameAltNameOrWholeSubject) {
  http::ClientCertificate cert;
  cert.verified = true;
  cert.subject = "CN=am,OU=monitoring,O=Example";
  cert.common_name = "am";
  cert.alt_names = {"am.example", "spiffe://example/am"};
  EXPECT_EQ(CertificateRefusal(&cert, {}), "");
  EXPECT_EQ(CertificateRefusal(&cert, {"am"}), "");
  EXPECT_EQ(CertificateRefusal(&cert, {"x", "spiffe://example/am"}), "");
  EXPECT_EQ(CertificateRefusal(&cert, {"CN=am,OU=monitoring,O=Example"}), "");
  EXPECT_NE(CertificateRefusal(&cert, {"AM", "am.example.org", "O=Example"}), "");
  EXPECT_NE(CertificateRefusal(nullptr, {}), "");
}

TEST(AlertsRefusal, NonLoopbackWebhookNeedsAuthenticationUnlessDisabled) {
  config::Config c;
  c.listen = "0.0.0.0:8080";
  std::string refusal = AlertsRefusal(c, false);
  EXPECT_NE(refusal.find("alerts.bearer_token_file"), std::string::npos);
  EXPECT_EQ(refusal.find('\n'), std::string::npos);
  EXPECT_EQ(AlertsRefusal(c, true), "");
  c.alerts.enabled = false;
  EXPECT_EQ(AlertsRefusal(c, false), "");
  c.alerts.enabled = true;
  for (auto set : {+[](config::AlertsConfig& a) { a.bearer_token_file = "/t"; },
                   +[](config::AlertsConfig& a) { a.jwt_roles = {"r"}; },
                   +[](config::AlertsConfig& a) { a.client_ca_file = "/ca"; }}) {
    config::Config d = c;
    set(d.alerts);
    EXPECT_EQ(AlertsRefusal(d, false), "");
  }
}

}  // namespace
}  // namespace aitelemetry::api
