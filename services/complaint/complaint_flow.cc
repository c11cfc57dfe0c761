#include "services/complaint/complaint_flow.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::complaint {

namespace {

using ::prima::complaint::v1::Complaint;
using ::prima::complaint::v1::ComplaintStatus;
using ::prima::complaint::v1::Deadline;
using ::prima::complaint::v1::DeadlineKind;
using ::prima::complaint::v1::TimelineEntry;
using ::prima::events::v1::EventEnvelope;

constexpr int kMaxNoteChars = 4000;

// "ATTITUDINAL": enum names without their prefix, as events carry them.
std::string CategoryName(v1::Category category) {
  return std::string(
      absl::StripPrefix(v1::Category_Name(category), "CATEGORY_"));
}
std::string ClassificationName(v1::Classification classification) {
  return std::string(absl::StripPrefix(v1::Classification_Name(classification),
                                       "CLASSIFICATION_"));
}
std::string KindName(DeadlineKind kind) {
  return std::string(
      absl::StripPrefix(v1::DeadlineKind_Name(kind), "DEADLINE_KIND_"));
}

absl::Status NotFound(const Complaint& complaint) {
  return absl::NotFoundError(absl::StrCat(
      "complaint ", complaint.tracking_number(), " does not exist"));
}

// The actor recorded for `caller`: the reporter of an anonymous complaint
// leaves no subject anywhere.
prima::common::v1::Actor RecordedActor(const Principal& caller,
                                       bool anonymous_reporter) {
  prima::common::v1::Actor actor = ActorProto(caller);
  if (anonymous_reporter) actor.clear_subject();
  return actor;
}

// The sweeper, in timelines and events.
prima::common::v1::Actor SystemActor() {
  prima::common::v1::Actor actor;
  actor.set_subject("system");
  return actor;
}

EventEnvelope Envelope(absl::string_view type, absl::string_view agency,
                       const google::protobuf::Message& payload, absl::Time now,
                       absl::string_view request_id,
                       const prima::common::v1::Actor& actor) {
  EventEnvelope envelope =
      MakeEnvelope(type, agency, kComplaintProducer, payload, now, request_id);
  *envelope.mutable_actor() = actor;
  return envelope;
}

// The event type of a move that changes the status ("" for none).
absl::string_view StatusEventType(Action action) {
  switch (action) {
    case Action::kVerify:
      return "complaint.verified";
    case Action::kReject:
    case Action::kNotInAuthority:
      return "complaint.rejected";
    case Action::kForward:
      return "complaint.forwarded";
    case Action::kAssign:
      return "complaint.assigned";
    case Action::kStartWork:
      return "complaint.work_started";
    case Action::kAccept:
    case Action::kAutoClose:
      return "complaint.closed";
    case Action::kReopen:
      return "complaint.reopened";
    case Action::kResolve:  // its own payload
    case Action::kComment:
    case Action::kRate:
      return "";
  }
  return "";
}

bool IsReporterMove(Action action) {
  return action == Action::kAccept || action == Action::kReopen ||
         action == Action::kRate;
}

// Who may make `move`; NOT_FOUND for those who may not even see it.
absl::Status CheckActor(const Complaint& complaint, const Move& move,
                        const MoveContext& context) {
  if (context.system) {
    if (move.action == Action::kAutoClose) return absl::OkStatus();
    return absl::InternalError("the sweeper only auto-closes complaints");
  }
  if (move.action == Action::kAutoClose) {
    return absl::InternalError("auto-close is the sweeper's move");
  }
  if (context.access.reader() == Reader::kOutsider) return NotFound(complaint);
  if (IsReporterMove(move.action)) {
    if (!context.access.reporter) {
      return absl::PermissionDeniedError(
          absl::StrCat("only the reporter may ", ActionName(move.action),
                       " (give the receipt secret or the filing token)"));
    }
  } else if (context.access.staff == Reader::kOutsider) {
    return absl::PermissionDeniedError(
        absl::StrCat("only staff of agency ", complaint.agency_id(), " may ",
                     ActionName(move.action), " this complaint"));
  }
  return absl::OkStatus();
}

// The texts each move needs (INVALID_ARGUMENT naming the request's field).
absl::Status CheckTexts(const Complaint& complaint, const Move& move) {
  switch (move.action) {
    case Action::kReject:
    case Action::kNotInAuthority:
    case Action::kReopen:
      RETURN_IF_ERROR(RequireNonEmpty("reason", move.note));
      return ValidateText("reason", move.note, kMaxNoteChars);
    case Action::kResolve:
      RETURN_IF_ERROR(RequireNonEmpty("resolution", move.note));
      return ValidateText("resolution", move.note, kMaxNoteChars);
    case Action::kComment:
      RETURN_IF_ERROR(RequireNonEmpty("text", move.note));
      return ValidateText("text", move.note, kMaxNoteChars);
    case Action::kRate:
      return ValidateRating(complaint, move.rating);
    default:
      return ValidateText("note", move.note, kMaxNoteChars);
  }
}

// The latest deadline of `kind` that is not met yet (nullptr for none).
Deadline* OpenDeadline(Complaint& complaint, DeadlineKind kind) {
  for (int i = complaint.deadlines_size() - 1; i >= 0; --i) {
    Deadline* deadline = complaint.mutable_deadlines(i);
    if (deadline->kind() == kind && !deadline->has_met_time()) return deadline;
  }
  return nullptr;
}

void OpenNew(Complaint& complaint, DeadlineKind kind, absl::Time due) {
  Deadline* deadline = complaint.add_deadlines();
  deadline->set_kind(kind);
  *deadline->mutable_due_time() = ToProtoTime(due);
}

// What a move does to the deadlines it touches.
class Deadlines {
 public:
  Deadlines(Complaint& updated, const MoveContext& context,
            ComplaintChange& change)
      : updated_(updated), context_(context), change_(change) {}

