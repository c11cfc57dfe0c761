// The catalog's satisfaction consumer against a real redis-server:
// satisfaction.element_low entries appended the way the satisfaction service's
// scripts append them, consumed with EventConsumer::RunOnce, turned into
// training recommendations for an office's front-line officers through the
// real TrainingStore and DirectoryStore (recommendation_consumer_fixture.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/catalog/satisfaction_consumer.h"
#include "services/common/events.h"
#include "tests/testing/recommendation_consumer_fixture.h"

namespace prima {
namespace {

using ::prima::catalog::v1::Recommendation;
using ::prima::events::v1::ComplaintFiled;
using ::prima::events::v1::EventEnvelope;
using ::prima::events::v1::SatisfactionElementLow;
using ::prima::events::v1::SatisfactionResponseSubmitted;

constexpr char kAgency[] = "dukcapil";
constexpr char kAttitude[] = "service-attitude";
constexpr char kStandards[] = "service-standards";
constexpr char kCourse[] = "pelayanan-prima";

class SatisfactionRecommendationTest
    : public testing::RecommendationConsumerTest {
 protected:
  SatisfactionRecommendationTest()
      : RecommendationConsumerTest(catalog::SatisfactionConsumerOptions(),
                                   catalog::MakeSatisfactionHandler) {}

  // Agency dukcapil. jaksel: front-line budi and sari, back-office andi.
  // jaktim: front-line dewi. jakbar: back-office eko only. jakut: nobody.
  void SetUp() override {
    RecommendationConsumerTest::SetUp();
    if (HasFatalFailure()) return;
    SeedDirectory(kAgency, {"jaksel", "jaktim", "jakbar", "jakut"},
                  {{"budi", "jaksel", true},
                   {"sari", "jaksel", true},
                   {"andi", "jaksel", false},
                   {"dewi", "jaktim", true},
                   {"eko", "jakbar", false}});
  }

  static SatisfactionElementLow Low(
      const std::string& office, const std::string& period = "2026-11",
      const std::vector<std::string>& competencies = {kAttitude}) {
    SatisfactionElementLow low;
    low.set_scope("office");
    low.set_scope_id(office);
    low.set_office_id(office);
    low.set_period(period);
    low.set_element("U7");
    low.set_score(62.5);
    low.set_mutu("D");
    low.set_template_id("skm");
    for (const std::string& c : competencies) low.add_competencies(c);
    low.set_answers(40);
    return low;
  }

  EventEnvelope Event(const SatisfactionElementLow& low,
                      const std::string& agency = kAgency) {
    return MakeEnvelope("satisfaction.element_low", agency, "satisfaction", low,
                        clock_.Now());
  }

  EventEnvelope ElementLow(const std::string& office,
                           const std::string& period = "2026-11",
                           const std::vector<std::string>& competencies = {
                               kAttitude}) {
    return Event(Low(office, period, competencies));
  }

  // The course ids of an officer's recommendations, newest first.
  std::vector<std::string> Courses(const std::string& officer) {
    std::vector<std::string> courses;
    for (const Recommendation& r : Recommendations(officer)) {
      courses.push_back(r.course_id());
    }
    return courses;
  }
};

TEST_F(SatisfactionRecommendationTest,
       FrontLineOfficersOfTheOfficeGetOneRecommendationEach) {
  AddCourse(kCourse, kAttitude);
  const EventEnvelope low = ElementLow("jaksel");
  Deliver({low});

  for (const char* officer : {"budi", "sari"}) {
    SCOPED_TRACE(officer);
    std::vector<Recommendation> recs = Recommendations(officer);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].status(), catalog::v1::RECOMMENDATION_STATUS_OPEN);
    EXPECT_EQ(recs[0].officer_id(), officer);
    EXPECT_EQ(recs[0].office_id(), "jaksel");
    EXPECT_EQ(recs[0].agency(), kAgency);
    EXPECT_EQ(recs[0].course_id(), kCourse);
    EXPECT_EQ(recs[0].reason(), "satisfaction.element_low:U7:jaksel:2026-11");
    EXPECT_EQ(recs[0].source_event_id(), low.id());
  }
  EXPECT_TRUE(Recommendations("andi").empty());         // back office
  EXPECT_TRUE(Recommendations("dewi").empty());         // another office
  EXPECT_EQ(Recommendations("", "jaksel").size(), 2u);  // no office-wide one
  EXPECT_EQ(OpenedEvents(), 2);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(SatisfactionRecommendationTest, DuplicatedEventsMakeOneEach) {
  AddCourse(kCourse, kAttitude);
  const EventEnvelope low = ElementLow("jaksel");
  Deliver({low, low});  // the producer appended it twice
  Deliver({low});
  // Another replica's sweeper reported the same month and element again.
  Deliver({ElementLow("jaksel")});
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(Recommendations("sari").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 2);

  // Once budi's is dismissed, the same event still makes nothing new...
  std::vector<Recommendation> budi = Recommendations("budi");
  ASSERT_EQ(budi.size(), 1u);
  Close(budi[0].id(), catalog::v1::RECOMMENDATION_STATUS_DISMISSED);
  Deliver({low});
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 2);

