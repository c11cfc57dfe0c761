#pragma once

// Redis keys and Lua scripts of the satisfaction service. Nothing else knows a
// key name. A response and every aggregate it feeds are written by one
// idempotent script, so scores are read from aggregates whose size does not
// grow with the number of responses.
//
// Keys ("prima:satisfaction:" prefix omitted; ids passed ValidateId, period
// keys ParsePeriodKey, template ids ValidateId):
//   tpl:<template>:<version>   the serialized Template (custom templates;
//                              built-ins live in code)
//   tpl:<template>             hash: latest (version), agency
//   tpls:<agency>              set of the agency's template ids
//   inv:<sha256 of token>      hash: the invitation's fields (pb, without the
//                              token), used ("1"), expires (Unix ms); TTL =
//                              expiry + 7 days
//   inv-src:<source>:<id>      the token hash of the invitation a source (a
//                              ticket, a complaint; <source> is the
//                              InvitationSource number) got: one per served
//                              visit; same TTL as the invitation
//   r:<response>               the serialized Response
//   rs:<agency>                zset of response ids by submit time (ms), for
//                              ExportResponses (ListResponses pages through
//                              it by (score, id))
//   agg:<template>:<scope kind>:<scope id>:<period key>
//                              (<scope kind> is the ScopeKind number, e.g.
//                              agg:skm:2:kantor-gambir:2026-11; periods are
//                              days and months only, StoredPeriodKeysOf:
//                              longer ones are read as their months)
//                              hash: n (respondents), and per dimension code
//                              c:<code> (answers), s:<code> (sum of values),
//                              e:<code> (sum of expectations), v:<code>:<value>
//                              (count of each value, KeepsValueCounts: CSAT
//                              and NPS only)
//   pop:<scope kind>:<scope id>:<period key>
//                              served visits (from ticket.service_completed)
//   visit-seen:<event id>      the ticket.service_completed events counted
//                              already (72 h), so a redelivery counts once
//   scopes:<template>:<scope kind>:<period key>
//                              set of the scope ids with responses in the
//                              period (agencies and offices), for rankings:
//                              they are scored in C++ from their aggregates,
//                              so the formula lives in one place
//   scopes:<template>:2:<period key>:<agency>
//                              the same for the offices of one agency
//                              (RankOffices of an agency reads only its own)
//   used-tpls:<period key>     set of the templates answered in the period,
//                              for the closed-month sweep
//   kiosk:<kiosk>              hash: office, agency, name, desc, created
//                              (Unix ms), revoked (Unix ms, once revoked),
//                              sha (SHA-256 of the credential; the credential
//                              itself is derived from the receipt keys and
//                              never stored)
//   kiosks:<agency>            zset (every score 0) of the agency's kiosk ids,
//                              for ListKiosks in id order (ZRANGEBYLEX)
//   kiosks:<agency>:<office>   the same for one office
//   kiosk-rate:<kiosk>         submissions of a registered kiosk in the
//                              current minute (INCR + EXPIRE 60)
//   settings:<agency>          the serialized ScoreSettings
//   swept:<template>:<month>   set of the offices whose closed month was
//                              swept for low elements (400 days)
//   low:<template>:2:<office>:<month>:<code>
//                              set once satisfaction.element_low was emitted
//                              for it (400 days): two replicas sweeping the
//                              same office emit once
// Events go to prima:events:satisfaction.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prima/events/v1/events.pb.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"
#include "services/common/clock.h"
#include "services/common/done.h"
#include "services/common/rate_limit.h"
#include "services/common/receipt_keys.h"
#include "services/common/redis_client.h"
#include "services/satisfaction/satisfaction_rules.h"

