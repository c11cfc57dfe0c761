// The queue's domain rules: the office's local day in WIB/WITA/WIT, opening
// hours, ticket numbers, call order, appointment slots and check-in, the wait
// estimate (and its simulation), and histogram statistics.
#include "services/queue/queue_rules.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/proto_time.h"
#include "services/queue/wait_simulation.h"

namespace prima::queue {
namespace {

using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::OpeningInterval;
using ::prima::catalog::v1::Weekday;
using ::prima::queue::v1::AppointmentSettings;
using ::testing::ElementsAre;

MATCHER_P2(StatusIs, code, prefix, "") {
  return arg.code() == code && absl::StartsWith(arg.message(), prefix);
}

absl::Time Utc(int y, int m, int d, int hh, int mm, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

void AddHours(Office& office, Weekday day, int open, int close) {
  OpeningInterval* interval = office.add_opening_hours();
  interval->set_weekday(day);
  interval->set_open_minute(open);
  interval->set_close_minute(close);
}

// Monday-Thursday 08:00-12:00 and 13:00-16:00; Friday 08:00-11:30 and
// 13:30-16:00 (the long Friday prayer break); closed at the weekend and on
// 2026-12-25. Friday's intervals are listed afternoon first on purpose.
Office TestOffice(const char* zone = "Asia/Jakarta") {
  Office office;
  office.set_id("jaksel");
  office.set_time_zone(zone);
  for (Weekday day :
       {catalog::v1::WEEKDAY_MONDAY, catalog::v1::WEEKDAY_TUESDAY,
        catalog::v1::WEEKDAY_WEDNESDAY, catalog::v1::WEEKDAY_THURSDAY}) {
    AddHours(office, day, 8 * 60, 12 * 60);
    AddHours(office, day, 13 * 60, 16 * 60);
  }
  AddHours(office, catalog::v1::WEEKDAY_FRIDAY, 13 * 60 + 30, 16 * 60);
  AddHours(office, catalog::v1::WEEKDAY_FRIDAY, 8 * 60, 11 * 60 + 30);
  auto* christmas = office.add_holidays();
  christmas->set_year(2026);
  christmas->set_month(12);
  christmas->set_day(25);
  return office;
}

// Open Sunday 20:00 until midnight (close_minute 1440).
Office NightOffice() {
  Office office;
  office.set_id("night");
  office.set_time_zone("Asia/Jakarta");
  AddHours(office, catalog::v1::WEEKDAY_SUNDAY, 20 * 60, 1440);
  return office;
}

// ---- the office's day ----

TEST(OfficeTimeZoneTest, LoadsIndonesianZonesAndRejectsUnknown) {
  ASSERT_TRUE(OfficeTimeZone(TestOffice("Asia/Makassar")).ok());
  EXPECT_EQ(OfficeTimeZone(TestOffice("Asia/Jayapura"))->name(),
            "Asia/Jayapura");
  EXPECT_EQ(OfficeTimeZone(TestOffice("Mars/Olympus")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(OpeningIntervalsTest, WeekdayHasTwoIntervalsAroundLunch) {
  // Wednesday 2026-11-25 in WIB (UTC+7).
  const auto intervals = OpeningIntervals(TestOffice(), Zone("Asia/Jakarta"),
                                          absl::CivilDay(2026, 11, 25));
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].start, Utc(2026, 11, 25, 1, 0));
  EXPECT_EQ(intervals[0].end, Utc(2026, 11, 25, 5, 0));
  EXPECT_EQ(intervals[1].start, Utc(2026, 11, 25, 6, 0));
  EXPECT_EQ(intervals[1].end, Utc(2026, 11, 25, 9, 0));
}

TEST(OpeningIntervalsTest, FridaySplitHoursInTimeOrder) {
  const auto intervals = OpeningIntervals(TestOffice(), Zone("Asia/Jakarta"),
                                          absl::CivilDay(2026, 11, 27));
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].start, Utc(2026, 11, 27, 1, 0));
  EXPECT_EQ(intervals[0].end, Utc(2026, 11, 27, 4, 30));
  EXPECT_EQ(intervals[1].start, Utc(2026, 11, 27, 6, 30));
  EXPECT_EQ(intervals[1].end, Utc(2026, 11, 27, 9, 0));
}

TEST(OpeningIntervalsTest, ClosedOnWeekendAndHolidays) {
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  EXPECT_TRUE(OpeningIntervals(TestOffice(), zone, absl::CivilDay(2026, 11, 28))
                  .empty());  // Saturday
  EXPECT_TRUE(OpeningIntervals(TestOffice(), zone, absl::CivilDay(2026, 11, 29))
                  .empty());  // Sunday
  EXPECT_TRUE(OpeningIntervals(TestOffice(), zone, absl::CivilDay(2026, 12, 25))
                  .empty());  // a Friday holiday
  EXPECT_EQ(
      OpeningIntervals(TestOffice(), zone, absl::CivilDay(2026, 12, 18)).size(),
      2u);  // the Friday before is a working day
}

TEST(OpeningIntervalsTest, FollowsTheOfficeZone) {
  // 08:00 local is 00:00Z in WITA (UTC+8) and 23:00Z the day before in WIT.
  const absl::CivilDay wednesday(2026, 11, 25);
  EXPECT_EQ(OpeningIntervals(TestOffice("Asia/Makassar"), Zone("Asia/Makassar"),
                             wednesday)[0]
                .start,
            Utc(2026, 11, 25, 0, 0));
  EXPECT_EQ(OpeningIntervals(TestOffice("Asia/Jayapura"), Zone("Asia/Jayapura"),
                             wednesday)[0]
                .start,
            Utc(2026, 11, 24, 23, 0));
}

TEST(OpeningIntervalsTest, MidnightCloseEndsAtTheNextDay) {
  const auto intervals = OpeningIntervals(NightOffice(), Zone("Asia/Jakarta"),
                                          absl::CivilDay(2026, 11, 29));
  ASSERT_EQ(intervals.size(), 1u);
  EXPECT_EQ(intervals[0].start, Utc(2026, 11, 29, 13, 0));
  EXPECT_EQ(intervals[0].end, Utc(2026, 11, 29, 17, 0));  // Mon 00:00 WIB
}

TEST(OfficeNowAtTest, LocalDateAfterMidnightUtcPlusOffset) {
  // 2026-11-24T17:30Z is 2026-11-25 00:30 in Jakarta: already Wednesday.
  const OfficeNow jakarta = OfficeNowAt(TestOffice(), Zone("Asia/Jakarta"),
                                        Utc(2026, 11, 24, 17, 30));
  EXPECT_EQ(jakarta.local_date, absl::CivilDay(2026, 11, 25));
  EXPECT_FALSE(jakarta.open);
  ASSERT_TRUE(jakarta.closing_time.has_value());
  EXPECT_EQ(*jakarta.closing_time, Utc(2026, 11, 25, 9, 0));
  // One minute before local midnight it is still Tuesday.
  EXPECT_EQ(
      OfficeNowAt(TestOffice(), Zone("Asia/Jakarta"), Utc(2026, 11, 24, 16, 59))
          .local_date,
      absl::CivilDay(2026, 11, 24));
  // WITA and WIT reach the next day one and two hours earlier.
  EXPECT_EQ(OfficeNowAt(TestOffice("Asia/Makassar"), Zone("Asia/Makassar"),
                        Utc(2026, 11, 24, 16, 30))
                .local_date,
            absl::CivilDay(2026, 11, 25));
  EXPECT_EQ(OfficeNowAt(TestOffice("Asia/Jayapura"), Zone("Asia/Jayapura"),
                        Utc(2026, 11, 24, 15, 30))
                .local_date,
            absl::CivilDay(2026, 11, 25));
  EXPECT_EQ(OfficeNowAt(TestOffice("Asia/Jayapura"), Zone("Asia/Jayapura"),
                        Utc(2026, 11, 24, 14, 59))
                .local_date,
            absl::CivilDay(2026, 11, 24));
}

TEST(OfficeNowAtTest, OpenInsideIntervalsOnly) {
  const Office office = TestOffice();
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  // Wednesday 2026-11-25, WIB = UTC+7.
  EXPECT_FALSE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 0, 59)).open);
  EXPECT_TRUE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 1, 0)).open);
  EXPECT_TRUE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 4, 59)).open);
  EXPECT_FALSE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 5, 30)).open);
  EXPECT_TRUE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 6, 0)).open);
  EXPECT_FALSE(OfficeNowAt(office, zone, Utc(2026, 11, 25, 9, 0)).open);
  // The closing time is the end of the last interval, also during lunch.
  EXPECT_EQ(*OfficeNowAt(office, zone, Utc(2026, 11, 25, 5, 30)).closing_time,
            Utc(2026, 11, 25, 9, 0));
  // Friday closes at 16:00 after the long break too.
  EXPECT_EQ(*OfficeNowAt(office, zone, Utc(2026, 11, 27, 2, 0)).closing_time,
            Utc(2026, 11, 27, 9, 0));
}

