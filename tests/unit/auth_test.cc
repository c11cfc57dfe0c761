#include "services/common/auth.h"

#include <grpcpp/server_context.h>
#include <grpcpp/test/server_context_test_spouse.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prima/queue/v1/queue.pb.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "tests/testing/keys.h"

namespace prima {
namespace {

// Far from the real clock on purpose: verification must use `now`, not the
// system time.
const absl::Time kNow = absl::FromUnixSeconds(2'000'000'000);   // 2033
const absl::Time kPast = absl::FromUnixSeconds(1'000'000'000);  // 2001
const std::string kSecret = "0123456789abcdef0123456789abcdef-prima";
const std::string kOtherSecret = "another-secret-that-is-long-enough-000";

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string PublicPem(EVP_PKEY* key) {
  std::string pem = testing::PublicKeyPem(key);
  EXPECT_FALSE(pem.empty());
  return pem;
}

// One RSA key pair for the whole binary (generation takes a moment).
EVP_PKEY* RsaKey() {
  static EVP_PKEY* key = EVP_RSA_gen(2048);
  return key;
}
EVP_PKEY* OtherRsaKey() {
  static EVP_PKEY* key = EVP_RSA_gen(2048);
  return key;
}

std::string B64(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

// A token with the given header and payload JSON, HMAC-SHA256 signed.
std::string HsToken(const std::string& header, const std::string& payload,
                    const std::string& secret) {
  const std::string input = B64(header) + "." + B64(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &len);
  return input + "." +
         B64(absl::string_view(reinterpret_cast<char*>(mac), len));
}

// A token with the given header and payload JSON, RSA-SHA256 signed.
std::string RsToken(const std::string& header, const std::string& payload,
                    EVP_PKEY* key) {
  const std::string input = B64(header) + "." + B64(payload);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key),
            1);
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len,
                           reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string sig(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len,
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()),
      1);
  sig.resize(len);
  return input + "." + B64(sig);
}

constexpr char kHs256Header[] = R"({"alg":"HS256","typ":"JWT"})";
constexpr char kRs256Header[] = R"({"alg":"RS256","typ":"JWT"})";

// Claims valid at kNow.
std::string Claims(absl::string_view extra = "") {
  return absl::StrCat(R"({"sub":"officer-7","agency":"dukcapil",)",
                      R"("roles":["officer"],"aud":"prima",)", R"("iat":)",
                      absl::ToUnixSeconds(kNow), R"(,"exp":)",
                      absl::ToUnixSeconds(kNow + absl::Hours(1)), extra, "}");
}

JwtSettings HsSettings(std::string issuer = "") {
  JwtSettings settings;
  settings.hs256_secret = kSecret;
  settings.issuer = std::move(issuer);
  return settings;
}

JwtSettings RsSettings() {
  JwtSettings settings;
  settings.rs256_public_key_pem = PublicPem(RsaKey());
  return settings;
}

std::unique_ptr<JwtVerifier> MakeVerifier(const JwtSettings& settings) {
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::Create(settings);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

MintRequest Mint(std::vector<std::string> roles = {"officer"}) {
  MintRequest request;
  request.secret = kSecret;
  request.subject = "officer-7";
  request.agency = "dukcapil";
  request.roles = std::move(roles);
  request.now = kNow;
  request.ttl = absl::Hours(1);
  return request;
}

std::string MintOrDie(const MintRequest& request) {
  absl::StatusOr<std::string> token = MintHs256Token(request);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

// The failure is UNAUTHENTICATED, mentions `reason` and never the token.
void ExpectRejected(const JwtVerifier& verifier, const std::string& token,
                    absl::string_view reason, absl::Time now = kNow) {
  absl::StatusOr<Principal> principal = verifier.Verify(token, now);
  ASSERT_FALSE(principal.ok()) << "accepted: " << token;
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated)
      << principal.status();
  EXPECT_TRUE(absl::StrContains(principal.status().message(), reason))
      << principal.status() << " (wanted: " << reason << ")";
  if (token.size() > 8) {
    EXPECT_FALSE(absl::StrContains(principal.status().message(), token));
    for (absl::string_view part : absl::StrSplit(token, '.')) {
      if (part.size() > 8) {
        EXPECT_FALSE(absl::StrContains(principal.status().message(), part));
      }
    }
  }
}

// ------------------------------------------------------------------- roles

TEST(RoleTest, NamesRoundTrip) {
  for (Role role : {Role::kCitizen, Role::kOfficer, Role::kSupervisor,
                    Role::kAgencyAdmin, Role::kRegionAdmin}) {
    absl::StatusOr<Role> parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, role);
  }
  EXPECT_EQ(RoleName(Role::kAgencyAdmin), "agency_admin");
  EXPECT_EQ(ParseRole("admin").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseRole("Officer").ok());
  EXPECT_FALSE(ParseRole("").ok());
}

// ------------------------------------------------------------------ create

TEST(JwtVerifierCreateTest, RejectsBadSettings) {
  JwtSettings neither;
  EXPECT_EQ(JwtVerifier::Create(neither).status().code(),
            absl::StatusCode::kInvalidArgument);

  JwtSettings both = RsSettings();
  both.hs256_secret = kSecret;
  EXPECT_EQ(JwtVerifier::Create(both).status().code(),
            absl::StatusCode::kInvalidArgument);

  JwtSettings short_secret;
  short_secret.hs256_secret = std::string(31, 'x');
  EXPECT_EQ(JwtVerifier::Create(short_secret).status().code(),
            absl::StatusCode::kInvalidArgument);

  JwtSettings bad_pem;
  bad_pem.rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n";
  EXPECT_EQ(JwtVerifier::Create(bad_pem).status().code(),
            absl::StatusCode::kInvalidArgument);

  Pkey ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  ASSERT_NE(ec, nullptr);
  JwtSettings ec_key;
  ec_key.rs256_public_key_pem = PublicPem(ec.get());
  EXPECT_EQ(JwtVerifier::Create(ec_key).status().code(),
            absl::StatusCode::kInvalidArgument);

  JwtSettings no_audience = HsSettings();
  no_audience.audience = "";
  EXPECT_EQ(JwtVerifier::Create(no_audience).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ------------------------------------------------------------------- HS256

TEST(JwtVerifierTest, ValidHs256MintedToken) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string token = MintOrDie(Mint({"officer", "supervisor"}));
  absl::StatusOr<Principal> principal = verifier->Verify(token, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_TRUE(principal->authenticated);
  EXPECT_EQ(principal->subject, "officer-7");
  EXPECT_EQ(principal->agency, "dukcapil");
  EXPECT_EQ(principal->roles, Roles({Role::kOfficer, Role::kSupervisor}));
  EXPECT_TRUE(principal->Has(Role::kSupervisor));
  EXPECT_FALSE(principal->Has(Role::kRegionAdmin));
}

TEST(JwtVerifierTest, UsesTheGivenNowNotTheSystemClock) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  // Issued and valid in 2001: long expired by the real clock.
  MintRequest past = Mint();
  past.now = kPast;
  const std::string old_token = MintOrDie(past);
  EXPECT_TRUE(verifier->Verify(old_token, kPast + absl::Minutes(59)).ok());
  ExpectRejected(*verifier, old_token, "token expired", absl::Now());
  // Valid from 2033 only: not yet valid by the real clock.
  const std::string future = HsToken(
      kHs256Header,
      Claims(absl::StrCat(R"(,"nbf":)", absl::ToUnixSeconds(kNow))), kSecret);
  EXPECT_TRUE(verifier->Verify(future, kNow).ok());
  ExpectRejected(*verifier, future, "token not yet valid", absl::Now());
}

TEST(JwtVerifierTest, Expired) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string token = MintOrDie(Mint());
  EXPECT_TRUE(verifier->Verify(token, kNow + absl::Minutes(59)).ok());
  ExpectRejected(*verifier, token, "token expired", kNow + absl::Hours(1));
  ExpectRejected(*verifier, token, "token expired", kNow + absl::Hours(2));
}

TEST(JwtVerifierTest, ExpIsRequiredAndNumeric) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  ExpectRejected(
      *verifier,
      HsToken(kHs256Header, R"({"sub":"x","aud":"prima","roles":["citizen"]})",
              kSecret),
      "missing exp claim");
  ExpectRejected(
      *verifier,
      HsToken(kHs256Header,
              R"({"sub":"x","aud":"prima","exp":"2100-01-01T00:00:00Z"})",
              kSecret),
      "malformed exp claim");
}

TEST(JwtVerifierTest, NotYetValid) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      HsToken(kHs256Header,
              Claims(absl::StrCat(
                  R"(,"nbf":)", absl::ToUnixSeconds(kNow + absl::Minutes(5)))),
              kSecret);
  ExpectRejected(*verifier, token, "token not yet valid");
  EXPECT_TRUE(verifier->Verify(token, kNow + absl::Minutes(5)).ok());
}