  // Meets the open deadline of `kind` now. An agency's deadline met late is
  // overdue, and reported once: here unless the sweeper already did. Returns
  // whether it was met in time (false when there was none).
  bool Meet(DeadlineKind kind) {
    Deadline* deadline = OpenDeadline(updated_, kind);
    if (deadline == nullptr) return false;
    *deadline->mutable_met_time() = ToProtoTime(context_.now);
    if (kind == v1::DEADLINE_KIND_RESPONSE) return true;  // the reporter's
    const bool late = context_.now >= ToAbslTime(deadline->due_time());
    if (late && !deadline->overdue()) {
      deadline->set_overdue(true);
      DueDeadline due;
      due.complaint_id = updated_.id();
      due.tracking_number = updated_.tracking_number();
      due.agency_id = updated_.agency_id();
      due.office_id = updated_.office_id();
      due.kind = kind;
      due.due = ToAbslTime(deadline->due_time());
      change_.events.push_back(OverdueEvent(due, context_.now));
    }
    return !late;
  }

  void OpenFollowUp(const DeadlineContext& where) {
    OpenNew(
        updated_, v1::DEADLINE_KIND_FOLLOW_UP,
        DueAfterWorkingDays(context_.now, where.policy.follow_up_working_days(),
                            where.zone, where.holidays));
  }

  void OpenResponse() {
    OpenNew(
        updated_, v1::DEADLINE_KIND_RESPONSE,
        DueAfterDays(context_.now, context_.deadlines.policy.response_days(),
                     context_.deadlines.zone));
  }

 private:
  Complaint& updated_;
  const MoveContext& context_;
  ComplaintChange& change_;
};

}  // namespace

Reader Access::reader() const {
  if (staff != Reader::kOutsider) return staff;
  return reporter ? Reader::kReporter : Reader::kOutsider;
}

Access AccessOf(const StoredComplaint& stored, const Principal& caller,
                absl::string_view receipt_secret) {
  Access access;
  if (!receipt_secret.empty() && !stored.secret_sha.empty() &&
      Sha256Hex(receipt_secret) == stored.secret_sha) {
    access.reporter = true;
  }
  if (caller.Has(Role::kCitizen) && !caller.subject.empty() &&
      caller.subject == stored.reporter_subject) {
    access.reporter = true;
  }
  if (caller.Has(Role::kRegionAdmin)) {
    access.staff = Reader::kManager;
  } else if (caller.HasAny(kAllStaff) && !caller.agency.empty() &&
             caller.agency == stored.complaint.agency_id()) {
    access.staff = caller.HasAny(Roles({Role::kSupervisor, Role::kAgencyAdmin}))
                       ? Reader::kManager
                       : Reader::kStaff;
  }
  return access;
}

