// LiveFeed (WatchTicket / WatchOffice) against a real redis-server and real
// gRPC on loopback. Each "replica" is its own Redis connection, QueueStore,
// LiveFeed and server hosting a minimal QueueService that forwards the two
// watch RPCs to its feed; changes are made through a replica's QueueStore, as
// the adapter would.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "services/common/clock.h"
#include "services/common/redis_client.h"
#include "services/queue/live_feed.h"
#include "services/queue/queue_store.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace prima::queue {
namespace {

namespace v1 = ::prima::queue::v1;
using ::prima::testing::TestRedis;
using ::prima::testing::TestServer;

constexpr char kOffice[] = "jaksel";
constexpr char kAgency[] = "dukcapil";
constexpr char kService[] = "ktp";
constexpr char kOfficer[] = "officer-1";
constexpr char kNoSuchOffice[] = "nowhere";
// Generous: these run on a loaded 2-core CI machine.
constexpr absl::Duration kWait = absl::Seconds(10);

// Forwards the two watch RPCs to a LiveFeed; everything else is UNIMPLEMENTED.
class WatchOnlyService final : public v1::QueueService::CallbackService {
 public:
  explicit WatchOnlyService(LiveFeed& feed) : feed_(feed) {}

  grpc::ServerWriteReactor<v1::TicketUpdate>* WatchTicket(
      grpc::CallbackServerContext* context,
      const v1::WatchTicketRequest* request) override {
    AccessProof proof;
    proof.secret = request->receipt_secret();
    return feed_.WatchTicket(context, request->ticket_id(), std::move(proof));
  }

  grpc::ServerWriteReactor<v1::BoardUpdate>* WatchOffice(
      grpc::CallbackServerContext* context,
      const v1::WatchOfficeRequest* request) override {
    // The adapter's existence check, played by a fixed answer.
    const bool exists = request->office_id() != kNoSuchOffice;
    return feed_.WatchOffice(
        context, request->office_id(),
        [exists](absl::AnyInvocable<void(absl::Status)> done) {
          done(exists ? absl::OkStatus()
                      : absl::NotFoundError("office nowhere does not exist"));
        });
  }

 private:
  LiveFeed& feed_;
};

// A client stream read on its own thread (or not read at all, for a slow
// client, until Drain).
template <typename Update>
class Watch {
 public:
  using Open = std::function<std::unique_ptr<grpc::ClientReader<Update>>(
      grpc::ClientContext*)>;

  explicit Watch(const Open& open, bool read = true) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
    reader_ = open(&context_);
    if (read) Drain();
  }
  ~Watch() {
    context_.TryCancel();
    if (!thread_.joinable()) Drain();
    thread_.join();
  }

  // Starts reading (once).
  void Drain() {
    thread_ = std::thread([this] {
      Update update;
      while (reader_->Read(&update)) {
        absl::MutexLock lock(&mu_);
        updates_.push_back(update);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = std::move(status);
    });
  }

  void Cancel() { context_.TryCancel(); }

  // The next update after the last one returned that satisfies `match`;
  // nullopt if none came within `timeout` or the stream ended first.
  std::optional<Update> Next(
      const std::function<bool(const Update&)>& match =
          [](const Update&) { return true; },
      absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    std::optional<Update> found;
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (found.has_value()) return true;
      while (cursor_ < updates_.size()) {
        const Update& update = updates_[cursor_++];
        if (match(update)) {
          found = update;
          return true;
        }
      }
      return status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return found;
  }

  // Whether any update so far (in whatever order, cursor untouched)
  // satisfies `match`, waiting up to `timeout` for one.
  bool Saw(const std::function<bool(const Update&)>& match,
           absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const Update& update : updates_) {
        if (match(update)) return true;
      }
      return status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
    for (const Update& update : updates_) {
      if (match(update)) return true;
    }
    return false;
  }

  std::optional<grpc::Status> End(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
    return status_;
  }

  std::vector<Update> All() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<Update>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Update> updates_ ABSL_GUARDED_BY(mu_);
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
};

using BoardWatch = Watch<v1::BoardUpdate>;
using TicketWatch = Watch<v1::TicketUpdate>;

