#include "tests/testing/recommendation_consumer_fixture.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/done.h"
#include "services/common/ids.h"

namespace prima::testing {

using ::prima::catalog::TrainingActor;
using ::prima::catalog::v1::ApplyDirectoryRequest;
using ::prima::catalog::v1::ApplyDirectoryResponse;
using ::prima::catalog::v1::Course;
using ::prima::catalog::v1::ListRecommendationsResponse;
using ::prima::catalog::v1::Recommendation;
using ::prima::catalog::v1::RecommendationStatus;
using ::prima::events::v1::EventEnvelope;

RecommendationConsumerTest::RecommendationConsumerTest(
    ConsumerOptions options, HandlerFactory make_handler)
    : options_(std::move(options)), make_handler_(std::move(make_handler)) {}

void RecommendationConsumerTest::SetUp() {
  auto env = TestServiceEnv::Start(clock_);
  ASSERT_TRUE(env.ok()) << env.status();
  env_ = std::move(*env);
  store_ = std::make_unique<catalog::TrainingStore>(env_->client(), clock_);
  directory_ =
      std::make_unique<catalog::DirectoryStore>(env_->client(), clock_);
}

void RecommendationConsumerTest::SeedDirectory(
    const std::string& agency, const std::vector<std::string>& offices,
    const std::vector<SeedOfficer>& officers) {
  ApplyDirectoryRequest region;
  region.set_request_id("seed");
  auto* seeded = region.add_agencies();
  seeded->set_id(agency);
  seeded->set_name(agency);
  seeded->set_region("DKI Jakarta");
  for (const std::string& id : offices) {
    auto* office = region.add_offices();
    office->set_id(id);
    office->set_agency_id(agency);
    office->set_name(id);
    office->set_time_zone("Asia/Jakarta");
  }
  for (const SeedOfficer& seed : officers) {
    auto* officer = region.add_officers();
    officer->set_id(seed.id);
    officer->set_agency_id(agency);
    officer->set_office_id(seed.office_id);
    officer->set_name(seed.id);
    officer->set_front_line(seed.front_line);
  }
  catalog::WriteContext context;
  context.rpc = "ApplyDirectory";
  context.request_id = region.request_id();
  context.caller.subject = "admin";
  context.caller.roles = Roles({Role::kRegionAdmin});
  absl::StatusOr<ApplyDirectoryResponse> applied =
      Await<ApplyDirectoryResponse>([&](Done<ApplyDirectoryResponse> done) {
        directory_->Apply(region, context, true, std::move(done));
      });
  ASSERT_TRUE(applied.ok()) << applied.status();
}

void AddTestCourse(catalog::TrainingStore& store, const std::string& id,
                   const std::string& competency, bool publish) {
  catalog::TrainingActor admin;
  admin.subject = "root";
  admin.request_id = NewRequestId();
  Course course;
  course.set_id(id);
  course.set_code("PP-01");
  course.set_title("Pelayanan Prima");
  course.set_general_objective("Melayani masyarakat dengan sikap yang baik.");
  course.add_modules()->set_title("Sikap melayani");
  course.mutable_modules(0)->set_hours(2);
  course.add_competencies(competency);
  course.set_pass_mark(70);
  absl::StatusOr<Course> created = Await<Course>([&](Done<Course> done) {
    store.CreateCourse(course, admin, std::move(done));
  });
  ASSERT_TRUE(created.ok()) << created.status();
  if (!publish) return;
  admin.request_id = NewRequestId();
  absl::StatusOr<Course> published = Await<Course>([&](Done<Course> done) {
    store.SetCourseStatus(id, catalog::v1::COURSE_STATUS_PUBLISHED, admin,
                          std::move(done));
  });
  ASSERT_TRUE(published.ok()) << published.status();
}

TrainingActor RecommendationConsumerTest::Admin() {
  TrainingActor actor;
  actor.subject = "root";
  actor.request_id = absl::StrCat("req-", ++requests_);
  return actor;
}

void RecommendationConsumerTest::AddCourse(const std::string& id,
                                           const std::string& competency,
                                           bool publish) {
  AddTestCourse(*store_, id, competency, publish);
}

void RecommendationConsumerTest::Append(const EventEnvelope& envelope) {
  std::vector<std::string> add = {"XADD",
                                  options_.stream,
                                  "MAXLEN",
                                  "~",
                                  absl::StrCat(kEventStreamMaxLen),
                                  "*",
                                  "type",
                                  envelope.type(),
                                  "agency",
                                  envelope.agency(),
                                  "envelope",
                                  envelope.SerializeAsString()};
  ASSERT_TRUE(env_->redis().Command(add).ok());
}

EventHandler RecommendationConsumerTest::Handler() {
  return make_handler_(env_->client(), clock_);
}

std::unique_ptr<EventConsumer> RecommendationConsumerTest::Consumer(
    EventHandler handler) {
  ConsumerOptions options = options_;
  options.consumer = "catalog-test";
  options.claim_idle = absl::Milliseconds(50);
  options.claim_interval = absl::ZeroDuration();
  return std::make_unique<EventConsumer>(env_->redis().endpoint(),
                                         absl::Seconds(2), std::move(options),
                                         std::move(handler));
}

void RecommendationConsumerTest::Deliver(
    const std::vector<EventEnvelope>& envelopes) {
  for (const EventEnvelope& e : envelopes) Append(e);
  std::unique_ptr<EventConsumer> consumer = Consumer();
  absl::StatusOr<int> handled = consumer->RunOnce();
  ASSERT_TRUE(handled.ok()) << handled.status();
  EXPECT_EQ(*handled, static_cast<int>(envelopes.size()));
}

void RecommendationConsumerTest::HandleWithoutAck() {
  EventHandler real = Handler();
  std::unique_ptr<EventConsumer> crashed =
      Consumer([&](const StreamEvent& event, SyncRedis& redis) {
        absl::Status s = real(event, redis);
        EXPECT_TRUE(s.ok()) << s;
        return absl::UnavailableError("killed before the ack");
      });
  ASSERT_TRUE(crashed->RunOnce().ok());
}

uint64_t RecommendationConsumerTest::RedeliverPending() {
  std::unique_ptr<EventConsumer> restarted = Consumer();
  absl::StatusOr<int> run = restarted->RunOnce();
  EXPECT_TRUE(run.ok()) << run.status();
  return restarted->stats().handled;
}

std::vector<Recommendation> RecommendationConsumerTest::Recommendations(
    const std::string& officer, const std::string& office) {
  absl::StatusOr<ListRecommendationsResponse> listed =
      Await<ListRecommendationsResponse>(
          [&](Done<ListRecommendationsResponse> done) {
            store_->ListRecommendations(officer, office, 0, 50,
                                        std::move(done));
          });
  EXPECT_TRUE(listed.ok()) << listed.status();
  if (!listed.ok()) return {};
  return {listed->recommendations().begin(), listed->recommendations().end()};
}

void RecommendationConsumerTest::Close(const std::string& id,
                                       RecommendationStatus to) {
  absl::StatusOr<Recommendation> closed =
      Await<Recommendation>([&](Done<Recommendation> done) {
        store_->CloseRecommendation(id, to, Admin(), "", std::move(done));
      });
  ASSERT_TRUE(closed.ok()) << closed.status();
}

int RecommendationConsumerTest::OpenedEvents() {
  auto entries =
      env_->redis().Command({"XRANGE", EventStreamKey("catalog"), "-", "+"});
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok()) return -1;
  int opened = 0;
  for (const RedisValue& entry : entries->elements) {
    const RedisValue& fields = entry.elements[1];
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str == "type" &&
          fields.elements[i + 1].str == "training.recommendation_opened") {
        ++opened;
      }
    }
  }
  return opened;
}

int64_t RecommendationConsumerTest::Pending() {
  auto summary =
      env_->redis().Command({"XPENDING", options_.stream, options_.group});
  EXPECT_TRUE(summary.ok()) << summary.status();
  return summary.ok() ? summary->elements[0].integer : -1;
}

}  // namespace prima::testing
