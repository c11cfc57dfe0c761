#include "services/complaint/complaint_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/directory_keys.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/lua_script.h"
#include "services/common/proto_time.h"
#include "services/common/script_reply.h"
#include "services/common/validation.h"
#include "services/complaint/complaint_rules.h"

namespace prima::complaint {

namespace ev = prima::events::v1;

namespace {

constexpr char kService[] = "complaint";
constexpr char kPrefix[] = "prima:complaint:";
// A day's filing counter is only incremented on its own local day; a few days
// cover every time zone and let old counters go.
constexpr int64_t kSequenceTtlSeconds = 3 * 86400;
constexpr int kMinPageSize = 1;
constexpr int kMaxPageSize = 500;
// List examines at most this many complaints per call, so a filter that
// matches little cannot make one call scan a whole agency.
constexpr int kListExamineLimit = 1000;
// Stats reads at most this many complaints of each index per call: a period
// with more is counted partially. Each costs a hash read inside one script
// (roughly 0.1 s of Redis time for the whole bound).
constexpr int kStatsScanLimit = 100000;

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }
std::string MsArg(absl::Time t) { return absl::StrCat(Ms(t)); }

// Score bounds of a [from, to) period for ZRANGEBYSCORE; infinite ends open.
std::string MinScore(absl::Time from) {
  return from == absl::InfinitePast() ? "-inf" : MsArg(from);
}
std::string MaxScoreExclusive(absl::Time to) {
  return to == absl::InfiniteFuture() ? "+inf" : absl::StrCat("(", Ms(to));
}

void Append(std::vector<std::string>& to, std::vector<std::string> more) {
  for (std::string& s : more) to.push_back(std::move(s));
}

// ---- Lua shared by every complaint script ----
std::string ComplaintLua() {
  return absl::StrCat(kLuaPack, "local P = '", kPrefix, "'\n",
                      "local EVENT_MAXLEN = ", kEventStreamMaxLen, "\n",
                      R"lua(
local fail = prima_fail
local function ckey(id) return P .. 'c:' .. id end
-- The stored complaint as Load replies it: its hash and its whole timeline.
local function record(id)
  return pack({pack(redis.call('HGETALL', ckey(id))),
               pack(redis.call('LRANGE', ckey(id) .. ':timeline', 0, -1))})
end
local groups = prima_groups
)lua");
}

LuaScript Mutation(absl::string_view name, absl::string_view body) {
  return MakeIdempotentScript(name, absl::StrCat(ComplaintLua(), body));
}
LuaScript Plain(absl::string_view name, absl::string_view body) {
  return LuaScript(name, absl::StrCat(kLuaPrelude, ComplaintLua(), body));
}

// KEYS: idem, stream. ARGV: ttl, id, agency, date, tracking prefix, sequence
// ttl, pb, secret sha, subject, status, category, office, officer, filed ms,
// filed entry, type, event agency, envelope, payload, receipt key id, then the
// deadlines: count, (kind, due ms, open 1|0)...
const LuaScript& FileScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("complaint_file", R"lua(
local id, agency = ARGV[2], ARGV[3]
local deadlines = groups(21, 3)
local seq_key = P .. 'seq:' .. agency .. ':' .. ARGV[4]
-- Taken before the check below on purpose: when the number is taken (a lost
-- counter), a retry gets the next one instead of failing forever.
local seq = redis.call('INCR', seq_key)
redis.call('EXPIRE', seq_key, ARGV[6])
local tn = ARGV[5] .. string.format('%04d', seq)
local tn_key = P .. 'tn:' .. tn
if redis.call('EXISTS', tn_key) == 1 then
  return fail('ABORTED', 'tracking number ' .. tn .. ' is taken already; try again')
end
local key = ckey(id)
local fields = {'pb', ARGV[7], 'tn', tn, 'v', '1', 'secret', ARGV[8],
  'subject', ARGV[9], 'agency', agency, 'status', ARGV[10],
  'category', ARGV[11], 'office', ARGV[12], 'officer', ARGV[13],
  'filed', ARGV[14]}
for g, d in ipairs(deadlines) do
  local i = g - 1
  fields[#fields + 1] = 'dk' .. i
  fields[#fields + 1] = d[1]
  if d[3] == '1' then redis.call('ZADD', P .. 'due', d[2], id .. ':' .. i) end
end
redis.call('HSET', key, unpack(fields))
redis.call('RPUSH', key .. ':timeline', ARGV[15])
redis.call('SET', tn_key, id)
redis.call('ZADD', P .. 'agency:' .. agency, ARGV[14], id)
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[16], ARGV[17], ARGV[18], ARGV[19],
                prima_pb_bytes(2, tn))
return pack({pack(redis.call('HGETALL', key)),
             pack(redis.call('LRANGE', key .. ':timeline', 0, -1)), ARGV[20]})
)lua"));
  return *script;
}

// ARGV: tracking number.
const LuaScript& LoadScript() {
  static const LuaScript* script = new LuaScript(Plain("complaint_load", R"lua(
local id = redis.call('GET', P .. 'tn:' .. ARGV[1])
if not id or redis.call('EXISTS', ckey(id)) == 0 then
  return fail('NOT_FOUND', 'complaint ' .. ARGV[1] .. ' does not exist')
end
return record(id)
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, id, tracking number, version before, pb,
// agency, status, category, office, officer, overdue (1|0), update ms,
// resolved (1|0), resolve seconds, within (1|0), then counted groups:
// deadlines (kind, due ms, open 1|0), timeline entries, events (type, agency,
// envelope).
const LuaScript& SaveScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("complaint_save", R"lua(
local id, tn = ARGV[2], ARGV[3]
local key = ckey(id)
local deadlines, at = groups(16, 3)
local entries, events
entries, at = groups(at, 1)
events, at = groups(at, 3)
local cur = redis.call('HMGET', key, 'v', 'agency', 'filed', 'overdue')
if not cur[1] then
  return fail('NOT_FOUND', 'complaint ' .. tn .. ' does not exist')
end
if cur[1] ~= ARGV[4] then
  return fail('ABORTED', 'complaint ' .. tn .. ' changed meanwhile; reload and retry')
end
local agency = ARGV[6]
local fields = {'pb', ARGV[5], 'agency', agency, 'status', ARGV[7],
  'category', ARGV[8], 'office', ARGV[9], 'officer', ARGV[10]}
-- Sticky: a missed deadline stays missed.
if ARGV[11] == '1' or cur[4] == '1' then
  fields[#fields + 1] = 'overdue'
  fields[#fields + 1] = '1'
end
for g, d in ipairs(deadlines) do
  local i = g - 1
  fields[#fields + 1] = 'dk' .. i
  fields[#fields + 1] = d[1]
  local member = id .. ':' .. i
  -- The sweeper's mark wins over a copy that did not see it.
  if d[3] == '1' and not redis.call('HGET', key, 'ov' .. i) then
    redis.call('ZADD', P .. 'due', d[2], member)
  else
    redis.call('ZREM', P .. 'due', member)
  end
end
if ARGV[13] == '1' then
  fields[#fields + 1] = 'resolve_s'
  fields[#fields + 1] = ARGV[14]
  fields[#fields + 1] = 'within'
  fields[#fields + 1] = ARGV[15]
  redis.call('ZADD', P .. 'resolved:' .. agency, ARGV[12], id)
end
redis.call('HSET', key, unpack(fields))
redis.call('HINCRBY', key, 'v', 1)
if cur[2] ~= agency then
  redis.call('ZREM', P .. 'agency:' .. cur[2], id)
  redis.call('ZADD', P .. 'agency:' .. agency, cur[3], id)
end
for _, e in ipairs(entries) do redis.call('RPUSH', key .. ':timeline', e[1]) end
for _, e in ipairs(events) do
  prima_emit(KEYS[2], EVENT_MAXLEN, e[1], e[2], e[3])
end
return record(id)
)lua"));
  return *script;
}

// ARGV: agency, max score, min score, cursor score ("" for none), cursor id,
// page size, examine limit, status, category, office, officer ("" any each),
// overdue only (1|0). Replies {next cursor or "", packed hash...}.
const LuaScript& ListScript() {
  static const LuaScript* script = new LuaScript(Plain("complaint_list", R"lua(
local zkey = P .. 'agency:' .. ARGV[1]
local after_score = tonumber(ARGV[4])
local after_id = ARGV[5]
local page, budget = tonumber(ARGV[6]), tonumber(ARGV[7])
local want = {ARGV[8], ARGV[9], ARGV[10], ARGV[11]}
local overdue_only = ARGV[12] == '1'
local BATCH = 100
local items, examined, offset = {}, 0, 0
local last_score, last_id
local stopped = false
while not stopped do
  local batch = redis.call('ZREVRANGEBYSCORE', zkey, ARGV[2], ARGV[3],
                           'WITHSCORES', 'LIMIT', offset, BATCH)
  local n = #batch / 2
  offset = offset + n
  for j = 1, #batch, 2 do
    local id, score = batch[j], batch[j + 1]
    -- Ties of the cursor's millisecond come by id, descending: those up to
    -- the cursor were on earlier pages.
    if not (after_score and tonumber(score) == after_score and id >= after_id) then
      examined = examined + 1
      last_score, last_id = score, id
      local h = redis.call('HMGET', ckey(id), 'status', 'category', 'office',
                           'officer', 'overdue')
      local match = h[1] ~= false
      for k = 1, 4 do
        if match and want[k] ~= '' and h[k] ~= want[k] then match = false end
      end
      if match and overdue_only and h[5] ~= '1' then match = false end
      if match then items[#items + 1] = pack(redis.call('HGETALL', ckey(id))) end
      if #items >= page or examined >= budget then
        stopped = true
        break
      end
    end
  end
  if n < BATCH then break end
end
local cursor = ''
if stopped then cursor = last_score .. ':' .. last_id end
local out = {cursor}
for _, item in ipairs(items) do out[#out + 1] = item end
return pack(out)
)lua"));
  return *script;
}

// ARGV: agency, office ("" all), min score, max score, scan limit. Replies
// {filed, packed status counts, packed category counts, packed resolve
// seconds, resolved within}.
const LuaScript& StatsScript() {
  static const LuaScript* script = new LuaScript(Plain("complaint_stats", R"lua(
local office, limit = ARGV[2], ARGV[5]
local filed, by_status, by_category = 0, {}, {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'agency:' .. ARGV[1], ARGV[3],
                       ARGV[4], 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', ckey(id), 'office', 'status', 'category')
  if h[2] and (office == '' or h[1] == office) then
    filed = filed + 1
    by_status[h[2]] = (by_status[h[2]] or 0) + 1
    by_category[h[3]] = (by_category[h[3]] or 0) + 1
  end
end
local function flat(m)
  local out = {}
  for k, v in pairs(m) do
    out[#out + 1] = k
    out[#out + 1] = v
  end
  return out
end
local seconds, within = {}, 0
local resolved = redis.call('ZRANGEBYSCORE', P .. 'resolved:' .. ARGV[1],
                            ARGV[3], ARGV[4], 'LIMIT', 0, limit)
for _, id in ipairs(resolved) do
  local h = redis.call('HMGET', ckey(id), 'office', 'resolve_s', 'within')
  if h[2] and (office == '' or h[1] == office) then
    seconds[#seconds + 1] = h[2]
    if h[3] == '1' then within = within + 1 end
  end
end
return pack({filed, pack(flat(by_status)), pack(flat(by_category)),
             pack(seconds), within})
)lua"));
  return *script;
}

// ARGV: agency, category number. The category's policy, else the agency's
// all-categories one, else nothing.
const LuaScript& GetPolicyScript() {
  static const LuaScript* script =
      new LuaScript(Plain("complaint_get_policy", R"lua(
local base = P .. 'policy:' .. ARGV[1] .. ':'
local own = redis.call('HGETALL', base .. ARGV[2])
if #own == 0 then own = redis.call('HGETALL', base .. '0') end
return pack(own)
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, agency, category, verify, follow_up, response.
const LuaScript& SetPolicyScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("complaint_set_policy", R"lua(
local key = P .. 'policy:' .. ARGV[2] .. ':' .. ARGV[3]
redis.call('HSET', key, 'verify', ARGV[4], 'follow_up', ARGV[5],
           'response', ARGV[6])
return pack(redis.call('HGETALL', key))
)lua"));
  return *script;
}

// ARGV: now ms, limit. Replies packed {id, index, tracking number, agency,
// office, kind, due ms} per due deadline whose complaint still exists.
const LuaScript& DueScript() {
  static const LuaScript* script = new LuaScript(Plain("complaint_due", R"lua(
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', ARGV[1],
                       'WITHSCORES', 'LIMIT', 0, ARGV[2])
local out = {}
for j = 1, #due, 2 do
  local id, i = string.match(due[j], '^(.+):(%d+)$')
  if id then
    local h = redis.call('HMGET', ckey(id), 'tn', 'agency', 'office', 'dk' .. i)
    if h[1] then
      out[#out + 1] = pack({id, i, h[1], h[2] or '', h[3] or '', h[4] or '0',
                            due[j + 1]})
    end
  end
end
return pack(out)
)lua"));
  return *script;
}

// KEYS: stream. ARGV: id, deadline index, type, agency, envelope. Replies 1
// when this call marked it, 0 when it was no longer due.
const LuaScript& MarkOverdueScript() {
  static const LuaScript* script =
      new LuaScript(Plain("complaint_mark_overdue", R"lua(
local id, i = ARGV[1], ARGV[2]
-- Removing the due entry is the once-only guard across replicas.
if redis.call('ZREM', P .. 'due', id .. ':' .. i) == 0 then return 0 end
local key = ckey(id)
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'ov' .. i, '1', 'overdue', '1')
redis.call('HINCRBY', key, 'v', 1)
prima_emit(KEYS[1], EVENT_MAXLEN, ARGV[3], ARGV[4], ARGV[5])
return 1
)lua"));
  return *script;
}

// ---- records ----

// The complaint as the hash's pb keeps it: no timeline, secret or tracking
// number (each is stored on its own).
std::string StoredProto(v1::Complaint complaint) {
  complaint.clear_timeline();
  complaint.clear_receipt_secret();
  complaint.clear_tracking_number();
  return complaint.SerializeAsString();
}

bool IsOpen(const v1::Deadline& deadline) {
  return !deadline.has_met_time() && !deadline.overdue();
}

// A count and (kind, due ms, open) per deadline.
std::vector<std::string> DeadlineArgs(const v1::Complaint& complaint) {
  std::vector<std::string> args = {absl::StrCat(complaint.deadlines_size())};
  for (const v1::Deadline& d : complaint.deadlines()) {
    Append(args, {absl::StrCat(static_cast<int>(d.kind())),
                  MsArg(ToAbslTime(d.due_time())), IsOpen(d) ? "1" : "0"});
  }
  return args;
}

// A hash (and timeline) as StoredComplaint.
absl::StatusOr<StoredComplaint> RecordFromParts(
    const Fields& f, const std::vector<std::string>& timeline) {
  StoredComplaint out;
  if (!out.complaint.ParseFromString(FieldStr(f, "pb"))) {
    return absl::InternalError("redis: unreadable stored complaint");
  }
  out.complaint.set_tracking_number(FieldStr(f, "tn"));
  for (int i = 0; i < out.complaint.deadlines_size(); ++i) {
    if (FieldStr(f, absl::StrCat("ov", i)) == "1") {
      out.complaint.mutable_deadlines(i)->set_overdue(true);
    }
  }
  for (const std::string& bytes : timeline) {
    if (!out.complaint.add_timeline()->ParseFromString(bytes)) {
      return absl::InternalError("redis: unreadable timeline entry");
    }
  }
  out.secret_sha = FieldStr(f, "secret");
  out.reporter_subject = FieldStr(f, "subject");
  out.version = FieldInt(f, "v");
  return out;
}

// record()'s reply, or File's (the same and the receipt key's id).
absl::StatusOr<StoredComplaint> ParseRecord(absl::string_view packed,
                                            std::string* key_id = nullptr) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->size() < 2) {
    return absl::InternalError("redis: bad complaint reply");
  }
  absl::StatusOr<Fields> fields = UnpackFields((*parts)[0]);
  absl::StatusOr<std::vector<std::string>> timeline = Unpack((*parts)[1]);
  if (!fields.ok() || !timeline.ok()) {
    return absl::InternalError("redis: bad complaint reply");
  }
  if (key_id != nullptr && parts->size() > 2) *key_id = (*parts)[2];
  return RecordFromParts(*fields, *timeline);
}

// A one-string script reply parsed by `parse`.
template <typename T>
RedisClient::Callback ReadReply(
    absl::StatusOr<T> (*parse)(absl::string_view packed), Done<T> done) {
  return [parse,
          done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
    if (!reply.ok()) return done(reply.status());
    if (!reply->is_string()) {
      return done(absl::InternalError("redis: unexpected script reply"));
    }
    done(parse(reply->str));
  };
}

absl::StatusOr<StoredComplaint> ParseLoaded(absl::string_view packed) {
  return ParseRecord(packed);
}

// List cursors: "<filing ms>:<id>" of the last complaint examined (the List
// script builds them).
absl::Status DecodeCursor(absl::string_view cursor, int64_t* score,
                          std::string* id) {
  const size_t colon = cursor.find(':');
  const absl::Status bad =
      absl::InvalidArgumentError("page_token: not a token this list returned");
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(cursor.substr(0, colon), score)) {
    return bad;
  }
  *id = std::string(cursor.substr(colon + 1));
  if (!ValidateId("page_token", *id).ok()) return bad;
  return absl::OkStatus();
}

absl::StatusOr<ListPage> ParseListPage(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->empty()) {
    return absl::InternalError("redis: bad list reply");
  }
  ListPage page;
  page.next_cursor = (*parts)[0];  // the script writes it as DecodeCursor reads
  for (size_t i = 1; i < parts->size(); ++i) {
    absl::StatusOr<Fields> fields = UnpackFields((*parts)[i]);
    if (!fields.ok()) return absl::InternalError("redis: bad list reply");
    absl::StatusOr<StoredComplaint> item = RecordFromParts(*fields, {});
    if (!item.ok()) return item.status();
    page.items.push_back(*std::move(item));
  }
  return page;
}

absl::StatusOr<RawStats> ParseStats(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->size() != 5) {
    return absl::InternalError("redis: bad stats reply");
  }
  absl::StatusOr<Fields> by_status = UnpackFields((*parts)[1]);
  absl::StatusOr<Fields> by_category = UnpackFields((*parts)[2]);
  absl::StatusOr<std::vector<std::string>> seconds = Unpack((*parts)[3]);
  RawStats stats;
  if (!by_status.ok() || !by_category.ok() || !seconds.ok() ||
      !absl::SimpleAtoi((*parts)[0], &stats.filed) ||
      !absl::SimpleAtoi((*parts)[4], &stats.resolved_within)) {
    return absl::InternalError("redis: bad stats reply");
  }
  auto counts = [](const Fields& f, std::map<int, int64_t>& out) {
    for (const auto& [number, count] : f) {
      int key = 0;
      int64_t n = 0;
      if (absl::SimpleAtoi(number, &key) && absl::SimpleAtoi(count, &n)) {
        out[key] = n;
      }
    }
  };
  counts(*by_status, stats.by_status);
  counts(*by_category, stats.by_category);
  for (const std::string& s : *seconds) {
    int64_t n = 0;
    if (absl::SimpleAtoi(s, &n)) stats.resolve_seconds.push_back(n);
  }
  return stats;
}

v1::DeadlinePolicy PolicyFromFields(absl::string_view agency_id,
                                    v1::Category category, const Fields& f) {
  v1::DeadlinePolicy policy;
  policy.set_agency_id(std::string(agency_id));
  policy.set_category(category);
  policy.set_verify_working_days(static_cast<int32_t>(FieldInt(f, "verify")));
  policy.set_follow_up_working_days(
      static_cast<int32_t>(FieldInt(f, "follow_up")));
  policy.set_response_days(static_cast<int32_t>(FieldInt(f, "response")));
  return policy;
}

absl::StatusOr<std::vector<DueDeadline>> ParseDue(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> rows = Unpack(packed);
  if (!rows.ok()) return absl::InternalError("redis: bad due reply");
  std::vector<DueDeadline> out;
  for (const std::string& packed_row : *rows) {
    absl::StatusOr<std::vector<std::string>> row = Unpack(packed_row);
    int index = 0, kind = 0;
    int64_t due_ms = 0;
    if (!row.ok() || row->size() != 7 || !absl::SimpleAtoi((*row)[1], &index) ||
        !absl::SimpleAtoi((*row)[5], &kind) ||
        !absl::SimpleAtoi((*row)[6], &due_ms)) {
      return absl::InternalError("redis: bad due reply");
    }
    DueDeadline d;
    d.complaint_id = (*row)[0];
    d.index = index;
    d.tracking_number = (*row)[2];
    d.agency_id = (*row)[3];
    d.office_id = (*row)[4];
    d.kind = static_cast<v1::DeadlineKind>(kind);
    d.due = absl::FromUnixMillis(due_ms);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

ComplaintStore::ComplaintStore(RedisClient& redis, const Clock& clock,
                               const ReceiptKeys& keys)
    : redis_(redis), clock_(clock), keys_(keys) {}

void ComplaintStore::File(const NewComplaint& filing,
                          const ComplaintActor& actor,
                          Done<v1::Complaint> done) {
  const v1::Complaint& c = filing.complaint;
  const std::string filed_ms = MsArg(ToAbslTime(c.file_time()));
  std::vector<std::string> args = {c.id(),
                                   c.agency_id(),
                                   filing.local_date,
                                   filing.tracking_prefix,
                                   absl::StrCat(kSequenceTtlSeconds),
                                   StoredProto(c),
                                   Sha256Hex(filing.receipt_secret),
                                   filing.reporter_subject,
                                   absl::StrCat(static_cast<int>(c.status())),
                                   absl::StrCat(static_cast<int>(c.category())),
                                   c.office_id(),
                                   c.officer_id(),
                                   filed_ms,
                                   filing.filed_entry.SerializeAsString()};
  Append(args, EnvelopeArgs(filing.filed_event));
  args.push_back(EnvelopePayload(filing.filed_event));
  args.push_back(keys_.current_id());
  Append(args, DeadlineArgs(c));
  RunIdempotent(redis_, FileScript(),
                {kService, "FileComplaint", actor.subject, actor.request_id,
                 actor.request_fingerprint, actor.rate_checks},
                {EventStreamKey(kComplaintProducer)}, std::move(args),
                [this, done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  std::string key_id;
                  absl::StatusOr<StoredComplaint> stored =
                      ParseRecord(result->value, &key_id);
                  if (!stored.ok()) return done(stored.status());
                  v1::Complaint complaint = std::move(stored->complaint);
                  // Recomputed, so a retry gets it too and nothing stores it.
                  complaint.set_receipt_secret(keys_.SecretForReplay(
                      key_id, kComplaintReceipt, complaint.id()));
                  done(std::move(complaint));
                });
}

void ComplaintStore::Load(absl::string_view tracking_number,
                          Done<StoredComplaint> done) {
  redis_.Eval(LoadScript(), {}, {std::string(tracking_number)},
              ReadReply(&ParseLoaded, std::move(done)), {.resend_safe = true});
}

void ComplaintStore::Save(absl::string_view rpc, const StoredComplaint& before,
                          const ComplaintChange& change,
                          const ComplaintActor& actor,
                          Done<StoredComplaint> done) {
  const v1::Complaint& u = change.updated;
  bool any_overdue = false;
  for (const v1::Deadline& d : u.deadlines()) any_overdue |= d.overdue();
  // The resolution's time; a decision always sets update_time.
  const absl::Time updated_at =
      u.has_update_time() ? ToAbslTime(u.update_time()) : clock_.Now();
  std::vector<std::string> args = {
      u.id(),
      before.complaint.tracking_number(),
      absl::StrCat(before.version),
      StoredProto(u),
      u.agency_id(),
      absl::StrCat(static_cast<int>(u.status())),
      absl::StrCat(static_cast<int>(u.category())),
      u.office_id(),
      u.officer_id(),
      any_overdue ? "1" : "0",
      MsArg(updated_at),
      change.resolution.has_value() ? "1" : "0",
      absl::StrCat(change.resolution ? change.resolution->seconds : 0),
      change.resolution && change.resolution->within_deadline ? "1" : "0"};
  Append(args, DeadlineArgs(u));
  args.push_back(absl::StrCat(change.appended.size()));
  for (const v1::TimelineEntry& entry : change.appended) {
    args.push_back(entry.SerializeAsString());
  }
  args.push_back(absl::StrCat(change.events.size()));
  for (const ev::EventEnvelope& event : change.events) {
    Append(args, EnvelopeArgs(event));
  }
  RunIdempotent(redis_, SaveScript(),
                {kService, rpc, actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kComplaintProducer)}, std::move(args),
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  done(ParseRecord(result->value));
                });
}

void ComplaintStore::Replay(absl::string_view rpc, const ComplaintActor& actor,
                            absl::Status refusal, Done<StoredComplaint> done) {
  // MakeIdempotentScript records the script's result as the key's plain value.
  redis_.Command(
      {"GET", IdempotencyKey(kService, rpc, actor.subject, actor.request_id)},
      [refusal = std::move(refusal), fingerprint = actor.request_fingerprint,
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->is_nil()) return done(std::move(refusal));
        if (!reply->is_string()) {
          return done(absl::InternalError("redis: unexpected recorded result"));
        }
        absl::StatusOr<std::string> result =
            RecordedResult(reply->str, fingerprint);
        if (!result.ok()) return done(result.status());
        done(ParseRecord(*result));
      },
      {.resend_safe = true});
}

void ComplaintStore::List(const ListFilter& filter, Done<ListPage> done) {
  if (filter.page_size < kMinPageSize || filter.page_size > kMaxPageSize) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("page_size: must be ", kMinPageSize, "-", kMaxPageSize)));
  }
  std::string max_score = MaxScoreExclusive(filter.filed_to);
  std::string after_score, after_id;
  if (!filter.cursor.empty()) {
    int64_t score = 0;
    if (absl::Status s = DecodeCursor(filter.cursor, &score, &after_id);
        !s.ok()) {
      return done(s);
    }
    after_score = absl::StrCat(score);
    // Inclusive: complaints of the cursor's millisecond may remain.
    if (filter.filed_to == absl::InfiniteFuture() ||
        score < Ms(filter.filed_to)) {
      max_score = after_score;
    }
  }
  auto any_enum = [](int value) {
    return value == 0 ? std::string() : absl::StrCat(value);
  };
  redis_.Eval(ListScript(), {},
              {filter.agency_id, max_score, MinScore(filter.filed_from),
               after_score, after_id, absl::StrCat(filter.page_size),
               absl::StrCat(kListExamineLimit), any_enum(filter.status),
               any_enum(filter.category), filter.office_id, filter.officer_id,
               filter.overdue_only ? "1" : "0"},
              ReadReply(&ParseListPage, std::move(done)),
              {.resend_safe = true});
}

void ComplaintStore::Stats(const StatsQuery& query, Done<RawStats> done) {
  redis_.Eval(StatsScript(), {},
              {query.agency_id, query.office_id, MinScore(query.from),
               MaxScoreExclusive(query.to), absl::StrCat(kStatsScanLimit)},
              ReadReply(&ParseStats, std::move(done)), {.resend_safe = true});
}

void ComplaintStore::GetPolicy(absl::string_view agency_id,
                               v1::Category category,
                               Done<v1::DeadlinePolicy> done) {
  redis_.Eval(
      GetPolicyScript(), {},
      {std::string(agency_id), absl::StrCat(static_cast<int>(category))},
      [agency = std::string(agency_id), category,
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_string()) {
          return done(absl::InternalError("redis: bad policy reply"));
        }
        absl::StatusOr<Fields> fields = UnpackFields(reply->str);
        if (!fields.ok()) return done(fields.status());
        done(WithDefaults(PolicyFromFields(agency, category, *fields)));
      },
      {.resend_safe = true});
}

void ComplaintStore::SetPolicy(const v1::DeadlinePolicy& policy,
                               const ComplaintActor& actor,
                               Done<v1::DeadlinePolicy> done) {
  RunIdempotent(
      redis_, SetPolicyScript(),
      {kService, "UpdateDeadlinePolicy", actor.subject, actor.request_id,
       actor.request_fingerprint},
      {},
      {policy.agency_id(), absl::StrCat(static_cast<int>(policy.category())),
       absl::StrCat(policy.verify_working_days()),
       absl::StrCat(policy.follow_up_working_days()),
       absl::StrCat(policy.response_days())},
      [agency = policy.agency_id(), category = policy.category(),
       done =
           std::move(done)](absl::StatusOr<IdempotentResult> result) mutable {
        if (!result.ok()) return done(result.status());
        absl::StatusOr<Fields> fields = UnpackFields(result->value);
        if (!fields.ok()) return done(fields.status());
        done(PolicyFromFields(agency, category, *fields));
      });
}

void ComplaintStore::DueDeadlines(absl::Time now, int limit,
                                  Done<std::vector<DueDeadline>> done) {
  redis_.Eval(DueScript(), {}, {MsArg(now), absl::StrCat(limit)},
              ReadReply(&ParseDue, std::move(done)), {.resend_safe = true});
}

void ComplaintStore::MarkOverdue(const DueDeadline& deadline,
                                 const ev::EventEnvelope& event,
                                 Done<bool> done) {
  std::vector<std::string> args = {deadline.complaint_id,
                                   absl::StrCat(deadline.index)};
  Append(args, EnvelopeArgs(event));
  redis_.Eval(
      MarkOverdueScript(), {EventStreamKey(kComplaintProducer)},
      std::move(args),
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->type != RedisValue::Type::kInteger) {
          return done(absl::InternalError("redis: bad mark-overdue reply"));
        }
        done(reply->integer == 1);
      },
      // A resent call finds the due entry gone and answers false: the mark
      // and its event still happened once.
      {.resend_safe = true});
}

void ComplaintStore::FirstOfficeOf(absl::string_view agency_id,
                                   Done<std::string> done) {
  // The directory's index is a zset of ids all scored 0, so ids sort by name.
  redis_.Command(
      {"ZRANGE", directory::AgencyIndexKey(directory::Kind::kOffice, agency_id),
       "0", "0"},
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array()) {
          return done(absl::InternalError("redis: bad office index reply"));
        }
        done(reply->elements.empty() ? std::string() : reply->elements[0].str);
      },
      {.resend_safe = true});
}

}  // namespace prima::complaint
