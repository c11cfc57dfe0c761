#include "services/complaint/complaint_rules.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::complaint {
namespace {

using ::prima::common::v1::LocalDate;
using ::prima::complaint::v1::Complaint;
using ::prima::complaint::v1::ComplaintStatus;
using ::prima::complaint::v1::DeadlinePolicy;

std::string Index(absl::string_view path, int i) {
  return absl::StrCat(path, "[", i, "]");
}

// Every action in the order messages list them.
constexpr Action kAllActions[] = {
    Action::kVerify,    Action::kReject,  Action::kNotInAuthority,
    Action::kForward,   Action::kAssign,  Action::kStartWork,
    Action::kResolve,   Action::kAccept,  Action::kReopen,
    Action::kAutoClose, Action::kComment, Action::kRate,
};

// The lifecycle table of complaint.proto; nullopt when not allowed.
std::optional<ComplaintStatus> Transition(ComplaintStatus from, Action action) {
  if (action == Action::kComment) {
    if (from == v1::COMPLAINT_STATUS_UNSPECIFIED ||
        from == v1::COMPLAINT_STATUS_FORWARDED || IsFinal(from)) {
      return std::nullopt;
    }
    return from;
  }
  if (action == Action::kRate) {
    if (from == v1::COMPLAINT_STATUS_RESOLVED ||
        from == v1::COMPLAINT_STATUS_CLOSED) {
      return from;
    }
    return std::nullopt;
  }
  switch (from) {
    case v1::COMPLAINT_STATUS_SUBMITTED:
      if (action == Action::kVerify) return v1::COMPLAINT_STATUS_VERIFIED;
      if (action == Action::kReject) return v1::COMPLAINT_STATUS_REJECTED;
      if (action == Action::kNotInAuthority) {
        return v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY;
      }
      break;
    case v1::COMPLAINT_STATUS_VERIFIED:
      // The receiving agency continues the complaint as VERIFIED.
      if (action == Action::kForward) return v1::COMPLAINT_STATUS_VERIFIED;
      if (action == Action::kAssign) return v1::COMPLAINT_STATUS_ASSIGNED;
      break;
    case v1::COMPLAINT_STATUS_REOPENED:
      if (action == Action::kAssign) return v1::COMPLAINT_STATUS_ASSIGNED;
      break;
    case v1::COMPLAINT_STATUS_ASSIGNED:
      if (action == Action::kStartWork) return v1::COMPLAINT_STATUS_IN_PROGRESS;
      break;
    case v1::COMPLAINT_STATUS_IN_PROGRESS:
      if (action == Action::kResolve) return v1::COMPLAINT_STATUS_RESOLVED;
      break;
    case v1::COMPLAINT_STATUS_RESOLVED:
      if (action == Action::kAccept || action == Action::kAutoClose) {
        return v1::COMPLAINT_STATUS_CLOSED;
      }
      if (action == Action::kReopen) return v1::COMPLAINT_STATUS_REOPENED;
      break;
    default:
      break;
  }
  return std::nullopt;
}

// Whether an actor acted as staff (an officer or above, of any agency or the
// region); everyone else on a complaint's timeline is its reporter.
bool IsStaffActor(const prima::common::v1::Actor& actor) {
  for (int role : actor.roles()) {
    if (role == prima::common::v1::ROLE_OFFICER ||
        role == prima::common::v1::ROLE_SUPERVISOR ||
        role == prima::common::v1::ROLE_AGENCY_ADMIN ||
        role == prima::common::v1::ROLE_REGION_ADMIN) {
      return true;
    }
  }
  return false;
}

bool IsRealDate(int64_t year, int month, int day) {
  if (year < 2000 || year > 2100 || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return false;
  }
  const absl::CivilDay civil(year, month, day);
  return civil.year() == year && civil.month() == month && civil.day() == day;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

int64_t Digits(absl::string_view s) {
  int64_t value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

// Code points of valid UTF-8 (continuation bytes are not counted).
int64_t CodePoints(absl::string_view s) {
  int64_t count = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

// Required UTF-8 text of min_chars-max_chars code points; blanks around the
// text do not count towards the minimum, so "     x" is no title.
absl::Status TextOfLength(absl::string_view field, absl::string_view value,
                          int min_chars, int max_chars) {
  RETURN_IF_ERROR(RequireNonEmpty(field, value));
  RETURN_IF_ERROR(ValidateText(field, value, max_chars));
  const int64_t length = CodePoints(absl::StripAsciiWhitespace(value));
  if (length < min_chars) {
    return Invalid(field, absl::StrCat("must be ", min_chars, "-", max_chars,
                                       " characters; got ", length));
  }
  return absl::OkStatus();
}

// Blanks and control characters: nothing a URL or an email address holds.
bool HasBlankOrControl(absl::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7F) return true;
  }
  return false;
}

absl::Status ValidateAttachmentUrl(absl::string_view field,
                                   absl::string_view url) {
  constexpr int kMaxUrlChars = 1000;
  if (url.size() > kMaxUrlChars) {
    return Invalid(field, absl::StrCat("must be at most ", kMaxUrlChars,
                                       " characters; got ", url.size()));
  }
  if (!absl::StartsWith(url, "https://") || url.size() == 8 || url[8] == '/') {
    return Invalid(field, "must be an https:// URL with a host");
  }
  if (HasBlankOrControl(url)) {
    return Invalid(field, "must not contain blanks or control characters");
  }
  RETURN_IF_ERROR(ValidateText(field, url, kMaxUrlChars));
  return absl::OkStatus();
}

absl::Status ValidateEmail(absl::string_view field, absl::string_view email) {
  const size_t at = email.find('@');
  const bool one_at = at != absl::string_view::npos &&
                      email.find('@', at + 1) == absl::string_view::npos;
  if (!one_at || at == 0 || HasBlankOrControl(email)) {
    return Invalid(field, "must be an email address like name@example.id");
  }
  const absl::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == absl::string_view::npos || dot == 0 || domain.back() == '.') {
    return Invalid(field, "must be an email address like name@example.id");
  }
  return absl::OkStatus();
}

absl::Status ValidatePhone(absl::string_view field, absl::string_view phone) {
  bool has_digit = false;
  for (size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (IsDigit(c)) {
      has_digit = true;
    } else if (!(c == ' ' || c == '-' || (c == '+' && i == 0))) {
      return Invalid(field,
                     "must be digits, spaces and \"-\", optionally after a "
                     "leading \"+\"");
    }
  }
  if (!has_digit) return Invalid(field, "must contain digits");
  return absl::OkStatus();
}

absl::Status ValidateContact(const v1::ReporterContact& contact) {
  constexpr int kMaxContactChars = 200;
  RETURN_IF_ERROR(ValidateText("complaint.reporter_contact.name",
                               contact.name(), kMaxContactChars));
  RETURN_IF_ERROR(ValidateText("complaint.reporter_contact.phone",
                               contact.phone(), kMaxContactChars));
  RETURN_IF_ERROR(ValidateText("complaint.reporter_contact.email",
                               contact.email(), kMaxContactChars));
  if (!contact.phone().empty()) {
    RETURN_IF_ERROR(
        ValidatePhone("complaint.reporter_contact.phone", contact.phone()));
  }
  if (!contact.email().empty()) {
    RETURN_IF_ERROR(
        ValidateEmail("complaint.reporter_contact.email", contact.email()));
  }
  return absl::OkStatus();
}

absl::Status ValidateLocation(const prima::common::v1::Location& location) {
  if (location.has_point()) {
    const double latitude = location.point().latitude();
    const double longitude = location.point().longitude();
    // Written so that NaN fails too.
    if (!(latitude >= -90 && latitude <= 90)) {
      return Invalid("complaint.location.point.latitude",
                     "must be between -90 and 90 degrees");
    }
    if (!(longitude >= -180 && longitude <= 180)) {
      return Invalid("complaint.location.point.longitude",
                     "must be between -180 and 180 degrees");
    }
  }
  return ValidateText("complaint.location.address", location.address(), 500);
}

absl::Status CheckDays(absl::string_view field, int value, int max) {
  if (value < 1 || value > max) {
    return Invalid(
        absl::StrCat("policy.", field),
        absl::StrCat("must be between 1 and ", max, "; got ", value));
  }
  return absl::OkStatus();
}

// The parts of a well-formed tracking number.
struct TrackingParts {
  absl::string_view agency;
  absl::CivilDay date;
  int64_t sequence = 0;
};

// A tracking number's parts, or the rule it breaks.
absl::StatusOr<TrackingParts> ParseTrackingNumber(absl::string_view field,
                                                  absl::string_view number) {
  constexpr absl::string_view kShape =
      "must be a tracking number like DUKCAPIL-DKI-20261124-0007";
  // The agency part may itself hold "-": the date and the sequence are the
  // last two parts.
  const size_t sequence_dash = number.rfind('-');
  if (sequence_dash == absl::string_view::npos || sequence_dash == 0) {
    return Invalid(field, kShape);
  }
  const size_t date_dash = number.rfind('-', sequence_dash - 1);
  if (date_dash == absl::string_view::npos) return Invalid(field, kShape);
  TrackingParts parts;
  parts.agency = number.substr(0, date_dash);
  const absl::string_view date =
      number.substr(date_dash + 1, sequence_dash - date_dash - 1);
  const absl::string_view sequence = number.substr(sequence_dash + 1);

  if (parts.agency.empty() || parts.agency.size() > 63 ||
      parts.agency.front() == '-') {
    return Invalid(field, absl::StrCat(kShape,
                                       " (agency: 1-63 characters of A-Z, "
                                       "0-9 and \"-\")"));
  }
  for (char c : parts.agency) {
    if (!((c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-')) {
      return Invalid(field, absl::StrCat(kShape,
                                         " (agency: 1-63 characters of A-Z, "
                                         "0-9 and \"-\")"));
    }
  }
  if (date.size() != 8 || !AllDigits(date) ||
      !IsRealDate(Digits(date.substr(0, 4)),
                  static_cast<int>(Digits(date.substr(4, 2))),
                  static_cast<int>(Digits(date.substr(6, 2))))) {
    return Invalid(
        field, absl::StrCat(kShape, " (date: a real YYYYMMDD in 2000-2100)"));
  }
  parts.date = absl::CivilDay(Digits(date.substr(0, 4)),
                              static_cast<int>(Digits(date.substr(4, 2))),
                              static_cast<int>(Digits(date.substr(6, 2))));
  // 4 digits zero-padded, or the number itself from 10000 on; 9 digits at
  // most (no agency files a billion complaints a day).
  const bool canonical =
      sequence.size() == 4 || (sequence.size() > 4 && sequence[0] != '0');
  if (sequence.size() < 4 || sequence.size() > 9 || !AllDigits(sequence) ||
      !canonical || Digits(sequence) == 0) {
    return Invalid(field,
                   absl::StrCat(kShape, " (sequence: 4-9 digits from 0001)"));
  }
  parts.sequence = Digits(sequence);
  return parts;
}

}  // namespace

// ---- lifecycle ----

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kVerify:
      return "verify";
    case Action::kReject:
      return "reject";
    case Action::kNotInAuthority:
      return "not-in-authority";
    case Action::kForward:
      return "forward";
    case Action::kAssign:
      return "assign";
    case Action::kStartWork:
      return "start-work";
    case Action::kResolve:
      return "resolve";
    case Action::kAccept:
      return "accept";
    case Action::kReopen:
      return "reopen";
    case Action::kAutoClose:
      return "auto-close";
    case Action::kComment:
      return "comment";
    case Action::kRate:
      return "rate";
  }
  return "unknown";
}

