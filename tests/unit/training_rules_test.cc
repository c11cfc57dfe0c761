// The training catalogue's pure rules: validation messages name the field path,
// the course state machine, enrolment eligibility, pass/fail and certificate
// numbers.
#include "services/catalog/training_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace prima::catalog {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT
using ::testing::HasSubstr;
using ::testing::StartsWith;

Course ValidCourse() {
  Course c;
  c.set_id("pelayanan-prima");
  c.set_code("PP-01");
  c.set_title("Pelayanan Prima");
  c.set_general_objective("Peserta mampu menerapkan prinsip pelayanan.");
  c.add_specific_objectives("Menjelaskan pengertian pelayanan prima.");
  auto* m = c.add_modules();
  m->set_title("Pengertian pelayanan");
  m->set_hours(2);
  auto* m2 = c.add_modules();
  m2->set_title("Prinsip pelayanan");
  m2->set_hours(3);
  c.add_competencies("service-attitude");
  c.set_pass_mark(70);
  return c;
}

Offering ValidOffering(absl::Time now) {
  Offering o;
  o.set_id("pp-2026-01");
  o.set_course_id("pelayanan-prima");
  o.set_agency("dukcapil-jakarta");
  o.set_mode(OFFERING_MODE_CLASSROOM);
  o.mutable_location()->set_address("Jl. Merdeka 1");
  o.set_capacity(30);
  *o.mutable_start_time() = ToProtoTime(now + absl::Hours(24 * 10));
  *o.mutable_end_time() = ToProtoTime(now + absl::Hours(24 * 12));
  *o.mutable_enrolment_deadline() = ToProtoTime(now + absl::Hours(24 * 7));
  return o;
}

TEST(TrainingRulesTest, ValidCourseAndTotalHours) {
  EXPECT_TRUE(ValidateCourse(ValidCourse()).ok());
  EXPECT_EQ(TotalHours(ValidCourse()), 5);
}