TEST(JwtVerifierTest, CachedResultKeepsTheTokensValidityWindow) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      HsToken(kHs256Header,
              Claims(absl::StrCat(
                  R"(,"nbf":)", absl::ToUnixSeconds(kNow + absl::Minutes(5)))),
              kSecret);
  // Verified (and cached) inside the window...
  absl::StatusOr<Principal> first =
      verifier->Verify(token, kNow + absl::Minutes(10));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Principal> again =
      verifier->Verify(token, kNow + absl::Minutes(11));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->subject, first->subject);
  EXPECT_EQ(again->roles, first->roles);
  // ...but the cache never widens it on either side.
  ExpectRejected(*verifier, token, "token not yet valid", kNow);
  ExpectRejected(*verifier, token, "token expired", kNow + absl::Hours(1));
}

TEST(JwtVerifierTest, WrongSignature) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  MintRequest other = Mint();
  other.secret = kOtherSecret;
  ExpectRejected(*verifier, MintOrDie(other), "bad signature");

  // A valid token with its payload swapped for one granting more roles.
  std::vector<std::string> parts = absl::StrSplit(MintOrDie(Mint()), '.');
  ASSERT_EQ(parts.size(), 3u);
  const std::string forged =
      parts[0] + "." +
      B64(absl::StrCat(R"({"sub":"officer-7","roles":["region_admin"],)",
                       R"("aud":"prima","exp":)",
                       absl::ToUnixSeconds(kNow + absl::Hours(1)), "}")) +
      "." + parts[2];
  ExpectRejected(*verifier, forged, "bad signature");
}

