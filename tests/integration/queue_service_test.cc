// QueueService against a real redis-server through the real RedisClient and
// real gRPC servers (the directory applied through the real DirectoryService):
// every RPC's success and failure paths, unique gapless numbers under 1,000
// concurrent IssueTicket, no ticket called twice under 50 counters calling at
// once through two replicas, priority order, transfers keeping the wait,
// idempotent retries, day rollover in the office's time zone, expiry at
// closing time, foreign agencies and receipt secrets.
#include "services/queue/queue_service.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/events/v1/events.pb.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/rate_limit.h"
#include "services/common/server.h"
#include "services/common/sync_redis.h"
#include "tests/testing/error_details.h"
#include "tests/testing/service_env.h"
#include "tests/testing/test_directory.h"
#include "tests/testing/test_server.h"

namespace prima {
namespace {

using namespace ::prima::queue::v1;  // NOLINT
namespace cat = ::prima::catalog::v1;
using ::prima::testing::TestServer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAgency[] = "dukcapil";
constexpr char kOtherAgency[] = "samsat";

// Monday 2026-11-23 09:00 WIB (UTC+7).
absl::Time MondayNineWib() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                         absl::FixedTimeZone(7 * 3600));
}

cat::ApplyDirectoryRequest Directory() {
  cat::ApplyDirectoryRequest d;
  d.set_request_id("directory-1");
  for (const char* id : {kAgency, kOtherAgency}) {
    cat::Agency* a = d.add_agencies();
    a->set_id(id);
    a->set_name(absl::StrCat("Agency ", id));
    a->set_region("Demo");
  }
  auto add_office = [&](const std::string& id, const std::string& agency,
                        const std::string& zone) {
    cat::Office* o = d.add_offices();
    o->set_id(id);
    o->set_agency_id(agency);
    o->set_name(absl::StrCat("Office ", id));
    o->set_time_zone(zone);
    for (int day = 1; day <= 7; ++day) {
      cat::OpeningInterval* i = o->add_opening_hours();
      i->set_weekday(static_cast<cat::Weekday>(day));
      i->set_open_minute(8 * 60);
      i->set_close_minute(16 * 60);
    }
  };
  add_office("kantor-a", kAgency, "Asia/Jakarta");
  add_office("kantor-b", kAgency, "Asia/Jakarta");
  add_office("kantor-papua", kOtherAgency, "Asia/Jayapura");
  auto add_service = [&](const std::string& id, const std::string& agency,
                         const std::string& prefix, int target) {
    cat::PublicService* s = d.add_public_services();
    s->set_id(id);
    s->set_agency_id(agency);
    s->set_name(absl::StrCat("Layanan ", id));
    s->set_ticket_prefix(prefix);
    s->set_target_waiting_minutes(target);
    s->mutable_standard()->mutable_completion_time()->set_value(1);
    s->mutable_standard()->mutable_completion_time()->set_unit(
        cat::CompletionTime::UNIT_DAYS);
  };
  add_service("ktp", kAgency, "A", 10);
  add_service("kk", kAgency, "B", 15);
  add_service("akta", kAgency, "C", 20);  // no counter serves it
  add_service("stnk", kOtherAgency, "S", 30);
  auto add_counter = [&](const std::string& id, const std::string& office,
                         const std::string& agency,
                         std::vector<std::string> services, bool priority) {
    cat::Counter* c = d.add_counters();
    c->set_id(id);
    c->set_office_id(office);
    c->set_agency_id(agency);
    c->set_name(absl::StrCat("Loket ", id));
    for (const std::string& s : services) c->add_service_ids(s);
    c->set_priority(priority);
  };
  add_counter("loket-1", "kantor-a", kAgency, {"ktp", "kk"}, true);
  add_counter("loket-2", "kantor-a", kAgency, {"ktp"}, false);
  add_counter("loket-3", "kantor-a", kAgency, {"kk"}, false);
  for (int i = 1; i <= 50; ++i) {
    add_counter(absl::StrCat("bulk-", i), "kantor-b", kAgency, {"ktp"}, false);
  }
  add_counter("papua-1", "kantor-papua", kOtherAgency, {"stnk"}, false);
  return d;
}

// One replica of the queue service on its own gRPC server.
struct Replica {
  ServiceBundle bundle;
  std::unique_ptr<TestServer> server;
  std::unique_ptr<QueueService::Stub> stub;
};

class QueueServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::TestServiceEnv::Start(clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    env_ = std::move(*started);
    auto directory = testing::TestDirectory::Start(*env_, Directory());
    ASSERT_TRUE(directory.ok()) << directory.status();
    directory_ = std::move(*directory);
    for (int i = 0; i < 2; ++i) AddReplica();
    stub_ = replicas_[0]->stub.get();
    officer_ = Token("officer", kAgency, "petugas-1");
    officer2_ = Token("officer", kAgency, "petugas-2");
    supervisor_ = Token("supervisor", kAgency, "kepala-1");
  }

  void TearDown() override {
    for (auto& r : replicas_) {
      r->server->server().Shutdown();
      if (r->bundle.stop) r->bundle.stop();
      r->server->server().Wait();
    }
    directory_.reset();
  }

  void AddReplica() {
    queue::QueueOptions options;
    options.sweep_interval = absl::Milliseconds(50);
    options.live.heartbeat = absl::Milliseconds(200);
    auto bundle = queue::MakeQueueService(env_->environment(), options);
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    auto replica = std::make_unique<Replica>();
    replica->bundle = std::move(*bundle);
    auto server = TestServer::Start({replica->bundle.services[0].get()});
    ASSERT_TRUE(server.ok()) << server.status();
    replica->server = std::move(*server);
    replica->stub = QueueService::NewStub(replica->server->NewChannel());
    replicas_.push_back(std::move(replica));
  }

  std::string Token(const std::string& role, const std::string& agency = "",
                    const std::string& subject = "tester") const {
    return env_->Token(role, agency, subject);
  }

  static void Prepare(grpc::ClientContext* ctx, const std::string& token) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    if (!token.empty()) {
      ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
  }

  static std::string RequestId() { return NewRequestId(); }

  grpc::Status Issue(const std::string& service, Ticket* out,
                     PriorityClass klass = PRIORITY_CLASS_REGULAR,
                     const std::string& token = "",
                     const std::string& request_id = RequestId(),
                     const std::string& office = "kantor-a",
                     QueueService::Stub* stub = nullptr) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    IssueTicketRequest req;
    req.set_request_id(request_id);
    req.set_office_id(office);
    req.set_service_id(service);
    req.set_channel(CHANNEL_KIOSK);
    req.set_priority_class(klass);
    return (stub ? stub : stub_)->IssueTicket(&ctx, req, out);
  }

  Ticket MustIssue(const std::string& service,
                   PriorityClass klass = PRIORITY_CLASS_REGULAR) {
    Ticket t;
    grpc::Status s = Issue(service, &t, klass);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return t;
  }

  grpc::Status Get(const std::string& id, const std::string& secret,
                   Ticket* out, const std::string& token = "") {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    GetTicketRequest req;
    req.set_ticket_id(id);
    req.set_receipt_secret(secret);
    return stub_->GetTicket(&ctx, req, out);
  }

  grpc::Status Open(const std::string& counter, const std::string& token,
                    CounterSession* out = nullptr,
                    QueueService::Stub* stub = nullptr) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    OpenCounterRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id(counter);
    CounterSession ignored;
    return (stub ? stub : stub_)->OpenCounter(&ctx, req, out ? out : &ignored);
  }

  grpc::Status Next(const std::string& counter, const std::string& token,
                    Ticket* out, QueueService::Stub* stub = nullptr,
                    const std::string& request_id = RequestId()) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    CallNextRequest req;
    req.set_request_id(request_id);
    req.set_counter_id(counter);
    return (stub ? stub : stub_)->CallNext(&ctx, req, out);
  }

  template <typename Rpc>
  grpc::Status Act(Rpc rpc, const std::string& counter,
                   const std::string& ticket, const std::string& token,
                   Ticket* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    TicketActionRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id(counter);
    req.set_ticket_id(ticket);
    return (stub_->*rpc)(&ctx, req, out);
  }

  grpc::Status Complete(const std::string& counter, const std::string& ticket,
                        const std::string& token, Ticket* out,
                        ServiceOutcome outcome = SERVICE_OUTCOME_DONE) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    CompleteServiceRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id(counter);
    req.set_ticket_id(ticket);
    req.set_outcome(outcome);
    return stub_->CompleteService(&ctx, req, out);
  }

  grpc::Status Stats(const std::string& office, absl::CivilDay day,
                     const std::string& token, QueueStats* out,
                     const std::string& service = "") {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    GetQueueStatsRequest req;
    req.set_office_id(office);
    req.mutable_date()->set_year(static_cast<int32_t>(day.year()));
    req.mutable_date()->set_month(day.month());
    req.mutable_date()->set_day(day.day());
    req.set_service_id(service);
    return stub_->GetQueueStats(&ctx, req, out);
  }

  FakeClock clock_{MondayNineWib()};
  std::unique_ptr<testing::TestServiceEnv> env_;
  std::unique_ptr<testing::TestDirectory> directory_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  QueueService::Stub* stub_ = nullptr;
  std::string officer_, officer2_, supervisor_;
};

// ---- issuing ----

TEST_F(QueueServiceTest, IssueGivesNumberPositionEstimateAndSecret) {
  Ticket first = MustIssue("ktp");
  EXPECT_EQ(first.number(), "A-001");
  EXPECT_EQ(first.status(), TICKET_STATUS_WAITING);
  EXPECT_EQ(first.office_id(), "kantor-a");
  EXPECT_EQ(first.agency_id(), kAgency);
  EXPECT_EQ(first.position(), 1);
  EXPECT_EQ(first.local_date().day(), 23);
  EXPECT_EQ(first.id().size(), 26u);
  EXPECT_EQ(first.receipt_secret().size(), 32u);
  EXPECT_GT(first.expire_time().seconds(), first.issue_time().seconds());
  // Times not reached yet are absent, not the epoch.
  EXPECT_FALSE(first.has_call_time());
  EXPECT_FALSE(first.has_service_start_time());
  EXPECT_FALSE(first.has_end_time());
  Ticket second = MustIssue("ktp");
  EXPECT_EQ(second.number(), "A-002");
  EXPECT_EQ(second.position(), 2);
  // Nobody serves yet and there is no history: the target time per ticket
  // ahead stands in, so the second waits longer than the first.
  EXPECT_GT(second.estimated_wait_seconds(), first.estimated_wait_seconds());
  Ticket other = MustIssue("kk");
  EXPECT_EQ(other.number(), "B-001");
}

TEST_F(QueueServiceTest, IssueRefusesBadInputClosedOfficeAndUnservedService) {
  Ticket t;
  grpc::Status s = Issue("ktp", &t, PRIORITY_CLASS_APPOINTMENT);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("priority_class"));
  s = Issue("ktp", &t, PRIORITY_CLASS_REGULAR, "", "short");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));
  s = Issue("Bad_Id", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("service_id"));
  s = Issue("nope", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = Issue("stnk", &t);  // another agency's service
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = Issue("akta", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("no counter"));
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    IssueTicketRequest req;
    req.set_request_id(RequestId());
    req.set_office_id("kantor-a");
    req.set_service_id("ktp");
    s = stub_->IssueTicket(&ctx, req, &t);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("channel"));
  }
  clock_.Advance(absl::Hours(8));  // 17:00 WIB
  s = Issue("ktp", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("closed"));
  const google::rpc::ErrorInfo closed = testing::ReplyErrorInfo(s);
  EXPECT_EQ(closed.reason(), "OFFICE_CLOSED");
  EXPECT_EQ(testing::Fact(closed, "office_id"), "kantor-a");
  EXPECT_FALSE(testing::Fact(closed, "next_opening_time").empty());
}

