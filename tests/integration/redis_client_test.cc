// The async Redis client against a real redis-server: pipelining, error
// mapping, NOSCRIPT recovery, lost connections, restarts, stalls and shutdown.
#include "services/common/redis_client.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "tests/testing/redis_result.h"
#include "tests/testing/redis_server.h"

namespace prima {
namespace {

using ::prima::testing::TestRedis;
using Result = ::prima::testing::RedisResult;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
  }

  std::unique_ptr<RedisClient> NewClient(
      absl::Duration timeout = absl::Seconds(2)) {
    RedisClient::Options options;
    options.endpoint = redis_->endpoint();
    options.command_timeout = timeout;
    options.stall_timeout = timeout;
    options.connect_timeout = timeout;
    options.ping_interval = absl::Milliseconds(100);
    auto client = RedisClient::Start(options);
    EXPECT_TRUE(client.ok()) << client.status();
    EXPECT_TRUE((*client)->WaitUntilUsable(absl::Seconds(5)));
    return std::move(*client);
  }

  absl::StatusOr<RedisValue> Run(RedisClient& client,
                                 std::vector<std::string> args,
                                 RedisCommandOptions options = {}) {
    Result result;
    client.Command(std::move(args), result.Callback(), options);
    return result.Get();
  }

  std::unique_ptr<TestRedis> redis_;
};

TEST_F(RedisClientTest, RoundTrip) {
  auto client = NewClient();
  ASSERT_TRUE(Run(*client, {"SET", "k", std::string("a\0b", 3)}).ok());
  absl::StatusOr<RedisValue> value = Run(*client, {"GET", "k"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->str, std::string("a\0b", 3));
  value = Run(*client, {"GET", "missing"});
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(value->is_nil());
}

TEST_F(RedisClientTest, ManyThreadsShareOnePipelinedConnection) {
  auto client = NewClient();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  absl::Notification all_done;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        client->Command({"INCR", "counter"}, [&](absl::StatusOr<RedisValue> r) {
          if (r.ok()) ok.fetch_add(1);
          if (done.fetch_add(1) + 1 == kThreads * kPerThread) {
            all_done.Notify();
          }
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  auto counter = redis_->Command({"GET", "counter"});
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(counter->str, absl::StrCat(kThreads * kPerThread));
}

TEST_F(RedisClientTest, ScriptErrorsKeepTheirCanonicalCode) {
  auto client = NewClient();
  LuaScript script("fail", "return redis.error_reply('NOT_FOUND ticket t-1')");
  Result result;
  client->Eval(script, {}, {}, result.Callback());
  absl::StatusOr<RedisValue> r = result.Get();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "ticket t-1");

  ASSERT_TRUE(Run(*client, {"SET", "s", "x"}).ok());
  r = Run(*client,
          {"LPUSH", "s", "x"});  // WRONGTYPE: a bug, not the caller's fault
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
}

TEST_F(RedisClientTest, ScriptSurvivesScriptFlush) {
  auto client = NewClient();
  LuaScript script("incr", "return redis.call('INCR', KEYS[1])");
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(redis_->Command({"SCRIPT", "FLUSH"}).ok());
    // Several in one pipe: every one meets NOSCRIPT and must be retried as
    // EVAL.
    std::vector<std::unique_ptr<Result>> results;
    for (int i = 0; i < 10; ++i) {
      results.push_back(std::make_unique<Result>());
      client->Eval(script, {"n"}, {}, results.back()->Callback());
    }
    for (auto& r : results) EXPECT_TRUE(r->Get().ok()) << r->Get().status();
  }
  EXPECT_EQ(redis_->Command({"GET", "n"})->str, "30");
}

TEST_F(RedisClientTest, KilledConnectionReconnectsAndLoadsScripts) {
  auto client = NewClient();
  LuaScript script("get", "return redis.call('GET', KEYS[1])");
  ASSERT_TRUE(Run(*client, {"SET", "k", "v"}).ok());
  Result first;
  client->Eval(script, {"k"}, {}, first.Callback());
  ASSERT_TRUE(first.Get().ok());

  ASSERT_TRUE(redis_->Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(
      redis_->Command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
          .ok());
  // The next commands ride the reconnect; the script is loaded on the new
  // connection.
  Result again;
  client->Eval(script, {"k"}, {}, again.Callback(), {.resend_safe = true});
  absl::StatusOr<RedisValue> r = again.Get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->str, "v");
  EXPECT_TRUE(client->WaitUntilUsable(absl::Seconds(5)));
  auto cached = redis_->Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->elements[0].integer, 1);
  EXPECT_GE(client->stats().connects, 2u);
}

