#include "services/queue/queue_rules.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/validation.h"

namespace prima::queue {
namespace {

using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::OpeningInterval;
using ::prima::queue::v1::AppointmentSettings;
using ::prima::queue::v1::Channel;
using ::prima::queue::v1::PriorityClass;

// Appointment settings: defaults and ranges of queue.proto.
constexpr int kDefaultSlotMinutes = 30;
constexpr int kDefaultCapacityPerSlot = 2;
constexpr int kDefaultBookingHorizonDays = 14;
constexpr int kDefaultCheckInGraceMinutes = 15;

// How early before its slot an appointment may check in.
constexpr absl::Duration kEarliestCheckIn = absl::Minutes(60);

// The wait estimate's prior per-ticket time for a service whose directory
// entry has no target.
constexpr double kDefaultTicketSeconds = 10 * 60;
// Completions after which the measured mean alone is trusted; before, it is
// blended with the target (one or two durations are mostly noise).
constexpr double kTrustedSamples = 5;
// The longest estimate given: waiting tickets expire at closing anyway, and a
// corrupt mean must not overflow the proto's int32.
constexpr double kMaxEstimateSeconds = 24 * 60 * 60;

// The proto weekday (MONDAY=1..SUNDAY=7) of a civil day.
int ProtoWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
    case absl::Weekday::sunday:
      return 7;
  }
  return 0;
}

bool IsHoliday(const Office& office, absl::CivilDay day) {
  for (const auto& holiday : office.holidays()) {
    if (holiday.year() == day.year() && holiday.month() == day.month() &&
        holiday.day() == day.day()) {
      return true;
    }
  }
  return false;
}

absl::Time LocalMinute(const absl::TimeZone& zone, absl::CivilDay day,
                       int minute) {
  // Indonesia has no daylight saving time: every civil minute exists once.
  return absl::FromCivil(absl::CivilMinute(day) + minute, zone);
}

absl::CivilDay LocalDay(const absl::TimeZone& zone, absl::Time t) {
  return absl::ToCivilDay(t, zone);
}

