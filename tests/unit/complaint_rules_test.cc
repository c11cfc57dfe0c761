// The complaint service's domain rules: the lifecycle, working-day deadlines
// in WIB/WIT, deadline policies, tracking numbers, FileComplaint's checks and
// what each reader may see.
#include "services/complaint/complaint_rules.h"

#include <cmath>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace prima::complaint {
namespace {

using ::prima::common::v1::LocalDate;
using ::prima::common::v1::ROLE_CITIZEN;
using ::prima::common::v1::ROLE_OFFICER;
using ::prima::common::v1::ROLE_SUPERVISOR;
using ::prima::complaint::v1::Complaint;
using ::prima::complaint::v1::ComplaintStatus;
using ::prima::complaint::v1::DeadlinePolicy;
using ::testing::HasSubstr;

MATCHER_P2(StatusIs, code, prefix, "") {
  return arg.code() == code && absl::StartsWith(arg.message(), prefix);
}

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

absl::Time Local(const absl::TimeZone& zone, int y, int m, int d, int hh,
                 int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), zone);
}

absl::Time Utc(int y, int m, int d, int hh, int mm = 0) {
  return Local(absl::UTCTimeZone(), y, m, d, hh, mm);
}

LocalDate Date(int y, int m, int d) {
  LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// ---- lifecycle ----

constexpr Action kActions[] = {
    Action::kVerify,    Action::kReject,  Action::kNotInAuthority,
    Action::kForward,   Action::kAssign,  Action::kStartWork,
    Action::kResolve,   Action::kAccept,  Action::kReopen,
    Action::kAutoClose, Action::kComment, Action::kRate,
};

constexpr ComplaintStatus kStatuses[] = {
    v1::COMPLAINT_STATUS_SUBMITTED,   v1::COMPLAINT_STATUS_VERIFIED,
    v1::COMPLAINT_STATUS_REJECTED,    v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY,
    v1::COMPLAINT_STATUS_FORWARDED,   v1::COMPLAINT_STATUS_ASSIGNED,
    v1::COMPLAINT_STATUS_IN_PROGRESS, v1::COMPLAINT_STATUS_RESOLVED,
    v1::COMPLAINT_STATUS_CLOSED,      v1::COMPLAINT_STATUS_REOPENED,
};

// The whole legal table, written out independently of the implementation.
const std::map<std::pair<ComplaintStatus, Action>, ComplaintStatus>&
LegalMoves() {
  using S = ComplaintStatus;
  static const auto* moves = new std::map<std::pair<S, Action>, S>{
      {{v1::COMPLAINT_STATUS_SUBMITTED, Action::kVerify},
       v1::COMPLAINT_STATUS_VERIFIED},
      {{v1::COMPLAINT_STATUS_SUBMITTED, Action::kReject},
       v1::COMPLAINT_STATUS_REJECTED},
      {{v1::COMPLAINT_STATUS_SUBMITTED, Action::kNotInAuthority},
       v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY},
      {{v1::COMPLAINT_STATUS_SUBMITTED, Action::kComment},
       v1::COMPLAINT_STATUS_SUBMITTED},
      {{v1::COMPLAINT_STATUS_VERIFIED, Action::kForward},
       v1::COMPLAINT_STATUS_VERIFIED},
      {{v1::COMPLAINT_STATUS_VERIFIED, Action::kAssign},
       v1::COMPLAINT_STATUS_ASSIGNED},
      {{v1::COMPLAINT_STATUS_VERIFIED, Action::kComment},
       v1::COMPLAINT_STATUS_VERIFIED},
      {{v1::COMPLAINT_STATUS_REOPENED, Action::kAssign},
       v1::COMPLAINT_STATUS_ASSIGNED},
      {{v1::COMPLAINT_STATUS_REOPENED, Action::kComment},
       v1::COMPLAINT_STATUS_REOPENED},
      {{v1::COMPLAINT_STATUS_ASSIGNED, Action::kStartWork},
       v1::COMPLAINT_STATUS_IN_PROGRESS},
      {{v1::COMPLAINT_STATUS_ASSIGNED, Action::kComment},
       v1::COMPLAINT_STATUS_ASSIGNED},
      {{v1::COMPLAINT_STATUS_IN_PROGRESS, Action::kResolve},
       v1::COMPLAINT_STATUS_RESOLVED},
      {{v1::COMPLAINT_STATUS_IN_PROGRESS, Action::kComment},
       v1::COMPLAINT_STATUS_IN_PROGRESS},
      {{v1::COMPLAINT_STATUS_RESOLVED, Action::kAccept},
       v1::COMPLAINT_STATUS_CLOSED},
      {{v1::COMPLAINT_STATUS_RESOLVED, Action::kAutoClose},
       v1::COMPLAINT_STATUS_CLOSED},
      {{v1::COMPLAINT_STATUS_RESOLVED, Action::kReopen},
       v1::COMPLAINT_STATUS_REOPENED},
      {{v1::COMPLAINT_STATUS_RESOLVED, Action::kComment},
       v1::COMPLAINT_STATUS_RESOLVED},
      {{v1::COMPLAINT_STATUS_RESOLVED, Action::kRate},
       v1::COMPLAINT_STATUS_RESOLVED},
      {{v1::COMPLAINT_STATUS_CLOSED, Action::kRate},
       v1::COMPLAINT_STATUS_CLOSED},
  };
  return *moves;
}

TEST(Lifecycle, EveryLegalMoveGivesItsStatus) {
  for (const auto& [move, to] : LegalMoves()) {
    absl::StatusOr<ComplaintStatus> next = NextStatus(move.first, move.second);
    ASSERT_TRUE(next.ok()) << StatusName(move.first) << " "
                           << ActionName(move.second) << ": " << next.status();
    EXPECT_EQ(*next, to) << StatusName(move.first) << " "
                         << ActionName(move.second);
  }
}

TEST(Lifecycle, EveryOtherMoveIsRefusedNamingStatusActionAndAllowed) {
  int refused = 0;
  for (ComplaintStatus from : kStatuses) {
    for (Action action : kActions) {
      if (LegalMoves().contains({from, action})) continue;
      absl::StatusOr<ComplaintStatus> next = NextStatus(from, action);
      ASSERT_FALSE(next.ok())
          << StatusName(from) << " " << ActionName(action) << " allowed";
      EXPECT_THAT(
          next.status(),
          StatusIs(absl::StatusCode::kFailedPrecondition,
                   absl::StrCat("complaint is ", StatusName(from), ": cannot ",
                                ActionName(action), "; allowed: ")));
      // Every move a caller may take from `from` is listed.
      for (Action other : kActions) {
        if (other == Action::kAutoClose) continue;
        const bool legal = LegalMoves().contains({from, other});
        const std::string allowed = std::string(next.status().message().substr(
            next.status().message().find("; allowed: ")));
        EXPECT_EQ(absl::StrContains(absl::StrCat(allowed, ","),
                                    absl::StrCat(" ", ActionName(other), ",")),
                  legal)
            << next.status() << " / " << ActionName(other);
      }
      ++refused;
    }
  }
  // 10 statuses x 12 actions, minus the 19 legal moves.
  EXPECT_EQ(refused, 10 * 12 - 19);
}

TEST(Lifecycle, RefusalMessagesReadWell) {
  EXPECT_EQ(
      NextStatus(v1::COMPLAINT_STATUS_RESOLVED, Action::kVerify)
          .status()
          .message(),
      "complaint is RESOLVED: cannot verify; allowed: accept, reopen, comment, "
      "rate");
  EXPECT_EQ(NextStatus(v1::COMPLAINT_STATUS_REJECTED, Action::kComment)
                .status()
                .message(),
            "complaint is REJECTED: cannot comment; allowed: none");
  EXPECT_EQ(NextStatus(v1::COMPLAINT_STATUS_CLOSED, Action::kReopen)
                .status()
                .message(),
            "complaint is CLOSED: cannot reopen; allowed: rate");
  EXPECT_EQ(NextStatus(v1::COMPLAINT_STATUS_SUBMITTED, Action::kStartWork)
                .status()
                .message(),
            "complaint is SUBMITTED: cannot start-work; allowed: verify, "
            "reject, not-in-authority, comment");
}

TEST(Lifecycle, UnspecifiedStatusAllowsNothing) {
  for (Action action : kActions) {
    EXPECT_THAT(NextStatus(v1::COMPLAINT_STATUS_UNSPECIFIED, action).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         "complaint is UNSPECIFIED"));
  }
}

