#pragma once

// The complaint service's domain rules, pure (no gRPC, no Redis): the
// lifecycle of complaint.proto, working-day deadlines in an office's time
// zone, deadline policies, tracking numbers, the checks of FileComplaint and
// what each kind of reader may see of a complaint.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "prima/common/v1/common.pb.h"
#include "prima/complaint/v1/complaint.pb.h"

namespace prima::complaint {

// ---- lifecycle ----

// Every move on a complaint. kAutoClose is the sweeper's: it closes a RESOLVED
// complaint whose response window has passed.
enum class Action {
  kVerify,
  kReject,
  kNotInAuthority,
  kForward,
  kAssign,
  kStartWork,
  kResolve,
  kAccept,
  kReopen,
  kAutoClose,
  kComment,
  kRate,
};

// "verify", "not-in-authority", "start-work", ...: the action in messages.
absl::string_view ActionName(Action action);
// "RESOLVED": the status without its enum prefix, for messages.
std::string StatusName(v1::ComplaintStatus status);

// REJECTED, NOT_IN_AUTHORITY and CLOSED: nothing changes any more except a
// rating on CLOSED.
bool IsFinal(v1::ComplaintStatus status);

// The status after `action` on a complaint in `from`:
//   SUBMITTED   verify -> VERIFIED, reject -> REJECTED,
//               not-in-authority -> NOT_IN_AUTHORITY
//   VERIFIED    forward -> VERIFIED (the receiving agency continues it; only
//               the timeline entry says FORWARDED, see TimelineStatus),
//               assign -> ASSIGNED
//   REOPENED    assign -> ASSIGNED
//   ASSIGNED    start-work -> IN_PROGRESS
//   IN_PROGRESS resolve -> RESOLVED
//   RESOLVED    accept -> CLOSED, reopen -> REOPENED, auto-close -> CLOSED
//   comment     in every status that is not final (status unchanged)
//   rate        on RESOLVED or CLOSED (status unchanged)
// What the lifecycle cannot know is checked elsewhere: that a rating is given
// once (ValidateRating) and that accept/reopen come within the response window
// (WithinResponseWindow).
// FAILED_PRECONDITION otherwise, naming the status, the action and the actions
// a caller may take from that status, e.g. "complaint is RESOLVED: cannot
// verify; allowed: accept, reopen, comment, rate". auto-close is left out of
// "allowed" since no caller can ask for it.
absl::StatusOr<v1::ComplaintStatus> NextStatus(v1::ComplaintStatus from,
                                               Action action);

// The to_status of the timeline entry recording `action` that moved the
// complaint to `next`: FORWARDED for a forward, `next` otherwise.
v1::ComplaintStatus TimelineStatus(Action action, v1::ComplaintStatus next);

// A rating of `complaint`: INVALID_ARGUMENT "rating: ..." unless 1-5;
// FAILED_PRECONDITION when the status does not allow rating or it is already
// rated (ratings are given once).
absl::Status ValidateRating(const v1::Complaint& complaint, int rating);

// Whether the reporter may still accept or reopen at `now`: the complaint's
// latest RESPONSE deadline is set and `now` is before its due time.
bool WithinResponseWindow(const v1::Complaint& complaint, absl::Time now);

// ---- time ----

// Local dates a deadline does not count (the office's holidays).
using HolidaySet = absl::flat_hash_set<absl::CivilDay>;

// The directory's holidays of an office as a set. Dates that are not real
// dates are skipped (the directory refuses them on the way in).
HolidaySet HolidaysFrom(
    const google::protobuf::RepeatedPtrField<prima::common::v1::LocalDate>&
        holidays);

// The deadline `working_days` working days after `from`, in `zone`: counting
// starts on the local date after `from`'s local date (the filing day never
// counts, whatever its hour), skips Saturdays, Sundays and `holidays`, and the
// deadline is the END of the Nth working day counted, i.e. 00:00 local time of
// the following date. Filed Friday 2026-11-20 15:00 WIB, 3 working days: Mon
// 23, Tue 24, Wed 25, due 2026-11-26 00:00 WIB. A step is on time when done
// before the returned instant. `working_days` <= 0 gives the end of `from`'s
// local date (policies are validated to be at least 1).
absl::Time DueAfterWorkingDays(absl::Time from, int working_days,
                               const absl::TimeZone& zone,
                               const HolidaySet& holidays);

// The deadline `days` calendar days after `from` (the response window):
// weekends and holidays count; the end (00:00 local of the next date) of the
// Nth local date after `from`'s local date. Resolved Tuesday 2026-11-24 10:00
// WIB, 10 days: due 2026-12-05 00:00 WIB. `days` <= 0 gives the end of
// `from`'s local date.
absl::Time DueAfterDays(absl::Time from, int days, const absl::TimeZone& zone);

// ---- deadline policy ----

// SP4N-LAPOR!'s published steps (DOMAIN.md).
inline constexpr int kDefaultVerifyWorkingDays = 3;
inline constexpr int kDefaultFollowUpWorkingDays = 5;
inline constexpr int kDefaultResponseDays = 10;

// The policy with each day count that is 0 (unset) replaced by its default.
v1::DeadlinePolicy WithDefaults(v1::DeadlinePolicy policy);

// The ranges of complaint.proto, applied after WithDefaults (so 0 is refused
// here): agency_id a valid id, category known (UNSPECIFIED = all categories),
// verify 1-60, follow-up 1-120 working days, response 1-60 days.
// INVALID_ARGUMENT naming "policy.<field>".
absl::Status ValidateDeadlinePolicy(const v1::DeadlinePolicy& policy);

// ---- tracking numbers ----

// "DUKCAPIL-DKI-20261124-0007": the agency id upper-cased, the filing agency's
// local date, the day's sequence zero-padded to 4 digits (more digits from
// 10000 on). `agency_id` must have passed ValidateId and `sequence` be the
// day's counter (1 for the first complaint), so that the result passes
// ValidateTrackingNumber.
std::string TrackingNumber(absl::string_view agency_id,
                           absl::CivilDay local_date, int64_t sequence);

// "DUKCAPIL-DKI-20261124-": the tracking number up to the sequence (the store
// appends the day's sequence as TrackingNumber does).
std::string TrackingPrefix(absl::string_view agency_id,
                           absl::CivilDay local_date);

// "20261124".
std::string DateDigits(absl::CivilDay day);

// The shape TrackingNumber makes, strictly, since a tracking number becomes
// part of Redis keys: an agency part of 1-63 characters of A-Z, 0-9 and "-"
// starting with a letter or digit (an upper-cased id), "-", a real date
// YYYYMMDD in 2000-2100, "-", a sequence of 4-9 digits from 1 without extra
// leading zeros. INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateTrackingNumber(absl::string_view field,
                                    absl::string_view number);

