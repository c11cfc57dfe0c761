// The catalog's complaint consumer against a real redis-server: complaint.filed
// entries appended the way the complaint service's scripts append them
// (prima_emit's fields), consumed with EventConsumer::RunOnce, turned into
// training recommendations through the real TrainingStore.
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/complaint_consumer.h"
#include "services/catalog/directory_store.h"
#include "services/catalog/training_store.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/done.h"
#include "services/common/events.h"
#include "tests/testing/service_env.h"

namespace prima {
namespace {

using ::prima::catalog::TrainingActor;
using ::prima::catalog::TrainingStore;
using ::prima::catalog::v1::ApplyDirectoryRequest;
using ::prima::catalog::v1::ApplyDirectoryResponse;
using ::prima::catalog::v1::Course;
using ::prima::catalog::v1::ListRecommendationsResponse;
using ::prima::catalog::v1::Recommendation;
using ::prima::catalog::v1::RecommendationStatus;
using ::prima::events::v1::ComplaintFiled;
using ::prima::events::v1::ComplaintStatusChanged;
using ::prima::events::v1::EventEnvelope;

constexpr char kAgency[] = "dukcapil";
constexpr char kCourse[] = "pelayanan-prima";

// Runs an asynchronous store call and waits for its answer.
template <typename T>
absl::StatusOr<T> Call(absl::AnyInvocable<void(Done<T>)> start) {
  absl::Notification answered;
  absl::StatusOr<T> result = absl::DeadlineExceededError("no answer");
  start([&](absl::StatusOr<T> r) {
    result = std::move(r);
    answered.Notify();
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  return result;
}

class ComplaintRecommendationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = testing::TestServiceEnv::Start(clock_);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    store_ = std::make_unique<TrainingStore>(env_->client(), clock_);
    directory_ =
        std::make_unique<catalog::DirectoryStore>(env_->client(), clock_);
    SeedDirectory();
  }

  // Agency dukcapil with offices jaksel and jaktim; officer budi works in
  // jaksel.
  void SeedDirectory() {
    ApplyDirectoryRequest region;
    region.set_request_id("seed");
    auto* agency = region.add_agencies();
    agency->set_id(kAgency);
    agency->set_name("Dukcapil");
    agency->set_region("DKI Jakarta");
    for (const char* id : {"jaksel", "jaktim"}) {
      auto* office = region.add_offices();
      office->set_id(id);
      office->set_agency_id(kAgency);
      office->set_name(id);
      office->set_time_zone("Asia/Jakarta");
    }
    auto* officer = region.add_officers();
    officer->set_id("budi");
    officer->set_agency_id(kAgency);
    officer->set_office_id("jaksel");
    officer->set_name("Budi");
    catalog::WriteContext context;
    context.rpc = "ApplyDirectory";
    context.request_id = "seed";
    context.caller.subject = "admin";
    context.caller.roles = Roles({Role::kRegionAdmin});
    absl::StatusOr<ApplyDirectoryResponse> applied =
        Call<ApplyDirectoryResponse>([&](Done<ApplyDirectoryResponse> done) {
          directory_->Apply(region, context, true, std::move(done));
        });
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  TrainingActor Admin() {
    TrainingActor actor;
    actor.subject = "root";
    actor.request_id = absl::StrCat("req-", ++requests_);
    return actor;
  }

  // A national course with the given competency, published unless `publish`
  // is false.
  void AddCourse(const std::string& id, const std::string& competency,
                 bool publish = true) {
    Course course;
    course.set_id(id);
    course.set_code("PP-01");
    course.set_title("Pelayanan Prima");
    course.set_general_objective("Melayani masyarakat dengan sikap yang baik.");
    course.add_modules()->set_title("Sikap melayani");
    course.mutable_modules(0)->set_hours(2);
    course.add_competencies(competency);
    course.set_pass_mark(70);
    absl::StatusOr<Course> created = Call<Course>([&](Done<Course> done) {
      store_->CreateCourse(course, Admin(), std::move(done));
    });
    ASSERT_TRUE(created.ok()) << created.status();
    if (!publish) return;
    absl::StatusOr<Course> published = Call<Course>([&](Done<Course> done) {
      store_->SetCourseStatus(id, catalog::v1::COURSE_STATUS_PUBLISHED, Admin(),
                              std::move(done));
    });
    ASSERT_TRUE(published.ok()) << published.status();
  }

  EventEnvelope Complaint(const std::string& tracking_number,
                          const std::string& officer, const std::string& office,
                          const std::string& category = "ATTITUDINAL") {
    ComplaintFiled filed;
    filed.set_complaint_id(absl::StrCat("c-", tracking_number));
    filed.set_tracking_number(tracking_number);
    filed.set_office_id(office);
    filed.set_service_id("ktp-el");
    filed.set_officer_id(officer);
    filed.set_classification("PENGADUAN");
    filed.set_category(category);
    return MakeEnvelope("complaint.filed", kAgency, "complaint", filed,
                        clock_.Now());
  }

  // Appends the envelope with the fields prima_emit writes.
  void Append(const EventEnvelope& envelope) {
    std::vector<std::string> add = {"XADD",
                                    EventStreamKey("complaint"),
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

  ConsumerOptions Options() {
    ConsumerOptions options = catalog::ComplaintConsumerOptions();
    options.consumer = "catalog-test";
    options.claim_idle = absl::Milliseconds(50);
    options.claim_interval = absl::ZeroDuration();
    return options;
  }

  std::unique_ptr<EventConsumer> Consumer(EventHandler handler) {
    return std::make_unique<EventConsumer>(env_->redis().endpoint(),
                                           absl::Seconds(2), Options(),
                                           std::move(handler));
  }
  std::unique_ptr<EventConsumer> Consumer() {
    return Consumer(catalog::MakeComplaintHandler(env_->client(), clock_));
  }

  // Appends the envelopes and consumes them with one RunOnce.
  void Deliver(const std::vector<EventEnvelope>& envelopes) {
    for (const EventEnvelope& e : envelopes) Append(e);
    std::unique_ptr<EventConsumer> consumer = Consumer();
    absl::StatusOr<int> handled = consumer->RunOnce();
    ASSERT_TRUE(handled.ok()) << handled.status();
    EXPECT_EQ(*handled, static_cast<int>(envelopes.size()));
  }

  std::vector<Recommendation> Recommendations(const std::string& officer,
                                              const std::string& office = "") {
    absl::StatusOr<ListRecommendationsResponse> listed =
        Call<ListRecommendationsResponse>(
            [&](Done<ListRecommendationsResponse> done) {
              store_->ListRecommendations(officer, office, 0, 50,
                                          std::move(done));
            });
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return {};
    return {listed->recommendations().begin(), listed->recommendations().end()};
  }

  void Close(const std::string& id, RecommendationStatus to) {
    absl::StatusOr<Recommendation> closed =
        Call<Recommendation>([&](Done<Recommendation> done) {
          store_->CloseRecommendation(id, to, Admin(), "", std::move(done));
        });
    ASSERT_TRUE(closed.ok()) << closed.status();
  }

  // training.recommendation_opened events on the catalog's stream.
  int OpenedEvents() {
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

  // Entries of the complaint stream delivered to the group but not acked.
  int64_t Pending() {
    auto summary = env_->redis().Command(
        {"XPENDING", EventStreamKey("complaint"), "catalog"});
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? summary->elements[0].integer : -1;
  }

  const Clock& clock_ = RealClock::Get();
  std::unique_ptr<testing::TestServiceEnv> env_;
  std::unique_ptr<TrainingStore> store_;
  std::unique_ptr<catalog::DirectoryStore> directory_;
  int requests_ = 0;
};

TEST_F(ComplaintRecommendationTest,
       AttitudinalComplaintOpensOneRecommendation) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  const EventEnvelope complaint = Complaint("PRM-0001", "budi", "jaksel");
  Deliver({complaint});

  std::vector<Recommendation> recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].status(), catalog::v1::RECOMMENDATION_STATUS_OPEN);
  EXPECT_EQ(recs[0].officer_id(), "budi");
  EXPECT_EQ(recs[0].office_id(), "jaksel");
  EXPECT_EQ(recs[0].agency(), kAgency);
  EXPECT_EQ(recs[0].course_id(), kCourse);
  EXPECT_EQ(recs[0].reason(), "complaint.attitudinal:PRM-0001");
  EXPECT_EQ(recs[0].source_event_id(), complaint.id());
  EXPECT_EQ(OpenedEvents(), 1);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(ComplaintRecommendationTest, SameEventTwiceMakesOneRecommendation) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  const EventEnvelope complaint = Complaint("PRM-0001", "budi", "jaksel");
  Deliver({complaint});
  Deliver({complaint});  // the producer appended it again
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 1);

  // Even once the first is closed, the same event makes nothing new.
  std::vector<Recommendation> recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 1u);
  Close(recs[0].id(), catalog::v1::RECOMMENDATION_STATUS_DISMISSED);
  Deliver({complaint});
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 1);
}

