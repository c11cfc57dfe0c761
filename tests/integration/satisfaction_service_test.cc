// SatisfactionService against a real redis-server through the real
// RedisClient and real gRPC servers (the directory applied through the real
// DirectoryService; the queue and complaint services in-process, so their
// real events reach the satisfaction consumers), on a fake clock: invitations
// from completed tickets and resolved complaints answered with the receipt
// secret, single-use tokens and idempotent retries, staff invitations, the
// kiosk rate, validation, periods in the office's time zone (WIB vs WITA),
// custom ranges, rankings and custom templates. Every expected score is
// computed by hand in a comment.
#include "services/satisfaction/satisfaction_service.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/complaint/v1/complaint.grpc.pb.h"
#include "prima/events/v1/events.pb.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "prima/satisfaction/v1/satisfaction.grpc.pb.h"
#include "services/catalog/satisfaction_consumer.h"
#include "services/catalog/training_store.h"
#include "services/common/clock.h"
#include "services/common/ids.h"
#include "services/common/server.h"
#include "services/complaint/complaint_service.h"
#include "services/queue/queue_service.h"
#include "tests/testing/error_details.h"
#include "tests/testing/recommendation_consumer_fixture.h"
#include "tests/testing/service_env.h"
#include "tests/testing/test_directory.h"
#include "tests/testing/test_server.h"

