#include "services/common/rate_limit.h"

#include <arpa/inet.h>
#include <grpcpp/server_context.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/auth.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/lua_script.h"
#include "services/common/redis_client.h"

namespace prima {
namespace {

constexpr int kMaxLimit = 1'000'000;
constexpr absl::Duration kMaxWindow = absl::Hours(24);
constexpr size_t kMaxTrustedProxies = 32;

const LuaScript& CheckScript() {
  static const LuaScript* script =
      new LuaScript("rate_limit_check", absl::StrCat(kLuaPrelude, R"lua(
local limited = prima_rate_limit(ARGV[1])
if limited then return limited end
return 1
)lua"));
  return *script;
}

// "30s", "1m", "2h", or a bare unit ("m").
absl::StatusOr<absl::Duration> ParsePeriod(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty period");
  const char unit = text.back();
  absl::string_view count = text.substr(0, text.size() - 1);
  int n = 1;
  if (!count.empty() && (!absl::SimpleAtoi(count, &n) || n < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("bad period ", text));
  }
  absl::Duration d;
  switch (unit) {
    case 's':
      d = absl::Seconds(n);
      break;
    case 'm':
      d = absl::Minutes(n);
      break;
    case 'h':
      d = absl::Hours(n);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("bad period ", text, " (use s, m or h)"));
  }
  if (d > kMaxWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("period ", text, " is longer than 24h"));
  }
  return d;
}

bool IsIpAddress(absl::string_view text) {
  const std::string s(text);
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buffer) == 1;
}

std::string CounterKey(absl::string_view service, absl::string_view rpc,
                       absl::string_view what, absl::string_view who) {
  // Hashed: no client text in keys, and bounded key length.
  return absl::StrCat("prima:rl:", service, ":", rpc, ":", what, ":",
                      Sha256Hex(who).substr(0, 32));
}

}  // namespace

RateLimitConfig::RateLimitConfig() {
  const auto per_minute = [](int caller, int office) {
    return RpcRateLimits{{caller, absl::Minutes(1)},
                         {office, absl::Minutes(1)}};
  };
  by_rpc_["IssueTicket"] = per_minute(120, 600);
  by_rpc_["BookAppointment"] = per_minute(20, 300);
  by_rpc_["FileComplaint"] = per_minute(10, 300);
  by_rpc_["SubmitResponse"] = per_minute(20, 600);
  by_rpc_["VerifyCertificate"] = per_minute(60, 0);
}

absl::StatusOr<RateLimitConfig> RateLimitConfig::Parse(absl::string_view spec) {
  RateLimitConfig config;
  for (absl::string_view entry :
       absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::vector<absl::string_view> sides = absl::StrSplit(entry, '=');
    const std::vector<absl::string_view> name =
        sides.empty() ? std::vector<absl::string_view>()
                      : absl::StrSplit(sides[0], '.');
    if (sides.size() != 2 || name.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "each entry must be Rpc.caller=N/PERIOD or Rpc.office=N/PERIOD; got ",
          entry));
    }
    auto it = config.by_rpc_.find(name[0]);
    if (it == config.by_rpc_.end()) {
      std::vector<std::string> known;
      for (const auto& [rpc, unused] : config.by_rpc_) known.push_back(rpc);
      return absl::InvalidArgumentError(
          absl::StrCat("no rate limit for ", name[0],
                       "; limited RPCs: ", absl::StrJoin(known, ", ")));
    }
    RateLimit* limit = name[1] == "caller"   ? &it->second.per_caller
                       : name[1] == "office" ? &it->second.per_office
                                             : nullptr;
    if (limit == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scope must be caller or office; got ", name[1], " in ", entry));
    }
    const std::vector<absl::string_view> rate = absl::StrSplit(sides[1], '/');
    int max = 0;
    if (rate.size() != 2 || !absl::SimpleAtoi(rate[0], &max) || max < 0 ||
        max > kMaxLimit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rate must be N/PERIOD with N 0..", kMaxLimit, "; got ", sides[1]));
    }
    absl::StatusOr<absl::Duration> window = ParsePeriod(rate[1]);
    if (!window.ok()) return window.status();
    *limit = RateLimit{max, *window};
  }
  return config;
}

