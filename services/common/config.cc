#include "services/common/config.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/logging.h"

namespace prima {
namespace {

constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr size_t kMinSecretBytes = 32;

// A value as it may appear in an error message: short, escaped, quoted.
std::string Quote(absl::string_view value) {
  constexpr size_t kMax = 40;
  std::string text(value.substr(0, kMax));
  if (value.size() > kMax) text += "...";
  return absl::StrCat("\"", JsonEscape(text), "\"");
}

// Parses 1-9 ASCII digits (no sign, no spaces); false otherwise.
bool ParseDigits(absl::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 9) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

bool IsHostNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '-' || c == '_';
}

bool IsIpv6Char(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' ||
         c == '.';
}

// Splits "host:port" or "[v6]:port". `port_required` makes a missing port an
// error; otherwise *has_port tells whether one was given. Errors are messages
// without a variable name.
absl::Status SplitHostPort(absl::string_view text, bool port_required,
                           std::string* host, absl::string_view* port,
                           bool* has_port) {
  absl::string_view rest;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("IPv6 address is missing \"]\"");
    }
    absl::string_view v6 = text.substr(1, close - 1);
    if (v6.empty()) return absl::InvalidArgumentError("host must not be empty");
    if (!std::all_of(v6.begin(), v6.end(), IsIpv6Char)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid IPv6 address ", Quote(v6)));
    }
    *host = std::string(v6);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') {
      return absl::InvalidArgumentError(
          "expected \":port\" after the IPv6 address");
    }
  } else {
    const size_t colon = text.rfind(':');
    absl::string_view name =
        colon == absl::string_view::npos ? text : text.substr(0, colon);
    rest = colon == absl::string_view::npos ? absl::string_view()
                                            : text.substr(colon);
    if (name.empty())
      return absl::InvalidArgumentError("host must not be empty");
    if (!std::all_of(name.begin(), name.end(), IsHostNameChar)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid host name ", Quote(name),
                       " (IPv6 addresses go in brackets: [::1]:port)"));
    }
    *host = std::string(name);
  }
  *has_port = !rest.empty();
  if (*has_port) {
    *port = rest.substr(1);
  } else if (port_required) {
    return absl::InvalidArgumentError("port is missing");
  }
  return absl::OkStatus();
}

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() ||
        !absl::ascii_isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !absl::ascii_isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      return false;
    }
    const auto hex = [](char c) {
      return absl::ascii_isdigit(static_cast<unsigned char>(c))
                 ? c - '0'
                 : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' +
                       10;
    };
    out->push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
    i += 2;
  }
  return true;
}

// A port given in text: 1-65535.
absl::StatusOr<int> ParsePort(absl::string_view text) {
  int64_t value = 0;
  if (!ParseDigits(text, &value) || value < 1 || value > 65535) {
    return absl::InvalidArgumentError("port must be 1-65535");
  }
  return static_cast<int>(value);
}

bool IsSentinelNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '-' || c == '_';
}

absl::Status Prefixed(absl::string_view var, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(var, ": ", status.message()));
}

absl::Status VarError(absl::string_view var, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(var, ": ", message));
}

// True when the PEM text holds a public key RS256 can use (an RSA key).
// `*any_key` tells whether it held a public key at all.
bool IsRsaPublicKeyPem(const std::string& pem, bool* any_key) {
  *any_key = false;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
      &EVP_PKEY_free);
  // Leave no stale entries in the thread's OpenSSL error queue.
  ERR_clear_error();
  if (key == nullptr) return false;
  *any_key = true;
  return EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA;
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return VarError(
        kEnvJwtPublicKeyFile,
        absl::StrCat("cannot read ", Quote(path), ": ", std::strerror(errno)));
  }
  std::string contents;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), file.get())) > 0) {
    contents.append(buf, n);
    if (contents.size() > kMaxKeyFileBytes) {
      return VarError(
          kEnvJwtPublicKeyFile,
          absl::StrCat(Quote(path), " is larger than ", kMaxKeyFileBytes,
                       " bytes; expected a PEM public key"));
    }
  }
  if (std::ferror(file.get())) {
    return VarError(
        kEnvJwtPublicKeyFile,
        absl::StrCat("cannot read ", Quote(path), ": ", std::strerror(errno)));
  }
  return contents;
}

