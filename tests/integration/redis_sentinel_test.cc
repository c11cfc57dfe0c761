// The Redis clients following a Sentinel-elected primary, against a real
// primary, replica and Sentinel on loopback: failover, Sentinel outages, an
// unknown master, a Sentinel naming a replica, READONLY replies, and the
// password given apart from the URL.
#include "tests/testing/redis_sentinel.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/config.h"
#include "services/common/redis_client.h"
#include "services/common/sync_redis.h"
#include "tests/testing/redis_result.h"
#include "tests/testing/redis_server.h"

namespace prima {
namespace {

using ::prima::testing::FreePort;
using ::prima::testing::RedisResult;
using ::prima::testing::TestRedis;
using ::prima::testing::TestSentinel;
using ::prima::testing::TestSentinelGroup;

std::unique_ptr<RedisClient> StartClient(
    const RedisEndpoint& endpoint, absl::Duration timeout = absl::Seconds(2)) {
  RedisClient::Options options;
  options.endpoint = endpoint;
  options.command_timeout = timeout;
  options.stall_timeout = timeout;
  options.connect_timeout = timeout;
  options.ping_interval = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Start(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

absl::StatusOr<RedisValue> RunCommand(RedisClient& client,
                                      std::vector<std::string> args,
                                      RedisCommandOptions options = {}) {
  RedisResult result;
  client.Command(std::move(args), result.Callback(), options);
  return result.Get(absl::Seconds(30));
}

// GET `key` on `server`, retried while its admin connection reconnects (a
// failover kills every client connection).
std::string Get(TestRedis& server, const std::string& key) {
  absl::StatusOr<RedisValue> value;
  for (int attempt = 0; attempt < 3; ++attempt) {
    value = server.Command({"GET", key});
    if (value.ok()) return value->str;
  }
  ADD_FAILURE() << "GET " << key << ": " << value.status();
  return "";
}

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <typename Condition>
bool Eventually(Condition condition,
                absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time until = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

TEST(RedisSentinelTest, ClientsFollowAFailoverByThemselves) {
  auto group = TestSentinelGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  std::unique_ptr<RedisClient> client = StartClient((*group)->endpoint());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->WaitUntilUsable(absl::Seconds(10)));
  SyncRedis sync((*group)->endpoint(), absl::Seconds(2));

  absl::StatusOr<TestRedis*> first = (*group)->Primary();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(RunCommand(*client, {"SET", "before", "async"}).ok());
  ASSERT_TRUE(sync.Command({"SET", "before-sync", "blocking"}).ok());
  EXPECT_EQ(Get(**first, "before"), "async");
  EXPECT_EQ(Get(**first, "before-sync"), "blocking");

  // Writes keep coming across the failover, none resend-safe: each is
  // answered, OK or UNAVAILABLE, and none hangs.
  std::atomic<bool> stop{false};
  std::map<absl::StatusCode, int> outcomes;
  std::thread writer([&] {
    while (!stop.load()) {
      RedisResult result;
      client->Command({"INCR", "during"}, result.Callback());
      ++outcomes[result.Get(absl::Seconds(30)).status().code()];
    }
  });

  absl::StatusOr<TestRedis*> second = (*group)->Failover(absl::Seconds(60));
  const absl::Time failed_over = absl::Now();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_NE(*second, *first);

  // The async client finds the new primary by itself.
  EXPECT_TRUE(Eventually([&] {
    return RunCommand(*client, {"SET", "after", "async"}).ok() &&
           Get(**second, "after") == "async";
  })) << "the client never wrote to the new primary";
  const absl::Duration to_new_primary = absl::Now() - failed_over;
  stop.store(true);
  writer.join();
  std::cout << "[ measured ] first write on the new primary "
            << absl::FormatDuration(to_new_primary)
            << " after the Sentinel switched\n";
  EXPECT_LT(to_new_primary, absl::Seconds(10));

  EXPECT_EQ(outcomes.count(absl::StatusCode::kDeadlineExceeded), 0u)
      << "a command in flight was never answered";
  int answered = 0;
  for (const auto& [code, count] : outcomes) {
    EXPECT_TRUE(code == absl::StatusCode::kOk ||
                code == absl::StatusCode::kUnavailable)
        << absl::StatusCodeToString(code) << " x" << count;
    answered += count;
  }
  EXPECT_GT(outcomes[absl::StatusCode::kOk], 0);
  EXPECT_GT(answered, 0);
  EXPECT_GE(client->stats().connects, 2u);

  // Later writes land on the new primary, from both clients.
  ASSERT_TRUE(RunCommand(*client, {"SET", "later", "async"}).ok());
  EXPECT_EQ(Get(**second, "later"), "async");
  EXPECT_TRUE(Eventually([&] {
    return sync.Command({"SET", "later-sync", "blocking"}).ok() &&
           Get(**second, "later-sync") == "blocking";
  })) << "the blocking client never wrote to the new primary";
}

TEST(RedisSentinelTest, SentinelsAreAskedInTurn) {
  auto group = TestSentinelGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  RedisEndpoint endpoint = (*group)->endpoint();
  endpoint.sentinels.insert(endpoint.sentinels.begin(),
                            HostPort{"127.0.0.1", FreePort()});  // down
  std::unique_ptr<RedisClient> client = StartClient(endpoint);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(RunCommand(*client, {"SET", "k", "async"}).ok());
  SyncRedis sync(endpoint, absl::Seconds(2));
  ASSERT_TRUE(sync.Command({"SET", "k-sync", "blocking"}).ok());
  absl::StatusOr<TestRedis*> primary = (*group)->Primary();
  ASSERT_TRUE(primary.ok()) << primary.status();
  EXPECT_EQ(Get(**primary, "k"), "async");
  EXPECT_EQ(Get(**primary, "k-sync"), "blocking");
}

TEST(RedisSentinelTest, UnknownMasterNameIsUnavailableAndRetried) {
  auto group = TestSentinelGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  RedisEndpoint endpoint = (*group)->endpoint();
  endpoint.sentinel_master = "no-such-master";
  std::unique_ptr<RedisClient> client =
      StartClient(endpoint, absl::Milliseconds(300));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<RedisValue> r = RunCommand(*client, {"GET", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(client->usable());
  EXPECT_EQ(client->stats().connects, 0u);

  SyncRedis sync(endpoint, absl::Seconds(2));
  r = sync.Command({"GET", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "no-such-master"))
      << r.status();
}

TEST(RedisSentinelTest, SentinelOutageIsUnavailableUntilItIsBack) {
  auto group = TestSentinelGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  std::unique_ptr<RedisClient> client =
      StartClient((*group)->endpoint(), absl::Milliseconds(300));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->WaitUntilUsable(absl::Seconds(10)));
  absl::StatusOr<TestRedis*> primary = (*group)->Primary();
  ASSERT_TRUE(primary.ok()) << primary.status();

  // No Sentinel and a dropped connection: the primary cannot be found.
  (*group)->sentinel().Stop();
  ASSERT_TRUE(
      (*primary)
          ->Command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
          .ok());
  EXPECT_TRUE(Eventually([&] { return !client->usable(); }));
  const absl::Time start = absl::Now();
  absl::StatusOr<RedisValue> r = RunCommand(*client, {"GET", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  // The client keeps asking: once the Sentinel is back, writes go through
  // again (failing fast, with UNAVAILABLE, until then).
  ASSERT_TRUE((*group)->sentinel().Restart().ok());
  const absl::Time back = absl::Now();
  absl::StatusOr<RedisValue> written;
  do {
    written = RunCommand(*client, {"SET", "k", "back"});
  } while (!written.ok() && absl::Now() - back < absl::Seconds(20));
  EXPECT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Get(**primary, "k"), "back");
  EXPECT_TRUE(client->WaitUntilUsable(absl::Seconds(10)));
}

TEST(RedisSentinelTest, ASentinelNamingAReplicaIsNotUsed) {
  auto primary = TestRedis::Start();
  ASSERT_TRUE(primary.ok()) << primary.status();
  TestRedis::Options replica_options;
  replica_options.replica_of_port = (*primary)->port();
  auto replica = TestRedis::Start(replica_options);
  ASSERT_TRUE(replica.ok()) << replica.status();
  // Misconfigured on purpose: it monitors the replica as the master.
  TestSentinel::Options sentinel_options;
  sentinel_options.master_port = (*replica)->port();
  auto sentinel = TestSentinel::Start(sentinel_options);
  ASSERT_TRUE(sentinel.ok()) << sentinel.status();

  RedisEndpoint endpoint;
  endpoint.sentinels = {HostPort{"127.0.0.1", (*sentinel)->port()}};
  std::unique_ptr<RedisClient> client =
      StartClient(endpoint, absl::Milliseconds(300));
  ASSERT_NE(client, nullptr);
  // It connects, sees ROLE slave, drops the connection and asks again.
  EXPECT_TRUE(Eventually([&] { return client->stats().connects >= 2; }));
  EXPECT_FALSE(client->usable());
  absl::StatusOr<RedisValue> r = RunCommand(*client, {"SET", "k", "v"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();

  SyncRedis sync(endpoint, absl::Seconds(2));
  r = sync.Command({"GET", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "not the primary"))
      << r.status();
}

TEST(RedisSentinelTest, ReadOnlyReplyIsSentAgainToThePrimary) {
  auto redis = TestRedis::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto other = TestRedis::Start();
  ASSERT_TRUE(other.ok()) << other.status();
  std::unique_ptr<RedisClient> client = StartClient((*redis)->endpoint());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->WaitUntilUsable(absl::Seconds(10)));

  // Demoted under the client's feet, as a primary is in a failover.
  ASSERT_TRUE(
      (*redis)
          ->Command({"REPLICAOF", "127.0.0.1", absl::StrCat((*other)->port())})
          .ok());
  RedisResult write;
  client->Command({"SET", "k", "v"}, write.Callback(),
                  {.timeout = absl::Seconds(20)});
  // READONLY: it did not run, so it waits for a primary instead of failing.
  EXPECT_TRUE(Eventually([&] { return client->stats().resent >= 1; }));
  ASSERT_TRUE(Eventually([&] {
    return (*redis)->Command({"REPLICAOF", "NO", "ONE"}).ok();
  }));
  absl::StatusOr<RedisValue> r = write.Get(absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Get(**redis, "k"), "v");
}

TEST(RedisPasswordTest, PasswordFromItsOwnVariable) {
  const std::string password = "p@ss/w:rd%not-url-encoded";
  TestRedis::Options options;
  options.requirepass = password;
  auto redis = TestRedis::Start(options);
  ASSERT_TRUE(redis.ok()) << redis.status();
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 0,
                       {{kEnvJwtSecret, "0123456789abcdef0123456789abcdef"},
                        {kEnvRedisUrl, (*redis)->url()},
                        {kEnvRedisPassword, password}});
  ASSERT_TRUE(config.ok()) << config.status();

  std::unique_ptr<RedisClient> client = StartClient(config->redis);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(RunCommand(*client, {"SET", "k", "async"}).ok());
  SyncRedis sync(config->redis, absl::Seconds(2));
  ASSERT_TRUE(sync.Command({"SET", "k-sync", "blocking"}).ok());
  EXPECT_EQ(Get(**redis, "k"), "async");
  EXPECT_EQ(Get(**redis, "k-sync"), "blocking");

  // Without it the server refuses: the password above was needed.
  RedisEndpoint without = config->redis;
  without.password.clear();
  std::unique_ptr<RedisClient> refused =
      StartClient(without, absl::Milliseconds(300));
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(RunCommand(*refused, {"GET", "k"}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(refused->usable());
}

}  // namespace
}  // namespace prima