std::function<bool(const v1::BoardUpdate&)> BoardKind(
    v1::BoardUpdate::Kind kind) {
  return [kind](const v1::BoardUpdate& u) { return u.kind() == kind; };
}
std::function<bool(const v1::TicketUpdate&)> TicketKind(
    v1::TicketUpdate::Kind kind) {
  return [kind](const v1::TicketUpdate& u) { return u.kind() == kind; };
}
std::function<bool(const v1::BoardUpdate&)> CallOf(const std::string& number) {
  return [number](const v1::BoardUpdate& u) {
    return u.kind() == v1::BoardUpdate::KIND_CALL && u.calls_size() == 1 &&
           u.calls(0).ticket_number() == number;
  };
}
std::function<bool(const v1::BoardUpdate&)> Waiting(int n) {
  return [n](const v1::BoardUpdate& u) {
    if (u.kind() != v1::BoardUpdate::KIND_COUNTS) return false;
    for (const v1::ServiceWaiting& w : u.waiting()) {
      if (w.service_id() == kService) return w.waiting() == n;
    }
    return n == 0;
  };
}

// One server's worth of the queue: its own Redis connection, store, feed and
// gRPC server.
struct Replica {
  // Watching shows no receipt secrets; any key will do.
  ReceiptKeys receipt_keys = ReceiptKeys::FromJwtSecret("watch test key");
  std::unique_ptr<RedisClient> redis;
  std::unique_ptr<QueueStore> store;
  std::unique_ptr<LiveFeed> feed;
  std::unique_ptr<WatchOnlyService> service;
  std::unique_ptr<TestServer> server;
  std::unique_ptr<v1::QueueService::Stub> stub;
};

LiveFeed::Options FastOptions() {
  LiveFeed::Options options;
  options.heartbeat = absl::Minutes(10);  // out of the way unless tested
  options.block = absl::Milliseconds(200);
  return options;
}

class QueueWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestRedis::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    counter_.id = "loket-1";
    counter_.office_id = kOffice;
    counter_.agency_id = kAgency;
    counter_.name = "Loket 1";
    counter_.service_ids = {kService};
  }

  void TearDown() override {
    // Feeds first, so open streams end at once and servers stop quickly.
    for (auto& replica : replicas_) replica->feed->Stop();
    for (auto& replica : replicas_) {
      replica->server.reset();
      replica->feed.reset();
      replica->store.reset();
      replica->redis->Stop();
    }
  }

  Replica& StartReplica(LiveFeed::Options options = FastOptions()) {
    auto replica = std::make_unique<Replica>();
    RedisClient::Options redis_options;
    redis_options.endpoint = redis_->endpoint();
    auto client = RedisClient::Start(redis_options);
    EXPECT_TRUE(client.ok()) << client.status();
    replica->redis = std::move(*client);
    EXPECT_TRUE(replica->redis->WaitUntilUsable(kWait));
    replica->store = std::make_unique<QueueStore>(
        *replica->redis, RealClock::Get(), replica->receipt_keys);
    replica->feed = std::make_unique<LiveFeed>(
        *replica->store, redis_->endpoint(), RealClock::Get(), options);
    replica->feed->Start();
    EXPECT_TRUE(replica->feed->WaitUntilFollowing(kWait));
    replica->service = std::make_unique<WatchOnlyService>(*replica->feed);
    auto server = TestServer::Start({replica->service.get()});
    EXPECT_TRUE(server.ok()) << server.status();
    replica->server = std::move(*server);
    replica->stub = v1::QueueService::NewStub(replica->server->NewChannel());
    replicas_.push_back(std::move(replica));
    return *replicas_.back();
  }

  QueueActor Officer() {
    QueueActor actor;
    actor.subject = kOfficer;
    actor.request_id = absl::StrCat("req-", ++request_seq_);
    return actor;
  }

  v1::Ticket Issue(Replica& replica) {
    IssueParams params;
    params.office_id = kOffice;
    params.agency_id = kAgency;
    params.service_id = kService;
    params.ticket_prefix = "A";
    params.target_waiting_minutes = 30;
    params.channel = v1::CHANNEL_KIOSK;
    params.local_date = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    params.expire_time = absl::Now() + absl::Hours(12);
    QueueActor actor;
    actor.request_id = absl::StrCat("req-", ++request_seq_);
    absl::StatusOr<v1::Ticket> ticket =
        Await<v1::Ticket>([&](Done<v1::Ticket> done) {
          replica.store->IssueTicket(params, actor, std::move(done));
        });
    EXPECT_TRUE(ticket.ok()) << ticket.status();
    return ticket.value_or(v1::Ticket());
  }

  void OpenCounter(Replica& replica) {
    absl::StatusOr<v1::CounterSession> session =
        Await<v1::CounterSession>([&](Done<v1::CounterSession> done) {
          replica.store->ChangeCounter(queue::CounterChange::kOpen, counter_,
                                       Officer(), std::move(done));
        });
    ASSERT_TRUE(session.ok()) << session.status();
  }

  absl::StatusOr<v1::Ticket> CallNext(Replica& replica) {
    return Await<v1::Ticket>([&](Done<v1::Ticket> done) {
      replica.store->CallNext(counter_, Officer(), std::move(done));
    });
  }

  absl::StatusOr<v1::Ticket> Recall(Replica& replica,
                                    const std::string& ticket_id) {
    return Await<v1::Ticket>([&](Done<v1::Ticket> done) {
      replica.store->Act(TicketAction::kRecall, counter_, ticket_id, Officer(),
                         std::move(done));
    });
  }

  absl::StatusOr<v1::Ticket> Complete(Replica& replica,
                                      const std::string& ticket_id) {
    return Await<v1::Ticket>([&](Done<v1::Ticket> done) {
      replica.store->CompleteService(counter_, ticket_id,
                                     v1::SERVICE_OUTCOME_DONE, Officer(),
                                     std::move(done));
    });
  }

  std::unique_ptr<BoardWatch> WatchBoard(
      Replica& replica, bool read = true,
      const std::shared_ptr<grpc::Channel>& channel = nullptr,
      const std::string& office = kOffice) {
    v1::QueueService::Stub* stub = replica.stub.get();
    std::unique_ptr<v1::QueueService::Stub> own;
    if (channel != nullptr) {
      own = v1::QueueService::NewStub(channel);
      stub = own.get();
    }
    v1::WatchOfficeRequest request;
    request.set_office_id(office);
    auto watch = std::make_unique<BoardWatch>(
        [&](grpc::ClientContext* context) {
          return stub->WatchOffice(context, request);
        },
        read);
    // A stub is not needed once the call started.
    return watch;
  }

  std::unique_ptr<TicketWatch> WatchTicket(Replica& replica,
                                           const std::string& ticket_id,
                                           const std::string& secret) {
    v1::WatchTicketRequest request;
    request.set_ticket_id(ticket_id);
    request.set_receipt_secret(secret);
    return std::make_unique<TicketWatch>([&](grpc::ClientContext* context) {
      return replica.stub->WatchTicket(context, request);
    });
  }

  // Polls until the feed serves `n` streams.
  static bool WaitForWatchers(const LiveFeed& feed, int n) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      if (feed.watchers() == n) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<TestRedis> redis_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  CounterInfo counter_;
  int request_seq_ = 0;
};

