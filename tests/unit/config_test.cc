#include "services/common/config.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/keys.h"

namespace prima {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes

using Values = std::map<std::string, std::string>;

Values Base() { return {{kEnvJwtSecret, kSecret}}; }

Values With(Values values, const std::string& key, const std::string& value) {
  values[key] = value;
  return values;
}

std::string PublicPem(EVP_PKEY* key) {
  std::string pem = testing::PublicKeyPem(key);
  EXPECT_FALSE(pem.empty());
  return pem;
}

// A file in the test's temporary directory, removed at the end.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents)
      : path_(absl::StrCat(::testing::TempDir(), "/", name, ".", getpid())) {
    FILE* f = std::fopen(path_.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f != nullptr) {
      std::fwrite(contents.data(), 1, contents.size(), f);
      std::fclose(f);
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void ExpectError(const absl::StatusOr<ServiceConfig>& config,
                 absl::string_view var, absl::string_view detail = "") {
  ASSERT_FALSE(config.ok()) << "accepted; expected an error for " << var;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
      << config.status();
  EXPECT_TRUE(
      absl::StartsWith(config.status().message(), absl::StrCat(var, ": ")))
      << config.status();
  EXPECT_TRUE(absl::StrContains(config.status().message(), detail))
      << config.status() << " (wanted: " << detail << ")";
}

// ----------------------------------------------------------- ParseRedisUrl

TEST(ParseRedisUrlTest, Forms) {
  absl::StatusOr<RedisEndpoint> e = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "");

  e = ParseRedisUrl("redis://redis.prima-jatim.svc:6380/3");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "redis.prima-jatim.svc");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);

  e = ParseRedisUrl("redis://:s3cret@10.0.0.5:6379/15");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "10.0.0.5");
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "s3cret");
  EXPECT_EQ(e->db, 15);

  e = ParseRedisUrl("redis://prima:pw@redis/");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->username, "prima");
  EXPECT_EQ(e->password, "pw");
  EXPECT_EQ(e->host, "redis");
  EXPECT_EQ(e->db, 0);

  // Percent-encoded password; a colon in the password after the first one.
  e = ParseRedisUrl("redis://u:p%40ss%2Fw%3a:x@h:1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->username, "u");
  EXPECT_EQ(e->password, "p@ss/w::x");
  EXPECT_EQ(e->port, 1);

  // Like redis-cli, user info without a colon is a password.
  e = ParseRedisUrl("redis://onlypw@h");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "onlypw");

  e = ParseRedisUrl("redis://[::1]:6390/1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6390);
  EXPECT_EQ(e->db, 1);

  e = ParseRedisUrl("REDIS://H:65535");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->port, 65535);
}

TEST(ParseRedisUrlTest, Errors) {
  struct Case {
    std::string url;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "redis://"},
      {"localhost:6379", "redis://"},
      {"http://localhost", "redis://"},
      {"rediss://localhost", "not supported"},
      {"redis://", "host must not be empty"},
      {"redis://:6379", "host must not be empty"},
      {"redis://u:p@:6379/1", "host must not be empty"},
      {"redis://h:0", "port must be 1-65535"},
      {"redis://h:65536", "port must be 1-65535"},
      {"redis://h:", "port must be 1-65535"},
      {"redis://h:abc", "port must be 1-65535"},
      {"redis://h:-1", "port must be 1-65535"},
      {"redis://h/16", "db must be 0-15"},
      {"redis://h/x", "db must be 0-15"},
      {"redis://h/-1", "db must be 0-15"},
      {"redis://h/1/2", "db must be 0-15"},
      {"redis://h?db=1", "not supported"},
      {"redis://u:%zz@h", "password"},
      {"redis://::1:6379", "host"},
      {"redis://[::1", "]"},
      {"redis://h o/1", "host"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RedisEndpoint> e = ParseRedisUrl(c.url);
    ASSERT_FALSE(e.ok()) << c.url;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(e.status().message(), c.message))
        << c.url << " -> " << e.status();
  }
}

