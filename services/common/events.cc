#include "services/common/events.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/ids.h"
#include "services/common/logging.h"

namespace prima {

using prima::events::v1::EventEnvelope;

std::string EventStreamKey(absl::string_view producer) {
  return absl::StrCat("prima:events:", producer);
}

EventEnvelope MakeEnvelope(absl::string_view type, absl::string_view agency,
                           absl::string_view producer,
                           const google::protobuf::Message& payload,
                           absl::Time now, absl::string_view request_id) {
  EventEnvelope envelope;
  envelope.set_id(NewTimeOrderedId(now));
  envelope.set_type(std::string(type));
  envelope.set_agency(std::string(agency));
  envelope.set_producer(std::string(producer));
  envelope.set_request_id(std::string(request_id));
  *envelope.mutable_occurred_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(now));
  envelope.mutable_payload()->PackFrom(payload);
  return envelope;
}

std::vector<std::string> EnvelopeArgs(const EventEnvelope& envelope) {
  return {envelope.type(), envelope.agency(), envelope.SerializeAsString()};
}

const char kLuaPrelude[] = R"lua(
local function prima_emit(stream, maxlen, type, agency, envelope)
  return redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
                    'type', type, 'agency', agency, 'envelope', envelope)
end
local function prima_fail(code, msg)
  return redis.error_reply(code .. ' ' .. msg)
end
local function prima_groups(at, width)
  local n = tonumber(ARGV[at])
  local out = {}
  at = at + 1
  for g = 1, n do
    local item = {}
    for k = 1, width do
      item[k] = ARGV[at]
      at = at + 1
    end
    out[g] = item
  end
  return out, at
end
-- Rate limits (rate_limit.h): the last KEYS are the counters of `spec`
-- ("max,ms,what;..."). An error reply when one is full, else counts the call
-- in each and returns nil.
local function prima_rate_limit(spec)
  if spec == nil or spec == '' then return nil end
  local checks = {}
  for max, ms, what in string.gmatch(spec, '(%d+),(%d+),(%a+)') do
    checks[#checks + 1] = {tonumber(max), tonumber(ms), what}
  end
  local first = #KEYS - #checks
  for i, c in ipairs(checks) do
    local key = KEYS[first + i]
    if tonumber(redis.call('GET', key) or '0') >= c[1] then
      local wait = redis.call('PTTL', key)
      if wait < 0 then wait = c[2] end
      return redis.error_reply('RESOURCE_EXHAUSTED:RATE_LIMITED:' .. wait ..
        ' too many requests for this ' .. c[3] .. ': at most ' .. c[1] ..
        ' in ' .. math.floor(c[2] / 1000) .. ' s; retry in ' ..
        math.ceil(wait / 1000) .. ' s')
    end
  end
  for i, c in ipairs(checks) do
    local key = KEYS[first + i]
    if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, c[2]) end
  end
  return nil
end
local function prima_first_time(key, ttl)
  return redis.call('SET', key, '1', 'NX', 'EX', ttl) ~= false
end
local function prima_pb_varint(n)
  local out = {}
  repeat
    local b = n % 128
    n = math.floor(n / 128)
    if n > 0 then b = b + 128 end
    out[#out + 1] = string.char(b)
  until n == 0
  return table.concat(out)
end
local function prima_pb_bytes(field, s)
  return prima_pb_varint(field * 8 + 2) .. prima_pb_varint(#s) .. s
end
local function prima_pb_int(field, n)
  return prima_pb_varint(field * 8) .. prima_pb_varint(n)
end
local function prima_emit_with(stream, maxlen, type, agency, envelope, payload, extra)
  local any = prima_pb_bytes(2, payload .. extra)
  return prima_emit(stream, maxlen, type, agency, envelope .. prima_pb_bytes(5, any))
end
)lua";

std::string EnvelopePayload(const EventEnvelope& envelope) {
  return envelope.payload().value();
}

std::string IdempotencyKey(absl::string_view service, absl::string_view rpc,
                           absl::string_view caller,
                           absl::string_view request_id) {
  // Length-prefixed so that ("a:b", "c") and ("a", "b:c") differ.
  const std::string material =
      absl::StrCat(caller.size(), ":", caller, request_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()),
         material.size(), digest);
  return absl::StrCat("prima:idem:", service, ":", rpc, ":",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), 16)));
}

