// Event publishing and the consumer-group runner against a real redis-server.
#include "services/common/events.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/ids.h"
#include "tests/testing/redis_server.h"

namespace prima {
namespace {

using ::prima::events::v1::EventEnvelope;
using ::prima::events::v1::TicketServiceCompleted;
using ::prima::testing::TestRedis;

// Changes state and announces it in one script, as every Prima mutation does.
const LuaScript& CompleteScript() {
  static const LuaScript* const kScript =
      new LuaScript(MakeIdempotentScript("complete", R"lua(
    redis.call('HSET', KEYS[2], 'status', 'DONE')
    prima_emit(KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
    return 'ok'
  )lua"));
  return *kScript;
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    publisher_ =
        std::make_unique<SyncRedis>(redis_->endpoint(), absl::Seconds(2));
  }

  // Publishes one ticket.service_completed event through an idempotent script.
  std::string Publish(const std::string& ticket_id,
                      const std::string& request_id) {
    TicketServiceCompleted payload;
    payload.set_ticket_id(ticket_id);
    payload.set_service_seconds(120);
    EventEnvelope envelope =
        MakeEnvelope("ticket.service_completed", "dukcapil", "queue", payload,
                     absl::Now(), request_id);
    std::vector<std::string> args = {
        absl::StrCat(absl::ToInt64Seconds(kIdempotencyTtl)),
        absl::StrCat(kEventStreamMaxLen)};
    for (std::string& a : EnvelopeArgs(envelope)) args.push_back(std::move(a));
    auto reply = publisher_->Eval(
        CompleteScript(),
        {IdempotencyKey("queue", "CompleteService", "officer-1", request_id),
         "ticket:" + ticket_id, kStream},
        args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return envelope.id();
  }

  ConsumerOptions Options(const std::string& consumer) {
    ConsumerOptions options;
    options.stream = kStream;
    options.group = "satisfaction";
    options.consumer = consumer;
    options.claim_idle = absl::Milliseconds(50);
    options.claim_interval = absl::ZeroDuration();
    options.max_deliveries = 3;
    return options;
  }

  // The consumer names the group has, from XINFO CONSUMERS.
  std::vector<std::string> ConsumerNames() {
    std::vector<std::string> names;
    auto consumers =
        redis_->Command({"XINFO", "CONSUMERS", kStream, "satisfaction"});
    EXPECT_TRUE(consumers.ok()) << consumers.status();
    if (!consumers.ok()) return names;
    for (const RedisValue& c : consumers->elements) {
      for (size_t i = 0; i + 1 < c.elements.size(); i += 2) {
        if (c.elements[i].str == "name") names.push_back(c.elements[i + 1].str);
      }
    }
    return names;
  }

  int64_t PendingCount() {
    auto summary = redis_->Command({"XPENDING", kStream, "satisfaction"});
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary->elements[0].integer;
  }

  static constexpr char kStream[] = "prima:events:queue";
  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<SyncRedis> publisher_;
};

TEST_F(EventsTest, StateChangeAndEventAreWrittenTogetherOnce) {
  Publish("t-1", "req-1");
  Publish("t-1", "req-1");  // a retry: no second event
  EXPECT_EQ(redis_->Command({"XLEN", kStream})->integer, 1);
  EXPECT_EQ(redis_->Command({"HGET", "ticket:t-1", "status"})->str, "DONE");
}

TEST_F(EventsTest, HandlesAndAcknowledges) {
  const std::string id = Publish("t-1", "req-1");
  std::vector<StreamEvent> seen;
  EventConsumer consumer(redis_->endpoint(), absl::Seconds(2), Options("a"),
                         [&](const StreamEvent& e, SyncRedis&) {
                           seen.push_back(e);
                           return absl::OkStatus();
                         });
  auto n = consumer.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].envelope.id(), id);
  EXPECT_EQ(seen[0].envelope.type(), "ticket.service_completed");
  EXPECT_EQ(seen[0].envelope.agency(), "dukcapil");
  TicketServiceCompleted payload;
  ASSERT_TRUE(seen[0].envelope.payload().UnpackTo(&payload));
  EXPECT_EQ(payload.ticket_id(), "t-1");
  EXPECT_EQ(PendingCount(), 0);
}

TEST_F(EventsTest, FailedEntryIsRetriedThenDeadLettered) {
  Publish("t-1", "req-1");
  int attempts = 0;
  EventConsumer consumer(redis_->endpoint(), absl::Seconds(2), Options("a"),
                         [&](const StreamEvent&, SyncRedis&) {
                           ++attempts;
                           return absl::InternalError("handler broken");
                         });
  for (int round = 0; round < 10 && consumer.stats().dead_lettered == 0;
       ++round) {
    ASSERT_TRUE(consumer.RunOnce().ok());
    absl::SleepFor(absl::Milliseconds(60));  // let the entry go idle
  }
  EXPECT_EQ(attempts, 3);  // max_deliveries
  EXPECT_EQ(consumer.stats().dead_lettered, 1u);
  EXPECT_EQ(PendingCount(), 0);
  auto dead =
      redis_->Command({"XRANGE", std::string(kStream) + ":dead", "-", "+"});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->elements.size(), 1u);
  // The dead letter keeps the original envelope.
  bool has_envelope = false;
  for (const auto& f : dead->elements[0].elements[1].elements) {
    if (f.str == "envelope") has_envelope = true;
  }
  EXPECT_TRUE(has_envelope);
}

TEST_F(EventsTest, RestartedConsumerReadsItsPendingEntriesFirst) {
  Publish("t-1", "req-1");
  {
    EventConsumer crashed(redis_->endpoint(), absl::Seconds(2), Options("a"),
                          [](const StreamEvent&, SyncRedis&) {
                            return absl::UnavailableError("crashed mid-way");
                          });
    ASSERT_TRUE(crashed.RunOnce().ok());
  }
  EXPECT_EQ(PendingCount(), 1);
  int handled = 0;
  ConsumerOptions options = Options("a");
  options.claim_idle = absl::Hours(1);  // only the pending read can find it
  EventConsumer restarted(redis_->endpoint(), absl::Seconds(2), options,
                          [&](const StreamEvent&, SyncRedis&) {
                            ++handled;
                            return absl::OkStatus();
                          });
  ASSERT_TRUE(restarted.RunOnce().ok());
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(PendingCount(), 0);
}

TEST_F(EventsTest, AnotherReplicaReclaimsAStaleEntry) {
  Publish("t-1", "req-1");
  EventConsumer dead_replica(redis_->endpoint(), absl::Seconds(2), Options("a"),
                             [](const StreamEvent&, SyncRedis&) {
                               return absl::UnavailableError("pod killed");
                             });
  ASSERT_TRUE(dead_replica.RunOnce().ok());
  absl::SleepFor(absl::Milliseconds(60));
  std::vector<std::string> seen;
  EventConsumer live_replica(redis_->endpoint(), absl::Seconds(2), Options("b"),
                             [&](const StreamEvent& e, SyncRedis&) {
                               seen.push_back(e.entry_id);
                               return absl::OkStatus();
                             });
  ASSERT_TRUE(live_replica.RunOnce().ok());
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(PendingCount(), 0);
}

TEST_F(EventsTest, TrimmedPendingEntryIsAcknowledged) {
  Publish("t-1", "req-1");
  {
    EventConsumer failing(redis_->endpoint(), absl::Seconds(2), Options("a"),
                          [](const StreamEvent&, SyncRedis&) {
                            return absl::UnavailableError("not yet");
                          });
    ASSERT_TRUE(failing.RunOnce().ok());
  }
  ASSERT_TRUE(redis_->Command({"XTRIM", kStream, "MAXLEN", "0"}).ok());
  int handled = 0;
  EventConsumer restarted(redis_->endpoint(), absl::Seconds(2), Options("a"),
                          [&](const StreamEvent&, SyncRedis&) {
                            ++handled;
                            return absl::OkStatus();
                          });
  ASSERT_TRUE(restarted.RunOnce().ok());
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(PendingCount(), 0);
}

TEST_F(EventsTest, MalformedEnvelopeGoesStraightToDeadLetters) {
  ASSERT_TRUE(redis_
                  ->Command({"XADD", kStream, "*", "type", "x", "envelope",
                             "\xff\xff not a proto"})
                  .ok());
  int handled = 0;
  EventConsumer consumer(redis_->endpoint(), absl::Seconds(2), Options("a"),
                         [&](const StreamEvent&, SyncRedis&) {
                           ++handled;
                           return absl::OkStatus();
                         });
  ASSERT_TRUE(consumer.RunOnce().ok());
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(consumer.stats().dead_lettered, 1u);
  EXPECT_EQ(PendingCount(), 0);
}

TEST_F(EventsTest, ScriptFillsInPayloadFieldsOnlyItKnows) {
  // Like CallNext: C++ knows the office, the script picks the ticket and its
  // wait.
  static const LuaScript* const kCallNext =
      new LuaScript(MakeIdempotentScript("call_next", R"lua(
    local ticket = redis.call('LPOP', KEYS[2])
    local long = string.rep('x', 300)  -- a length that needs a two-byte varint
    prima_emit_with(KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
                    prima_pb_bytes(1, ticket) .. prima_pb_int(7, 1099511627776) ..
                    prima_pb_bytes(4, long))
    return ticket
  )lua"));
  ASSERT_TRUE(redis_->Command({"RPUSH", "waiting", "t-42"}).ok());
  prima::events::v1::TicketCalled payload;
  payload.set_office_id("jaksel");
  payload.set_counter_id("loket-3");
  payload.set_number("placeholder");  // the script's value wins
  EventEnvelope envelope = MakeEnvelope("ticket.called", "dukcapil", "queue",
                                        payload, absl::Now(), "req-9");
  std::vector<std::string> args = {"60", absl::StrCat(kEventStreamMaxLen)};
  for (std::string& a : EnvelopeArgs(envelope)) args.push_back(std::move(a));
  args.push_back(EnvelopePayload(envelope));
  auto reply = publisher_->Eval(
      *kCallNext,
      {IdempotencyKey("queue", "CallNext", "officer-1", "req-9"), "waiting",
       kStream},
      args);
  ASSERT_TRUE(reply.ok()) << reply.status();

  std::vector<StreamEvent> seen;
  EventConsumer consumer(redis_->endpoint(), absl::Seconds(2), Options("a"),
                         [&](const StreamEvent& e, SyncRedis&) {
                           seen.push_back(e);
                           return absl::OkStatus();
                         });
  ASSERT_TRUE(consumer.RunOnce().ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].envelope.id(), envelope.id());
  EXPECT_EQ(seen[0].envelope.request_id(), "req-9");
  prima::events::v1::TicketCalled got;
  ASSERT_TRUE(seen[0].envelope.payload().UnpackTo(&got));
  EXPECT_EQ(got.ticket_id(), "t-42");
  EXPECT_EQ(got.waited_seconds(), 1099511627776);
  EXPECT_EQ(got.number(), std::string(300, 'x'));
  EXPECT_EQ(got.office_id(), "jaksel");
  EXPECT_EQ(got.counter_id(), "loket-3");
}

TEST_F(EventsTest, FirstDeliveryDeduplicates) {
  SyncRedis redis(redis_->endpoint(), absl::Seconds(2));
  auto first = FirstDelivery(redis, "satisfaction", "01EVENT");
  auto again = FirstDelivery(redis, "satisfaction", "01EVENT");
  auto other_group = FirstDelivery(redis, "catalog", "01EVENT");
  ASSERT_TRUE(first.ok() && again.ok() && other_group.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*other_group);
}

TEST_F(EventsTest, BackgroundConsumerHandlesNewEvents) {
  std::atomic<int> handled{0};
  ConsumerOptions options = Options("a");
  options.block = absl::Milliseconds(100);
  EventConsumer consumer(redis_->endpoint(), absl::Seconds(2), options,
                         [&](const StreamEvent&, SyncRedis&) {
                           ++handled;
                           return absl::OkStatus();
                         });
  consumer.Start();
  Publish("t-1", "req-1");
  Publish("t-2", "req-2");
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (handled.load() < 2 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  consumer.Stop();
  EXPECT_EQ(handled.load(), 2);
}

// With the default timings, a crashed replica's entry is handled by a live
// one within 5 s.
TEST_F(EventsTest, CrashedReplicasEntryIsTakenOverWithinFiveSeconds) {
  Publish("t-1", "req-1");
  ConsumerOptions defaults;
  defaults.stream = kStream;
  defaults.group = "satisfaction";
  {
    ConsumerOptions options = defaults;
    options.consumer = "crashed";
    EventConsumer crashed(redis_->endpoint(), absl::Seconds(2), options,
                          [](const StreamEvent&, SyncRedis&) {
                            return absl::UnavailableError("pod killed");
                          });
    ASSERT_TRUE(crashed.RunOnce().ok());  // read, never acknowledged
  }
  const absl::Time crash = absl::Now();
  std::atomic<int> handled{0};
  ConsumerOptions options = defaults;
  options.consumer = "live";
  options.block = absl::Milliseconds(100);
  EventConsumer live(redis_->endpoint(), absl::Seconds(2), options,
                     [&](const StreamEvent&, SyncRedis&) {
                       ++handled;
                       return absl::OkStatus();
                     });
  live.Start();
  while (handled.load() < 1 && absl::Now() - crash < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration took = absl::Now() - crash;
  live.Stop();
  EXPECT_EQ(handled.load(), 1);
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_EQ(PendingCount(), 0);
}

// Names of processes that are gone leave the group: one that stopped cleanly
// removes itself; one that vanished with nothing pending is removed by a live
// consumer once it has not read for forget_idle.
TEST_F(EventsTest, ConsumersOfGoneProcessesLeaveTheGroup) {
  Publish("t-1", "req-1");
  {
    EventConsumer vanished(
        redis_->endpoint(), absl::Seconds(2), Options("vanished"),
        [](const StreamEvent&, SyncRedis&) { return absl::OkStatus(); });
    ASSERT_TRUE(vanished.RunOnce().ok());  // never Start()ed: no clean stop
  }
  {
    ConsumerOptions options = Options("stopped");
    options.block = absl::Milliseconds(50);
    EventConsumer stopped(
        redis_->endpoint(), absl::Seconds(2), options,
        [](const StreamEvent&, SyncRedis&) { return absl::OkStatus(); });
    stopped.Start();
    absl::SleepFor(absl::Milliseconds(200));
    stopped.Stop();
  }
  EXPECT_EQ(ConsumerNames(), std::vector<std::string>{"vanished"});
  ConsumerOptions options = Options("live");
  options.forget_idle = absl::Milliseconds(100);
  EventConsumer live(
      redis_->endpoint(), absl::Seconds(2), options,
      [](const StreamEvent&, SyncRedis&) { return absl::OkStatus(); });
  absl::SleepFor(absl::Milliseconds(150));
  ASSERT_TRUE(live.RunOnce().ok());
  EXPECT_EQ(ConsumerNames(), std::vector<std::string>{"live"});
}

TEST(EventIdsTest, AreTimeOrderedAndUnique) {
  const absl::Time t = absl::FromUnixMillis(1'790'000'000'000);
  const std::string a = NewTimeOrderedId(t);
  const std::string b = NewTimeOrderedId(t + absl::Milliseconds(1));
  EXPECT_EQ(a.size(), 26u);
  EXPECT_LT(a, b);
  EXPECT_NE(NewTimeOrderedId(t), NewTimeOrderedId(t));
  EXPECT_EQ(a.substr(0, 10), NewTimeOrderedId(t).substr(0, 10));
}

}  // namespace
}  // namespace prima