// The agency id (lower-case) a tracking number was issued by; "" when the
// number does not pass ValidateTrackingNumber.
std::string AgencyOfTrackingNumber(absl::string_view number);

// ---- filing ----

// FileComplaint's fields (INVALID_ARGUMENT naming "complaint.<field>"):
// agency_id a required id; office/service/officer/ticket optional ids;
// classification, category and channel set and known; title 5-200 and
// description 20-8000 characters of UTF-8 (the minimum counted without
// surrounding blanks); incident_date, if set, a real date no later than
// today in `zone` at `now`; location coordinates in range and address at most
// 500 characters; at most 10 attachment URLs, each https:// and at most 1000
// characters without blanks or control characters; reporter_contact fields at
// most 200 characters, email and phone of a plausible shape. An anonymous
// complaint carries no reporter_contact at all (not even an empty one): the
// store must never see a reporter's contact next to an anonymous report.
absl::Status ValidateNewComplaint(const v1::Complaint& complaint,
                                  absl::Time now, const absl::TimeZone& zone);

// ---- privacy ----

// Who reads a complaint, as the adapter established it.
enum class Reader {
  // The reporter (by receipt secret or citizen token).
  kReporter,
  // An officer of the handling agency.
  kStaff,
  // A supervisor or agency_admin of the handling agency, or a region_admin.
  kManager,
  // Anyone else: the public, staff of other agencies (including the agency
  // that forwarded it).
  kOutsider,
};

// What `reader` may see of a stored complaint; nullopt when nothing (the
// adapter answers NOT_FOUND so existence does not leak). Outsiders never read
// a single complaint in this product, confidential or not: the only public
// reads are published figures (GetComplaintStats and the like). For the
// others, a copy with:
// - receipt_secret cleared (it is only in FileComplaint's reply);
// - reporter_contact kept only for kManager, and cleared for everyone when the
//   complaint is anonymous (it should not exist then; if it does, it leaks
//   nowhere);
// - internal timeline entries removed for kReporter;
// - for an anonymous complaint, the subject cleared of every timeline actor
//   that is not staff (no officer, supervisor, agency_admin or region_admin
//   role): that is the reporter, whoever reads.
std::optional<v1::Complaint> ViewFor(const v1::Complaint& stored,
                                     Reader reader);

// ViewFor without the timeline: a complaint as an item of a list.
std::optional<v1::Complaint> ListItemFor(const v1::Complaint& stored,
                                         Reader reader);

}  // namespace prima::complaint