TEST(NextOpeningTest, NextIntervalStartSkippingLunchWeekendsAndHolidays) {
  const Office office = TestOffice();
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  // Wednesday before opening, during lunch, after closing.
  EXPECT_EQ(NextOpening(office, zone, Utc(2026, 11, 25, 0, 0)),
            Utc(2026, 11, 25, 1, 0));
  EXPECT_EQ(NextOpening(office, zone, Utc(2026, 11, 25, 5, 30)),
            Utc(2026, 11, 25, 6, 0));
  EXPECT_EQ(NextOpening(office, zone, Utc(2026, 11, 25, 9, 0)),
            Utc(2026, 11, 26, 1, 0));
  // Friday afternoon: Monday 08:00 WIB.
  EXPECT_EQ(NextOpening(office, zone, Utc(2026, 11, 27, 9, 30)),
            Utc(2026, 11, 30, 1, 0));
  // Thursday 2026-12-24 evening: Friday the 25th is a holiday, so Monday.
  EXPECT_EQ(NextOpening(office, zone, Utc(2026, 12, 24, 10, 0)),
            Utc(2026, 12, 28, 1, 0));
  // An office with no hours never opens.
  Office never;
  never.set_time_zone("Asia/Jakarta");
  EXPECT_FALSE(NextOpening(never, zone, Utc(2026, 11, 25, 0, 0)).has_value());
}