namespace {

// A record made for a request with a fingerprint: "fp1:<fingerprint>:<result>"
// (a script's result is a packed list or a serialized message, neither of
// which starts so).
constexpr char kRecordPrefix[] = "fp1:";
constexpr char kReusedRequestId[] =
    "request_id: already used for a different request; a retry must repeat "
    "the first request exactly, a new request needs a new request_id";

}  // namespace

LuaScript MakeIdempotentScript(absl::string_view name, absl::string_view body) {
  return LuaScript(name, absl::StrCat(kLuaPrelude, R"lua(
local ttl, fp, rate_spec = string.match(ARGV[1], '^(%d+):?(%x*):?(.*)$')
local prior = redis.call('GET', KEYS[1])
if prior then
  local pfp, rest = string.match(prior, '^fp1:(%x+):(.*)$')
  if pfp then
    if fp ~= '' and pfp ~= fp then
      return redis.error_reply('ALREADY_EXISTS:REQUEST_ID_REUSED )lua",
                                      kReusedRequestId, R"lua(')
    end
    prior = rest
  end
  return {1, prior}
end
local limited = prima_rate_limit(rate_spec)
if limited then return limited end
local result = (function()
)lua",
                                      body, R"lua(
end)()
if type(result) == 'table' and result.err then return result end
local record = result
if fp ~= '' then record = 'fp1:' .. fp .. ':' .. result end
redis.call('SET', KEYS[1], record, 'EX', ttl)
return {0, result}
)lua"));
}

absl::StatusOr<std::string> RecordedResult(absl::string_view record,
                                           absl::string_view fingerprint) {
  if (!absl::StartsWith(record, kRecordPrefix)) return std::string(record);
  record.remove_prefix(sizeof(kRecordPrefix) - 1);
  const size_t colon = record.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InternalError("redis: malformed idempotency record");
  }
  if (!fingerprint.empty() && record.substr(0, colon) != fingerprint) {
    return absl::AlreadyExistsError(kReusedRequestId);
  }
  return std::string(record.substr(colon + 1));
}

absl::StatusOr<IdempotentResult> ParseIdempotentReply(const RedisValue& reply) {
  if (!reply.is_array() || reply.elements.size() != 2 ||
      reply.elements[0].type != RedisValue::Type::kInteger ||
      !reply.elements[1].is_string()) {
    return absl::InternalError("redis: malformed idempotent script reply");
  }
  return IdempotentResult{reply.elements[0].integer != 0,
                          reply.elements[1].str};
}

void RunIdempotent(
    RedisClient& redis, const LuaScript& script, const IdempotencyScope& scope,
    std::vector<std::string> keys, std::vector<std::string> args,
    absl::AnyInvocable<void(absl::StatusOr<IdempotentResult>)> done) {
  keys.insert(keys.begin(), IdempotencyKey(scope.service, scope.rpc,
                                           scope.caller, scope.request_id));
  std::string ttl = absl::StrCat(absl::ToInt64Seconds(kIdempotencyTtl));
  if (!scope.request_fingerprint.empty() || !scope.rate_checks.empty()) {
    absl::StrAppend(&ttl, ":", scope.request_fingerprint);
  }
  if (!scope.rate_checks.empty()) {
    // Counted only for a request that is not a replay, after the body's
    // KEYS so their indexes do not move.
    absl::StrAppend(&ttl, ":", RateSpec(scope.rate_checks));
    for (const RateCheck& check : scope.rate_checks) keys.push_back(check.key);
  }
  args.insert(args.begin(), std::move(ttl));
  redis.Eval(
      script, std::move(keys), std::move(args),
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        done(ParseIdempotentReply(*reply));
      },
      {.resend_safe = true});
}

