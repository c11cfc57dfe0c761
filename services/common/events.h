#pragma once

#include <google/protobuf/message.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/config.h"
#include "services/common/lua_script.h"
#include "services/common/rate_limit.h"
#include "services/common/redis_client.h"
#include "services/common/sync_redis.h"

namespace prima {

// ---- publishing ----
//
// A state change and its event are written by one Lua script. The C++ side
// builds the envelope and passes its parts as script arguments; the script
// appends them with prima_emit (from kLuaPrelude) only if the change happens.

// "prima:events:<producer>", e.g. "prima:events:queue".
std::string EventStreamKey(absl::string_view producer);

// Streams are trimmed to about this many entries (MAXLEN ~).
inline constexpr int64_t kEventStreamMaxLen = 200000;

// The envelope of one event, with a fresh time-ordered id.
prima::events::v1::EventEnvelope MakeEnvelope(
    absl::string_view type, absl::string_view agency,
    absl::string_view producer, const google::protobuf::Message& payload,
    absl::Time now, absl::string_view request_id = "");

// The three script arguments prima_emit takes after stream and maxlen: type,
// agency and the serialized envelope.
std::vector<std::string> EnvelopeArgs(
    const prima::events::v1::EventEnvelope& envelope);

// The serialized payload message inside an envelope (its Any's value), the
// `payload` argument of prima_emit_with.
std::string EnvelopePayload(const prima::events::v1::EventEnvelope& envelope);

// Lua helpers that every Prima script starts with:
//   prima_emit(stream, maxlen, type, agency, envelope) -> entry id
//   prima_emit_with(stream, maxlen, type, agency, envelope, payload, extra)
//     -> entry id, for payload fields only the script knows (the ticket
//     CallNext picked, the officer a withdrawal promoted). `extra` holds them
//     encoded with prima_pb_bytes(field, s) (strings, bytes, messages) and
//     prima_pb_int(field, n) (non-negative integers, bools, enums). They are
//     appended to `payload`, and the envelope gets a second `payload`
//     occurrence carrying payload .. extra, which protobuf parsing merges over
//     the first; a field set in both keeps the script's value.
//   prima_first_time(key, ttl_seconds) -> true the first time a key is seen
//   (dedupe)
//   prima_fail(code, message) -> the error reply "<CODE> message" that
//   StatusFromRedisError maps to a status
//   prima_groups(at, width) -> the groups, and the position after them, of a
//   count at ARGV[at] followed by that many groups of `width` arguments
extern const char kLuaPrelude[];

// ---- idempotency ----
//
// A mutation RPC's script records its result under the request's idempotency
// key in the same script, so a retry returns the first result and changes
// nothing.

// Idempotency results are kept this long.
inline constexpr absl::Duration kIdempotencyTtl = absl::Hours(24);

// "prima:idem:<service>:<rpc>:<hash of caller and request id>". Caller and
// request id are hashed, so no request text reaches the key.
std::string IdempotencyKey(absl::string_view service, absl::string_view rpc,
                           absl::string_view caller,
                           absl::string_view request_id);

// Wraps a script body into an idempotent script. Conventions:
//   KEYS[1] = the idempotency key, ARGV[1] = its TTL in seconds, optionally
//   followed by ":" and the request's fingerprint and by ":" and a rate
//   spec whose counters are the last KEYS (RunIdempotent); the body
//   uses the other KEYS/ARGV. The body returns a string (usually a serialized
//   response) or redis.error_reply("<CODE> message"). It must check everything
//   before writing anything: Redis does not roll a script back. Errors are not
//   recorded, so a retry after an error runs again.
// The script replies {replayed (0/1), result}.
LuaScript MakeIdempotentScript(absl::string_view name, absl::string_view body);

struct IdempotentResult {
  bool replayed = false;  // true when an earlier call with the same key ran
  std::string value;
};
absl::StatusOr<IdempotentResult> ParseIdempotentReply(const RedisValue& reply);

// The result in an idempotency record as stored (read with GET): the script's
// result, or ALREADY_EXISTS when it was recorded for a request with another
// fingerprint (`fingerprint` empty: not checked).
absl::StatusOr<std::string> RecordedResult(absl::string_view record,
                                           absl::string_view fingerprint);

// Runs a MakeIdempotentScript script: puts KEYS[1] = IdempotencyKey(service,
// rpc, caller, request_id) and ARGV[1] = the TTL in front of `keys` and `args`,
// sends it as safe to resend (the key makes a second run a replay), and hands
// back the result.
struct IdempotencyScope {
  absl::string_view service;
  absl::string_view rpc;
  absl::string_view caller;
  absl::string_view request_id;
  // RequestFingerprint of the request, recorded with the result: a replay
  // with another fingerprint fails with ALREADY_EXISTS instead of getting the
  // first result. Empty: not checked (internal callers).
  absl::string_view request_fingerprint;
  // Rate limits the call is counted against (rate_limit.h), unless it is a
  // replay; RESOURCE_EXHAUSTED RATE_LIMITED when one is full.
  std::vector<RateCheck> rate_checks;
};
void RunIdempotent(
    RedisClient& redis, const LuaScript& script, const IdempotencyScope& scope,
    std::vector<std::string> keys, std::vector<std::string> args,
    absl::AnyInvocable<void(absl::StatusOr<IdempotentResult>)> done);

// ---- consuming ----

// One event read from a stream.
struct StreamEvent {
  std::string entry_id;  // Redis stream entry id
  prima::events::v1::EventEnvelope envelope;
};

struct ConsumerOptions {
  std::string stream;    // e.g. EventStreamKey("queue")
  std::string group;     // one group per consuming binary, e.g. "satisfaction"
  std::string consumer;  // unique per replica; default "<hostname>-<pid>"
  // Where a new group starts reading: "0" for everything retained, "$" for new
  // only.
  std::string start_id = "0";
  int batch = 100;
  absl::Duration block = absl::Seconds(1);
  // Entries pending longer than this (a dead or failing consumer) are
  // reclaimed, checked every claim_interval: a crashed replica's entries are
  // taken over within 4 s. A live consumer handles a batch well within
  // claim_idle; if not, an entry is handled twice, which handlers allow.
  absl::Duration claim_idle = absl::Seconds(3);
  absl::Duration claim_interval = absl::Seconds(1);
  // Other consumers of the group with nothing pending that have not read for
  // this long belong to processes that are gone: they are removed from the
  // group (a live consumer reads at least every `block`). A consumer that
  // stops cleanly with nothing pending removes itself.
  absl::Duration forget_idle = absl::Seconds(30);
  // An entry delivered this many times goes to the dead-letter stream.
  int max_deliveries = 5;
  std::string dead_letter_stream;  // default: stream + ":dead"
  int64_t dead_letter_max_len = 10000;
  // Observers (metrics), called on the consumer's thread: the group's lag
  // (XINFO GROUPS, Redis 7: entries not yet delivered to the group) at most
  // every lag_interval, and each entry moved to the dead-letter stream.
  absl::Duration lag_interval = absl::Seconds(15);
  std::function<void(int64_t lag)> on_lag;
  std::function<void()> on_dead_letter;
};

// A handler returns OK once the event is fully applied (then it is
// acknowledged). Any error leaves it pending for another attempt. Handlers must
// be idempotent: use prima_first_time or FirstDelivery. They run on the
// consumer's own thread and may block on `redis`, the consumer's connection.
using EventHandler =
    std::function<absl::Status(const StreamEvent& event, SyncRedis& redis)>;

// Runs one consumer of a consumer group on its own thread: its own pending
// entries first, then new ones; acks after the handler succeeds; reclaims
// entries idle too long (XAUTOCLAIM); moves entries delivered max_deliveries
// times to the dead-letter stream; acks trimmed entries that linger in the
// pending list as nil.
class EventConsumer {
 public:
  EventConsumer(RedisEndpoint endpoint, absl::Duration redis_timeout,
                ConsumerOptions options, EventHandler handler);
  ~EventConsumer();

