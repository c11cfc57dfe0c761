#pragma once

// Redis keys and Lua scripts of the training catalogue. Nothing else knows a
// key name. Every mutation is one EVALSHA of an idempotent script that checks,
// writes and appends its event; every read is one command or one read-only
// script.
//
// Keys (all ids passed ValidateId before they get here):
//   prima:catalog:course:<id>                 hash: pb (Course content),
//   status,
//                                             owner, title, search, comp,
//                                             pass_mark, modules, updated
//   prima:catalog:courses                     zset (score 0) of course ids
//   prima:catalog:course:<id>:offerings       zset of offering ids by start
//   time prima:catalog:offering:<id>               hash: pb, course, agency,
//   capacity,
//                                             closes, seq (arrival counter)
//   prima:catalog:offering:<id>:seats         set of officers holding a seat
//   prima:catalog:offering:<id>:waitlist      zset of officers by arrival
//   sequence prima:catalog:enrolment:<offering>:<officer>  hash: the
//   enrolment's fields prima:catalog:officer:<id>:enrolments     zset of
//   offering ids by enrol time prima:catalog:officer:<id>:courses        hash
//   course -> active offering id
//                                             or "PASSED"
//   prima:catalog:certificate:<code>          hash: the certificate's fields
//   prima:catalog:certificate-seq:<year>      counter behind certificate
//   numbers prima:catalog:agency:<id>:required        set of required course
//   ids prima:catalog:agency:<id>:trainees        set of officers who ever
//   enrolled prima:catalog:recommendation:<id>         hash: pb, status,
//   updated prima:catalog:officer:<id>:recommendations /
//   office:<id>:recommendations
//                                             zsets of recommendation ids by
//                                             time
//   prima:catalog:officer:<id>:open-recommendations /
//   office:<id>:open-recommendations
//                                             hash course id -> the latest
//                                             recommendation for it (counts
//                                             only while that one is OPEN)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/common/v1/common.pb.h"
#include "services/common/clock.h"
#include "services/common/done.h"
#include "services/common/redis_client.h"

namespace prima::catalog {

// Who is acting, for idempotency keys, events and agency checks in scripts.
struct TrainingActor {
  std::string subject;     // token `sub` (idempotency keys are per caller)
  std::string request_id;  // the mutation's idempotency key (validated)
  std::string request_fingerprint;  // Principal::request_fingerprint
  // The agency whose resources the caller may touch; "*" for any (region_admin
  // or an officer acting on their own enrolment).
  std::string scope = "*";
  prima::common::v1::Actor actor;  // recorded in events
};

struct CourseFilter {
  std::string competency;  // id or empty
  std::string keyword;     // normalized (lowercase) or empty
  prima::catalog::v1::CourseStatus status =
      prima::catalog::v1::COURSE_STATUS_UNSPECIFIED;
  // Which non-published courses the caller sees: "" none (public), "*" all,
  // otherwise this agency's and national ones.
  std::string visibility;
  std::string cursor;  // last course id of the previous page; "" from start
  int page_size = 50;
};

template <typename T>
using StoreDone = Done<T>;

class TrainingStore {
 public:
  TrainingStore(RedisClient& redis, const Clock& clock);

  // ---- courses ----
  void CreateCourse(const prima::catalog::v1::Course& course,
                    const TrainingActor& actor,
                    StoreDone<prima::catalog::v1::Course> done);
  // Replaces the content; keeps owner, status and create time. Fails
  // PERMISSION_DENIED unless actor.scope is "*" or the owner.
  void UpdateCourse(const prima::catalog::v1::Course& course,
                    const TrainingActor& actor,
                    StoreDone<prima::catalog::v1::Course> done);
  // to: PUBLISHED or ARCHIVED (transitions of training_rules.h).
  void SetCourseStatus(absl::string_view course_id,
                       prima::catalog::v1::CourseStatus to,
                       const TrainingActor& actor,
                       StoreDone<prima::catalog::v1::Course> done);
  void GetCourse(absl::string_view course_id,
                 StoreDone<prima::catalog::v1::Course> done);
  struct CoursePage {
    std::vector<prima::catalog::v1::Course> courses;
    std::string next_cursor;  // empty on the last page
  };
  void ListCourses(const CourseFilter& filter, StoreDone<CoursePage> done);