std::string DedupeKey(absl::string_view group, absl::string_view event_id) {
  return absl::StrCat("prima:dedupe:", group, ":", event_id);
}

absl::StatusOr<bool> FirstDelivery(SyncRedis& redis, absl::string_view group,
                                   absl::string_view event_id,
                                   absl::Duration ttl) {
  absl::StatusOr<RedisValue> r =
      redis.Command({"SET", DedupeKey(group, event_id), "1", "NX", "EX",
                     absl::StrCat(absl::ToInt64Seconds(ttl))});
  if (!r.ok()) return r.status();
  return !r->is_nil();
}

// ---- EventConsumer ----

namespace {

std::string DefaultConsumerName() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Milliseconds(d));
}

}  // namespace

EventConsumer::EventConsumer(RedisEndpoint endpoint,
                             absl::Duration redis_timeout,
                             ConsumerOptions options, EventHandler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      redis_(std::move(endpoint), redis_timeout) {
  if (options_.consumer.empty()) options_.consumer = DefaultConsumerName();
  if (options_.dead_letter_stream.empty()) {
    options_.dead_letter_stream = absl::StrCat(options_.stream, ":dead");
  }
}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  thread_ = std::thread([this] {
    absl::Duration backoff = absl::Milliseconds(100);
    while (!stop_.HasBeenNotified()) {
      absl::StatusOr<int> n = RunOnce(options_.block);
      if (!n.ok()) {
        Log(LogLevel::kWarn, "event consumer error",
            LogFields()
                .Add("stream", options_.stream)
                .Add("group", options_.group)
                .Add("error", n.status().message()));
        stop_.WaitForNotificationWithTimeout(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(5));
      } else {
        backoff = absl::Milliseconds(100);
      }
    }
  });
}

void EventConsumer::Stop() {
  if (!stop_requested_.exchange(true)) stop_.Notify();
  if (thread_.joinable()) {
    thread_.join();
    // A clean stop leaves no consumer name behind (unless entries are still
    // pending: removing it would drop them; others reclaim them, then forget
    // it).
    if (group_ready_) {
      if (absl::Status s = ForgetConsumers(/*only_self=*/true); !s.ok()) {
        Log(LogLevel::kWarn, "event consumer not removed from its group",
            LogFields()
                .Add("stream", options_.stream)
                .Add("group", options_.group)
                .Add("error", s.message()));
      }
    }
  }
}

namespace {

// Removes consumers of a group that have nothing pending and have not read
// for a while, in one script so that none gets an entry in between (removing
// a consumer drops its pending entries).
// KEYS[1] = stream; ARGV: group, this consumer, idle ms, only this one (0/1).
// Replies the number removed.
const LuaScript& ForgetConsumersScript() {
  static const auto* s = new LuaScript("forget_consumers", R"lua(
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = c[i + 1]
    elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  local eligible
  if ARGV[4] == '1' then
    eligible = name == ARGV[2]
  else
    eligible = name ~= ARGV[2] and idle >= tonumber(ARGV[3])
  end
  if eligible and pending == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return removed
)lua");
  return *s;
}

}  // namespace

absl::Status EventConsumer::ForgetConsumers(bool only_self) {
  return redis_
      .Eval(ForgetConsumersScript(), {options_.stream},
            {options_.group, options_.consumer, Millis(options_.forget_idle),
             only_self ? "1" : "0"})
      .status();
}

EventConsumer::Stats EventConsumer::stats() const {
  return Stats{handled_.load(), failed_.load(), dead_lettered_.load()};
}

absl::Status EventConsumer::EnsureGroup() {
  if (group_ready_) return absl::OkStatus();
  absl::StatusOr<RedisValue> r =
      redis_.Command({"XGROUP", "CREATE", options_.stream, options_.group,
                      options_.start_id, "MKSTREAM"});
  if (!r.ok() && r.status().message().find("BUSYGROUP") == std::string::npos) {
    return r.status();
  }
  group_ready_ = true;
  return absl::OkStatus();
}

