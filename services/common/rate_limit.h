#pragma once

// Rate limits on the public RPCs that create or look things up for anyone
// (IssueTicket, BookAppointment, FileComplaint, SubmitResponse,
// VerifyCertificate): per caller and per office (or agency), fixed windows
// counted in Redis by the same script as the mutation (RunIdempotent), or by
// CheckRateLimits for reads. A refused call gets RESOURCE_EXHAUSTED with the
// reason RATE_LIMITED and a RetryInfo. Replays of a recorded request are not
// counted.

#include <map>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc {
class ServerContextBase;
}

namespace prima {

class RedisClient;
struct Principal;

// At most `max` calls per `window`; max 0 means no limit.
struct RateLimit {
  int max = 0;
  absl::Duration window = absl::Minutes(1);
};

// The limits of one RPC.
struct RpcRateLimits {
  RateLimit per_caller;
  RateLimit per_office;  // the office (or for complaints, the agency) asked
};

// PRIMA_RATE_LIMITS over the defaults. Defaults per minute (caller / office):
// IssueTicket 120 / 600, BookAppointment 20 / 300, FileComplaint 10 / 300,
// SubmitResponse 20 / 600, VerifyCertificate 60 / - . A caller is a token's
// subject, else a client address: an office kiosk behind one address takes
// every walk-in ticket, so anonymous limits allow an office's real peak (2
// tickets a second) from one address.
class RateLimitConfig {
 public:
  RateLimitConfig();
  // "Rpc.caller=N/PERIOD,Rpc.office=N/PERIOD,..." with PERIOD one of s, m, h
  // optionally after a count ("30s", "1m", "1h"); N 0 turns a limit off.
  // Errors name no variable; the caller adds it.
  static absl::StatusOr<RateLimitConfig> Parse(absl::string_view spec);

  // No limits at all (tests and benchmarks that flood one office).
  static RateLimitConfig None();

  // The limits of `rpc` (no limit for an RPC without any).
  RpcRateLimits For(absl::string_view rpc) const;

 private:
  std::map<std::string, RpcRateLimits, std::less<>> by_rpc_;
};

// One counter a call is checked against.
struct RateCheck {
  std::string key;   // prima:rl:<service>:<rpc>:<caller|office>:<hash>
  std::string what;  // "caller" or "office", for the message
  RateLimit limit;
};

// The checks of one call: its caller's and its office's counters (those with
// a limit). `client` is ClientIdentity's; `office` may be empty.
std::vector<RateCheck> RateChecks(absl::string_view service,
                                  absl::string_view rpc,
                                  const RpcRateLimits& limits,
                                  absl::string_view client,
                                  absl::string_view office);

// Who is calling, for rate limits: "sub:<subject>" with a token, else
// "ip:<address>" of the connection's peer, or of the last address in
// x-forwarded-for when the peer is one of `trusted_proxies` (addresses, e.g.
// the edge's).
std::string ClientIdentity(const grpc::ServerContextBase& context,
                           const Principal& principal,
                           const std::vector<std::string>& trusted_proxies);

// The peer address of "ipv4:10.0.0.1:5000" / "ipv6:[::1]:5000" ("" for
// others, e.g. unix sockets).
std::string PeerAddress(absl::string_view peer);

// PRIMA_TRUSTED_PROXIES: a comma-separated list of IPv4/IPv6 addresses.
absl::StatusOr<std::vector<std::string>> ParseTrustedProxies(
    absl::string_view list);

// For scripts: the counters as KEYS to append and the spec RunIdempotent and
// CheckRateLimits pass to prima_rate_limit ("max,ms,what;...").
std::string RateSpec(const std::vector<RateCheck>& checks);

// Counts one call against `checks` in one round trip, for RPCs that write
// nothing (VerifyCertificate). OK when within every limit.
void CheckRateLimits(RedisClient& redis, const std::vector<RateCheck>& checks,
                     absl::AnyInvocable<void(absl::Status)> done);

}  // namespace prima
