// End to end: the four real service binaries against one Redis, called with the
// real `prima` CLI, as ./scripts/up runs them. Uses the throwaway Redis of
// ./scripts/test (PRIMA_TEST_REDIS_URL) when there is one, else starts its own.
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"

namespace prima {
namespace {

struct Binary {
  const char* name;
  const char* path;
};
constexpr Binary kBinaries[] = {{"catalog", PRIMA_CATALOG_PATH},
                                {"queue", PRIMA_QUEUE_PATH},
                                {"complaint", PRIMA_COMPLAINT_PATH},
                                {"satisfaction", PRIMA_SATISFACTION_PATH}};

TEST(StackTest, FourServicesServeHealthAndReflectionAndDrainOnSigterm) {
  std::unique_ptr<testing::TestRedis> own_redis;
  std::string redis_url;
  if (const char* shared = std::getenv("PRIMA_TEST_REDIS_URL");
      shared != nullptr && *shared != '\0') {
    redis_url = shared;
  } else {
    auto redis = testing::TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    own_redis = std::move(*redis);
    redis_url = own_redis->url();
  }

  std::vector<std::unique_ptr<testing::BackgroundProcess>> services;
  std::vector<std::string> cli_flags;
  for (const Binary& binary : kBinaries) {
    const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
    services.push_back(std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{binary.path},
        std::vector<std::string>{
            absl::StrCat("PRIMA_LISTEN=", address),
            absl::StrCat("PRIMA_REDIS_URL=", redis_url),
            "PRIMA_JWT_SECRET=e2e-secret-0123456789abcdef0123456789",
            "PRIMA_LOG_LEVEL=warn", "PRIMA_METRICS_LISTEN=127.0.0.1:0"}));
    ASSERT_TRUE(services.back()->started()) << binary.name;
    cli_flags.push_back(absl::StrCat("--", binary.name, "-addr"));
    cli_flags.push_back(address);
  }

  auto prima = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {PRIMA_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), cli_flags.begin(), cli_flags.end());
    return testing::RunProcess(argv, {});
  };

  testing::ProcessResult health;
  const absl::Time until = absl::Now() + absl::Seconds(20);
  do {
    health = prima({"health"});
    if (health.exit_code == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < until);
  ASSERT_EQ(health.exit_code, 0) << health.out << health.err;
  for (const Binary& binary : kBinaries) {
    EXPECT_TRUE(absl::StrContains(health.out, binary.name)) << health.out;
  }
  EXPECT_FALSE(absl::StrContains(health.out, "NOT_SERVING")) << health.out;

  testing::ProcessResult listed = prima({"services", "--output", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  for (const Binary& binary : kBinaries) {
    EXPECT_TRUE(absl::StrContains(listed.out, binary.name)) << listed.out;
  }
  EXPECT_TRUE(absl::StrContains(listed.out, "grpc.health.v1.Health"));
  EXPECT_TRUE(absl::StrContains(listed.out,
                                "grpc.reflection.v1alpha.ServerReflection"));

  for (size_t i = 0; i < services.size(); ++i) {
    EXPECT_EQ(services[i]->Stop(SIGTERM), 0)
        << kBinaries[i].name << ": " << services[i]->StderrText();
  }
}

}  // namespace
}  // namespace prima