absl::StatusOr<int> EventConsumer::RunOnce(absl::Duration block) {
  if (absl::Status s = EnsureGroup(); !s.ok()) return s;
  int handled = 0;
  if (!pending_drained_) {
    // Entries delivered to this consumer before a restart and never acked.
    absl::StatusOr<RedisValue> r = redis_.Command(
        {"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
         absl::StrCat(options_.batch), "STREAMS", options_.stream, "0"});
    if (!r.ok()) return r.status();
    if (r->is_nil() || r->elements.empty() ||
        r->elements[0].elements.size() < 2 ||
        r->elements[0].elements[1].elements.empty()) {
      pending_drained_ = true;
    } else {
      absl::StatusOr<int> n = HandleEntries(r->elements[0].elements[1]);
      if (!n.ok()) return n.status();
      // Entries that failed stay pending; leave them to the reclaim path rather
      // than rereading them here forever.
      if (*n == 0) pending_drained_ = true;
      return *n;
    }
  }
  const absl::Time now = absl::Now();
  if (options_.on_lag && now >= next_lag_sample_) {
    next_lag_sample_ = now + options_.lag_interval;
    SampleLag();
  }
  if (now >= next_claim_) {
    next_claim_ = now + options_.claim_interval;
    absl::StatusOr<int> n = Reclaim();
    if (!n.ok()) return n.status();
    handled += *n;
    if (absl::Status s = ForgetConsumers(/*only_self=*/false); !s.ok()) {
      return s;
    }
  }
  std::vector<std::string> read = {
      "XREADGROUP",      "GROUP", options_.group,
      options_.consumer, "COUNT", absl::StrCat(options_.batch)};
  if (block > absl::ZeroDuration()) {
    read.push_back("BLOCK");
    read.push_back(Millis(block));
  }
  read.insert(read.end(), {"STREAMS", options_.stream, ">"});
  absl::StatusOr<RedisValue> r = redis_.Command(read, block);
  if (!r.ok()) {
    if (r.status().message().find("NOGROUP") != std::string::npos) {
      group_ready_ = false;  // the stream was deleted; recreate next round
    }
    return r.status();
  }
  if (r->is_nil() || r->elements.empty()) return handled;
  absl::StatusOr<int> n = HandleEntries(r->elements[0].elements[1]);
  if (!n.ok()) return n.status();
  return handled + *n;
}

absl::StatusOr<int> EventConsumer::HandleEntries(const RedisValue& entries) {
  int acked = 0;
  for (const RedisValue& entry : entries.elements) {
    if (stop_.HasBeenNotified()) break;
    if (HandleEntry(entry)) ++acked;
  }
  return acked;
}

bool EventConsumer::HandleEntry(const RedisValue& entry) {
  if (!entry.is_array() || entry.elements.empty()) return false;
  const std::string& id = entry.elements[0].str;
  auto ack = [&] {
    return redis_.Command({"XACK", options_.stream, options_.group, id}).ok();
  };
  // An entry trimmed away while pending comes back with a nil body: nothing to
  // do.
  if (entry.elements.size() < 2 || entry.elements[1].is_nil()) {
    Log(LogLevel::kWarn, "event trimmed before handling",
        LogFields().Add("stream", options_.stream).Add("entry", id));
    return ack();
  }
  const RedisValue& fields = entry.elements[1];
  const std::string* envelope_bytes = nullptr;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].str == "envelope") {
      envelope_bytes = &fields.elements[i + 1].str;
    }
  }
  StreamEvent event;
  event.entry_id = id;
  if (envelope_bytes == nullptr ||
      !event.envelope.ParseFromString(*envelope_bytes)) {
    // Retrying cannot help a malformed entry.
    ++failed_;
    return DeadLetter(id, "malformed envelope").ok();
  }
  absl::Status status = handler_(event, redis_);
  if (!status.ok()) {
    ++failed_;
    Log(LogLevel::kWarn, "event handler failed",
        LogFields()
            .Add("stream", options_.stream)
            .Add("group", options_.group)
            .Add("entry", id)
            .Add("type", event.envelope.type())
            .Add("error", status.message()));
    return false;
  }
  if (!ack()) return false;
  ++handled_;
  return true;
}