// The non-empty value of `key`, or nullptr: an empty value counts as unset.
const std::string* Lookup(const std::map<std::string, std::string>& values,
                          absl::string_view key) {
  auto it = values.find(std::string(key));
  if (it == values.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// A host:port to listen on, port 0-65535; the error names `var` and shows an
// example with `example_port`.
absl::Status ValidateListen(absl::string_view var, absl::string_view listen,
                            absl::string_view example_port) {
  std::string host;
  absl::string_view port;
  bool has_port = false;
  absl::Status split =
      SplitHostPort(listen, /*port_required=*/true, &host, &port, &has_port);
  if (!split.ok()) {
    return VarError(
        var, absl::StrCat("must be host:port (e.g. 0.0.0.0:", example_port,
                          " or [::1]:", example_port, "): ", split.message()));
  }
  int64_t value = 0;
  if (!ParseDigits(port, &value) || value > 65535) {
    return VarError(var,
                    absl::StrCat("port must be 0-65535; got ", Quote(port)));
  }
  return absl::OkStatus();
}

// An integer variable within [lo, hi].
absl::StatusOr<int64_t> IntVar(const std::map<std::string, std::string>& values,
                               absl::string_view var, int64_t lo, int64_t hi,
                               int64_t fallback) {
  const std::string* text = Lookup(values, var);
  if (text == nullptr) return fallback;
  int64_t value = 0;
  if (!ParseDigits(*text, &value) || value < lo || value > hi) {
    return VarError(var, absl::StrCat("must be an integer ", lo, "-", hi,
                                      "; got ", Quote(*text)));
  }
  return value;
}

struct FlagSpec {
  const char* flag;
  const char* env;
  const char* help;
};

constexpr FlagSpec kFlags[] = {
    {"--listen", kEnvListen,
     "host:port to serve gRPC on; port 0 picks a free port "
     "(default 127.0.0.1:<service port>)"},
    {"--redis-url", kEnvRedisUrl,
     "redis://[[user]:password@]host[:port][/db] (default "
     "redis://127.0.0.1:6379/0)"},
    {"--redis-password", kEnvRedisPassword,
     "Redis password, overriding the one in the URL (prefer the environment "
     "variable, e.g. from a Kubernetes Secret)"},
    {"--redis-sentinels", kEnvRedisSentinels,
     "comma-separated host:port list of Redis Sentinels; when set, the "
     "primary's address comes from them and the URL's host:port is not used"},
    {"--redis-sentinel-master", kEnvRedisSentinelMaster,
     "name of the master the Sentinels monitor (default prima)"},
    {"--redis-sentinel-password", kEnvRedisSentinelPassword,
     "password of the Sentinels themselves (default: none)"},
    {"--jwt-secret", kEnvJwtSecret,
     "HS256 secret for bearer tokens, at least 32 bytes (prefer the "
     "environment variable: flags show up in process lists)"},
    {"--jwt-public-key-file", kEnvJwtPublicKeyFile,
     "PEM file with the RSA public key for RS256 bearer tokens"},
    {"--jwt-issuer", kEnvJwtIssuer,
     "required `iss` claim (default: not checked)"},
    {"--jwt-audience", kEnvJwtAudience, "required `aud` claim (default prima)"},
    {"--receipt-keys", kEnvReceiptKeys,
     "keys receipt secrets are derived with, id:hexkey[,id:hexkey]..., the "
     "first current (default: derived from the HS256 JWT secret; prefer the "
     "environment variable)"},
    {"--rate-limits", kEnvRateLimits,
     "rate limits over the defaults, Rpc.caller=N/PERIOD or "
     "Rpc.office=N/PERIOD, comma-separated (e.g. IssueTicket.caller=60/1m; N "
     "0 turns one off)"},
    {"--trusted-proxies", kEnvTrustedProxies,
     "comma-separated addresses of proxies (the edge) whose x-forwarded-for "
     "names the client for rate limits (default: none)"},
    {"--log-level", kEnvLogLevel, "debug, info, warn or error (default info)"},
    {"--drain-seconds", kEnvDrainSeconds,
     "seconds to finish in-flight calls on shutdown, 0-300 (default 10)"},
    {"--redis-timeout-ms", kEnvRedisTimeoutMs,
     "Redis connect and command timeout in ms, 10-60000 (default 2000)"},
    {"--metrics-listen", kEnvMetricsListen,
     "host:port to serve Prometheus /metrics on, port 0 picks a free port, "
     "or off (default 127.0.0.1:<service port + 1000>)"},
};

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "redis://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    if (absl::StartsWithIgnoreCase(url, "rediss://")) {
      return absl::InvalidArgumentError(
          "scheme must be redis:// (rediss:// TLS is not supported)");
    }
    return absl::InvalidArgumentError(
        "must be redis://[[user]:password@]host[:port][/db]");
  }
  absl::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "query parameters and fragments are not supported");
  }
  // The authority ends at the first "/" after the user info (passwords may
  // hold a "/" only percent-encoded).
  const size_t at = rest.rfind('@');
  const size_t slash = rest.find('/', at == absl::string_view::npos ? 0 : at);
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos
                               ? absl::string_view()
                               : rest.substr(slash);

  RedisEndpoint endpoint;
  const size_t auth_at = authority.rfind('@');
  if (auth_at != absl::string_view::npos) {
    // Like redis-cli: "user:password@", ":password@" or "password@".
    absl::string_view userinfo = authority.substr(0, auth_at);
    authority = authority.substr(auth_at + 1);
    absl::string_view user, password = userinfo;
    const size_t colon = userinfo.find(':');
    if (colon != absl::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    }
    if (!PercentDecode(user, &endpoint.username)) {
      return absl::InvalidArgumentError("user has a malformed %-escape");
    }
    if (!PercentDecode(password, &endpoint.password)) {
      return absl::InvalidArgumentError("password has a malformed %-escape");
    }
  }

  absl::string_view port;
  bool has_port = false;
  absl::Status split = SplitHostPort(authority, /*port_required=*/false,
                                     &endpoint.host, &port, &has_port);
  if (!split.ok()) return split;
  if (has_port) {
    absl::StatusOr<int> value = ParsePort(port);
    if (!value.ok()) return value.status();
    endpoint.port = *value;
  }

  if (path.size() > 1) {
    int64_t db = 0;
    if (!ParseDigits(path.substr(1), &db) || db > 15) {
      return absl::InvalidArgumentError("db must be 0-15");
    }
    endpoint.db = static_cast<int>(db);
  }
  return endpoint;
}

