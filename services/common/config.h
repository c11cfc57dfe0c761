#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/logging.h"
#include "services/common/rate_limit.h"
#include "services/common/receipt_keys.h"

namespace prima {

// An integer setting from the environment: `default_value` when unset or
// empty; INVALID_ARGUMENT naming the variable unless a whole number in
// [lo, hi].
absl::StatusOr<int> IntFromEnv(const char* name, int default_value, int lo,
                               int hi);

// A network address; for Redis Sentinels and the primary they name.
struct HostPort {
  std::string host;
  int port = 0;

  bool operator==(const HostPort&) const = default;
  // "host:port", for logs and messages.
  std::string ToString() const;
};

// Where the region's Redis is: parsed from
// redis://[[user]:password@]host:port[/db], plus the Sentinel settings.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // Redis 6 ACL user; empty means the default user
  std::string password;  // empty means no AUTH
  int db = 0;
  // When not empty, the primary's address is asked from these Sentinels
  // before every connection and host/port above are not used.
  std::vector<HostPort> sentinels;
  std::string sentinel_master = "prima";  // the name the Sentinels monitor
  std::string sentinel_password;          // of the Sentinels; empty: no AUTH
};

inline constexpr size_t kMaxSentinels = 16;
inline constexpr size_t kMaxSentinelMasterNameBytes = 64;

// Parses a comma-separated host:port list ([v6]:port for IPv6), at most
// kMaxSentinels entries. Errors name no variable; the caller adds it.
absl::StatusOr<std::vector<HostPort>> ParseSentinels(absl::string_view list);

// Parses a redis:// URL. Errors name no variable; the caller adds it.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// How bearer tokens are verified: exactly one of the two keys is set.
struct JwtSettings {
  std::string hs256_secret;          // PRIMA_JWT_SECRET, at least 32 bytes
  std::string rs256_public_key_pem;  // contents of PRIMA_JWT_PUBLIC_KEY_FILE
  std::string issuer;  // PRIMA_JWT_ISSUER; empty means iss is not checked
  std::string audience = "prima";  // PRIMA_JWT_AUDIENCE
};

// Everything a service binary is configured with.
struct ServiceConfig {
  std::string service_name;  // "catalog", "queue", ...
  std::string listen;  // PRIMA_LISTEN, host:port (port 0 picks a free one)
  // PRIMA_REDIS_URL, PRIMA_REDIS_PASSWORD, PRIMA_REDIS_SENTINELS,
  // PRIMA_REDIS_SENTINEL_MASTER, PRIMA_REDIS_SENTINEL_PASSWORD
  RedisEndpoint redis;
  JwtSettings jwt;
  // PRIMA_RECEIPT_KEYS; when unset, derived from the HS256 JWT secret, and
  // empty with RS256 (the services that issue receipts then refuse to start).
  ReceiptKeys receipt_keys;
  // PRIMA_RATE_LIMITS over the defaults (rate_limit.h).
  RateLimitConfig rate_limits;
  // PRIMA_TRUSTED_PROXIES: peers whose x-forwarded-for names the client.
  std::vector<std::string> trusted_proxies;
  LogLevel log_level = LogLevel::kInfo;              // PRIMA_LOG_LEVEL
  absl::Duration drain_timeout = absl::Seconds(10);  // PRIMA_DRAIN_SECONDS
  absl::Duration redis_timeout = absl::Seconds(2);   // PRIMA_REDIS_TIMEOUT_MS
  // PRIMA_METRICS_LISTEN: host:port of /metrics (port 0 picks a free one), or
  // "off".
  std::string metrics_listen;
};

// The environment variable names, one place for all of them.
inline constexpr char kEnvListen[] = "PRIMA_LISTEN";
inline constexpr char kEnvRedisUrl[] = "PRIMA_REDIS_URL";
inline constexpr char kEnvRedisPassword[] = "PRIMA_REDIS_PASSWORD";
inline constexpr char kEnvRedisSentinels[] = "PRIMA_REDIS_SENTINELS";
inline constexpr char kEnvRedisSentinelMaster[] = "PRIMA_REDIS_SENTINEL_MASTER";
inline constexpr char kEnvRedisSentinelPassword[] =
    "PRIMA_REDIS_SENTINEL_PASSWORD";
inline constexpr char kEnvJwtSecret[] = "PRIMA_JWT_SECRET";
inline constexpr char kEnvJwtPublicKeyFile[] = "PRIMA_JWT_PUBLIC_KEY_FILE";
inline constexpr char kEnvJwtIssuer[] = "PRIMA_JWT_ISSUER";
inline constexpr char kEnvJwtAudience[] = "PRIMA_JWT_AUDIENCE";
inline constexpr char kEnvReceiptKeys[] = "PRIMA_RECEIPT_KEYS";
inline constexpr char kEnvRateLimits[] = "PRIMA_RATE_LIMITS";
inline constexpr char kEnvTrustedProxies[] = "PRIMA_TRUSTED_PROXIES";
inline constexpr char kEnvLogLevel[] = "PRIMA_LOG_LEVEL";
inline constexpr char kEnvDrainSeconds[] = "PRIMA_DRAIN_SECONDS";
inline constexpr char kEnvRedisTimeoutMs[] = "PRIMA_REDIS_TIMEOUT_MS";
inline constexpr char kEnvMetricsListen[] = "PRIMA_METRICS_LISTEN";
// PRIMA_METRICS_LISTEN's value that serves no endpoint.
inline constexpr char kMetricsOff[] = "off";

// The metrics port of a service whose gRPC default is `default_grpc_port`:
// 1000 above it (catalog 51051, queue 51052, ...).
inline constexpr int kMetricsPortOffset = 1000;

// Builds and validates a config from raw values keyed by environment variable
// name (flags already merged in). Unset keys take defaults; the listen default
// is 127.0.0.1:<default_port>, the metrics default 127.0.0.1:<default_port +
// kMetricsPortOffset>. Every error message starts with the variable's
// name.
absl::StatusOr<ServiceConfig> ConfigFromValues(
    absl::string_view service_name, int default_port,
    const std::map<std::string, std::string>& values);

// For the services that issue receipt secrets (queue, complaint): an error
// naming PRIMA_RECEIPT_KEYS when there are none (RS256 tokens and the
// variable unset).
absl::Status RequireReceiptKeys(const ServiceConfig& config);

// Reads flags (--listen, --redis-url, --redis-password, --redis-sentinels,
// --redis-sentinel-master, --redis-sentinel-password, --jwt-secret,
// --jwt-public-key-file, --jwt-issuer, --jwt-audience, --receipt-keys,
// --rate-limits, --trusted-proxies,
// --log-level,
// --drain-seconds, --redis-timeout-ms, --metrics-listen), falling back to the
// PRIMA_* environment variable of each, then validates with ConfigFromValues.
// --help yields a status whose message is the usage text (code kCancelled).
absl::StatusOr<ServiceConfig> LoadServiceConfig(absl::string_view service_name,
                                                int default_port, int argc,
                                                const char* const* argv);

}  // namespace prima
