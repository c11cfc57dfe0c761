#pragma once

// The queue's domain rules, pure (no gRPC, no Redis): an office's local day and
// opening hours, ticket numbers, the order counters call in, appointment slots
// and check-in, the wait estimate and statistics from histograms.
//
// The ticket state machine itself (WAITING -> CALLED -> SERVING -> COMPLETED,
// NO_SHOW from CALLED, CANCELLED from WAITING, EXPIRED from WAITING, back to
// WAITING on a transfer) is enforced where it must be atomic: in the store's
// Lua scripts (queue_store.cc), which also word its FAILED_PRECONDITION
// errors.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/common/v1/common.pb.h"
#include "prima/queue/v1/queue.pb.h"
#include "services/common/office_time.h"

namespace prima::queue {

// ---- the office's day ----

// A half-open interval of absolute time [start, end).
struct Interval {
  absl::Time start;
  absl::Time end;
};

// The office's opening intervals on one local date, in time order, as
// absolute times; empty when that date is a holiday of the office or its
// weekday has no opening hours.
std::vector<Interval> OpeningIntervals(const prima::catalog::v1::Office& office,
                                       const absl::TimeZone& zone,
                                       absl::CivilDay day);

// What IssueTicket needs to know about "now" at an office.
struct OfficeNow {
  absl::CivilDay local_date;
  bool open = false;  // now is inside one of today's opening intervals
  // The end of today's last opening interval (when waiting tickets expire);
  // unset when the office does not open today.
  std::optional<absl::Time> closing_time;
};
OfficeNow OfficeNowAt(const prima::catalog::v1::Office& office,
                      const absl::TimeZone& zone, absl::Time now);

// When the office next opens after `now` (the start of the first opening
// interval later than now, holidays skipped), looking up to 31 local days
// ahead; nullopt when it does not open in that time.
std::optional<absl::Time> NextOpening(const prima::catalog::v1::Office& office,
                                      const absl::TimeZone& zone,
                                      absl::Time now);

// "20261124": the date part of per-day Redis keys.
std::string DateKey(absl::CivilDay day);

// ---- tickets ----

// Tickets per prefix, office and day; the sequence's limit.
inline constexpr int64_t kMaxTicketsPerDay = 9999;

// "A-017": prefix, "-", the sequence zero-padded to 3 digits (more digits from
// 1000 on).
std::string TicketNumber(absl::string_view prefix, int64_t sequence);

// The call groups, in the order a counter takes them (see CallNext in
// queue.proto). Each waiting ticket sits in exactly one group.
enum class CallGroup {
  kPriority,     // ELDERLY, DISABLED, PREGNANT
  kAppointment,  // APPOINTMENT (called from its slot start on)
  kRegular,      // REGULAR
};
CallGroup GroupOf(prima::queue::v1::PriorityClass priority_class);
// "p", "a", "r": the group's part of a Redis key.
absl::string_view GroupKeyPart(CallGroup group);
// The groups in the order a counter calls them: priority counters take the
// priority group first, other counters take due appointments first; regular
// last. (Transfers to the counter itself and appointments not yet due are
// handled by the store around this order.)
std::vector<CallGroup> CallOrder(bool priority_counter);

// IssueTicket's channel and class checks: channel set; class REGULAR when
// unspecified, APPOINTMENT refused (CheckIn only). INVALID_ARGUMENT naming the
// field.
absl::StatusOr<prima::queue::v1::PriorityClass> ValidateIssueClass(
    prima::queue::v1::Channel channel,
    prima::queue::v1::PriorityClass priority_class);

// ---- appointments ----

// Settings with the defaults of queue.proto filled in where a field is 0
// (capacity 0 is kept only when `explicitly_set`).
prima::queue::v1::AppointmentSettings WithDefaults(
    prima::queue::v1::AppointmentSettings settings, bool explicitly_set);
// INVALID_ARGUMENT naming settings.<field> outside the ranges of queue.proto.
absl::Status ValidateAppointmentSettings(
    const prima::queue::v1::AppointmentSettings& settings);

// The slots of one local date: each opening interval cut into whole slots of
// `slot_minutes` from its start (a remainder shorter than a slot is not a
// slot).
std::vector<Interval> SlotsOf(const prima::catalog::v1::Office& office,
                              const absl::TimeZone& zone, absl::CivilDay day,
                              int slot_minutes);

// Whether a booking for the slot starting at `slot_start` may be made at
// `now`: the slot must be one of SlotsOf its local date, start after `now`, and
// its date be at most `horizon_days` local days after today. Returns the slot
// (INVALID_ARGUMENT naming slot_start_time when not a slot start,
// FAILED_PRECONDITION when past or beyond the horizon).
absl::StatusOr<Interval> CheckBookableSlot(
    const prima::catalog::v1::Office& office, const absl::TimeZone& zone,
    absl::Time slot_start, absl::Time now,
    const prima::queue::v1::AppointmentSettings& settings);

enum class CheckInKind {
  kOnTime,  // APPOINTMENT ticket, waits from the slot start
  kLate,    // beyond the grace period: a REGULAR walk-in from now
};
// FAILED_PRECONDITION when not the slot's local date or more than 60 minutes
// before the slot start.
absl::StatusOr<CheckInKind> CheckInAt(absl::Time slot_start, absl::Time now,
                                      const absl::TimeZone& zone,
                                      int grace_minutes);

// ---- the wait estimate ----

// What the estimate knows, all read from Redis in the same round trip as the
// ticket (so every replica estimates alike).
struct WaitInputs {
  // Tickets that will be called before this one at counters serving its
  // service (position - 1).
  int64_t ahead = 0;
  // OPEN (not paused) counters serving the ticket's service.
  int64_t open_counters = 0;
  // Of those, how many are busy with a CALLED or SERVING ticket now.
  int64_t busy_counters = 0;
  // Recent mean seconds per served ticket at this service (call to
  // completion, an exponentially weighted mean kept by the store); 0 with no
  // history yet.
  double recent_service_seconds = 0;
  // How many completions the mean has seen (0: no history).
  int64_t samples = 0;
  // The service's target waiting minutes from the directory (fallback for a
  // service with no history yet).
  int32_t target_waiting_minutes = 0;
};
// Estimated seconds until the ticket is called (method in docs/queue.md).
int64_t EstimateWaitSeconds(const WaitInputs& inputs);
// The naive estimate the simulation compares against: position × target time.
int64_t NaiveWaitSeconds(const WaitInputs& inputs);
// Weight of a new service duration in the store's exponentially weighted
// mean.
inline constexpr double kServiceMeanWeight = 0.2;

// ---- statistics ----

// Waiting times are counted in a histogram of 1-minute buckets: bucket b holds
// waits in [b, b+1) minutes, the last bucket everything from kWaitBuckets-1 on.
inline constexpr int kWaitBuckets = 241;
int WaitBucket(absl::Duration wait);
// The q-quantile (0 < q < 1) in seconds from bucket counts (index = bucket),
// interpolated linearly inside the bucket; 0 for an empty histogram.
double HistogramQuantileSeconds(const std::vector<int64_t>& buckets, double q);

}  // namespace prima::queue