TEST(ParseRedisUrlTest, ErrorsNeverShowThePassword) {
  absl::StatusOr<RedisEndpoint> e =
      ParseRedisUrl("redis://admin:hunter2-secret@h:99999");
  ASSERT_FALSE(e.ok());
  EXPECT_FALSE(absl::StrContains(e.status().message(), "hunter2"));
  absl::StatusOr<ServiceConfig> config = ConfigFromValues(
      "queue", 50052,
      With(Base(), kEnvRedisUrl, "redis://admin:hunter2-secret@h/99"));
  ExpectError(config, kEnvRedisUrl, "db must be 0-15");
  EXPECT_FALSE(absl::StrContains(config.status().message(), "hunter2"));
}

// ---------------------------------------------------------- ParseSentinels

TEST(ParseSentinelsTest, Forms) {
  absl::StatusOr<std::vector<HostPort>> s =
      ParseSentinels("redis-sentinel:26379");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].host, "redis-sentinel");
  EXPECT_EQ((*s)[0].port, 26379);

  s = ParseSentinels("10.0.0.1:26379, s-1.sentinel:1 ,[::1]:65535");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[1].host, "s-1.sentinel");
  EXPECT_EQ((*s)[1].port, 1);
  EXPECT_EQ((*s)[2].host, "::1");
  EXPECT_EQ((*s)[2].port, 65535);

  std::vector<std::string> many(kMaxSentinels, "s:26379");
  s = ParseSentinels(absl::StrJoin(many, ","));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->size(), kMaxSentinels);
}

TEST(ParseSentinelsTest, Errors) {
  std::vector<std::string> too_many(kMaxSentinels + 1, "s:26379");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"redis-sentinel", "entry 1 \"redis-sentinel\": port is missing"},
      {"a:1,,b:2", "no empty entries"},
      {"a:1,", "no empty entries"},
      {"a:1,b:0", "entry 2 \"b:0\": port must be 1-65535"},
      {"a:99999", "port must be 1-65535"},
      {"a:x", "port must be 1-65535"},
      {":26379", "host must not be empty"},
      {"a b:1", "invalid host name"},
      {"::1:26379", "brackets"},
      {"redis://s:26379", "entry 1"},
      {absl::StrJoin(too_many, ","), "at most 16 Sentinels"},
  };
  for (const auto& [list, message] : cases) {
    absl::StatusOr<std::vector<HostPort>> s = ParseSentinels(list);
    ASSERT_FALSE(s.ok()) << list;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(s.status().message(), message))
        << list << " -> " << s.status();
  }
}

// -------------------------------------------------------- ConfigFromValues

TEST(ConfigFromValuesTest, Defaults) {
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("catalog", 50051, Base());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->service_name, "catalog");
  EXPECT_EQ(config->listen, "127.0.0.1:50051");
  EXPECT_EQ(config->redis.host, "127.0.0.1");
  EXPECT_EQ(config->redis.port, 6379);
  EXPECT_EQ(config->redis.db, 0);
  EXPECT_EQ(config->jwt.hs256_secret, kSecret);
  EXPECT_EQ(config->jwt.rs256_public_key_pem, "");
  EXPECT_EQ(config->jwt.issuer, "");
  EXPECT_EQ(config->jwt.audience, "prima");
  EXPECT_EQ(config->log_level, LogLevel::kInfo);
  EXPECT_EQ(config->drain_timeout, absl::Seconds(10));
  EXPECT_EQ(config->redis_timeout, absl::Seconds(2));
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:51051");
}

