#pragma once

// What each complaint RPC does to a complaint, decided in pure C++ on a loaded
// copy (no gRPC, no Redis): who may act, the lifecycle move, the timeline
// entry, the deadlines met, missed and opened, and the events. The store
// writes the decision atomically if the complaint did not change meanwhile
// (complaint_store.h).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/auth.h"
#include "services/complaint/complaint_rules.h"
#include "services/complaint/complaint_store.h"

namespace prima::complaint {

// Where deadlines are counted: the handling office's time zone and holidays,
// and the agency's policy for the complaint's category (defaults applied).
struct DeadlineContext {
  absl::TimeZone zone;
  HolidaySet holidays;
  v1::DeadlinePolicy policy;
};

// What a caller is to one stored complaint.
struct Access {
  // The receipt secret matched, or the caller's citizen token filed it.
  bool reporter = false;
  // kStaff, kManager, or kOutsider when not staff of the handling agency
  // (region_admin is kManager of every agency).
  Reader staff = Reader::kOutsider;

  // The reader for ViewFor: staff first, then the reporter.
  Reader reader() const;
};

// `receipt_secret` as given with the request ("" for none).
Access AccessOf(const StoredComplaint& stored, const Principal& caller,
                absl::string_view receipt_secret);

// ---- filing ----

struct FilingInput {
  // The request's complaint (only the filing fields are read; validated
  // here with ValidateNewComplaint).
  v1::Complaint request;
  Principal caller;
  std::string request_id;
  absl::Time now;
  // Of the office whose time zone counts (see complaint.proto).
  DeadlineContext deadlines;
  std::string id;              // the new complaint's id
  std::string receipt_secret;  // freshly generated
};

// The complaint to write: SUBMITTED, the VERIFY deadline, the filing timeline
// entry, complaint.filed. An anonymous complaint keeps no trace of who filed
// it: no reporter subject, no actor subject in the timeline or the event.
absl::StatusOr<NewComplaint> PrepareFiling(const FilingInput& input);

// ---- moves ----

struct Move {
  Action action = Action::kComment;
  // The reason (reject, reopen), answer (resolve), comment text or note.
  std::string note;
  bool internal = false;  // comment: an internal note
  int rating = 0;         // rate
  // forward: the receiving agency and, optionally, its office (checked
  // against the directory by the caller).
  std::string to_agency_id;
  std::string to_office_id;
  // assign: exactly one (checked against the directory by the caller).
  std::string officer_id;
  std::string office_id;
};

struct MoveContext {
  // Who acts. The sweeper (auto-close) passes `system` = true instead.
  Principal caller;
  Access access;
  bool system = false;
  std::string request_id;
  absl::Time now;
  // Of the handling office: for the deadlines the move opens.
  DeadlineContext deadlines;
  // forward: of the receiving agency's office (its follow-up deadline).
  std::optional<DeadlineContext> receiving;
};

// The change `move` makes to `stored`, or why not:
// - NOT_FOUND "complaint <tracking> does not exist" for callers who may not
//   see it (outsiders), so its existence does not leak;
// - PERMISSION_DENIED for a move of the other side (staff moves by the
//   reporter, reporter moves by staff);
// - FAILED_PRECONDITION from the lifecycle (NextStatus), for accept/reopen
//   after the response window, for a rating given twice;
// - INVALID_ARGUMENT for a missing reason, resolution or comment text, a note
//   over 4000 characters, a rating outside 1-5.
// Deadlines: verify meets VERIFY and opens FOLLOW_UP; reject and
// not-in-authority meet VERIFY; forward meets the open FOLLOW_UP and opens
// one at the receiving agency; resolve meets FOLLOW_UP and opens RESPONSE;
// accept, reopen and auto-close meet RESPONSE, and reopen opens a new
// FOLLOW_UP. A deadline met at or after its due time is overdue, and unless
// the sweeper marked it already the move emits its complaint.overdue.
absl::StatusOr<ComplaintChange> Decide(const StoredComplaint& stored,
                                       const Move& move,
                                       const MoveContext& context);

// complaint.overdue for a deadline the sweeper found due.
prima::events::v1::EventEnvelope OverdueEvent(const DueDeadline& deadline,
                                              absl::Time now);

// ---- statistics ----

// The median of `values` (the mean of the middle two for an even count; 0 for
// none). Reorders `values`.
double Median(std::vector<int64_t>& values);

}  // namespace prima::complaint