TEST_F(QueueWatchTest, BoardStartsWithSnapshotThenCallsAndCounts) {
  Replica& replica = StartReplica();
  const v1::Ticket first = Issue(replica);
  auto board = WatchBoard(replica);

  std::optional<v1::BoardUpdate> snapshot = board->Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->kind(), v1::BoardUpdate::KIND_SNAPSHOT);
  ASSERT_EQ(snapshot->waiting_size(), 1);
  EXPECT_EQ(snapshot->waiting(0).service_id(), kService);
  EXPECT_EQ(snapshot->waiting(0).waiting(), 1);
  EXPECT_EQ(snapshot->calls_size(), 0);
  EXPECT_TRUE(snapshot->has_time());

  const v1::Ticket second = Issue(replica);
  EXPECT_TRUE(board->Next(Waiting(2)).has_value());

  OpenCounter(replica);
  ASSERT_TRUE(CallNext(replica).ok());
  std::optional<v1::BoardUpdate> call = board->Next(CallOf(first.number()));
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->calls(0).counter_id(), counter_.id);
  EXPECT_EQ(call->calls(0).counter_name(), "Loket 1");
  EXPECT_EQ(call->calls(0).service_id(), kService);
  EXPECT_FALSE(call->calls(0).recall());
  EXPECT_TRUE(call->calls(0).has_call_time());
  // The counts may come before or after the call: a board read in flight
  // for an earlier change can already see the call's effect.
  EXPECT_TRUE(board->Saw(Waiting(1)));

  ASSERT_TRUE(Recall(replica, first.id()).ok());
  call = board->Next(CallOf(first.number()));
  ASSERT_TRUE(call.has_value());
  EXPECT_TRUE(call->calls(0).recall());

  // A new watcher's snapshot holds the latest calls, newest first.
  auto late = WatchBoard(replica);
  snapshot = late->Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->kind(), v1::BoardUpdate::KIND_SNAPSHOT);
  ASSERT_GE(snapshot->calls_size(), 2);
  EXPECT_TRUE(snapshot->calls(0).recall());
  EXPECT_EQ(snapshot->calls(0).ticket_number(), first.number());
  EXPECT_EQ(snapshot->waiting(0).waiting(), 1);
  (void)second;
}

TEST_F(QueueWatchTest, TicketSnapshotCalledThenEndsOkWhenCompleted) {
  Replica& replica = StartReplica();
  const v1::Ticket ticket = Issue(replica);
  auto watch = WatchTicket(replica, ticket.id(), ticket.receipt_secret());

  std::optional<v1::TicketUpdate> snapshot = watch->Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->kind(), v1::TicketUpdate::KIND_SNAPSHOT);
  EXPECT_EQ(snapshot->ticket().id(), ticket.id());
  EXPECT_EQ(snapshot->ticket().status(), v1::TICKET_STATUS_WAITING);
  EXPECT_EQ(snapshot->ticket().position(), 1);
  EXPECT_TRUE(snapshot->ticket().receipt_secret().empty());

  // Opening a counter changes the ticket's open counters (and estimate).
  OpenCounter(replica);
  std::optional<v1::TicketUpdate> changed =
      watch->Next(TicketKind(v1::TicketUpdate::KIND_CHANGED));
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->ticket().open_counters(), 1);

  ASSERT_TRUE(CallNext(replica).ok());
  std::optional<v1::TicketUpdate> called =
      watch->Next(TicketKind(v1::TicketUpdate::KIND_CALLED));
  ASSERT_TRUE(called.has_value());
  EXPECT_EQ(called->ticket().status(), v1::TICKET_STATUS_CALLED);
  EXPECT_EQ(called->ticket().counter_name(), "Loket 1");

  ASSERT_TRUE(Recall(replica, ticket.id()).ok());
  called = watch->Next(TicketKind(v1::TicketUpdate::KIND_CALLED));
  ASSERT_TRUE(called.has_value());
  EXPECT_EQ(called->ticket().recall_count(), 1);

  ASSERT_TRUE(Complete(replica, ticket.id()).ok());
  std::optional<v1::TicketUpdate> done =
      watch->Next([](const v1::TicketUpdate& u) {
        return u.ticket().status() == v1::TICKET_STATUS_COMPLETED;
      });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->kind(), v1::TicketUpdate::KIND_CHANGED);
  std::optional<grpc::Status> end = watch->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->ok()) << end->error_message();
  EXPECT_TRUE(WaitForWatchers(*replica.feed, 0));
}

TEST_F(QueueWatchTest, WatchingAFinalTicketSendsItAndEnds) {
  Replica& replica = StartReplica();
  const v1::Ticket ticket = Issue(replica);
  OpenCounter(replica);
  ASSERT_TRUE(CallNext(replica).ok());
  ASSERT_TRUE(Complete(replica, ticket.id()).ok());

  auto watch = WatchTicket(replica, ticket.id(), ticket.receipt_secret());
  std::optional<grpc::Status> end = watch->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->ok()) << end->error_message();
  const std::vector<v1::TicketUpdate> updates = watch->All();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].kind(), v1::TicketUpdate::KIND_SNAPSHOT);
  EXPECT_EQ(updates[0].ticket().status(), v1::TICKET_STATUS_COMPLETED);
}