TEST(JwtVerifierTest, WrongAudience) {
  JwtSettings settings = HsSettings();
  settings.audience = "prima-jatim";
  auto verifier = MakeVerifier(settings);
  ASSERT_NE(verifier, nullptr);
  ExpectRejected(*verifier, MintOrDie(Mint()), "wrong audience");

  // `aud` may be an array containing the audience.
  const std::string exp =
      absl::StrCat(absl::ToUnixSeconds(kNow + absl::Hours(1)));
  EXPECT_TRUE(
      verifier
          ->Verify(HsToken(kHs256Header,
                           R"({"sub":"x","aud":["other","prima-jatim"],)"
                           R"("exp":)" +
                               exp + "}",
                           kSecret),
                   kNow)
          .ok());
  ExpectRejected(
      *verifier,
      HsToken(kHs256Header,
              R"({"sub":"x","aud":["other","prima"],"exp":)" + exp + "}",
              kSecret),
      "wrong audience");
  ExpectRejected(*verifier,
                 HsToken(kHs256Header,
                         R"({"sub":"x","aud":7,"exp":)" + exp + "}", kSecret),
                 "wrong audience");
  ExpectRejected(
      *verifier,
      HsToken(kHs256Header, R"({"sub":"x","exp":)" + exp + "}", kSecret),
      "missing aud claim");
}

TEST(JwtVerifierTest, Issuer) {
  auto verifier = MakeVerifier(HsSettings("https://sso.jatimprov.go.id"));
  ASSERT_NE(verifier, nullptr);
  MintRequest request = Mint();
  ExpectRejected(*verifier, MintOrDie(request), "wrong issuer");  // no iss
  request.issuer = "https://evil.example";
  ExpectRejected(*verifier, MintOrDie(request), "wrong issuer");
  request.issuer = "https://sso.jatimprov.go.id";
  EXPECT_TRUE(verifier->Verify(MintOrDie(request), kNow).ok());

  // Without a configured issuer, any iss is fine.
  auto lenient = MakeVerifier(HsSettings());
  ASSERT_NE(lenient, nullptr);
  request.issuer = "https://anyone.example";
  EXPECT_TRUE(lenient->Verify(MintOrDie(request), kNow).ok());
}