TEST(ConfigFromValuesTest, MetricsListenDefaultsToTheServicePortPlus1000) {
  for (const auto& [port, want] :
       std::vector<std::pair<int, std::string>>{{50051, "127.0.0.1:51051"},
                                                {50052, "127.0.0.1:51052"},
                                                {50053, "127.0.0.1:51053"},
                                                {50054, "127.0.0.1:51054"},
                                                {0, "127.0.0.1:0"},
                                                {65000, "127.0.0.1:0"}}) {
    absl::StatusOr<ServiceConfig> config = ConfigFromValues("s", port, Base());
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->metrics_listen, want) << port;
  }
}

TEST(ConfigFromValuesTest, MetricsListenForms) {
  for (const char* ok : {"0.0.0.0:9090", "127.0.0.1:0", "[::1]:9090", "off"}) {
    absl::StatusOr<ServiceConfig> config =
        ConfigFromValues("queue", 50052, With(Base(), kEnvMetricsListen, ok));
    ASSERT_TRUE(config.ok()) << ok << ": " << config.status();
    EXPECT_EQ(config->metrics_listen, ok);
  }
  for (const auto& [bad, detail] :
       std::vector<std::pair<std::string, std::string>>{
           {"9090", "host:port"},
           {"0.0.0.0:99999", "port must be 0-65535"},
           {"0.0.0.0:", "port must be 0-65535"},
           {"OFF", "host:port"},
           {"[::1:9090", "]"}}) {
    absl::StatusOr<ServiceConfig> config =
        ConfigFromValues("queue", 50052, With(Base(), kEnvMetricsListen, bad));
    ExpectError(config, kEnvMetricsListen, detail);
    if (!config.ok()) {
      EXPECT_TRUE(absl::StrContains(config.status().message(), "or off"))
          << config.status();
    }
  }
}

TEST(ConfigFromValuesTest, AllSet) {
  Values values = Base();
  values[kEnvListen] = "[::]:0";
  values[kEnvRedisUrl] = "redis://:pw@redis:6380/2";
  values[kEnvJwtIssuer] = "https://sso.example";
  values[kEnvJwtAudience] = "prima-jatim";
  values[kEnvLogLevel] = "DEBUG";
  values[kEnvDrainSeconds] = "0";
  values[kEnvRedisTimeoutMs] = "60000";
  values["PRIMA_UNRELATED"] = "ignored";
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 50052, values);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "[::]:0");
  EXPECT_EQ(config->redis.host, "redis");
  EXPECT_EQ(config->redis.port, 6380);
  EXPECT_EQ(config->redis.password, "pw");
  EXPECT_EQ(config->redis.db, 2);
  EXPECT_EQ(config->jwt.issuer, "https://sso.example");
  EXPECT_EQ(config->jwt.audience, "prima-jatim");
  EXPECT_EQ(config->log_level, LogLevel::kDebug);
  EXPECT_EQ(config->drain_timeout, absl::ZeroDuration());
  EXPECT_EQ(config->redis_timeout, absl::Seconds(60));
}

TEST(ConfigFromValuesTest, EmptyValuesCountAsUnset) {
  Values values = Base();
  values[kEnvListen] = "";
  values[kEnvJwtAudience] = "";
  values[kEnvJwtPublicKeyFile] = "";
  values[kEnvDrainSeconds] = "";
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("catalog", 50051, values);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:50051");
  EXPECT_EQ(config->jwt.audience, "prima");
  EXPECT_EQ(config->drain_timeout, absl::Seconds(10));
}

TEST(ConfigFromValuesTest, ListenForms) {
  for (const char* ok : {"0.0.0.0:50051", "localhost:0", "[::1]:50051",
                         "[::]:65535", "queue-0.queue:1"}) {
    absl::StatusOr<ServiceConfig> config =
        ConfigFromValues("queue", 50052, With(Base(), kEnvListen, ok));
    ASSERT_TRUE(config.ok()) << ok << ": " << config.status();
    EXPECT_EQ(config->listen, ok);
  }
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "h:65536")),
              kEnvListen, "port must be 0-65535");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "h:abc")),
              kEnvListen, "port must be 0-65535");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "h:")),
              kEnvListen, "port must be 0-65535");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "50051")),
              kEnvListen, "host:port");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, ":50051")),
              kEnvListen, "host");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "[::1]")),
              kEnvListen, "port");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "[::1:80")),
              kEnvListen, "]");
  ExpectError(ConfigFromValues("q", 1, With(Base(), kEnvListen, "::1:80")),
              kEnvListen, "brackets");
}