absl::StatusOr<NewComplaint> PrepareFiling(const FilingInput& input) {
  const Complaint& request = input.request;
  const DeadlineContext& where = input.deadlines;
  RETURN_IF_ERROR(ValidateNewComplaint(request, input.now, where.zone));

  NewComplaint filing;
  Complaint& c = filing.complaint;
  c.set_id(input.id);
  c.set_agency_id(request.agency_id());
  c.set_office_id(request.office_id());
  c.set_service_id(request.service_id());
  c.set_officer_id(request.officer_id());
  c.set_ticket_id(request.ticket_id());
  c.set_classification(request.classification());
  c.set_category(request.category());
  c.set_title(request.title());
  c.set_description(request.description());
  if (request.has_incident_date()) {
    *c.mutable_incident_date() = request.incident_date();
  }
  if (request.has_location()) *c.mutable_location() = request.location();
  *c.mutable_attachment_urls() = request.attachment_urls();
  c.set_channel(request.channel());
  c.set_anonymous(request.anonymous());
  c.set_confidential(request.confidential());
  if (!request.anonymous() && request.has_reporter_contact()) {
    *c.mutable_reporter_contact() = request.reporter_contact();
  }
  c.set_status(v1::COMPLAINT_STATUS_SUBMITTED);
  *c.mutable_file_time() = ToProtoTime(input.now);
  *c.mutable_update_time() = ToProtoTime(input.now);
  OpenNew(c, v1::DEADLINE_KIND_VERIFY,
          DueAfterWorkingDays(input.now, where.policy.verify_working_days(),
                              where.zone, where.holidays));

  const prima::common::v1::Actor actor =
      RecordedActor(input.caller, request.anonymous());
  TimelineEntry& entry = filing.filed_entry;
  *entry.mutable_time() = ToProtoTime(input.now);
  *entry.mutable_actor() = actor;
  entry.set_to_status(v1::COMPLAINT_STATUS_SUBMITTED);

  const absl::CivilDay day = absl::ToCivilDay(input.now, where.zone);
  filing.tracking_prefix = TrackingPrefix(request.agency_id(), day);
  filing.local_date = DateDigits(day);
  filing.receipt_secret = input.receipt_secret;
  if (!request.anonymous() && input.caller.Has(Role::kCitizen)) {
    filing.reporter_subject = input.caller.subject;
  }

  prima::events::v1::ComplaintFiled filed;
  filed.set_complaint_id(c.id());
  filed.set_office_id(c.office_id());
  filed.set_service_id(c.service_id());
  filed.set_officer_id(c.officer_id());
  filed.set_classification(ClassificationName(c.classification()));
  filed.set_category(CategoryName(c.category()));
  filed.set_anonymous(c.anonymous());
  filed.set_confidential(c.confidential());
  filing.filed_event = Envelope("complaint.filed", c.agency_id(), filed,
                                input.now, input.request_id, actor);
  return filing;
}

