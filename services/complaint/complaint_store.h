#pragma once

// Redis keys and Lua scripts of the complaint service. Nothing else knows a key
// name. The store is deliberately dumb: what a move does to a complaint is
// decided in C++ (complaint_flow.h) on a loaded copy; the store writes the
// decided change with one idempotent script that checks the complaint was not
// changed meanwhile (its version), appends the timeline entries, keeps every
// index and appends the events, all atomically.
//
// Keys ("prima:complaint:" prefix omitted; every id passed ValidateId and
// every tracking number ValidateTrackingNumber first):
//   c:<id>              hash: pb (the Complaint without timeline, receipt
//                       secret and tracking number), tn (tracking number),
//                       v (version), secret (SHA-256 hex of the receipt
//                       secret), subject (the reporter's token `sub`, never for
//                       anonymous complaints), agency, status, category,
//                       office, officer (index fields, numbers for enums),
//                       filed (Unix ms), overdue ("1" once any deadline was
//                       missed), ov<i> ("1": deadline i marked overdue by the
//                       sweeper), dk<i> (deadline i's DeadlineKind number),
//                       resolve_s / within (the latest resolution)
//   c:<id>:timeline     list of serialized TimelineEntry, append-only (RPUSH)
//   tn:<tracking>       the complaint id of a tracking number
//   seq:<agency>:<date> the agency's local day's filing sequence (YYYYMMDD)
//   agency:<agency>     zset of complaint ids of the handling agency by filing
//                       time (Unix ms)
//   resolved:<agency>   zset of complaint ids by their latest resolution time
//   due                 zset "<id>:<i>" by due time (Unix ms): deadlines that
//                       are neither met nor marked overdue yet
//   policy:<agency>:<category number>  hash: the agency's deadline policy
//                       (category 0: all categories)
// Events go to prima:events:complaint.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prima/common/v1/common.pb.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/clock.h"
#include "services/common/done.h"
#include "services/common/rate_limit.h"
#include "services/common/receipt_keys.h"
#include "services/common/redis_client.h"

namespace prima::complaint {

// The producer and stream of complaint events.
inline constexpr char kComplaintProducer[] = "complaint";

// A complaint as stored: the proto plus what is never returned as such.
struct StoredComplaint {
  // Every field as stored, tracking_number set, the whole timeline (internal
  // entries too) in order, receipt_secret empty, and each deadline's
  // `overdue` also set when the sweeper marked it (ov<i>).
  v1::Complaint complaint;
  std::string secret_sha;        // SHA-256 hex of the receipt secret
  std::string reporter_subject;  // "" when anonymous or filed without token
  int64_t version = 0;           // bumped by every write
};

// Who acts: for idempotency keys (per subject and request id).
struct ComplaintActor {
  std::string subject;  // token `sub`; "" for anonymous callers
  std::string request_id;
  std::string request_fingerprint;  // Principal::request_fingerprint
  // Counted with the mutation (FileComplaint); see rate_limit.h.
  std::vector<RateCheck> rate_checks;
};

// A complaint ready to be written, complete but for its tracking number: the
// script takes the next number of the agency's local day.
struct NewComplaint {
  // id, the filing fields, status SUBMITTED, deadlines (VERIFY), file and
  // update time; no tracking number, no timeline, no receipt secret.
  v1::Complaint complaint;
  v1::TimelineEntry filed_entry;  // the first timeline entry
  // Tracking number = prefix + the day's sequence, zero-padded to 4 digits
  // (TrackingNumber's format): "DUKCAPIL-DKI-20261124-".
  std::string tracking_prefix;
  std::string local_date;  // "20261124": the sequence's day
  // Derived with the current receipt key (kComplaintReceipt, the id):
  // returned, stored only as SHA-256.
  std::string receipt_secret;
  std::string reporter_subject;  // "" when anonymous
  // complaint.filed without its tracking number: the script adds it (field 2
  // of ComplaintFiled).
  prima::events::v1::EventEnvelope filed_event;
};

// The latest resolution, for statistics.
struct Resolution {
  int64_t seconds = 0;  // filing to resolution
  bool within_deadline = false;
};

// A decided move (complaint_flow.h). The store derives every index from
// `updated`: agency, status, category, office, officer, overdue (any deadline
// overdue), and the `due` entries (deadlines with neither met_time nor
// overdue are added at their due time, the others removed).
struct ComplaintChange {
  // The complaint after the move, without timeline (entries are appended,
  // never rewritten) and without receipt secret.
  v1::Complaint updated;
  std::vector<v1::TimelineEntry> appended;
  std::vector<prima::events::v1::EventEnvelope> events;
  // Set when the move resolved the complaint.
  std::optional<Resolution> resolution;
};

struct ListFilter {
  std::string agency_id;                                          // required
  v1::ComplaintStatus status = v1::COMPLAINT_STATUS_UNSPECIFIED;  // any
  v1::Category category = v1::CATEGORY_UNSPECIFIED;               // any
  std::string office_id;                                          // "" any
  std::string officer_id;                                         // "" any
  bool overdue_only = false;
  absl::Time filed_from = absl::InfinitePast();  // inclusive
  absl::Time filed_to = absl::InfiniteFuture();  // exclusive
  int page_size = 50;                            // 1-500
  std::string cursor;  // "" for the first page; else a next_cursor
};

struct ListPage {
  // Newest first; each without timeline; secret_sha and subject filled.
  std::vector<StoredComplaint> items;
  // "" on the last page. A page may hold fewer than page_size items when the
  // filters skip many complaints (each call examines a bounded number).
  std::string next_cursor;
};

struct StatsQuery {
  std::string agency_id;
  std::string office_id;  // "" for the whole agency
  absl::Time from;        // inclusive
  absl::Time to;          // exclusive
};

// Raw figures of GetComplaintStats.
struct RawStats {
  // Complaints of the agency (and office) filed in the period, by their
  // status now and by category (enum numbers).
  int64_t filed = 0;
  std::map<int, int64_t> by_status;
  std::map<int, int64_t> by_category;
  // Complaints whose latest resolution falls in the period: filing to
  // resolution in seconds, and how many were within their deadline.
  std::vector<int64_t> resolve_seconds;
  int64_t resolved_within = 0;
};

// A deadline the sweeper found due.
struct DueDeadline {
  std::string complaint_id;
  std::string tracking_number;
  std::string agency_id;
  std::string office_id;
  int index = 0;  // in Complaint.deadlines
  v1::DeadlineKind kind = v1::DEADLINE_KIND_UNSPECIFIED;
  absl::Time due;
};

// The kind receipt secrets of complaints are derived for (ReceiptKeys).
inline constexpr char kComplaintReceipt[] = "complaint";

class ComplaintStore {
 public:
  // `keys` derive receipt secrets; they must outlive the store.
  ComplaintStore(RedisClient& redis, const Clock& clock,
                 const ReceiptKeys& keys);