TEST(ConfigFromValuesTest, EachInvalidVariableIsNamed) {
  struct Case {
    const char* var;
    std::string value;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {kEnvRedisUrl, "http://redis:6379", "redis://"},
      {kEnvRedisUrl, "redis://redis:0", "port must be 1-65535"},
      {kEnvRedisUrl, "redis://redis/16", "db must be 0-15"},
      {kEnvJwtSecret, std::string(31, 'x'), "at least 32 bytes"},
      {kEnvLogLevel, "verbose", "debug, info, warn, error"},
      {kEnvDrainSeconds, "301", "0-300"},
      {kEnvDrainSeconds, "-1", "0-300"},
      {kEnvDrainSeconds, "1.5", "0-300"},
      {kEnvDrainSeconds, "ten", "0-300"},
      {kEnvDrainSeconds, " 5", "0-300"},
      {kEnvRedisTimeoutMs, "9", "10-60000"},
      {kEnvRedisTimeoutMs, "60001", "10-60000"},
      {kEnvRedisTimeoutMs, "2s", "10-60000"},
      {kEnvRedisTimeoutMs, "99999999999999999999", "10-60000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.var, "=", c.value));
    ExpectError(ConfigFromValues("queue", 50052, With(Base(), c.var, c.value)),
                c.var, c.detail);
  }
  // The integer bounds themselves are fine.
  for (const auto& [var, value] :
       std::vector<std::pair<std::string, std::string>>{
           {kEnvDrainSeconds, "300"},
           {kEnvRedisTimeoutMs, "10"},
           {kEnvLogLevel, "warn"},
           {kEnvLogLevel, "Error"}}) {
    EXPECT_TRUE(ConfigFromValues("queue", 50052, With(Base(), var, value)).ok())
        << var << "=" << value;
  }
}

TEST(ConfigFromValuesTest, RedisPasswordOverridesTheUrls) {
  Values values = Base();
  values[kEnvRedisUrl] = "redis://app:from-url@redis:6380/2";
  values[kEnvRedisPassword] = "p@ss/w:rd%";  // used as is: no URL encoding
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 50052, values);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->redis.password, "p@ss/w:rd%");
  EXPECT_EQ(config->redis.username, "app");
  EXPECT_EQ(config->redis.host, "redis");
  EXPECT_EQ(config->redis.db, 2);

  // Alone, with the default URL.
  config = ConfigFromValues("queue", 50052,
                            With(Base(), kEnvRedisPassword, "secret"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->redis.password, "secret");
  EXPECT_EQ(config->redis.host, "127.0.0.1");
}

TEST(ConfigFromValuesTest, SentinelSettings) {
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 50052, Base());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->redis.sentinels.empty());
  EXPECT_EQ(config->redis.sentinel_master, "prima");
  EXPECT_EQ(config->redis.sentinel_password, "");

  Values values = Base();
  values[kEnvRedisUrl] = "redis://:pw@ignored-host:1/3";
  values[kEnvRedisSentinels] = "redis-sentinel:26379,10.1.2.3:26380";
  values[kEnvRedisSentinelMaster] = "prima-jatim_1.a";
  values[kEnvRedisSentinelPassword] = "sentinel-pw";
  config = ConfigFromValues("queue", 50052, values);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->redis.sentinels.size(), 2u);
  EXPECT_EQ(config->redis.sentinels[0].host, "redis-sentinel");
  EXPECT_EQ(config->redis.sentinels[0].port, 26379);
  EXPECT_EQ(config->redis.sentinels[1].host, "10.1.2.3");
  EXPECT_EQ(config->redis.sentinels[1].port, 26380);
  EXPECT_EQ(config->redis.sentinel_master, "prima-jatim_1.a");
  EXPECT_EQ(config->redis.sentinel_password, "sentinel-pw");
  // The URL still gives the password and db of the primary.
  EXPECT_EQ(config->redis.password, "pw");
  EXPECT_EQ(config->redis.db, 3);
}