TEST(JwtVerifierTest, AlgNoneIsRejected) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string payload = B64(Claims());
  for (const char* header :
       {R"({"alg":"none","typ":"JWT"})", R"({"alg":"None","typ":"JWT"})",
        R"({"alg":"NONE"})"}) {
    ExpectRejected(*verifier, B64(header) + "." + payload + ".", "");
    ExpectRejected(*verifier, B64(header) + "." + payload + ".c2ln", "");
  }
  absl::StatusOr<Principal> principal = verifier->Verify(
      B64(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".c2ln", kNow);
  EXPECT_TRUE(absl::StrContains(principal.status().message(), "alg none"))
      << principal.status();
}

TEST(JwtVerifierTest, OnlyTheConfiguredAlgorithm) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  // Correctly HMAC-SHA256 signed, but the header spells the algorithm in
  // lower case (cpp-jwt itself matches case-insensitively).
  ExpectRejected(*verifier,
                 HsToken(R"({"alg":"hs256","typ":"JWT"})", Claims(), kSecret),
                 "algorithm not accepted");
  ExpectRejected(*verifier,
                 HsToken(R"({"alg":"HS512","typ":"JWT"})", Claims(), kSecret),
                 "algorithm not accepted");
  // An RS256 token against an HS256 verifier.
  ExpectRejected(*verifier, RsToken(kRs256Header, Claims(), RsaKey()),
                 "algorithm not accepted");
  ExpectRejected(
      *verifier,
      HsToken(R"({"alg":"HS256","crit":["exp"]})", Claims(), kSecret),
      "unsupported critical header");
}

TEST(JwtVerifierTest, GarbageTokens) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string good = MintOrDie(Mint());
  const std::string payload = B64(Claims());
  const std::vector<std::string> garbage = {
      "",
      "abc",
      "a.b",
      "a.b.c",
      "..",
      "a..c",
      ".b.c",
      "a.b.c.d",
      good + ".extra",
      good + "=",
      "Bearer " + good,
      good.substr(0, good.size() - 1) + "\xff",
      "\x80\x81.\x82\x83.\xff\xfe",
      B64("not json") + "." + payload + ".c2ln",
      B64(R"({"alg":5})") + "." + payload + ".c2ln",
      B64(R"({"typ":"JWT"})") + "." + payload + ".c2ln",
      B64(R"(["HS256"])") + "." + payload + ".c2ln",
      B64(kHs256Header) + "." + B64("[1,2]") + ".c2ln",
      B64(kHs256Header) + ".!!!!." + "c2ln",
      std::string(10000, 'a') + ".b.c",
  };
  for (const std::string& token : garbage) {
    ExpectRejected(*verifier, token, "");
  }
  // Correctly signed but not a JSON object payload.
  ExpectRejected(*verifier, HsToken(kHs256Header, "[1,2]", kSecret),
                 "malformed token");
  ExpectRejected(*verifier, HsToken(kHs256Header, "{", kSecret),
                 "malformed token");
  // Wrong "typ" is refused by cpp-jwt's parser.
  ExpectRejected(*verifier,
                 HsToken(R"({"alg":"HS256","typ":"JWE"})", Claims(), kSecret),
                 "malformed token");
}