RateLimitConfig RateLimitConfig::None() {
  RateLimitConfig config;
  config.by_rpc_.clear();
  return config;
}

RpcRateLimits RateLimitConfig::For(absl::string_view rpc) const {
  auto it = by_rpc_.find(rpc);
  return it == by_rpc_.end() ? RpcRateLimits{{0}, {0}} : it->second;
}

std::vector<RateCheck> RateChecks(absl::string_view service,
                                  absl::string_view rpc,
                                  const RpcRateLimits& limits,
                                  absl::string_view client,
                                  absl::string_view office) {
  std::vector<RateCheck> checks;
  if (limits.per_caller.max > 0 && !client.empty()) {
    checks.push_back({CounterKey(service, rpc, "caller", client), "caller",
                      limits.per_caller});
  }
  if (limits.per_office.max > 0 && !office.empty()) {
    checks.push_back({CounterKey(service, rpc, "office", office), "office",
                      limits.per_office});
  }
  return checks;
}

std::string PeerAddress(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    return std::string(peer.substr(0, peer.rfind(':')));
  }
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    peer = peer.substr(0, peer.rfind(':'));
    absl::ConsumePrefix(&peer, "[");
    absl::ConsumeSuffix(&peer, "]");
    return std::string(peer);
  }
  return "";
}

std::string ClientIdentity(const grpc::ServerContextBase& context,
                           const Principal& principal,
                           const std::vector<std::string>& trusted_proxies) {
  if (principal.authenticated && !principal.subject.empty()) {
    return absl::StrCat("sub:", principal.subject);
  }
  std::string address = PeerAddress(context.peer());
  const bool trusted = !address.empty() &&
                       std::find(trusted_proxies.begin(), trusted_proxies.end(),
                                 address) != trusted_proxies.end();
  if (trusted) {
    // The proxy appends the address it saw last: only that one is its word.
    const auto& metadata = context.client_metadata();
    auto it = metadata.find("x-forwarded-for");
    if (it != metadata.end()) {
      const absl::string_view list(it->second.data(), it->second.size());
      const absl::string_view last = absl::StripAsciiWhitespace(list.substr(
          list.rfind(',') == absl::string_view::npos ? 0
                                                     : list.rfind(',') + 1));
      if (IsIpAddress(last)) address = std::string(last);
    }
  }
  return absl::StrCat("ip:", address);
}

absl::StatusOr<std::vector<std::string>> ParseTrustedProxies(
    absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view entry :
       absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    if (!IsIpAddress(entry)) {
      return absl::InvalidArgumentError(
          absl::StrCat("not an IPv4 or IPv6 address: ", entry));
    }
    out.emplace_back(entry);
  }
  if (out.size() > kMaxTrustedProxies) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxTrustedProxies, " addresses"));
  }
  return out;
}

std::string RateSpec(const std::vector<RateCheck>& checks) {
  std::vector<std::string> parts;
  for (const RateCheck& c : checks) {
    parts.push_back(absl::StrCat(c.limit.max, ",",
                                 absl::ToInt64Milliseconds(c.limit.window), ",",
                                 c.what));
  }
  return absl::StrJoin(parts, ";");
}

void CheckRateLimits(RedisClient& redis, const std::vector<RateCheck>& checks,
                     absl::AnyInvocable<void(absl::Status)> done) {
  if (checks.empty()) return done(absl::OkStatus());
  std::vector<std::string> keys;
  for (const RateCheck& c : checks) keys.push_back(c.key);
  redis.Eval(
      CheckScript(), std::move(keys), {RateSpec(checks)},
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        done(reply.status());
      });
}

}  // namespace prima