  void Start();
  // Stops after the current batch; joins the thread. Idempotent.
  void Stop();

  // One round without blocking (pending or reclaim, then new entries); for
  // tests and for Start's loop. Returns how many entries it handled
  // successfully.
  absl::StatusOr<int> RunOnce(absl::Duration block = absl::ZeroDuration());

  struct Stats {
    uint64_t handled = 0;
    uint64_t failed = 0;
    uint64_t dead_lettered = 0;
  };
  Stats stats() const;

 private:
  absl::Status EnsureGroup();
  absl::StatusOr<int> HandleEntries(const RedisValue& entries);
  // Returns true if acked.
  bool HandleEntry(const RedisValue& entry);
  absl::StatusOr<int> Reclaim();
  // Removes gone consumers (forget_idle), or only this one (`only_self`) when
  // it has nothing pending.
  absl::Status ForgetConsumers(bool only_self);
  absl::Status DeadLetter(absl::string_view entry_id, absl::string_view why);
  // Reports the group's lag to on_lag; Redis without a lag answers nothing.
  void SampleLag();

  ConsumerOptions options_;
  EventHandler handler_;
  SyncRedis redis_;
  bool group_ready_ = false;
  bool pending_drained_ = false;
  absl::Time next_claim_;
  absl::Time next_lag_sample_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  absl::Notification stop_;
  std::atomic<uint64_t> handled_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dead_lettered_{0};
};

// "prima:dedupe:<group>:<event id>".
std::string DedupeKey(absl::string_view group, absl::string_view event_id);

// True the first time (group, event id) is seen within `ttl`, for handlers
// whose effect is not a single script. Prefer prima_first_time inside the
// handler's own script.
absl::StatusOr<bool> FirstDelivery(SyncRedis& redis, absl::string_view group,
                                   absl::string_view event_id,
                                   absl::Duration ttl = absl::Hours(72));

}  // namespace prima