absl::StatusOr<int> EventConsumer::Reclaim() {
  // Entries delivered too often go to the dead-letter stream first.
  absl::StatusOr<RedisValue> pending = redis_.Command(
      {"XPENDING", options_.stream, options_.group, "IDLE",
       Millis(options_.claim_idle), "-", "+", absl::StrCat(options_.batch)});
  if (!pending.ok()) return pending.status();
  for (const RedisValue& row : pending->elements) {
    if (row.elements.size() < 4) continue;
    if (row.elements[3].integer >= options_.max_deliveries) {
      if (absl::Status s =
              DeadLetter(row.elements[0].str, "delivered too many times");
          !s.ok()) {
        return s;
      }
    }
  }
  absl::StatusOr<RedisValue> claimed =
      redis_.Command({"XAUTOCLAIM", options_.stream, options_.group,
                      options_.consumer, Millis(options_.claim_idle), "0-0",
                      "COUNT", absl::StrCat(options_.batch)});
  if (!claimed.ok()) return claimed.status();
  if (claimed->elements.size() < 2) return 0;
  return HandleEntries(claimed->elements[1]);
}

absl::Status EventConsumer::DeadLetter(absl::string_view entry_id,
                                       absl::string_view why) {
  absl::StatusOr<RedisValue> range =
      redis_.Command({"XRANGE", options_.stream, std::string(entry_id),
                      std::string(entry_id)});
  if (!range.ok()) return range.status();
  if (!range->elements.empty() && range->elements[0].elements.size() >= 2) {
    std::vector<std::string> add = {"XADD",
                                    options_.dead_letter_stream,
                                    "MAXLEN",
                                    "~",
                                    absl::StrCat(options_.dead_letter_max_len),
                                    "*",
                                    "source_entry",
                                    std::string(entry_id),
                                    "group",
                                    options_.group,
                                    "reason",
                                    std::string(why)};
    for (const RedisValue& f : range->elements[0].elements[1].elements) {
      add.push_back(f.str);
    }
    absl::StatusOr<RedisValue> r = redis_.Command(add);
    if (!r.ok()) return r.status();
  }
  absl::StatusOr<RedisValue> ack = redis_.Command(
      {"XACK", options_.stream, options_.group, std::string(entry_id)});
  if (!ack.ok()) return ack.status();
  ++dead_lettered_;
  if (options_.on_dead_letter) options_.on_dead_letter();
  Log(LogLevel::kWarn, "event dead-lettered",
      LogFields()
          .Add("stream", options_.stream)
          .Add("group", options_.group)
          .Add("entry", entry_id)
          .Add("reason", why));
  return absl::OkStatus();
}

void EventConsumer::SampleLag() {
  absl::StatusOr<RedisValue> groups =
      redis_.Command({"XINFO", "GROUPS", options_.stream});
  if (!groups.ok()) return;  // the next round's own commands report the error
  // One flat field/value array per group (RESP2).
  for (const RedisValue& group : groups->elements) {
    const std::vector<RedisValue>& fields = group.elements;
    bool ours = false;
    std::optional<int64_t> lag;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "name") ours = fields[i + 1].str == options_.group;
      if (fields[i].str == "lag" &&
          fields[i + 1].type == RedisValue::Type::kInteger) {
        lag = fields[i + 1].integer;
      }
    }
    // Redis leaves lag nil when it cannot tell (e.g. after XDEL): keep the
    // last value rather than report a wrong one.
    if (ours && lag.has_value()) options_.on_lag(*lag);
  }
}

}  // namespace prima
