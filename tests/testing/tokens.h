#pragma once

// Bearer tokens for authorization tests: valid HS256 tokens with chosen claims,
// and the ways a token can be wrong (expired, signed with another key, for
// another audience or issuer, unsigned).

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prima::testing {

// What the servers under test accept: their HS256 secret, issuer (empty when
// they do not check it) and audience.
struct TokenSettings {
  std::string secret;
  std::string issuer;
  std::string audience = "prima";
};

// Who the token speaks for.
struct TokenClaims {
  std::string subject;
  std::string agency;              // omitted when empty
  std::vector<std::string> roles;  // role names, e.g. "officer"
};

// How a minted token deviates from one the servers accept.
enum class TokenFlaw {
  kNone,           // valid for 10 minutes
  kExpired,        // expired an hour ago
  kBadSignature,   // signed with another secret
  kWrongAudience,  // `aud` names another audience
  kWrongIssuer,    // `iss` names another issuer
  kAlgNone,        // header says "alg": "none" (the HS256 signature is kept,
                   // so only the algorithm is wrong)
};

// "Bearer <jwt>" for `claims` with `flaw`; fails the test (and returns "") if
// minting fails.
std::string BearerToken(const TokenSettings& settings,
                        const TokenClaims& claims,
                        TokenFlaw flaw = TokenFlaw::kNone,
                        absl::Time now = absl::Now());

}  // namespace prima::testing