TEST_F(ComplaintRecommendationTest, RedeliveryOfUnackedEntryMakesNothingNew) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  Append(Complaint("PRM-0001", "budi", "jaksel"));
  // A replica that did the work and died before acknowledging it.
  EventHandler real = catalog::MakeComplaintHandler(env_->client(), clock_);
  std::unique_ptr<EventConsumer> crashed =
      Consumer([&](const StreamEvent& event, SyncRedis& redis) {
        absl::Status s = real(event, redis);
        EXPECT_TRUE(s.ok()) << s;
        return absl::UnavailableError("killed before the ack");
      });
  ASSERT_TRUE(crashed->RunOnce().ok());
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 1);

  // Restarted, the consumer reads its pending entry again.
  std::unique_ptr<EventConsumer> restarted = Consumer();
  ASSERT_TRUE(restarted->RunOnce().ok());
  EXPECT_EQ(restarted->stats().handled, 1u);
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 1);
}

TEST_F(ComplaintRecommendationTest, OneOpenRecommendationPerOfficerAndCourse) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  const EventEnvelope first = Complaint("PRM-0001", "budi", "jaksel");
  Deliver({first});
  Deliver({Complaint("PRM-0002", "budi", "jaksel")});
  std::vector<Recommendation> recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].source_event_id(), first.id());
  EXPECT_EQ(OpenedEvents(), 1);

  // Dismissed: the next complaint opens a new one.
  Close(recs[0].id(), catalog::v1::RECOMMENDATION_STATUS_DISMISSED);
  const EventEnvelope third = Complaint("PRM-0003", "budi", "jaksel");
  Deliver({third});
  recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].source_event_id(), third.id());  // newest first
  EXPECT_EQ(recs[0].status(), catalog::v1::RECOMMENDATION_STATUS_OPEN);
  EXPECT_EQ(OpenedEvents(), 2);

  // Accepted: likewise.
  Close(recs[0].id(), catalog::v1::RECOMMENDATION_STATUS_ACCEPTED);
  Deliver({Complaint("PRM-0004", "budi", "jaksel")});
  recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].reason(), "complaint.attitudinal:PRM-0004");
  EXPECT_EQ(OpenedEvents(), 3);
}

