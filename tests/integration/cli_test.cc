// The real `prima` binary against an in-process server.

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "bench/echo_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/config.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_server.h"

#ifndef PRIMA_CLI_PATH
#error "PRIMA_CLI_PATH must name the built prima binary"
#endif

namespace prima {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret = "cli-test-secret-0123456789abcdef-0123";

using Result = testing::ProcessResult;

// Runs `prima args...` with only `env` in its environment.
Result RunPrima(const std::vector<std::string>& args,
                const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {PRIMA_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunProcess(argv, env);
}

// A 127.0.0.1 port that nothing listens on (bound, then released).
int ClosedPort() { return testing::FreePort(); }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::TestServer>> server =
        testing::TestServer::Start({&echo_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  bench::EchoServiceImpl echo_;
  std::unique_ptr<testing::TestServer> server_;
};

TEST_F(CliTest, HealthOfAServingServerExitsZero) {
  Result r = RunPrima(
      {"health", "--service", "catalog", "--catalog-addr", server_->address()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("catalog"));
  EXPECT_THAT(r.out, HasSubstr(server_->address()));
  EXPECT_THAT(r.out, HasSubstr("SERVING"));
  EXPECT_THAT(r.out, Not(HasSubstr("NOT_SERVING")));
  EXPECT_THAT(r.out, Not(HasSubstr("queue")));  // only the one asked for
}

TEST_F(CliTest, HealthTakesTheAddressFromTheEnvironment) {
  Result r = RunPrima({"health", "--service", "queue", "--output", "json"},
                      {"PRIMA_QUEUE_ADDR=" + server_->address()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         "{\"service\":\"queue\",\"address\":\"",
                         server_->address(), "\",\"status\":\"SERVING\"")));
}

TEST_F(CliTest, HealthOfANotServingServerExitsNonZero) {
  server_->server().SetServing(false);
  Result r = RunPrima(
      {"health", "--service", "catalog", "--catalog-addr", server_->address()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("NOT_SERVING"));
}

TEST_F(CliTest, HealthOfAClosedPortIsUnavailable) {
  const std::string address = absl::StrCat("127.0.0.1:", ClosedPort());
  Result r = RunPrima({"health", "--service", "catalog", "--catalog-addr",
                       address, "--timeout", "3"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE: catalog"));
  EXPECT_THAT(r.out, HasSubstr("UNREACHABLE"));
}

TEST_F(CliTest, ServicesListsTheServicesByReflection) {
  Result r = RunPrima({"services", "--service", "catalog", "--catalog-addr",
                       server_->address()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("grpc.health.v1.Health"));
  EXPECT_THAT(r.out, HasSubstr("prima.testing.v1.EchoService"));
  EXPECT_THAT(r.out, HasSubstr("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(CliTest, ServicesOfAllServersStillListsTheReachableOne) {
  const std::string closed = absl::StrCat("127.0.0.1:", ClosedPort());
  Result r = RunPrima({"services", "--catalog-addr", server_->address(),
                       "--queue-addr", closed, "--complaint-addr", closed,
                       "--satisfaction-addr", closed, "--output", "json"});
  EXPECT_NE(r.exit_code, 0);  // three are unreachable
  EXPECT_THAT(r.out,
              HasSubstr("\"grpc_service\":\"prima.testing.v1.EchoService\""));
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE: queue"));
}

TEST(CliTokenTest, MintedTokenVerifies) {
  Result r =
      RunPrima({"token", "mint", "--secret", kSecret, "--agency", "kemenkes",
                "--role", "officer", "--role", "supervisor", "--sub",
                "officer-7", "--ttl", "90m", "--issuer", "prima-dev"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(absl::EndsWith(r.out, "\n"));
  const std::string token(absl::StripSuffix(r.out, "\n"));
  EXPECT_THAT(token, Not(HasSubstr("\n")));  // the token and nothing else
  EXPECT_EQ(r.err, "");

  JwtSettings settings;
  settings.hs256_secret = kSecret;
  settings.issuer = "prima-dev";
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::Create(settings);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<Principal> principal = (*verifier)->Verify(token, absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "officer-7");
  EXPECT_EQ(principal->agency, "kemenkes");
  EXPECT_TRUE(principal->Has(Role::kOfficer));
  EXPECT_TRUE(principal->Has(Role::kSupervisor));
  EXPECT_FALSE(principal->Has(Role::kAgencyAdmin));
  // --ttl 90m: still valid in 89 minutes, expired in 91.
  EXPECT_TRUE((*verifier)->Verify(token, absl::Now() + absl::Minutes(89)).ok());
  EXPECT_FALSE(
      (*verifier)->Verify(token, absl::Now() + absl::Minutes(91)).ok());

  JwtSettings other = settings;
  other.hs256_secret = "another-secret-0123456789abcdef-0123";
  absl::StatusOr<std::unique_ptr<JwtVerifier>> wrong =
      JwtVerifier::Create(other);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_FALSE((*wrong)->Verify(token, absl::Now()).ok());
}

TEST(CliTokenTest, SecretComesFromTheEnvironment) {
  Result r = RunPrima({"token", "mint", "--role", "citizen"},
                      {"PRIMA_JWT_SECRET=" + kSecret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JwtSettings settings;
  settings.hs256_secret = kSecret;
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::Create(settings);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  absl::StatusOr<Principal> principal =
      (*verifier)->Verify(absl::StripSuffix(r.out, "\n"), absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_TRUE(principal->Has(Role::kCitizen));
}

TEST(CliTokenTest, BadInputIsReportedWithItsCode) {
  Result short_secret =
      RunPrima({"token", "mint", "--secret", "short", "--role", "officer"});
  EXPECT_NE(short_secret.exit_code, 0);
  EXPECT_THAT(short_secret.err, HasSubstr("error: INVALID_ARGUMENT: secret"));
  EXPECT_EQ(short_secret.out, "");

  Result bad_ttl = RunPrima({"token", "mint", "--secret", kSecret, "--role",
                             "officer", "--ttl", "soon"});
  EXPECT_NE(bad_ttl.exit_code, 0);
  EXPECT_THAT(bad_ttl.err, HasSubstr("error: INVALID_ARGUMENT: --ttl"));
}

TEST(CliUsageTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunPrima({}).exit_code, 2);
  EXPECT_EQ(RunPrima({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(RunPrima({"health", "--service", "nowhere"}).exit_code, 2);
  EXPECT_EQ(RunPrima({"token", "mint", "--role", "officer"}).exit_code, 2);
  EXPECT_EQ(RunPrima({"health", "--output", "yaml"}).exit_code, 2);
  // A survey at a kiosk names the registered kiosk and the service; the old
  // client-chosen device flag is gone.
  EXPECT_EQ(RunPrima({"survey", "submit", "--kiosk", "k1", "--answer", "U1=4"})
                .exit_code,
            2);
  EXPECT_EQ(RunPrima({"survey", "submit", "--office", "kantor", "--service",
                      "ktp", "--device", "kiosk-1", "--answer", "U1=4"})
                .exit_code,
            2);
  EXPECT_EQ(RunPrima({"survey", "kiosk"}).exit_code, 2);
  EXPECT_EQ(
      RunPrima({"survey", "kiosk", "register", "--office", "kantor"}).exit_code,
      2);
  Result help = RunPrima({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("health"));
}

}  // namespace
}  // namespace prima
