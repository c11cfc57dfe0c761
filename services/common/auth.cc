#include "services/common/auth.h"

#include <grpcpp/server_context.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "jwt/jwt.hpp"
#include "services/common/logging.h"
#include "services/common/request_bounds.h"

namespace prima {
namespace {

// cpp-jwt's base64 decoder indexes a table with (signed) char values and
// asserts/reads out of bounds on bytes >= 0x80, so nothing reaches it before
// the shape check below.
constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMinSecretBytes = 32;

struct RoleEntry {
  Role role;
  absl::string_view name;
};
constexpr RoleEntry kRoleNames[] = {
    {Role::kCitizen, "citizen"},          {Role::kOfficer, "officer"},
    {Role::kSupervisor, "supervisor"},    {Role::kAgencyAdmin, "agency_admin"},
    {Role::kRegionAdmin, "region_admin"},
};

absl::Status Unauthenticated(absl::string_view reason) {
  return absl::UnauthenticatedError(reason);
}

// A short, escaped, quoted value for messages.
std::string Quote(absl::string_view value) {
  constexpr size_t kMax = 40;
  std::string text(value.substr(0, kMax));
  if (value.size() > kMax) text += "...";
  return absl::StrCat("\"", JsonEscape(text), "\"");
}

bool IsBase64UrlChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

// Three non-empty base64url parts separated by two dots, nothing else.
bool HasJwsShape(absl::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  int dots = 0;
  size_t part_len = 0;
  for (char c : token) {
    if (c == '.') {
      if (part_len == 0) return false;
      ++dots;
      part_len = 0;
    } else if (IsBase64UrlChar(c)) {
      ++part_len;
    } else {
      return false;
    }
  }
  return dots == 2 && part_len > 0;
}

// RSA public key from PEM text, or null.
std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ReadRsaPublicKey(
    const std::string& pem) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> none(nullptr,
                                                           &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return none;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
      &EVP_PKEY_free);
  ERR_clear_error();
  if (key == nullptr || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return none;
  }
  return key;
}

// Checks the JWS signature over "<header>.<payload>" with the configured key.
bool SignatureValid(const JwtSettings& settings, absl::string_view token) {
  const size_t last_dot = token.rfind('.');
  const absl::string_view input = token.substr(0, last_dot);
  const absl::string_view signature = token.substr(last_dot + 1);
  const jwt::string_view jinput(input.data(), input.size());
  const jwt::string_view jsig(signature.data(), signature.size());
  if (!settings.hs256_secret.empty()) {
    // cpp-jwt compares HMACs with operator==; compute the MAC with it and
    // compare in constant time instead.
    jwt::sign_result_t mac = jwt::HMACSign<jwt::algo::HS256>::sign(
        jwt::string_view(settings.hs256_secret.data(),
                         settings.hs256_secret.size()),
        jinput);
    if (mac.second) return false;
    const std::string expected = absl::WebSafeBase64Escape(mac.first);
    return expected.size() == signature.size() &&
           CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) ==
               0;
  }
  jwt::verify_result_t result = jwt::PEMSign<jwt::algo::RS256>::verify(
      jwt::string_view(settings.rs256_public_key_pem.data(),
                       settings.rs256_public_key_pem.size()),
      jinput, jsig);
  ERR_clear_error();
  return !result.second && result.first;
}

// A NumericDate claim as seconds since the epoch.
bool NumericDate(const json_t& value, double* seconds) {
  if (!value.is_number()) return false;
  *seconds = value.get<double>();
  return true;
}

bool AudienceMatches(const json_t& aud, const std::string& audience) {
  if (aud.is_string()) return aud.get<std::string>() == audience;
  if (!aud.is_array()) return false;
  for (const json_t& item : aud) {
    if (item.is_string() && item.get<std::string>() == audience) return true;
  }
  return false;
}