namespace prima {
namespace {

using namespace ::prima::satisfaction::v1;  // NOLINT
namespace cat = ::prima::catalog::v1;
namespace qv1 = ::prima::queue::v1;
namespace cv1 = ::prima::complaint::v1;
using ::prima::testing::TestServer;
using ::testing::HasSubstr;

constexpr char kAgency[] = "dukcapil";
constexpr char kOtherAgency[] = "samsat";
constexpr int kKioskPerMinute = 3;
// Small, so that an export of a few responses spans several pages.
constexpr int kExportPageSize = 2;

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
  add_office("kantor-a", kAgency, "Asia/Jakarta");          // WIB, UTC+7
  add_office("kantor-b", kAgency, "Asia/Jakarta");          // WIB
  add_office("kantor-c", kAgency, "Asia/Jakarta");          // never answered
  add_office("kantor-makassar", kAgency, "Asia/Makassar");  // WITA, UTC+8
  add_office("kantor-samsat", kOtherAgency, "Asia/Jakarta");
  auto add_service = [&](const std::string& id, const std::string& agency,
                         const std::string& prefix) {
    cat::PublicService* s = d.add_public_services();
    s->set_id(id);
    s->set_agency_id(agency);
    s->set_name(absl::StrCat("Layanan ", id));
    s->set_ticket_prefix(prefix);
    s->set_target_waiting_minutes(10);
    s->mutable_standard()->mutable_completion_time()->set_value(1);
    s->mutable_standard()->mutable_completion_time()->set_unit(
        cat::CompletionTime::UNIT_DAYS);
  };
  add_service("ktp", kAgency, "A");
  add_service("stnk", kOtherAgency, "S");
  cat::Counter* c = d.add_counters();
  c->set_id("loket-1");
  c->set_office_id("kantor-a");
  c->set_agency_id(kAgency);
  c->set_name("Loket 1");
  c->add_service_ids("ktp");
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
  add_officer("petugas-2", kAgency, "kantor-a");
  add_officer("petugas-samsat", kOtherAgency, "kantor-samsat");
  return d;
}

// SKM answers U1..U9 with `values` in order.
std::vector<Answer> Skm(const std::vector<int>& values) {
  std::vector<Answer> out;
  for (size_t i = 0; i < values.size(); ++i) {
    Answer a;
    a.set_code(absl::StrCat("U", i + 1));
    a.set_value(values[i]);
    out.push_back(a);
  }
  return out;
}

std::vector<Answer> AllSkm(int value) {
  return Skm(std::vector<int>(9, value));
}

Period Key(PeriodKind kind, const std::string& key) {
  Period p;
  p.set_kind(kind);
  p.set_key(key);
  return p;
}

Period Range(absl::CivilDay first, absl::CivilDay last) {
  Period p;
  p.set_kind(PERIOD_KIND_CUSTOM);
  p.mutable_first_date()->set_year(static_cast<int32_t>(first.year()));
  p.mutable_first_date()->set_month(first.month());
  p.mutable_first_date()->set_day(first.day());
  p.mutable_last_date()->set_year(static_cast<int32_t>(last.year()));
  p.mutable_last_date()->set_month(last.month());
  p.mutable_last_date()->set_day(last.day());
  return p;
}

class SatisfactionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::TestServiceEnv::Start(clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    env_ = std::move(*started);
    auto directory = testing::TestDirectory::Start(*env_, Directory());
    ASSERT_TRUE(directory.ok()) << directory.status();
    directory_ = std::move(*directory);
    auto bundle =
        satisfaction::MakeSatisfactionService(env_->environment(), Options());
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    bundle_ = std::move(*bundle);
    auto server = TestServer::Start({bundle_.services[0].get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = SatisfactionService::NewStub(server_->NewChannel());
    officer_ = Token("officer", kAgency, "petugas-1");
    admin_ = Token("agency_admin", kAgency, "admin-1");
    other_officer_ = Token("officer", kOtherAgency, "petugas-samsat");
    other_admin_ = Token("agency_admin", kOtherAgency, "admin-samsat");
  }

  void TearDown() override {
    for (auto* s : {&queue_server_, &complaint_server_, &server_}) {
      if (*s) (*s)->server().Shutdown();
    }
    if (replica_.stop) replica_.stop();
    if (queue_bundle_.stop) queue_bundle_.stop();
    if (complaint_bundle_.stop) complaint_bundle_.stop();
    if (bundle_.stop) bundle_.stop();
    for (auto* s : {&queue_server_, &complaint_server_, &server_}) {
      if (*s) (*s)->server().Wait();
    }
    directory_.reset();
  }

  static satisfaction::SatisfactionOptions Options() {
    satisfaction::SatisfactionOptions options;
    options.export_page_size = kExportPageSize;
    options.kiosk_per_minute = kKioskPerMinute;
    // The closed-month sweep runs often, so a test sees it soon after the
    // fake clock passes a month's end.
    options.sweep_interval = absl::Milliseconds(20);
    return options;
  }

  // A second replica on the same Redis: its own consumers and sweeper.
  void StartReplica() {
    auto bundle =
        satisfaction::MakeSatisfactionService(env_->environment(), Options());
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    replica_ = std::move(*bundle);
  }

  std::vector<events::v1::EventEnvelope> ElementLowEvents() {
    auto events =
        env_->redis().Events("satisfaction", "satisfaction.element_low");
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *std::move(events)
                       : std::vector<events::v1::EventEnvelope>{};
  }

  // Polls (real time, up to 10 s) until at least `n` element_low events
  // are on the stream, then lets the sweepers run a few more rounds so that
  // a duplicate would show.
  std::vector<events::v1::SatisfactionElementLow> AwaitElementLow(size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline && ElementLowEvents().size() < n) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    absl::SleepFor(absl::Milliseconds(300));
    std::vector<events::v1::SatisfactionElementLow> out;
    for (const auto& envelope : ElementLowEvents()) {
      events::v1::SatisfactionElementLow low;
      EXPECT_TRUE(envelope.payload().UnpackTo(&low));
      EXPECT_EQ(envelope.agency(), kAgency);
      out.push_back(low);
    }
    return out;
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

  // Any unary RPC of the satisfaction service.
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (SatisfactionService::Stub::*rpc)(
                        grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, const std::string& token, Resp* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    return (stub_.get()->*rpc)(&ctx, req, out);
  }

  // A registered kiosk as a tablet holds it.
  struct RegisteredKiosk {
    std::string id;
    std::string credential;
  };

  grpc::Status RegisterKiosk(const std::string& office, const std::string& name,
                             const std::string& token, Kiosk* out,
                             const std::string& request_id = NewRequestId()) {
    RegisterKioskRequest req;
    req.set_request_id(request_id);
    req.set_office_id(office);
    req.set_name(name);
    return Call(&SatisfactionService::Stub::RegisterKiosk, req, token, out);
  }

  // The kiosk `name` at `office`, registered by a region admin on first use.
  RegisteredKiosk KioskAt(const std::string& office, const std::string& name) {
    const std::string key = absl::StrCat(office, "/", name);
    auto it = kiosks_.find(key);
    if (it != kiosks_.end()) return it->second;
    Kiosk out;
    grpc::Status s = RegisterKiosk(office, name, Token("region_admin"), &out);
    EXPECT_TRUE(s.ok()) << office << ": " << s.error_message();
    RegisteredKiosk kiosk{out.id(), out.credential()};
    kiosks_[key] = kiosk;
    return kiosk;
  }

  grpc::Status SubmitAs(const RegisteredKiosk& kiosk,
                        const std::vector<Answer>& answers, Response* out,
                        const std::string& office = "",
                        const std::string& service = "ktp") {
    SubmitResponseRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_kiosk()->set_kiosk_id(kiosk.id);
    req.mutable_kiosk()->set_kiosk_credential(kiosk.credential);
    req.mutable_kiosk()->set_office_id(office);
    req.mutable_kiosk()->set_service_id(service);
    for (const Answer& a : answers) *req.add_answers() = a;
    return Call(&SatisfactionService::Stub::SubmitResponse, req, "", out);
  }

  // A response at the kiosk `name` of `office` (KioskAt).
  grpc::Status AtKiosk(const std::string& office, const std::string& name,
                       const std::vector<Answer>& answers, Response* out,
                       const std::string& service = "ktp",
                       const std::string& template_id = "",
                       const std::string& request_id = NewRequestId()) {
    const RegisteredKiosk kiosk = KioskAt(office, name);
    SubmitResponseRequest req;
    req.set_request_id(request_id);
    req.mutable_kiosk()->set_kiosk_id(kiosk.id);
    req.mutable_kiosk()->set_kiosk_credential(kiosk.credential);
    req.mutable_kiosk()->set_service_id(service);
    req.set_template_id(template_id);
    for (const Answer& a : answers) *req.add_answers() = a;
    return Call(&SatisfactionService::Stub::SubmitResponse, req, "", out);
  }

  // A response at a kiosk of its own (no rate in the way).
  void MustKiosk(const std::string& office, const std::vector<Answer>& answers,
                 const std::string& service = "ktp") {
    Response out;
    grpc::Status s = AtKiosk(office, absl::StrCat("kiosk-", ++kiosk_seq_),
                             answers, &out, service);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Submit(const std::string& token,
                      const std::vector<Answer>& answers, Response* out,
                      const std::string& request_id = NewRequestId()) {
    SubmitResponseRequest req;
    req.set_request_id(request_id);
    req.set_invitation_token(token);
    for (const Answer& a : answers) *req.add_answers() = a;
    return Call(&SatisfactionService::Stub::SubmitResponse, req, "", out);
  }

  grpc::Status GetInvitation(const std::string& token, Invitation* out) {
    GetInvitationRequest req;
    req.set_token(token);
    return Call(&SatisfactionService::Stub::GetInvitation, req, "", out);
  }

  // Polls (real time, up to 10 s) until the consumers made the invitation.
  grpc::Status AwaitInvitation(const std::string& token, Invitation* out) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    grpc::Status s;
    while (absl::Now() < deadline) {
      s = GetInvitation(token, out);
      if (s.error_code() != grpc::StatusCode::NOT_FOUND) return s;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return s;
  }

  grpc::Status GetIndex(ScopeKind kind, const std::string& id,
                        const Period& period, Index* out,
                        const std::string& template_id = "") {
    GetIndexRequest req;
    req.mutable_scope()->set_kind(kind);
    req.mutable_scope()->set_id(id);
    *req.mutable_period() = period;
    req.set_template_id(template_id);
    return Call(&SatisfactionService::Stub::GetIndex, req, "", out);
  }

  Index MustIndex(ScopeKind kind, const std::string& id, const Period& period,
                  const std::string& template_id = "") {
    Index out;
    grpc::Status s = GetIndex(kind, id, period, &out, template_id);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  int64_t Respondents(ScopeKind kind, const std::string& id, PeriodKind pk,
                      const std::string& key) {
    return MustIndex(kind, id, Key(pk, key)).respondents();
  }

  grpc::Status CreateInvitation(const std::string& token,
                                const std::string& agency,
                                const std::string& office, Invitation* out,
                                const std::string& request_id = NewRequestId(),
                                const std::string& officer = "petugas-1",
                                const std::string& template_id = "") {
    CreateInvitationRequest req;
    req.set_template_id(template_id);
    req.set_request_id(request_id);
    req.set_agency_id(agency);
    req.set_office_id(office);
    req.set_service_id(agency == kOtherAgency ? "stnk" : "ktp");
    req.set_officer_id(officer);
    return Call(&SatisfactionService::Stub::CreateInvitation, req, token, out);
  }

  // ---- the queue, in-process: a served ticket's real event ----

  void StartQueue() {
    queue::QueueOptions options;
    options.sweep_interval = absl::Milliseconds(50);
    options.live.heartbeat = absl::Milliseconds(200);
    auto bundle = queue::MakeQueueService(env_->environment(), options);
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    queue_bundle_ = std::move(*bundle);
    auto server = TestServer::Start({queue_bundle_.services[0].get()});
    ASSERT_TRUE(server.ok()) << server.status();
    queue_server_ = std::move(*server);
    queue_stub_ = qv1::QueueService::NewStub(queue_server_->NewChannel());
  }

  // Opens loket-1 (once), issues a ktp ticket at kantor-a, calls and
  // completes it as petugas-1: the completed ticket, with its secret.
  qv1::Ticket ServeTicket() { return ServeTicketAs(officer_); }

  qv1::Ticket ServeTicketAs(const std::string& officer) {
    qv1::Ticket ticket;
    if (!counter_open_) {
      grpc::ClientContext ctx;
      Prepare(&ctx, officer);
      qv1::OpenCounterRequest req;
      req.set_request_id(NewRequestId());
      req.set_counter_id("loket-1");
      qv1::CounterSession session;
      grpc::Status s = queue_stub_->OpenCounter(&ctx, req, &session);
      EXPECT_TRUE(s.ok()) << s.error_message();
      counter_open_ = true;
    }
    {
      grpc::ClientContext ctx;
      Prepare(&ctx, "");
      qv1::IssueTicketRequest req;
      req.set_request_id(NewRequestId());
      req.set_office_id("kantor-a");
      req.set_service_id("ktp");
      req.set_channel(qv1::CHANNEL_KIOSK);
      req.set_priority_class(qv1::PRIORITY_CLASS_REGULAR);
      grpc::Status s = queue_stub_->IssueTicket(&ctx, req, &ticket);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    {
      grpc::ClientContext ctx;
      Prepare(&ctx, officer);
      qv1::CallNextRequest req;
      req.set_request_id(NewRequestId());
      req.set_counter_id("loket-1");
      qv1::Ticket called;
      grpc::Status s = queue_stub_->CallNext(&ctx, req, &called);
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(called.id(), ticket.id());
    }
    clock_.Advance(absl::Minutes(3));
    {
      grpc::ClientContext ctx;
      Prepare(&ctx, officer);
      qv1::CompleteServiceRequest req;
      req.set_request_id(NewRequestId());
      req.set_counter_id("loket-1");
      req.set_ticket_id(ticket.id());
      req.set_outcome(qv1::SERVICE_OUTCOME_DONE);
      qv1::Ticket done;
      grpc::Status s = queue_stub_->CompleteService(&ctx, req, &done);
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(done.status(), qv1::TICKET_STATUS_COMPLETED);
    }
    return ticket;
  }

  FakeClock clock_{MondayNineWib()};
  std::unique_ptr<testing::TestServiceEnv> env_;
  std::unique_ptr<testing::TestDirectory> directory_;
  ServiceBundle bundle_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<SatisfactionService::Stub> stub_;
  ServiceBundle queue_bundle_;
  std::unique_ptr<TestServer> queue_server_;
  std::unique_ptr<qv1::QueueService::Stub> queue_stub_;
  bool counter_open_ = false;
  ServiceBundle complaint_bundle_;
  std::unique_ptr<TestServer> complaint_server_;
  ServiceBundle replica_;
  std::string officer_, admin_, other_officer_, other_admin_;
  int kiosk_seq_ = 0;
  std::map<std::string, RegisteredKiosk> kiosks_;
};

// ---- invitations from served tickets ----

TEST_F(SatisfactionServiceTest, CompletedTicketInvitesAndTheAnswerIsScored) {
  StartQueue();
  const qv1::Ticket ticket = ServeTicket();
  ASSERT_FALSE(ticket.receipt_secret().empty());

  Invitation invitation;
  grpc::Status s = AwaitInvitation(ticket.receipt_secret(), &invitation);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(invitation.agency_id(), kAgency);
  EXPECT_EQ(invitation.office_id(), "kantor-a");
  EXPECT_EQ(invitation.service_id(), "ktp");
  EXPECT_EQ(invitation.officer_id(), "petugas-1");
  EXPECT_EQ(invitation.source(), INVITATION_SOURCE_TICKET);
  EXPECT_EQ(invitation.source_id(), ticket.id());
  EXPECT_EQ(invitation.template_id(), "skm");
  EXPECT_FALSE(invitation.used());
  EXPECT_TRUE(invitation.token().empty());  // never shown back
  // Seven days to answer (the default invitation_ttl).
  EXPECT_EQ(
      invitation.expire_time().seconds() - invitation.create_time().seconds(),
      7 * 24 * 3600);

  // Before anyone answers: the served visit is the population already.
  Index before = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                           Key(PERIOD_KIND_MONTH, "2026-11"));
  EXPECT_EQ(before.respondents(), 0);
  EXPECT_EQ(before.population(), 1);
  EXPECT_EQ(before.required_sample(), 1);
  EXPECT_FALSE(before.sample_adequate());
  EXPECT_EQ(before.mutu(), MUTU_UNSPECIFIED);

  Response response;
  s = Submit(ticket.receipt_secret(), Skm({4, 4, 4, 3, 3, 3, 4, 4, 3}),
             &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.source(), INVITATION_SOURCE_TICKET);
  EXPECT_EQ(response.office_id(), "kantor-a");
  EXPECT_EQ(response.officer_id(), "petugas-1");
  EXPECT_EQ(response.template_id(), "skm");
  EXPECT_EQ(response.template_version(), invitation.template_version());
  // Monday 2026-11-23 09:03 WIB.
  EXPECT_EQ(response.local_date().year(), 2026);
  EXPECT_EQ(response.local_date().month(), 11);
  EXPECT_EQ(response.local_date().day(), 23);
  EXPECT_FALSE(response.id().empty());

  ASSERT_TRUE(GetInvitation(ticket.receipt_secret(), &invitation).ok());
  EXPECT_TRUE(invitation.used());

  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_MONTH, "2026-11"));
  EXPECT_EQ(index.template_id(), "skm");
  EXPECT_EQ(index.scope().id(), "kantor-a");
  EXPECT_EQ(index.period().first_date().day(), 1);
  EXPECT_EQ(index.period().last_date().day(), 30);
  EXPECT_EQ(index.respondents(), 1);
  ASSERT_EQ(index.elements_size(), 9);
  // One respondent: each NRR is the answer; weighted NRR = NRR / 9.
  const int answers[] = {4, 4, 4, 3, 3, 3, 4, 4, 3};
  for (int i = 0; i < 9; ++i) {
    const ElementScore& e = index.elements(i);
    EXPECT_EQ(e.code(), absl::StrCat("U", i + 1));
    EXPECT_EQ(e.responses(), 1);
    EXPECT_DOUBLE_EQ(e.nrr(), answers[i]) << e.code();
    EXPECT_NEAR(e.nrr_weighted(), answers[i] / 9.0, 1e-9) << e.code();
  }
  EXPECT_EQ(index.elements(0).name(), "Persyaratan");
  // U1 = 4 -> 4 x 25 = 100.00, A; U4 = 3 -> 75.00, C (65.00-76.60).
  EXPECT_DOUBLE_EQ(index.elements(0).converted(), 100.0);
  EXPECT_EQ(index.elements(0).mutu(), MUTU_A);
  EXPECT_DOUBLE_EQ(index.elements(3).converted(), 75.0);
  EXPECT_EQ(index.elements(3).mutu(), MUTU_C);
  // NRR sum 4+4+4+3+3+3+4+4+3 = 32; IKM = 32/9 = 3.5556;
  // x 25 = 88.888.. -> 88.89 >= 88.31: A, "Sangat Baik".
  EXPECT_NEAR(index.ikm_interval(), 32.0 / 9.0, 1e-9);
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 88.89);
  EXPECT_EQ(index.mutu(), MUTU_A);
  EXPECT_EQ(index.kinerja(), "Sangat Baik");
  // Population 1 served visit; Krejcie-Morgan of 1:
  // 3.841*1*0.25 / (0.0025*0 + 3.841*0.25) = 1; 1 respondent >= 1.
  EXPECT_EQ(index.population(), 1);
  EXPECT_EQ(index.required_sample(), 1);
  EXPECT_TRUE(index.sample_adequate());

  // The same response counts for the agency, the service and the officer,
  // each with the served visit as population.
  for (const auto& [kind, id] : std::vector<std::pair<ScopeKind, std::string>>{
           {SCOPE_KIND_AGENCY, kAgency},
           {SCOPE_KIND_SERVICE, "ktp"},
           {SCOPE_KIND_OFFICER, "petugas-1"}}) {
    Index scoped = MustIndex(kind, id, Key(PERIOD_KIND_DAY, "2026-11-23"));
    EXPECT_EQ(scoped.respondents(), 1) << id;
    EXPECT_EQ(scoped.population(), 1) << id;
    EXPECT_DOUBLE_EQ(scoped.ikm_converted(), 88.89) << id;
  }
}

TEST_F(SatisfactionServiceTest, TwoServedVisitsNeedTwoRespondents) {
  StartQueue();
  const qv1::Ticket first = ServeTicket();
  const qv1::Ticket second = ServeTicket();
  Invitation invitation;
  ASSERT_TRUE(AwaitInvitation(first.receipt_secret(), &invitation).ok());
  ASSERT_TRUE(AwaitInvitation(second.receipt_secret(), &invitation).ok());
  EXPECT_EQ(invitation.source_id(), second.id());
  Response response;
  ASSERT_TRUE(Submit(first.receipt_secret(), AllSkm(4), &response).ok());
  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_DAY, "2026-11-23"));
  // Krejcie-Morgan of 2: 3.841*2*0.25 / (0.0025*1 + 0.96025) = 1.9205 /
  // 0.96275 = 1.995 -> 2; one respondent of two is not enough.
  EXPECT_EQ(index.population(), 2);
  EXPECT_EQ(index.required_sample(), 2);
  EXPECT_EQ(index.respondents(), 1);
  EXPECT_FALSE(index.sample_adequate());
  ASSERT_TRUE(Submit(second.receipt_secret(), AllSkm(4), &response).ok());
  index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                    Key(PERIOD_KIND_DAY, "2026-11-23"));
  EXPECT_EQ(index.respondents(), 2);
  EXPECT_TRUE(index.sample_adequate());
}