TEST(JwtVerifierTest, Claims) {
  auto verifier = MakeVerifier(HsSettings());
  ASSERT_NE(verifier, nullptr);
  const std::string exp =
      absl::StrCat(absl::ToUnixSeconds(kNow + absl::Hours(1)));
  auto token = [&](absl::string_view claims) {
    return HsToken(kHs256Header,
                   absl::StrCat(R"({"aud":"prima","exp":)", exp, claims, "}"),
                   kSecret);
  };
  ExpectRejected(*verifier,
                 token(R"(,"roles":["officer","janitor"],"sub":"x")"),
                 "unknown role");
  ExpectRejected(*verifier, token(R"(,"roles":"officer","sub":"x")"),
                 "malformed roles claim");
  ExpectRejected(*verifier, token(R"(,"roles":[1],"sub":"x")"),
                 "malformed roles claim");
  ExpectRejected(*verifier, token(R"(,"roles":["citizen"])"),
                 "missing sub claim");
  ExpectRejected(*verifier, token(R"(,"sub":42)"), "missing sub claim");
  ExpectRejected(*verifier, token(R"(,"sub":"x","agency":7)"),
                 "malformed agency claim");

  // A citizen: no agency. A region admin without roles other than its own.
  absl::StatusOr<Principal> citizen =
      verifier->Verify(token(R"(,"sub":"c-1","roles":["citizen"])"), kNow);
  ASSERT_TRUE(citizen.ok()) << citizen.status();
  EXPECT_EQ(citizen->agency, "");
  EXPECT_EQ(citizen->roles, Roles({Role::kCitizen}));

  // Fractional NumericDates and an exp beyond 2038 are fine.
  absl::StatusOr<Principal> fractional = verifier->Verify(
      HsToken(kHs256Header,
              R"({"sub":"x","aud":"prima","exp":4102444800.5,"nbf":1.5})",
              kSecret),
      kNow);
  EXPECT_TRUE(fractional.ok()) << fractional.status();
}

// ------------------------------------------------------------------- RS256

TEST(JwtVerifierTest, ValidRs256) {
  auto verifier = MakeVerifier(RsSettings());
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<Principal> principal =
      verifier->Verify(RsToken(kRs256Header, Claims(), RsaKey()), kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "officer-7");
  EXPECT_EQ(principal->agency, "dukcapil");
  EXPECT_EQ(principal->roles, Roles({Role::kOfficer}));

  ExpectRejected(*verifier, RsToken(kRs256Header, Claims(), RsaKey()),
                 "token expired", kNow + absl::Hours(1));
}

TEST(JwtVerifierTest, Rs256SignedByAnotherKey) {
  auto verifier = MakeVerifier(RsSettings());
  ASSERT_NE(verifier, nullptr);
  ExpectRejected(*verifier, RsToken(kRs256Header, Claims(), OtherRsaKey()),
                 "bad signature");
}

TEST(JwtVerifierTest, Rs256RejectsAlgConfusion) {
  const JwtSettings settings = RsSettings();
  auto verifier = MakeVerifier(settings);
  ASSERT_NE(verifier, nullptr);
  // The classic attack: HS256 with the (public) PEM bytes as the HMAC key.
  const std::string confused =
      HsToken(kHs256Header, Claims(), settings.rs256_public_key_pem);
  ExpectRejected(*verifier, confused, "algorithm not accepted");
  // Same through the library's own minting.
  MintRequest request = Mint();
  request.secret = settings.rs256_public_key_pem;
  ExpectRejected(*verifier, MintOrDie(request), "algorithm not accepted");
}

// ------------------------------------------------------------------ minting

