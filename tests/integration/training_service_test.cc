// TrainingService against a real redis-server through the real RedisClient and
// a real gRPC server: each RPC's success and failure paths, access rules,
// 200 concurrent enrolments on 30 seats, waitlist promotion, certificates,
// retakes, idempotent retries, compliance gaps and recommendations.
#include "services/catalog/training_service.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/training.grpc.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/training_rules.h"
#include "services/catalog/training_store.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/directory_keys.h"
#include "services/common/done.h"
#include "services/common/proto_time.h"
#include "services/common/rate_limit.h"
#include "services/common/redis_client.h"
#include "services/common/server.h"
#include "tests/testing/error_details.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_env.h"
#include "tests/testing/test_server.h"

namespace prima {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT
using ::prima::ToProtoTime;
using ::prima::testing::TestRedis;
using ::prima::testing::TestServer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAgency[] = "dukcapil-jakarta";
constexpr char kOther[] = "dispenda-makassar";

Course MakeCourse(const std::string& id, const std::string& owner = "") {
  Course c;
  c.set_id(id);
  c.set_code("PP-01");
  c.set_title("Pelayanan Prima");
  c.set_description("Sikap dan keterampilan melayani masyarakat");
  c.set_audience("Petugas garis depan");
  c.set_general_objective("Peserta mampu menerapkan prinsip pelayanan prima.");
  c.add_specific_objectives("Menjelaskan pengertian pelayanan prima.");
  for (int i = 0; i < 3; ++i) {
    auto* m = c.add_modules();
    m->set_title(absl::StrCat("Modul ", i + 1));
    m->set_hours(2);
  }
  c.add_competencies("service-attitude");
  c.add_competencies("complaint-handling");
  c.set_pass_mark(70);
  c.set_owner_agency(owner);
  return c;
}

class TrainingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::TestServiceEnv::Start(clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    env_ = std::move(*started);
    redis_ = &env_->redis();
    client_ = &env_->client();
    const ServiceEnvironment& env = env_->environment();
    service_ = catalog::MakeTrainingService(env);
    store_ = std::make_unique<catalog::TrainingStore>(*client_, clock_);
    auto server = TestServer::Start({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = TrainingService::NewStub(server_->NewChannel());
    region_ = Token("region_admin", "", "root");
  }

  void TearDown() override {
    if (server_) {
      server_->server().Shutdown();
      server_->server().Wait();
    }
  }

  std::string Token(const std::string& role, const std::string& agency = "",
                    const std::string& subject = "tester") const {
    return env_->Token(role, agency, subject);
  }

  void Prepare(grpc::ClientContext* context, const std::string& token) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    if (!token.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
  }

  std::string NextId() { return absl::StrCat("req-", ++request_counter_); }

  grpc::Status CreateCourse(const Course& course, const std::string& token,
                            Course* out, std::string request_id = "") {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    CreateCourseRequest req;
    *req.mutable_course() = course;
    req.set_request_id(request_id.empty() ? NextId() : request_id);
    return stub_->CreateCourse(&ctx, req, out);
  }

  grpc::Status Publish(const std::string& id, const std::string& token,
                       Course* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    PublishCourseRequest req;
    req.set_course_id(id);
    req.set_request_id(NextId());
    return stub_->PublishCourse(&ctx, req, out);
  }

  grpc::Status Archive(const std::string& id, const std::string& token,
                       Course* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    ArchiveCourseRequest req;
    req.set_course_id(id);
    req.set_request_id(NextId());
    return stub_->ArchiveCourse(&ctx, req, out);
  }

  Offering MakeOffering(const std::string& id, const std::string& course,
                        int capacity) {
    Offering o;
    o.set_id(id);
    o.set_course_id(course);
    o.set_agency(kAgency);
    o.set_mode(OFFERING_MODE_BLENDED);
    o.mutable_location()->set_address("Jl. Merdeka Barat 1, Jakarta");
    o.set_capacity(capacity);
    *o.mutable_start_time() = ToProtoTime(clock_.Now() + absl::Hours(240));
    *o.mutable_end_time() = ToProtoTime(clock_.Now() + absl::Hours(264));
    *o.mutable_enrolment_deadline() =
        ToProtoTime(clock_.Now() + absl::Hours(168));
    return o;
  }

  grpc::Status CreateOffering(const Offering& offering,
                              const std::string& token, Offering* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    CreateOfferingRequest req;
    *req.mutable_offering() = offering;
    req.set_request_id(NextId());
    return stub_->CreateOffering(&ctx, req, out);
  }

  // A published national course and an offering of it.
  void PublishedCourseWithOffering(const std::string& course,
                                   const std::string& offering, int capacity) {
    Course c;
    ASSERT_TRUE(CreateCourse(MakeCourse(course), region_, &c).ok());
    ASSERT_TRUE(Publish(course, region_, &c).ok());
    Offering o;
    grpc::Status s =
        CreateOffering(MakeOffering(offering, course, capacity), region_, &o);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Enroll(const std::string& offering, const std::string& officer,
                      const std::string& token, Enrolment* out,
                      std::string request_id = "",
                      const std::string& agency = kAgency) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    EnrollRequest req;
    req.set_offering_id(offering);
    req.set_officer_id(officer);
    req.set_officer_agency(agency);
    req.set_request_id(request_id.empty() ? NextId() : request_id);
    return stub_->Enroll(&ctx, req, out);
  }

  grpc::Status Complete(const std::string& offering, const std::string& officer,
                        int score, const std::string& token, Enrolment* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    CompleteRequest req;
    req.set_offering_id(offering);
    req.set_officer_id(officer);
    req.set_score(score);
    req.set_request_id(NextId());
    return stub_->Complete(&ctx, req, out);
  }

  grpc::Status Withdraw(const std::string& offering, const std::string& officer,
                        const std::string& token, WithdrawResponse* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    WithdrawRequest req;
    req.set_offering_id(offering);
    req.set_officer_id(officer);
    req.set_request_id(NextId());
    return stub_->Withdraw(&ctx, req, out);
  }

  grpc::Status Record(const std::string& officer, const std::string& token,
                      TrainingRecord* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    GetTrainingRecordRequest req;
    req.set_officer_id(officer);
    return stub_->GetTrainingRecord(&ctx, req, out);
  }

  FakeClock clock_{absl::Now()};
  std::unique_ptr<testing::TestServiceEnv> env_;
  TestRedis* redis_ = nullptr;     // env_'s
  RedisClient* client_ = nullptr;  // env_'s
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<catalog::TrainingStore> store_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<TrainingService::Stub> stub_;
  std::string region_;
  int request_counter_ = 0;
};

TEST_F(TrainingServiceTest, CreateCourseValidatesAuthorizesAndIsIdempotent) {
  Course created;
  grpc::Status s = CreateCourse(MakeCourse("pp"), region_, &created, "r-1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.status(), COURSE_STATUS_DRAFT);
  EXPECT_EQ(created.total_hours(), 6);
  EXPECT_TRUE(created.has_create_time());
  // Same request id: the first result, nothing changes.
  Course again;
  ASSERT_TRUE(CreateCourse(MakeCourse("pp"), region_, &again, "r-1").ok());
  EXPECT_EQ(again.SerializeAsString(), created.SerializeAsString());
  // New request id: the id is taken.
  EXPECT_EQ(CreateCourse(MakeCourse("pp"), region_, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  Course bad = MakeCourse("bad");
  bad.mutable_modules(2)->set_hours(0);
  s = CreateCourse(bad, region_, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("course.modules[2].hours:"));

  EXPECT_EQ(CreateCourse(MakeCourse("x"), "", &again).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      CreateCourse(MakeCourse("x", kAgency), Token("officer", kAgency), &again)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateCourse(MakeCourse("x", kAgency),
                         Token("agency_admin", kOther), &again)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An agency admin may not create a national course, but may create their own.
  EXPECT_EQ(
      CreateCourse(MakeCourse("x"), Token("agency_admin", kAgency), &again)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(CreateCourse(MakeCourse("x", kAgency),
                           Token("agency_admin", kAgency), &again)
                  .ok());
  EXPECT_EQ(again.owner_agency(), kAgency);
}

TEST_F(TrainingServiceTest, CourseLifecycleVisibilityAndUpdate) {
  Course c;
  ASSERT_TRUE(CreateCourse(MakeCourse("pp", kAgency), region_, &c).ok());
  // A draft is invisible to the public and to other agencies.
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    GetCourseRequest req;
    req.set_course_id("pp");
    EXPECT_EQ(stub_->GetCourse(&ctx, req, &c).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, Token("officer", kOther));
    GetCourseRequest req;
    req.set_course_id("pp");
    EXPECT_EQ(stub_->GetCourse(&ctx, req, &c).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, Token("officer", kAgency));
    GetCourseRequest req;
    req.set_course_id("pp");
    EXPECT_TRUE(stub_->GetCourse(&ctx, req, &c).ok());
  }
  // Publish by another agency's admin: denied; by the owner: ok, idempotent.
  EXPECT_EQ(Publish("pp", Token("agency_admin", kOther), &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Publish("pp", Token("agency_admin", kAgency), &c).ok());
  EXPECT_EQ(c.status(), COURSE_STATUS_PUBLISHED);
  ASSERT_TRUE(Publish("pp", Token("agency_admin", kAgency), &c).ok());
  EXPECT_EQ(Publish("nope", region_, &c).error_code(),
            grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    GetCourseRequest req;
    req.set_course_id("pp");
    ASSERT_TRUE(stub_->GetCourse(&ctx, req, &c).ok());
    EXPECT_EQ(c.title(), "Pelayanan Prima");
    EXPECT_EQ(c.modules_size(), 3);
  }
  // Update keeps status and owner; the owner is immutable.
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, Token("agency_admin", kAgency));
    UpdateCourseRequest req;
    *req.mutable_course() = MakeCourse("pp", kAgency);
    req.mutable_course()->set_title("Pelayanan Prima (revisi)");
    req.set_request_id(NextId());
    grpc::Status s = stub_->UpdateCourse(&ctx, req, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(c.title(), "Pelayanan Prima (revisi)");
    EXPECT_EQ(c.status(), COURSE_STATUS_PUBLISHED);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, region_);
    UpdateCourseRequest req;
    *req.mutable_course() = MakeCourse("pp", kOther);
    req.set_request_id(NextId());
    grpc::Status s = stub_->UpdateCourse(&ctx, req, &c);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), StartsWith("course.owner_agency:"));
  }
  // Archived: no updates, no publishing back.
  ASSERT_TRUE(Archive("pp", region_, &c).ok());
  EXPECT_EQ(c.status(), COURSE_STATUS_ARCHIVED);
  EXPECT_EQ(Publish("pp", region_, &c).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, region_);
    UpdateCourseRequest req;
    *req.mutable_course() = MakeCourse("pp");
    req.set_request_id(NextId());
    EXPECT_EQ(stub_->UpdateCourse(&ctx, req, &c).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
}

TEST_F(TrainingServiceTest, ListCoursesFiltersAndPages) {
  Course c;
  for (int i = 0; i < 7; ++i) {
    Course course = MakeCourse(absl::StrCat("course-", i));
    if (i % 2 == 0) {
      course.clear_competencies();
      course.add_competencies("service-standards");
      course.set_description("Standar pelayanan dan TQM");
    }
    ASSERT_TRUE(CreateCourse(course, region_, &c).ok());
    if (i < 5) {
      ASSERT_TRUE(Publish(course.id(), region_, &c).ok());
    }
  }
  auto list = [&](const std::string& token, ListCoursesRequest req) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    ListCoursesResponse resp;
    grpc::Status s = stub_->ListCourses(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  EXPECT_EQ(list("", {}).courses_size(), 5);  // published only
  EXPECT_EQ(list(region_, {}).courses_size(), 7);
  ListCoursesRequest req;
  req.set_competency("service-standards");
  EXPECT_EQ(list("", req).courses_size(), 3);  // 0, 2, 4
  req.Clear();
  req.set_keyword("tqm");
  EXPECT_EQ(list("", req).courses_size(), 3);
  req.Clear();
  req.set_status(COURSE_STATUS_DRAFT);
  EXPECT_EQ(list("", req).courses_size(), 0);
  EXPECT_EQ(list(region_, req).courses_size(), 2);
  // Paging: 2 + 2 + 1, in id order.
  req.Clear();
  req.mutable_page()->set_page_size(2);
  std::vector<std::string> ids;
  for (int pages = 0; pages < 5; ++pages) {
    ListCoursesResponse resp = list("", req);
    for (const Course& course : resp.courses()) ids.push_back(course.id());
    if (resp.page().next_page_token().empty()) break;
    req.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  EXPECT_THAT(ids, ::testing::ElementsAre("course-0", "course-1", "course-2",
                                          "course-3", "course-4"));
  // A forged token is rejected.
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    ListCoursesRequest bad;
    bad.mutable_page()->set_page_token("bm9wZQ");
    ListCoursesResponse resp;
    grpc::Status s = stub_->ListCourses(&ctx, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), StartsWith("page.page_token:"));
  }
}

TEST_F(TrainingServiceTest, OfferingsNeedAPublishedCourseAndValidFields) {
  Course c;
  ASSERT_TRUE(CreateCourse(MakeCourse("pp"), region_, &c).ok());
  Offering o;
  EXPECT_EQ(
      CreateOffering(MakeOffering("o1", "pp", 30), region_, &o).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Publish("pp", region_, &c).ok());
  EXPECT_EQ(CreateOffering(MakeOffering("o1", "missing", 30), region_, &o)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::Status s = CreateOffering(MakeOffering("o1", "pp", 0), region_, &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("offering.capacity:"));
  Offering reversed = MakeOffering("o1", "pp", 30);
  *reversed.mutable_end_time() = reversed.start_time();
  s = CreateOffering(reversed, region_, &o);
  EXPECT_THAT(s.error_message(), StartsWith("offering.end_time:"));
  // Supervisor of another agency: denied; of the offering's agency: ok.
  EXPECT_EQ(CreateOffering(MakeOffering("o1", "pp", 30),
                           Token("supervisor", kOther), &o)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = CreateOffering(MakeOffering("o1", "pp", 30), Token("supervisor", kAgency),
                     &o);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(
      CreateOffering(MakeOffering("o1", "pp", 30), region_, &o).error_code(),
      grpc::StatusCode::ALREADY_EXISTS);
  // Generated id when empty.
  ASSERT_TRUE(CreateOffering(MakeOffering("", "pp", 5), region_, &o).ok());
  EXPECT_FALSE(o.id().empty());
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    ListOfferingsRequest req;
    req.set_course_id("pp");
    ListOfferingsResponse resp;
    ASSERT_TRUE(stub_->ListOfferings(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.offerings_size(), 2);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    GetOfferingRequest req;
    req.set_offering_id("o1");
    ASSERT_TRUE(stub_->GetOffering(&ctx, req, &o).ok());
    EXPECT_EQ(o.capacity(), 30);
    EXPECT_EQ(o.mode(), OFFERING_MODE_BLENDED);
    req.set_offering_id("o9");
    grpc::ClientContext ctx2;
    Prepare(&ctx2, "");
    EXPECT_EQ(stub_->GetOffering(&ctx2, req, &o).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
}

// The acceptance test of the issue: 200 concurrent Enroll calls (distinct
// officers, spread over two replicas) on 30 seats give exactly 30 ENROLLED and
// 170 WAITLISTED with positions 1..170 in arrival order.
TEST_F(TrainingServiceTest, TwoHundredConcurrentEnrolmentsOnThirtySeats) {
  PublishedCourseWithOffering("pp", "o1", 30);
  constexpr int kCalls = 200;
  const std::string token = Token("supervisor", kAgency, "spv");
  struct Result {
    grpc::ClientContext ctx;
    EnrollRequest req;
    Enrolment resp;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Result>> results;
  absl::BlockingCounter done(kCalls);
  // A second replica of the service (its own Redis connection and server) on
  // the same Redis, and several channels to each, so calls really arrive
  // concurrently from two processes' worth of state.
  RedisClient::Options options;
  options.endpoint = redis_->endpoint();
  auto client2 = RedisClient::Start(options);
  ASSERT_TRUE(client2.ok()) << client2.status();
  ASSERT_TRUE((*client2)->WaitUntilUsable(absl::Seconds(5)));
  const ServiceEnvironment& env = env_->environment();
  ServiceEnvironment env2{env.config, **client2, clock_, env.verifier,
                          env.metrics};
  std::unique_ptr<grpc::Service> replica = catalog::MakeTrainingService(env2);
  auto server2 = TestServer::Start({replica.get()});
  ASSERT_TRUE(server2.ok()) << server2.status();
  std::vector<std::unique_ptr<TrainingService::Stub>> stubs;
  for (int i = 0; i < 8; ++i) {
    stubs.push_back(TrainingService::NewStub(
        i % 2 == 0 ? server_->NewChannel() : (*server2)->NewChannel()));
  }
  for (int i = 0; i < kCalls; ++i) {
    auto r = std::make_unique<Result>();
    Prepare(&r->ctx, token);
    r->req.set_offering_id("o1");
    r->req.set_officer_id(absl::StrCat("officer-", i));
    r->req.set_request_id(absl::StrCat("enrol-", i));
    results.push_back(std::move(r));
  }
  for (int i = 0; i < kCalls; ++i) {
    Result* r = results[i].get();
    stubs[i % stubs.size()]->async()->Enroll(&r->ctx, &r->req, &r->resp,
                                             [r, &done](grpc::Status s) {
                                               r->status = s;
                                               done.DecrementCount();
                                             });
  }
  done.Wait();
  (*server2)->server().Shutdown();
  (*server2)->server().Wait();
  (*client2)->Stop();
  int enrolled = 0;
  std::vector<int> positions;
  for (const auto& r : results) {
    ASSERT_TRUE(r->status.ok()) << r->status.error_message();
    if (r->resp.status() == ENROLMENT_STATUS_ENROLLED) {
      ++enrolled;
      EXPECT_EQ(r->resp.waitlist_position(), 0);
    } else {
      ASSERT_EQ(r->resp.status(), ENROLMENT_STATUS_WAITLISTED);
      positions.push_back(r->resp.waitlist_position());
    }
  }
  EXPECT_EQ(enrolled, 30);
  ASSERT_EQ(positions.size(), 170u);
  std::sort(positions.begin(), positions.end());
  for (int i = 0; i < 170; ++i) EXPECT_EQ(positions[i], i + 1);

  // Arrival order: the waitlist in Redis lists officers by the sequence the
  // script gave them, and each one's reported position is its rank there.
  auto waitlist = redis_->Command(
      {"ZRANGE", "prima:catalog:offering:o1:waitlist", "0", "-1"});
  ASSERT_TRUE(waitlist.ok());
  ASSERT_EQ(waitlist->elements.size(), 170u);
  for (const auto& r : results) {
    if (r->resp.status() != ENROLMENT_STATUS_WAITLISTED) continue;
    EXPECT_EQ(waitlist->elements[r->resp.waitlist_position() - 1].str,
              r->req.officer_id());
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    GetOfferingRequest req;
    req.set_offering_id("o1");
    Offering o;
    ASSERT_TRUE(stub_->GetOffering(&ctx, req, &o).ok());
    EXPECT_EQ(o.enrolled_count(), 30);
    EXPECT_EQ(o.waitlist_count(), 170);
  }

  // Withdraw a seated officer: the first waitlisted takes the seat, and the
  // rest move up one place.
  std::string seated, first, second;
  for (const auto& r : results) {
    if (r->resp.status() == ENROLMENT_STATUS_ENROLLED && seated.empty()) {
      seated = r->req.officer_id();
    }
    if (r->resp.waitlist_position() == 1) first = r->req.officer_id();
    if (r->resp.waitlist_position() == 2) second = r->req.officer_id();
  }
  WithdrawResponse w;
  ASSERT_TRUE(Withdraw("o1", seated, token, &w).ok());
  EXPECT_EQ(w.enrolment().status(), ENROLMENT_STATUS_WITHDRAWN);
  EXPECT_EQ(w.promoted_officer_id(), first);
  TrainingRecord record;
  ASSERT_TRUE(Record(first, token, &record).ok());
  ASSERT_EQ(record.enrolments_size(), 1);
  EXPECT_EQ(record.enrolments(0).status(), ENROLMENT_STATUS_ENROLLED);
  ASSERT_TRUE(Record(second, token, &record).ok());
  EXPECT_EQ(record.enrolments(0).status(), ENROLMENT_STATUS_WAITLISTED);
  EXPECT_EQ(record.enrolments(0).waitlist_position(), 1);
  // Withdrawing a waitlisted officer promotes nobody; twice fails.
  ASSERT_TRUE(Withdraw("o1", second, token, &w).ok());
  EXPECT_EQ(w.promoted_officer_id(), "");
  EXPECT_EQ(Withdraw("o1", second, token, &w).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Withdraw("o1", "nobody", token, &w).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A withdrawn officer may enrol again (at the end of the waitlist).
  Enrolment e;
  ASSERT_TRUE(Enroll("o1", second, token, &e).ok());
  EXPECT_EQ(e.status(), ENROLMENT_STATUS_WAITLISTED);
  EXPECT_EQ(e.waitlist_position(), 169);
}

TEST_F(TrainingServiceTest, EnrolRulesAndAccess) {
  PublishedCourseWithOffering("pp", "o1", 2);
  const std::string self = Token("officer", kAgency, "budi");
  Enrolment e;
  // An officer enrols themselves, not others.
  grpc::Status s = Enroll("o1", "budi", self, &e, "", "");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.agency(), kAgency);
  EXPECT_EQ(e.course_id(), "pp");
  EXPECT_EQ(e.course_title(), "Pelayanan Prima");
  EXPECT_EQ(Enroll("o1", "sari", self, &e, "", "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Staff enrol officers of their own agency only.
  EXPECT_EQ(Enroll("o1", "sari", Token("supervisor", kAgency), &e, "", kOther)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Enroll("o1", "sari", "", &e).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Enroll("o1", "sari", Token("citizen"), &e).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // No duplicates.
  EXPECT_EQ(Enroll("o1", "budi", self, &e, "", "").error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // Idempotent retry: the first result.
  Enrolment first, retry;
  ASSERT_TRUE(Enroll("o1", "sari", region_, &first, "same").ok());
  ASSERT_TRUE(Enroll("o1", "sari", region_, &retry, "same").ok());
  EXPECT_EQ(first.SerializeAsString(), retry.SerializeAsString());
  // Missing ids and unknown offerings.
  s = Enroll("o1", "Bad Officer", region_, &e);
  EXPECT_THAT(s.error_message(), StartsWith("officer_id:"));
  EXPECT_EQ(Enroll("o9", "x", region_, &e).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Region admin without agency must name the officer's agency.
  s = Enroll("o1", "x", region_, &e, "", "");
  EXPECT_THAT(s.error_message(), StartsWith("officer_agency:"));
  // Past the deadline: closed.
  clock_.Advance(absl::Hours(200));
  EXPECT_EQ(Enroll("o1", "late", region_, &e).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// Enrolment times agree with the order the script saw the calls in: a call
// whose clock read came earlier but whose script ran later (another replica,
// a slower thread) takes the previous time, so no later position carries an
// earlier time.
TEST_F(TrainingServiceTest, EnrolTimesFollowTheOrderOfEnrolment) {
  PublishedCourseWithOffering("pp", "o1", 1);
  Enrolment first, second, third;
  ASSERT_TRUE(Enroll("o1", "budi", region_, &first, "", kAgency).ok());
  clock_.Advance(-absl::Seconds(5));  // this replica's clock is behind
  ASSERT_TRUE(Enroll("o1", "sari", region_, &second, "", kAgency).ok());
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(Enroll("o1", "andi", region_, &third, "", kAgency).ok());
  EXPECT_EQ(second.waitlist_position(), 1);
  EXPECT_EQ(third.waitlist_position(), 2);
  EXPECT_EQ(ToAbslTime(second.enroll_time()), ToAbslTime(first.enroll_time()));
  EXPECT_EQ(ToAbslTime(third.enroll_time()),
            ToAbslTime(first.enroll_time()) + absl::Seconds(5));
}

TEST_F(TrainingServiceTest, EnrolInArchivedCourseFails) {
  PublishedCourseWithOffering("pp", "o1", 2);
  Course c;
  ASSERT_TRUE(Archive("pp", region_, &c).ok());
  Enrolment e;
  grpc::Status s = Enroll("o1", "budi", region_, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("PUBLISHED"));
}

TEST_F(TrainingServiceTest, CompleteCertificateRetakeAndRecord) {
  PublishedCourseWithOffering("pp", "o1", 10);
  Offering o2;
  ASSERT_TRUE(CreateOffering(MakeOffering("o2", "pp", 10), region_, &o2).ok());
  const std::string spv = Token("supervisor", kAgency, "spv");
  Enrolment e;
  ASSERT_TRUE(Enroll("o1", "budi", spv, &e).ok());
  ASSERT_TRUE(Enroll("o1", "sari", spv, &e).ok());
  // Not while active in another offering of the same course.
  EXPECT_EQ(Enroll("o2", "budi", spv, &e).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Progress.
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, spv);
    RecordProgressRequest req;
    req.set_offering_id("o1");
    req.set_officer_id("budi");
    req.set_completed_module(1);
    req.set_attendance_percent(90);
    req.set_request_id(NextId());
    grpc::Status s = stub_->RecordProgress(&ctx, req, &e);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_THAT(e.completed_modules(), ::testing::ElementsAre(1));
    EXPECT_EQ(e.attendance_percent(), 90);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, spv);
    RecordProgressRequest req;
    req.set_offering_id("o1");
    req.set_officer_id("budi");
    req.set_completed_module(3);  // the course has 3 modules: 0..2
    req.set_request_id(NextId());
    grpc::Status s = stub_->RecordProgress(&ctx, req, &e);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), StartsWith("completed_module:"));
  }
  // Complete: officers may not grade; supervisors of another agency neither.
  EXPECT_EQ(Complete("o1", "budi", 90, Token("officer", kAgency, "budi"), &e)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Complete("o1", "budi", 90, Token("supervisor", kOther), &e).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Complete("o1", "budi", 101, spv, &e).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status s = Complete("o1", "budi", 85, spv, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.status(), ENROLMENT_STATUS_PASSED);
  EXPECT_EQ(e.score(), 85);
  const int year = absl::ToCivilYear(clock_.Now(), absl::UTCTimeZone()).year();
  EXPECT_EQ(e.certificate().number(),
            catalog::FormatCertificateNumber(year, 1));
  EXPECT_EQ(e.certificate().verification_code().size(), 32u);
  EXPECT_EQ(Complete("o1", "budi", 85, spv, &e).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Verification is public.
  Certificate cert;
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    VerifyCertificateRequest req;
    req.set_verification_code(e.certificate().verification_code());
    ASSERT_TRUE(stub_->VerifyCertificate(&ctx, req, &cert).ok());
    EXPECT_EQ(cert.officer_id(), "budi");
    EXPECT_EQ(cert.course_id(), "pp");
    EXPECT_EQ(cert.course_title(), "Pelayanan Prima");
    EXPECT_EQ(cert.number(), e.certificate().number());
    EXPECT_EQ(cert.agency(), kAgency);
    EXPECT_TRUE(cert.has_issue_time());
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    VerifyCertificateRequest req;
    req.set_verification_code(std::string(32, '0'));
    EXPECT_EQ(stub_->VerifyCertificate(&ctx, req, &cert).error_code(),
              grpc::StatusCode::NOT_FOUND);
    grpc::ClientContext ctx2;
    Prepare(&ctx2, "");
    req.set_verification_code("short");
    EXPECT_EQ(stub_->VerifyCertificate(&ctx2, req, &cert).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Passed: no second enrolment in the course.
  EXPECT_EQ(Enroll("o2", "budi", spv, &e).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Guessing codes is limited per caller (here 3 a minute: one more try).
  env_->mutable_config().rate_limits =
      *RateLimitConfig::Parse("VerifyCertificate.caller=3/1m");
  auto verify = [&](const std::string& code) {
    grpc::ClientContext ctx;
    Prepare(&ctx, "");
    VerifyCertificateRequest req;
    req.set_verification_code(code);
    return stub_->VerifyCertificate(&ctx, req, &cert);
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(verify(std::string(32, 'a' + i)).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  const grpc::Status limited = verify(e.certificate().verification_code());
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(testing::ReplyErrorInfo(limited).reason(), "RATE_LIMITED");

  // Not passed, then a retake in another offering.
  ASSERT_TRUE(Complete("o1", "sari", 50, spv, &e).ok());
  EXPECT_EQ(e.status(), ENROLMENT_STATUS_NOT_PASSED);
  EXPECT_FALSE(e.has_certificate());
  EXPECT_EQ(Enroll("o1", "sari", spv, &e).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Enroll("o2", "sari", spv, &e).ok());
  ASSERT_TRUE(Complete("o2", "sari", 70, spv, &e).ok());
  EXPECT_EQ(e.status(), ENROLMENT_STATUS_PASSED);
  EXPECT_EQ(e.certificate().number(),
            catalog::FormatCertificateNumber(year, 2));

  // The record: newest first, the officer or their agency's supervisors.
  TrainingRecord record;
  ASSERT_TRUE(Record("sari", Token("officer", kAgency, "sari"), &record).ok());
  ASSERT_EQ(record.enrolments_size(), 2);
  EXPECT_EQ(record.enrolments(0).offering_id(), "o2");
  EXPECT_EQ(record.enrolments(0).status(), ENROLMENT_STATUS_PASSED);
  EXPECT_EQ(record.enrolments(1).status(), ENROLMENT_STATUS_NOT_PASSED);
  EXPECT_EQ(record.enrolments(1).score(), 50);
  EXPECT_EQ(
      Record("sari", Token("officer", kAgency, "budi"), &record).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // An officer the directory does not know: another agency's supervisor sees
  // only what was made within their agency (nothing).
  ASSERT_TRUE(Record("sari", Token("supervisor", kOther), &record).ok());
  EXPECT_EQ(record.enrolments_size(), 0);
  // Once the directory knows sari's agency, another agency's staff are
  // refused, as the proto says; sari's agency's admin reads it all.
  ASSERT_TRUE(
      redis_
          ->Command({"HSET",
                     directory::ResourceKey(directory::Kind::kOfficer, "sari"),
                     directory::kAgencyField, kAgency})
          .ok());
  EXPECT_EQ(Record("sari", Token("supervisor", kOther), &record).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Record("sari", Token("agency_admin", kOther), &record).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Record("sari", Token("agency_admin", kAgency), &record).ok());
  EXPECT_EQ(record.enrolments_size(), 2);

  // Events: every mutation appended one.
  auto len = redis_->Command({"XLEN", "prima:events:catalog"});
  ASSERT_TRUE(len.ok());
  EXPECT_GE(len->integer, 10);
  // Enrolment events name the offering's course, which only the script knew.
  auto entries = redis_->Command({"XRANGE", "prima:events:catalog", "-", "+"});
  ASSERT_TRUE(entries.ok());
  int enrolled_events = 0;
  for (const RedisValue& entry : entries->elements) {
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "envelope") continue;
      prima::events::v1::EventEnvelope envelope;
      ASSERT_TRUE(envelope.ParseFromString(fields[i + 1].str));
      prima::events::v1::TrainingEnrolmentChanged changed;
      if (envelope.type() != "training.enrolment_changed" ||
          !envelope.payload().UnpackTo(&changed) ||
          changed.status() != "ENROLLED") {
        continue;
      }
      ++enrolled_events;
      EXPECT_EQ(changed.course_id(), "pp");
      EXPECT_FALSE(changed.officer_id().empty());
    }
  }
  EXPECT_GE(enrolled_events, 1);
}

TEST_F(TrainingServiceTest, ComplianceGaps) {
  PublishedCourseWithOffering("pp", "o1", 10);
  Course c;
  ASSERT_TRUE(CreateCourse(MakeCourse("tqm"), region_, &c).ok());
  ASSERT_TRUE(Publish("tqm", region_, &c).ok());
  const std::string admin = Token("agency_admin", kAgency, "admin");
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, Token("agency_admin", kOther));
    SetRequiredCoursesRequest req;
    req.set_agency(kAgency);
    req.add_course_ids("pp");
    req.set_request_id(NextId());
    RequiredCourses resp;
    EXPECT_EQ(stub_->SetRequiredCourses(&ctx, req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, admin);
    SetRequiredCoursesRequest req;
    req.set_agency(kAgency);
    req.add_course_ids("missing");
    req.set_request_id(NextId());
    RequiredCourses resp;
    EXPECT_EQ(stub_->SetRequiredCourses(&ctx, req, &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, admin);
    SetRequiredCoursesRequest req;
    req.set_agency(kAgency);
    req.add_course_ids("tqm");
    req.add_course_ids("pp");
    req.set_request_id(NextId());
    RequiredCourses resp;
    ASSERT_TRUE(stub_->SetRequiredCourses(&ctx, req, &resp).ok());
    EXPECT_THAT(resp.course_ids(), ::testing::ElementsAre("pp", "tqm"));
  }
  Enrolment e;
  ASSERT_TRUE(Enroll("o1", "budi", admin, &e).ok());
  ASSERT_TRUE(Enroll("o1", "sari", admin, &e).ok());
  ASSERT_TRUE(Complete("o1", "budi", 90, admin, &e).ok());
  grpc::ClientContext ctx;
  Prepare(&ctx, Token("supervisor", kAgency));
  ListComplianceGapsRequest req;
  req.set_agency(kAgency);
  ListComplianceGapsResponse resp;
  ASSERT_TRUE(stub_->ListComplianceGaps(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.gaps_size(), 2);
  EXPECT_EQ(resp.gaps(0).officer_id(), "budi");
  EXPECT_THAT(resp.gaps(0).missing_course_ids(), ::testing::ElementsAre("tqm"));
  EXPECT_EQ(resp.gaps(1).officer_id(), "sari");
  EXPECT_THAT(resp.gaps(1).missing_course_ids(),
              ::testing::ElementsAre("pp", "tqm"));
  grpc::ClientContext ctx2;
  Prepare(&ctx2, Token("supervisor", kOther));
  EXPECT_EQ(stub_->ListComplianceGaps(&ctx2, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TrainingServiceTest, Recommendations) {
  Course c;
  ASSERT_TRUE(CreateCourse(MakeCourse("pp"), region_, &c).ok());
  Recommendation input;
  input.set_officer_id("budi");
  input.set_office_id("kantor-1");
  input.set_agency(kAgency);
  input.set_course_id("pp");
  input.set_reason("complaint.attitudinal");
  input.set_source_event_id("evt-1");
  auto create = [&](const Recommendation& wanted) {
    return Await<Recommendation>([&](Done<Recommendation> done) {
      store_->CreateRecommendation(wanted, std::move(done));
    });
  };
  absl::StatusOr<Recommendation> rec = create(input);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->status(), RECOMMENDATION_STATUS_OPEN);
  // The same event again makes no second recommendation.
  absl::StatusOr<Recommendation> rec2 = create(input);
  ASSERT_TRUE(rec2.ok());
  EXPECT_EQ(rec2->id(), rec->id());
  // The same event for another officer makes theirs: one event may recommend
  // to every officer of an office.
  Recommendation for_sari = input;
  for_sari.set_officer_id("sari");
  absl::StatusOr<Recommendation> rec3 = create(for_sari);
  ASSERT_TRUE(rec3.ok()) << rec3.status();
  EXPECT_NE(rec3->id(), rec->id());
  EXPECT_EQ(rec3->officer_id(), "sari");

  // The internal API validates what later issues will pass it.
  for (auto mutate : std::vector<std::function<void(Recommendation&)>>{
           [](Recommendation& r) { r.set_officer_id("Bad Id"); },
           [](Recommendation& r) { r.clear_source_event_id(); },
           [](Recommendation& r) { r.set_course_id("missing"); }}) {
    Recommendation bad = input;
    mutate(bad);
    EXPECT_FALSE(create(bad).ok());
  }

  auto list = [&](const std::string& token, const std::string& officer,
                  const std::string& office, ListRecommendationsResponse* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    ListRecommendationsRequest req;
    req.set_agency(kAgency);
    req.set_officer_id(officer);
    req.set_office_id(office);
    return stub_->ListRecommendations(&ctx, req, out);
  };
  ListRecommendationsResponse resp;
  ASSERT_TRUE(list(Token("officer", kAgency, "budi"), "budi", "", &resp).ok());
  ASSERT_EQ(resp.recommendations_size(), 1);
  EXPECT_EQ(resp.recommendations(0).reason(), "complaint.attitudinal");
  resp.Clear();
  ASSERT_TRUE(list(Token("supervisor", kAgency), "", "kantor-1", &resp).ok());
  EXPECT_EQ(resp.recommendations_size(), 2);  // budi's and sari's
  EXPECT_EQ(
      list(Token("officer", kAgency, "sari"), "budi", "", &resp).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(list(Token("supervisor", kAgency), "budi", "kantor-1", &resp)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  auto close = [&](bool accept, const std::string& token, Recommendation* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    if (accept) {
      AcceptRecommendationRequest req;
      req.set_recommendation_id(rec->id());
      req.set_request_id(NextId());
      return stub_->AcceptRecommendation(&ctx, req, out);
    }
    DismissRecommendationRequest req;
    req.set_recommendation_id(rec->id());
    req.set_request_id(NextId());
    return stub_->DismissRecommendation(&ctx, req, out);
  };
  Recommendation out;
  EXPECT_EQ(close(false, Token("officer", kAgency, "budi"), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(close(true, Token("officer", kAgency, "sari"), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(close(true, Token("supervisor", kOther), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = close(true, Token("officer", kAgency, "budi"), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.status(), RECOMMENDATION_STATUS_ACCEPTED);
  EXPECT_EQ(close(false, Token("supervisor", kAgency), &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(TrainingServiceTest, RedisDownAnswersUnavailableQuickly) {
  PublishedCourseWithOffering("pp", "o1", 5);
  redis_->Kill();
  const absl::Time start = absl::Now();
  Enrolment e;
  EXPECT_EQ(Enroll("o1", "budi", region_, &e).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::ClientContext ctx;
  Prepare(&ctx, "");
  GetCourseRequest req;
  req.set_course_id("pp");
  Course c;
  EXPECT_EQ(stub_->GetCourse(&ctx, req, &c).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  // Redis back: the client reconnects by itself.
  ASSERT_TRUE(redis_->Restart().ok());
  ASSERT_TRUE(client_->WaitUntilUsable(absl::Seconds(10)));
}

}  // namespace
}  // namespace prima
