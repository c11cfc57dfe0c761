#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/metrics.h"
#include "services/common/redis_client.h"
#include "services/common/server.h"
#include "tests/testing/redis_server.h"

namespace prima::testing {

// What a service factory needs, made real for a test that runs the service
// in-process: a redis-server of its own, a connected RedisClient, a JWT
// verifier for kSecret, and metrics that serve no endpoint.
class TestServiceEnv {
 public:
  static constexpr char kSecret[] = "service-test-secret-0123456789abcdef";

  // `clock` must outlive the env; tokens are issued at its time.
  static absl::StatusOr<std::unique_ptr<TestServiceEnv>> Start(
      const Clock& clock = RealClock::Get());
  ~TestServiceEnv();

  TestRedis& redis() { return *redis_; }
  RedisClient& client() { return *client_; }
  Metrics& metrics() { return *metrics_; }
  const ServiceEnvironment& environment() const { return *environment_; }
  // The services keep a reference: changes (e.g. rate limits, off by
  // default here) apply to services already made.
  ServiceConfig& mutable_config() { return config_; }

  // An HS256 token for kSecret with one role, valid for a year from the clock's
  // now.
  std::string Token(const std::string& role, const std::string& agency = "",
                    const std::string& subject = "tester") const;

 private:
  explicit TestServiceEnv(const Clock& clock) : clock_(clock) {}

  const Clock& clock_;
  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<RedisClient> client_;
  ServiceConfig config_;
  std::unique_ptr<JwtVerifier> verifier_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ServiceEnvironment> environment_;
};

}  // namespace prima::testing