// While Redis is down, commands fail with UNAVAILABLE within 100 ms instead
// of holding each call for its whole deadline; once Redis accepts connections
// again, the first write goes through within 0.5 s (the reconnect backoff is
// capped at 200 ms).
TEST_F(RedisClientTest,
       DownRedisFailsWithin100MsAndIsRejoinedWithinHalfASecond) {
  auto client = NewClient(absl::Seconds(5));
  ASSERT_TRUE(Run(*client, {"PING"}).ok());
  redis_->Kill();
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (client->usable() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(client->usable());
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<RedisValue> r = Run(*client, {"SET", "during", "outage"});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
  }
  // Long enough for the backoff to reach its cap.
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_TRUE(redis_->Restart().ok());  // returns once Redis answers PING
  const absl::Time back = absl::Now();
  absl::StatusOr<RedisValue> r;
  do {
    r = Run(*client, {"SET", "after", "restart"});
  } while (!r.ok() && absl::Now() - back < absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(absl::Now() - back, absl::Milliseconds(500));
  EXPECT_EQ(redis_->Command({"GET", "after"})->str, "restart");
}

TEST_F(RedisClientTest, DownRedisFailsFastWithUnavailable) {
  auto client = NewClient(absl::Milliseconds(300));
  redis_->Kill();
  const absl::Time start = absl::Now();
  absl::StatusOr<RedisValue> r = Run(*client, {"GET", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// Redis out of memory: writes answer RESOURCE_EXHAUSTED with a plain message
// (not Redis's text), the client reports itself not usable (readiness
// NOT_SERVING) until a probe finds writes are accepted again; the probe
// leaves no key behind.
TEST_F(RedisClientTest, OutOfMemoryIsResourceExhaustedAndNotUsableUntilFreed) {
  auto client = NewClient();
  LuaScript script("set", "return redis.call('SET', KEYS[1], ARGV[1])");
  ASSERT_TRUE(redis_->Command({"CONFIG", "SET", "maxmemory", "1"}).ok());
  Result refused;
  client->Eval(script, {"k"}, {"v"}, refused.Callback());
  absl::StatusOr<RedisValue> r = refused.Get();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), kStorageFullMessage);
  EXPECT_EQ(Run(*client, {"SET", "k", "v"}).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(client->usable());
  // Still not usable a little later: the periodic PING works, writes don't.
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_FALSE(client->usable());
  ASSERT_TRUE(redis_->Command({"CONFIG", "SET", "maxmemory", "0"}).ok());
  EXPECT_TRUE(client->WaitUntilUsable(absl::Seconds(2)));
  Result accepted;
  client->Eval(script, {"k"}, {"v"}, accepted.Callback());
  EXPECT_TRUE(accepted.Get().ok());
  EXPECT_EQ(redis_->Command({"DBSIZE"})->integer, 1);  // just k
}

TEST_F(RedisClientTest, StalledRedisTimesOutThenRecovers) {
  auto client = NewClient(absl::Milliseconds(300));
  ASSERT_TRUE(redis_->Command({"CLIENT", "PAUSE", "1500", "ALL"}).ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<RedisValue> r = Run(*client, {"SET", "k", "v"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // Once the pause ends the client finds its way back by itself.
  absl::SleepFor(absl::Milliseconds(1600));
  absl::StatusOr<RedisValue> later =
      Run(*client, {"SET", "k2", "v2"}, {.timeout = absl::Seconds(5)});
  EXPECT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(client->WaitUntilUsable(absl::Seconds(5)));
  EXPECT_GE(client->stats().timeouts, 1u);
}

TEST_F(RedisClientTest, LostCommandsAreResentOnlyWhenSafe) {
  auto client = NewClient(absl::Seconds(5));
  // Writes stall while paused, so both commands are in flight when the
  // connection dies.
  ASSERT_TRUE(redis_->Command({"CLIENT", "PAUSE", "500", "WRITE"}).ok());
  Result safe;
  Result unsafe;
  client->Command({"INCR", "safe"}, safe.Callback(), {.resend_safe = true});
  client->Command({"INCR", "unsafe"}, unsafe.Callback());
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(
      redis_->Command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
          .ok());
  absl::StatusOr<RedisValue> s = safe.Get();
  absl::StatusOr<RedisValue> u = unsafe.Get();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->integer, 1);
  EXPECT_EQ(u.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(client->stats().resent, 1u);
}

TEST_F(RedisClientTest, IdempotentScriptReturnsTheFirstResult) {
  auto client = NewClient();
  LuaScript script = MakeIdempotentScript("take", R"lua(
    local n = redis.call('INCR', KEYS[2])
    return 'ticket-' .. n
  )lua");
  const std::string key = IdempotencyKey("queue", "IssueTicket", "alice", "r1");
  auto call = [&] {
    Result result;
    client->Eval(script, {key, "seq"}, {"86400"}, result.Callback(),
                 {.resend_safe = true});
    absl::StatusOr<RedisValue> r = result.Get();
    EXPECT_TRUE(r.ok()) << r.status();
    return ParseIdempotentReply(*r);
  };
  auto first = call();
  auto second = call();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->replayed);
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(first->value, "ticket-1");
  EXPECT_EQ(second->value, "ticket-1");
  EXPECT_EQ(redis_->Command({"GET", "seq"})->str, "1");
  EXPECT_NE(IdempotencyKey("queue", "IssueTicket", "bob", "r1"), key);
  auto ttl = redis_->Command({"TTL", key});
  EXPECT_GT(ttl->integer, 86000);
}

TEST_F(RedisClientTest, StopAnswersEveryPendingCommand) {
  RedisClient::Options options;
  options.endpoint = redis_->endpoint();
  redis_->Kill();  // nothing will ever answer
  auto client = RedisClient::Start(options);
  ASSERT_TRUE(client.ok());
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 100; ++i) {
    (*client)->Command({"PING"}, [&](absl::StatusOr<RedisValue> r) {
      if (r.status().code() == absl::StatusCode::kUnavailable) ++unavailable;
    });
  }
  (*client)->Stop();
  EXPECT_EQ(unavailable.load(), 100);
  // After Stop, commands are answered on the caller's thread.
  Result late;
  (*client)->Command({"PING"}, late.Callback());
  EXPECT_EQ(late.Get(absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace prima