namespace prima::satisfaction {

inline constexpr char kSatisfactionProducer[] = "satisfaction";

// Who acts: for idempotency keys.
struct SatisfactionActor {
  std::string subject;  // token `sub`; "" for anonymous callers
  std::string request_id;
  std::string request_fingerprint;  // Principal::request_fingerprint
  // Counted with the mutation (SubmitResponse); see rate_limit.h.
  std::vector<RateCheck> rate_checks;
};

// One scope a response counts in, e.g. {SCOPE_KIND_OFFICE, "dukcapil-jaksel"}.
struct ScopeRef {
  v1::ScopeKind kind = v1::SCOPE_KIND_UNSPECIFIED;
  std::string id;
};

// A response ready to be written (validated against its template by the
// caller).
struct NewResponse {
  // id, agency, office, service, officer, template and version, answers,
  // profile, comment, source, submit time, local date.
  v1::Response response;
  // Exactly one of: the SHA-256 hex of the invitation token (the script marks
  // it used, refusing a used or expired one), or a registered kiosk's id with
  // the SHA-256 hex of the credential given (the script refuses an unknown or
  // revoked kiosk, a wrong credential and another office than the kiosk's,
  // as CheckKioskAccess does, and counts the kiosk against
  // `kiosk_per_minute`).
  std::string invitation_sha;
  std::string kiosk_id;
  std::string kiosk_credential_sha;
  int kiosk_per_minute = 10;
  // The scopes it counts in (agency, office, service, and officer when known)
  // and the period keys of its local date (StoredPeriodKeysOf: day and
  // month): every combination's aggregate is bumped.
  std::vector<ScopeRef> scopes;
  std::vector<std::string> period_keys;
  // satisfaction.response_submitted.
  prima::events::v1::EventEnvelope event;
};

// The scopes a response counts in: its agency and office, and its service and
// officer when set (NewResponse::scopes).
std::vector<ScopeRef> ScopesOf(const v1::Response& response);

// An office whose month has responses to a template and was not swept yet.
struct UnsweptOffice {
  std::string template_id;
  std::string office_id;
};

// One low element's event, for FinishSweep.
struct LowElementEvent {
  std::string code;
  prima::events::v1::EventEnvelope event;
};

// The raw aggregate of one template, scope and period (or range of days).
struct Aggregate {
  int64_t respondents = 0;
  // Per dimension code present in the aggregate.
  struct Dimension {
    std::string code;
    int64_t answers = 0;
    int64_t sum = 0;
    int64_t expectation_sum = 0;
    // Answers per value (value -> count), values never given left out: the
    // store does not know the template's scale.
    std::map<int, int64_t> counts_by_value;
  };
  std::vector<Dimension> dimensions;
  int64_t population = 0;  // served visits in the scope and period
};

// Where a page of ListResponses starts: after the response `id` submitted at
// `submit_ms`. `rs:<agency>` orders responses by submit time, then those of
// one millisecond by id (byte order, as Redis orders equal scores), and the
// cursor names a place in that order: a page starts with the first response
// after it, so responses sharing a millisecond are neither repeated nor
// skipped across pages, even when the cursor's own response is gone. An empty
// id: the first page.
struct ResponseCursor {
  int64_t submit_ms = 0;
  std::string id;
};

struct ResponsePage {
  std::vector<v1::Response> responses;
  // Where the next page starts; nullopt after the last page.
  std::optional<ResponseCursor> next;
};

// The most responses one ListResponses page holds.
inline constexpr int kMaxResponsePage = 500;

// A registered kiosk as stored: the kiosk (credential never set) and what
// SubmitResponse checks.
struct KioskRecord {
  v1::Kiosk kiosk;
  std::string credential_sha;
};

struct KioskPage {
  std::vector<v1::Kiosk> kiosks;  // credential never set
  // The id the next page starts after; empty after the last page.
  std::string next_cursor;
};

class SatisfactionStore {
 public:
  // `keys` (derived kiosk credentials) must outlive the store.
  SatisfactionStore(RedisClient& redis, const Clock& clock,
                    const ReceiptKeys& keys);

  // ---- templates (custom; built-ins are BuiltInTemplates()) ----
  // Writes version latest+1 (1 for a new id); FAILED_PRECONDITION when the id
  // belongs to another agency. Idempotent (rpc "SaveTemplate").
  void SaveTemplate(const v1::Template& tpl, const SatisfactionActor& actor,
                    Done<v1::Template> done);
  // version 0: the latest. NOT_FOUND.
  void GetTemplate(absl::string_view id, int version, Done<v1::Template> done);
  // The agency's templates, latest versions, by id.
  void ListTemplates(absl::string_view agency_id,
                     Done<std::vector<v1::Template>> done);

  // ---- invitations ----
  // Stores an invitation under the token's hash, once per source: a second
  // invitation for the same source (a duplicate event) returns the first and
  // writes nothing (then `token` in the reply is empty: it was shown once).
  // `token_sha` is the hash of a token the caller holds already (a ticket's
  // or complaint's receipt secret); the reply has no token. An empty source_id
  // skips the per-source check (staff invitations). ALREADY_EXISTS when the
  // token hash is taken.
  void CreateInvitation(const v1::Invitation& invitation,
                        absl::string_view token_sha,
                        const SatisfactionActor& actor,
                        Done<v1::Invitation> done);
  // A staff invitation: its token is derived from the receipt keys and a new
  // id (kInvitationTokenKind) and returned in the invitation; only its hash
  // is stored, and a retry derives it again.
  void CreateStaffInvitation(const v1::Invitation& invitation,
                             const SatisfactionActor& actor,
                             Done<v1::Invitation> done);
  // NOT_FOUND for an unknown token hash.
  void GetInvitation(absl::string_view token_sha, Done<v1::Invitation> done);