  // ...but the next month's low score does; sari's is still open.
  const EventEnvelope december = ElementLow("jaksel", "2026-12");
  Deliver({december});
  budi = Recommendations("budi");
  ASSERT_EQ(budi.size(), 2u);
  EXPECT_EQ(budi[0].source_event_id(), december.id());  // newest first
  EXPECT_EQ(budi[0].reason(), "satisfaction.element_low:U7:jaksel:2026-12");
  EXPECT_EQ(budi[0].status(), catalog::v1::RECOMMENDATION_STATUS_OPEN);
  std::vector<Recommendation> sari = Recommendations("sari");
  ASSERT_EQ(sari.size(), 1u);
  EXPECT_EQ(sari[0].source_event_id(), low.id());
  EXPECT_EQ(OpenedEvents(), 3);
}

TEST_F(SatisfactionRecommendationTest,
       RedeliveryOfUnackedEntryMakesNothingNew) {
  AddCourse(kCourse, kAttitude);
  Append(ElementLow("jaksel"));
  HandleWithoutAck();  // a replica that did the work and died before the ack
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(OpenedEvents(), 2);

  // Restarted, the consumer reads its pending entry again.
  EXPECT_EQ(RedeliverPending(), 1u);
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(Recommendations("budi").size(), 1u);
  EXPECT_EQ(Recommendations("sari").size(), 1u);
  EXPECT_EQ(OpenedEvents(), 2);
}

TEST_F(SatisfactionRecommendationTest,
       PrefersTheFirstCompetencyWithAPublishedCourse) {
  AddCourse("a-standards", kStandards);
  AddCourse("b-draft", kAttitude, /*publish=*/false);
  AddCourse("d-attitude", kAttitude);
  AddCourse("c-attitude", kAttitude);

  // The event's order decides, not the course ids; among a competency's
  // courses the lowest published id.
  Deliver({ElementLow("jaksel", "2026-11", {kAttitude, kStandards})});
  EXPECT_EQ(Courses("budi"), std::vector<std::string>{"c-attitude"});
  Deliver({ElementLow("jaksel", "2026-12", {kStandards, kAttitude})});
  EXPECT_EQ(Courses("budi"),
            (std::vector<std::string>{"a-standards", "c-attitude"}));

  // Competencies without a published course are skipped; an empty one matches
  // nothing (not every course).
  Deliver(
      {ElementLow("jaktim", "2026-11", {"", "records-management", kAttitude})});
  EXPECT_EQ(Courses("dewi"), std::vector<std::string>{"c-attitude"});
  EXPECT_EQ(OpenedEvents(), 5);
}

TEST_F(SatisfactionRecommendationTest, NothingToRecommendIsAcknowledged) {
  AddCourse("a-draft", kAttitude, /*publish=*/false);
  AddCourse("b-other", "records-management");
  Deliver({ElementLow("jaksel")});  // no published course for the competency
  EXPECT_TRUE(Recommendations("budi").empty());
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);

  AddCourse(kCourse, kAttitude);
  Deliver({ElementLow("jakbar"),    // back-office officers only
           ElementLow("jakut"),     // no officers
           ElementLow("jakpus")});  // not in the directory
  EXPECT_TRUE(Recommendations("eko").empty());
  EXPECT_TRUE(Recommendations("", "jakbar").empty());
  EXPECT_TRUE(Recommendations("", "jakut").empty());
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);

  // With the course published, the next low score does recommend it.
  Deliver({ElementLow("jaksel", "2026-12")});
  EXPECT_EQ(Courses("budi"), std::vector<std::string>{kCourse});
  EXPECT_EQ(Courses("sari"), std::vector<std::string>{kCourse});
  EXPECT_EQ(OpenedEvents(), 2);
}

TEST_F(SatisfactionRecommendationTest, OtherEventsAndIncompleteOnesAreIgnored) {
  AddCourse(kCourse, kAttitude);
  SatisfactionResponseSubmitted response;
  response.set_response_id("r-1");
  response.set_office_id("jaksel");
  response.set_officer_id("budi");
  SatisfactionElementLow officer_scope = Low("jaksel");
  officer_scope.set_scope("officer");
  officer_scope.set_scope_id("budi");
  SatisfactionElementLow no_office = Low("jaksel");
  no_office.clear_office_id();
  ComplaintFiled not_low;
  not_low.set_office_id("jaksel");
  Deliver({MakeEnvelope("satisfaction.response_submitted", kAgency,
                        "satisfaction", response, clock_.Now()),
           Event(officer_scope),
           ElementLow("jaksel", "2026-11", {}),  // no competencies
           Event(no_office), ElementLow("bad:office"),
           Event(Low("jaksel"), "samsat"),  // jaksel's officers are dukcapil's
           // A payload of another message: acknowledged, not retried.
           MakeEnvelope("satisfaction.element_low", kAgency, "satisfaction",
                        not_low, clock_.Now())});
  EXPECT_TRUE(Recommendations("budi").empty());
  EXPECT_TRUE(Recommendations("sari").empty());
  EXPECT_TRUE(Recommendations("", "jaksel").empty());
  EXPECT_EQ(OpenedEvents(), 0);
  EXPECT_EQ(Pending(), 0);
}

}  // namespace
}  // namespace prima