TEST(OfficeNowAtTest, ClosedDayHasNoClosingTime) {
  const OfficeNow saturday =
      OfficeNowAt(TestOffice(), Zone("Asia/Jakarta"), Utc(2026, 11, 28, 3, 0));
  EXPECT_FALSE(saturday.open);
  EXPECT_FALSE(saturday.closing_time.has_value());
  const OfficeNow holiday =
      OfficeNowAt(TestOffice(), Zone("Asia/Jakarta"), Utc(2026, 12, 25, 3, 0));
  EXPECT_EQ(holiday.local_date, absl::CivilDay(2026, 12, 25));
  EXPECT_FALSE(holiday.open);
  EXPECT_FALSE(holiday.closing_time.has_value());
}

TEST(OfficeNowAtTest, MidnightClose) {
  const Office office = NightOffice();
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  // Sunday 23:59 WIB: open, closes at Monday 00:00 WIB.
  const OfficeNow late = OfficeNowAt(office, zone, Utc(2026, 11, 29, 16, 59));
  EXPECT_TRUE(late.open);
  EXPECT_EQ(late.local_date, absl::CivilDay(2026, 11, 29));
  EXPECT_EQ(*late.closing_time, Utc(2026, 11, 29, 17, 0));
  // Monday 00:00 WIB: a new local day on which the office does not open.
  const OfficeNow monday = OfficeNowAt(office, zone, Utc(2026, 11, 29, 17, 0));
  EXPECT_FALSE(monday.open);
  EXPECT_EQ(monday.local_date, absl::CivilDay(2026, 11, 30));
  EXPECT_FALSE(monday.closing_time.has_value());
}