TEST(MintTest, ValidatesInput) {
  MintRequest request = Mint();
  request.secret = std::string(31, 's');
  absl::StatusOr<std::string> token = MintHs256Token(request);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(token.status().message(), "secret: "))
      << token.status();

  request = Mint({"officer", "janitor"});
  token = MintHs256Token(request);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(token.status().message(), "roles: "))
      << token.status();

  request = Mint();
  request.subject = "";
  EXPECT_EQ(MintHs256Token(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  request = Mint();
  request.ttl = absl::ZeroDuration();
  EXPECT_EQ(MintHs256Token(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  request = Mint();
  request.subject = "bad\xff";
  EXPECT_EQ(MintHs256Token(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MintTest, ClaimsInTheToken) {
  MintRequest request = Mint({"citizen"});
  request.agency = "";
  request.ttl = absl::Minutes(10);
  const std::string token = MintOrDie(request);
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header, payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  EXPECT_TRUE(absl::StrContains(header, R"("alg":"HS256")")) << header;
  EXPECT_TRUE(absl::StrContains(payload, R"("sub":"officer-7")")) << payload;
  EXPECT_TRUE(absl::StrContains(payload, R"("roles":["citizen"])")) << payload;
  EXPECT_TRUE(absl::StrContains(payload, R"("aud":"prima")")) << payload;
  EXPECT_TRUE(absl::StrContains(
      payload, absl::StrCat(R"("iat":)", absl::ToUnixSeconds(kNow))))
      << payload;
  EXPECT_TRUE(absl::StrContains(
      payload,
      absl::StrCat(R"("exp":)", absl::ToUnixSeconds(kNow + absl::Minutes(10)))))
      << payload;
  EXPECT_FALSE(absl::StrContains(payload, "\"iss\"")) << payload;
  EXPECT_FALSE(absl::StrContains(payload, "\"agency\"")) << payload;
}

// --------------------------------------------------------------- Authorizer

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest()
      : clock_(kNow),
        verifier_(MakeVerifier(HsSettings())),
        authorizer_(
            verifier_.get(), &clock_,
            {
                {"GetServiceStandard", /*is_public=*/true, 0, false},
                {"CallNext", false,
                 Roles({Role::kOfficer, Role::kSupervisor, Role::kRegionAdmin}),
                 /*same_agency=*/true},
                {"CreateAgency", false, Roles({Role::kRegionAdmin}), false},
            }) {}

  std::string Bearer(std::vector<std::string> roles,
                     std::string agency = "dukcapil") {
    MintRequest request = Mint(std::move(roles));
    request.agency = std::move(agency);
    return "Bearer " + MintOrDie(request);
  }

  FakeClock clock_;
  std::unique_ptr<JwtVerifier> verifier_;
  Authorizer authorizer_;
};

TEST_F(AuthorizerTest, PublicWithoutToken) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize("", "GetServiceStandard", "");
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_FALSE(principal->authenticated);
  EXPECT_EQ(principal->roles, 0u);
  EXPECT_EQ(principal->subject, "");
}

TEST_F(AuthorizerTest, PublicWithTokenIdentifiesTheCaller) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(Bearer({"citizen"}, ""), "GetServiceStandard", "");
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_TRUE(principal->authenticated);
  EXPECT_TRUE(principal->Has(Role::kCitizen));
}

TEST_F(AuthorizerTest, PublicWithBadTokenIsRejected) {
  EXPECT_EQ(authorizer_.Authorize("Bearer not.a.jwt", "GetServiceStandard", "")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      authorizer_.Authorize("Basic dXNlcjpwdw==", "GetServiceStandard", "")
          .status()
          .code(),
      absl::StatusCode::kUnauthenticated);
  const std::string token = Bearer({"officer"});
  clock_.Advance(absl::Hours(2));
  absl::StatusOr<Principal> expired =
      authorizer_.Authorize(token, "GetServiceStandard", "");
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(expired.status().message(), "expired"));
}

TEST_F(AuthorizerTest, MissingToken) {
  for (absl::string_view header : {"", "   ", "Bearer", "Bearer   "}) {
    absl::StatusOr<Principal> principal =
        authorizer_.Authorize(header, "CallNext", "dukcapil");
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated)
        << "header: \"" << header << "\" " << principal.status();
  }
}

TEST_F(AuthorizerTest, SchemeIsCaseInsensitive) {
  const std::string token = Bearer({"officer"}).substr(7);
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER  ", "BeArEr\t"}) {
    absl::StatusOr<Principal> principal =
        authorizer_.Authorize(scheme + token, "CallNext", "dukcapil");
    EXPECT_TRUE(principal.ok()) << scheme << principal.status();
  }
  EXPECT_EQ(authorizer_.Authorize("Bearer" + token, "CallNext", "dukcapil")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authorizer_.Authorize("Token " + token, "CallNext", "dukcapil")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, WrongRole) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(Bearer({"citizen"}), "CallNext", "dukcapil");
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(principal.status().message(), "CallNext"))
      << principal.status();

  principal = authorizer_.Authorize(Bearer({"officer", "supervisor"}),
                                    "CreateAgency", "");
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(principal.status().message(), "CreateAgency"))
      << principal.status();
  // A token without roles is authenticated but may call nothing non-public.
  principal = authorizer_.Authorize(Bearer({}), "CallNext", "dukcapil");
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, SameAgency) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(Bearer({"officer"}), "CallNext", "dukcapil");
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->agency, "dukcapil");

  principal = authorizer_.Authorize(Bearer({"officer"}), "CallNext", "samsat");
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(principal.status().message(), "CallNext"))
      << principal.status();
  EXPECT_TRUE(absl::StrContains(principal.status().message(), "samsat"))
      << principal.status();

  // The request names no agency: nothing to compare.
  EXPECT_TRUE(authorizer_.Authorize(Bearer({"officer"}), "CallNext", "").ok());
}