TEST(Lifecycle, FinalStatuses) {
  for (ComplaintStatus status : kStatuses) {
    const bool final = status == v1::COMPLAINT_STATUS_REJECTED ||
                       status == v1::COMPLAINT_STATUS_NOT_IN_AUTHORITY ||
                       status == v1::COMPLAINT_STATUS_CLOSED;
    EXPECT_EQ(IsFinal(status), final) << StatusName(status);
  }
}

TEST(Lifecycle, ForwardIsRecordedAsForwardedInTheTimeline) {
  EXPECT_EQ(TimelineStatus(Action::kForward, v1::COMPLAINT_STATUS_VERIFIED),
            v1::COMPLAINT_STATUS_FORWARDED);
  EXPECT_EQ(TimelineStatus(Action::kAssign, v1::COMPLAINT_STATUS_ASSIGNED),
            v1::COMPLAINT_STATUS_ASSIGNED);
}

TEST(Lifecycle, ActionNamesAreDistinct) {
  std::set<std::string> names;
  for (Action action : kActions) names.insert(std::string(ActionName(action)));
  EXPECT_EQ(names.size(), std::size(kActions));
}

TEST(Rating, OnceOnResolvedOrClosedFromOneToFive) {
  Complaint complaint;
  complaint.set_status(v1::COMPLAINT_STATUS_RESOLVED);
  EXPECT_TRUE(ValidateRating(complaint, 1).ok());
  EXPECT_TRUE(ValidateRating(complaint, 5).ok());
  EXPECT_THAT(ValidateRating(complaint, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "rating:"));
  EXPECT_THAT(ValidateRating(complaint, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, "rating:"));
  complaint.set_status(v1::COMPLAINT_STATUS_CLOSED);
  EXPECT_TRUE(ValidateRating(complaint, 4).ok());
  complaint.set_rating(4);
  EXPECT_THAT(ValidateRating(complaint, 5),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "complaint is already rated"));
  complaint.set_rating(0);
  complaint.set_status(v1::COMPLAINT_STATUS_IN_PROGRESS);
  EXPECT_THAT(ValidateRating(complaint, 5),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "complaint is IN_PROGRESS: cannot rate"));
}