// The ticket's officer is whoever served it (the token's subject); the
// queue does not require a directory officer, so neither may the survey: the
// citizen holding the receipt secret must be able to answer it.
TEST_F(SatisfactionServiceTest, VisitByOfficerOutsideTheDirectoryIsAnswerable) {
  StartQueue();
  const qv1::Ticket ticket =
      ServeTicketAs(Token("officer", kAgency, "petugas-baru"));
  Invitation invitation;
  ASSERT_TRUE(AwaitInvitation(ticket.receipt_secret(), &invitation).ok());
  EXPECT_EQ(invitation.officer_id(), "petugas-baru");
  Response response;
  grpc::Status s = Submit(ticket.receipt_secret(), AllSkm(4), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.officer_id(), "petugas-baru");
  // All 4 -> 100.00 for the officer, who served one visit.
  Index index = MustIndex(SCOPE_KIND_OFFICER, "petugas-baru",
                          Key(PERIOD_KIND_MONTH, "2026-11"));
  EXPECT_EQ(index.respondents(), 1);
  EXPECT_EQ(index.population(), 1);
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 100.0);
}

// ---- single use and idempotency ----

TEST_F(SatisfactionServiceTest, TokenIsSingleUseAndRetriesAreIdempotent) {
  StartQueue();
  const qv1::Ticket ticket = ServeTicket();
  Invitation invitation;
  ASSERT_TRUE(AwaitInvitation(ticket.receipt_secret(), &invitation).ok());

  const std::string request_id = NewRequestId();
  Response first;
  grpc::Status s =
      Submit(ticket.receipt_secret(), AllSkm(4), &first, request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The same request again: the first response, nothing counted twice.
  Response again;
  s = Submit(ticket.receipt_secret(), AllSkm(4), &again, request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.id(), first.id());

  // Another request with the used token.
  Response second;
  s = Submit(ticket.receipt_secret(), AllSkm(1), &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("used"));
  EXPECT_EQ(testing::ReplyErrorInfo(s).reason(), "INVITATION_USED");

  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_MONTH, "2026-11"));
  EXPECT_EQ(index.respondents(), 1);
  // Only the all-4 response counts: 100.00.
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 100.0);
  EXPECT_EQ(index.elements(0).responses(), 1);
}

TEST_F(SatisfactionServiceTest, UnknownTokenIsNotFound) {
  Invitation invitation;
  grpc::Status s = GetInvitation("no-such-token-0123456789abcdef", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  Response response;
  s = Submit("no-such-token-0123456789abcdef", AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = GetInvitation("", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("token"));
}

// ---- staff invitations ----

TEST_F(SatisfactionServiceTest, StaffInvitationForOwnAgencyOnly) {
  const std::string request_id = NewRequestId();
  Invitation invitation;
  grpc::Status s =
      CreateInvitation(officer_, kAgency, "kantor-a", &invitation, request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(invitation.token().empty());
  EXPECT_EQ(invitation.source(), INVITATION_SOURCE_STAFF);
  EXPECT_EQ(invitation.template_id(), "skm");
  EXPECT_EQ(invitation.office_id(), "kantor-a");

  // A retry replies the same token.
  Invitation retry;
  s = CreateInvitation(officer_, kAgency, "kantor-a", &retry, request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retry.token(), invitation.token());
  // Derived, never stored: the token is in no Redis value, its hash is.
  absl::StatusOr<std::vector<std::string>> stored =
      env_->redis().WhereStored(invitation.token());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->empty()) << absl::StrJoin(*stored, ", ");
  stored = env_->redis().WhereStored(Sha256Hex(invitation.token()));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->empty());

  Invitation shown;
  ASSERT_TRUE(GetInvitation(invitation.token(), &shown).ok());
  EXPECT_EQ(shown.source(), INVITATION_SOURCE_STAFF);
  EXPECT_EQ(shown.officer_id(), "petugas-1");
  Response response;
  s = Submit(invitation.token(), AllSkm(4), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.source(), INVITATION_SOURCE_STAFF);
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICER, "petugas-1", PERIOD_KIND_YEAR, "2026"),
      1);

  // Staff of another agency.
  s = CreateInvitation(other_officer_, kAgency, "kantor-a", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A citizen.
  s = CreateInvitation(Token("citizen", "", "warga-1"), kAgency, "kantor-a",
                       &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // No token at all.
  s = CreateInvitation("", kAgency, "kantor-a", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // An office of another agency.
  s = CreateInvitation(officer_, kAgency, "kantor-samsat", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("office_id"));
  // An officer of another agency.
  s = CreateInvitation(officer_, kAgency, "kantor-a", &invitation,
                       NewRequestId(), "petugas-samsat");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("officer_id"));
  // An unknown office.
  s = CreateInvitation(officer_, kAgency, "kantor-zzz", &invitation);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SatisfactionServiceTest, ExpiredInvitationIsRefused) {
  Invitation invitation;
  ASSERT_TRUE(
      CreateInvitation(officer_, kAgency, "kantor-a", &invitation).ok());
  // Seven days and a minute later.
  clock_.Advance(absl::Hours(7 * 24) + absl::Minutes(1));
  Response response;
  grpc::Status s = Submit(invitation.token(), AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_YEAR, "2026"), 0);
}

// ---- kiosks ----

TEST_F(SatisfactionServiceTest, KioskIsRateLimitedPerRegisteredKiosk) {
  Response response;
  for (int i = 0; i < kKioskPerMinute; ++i) {
    grpc::Status s = AtKiosk("kantor-a", "kiosk-rate", AllSkm(4), &response);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
    EXPECT_EQ(response.source(), INVITATION_SOURCE_KIOSK);
    EXPECT_EQ(response.service_id(), "ktp");
    EXPECT_TRUE(response.officer_id().empty());
  }
  // The 4th within the minute (kiosk_per_minute 3).
  grpc::Status s = AtKiosk("kantor-a", "kiosk-rate", AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another registered kiosk is not held back.
  s = AtKiosk("kantor-a", "kiosk-other", AllSkm(4), &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // 3 + 1 counted; the refused one not.
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_DAY, "2026-11-23"),
      4);
  EXPECT_EQ(
      Respondents(SCOPE_KIND_SERVICE, "ktp", PERIOD_KIND_DAY, "2026-11-23"), 4);
  // The limit keys on the kiosk id: its rate key, and no other.
  const std::string rate_key = absl::StrCat(
      "prima:satisfaction:kiosk-rate:", KioskAt("kantor-a", "kiosk-rate").id);
  absl::StatusOr<RedisValue> count = env_->redis().Command({"GET", rate_key});
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->str, "3");
}

TEST_F(SatisfactionServiceTest, KioskRetryIsIdempotentAndNotRateCounted) {
  const std::string request_id = NewRequestId();
  Response first, again;
  ASSERT_TRUE(
      AtKiosk("kantor-a", "kiosk-1", AllSkm(4), &first, "ktp", "", request_id)
          .ok());
  ASSERT_TRUE(
      AtKiosk("kantor-a", "kiosk-1", AllSkm(4), &again, "ktp", "", request_id)
          .ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_DAY, "2026-11-23"),
      1);
}

TEST_F(SatisfactionServiceTest, KioskServiceMustBeOfTheAgency) {
  Response response;
  // stnk is samsat's service, kantor-a dukcapil's office.
  grpc::Status s = AtKiosk("kantor-a", "kiosk-1", AllSkm(4), &response, "stnk");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("service_id"));
  s = SubmitAs({"", "x"}, AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("kiosk.kiosk_id"));
  s = SubmitAs(KioskAt("kantor-a", "kiosk-1"), AllSkm(4), &response, "", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("kiosk.service_id"));
  s = SubmitAs({KioskAt("kantor-a", "kiosk-1").id, std::string(129, 'a')},
               AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("kiosk.kiosk_credential"));
  s = AtKiosk("kantor-a", "kiosk-1", AllSkm(4), &response, "ktp", "", "short");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Neither an invitation nor a kiosk.
  SubmitResponseRequest req;
  req.set_request_id(NewRequestId());
  for (const Answer& a : AllSkm(4)) *req.add_answers() = a;
  s = Call(&SatisfactionService::Stub::SubmitResponse, req, "", &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_YEAR, "2026"), 0);
}

