#pragma once

// The training catalogue's domain rules: pure functions over the protos as
// plain data, no gRPC or Redis. The store's Lua scripts apply three of these
// rules to stored values and say so where they do: enrolment is open while now
// < EnrolmentClosesAt(...), a score passes when IsPass(...), and a course takes
// offerings and enrolments only while PUBLISHED.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "services/common/proto_time.h"

namespace prima::catalog {

// Limits of a course (documented in training.proto).
inline constexpr int kMaxModules = 50;
inline constexpr int kMaxObjectives = 30;
inline constexpr int kMaxCompetencies = 20;
inline constexpr int kMaxModuleHours = 100;
inline constexpr int kMinCapacity = 1;
inline constexpr int kMaxCapacity = 10000;
inline constexpr int kMaxWaitlist = 10000;
inline constexpr int kMaxRequiredCourses = 50;
inline constexpr int kMaxKeywordChars = 100;

// Checks every content field of a course (not status or times). `path` prefixes
// field names in messages ("course" -> "course.modules[2].hours: ...").
absl::Status ValidateCourse(const prima::catalog::v1::Course& course,
                            absl::string_view path = "course");

// Sum of the modules' JP.
int32_t TotalHours(const prima::catalog::v1::Course& course);

// The state machine. Publish: DRAFT -> PUBLISHED (PUBLISHED stays). Archive:
// DRAFT/PUBLISHED -> ARCHIVED (ARCHIVED stays). FAILED_PRECONDITION otherwise.
absl::StatusOr<prima::catalog::v1::CourseStatus> Publish(
    prima::catalog::v1::CourseStatus from);
absl::StatusOr<prima::catalog::v1::CourseStatus> Archive(
    prima::catalog::v1::CourseStatus from);
// Content may change in DRAFT and PUBLISHED.
absl::Status CheckUpdatable(prima::catalog::v1::CourseStatus status);
// Offerings and enrolments need a PUBLISHED course.
absl::Status CheckOpenForEnrolment(prima::catalog::v1::CourseStatus status);

// Checks an offering's fields for creation at `now`: ids, mode, location for
// classroom/blended, capacity 1-10000, start < end, deadline <= start, start in
// the future.
absl::Status ValidateOffering(const prima::catalog::v1::Offering& offering,
                              absl::Time now,
                              absl::string_view path = "offering");

// The instant enrolment closes: the earlier of the deadline and the start.
absl::Time EnrolmentClosesAt(absl::Time deadline, absl::Time start);
// Enrolment eligibility: the course is PUBLISHED and now < EnrolmentClosesAt.
absl::Status CheckEnrolmentOpen(prima::catalog::v1::CourseStatus course_status,
                                absl::Time deadline, absl::Time start,
                                absl::Time now);

// Scores are 0-100; a score passes when it reaches the pass mark.
absl::Status ValidateScore(absl::string_view field, int32_t score);
bool IsPass(int32_t score, int32_t pass_mark);

// "PP-<year>-<sequence, at least 6 digits>", e.g. "PP-2026-000123".
std::string FormatCertificateNumber(int year, int64_t sequence);
// A verification code: exactly 32 lowercase hex characters (NewSecret(16)).
absl::Status ValidateVerificationCode(absl::string_view field,
                                      absl::string_view code);

// Lowercased (ASCII) text a keyword filter searches: title + description.
std::string SearchText(const prima::catalog::v1::Course& course);
std::string NormalizeKeyword(absl::string_view keyword);

// Recommendation lifecycle: only OPEN may be accepted or dismissed.
absl::Status CheckRecommendationOpen(
    prima::catalog::v1::RecommendationStatus status);

}  // namespace prima::catalog