TEST(LocalDateTest, KeysAndConversions) {
  EXPECT_EQ(DateKey(absl::CivilDay(2026, 11, 24)), "20261124");
  EXPECT_EQ(DateKey(absl::CivilDay(2027, 1, 5)), "20270105");
  const auto date = ToLocalDate(absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(date.year(), 2028);
  EXPECT_EQ(date.month(), 2);
  EXPECT_EQ(date.day(), 29);
  EXPECT_EQ(*FromLocalDate("date", date), absl::CivilDay(2028, 2, 29));
}

TEST(LocalDateTest, FromLocalDateRejectsUnrealDates) {
  auto date = [](int y, int m, int d) {
    prima::common::v1::LocalDate date;
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    return date;
  };
  const auto invalid = StatusIs(absl::StatusCode::kInvalidArgument,
                                "date: must be a real date in 2000-2100");
  EXPECT_TRUE(FromLocalDate("date", date(2000, 1, 1)).ok());
  EXPECT_TRUE(FromLocalDate("date", date(2100, 12, 31)).ok());
  EXPECT_THAT(FromLocalDate("date", date(2026, 2, 29)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(2026, 4, 31)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(2026, 13, 1)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(2026, 0, 1)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(1999, 12, 31)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(2101, 1, 1)).status(), invalid);
  EXPECT_THAT(FromLocalDate("date", date(0, 0, 0)).status(), invalid);
  EXPECT_THAT(FromLocalDate("request.date", date(2026, 2, 30)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "request.date: "));
}

// ---- tickets ----

TEST(TicketNumberTest, PadsToThreeDigits) {
  EXPECT_EQ(TicketNumber("A", 1), "A-001");
  EXPECT_EQ(TicketNumber("A", 17), "A-017");
  EXPECT_EQ(TicketNumber("B", 999), "B-999");
  EXPECT_EQ(TicketNumber("A", 1234), "A-1234");
  EXPECT_EQ(TicketNumber("Z", kMaxTicketsPerDay), "Z-9999");
}

TEST(CallOrderTest, GroupsAndOrder) {
  EXPECT_EQ(GroupOf(v1::PRIORITY_CLASS_ELDERLY), CallGroup::kPriority);
  EXPECT_EQ(GroupOf(v1::PRIORITY_CLASS_DISABLED), CallGroup::kPriority);
  EXPECT_EQ(GroupOf(v1::PRIORITY_CLASS_PREGNANT), CallGroup::kPriority);
  EXPECT_EQ(GroupOf(v1::PRIORITY_CLASS_APPOINTMENT), CallGroup::kAppointment);
  EXPECT_EQ(GroupOf(v1::PRIORITY_CLASS_REGULAR), CallGroup::kRegular);
  EXPECT_EQ(GroupKeyPart(CallGroup::kPriority), "p");
  EXPECT_EQ(GroupKeyPart(CallGroup::kAppointment), "a");
  EXPECT_EQ(GroupKeyPart(CallGroup::kRegular), "r");
  EXPECT_THAT(CallOrder(true),
              ElementsAre(CallGroup::kPriority, CallGroup::kAppointment,
                          CallGroup::kRegular));
  EXPECT_THAT(CallOrder(false),
              ElementsAre(CallGroup::kAppointment, CallGroup::kPriority,
                          CallGroup::kRegular));
}

TEST(ValidateIssueClassTest, ChannelMustBeSet) {
  const auto unset =
      StatusIs(absl::StatusCode::kInvalidArgument,
               "channel: must be set (KIOSK, WEB, MOBILE or COUNTER)");
  EXPECT_THAT(
      ValidateIssueClass(v1::CHANNEL_UNSPECIFIED, v1::PRIORITY_CLASS_REGULAR)
          .status(),
      unset);
  EXPECT_THAT(ValidateIssueClass(static_cast<v1::Channel>(99),
                                 v1::PRIORITY_CLASS_REGULAR)
                  .status(),
              unset);
}

TEST(ValidateIssueClassTest, ClassDefaultsAndRefusals) {
  EXPECT_EQ(
      *ValidateIssueClass(v1::CHANNEL_KIOSK, v1::PRIORITY_CLASS_UNSPECIFIED),
      v1::PRIORITY_CLASS_REGULAR);
  EXPECT_EQ(
      *ValidateIssueClass(v1::CHANNEL_COUNTER, v1::PRIORITY_CLASS_PREGNANT),
      v1::PRIORITY_CLASS_PREGNANT);
  EXPECT_EQ(*ValidateIssueClass(v1::CHANNEL_MOBILE, v1::PRIORITY_CLASS_ELDERLY),
            v1::PRIORITY_CLASS_ELDERLY);
  EXPECT_THAT(
      ValidateIssueClass(v1::CHANNEL_WEB, v1::PRIORITY_CLASS_APPOINTMENT)
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "priority_class: APPOINTMENT tickets come from CheckIn"));
  EXPECT_THAT(
      ValidateIssueClass(v1::CHANNEL_WEB, static_cast<v1::PriorityClass>(42))
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "priority_class: "));
}

// ---- appointments ----

TEST(AppointmentSettingsTest, DefaultsFillZeros) {
  const AppointmentSettings filled = WithDefaults({}, false);
  EXPECT_EQ(filled.slot_minutes(), 30);
  EXPECT_EQ(filled.capacity_per_slot(), 2);
  EXPECT_EQ(filled.booking_horizon_days(), 14);
  EXPECT_EQ(filled.check_in_grace_minutes(), 15);
  // An explicit capacity 0 (appointments off) is kept.
  EXPECT_EQ(WithDefaults({}, true).capacity_per_slot(), 0);
  AppointmentSettings set;
  set.set_slot_minutes(20);
  set.set_capacity_per_slot(5);
  set.set_booking_horizon_days(30);
  set.set_check_in_grace_minutes(10);
  const AppointmentSettings kept = WithDefaults(set, true);
  EXPECT_EQ(kept.slot_minutes(), 20);
  EXPECT_EQ(kept.capacity_per_slot(), 5);
  EXPECT_EQ(kept.booking_horizon_days(), 30);
  EXPECT_EQ(kept.check_in_grace_minutes(), 10);
}