// ---- registered kiosks ----

TEST_F(SatisfactionServiceTest, RegisteredKioskSubmitsAtItsOwnOffice) {
  Kiosk kiosk;
  grpc::Status s = RegisterKiosk("kantor-b", "Tablet lobi", admin_, &kiosk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(kiosk.id().size(), 26u);
  EXPECT_EQ(kiosk.office_id(), "kantor-b");
  EXPECT_EQ(kiosk.agency_id(), kAgency);
  EXPECT_EQ(kiosk.name(), "Tablet lobi");
  EXPECT_EQ(kiosk.create_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_FALSE(kiosk.has_revoke_time());
  EXPECT_EQ(kiosk.credential().size(), 32u);

  Response response;
  s = SubmitAs({kiosk.id(), kiosk.credential()}, AllSkm(4), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.office_id(), "kantor-b");
  EXPECT_EQ(response.agency_id(), kAgency);
  EXPECT_EQ(response.source(), INVITATION_SOURCE_KIOSK);
  // Naming its own office is fine too.
  s = SubmitAs({kiosk.id(), kiosk.credential()}, AllSkm(3), &response,
               "kantor-b");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-b", PERIOD_KIND_DAY, "2026-11-23"),
      2);
  EXPECT_EQ(
      Respondents(SCOPE_KIND_AGENCY, kAgency, PERIOD_KIND_DAY, "2026-11-23"),
      2);
  // (4 x 9 + 3 x 9) / 18 = 3.5 per element -> IKM 87.50, B.
  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-b",
                          Key(PERIOD_KIND_DAY, "2026-11-23"));
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 87.5);
}