TEST_F(ComplaintRecommendationTest, OfficeOnlyComplaintRecommendsForTheOffice) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  Deliver({Complaint("PRM-0001", "", "jaksel"),
           Complaint("PRM-0002", "", "jaksel")});
  std::vector<Recommendation> recs = Recommendations("", "jaksel");
  ASSERT_EQ(recs.size(), 1u);  // one OPEN per office and course
  EXPECT_EQ(recs[0].officer_id(), "");
  EXPECT_EQ(recs[0].office_id(), "jaksel");
  EXPECT_EQ(recs[0].reason(), "complaint.attitudinal:PRM-0001");
  EXPECT_EQ(OpenedEvents(), 1);

  // The office's open recommendation does not stand for its officers'.
  Deliver({Complaint("PRM-0003", "budi", "jaksel")});
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(Recommendations("", "jaksel").size(), 2u);
  EXPECT_EQ(OpenedEvents(), 2);
}

TEST_F(ComplaintRecommendationTest, OfficerOfficeComesFromTheDirectory) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  Deliver({Complaint("PRM-0001", "budi", ""),  // the event names no office
           Complaint("PRM-0002", "ghost", "jaktim")});  // unknown officer
  std::vector<Recommendation> budi = Recommendations("budi");
  ASSERT_EQ(budi.size(), 1u);
  EXPECT_EQ(budi[0].office_id(), "jaksel");
  std::vector<Recommendation> ghost = Recommendations("ghost");
  ASSERT_EQ(ghost.size(), 1u);
  EXPECT_EQ(ghost[0].office_id(), "jaktim");
}