// `not_before`/`expires` receive the token's validity window on success.
absl::StatusOr<Principal> VerifyToken(const JwtSettings& settings,
                                      absl::string_view token, absl::Time now,
                                      absl::Time* not_before,
                                      absl::Time* expires) {
  if (!HasJwsShape(token)) return Unauthenticated("malformed token");
  const bool hs256 = !settings.hs256_secret.empty();
  const std::string want_alg = hs256 ? "HS256" : "RS256";

  // Parse only: cpp-jwt's own verification checks exp/nbf against the system
  // clock and matches "alg" case-insensitively, so claims are checked below
  // against `now` and the signature separately.
  std::error_code ec;
  jwt::jwt_object decoded = jwt::decode(
      jwt::string_view(token.data(), token.size()),
      jwt::params::algorithms({want_alg}), ec, jwt::params::verify(false));
  if (ec) return Unauthenticated("malformed token");

  const json_t& header = decoded.header().create_json_obj();
  if (!header.is_object()) return Unauthenticated("malformed token");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Unauthenticated("malformed token");
  }
  const std::string alg_name = alg->get<std::string>();
  if (absl::EqualsIgnoreCase(alg_name, "none")) {
    return Unauthenticated("unsigned token (alg none) not accepted");
  }
  if (alg_name != want_alg) {
    return Unauthenticated(
        absl::StrCat("algorithm not accepted (expected ", want_alg, ")"));
  }
  if (header.contains("crit")) {
    return Unauthenticated("unsupported critical header");
  }
  if (!SignatureValid(settings, token)) return Unauthenticated("bad signature");

  const json_t& claims = decoded.payload().create_json_obj();
  if (!claims.is_object()) return Unauthenticated("malformed token");
  const double now_seconds = absl::ToDoubleSeconds(now - absl::UnixEpoch());

  auto exp = claims.find("exp");
  if (exp == claims.end()) return Unauthenticated("missing exp claim");
  double exp_seconds = 0;
  if (!NumericDate(*exp, &exp_seconds)) {
    return Unauthenticated("malformed exp claim");
  }
  if (now_seconds >= exp_seconds) return Unauthenticated("token expired");
  *expires = absl::UnixEpoch() + absl::Seconds(exp_seconds);
  *not_before = absl::InfinitePast();

  auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    double nbf_seconds = 0;
    if (!NumericDate(*nbf, &nbf_seconds)) {
      return Unauthenticated("malformed nbf claim");
    }
    *not_before = absl::UnixEpoch() + absl::Seconds(nbf_seconds);
    if (now_seconds < nbf_seconds)
      return Unauthenticated("token not yet valid");
  }

  if (!settings.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() ||
        iss->get<std::string>() != settings.issuer) {
      return Unauthenticated("wrong issuer");
    }
  }

  auto aud = claims.find("aud");
  if (aud == claims.end()) return Unauthenticated("missing aud claim");
  if (!AudienceMatches(*aud, settings.audience)) {
    return Unauthenticated("wrong audience");
  }

  Principal principal;
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() ||
      sub->get<std::string>().empty()) {
    return Unauthenticated("missing sub claim");
  }
  principal.subject = sub->get<std::string>();

  auto agency = claims.find("agency");
  if (agency != claims.end() && !agency->is_null()) {
    if (!agency->is_string()) return Unauthenticated("malformed agency claim");
    principal.agency = agency->get<std::string>();
  }

  auto roles = claims.find("roles");
  if (roles != claims.end() && !roles->is_null()) {
    if (!roles->is_array()) return Unauthenticated("malformed roles claim");
    for (const json_t& item : *roles) {
      if (!item.is_string()) return Unauthenticated("malformed roles claim");
      const std::string name = item.get<std::string>();
      absl::StatusOr<Role> role = ParseRole(name);
      if (!role.ok()) {
        return Unauthenticated(absl::StrCat("unknown role ", Quote(name)));
      }
      principal.roles |= static_cast<RoleSet>(*role);
    }
  }
  principal.authenticated = true;
  return principal;
}

