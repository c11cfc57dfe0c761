// ComplaintService against a real redis-server through the real RedisClient
// and real gRPC servers (two replicas, the directory applied through the real
// DirectoryService), on a fake clock: the lifecycle and every illegal move,
// forwarding between agencies, working-day deadlines over a weekend and a
// holiday, the overdue sweeper on two replicas, auto-close, idempotent
// filing, privacy through every RPC that returns a complaint, lists and
// statistics.
#include "services/complaint/complaint_service.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/complaint/v1/complaint.grpc.pb.h"
#include "prima/events/v1/events.pb.h"
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

using namespace ::prima::complaint::v1;  // NOLINT
namespace cat = ::prima::catalog::v1;
using ::prima::testing::TestServer;
using ::testing::HasSubstr;

constexpr char kAgency[] = "dukcapil";
constexpr char kOtherAgency[] = "samsat";

const absl::TimeZone& Wib() {
  static const absl::TimeZone zone = absl::FixedTimeZone(7 * 3600);
  return zone;
}

absl::Time Wib(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), Wib());
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
                        const std::string& zone) -> cat::Office* {
    cat::Office* o = d.add_offices();
    o->set_id(id);
    o->set_agency_id(agency);
    o->set_name(absl::StrCat("Office ", id));
    o->set_time_zone(zone);
    for (int day = 1; day <= 5; ++day) {
      cat::OpeningInterval* i = o->add_opening_hours();
      i->set_weekday(static_cast<cat::Weekday>(day));
      i->set_open_minute(8 * 60);
      i->set_close_minute(16 * 60);
    }
    return o;
  };
  // Tuesday 2026-11-24 is a holiday at kantor-a.
  cat::Office* a = add_office("kantor-a", kAgency, "Asia/Jakarta");
  prima::common::v1::LocalDate* holiday = a->add_holidays();
  holiday->set_year(2026);
  holiday->set_month(11);
  holiday->set_day(24);
  add_office("kantor-b", kAgency, "Asia/Jakarta");
  add_office("kantor-papua", kOtherAgency, "Asia/Jayapura");
  cat::PublicService* s = d.add_public_services();
  s->set_id("ktp");
  s->set_agency_id(kAgency);
  s->set_name("Layanan KTP");
  s->set_ticket_prefix("A");
  s->set_target_waiting_minutes(10);
  s->mutable_standard()->mutable_completion_time()->set_value(1);
  s->mutable_standard()->mutable_completion_time()->set_unit(
      cat::CompletionTime::UNIT_DAYS);
  auto add_officer = [&](const std::string& id, const std::string& agency,
                         const std::string& office) {
    cat::Officer* o = d.add_officers();
    o->set_id(id);
    o->set_agency_id(agency);
    o->set_office_id(office);
    o->set_name(absl::StrCat("Petugas ", id));
    o->set_nip("198503302010011005");
    o->set_position("Staf");
    o->set_front_line(true);
  };
  add_officer("petugas-1", kAgency, "kantor-a");
  add_officer("petugas-2", kAgency, "kantor-b");
  add_officer("petugas-papua", kOtherAgency, "kantor-papua");
  return d;
}

struct Replica {
  ServiceBundle bundle;
  std::unique_ptr<TestServer> server;
  std::unique_ptr<ComplaintService::Stub> stub;
};

Complaint NewComplaint(Category category = CATEGORY_SERVICE_RELATED) {
  Complaint c;
  c.set_agency_id(kAgency);
  c.set_office_id("kantor-a");
  c.set_service_id("ktp");
  c.set_classification(CLASSIFICATION_PENGADUAN);
  c.set_category(category);
  c.set_title("Antrian KTP terlalu lama");
  c.set_description("Saya menunggu lebih dari tiga jam tanpa kejelasan.");
  c.set_channel(CHANNEL_MOBILE);
  return c;
}

class ComplaintServiceTest : public ::testing::Test {
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
    citizen_ = Token("citizen", "", "warga-1");
    officer_ = Token("officer", kAgency, "petugas-1");
    supervisor_ = Token("supervisor", kAgency, "kepala-1");
    admin_ = Token("agency_admin", kAgency, "admin-1");
    other_officer_ = Token("officer", kOtherAgency, "petugas-papua");
    other_supervisor_ = Token("supervisor", kOtherAgency, "kepala-papua");
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
    complaint::ComplaintOptions options;
    options.sweep_interval = absl::Milliseconds(50);
    auto bundle = complaint::MakeComplaintService(env_->environment(), options);
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    auto replica = std::make_unique<Replica>();
    replica->bundle = std::move(*bundle);
    auto server = TestServer::Start({replica->bundle.services[0].get()});
    ASSERT_TRUE(server.ok()) << server.status();
    replica->server = std::move(*server);
    replica->stub = ComplaintService::NewStub(replica->server->NewChannel());
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