TEST_F(ComplaintRecommendationTest, OtherComplaintsAndEventsAreIgnored) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  ComplaintStatusChanged changed;
  changed.set_complaint_id("c-1");
  changed.set_to_status("RESOLVED");
  Deliver({Complaint("PRM-0001", "budi", "jaksel", "MECHANICAL"),
           Complaint("PRM-0002", "budi", "jaksel", "SERVICE_RELATED"),
           Complaint("PRM-0003", "", "jaksel", "UNUSUAL"),
           Complaint("PRM-0004", "", ""),  // names neither officer nor office
           MakeEnvelope("complaint.status_changed", kAgency, "complaint",
                        changed, clock_.Now())});
  EXPECT_TRUE(Recommendations("budi").empty());
  EXPECT_TRUE(Recommendations("", "jaksel").empty());
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(ComplaintRecommendationTest, NoPublishedCourseIsAcknowledged) {
  AddCourse("a-draft", catalog::kServiceAttitudeCompetency, /*publish=*/false);
  AddCourse("b-other", "records-management");
  Deliver({Complaint("PRM-0001", "budi", "jaksel")});
  EXPECT_TRUE(Recommendations("budi").empty());
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);

  // Once the course is published, the next complaint does get it.
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  Deliver({Complaint("PRM-0002", "budi", "jaksel")});
  std::vector<Recommendation> recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].course_id(), kCourse);
}

TEST_F(ComplaintRecommendationTest, PicksTheLowestPublishedCourseId) {
  AddCourse("a-draft", catalog::kServiceAttitudeCompetency, /*publish=*/false);
  AddCourse("b-other", "records-management");
  AddCourse("d-attitude", catalog::kServiceAttitudeCompetency);
  AddCourse("c-attitude", catalog::kServiceAttitudeCompetency);
  Deliver({Complaint("PRM-0001", "budi", "jaksel")});
  std::vector<Recommendation> recs = Recommendations("budi");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].course_id(), "c-attitude");
}

TEST_F(ComplaintRecommendationTest, BadIdsAreAcknowledgedBadPayloadsAreNot) {
  AddCourse(kCourse, catalog::kServiceAttitudeCompetency);
  // Refused the same way on every delivery: acknowledged, nothing made.
  Deliver({Complaint("PRM-0001", "Bad Officer", "jaksel"),
           Complaint("PRM-0002", "", "bad:office")});
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);

  // A complaint.filed entry whose payload is another message is a producer
  // bug: left pending, to be retried and then dead-lettered.
  ComplaintStatusChanged wrong;
  wrong.set_complaint_id("c-1");
  Append(MakeEnvelope("complaint.filed", kAgency, "complaint", wrong,
                      clock_.Now()));
  std::unique_ptr<EventConsumer> consumer = Consumer();
  absl::StatusOr<int> handled = consumer->RunOnce();
  ASSERT_TRUE(handled.ok()) << handled.status();
  EXPECT_EQ(*handled, 0);
  EXPECT_EQ(consumer->stats().failed, 1u);
  EXPECT_EQ(Pending(), 1);
}

}  // namespace
}  // namespace prima