TEST(TrainingRulesTest, CourseErrorsNameTheFieldPath) {
  struct Case {
    std::function<void(Course&)> mutate;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {[](Course& c) { c.set_id("Bad Id"); }, "course.id:"},
      {[](Course& c) { c.set_title(""); }, "course.title:"},
      {[](Course& c) { c.set_title(std::string(201, 'x')); }, "course.title:"},
      {[](Course& c) { c.set_code(""); }, "course.code:"},
      {[](Course& c) { c.set_general_objective(" "); },
       "course.general_objective:"},
      {[](Course& c) { c.set_specific_objectives(0, ""); },
       "course.specific_objectives[0]:"},
      {[](Course& c) { c.clear_modules(); }, "course.modules:"},
      {[](Course& c) { c.mutable_modules(1)->set_hours(0); },
       "course.modules[1].hours:"},
      {[](Course& c) { c.mutable_modules(0)->set_title(""); },
       "course.modules[0].title:"},
      {[](Course& c) {
         for (int i = 0; i < 50; ++i) c.add_modules()->CopyFrom(c.modules(0));
       },
       "course.modules:"},
      {[](Course& c) { c.add_competencies("Service Attitude"); },
       "course.competencies[1]:"},
      {[](Course& c) { c.add_competencies("service-attitude"); },
       "course.competencies[1]: duplicate"},
      {[](Course& c) { c.set_pass_mark(101); }, "course.pass_mark:"},
      {[](Course& c) { c.set_owner_agency("UPPER"); }, "course.owner_agency:"},
  };
  for (const Case& tc : cases) {
    Course c = ValidCourse();
    tc.mutate(c);
    absl::Status s = ValidateCourse(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << tc.prefix;
    EXPECT_THAT(std::string(s.message()), StartsWith(tc.prefix));
  }
}

TEST(TrainingRulesTest, CourseStateMachine) {
  EXPECT_EQ(*Publish(COURSE_STATUS_DRAFT), COURSE_STATUS_PUBLISHED);
  EXPECT_EQ(*Publish(COURSE_STATUS_PUBLISHED), COURSE_STATUS_PUBLISHED);
  EXPECT_EQ(Publish(COURSE_STATUS_ARCHIVED).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*Archive(COURSE_STATUS_DRAFT), COURSE_STATUS_ARCHIVED);
  EXPECT_EQ(*Archive(COURSE_STATUS_PUBLISHED), COURSE_STATUS_ARCHIVED);
  EXPECT_EQ(*Archive(COURSE_STATUS_ARCHIVED), COURSE_STATUS_ARCHIVED);
  EXPECT_TRUE(CheckUpdatable(COURSE_STATUS_DRAFT).ok());
  EXPECT_TRUE(CheckUpdatable(COURSE_STATUS_PUBLISHED).ok());
  EXPECT_EQ(CheckUpdatable(COURSE_STATUS_ARCHIVED).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckOpenForEnrolment(COURSE_STATUS_PUBLISHED).ok());
  EXPECT_FALSE(CheckOpenForEnrolment(COURSE_STATUS_DRAFT).ok());
}

TEST(TrainingRulesTest, OfferingValidation) {
  const absl::Time now = absl::FromUnixSeconds(1780000000);
  EXPECT_TRUE(ValidateOffering(ValidOffering(now), now).ok());
  struct Case {
    std::function<void(Offering&)> mutate;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {[](Offering& o) { o.set_capacity(0); }, "offering.capacity:"},
      {[](Offering& o) { o.set_capacity(10001); }, "offering.capacity:"},
      {[](Offering& o) { o.set_mode(OFFERING_MODE_UNSPECIFIED); },
       "offering.mode:"},
      {[](Offering& o) { o.mutable_location()->clear_address(); },
       "offering.location.address:"},
      {[](Offering& o) { o.set_course_id(""); }, "offering.course_id:"},
      {[](Offering& o) { o.set_agency("A B"); }, "offering.agency:"},
      {[](Offering& o) { *o.mutable_end_time() = o.start_time(); },
       "offering.end_time:"},
      {[](Offering& o) { o.clear_enrolment_deadline(); },
       "offering.enrolment_deadline:"},
      {[](Offering& o) {
         o.mutable_enrolment_deadline()->set_seconds(o.start_time().seconds() +
                                                     1);
       },
       "offering.enrolment_deadline:"},
  };
  for (const Case& tc : cases) {
    Offering o = ValidOffering(now);
    tc.mutate(o);
    absl::Status s = ValidateOffering(o, now);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << tc.prefix;
    EXPECT_THAT(std::string(s.message()), StartsWith(tc.prefix));
  }
  // Online needs no address; a start in the past is rejected.
  Offering online = ValidOffering(now);
  online.set_mode(OFFERING_MODE_ONLINE);
  online.mutable_location()->clear_address();
  EXPECT_TRUE(ValidateOffering(online, now).ok());
  EXPECT_THAT(std::string(ValidateOffering(ValidOffering(now),
                                           now + absl::Hours(24 * 11))
                              .message()),
              StartsWith("offering.start_time:"));
}

TEST(TrainingRulesTest, EnrolmentEligibility) {
  const absl::Time start = absl::FromUnixSeconds(2000);
  const absl::Time deadline = absl::FromUnixSeconds(1000);
  EXPECT_EQ(EnrolmentClosesAt(deadline, start), deadline);
  EXPECT_EQ(EnrolmentClosesAt(start + absl::Seconds(5), start), start);
  EXPECT_TRUE(CheckEnrolmentOpen(COURSE_STATUS_PUBLISHED, deadline, start,
                                 absl::FromUnixSeconds(999))
                  .ok());
  EXPECT_EQ(CheckEnrolmentOpen(COURSE_STATUS_PUBLISHED, deadline, start,
                               absl::FromUnixSeconds(1000))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckEnrolmentOpen(COURSE_STATUS_DRAFT, deadline, start,
                               absl::FromUnixSeconds(0))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TrainingRulesTest, PassFailAndCertificates) {
  EXPECT_TRUE(IsPass(70, 70));
  EXPECT_FALSE(IsPass(69, 70));
  EXPECT_TRUE(IsPass(0, 0));
  EXPECT_TRUE(ValidateScore("score", 100).ok());
  EXPECT_THAT(std::string(ValidateScore("score", -1).message()),
              StartsWith("score:"));
  EXPECT_EQ(FormatCertificateNumber(2026, 123), "PP-2026-000123");
  EXPECT_EQ(FormatCertificateNumber(2026, 1234567), "PP-2026-1234567");
  EXPECT_TRUE(ValidateVerificationCode("c", std::string(32, 'a')).ok());
  EXPECT_FALSE(ValidateVerificationCode("c", std::string(32, 'A')).ok());
  EXPECT_FALSE(ValidateVerificationCode("c", "abc").ok());
}

TEST(TrainingRulesTest, SearchIsAsciiCaseInsensitive) {
  Course c = ValidCourse();
  c.set_description("Keluhan Pelanggan");
  EXPECT_THAT(SearchText(c), HasSubstr("keluhan pelanggan"));
  EXPECT_EQ(NormalizeKeyword("  KeLuHan "), "keluhan");
}

TEST(TrainingRulesTest, RecommendationsCloseOnlyWhenOpen) {
  EXPECT_TRUE(CheckRecommendationOpen(RECOMMENDATION_STATUS_OPEN).ok());
  EXPECT_EQ(CheckRecommendationOpen(RECOMMENDATION_STATUS_DISMISSED).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TrainingRulesTest, TimestampRoundTrip) {
  const absl::Time t = absl::FromUnixMicros(1780000000123456);
  EXPECT_EQ(ToAbslTime(ToProtoTime(t)), t);
}

}  // namespace
}  // namespace prima::catalog