TEST(ConfigFromValuesTest, InvalidSentinelSettingsAreNamed) {
  ExpectError(
      ConfigFromValues("q", 1, With(Base(), kEnvRedisSentinels, "sentinel")),
      kEnvRedisSentinels, "port is missing");
  ExpectError(
      ConfigFromValues("q", 1, With(Base(), kEnvRedisSentinels, "s:1,s:0")),
      kEnvRedisSentinels, "entry 2");
  for (const std::string& name :
       {std::string("pri ma"), std::string("prima\n"), std::string("a*"),
        std::string(kMaxSentinelMasterNameBytes + 1, 'x'),
        std::string("{prima}")}) {
    ExpectError(
        ConfigFromValues("q", 1, With(Base(), kEnvRedisSentinelMaster, name)),
        kEnvRedisSentinelMaster, "A-Z a-z 0-9 . _ -");
  }
  EXPECT_TRUE(
      ConfigFromValues("q", 1,
                       With(Base(), kEnvRedisSentinelMaster,
                            std::string(kMaxSentinelMasterNameBytes, 'x')))
          .ok());
}

TEST(ConfigFromValuesTest, SecretIsNeverEchoed) {
  absl::StatusOr<ServiceConfig> config = ConfigFromValues(
      "queue", 50052, With(Base(), kEnvJwtSecret, "tooshort-secret"));
  ExpectError(config, kEnvJwtSecret);
  EXPECT_FALSE(absl::StrContains(config.status().message(), "tooshort"));
}

TEST(ConfigFromValuesTest, ExactlyOneJwtKey) {
  ExpectError(ConfigFromValues("queue", 50052, {}), kEnvJwtSecret,
              kEnvJwtPublicKeyFile);

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa(EVP_RSA_gen(2048),
                                                          &EVP_PKEY_free);
  ASSERT_NE(rsa, nullptr);
  TempFile pem("jwt-public.pem", PublicPem(rsa.get()));
  Values both = Base();
  both[kEnvJwtPublicKeyFile] = pem.path();
  ExpectError(ConfigFromValues("queue", 50052, both), kEnvJwtSecret,
              "only one");

  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 50052, {{kEnvJwtPublicKeyFile, pem.path()}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->jwt.hs256_secret, "");
  EXPECT_EQ(config->jwt.rs256_public_key_pem, PublicPem(rsa.get()));
  EXPECT_TRUE(absl::StartsWith(config->jwt.rs256_public_key_pem,
                               "-----BEGIN PUBLIC KEY-----"));
}