std::string StatusName(ComplaintStatus status) {
  std::string name = v1::ComplaintStatus_Name(status);
  if (name.empty()) return absl::StrCat("status ", static_cast<int>(status));
  constexpr absl::string_view kPrefix = "COMPLAINT_STATUS_";
  if (absl::StartsWith(name, kPrefix)) name.erase(0, kPrefix.size());
  return name;
}

bool IsFinal(ComplaintStatus status) {
  return status == v1::COMPLAINT_STATUS_REJECTED ||
         status == v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY ||
         status == v1::COMPLAINT_STATUS_CLOSED;
}

absl::StatusOr<ComplaintStatus> NextStatus(ComplaintStatus from,
                                           Action action) {
  if (std::optional<ComplaintStatus> next = Transition(from, action)) {
    return *next;
  }
  std::vector<absl::string_view> allowed;
  for (Action candidate : kAllActions) {
    if (candidate == Action::kAutoClose) continue;  // the sweeper's, not asked
    if (Transition(from, candidate)) allowed.push_back(ActionName(candidate));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "complaint is ", StatusName(from), ": cannot ", ActionName(action),
      "; allowed: ", allowed.empty() ? "none" : absl::StrJoin(allowed, ", ")));
}

ComplaintStatus TimelineStatus(Action action, ComplaintStatus next) {
  return action == Action::kForward ? v1::COMPLAINT_STATUS_FORWARDED : next;
}

