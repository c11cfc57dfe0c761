#pragma once

// Redis keys and Lua scripts of the queue. Nothing else knows a key name. Each
// mutation is one EVALSHA of an idempotent script that checks, writes, updates
// the day's statistics, appends its domain event (prima:events:queue) and a
// live-feed entry (prima:queue:live), all atomically. Each read is one command
// or one read-only script.
//
// Keys (every id passed ValidateId first; "prima:queue:" prefix omitted):
//   t:<ticket>                    hash: the ticket (fields in queue_store.cc)
//   w:<office>:<service>:<group>  zset of WAITING ticket ids by wait start
//                                 (group p|a|r, see CallGroup; appointments by
//                                 slot start)
//   wc:<counter>                  zset of tickets transferred to one counter
//   waiting:<office>              hash service -> WAITING tickets
//   expiry                        zset of WAITING ticket ids by expire time
//   seq:<office>:<prefix>:<date>  the day's ticket sequence of one prefix
//   c:<counter>                   hash: the counter's session
//   officer:<officer>             the counter the officer has open
//   open:<office>:<service>       set of OPEN counters serving the service
//   mean:<office>:<service>       hash: the service's recent mean seconds, n
//   calls:<office>                list: the latest calls (board snapshot)
//   st:<office>:<date>:<service|_all>          hash: the day's counters and
//                                               the wait histogram
//   st:<office>:<date>:<service|_all>:counter  hash: <counter>:served|svc
//   st:<office>:<date>:<service|_all>:officer  hash: <officer>:served|svc
//   ap:<appointment>              hash: the appointment
//   slot:<office>:<service>:<start ms>         bookings of one slot
//   settings:<office>:<service>   hash: appointment settings
//   live                          stream feeding WatchTicket / WatchOffice

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "prima/common/v1/common.pb.h"
#include "prima/queue/v1/queue.pb.h"
#include "services/common/clock.h"
#include "services/common/done.h"
#include "services/common/metrics.h"  // QueueWaitingCount
#include "services/common/receipt_keys.h"
#include "services/common/redis_client.h"

namespace prima::queue {

// The region-wide stream every queue script appends a small entry to after a
// change, for the live feeds of every replica. Entry fields:
//   o  office id
//   k  "call" (a call or recall: also n number, c counter id, cn counter
//      name, s service id, r "1" for a recall, ms its time in Unix ms), or
//      "change" (anything that may move positions, estimates or counts of the
//      office)
//   t  the ticket id concerned ("" for counter changes)
inline constexpr char kLiveStreamKey[] = "prima:queue:live";
inline constexpr int64_t kLiveStreamMaxLen = 10000;

// Who acts: for idempotency keys and events.
struct QueueActor {
  std::string subject;     // token `sub` ("" for anonymous callers)
  std::string request_id;  // the mutation's idempotency key (validated)
  std::string request_fingerprint;  // Principal::request_fingerprint
  prima::common::v1::Actor actor;
  // Counted with the mutation (IssueTicket, BookAppointment); see
  // rate_limit.h.
  std::vector<RateCheck> rate_checks;
};

// What proves access to one ticket or appointment (see queue.proto): any one
// of these that matches the stored record.
struct AccessProof {
  std::string secret;        // the receipt secret as given ("" if none)
  std::string subject;       // a citizen token's `sub` ("" if none)
  std::string staff_agency;  // staff: their agency; "*" for region_admin
};

struct IssueParams {
  std::string office_id;
  std::string agency_id;
  std::string service_id;
  std::string ticket_prefix;
  int32_t target_waiting_minutes = 0;
  prima::queue::v1::Channel channel = prima::queue::v1::CHANNEL_UNSPECIFIED;
  prima::queue::v1::PriorityClass priority_class =
      prima::queue::v1::PRIORITY_CLASS_REGULAR;
  absl::CivilDay local_date;
  absl::Time expire_time;       // today's closing time
  std::string citizen_subject;  // "" when anonymous
};

// The office's counters, as CallNext and the counter RPCs need them (from the
// directory).
struct CounterInfo {
  std::string id;
  std::string office_id;
  std::string agency_id;
  std::string name;
  bool priority = false;
  std::vector<std::string> service_ids;
};

enum class CounterChange { kOpen, kClose, kPause, kResume };

enum class TicketAction { kRecall, kNoShow, kStartService };

// Where a transfer goes: exactly one of the two.
struct TransferTarget {
  std::string service_id;  // with its target minutes:
  int32_t target_waiting_minutes = 0;
  std::string counter_id;
};

// BookAppointment's checked request.
struct BookParams {
  std::string office_id;
  std::string agency_id;
  std::string service_id;
  absl::Time slot_start;
  absl::Time slot_end;
  absl::CivilDay local_date;
  int32_t capacity = 0;
  std::string citizen_subject;  // "" when anonymous
};

// CheckIn's ticket, decided by the adapter (queue_rules.h CheckInAt).
struct CheckInParams {
  std::string ticket_prefix;
  int32_t target_waiting_minutes = 0;
  absl::CivilDay local_date;
  absl::Time expire_time;
  bool on_time = false;  // APPOINTMENT from the slot start, else REGULAR now
};

// A service's appointment settings at an office and one day's bookings.
struct SlotBookings {
  prima::queue::v1::AppointmentSettings settings;  // defaults applied
  std::map<int64_t, int32_t> booked;  // slot start (Unix ms) -> bookings
};

struct Board {
  std::vector<prima::queue::v1::ServiceWaiting> waiting;  // by service id
  std::vector<prima::queue::v1::BoardCall> calls;         // newest first
};

class QueueStore {
 public:
  // `keys` derive receipt secrets; they must outlive the store.
  QueueStore(RedisClient& redis, const Clock& clock, const ReceiptKeys& keys);