TEST_F(SatisfactionServiceTest, KioskCredentialIsChecked) {
  const RegisteredKiosk kiosk = KioskAt("kantor-a", "kiosk-check");
  const RegisteredKiosk other = KioskAt("kantor-a", "kiosk-check-2");
  Response response;
  auto expect_denied = [&](const RegisteredKiosk& as, const std::string& office,
                           const std::string& reason,
                           const std::string& field) {
    grpc::Status s = SubmitAs(as, AllSkm(1), &response, office);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << as.id << "/" << as.credential << ": " << s.error_message();
    const google::rpc::ErrorInfo info = testing::ReplyErrorInfo(s);
    EXPECT_EQ(info.reason(), reason) << s.error_message();
    EXPECT_EQ(testing::Fact(info, "field"), field) << s.error_message();
  };
  // Wrong, missing, another kiosk's; an unknown kiosk answers the same.
  expect_denied({kiosk.id, "0123456789abcdef0123456789abcdef"}, "",
                "KIOSK_CREDENTIAL_INVALID", "kiosk.kiosk_credential");
  expect_denied({kiosk.id, ""}, "", "KIOSK_CREDENTIAL_INVALID",
                "kiosk.kiosk_credential");
  expect_denied({kiosk.id, other.credential}, "", "KIOSK_CREDENTIAL_INVALID",
                "kiosk.kiosk_credential");
  expect_denied({"kiosk-unknown", kiosk.credential}, "",
                "KIOSK_CREDENTIAL_INVALID", "kiosk.kiosk_credential");
  // The right credential at another office (of the agency, or not).
  expect_denied(kiosk, "kantor-b", "PERMISSION_DENIED", "kiosk.office_id");
  expect_denied(kiosk, "kantor-samsat", "PERMISSION_DENIED", "kiosk.office_id");
  // Nothing counted anywhere, no rate used.
  for (const char* office : {"kantor-a", "kantor-b", "kantor-samsat"}) {
    EXPECT_EQ(Respondents(SCOPE_KIND_OFFICE, office, PERIOD_KIND_YEAR, "2026"),
              0)
        << office;
  }
  for (int i = 0; i < kKioskPerMinute; ++i) {
    grpc::Status s = SubmitAs(kiosk, AllSkm(4), &response);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
}

TEST_F(SatisfactionServiceTest, RevokedKioskIsRefusedAtOnce) {
  const RegisteredKiosk kiosk = KioskAt("kantor-a", "kiosk-revoked");
  Response response;
  const std::string request_id = NewRequestId();
  ASSERT_TRUE(AtKiosk("kantor-a", "kiosk-revoked", AllSkm(4), &response, "ktp",
                      "", request_id)
                  .ok());
  const std::string accepted = response.id();
  RevokeKioskRequest revoke;
  revoke.set_request_id(NewRequestId());
  revoke.set_kiosk_id(kiosk.id);
  Kiosk revoked;
  grpc::Status s =
      Call(&SatisfactionService::Stub::RevokeKiosk, revoke, admin_, &revoked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(revoked.id(), kiosk.id);
  EXPECT_EQ(revoked.revoke_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_TRUE(revoked.credential().empty());

  s = SubmitAs(kiosk, AllSkm(4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(testing::ReplyErrorInfo(s).reason(), "KIOSK_REVOKED");
  // A retry of the response accepted before still gets it (idempotency),
  // counting nothing more.
  Response retried;
  s = AtKiosk("kantor-a", "kiosk-revoked", AllSkm(4), &retried, "ktp", "",
              request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retried.id(), accepted);
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_DAY, "2026-11-23"),
      1);

  // Revoking again (another request) changes nothing; a retry replays.
  clock_.Advance(absl::Minutes(5));
  Kiosk again;
  revoke.set_request_id(NewRequestId());
  s = Call(&SatisfactionService::Stub::RevokeKiosk, revoke,
           Token("region_admin"), &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.revoke_time().seconds(), revoked.revoke_time().seconds());
  // Unknown kiosks.
  revoke.set_kiosk_id("kiosk-unknown");
  s = Call(&SatisfactionService::Stub::RevokeKiosk, revoke, admin_, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SatisfactionServiceTest, RegisterKioskRetryGivesTheSameCredential) {
  const std::string request_id = NewRequestId();
  Kiosk first, again;
  ASSERT_TRUE(
      RegisterKiosk("kantor-a", "Tablet", admin_, &first, request_id).ok());
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(
      RegisterKiosk("kantor-a", "Tablet", admin_, &again, request_id).ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(again.credential(), first.credential());
  EXPECT_FALSE(first.credential().empty());
  // One kiosk, not two.
  ListKiosksRequest list;
  list.set_agency_id(kAgency);
  ListKiosksResponse listed;
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::ListKiosks, list, officer_, &listed)
          .ok());
  EXPECT_EQ(listed.kiosks_size(), 1);
  // The same request_id for another request is refused.
  grpc::Status s =
      RegisterKiosk("kantor-b", "Tablet", admin_, &again, request_id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(SatisfactionServiceTest, KioskCredentialIsStoredNowhere) {
  ASSERT_TRUE(env_->redis().EnableAppendOnly().ok());
  const std::string request_id = NewRequestId();
  Kiosk kiosk;
  ASSERT_TRUE(
      RegisterKiosk("kantor-a", "Tablet", admin_, &kiosk, request_id).ok());
  ASSERT_TRUE(
      RegisterKiosk("kantor-a", "Tablet", admin_, &kiosk, request_id).ok());
  const RegisteredKiosk registered{kiosk.id(), kiosk.credential()};
  Response response;
  ASSERT_TRUE(SubmitAs(registered, AllSkm(4), &response).ok());
  EXPECT_EQ(SubmitAs({kiosk.id(), kiosk.credential()}, AllSkm(4), &response,
                     "kantor-b")
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  RevokeKioskRequest revoke;
  revoke.set_request_id(NewRequestId());
  revoke.set_kiosk_id(kiosk.id());
  Kiosk revoked;
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::RevokeKiosk, revoke, admin_, &revoked)
          .ok());
  absl::StatusOr<std::vector<std::string>> where =
      env_->redis().WhereStored(kiosk.credential());
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_THAT(*where, ::testing::IsEmpty());
  // Its hash is what is kept.
  where = env_->redis().WhereStored(Sha256Hex(kiosk.credential()));
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_THAT(*where, ::testing::Contains(absl::StrCat(
                          "prima:satisfaction:kiosk:", kiosk.id())));
}

TEST_F(SatisfactionServiceTest, ListKiosksPagesAndNeverShowsCredentials) {
  std::vector<std::string> ids;
  for (const char* office : {"kantor-a", "kantor-b", "kantor-a"}) {
    Kiosk kiosk;
    ASSERT_TRUE(RegisterKiosk(office, "Tablet", admin_, &kiosk).ok());
    ids.push_back(kiosk.id());
    clock_.Advance(absl::Milliseconds(5));
  }
  Kiosk foreign;
  ASSERT_TRUE(
      RegisterKiosk("kantor-samsat", "Tablet", other_admin_, &foreign).ok());

  ListKiosksRequest list;
  list.set_agency_id(kAgency);
  list.mutable_page()->set_page_size(2);
  ListKiosksResponse page;
  grpc::Status s =
      Call(&SatisfactionService::Stub::ListKiosks, list, officer_, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.kiosks_size(), 2);
  EXPECT_EQ(page.kiosks(0).id(), ids[0]);
  EXPECT_EQ(page.kiosks(1).id(), ids[1]);
  ASSERT_FALSE(page.page().next_page_token().empty());
  list.mutable_page()->set_page_token(page.page().next_page_token());
  ListKiosksResponse last;
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::ListKiosks, list, officer_, &last).ok());
  ASSERT_EQ(last.kiosks_size(), 1);
  EXPECT_EQ(last.kiosks(0).id(), ids[2]);
  EXPECT_TRUE(last.page().next_page_token().empty());
  for (const ListKiosksResponse* r : {&page, &last}) {
    for (const Kiosk& k : r->kiosks()) {
      EXPECT_TRUE(k.credential().empty()) << k.id();
      EXPECT_EQ(k.agency_id(), kAgency);
    }
  }

  // One office.
  list.Clear();
  list.set_agency_id(kAgency);
  list.set_office_id("kantor-b");
  ListKiosksResponse office;
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::ListKiosks, list, admin_, &office).ok());
  ASSERT_EQ(office.kiosks_size(), 1);
  EXPECT_EQ(office.kiosks(0).id(), ids[1]);
  EXPECT_EQ(office.kiosks(0).office_id(), "kantor-b");
  // Another agency's office, another agency's staff, no token.
  list.set_office_id("kantor-samsat");
  s = Call(&SatisfactionService::Stub::ListKiosks, list, admin_, &office);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  list.clear_office_id();
  s = Call(&SatisfactionService::Stub::ListKiosks, list, other_officer_,
           &office);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Call(&SatisfactionService::Stub::ListKiosks, list, "", &office);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SatisfactionServiceTest, OnlyAdminsOfTheAgencyManageKiosks) {
  Kiosk kiosk;
  // Another agency's admin, an officer, a citizen, nobody.
  grpc::Status s = RegisterKiosk("kantor-a", "Tablet", other_admin_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = RegisterKiosk("kantor-a", "Tablet", officer_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = RegisterKiosk("kantor-a", "Tablet", Token("citizen"), &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = RegisterKiosk("kantor-a", "Tablet", "", &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Bad input names the field; an unknown office is NOT_FOUND.
  s = RegisterKiosk("kantor-a", "", admin_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("name"));
  s = RegisterKiosk("kantor-a", std::string(201, 'x'), admin_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("name"));
  s = RegisterKiosk("Kantor A", "Tablet", admin_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("office_id"));
  s = RegisterKiosk("kantor-zzz", "Tablet", admin_, &kiosk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // Revoking: only admins of the kiosk's agency.
  const RegisteredKiosk registered = KioskAt("kantor-a", "kiosk-admins");
  RevokeKioskRequest revoke;
  revoke.set_request_id(NewRequestId());
  revoke.set_kiosk_id(registered.id);
  Kiosk out;
  for (const std::string& token : {other_admin_, officer_}) {
    s = Call(&SatisfactionService::Stub::RevokeKiosk, revoke, token, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // Still working.
  Response response;
  s = SubmitAs(registered, AllSkm(4), &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// ---- validation ----

TEST_F(SatisfactionServiceTest, AnswersAreValidatedNamingTheField) {
  Response response;
  auto expect_invalid = [&](const std::vector<Answer>& answers,
                            const std::string& field) {
    grpc::Status s = AtKiosk("kantor-a", absl::StrCat("kiosk-", ++kiosk_seq_),
                             answers, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  };
  std::vector<Answer> answers = AllSkm(4);
  answers[2].set_code("U10");
  expect_invalid(answers, "answers[2].code");
  answers = AllSkm(4);
  answers[4].set_value(5);  // SKM is 1-4
  expect_invalid(answers, "answers[4].value");
  answers = AllSkm(4);
  answers[4].set_value(0);
  expect_invalid(answers, "answers[4].value");
  answers = AllSkm(4);
  answers[1].set_code("U1");  // U1 twice
  expect_invalid(answers, "answers[1].code");
  expect_invalid({}, "answers");
  answers = AllSkm(4);
  answers[0].set_expectation(3);  // skm asks no expectation
  expect_invalid(answers, "answers[0].expectation");

  SubmitResponseRequest req;
  req.set_request_id(NewRequestId());
  const RegisteredKiosk profile_kiosk = KioskAt("kantor-a", "kiosk-profile");
  req.mutable_kiosk()->set_kiosk_id(profile_kiosk.id);
  req.mutable_kiosk()->set_kiosk_credential(profile_kiosk.credential);
  req.mutable_kiosk()->set_service_id("ktp");
  for (const Answer& a : AllSkm(4)) *req.add_answers() = a;
  req.mutable_profile()->set_age(10);
  grpc::Status s =
      Call(&SatisfactionService::Stub::SubmitResponse, req, "", &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("profile.age"));
  req.mutable_profile()->set_age(0);
  req.set_comment(std::string(2001, 'x'));
  s = Call(&SatisfactionService::Stub::SubmitResponse, req, "", &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("comment"));

  // A valid profile, and fewer than nine answers, are accepted.
  req.set_comment("Pelayanan cepat.");
  req.mutable_profile()->set_age(34);
  req.mutable_profile()->set_sex(RespondentProfile::SEX_FEMALE);
  req.mutable_profile()->set_education(RespondentProfile::EDUCATION_S1);
  req.clear_answers();
  for (const Answer& a : Skm({4, 2})) *req.add_answers() = a;
  s = Call(&SatisfactionService::Stub::SubmitResponse, req, "", &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.profile().age(), 34);
  // Nothing refused was counted; the last one has U1 = 4 and U2 = 2 only:
  // k = 2 answered elements, IKM = 4/2 + 2/2 = 3.0 -> 75.00, C.
  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_DAY, "2026-11-23"));
  EXPECT_EQ(index.respondents(), 1);
  EXPECT_EQ(index.elements(2).responses(), 0);
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 75.0);
  EXPECT_EQ(index.mutu(), MUTU_C);
  EXPECT_EQ(index.kinerja(), "Kurang Baik");
}

// ---- periods in the office's time zone ----

TEST_F(SatisfactionServiceTest, PeriodsFollowTheOfficeTimeZone) {
  // 2026-12-31 16:30 UTC = 2027-01-01 00:30 WITA = 2026-12-31 23:30 WIB.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 31, 16, 30, 0),
                             absl::UTCTimeZone()));
  Response wita, wib;
  ASSERT_TRUE(AtKiosk("kantor-makassar", "kiosk-wita", AllSkm(4), &wita).ok());
  ASSERT_TRUE(AtKiosk("kantor-a", "kiosk-wib", AllSkm(3), &wib).ok());
  EXPECT_EQ(wita.local_date().year(), 2027);
  EXPECT_EQ(wita.local_date().month(), 1);
  EXPECT_EQ(wita.local_date().day(), 1);
  EXPECT_EQ(wib.local_date().year(), 2026);
  EXPECT_EQ(wib.local_date().month(), 12);
  EXPECT_EQ(wib.local_date().day(), 31);

  const std::vector<std::pair<PeriodKind, std::string>> in2027 = {
      {PERIOD_KIND_DAY, "2027-01-01"},
      {PERIOD_KIND_MONTH, "2027-01"},
      {PERIOD_KIND_QUARTER, "2027-Q1"},
      {PERIOD_KIND_SEMESTER, "2027-S1"},
      {PERIOD_KIND_YEAR, "2027"}};
  const std::vector<std::pair<PeriodKind, std::string>> in2026 = {
      {PERIOD_KIND_DAY, "2026-12-31"},
      {PERIOD_KIND_MONTH, "2026-12"},
      {PERIOD_KIND_QUARTER, "2026-Q4"},
      {PERIOD_KIND_SEMESTER, "2026-S2"},
      {PERIOD_KIND_YEAR, "2026"}};
  for (const auto& [kind, key] : in2027) {
    EXPECT_EQ(Respondents(SCOPE_KIND_OFFICE, "kantor-makassar", kind, key), 1)
        << key;
    EXPECT_EQ(Respondents(SCOPE_KIND_OFFICE, "kantor-a", kind, key), 0) << key;
  }
  for (const auto& [kind, key] : in2026) {
    EXPECT_EQ(Respondents(SCOPE_KIND_OFFICE, "kantor-a", kind, key), 1) << key;
    EXPECT_EQ(Respondents(SCOPE_KIND_OFFICE, "kantor-makassar", kind, key), 0)
        << key;
  }
  // The agency has one in each year: all-4 in 2027 (100.00), all-3 in 2026
  // (75.00).
  Index y2027 =
      MustIndex(SCOPE_KIND_AGENCY, kAgency, Key(PERIOD_KIND_YEAR, "2027"));
  EXPECT_EQ(y2027.respondents(), 1);
  EXPECT_DOUBLE_EQ(y2027.ikm_converted(), 100.0);
  Index y2026 =
      MustIndex(SCOPE_KIND_AGENCY, kAgency, Key(PERIOD_KIND_YEAR, "2026"));
  EXPECT_EQ(y2026.respondents(), 1);
  EXPECT_DOUBLE_EQ(y2026.ikm_converted(), 75.0);
  // The reply carries the period's dates: 2027-Q1 is 01-01..03-31.
  Index q1 = MustIndex(SCOPE_KIND_OFFICE, "kantor-makassar",
                       Key(PERIOD_KIND_QUARTER, "2027-Q1"));
  EXPECT_EQ(q1.period().first_date().month(), 1);
  EXPECT_EQ(q1.period().last_date().month(), 3);
  EXPECT_EQ(q1.period().last_date().day(), 31);
}

// ---- GetIndex ranges and errors ----

TEST_F(SatisfactionServiceTest, CustomRangeSumsDaysAndBadPeriodsAreRefused) {
  // Monday 2026-11-23: all 4; Tuesday 11-24: all 2; Wednesday 11-25: none.
  MustKiosk("kantor-b", AllSkm(4));
  clock_.Advance(absl::Hours(24));
  MustKiosk("kantor-b", AllSkm(2));

  Index two = MustIndex(
      SCOPE_KIND_OFFICE, "kantor-b",
      Range(absl::CivilDay(2026, 11, 23), absl::CivilDay(2026, 11, 24)));
  // Two respondents; each NRR (4+2)/2 = 3; IKM 3.0 -> 75.00, C.
  EXPECT_EQ(two.respondents(), 2);
  EXPECT_EQ(two.elements(0).responses(), 2);
  EXPECT_DOUBLE_EQ(two.elements(0).nrr(), 3.0);
  EXPECT_DOUBLE_EQ(two.ikm_converted(), 75.0);
  EXPECT_EQ(two.mutu(), MUTU_C);
  EXPECT_EQ(two.period().kind(), PERIOD_KIND_CUSTOM);

  Index later = MustIndex(
      SCOPE_KIND_OFFICE, "kantor-b",
      Range(absl::CivilDay(2026, 11, 24), absl::CivilDay(2026, 11, 25)));
  // Only Tuesday's all-2: 2 x 25 = 50.00, D, "Tidak Baik".
  EXPECT_EQ(later.respondents(), 1);
  EXPECT_DOUBLE_EQ(later.ikm_converted(), 50.0);
  EXPECT_EQ(later.mutu(), MUTU_D);
  EXPECT_EQ(later.kinerja(), "Tidak Baik");

  Index out;
  grpc::Status s = GetIndex(
      SCOPE_KIND_OFFICE, "kantor-b",
      Range(absl::CivilDay(2026, 11, 24), absl::CivilDay(2026, 11, 23)), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.last_date"));
  // 2026-01-01..2027-01-01 is 365 + 1 = 366 days: the most allowed.
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b",
               Range(absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 1)),
               &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.respondents(), 2);
  // ..2027-01-02 is 367 days.
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b",
               Range(absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 2)),
               &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.last_date"));
  // A month key for a day period.
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b", Key(PERIOD_KIND_DAY, "2026-11"),
               &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.key"));
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b",
               Key(PERIOD_KIND_QUARTER, "2026-S2"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.key"));
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b",
               Key(PERIOD_KIND_UNSPECIFIED, "2026-11"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.kind"));
  s = GetIndex(SCOPE_KIND_UNSPECIFIED, "kantor-b",
               Key(PERIOD_KIND_MONTH, "2026-11"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("scope.kind"));
  s = GetIndex(SCOPE_KIND_OFFICE, "", Key(PERIOD_KIND_MONTH, "2026-11"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("scope.id"));
  s = GetIndex(SCOPE_KIND_OFFICE, "kantor-b", Key(PERIOD_KIND_MONTH, "2026-11"),
               &out, "no-such-template");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

// ---- rankings ----

TEST_F(SatisfactionServiceTest, RankOfficesByIkmBestFirst) {
  // kantor-a: all 4 -> 100.00, A.
  MustKiosk("kantor-a", AllSkm(4));
  // kantor-b: all 3 -> 75.00, C.
  MustKiosk("kantor-b", AllSkm(3));
  // kantor-makassar: all 4 and all 3 -> NRR 3.5 each -> 87.50, B.
  MustKiosk("kantor-makassar", AllSkm(4));
  MustKiosk("kantor-makassar", AllSkm(3));
  // samsat's office: all 2 -> 50.00, D.
  MustKiosk("kantor-samsat", AllSkm(2), "stnk");
  // kantor-c: no responses.

  RankOfficesRequest req;
  req.set_agency_id(kAgency);
  *req.mutable_period() = Key(PERIOD_KIND_MONTH, "2026-11");
  Ranking ranking;
  grpc::Status s =
      Call(&SatisfactionService::Stub::RankOffices, req, "", &ranking);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ranking.template_id(), "skm");
  ASSERT_EQ(ranking.entries_size(), 3);
  EXPECT_EQ(ranking.entries(0).id(), "kantor-a");
  EXPECT_DOUBLE_EQ(ranking.entries(0).ikm_converted(), 100.0);
  EXPECT_EQ(ranking.entries(0).mutu(), MUTU_A);
  EXPECT_EQ(ranking.entries(1).id(), "kantor-makassar");
  EXPECT_DOUBLE_EQ(ranking.entries(1).ikm_converted(), 87.5);
  EXPECT_EQ(ranking.entries(1).mutu(), MUTU_B);
  EXPECT_EQ(ranking.entries(1).respondents(), 2);
  EXPECT_EQ(ranking.entries(2).id(), "kantor-b");
  EXPECT_DOUBLE_EQ(ranking.entries(2).ikm_converted(), 75.0);
  EXPECT_EQ(ranking.entries(2).mutu(), MUTU_C);

  // The whole region: samsat's office last.
  req.clear_agency_id();
  ranking.Clear();
  s = Call(&SatisfactionService::Stub::RankOffices, req, "", &ranking);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(ranking.entries_size(), 4);
  EXPECT_EQ(ranking.entries(3).id(), "kantor-samsat");
  EXPECT_DOUBLE_EQ(ranking.entries(3).ikm_converted(), 50.0);

  // Another month: nobody.
  *req.mutable_period() = Key(PERIOD_KIND_MONTH, "2026-10");
  ranking.Clear();
  s = Call(&SatisfactionService::Stub::RankOffices, req, "", &ranking);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ranking.entries_size(), 0);

  // Agencies: dukcapil's four responses per element 4+3+4+3 = 14 / 4 = 3.5
  // -> 87.50, B; samsat 50.00.
  RankAgenciesRequest agencies;
  *agencies.mutable_period() = Key(PERIOD_KIND_MONTH, "2026-11");
  ranking.Clear();
  s = Call(&SatisfactionService::Stub::RankAgencies, agencies, "", &ranking);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(ranking.entries_size(), 2);
  EXPECT_EQ(ranking.entries(0).id(), kAgency);
  EXPECT_DOUBLE_EQ(ranking.entries(0).ikm_converted(), 87.5);
  EXPECT_EQ(ranking.entries(0).respondents(), 4);
  EXPECT_EQ(ranking.entries(1).id(), kOtherAgency);

  // Rankings are of named periods only.
  *agencies.mutable_period() =
      Range(absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 11, 30));
  s = Call(&SatisfactionService::Stub::RankAgencies, agencies, "", &ranking);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("period.kind"));
}

// ---- templates ----

Template CustomTemplate(const std::string& agency, const std::string& id) {
  Template t;
  t.set_id(id);
  t.set_agency_id(agency);
  t.set_name("Survei Layanan Prima");
  t.set_kind(TEMPLATE_KIND_SKM);
  for (const char* code : {"K1", "K2", "K3"}) {
    Dimension* d = t.add_dimensions();
    d->set_code(code);
    d->set_name(absl::StrCat("Unsur ", code));
    d->set_scale_min(1);
    d->set_scale_max(4);
  }
  return t;
}

TEST_F(SatisfactionServiceTest, TemplatesBuiltInAndCustom) {
  ListTemplatesRequest list;
  ListTemplatesResponse templates;
  grpc::Status s =
      Call(&SatisfactionService::Stub::ListTemplates, list, "", &templates);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> ids;
  for (const Template& t : templates.templates()) ids.push_back(t.id());
  EXPECT_THAT(
      ids, ::testing::UnorderedElementsAre("skm", "gaspersz-10", "csat-nps"));
  GetTemplateRequest get;
  get.set_template_id("skm");
  Template skm;
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::GetTemplate, get, "", &skm).ok());
  EXPECT_EQ(skm.kind(), TEMPLATE_KIND_SKM);
  ASSERT_EQ(skm.dimensions_size(), 9);
  EXPECT_EQ(skm.dimensions(8).code(), "U9");
  EXPECT_EQ(skm.dimensions(0).scale_max(), 4);

  SaveTemplateRequest save;
  save.set_request_id(NewRequestId());
  *save.mutable_template_() = CustomTemplate(kAgency, "layanan-prima");
  Template saved;
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, admin_, &saved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(saved.version(), 1);
  EXPECT_EQ(saved.agency_id(), kAgency);
  save.set_request_id(NewRequestId());
  save.mutable_template_()->set_name("Survei Layanan Prima v2");
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, admin_, &saved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(saved.version(), 2);

  list.set_agency_id(kAgency);
  templates.Clear();
  ASSERT_TRUE(
      Call(&SatisfactionService::Stub::ListTemplates, list, "", &templates)
          .ok());
  ASSERT_EQ(templates.templates_size(), 4);
  EXPECT_EQ(templates.templates(3).id(), "layanan-prima");
  EXPECT_EQ(templates.templates(3).version(), 2);

  // A kiosk answers the custom template (its latest version).
  Response response;
  std::vector<Answer> answers;
  for (const auto& [code, value] : std::vector<std::pair<std::string, int>>{
           {"K1", 4}, {"K2", 3}, {"K3", 2}}) {
    Answer a;
    a.set_code(code);
    a.set_value(value);
    answers.push_back(a);
  }
  s = AtKiosk("kantor-a", "kiosk-custom", answers, &response, "ktp",
              "layanan-prima");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.template_id(), "layanan-prima");
  EXPECT_EQ(response.template_version(), 2);
  // K1..K3 = 4, 3, 2: IKM = (4+3+2)/3 = 3.0 -> 75.00.
  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_MONTH, "2026-11"), "layanan-prima");
  EXPECT_EQ(index.respondents(), 1);
  EXPECT_EQ(index.template_id(), "layanan-prima");
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 75.0);
  // The skm index of the office is untouched.
  EXPECT_EQ(
      Respondents(SCOPE_KIND_OFFICE, "kantor-a", PERIOD_KIND_MONTH, "2026-11"),
      0);
  // The skm codes are not the custom template's.
  s = AtKiosk("kantor-a", "kiosk-custom-2", AllSkm(4), &response, "ktp",
              "layanan-prima");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Another agency's office cannot use dukcapil's template.
  s = AtKiosk("kantor-samsat", "kiosk-custom-3", answers, &response, "stnk",
              "layanan-prima");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // Staff of samsat cannot invite with dukcapil's template: nobody could
  // answer that invitation.
  Invitation invitation;
  s = CreateInvitation(other_officer_, kOtherAgency, "kantor-samsat",
                       &invitation, NewRequestId(), "", "layanan-prima");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("template_id"));
  // dukcapil's staff can; the invitation carries the latest version.
  s = CreateInvitation(officer_, kAgency, "kantor-a", &invitation,
                       NewRequestId(), "", "layanan-prima");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(invitation.template_id(), "layanan-prima");
  EXPECT_EQ(invitation.template_version(), 2);
  s = Submit(invitation.token(), answers, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.template_version(), 2);

  // Another agency's admin.
  save.set_request_id(NewRequestId());
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, other_admin_,
           &saved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // An officer is not an admin.
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, officer_, &saved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The built-in ids are reserved.
  save.set_request_id(NewRequestId());
  save.mutable_template_()->set_id("skm");
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, admin_, &saved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("template.id"));
  // Duplicate codes.
  save.set_request_id(NewRequestId());
  *save.mutable_template_() = CustomTemplate(kAgency, "layanan-lain");
  save.mutable_template_()->mutable_dimensions(1)->set_code("K1");
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, admin_, &saved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("template.dimensions[1].code"));
  // samsat cannot take over dukcapil's id.
  save.set_request_id(NewRequestId());
  *save.mutable_template_() = CustomTemplate(kOtherAgency, "layanan-prima");
  s = Call(&SatisfactionService::Stub::SaveTemplate, save, other_admin_,
           &saved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(SatisfactionServiceTest, TrendIsASeriesByDayOrMonth) {
  // Monday 2026-11-23: all 4 and all 2 (IKM 3.0 -> 75.00 C); Tuesday: none;
  // Wednesday 11-25: all 4 (100.00 A); 2026-12-01: all 1 (25.00 D).
  MustKiosk("kantor-b", AllSkm(4));
  MustKiosk("kantor-b", AllSkm(2));
  clock_.Advance(absl::Hours(48));
  MustKiosk("kantor-b", AllSkm(4));
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 1, 10, 0, 0),
                             absl::FixedTimeZone(7 * 3600)));
  MustKiosk("kantor-b", AllSkm(1));

  auto date = [](int y, int m, int d) {
    prima::common::v1::LocalDate out;
    out.set_year(y);
    out.set_month(m);
    out.set_day(d);
    return out;
  };
  GetTrendRequest req;
  req.mutable_scope()->set_kind(SCOPE_KIND_OFFICE);
  req.mutable_scope()->set_id("kantor-b");
  req.set_granularity(GRANULARITY_DAY);
  *req.mutable_first_date() = date(2026, 11, 23);
  *req.mutable_last_date() = date(2026, 11, 25);
  Trend trend;
  grpc::Status s = Call(&SatisfactionService::Stub::GetTrend, req, "", &trend);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(trend.points_size(), 3);
  EXPECT_EQ(trend.points(0).period(), "2026-11-23");
  EXPECT_EQ(trend.points(0).respondents(), 2);
  EXPECT_DOUBLE_EQ(trend.points(0).ikm_converted(), 75.0);
  EXPECT_EQ(trend.points(0).mutu(), MUTU_C);
  EXPECT_EQ(trend.points(1).respondents(), 0);
  EXPECT_EQ(trend.points(1).mutu(), MUTU_UNSPECIFIED);
  EXPECT_DOUBLE_EQ(trend.points(2).ikm_converted(), 100.0);

  req.set_granularity(GRANULARITY_MONTH);
  *req.mutable_last_date() = date(2026, 12, 31);
  ASSERT_TRUE(Call(&SatisfactionService::Stub::GetTrend, req, "", &trend).ok());
  ASSERT_EQ(trend.points_size(), 2);
  // November: 4, 2, 4 per element -> NRR 10/3, IKM x25 = 83.33, B.
  EXPECT_EQ(trend.points(0).period(), "2026-11");
  EXPECT_EQ(trend.points(0).respondents(), 3);
  EXPECT_DOUBLE_EQ(trend.points(0).ikm_converted(), 83.33);
  EXPECT_EQ(trend.points(0).mutu(), MUTU_B);
  EXPECT_EQ(trend.points(1).period(), "2026-12");
  EXPECT_DOUBLE_EQ(trend.points(1).ikm_converted(), 25.0);

  req.set_granularity(GRANULARITY_UNSPECIFIED);
  s = Call(&SatisfactionService::Stub::GetTrend, req, "", &trend);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("granularity"));
  req.set_granularity(GRANULARITY_DAY);
  *req.mutable_last_date() = date(2027, 12, 31);
  s = Call(&SatisfactionService::Stub::GetTrend, req, "", &trend);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("last_date"));
}

