// End to end: the real `catalog` and `queue` binaries with metrics on port 0
// (the port read from the start-up log line), scraped over plain HTTP after
// RPCs made through the real CLI: RPC counts by method and code, the Redis
// command histogram, the queue's waiting gauge and the live watchers gauge;
// and the x-request-id the CLI sent (and printed with the error) in the
// queue's log line of the call.
#include <signal.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_stack.h"
#include "tests/testing/http_get.h"

namespace prima {
namespace {

using ::prima::testing::ExpectRpcError;
using ::prima::testing::HttpGet;
using ::prima::testing::MetricValue;

constexpr char kOffice[] = "e2e-kantor";
constexpr char kIssue[] = "/prima.queue.v1.QueueService/IssueTicket";

std::string DirectoryFile() {
  std::string path = __FILE__;
  return path.substr(0, path.rfind('/') + 1) + "queue_e2e_directory.textproto";
}

class MetricsE2eTest : public testing::E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartStack(
        PRIMA_CLI_PATH,
        {{"catalog", PRIMA_CATALOG_PATH}, {"queue", PRIMA_QUEUE_PATH}},
        {"PRIMA_LOG_LEVEL=info", "PRIMA_QUEUE_METRICS_SECONDS=1"}));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(DirectoryFile()));
    queue_metrics_port_ = stack_->MetricsPort("queue");
    ASSERT_GT(queue_metrics_port_, 0) << StderrText("queue");
  }

  std::string Scrape() {
    absl::StatusOr<std::string> text = HttpGet(queue_metrics_port_, "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  // Scrapes until the sample has `want` (the gauges are refreshed in the
  // background); the last value seen otherwise.
  std::optional<double> ScrapeUntil(
      absl::string_view name, const std::map<std::string, std::string>& labels,
      double want) {
    std::optional<double> value;
    const absl::Time until = absl::Now() + absl::Seconds(20);
    do {
      value = MetricValue(Scrape(), name, labels);
      if (value == want) return value;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < until);
    return value;
  }

  int queue_metrics_port_ = 0;
};

TEST_F(MetricsE2eTest, CountersAndGaugesMoveWithTheCalls) {
  const std::string before = Scrape();
  EXPECT_EQ(MetricValue(before, "prima_redis_connected"), 1.0);
  EXPECT_EQ(MetricValue(before, "prima_live_watchers"), 0.0);
  EXPECT_EQ(MetricValue(before, "prima_rpc_requests_total",
                        {{"method", kIssue}, {"code", "OK"}}),
            std::nullopt);

  // One OK call, one INVALID_ARGUMENT (an office id no directory can hold).
  testing::ProcessResult r =
      Prima({"queue", "issue", kOffice, "e2e-ktp", "--channel", "kiosk"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Prima({"queue", "issue", "Not An Id", "e2e-ktp", "--channel", "kiosk"});
  ExpectRpcError(r, "INVALID_ARGUMENT");
  // The CLI prints the x-request-id it sent, for support.
  const size_t shown = r.err.find("request id: ");
  ASSERT_NE(shown, std::string::npos) << r.err;
  const std::string request_id(
      absl::StripAsciiWhitespace(r.err.substr(shown + 12)));
  ASSERT_FALSE(request_id.empty());

  const std::string after = Scrape();
  EXPECT_EQ(MetricValue(after, "prima_rpc_requests_total",
                        {{"method", kIssue}, {"code", "OK"}}),
            1.0)
      << after;
  EXPECT_EQ(MetricValue(after, "prima_rpc_requests_total",
                        {{"method", kIssue}, {"code", "INVALID_ARGUMENT"}}),
            1.0);
  EXPECT_EQ(MetricValue(after, "prima_rpc_duration_seconds_count",
                        {{"method", kIssue}}),
            2.0);
  EXPECT_EQ(MetricValue(after, "prima_rpc_in_flight", {{"method", kIssue}}),
            0.0);
  std::optional<double> redis_commands =
      MetricValue(after, "prima_redis_command_duration_seconds_count");
  ASSERT_TRUE(redis_commands.has_value()) << after;
  EXPECT_GT(*redis_commands, 0);
  EXPECT_EQ(
      MetricValue(after, "prima_redis_errors_total", {{"kind", "timeout"}}),
      0.0);

  // The waiting gauge follows the ticket within its refresh interval.
  EXPECT_EQ(ScrapeUntil("prima_queue_waiting",
                        {{"office", kOffice}, {"service", "e2e-ktp"}}, 1.0),
            1.0);

  // The request id reached the queue's log line of the call.
  const std::string log = StderrText("queue");
  bool found = false;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "\"code\":\"INVALID_ARGUMENT\"") &&
        absl::StrContains(
            line, absl::StrCat("\"request_id\":\"", request_id, "\""))) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << log;
}

TEST_F(MetricsE2eTest, LiveWatchersWhileABoardIsOpen) {
  std::vector<std::string> argv = {PRIMA_CLI_PATH, "queue",
                                   "board",        kOffice,
                                   "--queue-addr", stack_->Address("queue")};
  {
    testing::BackgroundProcess board(argv, {});
    ASSERT_TRUE(board.started());
    EXPECT_EQ(ScrapeUntil("prima_live_watchers", {}, 1.0), 1.0);
    EXPECT_EQ(
        ScrapeUntil("prima_rpc_in_flight",
                    {{"method", "/prima.queue.v1.QueueService/WatchOffice"}},
                    1.0),
        1.0);
    board.Stop(SIGTERM);
  }
  EXPECT_EQ(ScrapeUntil("prima_live_watchers", {}, 0.0), 0.0);
  // The stream counts once it ended (cancelled by the client).
  EXPECT_EQ(ScrapeUntil(
                "prima_rpc_duration_seconds_count",
                {{"method", "/prima.queue.v1.QueueService/WatchOffice"}}, 1.0),
            1.0);
}

}  // namespace
}  // namespace prima