std::string RoleList(RoleSet set) {
  std::vector<absl::string_view> names;
  for (const RoleEntry& entry : kRoleNames) {
    if ((set & static_cast<RoleSet>(entry.role)) != 0) {
      names.push_back(entry.name);
    }
  }
  if (names.empty()) return "(none)";
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (const RoleEntry& entry : kRoleNames) {
    if (entry.name == name) return entry.role;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role ", Quote(name),
                   "; expected citizen, officer, supervisor, agency_admin or "
                   "region_admin"));
}

absl::string_view RoleName(Role role) {
  for (const RoleEntry& entry : kRoleNames) {
    if (entry.role == role) return entry.name;
  }
  return "unknown";
}

// ---------------------------------------------------------------- JwtVerifier

JwtVerifier::JwtVerifier(const JwtSettings& settings) : settings_(settings) {}
JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(
    const JwtSettings& settings) {
  const bool has_secret = !settings.hs256_secret.empty();
  const bool has_key = !settings.rs256_public_key_pem.empty();
  if (has_secret == has_key) {
    return absl::InvalidArgumentError(
        "jwt: exactly one of an HS256 secret and an RS256 public key must be "
        "set");
  }
  if (has_secret && settings.hs256_secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "jwt: the HS256 secret must be at least ", kMinSecretBytes, " bytes"));
  }
  if (has_key && ReadRsaPublicKey(settings.rs256_public_key_pem) == nullptr) {
    return absl::InvalidArgumentError(
        "jwt: the RS256 key is not a PEM RSA public key");
  }
  if (settings.audience.empty()) {
    return absl::InvalidArgumentError("jwt: the audience must not be empty");
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(settings));
}

absl::StatusOr<Principal> JwtVerifier::Verify(absl::string_view token,
                                              absl::Time now) const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest);
  const std::string key(reinterpret_cast<const char*>(digest), sizeof(digest));
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now >= it->second.not_before &&
        now < it->second.expires) {
      return it->second.principal;
    }
  }
  // cpp-jwt and nlohmann::json report some failures by throwing.
  try {
    Verified verified;
    absl::StatusOr<Principal> principal = VerifyToken(
        settings_, token, now, &verified.not_before, &verified.expires);
    if (principal.ok()) {
      verified.principal = *principal;
      absl::MutexLock lock(&mu_);
      if (cache_.size() >= kMaxCachedTokens) cache_.clear();
      cache_.insert_or_assign(key, std::move(verified));
    }
    return principal;
  } catch (const std::exception&) {
    ERR_clear_error();
    return Unauthenticated("malformed token");
  } catch (...) {
    return Unauthenticated("malformed token");
  }
}

// ------------------------------------------------------------------- minting

absl::StatusOr<std::string> MintHs256Token(const MintRequest& request) {
  if (request.secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret: must be at least ", kMinSecretBytes,
                     " bytes; got ", request.secret.size()));
  }
  if (request.subject.empty()) {
    return absl::InvalidArgumentError("subject: must not be empty");
  }
  if (request.audience.empty()) {
    return absl::InvalidArgumentError("audience: must not be empty");
  }
  if (request.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl: must be positive");
  }
  std::vector<std::string> roles;
  for (const std::string& name : request.roles) {
    absl::StatusOr<Role> role = ParseRole(name);
    if (!role.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("roles: ", role.status().message()));
    }
    roles.emplace_back(RoleName(*role));
  }
  try {
    jwt::jwt_object token{jwt::params::algorithm("HS256"),
                          jwt::params::secret(jwt::string_view(
                              request.secret.data(), request.secret.size()))};
    token.add_claim("sub", request.subject);
    if (!request.agency.empty()) token.add_claim("agency", request.agency);
    token.add_claim("roles", roles);
    token.add_claim("iat", absl::ToUnixSeconds(request.now));
    token.add_claim("exp", absl::ToUnixSeconds(request.now + request.ttl));
    token.add_claim("aud", request.audience);
    if (!request.issuer.empty()) token.add_claim("iss", request.issuer);
    std::error_code ec;
    std::string encoded = token.signature(ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("signing the token failed: ", ec.message()));
    }
    return encoded;
  } catch (const json_t::type_error&) {
    // nlohmann::json refuses to serialise invalid UTF-8.
    return absl::InvalidArgumentError("claims must be valid UTF-8 text");
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("signing the token failed: ", e.what()));
  }
}

