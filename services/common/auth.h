#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prima/common/v1/common.pb.h"
#include "services/common/clock.h"
#include "services/common/config.h"

namespace grpc {
class ServerContextBase;
}
namespace google::protobuf {
class Message;
}

namespace prima {

// The roles of DESIGN.md, as carried in the token's `roles` claim.
enum class Role : uint32_t {
  kCitizen = 1u << 0,
  kOfficer = 1u << 1,
  kSupervisor = 1u << 2,
  kAgencyAdmin = 1u << 3,
  kRegionAdmin = 1u << 4,
};

// A set of roles as a bit mask: Roles({Role::kOfficer, Role::kSupervisor}).
using RoleSet = uint32_t;
constexpr RoleSet Roles(std::initializer_list<Role> roles) {
  RoleSet set = 0;
  for (Role r : roles) set |= static_cast<uint32_t>(r);
  return set;
}
inline constexpr RoleSet kAllStaff =
    Roles({Role::kOfficer, Role::kSupervisor, Role::kAgencyAdmin,
           Role::kRegionAdmin});

// "citizen", "officer", "supervisor", "agency_admin", "region_admin".
absl::StatusOr<Role> ParseRole(absl::string_view name);
absl::string_view RoleName(Role role);

// Who is calling, from a verified token. Default-constructed: an anonymous
// caller.
struct Principal {
  std::string subject;  // `sub`: officer id for staff, opaque id for citizens
  std::string agency;   // `agency`; empty for citizens and some region admins
  RoleSet roles = 0;
  bool authenticated = false;
  // Set by Authorizer::Admit: RequestFingerprint of the admitted request, so
  // that an idempotency record answers only a replay of the same request.
  std::string request_fingerprint;

  bool Has(Role role) const {
    return (roles & static_cast<RoleSet>(role)) != 0;
  }
  bool HasAny(RoleSet set) const { return (roles & set) != 0; }
};

// The caller as recorded in events: subject, agency and roles.
prima::common::v1::Actor ActorProto(const Principal& principal);

// Verifies HS256 or RS256 bearer tokens: signature, `exp` (required), `nbf`,
// `iss` (when configured) and `aud`. Only the configured algorithm is accepted
// ("none" never is).
class JwtVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(
      const JwtSettings& settings);
  ~JwtVerifier();

  // UNAUTHENTICATED with a reason (never the token) on any failure.
  absl::StatusOr<Principal> Verify(absl::string_view token,
                                   absl::Time now) const;

 private:
  explicit JwtVerifier(const JwtSettings& settings);

  // A verified token's result, valid for `now` in [not_before, expires).
  struct Verified {
    Principal principal;
    absl::Time not_before;
    absl::Time expires;
  };
  // Apps send the same token with every call: verifying it once (JSON parsing,
  // and for RS256 a PEM parse and an RSA check) instead of per call saves most
  // of the cost.
  static constexpr size_t kMaxCachedTokens = 10000;

  JwtSettings settings_;
  mutable absl::Mutex mu_;
  // Keyed by the SHA-256 of the token, so no token text is kept.
  mutable absl::flat_hash_map<std::string, Verified> cache_
      ABSL_GUARDED_BY(mu_);
};

// A development token signed with HS256 (`prima token mint`, tests).
struct MintRequest {
  std::string secret;
  std::string subject;
  std::string agency;
  std::vector<std::string> roles;  // names as in ParseRole
  std::string issuer;              // omitted from the token when empty
  std::string audience = "prima";
  absl::Duration ttl = absl::Hours(1);
  absl::Time now = absl::Now();
};
absl::StatusOr<std::string> MintHs256Token(const MintRequest& request);

// One row of a service's access table.
struct RpcPolicy {
  std::string method;        // the RPC's short name, e.g. "IssueTicket"
  bool is_public = false;    // callable without a token
  RoleSet roles = 0;         // otherwise: the caller needs one of these
  bool same_agency = false;  // the request's agency must be the token's
                             // (region_admin may act for any agency)
};

// Applies one service's access table to incoming calls.
class Authorizer {
 public:
  // `verifier` and `clock` must outlive the authorizer.
  Authorizer(const JwtVerifier* verifier, const Clock* clock,
             std::vector<RpcPolicy> policies);

  // `authorization` is the metadata value ("Bearer <jwt>"), empty when absent.
  // `request_agency` is the agency the request acts on (empty when the RPC
  // names none). No or bad token on a non-public RPC -> UNAUTHENTICATED; a bad
  // token is rejected on public RPCs too. Wrong role or agency, or an RPC
  // missing from the table -> PERMISSION_DENIED.
  absl::StatusOr<Principal> Authorize(absl::string_view authorization,
                                      absl::string_view method,
                                      absl::string_view request_agency) const;

  // How every handler starts: Authorize with the call's `authorization`
  // metadata, then CheckRequestBounds(request) (services/common/
  // request_bounds.h), so a caller without access gets UNAUTHENTICATED or
  // PERMISSION_DENIED before any rule about the request's content. The
  // principal carries the request's fingerprint.
  absl::StatusOr<Principal> Admit(
      const grpc::ServerContextBase& context, absl::string_view method,
      absl::string_view request_agency,
      const google::protobuf::Message& request) const;

 private:
  const JwtVerifier* verifier_;
  const Clock* clock_;
  std::vector<RpcPolicy> policies_;
};

// For RPCs whose agency is only known after a read: staff may touch only their
// own agency's resources (region_admin any). PERMISSION_DENIED otherwise.
absl::Status CheckSameAgency(const Principal& principal,
                             absl::string_view resource_agency);

}  // namespace prima