TEST(ResponseWindow, OpenUntilTheResponseDeadline) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  Complaint complaint;
  EXPECT_FALSE(WithinResponseWindow(complaint, Local(wib, 2026, 11, 24, 10)));
  v1::Deadline* follow_up = complaint.add_deadlines();
  follow_up->set_kind(v1::DEADLINE_KIND_FOLLOW_UP);
  *follow_up->mutable_due_time() = ToProtoTime(Local(wib, 2026, 12, 31, 0));
  v1::Deadline* response = complaint.add_deadlines();
  response->set_kind(v1::DEADLINE_KIND_RESPONSE);
  *response->mutable_due_time() = ToProtoTime(Local(wib, 2026, 12, 5, 0));
  EXPECT_TRUE(WithinResponseWindow(complaint, Local(wib, 2026, 12, 4, 23, 59)));
  EXPECT_FALSE(WithinResponseWindow(complaint, Local(wib, 2026, 12, 5, 0)));
}

// ---- working days ----

TEST(WorkingDays, OverAWeekendFromFridayAfternoon) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  // Mon 23, Tue 24, Wed 25: due at the end of Wednesday.
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 20, 15), 3, wib, {}),
            Local(wib, 2026, 11, 26, 0));
}

TEST(WorkingDays, TheFilingDayNeverCountsWhateverTheHour) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 23, 0), 1, wib, {}),
            Local(wib, 2026, 11, 25, 0));
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 23, 23, 59), 1, wib, {}),
            Local(wib, 2026, 11, 25, 0));
}

TEST(WorkingDays, OverAHoliday) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  // Christmas 2026 is a Friday: filed Wed 23 Dec, 3 working days are Thu 24,
  // Mon 28, Tue 29.
  const HolidaySet holidays = {absl::CivilDay(2026, 12, 25)};
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 12, 23, 9), 3, wib, holidays),
            Local(wib, 2026, 12, 30, 0));
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 12, 23, 9), 3, wib, {}),
            Local(wib, 2026, 12, 29, 0));
}

TEST(WorkingDays, AHolidayOnAWeekendCostsNothing) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  const HolidaySet holidays = {absl::CivilDay(2026, 11, 21)};  // a Saturday
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 20, 15), 3, wib, holidays),
            Local(wib, 2026, 11, 26, 0));
}

TEST(WorkingDays, AcrossAMonthAndYearEnd) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  // Filed Thu 26 Nov 2026, 5 working days: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3.
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 26, 10), 5, wib, {}),
            Local(wib, 2026, 12, 4, 0));
  // Filed Wed 30 Dec 2026 with New Year's Day a holiday: Thu 31, Mon 4 Jan.
  const HolidaySet holidays = {absl::CivilDay(2027, 1, 1)};
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 12, 30, 10), 2, wib, holidays),
            Local(wib, 2027, 1, 5, 0));
}

TEST(WorkingDays, FiledOnASaturday) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  // Sat 21 Nov: Mon 23, Tue 24, Wed 25.
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 21, 11), 3, wib, {}),
            Local(wib, 2026, 11, 26, 0));
  // Sunday counts the same.
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 22, 11), 3, wib, {}),
            Local(wib, 2026, 11, 26, 0));
}

TEST(WorkingDays, LocalDateDependsOnTheOfficeZoneAroundMidnightUtc) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  const absl::TimeZone wit = Zone("Asia/Jayapura");
  // Thu 19 Nov 15:30 UTC is Thu 22:30 WIB but already Fri 00:30 WIT.
  const absl::Time filed = Utc(2026, 11, 19, 15, 30);
  // WIB: Fri 20, Mon 23 -> end of Monday WIB.
  EXPECT_EQ(DueAfterWorkingDays(filed, 2, wib, {}),
            Local(wib, 2026, 11, 24, 0));
  // WIT: Mon 23, Tue 24 -> end of Tuesday WIT.
  EXPECT_EQ(DueAfterWorkingDays(filed, 2, wit, {}),
            Local(wit, 2026, 11, 25, 0));
  EXPECT_EQ(Local(wit, 2026, 11, 25, 0), Utc(2026, 11, 24, 15, 0));
}

TEST(WorkingDays, ZeroGivesTheEndOfTheFilingDay) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  EXPECT_EQ(DueAfterWorkingDays(Local(wib, 2026, 11, 20, 15), 0, wib, {}),
            Local(wib, 2026, 11, 21, 0));
}

