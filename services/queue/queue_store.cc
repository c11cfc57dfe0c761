#include "services/queue/queue_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/directory_keys.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/lua_script.h"
#include "services/common/proto_time.h"
#include "services/common/script_reply.h"
#include "services/queue/queue_rules.h"

namespace prima::queue {

namespace v1 = prima::queue::v1;
namespace ev = prima::events::v1;

namespace {

constexpr char kService[] = "queue";
constexpr char kProducer[] = "queue";
constexpr char kPrefix[] = "prima:queue:";
// Statistics are kept a little over a year (year-on-year comparisons);
// tickets a week (their history lives on in the statistics and events).
constexpr int64_t kStatsTtlSeconds = 400 * 86400;
constexpr int64_t kTicketTtlSeconds = 7 * 86400;
// Appointments and slot bookings outlive the 90-day booking horizon.
constexpr int64_t kAppointmentTtlSeconds = 100 * 86400;
constexpr int kBoardCalls = 10;

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }
std::string MsArg(absl::Time t) { return absl::StrCat(Ms(t)); }
absl::Time FromMs(int64_t ms) { return absl::FromUnixMillis(ms); }

// ---- Lua shared by every queue script ----
//
// Ticket hash fields: id, office, service, agency, number, date (YYYYMMDD),
// channel, class, group (p|a|r), score (its place in a waiting queue),
// status (TicketStatus number), issued,
// wait_from, expires, called, started, ended (Unix ms), target (minutes),
// secret (SHA-256 of the receipt secret), subject, counter, cname, officer,
// outcome, recalls, transfers, to_counter, appt.
std::string QueueLua() {
  return absl::StrCat(kLuaPack, "local Q = '", kPrefix, "'\n",
                      "local EVENT_MAXLEN = ", kEventStreamMaxLen, "\n",
                      "local LIVE_MAXLEN = ", kLiveStreamMaxLen, "\n",
                      "local STATS_TTL = ", kStatsTtlSeconds, "\n",
                      "local TICKET_TTL = ", kTicketTtlSeconds, "\n",
                      "local APPOINTMENT_TTL = ", kAppointmentTtlSeconds, "\n",
                      "local BOARD_CALLS = ", kBoardCalls, "\n",
                      "local WAIT_BUCKETS = ", kWaitBuckets, "\n",
                      R"lua(
local WAITING, CALLED, SERVING, COMPLETED = '1', '2', '3', '4'
local NO_SHOW, CANCELLED, EXPIRED = '5', '6', '7'
local STATUS_NAME = {['1'] = 'WAITING', ['2'] = 'CALLED', ['3'] = 'SERVING',
  ['4'] = 'COMPLETED', ['5'] = 'NO_SHOW', ['6'] = 'CANCELLED',
  ['7'] = 'EXPIRED'}
local C_CLOSED, C_OPEN, C_PAUSED = '1', '2', '3'
local fail = prima_fail
local function tkey(id) return Q .. 't:' .. id end
local function ckey(id) return Q .. 'c:' .. id end
local function as_map(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end
local function load(key) return as_map(redis.call('HGETALL', key)) end
local function f(m, name) return m[name] or '' end
local function can_access(t, secret_sha, subject, staff_agency)
  if secret_sha ~= '' and secret_sha == f(t, 'secret') then return true end
  if subject ~= '' and subject == f(t, 'subject') then return true end
  if staff_agency == '*' then return true end
  return staff_agency ~= '' and staff_agency == f(t, 'agency')
end
-- The ticket or appointment at `key` when the proof opens it; otherwise nil
-- and the error reply.
local function open_record(what, id, key, secret_sha, subject, staff_agency)
  local r = load(key)
  if not r.id then return nil, fail('NOT_FOUND', what .. ' ' .. id .. ' does not exist') end
  if not can_access(r, secret_sha, subject, staff_agency) then
    return nil, fail('PERMISSION_DENIED', what .. ' ' .. id ..
                     ': give its receipt secret, or the token that took it')
  end
  return r, nil
end
-- A BOOKED appointment the proof opens; otherwise nil and the error reply.
local function open_booked(id, secret_sha, subject, staff_agency)
  local ap, err = open_record('appointment', id, Q .. 'ap:' .. id, secret_sha,
                              subject, staff_agency)
  if err then return nil, err end
  if ap.status ~= '1' then
    return nil, fail('FAILED_PRECONDITION', 'appointment ' .. id .. ' is no longer BOOKED')
  end
  return ap, nil
end
local function wkey(t)
  if f(t, 'to_counter') ~= '' then return Q .. 'wc:' .. t.to_counter end
  return Q .. 'w:' .. t.office .. ':' .. t.service .. ':' .. t.group
end
local function enqueue(t)
  redis.call('ZADD', wkey(t), t.score, t.id)
  redis.call('HINCRBY', Q .. 'waiting:' .. t.office, t.service, 1)
  redis.call('ZADD', Q .. 'expiry', t.expires, t.id)
end
local function dequeue(t)
  redis.call('ZREM', wkey(t), t.id)
  local wk = Q .. 'waiting:' .. t.office
  if redis.call('HINCRBY', wk, t.service, -1) <= 0 then
    redis.call('HDEL', wk, t.service)
  end
  redis.call('ZREM', Q .. 'expiry', t.id)
end
-- The day's statistics of the ticket's service and of the whole office.
local function stat_keys(t, service)
  local base = Q .. 'st:' .. t.office .. ':' .. t.date .. ':'
  return {base .. (service or t.service), base .. '_all'}
end
-- Adds `fields` ({name = amount}) to each of the day's counter hashes.
-- A hash is new when an increment returns just the amount added; only then
-- does it need its TTL.
local function stat_add(keys, fields)
  for _, k in ipairs(keys) do
    local fresh = false
    for name, by in pairs(fields) do
      if redis.call('HINCRBY', k, name, by) == by then fresh = true end
    end
    if fresh then redis.call('EXPIRE', k, STATS_TTL) end
  end
end
local function stat_server(keys, who, id, seconds)
  for _, k in ipairs(keys) do
    local sk = k .. ':' .. who
    redis.call('HINCRBY', sk, id .. ':served', 1)
    redis.call('HINCRBY', sk, id .. ':svc', seconds)
    redis.call('EXPIRE', sk, STATS_TTL)
  end
end
local function live(office, kind, tid, extra)
  local args = {'XADD', Q .. 'live', 'MAXLEN', '~', LIVE_MAXLEN, '*',
                'o', office, 'k', kind, 't', tid}
  for _, v in ipairs(extra or {}) do args[#args + 1] = v end
  redis.call(unpack(args))
end
local function seconds_between(from_ms, to_ms)
  local d = math.floor((tonumber(to_ms) - tonumber(from_ms)) / 1000)
  if d < 0 then return 0 end
  return d
end
local function local_date_pb(date)
  return prima_pb_int(1, tonumber(string.sub(date, 1, 4))) ..
         prima_pb_int(2, tonumber(string.sub(date, 5, 6))) ..
         prima_pb_int(3, tonumber(string.sub(date, 7, 8)))
end
-- Queue scores: the wait start in ms x 1000 plus the day's sequence mod 1000,
-- so tickets of one queue issued in the same millisecond keep their order
-- (exact in a double up to the year 2255).
local function queue_score(wait_from_ms, seq)
  return string.format('%.0f', tonumber(wait_from_ms) * 1000 + seq % 1000)
end
local function due_score(now_ms)
  return string.format('%.0f', tonumber(now_ms) * 1000 + 999)
end
-- The ticket as the reply carries it: its fields, and for a WAITING ticket
-- what the wait estimate needs (_ahead, _open, _busy, _mean, _n).
-- `known`: the ticket's fields when the caller just wrote all of them.
local function view(id, now, known)
  local flat, t
  if known then
    flat, t = {}, known
    for k, v in pairs(known) do flat[#flat + 1] = k; flat[#flat + 1] = v end
  else
    flat = redis.call('HGETALL', tkey(id))
    t = as_map(flat)
  end
  if t.status ~= WAITING then return flat end
  local ahead
  if f(t, 'to_counter') ~= '' then
    ahead = redis.call('ZRANK', Q .. 'wc:' .. t.to_counter, id) or 0
  else
    local base = Q .. 'w:' .. t.office .. ':' .. t.service .. ':'
    local rank = redis.call('ZRANK', base .. t.group, id) or 0
    ahead = rank
    if t.group ~= 'p' then ahead = ahead + redis.call('ZCARD', base .. 'p') end
    if t.group == 'r' then
      ahead = ahead + redis.call('ZCOUNT', base .. 'a', '-inf', due_score(now))
    end
  end
  local open = redis.call('SMEMBERS', Q .. 'open:' .. t.office .. ':' .. t.service)
  local busy = 0
  for _, c in ipairs(open) do
    local cur = redis.call('HGET', ckey(c), 'current')
    if cur and cur ~= '' then busy = busy + 1 end
  end
  local m = redis.call('HMGET', Q .. 'mean:' .. t.office .. ':' .. t.service, 'mean', 'n')
  for _, v in ipairs({'_ahead', ahead, '_open', #open, '_busy', busy,
                      '_mean', m[1] or '0', '_n', m[2] or '0'}) do
    flat[#flat + 1] = v
  end
  return flat
end
-- Takes a ticket: a = {id, office, service, agency, prefix, date, channel,
-- class, group, now, wait_from, expires, target, secret, subject, max_seq,
-- appt}. Returns the ticket, or nil and an error reply.
local function issue(a)
  local seq_key = Q .. 'seq:' .. a.office .. ':' .. a.prefix .. ':' .. a.date
  local last = tonumber(redis.call('GET', seq_key) or '0')
  if last >= tonumber(a.max_seq) then
    return nil, fail('RESOURCE_EXHAUSTED', 'the office has issued ' .. last ..
                     ' tickets of prefix ' .. a.prefix .. ' today')
  end
  local seq = redis.call('INCR', seq_key)
  if seq == 1 then redis.call('EXPIRE', seq_key, 3 * 86400) end
  local t = {id = a.id, office = a.office, service = a.service,
    agency = a.agency, number = a.prefix .. '-' .. string.format('%03d', seq),
    date = a.date, channel = a.channel, class = a.class, group = a.group,
    status = WAITING, issued = a.now, wait_from = a.wait_from,
    expires = a.expires, target = a.target, secret = a.secret,
    subject = a.subject, recalls = '0', transfers = '0', to_counter = '',
    appt = a.appt, score = queue_score(a.wait_from, seq)}
  local args = {}
  for k, v in pairs(t) do args[#args + 1] = k; args[#args + 1] = v end
  redis.call('HSET', tkey(t.id), unpack(args))
  redis.call('EXPIRE', tkey(t.id), TICKET_TTL)
  enqueue(t)
  stat_add(stat_keys(t), {issued = 1})
  live(t.office, 'change', t.id)
  return t, nil
end
-- The counter must be open (or paused) by the officer acting.
local function check_counter(c, counter_id, officer, allow_paused)
  local state = f(c, 'state')
  local ok = state == C_OPEN or (allow_paused and state == C_PAUSED)
  if not ok or f(c, 'officer') ~= officer then
    return fail('FAILED_PRECONDITION', 'counter ' .. counter_id ..
                ' is not open by you; open it first (OpenCounter)')
  end
  return nil
end
-- The counter's current ticket in one of the allowed statuses.
local function current_ticket(c, counter_id, ticket_id, allowed)
  if f(c, 'current') ~= ticket_id then
    return nil, fail('FAILED_PRECONDITION', 'ticket ' .. ticket_id ..
                     ' is not the current ticket of counter ' .. counter_id)
  end
  local t = load(tkey(ticket_id))
  if not t.id then return nil, fail('NOT_FOUND', 'ticket ' .. ticket_id .. ' does not exist') end
  for _, s in ipairs(allowed) do
    if t.status == s then return t, nil end
  end
  return nil, fail('FAILED_PRECONDITION', 'ticket ' .. t.number .. ' is ' ..
                   STATUS_NAME[t.status])
end
)lua");
}

LuaScript Mutation(absl::string_view name, absl::string_view body) {
  return MakeIdempotentScript(name, absl::StrCat(QueueLua(), body));
}
LuaScript Read(absl::string_view name, absl::string_view body) {
  return LuaScript(name, absl::StrCat(kLuaPrelude, QueueLua(), body));
}

// KEYS: idem, stream. ARGV: ttl, id, office, service, agency, prefix, date,
// channel, class, group, now, expires, target, secret sha, subject, receipt
// key id, max seq, type, event agency, envelope, payload.
const LuaScript& IssueScript() {
  static const LuaScript* script = new LuaScript(Mutation("queue_issue", R"lua(
local t, err = issue({id = ARGV[2], office = ARGV[3], service = ARGV[4],
  agency = ARGV[5], prefix = ARGV[6], date = ARGV[7], channel = ARGV[8],
  class = ARGV[9], group = ARGV[10], now = ARGV[11], wait_from = ARGV[11],
  expires = ARGV[12], target = ARGV[13], secret = ARGV[14],
  subject = ARGV[15], max_seq = ARGV[17], appt = ''})
if err then return err end
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[18], ARGV[19], ARGV[20], ARGV[21],
                prima_pb_bytes(4, t.number))
local out = view(t.id, ARGV[11], t)
out[#out + 1] = '_kid'
out[#out + 1] = ARGV[16]
return pack(out)
)lua"));
  return *script;
}

// ARGV: id, now, secret sha, subject, staff agency.
const LuaScript& GetTicketScript() {
  static const LuaScript* script = new LuaScript(Read("queue_get_ticket", R"lua(
local _, err = open_record('ticket', ARGV[1], tkey(ARGV[1]), ARGV[3], ARGV[4], ARGV[5])
if err then return err end
return pack(view(ARGV[1], ARGV[2]))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, id, now, secret sha, subject, staff agency,
// type, envelope, payload.
const LuaScript& CancelScript() {
  static const LuaScript* script = new LuaScript(Mutation("queue_cancel", R"lua(
local id, now = ARGV[2], ARGV[3]
local t, err = open_record('ticket', id, tkey(id), ARGV[4], ARGV[5], ARGV[6])
if err then return err end
if t.status ~= WAITING then
  return fail('FAILED_PRECONDITION', 'ticket ' .. t.number .. ' is ' ..
              STATUS_NAME[t.status] .. '; only a WAITING ticket can be cancelled')
end
dequeue(t)
redis.call('HSET', tkey(id), 'status', CANCELLED, 'ended', now)
stat_add(stat_keys(t), {cancelled = 1})
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[7], t.agency,
                ARGV[8] .. prima_pb_bytes(3, t.agency), ARGV[9],
                prima_pb_bytes(2, t.office) .. prima_pb_bytes(3, t.service) ..
                prima_pb_int(5, seconds_between(t.wait_from, now)))
live(t.office, 'change', id)
return pack(view(id, now))
)lua"));
  return *script;
}

// ARGV: now, limit. The ids of WAITING tickets due to expire.
const LuaScript& DueScript() {
  static const LuaScript* script = new LuaScript(Read("queue_due", R"lua(
return redis.call('ZRANGEBYSCORE', Q .. 'expiry', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
)lua"));
  return *script;
}

// KEYS: stream. ARGV: id, now, type, envelope, payload. Replies 1 when it
// expired the ticket, 0 when another replica (or a call) got there first.
const LuaScript& ExpireScript() {
  static const LuaScript* script = new LuaScript(Read("queue_expire", R"lua(
local id, now = ARGV[1], ARGV[2]
local t = load(tkey(id))
if not t.id or t.status ~= WAITING or tonumber(t.expires) > tonumber(now) then
  redis.call('ZREM', Q .. 'expiry', id)
  return 0
end
dequeue(t)
redis.call('HSET', tkey(id), 'status', EXPIRED, 'ended', now)
stat_add(stat_keys(t), {expired = 1})
prima_emit_with(KEYS[1], EVENT_MAXLEN, ARGV[3], t.agency,
                ARGV[4] .. prima_pb_bytes(3, t.agency), ARGV[5],
                prima_pb_bytes(2, t.office) .. prima_pb_bytes(3, t.service) ..
                prima_pb_int(5, seconds_between(t.wait_from, now)))
live(t.office, 'change', id)
return 1
)lua"));
  return *script;
}

// Counter sessions. KEYS: idem. ARGV: ttl, op (open|close|pause|resume),
// counter, officer, now, office, agency, service ids...
const LuaScript& CounterScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_counter", R"lua(
local op, counter, officer, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local office, agency = ARGV[6], ARGV[7]
local key = ckey(counter)
local c = load(key)
local state = f(c, 'state')
if state == '' then state = C_CLOSED end
local mine = f(c, 'officer') == officer
local function open_sets(add)
  for i = 8, #ARGV do
    redis.call(add and 'SADD' or 'SREM', Q .. 'open:' .. office .. ':' .. ARGV[i], counter)
  end
end
local function reply()
  return pack(redis.call('HGETALL', key))
end
if op == 'open' then
  if state ~= C_CLOSED then
    if mine then return reply() end
    return fail('FAILED_PRECONDITION', 'counter ' .. counter ..
                ' is open by officer ' .. f(c, 'officer'))
  end
  local other = redis.call('GET', Q .. 'officer:' .. officer)
  if other and other ~= counter then
    local os = redis.call('HGET', ckey(other), 'state')
    if os == C_OPEN or os == C_PAUSED then
      return fail('FAILED_PRECONDITION', 'you have counter ' .. other ..
                  ' open; close it first')
    end
  end
  redis.call('HSET', key, 'state', C_OPEN, 'officer', officer, 'opened', now,
             'office', office, 'agency', agency, 'current', '')
  redis.call('SET', Q .. 'officer:' .. officer, counter)
  open_sets(true)
elseif op == 'close' then
  if state == C_CLOSED or not mine then
    return fail('FAILED_PRECONDITION', 'counter ' .. counter .. ' is not open by you')
  end
  local cur = f(c, 'current')
  if cur ~= '' then
    local st = redis.call('HGET', tkey(cur), 'status')
    if st == CALLED or st == SERVING then
      return fail('FAILED_PRECONDITION', 'counter ' .. counter .. ' still has ticket ' ..
                  redis.call('HGET', tkey(cur), 'number') .. ' ' .. STATUS_NAME[st] ..
                  '; complete, transfer or mark it no-show first')
    end
  end
  redis.call('HSET', key, 'state', C_CLOSED, 'officer', '', 'current', '')
  redis.call('DEL', Q .. 'officer:' .. officer)
  open_sets(false)
elseif op == 'pause' then
  if state ~= C_OPEN or not mine then
    return fail('FAILED_PRECONDITION', 'counter ' .. counter .. ' is not OPEN by you')
  end
  redis.call('HSET', key, 'state', C_PAUSED)
  open_sets(false)
else
  if state ~= C_PAUSED or not mine then
    return fail('FAILED_PRECONDITION', 'counter ' .. counter .. ' is not PAUSED by you')
  end
  redis.call('HSET', key, 'state', C_OPEN)
  open_sets(true)
end
live(office, 'change', '')
return reply()
)lua"));
  return *script;
}

// ARGV: counter.
const LuaScript& GetCounterScript() {
  static const LuaScript* script =
      new LuaScript(Read("queue_get_counter", R"lua(
return pack(redis.call('HGETALL', ckey(ARGV[1])))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, counter, officer, now, priority (1|0),
// counter name, office, type, agency, envelope, payload, service ids...
const LuaScript& CallNextScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_call_next", R"lua(
local counter, officer, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local cname, office = ARGV[6], ARGV[7]
local c = load(ckey(counter))
local bad = check_counter(c, counter, officer, false)
if bad then return bad end
local cur = f(c, 'current')
if cur ~= '' then
  local st = redis.call('HGET', tkey(cur), 'status')
  if st == CALLED or st == SERVING then
    return fail('FAILED_PRECONDITION', 'ticket ' ..
                redis.call('HGET', tkey(cur), 'number') .. ' is still ' ..
                STATUS_NAME[st] .. ' at counter ' .. counter ..
                '; complete, transfer or mark it no-show first')
  end
end
-- The first of the keys with the lowest score (ties: lowest id).
local function earliest(keys, due)
  local best_id, best_score, best_key
  for _, k in ipairs(keys) do
    local r
    if due then
      r = redis.call('ZRANGEBYSCORE', k, '-inf', due_score(now), 'WITHSCORES', 'LIMIT', 0, 1)
    else
      r = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    end
    if #r > 0 then
      local s = tonumber(r[2])
      if not best_id or s < best_score or (s == best_score and r[1] < best_id) then
        best_id, best_score, best_key = r[1], s, k
      end
    end
  end
  return best_id, best_key
end
local function group_keys(g)
  local keys = {}
  for i = 12, #ARGV do keys[#keys + 1] = Q .. 'w:' .. office .. ':' .. ARGV[i] .. ':' .. g end
  return keys
end
local order
if ARGV[5] == '1' then
  order = {{'p', false}, {'a', true}, {'r', false}, {'a', false}}
else
  order = {{'a', true}, {'p', false}, {'r', false}, {'a', false}}
end
local id = earliest({Q .. 'wc:' .. counter}, false)
if not id then
  for _, g in ipairs(order) do
    id = earliest(group_keys(g[1]), g[2])
    if id then break end
  end
end
if not id then
  return fail('NOT_FOUND', 'nobody is waiting for counter ' .. counter)
end
local t = load(tkey(id))
dequeue(t)
local first_call = f(t, 'called') == ''
redis.call('HSET', tkey(id), 'status', CALLED, 'called', now, 'counter', counter,
           'cname', cname, 'officer', officer, 'to_counter', '')
redis.call('HSET', ckey(counter), 'current', id)
local waited = seconds_between(t.wait_from, now)
local keys = stat_keys(t)
if not first_call then keys = {keys[1]} end
local counts = {called = 1, wait_sum = waited}
counts['h' .. math.min(math.floor(waited / 60), WAIT_BUCKETS - 1)] = 1
if waited <= tonumber(t.target) * 60 then counts.within = 1 end
stat_add(keys, counts)
redis.call('LPUSH', Q .. 'calls:' .. office,
           pack({t.number, counter, cname, t.service, now, '0'}))
redis.call('LTRIM', Q .. 'calls:' .. office, 0, BOARD_CALLS - 1)
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[8], ARGV[9], ARGV[10], ARGV[11],
                prima_pb_bytes(1, id) .. prima_pb_bytes(3, t.service) ..
                prima_pb_bytes(4, t.number) .. prima_pb_int(7, waited))
live(office, 'call', id, {'n', t.number, 'c', counter, 'cn', cname,
                          's', t.service, 'r', '0', 'ms', ARGV[4]})
return pack(view(id, now))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, action (recall|no_show|start), counter,
// officer, ticket, now, type, agency, envelope, payload.
const LuaScript& ActScript() {
  static const LuaScript* script = new LuaScript(Mutation("queue_act", R"lua(
local action, counter, officer, id, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local c = load(ckey(counter))
local bad = check_counter(c, counter, officer, true)
if bad then return bad end
local t, err = current_ticket(c, counter, id, {CALLED})
if err then return err end
if action == 'recall' then
  redis.call('HINCRBY', tkey(id), 'recalls', 1)
  redis.call('LPUSH', Q .. 'calls:' .. t.office,
             pack({t.number, counter, f(t, 'cname'), t.service, now, '1'}))
  redis.call('LTRIM', Q .. 'calls:' .. t.office, 0, BOARD_CALLS - 1)
  live(t.office, 'call', id, {'n', t.number, 'c', counter, 'cn', f(t, 'cname'),
                              's', t.service, 'r', '1', 'ms', now})
elseif action == 'no_show' then
  redis.call('HSET', tkey(id), 'status', NO_SHOW, 'ended', now)
  redis.call('HSET', ckey(counter), 'current', '')
  stat_add(stat_keys(t), {no_show = 1})
  prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[7], ARGV[8], ARGV[9], ARGV[10],
                  prima_pb_bytes(3, t.service) ..
                  prima_pb_int(5, seconds_between(t.wait_from, t.called)))
  live(t.office, 'change', id)
else
  redis.call('HSET', tkey(id), 'status', SERVING, 'started', now)
  live(t.office, 'change', id)
end
return pack(view(id, now))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, counter, officer, ticket, now, outcome,
// weight of the new duration in the service's mean, type, agency, envelope,
// payload.
const LuaScript& CompleteScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_complete", R"lua(
local counter, officer, id, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = load(ckey(counter))
local bad = check_counter(c, counter, officer, true)
if bad then return bad end
local t, err = current_ticket(c, counter, id, {CALLED, SERVING})
if err then return err end
redis.call('HSET', tkey(id), 'status', COMPLETED, 'ended', now, 'outcome', ARGV[6])
redis.call('HSET', ckey(counter), 'current', '')
local served_from = f(t, 'started')
if served_from == '' then served_from = t.called end
local svc = seconds_between(served_from, now)
local keys = stat_keys(t)
stat_add(keys, {served = 1, svc_sum = svc})
stat_server(keys, 'counter', counter, svc)
stat_server(keys, 'officer', officer, svc)
-- The wait estimate's input: call to completion, weighted towards the recent.
local mkey = Q .. 'mean:' .. t.office .. ':' .. t.service
local m = redis.call('HMGET', mkey, 'mean', 'n')
local dur = (tonumber(now) - tonumber(t.called)) / 1000
local mean = tonumber(m[1] or '0')
local n = tonumber(m[2] or '0')
if n == 0 then mean = dur else mean = mean + tonumber(ARGV[7]) * (dur - mean) end
redis.call('HSET', mkey, 'mean', string.format('%.3f', mean), 'n', n + 1)
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[8], ARGV[9], ARGV[10], ARGV[11],
                prima_pb_bytes(3, t.service) .. prima_pb_int(6, svc) ..
                prima_pb_int(7, seconds_between(t.wait_from, t.called)) ..
                prima_pb_bytes(9, local_date_pb(t.date)) ..
                prima_pb_bytes(10, f(t, 'secret')))
live(t.office, 'change', id)
return pack(view(id, now))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, counter, officer, ticket, now, to service,
// its target minutes, to counter, type, agency, envelope, payload.
const LuaScript& TransferScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_transfer", R"lua(
local counter, officer, id, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local to_service, to_counter = ARGV[6], ARGV[8]
local c = load(ckey(counter))
local bad = check_counter(c, counter, officer, true)
if bad then return bad end
local t, err = current_ticket(c, counter, id, {CALLED, SERVING})
if err then return err end
if to_service ~= '' and to_service == t.service then
  return fail('INVALID_ARGUMENT', 'to_service_id: the ticket is already in ' .. to_service)
end
stat_add(stat_keys(t), {transferred = 1})
local from_service = t.service
if to_service ~= '' then
  t.service = to_service
  t.target = ARGV[7]
end
t.to_counter = to_counter
redis.call('HSET', tkey(id), 'status', WAITING, 'service', t.service,
           'target', t.target, 'to_counter', to_counter, 'counter', '',
           'cname', '', 'officer', '', 'started', '')
redis.call('HINCRBY', tkey(id), 'transfers', 1)
redis.call('HSET', ckey(counter), 'current', '')
t.status = WAITING
enqueue(t)
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[9], ARGV[10], ARGV[11], ARGV[12],
                prima_pb_bytes(3, from_service) .. prima_pb_bytes(4, t.service))
live(t.office, 'change', id)
return pack(view(id, now))
)lua"));
  return *script;
}

// ARGV: office.
const LuaScript& BoardScript() {
  static const LuaScript* script = new LuaScript(Read("queue_board", R"lua(
local waiting = redis.call('HGETALL', Q .. 'waiting:' .. ARGV[1])
local calls = redis.call('LRANGE', Q .. 'calls:' .. ARGV[1], 0, BOARD_CALLS - 1)
return pack({pack(waiting), pack(calls)})
)lua"));
  return *script;
}

// KEYS[1]: the directory's office index; ARGV: the most offices to read.
// Replies {office, service, waiting, ...}.
const LuaScript& WaitingCountsScript() {
  static const LuaScript* script =
      new LuaScript(Read("queue_waiting_counts", R"lua(
local out = {}
for _, office in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local waiting = redis.call('HGETALL', Q .. 'waiting:' .. office)
  for i = 1, #waiting, 2 do
    out[#out + 1] = office
    out[#out + 1] = waiting[i]
    out[#out + 1] = waiting[i + 1]
  end
end
return out
)lua"));
  return *script;
}

// ARGV: office, date, service ('' for the office).
const LuaScript& StatsScript() {
  static const LuaScript* script = new LuaScript(Read("queue_stats", R"lua(
local scope = ARGV[3]
if scope == '' then scope = '_all' end
local base = Q .. 'st:' .. ARGV[1] .. ':' .. ARGV[2] .. ':' .. scope
local waiting = 0
if ARGV[3] == '' then
  local all = redis.call('HVALS', Q .. 'waiting:' .. ARGV[1])
  for _, v in ipairs(all) do waiting = waiting + tonumber(v) end
else
  waiting = tonumber(redis.call('HGET', Q .. 'waiting:' .. ARGV[1], ARGV[3]) or '0')
end
return pack({pack(redis.call('HGETALL', base)),
             pack(redis.call('HGETALL', base .. ':counter')),
             pack(redis.call('HGETALL', base .. ':officer')), waiting})
)lua"));
  return *script;
}

// ---- appointment scripts ----
//
// Appointment hash fields: id, office, service, agency, status
// (AppointmentStatus number), slot, slot_end, booked (Unix ms), date, secret,
// subject, ticket. Bookings per slot: hash slots:<office>:<service>:<date>,
// slot start ms -> count.

// ARGV: office, service, date.
const LuaScript& SlotsScript() {
  static const LuaScript* script = new LuaScript(Read("queue_slots", R"lua(
local settings = redis.call('HGETALL', Q .. 'settings:' .. ARGV[1] .. ':' .. ARGV[2])
local booked = redis.call('HGETALL', Q .. 'slots:' .. ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3])
return pack({pack(settings), pack(booked)})
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, office, service, slot, capacity, horizon, grace.
const LuaScript& SettingsScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_settings", R"lua(
local key = Q .. 'settings:' .. ARGV[2] .. ':' .. ARGV[3]
redis.call('HSET', key, 'slot', ARGV[4], 'capacity', ARGV[5], 'horizon', ARGV[6],
           'grace', ARGV[7])
return pack(redis.call('HGETALL', key))
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, id, office, service, agency, slot, slot end, date,
// now, capacity, secret sha, subject, receipt key id.
const LuaScript& BookScript() {
  static const LuaScript* script = new LuaScript(Mutation("queue_book", R"lua(
local id, office, service, slot = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local skey = Q .. 'slots:' .. office .. ':' .. service .. ':' .. ARGV[8]
local booked = tonumber(redis.call('HGET', skey, slot) or '0')
if booked >= tonumber(ARGV[10]) then
  return fail('RESOURCE_EXHAUSTED:SLOT_FULL', 'slot_start_time: the slot is full (' ..
              booked .. ' of ' .. ARGV[10] .. ' booked)')
end
redis.call('HINCRBY', skey, slot, 1)
redis.call('EXPIRE', skey, APPOINTMENT_TTL)
local key = Q .. 'ap:' .. id
redis.call('HSET', key, 'id', id, 'office', office, 'service', service,
           'agency', ARGV[5], 'status', '1', 'slot', slot, 'slot_end', ARGV[7],
           'date', ARGV[8], 'booked', ARGV[9], 'secret', ARGV[11],
           'subject', ARGV[12], 'ticket', '')
redis.call('EXPIRE', key, APPOINTMENT_TTL)
local out = redis.call('HGETALL', key)
out[#out + 1] = '_kid'
out[#out + 1] = ARGV[13]
return pack(out)
)lua"));
  return *script;
}

// ARGV: id, secret sha, subject, staff agency.
const LuaScript& GetAppointmentScript() {
  static const LuaScript* script =
      new LuaScript(Read("queue_get_appointment", R"lua(
local _, err = open_record('appointment', ARGV[1], Q .. 'ap:' .. ARGV[1], ARGV[2],
                           ARGV[3], ARGV[4])
if err then return err end
return pack(redis.call('HGETALL', Q .. 'ap:' .. ARGV[1]))
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, id, secret sha, subject, staff agency.
const LuaScript& CancelAppointmentScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_cancel_appointment", R"lua(
local key = Q .. 'ap:' .. ARGV[2]
local ap, err = open_booked(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if err then return err end
redis.call('HSET', key, 'status', '2')
redis.call('HINCRBY', Q .. 'slots:' .. ap.office .. ':' .. ap.service .. ':' .. ap.date,
           ap.slot, -1)
return pack(redis.call('HGETALL', key))
)lua"));
  return *script;
}

// KEYS: idem, stream. ARGV: ttl, appointment, secret sha, subject, staff
// agency, now, ticket id, prefix, date, expires, target, max seq, on time
// (1|0), type, event agency, envelope, payload.
const LuaScript& CheckInScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("queue_check_in", R"lua(
local key = Q .. 'ap:' .. ARGV[2]
local ap, ap_err = open_booked(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if ap_err then return ap_err end
local on_time = ARGV[13] == '1'
local now = ARGV[6]
local t, err = issue({id = ARGV[7], office = ap.office, service = ap.service,
  agency = ap.agency, prefix = ARGV[8], date = ARGV[9], channel = '1',
  class = on_time and '5' or '1', group = on_time and 'a' or 'r', now = now,
  wait_from = on_time and ap.slot or now, expires = ARGV[10],
  target = ARGV[11], secret = ap.secret, subject = ap.subject,
  max_seq = ARGV[12], appt = ap.id})
if err then return err end
redis.call('HSET', key, 'status', '3', 'ticket', t.id)
prima_emit_with(KEYS[2], EVENT_MAXLEN, ARGV[14], ap.agency,
                ARGV[16] .. prima_pb_bytes(3, ap.agency), ARGV[17],
                prima_pb_bytes(2, ap.office) .. prima_pb_bytes(3, ap.service) ..
                prima_pb_bytes(4, t.number))
local out = view(t.id, now)
-- The receipt secret is the appointment's: echoed when the caller gave it.
if ARGV[3] ~= '' and ARGV[3] == ap.secret then
  out[#out + 1] = '_echo'
  out[#out + 1] = '1'
end
return pack(out)
)lua"));
  return *script;
}

// ---- replies ----

// A local date stored as YYYYMMDD (DateKey).
prima::common::v1::LocalDate LocalDateField(const Fields& f,
                                            absl::string_view name) {
  const int64_t date = FieldInt(f, name);
  prima::common::v1::LocalDate out;
  out.set_year(static_cast<int32_t>(date / 10000));
  out.set_month(static_cast<int32_t>(date / 100 % 100));
  out.set_day(static_cast<int32_t>(date % 100));
  return out;
}

v1::Ticket TicketFromFields(const Fields& f) {
  v1::Ticket t;
  t.set_id(FieldStr(f, "id"));
  t.set_number(FieldStr(f, "number"));
  t.set_office_id(FieldStr(f, "office"));
  t.set_service_id(FieldStr(f, "service"));
  t.set_agency_id(FieldStr(f, "agency"));
  t.set_channel(static_cast<v1::Channel>(FieldInt(f, "channel")));
  t.set_priority_class(static_cast<v1::PriorityClass>(FieldInt(f, "class")));
  t.set_status(static_cast<v1::TicketStatus>(FieldInt(f, "status")));
  *t.mutable_local_date() = LocalDateField(f, "date");
  // A time not reached yet (0) stays unset: calling mutable_*() would make
  // the field present, as the epoch.
  using TimeField = google::protobuf::Timestamp* (v1::Ticket::*)();
  auto time_field = [&](absl::string_view name, TimeField field) {
    if (const int64_t ms = FieldInt(f, name); ms > 0) {
      *(t.*field)() = ToProtoTime(FromMs(ms));
    }
  };
  time_field("issued", &v1::Ticket::mutable_issue_time);
  time_field("wait_from", &v1::Ticket::mutable_wait_start_time);
  time_field("called", &v1::Ticket::mutable_call_time);
  time_field("started", &v1::Ticket::mutable_service_start_time);
  time_field("ended", &v1::Ticket::mutable_end_time);
  t.set_counter_id(FieldStr(f, "counter"));
  t.set_counter_name(FieldStr(f, "cname"));
  t.set_officer_id(FieldStr(f, "officer"));
  t.set_outcome(static_cast<v1::ServiceOutcome>(FieldInt(f, "outcome")));
  t.set_recall_count(static_cast<int32_t>(FieldInt(f, "recalls")));
  t.set_transfer_count(static_cast<int32_t>(FieldInt(f, "transfers")));
  t.set_target_counter_id(FieldStr(f, "to_counter"));
  t.set_appointment_id(FieldStr(f, "appt"));
  if (t.status() == v1::TICKET_STATUS_WAITING) {
    time_field("expires", &v1::Ticket::mutable_expire_time);
    WaitInputs in;
    in.ahead = FieldInt(f, "_ahead");
    in.open_counters = FieldInt(f, "_open");
    in.busy_counters = FieldInt(f, "_busy");
    double mean = 0;
    if (!absl::SimpleAtod(FieldStr(f, "_mean"), &mean)) mean = 0;
    in.recent_service_seconds = mean;
    in.samples = FieldInt(f, "_n");
    in.target_waiting_minutes = static_cast<int32_t>(FieldInt(f, "target"));
    t.set_position(static_cast<int32_t>(in.ahead + 1));
    t.set_open_counters(static_cast<int32_t>(in.open_counters));
    t.set_estimated_wait_seconds(static_cast<int32_t>(EstimateWaitSeconds(in)));
  }
  return t;
}

absl::StatusOr<v1::Ticket> ParseTicket(absl::string_view packed) {
  absl::StatusOr<Fields> fields = UnpackFields(packed);
  if (!fields.ok()) return fields.status();
  if (FieldStr(*fields, "id").empty()) {
    return absl::InternalError("redis: ticket reply without an id");
  }
  return TicketFromFields(*fields);
}

v1::Appointment AppointmentFromFields(const Fields& f) {
  v1::Appointment a;
  a.set_id(FieldStr(f, "id"));
  a.set_office_id(FieldStr(f, "office"));
  a.set_service_id(FieldStr(f, "service"));
  a.set_agency_id(FieldStr(f, "agency"));
  a.set_status(static_cast<v1::AppointmentStatus>(FieldInt(f, "status")));
  *a.mutable_slot_start_time() = ToProtoTime(FromMs(FieldInt(f, "slot")));
  *a.mutable_slot_end_time() = ToProtoTime(FromMs(FieldInt(f, "slot_end")));
  *a.mutable_book_time() = ToProtoTime(FromMs(FieldInt(f, "booked")));
  *a.mutable_local_date() = LocalDateField(f, "date");
  a.set_ticket_id(FieldStr(f, "ticket"));
  return a;
}

absl::StatusOr<v1::Appointment> ParseAppointment(absl::string_view packed) {
  absl::StatusOr<Fields> fields = UnpackFields(packed);
  if (!fields.ok()) return fields.status();
  if (FieldStr(*fields, "id").empty()) {
    return absl::InternalError("redis: appointment reply without an id");
  }
  return AppointmentFromFields(*fields);
}

constexpr char kTicketReceipt[] = "ticket";
constexpr char kAppointmentReceipt[] = "appointment";

// The reply of a script that made or showed a receipt: `_kid` names the key
// the secret was derived with (from the record's id as `kind`), `_echo` says
// the caller's own secret (`echoed`) matched and is given back. No secret is
// ever in the reply itself, so none is in the idempotency record either.
template <typename T>
absl::StatusOr<T> ParseReceipted(absl::string_view packed,
                                 T (*from_fields)(const Fields&),
                                 const ReceiptKeys& keys,
                                 absl::string_view kind,
                                 absl::string_view echoed) {
  absl::StatusOr<Fields> fields = UnpackFields(packed);
  if (!fields.ok()) return fields.status();
  if (FieldStr(*fields, "id").empty()) {
    return absl::InternalError("redis: receipt reply without an id");
  }
  T record = from_fields(*fields);
  const std::string key_id = FieldStr(*fields, "_kid");
  if (FieldStr(*fields, "_echo") == "1") {
    record.set_receipt_secret(std::string(echoed));
  } else if (!key_id.empty()) {
    record.set_receipt_secret(keys.SecretForReplay(key_id, kind, record.id()));
  }
  return record;
}

v1::AppointmentSettings SettingsFromFields(absl::string_view office,
                                           absl::string_view service,
                                           const Fields& f) {
  v1::AppointmentSettings s;
  s.set_office_id(std::string(office));
  s.set_service_id(std::string(service));
  s.set_slot_minutes(static_cast<int32_t>(FieldInt(f, "slot")));
  s.set_capacity_per_slot(static_cast<int32_t>(FieldInt(f, "capacity")));
  s.set_booking_horizon_days(static_cast<int32_t>(FieldInt(f, "horizon")));
  s.set_check_in_grace_minutes(static_cast<int32_t>(FieldInt(f, "grace")));
  return WithDefaults(s, !f.empty());
}

// Replies of one-string scripts (reads) and idempotent scripts (mutations),
// parsed by `parse`.
template <typename T>
absl::AnyInvocable<void(absl::StatusOr<RedisValue>)> ReadReply(
    absl::StatusOr<T> (*parse)(absl::string_view), Done<T> done) {
  return [parse,
          done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
    if (!reply.ok()) return done(reply.status());
    if (!reply->is_string()) {
      return done(absl::InternalError("redis: unexpected script reply"));
    }
    done(parse(reply->str));
  };
}
template <typename T, typename Parse>
Done<IdempotentResult> MutationReply(Parse parse, Done<T> done) {
  return [parse, done = std::move(done)](
             absl::StatusOr<IdempotentResult> result) mutable {
    if (!result.ok()) return done(result.status());
    done(parse(result->value));
  };
}

v1::CounterSession SessionFromFields(const CounterInfo& counter,
                                     const Fields& f) {
  v1::CounterSession s;
  s.set_counter_id(counter.id);
  s.set_office_id(counter.office_id);
  s.set_agency_id(counter.agency_id);
  s.set_counter_name(counter.name);
  s.set_priority(counter.priority);
  for (const std::string& id : counter.service_ids) s.add_service_ids(id);
  const int64_t state = FieldInt(f, "state");
  s.set_state(state == 0 ? v1::COUNTER_STATE_CLOSED
                         : static_cast<v1::CounterState>(state));
  if (s.state() != v1::COUNTER_STATE_CLOSED) {
    s.set_officer_id(FieldStr(f, "officer"));
    if (FieldInt(f, "opened") > 0) {
      *s.mutable_open_time() = ToProtoTime(FromMs(FieldInt(f, "opened")));
    }
    s.set_current_ticket_id(FieldStr(f, "current"));
  }
  return s;
}

ev::EventEnvelope Envelope(absl::string_view type, absl::string_view agency,
                           const google::protobuf::Message& payload,
                           absl::Time now, const QueueActor& actor) {
  ev::EventEnvelope envelope =
      MakeEnvelope(type, agency, kProducer, payload, now, actor.request_id);
  *envelope.mutable_actor() = actor.actor;
  return envelope;
}

// type, agency, envelope, payload: the four event arguments of the scripts.
std::vector<std::string> EventArgs(const ev::EventEnvelope& envelope) {
  return {envelope.type(), envelope.agency(), envelope.SerializeAsString(),
          EnvelopePayload(envelope)};
}

void Append(std::vector<std::string>& to, std::vector<std::string> more) {
  for (std::string& s : more) to.push_back(std::move(s));
}

}  // namespace

QueueStore::QueueStore(RedisClient& redis, const Clock& clock,
                       const ReceiptKeys& keys)
    : redis_(redis), clock_(clock), keys_(keys) {}

// ---- tickets ----

void QueueStore::IssueTicket(const IssueParams& p, const QueueActor& actor,
                             Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  const std::string id = absl::AsciiStrToLower(NewTimeOrderedId(now));
  const std::string secret = keys_.CurrentSecret(kTicketReceipt, id);
  ev::TicketIssued payload;
  payload.set_ticket_id(id);
  payload.set_office_id(p.office_id);
  payload.set_service_id(p.service_id);
  payload.set_channel(
      std::string(absl::StripPrefix(v1::Channel_Name(p.channel), "CHANNEL_")));
  payload.set_priority_class(std::string(absl::StripPrefix(
      v1::PriorityClass_Name(p.priority_class), "PRIORITY_CLASS_")));
  *payload.mutable_local_date() = ToLocalDate(p.local_date);
  const ev::EventEnvelope envelope =
      Envelope("ticket.issued", p.agency_id, payload, now, actor);
  std::vector<std::string> args = {
      id,
      p.office_id,
      p.service_id,
      p.agency_id,
      p.ticket_prefix,
      DateKey(p.local_date),
      absl::StrCat(static_cast<int>(p.channel)),
      absl::StrCat(static_cast<int>(p.priority_class)),
      std::string(GroupKeyPart(GroupOf(p.priority_class))),
      MsArg(now),
      MsArg(p.expire_time),
      absl::StrCat(p.target_waiting_minutes),
      Sha256Hex(secret),
      p.citizen_subject,
      keys_.current_id(),
      absl::StrCat(kMaxTicketsPerDay)};
  Append(args, EventArgs(envelope));
  RunIdempotent(redis_, IssueScript(),
                {kService, "IssueTicket", actor.subject, actor.request_id,
                 actor.request_fingerprint, actor.rate_checks},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(
                    [this](absl::string_view packed) {
                      return ParseReceipted<v1::Ticket>(
                          packed, &TicketFromFields, keys_, kTicketReceipt, "");
                    },
                    std::move(done)));
}

namespace {
std::vector<std::string> ProofArgs(const AccessProof& proof) {
  return {proof.secret.empty() ? "" : Sha256Hex(proof.secret), proof.subject,
          proof.staff_agency};
}
}  // namespace

void QueueStore::GetTicket(absl::string_view ticket_id,
                           const AccessProof& proof, Done<v1::Ticket> done) {
  std::vector<std::string> args = {std::string(ticket_id), MsArg(clock_.Now())};
  Append(args, ProofArgs(proof));
  redis_.Eval(GetTicketScript(), {}, std::move(args),
              ReadReply(&ParseTicket, std::move(done)), {.resend_safe = true});
}

void QueueStore::CancelTicket(absl::string_view ticket_id,
                              const AccessProof& proof, const QueueActor& actor,
                              Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  ev::TicketLeftQueue payload;
  payload.set_ticket_id(std::string(ticket_id));
  payload.set_reason("CANCELLED");
  // The agency is the ticket's; the script fills it in from the stored ticket.
  const ev::EventEnvelope envelope =
      Envelope("ticket.cancelled", "", payload, now, actor);
  std::vector<std::string> args = {std::string(ticket_id), MsArg(now)};
  Append(args, ProofArgs(proof));
  args.push_back(envelope.type());
  args.push_back(envelope.SerializeAsString());
  args.push_back(EnvelopePayload(envelope));
  RunIdempotent(redis_, CancelScript(),
                {kService, "CancelTicket", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(&ParseTicket, std::move(done)));
}

void QueueStore::ExpireDue(int limit, Done<int> done) {
  const absl::Time now = clock_.Now();
  redis_.Eval(
      DueScript(), {}, {MsArg(now), absl::StrCat(limit)},
      [this, now,
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array() || reply->elements.empty()) return done(0);
        struct Tally {
          Done<int> done;
          int pending = 0;
          int expired = 0;
          absl::Status status;
        };
        auto tally = std::make_shared<Tally>();
        tally->done = std::move(done);
        tally->pending = static_cast<int>(reply->elements.size());
        for (const RedisValue& id : reply->elements) {
          ev::TicketLeftQueue payload;
          payload.set_ticket_id(id.str);
          payload.set_reason("EXPIRED");
          // The envelope's agency is the ticket's, so the script passes it to
          // XADD; the serialized envelope carries none (consumers read the
          // stream field).
          ev::EventEnvelope envelope =
              MakeEnvelope("ticket.expired", "", kProducer, payload, now);
          redis_.Eval(ExpireScript(), {EventStreamKey(kProducer)},
                      {id.str, MsArg(now), envelope.type(),
                       envelope.SerializeAsString(), EnvelopePayload(envelope)},
                      [tally](absl::StatusOr<RedisValue> r) {
                        if (!r.ok()) {
                          tally->status = r.status();
                        } else if (r->type == RedisValue::Type::kInteger &&
                                   r->integer == 1) {
                          ++tally->expired;
                        }
                        if (--tally->pending == 0) {
                          if (tally->status.ok()) {
                            tally->done(tally->expired);
                          } else {
                            tally->done(tally->status);
                          }
                        }
                      },
                      {.resend_safe = true});
        }
      },
      {.resend_safe = true});
}

// ---- counters ----

void QueueStore::ChangeCounter(CounterChange change, const CounterInfo& counter,
                               const QueueActor& actor,
                               Done<v1::CounterSession> done) {
  absl::string_view op = "open", rpc = "OpenCounter";
  if (change == CounterChange::kClose) op = "close", rpc = "CloseCounter";
  if (change == CounterChange::kPause) op = "pause", rpc = "PauseCounter";
  if (change == CounterChange::kResume) op = "resume", rpc = "ResumeCounter";
  std::vector<std::string> args = {std::string(op),   counter.id,
                                   actor.subject,     MsArg(clock_.Now()),
                                   counter.office_id, counter.agency_id};
  for (const std::string& s : counter.service_ids) args.push_back(s);
  RunIdempotent(redis_, CounterScript(),
                {kService, rpc, actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {}, std::move(args),
                [counter, done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  absl::StatusOr<Fields> fields = UnpackFields(result->value);
                  if (!fields.ok()) return done(fields.status());
                  done(SessionFromFields(counter, *fields));
                });
}

void QueueStore::GetCounterSession(const CounterInfo& counter,
                                   Done<v1::CounterSession> done) {
  redis_.Eval(GetCounterScript(), {}, {counter.id},
              [counter, done = std::move(done)](
                  absl::StatusOr<RedisValue> reply) mutable {
                if (!reply.ok()) return done(reply.status());
                absl::StatusOr<Fields> fields = UnpackFields(reply->str);
                if (!fields.ok()) return done(fields.status());
                done(SessionFromFields(counter, *fields));
              },
              {.resend_safe = true});
}

// ---- serving ----

void QueueStore::CallNext(const CounterInfo& counter, const QueueActor& actor,
                          Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  ev::TicketCalled payload;
  payload.set_office_id(counter.office_id);
  payload.set_counter_id(counter.id);
  payload.set_officer_id(actor.subject);
  const ev::EventEnvelope envelope =
      Envelope("ticket.called", counter.agency_id, payload, now, actor);
  std::vector<std::string> args = {counter.id,   actor.subject,
                                   MsArg(now),   counter.priority ? "1" : "0",
                                   counter.name, counter.office_id};
  Append(args, EventArgs(envelope));
  for (const std::string& s : counter.service_ids) args.push_back(s);
  RunIdempotent(redis_, CallNextScript(),
                {kService, "CallNext", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(&ParseTicket, std::move(done)));
}

void QueueStore::Act(TicketAction action, const CounterInfo& counter,
                     absl::string_view ticket_id, const QueueActor& actor,
                     Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  absl::string_view op = "recall", rpc = "Recall";
  if (action == TicketAction::kNoShow) op = "no_show", rpc = "MarkNoShow";
  if (action == TicketAction::kStartService) op = "start", rpc = "StartService";
  ev::TicketLeftQueue payload;
  payload.set_ticket_id(std::string(ticket_id));
  payload.set_office_id(counter.office_id);
  payload.set_reason("NO_SHOW");
  const ev::EventEnvelope envelope =
      Envelope("ticket.no_show", counter.agency_id, payload, now, actor);
  std::vector<std::string> args = {std::string(op), counter.id, actor.subject,
                                   std::string(ticket_id), MsArg(now)};
  Append(args, EventArgs(envelope));
  RunIdempotent(redis_, ActScript(),
                {kService, rpc, actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(&ParseTicket, std::move(done)));
}

void QueueStore::CompleteService(const CounterInfo& counter,
                                 absl::string_view ticket_id,
                                 v1::ServiceOutcome outcome,
                                 const QueueActor& actor,
                                 Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  ev::TicketServiceCompleted payload;
  payload.set_ticket_id(std::string(ticket_id));
  payload.set_office_id(counter.office_id);
  payload.set_counter_id(counter.id);
  payload.set_officer_id(actor.subject);
  payload.set_outcome(std::string(
      absl::StripPrefix(v1::ServiceOutcome_Name(outcome), "SERVICE_OUTCOME_")));
  const ev::EventEnvelope envelope = Envelope(
      "ticket.service_completed", counter.agency_id, payload, now, actor);
  std::vector<std::string> args = {counter.id,
                                   actor.subject,
                                   std::string(ticket_id),
                                   MsArg(now),
                                   absl::StrCat(static_cast<int>(outcome)),
                                   absl::StrCat(kServiceMeanWeight)};
  Append(args, EventArgs(envelope));
  RunIdempotent(redis_, CompleteScript(),
                {kService, "CompleteService", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(&ParseTicket, std::move(done)));
}

void QueueStore::TransferTicket(const CounterInfo& counter,
                                absl::string_view ticket_id,
                                const TransferTarget& target,
                                const QueueActor& actor,
                                Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  ev::TicketTransferred payload;
  payload.set_ticket_id(std::string(ticket_id));
  payload.set_office_id(counter.office_id);
  payload.set_to_counter_id(target.counter_id);
  payload.set_officer_id(actor.subject);
  const ev::EventEnvelope envelope =
      Envelope("ticket.transferred", counter.agency_id, payload, now, actor);
  std::vector<std::string> args = {counter.id,
                                   actor.subject,
                                   std::string(ticket_id),
                                   MsArg(now),
                                   target.service_id,
                                   absl::StrCat(target.target_waiting_minutes),
                                   target.counter_id};
  Append(args, EventArgs(envelope));
  RunIdempotent(redis_, TransferScript(),
                {kService, "TransferTicket", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(&ParseTicket, std::move(done)));
}

// ---- appointments ----

void QueueStore::GetSlotBookings(absl::string_view office_id,
                                 absl::string_view service_id,
                                 absl::CivilDay day, Done<SlotBookings> done) {
  redis_.Eval(
      SlotsScript(), {},
      {std::string(office_id), std::string(service_id), DateKey(day)},
      [office = std::string(office_id), service = std::string(service_id),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        absl::StatusOr<std::vector<std::string>> parts = Unpack(reply->str);
        if (!parts.ok() || parts->size() != 2) {
          return done(absl::InternalError("redis: bad slots reply"));
        }
        absl::StatusOr<Fields> settings = UnpackFields((*parts)[0]);
        absl::StatusOr<Fields> booked = UnpackFields((*parts)[1]);
        if (!settings.ok() || !booked.ok()) {
          return done(absl::InternalError("redis: bad slots reply"));
        }
        SlotBookings out;
        out.settings = SettingsFromFields(office, service, *settings);
        for (const auto& [slot, count] : *booked) {
          int64_t ms = 0, n = 0;
          if (absl::SimpleAtoi(slot, &ms) && absl::SimpleAtoi(count, &n)) {
            out.booked[ms] = static_cast<int32_t>(n);
          }
        }
        done(std::move(out));
      },
      {.resend_safe = true});
}

void QueueStore::UpdateAppointmentSettings(
    const v1::AppointmentSettings& settings, const QueueActor& actor,
    Done<v1::AppointmentSettings> done) {
  RunIdempotent(redis_, SettingsScript(),
                {kService, "UpdateAppointmentSettings", actor.subject,
                 actor.request_id, actor.request_fingerprint},
                {},
                {settings.office_id(), settings.service_id(),
                 absl::StrCat(settings.slot_minutes()),
                 absl::StrCat(settings.capacity_per_slot()),
                 absl::StrCat(settings.booking_horizon_days()),
                 absl::StrCat(settings.check_in_grace_minutes())},
                [office = settings.office_id(), service = settings.service_id(),
                 done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  absl::StatusOr<Fields> fields = UnpackFields(result->value);
                  if (!fields.ok()) return done(fields.status());
                  done(SettingsFromFields(office, service, *fields));
                });
}

void QueueStore::BookAppointment(const BookParams& p, const QueueActor& actor,
                                 Done<v1::Appointment> done) {
  const absl::Time now = clock_.Now();
  const std::string id = absl::AsciiStrToLower(NewTimeOrderedId(now));
  RunIdempotent(redis_, BookScript(),
                {kService, "BookAppointment", actor.subject, actor.request_id,
                 actor.request_fingerprint, actor.rate_checks},
                {},
                {id, p.office_id, p.service_id, p.agency_id,
                 MsArg(p.slot_start), MsArg(p.slot_end), DateKey(p.local_date),
                 MsArg(now), absl::StrCat(p.capacity),
                 Sha256Hex(keys_.CurrentSecret(kAppointmentReceipt, id)),
                 p.citizen_subject, keys_.current_id()},
                MutationReply(
                    [this](absl::string_view packed) {
                      return ParseReceipted<v1::Appointment>(
                          packed, &AppointmentFromFields, keys_,
                          kAppointmentReceipt, "");
                    },
                    std::move(done)));
}

void QueueStore::GetAppointment(absl::string_view appointment_id,
                                const AccessProof& proof,
                                Done<v1::Appointment> done) {
  std::vector<std::string> args = {std::string(appointment_id)};
  Append(args, ProofArgs(proof));
  redis_.Eval(GetAppointmentScript(), {}, std::move(args),
              ReadReply(&ParseAppointment, std::move(done)),
              {.resend_safe = true});
}

void QueueStore::CancelAppointment(absl::string_view appointment_id,
                                   const AccessProof& proof,
                                   const QueueActor& actor,
                                   Done<v1::Appointment> done) {
  std::vector<std::string> args = {std::string(appointment_id)};
  Append(args, ProofArgs(proof));
  RunIdempotent(redis_, CancelAppointmentScript(),
                {kService, "CancelAppointment", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {}, std::move(args),
                MutationReply(&ParseAppointment, std::move(done)));
}

void QueueStore::CheckIn(absl::string_view appointment_id,
                         const AccessProof& proof, const CheckInParams& p,
                         const QueueActor& actor, Done<v1::Ticket> done) {
  const absl::Time now = clock_.Now();
  const std::string ticket_id = absl::AsciiStrToLower(NewTimeOrderedId(now));
  ev::TicketIssued payload;
  payload.set_ticket_id(ticket_id);
  payload.set_channel("KIOSK");
  payload.set_priority_class(p.on_time ? "APPOINTMENT" : "REGULAR");
  *payload.mutable_local_date() = ToLocalDate(p.local_date);
  // Office, service and agency are the appointment's: the script adds them.
  const ev::EventEnvelope envelope =
      Envelope("ticket.issued", "", payload, now, actor);
  std::vector<std::string> args = {std::string(appointment_id)};
  Append(args, ProofArgs(proof));
  Append(args, {MsArg(now), ticket_id, p.ticket_prefix, DateKey(p.local_date),
                MsArg(p.expire_time), absl::StrCat(p.target_waiting_minutes),
                absl::StrCat(kMaxTicketsPerDay), p.on_time ? "1" : "0"});
  Append(args, EventArgs(envelope));
  RunIdempotent(redis_, CheckInScript(),
                {kService, "CheckIn", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                MutationReply(
                    [this, echoed = proof.secret](absl::string_view packed) {
                      return ParseReceipted<v1::Ticket>(
                          packed, &TicketFromFields, keys_, "", echoed);
                    },
                    std::move(done)));
}

// ---- boards and statistics ----

void QueueStore::GetWaitingCounts(int max_offices,
                                  Done<std::vector<QueueWaitingCount>> done) {
  redis_.Eval(
      WaitingCountsScript(), {directory::IndexKey(directory::Kind::kOffice)},
      {absl::StrCat(max_offices)},
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        const std::vector<RedisValue>& flat = reply->elements;
        if (flat.size() % 3 != 0) {
          return done(absl::InternalError("redis: bad waiting counts reply"));
        }
        std::vector<QueueWaitingCount> counts;
        counts.reserve(flat.size() / 3);
        for (size_t i = 0; i < flat.size(); i += 3) {
          QueueWaitingCount& count = counts.emplace_back();
          count.office = flat[i].str;
          count.service = flat[i + 1].str;
          if (!absl::SimpleAtoi(flat[i + 2].str, &count.waiting)) {
            count.waiting = 0;
          }
        }
        done(std::move(counts));
      },
      {.resend_safe = true});
}

void QueueStore::GetBoard(absl::string_view office_id, Done<Board> done) {
  redis_.Eval(
      BoardScript(), {}, {std::string(office_id)},
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        absl::StatusOr<std::vector<std::string>> parts = Unpack(reply->str);
        if (!parts.ok() || parts->size() != 2) {
          return done(absl::InternalError("redis: bad board reply"));
        }
        absl::StatusOr<std::vector<std::string>> waiting = Unpack((*parts)[0]);
        absl::StatusOr<std::vector<std::string>> calls = Unpack((*parts)[1]);
        if (!waiting.ok() || !calls.ok()) {
          return done(absl::InternalError("redis: bad board reply"));
        }
        Board board;
        for (size_t i = 0; i + 1 < waiting->size(); i += 2) {
          v1::ServiceWaiting w;
          w.set_service_id((*waiting)[i]);
          int64_t n = 0;
          if (!absl::SimpleAtoi((*waiting)[i + 1], &n)) n = 0;
          w.set_waiting(static_cast<int32_t>(n));
          board.waiting.push_back(std::move(w));
        }
        std::sort(board.waiting.begin(), board.waiting.end(),
                  [](const v1::ServiceWaiting& a, const v1::ServiceWaiting& b) {
                    return a.service_id() < b.service_id();
                  });
        for (const std::string& packed : *calls) {
          absl::StatusOr<std::vector<std::string>> c = Unpack(packed);
          if (!c.ok() || c->size() != 6) continue;
          v1::BoardCall call;
          call.set_ticket_number((*c)[0]);
          call.set_counter_id((*c)[1]);
          call.set_counter_name((*c)[2]);
          call.set_service_id((*c)[3]);
          int64_t ms = 0;
          if (absl::SimpleAtoi((*c)[4], &ms)) {
            *call.mutable_call_time() = ToProtoTime(FromMs(ms));
          }
          call.set_recall((*c)[5] == "1");
          board.calls.push_back(std::move(call));
        }
        done(std::move(board));
      },
      {.resend_safe = true});
}

namespace {

// Per-server rows from "<id>:served" / "<id>:svc" fields, by id.
std::vector<v1::ServerStats> ServerRows(const Fields& f) {
  std::map<std::string, v1::ServerStats> rows;
  for (const auto& [name, value] : f) {
    const size_t colon = name.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string id = name.substr(0, colon);
    int64_t n = 0;
    if (!absl::SimpleAtoi(value, &n)) continue;
    v1::ServerStats& row = rows[id];
    row.set_id(id);
    if (name.substr(colon + 1) == "served") {
      row.set_served(static_cast<int32_t>(n));
    } else {
      row.set_service_seconds_mean(static_cast<double>(n));  // sum for now
    }
  }
  std::vector<v1::ServerStats> out;
  for (auto& [id, row] : rows) {
    if (row.served() > 0) {
      row.set_service_seconds_mean(row.service_seconds_mean() / row.served());
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

void QueueStore::GetStats(absl::string_view office_id, absl::CivilDay date,
                          absl::string_view service_id,
                          Done<v1::QueueStats> done) {
  redis_.Eval(
      StatsScript(), {},
      {std::string(office_id), DateKey(date), std::string(service_id)},
      [office = std::string(office_id), date, service = std::string(service_id),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        absl::StatusOr<std::vector<std::string>> parts = Unpack(reply->str);
        if (!parts.ok() || parts->size() != 4) {
          return done(absl::InternalError("redis: bad stats reply"));
        }
        absl::StatusOr<Fields> main = UnpackFields((*parts)[0]);
        absl::StatusOr<Fields> counters = UnpackFields((*parts)[1]);
        absl::StatusOr<Fields> officers = UnpackFields((*parts)[2]);
        if (!main.ok() || !counters.ok() || !officers.ok()) {
          return done(absl::InternalError("redis: bad stats reply"));
        }
        const Fields& f = *main;
        v1::QueueStats s;
        s.set_office_id(office);
        *s.mutable_date() = ToLocalDate(date);
        s.set_service_id(service);
        int64_t waiting = 0;
        if (!absl::SimpleAtoi((*parts)[3], &waiting)) waiting = 0;
        s.set_waiting_now(static_cast<int32_t>(waiting));
        auto count = [&](absl::string_view name) {
          return static_cast<int32_t>(FieldInt(f, name));
        };
        s.set_issued(count("issued"));
        s.set_called(count("called"));
        s.set_served(count("served"));
        s.set_no_shows(count("no_show"));
        s.set_cancelled(count("cancelled"));
        s.set_transferred(count("transferred"));
        s.set_expired(count("expired"));
        if (s.called() > 0) {
          s.set_wait_seconds_mean(static_cast<double>(FieldInt(f, "wait_sum")) /
                                  s.called());
          s.set_within_target_share(static_cast<double>(count("within")) /
                                    s.called());
          std::vector<int64_t> buckets(kWaitBuckets, 0);
          for (int b = 0; b < kWaitBuckets; ++b) {
            buckets[b] = FieldInt(f, absl::StrCat("h", b));
          }
          s.set_wait_seconds_p50(HistogramQuantileSeconds(buckets, 0.5));
          s.set_wait_seconds_p90(HistogramQuantileSeconds(buckets, 0.9));
        }
        if (s.served() > 0) {
          s.set_service_seconds_mean(
              static_cast<double>(FieldInt(f, "svc_sum")) / s.served());
        }
        for (v1::ServerStats& row : ServerRows(*counters)) {
          *s.add_counters() = std::move(row);
        }
        for (v1::ServerStats& row : ServerRows(*officers)) {
          *s.add_officers() = std::move(row);
        }
        done(std::move(s));
      },
      {.resend_safe = true});
}

}  // namespace prima::queue
