// The catalog's complaint consumer against a real redis-server: complaint.filed
// entries appended the way the complaint service's scripts append them,
// consumed with EventConsumer::RunOnce, turned into training recommendations
// through the real TrainingStore (recommendation_consumer_fixture.h).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/complaint_consumer.h"
#include "services/common/events.h"
#include "tests/testing/recommendation_consumer_fixture.h"

namespace prima {
namespace {

using ::prima::catalog::v1::Recommendation;
using ::prima::events::v1::ComplaintFiled;
using ::prima::events::v1::ComplaintStatusChanged;
using ::prima::events::v1::EventEnvelope;

constexpr char kAgency[] = "dukcapil";
constexpr char kCourse[] = "pelayanan-prima";

class ComplaintRecommendationTest : public testing::RecommendationConsumerTest {
 protected:
  ComplaintRecommendationTest()
      : RecommendationConsumerTest(catalog::ComplaintConsumerOptions(),
                                   catalog::MakeComplaintHandler) {}

  // Agency dukcapil with offices jaksel and jaktim; officer budi works in
  // jaksel.
  void SetUp() override {
    RecommendationConsumerTest::SetUp();
    if (HasFatalFailure()) return;
    SeedDirectory(kAgency, {"jaksel", "jaktim"}, {{"budi", "jaksel"}});
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
  HandleWithoutAck();  // a replica that did the work and died before the ack
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 1);

  // Restarted, the consumer reads its pending entry again.
  EXPECT_EQ(RedeliverPending(), 1u);
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