absl::Status ValidateRating(const Complaint& complaint, int rating) {
  RETURN_IF_ERROR(ValidateRange("rating", rating, 1, 5));
  RETURN_IF_ERROR(NextStatus(complaint.status(), Action::kRate).status());
  if (complaint.rating() != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("complaint is already rated (", complaint.rating(),
                     "); a resolution is rated once"));
  }
  return absl::OkStatus();
}

bool WithinResponseWindow(const Complaint& complaint, absl::Time now) {
  // The latest window: a reopened complaint resolved again has several.
  for (int i = complaint.deadlines_size() - 1; i >= 0; --i) {
    const v1::Deadline& deadline = complaint.deadlines(i);
    if (deadline.kind() != v1::DEADLINE_KIND_RESPONSE ||
        !deadline.has_due_time()) {
      continue;
    }
    return now < ToAbslTime(deadline.due_time());
  }
  return false;
}

// ---- time ----

HolidaySet HolidaysFrom(
    const google::protobuf::RepeatedPtrField<LocalDate>& holidays) {
  HolidaySet set;
  for (const LocalDate& date : holidays) {
    if (IsRealDate(date.year(), date.month(), date.day())) {
      set.insert(absl::CivilDay(date.year(), date.month(), date.day()));
    }
  }
  return set;
}

