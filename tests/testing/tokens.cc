#include "tests/testing/tokens.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"

namespace prima::testing {

std::string BearerToken(const TokenSettings& settings,
                        const TokenClaims& claims, TokenFlaw flaw,
                        absl::Time now) {
  MintRequest request;
  request.secret = settings.secret;
  request.subject = claims.subject;
  request.agency = claims.agency;
  request.roles = claims.roles;
  request.issuer = settings.issuer;
  request.audience = settings.audience;
  request.now = now;
  request.ttl = absl::Minutes(10);
  switch (flaw) {
    case TokenFlaw::kNone:
    case TokenFlaw::kAlgNone:
      break;
    case TokenFlaw::kExpired:
      request.now = now - absl::Hours(2);
      request.ttl = absl::Hours(1);
      break;
    case TokenFlaw::kBadSignature:
      // As long as a real secret (MintHs256Token wants 32 bytes), but another.
      request.secret = absl::StrCat("not-", settings.secret);
      break;
    case TokenFlaw::kWrongAudience:
      request.audience = absl::StrCat("not-", settings.audience);
      break;
    case TokenFlaw::kWrongIssuer:
      request.issuer = absl::StrCat("not-", settings.issuer);
      break;
  }
  absl::StatusOr<std::string> token = MintHs256Token(request);
  EXPECT_TRUE(token.ok()) << token.status();
  if (!token.ok()) return "";
  if (flaw == TokenFlaw::kAlgNone) {
    const std::string header =
        absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})");
    *token = absl::StrCat(header, token->substr(token->find('.')));
  }
  return absl::StrCat("Bearer ", *token);
}

}  // namespace prima::testing