// ---------------------------------------------------------------- Authorizer

Authorizer::Authorizer(const JwtVerifier* verifier, const Clock* clock,
                       std::vector<RpcPolicy> policies)
    : verifier_(verifier), clock_(clock), policies_(std::move(policies)) {}

absl::StatusOr<Principal> Authorizer::Authorize(
    absl::string_view authorization, absl::string_view method,
    absl::string_view request_agency) const {
  const RpcPolicy* policy = nullptr;
  for (const RpcPolicy& candidate : policies_) {
    if (candidate.method == method) {
      policy = &candidate;
      break;
    }
  }
  if (policy == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("no access policy for ", method));
  }

  // "Bearer <jwt>", the scheme case-insensitive.
  absl::string_view header = absl::StripAsciiWhitespace(authorization);
  if (header.empty()) {
    if (policy->is_public) return Principal();
    return Unauthenticated(
        absl::StrCat(method,
                     " requires a bearer token (authorization: "
                     "Bearer <jwt>)"));
  }
  constexpr absl::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(header, kScheme) ||
      !absl::ascii_isspace(
          static_cast<unsigned char>(header[kScheme.size()]))) {
    return Unauthenticated("authorization metadata must be \"Bearer <jwt>\"");
  }
  absl::string_view token =
      absl::StripLeadingAsciiWhitespace(header.substr(kScheme.size()));

  absl::StatusOr<Principal> principal = verifier_->Verify(token, clock_->Now());
  if (!principal.ok()) return principal.status();
  if (policy->is_public) return principal;

  if (!principal->HasAny(policy->roles)) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " requires one of the roles: ", RoleList(policy->roles)));
  }
  if (policy->same_agency && !request_agency.empty() &&
      principal->agency != request_agency &&
      !principal->Has(Role::kRegionAdmin)) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, ": the caller may not act for agency ", Quote(request_agency)));
  }
  return principal;
}

absl::StatusOr<Principal> Authorizer::Admit(
    const grpc::ServerContextBase& context, absl::string_view method,
    absl::string_view request_agency,
    const google::protobuf::Message& request) const {
  const auto& metadata = context.client_metadata();
  auto range = metadata.equal_range("authorization");
  if (range.first != range.second && std::next(range.first) != range.second) {
    return Unauthenticated("more than one authorization metadata entry");
  }
  absl::string_view value;
  if (range.first != range.second) {
    value = absl::string_view(range.first->second.data(),
                              range.first->second.size());
  }
  absl::StatusOr<Principal> principal =
      Authorize(value, method, request_agency);
  if (!principal.ok()) return principal.status();
  if (absl::Status bounds = CheckRequestBounds(request); !bounds.ok()) {
    return bounds;
  }
  principal->request_fingerprint = RequestFingerprint(request);
  return principal;
}

absl::Status CheckSameAgency(const Principal& principal,
                             absl::string_view resource_agency) {
  if (resource_agency.empty() || principal.Has(Role::kRegionAdmin) ||
      principal.agency == resource_agency) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the resource belongs to agency ", Quote(resource_agency),
                   ", not the caller's"));
}

prima::common::v1::Actor ActorProto(const Principal& principal) {
  prima::common::v1::Actor actor;
  actor.set_subject(principal.subject);
  actor.set_agency(principal.agency);
  const std::pair<Role, prima::common::v1::Role> map[] = {
      {Role::kCitizen, prima::common::v1::ROLE_CITIZEN},
      {Role::kOfficer, prima::common::v1::ROLE_OFFICER},
      {Role::kSupervisor, prima::common::v1::ROLE_SUPERVISOR},
      {Role::kAgencyAdmin, prima::common::v1::ROLE_AGENCY_ADMIN},
      {Role::kRegionAdmin, prima::common::v1::ROLE_REGION_ADMIN}};
  for (const auto& [role, proto] : map) {
    if (principal.Has(role)) actor.add_roles(proto);
  }
  return actor;
}

}  // namespace prima