  // Writes a new complaint, its first timeline entry, its indexes, its VERIFY
  // deadline's `due` entry and complaint.filed. Idempotent on the actor's
  // request id (rpc "FileComplaint"): a retry returns the first result,
  // receipt secret included. Returns the complaint with tracking_number,
  // receipt_secret and its timeline.
  void File(const NewComplaint& filing, const ComplaintActor& actor,
            Done<v1::Complaint> done);

  // NOT_FOUND "complaint <tracking> does not exist".
  void Load(absl::string_view tracking_number, Done<StoredComplaint> done);

  // Writes `change` (a decision on `before`) when the complaint is still at
  // `before.version`; ABORTED otherwise (reload and decide again). Appends
  // the timeline entries and events, moves the indexes (also between agencies
  // on forwarding). Idempotent on (`rpc`, actor, request id): a retry returns
  // the first result. Returns the complaint as stored afterwards (whole
  // timeline).
  void Save(absl::string_view rpc, const StoredComplaint& before,
            const ComplaintChange& change, const ComplaintActor& actor,
            Done<StoredComplaint> done);

  // For a move the flow refused: the first result when (`rpc`, actor,
  // request id) already ran (a retry of a move that succeeded), `refusal`
  // otherwise.
  void Replay(absl::string_view rpc, const ComplaintActor& actor,
              absl::Status refusal, Done<StoredComplaint> done);

  // One page of an agency's complaints.
  void List(const ListFilter& filter, Done<ListPage> done);

  void Stats(const StatsQuery& query, Done<RawStats> done);

  // ---- deadlines ----
  // The agency's policy for `category`: the category's own, else the
  // agency's all-categories policy, else the defaults (WithDefaults applied;
  // agency_id and category set as asked).
  void GetPolicy(absl::string_view agency_id, v1::Category category,
                 Done<v1::DeadlinePolicy> done);
  // Stores a validated policy (rpc "UpdateDeadlinePolicy", idempotent).
  void SetPolicy(const v1::DeadlinePolicy& policy, const ComplaintActor& actor,
                 Done<v1::DeadlinePolicy> done);

  // Deadlines due at `now` (at most `limit`), oldest first.
  void DueDeadlines(absl::Time now, int limit,
                    Done<std::vector<DueDeadline>> done);
  // Marks a due VERIFY or FOLLOW_UP deadline overdue (ov<i>, overdue, version
  // bump) and appends complaint.overdue (`event`), once: true when this call
  // did it, false when it was no longer due (met meanwhile, or another
  // replica marked it).
  void MarkOverdue(const DueDeadline& deadline,
                   const prima::events::v1::EventEnvelope& event,
                   Done<bool> done);

  // The agency's first office by id ("" when it has none), from the
  // directory's index: whose time zone and holidays count when a complaint
  // names no office.
  void FirstOfficeOf(absl::string_view agency_id, Done<std::string> done);

 private:
  RedisClient& redis_;
  const Clock& clock_;
  const ReceiptKeys& keys_;
};

}  // namespace prima::complaint