TEST_F(QueueWatchTest, WrongSecretOrUnknownTicketEndsWithoutSnapshot) {
  Replica& replica = StartReplica();
  const v1::Ticket ticket = Issue(replica);

  auto wrong = WatchTicket(replica, ticket.id(), "not-the-secret");
  std::optional<grpc::Status> end = wrong->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << end->error_message();
  EXPECT_TRUE(wrong->All().empty());

  auto unknown = WatchTicket(replica, "01jzzzzzzzzzzzzzzzzzzzzzzz", "secret");
  end = unknown->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::NOT_FOUND)
      << end->error_message();
  EXPECT_TRUE(unknown->All().empty());
  EXPECT_TRUE(WaitForWatchers(*replica.feed, 0));
}

TEST_F(QueueWatchTest, FailedPrecheckEndsBoardWithoutSnapshot) {
  Replica& replica = StartReplica();
  auto board = WatchBoard(replica, /*read=*/true, nullptr, kNoSuchOffice);
  std::optional<grpc::Status> end = board->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::NOT_FOUND)
      << end->error_message();
  EXPECT_TRUE(board->All().empty());
  EXPECT_TRUE(WaitForWatchers(*replica.feed, 0));
}

TEST_F(QueueWatchTest, IdleStreamsGetHeartbeats) {
  LiveFeed::Options options = FastOptions();
  options.heartbeat = absl::Milliseconds(200);
  Replica& replica = StartReplica(options);
  const v1::Ticket ticket = Issue(replica);
  auto board = WatchBoard(replica);
  auto watch = WatchTicket(replica, ticket.id(), ticket.receipt_secret());

  ASSERT_TRUE(board->Next(BoardKind(v1::BoardUpdate::KIND_SNAPSHOT)));
  std::optional<v1::BoardUpdate> beat =
      board->Next(BoardKind(v1::BoardUpdate::KIND_HEARTBEAT));
  ASSERT_TRUE(beat.has_value());
  EXPECT_TRUE(beat->has_time());
  EXPECT_EQ(beat->calls_size(), 0);
  EXPECT_TRUE(board->Next(BoardKind(v1::BoardUpdate::KIND_HEARTBEAT)));

  ASSERT_TRUE(watch->Next(TicketKind(v1::TicketUpdate::KIND_SNAPSHOT)));
  std::optional<v1::TicketUpdate> ticket_beat =
      watch->Next(TicketKind(v1::TicketUpdate::KIND_HEARTBEAT));
  ASSERT_TRUE(ticket_beat.has_value());
  EXPECT_FALSE(ticket_beat->has_ticket());
}

TEST_F(QueueWatchTest, WatchersBeyondTheLimitAreRefused) {
  LiveFeed::Options options = FastOptions();
  options.max_watchers = 2;
  Replica& replica = StartReplica(options);
  const v1::Ticket ticket = Issue(replica);

  auto board = WatchBoard(replica);
  auto watch = WatchTicket(replica, ticket.id(), ticket.receipt_secret());
  ASSERT_TRUE(board->Next().has_value());
  ASSERT_TRUE(watch->Next().has_value());
  EXPECT_EQ(replica.feed->watchers(), 2);

  // Both kinds count against the same limit.
  auto refused_board = WatchBoard(replica);
  std::optional<grpc::Status> end = refused_board->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto refused_ticket =
      WatchTicket(replica, ticket.id(), ticket.receipt_secret());
  end = refused_ticket->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A cancelled stream frees its place.
  board->Cancel();
  ASSERT_TRUE(WaitForWatchers(*replica.feed, 1));
  auto again = WatchBoard(replica);
  std::optional<v1::BoardUpdate> snapshot = again->Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->kind(), v1::BoardUpdate::KIND_SNAPSHOT);
}