  // ---- kiosks ----
  // Stores a new kiosk (id, office_id, agency_id, name, description and
  // create_time set by the caller) with the SHA-256 of its credential, derived
  // under the current receipt key, and replies it with the credential. The
  // script's reply (and so the idempotency record) holds only the key id: a
  // retry of the same request (actor and request id) gets the first kiosk and
  // the same credential, recomputed. ALREADY_EXISTS when the id is taken.
  // Idempotent (rpc "RegisterKiosk").
  void RegisterKiosk(const v1::Kiosk& kiosk, const SatisfactionActor& actor,
                     Done<v1::Kiosk> done);
  // NOT_FOUND for an unknown id.
  void GetKiosk(absl::string_view kiosk_id, Done<KioskRecord> done);
  // The agency's kiosks (of `office_id` only when set) by id, up to `limit`
  // (1-500) after the id `after` ("" for the first page).
  void ListKiosks(absl::string_view agency_id, absl::string_view office_id,
                  absl::string_view after, int limit, Done<KioskPage> done);
  // Marks the kiosk revoked now unless it is already (then it is replied
  // unchanged); from then on SubmitResponse refuses its credential. NOT_FOUND
  // for an unknown id. Idempotent (rpc "RevokeKiosk").
  void RevokeKiosk(absl::string_view kiosk_id, const SatisfactionActor& actor,
                   Done<v1::Kiosk> done);

  // ---- responses ----
  // One script: refuses a used or expired invitation (FAILED_PRECONDITION),
  // an unknown or revoked kiosk, a wrong credential or another office than
  // the kiosk's (PERMISSION_DENIED), or a kiosk over its rate
  // (RESOURCE_EXHAUSTED), marks the invitation
  // used, stores the response, bumps every scope x period aggregate (and adds
  // agency and office to the period's `scopes` sets), appends the event.
  // Idempotent (rpc "SubmitResponse"). ALREADY_EXISTS when the response id
  // was stored by another request; INVALID_ARGUMENT unless exactly one of
  // invitation_sha and kiosk_id is set.
  void SubmitResponse(const NewResponse& response,
                      const SatisfactionActor& actor, Done<v1::Response> done);

  // The aggregate of one template and scope over stored period keys (day and
  // month keys, StoredKeysOf): their sum, read in one script (at most 366
  // keys).
  void GetAggregate(absl::string_view template_id, const ScopeRef& scope,
                    const std::vector<std::string>& period_keys,
                    Done<Aggregate> done);

  // The aggregates of every scope of `kind` (agencies or offices; of
  // `agency_id` only when set, for offices) with responses in any of the
  // stored periods, each summed over all of them (at most 366 keys).
  void ListAggregates(
      absl::string_view template_id, v1::ScopeKind kind,
      const std::vector<std::string>& period_keys, absl::string_view agency_id,
      Done<std::vector<std::pair<std::string, Aggregate>>> done);

  // ---- score settings ----
  // The agency's settings; low_element_threshold 0 when never set.
  void GetScoreSettings(absl::string_view agency_id,
                        Done<v1::ScoreSettings> done);
  // Replaces them. Idempotent (rpc "UpdateScoreSettings").
  void SaveScoreSettings(const v1::ScoreSettings& settings,
                         const SatisfactionActor& actor,
                         Done<v1::ScoreSettings> done);

  // ---- the closed-month sweep ----
  // The (template, office) pairs with responses in the month not swept yet,
  // by template then office.
  void ListUnswept(absl::string_view month_key,
                   Done<std::vector<UnsweptOffice>> done);
  // Marks the office's month of the template swept and appends each low
  // element's event unless it was appended before (per template, office,
  // month and element), so replicas sweeping the same office at once emit
  // each event once. Replies the number of events appended.
  void FinishSweep(absl::string_view template_id, absl::string_view office_id,
                   absl::string_view month_key,
                   const std::vector<LowElementEvent>& low, Done<int> done);

  // Adds one served visit to each scope x period (from
  // ticket.service_completed; deduplicated per event id).
  void CountVisit(absl::string_view event_id,
                  const std::vector<ScopeRef>& scopes,
                  const std::vector<std::string>& period_keys, Done<bool> done);

  // ---- export ----
  // Reads the agency's responses submitted in [from, to) in pages, oldest
  // first: each page holds up to `limit` (1-kMaxResponsePage) responses after
  // `after`, and the cursor of the next page unless it is the last.
  void ListResponses(absl::string_view agency_id, absl::Time from,
                     absl::Time to, const ResponseCursor& after, int limit,
                     Done<ResponsePage> done);

 private:
  RedisClient& redis_;
  const Clock& clock_;
  void CreateInvitationRecord(const v1::Invitation& invitation,
                              absl::string_view token_sha,
                              absl::string_view token_source,
                              const SatisfactionActor& actor,
                              Done<v1::Invitation> done);

  const ReceiptKeys& keys_;
};

}  // namespace prima::satisfaction
