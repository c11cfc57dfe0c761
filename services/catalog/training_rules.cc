#include "services/catalog/training_rules.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::catalog {

using prima::catalog::v1::Course;
using prima::catalog::v1::CourseStatus;
using prima::catalog::v1::Offering;
using prima::catalog::v1::OfferingMode;
using prima::catalog::v1::RecommendationStatus;

namespace {

absl::Status Required(const std::string& field, absl::string_view value,
                      int max_chars) {
  RETURN_IF_ERROR(RequireNonEmpty(field, value));
  return ValidateText(field, value, max_chars);
}

bool HasTime(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

}  // namespace

absl::Status ValidateCourse(const Course& course, absl::string_view path) {
  const std::string p(path);
  RETURN_IF_ERROR(ValidateId(p + ".id", course.id()));
  RETURN_IF_ERROR(Required(p + ".code", course.code(), 32));
  RETURN_IF_ERROR(Required(p + ".title", course.title(), 200));
  RETURN_IF_ERROR(ValidateText(p + ".description", course.description(), 4000));
  RETURN_IF_ERROR(ValidateText(p + ".audience", course.audience(), 500));
  RETURN_IF_ERROR(
      Required(p + ".general_objective", course.general_objective(), 2000));
  if (course.specific_objectives_size() > kMaxObjectives) {
    return absl::InvalidArgumentError(absl::StrCat(
        p, ".specific_objectives: at most ", kMaxObjectives, " objectives"));
  }
  for (int i = 0; i < course.specific_objectives_size(); ++i) {
    RETURN_IF_ERROR(Required(absl::StrCat(p, ".specific_objectives[", i, "]"),
                             course.specific_objectives(i), 1000));
  }
  if (course.modules_size() < 1 || course.modules_size() > kMaxModules) {
    return absl::InvalidArgumentError(
        absl::StrCat(p, ".modules: must have 1-", kMaxModules, " modules"));
  }
  for (int i = 0; i < course.modules_size(); ++i) {
    const auto& m = course.modules(i);
    const std::string mp = absl::StrCat(p, ".modules[", i, "]");
    RETURN_IF_ERROR(Required(mp + ".title", m.title(), 200));
    RETURN_IF_ERROR(ValidateText(mp + ".summary", m.summary(), 2000));
    RETURN_IF_ERROR(
        ValidateRange(mp + ".hours", m.hours(), 1, kMaxModuleHours));
  }
  if (course.competencies_size() > kMaxCompetencies) {
    return absl::InvalidArgumentError(
        absl::StrCat(p, ".competencies: at most ", kMaxCompetencies, " tags"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < course.competencies_size(); ++i) {
    const std::string field = absl::StrCat(p, ".competencies[", i, "]");
    RETURN_IF_ERROR(ValidateId(field, course.competencies(i)));
    if (!seen.insert(course.competencies(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": duplicate tag \"", course.competencies(i), "\""));
    }
  }
  RETURN_IF_ERROR(ValidateRange(p + ".pass_mark", course.pass_mark(), 0, 100));
  RETURN_IF_ERROR(
      ValidateOptionalId(p + ".owner_agency", course.owner_agency()));
  return absl::OkStatus();
}

int32_t TotalHours(const Course& course) {
  int32_t total = 0;
  for (const auto& m : course.modules()) total += m.hours();
  return total;
}

absl::StatusOr<CourseStatus> Publish(CourseStatus from) {
  switch (from) {
    case v1::COURSE_STATUS_DRAFT:
    case v1::COURSE_STATUS_PUBLISHED:
      return v1::COURSE_STATUS_PUBLISHED;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("course is ", v1::CourseStatus_Name(from),
                       ": only a DRAFT course can be published"));
  }
}

absl::StatusOr<CourseStatus> Archive(CourseStatus from) {
  switch (from) {
    case v1::COURSE_STATUS_DRAFT:
    case v1::COURSE_STATUS_PUBLISHED:
    case v1::COURSE_STATUS_ARCHIVED:
      return v1::COURSE_STATUS_ARCHIVED;
    default:
      return absl::FailedPreconditionError("course has no status");
  }
}

absl::Status CheckUpdatable(CourseStatus status) {
  if (status == v1::COURSE_STATUS_DRAFT ||
      status == v1::COURSE_STATUS_PUBLISHED) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("course is ", v1::CourseStatus_Name(status),
                   ": only DRAFT or PUBLISHED courses can be updated"));
}

absl::Status CheckOpenForEnrolment(CourseStatus status) {
  if (status == v1::COURSE_STATUS_PUBLISHED) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("course is ", v1::CourseStatus_Name(status),
                   ": only a PUBLISHED course takes offerings and enrolments"));
}