// ---- invitations from resolved complaints ----

TEST_F(SatisfactionServiceTest, ResolvedComplaintInvites) {
  complaint::ComplaintOptions options;
  options.sweep_interval = absl::Milliseconds(50);
  auto bundle = complaint::MakeComplaintService(env_->environment(), options);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  complaint_bundle_ = std::move(*bundle);
  auto server = TestServer::Start({complaint_bundle_.services[0].get()});
  ASSERT_TRUE(server.ok()) << server.status();
  complaint_server_ = std::move(*server);
  auto stub = cv1::ComplaintService::NewStub(complaint_server_->NewChannel());
  auto call = [&](auto rpc, const auto& req, const std::string& token) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    cv1::Complaint out;
    grpc::Status s = (stub.get()->*rpc)(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };

  cv1::FileComplaintRequest file;
  file.set_request_id(NewRequestId());
  cv1::Complaint* c = file.mutable_complaint();
  c->set_agency_id(kAgency);
  c->set_office_id("kantor-a");
  c->set_service_id("ktp");
  c->set_classification(cv1::CLASSIFICATION_PENGADUAN);
  c->set_category(cv1::CATEGORY_SERVICE_RELATED);
  c->set_title("Antrian KTP terlalu lama");
  c->set_description("Saya menunggu lebih dari tiga jam tanpa kejelasan.");
  c->set_channel(cv1::CHANNEL_MOBILE);
  const cv1::Complaint filed =
      call(&cv1::ComplaintService::Stub::FileComplaint, file, "");
  ASSERT_FALSE(filed.receipt_secret().empty());
  const std::string tn = filed.tracking_number();

  cv1::TransitionRequest move;
  move.set_tracking_number(tn);
  move.set_request_id(NewRequestId());
  call(&cv1::ComplaintService::Stub::Verify, move, officer_);
  cv1::AssignRequest assign;
  assign.set_request_id(NewRequestId());
  assign.set_tracking_number(tn);
  assign.set_officer_id("petugas-1");
  call(&cv1::ComplaintService::Stub::Assign, assign, officer_);
  move.set_request_id(NewRequestId());
  call(&cv1::ComplaintService::Stub::StartWork, move, officer_);
  cv1::ResolveRequest resolve;
  resolve.set_request_id(NewRequestId());
  resolve.set_tracking_number(tn);
  resolve.set_resolution("Loket tambahan dibuka mulai minggu ini.");
  call(&cv1::ComplaintService::Stub::Resolve, resolve, officer_);

  Invitation invitation;
  grpc::Status s = AwaitInvitation(filed.receipt_secret(), &invitation);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(invitation.source(), INVITATION_SOURCE_COMPLAINT);
  EXPECT_EQ(invitation.office_id(), "kantor-a");
  EXPECT_EQ(invitation.agency_id(), kAgency);
  EXPECT_EQ(invitation.template_id(), "skm");
  Response response;
  s = Submit(filed.receipt_secret(), AllSkm(3), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.source(), INVITATION_SOURCE_COMPLAINT);
  // A complaint is no served visit: respondents 1, population 0.
  Index index = MustIndex(SCOPE_KIND_OFFICE, "kantor-a",
                          Key(PERIOD_KIND_MONTH, "2026-11"));
  EXPECT_EQ(index.respondents(), 1);
  EXPECT_EQ(index.population(), 0);
  EXPECT_DOUBLE_EQ(index.ikm_converted(), 75.0);
}