absl::Time DueAfterWorkingDays(absl::Time from, int working_days,
                               const absl::TimeZone& zone,
                               const HolidaySet& holidays) {
  absl::CivilDay day = absl::ToCivilDay(from, zone);
  // Terminates: `holidays` is finite and every week has weekdays.
  for (int counted = 0; counted < working_days;) {
    ++day;
    const absl::Weekday weekday = absl::GetWeekday(day);
    if (weekday == absl::Weekday::saturday ||
        weekday == absl::Weekday::sunday || holidays.contains(day)) {
      continue;
    }
    ++counted;
  }
  // Indonesia has no daylight saving time: local midnight exists once.
  return absl::FromCivil(day + 1, zone);
}

absl::Time DueAfterDays(absl::Time from, int days, const absl::TimeZone& zone) {
  const absl::CivilDay day = absl::ToCivilDay(from, zone);
  return absl::FromCivil(day + (days > 0 ? days : 0) + 1, zone);
}

// ---- deadline policy ----

DeadlinePolicy WithDefaults(DeadlinePolicy policy) {
  if (policy.verify_working_days() == 0) {
    policy.set_verify_working_days(kDefaultVerifyWorkingDays);
  }
  if (policy.follow_up_working_days() == 0) {
    policy.set_follow_up_working_days(kDefaultFollowUpWorkingDays);
  }
  if (policy.response_days() == 0) {
    policy.set_response_days(kDefaultResponseDays);
  }
  return policy;
}

absl::Status ValidateDeadlinePolicy(const DeadlinePolicy& policy) {
  RETURN_IF_ERROR(ValidateId("policy.agency_id", policy.agency_id()));
  if (!v1::Category_IsValid(policy.category())) {
    return Invalid(
        "policy.category",
        absl::StrCat("unknown category ", static_cast<int>(policy.category())));
  }
  RETURN_IF_ERROR(
      CheckDays("verify_working_days", policy.verify_working_days(), 60));
  RETURN_IF_ERROR(CheckDays("follow_up_working_days",
                            policy.follow_up_working_days(), 120));
  return CheckDays("response_days", policy.response_days(), 60);
}

// ---- tracking numbers ----

std::string DateDigits(absl::CivilDay day) {
  return absl::StrFormat("%04d%02d%02d", day.year(), day.month(), day.day());
}

std::string TrackingPrefix(absl::string_view agency_id,
                           absl::CivilDay local_date) {
  return absl::StrFormat("%s-%s-", absl::AsciiStrToUpper(agency_id),
                         DateDigits(local_date));
}

std::string TrackingNumber(absl::string_view agency_id,
                           absl::CivilDay local_date, int64_t sequence) {
  return absl::StrFormat("%s%04d", TrackingPrefix(agency_id, local_date),
                         sequence);
}

absl::Status ValidateTrackingNumber(absl::string_view field,
                                    absl::string_view number) {
  return ParseTrackingNumber(field, number).status();
}

std::string AgencyOfTrackingNumber(absl::string_view number) {
  absl::StatusOr<TrackingParts> parts =
      ParseTrackingNumber("tracking_number", number);
  if (!parts.ok()) return "";
  return absl::AsciiStrToLower(parts->agency);
}

// ---- filing ----