TEST(WorkingDays, HolidaysFromTheDirectory) {
  google::protobuf::RepeatedPtrField<LocalDate> dates;
  *dates.Add() = Date(2026, 12, 25);
  *dates.Add() = Date(2027, 1, 1);
  *dates.Add() = Date(2026, 2, 30);  // not a date: skipped
  const HolidaySet holidays = HolidaysFrom(dates);
  EXPECT_EQ(holidays.size(), 2u);
  EXPECT_TRUE(holidays.contains(absl::CivilDay(2026, 12, 25)));
  EXPECT_TRUE(holidays.contains(absl::CivilDay(2027, 1, 1)));
  EXPECT_FALSE(holidays.contains(absl::CivilDay(2026, 3, 2)));
}

TEST(ResponseDays, CalendarDaysIncludingWeekendsAndEndOfDay) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  EXPECT_EQ(DueAfterDays(Local(wib, 2026, 11, 24, 10), 10, wib),
            Local(wib, 2026, 12, 5, 0));
  // Across a year end, and late in the day.
  EXPECT_EQ(DueAfterDays(Local(wib, 2026, 12, 28, 23, 59), 10, wib),
            Local(wib, 2027, 1, 8, 0));
}

TEST(ResponseDays, LocalDateOfTheOfficeZone) {
  const absl::TimeZone wib = Zone("Asia/Jakarta");
  const absl::TimeZone wit = Zone("Asia/Jayapura");
  const absl::Time resolved = Utc(2026, 11, 19, 15, 30);  // Thu WIB, Fri WIT
  EXPECT_EQ(DueAfterDays(resolved, 1, wib), Local(wib, 2026, 11, 21, 0));
  EXPECT_EQ(DueAfterDays(resolved, 1, wit), Local(wit, 2026, 11, 22, 0));
}

// ---- deadline policy ----

DeadlinePolicy Policy(int verify, int follow_up, int response) {
  DeadlinePolicy policy;
  policy.set_agency_id("dukcapil-dki");
  policy.set_verify_working_days(verify);
  policy.set_follow_up_working_days(follow_up);
  policy.set_response_days(response);
  return policy;
}

TEST(DeadlinePolicy, DefaultsFillZerosOnly) {
  const DeadlinePolicy filled = WithDefaults(Policy(0, 0, 0));
  EXPECT_EQ(filled.verify_working_days(), 3);
  EXPECT_EQ(filled.follow_up_working_days(), 5);
  EXPECT_EQ(filled.response_days(), 10);
  EXPECT_EQ(filled.agency_id(), "dukcapil-dki");
  const DeadlinePolicy kept = WithDefaults(Policy(7, 14, 0));
  EXPECT_EQ(kept.verify_working_days(), 7);
  EXPECT_EQ(kept.follow_up_working_days(), 14);
  EXPECT_EQ(kept.response_days(), 10);
}