TEST(AppointmentSettingsTest, Ranges) {
  const AppointmentSettings defaults = WithDefaults({}, false);
  EXPECT_TRUE(ValidateAppointmentSettings(defaults).ok());
  auto with = [&](auto setter, int value) {
    AppointmentSettings s = defaults;
    (s.*setter)(value);
    return ValidateAppointmentSettings(s);
  };
  const auto invalid = [](const char* prefix) {
    return StatusIs(absl::StatusCode::kInvalidArgument, prefix);
  };
  EXPECT_TRUE(with(&AppointmentSettings::set_slot_minutes, 5).ok());
  EXPECT_TRUE(with(&AppointmentSettings::set_slot_minutes, 240).ok());
  EXPECT_THAT(with(&AppointmentSettings::set_slot_minutes, 4),
              invalid("settings.slot_minutes: "));
  EXPECT_THAT(with(&AppointmentSettings::set_slot_minutes, 241),
              invalid("settings.slot_minutes: "));
  EXPECT_TRUE(with(&AppointmentSettings::set_capacity_per_slot, 0).ok());
  EXPECT_TRUE(with(&AppointmentSettings::set_capacity_per_slot, 1000).ok());
  EXPECT_THAT(with(&AppointmentSettings::set_capacity_per_slot, -1),
              invalid("settings.capacity_per_slot: "));
  EXPECT_THAT(with(&AppointmentSettings::set_capacity_per_slot, 1001),
              invalid("settings.capacity_per_slot: "));
  EXPECT_THAT(with(&AppointmentSettings::set_booking_horizon_days, 0),
              invalid("settings.booking_horizon_days: "));
  EXPECT_THAT(with(&AppointmentSettings::set_booking_horizon_days, 91),
              invalid("settings.booking_horizon_days: "));
  EXPECT_TRUE(with(&AppointmentSettings::set_booking_horizon_days, 90).ok());
  EXPECT_TRUE(with(&AppointmentSettings::set_check_in_grace_minutes, 0).ok());
  EXPECT_THAT(with(&AppointmentSettings::set_check_in_grace_minutes, 121),
              invalid("settings.check_in_grace_minutes: "));
  EXPECT_THAT(with(&AppointmentSettings::set_check_in_grace_minutes, -1),
              invalid("settings.check_in_grace_minutes: "));
}

TEST(SlotsOfTest, WholeSlotsPerInterval) {
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  // Wednesday: 240 + 180 minutes -> 8 + 6 half-hour slots.
  const auto half_hours =
      SlotsOf(TestOffice(), zone, absl::CivilDay(2026, 11, 25), 30);
  ASSERT_EQ(half_hours.size(), 14u);
  EXPECT_EQ(half_hours[0].start, Utc(2026, 11, 25, 1, 0));
  EXPECT_EQ(half_hours[0].end, Utc(2026, 11, 25, 1, 30));
  EXPECT_EQ(half_hours[7].end, Utc(2026, 11, 25, 5, 0));    // 12:00
  EXPECT_EQ(half_hours[8].start, Utc(2026, 11, 25, 6, 0));  // 13:00
  // 45-minute slots: 240 -> 5 (15 left over), 180 -> 4.
  const auto long_slots =
      SlotsOf(TestOffice(), zone, absl::CivilDay(2026, 11, 25), 45);
  ASSERT_EQ(long_slots.size(), 9u);
  EXPECT_EQ(long_slots[4].start, Utc(2026, 11, 25, 4, 0));  // 11:00-11:45
  EXPECT_EQ(long_slots[4].end, Utc(2026, 11, 25, 4, 45));
  EXPECT_EQ(long_slots[5].start, Utc(2026, 11, 25, 6, 0));  // not 11:45
  // Friday 210 + 150 minutes with 45-minute slots: 4 + 3.
  EXPECT_EQ(
      SlotsOf(TestOffice(), zone, absl::CivilDay(2026, 11, 27), 45).size(), 7u);
  EXPECT_TRUE(
      SlotsOf(TestOffice(), zone, absl::CivilDay(2026, 12, 25), 30).empty());
  EXPECT_TRUE(
      SlotsOf(TestOffice(), zone, absl::CivilDay(2026, 11, 25), 0).empty());
}

// The day of a timestamp of extreme int64 seconds: enumerating its slots used
// to never end (infinite bounds); it ends, with at most a day's slots.
TEST(SlotsOfTest, EndsOnTheDaysOfExtremeTimestamps) {
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  for (int64_t seconds : {std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max()}) {
    const absl::CivilDay day =
        absl::ToCivilDay(absl::FromUnixSeconds(seconds), zone);
    EXPECT_LE(SlotsOf(TestOffice(), zone, day, 30).size(), 48u) << day;
  }
}

class CheckBookableSlotTest : public ::testing::Test {
 protected:
  CheckBookableSlotTest() : settings_(WithDefaults({}, false)) {}

