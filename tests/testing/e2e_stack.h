#pragma once

// End-to-end tests: the real service binaries against a redis-server of their
// own, driven only by the real `prima` CLI, the way citizens and staff would.

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"

namespace prima::testing {

// The HS256 secret the end-to-end servers verify tokens with.
inline constexpr char kE2eJwtSecret[] = "e2e-secret-0123456789abcdef0123456789";

struct E2eService {
  // As the CLI names it: "catalog" is reached with --catalog-addr.
  std::string name;
  std::string binary;
};

// A TestRedis and the given service binaries on free loopback ports.
class E2eStack {
 public:
  // Starts Redis, then every service, and waits up to 20 s until `prima
  // health` finds them all serving; the error carries what the health check
  // and the servers printed.
  // `extra_env` ("NAME=value") goes to every service (StartServiceProcess).
  static absl::StatusOr<std::unique_ptr<E2eStack>> Start(
      std::string cli_path, std::vector<E2eService> services,
      std::vector<std::string> extra_env = {});
  E2eStack(const E2eStack&) = delete;
  E2eStack& operator=(const E2eStack&) = delete;
  // Stops what Stop did not, without judging how the servers exit.
  ~E2eStack() = default;

  // SIGTERM to each service, the last started first; one that does not exit
  // 0 (it should drain and stop cleanly) fails the test with its stderr.
  // Once only.
  void Stop();

  // `prima ARGS --NAME-addr ADDRESS... [--token TOKEN]`.
  ProcessResult Prima(std::vector<std::string> args,
                      const std::string& token = "") const;
  // `prima token mint`: a token for `subject` in `role` (of `agency` unless
  // empty), valid for 10 minutes.
  std::string Mint(const std::string& role, const std::string& subject,
                   const std::string& agency = "") const;
  // What service `name` has printed on stderr, for failure messages.
  std::string StderrText(absl::string_view name) const;
  // The port service `name` serves /metrics on, from its start-up log line
  // (so it needs PRIMA_LOG_LEVEL=info in `extra_env`); 0 if not found.
  int MetricsPort(absl::string_view name) const;
  // The gRPC address of service `name`.
  std::string Address(absl::string_view name) const;
  // The services' Redis, to look at what they stored.
  TestRedis& redis() { return *redis_; }

 private:
  struct Running {
    E2eService service;
    std::string address;
    std::unique_ptr<BackgroundProcess> process;
  };

  E2eStack(std::string cli_path, std::unique_ptr<TestRedis> redis)
      : cli_path_(std::move(cli_path)), redis_(std::move(redis)) {}

  std::string cli_path_;
  // Declared first: destroyed after the services that use it.
  std::unique_ptr<TestRedis> redis_;
  std::vector<Running> services_;
  bool stopped_ = false;
};

// A fixture around one E2eStack: SetUp calls StartStack (wrapped in
// ASSERT_NO_FATAL_FAILURE), TearDown stops the servers.
class E2eTest : public ::testing::Test {
 protected:
  void StartStack(std::string cli_path, std::vector<E2eService> services,
                  std::vector<std::string> extra_env = {});
  void TearDown() override;

  // The region admin applies `file` (an ApplyDirectoryRequest in text).
  void ApplyDirectory(const std::string& file);

  ProcessResult Prima(std::vector<std::string> args,
                      const std::string& token = "") const {
    return stack_->Prima(std::move(args), token);
  }
  std::string Mint(const std::string& role, const std::string& subject,
                   const std::string& agency = "") const {
    return stack_->Mint(role, subject, agency);
  }
  std::string StderrText(absl::string_view name) const {
    return stack_->StderrText(name);
  }

  std::unique_ptr<E2eStack> stack_;
};

// The CLI's JSON output (with `first_line`, the first of a watch's JSON
// lines) as a message; an unparsable output fails the test.
template <typename Message>
Message FromJson(const ProcessResult& r, bool first_line = false) {
  std::string json = r.out;
  if (first_line) json = json.substr(0, json.find('\n'));
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &message, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << r.out << r.err;
  return message;
}

// The CLI failed with `code` (e.g. "NOT_FOUND") on stderr and printed nothing.
void ExpectRpcError(const ProcessResult& r, absl::string_view code);

}  // namespace prima::testing
