#include "services/common/rate_limit.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace prima {
namespace {

using ::testing::HasSubstr;

TEST(RateLimitConfigTest, DefaultsLetAnOfficesPeakThrough) {
  const RateLimitConfig config;
  const RpcRateLimits issue = config.For("IssueTicket");
  // A kiosk takes every walk-in ticket from one address: 2 a second.
  EXPECT_GE(issue.per_caller.max, 120);
  EXPECT_EQ(issue.per_caller.window, absl::Minutes(1));
  EXPECT_GE(issue.per_office.max, 120);
  for (const char* rpc : {"BookAppointment", "FileComplaint", "SubmitResponse",
                          "VerifyCertificate"}) {
    EXPECT_GT(config.For(rpc).per_caller.max, 0) << rpc;
  }
  EXPECT_EQ(config.For("GetTicket").per_caller.max, 0);
  EXPECT_EQ(RateLimitConfig::None().For("IssueTicket").per_caller.max, 0);
}

TEST(RateLimitConfigTest, ParsesOverridesOverTheDefaults) {
  absl::StatusOr<RateLimitConfig> config = RateLimitConfig::Parse(
      "IssueTicket.caller=30/30s, IssueTicket.office=0/m,"
      "FileComplaint.caller=5/1h");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->For("IssueTicket").per_caller.max, 30);
  EXPECT_EQ(config->For("IssueTicket").per_caller.window, absl::Seconds(30));
  EXPECT_EQ(config->For("IssueTicket").per_office.max, 0);
  EXPECT_EQ(config->For("FileComplaint").per_caller.window, absl::Hours(1));
  EXPECT_EQ(config->For("BookAppointment").per_caller.max,
            RateLimitConfig().For("BookAppointment").per_caller.max);
}

TEST(RateLimitConfigTest, RefusesWhatItCannotRead) {
  for (const char* bad :
       {"IssueTicket=5/1m", "IssueTicket.caller", "GetTicket.caller=5/1m",
        "IssueTicket.agency=5/1m", "IssueTicket.caller=-1/1m",
        "IssueTicket.caller=5/1d", "IssueTicket.caller=5/25h",
        "IssueTicket.caller=five/1m"}) {
    absl::StatusOr<RateLimitConfig> config = RateLimitConfig::Parse(bad);
    EXPECT_FALSE(config.ok()) << bad;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(RateChecksTest, OneCounterPerLimitedScopeWithHashedKeys) {
  const RpcRateLimits limits{{3, absl::Minutes(1)}, {10, absl::Minutes(1)}};
  std::vector<RateCheck> checks =
      RateChecks("queue", "IssueTicket", limits, "ip:10.0.0.7", "kantor-a");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(checks[0].key, "prima:rl:queue:IssueTicket:"))
      << checks[0].key;
  EXPECT_FALSE(absl::StrContains(checks[0].key, "10.0.0.7"));
  EXPECT_EQ(checks[0].what, "caller");
  EXPECT_EQ(checks[1].what, "office");
  EXPECT_NE(
      checks[0].key,
      RateChecks("queue", "IssueTicket", limits, "ip:10.0.0.8", "x")[0].key);
  EXPECT_EQ(RateSpec(checks), "3,60000,caller;10,60000,office");
  // No office, or a limit turned off: no counter.
  EXPECT_EQ(RateChecks("queue", "IssueTicket", limits, "sub:a", "").size(), 1u);
  EXPECT_TRUE(RateChecks("queue", "IssueTicket", RpcRateLimits{}, "sub:a", "o")
                  .empty());
}

TEST(ClientAddressTest, PeersAndTrustedProxies) {
  EXPECT_EQ(PeerAddress("ipv4:10.1.2.3:5555"), "10.1.2.3");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:5555"), "::1");
  EXPECT_EQ(PeerAddress("unix:/tmp/socket"), "");
  absl::StatusOr<std::vector<std::string>> proxies =
      ParseTrustedProxies("10.0.0.1, fd00::1");
  ASSERT_TRUE(proxies.ok()) << proxies.status();
  EXPECT_EQ(*proxies, (std::vector<std::string>{"10.0.0.1", "fd00::1"}));
  absl::StatusOr<std::vector<std::string>> bad =
      ParseTrustedProxies("10.0.0.0/8");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("10.0.0.0/8"));
}

}  // namespace
}  // namespace prima