  // ---- tickets ----
  // Returns the ticket with its receipt secret, position and estimate.
  void IssueTicket(const IssueParams& params, const QueueActor& actor,
                   Done<prima::queue::v1::Ticket> done);
  // PERMISSION_DENIED unless `proof` matches; NOT_FOUND for no such ticket.
  void GetTicket(absl::string_view ticket_id, const AccessProof& proof,
                 Done<prima::queue::v1::Ticket> done);
  void CancelTicket(absl::string_view ticket_id, const AccessProof& proof,
                    const QueueActor& actor,
                    Done<prima::queue::v1::Ticket> done);
  // Expires WAITING tickets whose expire time has passed (at most `limit`);
  // returns how many. Safe to run on every replica at once.
  void ExpireDue(int limit, Done<int> done);

  // ---- counters ----
  // OpenCounter, CloseCounter, PauseCounter, ResumeCounter (one script).
  void ChangeCounter(CounterChange change, const CounterInfo& counter,
                     const QueueActor& actor,
                     Done<prima::queue::v1::CounterSession> done);
  void GetCounterSession(const CounterInfo& counter,
                         Done<prima::queue::v1::CounterSession> done);

  // ---- serving ----
  // NOT_FOUND when nobody waits for the counter.
  void CallNext(const CounterInfo& counter, const QueueActor& actor,
                Done<prima::queue::v1::Ticket> done);
  void Act(TicketAction action, const CounterInfo& counter,
           absl::string_view ticket_id, const QueueActor& actor,
           Done<prima::queue::v1::Ticket> done);
  void CompleteService(const CounterInfo& counter, absl::string_view ticket_id,
                       prima::queue::v1::ServiceOutcome outcome,
                       const QueueActor& actor,
                       Done<prima::queue::v1::Ticket> done);
  void TransferTicket(const CounterInfo& counter, absl::string_view ticket_id,
                      const TransferTarget& target, const QueueActor& actor,
                      Done<prima::queue::v1::Ticket> done);

  // ---- appointments ----
  void GetSlotBookings(absl::string_view office_id,
                       absl::string_view service_id, absl::CivilDay day,
                       Done<SlotBookings> done);
  // `settings` validated; stored as given.
  void UpdateAppointmentSettings(
      const prima::queue::v1::AppointmentSettings& settings,
      const QueueActor& actor,
      Done<prima::queue::v1::AppointmentSettings> done);
  // RESOURCE_EXHAUSTED when the slot holds `capacity` bookings already.
  void BookAppointment(const BookParams& params, const QueueActor& actor,
                       Done<prima::queue::v1::Appointment> done);
  void GetAppointment(absl::string_view appointment_id,
                      const AccessProof& proof,
                      Done<prima::queue::v1::Appointment> done);
  void CancelAppointment(absl::string_view appointment_id,
                         const AccessProof& proof, const QueueActor& actor,
                         Done<prima::queue::v1::Appointment> done);
  // The appointment (still BOOKED, checked again) becomes a ticket whose
  // receipt secret is the appointment's.
  void CheckIn(absl::string_view appointment_id, const AccessProof& proof,
               const CheckInParams& params, const QueueActor& actor,
               Done<prima::queue::v1::Ticket> done);

  // ---- boards and statistics ----
  void GetBoard(absl::string_view office_id, Done<Board> done);
  // The WAITING count of every service queue (services with none may be left
  // out) of the directory's offices, the first `max_offices` by id. One
  // read-only script, for metrics.
  void GetWaitingCounts(int max_offices,
                        Done<std::vector<QueueWaitingCount>> done);
  // Raw figures; `service_id` "" for the whole office.
  void GetStats(absl::string_view office_id, absl::CivilDay date,
                absl::string_view service_id,
                Done<prima::queue::v1::QueueStats> done);

 private:
  RedisClient& redis_;
  const Clock& clock_;
  const ReceiptKeys& keys_;
};

}  // namespace prima::queue