absl::Status ValidateOffering(const Offering& offering, absl::Time now,
                              absl::string_view path) {
  const std::string p(path);
  RETURN_IF_ERROR(ValidateOptionalId(p + ".id", offering.id()));
  RETURN_IF_ERROR(ValidateId(p + ".course_id", offering.course_id()));
  RETURN_IF_ERROR(ValidateId(p + ".agency", offering.agency()));
  if (!v1::OfferingMode_IsValid(offering.mode()) ||
      offering.mode() == v1::OFFERING_MODE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        p + ".mode: must be CLASSROOM, ONLINE or BLENDED");
  }
  RETURN_IF_ERROR(ValidateText(p + ".location.address",
                               offering.location().address(), 500));
  if (offering.mode() != v1::OFFERING_MODE_ONLINE) {
    RETURN_IF_ERROR(RequireNonEmpty(p + ".location.address",
                                    offering.location().address()));
  }
  RETURN_IF_ERROR(ValidateRange(p + ".capacity", offering.capacity(),
                                kMinCapacity, kMaxCapacity));
  if (!HasTime(offering.start_time())) {
    return absl::InvalidArgumentError(p + ".start_time: required");
  }
  if (!HasTime(offering.end_time())) {
    return absl::InvalidArgumentError(p + ".end_time: required");
  }
  if (!HasTime(offering.enrolment_deadline())) {
    return absl::InvalidArgumentError(p + ".enrolment_deadline: required");
  }
  const absl::Time start = ToAbslTime(offering.start_time());
  const absl::Time end = ToAbslTime(offering.end_time());
  const absl::Time deadline = ToAbslTime(offering.enrolment_deadline());
  if (end <= start) {
    return absl::InvalidArgumentError(p +
                                      ".end_time: must be after start_time");
  }
  if (deadline > start) {
    return absl::InvalidArgumentError(
        p + ".enrolment_deadline: must be at or before start_time");
  }
  if (start <= now) {
    return absl::InvalidArgumentError(p + ".start_time: must be in the future");
  }
  return absl::OkStatus();
}

absl::Time EnrolmentClosesAt(absl::Time deadline, absl::Time start) {
  return std::min(deadline, start);
}

absl::Status CheckEnrolmentOpen(CourseStatus course_status, absl::Time deadline,
                                absl::Time start, absl::Time now) {
  RETURN_IF_ERROR(CheckOpenForEnrolment(course_status));
  if (now >= EnrolmentClosesAt(deadline, start)) {
    return absl::FailedPreconditionError(
        "offering is closed for enrolment: its deadline or start has passed");
  }
  return absl::OkStatus();
}

absl::Status ValidateScore(absl::string_view field, int32_t score) {
  return ValidateRange(field, score, 0, 100);
}

bool IsPass(int32_t score, int32_t pass_mark) { return score >= pass_mark; }

std::string FormatCertificateNumber(int year, int64_t sequence) {
  return absl::StrFormat("PP-%04d-%06d", year, sequence);
}

absl::Status ValidateVerificationCode(absl::string_view field,
                                      absl::string_view code) {
  bool ok = code.size() == 32;
  for (char c : code) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 32 lowercase hex characters"));
  }
  return absl::OkStatus();
}

std::string SearchText(const Course& course) {
  return absl::AsciiStrToLower(
      absl::StrCat(course.title(), "\n", course.description()));
}

std::string NormalizeKeyword(absl::string_view keyword) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(keyword));
}

absl::Status CheckRecommendationOpen(RecommendationStatus status) {
  if (status == v1::RECOMMENDATION_STATUS_OPEN) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("recommendation is ", v1::RecommendationStatus_Name(status),
                   ": only an OPEN recommendation can change"));
}

}  // namespace prima::catalog