  // Any unary RPC of the service with a token.
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (ComplaintService::Stub::*rpc)(
                        grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, const std::string& token, Resp* out,
                    ComplaintService::Stub* stub = nullptr) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    return ((stub ? stub : stub_)->*rpc)(&ctx, req, out);
  }

  grpc::Status File(const Complaint& c, const std::string& token,
                    Complaint* out,
                    const std::string& request_id = NewRequestId()) {
    FileComplaintRequest req;
    req.set_request_id(request_id);
    *req.mutable_complaint() = c;
    return Call(&ComplaintService::Stub::FileComplaint, req, token, out);
  }

  Complaint MustFile(const Complaint& c = NewComplaint(),
                     const std::string& token = "") {
    Complaint out;
    grpc::Status s = File(c, token, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Get(const std::string& tracking, const std::string& secret,
                   const std::string& token, Complaint* out) {
    GetComplaintRequest req;
    req.set_tracking_number(tracking);
    req.set_receipt_secret(secret);
    return Call(&ComplaintService::Stub::GetComplaint, req, token, out);
  }

  grpc::Status Verify(const std::string& tracking, const std::string& token,
                      Complaint* out = nullptr,
                      const std::string& request_id = NewRequestId()) {
    TransitionRequest req;
    req.set_request_id(request_id);
    req.set_tracking_number(tracking);
    Complaint ignored;
    return Call(&ComplaintService::Stub::Verify, req, token,
                out ? out : &ignored);
  }

  grpc::Status StartWork(const std::string& tracking, const std::string& token,
                         Complaint* out = nullptr) {
    TransitionRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    Complaint ignored;
    return Call(&ComplaintService::Stub::StartWork, req, token,
                out ? out : &ignored);
  }

  grpc::Status Reject(const std::string& tracking, const std::string& token,
                      const std::string& reason, bool not_in_authority,
                      Complaint* out = nullptr) {
    RejectRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_reason(reason);
    req.set_not_in_authority(not_in_authority);
    Complaint ignored;
    return Call(&ComplaintService::Stub::Reject, req, token,
                out ? out : &ignored);
  }

  grpc::Status Forward(const std::string& tracking, const std::string& token,
                       const std::string& to_agency,
                       const std::string& to_office, Complaint* out = nullptr,
                       const std::string& request_id = NewRequestId()) {
    ForwardRequest req;
    req.set_request_id(request_id);
    req.set_tracking_number(tracking);
    req.set_to_agency_id(to_agency);
    req.set_to_office_id(to_office);
    req.set_note("bukan wewenang kami, diteruskan");
    Complaint ignored;
    return Call(&ComplaintService::Stub::Forward, req, token,
                out ? out : &ignored);
  }

  grpc::Status Assign(const std::string& tracking, const std::string& token,
                      const std::string& officer, const std::string& office,
                      Complaint* out = nullptr) {
    AssignRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_officer_id(officer);
    req.set_office_id(office);
    Complaint ignored;
    return Call(&ComplaintService::Stub::Assign, req, token,
                out ? out : &ignored);
  }

  grpc::Status Resolve(const std::string& tracking, const std::string& token,
                       Complaint* out = nullptr) {
    ResolveRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_resolution("Loket tambahan dibuka mulai minggu ini.");
    Complaint ignored;
    return Call(&ComplaintService::Stub::Resolve, req, token,
                out ? out : &ignored);
  }

  grpc::Status Comment(const std::string& tracking, const std::string& token,
                       const std::string& text, bool internal,
                       Complaint* out = nullptr) {
    AddCommentRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_text(text);
    req.set_internal(internal);
    Complaint ignored;
    return Call(&ComplaintService::Stub::AddComment, req, token,
                out ? out : &ignored);
  }

  grpc::Status Respond(const std::string& tracking, const std::string& secret,
                       bool accept, const std::string& reason,
                       Complaint* out = nullptr,
                       const std::string& token = "") {
    RespondToResolutionRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_receipt_secret(secret);
    req.set_accept(accept);
    req.set_reason(reason);
    Complaint ignored;
    return Call(&ComplaintService::Stub::RespondToResolution, req, token,
                out ? out : &ignored);
  }

  grpc::Status Rate(const std::string& tracking, const std::string& secret,
                    int rating, Complaint* out = nullptr) {
    RateResolutionRequest req;
    req.set_request_id(NewRequestId());
    req.set_tracking_number(tracking);
    req.set_receipt_secret(secret);
    req.set_rating(rating);
    Complaint ignored;
    return Call(&ComplaintService::Stub::RateResolution, req, "",
                out ? out : &ignored);
  }

  grpc::Status List(const ListComplaintsRequest& req, const std::string& token,
                    ListComplaintsResponse* out) {
    return Call(&ComplaintService::Stub::ListComplaints, req, token, out);
  }

  std::vector<std::string> ListTracking(const std::string& agency,
                                        const std::string& token) {
    ListComplaintsRequest req;
    req.set_agency_id(agency);
    ListComplaintsResponse out;
    grpc::Status s = List(req, token, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> numbers;
    for (const Complaint& c : out.complaints()) {
      numbers.push_back(c.tracking_number());
    }
    return numbers;
  }

  // Verify, assign to petugas-1, start: IN_PROGRESS.
  void BringToWork(const std::string& tracking) {
    ASSERT_TRUE(Verify(tracking, officer_).ok());
    ASSERT_TRUE(Assign(tracking, officer_, "petugas-1", "").ok());
    ASSERT_TRUE(StartWork(tracking, officer_).ok());
  }

  // The envelopes on prima:events:complaint, in order.
  std::vector<events::v1::EventEnvelope> Events() {
    auto events = env_->redis().Events("complaint");
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *std::move(events)
                       : std::vector<events::v1::EventEnvelope>{};
  }

  int CountEvents(const std::string& type) {
    int n = 0;
    for (const auto& e : Events()) n += e.type() == type ? 1 : 0;
    return n;
  }

  // Waits (real time) until `type` was emitted `n` times; false on timeout.
  bool WaitForEvents(const std::string& type, int n) {
    for (int i = 0; i < 100; ++i) {
      if (CountEvents(type) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Whether any key or value in Redis holds `needle`.
  bool RedisHolds(const std::string& needle) {
    SyncRedis redis(env_->redis().endpoint(), absl::Seconds(2));
    auto keys = redis.Command({"KEYS", "*"});
    EXPECT_TRUE(keys.ok());
    if (!keys.ok()) return false;
    std::function<bool(const RedisValue&)> holds =
        [&](const RedisValue& v) -> bool {
      if (absl::StrContains(v.str, needle)) return true;
      for (const RedisValue& e : v.elements) {
        if (holds(e)) return true;
      }
      return false;
    };
    for (const RedisValue& key : keys->elements) {
      if (absl::StrContains(key.str, needle)) return true;
      auto type = redis.Command({"TYPE", key.str});
      if (!type.ok()) continue;
      absl::StatusOr<RedisValue> value;
      if (type->str == "string") {
        value = redis.Command({"GET", key.str});
      } else if (type->str == "hash") {
        value = redis.Command({"HGETALL", key.str});
      } else if (type->str == "list") {
        value = redis.Command({"LRANGE", key.str, "0", "-1"});
      } else if (type->str == "set") {
        value = redis.Command({"SMEMBERS", key.str});
      } else if (type->str == "zset") {
        value = redis.Command({"ZRANGE", key.str, "0", "-1"});
      } else if (type->str == "stream") {
        value = redis.Command({"XRANGE", key.str, "-", "+"});
      } else {
        continue;
      }
      if (value.ok() && holds(*value)) return true;
    }
    return false;
  }

  // Friday 2026-11-20 15:00 WIB.
  FakeClock clock_{Wib(2026, 11, 20, 15)};
  std::unique_ptr<testing::TestServiceEnv> env_;
  std::unique_ptr<testing::TestDirectory> directory_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  ComplaintService::Stub* stub_ = nullptr;
  std::string citizen_, officer_, supervisor_, admin_, other_officer_,
      other_supervisor_;
};

const Deadline* FindDeadline(const Complaint& c, DeadlineKind kind) {
  const Deadline* found = nullptr;
  for (const Deadline& d : c.deadlines()) {
    if (d.kind() == kind) found = &d;  // the latest
  }
  return found;
}

// ---- filing ----

TEST_F(ComplaintServiceTest, FilingGivesTrackingNumberSecretAndDeadline) {
  Complaint first = MustFile();
  EXPECT_EQ(first.tracking_number(), "DUKCAPIL-20261120-0001");
  EXPECT_EQ(first.status(), COMPLAINT_STATUS_SUBMITTED);
  EXPECT_EQ(first.receipt_secret().size(), 32u);
  EXPECT_EQ(first.id().size(), 26u);
  ASSERT_EQ(first.timeline_size(), 1);
  EXPECT_EQ(first.timeline(0).to_status(), COMPLAINT_STATUS_SUBMITTED);
  // Filed Friday afternoon; Saturday, Sunday and the Tuesday holiday do not
  // count: Monday 23, Wednesday 25, Thursday 26 -> due Friday 27 00:00 WIB.
  const Deadline* verify = FindDeadline(first, DEADLINE_KIND_VERIFY);
  ASSERT_NE(verify, nullptr);
  EXPECT_EQ(ToAbslTime(verify->due_time()), Wib(2026, 11, 27));
  EXPECT_FALSE(verify->has_met_time());
  Complaint second = MustFile();
  EXPECT_EQ(second.tracking_number(), "DUKCAPIL-20261120-0002");
  EXPECT_NE(second.receipt_secret(), first.receipt_secret());
  // The receipt secret opens it; the reply of a read carries no secret.
  Complaint read;
  ASSERT_TRUE(
      Get(first.tracking_number(), first.receipt_secret(), "", &read).ok());
  EXPECT_EQ(read.title(), first.title());
  EXPECT_TRUE(read.receipt_secret().empty());
}

TEST_F(ComplaintServiceTest, FilingIsIdempotentOnRequestId) {
  const std::string request_id = NewRequestId();
  Complaint a, b;
  ASSERT_TRUE(File(NewComplaint(), "", &a, request_id).ok());
  ASSERT_TRUE(File(NewComplaint(), "", &b, request_id).ok());
  EXPECT_EQ(a.tracking_number(), b.tracking_number());
  EXPECT_EQ(a.receipt_secret(), b.receipt_secret());
  EXPECT_EQ(CountEvents("complaint.filed"), 1);
  Complaint c = MustFile();
  EXPECT_EQ(c.tracking_number(), "DUKCAPIL-20261120-0002");
  EXPECT_EQ(CountEvents("complaint.filed"), 2);
}

TEST_F(ComplaintServiceTest, FilingIsRateLimitedPerCallerNotOnReplay) {
  env_->mutable_config().rate_limits =
      *RateLimitConfig::Parse("FileComplaint.caller=2/1m");
  const std::string request_id = NewRequestId();
  Complaint out;
  ASSERT_TRUE(File(NewComplaint(), "", &out, request_id).ok());
  ASSERT_TRUE(File(NewComplaint(), "", &out).ok());
  grpc::Status s = File(NewComplaint(), "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(testing::ReplyErrorInfo(s).reason(), "RATE_LIMITED");
  EXPECT_EQ(CountEvents("complaint.filed"), 2);
  // The first filing's retry still gets its complaint.
  EXPECT_TRUE(File(NewComplaint(), "", &out, request_id).ok());
}

TEST_F(ComplaintServiceTest, FilingRefusesBadInputNamingTheField) {
  Complaint out;
  Complaint c = NewComplaint();
  c.set_title("x");
  grpc::Status s = File(c, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("complaint.title"));

  c = NewComplaint();
  c.set_agency_id("tidak-ada");
  s = File(c, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("complaint.agency_id"));

  c = NewComplaint();
  c.set_office_id("kantor-papua");
  s = File(c, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("complaint.office_id"));

  c = NewComplaint();
  c.set_officer_id("petugas-papua");
  s = File(c, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("complaint.officer_id"));

  c = NewComplaint();
  c.set_anonymous(true);
  c.mutable_reporter_contact()->set_name("Budi");
  s = File(c, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("reporter_contact"));

  s = File(NewComplaint(), "", &out, "short");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));

  FileComplaintRequest empty;
  empty.set_request_id(NewRequestId());
  s = Call(&ComplaintService::Stub::FileComplaint, empty, "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("complaint"));
  EXPECT_EQ(CountEvents("complaint.filed"), 0);
}

// ---- the lifecycle ----

TEST_F(ComplaintServiceTest, FullLifecycleWithTimelineAndEvents) {
  Complaint c = MustFile(NewComplaint(), citizen_);
  const std::string tn = c.tracking_number();
  Complaint out;
  ASSERT_TRUE(Verify(tn, officer_, &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_VERIFIED);
  ASSERT_TRUE(Assign(tn, officer_, "petugas-1", "", &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_ASSIGNED);
  EXPECT_EQ(out.assigned_officer_id(), "petugas-1");
  ASSERT_TRUE(StartWork(tn, officer_, &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_IN_PROGRESS);
  clock_.Advance(absl::Hours(3));
  ASSERT_TRUE(Resolve(tn, officer_, &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_RESOLVED);
  EXPECT_EQ(out.resolution(), "Loket tambahan dibuka mulai minggu ini.");
  const Deadline* response = FindDeadline(out, DEADLINE_KIND_RESPONSE);
  ASSERT_NE(response, nullptr);
  // Resolved Friday 18:00 WIB: ten calendar days, due Tuesday 1 December.
  EXPECT_EQ(ToAbslTime(response->due_time()), Wib(2026, 12, 1));
  // The reporter by token (no secret needed) accepts and rates.
  ASSERT_TRUE(Respond(tn, "", true, "", &out, citizen_).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_CLOSED);
  ASSERT_TRUE(Rate(tn, c.receipt_secret(), 5, &out).ok());
  EXPECT_EQ(out.rating(), 5);

  Complaint read;
  ASSERT_TRUE(Get(tn, "", supervisor_, &read).ok());
  std::vector<std::pair<ComplaintStatus, ComplaintStatus>> moves;
  for (const TimelineEntry& e : read.timeline()) {
    moves.emplace_back(e.from_status(), e.to_status());
    EXPECT_TRUE(e.has_time());
  }
  EXPECT_EQ(moves,
            (std::vector<std::pair<ComplaintStatus, ComplaintStatus>>{
                {COMPLAINT_STATUS_UNSPECIFIED, COMPLAINT_STATUS_SUBMITTED},
                {COMPLAINT_STATUS_SUBMITTED, COMPLAINT_STATUS_VERIFIED},
                {COMPLAINT_STATUS_VERIFIED, COMPLAINT_STATUS_ASSIGNED},
                {COMPLAINT_STATUS_ASSIGNED, COMPLAINT_STATUS_IN_PROGRESS},
                {COMPLAINT_STATUS_IN_PROGRESS, COMPLAINT_STATUS_RESOLVED},
                {COMPLAINT_STATUS_RESOLVED, COMPLAINT_STATUS_CLOSED},
                {COMPLAINT_STATUS_CLOSED, COMPLAINT_STATUS_CLOSED}}));
  EXPECT_EQ(read.timeline(1).actor().subject(), "petugas-1");

  std::vector<std::string> types;
  events::v1::ComplaintResolved resolved;
  for (const auto& e : Events()) {
    types.push_back(e.type());
    EXPECT_EQ(e.agency(), kAgency);
    if (e.type() == "complaint.resolved") {
      ASSERT_TRUE(e.payload().UnpackTo(&resolved));
    }
  }
  EXPECT_EQ(types, (std::vector<std::string>{
                       "complaint.filed", "complaint.verified",
                       "complaint.assigned", "complaint.work_started",
                       "complaint.resolved", "complaint.closed"}));
  EXPECT_EQ(resolved.resolution_seconds(), 3 * 3600);
  EXPECT_TRUE(resolved.within_deadline());
  EXPECT_EQ(resolved.category(), "SERVICE_RELATED");
  EXPECT_EQ(resolved.receipt_secret_sha256(), Sha256Hex(c.receipt_secret()));
}

TEST_F(ComplaintServiceTest, EveryIllegalMoveIsRefusedWithTheStatus) {
  Complaint c = MustFile();
  const std::string tn = c.tracking_number();
  const std::string secret = c.receipt_secret();
  auto expect_refused = [](const grpc::Status& s, const std::string& status) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(status));
  };
  // SUBMITTED.
  expect_refused(Assign(tn, officer_, "petugas-1", ""), "SUBMITTED");
  expect_refused(StartWork(tn, officer_), "SUBMITTED");
  expect_refused(Resolve(tn, officer_), "SUBMITTED");
  expect_refused(Forward(tn, officer_, kOtherAgency, ""), "SUBMITTED");
  expect_refused(Respond(tn, secret, true, ""), "SUBMITTED");
  expect_refused(Rate(tn, secret, 4), "SUBMITTED");
  // VERIFIED.
  ASSERT_TRUE(Verify(tn, officer_).ok());
  expect_refused(Verify(tn, officer_), "VERIFIED");
  expect_refused(StartWork(tn, officer_), "VERIFIED");
  expect_refused(Resolve(tn, officer_), "VERIFIED");
  expect_refused(Reject(tn, officer_, "bukan urusan", false), "VERIFIED");
  // ASSIGNED.
  ASSERT_TRUE(Assign(tn, officer_, "", "kantor-b").ok());
  expect_refused(Resolve(tn, officer_), "ASSIGNED");
  expect_refused(Assign(tn, officer_, "petugas-1", ""), "ASSIGNED");
  // IN_PROGRESS.
  ASSERT_TRUE(StartWork(tn, officer_).ok());
  expect_refused(StartWork(tn, officer_), "IN_PROGRESS");
  expect_refused(Respond(tn, secret, false, "belum beres"), "IN_PROGRESS");
  // RESOLVED.
  ASSERT_TRUE(Resolve(tn, officer_).ok());
  expect_refused(Resolve(tn, officer_), "RESOLVED");
  expect_refused(Verify(tn, officer_), "RESOLVED");
  // CLOSED: final but for one rating.
  ASSERT_TRUE(Respond(tn, secret, true, "").ok());
  expect_refused(Respond(tn, secret, false, "lagi"), "CLOSED");
  expect_refused(Comment(tn, officer_, "tambahan", false), "CLOSED");
  ASSERT_TRUE(Rate(tn, secret, 3).ok());
  EXPECT_EQ(Rate(tn, secret, 4).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // REJECTED and NOT_IN_AUTHORITY are final.
  Complaint r = MustFile();
  grpc::Status s = Reject(r.tracking_number(), officer_, "", false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("reason"));
  Complaint out;
  ASSERT_TRUE(
      Reject(r.tracking_number(), officer_, "laporan tidak jelas", false, &out)
          .ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_REJECTED);
  expect_refused(Verify(r.tracking_number(), officer_), "REJECTED");
  Complaint n = MustFile();
  ASSERT_TRUE(
      Reject(n.tracking_number(), officer_, "urusan pusat", true, &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_NOT_IN_AUTHORITY);
  expect_refused(Forward(n.tracking_number(), officer_, kOtherAgency, ""),
                 "NOT_IN_AUTHORITY");
  EXPECT_EQ(CountEvents("complaint.rejected"), 2);
}

TEST_F(ComplaintServiceTest, WrongSideOfAMoveIsRefused) {
  Complaint c = MustFile(NewComplaint(), citizen_);
  const std::string tn = c.tracking_number();
  // The reporter cannot handle it; staff cannot answer for the reporter.
  grpc::Status s = Verify(tn, citizen_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  BringToWork(tn);
  ASSERT_TRUE(Resolve(tn, officer_).ok());
  s = Respond(tn, "", true, "", nullptr, officer_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A wrong secret is nobody.
  s = Respond(tn, "not-the-secret", true, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // Another agency's staff: as if it did not exist.
  s = Comment(tn, other_officer_, "halo", false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // Assignees must be of the agency.
  Complaint d = MustFile();
  ASSERT_TRUE(Verify(d.tracking_number(), officer_).ok());
  s = Assign(d.tracking_number(), officer_, "petugas-papua", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("officer_id"));
  s = Assign(d.tracking_number(), officer_, "petugas-1", "kantor-a");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Anonymous callers cannot use staff RPCs at all.
  s = Verify(d.tracking_number(), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ComplaintServiceTest, ReopenRunsANewFollowUpAndTheLatestWindow) {
  Complaint c = MustFile();
  const std::string tn = c.tracking_number();
  BringToWork(tn);
  ASSERT_TRUE(Resolve(tn, officer_).ok());
  clock_.Set(Wib(2026, 11, 25, 10));  // Wednesday
  grpc::Status s = Respond(tn, c.receipt_secret(), false, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Complaint out;
  ASSERT_TRUE(
      Respond(tn, c.receipt_secret(), false, "loket masih satu", &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_REOPENED);
  // A new follow-up from the reopening: Thu 26, Fri 27, Mon 30, Tue 1,
  // Wed 2 -> due Thursday 3 December 00:00 WIB.
  const Deadline* follow_up = FindDeadline(out, DEADLINE_KIND_FOLLOW_UP);
  ASSERT_NE(follow_up, nullptr);
  EXPECT_EQ(ToAbslTime(follow_up->due_time()), Wib(2026, 12, 3));
  EXPECT_FALSE(follow_up->has_met_time());
  ASSERT_TRUE(Assign(tn, officer_, "petugas-1", "").ok());
  ASSERT_TRUE(StartWork(tn, officer_).ok());
  clock_.Set(Wib(2026, 12, 2, 10));
  ASSERT_TRUE(Resolve(tn, officer_).ok());
  // The first window (to 1 December) has passed; the second is open.
  ASSERT_TRUE(Respond(tn, c.receipt_secret(), true, "", &out).ok());
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_CLOSED);
  EXPECT_EQ(CountEvents("complaint.reopened"), 1);
  EXPECT_EQ(CountEvents("complaint.resolved"), 2);
}

TEST_F(ComplaintServiceTest, SilentReporterIsClosedWhenTheWindowPasses) {
  Complaint c = MustFile();
  Complaint other = MustFile();
  const std::string tn = c.tracking_number();
  for (const Complaint& each : {c, other}) {
    BringToWork(each.tracking_number());
    ASSERT_TRUE(Resolve(each.tracking_number(), officer_).ok());
  }
  // Resolved Friday 20 November: the window ends 1 December 00:00 WIB.
  clock_.Set(Wib(2026, 11, 30, 23, 59));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CountEvents("complaint.closed"), 0);
  clock_.Set(Wib(2026, 12, 1, 0, 0, 1));
  ASSERT_TRUE(WaitForEvents("complaint.closed", 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Two replicas sweeping: each complaint closed once.
  EXPECT_EQ(CountEvents("complaint.closed"), 2);
  Complaint read;
  ASSERT_TRUE(Get(other.tracking_number(), "", officer_, &read).ok());
  EXPECT_EQ(read.status(), COMPLAINT_STATUS_CLOSED);
  ASSERT_TRUE(Get(tn, c.receipt_secret(), "", &read).ok());
  EXPECT_EQ(read.status(), COMPLAINT_STATUS_CLOSED);
  EXPECT_EQ(read.timeline(read.timeline_size() - 1).actor().subject(),
            "system");
  grpc::Status s = Respond(tn, c.receipt_secret(), false, "terlambat");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // The reporter's silence is not the agency's miss.
  EXPECT_EQ(CountEvents("complaint.overdue"), 0);
}

// ---- forwarding ----

TEST_F(ComplaintServiceTest, ForwardingMovesOwnershipAndKeepsHistory) {
  Complaint c = MustFile(NewComplaint(), citizen_);
  const std::string tn = c.tracking_number();
  ASSERT_TRUE(Verify(tn, officer_).ok());
  Complaint out;
  grpc::Status s = Forward(tn, officer_, kAgency, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Forward(tn, officer_, "tidak-ada", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("to_agency_id"));
  s = Forward(tn, officer_, kOtherAgency, "kantor-b");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("to_office_id"));

  clock_.Set(Wib(2026, 11, 23, 10));  // Monday
  const std::string request_id = NewRequestId();
  ASSERT_TRUE(
      Forward(tn, officer_, kOtherAgency, "kantor-papua", &out, request_id)
          .ok());
  EXPECT_EQ(out.agency_id(), kOtherAgency);
  EXPECT_EQ(out.office_id(), "kantor-papua");
  EXPECT_EQ(out.status(), COMPLAINT_STATUS_VERIFIED);
  // A retry by the forwarding officer gets the same answer.
  Complaint again;
  ASSERT_TRUE(
      Forward(tn, officer_, kOtherAgency, "kantor-papua", &again, request_id)
          .ok());
  EXPECT_EQ(again.agency_id(), kOtherAgency);
  EXPECT_EQ(CountEvents("complaint.forwarded"), 1);

  // The first agency lost it.
  Complaint read;
  EXPECT_EQ(Get(tn, "", officer_, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(tn, "", supervisor_, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Assign(tn, officer_, "petugas-1", "").error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(ListTracking(kAgency, officer_).empty());
  // The second gained it, with the whole history.
  ASSERT_TRUE(Get(tn, "", other_officer_, &read).ok());
  ASSERT_GE(read.timeline_size(), 3);
  const TimelineEntry& forwarded = read.timeline(2);
  EXPECT_EQ(forwarded.to_status(), COMPLAINT_STATUS_FORWARDED);
  EXPECT_EQ(forwarded.from_agency(), kAgency);
  EXPECT_EQ(forwarded.to_agency(), kOtherAgency);
  EXPECT_EQ(ListTracking(kOtherAgency, other_officer_),
            std::vector<std::string>{tn});
  // Its follow-up runs in Papua time (WIT, UTC+9) from Monday 12:00 WIT:
  // Tue 24, Wed 25, Thu 26, Fri 27, Mon 30 (kantor-papua has no holiday)
  // -> due Tuesday 1 December 00:00 WIT.
  const Deadline* follow_up = FindDeadline(read, DEADLINE_KIND_FOLLOW_UP);
  ASSERT_NE(follow_up, nullptr);
  EXPECT_EQ(ToAbslTime(follow_up->due_time()),
            absl::FromCivil(absl::CivilSecond(2026, 12, 1, 0, 0, 0),
                            absl::FixedTimeZone(9 * 3600)));
  ASSERT_TRUE(Assign(tn, other_officer_, "petugas-papua", "").ok());
  // The reporter still follows it.
  ASSERT_TRUE(Get(tn, "", citizen_, &read).ok());
  EXPECT_EQ(read.status(), COMPLAINT_STATUS_ASSIGNED);
  for (const auto& e : Events()) {
    if (e.type() != "complaint.forwarded") continue;
    events::v1::ComplaintStatusChanged changed;
    ASSERT_TRUE(e.payload().UnpackTo(&changed));
    EXPECT_EQ(e.agency(), kAgency);
    EXPECT_EQ(changed.to_agency(), kOtherAgency);
    EXPECT_EQ(changed.tracking_number(), tn);
  }
}

// ---- deadlines ----

TEST_F(ComplaintServiceTest, SweeperMarksAMissedDeadlineOnceAcrossReplicas) {
  Complaint c = MustFile();
  const std::string tn = c.tracking_number();
  // Thursday 26 November 23:59 WIB: still in time (the holiday moved it).
  clock_.Set(Wib(2026, 11, 26, 23, 59));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CountEvents("complaint.overdue"), 0);
  clock_.Set(Wib(2026, 11, 27, 0, 0, 1));
  ASSERT_TRUE(WaitForEvents("complaint.overdue", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CountEvents("complaint.overdue"), 1);
  events::v1::ComplaintOverdue overdue;
  for (const auto& e : Events()) {
    if (e.type() == "complaint.overdue") {
      ASSERT_TRUE(e.payload().UnpackTo(&overdue));
    }
  }
  EXPECT_EQ(overdue.deadline(), "VERIFY");
  EXPECT_EQ(overdue.complaint_id(), c.id());
  EXPECT_EQ(ToAbslTime(overdue.due_at()), Wib(2026, 11, 27));

  Complaint read;
  ASSERT_TRUE(Get(tn, "", officer_, &read).ok());
  EXPECT_TRUE(FindDeadline(read, DEADLINE_KIND_VERIFY)->overdue());
  ListComplaintsRequest req;
  req.set_agency_id(kAgency);
  req.set_overdue_only(true);
  ListComplaintsResponse list;
  ASSERT_TRUE(List(req, officer_, &list).ok());
  ASSERT_EQ(list.complaints_size(), 1);
  EXPECT_EQ(list.complaints(0).tracking_number(), tn);

  // Verified late: no second overdue event for the same deadline; the
  // follow-up runs from Friday 27: Mon 30, Tue 1, Wed 2, Thu 3, Fri 4.
  Complaint out;
  ASSERT_TRUE(Verify(tn, officer_, &out).ok());
  const Deadline* verify = FindDeadline(out, DEADLINE_KIND_VERIFY);
  EXPECT_TRUE(verify->has_met_time());
  EXPECT_TRUE(verify->overdue());
  EXPECT_EQ(ToAbslTime(FindDeadline(out, DEADLINE_KIND_FOLLOW_UP)->due_time()),
            Wib(2026, 12, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(CountEvents("complaint.overdue"), 1);
}

TEST_F(ComplaintServiceTest, AMoveMadeLateReportsTheMissExactlyOnce) {
  Complaint c = MustFile();
  BringToWork(c.tracking_number());
  // Resolving after the follow-up deadline reports one FOLLOW_UP miss,
  // whether the sweeper or the move itself sees it first.
  Complaint read;
  ASSERT_TRUE(Get(c.tracking_number(), "", officer_, &read).ok());
  const absl::Time due =
      ToAbslTime(FindDeadline(read, DEADLINE_KIND_FOLLOW_UP)->due_time());
  clock_.Set(due + absl::Hours(1));
  Complaint out;
  ASSERT_TRUE(Resolve(c.tracking_number(), officer_, &out).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int follow_up_misses = 0;
  for (const auto& e : Events()) {
    if (e.type() != "complaint.overdue") continue;
    events::v1::ComplaintOverdue overdue;
    ASSERT_TRUE(e.payload().UnpackTo(&overdue));
    if (overdue.deadline() == "FOLLOW_UP") ++follow_up_misses;
  }
  EXPECT_EQ(follow_up_misses, 1);
  events::v1::ComplaintResolved resolved;
  for (const auto& e : Events()) {
    if (e.type() == "complaint.resolved") {
      ASSERT_TRUE(e.payload().UnpackTo(&resolved));
    }
  }
  EXPECT_FALSE(resolved.within_deadline());
}

TEST_F(ComplaintServiceTest, AgencyPolicyChangesDeadlinesPerCategory) {
  UpdateDeadlinePolicyRequest req;
  req.set_request_id(NewRequestId());
  req.mutable_policy()->set_agency_id(kAgency);
  req.mutable_policy()->set_category(CATEGORY_ATTITUDINAL);
  req.mutable_policy()->set_verify_working_days(1);
  DeadlinePolicy out;
  grpc::Status s =
      Call(&ComplaintService::Stub::UpdateDeadlinePolicy, req, officer_, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Call(&ComplaintService::Stub::UpdateDeadlinePolicy, req,
           Token("agency_admin", kOtherAgency, "admin-papua"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  UpdateDeadlinePolicyRequest bad = req;
  bad.mutable_policy()->set_follow_up_working_days(500);
  s = Call(&ComplaintService::Stub::UpdateDeadlinePolicy, bad, admin_, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("follow_up_working_days"));
  ASSERT_TRUE(
      Call(&ComplaintService::Stub::UpdateDeadlinePolicy, req, admin_, &out)
          .ok());
  EXPECT_EQ(out.verify_working_days(), 1);
  EXPECT_EQ(out.follow_up_working_days(), 5);  // default filled in
  EXPECT_EQ(out.response_days(), 10);

  // Attitude complaints: verify within one working day (Monday 23).
  Complaint attitude = MustFile(NewComplaint(CATEGORY_ATTITUDINAL));
  EXPECT_EQ(
      ToAbslTime(FindDeadline(attitude, DEADLINE_KIND_VERIFY)->due_time()),
      Wib(2026, 11, 24));
  // Other categories keep the defaults.
  Complaint other = MustFile(NewComplaint(CATEGORY_MECHANICAL));
  EXPECT_EQ(ToAbslTime(FindDeadline(other, DEADLINE_KIND_VERIFY)->due_time()),
            Wib(2026, 11, 27));
}

// ---- privacy ----

TEST_F(ComplaintServiceTest, AnonymousReporterLeavesNoTraceAnywhere) {
  const std::string subject = "warga-rahasia-7731";
  const std::string token = Token("citizen", "", subject);
  Complaint c = NewComplaint(CATEGORY_ATTITUDINAL);
  c.set_anonymous(true);
  c.set_officer_id("petugas-1");
  Complaint filed;
  ASSERT_TRUE(File(c, token, &filed).ok());
  EXPECT_FALSE(filed.has_reporter_contact());
  for (const TimelineEntry& e : filed.timeline()) {
    EXPECT_TRUE(e.actor().subject().empty());
  }
  // Not even the filing token reaches it: only the receipt secret does.
  Complaint read;
  EXPECT_EQ(Get(filed.tracking_number(), "", token, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(
      Get(filed.tracking_number(), filed.receipt_secret(), "", &read).ok());
  BringToWork(filed.tracking_number());
  ASSERT_TRUE(Resolve(filed.tracking_number(), officer_).ok());
  Complaint answered;
  ASSERT_TRUE(Respond(filed.tracking_number(), filed.receipt_secret(), true, "",
                      &answered, token)
                  .ok());
  // Staff and managers see no reporter either, in reads, lists and replies.
  for (const std::string& reader : {officer_, supervisor_}) {
    ASSERT_TRUE(Get(filed.tracking_number(), "", reader, &read).ok());
    EXPECT_FALSE(read.has_reporter_contact());
    for (const TimelineEntry& e : read.timeline()) {
      EXPECT_NE(e.actor().subject(), subject);
    }
  }
  for (const TimelineEntry& e : answered.timeline()) {
    EXPECT_NE(e.actor().subject(), subject);
  }
  for (const auto& e : Events()) EXPECT_NE(e.actor().subject(), subject);
  // Nothing in Redis ties the token to the complaint.
  EXPECT_FALSE(RedisHolds(subject));
}

TEST_F(ComplaintServiceTest, ConfidentialComplaintsStayWithAgencyAndReporter) {
  Complaint c = NewComplaint();
  c.set_confidential(true);
  Complaint filed;
  ASSERT_TRUE(File(c, citizen_, &filed).ok());
  const std::string tn = filed.tracking_number();
  Complaint read;
  EXPECT_EQ(Get(tn, "", other_officer_, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(tn, "", other_supervisor_, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(tn, "", Token("citizen", "", "warga-lain"), &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(tn, "", "", &read).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Get(tn, "", citizen_, &read).ok());
  ASSERT_TRUE(Get(tn, filed.receipt_secret(), "", &read).ok());
  ASSERT_TRUE(Get(tn, "", officer_, &read).ok());
  EXPECT_TRUE(read.confidential());
  // Another agency cannot list it.
  ListComplaintsRequest req;
  req.set_agency_id(kAgency);
  ListComplaintsResponse list;
  EXPECT_EQ(List(req, other_supervisor_, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ComplaintServiceTest, ContactOnlyForManagersOfTheHandlingAgency) {
  Complaint c = NewComplaint();
  c.mutable_reporter_contact()->set_name("Budi Santoso");
  c.mutable_reporter_contact()->set_phone("+6281234567890");
  c.mutable_reporter_contact()->set_email("budi@example.id");
  Complaint filed;
  ASSERT_TRUE(File(c, citizen_, &filed).ok());
  EXPECT_FALSE(filed.has_reporter_contact());
  const std::string tn = filed.tracking_number();
  Complaint read;
  ASSERT_TRUE(Get(tn, "", officer_, &read).ok());
  EXPECT_FALSE(read.has_reporter_contact());
  ASSERT_TRUE(Get(tn, "", citizen_, &read).ok());
  EXPECT_FALSE(read.has_reporter_contact());
  ASSERT_TRUE(Get(tn, "", supervisor_, &read).ok());
  EXPECT_EQ(read.reporter_contact().phone(), "+6281234567890");
  ASSERT_TRUE(Get(tn, "", admin_, &read).ok());
  EXPECT_EQ(read.reporter_contact().name(), "Budi Santoso");
  ASSERT_TRUE(Get(tn, "", Token("region_admin", "", "root"), &read).ok());
  EXPECT_TRUE(read.has_reporter_contact());
  // Mutation replies follow the same rule.
  Complaint out;
  ASSERT_TRUE(Verify(tn, officer_, &out).ok());
  EXPECT_FALSE(out.has_reporter_contact());
  ASSERT_TRUE(Comment(tn, supervisor_, "sedang kami cek", false, &out).ok());
  EXPECT_TRUE(out.has_reporter_contact());
  // And lists.
  ListComplaintsRequest req;
  req.set_agency_id(kAgency);
  ListComplaintsResponse list;
  ASSERT_TRUE(List(req, officer_, &list).ok());
  ASSERT_EQ(list.complaints_size(), 1);
  EXPECT_FALSE(list.complaints(0).has_reporter_contact());
  EXPECT_EQ(list.complaints(0).timeline_size(), 0);
  ASSERT_TRUE(List(req, supervisor_, &list).ok());
  EXPECT_EQ(list.complaints(0).reporter_contact().email(), "budi@example.id");
  // Forwarded away, the first agency's managers lose the contact too.
  ASSERT_TRUE(Forward(tn, officer_, kOtherAgency, "").ok());
  EXPECT_EQ(Get(tn, "", supervisor_, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Get(tn, "", other_supervisor_, &read).ok());
  EXPECT_EQ(read.reporter_contact().name(), "Budi Santoso");
}

TEST_F(ComplaintServiceTest, InternalNotesNeverReachTheReporter) {
  Complaint filed = MustFile(NewComplaint(), citizen_);
  const std::string tn = filed.tracking_number();
  ASSERT_TRUE(Comment(tn, officer_, "catatan internal: cek CCTV", true).ok());
  ASSERT_TRUE(
      Comment(tn, officer_, "Terima kasih, sedang kami proses", false).ok());
  auto notes = [](const Complaint& c) {
    std::vector<std::string> out;
    for (const TimelineEntry& e : c.timeline()) {
      if (!e.note().empty()) out.push_back(e.note());
    }
    return out;
  };
  Complaint read;
  ASSERT_TRUE(Get(tn, "", officer_, &read).ok());
  EXPECT_EQ(notes(read),
            (std::vector<std::string>{"catatan internal: cek CCTV",
                                      "Terima kasih, sedang kami proses"}));
  ASSERT_TRUE(Get(tn, "", citizen_, &read).ok());
  EXPECT_EQ(notes(read),
            (std::vector<std::string>{"Terima kasih, sedang kami proses"}));
  ASSERT_TRUE(Get(tn, filed.receipt_secret(), "", &read).ok());
  EXPECT_EQ(notes(read).size(), 1u);
  // The reporter's own moves answer without them too.
  BringToWork(tn);
  ASSERT_TRUE(Resolve(tn, officer_).ok());
  Complaint out;
  ASSERT_TRUE(Respond(tn, filed.receipt_secret(), true, "", &out).ok());
  for (const TimelineEntry& e : out.timeline()) EXPECT_FALSE(e.internal());
  ASSERT_TRUE(Rate(tn, filed.receipt_secret(), 4, &out).ok());
  for (const TimelineEntry& e : out.timeline()) EXPECT_FALSE(e.internal());
}

TEST_F(ComplaintServiceTest, OutsidersNeverReadAComplaint) {
  Complaint filed = MustFile();
  Complaint read;
  // Not confidential, still not public: only published figures are.
  EXPECT_EQ(Get(filed.tracking_number(), "", "", &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      Get(filed.tracking_number(), "", other_officer_, &read).error_code(),
      grpc::StatusCode::NOT_FOUND);
  // An unknown number answers the same.
  grpc::Status unknown = Get("DUKCAPIL-20261120-0099", "", officer_, &read);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("bukan nomor", "", officer_, &read).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// ---- lists and statistics ----

TEST_F(ComplaintServiceTest, ListIsNewestFirstWithFiltersAndPages) {
  std::vector<std::string> filed;
  for (int i = 0; i < 5; ++i) {
    Complaint c =
        NewComplaint(i % 2 == 0 ? CATEGORY_ATTITUDINAL : CATEGORY_MECHANICAL);
    if (i == 4) c.set_office_id("kantor-b");
    filed.push_back(MustFile(c).tracking_number());
    clock_.Advance(absl::Minutes(1));
  }
  ASSERT_TRUE(Verify(filed[1], officer_).ok());

  ListComplaintsRequest req;
  req.set_agency_id(kAgency);
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    ListComplaintsResponse out;
    ASSERT_TRUE(List(req, officer_, &out).ok());
    for (const Complaint& c : out.complaints()) {
      seen.push_back(c.tracking_number());
    }
    if (out.next_page_token().empty()) break;
    req.set_page_token(out.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{filed[4], filed[3], filed[2],
                                            filed[1], filed[0]}));

  auto list = [&](ListComplaintsRequest r) {
    r.set_agency_id(kAgency);
    ListComplaintsResponse out;
    grpc::Status s = List(r, officer_, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> numbers;
    for (const Complaint& c : out.complaints()) {
      numbers.push_back(c.tracking_number());
    }
    return numbers;
  };
  ListComplaintsRequest by_status;
  by_status.set_status(COMPLAINT_STATUS_VERIFIED);
  EXPECT_EQ(list(by_status), std::vector<std::string>{filed[1]});
  ListComplaintsRequest by_category;
  by_category.set_category(CATEGORY_MECHANICAL);
  EXPECT_EQ(list(by_category), (std::vector<std::string>{filed[3], filed[1]}));
  ListComplaintsRequest by_office;
  by_office.set_office_id("kantor-b");
  EXPECT_EQ(list(by_office), std::vector<std::string>{filed[4]});
  ListComplaintsRequest by_time;
  *by_time.mutable_filed()->mutable_start_time() =
      ToProtoTime(Wib(2026, 11, 20, 15, 1));
  *by_time.mutable_filed()->mutable_end_time() =
      ToProtoTime(Wib(2026, 11, 20, 15, 3));
  EXPECT_EQ(list(by_time), (std::vector<std::string>{filed[2], filed[1]}));

  ListComplaintsRequest bad;
  bad.set_agency_id(kAgency);
  bad.set_page_token("not-a-token");
  ListComplaintsResponse out;
  grpc::Status s = List(bad, officer_, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  bad.clear_page_token();
  bad.set_status(COMPLAINT_STATUS_FORWARDED);
  EXPECT_EQ(List(bad, officer_, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ComplaintServiceTest, StatsCountMedianAndShareWithinDeadline) {
  Complaint a = MustFile(NewComplaint(CATEGORY_ATTITUDINAL));
  Complaint b = MustFile(NewComplaint(CATEGORY_ATTITUDINAL));
  Complaint m = MustFile(NewComplaint(CATEGORY_MECHANICAL));
  ASSERT_TRUE(Reject(m.tracking_number(), officer_, "duplikat", false).ok());
  BringToWork(a.tracking_number());
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(Resolve(a.tracking_number(), officer_).ok());
  BringToWork(b.tracking_number());
  clock_.Set(Wib(2026, 12, 10));  // long after the follow-up deadline
  ASSERT_TRUE(Resolve(b.tracking_number(), officer_).ok());

  GetComplaintStatsRequest req;
  req.set_agency_id(kAgency);
  *req.mutable_period()->mutable_start_time() = ToProtoTime(Wib(2026, 11, 1));
  *req.mutable_period()->mutable_end_time() = ToProtoTime(Wib(2026, 12, 31));
  ComplaintStats stats;
  ASSERT_TRUE(
      Call(&ComplaintService::Stub::GetComplaintStats, req, supervisor_, &stats)
          .ok());
  EXPECT_EQ(stats.filed(), 3);
  std::map<ComplaintStatus, int> by_status;
  for (const StatusCount& s : stats.by_status())
    by_status[s.status()] = s.count();
  // The first one's response window has passed meanwhile: it may be closed.
  EXPECT_EQ(
      by_status[COMPLAINT_STATUS_RESOLVED] + by_status[COMPLAINT_STATUS_CLOSED],
      2);
  EXPECT_EQ(by_status[COMPLAINT_STATUS_REJECTED], 1);
  std::map<Category, int> by_category;
  for (const CategoryCount& c : stats.by_category()) {
    by_category[c.category()] = c.count();
  }
  EXPECT_EQ(by_category[CATEGORY_ATTITUDINAL], 2);
  EXPECT_EQ(by_category[CATEGORY_MECHANICAL], 1);
  const double b_seconds =
      absl::ToDoubleSeconds(Wib(2026, 12, 10) - Wib(2026, 11, 20, 15));
  EXPECT_DOUBLE_EQ(stats.median_seconds_to_resolve(),
                   (2 * 3600 + b_seconds) / 2);
  EXPECT_DOUBLE_EQ(stats.resolved_within_deadline_share(), 0.5);

  // Supervisors and above of the agency only; a period is required.
  ComplaintStats ignored;
  EXPECT_EQ(
      Call(&ComplaintService::Stub::GetComplaintStats, req, officer_, &ignored)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&ComplaintService::Stub::GetComplaintStats, req,
                 other_supervisor_, &ignored)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  GetComplaintStatsRequest no_period;
  no_period.set_agency_id(kAgency);
  grpc::Status s = Call(&ComplaintService::Stub::GetComplaintStats, no_period,
                        supervisor_, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period"));
}

}  // namespace
}  // namespace prima