TEST_F(AuthorizerTest, RegionAdminActsForAnyAgency) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(Bearer({"region_admin"}, ""), "CallNext", "samsat");
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_TRUE(principal->Has(Role::kRegionAdmin));
  EXPECT_TRUE(
      authorizer_.Authorize(Bearer({"region_admin"}, ""), "CreateAgency", "")
          .ok());
}

TEST_F(AuthorizerTest, UnknownMethod) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(Bearer({"region_admin"}), "DropEverything", "");
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(principal.status().message(),
            "no access policy for DropEverything");
  // Even without a token: the table is consulted first.
  EXPECT_EQ(authorizer_.Authorize("", "DropEverything", "").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, AdmitReadsServerContextMetadata) {
  const prima::queue::v1::BookAppointmentRequest request;
  {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    spouse.AddClientMetadata("authorization", Bearer({"supervisor"}));
    absl::StatusOr<Principal> principal =
        authorizer_.Admit(context, "CallNext", "dukcapil", request);
    ASSERT_TRUE(principal.ok()) << principal.status();
    EXPECT_TRUE(principal->Has(Role::kSupervisor));
  }
  {
    grpc::ServerContext context;
    EXPECT_EQ(authorizer_.Admit(context, "CallNext", "dukcapil", request)
                  .status()
                  .code(),
              absl::StatusCode::kUnauthenticated);
    EXPECT_FALSE(authorizer_.Admit(context, "GetServiceStandard", "", request)
                     ->authenticated);
  }
  {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    spouse.AddClientMetadata("authorization", Bearer({"supervisor"}));
    spouse.AddClientMetadata("authorization", Bearer({"region_admin"}));
    EXPECT_EQ(authorizer_.Admit(context, "CallNext", "dukcapil", request)
                  .status()
                  .code(),
              absl::StatusCode::kUnauthenticated);
  }
}

// The caller first, then the request: a request out of bounds from a caller
// without access learns nothing about the request's rules.
TEST_F(AuthorizerTest, AdmitChecksTheCallerBeforeTheRequest) {
  prima::queue::v1::BookAppointmentRequest request;
  request.mutable_slot_start_time()->set_seconds(
      std::numeric_limits<int64_t>::max());
  {
    grpc::ServerContext context;  // no token
    EXPECT_EQ(authorizer_.Admit(context, "CallNext", "dukcapil", request)
                  .status()
                  .code(),
              absl::StatusCode::kUnauthenticated);
  }
  {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    spouse.AddClientMetadata("authorization", Bearer({"citizen"}));
    EXPECT_EQ(authorizer_.Admit(context, "CallNext", "dukcapil", request)
                  .status()
                  .code(),
              absl::StatusCode::kPermissionDenied);
  }
  {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    spouse.AddClientMetadata("authorization", Bearer({"supervisor"}));
    const absl::Status status =
        authorizer_.Admit(context, "CallNext", "dukcapil", request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(status.message(), "slot_start_time.seconds: "))
        << status;
  }
  {
    grpc::ServerContext context;  // public: the request is checked at once
    EXPECT_EQ(authorizer_.Admit(context, "GetServiceStandard", "", request)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(CheckSameAgencyTest, Rules) {
  Principal officer;
  officer.subject = "officer-7";
  officer.agency = "dukcapil";
  officer.roles = Roles({Role::kOfficer});
  officer.authenticated = true;
  EXPECT_TRUE(CheckSameAgency(officer, "dukcapil").ok());
  EXPECT_TRUE(CheckSameAgency(officer, "").ok());
  EXPECT_EQ(CheckSameAgency(officer, "samsat").code(),
            absl::StatusCode::kPermissionDenied);

  Principal admin;
  admin.subject = "admin-1";
  admin.roles = Roles({Role::kRegionAdmin});
  admin.authenticated = true;
  EXPECT_TRUE(CheckSameAgency(admin, "samsat").ok());

  Principal citizen;
  citizen.subject = "c-1";
  citizen.roles = Roles({Role::kCitizen});
  citizen.authenticated = true;
  EXPECT_EQ(CheckSameAgency(citizen, "samsat").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckSameAgency(Principal(), "samsat").code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace prima