TEST_F(QueueServiceTest, PublicIssuingIsRateLimitedPerCallerAndPerOffice) {
  env_->mutable_config().rate_limits = *RateLimitConfig::Parse(
      "IssueTicket.caller=3/1m,IssueTicket.office=5/1m");
  Ticket t;
  const std::string first = RequestId();
  ASSERT_TRUE(Issue("ktp", &t, PRIORITY_CLASS_REGULAR, "", first).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(Issue("ktp", &t).ok());
  grpc::Status s = Issue("ktp", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("caller"));
  const google::rpc::ErrorInfo info = testing::ReplyErrorInfo(s);
  EXPECT_EQ(info.reason(), "RATE_LIMITED");
  int retry_after = 0;
  ASSERT_TRUE(absl::SimpleAtoi(testing::Fact(info, "retry_after_seconds"),
                               &retry_after));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(1).UnpackTo(&retry));
  EXPECT_GT(retry.retry_delay().seconds() * 1000 +
                retry.retry_delay().nanos() / 1000000,
            0);

  // A replay of a recorded request is answered and not counted.
  EXPECT_TRUE(Issue("ktp", &t, PRIORITY_CLASS_REGULAR, "", first).ok());
  // A citizen's token is a caller of its own; the office's count is shared.
  const std::string citizen = Token("citizen", "", "warga-1");
  EXPECT_TRUE(Issue("ktp", &t, PRIORITY_CLASS_REGULAR, citizen).ok());
  EXPECT_TRUE(Issue("ktp", &t, PRIORITY_CLASS_REGULAR, citizen).ok());
  s = Issue("ktp", &t, PRIORITY_CLASS_REGULAR, Token("citizen", "", "warga-2"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("office"));
  // Nothing was issued for the refused calls: numbers stay gapless.
  env_->mutable_config().rate_limits = RateLimitConfig::None();
  ASSERT_TRUE(Issue("ktp", &t).ok());
  EXPECT_EQ(t.number(), "A-006");
}

TEST_F(QueueServiceTest, ForwardedClientCountsOnlyFromATrustedProxy) {
  env_->mutable_config().rate_limits = *RateLimitConfig::Parse(
      "IssueTicket.caller=1/1m,IssueTicket.office=0/1m");
  auto issue_for = [&](const std::string& client) {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    ctx.AddMetadata("x-forwarded-for", "198.51.100.1, " + client);
    IssueTicketRequest req;
    req.set_request_id(RequestId());
    req.set_office_id("kantor-a");
    req.set_service_id("ktp");
    req.set_channel(CHANNEL_MOBILE);
    Ticket t;
    return stub_->IssueTicket(&ctx, req, &t).error_code();
  };
  // Loopback is no trusted proxy: its claims are ignored, one caller.
  EXPECT_EQ(issue_for("203.0.113.7"), grpc::StatusCode::OK);
  EXPECT_EQ(issue_for("203.0.113.8"), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Trusted, the last forwarded address is the caller.
  env_->mutable_config().trusted_proxies = {"127.0.0.1"};
  EXPECT_EQ(issue_for("203.0.113.9"), grpc::StatusCode::OK);
  EXPECT_EQ(issue_for("203.0.113.10"), grpc::StatusCode::OK);
  EXPECT_EQ(issue_for("203.0.113.9"), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(QueueServiceTest, ThousandConcurrentIssuesGetUniqueGaplessNumbers) {
  constexpr int kThreads = 16, kPerThread = 63;  // 1,008 tickets
  absl::Mutex mu;
  std::vector<std::string> numbers;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      QueueService::Stub* stub = replicas_[i % 2]->stub.get();
      for (int j = 0; j < kPerThread; ++j) {
        Ticket t;
        grpc::Status s = Issue("ktp", &t, PRIORITY_CLASS_REGULAR, "",
                               RequestId(), "kantor-a", stub);
        if (!s.ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        numbers.push_back(t.number());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(numbers.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> unique(numbers.begin(), numbers.end());
  EXPECT_EQ(unique.size(), numbers.size());
  for (int n = 1; n <= kThreads * kPerThread; ++n) {
    const std::string expected =
        n < 1000 ? absl::StrFormat("A-%03d", n) : absl::StrCat("A-", n);
    EXPECT_TRUE(unique.count(expected)) << expected << " is missing";
  }
}

TEST_F(QueueServiceTest, RetriedIssueReturnsTheFirstTicket) {
  const std::string id = RequestId();
  Ticket first, again;
  ASSERT_TRUE(Issue("ktp", &first, PRIORITY_CLASS_REGULAR, "", id).ok());
  ASSERT_TRUE(Issue("ktp", &again, PRIORITY_CLASS_REGULAR, "", id).ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(again.number(), "A-001");
  EXPECT_EQ(again.receipt_secret(), first.receipt_secret());
  Ticket next = MustIssue("ktp");
  EXPECT_EQ(next.number(), "A-002");  // the retry took no number
}

// Callers without a token share one request_id namespace: a request that
// reuses another's request_id is refused, never answered with the first
// ticket and its receipt secret.
TEST_F(QueueServiceTest, ReusedRequestIdForAnotherRequestIsRefused) {
  const std::string id = RequestId();
  Ticket first, other, again;
  ASSERT_TRUE(Issue("ktp", &first, PRIORITY_CLASS_REGULAR, "", id).ok());
  grpc::Status s = Issue("kk", &other, PRIORITY_CLASS_REGULAR, "", id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), StartsWith("request_id: "));
  EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr(first.id())));
  EXPECT_TRUE(other.receipt_secret().empty());
  s = Issue("ktp", &other, PRIORITY_CLASS_ELDERLY, "", id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // The same request again is still a replay.
  ASSERT_TRUE(Issue("ktp", &again, PRIORITY_CLASS_REGULAR, "", id).ok());
  EXPECT_EQ(again.id(), first.id());
}

TEST_F(QueueServiceTest, NextLocalDayStartsAFreshSequence) {
  EXPECT_EQ(MustIssue("ktp").number(), "A-001");
  EXPECT_EQ(MustIssue("ktp").number(), "A-002");
  // 23:30 WIB Monday is 16:30 UTC: closed. 08:30 WIB Tuesday is 01:30 UTC
  // Tuesday: the office's new local day.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 24, 1, 30, 0),
                             absl::UTCTimeZone()));
  Ticket t = MustIssue("ktp");
  EXPECT_EQ(t.number(), "A-001");
  EXPECT_EQ(t.local_date().day(), 24);
}

TEST_F(QueueServiceTest, OfficeInWitUsesItsOwnLocalDay) {
  // 07:30 WIB Tuesday is 09:30 WIT: Jakarta is closed, Jayapura open.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 24, 0, 30, 0),
                             absl::UTCTimeZone()));
  Ticket t;
  EXPECT_EQ(Issue("ktp", &t).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(
      Issue("stnk", &t, PRIORITY_CLASS_REGULAR, "", RequestId(), "kantor-papua")
          .ok());
  EXPECT_EQ(t.number(), "S-001");
  EXPECT_EQ(t.local_date().day(), 24);
}

// ---- access to one ticket ----

TEST_F(QueueServiceTest, SecretOpensOnlyItsOwnTicket) {
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  Ticket out;
  ASSERT_TRUE(Get(a.id(), a.receipt_secret(), &out).ok());
  EXPECT_EQ(out.number(), "A-001");
  EXPECT_TRUE(out.receipt_secret().empty());  // never shown again
  EXPECT_EQ(Get(b.id(), a.receipt_secret(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(b.id(), "", &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Get("01kaaaaaaaaaaaaaaaaaaaaaaa", a.receipt_secret(), &out).error_code(),
      grpc::StatusCode::NOT_FOUND);
  // Staff of the agency see it; staff of another agency don't.
  EXPECT_TRUE(Get(b.id(), "", &out, officer_).ok());
  EXPECT_EQ(
      Get(b.id(), "", &out, Token("officer", kOtherAgency, "x")).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(QueueServiceTest, CitizenTokenReachesTheTicketsItTook) {
  const std::string citizen = Token("citizen", "", "warga-1");
  Ticket t;
  ASSERT_TRUE(Issue("ktp", &t, PRIORITY_CLASS_REGULAR, citizen).ok());
  Ticket out;
  EXPECT_TRUE(Get(t.id(), "", &out, citizen).ok());
  EXPECT_EQ(Get(t.id(), "", &out, Token("citizen", "", "warga-2")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(QueueServiceTest, CancelWithSecretLeavesTheQueue) {
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  grpc::ClientContext ctx;
  Prepare(&ctx, "");
  CancelTicketRequest req;
  req.set_request_id(RequestId());
  req.set_ticket_id(a.id());
  req.set_receipt_secret(b.receipt_secret());
  Ticket out;
  EXPECT_EQ(stub_->CancelTicket(&ctx, req, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ctx2;
  Prepare(&ctx2, "");
  req.set_receipt_secret(a.receipt_secret());
  ASSERT_TRUE(stub_->CancelTicket(&ctx2, req, &out).ok());
  EXPECT_EQ(out.status(), TICKET_STATUS_CANCELLED);
  Ticket bnow;
  ASSERT_TRUE(Get(b.id(), b.receipt_secret(), &bnow).ok());
  EXPECT_EQ(bnow.position(), 1);  // moved up
  grpc::ClientContext ctx3;
  Prepare(&ctx3, "");
  req.set_request_id(RequestId());
  EXPECT_EQ(stub_->CancelTicket(&ctx3, req, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// ---- counters and calls ----

TEST_F(QueueServiceTest, CounterSessionLifecycle) {
  CounterSession s;
  ASSERT_TRUE(Open("loket-2", officer_, &s).ok());
  EXPECT_EQ(s.state(), COUNTER_STATE_OPEN);
  EXPECT_EQ(s.officer_id(), "petugas-1");
  EXPECT_EQ(s.counter_name(), "Loket loket-2");
  // Opening again is a no-op; another officer is refused; the same officer
  // can't hold two counters.
  EXPECT_TRUE(Open("loket-2", officer_).ok());
  grpc::Status st = Open("loket-2", officer2_);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("petugas-1"));
  EXPECT_EQ(Open("loket-3", officer_).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Pause, resume, close.
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer_);
    PauseCounterRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id("loket-2");
    ASSERT_TRUE(stub_->PauseCounter(&ctx, req, &s).ok());
    EXPECT_EQ(s.state(), COUNTER_STATE_PAUSED);
  }
  Ticket t = MustIssue("ktp");
  Ticket called;
  EXPECT_EQ(Next("loket-2", officer_, &called).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // paused
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer_);
    ResumeCounterRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id("loket-2");
    ASSERT_TRUE(stub_->ResumeCounter(&ctx, req, &s).ok());
    EXPECT_EQ(s.state(), COUNTER_STATE_OPEN);
  }
  ASSERT_TRUE(Next("loket-2", officer_, &called).ok());
  EXPECT_EQ(called.id(), t.id());
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer_);
    CloseCounterRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id("loket-2");
    grpc::Status busy = stub_->CloseCounter(&ctx, req, &s);
    EXPECT_EQ(busy.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(busy.error_message(), HasSubstr("A-001"));
  }
  Ticket done;
  ASSERT_TRUE(Complete("loket-2", t.id(), officer_, &done).ok());
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer_);
    CloseCounterRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id("loket-2");
    ASSERT_TRUE(stub_->CloseCounter(&ctx, req, &s).ok());
    EXPECT_EQ(s.state(), COUNTER_STATE_CLOSED);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer2_);
    GetCounterSessionRequest req;
    req.set_counter_id("loket-2");
    ASSERT_TRUE(stub_->GetCounterSession(&ctx, req, &s).ok());
    EXPECT_EQ(s.state(), COUNTER_STATE_CLOSED);
    EXPECT_EQ(s.service_ids_size(), 1);
  }
  // Now another officer may open it.
  EXPECT_TRUE(Open("loket-2", officer2_).ok());
}

TEST_F(QueueServiceTest, ForeignAgencyOfficerIsRefused) {
  const std::string foreign = Token("officer", kOtherAgency, "petugas-papua");
  grpc::Status s = Open("loket-1", foreign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Ticket t;
  EXPECT_EQ(Next("loket-1", foreign, &t).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  QueueStats stats;
  EXPECT_EQ(Stats("kantor-a", absl::CivilDay(2026, 11, 23),
                  Token("supervisor", kOtherAgency, "kepala-papua"), &stats)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Citizens and anonymous callers are no officers.
  EXPECT_EQ(Open("loket-1", Token("citizen", "", "warga")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Open("loket-1", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(QueueServiceTest, CallNextNeedsTheCallersOpenCounterAndSomeoneWaiting) {
  Ticket t;
  grpc::Status s = Next("loket-1", officer_, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("not open by you"));
  ASSERT_TRUE(Open("loket-1", officer_).ok());
  EXPECT_EQ(Next("loket-1", officer2_, &t).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  s = Next("loket-1", officer_, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("nobody is waiting"));
  Ticket issued = MustIssue("ktp");
  ASSERT_TRUE(Next("loket-1", officer_, &t).ok());
  EXPECT_EQ(t.id(), issued.id());
  EXPECT_EQ(t.status(), TICKET_STATUS_CALLED);
  EXPECT_EQ(t.counter_id(), "loket-1");
  EXPECT_EQ(t.counter_name(), "Loket loket-1");
  EXPECT_EQ(t.officer_id(), "petugas-1");
  MustIssue("ktp");
  s = Next("loket-1", officer_, &t);  // A-001 still CALLED
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("A-001"));
}

TEST_F(QueueServiceTest, PriorityClassesFirstThenLongestWaiting) {
  Ticket r1 = MustIssue("ktp");
  clock_.Advance(absl::Minutes(1));
  Ticket r2 = MustIssue("kk");
  clock_.Advance(absl::Minutes(1));
  Ticket elderly = MustIssue("ktp", PRIORITY_CLASS_ELDERLY);
  clock_.Advance(absl::Minutes(1));
  Ticket pregnant = MustIssue("kk", PRIORITY_CLASS_PREGNANT);
  EXPECT_EQ(elderly.position(), 1);             // ahead of the regular A-001
  ASSERT_TRUE(Open("loket-1", officer_).ok());  // priority, ktp + kk
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    Ticket t;
    ASSERT_TRUE(Next("loket-1", officer_, &t).ok());
    order.push_back(t.id());
    Ticket done;
    ASSERT_TRUE(Complete("loket-1", t.id(), officer_, &done).ok());
  }
  EXPECT_EQ(order, (std::vector<std::string>{elderly.id(), pregnant.id(),
                                             r1.id(), r2.id()}));
}

TEST_F(QueueServiceTest, CounterCallsOnlyTheServicesItServes) {
  MustIssue("kk");
  ASSERT_TRUE(Open("loket-2", officer_).ok());  // ktp only
  Ticket t;
  EXPECT_EQ(Next("loket-2", officer_, &t).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(QueueServiceTest, FiftyCountersCallingAtOnceNeverShareATicket) {
  constexpr int kCounters = 50, kTickets = 300;
  for (int i = 0; i < kTickets; ++i) {
    Ticket t;
    ASSERT_TRUE(
        Issue("ktp", &t, PRIORITY_CLASS_REGULAR, "", RequestId(), "kantor-b")
            .ok());
  }
  std::vector<std::string> tokens;
  for (int i = 1; i <= kCounters; ++i) {
    tokens.push_back(Token("officer", kAgency, absl::StrCat("bulk-off-", i)));
    ASSERT_TRUE(Open(absl::StrCat("bulk-", i), tokens.back()).ok());
  }
  absl::Mutex mu;
  std::vector<std::string> called;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCounters; ++i) {
    threads.emplace_back([&, i] {
      const std::string counter = absl::StrCat("bulk-", i + 1);
      QueueService::Stub* stub = replicas_[i % 2]->stub.get();
      while (true) {
        Ticket t;
        grpc::Status s = Next(counter, tokens[i], &t, stub);
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) return;
        if (!s.ok()) {
          ++errors;
          return;
        }
        {
          absl::MutexLock lock(&mu);
          called.push_back(t.id());
        }
        grpc::ClientContext ctx;
        Prepare(&ctx, tokens[i]);
        CompleteServiceRequest req;
        req.set_request_id(RequestId());
        req.set_counter_id(counter);
        req.set_ticket_id(t.id());
        req.set_outcome(SERVICE_OUTCOME_DONE);
        Ticket done;
        if (!stub->CompleteService(&ctx, req, &done).ok()) {
          ++errors;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(called.size(), static_cast<size_t>(kTickets));
  std::set<std::string> unique(called.begin(), called.end());
  EXPECT_EQ(unique.size(), called.size());
}

TEST_F(QueueServiceTest, RetriedCallNextReturnsTheSameTicket) {
  MustIssue("ktp");
  MustIssue("ktp");
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  const std::string id = RequestId();
  Ticket first, again;
  ASSERT_TRUE(Next("loket-2", officer_, &first, nullptr, id).ok());
  ASSERT_TRUE(Next("loket-2", officer_, &again, nullptr, id).ok());
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(first.number(), "A-001");
}

TEST_F(QueueServiceTest, RecallNoShowStartAndComplete) {
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  Ticket t;
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  ASSERT_TRUE(
      Act(&QueueService::Stub::Recall, "loket-2", a.id(), officer_, &t).ok());
  EXPECT_EQ(t.recall_count(), 1);
  // Acting on a ticket that is not the counter's current one.
  grpc::Status s =
      Act(&QueueService::Stub::MarkNoShow, "loket-2", b.id(), officer_, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(
      Act(&QueueService::Stub::MarkNoShow, "loket-2", a.id(), officer_, &t)
          .ok());
  EXPECT_EQ(t.status(), TICKET_STATUS_NO_SHOW);
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  EXPECT_EQ(t.id(), b.id());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(
      Act(&QueueService::Stub::StartService, "loket-2", b.id(), officer_, &t)
          .ok());
  EXPECT_EQ(t.status(), TICKET_STATUS_SERVING);
  // Recall needs a CALLED ticket.
  EXPECT_EQ(Act(&QueueService::Stub::Recall, "loket-2", b.id(), officer_, &t)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  clock_.Advance(absl::Minutes(6));
  Ticket done;
  grpc::ClientContext ctx;
  Prepare(&ctx, officer_);
  CompleteServiceRequest bad;
  bad.set_request_id(RequestId());
  bad.set_counter_id("loket-2");
  bad.set_ticket_id(b.id());
  EXPECT_EQ(stub_->CompleteService(&ctx, bad, &done).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // no outcome
  ASSERT_TRUE(Complete("loket-2", b.id(), officer_, &done,
                       SERVICE_OUTCOME_INCOMPLETE_REQUIREMENTS)
                  .ok());
  EXPECT_EQ(done.status(), TICKET_STATUS_COMPLETED);
  EXPECT_EQ(done.outcome(), SERVICE_OUTCOME_INCOMPLETE_REQUIREMENTS);
  EXPECT_EQ(done.end_time().seconds() - done.service_start_time().seconds(),
            360);
}

TEST_F(QueueServiceTest, TransferKeepsTheOriginalWait) {
  Ticket a = MustIssue("ktp");
  clock_.Advance(absl::Minutes(10));
  Ticket later = MustIssue("kk");  // waits in kk, issued after a
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  Ticket t;
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  ASSERT_EQ(t.id(), a.id());
  clock_.Advance(absl::Minutes(3));
  grpc::ClientContext ctx;
  Prepare(&ctx, officer_);
  TransferTicketRequest req;
  req.set_request_id(RequestId());
  req.set_counter_id("loket-2");
  req.set_ticket_id(a.id());
  req.set_to_service_id("kk");
  Ticket moved;
  ASSERT_TRUE(stub_->TransferTicket(&ctx, req, &moved).ok());
  EXPECT_EQ(moved.status(), TICKET_STATUS_WAITING);
  EXPECT_EQ(moved.service_id(), "kk");
  EXPECT_EQ(moved.number(), "A-001");
  EXPECT_EQ(moved.transfer_count(), 1);
  EXPECT_EQ(moved.wait_start_time().seconds(), a.issue_time().seconds());
  EXPECT_EQ(moved.position(), 1);  // ahead of the kk ticket issued later
  ASSERT_TRUE(Open("loket-3", officer2_).ok());
  ASSERT_TRUE(Next("loket-3", officer2_, &t).ok());
  EXPECT_EQ(t.id(), a.id());
  ASSERT_TRUE(Next("loket-2", officer_, &t).error_code() ==
              grpc::StatusCode::NOT_FOUND);
  (void)later;
}

TEST_F(QueueServiceTest, TransferToACounterOnlyThatCounterCalls) {
  Ticket a = MustIssue("ktp");
  MustIssue("kk");
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  Ticket t;
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  auto transfer = [&](const std::string& to_counter, const std::string& to_svc,
                      Ticket* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, officer_);
    TransferTicketRequest req;
    req.set_request_id(RequestId());
    req.set_counter_id("loket-2");
    req.set_ticket_id(a.id());
    if (!to_counter.empty()) req.set_to_counter_id(to_counter);
    if (!to_svc.empty()) req.set_to_service_id(to_svc);
    return stub_->TransferTicket(&ctx, req, out);
  };
  Ticket moved;
  EXPECT_EQ(transfer("", "", &moved).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(transfer("loket-2", "", &moved).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(transfer("papua-1", "", &moved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(transfer("", "akta", &moved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // not served here
  ASSERT_TRUE(transfer("loket-3", "", &moved).ok());
  EXPECT_EQ(moved.target_counter_id(), "loket-3");
  // loket-3 serves kk; the transferred ktp ticket comes before the kk one.
  ASSERT_TRUE(Open("loket-3", officer2_).ok());
  ASSERT_TRUE(Next("loket-3", officer2_, &t).ok());
  EXPECT_EQ(t.id(), a.id());
}

// ---- expiry and statistics ----

TEST_F(QueueServiceTest, WaitingTicketsExpireAtClosingTime) {
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  Ticket called;
  ASSERT_TRUE(Next("loket-2", officer_, &called).ok());
  clock_.Advance(absl::Hours(7) + absl::Minutes(1));  // 16:01 WIB
  Ticket out;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    ASSERT_TRUE(Get(b.id(), b.receipt_secret(), &out).ok());
    if (out.status() == TICKET_STATUS_EXPIRED) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  EXPECT_EQ(out.status(), TICKET_STATUS_EXPIRED);
  ASSERT_TRUE(Get(a.id(), a.receipt_secret(), &out).ok());
  EXPECT_EQ(out.status(), TICKET_STATUS_CALLED);  // called tickets stay
  QueueStats stats;
  ASSERT_TRUE(
      Stats("kantor-a", absl::CivilDay(2026, 11, 23), supervisor_, &stats)
          .ok());
  EXPECT_EQ(stats.expired(), 1);  // once, though two replicas sweep
  EXPECT_EQ(stats.waiting_now(), 0);
}

TEST_F(QueueServiceTest, StatsCountTheDay) {
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  // A waits 4 min and is served 5 min; B waits 14 min (beyond the 10-minute
  // target) and does not show; C is cancelled; D still waits.
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  Ticket c = MustIssue("ktp");
  Ticket d = MustIssue("ktp");
  clock_.Advance(absl::Minutes(4));
  Ticket t;
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  ASSERT_TRUE(
      Act(&QueueService::Stub::StartService, "loket-2", a.id(), officer_, &t)
          .ok());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(Complete("loket-2", a.id(), officer_, &t).ok());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  ASSERT_TRUE(
      Act(&QueueService::Stub::MarkNoShow, "loket-2", b.id(), officer_, &t)
          .ok());
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    CancelTicketRequest req;
    req.set_request_id(RequestId());
    req.set_ticket_id(c.id());
    req.set_receipt_secret(c.receipt_secret());
    ASSERT_TRUE(stub_->CancelTicket(&ctx, req, &t).ok());
  }
  QueueStats s;
  ASSERT_TRUE(
      Stats("kantor-a", absl::CivilDay(2026, 11, 23), supervisor_, &s).ok());
  EXPECT_EQ(s.issued(), 4);
  EXPECT_EQ(s.called(), 2);
  EXPECT_EQ(s.served(), 1);
  EXPECT_EQ(s.no_shows(), 1);
  EXPECT_EQ(s.cancelled(), 1);
  EXPECT_EQ(s.waiting_now(), 1);
  EXPECT_DOUBLE_EQ(s.wait_seconds_mean(), (240 + 840) / 2.0);
  EXPECT_DOUBLE_EQ(s.within_target_share(), 0.5);
  EXPECT_DOUBLE_EQ(s.service_seconds_mean(), 300);
  EXPECT_GE(s.wait_seconds_p90(), 780);
  EXPECT_LE(s.wait_seconds_p50(), 840);
  ASSERT_EQ(s.counters_size(), 1);
  EXPECT_EQ(s.counters(0).id(), "loket-2");
  EXPECT_EQ(s.counters(0).served(), 1);
  ASSERT_EQ(s.officers_size(), 1);
  EXPECT_EQ(s.officers(0).id(), "petugas-1");
  // The service filter, and another day.
  QueueStats kk;
  ASSERT_TRUE(
      Stats("kantor-a", absl::CivilDay(2026, 11, 23), supervisor_, &kk, "kk")
          .ok());
  EXPECT_EQ(kk.issued(), 0);
  QueueStats other;
  ASSERT_TRUE(
      Stats("kantor-a", absl::CivilDay(2026, 11, 22), supervisor_, &other)
          .ok());
  EXPECT_EQ(other.issued(), 0);
  // Officers may not read statistics.
  EXPECT_EQ(Stats("kantor-a", absl::CivilDay(2026, 11, 23), officer_, &other)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  (void)d;
}

TEST_F(QueueServiceTest, EstimateLearnsFromServedTickets) {
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  // Serve eight tickets at 2 minutes each: the service's recent pace, with
  // enough samples to be trusted over the target time.
  for (int i = 0; i < 8; ++i) {
    Ticket t = MustIssue("ktp");
    Ticket called, done;
    ASSERT_TRUE(Next("loket-2", officer_, &called).ok());
    clock_.Advance(absl::Minutes(2));
    ASSERT_TRUE(Complete("loket-2", t.id(), officer_, &done).ok());
  }
  std::vector<Ticket> waiting;
  for (int i = 0; i < 5; ++i) waiting.push_back(MustIssue("ktp"));
  const Ticket& fifth = waiting.back();
  EXPECT_EQ(fifth.position(), 5);
  EXPECT_EQ(fifth.open_counters(), 1);
  // Far below the naive 5 x 10 minutes of the target time.
  EXPECT_LT(fifth.estimated_wait_seconds(), 20 * 60);
  EXPECT_GT(fifth.estimated_wait_seconds(), 4 * 60);
}

TEST_F(QueueServiceTest, EventsAnnounceEveryChange) {
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  Ticket a = MustIssue("ktp");
  Ticket t;
  ASSERT_TRUE(Next("loket-2", officer_, &t).ok());
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(Complete("loket-2", a.id(), officer_, &t).ok());
  SyncRedis redis(env_->redis().endpoint(), absl::Seconds(2));
  auto entries = redis.Command({"XRANGE", EventStreamKey("queue"), "-", "+"});
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::vector<std::string> types;
  events::v1::TicketServiceCompleted completed;
  for (const RedisValue& e : entries->elements) {
    const RedisValue& fields = e.elements[1];
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str != "envelope") continue;
      events::v1::EventEnvelope env;
      ASSERT_TRUE(env.ParseFromString(fields.elements[i + 1].str));
      types.push_back(env.type());
      EXPECT_EQ(env.agency(), kAgency);
      if (env.type() == "ticket.service_completed") {
        ASSERT_TRUE(env.payload().UnpackTo(&completed));
      }
    }
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ticket.issued", "ticket.called",
                                             "ticket.service_completed"}));
  EXPECT_EQ(completed.ticket_id(), a.id());
  EXPECT_EQ(completed.office_id(), "kantor-a");
  EXPECT_EQ(completed.service_id(), "ktp");
  EXPECT_EQ(completed.counter_id(), "loket-2");
  EXPECT_EQ(completed.officer_id(), "petugas-1");
  EXPECT_EQ(completed.service_seconds(), 180);
  EXPECT_EQ(completed.outcome(), "DONE");
  EXPECT_EQ(completed.local_date().day(), 23);
  // The survey of this visit is answered with the ticket's receipt secret.
  EXPECT_EQ(completed.receipt_secret_sha256(), Sha256Hex(a.receipt_secret()));
}

// ---- live streams through the adapter ----

TEST_F(QueueServiceTest, BoardOnOneReplicaSeesCallsThroughTheOther) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  WatchOfficeRequest req;
  req.set_office_id("kantor-a");
  auto reader = replicas_[0]->stub->WatchOffice(&ctx, req);
  BoardUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.kind(), BoardUpdate::KIND_SNAPSHOT);
  Ticket t = MustIssue("ktp");
  ASSERT_TRUE(
      Open("loket-2", officer_, nullptr, replicas_[1]->stub.get()).ok());
  Ticket called;
  ASSERT_TRUE(
      Next("loket-2", officer_, &called, replicas_[1]->stub.get()).ok());
  bool saw_call = false;
  while (!saw_call && reader->Read(&update)) {
    if (update.kind() != BoardUpdate::KIND_CALL) continue;
    ASSERT_EQ(update.calls_size(), 1);
    EXPECT_EQ(update.calls(0).ticket_number(), t.number());
    EXPECT_EQ(update.calls(0).counter_name(), "Loket loket-2");
    saw_call = true;
  }
  EXPECT_TRUE(saw_call);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(QueueServiceTest, WatchStreamsCheckTheirRequest) {
  {
    grpc::ClientContext ctx;
    WatchOfficeRequest req;
    req.set_office_id("no-such-office");
    auto reader = stub_->WatchOffice(&ctx, req);
    BoardUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    WatchOfficeRequest req;
    req.set_office_id("Bad Id");
    auto reader = stub_->WatchOffice(&ctx, req);
    BoardUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    EXPECT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  Ticket a = MustIssue("ktp");
  Ticket b = MustIssue("ktp");
  {
    grpc::ClientContext ctx;
    WatchTicketRequest req;
    req.set_ticket_id(a.id());
    req.set_receipt_secret(b.receipt_secret());
    auto reader = stub_->WatchTicket(&ctx, req);
    TicketUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    EXPECT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    WatchTicketRequest req;
    req.set_ticket_id(a.id());
    req.set_receipt_secret(a.receipt_secret());
    auto reader = stub_->WatchTicket(&ctx, req);
    TicketUpdate update;
    ASSERT_TRUE(reader->Read(&update));
    EXPECT_EQ(update.kind(), TicketUpdate::KIND_SNAPSHOT);
    EXPECT_EQ(update.ticket().number(), "A-001");
    EXPECT_TRUE(update.ticket().receipt_secret().empty());
    ctx.TryCancel();
    reader->Finish();
  }
}

// ---- appointments ----

class QueueAppointmentTest : public QueueServiceTest {
 protected:
  static absl::Time Wib(int day, int hour, int minute) {
    return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, minute, 0),
                           absl::FixedTimeZone(7 * 3600));
  }

  grpc::Status Slots(int day, ListAvailableSlotsResponse* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    ListAvailableSlotsRequest req;
    req.set_office_id("kantor-a");
    req.set_service_id("ktp");
    req.mutable_date()->set_year(2026);
    req.mutable_date()->set_month(11);
    req.mutable_date()->set_day(day);
    return stub_->ListAvailableSlots(&ctx, req, out);
  }

  grpc::Status Book(absl::Time slot, Appointment* out,
                    const std::string& request_id = RequestId()) {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_office_id("kantor-a");
    req.set_service_id("ktp");
    *req.mutable_slot_start_time() = ToProtoTime(slot);
    return stub_->BookAppointment(&ctx, req, out);
  }

  grpc::Status CheckIn(const Appointment& a, Ticket* out,
                       const std::string& secret = "") {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    CheckInRequest req;
    req.set_request_id(RequestId());
    req.set_appointment_id(a.id());
    req.set_receipt_secret(secret.empty() ? a.receipt_secret() : secret);
    return stub_->CheckIn(&ctx, req, out);
  }
};

TEST_F(QueueAppointmentTest, SlotsFollowOpeningHoursAndBookings) {
  ListAvailableSlotsResponse slots;
  ASSERT_TRUE(Slots(24, &slots).ok());
  // 08:00-16:00 in 30-minute slots of 2 places (the defaults).
  ASSERT_EQ(slots.slots_size(), 16);
  EXPECT_EQ(ToAbslTime(slots.slots(0).start_time()), Wib(24, 8, 0));
  EXPECT_EQ(ToAbslTime(slots.slots(15).end_time()), Wib(24, 16, 0));
  EXPECT_EQ(slots.slots(0).capacity(), 2);
  EXPECT_EQ(slots.slots(0).available(), 2);
  EXPECT_EQ(slots.settings().slot_minutes(), 30);
  Appointment a;
  ASSERT_TRUE(Book(Wib(24, 8, 0), &a).ok());
  ListAvailableSlotsResponse after;
  ASSERT_TRUE(Slots(24, &after).ok());
  EXPECT_EQ(after.slots(0).booked(), 1);
  EXPECT_EQ(after.slots(0).available(), 1);
  // Today's slots that already started have no places left.
  ListAvailableSlotsResponse today;
  ASSERT_TRUE(Slots(23, &today).ok());
  EXPECT_EQ(today.slots(0).available(), 0);  // 08:00, it is 09:00
  EXPECT_EQ(today.slots(4).available(), 2);  // 10:00
  ListAvailableSlotsResponse bad;
  grpc::ClientContext ctx;
  ListAvailableSlotsRequest req;
  req.set_office_id("kantor-a");
  req.set_service_id("ktp");
  EXPECT_EQ(stub_->ListAvailableSlots(&ctx, req, &bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(QueueAppointmentTest, BookingChecksTheSlotAndItsCapacity) {
  Appointment a, again, b, c;
  const std::string id = RequestId();
  ASSERT_TRUE(Book(Wib(24, 10, 0), &a, id).ok());
  EXPECT_EQ(a.status(), APPOINTMENT_STATUS_BOOKED);
  EXPECT_EQ(a.receipt_secret().size(), 32u);
  EXPECT_EQ(ToAbslTime(a.slot_end_time()), Wib(24, 10, 30));
  EXPECT_EQ(a.local_date().day(), 24);
  ASSERT_TRUE(Book(Wib(24, 10, 0), &again, id).ok());  // a retry
  EXPECT_EQ(again.id(), a.id());
  ASSERT_TRUE(Book(Wib(24, 10, 0), &b).ok());
  {
    // GetAppointment: its own secret, the agency's staff; not another secret.
    auto get = [&](const std::string& secret, const std::string& token,
                   Appointment* out) {
      grpc::ClientContext ctx;
      Prepare(&ctx, token);
      GetAppointmentRequest req;
      req.set_appointment_id(a.id());
      req.set_receipt_secret(secret);
      return stub_->GetAppointment(&ctx, req, out);
    };
    Appointment read;
    ASSERT_TRUE(get(a.receipt_secret(), "", &read).ok());
    EXPECT_EQ(read.status(), APPOINTMENT_STATUS_BOOKED);
    EXPECT_TRUE(read.receipt_secret().empty());
    EXPECT_TRUE(get("", officer_, &read).ok());
    EXPECT_EQ(get(b.receipt_secret(), "", &read).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(get("", Token("officer", kOtherAgency, "x"), &read).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  grpc::Status s = Book(Wib(24, 10, 0), &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("full"));
  EXPECT_EQ(testing::ReplyErrorInfo(s).reason(), "SLOT_FULL");
  EXPECT_EQ(Book(Wib(24, 10, 10), &c).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // not a slot start
  EXPECT_EQ(Book(Wib(23, 8, 0), &c).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // past
  EXPECT_EQ(Book(Wib(23, 8, 0) + absl::Hours(24 * 20), &c).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // beyond 14 days
  // Timestamps at the ends of int64 are refused at once (they used to hang
  // the server in an endless slot enumeration).
  for (int64_t seconds : {std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max()}) {
    grpc::ClientContext extreme;
    Prepare(&extreme, "");
    extreme.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
    BookAppointmentRequest req;
    req.set_request_id(RequestId());
    req.set_office_id("kantor-a");
    req.set_service_id("ktp");
    req.mutable_slot_start_time()->set_seconds(seconds);
    grpc::Status status = stub_->BookAppointment(&extreme, req, &c);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                StartsWith("slot_start_time.seconds: "));
  }
  // Cancelling frees the place; the secret of another booking can't.
  grpc::ClientContext ctx;
  Prepare(&ctx, "");
  CancelAppointmentRequest req;
  req.set_request_id(RequestId());
  req.set_appointment_id(a.id());
  req.set_receipt_secret(b.receipt_secret());
  Appointment out;
  EXPECT_EQ(stub_->CancelAppointment(&ctx, req, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ctx2;
  Prepare(&ctx2, "");
  req.set_receipt_secret(a.receipt_secret());
  ASSERT_TRUE(stub_->CancelAppointment(&ctx2, req, &out).ok());
  EXPECT_EQ(out.status(), APPOINTMENT_STATUS_CANCELLED);
  EXPECT_TRUE(Book(Wib(24, 10, 0), &c).ok());
}

TEST_F(QueueAppointmentTest, OnTimeCheckInIsCalledAtItsSlotAheadOfWalkIns) {
  Appointment a;
  ASSERT_TRUE(Book(Wib(23, 10, 0), &a).ok());
  Ticket walk_in = MustIssue("ktp");  // 09:00
  Ticket t;
  grpc::Status early = CheckIn(a, &t);  // 60 minutes early is the limit
  ASSERT_TRUE(early.ok()) << early.error_message();
  EXPECT_EQ(t.priority_class(), PRIORITY_CLASS_APPOINTMENT);
  EXPECT_EQ(t.appointment_id(), a.id());
  EXPECT_EQ(ToAbslTime(t.wait_start_time()), Wib(23, 10, 0));
  EXPECT_EQ(t.number(), "A-002");
  EXPECT_EQ(CheckIn(a, &t).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // already checked in
  ASSERT_TRUE(Open("loket-2", officer_).ok());
  // Before its slot the appointment waits behind the walk-in...
  Ticket called, done;
  ASSERT_TRUE(Next("loket-2", officer_, &called).ok());
  EXPECT_EQ(called.id(), walk_in.id());
  ASSERT_TRUE(Complete("loket-2", called.id(), officer_, &done).ok());
  // ...from its slot on, it goes ahead of walk-ins who came earlier.
  Ticket walk_in2 = MustIssue("ktp");
  clock_.Set(Wib(23, 10, 0));
  ASSERT_TRUE(Next("loket-2", officer_, &called).ok());
  EXPECT_EQ(called.appointment_id(), a.id());
  // The appointment's secret opens the ticket.
  Ticket read;
  EXPECT_TRUE(Get(called.id(), a.receipt_secret(), &read).ok());
  (void)walk_in2;
}

TEST_F(QueueAppointmentTest, LateCheckInBecomesAWalkInAndTooEarlyIsRefused) {
  Appointment late, early;
  ASSERT_TRUE(Book(Wib(23, 9, 30), &late).ok());
  ASSERT_TRUE(Book(Wib(23, 12, 0), &early).ok());
  Ticket t;
  grpc::Status s = CheckIn(early, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CheckIn(late, &t, early.receipt_secret()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  clock_.Set(Wib(23, 9, 46));  // grace 15 minutes: late
  ASSERT_TRUE(CheckIn(late, &t).ok());
  EXPECT_EQ(t.priority_class(), PRIORITY_CLASS_REGULAR);
  EXPECT_EQ(ToAbslTime(t.wait_start_time()), Wib(23, 9, 46));
}

TEST_F(QueueAppointmentTest, SettingsAreForManagersOfTheAgency) {
  auto update = [&](const std::string& token, int capacity) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    UpdateAppointmentSettingsRequest req;
    req.set_request_id(RequestId());
    req.mutable_settings()->set_office_id("kantor-a");
    req.mutable_settings()->set_service_id("ktp");
    req.mutable_settings()->set_slot_minutes(60);
    req.mutable_settings()->set_capacity_per_slot(capacity);
    AppointmentSettings out;
    return stub_->UpdateAppointmentSettings(&ctx, req, &out);
  };
  EXPECT_EQ(update(officer_, 3).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(update(Token("supervisor", kOtherAgency, "x"), 3).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(update(supervisor_, 5000).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(update(supervisor_, 3).ok());
  ListAvailableSlotsResponse slots;
  ASSERT_TRUE(Slots(24, &slots).ok());
  ASSERT_EQ(slots.slots_size(), 8);
  EXPECT_EQ(slots.slots(0).capacity(), 3);
  ASSERT_TRUE(update(supervisor_, 0).ok());  // appointments off
  Appointment a;
  EXPECT_EQ(Book(Wib(24, 8, 0), &a).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace prima