absl::StatusOr<ComplaintChange> Decide(const StoredComplaint& stored,
                                       const Move& move,
                                       const MoveContext& context) {
  const Complaint& before = stored.complaint;
  RETURN_IF_ERROR(CheckActor(before, move, context));
  RETURN_IF_ERROR(CheckTexts(before, move));
  absl::StatusOr<ComplaintStatus> next =
      NextStatus(before.status(), move.action);
  if (!next.ok()) return next.status();
  if ((move.action == Action::kAccept || move.action == Action::kReopen) &&
      !WithinResponseWindow(before, context.now)) {
    return absl::FailedPreconditionError(
        "complaint's response window has passed: it can no longer be "
        "accepted or reopened");
  }
  if (move.action == Action::kAutoClose &&
      WithinResponseWindow(before, context.now)) {
    return absl::FailedPreconditionError(
        "complaint's response window is still open");
  }
  if (move.action == Action::kForward && !context.receiving.has_value()) {
    return absl::InternalError(
        "forward needs the receiving agency's deadlines");
  }

  ComplaintChange change;
  Complaint& updated = change.updated;
  updated = before;
  updated.clear_timeline();
  updated.clear_receipt_secret();
  updated.set_status(*next);
  *updated.mutable_update_time() = ToProtoTime(context.now);

  const bool anonymous_reporter =
      before.anonymous() && context.access.staff == Reader::kOutsider;
  const prima::common::v1::Actor actor =
      context.system ? SystemActor()
                     : RecordedActor(context.caller, anonymous_reporter);
  TimelineEntry& entry = change.appended.emplace_back();
  *entry.mutable_time() = ToProtoTime(context.now);
  *entry.mutable_actor() = actor;
  entry.set_from_status(before.status());
  entry.set_to_status(TimelineStatus(move.action, *next));
  entry.set_note(move.note);

  Deadlines deadlines(updated, context, change);
  switch (move.action) {
    case Action::kVerify:
      deadlines.Meet(v1::DEADLINE_KIND_VERIFY);
      deadlines.OpenFollowUp(context.deadlines);
      break;
    case Action::kReject:
    case Action::kNotInAuthority:
      deadlines.Meet(v1::DEADLINE_KIND_VERIFY);
      break;
    case Action::kForward:
      // The forwarding agency's step is done; the receiving one's starts.
      deadlines.Meet(v1::DEADLINE_KIND_FOLLOW_UP);
      deadlines.OpenFollowUp(*context.receiving);
      entry.set_from_agency(before.agency_id());
      entry.set_to_agency(move.to_agency_id);
      updated.set_agency_id(move.to_agency_id);
      updated.set_office_id(move.to_office_id);
      updated.clear_assigned_officer_id();
      updated.clear_assigned_office_id();
      break;
    case Action::kAssign:
      updated.set_assigned_officer_id(move.officer_id);
      updated.set_assigned_office_id(move.office_id);
      break;
    case Action::kStartWork:
      break;
    case Action::kResolve: {
      const bool in_time = deadlines.Meet(v1::DEADLINE_KIND_FOLLOW_UP);
      deadlines.OpenResponse();
      updated.set_resolution(move.note);
      Resolution resolution;
      resolution.seconds =
          absl::ToInt64Seconds(context.now - ToAbslTime(before.file_time()));
      resolution.within_deadline = in_time;
      change.resolution = resolution;
      prima::events::v1::ComplaintResolved resolved;
      resolved.set_complaint_id(before.id());
      resolved.set_office_id(before.office_id());
      resolved.set_service_id(before.service_id());
      resolved.set_officer_id(before.officer_id());
      resolved.set_category(CategoryName(before.category()));
      resolved.set_resolution_seconds(resolution.seconds);
      resolved.set_within_deadline(in_time);
      resolved.set_receipt_secret_sha256(stored.secret_sha);
      change.events.push_back(Envelope("complaint.resolved", before.agency_id(),
                                       resolved, context.now,
                                       context.request_id, actor));
      break;
    }
    case Action::kAccept:
    case Action::kAutoClose:
      deadlines.Meet(v1::DEADLINE_KIND_RESPONSE);
      break;
    case Action::kReopen:
      deadlines.Meet(v1::DEADLINE_KIND_RESPONSE);
      deadlines.OpenFollowUp(context.deadlines);
      updated.clear_assigned_officer_id();
      updated.clear_assigned_office_id();
      break;
    case Action::kComment:
      entry.set_internal(move.internal);
      break;
    case Action::kRate:
      updated.set_rating(move.rating);
      entry.set_note(absl::StrCat("rated ", move.rating, " of 5"));
      break;
  }

  if (absl::string_view type = StatusEventType(move.action); !type.empty()) {
    prima::events::v1::ComplaintStatusChanged changed;
    changed.set_complaint_id(before.id());
    changed.set_tracking_number(before.tracking_number());
    changed.set_from_status(StatusName(before.status()));
    changed.set_to_status(StatusName(entry.to_status()));
    if (move.action == Action::kForward) {
      changed.set_to_agency(move.to_agency_id);
    }
    change.events.push_back(Envelope(type, before.agency_id(), changed,
                                     context.now, context.request_id, actor));
  }
  return change;
}

EventEnvelope OverdueEvent(const DueDeadline& deadline, absl::Time now) {
  prima::events::v1::ComplaintOverdue overdue;
  overdue.set_complaint_id(deadline.complaint_id);
  overdue.set_deadline(KindName(deadline.kind));
  *overdue.mutable_due_at() = ToProtoTime(deadline.due);
  overdue.set_office_id(deadline.office_id);
  return Envelope("complaint.overdue", deadline.agency_id, overdue, now, "",
                  SystemActor());
}

double Median(std::vector<int64_t>& values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = static_cast<double>(values[mid]);
  if (values.size() % 2 == 1) return upper;
  const double lower = static_cast<double>(
      *std::max_element(values.begin(), values.begin() + mid));
  return (lower + upper) / 2;
}

}  // namespace prima::complaint
