#include "tests/testing/e2e_stack.h"

#include <signal.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prima::testing {

absl::StatusOr<std::unique_ptr<E2eStack>> E2eStack::Start(
    std::string cli_path, std::vector<E2eService> services,
    std::vector<std::string> extra_env) {
  absl::StatusOr<std::unique_ptr<TestRedis>> redis = TestRedis::Start();
  if (!redis.ok()) return redis.status();
  std::unique_ptr<E2eStack> stack(
      new E2eStack(std::move(cli_path), *std::move(redis)));
  std::vector<std::string> health = {"health"};
  for (E2eService& service : services) {
    Running& running = stack->services_.emplace_back();
    running.address = absl::StrCat("127.0.0.1:", FreePort());
    running.process =
        StartServiceProcess(service.binary, running.address,
                            stack->redis_->url(), kE2eJwtSecret, extra_env);
    if (!running.process->started()) {
      return absl::InternalError(
          absl::StrCat("could not start ", service.binary));
    }
    health.insert(health.end(), {"--service", service.name});
    running.service = std::move(service);
  }

  ProcessResult checked;
  const absl::Time until = absl::Now() + absl::Seconds(20);
  do {
    checked = stack->Prima(health);
    if (checked.exit_code == 0) return stack;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < until);
  std::string servers;
  for (const Running& running : stack->services_) {
    absl::StrAppend(&servers, running.service.name, ": ",
                    running.process->StderrText(), "\n");
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "not all serving after 20 s:\n", checked.out, checked.err, servers));
}

void E2eStack::Stop() {
  if (stopped_) return;
  for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
    if (it->process == nullptr) continue;
    EXPECT_EQ(it->process->Stop(SIGTERM), 0)
        << it->service.name << ": " << it->process->StderrText();
  }
  stopped_ = true;
}

ProcessResult E2eStack::Prima(std::vector<std::string> args,
                              const std::string& token) const {
  std::vector<std::string> argv = {cli_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const Running& running : services_) {
    argv.insert(argv.end(), {absl::StrCat("--", running.service.name, "-addr"),
                             running.address});
  }
  if (!token.empty()) argv.insert(argv.end(), {"--token", token});
  return RunProcess(argv, {});
}

std::string E2eStack::Mint(const std::string& role, const std::string& subject,
                           const std::string& agency) const {
  std::vector<std::string> args = {"token",  "mint", "--secret", kE2eJwtSecret,
                                   "--role", role,   "--sub",    subject,
                                   "--ttl",  "10m"};
  if (!agency.empty()) args.insert(args.end(), {"--agency", agency});
  const ProcessResult r = Prima(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(absl::StripAsciiWhitespace(r.out));
}

std::string E2eStack::StderrText(absl::string_view name) const {
  for (const Running& running : services_) {
    if (running.service.name == name) return running.process->StderrText();
  }
  return absl::StrCat("(no service ", name, ")");
}

std::string E2eStack::Address(absl::string_view name) const {
  for (const Running& running : services_) {
    if (running.service.name == name) return running.address;
  }
  return "";
}

int E2eStack::MetricsPort(absl::string_view name) const {
  const std::string kField = "\"metrics_port\":";
  const std::string log = StderrText(name);
  const size_t at = log.find(kField);
  if (at == std::string::npos) return 0;
  int port = 0;
  for (size_t i = at + kField.size();
       i < log.size() &&
       absl::ascii_isdigit(static_cast<unsigned char>(log[i]));
       ++i) {
    port = port * 10 + (log[i] - '0');
  }
  return port;
}

void E2eTest::StartStack(std::string cli_path, std::vector<E2eService> services,
                         std::vector<std::string> extra_env) {
  absl::StatusOr<std::unique_ptr<E2eStack>> stack = E2eStack::Start(
      std::move(cli_path), std::move(services), std::move(extra_env));
  ASSERT_TRUE(stack.ok()) << stack.status();
  stack_ = *std::move(stack);
}

void E2eTest::TearDown() {
  if (stack_ != nullptr) stack_->Stop();
}

void E2eTest::ApplyDirectory(const std::string& file) {
  const ProcessResult r = Prima({"directory", "apply", "-f", file},
                                Mint("region_admin", "e2e-admin"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

void ExpectRpcError(const ProcessResult& r, absl::string_view code) {
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("error: ", code, ":")))
      << "want " << code << ", got: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace prima::testing