  // ---- offerings ----
  // `offering.id` must be set (the adapter generates one when empty).
  void CreateOffering(const prima::catalog::v1::Offering& offering,
                      const TrainingActor& actor,
                      StoreDone<prima::catalog::v1::Offering> done);
  void GetOffering(absl::string_view offering_id,
                   StoreDone<prima::catalog::v1::Offering> done);
  struct OfferingPage {
    std::vector<prima::catalog::v1::Offering> offerings;
    int64_t next_offset = 0;  // 0 on the last page
  };
  void ListOfferings(absl::string_view course_id, int64_t offset, int page_size,
                     StoreDone<OfferingPage> done);

  // ---- enrolments ----
  void Enroll(absl::string_view offering_id, absl::string_view officer_id,
              absl::string_view officer_agency, const TrainingActor& actor,
              StoreDone<prima::catalog::v1::Enrolment> done);
  void Withdraw(absl::string_view offering_id, absl::string_view officer_id,
                const TrainingActor& actor,
                StoreDone<prima::catalog::v1::WithdrawResponse> done);
  // module / attendance: nullopt leaves it unchanged.
  void RecordProgress(absl::string_view offering_id,
                      absl::string_view officer_id,
                      std::optional<int32_t> module,
                      std::optional<int32_t> attendance,
                      const TrainingActor& actor,
                      StoreDone<prima::catalog::v1::Enrolment> done);
  void Complete(absl::string_view offering_id, absl::string_view officer_id,
                int32_t score, const TrainingActor& actor,
                StoreDone<prima::catalog::v1::Enrolment> done);
  void VerifyCertificate(absl::string_view code,
                         StoreDone<prima::catalog::v1::Certificate> done);
  // The officer's enrolments, and the officer's agency as the directory has
  // it ("" when the directory does not know the officer), in one round trip.
  struct OfficerRecord {
    prima::catalog::v1::TrainingRecord record;
    std::string officer_agency;
  };
  void GetTrainingRecord(absl::string_view officer_id,
                         StoreDone<OfficerRecord> done);

  // ---- compliance ----
  void SetRequiredCourses(absl::string_view agency,
                          const std::vector<std::string>& course_ids,
                          const TrainingActor& actor,
                          StoreDone<prima::catalog::v1::RequiredCourses> done);
  void GetRequiredCourses(absl::string_view agency,
                          StoreDone<prima::catalog::v1::RequiredCourses> done);
  // Officers considered: the agency's front-line officers in the directory
  // (directory_keys.h: the agency's officer index, front_line read from each
  // officer's record); when the directory has no officers for the agency, every
  // officer who ever enrolled under it.
  void ListComplianceGaps(
      absl::string_view agency, absl::string_view cursor, int page_size,
      StoreDone<prima::catalog::v1::ListComplianceGapsResponse> done);

  // ---- recommendations ----
  // Internal (no RPC): for the catalog's event consumers. Validates the
  // ids (INVALID_ARGUMENT naming the field: officer_id and/or office_id,
  // agency, course_id, reason <= 500 characters, source_event_id required) and
  // that the course exists (NOT_FOUND). Deduplicated by source_event_id,
  // course_id, officer_id and office_id for 24 hours (an event delivered twice
  // makes one recommendation per officer or office; the first is returned).
  // At most one OPEN recommendation per officer and course (per office and
  // course when officer_id is empty): while one is OPEN, nothing is created or
  // emitted and that one is returned. id, status and times are set here.
  void CreateRecommendation(
      const prima::catalog::v1::Recommendation& recommendation,
      StoreDone<prima::catalog::v1::Recommendation> done);
  void GetRecommendation(absl::string_view id,
                         StoreDone<prima::catalog::v1::Recommendation> done);
  // Exactly one of officer_id / office_id non-empty.
  void ListRecommendations(
      absl::string_view officer_id, absl::string_view office_id, int64_t offset,
      int page_size,
      StoreDone<prima::catalog::v1::ListRecommendationsResponse> done);
  // to: ACCEPTED or DISMISSED; FAILED_PRECONDITION unless OPEN.
  // `only_officer`: when set, PERMISSION_DENIED unless the recommendation is
  // for this officer (an officer acting on their own).
  void CloseRecommendation(absl::string_view id,
                           prima::catalog::v1::RecommendationStatus to,
                           const TrainingActor& actor,
                           const std::string& only_officer,
                           StoreDone<prima::catalog::v1::Recommendation> done);

 private:
  RedisClient& redis_;
  const Clock& clock_;
};

}  // namespace prima::catalog