absl::Status ValidateNewComplaint(const Complaint& complaint, absl::Time now,
                                  const absl::TimeZone& zone) {
  RETURN_IF_ERROR(ValidateId("complaint.agency_id", complaint.agency_id()));
  RETURN_IF_ERROR(
      ValidateOptionalId("complaint.office_id", complaint.office_id()));
  RETURN_IF_ERROR(
      ValidateOptionalId("complaint.service_id", complaint.service_id()));
  RETURN_IF_ERROR(
      ValidateOptionalId("complaint.officer_id", complaint.officer_id()));
  RETURN_IF_ERROR(
      ValidateOptionalId("complaint.ticket_id", complaint.ticket_id()));
  if (complaint.classification() == v1::CLASSIFICATION_UNSPECIFIED ||
      !v1::Classification_IsValid(complaint.classification())) {
    return Invalid("complaint.classification",
                   "must be PENGADUAN, ASPIRASI or PERMINTAAN_INFORMASI");
  }
  if (complaint.category() == v1::CATEGORY_UNSPECIFIED ||
      !v1::Category_IsValid(complaint.category())) {
    return Invalid("complaint.category",
                   "must be MECHANICAL, ATTITUDINAL, SERVICE_RELATED or "
                   "UNUSUAL");
  }
  RETURN_IF_ERROR(TextOfLength("complaint.title", complaint.title(), 5, 200));
  RETURN_IF_ERROR(
      TextOfLength("complaint.description", complaint.description(), 20, 8000));
  if (complaint.has_incident_date()) {
    const LocalDate& date = complaint.incident_date();
    if (!IsRealDate(date.year(), date.month(), date.day())) {
      return Invalid(
          "complaint.incident_date",
          absl::StrCat("must be a real date in 2000-2100; got ", date.year(),
                       "-", date.month(), "-", date.day()));
    }
    const absl::CivilDay incident(date.year(), date.month(), date.day());
    const absl::CivilDay today = absl::ToCivilDay(now, zone);
    if (incident > today) {
      return Invalid("complaint.incident_date",
                     absl::StrCat("must not be in the future (today is ",
                                  absl::FormatCivilTime(today), ")"));
    }
  }
  if (complaint.has_location()) {
    RETURN_IF_ERROR(ValidateLocation(complaint.location()));
  }
  constexpr int kMaxAttachments = 10;
  if (complaint.attachment_urls_size() > kMaxAttachments) {
    return Invalid(
        "complaint.attachment_urls",
        absl::StrCat("must have at most ", kMaxAttachments, " items; got ",
                     complaint.attachment_urls_size()));
  }
  for (int i = 0; i < complaint.attachment_urls_size(); ++i) {
    RETURN_IF_ERROR(ValidateAttachmentUrl(Index("complaint.attachment_urls", i),
                                          complaint.attachment_urls(i)));
  }
  if (complaint.channel() == v1::CHANNEL_UNSPECIFIED ||
      !v1::Channel_IsValid(complaint.channel())) {
    return Invalid("complaint.channel", "must be WEB, MOBILE, SMS or OFFICE");
  }
  if (complaint.has_reporter_contact()) {
    if (complaint.anonymous()) {
      return Invalid("complaint.reporter_contact",
                     "an anonymous complaint carries no contact");
    }
    RETURN_IF_ERROR(ValidateContact(complaint.reporter_contact()));
  }
  return absl::OkStatus();
}

// ---- privacy ----

std::optional<Complaint> ViewFor(const Complaint& stored, Reader reader) {
  // Outsiders read published figures only, never a complaint.
  if (reader == Reader::kOutsider) return std::nullopt;
  Complaint view = stored;
  view.clear_receipt_secret();
  if (reader != Reader::kManager || view.anonymous()) {
    view.clear_reporter_contact();
  }
  if (reader == Reader::kReporter) {
    auto* timeline = view.mutable_timeline();
    for (int i = timeline->size() - 1; i >= 0; --i) {
      if (timeline->Get(i).internal()) timeline->DeleteSubrange(i, 1);
    }
  }
  if (view.anonymous()) {
    for (v1::TimelineEntry& entry : *view.mutable_timeline()) {
      if (entry.has_actor() && !IsStaffActor(entry.actor())) {
        entry.mutable_actor()->clear_subject();
      }
    }
  }
  return view;
}

std::optional<Complaint> ListItemFor(const Complaint& stored, Reader reader) {
  std::optional<Complaint> item = ViewFor(stored, reader);
  if (item) item->clear_timeline();
  return item;
}

}  // namespace prima::complaint