  absl::StatusOr<Interval> Check(absl::Time slot_start) {
    return CheckBookableSlot(office_, zone_, slot_start, now_, settings_);
  }

  Office office_ = TestOffice();
  absl::TimeZone zone_ = Zone("Asia/Jakarta");
  // Tuesday 2026-11-24 10:00 WIB.
  absl::Time now_ = Utc(2026, 11, 24, 3, 0);
  AppointmentSettings settings_;
};

TEST_F(CheckBookableSlotTest, AcceptsAFutureSlot) {
  const absl::StatusOr<Interval> slot = Check(Utc(2026, 11, 25, 2, 0));
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(slot->start, Utc(2026, 11, 25, 2, 0));
  EXPECT_EQ(slot->end, Utc(2026, 11, 25, 2, 30));
  EXPECT_TRUE(Check(Utc(2026, 11, 24, 3, 30)).ok());  // later today
}

TEST_F(CheckBookableSlotTest, UnsetSettingsMeanTheDefaults) {
  settings_ = AppointmentSettings();
  EXPECT_EQ(Check(Utc(2026, 11, 25, 2, 30))->end, Utc(2026, 11, 25, 3, 0));
  EXPECT_TRUE(Check(Utc(2026, 12, 8, 1, 0)).ok());
  EXPECT_EQ(Check(Utc(2026, 12, 9, 1, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CheckBookableSlotTest, RejectsWhatIsNotASlotStart) {
  const auto not_a_slot =
      StatusIs(absl::StatusCode::kInvalidArgument, "slot_start_time: ");
  EXPECT_THAT(Check(Utc(2026, 11, 25, 2, 10)).status(), not_a_slot);
  EXPECT_THAT(Check(Utc(2026, 11, 25, 5, 0)).status(), not_a_slot);  // 12:00
  EXPECT_THAT(Check(Utc(2026, 11, 25, 9, 0)).status(), not_a_slot);  // 16:00
  EXPECT_THAT(Check(Utc(2026, 11, 28, 2, 0)).status(), not_a_slot);  // Sat
  settings_.set_booking_horizon_days(90);
  EXPECT_THAT(Check(Utc(2026, 12, 25, 2, 0)).status(), not_a_slot);  // holiday
}

TEST_F(CheckBookableSlotTest, RejectsPastAndStartedSlots) {
  const auto past =
      StatusIs(absl::StatusCode::kFailedPrecondition, "slot_start_time: ");
  EXPECT_THAT(Check(Utc(2026, 11, 24, 2, 0)).status(), past);  // 09:00 today
  EXPECT_THAT(Check(Utc(2026, 11, 24, 3, 0)).status(), past);  // starts now
  EXPECT_THAT(Check(Utc(2026, 11, 23, 2, 0)).status(), past);  // yesterday
}

TEST_F(CheckBookableSlotTest, RejectsSlotsBeyondTheHorizon) {
  // 14 days after Tuesday 2026-11-24 is Tuesday 2026-12-08.
  EXPECT_TRUE(Check(Utc(2026, 12, 8, 8, 30)).ok());
  EXPECT_THAT(
      Check(Utc(2026, 12, 9, 1, 0)).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, "slot_start_time: "));
  settings_.set_booking_horizon_days(1);
  EXPECT_TRUE(Check(Utc(2026, 11, 25, 8, 30)).ok());
  EXPECT_EQ(Check(Utc(2026, 11, 26, 1, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CheckBookableSlotTest, SlotDateIsTheOfficesLocalDate) {
  // In WIT, Wednesday's 08:00 slot starts on Tuesday 23:00Z; with a one-day
  // horizon from Tuesday it is bookable although Thursday's is not.
  office_ = TestOffice("Asia/Jayapura");
  zone_ = Zone("Asia/Jayapura");
  settings_.set_booking_horizon_days(1);
  EXPECT_TRUE(Check(Utc(2026, 11, 24, 23, 0)).ok());
  EXPECT_EQ(Check(Utc(2026, 11, 25, 23, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CheckInAtTest, OnTimeLateEarlyAndOtherDays) {
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  const absl::Time slot = Utc(2026, 11, 25, 2, 0);  // Wednesday 09:00 WIB
  auto at = [&](absl::Time now) { return CheckInAt(slot, now, zone, 15); };
  EXPECT_EQ(*at(slot - absl::Minutes(60)), CheckInKind::kOnTime);
  EXPECT_EQ(*at(slot), CheckInKind::kOnTime);
  EXPECT_EQ(*at(slot + absl::Minutes(15)), CheckInKind::kOnTime);
  EXPECT_EQ(*at(slot + absl::Minutes(15) + absl::Seconds(1)),
            CheckInKind::kLate);
  EXPECT_EQ(*at(slot + absl::Hours(6)), CheckInKind::kLate);  // 15:00
  EXPECT_EQ(at(slot - absl::Minutes(61)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(at(slot - absl::Hours(24)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(at(slot + absl::Hours(24)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // No grace: one second after the start is late.
  EXPECT_EQ(*CheckInAt(slot, slot + absl::Seconds(1), zone, 0),
            CheckInKind::kLate);
}

TEST(CheckInAtTest, ASlotJustAfterMidnightRefusesYesterdaysCheckIn) {
  const absl::TimeZone zone = Zone("Asia/Jakarta");
  const absl::Time slot = Utc(2026, 11, 24, 17, 30);  // Wed 00:30 WIB
  // 45 minutes before is within the hour, but still Tuesday locally.
  EXPECT_EQ(CheckInAt(slot, slot - absl::Minutes(45), zone, 15).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*CheckInAt(slot, slot - absl::Minutes(30), zone, 15),
            CheckInKind::kOnTime);
}

// ---- the wait estimate ----

WaitInputs Inputs(int64_t ahead, int64_t open, int64_t busy,
                  double recent_seconds, int64_t samples, int target) {
  WaitInputs inputs;
  inputs.ahead = ahead;
  inputs.open_counters = open;
  inputs.busy_counters = busy;
  inputs.recent_service_seconds = recent_seconds;
  inputs.samples = samples;
  inputs.target_waiting_minutes = target;
  return inputs;
}

TEST(EstimateWaitTest, ZeroWhenNextAtAnIdleCounter) {
  EXPECT_EQ(EstimateWaitSeconds(Inputs(0, 1, 0, 300, 20, 10)), 0);
  EXPECT_EQ(EstimateWaitSeconds(Inputs(1, 3, 1, 300, 20, 10)), 0);
  // Every counter busy: the next one to free up.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(0, 2, 2, 300, 20, 10)), 150);
  EXPECT_EQ(EstimateWaitSeconds(Inputs(2, 3, 1, 300, 20, 10)), 100);
}

TEST(EstimateWaitTest, UsesHistoryAndCounters) {
  // 4 tickets to free up for, 360 s each, 2 counters.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(3, 2, 2, 360, 10, 10)), 720);
  // Busy counters beyond the open ones (a paused counter finishing its
  // ticket) count as busy open ones.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(3, 2, 5, 360, 10, 10)), 720);
}

TEST(EstimateWaitTest, FallsBackToTheTargetWithoutHistory) {
  EXPECT_EQ(EstimateWaitSeconds(Inputs(2, 1, 1, 0, 0, 10)), 1800);
  // A single sample is blended with the target: 0.2 × 360 + 0.8 × 600.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(0, 1, 1, 360, 1, 10)), 552);
  // From 5 samples on the history alone counts.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(0, 1, 1, 360, 5, 10)), 360);
  // No target either: 10 minutes per ticket.
  EXPECT_EQ(EstimateWaitSeconds(Inputs(1, 1, 1, 0, 0, 0)), 1200);
}

TEST(EstimateWaitTest, NoOpenCounterAssumesOne) {
  EXPECT_EQ(EstimateWaitSeconds(Inputs(1, 0, 0, 300, 20, 10)), 600);
  EXPECT_EQ(EstimateWaitSeconds(Inputs(-3, -1, -1, -5, -2, -10)), 600);
}

TEST(EstimateWaitTest, CappedAtOneDay) {
  EXPECT_EQ(EstimateWaitSeconds(Inputs(9999, 1, 1, 14400, 30, 10)), 86400);
  EXPECT_EQ(EstimateWaitSeconds(Inputs(3, 1, 1, 1e300, 30, 10)), 86400);
}

TEST(EstimateWaitTest, MonotonicInAhead) {
  for (int open : {0, 1, 3}) {
    for (int busy = 0; busy <= open; ++busy) {
      for (int samples : {0, 2, 30}) {
        int64_t previous = -1;
        for (int ahead = 0; ahead < 60; ++ahead) {
          const int64_t estimate =
              EstimateWaitSeconds(Inputs(ahead, open, busy, 420, samples, 15));
          EXPECT_GE(estimate, previous)
              << "ahead " << ahead << " open " << open << " busy " << busy;
          previous = estimate;
        }
        EXPECT_GT(previous, 0);
      }
    }
  }
}

TEST(EstimateWaitTest, DecreasingInOpenCounters) {
  for (int ahead : {0, 5, 40}) {
    int64_t previous = EstimateWaitSeconds(Inputs(ahead, 1, 1, 420, 30, 15));
    for (int open = 2; open <= 8; ++open) {
      const int64_t all_busy =
          EstimateWaitSeconds(Inputs(ahead, open, open, 420, 30, 15));
      EXPECT_LT(all_busy, previous) << "ahead " << ahead << " open " << open;
      previous = all_busy;
      // An idle counter never makes the wait longer.
      EXPECT_LE(EstimateWaitSeconds(Inputs(ahead, open, open - 1, 420, 30, 15)),
                all_busy);
    }
  }
}

TEST(NaiveWaitTest, PositionTimesTarget) {
  EXPECT_EQ(NaiveWaitSeconds(Inputs(0, 3, 0, 300, 20, 10)), 600);
  EXPECT_EQ(NaiveWaitSeconds(Inputs(4, 3, 3, 300, 20, 10)), 3000);
  EXPECT_EQ(NaiveWaitSeconds(Inputs(4, 3, 3, 300, 20, 0)), 0);
}

TEST(WaitSimulationTest, EstimateBeatsNaiveInTheFasterOffice) {
  // The documented "faster" scenario (docs/queue.md): the directory says 10
  // minutes per ticket, the office really takes 6, with 4 counters (one
  // opening late, one on lunch break), priority tickets and no-shows.
  SimulationConfig config;
  config.seed = 7;
  config.target_minutes = 10;
  config.mean_service_minutes = 6;
  const SimulationResult result = SimulateDays(config, 5);
  ASSERT_GT(result.tickets, 500);
  EXPECT_LT(result.EstimateMaeSeconds() * 4, result.NaiveMaeSeconds());
  EXPECT_LT(result.EstimateMaeSeconds(), result.PerCounterMaeSeconds());
  EXPECT_LT(result.EstimateMaeSeconds(), 8 * 60);
  EXPECT_GT(result.EstimateWithin5MinutesShare(),
            result.NaiveWithin5MinutesShare());
  // Deterministic: the same seed gives the same day.
  const SimulationResult again = SimulateDays(config, 5);
  EXPECT_EQ(again.tickets, result.tickets);
  EXPECT_EQ(again.estimate_abs_error_seconds,
            result.estimate_abs_error_seconds);
}

TEST(WaitSimulationTest, SlowerOfficeToo) {
  SimulationConfig config;
  config.seed = 11;
  config.mean_service_minutes = 14;
  const SimulationResult result = SimulateDays(config, 5);
  ASSERT_GT(result.tickets, 100);
  EXPECT_LT(result.EstimateMaeSeconds() * 2, result.NaiveMaeSeconds());
}

// ---- statistics ----

TEST(WaitBucketTest, MinuteBuckets) {
  EXPECT_EQ(WaitBucket(absl::ZeroDuration()), 0);
  EXPECT_EQ(WaitBucket(absl::Seconds(59)), 0);
  EXPECT_EQ(WaitBucket(absl::Seconds(60)), 1);
  EXPECT_EQ(WaitBucket(absl::Seconds(-30)), 0);
  EXPECT_EQ(WaitBucket(absl::Minutes(239) + absl::Seconds(59)), 239);
  EXPECT_EQ(WaitBucket(absl::Minutes(240)), 240);
  EXPECT_EQ(WaitBucket(absl::Hours(10)), kWaitBuckets - 1);
}

TEST(HistogramQuantileTest, EmptyIsZero) {
  EXPECT_EQ(HistogramQuantileSeconds({}, 0.5), 0);
  EXPECT_EQ(
      HistogramQuantileSeconds(std::vector<int64_t>(kWaitBuckets, 0), 0.9), 0);
}

TEST(HistogramQuantileTest, InterpolatesInsideOneBucket) {
  std::vector<int64_t> buckets(kWaitBuckets, 0);
  buckets[5] = 10;  // all waits between 5 and 6 minutes
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.5), 330);
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.1), 306);
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.9), 354);
}

TEST(HistogramQuantileTest, AcrossBuckets) {
  std::vector<int64_t> buckets(kWaitBuckets, 0);
  buckets[0] = 2;
  buckets[2] = 2;
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.5), 60);
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.75), 150);
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.25), 30);
}

TEST(HistogramQuantileTest, OverflowBucketReportsItsLowerEdge) {
  std::vector<int64_t> buckets(kWaitBuckets, 0);
  buckets[1] = 9;
  buckets[kWaitBuckets - 1] = 1;
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.9), 120);
  EXPECT_DOUBLE_EQ(HistogramQuantileSeconds(buckets, 0.95),
                   (kWaitBuckets - 1) * 60.0);
}

}  // namespace
}  // namespace prima::queue