// ---- the improvement loop ----

TEST_F(SatisfactionServiceTest, ScoreSettingsAreForTheAgencysAdmins) {
  UpdateScoreSettingsRequest req;
  req.set_request_id(NewRequestId());
  req.mutable_settings()->set_agency_id(kAgency);
  req.mutable_settings()->set_low_element_threshold(85);
  ScoreSettings out;
  grpc::Status s =
      Call(&SatisfactionService::Stub::UpdateScoreSettings, req, admin_, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.agency_id(), kAgency);
  EXPECT_DOUBLE_EQ(out.low_element_threshold(), 85);

  req.set_request_id(NewRequestId());
  EXPECT_EQ(
      Call(&SatisfactionService::Stub::UpdateScoreSettings, req, officer_, &out)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&SatisfactionService::Stub::UpdateScoreSettings, req,
                 other_admin_, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (double bad : {20.0, 100.5, -1.0}) {
    req.mutable_settings()->set_low_element_threshold(bad);
    s = Call(&SatisfactionService::Stub::UpdateScoreSettings, req, admin_,
             &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(s.error_message(), HasSubstr("settings.low_element_threshold"));
  }
  req.mutable_settings()->set_low_element_threshold(0);
  req.mutable_settings()->set_agency_id("");
  s = Call(&SatisfactionService::Stub::UpdateScoreSettings, req, admin_, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("settings.agency_id"));
}

TEST_F(SatisfactionServiceTest, LowElementsOfAClosedMonthAreReportedOnce) {
  StartReplica();
  // kantor-a (WIB): U6 3 and 3 -> NRR 3.00, 75.00 (C); U7 2 and 1 -> NRR
  // 1.50, 37.50 (D); the rest 4 (100.00).
  MustKiosk("kantor-a", Skm({4, 4, 4, 4, 4, 3, 2, 4, 4}));
  MustKiosk("kantor-a", Skm({4, 4, 4, 4, 4, 3, 1, 4, 4}));
  // kantor-b (WIB): U3 4 and 3 -> 87.50 (B): low only under the agency's
  // threshold of 90.
  MustKiosk("kantor-b", Skm({4, 4, 4, 4, 4, 4, 4, 4, 4}));
  MustKiosk("kantor-b", Skm({4, 4, 3, 4, 4, 4, 4, 4, 4}));
  // kantor-makassar (WITA): U7 2 and 2 -> 50.00 (D).
  MustKiosk("kantor-makassar", Skm({4, 4, 4, 4, 4, 4, 2, 4, 4}));
  MustKiosk("kantor-makassar", Skm({4, 4, 4, 4, 4, 4, 2, 4, 4}));
  UpdateScoreSettingsRequest settings;
  settings.set_request_id(NewRequestId());
  settings.mutable_settings()->set_agency_id(kAgency);
  settings.mutable_settings()->set_low_element_threshold(90);
  ScoreSettings saved;
  ASSERT_TRUE(Call(&SatisfactionService::Stub::UpdateScoreSettings, settings,
                   admin_, &saved)
                  .ok());

  // While November runs, nothing is reported.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(ElementLowEvents().empty());

  // 2026-11-30 23:30 WIB = 2026-12-01 00:30 WITA: November is over in
  // Makassar only.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 16, 30, 0),
                             absl::UTCTimeZone()));
  std::vector<events::v1::SatisfactionElementLow> low = AwaitElementLow(1);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].office_id(), "kantor-makassar");
  EXPECT_EQ(low[0].scope(), "office");
  EXPECT_EQ(low[0].scope_id(), "kantor-makassar");
  EXPECT_EQ(low[0].period(), "2026-11");
  EXPECT_EQ(low[0].element(), "U7");
  EXPECT_DOUBLE_EQ(low[0].score(), 50.0);
  EXPECT_EQ(low[0].mutu(), "D");
  EXPECT_EQ(low[0].template_id(), "skm");
  EXPECT_THAT(low[0].competencies(),
              ::testing::ElementsAre("service-attitude"));
  EXPECT_EQ(low[0].answers(), 2);
  EXPECT_DOUBLE_EQ(low[0].threshold(), 90);

  // 2026-12-01 00:30 WIB: over in Jakarta too. Two replicas sweep; each
  // event is there once.
  clock_.Advance(absl::Hours(1));
  low = AwaitElementLow(4);
  ASSERT_EQ(low.size(), 4u);
  std::map<std::string, events::v1::SatisfactionElementLow> by_key;
  for (const auto& l : low) {
    by_key[absl::StrCat(l.office_id(), "/", l.element())] = l;
  }
  ASSERT_EQ(by_key.size(), 4u);
  const auto& u6 = by_key["kantor-a/U6"];
  EXPECT_DOUBLE_EQ(u6.score(), 75.0);
  EXPECT_EQ(u6.mutu(), "C");
  EXPECT_THAT(u6.competencies(), ::testing::UnorderedElementsAre(
                                     "service-standards", "service-attitude"));
  const auto& u7 = by_key["kantor-a/U7"];
  EXPECT_DOUBLE_EQ(u7.score(), 37.5);
  EXPECT_EQ(u7.mutu(), "D");
  const auto& u3 = by_key["kantor-b/U3"];
  EXPECT_DOUBLE_EQ(u3.score(), 87.5);
  EXPECT_EQ(u3.mutu(), "B");
  EXPECT_TRUE(u3.competencies().empty());
  EXPECT_EQ(by_key.count("kantor-makassar/U7"), 1u);

  // A later month's sweep does not report November again.
  clock_.Advance(absl::Hours(24 * 31));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(ElementLowEvents().size(), 4u);
}