TEST(ConfigFromValuesTest, PublicKeyFileProblems) {
  const std::string missing =
      absl::StrCat(::testing::TempDir(), "/no-such-key-", getpid(), ".pem");
  ExpectError(
      ConfigFromValues("queue", 50052, {{kEnvJwtPublicKeyFile, missing}}),
      kEnvJwtPublicKeyFile, "cannot read");

  TempFile not_pem("not-a-key.pem", "hello, I am not a key\n");
  ExpectError(ConfigFromValues("queue", 50052,
                               {{kEnvJwtPublicKeyFile, not_pem.path()}}),
              kEnvJwtPublicKeyFile, "PEM public key");

  // A private key is not what the variable asks for either.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa(EVP_RSA_gen(2048),
                                                          &EVP_PKEY_free);
  ASSERT_NE(rsa, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()),
                                                &BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), rsa.get(), nullptr, nullptr, 0,
                                     nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  TempFile private_key("private.pem",
                       std::string(data, static_cast<size_t>(len)));
  ExpectError(ConfigFromValues("queue", 50052,
                               {{kEnvJwtPublicKeyFile, private_key.path()}}),
              kEnvJwtPublicKeyFile, "PEM public key");

  // RS256 needs RSA.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"),
                                                         &EVP_PKEY_free);
  ASSERT_NE(ec, nullptr);
  TempFile ec_pem("ec-public.pem", PublicPem(ec.get()));
  ExpectError(
      ConfigFromValues("queue", 50052, {{kEnvJwtPublicKeyFile, ec_pem.path()}}),
      kEnvJwtPublicKeyFile, "RSA");

  // A directory cannot be read as a key.
  ExpectError(ConfigFromValues("queue", 50052,
                               {{kEnvJwtPublicKeyFile, ::testing::TempDir()}}),
              kEnvJwtPublicKeyFile);
}

// ------------------------------------------------------- LoadServiceConfig

// Clears every PRIMA_* variable for the test and restores them afterwards.
class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* var : kVars) {
      const char* value = getenv(var);
      if (value != nullptr) saved_.emplace_back(var, value);
      unsetenv(var);
    }
  }
  void TearDown() override {
    for (const char* var : kVars) unsetenv(var);
    for (const auto& [var, value] : saved_) {
      setenv(var.c_str(), value.c_str(), 1);
    }
  }

  static absl::StatusOr<ServiceConfig> Load(std::vector<std::string> args) {
    std::vector<const char*> argv = {"prima-queue"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return LoadServiceConfig("queue", 50052, static_cast<int>(argv.size()),
                             argv.data());
  }

  static constexpr const char* kVars[] = {kEnvListen,
                                          kEnvRedisUrl,
                                          kEnvRedisPassword,
                                          kEnvRedisSentinels,
                                          kEnvRedisSentinelMaster,
                                          kEnvRedisSentinelPassword,
                                          kEnvJwtSecret,
                                          kEnvJwtPublicKeyFile,
                                          kEnvJwtIssuer,
                                          kEnvJwtAudience,
                                          kEnvLogLevel,
                                          kEnvDrainSeconds,
                                          kEnvRedisTimeoutMs,
                                          kEnvMetricsListen};
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(EnvTest, EnvironmentOnly) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  setenv(kEnvListen, "0.0.0.0:7000", 1);
  setenv(kEnvRedisUrl, "redis://redis:6390/4", 1);
  setenv(kEnvDrainSeconds, "30", 1);
  absl::StatusOr<ServiceConfig> config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->service_name, "queue");
  EXPECT_EQ(config->listen, "0.0.0.0:7000");
  EXPECT_EQ(config->redis.port, 6390);
  EXPECT_EQ(config->redis.db, 4);
  EXPECT_EQ(config->drain_timeout, absl::Seconds(30));
  EXPECT_EQ(config->jwt.hs256_secret, kSecret);
}

