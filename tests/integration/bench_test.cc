// A short real run of prima-bench: it starts its own echo-server child and
// reports.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/echo_service.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

#ifndef PRIMA_BENCH_PATH
#error "PRIMA_BENCH_PATH must name the built prima-bench binary"
#endif

namespace prima {
namespace {

// Runs prima-bench with `args` and returns its stdout; `exit_code` gets its
// status.
std::string RunBench(const std::string& args, int* exit_code) {
  const std::string command = absl::StrCat(
      "env -u PRIMA_LOG_LEVEL -u PRIMA_TOKEN '", PRIMA_BENCH_PATH, "' ", args);
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return "";
  }
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  const int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The number after `"key":` in the first object that follows `within` in
// `json`.
double NumberAfter(absl::string_view json, absl::string_view within,
                   absl::string_view key) {
  size_t at = json.find(within);
  if (at == absl::string_view::npos) return -1;
  at = json.find(absl::StrCat("\"", key, "\":"), at);
  if (at == absl::string_view::npos) return -1;
  absl::string_view rest = json.substr(at + key.size() + 3);
  rest = rest.substr(0, rest.find_first_of(",}"));
  double value = -1;
  if (!absl::SimpleAtod(rest, &value)) return -1;
  return value;
}

TEST(BenchTest, EchoRunReportsThroughputAndNoErrors) {
  int exit_code = 0;
  const std::string out = RunBench(
      "run --target echo --concurrency 4 --duration 1s --warmup 0s --rounds 1 "
      "--output json",
      &exit_code);
  ASSERT_EQ(exit_code, 0) << out;
  EXPECT_GT(NumberAfter(out, "\"median\":{\"echo\":", "requests_per_second"), 0)
      << out;
  EXPECT_EQ(NumberAfter(out, "\"median\":{\"echo\":", "errors"), 0) << out;
  EXPECT_EQ(out.find("\"ratio\":null"), out.rfind("\"ratio\":"));  // echo only
}

TEST(BenchTest, TargetRunsBesideTheEchoYardstick) {
  bench::EchoServiceImpl echo;
  absl::StatusOr<std::unique_ptr<testing::TestServer>> server =
      testing::TestServer::Start({&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  int exit_code = 0;
  const std::string out = RunBench(
      absl::StrCat("run --target health --addr ", (*server)->address(),
                   " --concurrency 4 --duration 0.5s --warmup 0s --rounds 1 "
                   "--output json"),
      &exit_code);
  ASSERT_EQ(exit_code, 0) << out;
  EXPECT_GT(NumberAfter(out, "\"median\":{\"echo\":", "requests_per_second"), 0)
      << out;
  EXPECT_GT(NumberAfter(out, ",\"health\":", "requests_per_second"), 0) << out;
  EXPECT_EQ(NumberAfter(out, ",\"health\":", "errors"), 0) << out;
  EXPECT_GT(NumberAfter(out, "", "ratio"), 0) << out;
}

TEST(BenchTest, QueueMemoryIssuesRealTicketsAndReportsBytesPerTicket) {
  absl::StatusOr<std::unique_ptr<testing::TestRedis>> redis =
      testing::TestRedis::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  int exit_code = 0;
  const std::string out =
      RunBench(absl::StrCat("queue-memory --redis-url ", (*redis)->url(),
                            " --tickets 50"),
               &exit_code);
  ASSERT_EQ(exit_code, 0) << out;
  EXPECT_NE(out.find("bytes per ticket"), std::string::npos) << out;
  absl::StatusOr<RedisValue> tickets =
      (*redis)->Command({"KEYS", "prima:queue:t:*"});
  ASSERT_TRUE(tickets.ok()) << tickets.status();
  EXPECT_EQ(tickets->elements.size(), 50u);
}

// The current month in Asia/Jakarta, as satisfaction-index reads it.
std::string JakartaMonth() {
  absl::TimeZone wib;
  absl::LoadTimeZone("Asia/Jakarta", &wib);
  return absl::FormatTime("%Y-%m", absl::Now(), wib);
}

TEST(BenchTest, SatisfactionFillStoresResponsesInTheOfficesMonth) {
  absl::StatusOr<std::unique_ptr<testing::TestRedis>> redis =
      testing::TestRedis::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string month = JakartaMonth();
  int exit_code = 0;
  const std::string out = RunBench(
      absl::StrCat("satisfaction-fill --redis-url ", (*redis)->url(),
                   " --office dukcapil-jaksel --responses 50 --days 3"),
      &exit_code);
  if (JakartaMonth() != month) GTEST_SKIP() << "the month turned meanwhile";
  ASSERT_EQ(exit_code, 0) << out;
  EXPECT_NE(out.find("satisfaction-fill: 50 responses written"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("bytes per response"), std::string::npos) << out;
  // Spread over up to 3 days, all in the office's aggregate of the month.
  absl::StatusOr<RedisValue> n = (*redis)->Command(
      {"HGET",
       absl::StrCat("prima:satisfaction:agg:skm:2:dukcapil-jaksel:", month),
       "n"});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->str, "50");
}

}  // namespace
}  // namespace prima