std::string HostPort::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<std::vector<HostPort>> ParseSentinels(absl::string_view list) {
  std::vector<HostPort> sentinels;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          "must be a comma-separated host:port list with no empty entries");
    }
    if (sentinels.size() == kMaxSentinels) {
      return absl::InvalidArgumentError(
          absl::StrCat("at most ", kMaxSentinels, " Sentinels"));
    }
    HostPort sentinel;
    absl::string_view port;
    bool has_port = false;
    absl::Status split = SplitHostPort(item, /*port_required=*/true,
                                       &sentinel.host, &port, &has_port);
    if (!split.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", sentinels.size() + 1, " ", Quote(item), ": ",
                       split.message(), " (expected host:port)"));
    }
    absl::StatusOr<int> value = ParsePort(port);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", sentinels.size() + 1, " ", Quote(item), ": ",
                       value.status().message()));
    }
    sentinel.port = *value;
    sentinels.push_back(std::move(sentinel));
  }
  return sentinels;
}

absl::StatusOr<ServiceConfig> ConfigFromValues(
    absl::string_view service_name, int default_port,
    const std::map<std::string, std::string>& values) {
  if (service_name.empty()) {
    return absl::InvalidArgumentError("service_name: must not be empty");
  }
  ServiceConfig config;
  config.service_name = std::string(service_name);

  // PRIMA_LISTEN
  if (default_port < 0 || default_port > 65535) {
    return VarError(kEnvListen, "default port must be 0-65535");
  }
  if (const std::string* listen = Lookup(values, kEnvListen)) {
    if (absl::Status s = ValidateListen(kEnvListen, *listen, "50051");
        !s.ok()) {
      return s;
    }
    config.listen = *listen;
  } else {
    config.listen = absl::StrCat("127.0.0.1:", default_port);
  }

  // PRIMA_METRICS_LISTEN
  if (const std::string* listen = Lookup(values, kEnvMetricsListen)) {
    if (*listen != kMetricsOff) {
      if (absl::Status s = ValidateListen(kEnvMetricsListen, *listen, "9090");
          !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(s.message(), "; or off to serve no metrics"));
      }
    }
    config.metrics_listen = *listen;
  } else {
    const int port = default_port == 0 ? 0 : default_port + kMetricsPortOffset;
    config.metrics_listen =
        absl::StrCat("127.0.0.1:", port <= 65535 ? port : 0);
  }

  // PRIMA_REDIS_URL (never echoed: it may carry a password).
  if (const std::string* url = Lookup(values, kEnvRedisUrl)) {
    absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(*url);
    if (!endpoint.ok()) return Prefixed(kEnvRedisUrl, endpoint.status());
    config.redis = *std::move(endpoint);
  }
  // Kubernetes passes the password from a Secret, the URL from a ConfigMap.
  if (const std::string* password = Lookup(values, kEnvRedisPassword)) {
    config.redis.password = *password;
  }
  if (const std::string* list = Lookup(values, kEnvRedisSentinels)) {
    absl::StatusOr<std::vector<HostPort>> sentinels = ParseSentinels(*list);
    if (!sentinels.ok())
      return Prefixed(kEnvRedisSentinels, sentinels.status());
    config.redis.sentinels = *std::move(sentinels);
  }
  if (const std::string* master = Lookup(values, kEnvRedisSentinelMaster)) {
    if (master->size() > kMaxSentinelMasterNameBytes ||
        !std::all_of(master->begin(), master->end(), IsSentinelNameChar)) {
      return VarError(kEnvRedisSentinelMaster,
                      absl::StrCat("must be 1-", kMaxSentinelMasterNameBytes,
                                   " characters of A-Z a-z 0-9 . _ -; got ",
                                   Quote(*master)));
    }
    config.redis.sentinel_master = *master;
  }
  if (const std::string* password = Lookup(values, kEnvRedisSentinelPassword)) {
    config.redis.sentinel_password = *password;
  }

  // JWT: exactly one key.
  const std::string* secret = Lookup(values, kEnvJwtSecret);
  const std::string* key_file = Lookup(values, kEnvJwtPublicKeyFile);
  if (secret != nullptr && key_file != nullptr) {
    return VarError(kEnvJwtSecret,
                    absl::StrCat("set only one of ", kEnvJwtSecret,
                                 " (HS256) "
                                 "and ",
                                 kEnvJwtPublicKeyFile, " (RS256)"));
  }
  if (secret == nullptr && key_file == nullptr) {
    return VarError(kEnvJwtSecret,
                    absl::StrCat("one of ", kEnvJwtSecret, " (HS256) and ",
                                 kEnvJwtPublicKeyFile, " (RS256) must be set"));
  }
  if (secret != nullptr) {
    if (secret->size() < kMinSecretBytes) {
      return VarError(kEnvJwtSecret,
                      absl::StrCat("must be at least ", kMinSecretBytes,
                                   " bytes; got ", secret->size()));
    }
    config.jwt.hs256_secret = *secret;
  } else {
    absl::StatusOr<std::string> pem = ReadKeyFile(*key_file);
    if (!pem.ok()) return pem.status();
    bool any_key = false;
    if (!IsRsaPublicKeyPem(*pem, &any_key)) {
      return VarError(kEnvJwtPublicKeyFile,
                      any_key
                          ? absl::StrCat(Quote(*key_file),
                                         " holds a public key that is not "
                                         "RSA; RS256 needs an RSA key")
                          : absl::StrCat(Quote(*key_file),
                                         " does not contain a PEM public "
                                         "key (-----BEGIN PUBLIC KEY-----)"));
    }
    config.jwt.rs256_public_key_pem = *std::move(pem);
  }
  if (const std::string* issuer = Lookup(values, kEnvJwtIssuer)) {
    config.jwt.issuer = *issuer;
  }
  if (const std::string* audience = Lookup(values, kEnvJwtAudience)) {
    config.jwt.audience = *audience;
  }

  if (const std::string* keys = Lookup(values, kEnvReceiptKeys)) {
    absl::StatusOr<ReceiptKeys> parsed = ReceiptKeys::Parse(*keys);
    if (!parsed.ok()) return Prefixed(kEnvReceiptKeys, parsed.status());
    config.receipt_keys = *std::move(parsed);
  } else if (!config.jwt.hs256_secret.empty()) {
    config.receipt_keys = ReceiptKeys::FromJwtSecret(config.jwt.hs256_secret);
  }

  if (const std::string* limits = Lookup(values, kEnvRateLimits)) {
    absl::StatusOr<RateLimitConfig> parsed = RateLimitConfig::Parse(*limits);
    if (!parsed.ok()) return Prefixed(kEnvRateLimits, parsed.status());
    config.rate_limits = *std::move(parsed);
  }
  if (const std::string* proxies = Lookup(values, kEnvTrustedProxies)) {
    absl::StatusOr<std::vector<std::string>> parsed =
        ParseTrustedProxies(*proxies);
    if (!parsed.ok()) return Prefixed(kEnvTrustedProxies, parsed.status());
    config.trusted_proxies = *std::move(parsed);
  }

  // PRIMA_LOG_LEVEL
  if (const std::string* level = Lookup(values, kEnvLogLevel)) {
    absl::StatusOr<LogLevel> parsed = ParseLogLevel(*level);
    if (!parsed.ok()) return Prefixed(kEnvLogLevel, parsed.status());
    config.log_level = *parsed;
  }

  absl::StatusOr<int64_t> drain = IntVar(values, kEnvDrainSeconds, 0, 300, 10);
  if (!drain.ok()) return drain.status();
  config.drain_timeout = absl::Seconds(*drain);

  absl::StatusOr<int64_t> timeout =
      IntVar(values, kEnvRedisTimeoutMs, 10, 60000, 2000);
  if (!timeout.ok()) return timeout.status();
  config.redis_timeout = absl::Milliseconds(*timeout);

  return config;
}

