// `prima directory` against an in-process DirectoryService on a real Redis:
// applying the shipped demo directory (twice: the second run changes
// nothing), listing, getting, and the errors a user sees.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/directory_service.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/redis_client.h"
#include "services/common/server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_env.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_server.h"

#ifndef PRIMA_CLI_PATH
#error "PRIMA_CLI_PATH must name the built prima binary"
#endif
#ifndef PRIMA_DEMO_DIRECTORY
#error "PRIMA_DEMO_DIRECTORY must name deploy/local/demo-directory.textproto"
#endif

namespace prima {
namespace {

using ::testing::HasSubstr;

class DirectoryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::TestServiceEnv::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    env_ = std::move(*started);
    redis_ = &env_->redis();
    const ServiceEnvironment& env = env_->environment();
    auto service = catalog::MakeDirectoryService(env);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    auto server = testing::TestServer::Start({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) {
      server_->server().Shutdown();
      server_->server().Wait();
    }
  }

  std::string Token(const std::string& role,
                    const std::string& agency = "") const {
    return env_->Token(role, agency, "cli-test");
  }

  testing::ProcessResult Prima(std::vector<std::string> args,
                               const std::string& token = "") {
    std::vector<std::string> argv = {PRIMA_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {
        absl::StrCat("PRIMA_CATALOG_ADDR=", server_->address())};
    if (!token.empty()) env.push_back(absl::StrCat("PRIMA_TOKEN=", token));
    return testing::RunProcess(argv, env);
  }

  std::unique_ptr<testing::TestServiceEnv> env_;
  testing::TestRedis* redis_ = nullptr;  // env_'s
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<testing::TestServer> server_;
};

TEST_F(DirectoryCliTest, AppliesTheDemoDirectoryIdempotently) {
  const std::string admin = Token("region_admin");
  testing::ProcessResult first =
      Prima({"directory", "apply", "-f", PRIMA_DEMO_DIRECTORY}, admin);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("changed agencies: dukcapil-dki, "
                                   "samsat-papua"));
  const int64_t events =
      redis_->Command({"XLEN", "prima:events:catalog"})->integer;
  EXPECT_EQ(events, 2);

  testing::ProcessResult second = Prima(
      {"directory", "apply", "-f", PRIMA_DEMO_DIRECTORY, "--output", "json"},
      admin);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("{\"kind\":\"officers\",\"created\":\"0\","
                                    "\"updated\":\"0\",\"unchanged\":\"6\"}"));
  EXPECT_THAT(second.out, ::testing::Not(HasSubstr("\"unchanged\":\"0\"")));
  EXPECT_EQ(redis_->Command({"XLEN", "prima:events:catalog"})->integer, events);

  // Two time zones, a priority counter, public reads.
  testing::ProcessResult offices = Prima({"directory", "offices"});
  ASSERT_EQ(offices.exit_code, 0) << offices.err;
  EXPECT_THAT(offices.out, HasSubstr("Asia/Jakarta"));
  EXPECT_THAT(offices.out, HasSubstr("Asia/Jayapura"));
  testing::ProcessResult counters =
      Prima({"directory", "counters", "--office", "samsat-jayapura"});
  ASSERT_EQ(counters.exit_code, 0) << counters.err;
  EXPECT_THAT(counters.out, HasSubstr("jpr-loket-prioritas"));
  testing::ProcessResult service = Prima(
      {"directory", "get", "service", "pengesahan-stnk", "--output", "json"});
  ASSERT_EQ(service.exit_code, 0) << service.err;
  EXPECT_THAT(service.out, HasSubstr("\"amount\": \"50000\""));

  // Officers need a staff token of their agency.
  testing::ProcessResult officers =
      Prima({"directory", "officers", "--agency", "samsat-papua"});
  EXPECT_EQ(officers.exit_code, 1);
  EXPECT_THAT(officers.err, HasSubstr("UNAUTHENTICATED"));
  officers = Prima({"directory", "officers", "--agency", "samsat-papua"},
                   Token("officer", "samsat-papua"));
  ASSERT_EQ(officers.exit_code, 0) << officers.err;
  EXPECT_THAT(officers.out, HasSubstr("yohanes-wenda"));
}

TEST_F(DirectoryCliTest, ReportsBadFilesAndRefusals) {
  const std::string path = ::testing::TempDir() + "/bad-directory.textproto";
  {
    std::ofstream out(path);
    out << "agencies { id: \"x\" nmae: \"typo\" }\n";
  }
  testing::ProcessResult bad =
      Prima({"directory", "apply", "-f", path}, Token("region_admin"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("line 1"));
  EXPECT_THAT(bad.err, HasSubstr("nmae"));

  testing::ProcessResult denied =
      Prima({"directory", "apply", "-f", PRIMA_DEMO_DIRECTORY},
            Token("agency_admin", "dukcapil-dki"));
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, HasSubstr("PERMISSION_DENIED"));

  testing::ProcessResult missing =
      Prima({"directory", "apply", "-f", "/nonexistent.textproto"},
            Token("region_admin"));
  EXPECT_EQ(missing.exit_code, 1);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace prima