absl::Status CheckRange(absl::string_view field, int value, int min, int max) {
  if (value < min || value > max) {
    return Invalid(
        absl::StrCat("settings.", field),
        absl::StrCat("must be between ", min, " and ", max, "; got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- the office's day ----

std::vector<Interval> OpeningIntervals(const Office& office,
                                       const absl::TimeZone& zone,
                                       absl::CivilDay day) {
  std::vector<Interval> intervals;
  if (IsHoliday(office, day)) return intervals;
  const int weekday = ProtoWeekday(day);
  for (const OpeningInterval& hours : office.opening_hours()) {
    if (static_cast<int>(hours.weekday()) != weekday) continue;
    if (hours.close_minute() <= hours.open_minute()) continue;
    intervals.push_back({LocalMinute(zone, day, hours.open_minute()),
                         LocalMinute(zone, day, hours.close_minute())});
  }
  std::sort(
      intervals.begin(), intervals.end(),
      [](const Interval& a, const Interval& b) { return a.start < b.start; });
  return intervals;
}

OfficeNow OfficeNowAt(const Office& office, const absl::TimeZone& zone,
                      absl::Time now) {
  OfficeNow result;
  result.local_date = LocalDay(zone, now);
  const std::vector<Interval> today =
      OpeningIntervals(office, zone, result.local_date);
  for (const Interval& interval : today) {
    if (interval.start <= now && now < interval.end) result.open = true;
    if (!result.closing_time || *result.closing_time < interval.end) {
      result.closing_time = interval.end;
    }
  }
  return result;
}

std::optional<absl::Time> NextOpening(const Office& office,
                                      const absl::TimeZone& zone,
                                      absl::Time now) {
  constexpr int kDaysAhead = 31;
  const absl::CivilDay today = LocalDay(zone, now);
  for (int d = 0; d <= kDaysAhead; ++d) {
    std::optional<absl::Time> first;
    for (const Interval& interval : OpeningIntervals(office, zone, today + d)) {
      if (interval.start > now && (!first || interval.start < *first)) {
        first = interval.start;
      }
    }
    if (first) return first;
  }
  return std::nullopt;
}

std::string DateKey(absl::CivilDay day) {
  return absl::StrFormat("%04d%02d%02d", day.year(), day.month(), day.day());
}

// ---- tickets ----

std::string TicketNumber(absl::string_view prefix, int64_t sequence) {
  return absl::StrFormat("%s-%03d", prefix, sequence);
}

CallGroup GroupOf(PriorityClass priority_class) {
  switch (priority_class) {
    case v1::PRIORITY_CLASS_ELDERLY:
    case v1::PRIORITY_CLASS_DISABLED:
    case v1::PRIORITY_CLASS_PREGNANT:
      return CallGroup::kPriority;
    case v1::PRIORITY_CLASS_APPOINTMENT:
      return CallGroup::kAppointment;
    default:
      return CallGroup::kRegular;
  }
}

absl::string_view GroupKeyPart(CallGroup group) {
  switch (group) {
    case CallGroup::kPriority:
      return "p";
    case CallGroup::kAppointment:
      return "a";
    case CallGroup::kRegular:
      return "r";
  }
  return "r";
}

std::vector<CallGroup> CallOrder(bool priority_counter) {
  if (priority_counter) {
    return {CallGroup::kPriority, CallGroup::kAppointment, CallGroup::kRegular};
  }
  return {CallGroup::kAppointment, CallGroup::kPriority, CallGroup::kRegular};
}

absl::StatusOr<PriorityClass> ValidateIssueClass(Channel channel,
                                                 PriorityClass priority_class) {
  if (channel == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(channel)) {
    return Invalid("channel", "must be set (KIOSK, WEB, MOBILE or COUNTER)");
  }
  if (priority_class == v1::PRIORITY_CLASS_UNSPECIFIED) {
    return v1::PRIORITY_CLASS_REGULAR;
  }
  if (priority_class == v1::PRIORITY_CLASS_APPOINTMENT) {
    return Invalid("priority_class", "APPOINTMENT tickets come from CheckIn");
  }
  if (!v1::PriorityClass_IsValid(priority_class)) {
    return Invalid("priority_class",
                   absl::StrCat("must be REGULAR, ELDERLY, DISABLED or "
                                "PREGNANT (or unset for REGULAR); got ",
                                static_cast<int>(priority_class)));
  }
  return priority_class;
}

// ---- appointments ----

AppointmentSettings WithDefaults(AppointmentSettings settings,
                                 bool explicitly_set) {
  if (settings.slot_minutes() == 0) {
    settings.set_slot_minutes(kDefaultSlotMinutes);
  }
  if (settings.capacity_per_slot() == 0 && !explicitly_set) {
    settings.set_capacity_per_slot(kDefaultCapacityPerSlot);
  }
  if (settings.booking_horizon_days() == 0) {
    settings.set_booking_horizon_days(kDefaultBookingHorizonDays);
  }
  if (settings.check_in_grace_minutes() == 0) {
    settings.set_check_in_grace_minutes(kDefaultCheckInGraceMinutes);
  }
  return settings;
}

absl::Status ValidateAppointmentSettings(const AppointmentSettings& settings) {
  if (absl::Status s =
          CheckRange("slot_minutes", settings.slot_minutes(), 5, 240);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("capacity_per_slot",
                                  settings.capacity_per_slot(), 0, 1000);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("booking_horizon_days",
                                  settings.booking_horizon_days(), 1, 90);
      !s.ok()) {
    return s;
  }
  return CheckRange("check_in_grace_minutes", settings.check_in_grace_minutes(),
                    0, 120);
}

std::vector<Interval> SlotsOf(const Office& office, const absl::TimeZone& zone,
                              absl::CivilDay day, int slot_minutes) {
  std::vector<Interval> slots;
  if (slot_minutes <= 0) return slots;
  const absl::Duration length = absl::Minutes(slot_minutes);
  for (const Interval& interval : OpeningIntervals(office, zone, day)) {
    // A day beyond absl::Time's civil range has infinite bounds: no slots,
    // rather than a loop that never ends (requests bound their timestamps
    // to 0001..9999, services/common/request_bounds.h).
    if (interval.start == absl::InfinitePast() ||
        interval.end == absl::InfiniteFuture()) {
      continue;
    }
    for (absl::Time start = interval.start; start + length <= interval.end;
         start += length) {
      slots.push_back({start, start + length});
    }
  }
  return slots;
}

absl::StatusOr<Interval> CheckBookableSlot(
    const Office& office, const absl::TimeZone& zone, absl::Time slot_start,
    absl::Time now, const AppointmentSettings& stored_settings) {
  // Unset fields mean the defaults (capacity does not matter here).
  const AppointmentSettings settings = WithDefaults(stored_settings, true);
  const absl::CivilDay day = LocalDay(zone, slot_start);
  const std::vector<Interval> slots =
      SlotsOf(office, zone, day, settings.slot_minutes());
  const auto slot =
      std::find_if(slots.begin(), slots.end(),
                   [&](const Interval& s) { return s.start == slot_start; });
  if (slot == slots.end()) {
    return Invalid("slot_start_time",
                   absl::StrCat("must be the start of one of the office's ",
                                settings.slot_minutes(), "-minute slots on ",
                                absl::FormatCivilTime(day),
                                " (the office may be closed that day)"));
  }
  if (slot_start <= now) {
    return absl::FailedPreconditionError(
        "slot_start_time: the slot has already started");
  }
  const absl::CivilDay today = LocalDay(zone, now);
  if (day - today > settings.booking_horizon_days()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "slot_start_time: ", absl::FormatCivilTime(day),
        " is beyond the booking horizon of ", settings.booking_horizon_days(),
        " days after ", absl::FormatCivilTime(today)));
  }
  return *slot;
}

absl::StatusOr<CheckInKind> CheckInAt(absl::Time slot_start, absl::Time now,
                                      const absl::TimeZone& zone,
                                      int grace_minutes) {
  if (LocalDay(zone, now) != LocalDay(zone, slot_start)) {
    return absl::FailedPreconditionError(
        absl::StrCat("check-in is only possible on the appointment's date, ",
                     absl::FormatCivilTime(LocalDay(zone, slot_start))));
  }
  if (now < slot_start - kEarliestCheckIn) {
    return absl::FailedPreconditionError(
        "check-in opens 60 minutes before the slot start");
  }
  if (now <= slot_start + absl::Minutes(grace_minutes)) {
    return CheckInKind::kOnTime;
  }
  return CheckInKind::kLate;
}

// ---- the wait estimate ----

// Method (docs/queue.md, "Wait estimate"): the ticket is called when a counter
// takes it. Idle open counters take the first tickets at once; every further
// ticket waits for a counter to free up, and c open counters free up about
// once every s / c seconds (s: the mean service time per ticket). So
//   wait = max(0, ahead + 1 - idle) * s / c
// with c = max(open, 1) and idle = open - busy. s is the store's recent mean,
// blended with the directory's target while there are few samples.
int64_t EstimateWaitSeconds(const WaitInputs& inputs) {
  const int64_t open = std::max<int64_t>(inputs.open_counters, 0);
  const int64_t busy = std::clamp<int64_t>(inputs.busy_counters, 0, open);
  const int64_t idle = open - busy;
  const int64_t ahead = std::max<int64_t>(inputs.ahead, 0);
  const int64_t tickets_to_free_up_for = ahead + 1 - idle;
  if (tickets_to_free_up_for <= 0) return 0;

  const double prior = inputs.target_waiting_minutes > 0
                           ? inputs.target_waiting_minutes * 60.0
                           : kDefaultTicketSeconds;
  double per_ticket = prior;
  if (inputs.samples > 0 && inputs.recent_service_seconds > 0) {
    const double trust =
        std::min(static_cast<double>(inputs.samples), kTrustedSamples) /
        kTrustedSamples;
    per_ticket = trust * inputs.recent_service_seconds + (1 - trust) * prior;
  }
  const double counters = static_cast<double>(std::max<int64_t>(open, 1));
  const double estimate =
      static_cast<double>(tickets_to_free_up_for) * per_ticket / counters;
  return std::llround(std::min(estimate, kMaxEstimateSeconds));
}

int64_t NaiveWaitSeconds(const WaitInputs& inputs) {
  const int64_t position = std::max<int64_t>(inputs.ahead, 0) + 1;
  return position * std::max<int64_t>(inputs.target_waiting_minutes, 0) * 60;
}

// ---- statistics ----

int WaitBucket(absl::Duration wait) {
  const int64_t minutes = absl::ToInt64Minutes(wait);  // truncates toward 0
  if (wait < absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(minutes, kWaitBuckets - 1));
}

double HistogramQuantileSeconds(const std::vector<int64_t>& buckets, double q) {
  int64_t total = 0;
  for (int64_t count : buckets) total += std::max<int64_t>(count, 0);
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  int64_t below = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const int64_t count = std::max<int64_t>(buckets[b], 0);
    if (count == 0) continue;
    if (rank <= static_cast<double>(below + count)) {
      // The overflow bucket has no upper edge: report its lower edge ("at
      // least").
      if (static_cast<int>(b) >= kWaitBuckets - 1) return b * 60.0;
      const double within =
          std::clamp((rank - static_cast<double>(below)) / count, 0.0, 1.0);
      return (static_cast<double>(b) + within) * 60.0;
    }
    below += count;
  }
  return static_cast<double>(buckets.size()) * 60.0;  // not reached
}

}  // namespace prima::queue