TEST(DeadlinePolicy, Ranges) {
  EXPECT_TRUE(ValidateDeadlinePolicy(Policy(1, 1, 1)).ok());
  EXPECT_TRUE(ValidateDeadlinePolicy(Policy(60, 120, 60)).ok());
  EXPECT_THAT(ValidateDeadlinePolicy(Policy(0, 5, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "policy.verify_working_days: must be between 1 and 60"));
  EXPECT_THAT(ValidateDeadlinePolicy(Policy(61, 5, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "policy.verify_working_days:"));
  EXPECT_THAT(ValidateDeadlinePolicy(Policy(3, 121, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "policy.follow_up_working_days:"));
  EXPECT_THAT(ValidateDeadlinePolicy(Policy(3, -1, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "policy.follow_up_working_days:"));
  EXPECT_THAT(
      ValidateDeadlinePolicy(Policy(3, 5, 61)),
      StatusIs(absl::StatusCode::kInvalidArgument, "policy.response_days:"));
}

TEST(DeadlinePolicy, AgencyAndCategory) {
  DeadlinePolicy policy = Policy(3, 5, 10);
  policy.set_category(v1::CATEGORY_ATTITUDINAL);
  EXPECT_TRUE(ValidateDeadlinePolicy(policy).ok());
  policy.set_category(static_cast<v1::Category>(42));
  EXPECT_THAT(ValidateDeadlinePolicy(policy),
              StatusIs(absl::StatusCode::kInvalidArgument, "policy.category:"));
  policy.set_category(v1::CATEGORY_UNSPECIFIED);
  policy.set_agency_id("");
  EXPECT_THAT(
      ValidateDeadlinePolicy(policy),
      StatusIs(absl::StatusCode::kInvalidArgument, "policy.agency_id:"));
  policy.set_agency_id("Dukcapil");
  EXPECT_THAT(
      ValidateDeadlinePolicy(policy),
      StatusIs(absl::StatusCode::kInvalidArgument, "policy.agency_id:"));
}

// ---- tracking numbers ----

TEST(TrackingNumber, Format) {
  EXPECT_EQ(TrackingNumber("dukcapil-dki", absl::CivilDay(2026, 11, 24), 7),
            "DUKCAPIL-DKI-20261124-0007");
  EXPECT_EQ(TrackingNumber("samsat1", absl::CivilDay(2027, 1, 2), 9999),
            "SAMSAT1-20270102-9999");
  EXPECT_EQ(TrackingNumber("samsat1", absl::CivilDay(2027, 1, 2), 10000),
            "SAMSAT1-20270102-10000");
}

TEST(TrackingNumber, WhatItMakesValidatesAndParsesBack) {
  for (const auto& [agency, sequence] :
       std::vector<std::pair<std::string, int>>{
           {"dukcapil-dki", 7}, {"a", 1}, {"9-x-1", 123456}}) {
    const std::string number =
        TrackingNumber(agency, absl::CivilDay(2026, 2, 28), sequence);
    EXPECT_TRUE(ValidateTrackingNumber("tracking_number", number).ok())
        << number;
    EXPECT_EQ(AgencyOfTrackingNumber(number), agency) << number;
  }
  const std::string longest =
      TrackingNumber(std::string(63, 'a'), absl::CivilDay(2026, 2, 28), 1);
  EXPECT_TRUE(ValidateTrackingNumber("tracking_number", longest).ok());
}

TEST(TrackingNumber, RefusesAnythingElseNamingTheField) {
  const std::vector<std::string> bad = {
      "",
      "dukcapil-dki-20261124-0007",             // lower case
      "Dukcapil-DKI-20261124-0007",             // mixed case
      "DUKCAPIL-DKI-20261131-0007",             // 31 November
      "DUKCAPIL-DKI-20260229-0007",             // not a leap year
      "DUKCAPIL-DKI-19991231-0007",             // before 2000
      "DUKCAPIL-DKI-2026112-0007",              // 7-digit date
      "DUKCAPIL-DKI-20261124-007",              // 3-digit sequence
      "DUKCAPIL-DKI-20261124-0000",             // no sequence 0
      "DUKCAPIL-DKI-20261124-00007",            // padded beyond 4 digits
      "DUKCAPIL-DKI-20261124-1234567890",       // 10 digits
      "DUKCAPIL-DKI-20261124-0007 ",            // trailing space
      "DUKCAPIL DKI-20261124-0007",             // space
      "A:B-20261124-0007",                      // key separator
      "A*-20261124-0007",                       // glob
      "A{B}-20261124-0007",                     // hash tag
      "A\n-20261124-0007",                      // newline
      "-A-20261124-0007",                       // leading dash
      "-20261124-0007",                         // no agency
      "A-20261124",                             // no sequence
      "20261124-0007",                          // no agency at all
      std::string(64, 'A') + "-20261124-0007",  // agency of 64
      std::string("A\0B-20261124-0007", 17),    // NUL
      "A-2026112a-0007",
      "A-20261124-00a7",
      "A-20261124--0007",
  };
  for (const std::string& number : bad) {
    EXPECT_THAT(ValidateTrackingNumber("tracking_number", number),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "tracking_number: must be a tracking number"))
        << number;
    EXPECT_EQ(AgencyOfTrackingNumber(number), "") << number;
  }
}

// ---- filing ----

absl::Time Now() { return Local(Zone("Asia/Jakarta"), 2026, 11, 24, 10); }

Complaint GoodComplaint() {
  Complaint c;
  c.set_agency_id("dukcapil-dki");
  c.set_office_id("jkt-1");
  c.set_service_id("ktp-el");
  c.set_officer_id("off-7");
  c.set_ticket_id("t-20261124-a-017");
  c.set_classification(v1::CLASSIFICATION_PENGADUAN);
  c.set_category(v1::CATEGORY_ATTITUDINAL);
  c.set_title("Petugas tidak ramah");
  c.set_description("Petugas loket 3 membentak warga lansia saat antre.");
  *c.mutable_incident_date() = Date(2026, 11, 24);
  c.mutable_location()->mutable_point()->set_latitude(-6.2);
  c.mutable_location()->mutable_point()->set_longitude(106.8);
  c.mutable_location()->set_address("Jl. Merdeka 1, Jakarta");
  c.add_attachment_urls("https://files.example.id/evidence/1.jpg");
  c.set_channel(v1::CHANNEL_WEB);
  c.mutable_reporter_contact()->set_name("Siti");
  c.mutable_reporter_contact()->set_phone("+62 812-3456-7890");
  c.mutable_reporter_contact()->set_email("siti@example.id");
  return c;
}

absl::Status Validate(const Complaint& c) {
  return ValidateNewComplaint(c, Now(), Zone("Asia/Jakarta"));
}

TEST(Filing, AGoodComplaintAndAMinimalOnePass) {
  EXPECT_TRUE(Validate(GoodComplaint()).ok()) << Validate(GoodComplaint());
  Complaint minimal;
  minimal.set_agency_id("dukcapil-dki");
  minimal.set_classification(v1::CLASSIFICATION_ASPIRASI);
  minimal.set_category(v1::CATEGORY_MECHANICAL);
  minimal.set_title("Antre");
  minimal.set_description(std::string(20, 'x'));
  minimal.set_channel(v1::CHANNEL_SMS);
  minimal.set_anonymous(true);
  minimal.set_confidential(true);
  EXPECT_TRUE(Validate(minimal).ok()) << Validate(minimal);
}

struct BadFiling {
  std::string name;
  void (*breakit)(Complaint&);
  std::string prefix;
};

TEST(Filing, EachFieldIsCheckedAndNamed) {
  const std::vector<BadFiling> cases = {
      {"no agency", [](Complaint& c) { c.clear_agency_id(); },
       "complaint.agency_id:"},
      {"agency key injection", [](Complaint& c) { c.set_agency_id("a:b"); },
       "complaint.agency_id:"},
      {"office", [](Complaint& c) { c.set_office_id("JKT 1"); },
       "complaint.office_id:"},
      {"service", [](Complaint& c) { c.set_service_id("-x"); },
       "complaint.service_id:"},
      {"officer", [](Complaint& c) { c.set_officer_id("o*"); },
       "complaint.officer_id:"},
      {"ticket", [](Complaint& c) { c.set_ticket_id(std::string(64, 'a')); },
       "complaint.ticket_id:"},
      {"classification unset",
       [](Complaint& c) {
         c.set_classification(v1::CLASSIFICATION_UNSPECIFIED);
       },
       "complaint.classification:"},
      {"classification unknown",
       [](Complaint& c) {
         c.set_classification(static_cast<v1::Classification>(9));
       },
       "complaint.classification:"},
      {"category unset",
       [](Complaint& c) { c.set_category(v1::CATEGORY_UNSPECIFIED); },
       "complaint.category:"},
      {"category unknown",
       [](Complaint& c) { c.set_category(static_cast<v1::Category>(9)); },
       "complaint.category:"},
      {"title empty", [](Complaint& c) { c.clear_title(); },
       "complaint.title:"},
      {"title short", [](Complaint& c) { c.set_title("Abcd"); },
       "complaint.title:"},
      {"title padded short", [](Complaint& c) { c.set_title("   ab    "); },
       "complaint.title:"},
      {"title long", [](Complaint& c) { c.set_title(std::string(201, 'x')); },
       "complaint.title:"},
      {"title bad utf-8", [](Complaint& c) { c.set_title("Abcde\xff"); },
       "complaint.title:"},
      {"description short",
       [](Complaint& c) { c.set_description(std::string(19, 'x')); },
       "complaint.description:"},
      {"description long",
       [](Complaint& c) { c.set_description(std::string(8001, 'x')); },
       "complaint.description:"},
      {"incident not a date",
       [](Complaint& c) { *c.mutable_incident_date() = Date(2026, 2, 29); },
       "complaint.incident_date: must be a real date"},
      {"incident empty date",
       [](Complaint& c) { c.mutable_incident_date()->Clear(); },
       "complaint.incident_date: must be a real date"},
      {"incident tomorrow",
       [](Complaint& c) { *c.mutable_incident_date() = Date(2026, 11, 25); },
       "complaint.incident_date: must not be in the future"},
      {"latitude",
       [](Complaint& c) {
         c.mutable_location()->mutable_point()->set_latitude(90.5);
       },
       "complaint.location.point.latitude:"},
      {"latitude NaN",
       [](Complaint& c) {
         c.mutable_location()->mutable_point()->set_latitude(std::nan(""));
       },
       "complaint.location.point.latitude:"},
      {"longitude",
       [](Complaint& c) {
         c.mutable_location()->mutable_point()->set_longitude(-180.5);
       },
       "complaint.location.point.longitude:"},
      {"address",
       [](Complaint& c) {
         c.mutable_location()->set_address(std::string(501, 'x'));
       },
       "complaint.location.address:"},
      {"too many attachments",
       [](Complaint& c) {
         for (int i = 0; i < 10; ++i) c.add_attachment_urls("https://x.id/a");
       },
       "complaint.attachment_urls: must have at most 10"},
      {"http attachment",
       [](Complaint& c) { c.add_attachment_urls("http://x.id/a.jpg"); },
       "complaint.attachment_urls[1]:"},
      {"javascript attachment",
       [](Complaint& c) { c.add_attachment_urls("javascript:alert(1)"); },
       "complaint.attachment_urls[1]:"},
      {"hostless attachment",
       [](Complaint& c) { c.add_attachment_urls("https://"); },
       "complaint.attachment_urls[1]:"},
      {"attachment with space",
       [](Complaint& c) { c.add_attachment_urls("https://x.id/a b.jpg"); },
       "complaint.attachment_urls[1]:"},
      {"attachment with newline",
       [](Complaint& c) { c.add_attachment_urls("https://x.id/a\n.jpg"); },
       "complaint.attachment_urls[1]:"},
      {"attachment long",
       [](Complaint& c) {
         c.add_attachment_urls("https://x.id/" + std::string(990, 'a'));
       },
       "complaint.attachment_urls[1]:"},
      {"channel unset",
       [](Complaint& c) { c.set_channel(v1::CHANNEL_UNSPECIFIED); },
       "complaint.channel:"},
      {"channel unknown",
       [](Complaint& c) { c.set_channel(static_cast<v1::Channel>(9)); },
       "complaint.channel:"},
      {"contact name long",
       [](Complaint& c) {
         c.mutable_reporter_contact()->set_name(std::string(201, 'x'));
       },
       "complaint.reporter_contact.name:"},
      {"phone letters",
       [](Complaint& c) { c.mutable_reporter_contact()->set_phone("0812abc"); },
       "complaint.reporter_contact.phone:"},
      {"phone no digits",
       [](Complaint& c) { c.mutable_reporter_contact()->set_phone("+ -"); },
       "complaint.reporter_contact.phone:"},
      {"phone plus inside",
       [](Complaint& c) { c.mutable_reporter_contact()->set_phone("62+812"); },
       "complaint.reporter_contact.phone:"},
      {"phone long",
       [](Complaint& c) {
         c.mutable_reporter_contact()->set_phone(std::string(201, '1'));
       },
       "complaint.reporter_contact.phone:"},
      {"email without at",
       [](Complaint& c) {
         c.mutable_reporter_contact()->set_email("siti.example.id");
       },
       "complaint.reporter_contact.email:"},
      {"email two ats",
       [](Complaint& c) {
         c.mutable_reporter_contact()->set_email("a@b@example.id");
       },
       "complaint.reporter_contact.email:"},
      {"email no domain dot",
       [](Complaint& c) { c.mutable_reporter_contact()->set_email("a@b"); },
       "complaint.reporter_contact.email:"},
      {"email space",
       [](Complaint& c) {
         c.mutable_reporter_contact()->set_email("si ti@example.id");
       },
       "complaint.reporter_contact.email:"},
      {"anonymous with contact", [](Complaint& c) { c.set_anonymous(true); },
       "complaint.reporter_contact: an anonymous complaint carries no contact"},
      {"anonymous with an empty contact",
       [](Complaint& c) {
         c.set_anonymous(true);
         c.mutable_reporter_contact()->Clear();
       },
       "complaint.reporter_contact: an anonymous complaint carries no contact"},
  };
  for (const BadFiling& bad : cases) {
    Complaint complaint = GoodComplaint();
    bad.breakit(complaint);
    EXPECT_THAT(Validate(complaint),
                StatusIs(absl::StatusCode::kInvalidArgument, bad.prefix))
        << bad.name << ": " << Validate(complaint);
  }
}

TEST(Filing, BoundariesThatPass) {
  Complaint c = GoodComplaint();
  c.set_title("Abcde");
  c.set_description(std::string(8000, 'x'));
  c.mutable_location()->mutable_point()->set_latitude(-90);
  c.mutable_location()->mutable_point()->set_longitude(180);
  c.clear_attachment_urls();
  for (int i = 0; i < 10; ++i) {
    c.add_attachment_urls("https://x.id/" + std::string(987, 'a'));
  }
  EXPECT_EQ(c.attachment_urls(0).size(), 1000u);
  // Multi-byte characters count once: 200 of them is still a title.
  std::string title;
  for (int i = 0; i < 200; ++i) title += "é";
  c.set_title(title);
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(Filing, IncidentTodayIsTodayInTheOfficeZone) {
  // 2026-11-24 16:00 UTC is already the 25th in WIT (01:00) but still the
  // 24th in WIB (23:00).
  Complaint c = GoodComplaint();
  *c.mutable_incident_date() = Date(2026, 11, 25);
  const absl::Time now = Utc(2026, 11, 24, 16);
  EXPECT_TRUE(ValidateNewComplaint(c, now, Zone("Asia/Jayapura")).ok());
  EXPECT_THAT(ValidateNewComplaint(c, now, Zone("Asia/Jakarta")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "complaint.incident_date: must not be in the future"));
}

// ---- privacy ----

v1::TimelineEntry Entry(const std::string& subject,
                        prima::common::v1::Role role, bool internal,
                        const std::string& note) {
  v1::TimelineEntry entry;
  entry.mutable_actor()->set_subject(subject);
  if (role != prima::common::v1::ROLE_UNSPECIFIED) {
    entry.mutable_actor()->add_roles(role);
  }
  if (role != ROLE_CITIZEN) entry.mutable_actor()->set_agency("dukcapil-dki");
  entry.set_internal(internal);
  entry.set_note(note);
  return entry;
}

Complaint Stored(bool anonymous, bool confidential) {
  Complaint c = GoodComplaint();
  c.set_tracking_number("DUKCAPIL-DKI-20261124-0007");
  c.set_anonymous(anonymous);
  c.set_confidential(confidential);
  if (anonymous) c.clear_reporter_contact();
  c.set_receipt_secret("s3cret-receipt");
  c.set_status(v1::COMPLAINT_STATUS_IN_PROGRESS);
  *c.add_timeline() = Entry("citizen-42", ROLE_CITIZEN, false, "filed");
  *c.add_timeline() = Entry("off-7", ROLE_OFFICER, false, "verified");
  *c.add_timeline() =
      Entry("sup-1", ROLE_SUPERVISOR, true, "reporter seems to be Pak Budi");
  *c.add_timeline() = Entry("off-7", ROLE_OFFICER, false, "on it");
  return c;
}

std::vector<std::string> Notes(const Complaint& c) {
  std::vector<std::string> notes;
  for (const auto& entry : c.timeline()) notes.push_back(entry.note());
  return notes;
}

TEST(Privacy, OutsidersNeverReadAComplaint) {
  for (bool anonymous : {false, true}) {
    for (bool confidential : {false, true}) {
      EXPECT_FALSE(ViewFor(Stored(anonymous, confidential), Reader::kOutsider));
      EXPECT_FALSE(
          ListItemFor(Stored(anonymous, confidential), Reader::kOutsider));
    }
  }
}

TEST(Privacy, ConfidentialIsReadByReporterStaffAndManagers) {
  for (Reader reader : {Reader::kReporter, Reader::kStaff, Reader::kManager}) {
    std::optional<Complaint> view = ViewFor(Stored(false, true), reader);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->tracking_number(), "DUKCAPIL-DKI-20261124-0007");
    EXPECT_TRUE(view->confidential());
  }
}

TEST(Privacy, ReceiptSecretIsNeverReturned) {
  for (Reader reader : {Reader::kReporter, Reader::kStaff, Reader::kManager}) {
    EXPECT_EQ(ViewFor(Stored(false, false), reader)->receipt_secret(), "");
    EXPECT_EQ(ListItemFor(Stored(false, false), reader)->receipt_secret(), "");
  }
}

TEST(Privacy, ContactOnlyForManagers) {
  const Complaint stored = Stored(false, false);
  ASSERT_TRUE(stored.has_reporter_contact());
  EXPECT_EQ(ViewFor(stored, Reader::kManager)->reporter_contact().email(),
            "siti@example.id");
  EXPECT_EQ(ListItemFor(stored, Reader::kManager)->reporter_contact().name(),
            "Siti");
  for (Reader reader : {Reader::kReporter, Reader::kStaff}) {
    EXPECT_FALSE(ViewFor(stored, reader)->has_reporter_contact());
    EXPECT_FALSE(ListItemFor(stored, reader)->has_reporter_contact());
  }
}

TEST(Privacy, AnAnonymousComplaintsContactLeaksToNobody) {
  // Should never be stored; if it is, no reader sees it.
  Complaint stored = Stored(true, false);
  stored.mutable_reporter_contact()->set_name("Siti");
  for (Reader reader : {Reader::kReporter, Reader::kStaff, Reader::kManager}) {
    EXPECT_FALSE(ViewFor(stored, reader)->has_reporter_contact());
    EXPECT_FALSE(ListItemFor(stored, reader)->has_reporter_contact());
  }
}

TEST(Privacy, InternalNotesAreHiddenFromTheReporterOnly) {
  const Complaint stored = Stored(false, false);
  EXPECT_THAT(Notes(*ViewFor(stored, Reader::kReporter)),
              ::testing::ElementsAre("filed", "verified", "on it"));
  for (Reader reader : {Reader::kStaff, Reader::kManager}) {
    EXPECT_THAT(
        Notes(*ViewFor(stored, reader)),
        ::testing::ElementsAre("filed", "verified",
                               "reporter seems to be Pak Budi", "on it"));
  }
}

TEST(Privacy, AnonymousReporterIsNamedToNobody) {
  const Complaint stored = Stored(true, false);
  for (Reader reader : {Reader::kReporter, Reader::kStaff, Reader::kManager}) {
    const Complaint view = *ViewFor(stored, reader);
    for (const auto& entry : view.timeline()) {
      if (entry.note() == "filed") {
        EXPECT_EQ(entry.actor().subject(), "");
      } else {
        // Staff stay accountable by name.
        EXPECT_NE(entry.actor().subject(), "") << entry.note();
      }
    }
  }
  // Without anonymity the reporter's subject is kept.
  EXPECT_EQ(ViewFor(Stored(false, false), Reader::kStaff)
                ->timeline(0)
                .actor()
                .subject(),
            "citizen-42");
}

TEST(Privacy, AnonymousReporterWithoutRolesIsStillHidden) {
  Complaint stored = Stored(true, false);
  *stored.add_timeline() =
      Entry("tokenless-caller", prima::common::v1::ROLE_UNSPECIFIED, false,
            "I reject the answer");
  stored.mutable_timeline()->rbegin()->mutable_actor()->clear_agency();
  EXPECT_EQ(ViewFor(stored, Reader::kManager)->timeline(4).actor().subject(),
            "");
}

TEST(Privacy, ListItemsHaveNoTimelineAndTheStoredCopyIsUntouched) {
  const Complaint stored = Stored(true, true);
  for (Reader reader : {Reader::kReporter, Reader::kStaff, Reader::kManager}) {
    const std::optional<Complaint> item = ListItemFor(stored, reader);
    ASSERT_TRUE(item);
    EXPECT_EQ(item->timeline_size(), 0);
    EXPECT_EQ(item->title(), stored.title());
  }
  EXPECT_EQ(stored.timeline_size(), 4);
  EXPECT_EQ(stored.receipt_secret(), "s3cret-receipt");
  EXPECT_EQ(stored.timeline(0).actor().subject(), "citizen-42");
}

}  // namespace
}  // namespace prima::complaint