TEST_F(EnvTest, FlagsOverEnvironment) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  setenv(kEnvListen, "0.0.0.0:7000", 1);
  setenv(kEnvLogLevel, "warn", 1);
  setenv(kEnvRedisTimeoutMs, "500", 1);
  absl::StatusOr<ServiceConfig> config =
      Load({"--listen", "127.0.0.1:7001", "--redis-timeout-ms=250",
            "--jwt-audience", "prima-bali"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:7001");                // flag
  EXPECT_EQ(config->redis_timeout, absl::Milliseconds(250));  // flag
  EXPECT_EQ(config->jwt.audience, "prima-bali");              // flag
  EXPECT_EQ(config->log_level, LogLevel::kWarn);              // env
  EXPECT_EQ(config->jwt.hs256_secret, kSecret);               // env
}

TEST_F(EnvTest, RedisSentinelFlagsAndEnvironment) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  setenv(kEnvRedisPassword, "from-secret", 1);
  setenv(kEnvRedisSentinels, "redis-sentinel:26379", 1);
  absl::StatusOr<ServiceConfig> config =
      Load({"--redis-sentinel-master", "prima-bali",
            "--redis-sentinel-password=spw"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->redis.password, "from-secret");  // env
  ASSERT_EQ(config->redis.sentinels.size(), 1u);     // env
  EXPECT_EQ(config->redis.sentinels[0].host, "redis-sentinel");
  EXPECT_EQ(config->redis.sentinel_master, "prima-bali");  // flag
  EXPECT_EQ(config->redis.sentinel_password, "spw");       // flag

  config = Load({"--redis-sentinels", "a:1,b:2", "--redis-password", "f"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->redis.sentinels.size(), 2u);  // flag over env
  EXPECT_EQ(config->redis.password, "f");
  ExpectError(Load({"--redis-sentinels", "a"}), kEnvRedisSentinels);
}

TEST_F(EnvTest, MetricsListenFromFlagOrEnvironment) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  setenv(kEnvMetricsListen, "0.0.0.0:9090", 1);
  absl::StatusOr<ServiceConfig> config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics_listen, "0.0.0.0:9090");
  config = Load({"--metrics-listen", "off"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics_listen, "off");
  ExpectError(Load({"--metrics-listen=9090"}), kEnvMetricsListen, "host:port");
}

TEST_F(EnvTest, DefaultsWithOnlyASecretFlag) {
  absl::StatusOr<ServiceConfig> config = Load({"--jwt-secret", kSecret});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:50052");
  EXPECT_EQ(config->redis.host, "127.0.0.1");
  EXPECT_EQ(config->log_level, LogLevel::kInfo);
}

TEST_F(EnvTest, InvalidFlagValueNamesTheVariable) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  ExpectError(Load({"--drain-seconds", "999"}), kEnvDrainSeconds, "0-300");
  ExpectError(Load({"--redis-url", "redis://h:0"}), kEnvRedisUrl,
              "port must be 1-65535");
}

TEST_F(EnvTest, NoKeyAtAll) { ExpectError(Load({}), kEnvJwtSecret); }

TEST_F(EnvTest, Help) {
  absl::StatusOr<ServiceConfig> config = Load({"--help"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kCancelled);
  for (const char* text :
       {"--listen", "--redis-url", "--redis-password", "--redis-sentinels",
        "--redis-sentinel-master", "--redis-sentinel-password",
        "PRIMA_REDIS_SENTINELS", "--jwt-secret", "--jwt-public-key-file",
        "--jwt-issuer", "--jwt-audience", "--log-level", "--drain-seconds",
        "--redis-timeout-ms", "--metrics-listen", "PRIMA_REDIS_URL",
        "PRIMA_JWT_SECRET", "PRIMA_METRICS_LISTEN"}) {
    EXPECT_TRUE(absl::StrContains(config.status().message(), text))
        << text << " missing from:\n"
        << config.status().message();
  }
  EXPECT_EQ(Load({"-h"}).status().code(), absl::StatusCode::kCancelled);
}

TEST_F(EnvTest, BadCommandLines) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--bogus"}, {"stray-positional"}, {"--listen"}}) {
    absl::StatusOr<ServiceConfig> config = Load(args);
    ASSERT_FALSE(config.ok()) << args[0];
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << config.status();
    EXPECT_TRUE(absl::StrContains(config.status().message(), "--help"))
        << config.status();
  }
}

TEST_F(EnvTest, NoArgvAtAll) {
  setenv(kEnvJwtSecret, kSecret.c_str(), 1);
  absl::StatusOr<ServiceConfig> config =
      LoadServiceConfig("catalog", 50051, 0, nullptr);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:50051");
}

}  // namespace
}  // namespace prima