TEST_F(QueueWatchTest, SlowBoardReaderDoesNotHoldBackOthers) {
  Replica& replica = StartReplica();
  const v1::Ticket first = Issue(replica);
  const v1::Ticket second = Issue(replica);
  OpenCounter(replica);

  // A client with a tiny flow-control window that does not read: the
  // server's writes to it stall after a few messages.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto slow_channel = grpc::CreateCustomChannel(
      replica.server->address(), grpc::InsecureChannelCredentials(), args);
  auto slow = WatchBoard(replica, /*read=*/false, slow_channel);
  auto fast = WatchBoard(replica);
  ASSERT_TRUE(fast->Next(BoardKind(v1::BoardUpdate::KIND_SNAPSHOT)));
  ASSERT_TRUE(WaitForWatchers(*replica.feed, 2));

  constexpr int kRecalls = 300;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(CallNext(replica).ok());
  for (int i = 0; i < kRecalls; ++i) {
    ASSERT_TRUE(Recall(replica, first.id()).ok()) << i;
  }
  ASSERT_TRUE(Complete(replica, first.id()).ok());
  ASSERT_TRUE(CallNext(replica).ok());  // the second ticket: the newest call
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));

  // The fast reader sees the newest call while the slow one reads nothing.
  ASSERT_TRUE(fast->Next(CallOf(second.number())).has_value());

  // Once the slow reader reads, it gets the snapshot, then what was kept:
  // the newest calls, with the oldest beyond the bound dropped.
  slow->Drain();
  std::optional<v1::BoardUpdate> snapshot = slow->Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->kind(), v1::BoardUpdate::KIND_SNAPSHOT);
  ASSERT_TRUE(slow->Next(CallOf(second.number())).has_value());
  int slow_calls = 0;
  for (const v1::BoardUpdate& u : slow->All()) {
    if (u.kind() == v1::BoardUpdate::KIND_CALL) ++slow_calls;
  }
  EXPECT_LT(slow_calls, kRecalls);  // some were dropped
  EXPECT_GE(slow_calls, 1);
}

TEST_F(QueueWatchTest, WatchersSeeChangesMadeThroughAnotherReplica) {
  Replica& a = StartReplica();
  Replica& b = StartReplica();
  const v1::Ticket ticket = Issue(b);
  auto board = WatchBoard(a);
  auto watch = WatchTicket(a, ticket.id(), ticket.receipt_secret());
  ASSERT_TRUE(board->Next(BoardKind(v1::BoardUpdate::KIND_SNAPSHOT)));
  ASSERT_TRUE(watch->Next(TicketKind(v1::TicketUpdate::KIND_SNAPSHOT)));

  OpenCounter(b);
  ASSERT_TRUE(CallNext(b).ok());
  std::optional<v1::BoardUpdate> call = board->Next(CallOf(ticket.number()));
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->calls(0).counter_name(), "Loket 1");
  EXPECT_TRUE(board->Saw(Waiting(0)));  // before or after the call
  std::optional<v1::TicketUpdate> called =
      watch->Next(TicketKind(v1::TicketUpdate::KIND_CALLED));
  ASSERT_TRUE(called.has_value());
  EXPECT_EQ(called->ticket().counter_name(), "Loket 1");

  // And B's own watchers see it too.
  auto board_b = WatchBoard(b);
  std::optional<v1::BoardUpdate> snapshot = board_b->Next();
  ASSERT_TRUE(snapshot.has_value());
  ASSERT_GE(snapshot->calls_size(), 1);
  EXPECT_EQ(snapshot->calls(0).ticket_number(), ticket.number());
}

TEST_F(QueueWatchTest, StopFinishesOpenStreamsPromptly) {
  Replica& replica = StartReplica();
  const v1::Ticket ticket = Issue(replica);
  auto board = WatchBoard(replica);
  auto other_board = WatchBoard(replica);
  auto watch = WatchTicket(replica, ticket.id(), ticket.receipt_secret());
  ASSERT_TRUE(board->Next().has_value());
  ASSERT_TRUE(other_board->Next().has_value());
  ASSERT_TRUE(watch->Next().has_value());

  const absl::Time start = absl::Now();
  replica.feed->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  replica.feed->Stop();  // idempotent

  for (auto* stream : {board.get(), other_board.get()}) {
    std::optional<grpc::Status> end = stream->End();
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  std::optional<grpc::Status> end = watch->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(WaitForWatchers(*replica.feed, 0));

  // New streams are refused once stopped.
  auto late = WatchBoard(replica);
  end = late->End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace prima::queue
