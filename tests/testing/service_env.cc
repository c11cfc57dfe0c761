#include "tests/testing/service_env.h"

#include "gtest/gtest.h"

namespace prima::testing {

absl::StatusOr<std::unique_ptr<TestServiceEnv>> TestServiceEnv::Start(
    const Clock& clock) {
  std::unique_ptr<TestServiceEnv> env(new TestServiceEnv(clock));
  absl::StatusOr<std::unique_ptr<TestRedis>> redis = TestRedis::Start();
  if (!redis.ok()) return redis.status();
  env->redis_ = std::move(*redis);
  RedisClient::Options options;
  options.endpoint = env->redis_->endpoint();
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Start(options);
  if (!client.ok()) return client.status();
  env->client_ = std::move(*client);
  if (!env->client_->WaitUntilUsable(absl::Seconds(5))) {
    return absl::UnavailableError("the test's Redis client never connected");
  }
  env->config_.service_name = "test";
  env->config_.redis = env->redis_->endpoint();  // for readers and feeds
  env->config_.jwt.hs256_secret = kSecret;
  env->config_.receipt_keys = ReceiptKeys::FromJwtSecret(kSecret);
  env->config_.rate_limits = RateLimitConfig::None();
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::Create(env->config_.jwt);
  if (!verifier.ok()) return verifier.status();
  env->verifier_ = std::move(*verifier);
  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Start(kMetricsOff);
  if (!metrics.ok()) return metrics.status();
  env->metrics_ = std::move(*metrics);
  env->environment_ = std::make_unique<ServiceEnvironment>(ServiceEnvironment{
      env->config_, *env->client_, clock, *env->verifier_, *env->metrics_});
  return env;
}

TestServiceEnv::~TestServiceEnv() {
  if (client_) client_->Stop();
}

std::string TestServiceEnv::Token(const std::string& role,
                                  const std::string& agency,
                                  const std::string& subject) const {
  MintRequest request;
  request.secret = kSecret;
  request.subject = subject;
  request.agency = agency;
  request.roles = {role};
  request.now = clock_.Now();
  request.ttl = absl::Hours(24 * 365);
  absl::StatusOr<std::string> token = MintHs256Token(request);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

}  // namespace prima::testing