TEST_F(SatisfactionServiceTest, ALowMonthRecommendsTrainingOncePerOfficer) {
  // The catalog side in process: the real store and two replicas of its real
  // consumer of the satisfaction stream.
  catalog::TrainingStore training(env_->client(), clock_);
  testing::AddTestCourse(training, "pelayanan-prima", "service-attitude");
  std::vector<std::unique_ptr<EventConsumer>> catalog_consumers;
  for (int replica = 0; replica < 2; ++replica) {
    catalog_consumers.push_back(std::make_unique<EventConsumer>(
        env_->environment().config.redis,
        env_->environment().config.redis_timeout,
        catalog::SatisfactionConsumerOptions(),
        catalog::MakeSatisfactionHandler(env_->client(), clock_)));
    catalog_consumers.back()->Start();
  }
  StartReplica();
  // kantor-a (WIB): U6 3 and 3 (75.00, C: service-standards then
  // service-attitude), U7 2 and 2 (50.00, D: service-attitude). Only the
  // service-attitude course is published: both elements name it.
  MustKiosk("kantor-a", Skm({4, 4, 4, 4, 4, 3, 2, 4, 4}));
  MustKiosk("kantor-a", Skm({4, 4, 4, 4, 4, 3, 2, 4, 4}));
  // 2026-12-01 00:30 WIB: November is over in Jakarta.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 17, 30, 0),
                             absl::UTCTimeZone()));
  ASSERT_EQ(AwaitElementLow(2).size(), 2u);

  auto open_of = [&](const std::string& officer) {
    std::vector<catalog::v1::Recommendation> open;
    absl::StatusOr<catalog::v1::ListRecommendationsResponse> listed =
        Await<catalog::v1::ListRecommendationsResponse>(
            [&](Done<catalog::v1::ListRecommendationsResponse> done) {
              training.ListRecommendations(officer, "", 0, 50, std::move(done));
            });
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return open;
    for (const auto& r : listed->recommendations()) {
      if (r.status() == catalog::v1::RECOMMENDATION_STATUS_OPEN) {
        open.push_back(r);
      }
    }
    return open;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         (open_of("petugas-1").empty() || open_of("petugas-2").empty())) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Both events reached both officers; a duplicate would show by now.
  absl::SleepFor(absl::Milliseconds(500));
  for (const char* officer : {"petugas-1", "petugas-2"}) {
    const std::vector<catalog::v1::Recommendation> open = open_of(officer);
    ASSERT_EQ(open.size(), 1u) << officer;
    EXPECT_EQ(open[0].course_id(), "pelayanan-prima");
    EXPECT_EQ(open[0].office_id(), "kantor-a");
    EXPECT_THAT(open[0].reason(), HasSubstr("satisfaction.element_low:U"));
  }
  auto opened =
      env_->redis().Events("catalog", "training.recommendation_opened");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->size(), 2u);
  // The other agency's officer gets nothing.
  EXPECT_TRUE(open_of("petugas-samsat").empty());
  for (auto& consumer : catalog_consumers) consumer->Stop();
}

// ---- ExportResponses ----

absl::Time LocalTime(int hours_east, int year, int month, int day, int hour,
                     int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::FixedTimeZone(hours_east * 3600));
}

class SatisfactionExportTest : public SatisfactionServiceTest {
 protected:
  // A kiosk response at `office` submitted at `when`: its id.
  std::string KioskAt(absl::Time when, const std::string& office,
                      const std::string& service = "ktp") {
    clock_.Set(when);
    Response out;
    grpc::Status s = AtKiosk(office, absl::StrCat("kiosk-", ++kiosk_seq_),
                             AllSkm(3), &out, service);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.id();
  }

  // The export's response ids, in the order streamed.
  grpc::Status Export(const std::string& token, const Period& period,
                      std::vector<std::string>* ids,
                      const std::string& office = "",
                      std::vector<Response>* responses = nullptr) {
    ExportResponsesRequest req;
    req.set_agency_id(kAgency);
    req.set_office_id(office);
    *req.mutable_period() = period;
    return ExportRequest(token, req, ids, responses);
  }

  grpc::Status ExportRequest(const std::string& token,
                             const ExportResponsesRequest& req,
                             std::vector<std::string>* ids,
                             std::vector<Response>* responses = nullptr) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    std::unique_ptr<grpc::ClientReader<Response>> reader =
        stub_->ExportResponses(&ctx, req);
    Response r;
    while (reader->Read(&r)) {
      ids->push_back(r.id());
      if (responses != nullptr) responses->push_back(r);
    }
    return reader->Finish();
  }

  std::string Supervisor() const {
    return Token("supervisor", kAgency, "spv-1");
  }
};

TEST_F(SatisfactionExportTest, MonthOldestFirstByLocalDateAcrossPages) {
  // Submitted out of order; WIB is UTC+7, WITA UTC+8.
  const std::string nov20 =
      KioskAt(LocalTime(7, 2026, 11, 20, 9, 0), "kantor-b");
  // 2026-10-31 23:50 WIB: October, though inside the widened read.
  KioskAt(LocalTime(7, 2026, 10, 31, 23, 50), "kantor-a");
  // 2026-11-01 00:10 WIB is 2026-10-31 17:10 UTC: found only by the
  // widened read.
  const std::string nov1 =
      KioskAt(LocalTime(7, 2026, 11, 1, 0, 10), "kantor-a");
  const std::string nov10 =
      KioskAt(LocalTime(7, 2026, 11, 10, 10, 0), "kantor-b");
  const std::string nov15 =
      KioskAt(LocalTime(8, 2026, 11, 15, 12, 0), "kantor-makassar");
  // The last day at 23:30 is in; the next day's 00:10 (still 2026-11-30 in
  // UTC) is out.
  const std::string nov30 =
      KioskAt(LocalTime(7, 2026, 11, 30, 23, 30), "kantor-a");
  const std::string dec1 =
      KioskAt(LocalTime(7, 2026, 12, 1, 0, 10), "kantor-a");
  // Another agency's response of the month.
  KioskAt(LocalTime(7, 2026, 11, 12, 10, 0), "kantor-samsat", "stnk");

  std::vector<std::string> ids;
  std::vector<Response> responses;
  grpc::Status s = Export(Supervisor(), Key(PERIOD_KIND_MONTH, "2026-11"), &ids,
                          "", &responses);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Five responses at two a page (seven read, with the two outside).
  EXPECT_THAT(ids, ::testing::ElementsAre(nov1, nov10, nov15, nov20, nov30));
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(responses[0].local_date().month(), 11);
  EXPECT_EQ(responses[0].local_date().day(), 1);
  EXPECT_EQ(responses[0].office_id(), "kantor-a");
  EXPECT_EQ(responses[0].answers_size(), 9);
  EXPECT_EQ(responses[2].office_id(), "kantor-makassar");

  // One office.
  ids.clear();
  s = Export(Supervisor(), Key(PERIOD_KIND_MONTH, "2026-11"), &ids, "kantor-b");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(ids, ::testing::ElementsAre(nov10, nov20));

  // Every kind of period: a custom range across the month's end, a day.
  ids.clear();
  s = Export(Supervisor(),
             Range(absl::CivilDay(2026, 11, 30), absl::CivilDay(2026, 12, 1)),
             &ids);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(ids, ::testing::ElementsAre(nov30, dec1));
  ids.clear();
  s = Export(Supervisor(), Key(PERIOD_KIND_DAY, "2026-12-01"), &ids);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(ids, ::testing::ElementsAre(dec1));

  // A region admin may export any agency's; a month without responses is an
  // empty stream.
  ids.clear();
  s = Export(Token("region_admin"), Key(PERIOD_KIND_QUARTER, "2026-Q4"), &ids);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ids.size(), 7u);
  ids.clear();
  s = Export(Supervisor(), Key(PERIOD_KIND_MONTH, "2026-09"), &ids);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(ids.empty());
}

TEST_F(SatisfactionExportTest, AccessAndBadRequestsAreRefused) {
  MustKiosk("kantor-a", AllSkm(4));
  const Period month = Key(PERIOD_KIND_MONTH, "2026-11");
  std::vector<std::string> ids;
  // Another agency's staff, an officer (supervisors and above export), no
  // token.
  grpc::Status s = Export(other_admin_, month, &ids);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Export(officer_, month, &ids);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Export("", month, &ids);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ids.empty());

  // Bad periods name their field.
  const std::vector<std::pair<Period, std::string>> bad_periods = {
      {Key(PERIOD_KIND_MONTH, "2026-13"), "period.key"},
      {Key(PERIOD_KIND_DAY, "2026-11"), "period.key"},
      {Period(), "period.kind"},
      {Range(absl::CivilDay(2026, 11, 2), absl::CivilDay(2026, 11, 1)),
       "period.last_date"},
      {Range(absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 2)),
       "period.last_date"}};
  for (const auto& [period, field] : bad_periods) {
    s = Export(Supervisor(), period, &ids);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  }
  // Bad ids; an office that is not the agency's.
  ExportResponsesRequest req;
  *req.mutable_period() = month;
  s = ExportRequest(Supervisor(), req, &ids);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("agency_id"));
  s = Export(Supervisor(), month, &ids, "Kantor A");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("office_id"));
  s = Export(Supervisor(), month, &ids, "kantor-samsat");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("office_id"));
  s = Export(Supervisor(), month, &ids, "kantor-nowhere");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(ids.empty());
}

}  // namespace
}  // namespace prima