absl::Status RequireReceiptKeys(const ServiceConfig& config) {
  if (!config.receipt_keys.empty()) return absl::OkStatus();
  return VarError(kEnvReceiptKeys,
                  absl::StrCat("must be set for ", config.service_name,
                               " when tokens are verified with RS256 (there "
                               "is no HS256 secret to derive it from)"));
}

absl::StatusOr<ServiceConfig> LoadServiceConfig(absl::string_view service_name,
                                                int default_port, int argc,
                                                const char* const* argv) {
  std::map<std::string, std::string> values;
  try {
    CLI::App app(absl::StrCat("Prima ", service_name,
                              " service. Every flag falls back to the "
                              "environment variable shown."),
                 argc > 0 && argv != nullptr && argv[0] != nullptr
                     ? std::string(argv[0])
                     : std::string(service_name));
    constexpr size_t kCount = sizeof(kFlags) / sizeof(kFlags[0]);
    std::vector<std::string> storage(kCount);
    std::vector<CLI::Option*> options;
    for (size_t i = 0; i < kCount; ++i) {
      options.push_back(
          app.add_option(kFlags[i].flag, storage[i], kFlags[i].help)
              ->envname(kFlags[i].env));
    }
    // CLI11 wants the arguments without the program name, in reverse order.
    std::vector<std::string> args;
    for (int i = argc - 1; i >= 1 && argv != nullptr; --i) {
      args.emplace_back(argv[i] != nullptr ? argv[i] : "");
    }
    try {
      app.parse(args);
    } catch (const CLI::CallForHelp&) {
      return absl::CancelledError(app.help());
    } catch (const CLI::CallForAllHelp&) {
      return absl::CancelledError(app.help());
    } catch (const CLI::ParseError& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(e.what(), " (run with --help for usage)"));
    }
    for (size_t i = 0; i < kCount; ++i) {
      // Set by the flag or, failing that, by the environment variable.
      if (options[i]->count() > 0) values[kFlags[i].env] = storage[i];
    }
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("reading command-line flags: ", e.what()));
  } catch (...) {
    return absl::InternalError("reading command-line flags failed");
  }
  return ConfigFromValues(service_name, default_port, values);
}

absl::StatusOr<int> IntFromEnv(const char* name, int default_value, int lo,
                               int hi) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return default_value;
  int value = 0;
  if (!absl::SimpleAtoi(raw, &value) || value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": must be a whole number in ", lo, "-", hi));
  }
  return value;
}

}  // namespace prima
