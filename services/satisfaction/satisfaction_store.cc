#include "services/satisfaction/satisfaction_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/lua_script.h"
#include "services/common/proto_time.h"
#include "services/common/script_reply.h"

namespace prima::satisfaction {

namespace {

constexpr char kService[] = "satisfaction";
constexpr char kPrefix[] = "prima:satisfaction:";
// A redelivered ticket.service_completed arrives within this window (the
// consumer's retries and reclaims), so a visit is counted once.
constexpr int64_t kVisitDedupeSeconds = 72 * 3600;
// An invitation stays readable this long after it expires, so a late form
// still learns "expired" rather than "unknown".
constexpr absl::Duration kInvitationGrace = absl::Hours(7 * 24);
// How long a swept month and its emitted low elements are remembered: longer
// than the sweep ever looks back.
constexpr int64_t kSweepMarkerSeconds = 400 * 24 * 3600;
// A custom range is at most a leap year of days.
constexpr size_t kMaxPeriodKeys = 366;

std::string MsArg(absl::Time t) { return absl::StrCat(absl::ToUnixMillis(t)); }
std::string KindArg(v1::ScopeKind kind) {
  return absl::StrCat(static_cast<int>(kind));
}

void Append(std::vector<std::string>& to, std::vector<std::string> more) {
  for (std::string& s : more) to.push_back(std::move(s));
}

// A count, then (kind, id) per scope.
std::vector<std::string> ScopeArgs(const std::vector<ScopeRef>& scopes) {
  std::vector<std::string> args = {absl::StrCat(scopes.size())};
  for (const ScopeRef& scope : scopes) {
    Append(args, {KindArg(scope.kind), scope.id});
  }
  return args;
}

// A count, then the keys.
std::vector<std::string> PeriodArgs(const std::vector<std::string>& keys) {
  std::vector<std::string> args = {absl::StrCat(keys.size())};
  Append(args, keys);
  return args;
}

absl::Status CheckScopes(const std::vector<ScopeRef>& scopes) {
  for (const ScopeRef& scope : scopes) {
    if (scope.kind == v1::SCOPE_KIND_UNSPECIFIED || scope.id.empty()) {
      return absl::InvalidArgumentError("scopes: kind and id are required");
    }
  }
  return absl::OkStatus();
}

// ---- Lua shared by every satisfaction script ----
std::string SatisfactionLua() {
  return absl::StrCat(kLuaPack, "local P = '", kPrefix, "'\n",
                      "local EVENT_MAXLEN = ", kEventStreamMaxLen, "\n",
                      "local AGENCY = '", KindArg(v1::SCOPE_KIND_AGENCY), "'\n",
                      "local OFFICE = '", KindArg(v1::SCOPE_KIND_OFFICE), "'\n",
                      R"lua(
local fail = prima_fail
local groups = prima_groups
local function agg_key(tpl, kind, id, period)
  return P .. 'agg:' .. tpl .. ':' .. kind .. ':' .. id .. ':' .. period
end
local function pop_key(kind, id, period)
  return P .. 'pop:' .. kind .. ':' .. id .. ':' .. period
end
-- Field sums over several periods' aggregates (and their populations, as
-- 'pop'), packed as HGETALL's shape. Sums stay exact below 2^53.
local function summed(tpl, kind, id, periods)
  local sums, names = {}, {}
  local function add(name, value)
    if sums[name] == nil then
      sums[name] = 0
      names[#names + 1] = name
    end
    sums[name] = sums[name] + tonumber(value)
  end
  for _, period in ipairs(periods) do
    local h = redis.call('HGETALL', agg_key(tpl, kind, id, period))
    for j = 1, #h, 2 do add(h[j], h[j + 1]) end
    local pop = redis.call('GET', pop_key(kind, id, period))
    if pop then add('pop', pop) end
  end
  local out = {}
  for _, name in ipairs(names) do
    out[#out + 1] = name
    out[#out + 1] = string.format('%.0f', sums[name])
  end
  return pack(out)
end
)lua");
}

LuaScript Mutation(absl::string_view name, absl::string_view body) {
  return MakeIdempotentScript(name, absl::StrCat(SatisfactionLua(), body));
}
LuaScript Plain(absl::string_view name, absl::string_view body) {
  return LuaScript(name, absl::StrCat(kLuaPrelude, SatisfactionLua(), body));
}

// KEYS: idem, stream. ARGV: ttl, id, agency, submit ms, pb, invitation sha
// ("" for none), now ms, kiosk id ("" for none), kiosk limit, template,
// event type, event agency, envelope, kiosk credential sha, office, then
// counted groups: scopes (kind, id), period keys, answers (code, value,
// expectation, keep value counts 1|0).
const LuaScript& SubmitScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("satisfaction_submit", R"lua(
local id, agency, tpl = ARGV[2], ARGV[3], ARGV[10]
local scopes, at = groups(16, 2)
local periods, answers
periods, at = groups(at, 1)
answers, at = groups(at, 4)
local rkey = P .. 'r:' .. id
if redis.call('EXISTS', rkey) == 1 then
  return fail('ALREADY_EXISTS', 'response ' .. id .. ' exists already')
end
local inv_key, kiosk_key
if ARGV[6] ~= '' then
  inv_key = P .. 'inv:' .. ARGV[6]
  local inv = redis.call('HMGET', inv_key, 'used', 'expires')
  if not inv[2] then return fail('NOT_FOUND', 'invitation does not exist') end
  if inv[1] == '1' then
    return fail('FAILED_PRECONDITION:INVITATION_USED', 'invitation already used')
  end
  if tonumber(ARGV[7]) >= tonumber(inv[2]) then
    return fail('FAILED_PRECONDITION', 'invitation expired')
  end
end
if ARGV[8] ~= '' then
  -- The kiosk's credential, checked here (not only before, by the adapter),
  -- so that a revocation stops it at once.
  local k = redis.call('HMGET', P .. 'kiosk:' .. ARGV[8], 'sha', 'revoked',
                       'office')
  if not k[1] or ARGV[14] == '' or k[1] ~= ARGV[14] then
    return fail('PERMISSION_DENIED:KIOSK_CREDENTIAL_INVALID',
                'kiosk.kiosk_credential: not the credential of a registered ' ..
                'kiosk with this kiosk_id')
  end
  if k[2] then
    return fail('PERMISSION_DENIED:KIOSK_REVOKED', 'kiosk.kiosk_id: kiosk ' ..
                ARGV[8] .. ' was revoked; an agency admin registers a new one')
  end
  if k[3] ~= ARGV[15] then
    return fail('PERMISSION_DENIED', 'kiosk.office_id: kiosk ' .. ARGV[8] ..
                ' is registered at office ' .. k[3])
  end
  kiosk_key = P .. 'kiosk-rate:' .. ARGV[8]
  local count = tonumber(redis.call('GET', kiosk_key) or '0')
  if count >= tonumber(ARGV[9]) then
    return fail('RESOURCE_EXHAUSTED', 'kiosk ' .. ARGV[8] ..
                ' submitted too often; try again in a minute')
  end
end
-- Everything is checked: from here on the script only writes.
if inv_key then redis.call('HSET', inv_key, 'used', '1') end
if kiosk_key and redis.call('INCR', kiosk_key) == 1 then
  redis.call('EXPIRE', kiosk_key, 60)
end
redis.call('SET', rkey, ARGV[5])
redis.call('ZADD', P .. 'rs:' .. agency, ARGV[4], id)
for _, s in ipairs(scopes) do
  for _, p in ipairs(periods) do
    local key = agg_key(tpl, s[1], s[2], p[1])
    redis.call('HINCRBY', key, 'n', 1)
    for _, a in ipairs(answers) do
      local code, value, expectation = a[1], a[2], a[3]
      redis.call('HINCRBY', key, 'c:' .. code, 1)
      redis.call('HINCRBY', key, 's:' .. code, value)
      if tonumber(expectation) > 0 then
        redis.call('HINCRBY', key, 'e:' .. code, expectation)
      end
      if a[4] == '1' then
        redis.call('HINCRBY', key, 'v:' .. code .. ':' .. value, 1)
      end
    end
    local set = P .. 'scopes:' .. tpl .. ':' .. s[1] .. ':' .. p[1]
    if s[1] == AGENCY then
      redis.call('SADD', set, s[2])
    elseif s[1] == OFFICE then
      redis.call('SADD', set, s[2])
      redis.call('SADD', set .. ':' .. agency, s[2])
    end
  end
end
for _, p in ipairs(periods) do
  redis.call('SADD', P .. 'used-tpls:' .. p[1], tpl)
end
prima_emit(KEYS[2], EVENT_MAXLEN, ARGV[11], ARGV[12], ARGV[13])
return ARGV[5]
)lua"));
  return *script;
}

// ARGV: template, scope kind, scope id, period keys... Replies the summed
// fields.
const LuaScript& GetAggregateScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_get_aggregate", R"lua(
local periods = {}
for i = 4, #ARGV do periods[#periods + 1] = ARGV[i] end
return summed(ARGV[1], ARGV[2], ARGV[3], periods)
)lua"));
  return *script;
}

// ARGV: template, scope kind, agency ("" for all), period keys... Replies
// packed {id, summed fields, ...} by id, over the scopes with responses in any
// of the periods.
const LuaScript& ListAggregatesScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_list_aggregates", R"lua(
local tpl, kind, agency = ARGV[1], ARGV[2], ARGV[3]
local periods, seen, ids = {}, {}, {}
for i = 4, #ARGV do
  periods[#periods + 1] = ARGV[i]
  local set = P .. 'scopes:' .. tpl .. ':' .. kind .. ':' .. ARGV[i]
  if agency ~= '' then set = set .. ':' .. agency end
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
end
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = summed(tpl, kind, id, periods)
end
return pack(out)
)lua"));
  return *script;
}

// ARGV: event id, dedupe ttl, then counted groups: scopes (kind, id), period
// keys. Replies 1 when counted, 0 for an event seen before.
const LuaScript& CountVisitScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_count_visit", R"lua(
local scopes, at = groups(3, 2)
local periods = groups(at, 1)
if not prima_first_time(P .. 'visit-seen:' .. ARGV[1], ARGV[2]) then
  return 0
end
for _, s in ipairs(scopes) do
  for _, p in ipairs(periods) do redis.call('INCR', pop_key(s[1], s[2], p[1])) end
end
return 1
)lua"));
  return *script;
}

// ARGV: agency, from ms, to ms (exclusive), cursor ms, cursor id ("" for the
// first page), limit. Replies packed {next ms, next id ("", "" after the last
// page), response pb...}.
const LuaScript& ListResponsesScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_list_responses", R"lua(
-- Whether a sorts after b among members of one score: by bytes, as Redis
-- orders them (Lua's own < follows the server's locale).
local function sorts_after(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local key = P .. 'rs:' .. ARGV[1]
local min, max = ARGV[2], '(' .. ARGV[3]
local after_ms, after_id = ARGV[4], ARGV[5]
local limit = tonumber(ARGV[6])
local skip = 0
if after_id ~= '' then
  -- The cursor's millisecond: its responses up to the cursor were on earlier
  -- pages.
  min = after_ms
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, after_ms, after_ms)) do
    if sorts_after(id, after_id) then break end
    skip = skip + 1
  end
end
-- One more than a page tells whether another page follows.
local hits = redis.call('ZRANGEBYSCORE', key, min, max, 'WITHSCORES', 'LIMIT',
                        skip, limit + 1)
local n = math.min(#hits / 2, limit)
local out = {'', ''}
if #hits / 2 > limit then out[1], out[2] = hits[2 * n], hits[2 * n - 1] end
for i = 1, n do
  local pb = redis.call('GET', P .. 'r:' .. hits[2 * i - 1])
  if pb then out[#out + 1] = pb end
end
return pack(out)
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, token sha, source number, source id ("" for none),
// pb (no token), expires ms, key ttl seconds, token source ("<key id>:<id>"
// the token is derived from, or ""). Replies packed {created 1|0, pb, used
// 1|0, token source ("" unless created)}.
const LuaScript& CreateInvitationScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("satisfaction_create_invitation", R"lua(
local inv_key = P .. 'inv:' .. ARGV[2]
local src_key
if ARGV[4] ~= '' then
  src_key = P .. 'inv-src:' .. ARGV[3] .. ':' .. ARGV[4]
  local first = redis.call('GET', src_key)
  if first then
    local h = redis.call('HMGET', P .. 'inv:' .. first, 'pb', 'used')
    if h[1] then return pack({'0', h[1], h[2] or '0', ''}) end
  end
end
if redis.call('EXISTS', inv_key) == 1 then
  return fail('ALREADY_EXISTS', 'an invitation with this token exists already')
end
redis.call('HSET', inv_key, 'pb', ARGV[5], 'used', '0', 'expires', ARGV[6])
redis.call('EXPIRE', inv_key, ARGV[7])
if src_key then redis.call('SET', src_key, ARGV[2], 'EX', ARGV[7]) end
-- Not the token but what it is derived from is in the recorded result, so a
-- retry of the same request shows it once more and nothing stores it.
return pack({'1', ARGV[5], '0', ARGV[8]})
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, id, agency, pb (version unset). Replies the stored
// pb, version set.
const LuaScript& SaveTemplateScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("satisfaction_save_template", R"lua(
local id, agency = ARGV[2], ARGV[3]
local meta_key = P .. 'tpl:' .. id
local meta = redis.call('HMGET', meta_key, 'latest', 'agency')
if meta[2] and meta[2] ~= agency then
  return fail('FAILED_PRECONDITION',
              'template ' .. id .. ' belongs to another agency')
end
local version = tonumber(meta[1] or '0') + 1
-- A later occurrence of a scalar field wins when protobuf parses: this sets
-- the version without Lua knowing the rest of the message.
local pb = ARGV[4] .. prima_pb_int(2, version)
redis.call('SET', meta_key .. ':' .. version, pb)
redis.call('HSET', meta_key, 'latest', version, 'agency', agency)
redis.call('SADD', P .. 'tpls:' .. agency, id)
return pb
)lua"));
  return *script;
}

// ARGV: id, version (0 for the latest).
const LuaScript& GetTemplateScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_get_template", R"lua(
local meta_key = P .. 'tpl:' .. ARGV[1]
local version = ARGV[2]
if version == '0' then version = redis.call('HGET', meta_key, 'latest') end
local pb = version and redis.call('GET', meta_key .. ':' .. version)
if not pb then
  local which = ARGV[2] == '0' and '' or (' version ' .. ARGV[2])
  return fail('NOT_FOUND', 'template ' .. ARGV[1] .. which .. ' does not exist')
end
return pb
)lua"));
  return *script;
}

// ARGV: agency. Replies packed latest pbs by id.
const LuaScript& ListTemplatesScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_list_templates", R"lua(
local ids = redis.call('SMEMBERS', P .. 'tpls:' .. ARGV[1])
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local meta_key = P .. 'tpl:' .. id
  local latest = redis.call('HGET', meta_key, 'latest')
  local pb = latest and redis.call('GET', meta_key .. ':' .. latest)
  if pb then out[#out + 1] = pb end
end
return pack(out)
)lua"));
  return *script;
}

// KEYS: idem. ARGV: ttl, agency, pb. Replies the pb.
const LuaScript& SaveScoreSettingsScript() {
  static const LuaScript* script =
      new LuaScript(Mutation("satisfaction_save_score_settings", R"lua(
redis.call('SET', P .. 'settings:' .. ARGV[2], ARGV[3])
return ARGV[3]
)lua"));
  return *script;
}

// ARGV: month key. Replies packed {template, office, ...}.
const LuaScript& ListUnsweptScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_list_unswept", R"lua(
local month = ARGV[1]
local templates = redis.call('SMEMBERS', P .. 'used-tpls:' .. month)
table.sort(templates)
local out = {}
for _, tpl in ipairs(templates) do
  local swept = P .. 'swept:' .. tpl .. ':' .. month
  local offices = redis.call('SMEMBERS',
                             P .. 'scopes:' .. tpl .. ':' .. OFFICE .. ':' .. month)
  table.sort(offices)
  for _, office in ipairs(offices) do
    if redis.call('SISMEMBER', swept, office) == 0 then
      out[#out + 1] = tpl
      out[#out + 1] = office
    end
  end
end
return pack(out)
)lua"));
  return *script;
}

// KEYS: stream. ARGV: template, office, month, marker ttl seconds, then a
// counted group of (code, event type, event agency, envelope). Replies the
// number of events appended.
const LuaScript& FinishSweepScript() {
  static const LuaScript* script =
      new LuaScript(Plain("satisfaction_finish_sweep", R"lua(
local tpl, office, month, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local low = groups(5, 4)
local emitted = 0
for _, l in ipairs(low) do
  local marker = P .. 'low:' .. tpl .. ':' .. OFFICE .. ':' .. office .. ':' ..
                 month .. ':' .. l[1]
  if redis.call('SET', marker, '1', 'NX', 'EX', ttl) then
    prima_emit(KEYS[1], EVENT_MAXLEN, l[2], l[3], l[4])
    emitted = emitted + 1
  end
end
local swept = P .. 'swept:' .. tpl .. ':' .. month
redis.call('SADD', swept, office)
redis.call('EXPIRE', swept, ttl)
return emitted
)lua"));
  return *script;
}

// ---- kiosks ----

// Lua shared by the kiosk scripts: kiosk_fields(id) is the kiosk's stored
// fields as {name, value, ...} with its id and without its credential's hash
// (nil for an unknown kiosk).
constexpr char kKioskLua[] = R"lua(
local KIOSK_FIELDS = {'office', 'agency', 'name', 'desc', 'created', 'revoked'}
local function kiosk_key(id) return P .. 'kiosk:' .. id end
local function kiosk_fields(id)
  local h = redis.call('HMGET', kiosk_key(id), unpack(KIOSK_FIELDS))
  if not h[1] then return nil end
  local out = {'id', id}
  for i, name in ipairs(KIOSK_FIELDS) do
    if h[i] then
      out[#out + 1] = name
      out[#out + 1] = h[i]
    end
  end
  return out
end
)lua";

// KEYS: idem. ARGV: ttl, id, office, agency, name, description, created ms,
// credential sha, key id. Replies the kiosk's fields and `_kid` (the key the
// credential is derived with): never the credential or its hash.
const LuaScript& RegisterKioskScript() {
  static const LuaScript* script = new LuaScript(
      Mutation("satisfaction_register_kiosk", absl::StrCat(kKioskLua, R"lua(
local id, office, agency = ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', kiosk_key(id)) == 1 then
  return fail('ALREADY_EXISTS', 'kiosk ' .. id .. ' exists already')
end
redis.call('HSET', kiosk_key(id), 'office', office, 'agency', agency,
           'name', ARGV[5], 'desc', ARGV[6], 'created', ARGV[7],
           'sha', ARGV[8])
redis.call('ZADD', P .. 'kiosks:' .. agency, 0, id)
redis.call('ZADD', P .. 'kiosks:' .. agency .. ':' .. office, 0, id)
local out = kiosk_fields(id)
out[#out + 1] = '_kid'
out[#out + 1] = ARGV[9]
return pack(out)
)lua")));
  return *script;
}

// KEYS: idem. ARGV: ttl, id, now ms. Replies the kiosk's fields.
const LuaScript& RevokeKioskScript() {
  static const LuaScript* script = new LuaScript(
      Mutation("satisfaction_revoke_kiosk", absl::StrCat(kKioskLua, R"lua(
local id = ARGV[2]
if redis.call('EXISTS', kiosk_key(id)) == 0 then
  return fail('NOT_FOUND', 'kiosk_id: kiosk ' .. id .. ' does not exist')
end
if not redis.call('HGET', kiosk_key(id), 'revoked') then
  redis.call('HSET', kiosk_key(id), 'revoked', ARGV[3])
end
return pack(kiosk_fields(id))
)lua")));
  return *script;
}

// ARGV: agency, office ("" for all), after id ("" for the first page),
// limit. Replies packed {next cursor ("" after the last page), packed kiosk
// fields...}.
const LuaScript& ListKiosksScript() {
  static const LuaScript* script = new LuaScript(
      Plain("satisfaction_list_kiosks", absl::StrCat(kKioskLua, R"lua(
local set = P .. 'kiosks:' .. ARGV[1]
if ARGV[2] ~= '' then set = set .. ':' .. ARGV[2] end
local min = '-'
if ARGV[3] ~= '' then min = '(' .. ARGV[3] end
local limit = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYLEX', set, min, '+', 'LIMIT', 0, limit + 1)
local n = math.min(#ids, limit)
local out = {''}
if #ids > limit then out[1] = ids[n] end
for i = 1, n do
  local fields = kiosk_fields(ids[i])
  if fields then out[#out + 1] = pack(fields) end
end
return pack(out)
)lua")));
  return *script;
}

// ---- replies ----

template <typename Message>
absl::StatusOr<Message> ParseMessage(absl::string_view bytes,
                                     absl::string_view what) {
  Message message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError(absl::StrCat("redis: unreadable stored ", what));
  }
  return message;
}

// A one-string script reply parsed by `parse`.
template <typename T>
RedisClient::Callback ReadReply(
    absl::AnyInvocable<absl::StatusOr<T>(absl::string_view)> parse,
    Done<T> done) {
  return [parse = std::move(parse),
          done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
    if (!reply.ok()) return done(reply.status());
    if (!reply->is_string()) {
      return done(absl::InternalError("redis: unexpected script reply"));
    }
    done(parse(reply->str));
  };
}

// Summed aggregate fields (n, pop, c:/s:/e:<code>, v:<code>:<value>) as an
// Aggregate, dimensions by code.
absl::StatusOr<Aggregate> AggregateFromFields(const Fields& fields) {
  Aggregate out;
  std::map<std::string, Aggregate::Dimension> by_code;
  const absl::Status bad = absl::InternalError("redis: bad aggregate field");
  for (const auto& [name, text] : fields) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(text, &value)) return bad;
    if (name == "n") {
      out.respondents = value;
      continue;
    }
    if (name == "pop") {
      out.population = value;
      continue;
    }
    const size_t colon = name.find(':');
    if (colon == std::string::npos) return bad;
    const absl::string_view kind = absl::string_view(name).substr(0, colon);
    std::string code = name.substr(colon + 1);
    if (kind == "v") {
      // "v:<code>:<value>": codes carry no colon.
      const size_t last = code.rfind(':');
      int answer = 0;
      if (last == std::string::npos ||
          !absl::SimpleAtoi(absl::string_view(code).substr(last + 1),
                            &answer)) {
        return bad;
      }
      code.resize(last);
      by_code[code].counts_by_value[answer] += value;
    } else if (kind == "c") {
      by_code[code].answers = value;
    } else if (kind == "s") {
      by_code[code].sum = value;
    } else if (kind == "e") {
      by_code[code].expectation_sum = value;
    } else {
      return bad;
    }
  }
  for (auto& [code, dimension] : by_code) {
    dimension.code = code;
    out.dimensions.push_back(std::move(dimension));
  }
  return out;
}

absl::StatusOr<Aggregate> ParseAggregate(absl::string_view packed) {
  absl::StatusOr<Fields> fields = UnpackFields(packed);
  if (!fields.ok()) return absl::InternalError("redis: bad aggregate reply");
  return AggregateFromFields(*fields);
}

absl::StatusOr<std::vector<std::pair<std::string, Aggregate>>>
ParseAggregateList(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->size() % 2 != 0) {
    return absl::InternalError("redis: bad aggregate list reply");
  }
  std::vector<std::pair<std::string, Aggregate>> out;
  for (size_t i = 0; i < parts->size(); i += 2) {
    absl::StatusOr<Aggregate> aggregate = ParseAggregate((*parts)[i + 1]);
    if (!aggregate.ok()) return aggregate.status();
    out.emplace_back((*parts)[i], *std::move(aggregate));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Template>> ParseTemplateList(
    absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok()) return absl::InternalError("redis: bad template list");
  std::vector<v1::Template> out;
  for (const std::string& bytes : *parts) {
    absl::StatusOr<v1::Template> tpl =
        ParseMessage<v1::Template>(bytes, "template");
    if (!tpl.ok()) return tpl.status();
    out.push_back(*std::move(tpl));
  }
  return out;
}

// The invitation as CreateInvitation's script replies it.
absl::StatusOr<v1::Invitation> ParseCreatedInvitation(
    absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->size() != 4) {
    return absl::InternalError("redis: bad invitation reply");
  }
  absl::StatusOr<v1::Invitation> invitation =
      ParseMessage<v1::Invitation>((*parts)[1], "invitation");
  if (!invitation.ok()) return invitation.status();
  invitation->set_used((*parts)[2] == "1");
  invitation->set_token((*parts)[3]);
  return invitation;
}

// ListResponsesScript's reply.
absl::StatusOr<ResponsePage> ParseResponsePage(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->size() < 2) {
    return absl::InternalError("redis: bad response page");
  }
  ResponsePage page;
  if (!(*parts)[1].empty()) {
    ResponseCursor next;
    if (!absl::SimpleAtoi((*parts)[0], &next.submit_ms)) {
      return absl::InternalError("redis: bad response page cursor");
    }
    next.id = (*parts)[1];
    page.next = std::move(next);
  }
  for (size_t i = 2; i < parts->size(); ++i) {
    absl::StatusOr<v1::Response> response =
        ParseMessage<v1::Response>((*parts)[i], "response");
    if (!response.ok()) return response.status();
    page.responses.push_back(*std::move(response));
  }
  return page;
}

constexpr char kKioskKeyIdField[] = "_kid";

// A kiosk from its fields (as kiosk_fields replies them).
absl::StatusOr<v1::Kiosk> KioskFromFields(const Fields& f) {
  v1::Kiosk k;
  k.set_id(FieldStr(f, "id"));
  if (k.id().empty()) return absl::InternalError("redis: kiosk without an id");
  k.set_office_id(FieldStr(f, "office"));
  k.set_agency_id(FieldStr(f, "agency"));
  k.set_name(FieldStr(f, "name"));
  k.set_description(FieldStr(f, "desc"));
  *k.mutable_create_time() =
      ToProtoTime(absl::FromUnixMillis(FieldInt(f, "created")));
  if (const int64_t revoked = FieldInt(f, "revoked"); revoked > 0) {
    *k.mutable_revoke_time() = ToProtoTime(absl::FromUnixMillis(revoked));
  }
  return k;
}

absl::StatusOr<v1::Kiosk> ParseKiosk(absl::string_view packed) {
  absl::StatusOr<Fields> fields = UnpackFields(packed);
  if (!fields.ok()) return absl::InternalError("redis: bad kiosk reply");
  return KioskFromFields(*fields);
}

// ListKiosksScript's reply.
absl::StatusOr<KioskPage> ParseKioskPage(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
  if (!parts.ok() || parts->empty()) {
    return absl::InternalError("redis: bad kiosk page");
  }
  KioskPage page;
  page.next_cursor = (*parts)[0];
  for (size_t i = 1; i < parts->size(); ++i) {
    absl::StatusOr<v1::Kiosk> kiosk = ParseKiosk((*parts)[i]);
    if (!kiosk.ok()) return kiosk.status();
    page.kiosks.push_back(*std::move(kiosk));
  }
  return page;
}

}  // namespace

SatisfactionStore::SatisfactionStore(RedisClient& redis, const Clock& clock,
                                     const ReceiptKeys& keys)
    : redis_(redis), clock_(clock), keys_(keys) {}

// ---- templates ----

void SatisfactionStore::SaveTemplate(const v1::Template& tpl,
                                     const SatisfactionActor& actor,
                                     Done<v1::Template> done) {
  if (FindBuiltInTemplate(tpl.id()) != nullptr) {
    return done(absl::InvalidArgumentError("template.id: reserved"));
  }
  if (tpl.id().empty() || tpl.agency_id().empty()) {
    return done(
        absl::InvalidArgumentError("template: id and agency_id are required"));
  }
  v1::Template stored = tpl;
  // The script appends the version it picks.
  stored.clear_version();
  *stored.mutable_create_time() = ToProtoTime(clock_.Now());
  RunIdempotent(redis_, SaveTemplateScript(),
                {kService, "SaveTemplate", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {}, {tpl.id(), tpl.agency_id(), stored.SerializeAsString()},
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  done(ParseMessage<v1::Template>(result->value, "template"));
                });
}

void SatisfactionStore::GetTemplate(absl::string_view id, int version,
                                    Done<v1::Template> done) {
  if (version < 0) {
    return done(absl::InvalidArgumentError("version: must be 0 or more"));
  }
  redis_.Eval(GetTemplateScript(), {}, {std::string(id), absl::StrCat(version)},
              ReadReply<v1::Template>(
                  [](absl::string_view bytes) {
                    return ParseMessage<v1::Template>(bytes, "template");
                  },
                  std::move(done)),
              {.resend_safe = true});
}

void SatisfactionStore::ListTemplates(absl::string_view agency_id,
                                      Done<std::vector<v1::Template>> done) {
  redis_.Eval(
      ListTemplatesScript(), {}, {std::string(agency_id)},
      ReadReply<std::vector<v1::Template>>(&ParseTemplateList, std::move(done)),
      {.resend_safe = true});
}

// ---- invitations ----

void SatisfactionStore::CreateStaffInvitation(const v1::Invitation& invitation,
                                              const SatisfactionActor& actor,
                                              Done<v1::Invitation> done) {
  if (keys_.empty()) {
    return done(absl::FailedPreconditionError(
        "invitation tokens need receipt keys (PRIMA_RECEIPT_KEYS)"));
  }
  // Derived, never stored: the record keeps its hash, the idempotency record
  // the key id and the invitation's own id to derive it again.
  const std::string id = absl::AsciiStrToLower(NewTimeOrderedId(clock_.Now()));
  CreateInvitationRecord(
      invitation, Sha256Hex(keys_.CurrentSecret(kInvitationTokenKind, id)),
      absl::StrCat(keys_.current_id(), ":", id), actor, std::move(done));
}

void SatisfactionStore::CreateInvitation(const v1::Invitation& invitation,
                                         absl::string_view token_sha,
                                         const SatisfactionActor& actor,
                                         Done<v1::Invitation> done) {
  CreateInvitationRecord(invitation, token_sha, "", actor, std::move(done));
}

void SatisfactionStore::CreateInvitationRecord(const v1::Invitation& invitation,
                                               absl::string_view token_sha,
                                               absl::string_view token_source,
                                               const SatisfactionActor& actor,
                                               Done<v1::Invitation> done) {
  if (token_sha.empty()) {
    return done(absl::InvalidArgumentError("token_sha: required"));
  }
  const absl::Time expires = ToAbslTime(invitation.expire_time());
  // Relative to our clock, so Redis's own time cannot expire it early.
  const int64_t key_ttl_seconds = std::max<int64_t>(
      1, absl::ToInt64Seconds(expires + kInvitationGrace - clock_.Now()));
  v1::Invitation stored = invitation;
  stored.clear_token();
  stored.clear_used();
  RunIdempotent(
      redis_, CreateInvitationScript(),
      {kService, "CreateInvitation", actor.subject, actor.request_id,
       actor.request_fingerprint},
      {},
      {std::string(token_sha),
       absl::StrCat(static_cast<int>(invitation.source())),
       invitation.source_id(), stored.SerializeAsString(), MsArg(expires),
       absl::StrCat(key_ttl_seconds), std::string(token_source)},
      [this, done = std::move(done)](
          absl::StatusOr<IdempotentResult> result) mutable {
        if (!result.ok()) return done(result.status());
        absl::StatusOr<v1::Invitation> created =
            ParseCreatedInvitation(result->value);
        if (!created.ok() || created->token().empty()) {
          return done(std::move(created));
        }
        // The reply's token field holds its source: derive the token.
        const std::string source = created->token();
        created->clear_token();
        const size_t colon = source.find(':');
        if (colon == std::string::npos) {
          return done(absl::InternalError("redis: bad invitation reply"));
        }
        created->set_token(keys_.SecretForReplay(source.substr(0, colon),
                                                 kInvitationTokenKind,
                                                 source.substr(colon + 1)));
        done(std::move(created));
      });
}

void SatisfactionStore::GetInvitation(absl::string_view token_sha,
                                      Done<v1::Invitation> done) {
  redis_.Command(
      {"HMGET", absl::StrCat(kPrefix, "inv:", token_sha), "pb", "used"},
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array() || reply->elements.size() != 2) {
          return done(absl::InternalError("redis: bad invitation reply"));
        }
        if (!reply->elements[0].is_string()) {
          return done(absl::NotFoundError("invitation does not exist"));
        }
        absl::StatusOr<v1::Invitation> invitation =
            ParseMessage<v1::Invitation>(reply->elements[0].str, "invitation");
        if (!invitation.ok()) return done(invitation.status());
        invitation->set_used(reply->elements[1].is_string() &&
                             reply->elements[1].str == "1");
        done(*std::move(invitation));
      },
      {.resend_safe = true});
}

// ---- kiosks ----

void SatisfactionStore::RegisterKiosk(const v1::Kiosk& kiosk,
                                      const SatisfactionActor& actor,
                                      Done<v1::Kiosk> done) {
  if (kiosk.id().empty() || kiosk.office_id().empty() ||
      kiosk.agency_id().empty()) {
    return done(absl::InvalidArgumentError(
        "kiosk: id, office_id and agency_id are required"));
  }
  if (keys_.empty()) {
    return done(absl::FailedPreconditionError(
        "kiosk credentials need receipt keys (PRIMA_RECEIPT_KEYS)"));
  }
  // Derived, never stored: the script keeps its hash and replies the key id.
  const std::string credential =
      keys_.CurrentSecret(kKioskCredentialKind, kiosk.id());
  RunIdempotent(redis_, RegisterKioskScript(),
                {kService, "RegisterKiosk", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {},
                {kiosk.id(), kiosk.office_id(), kiosk.agency_id(), kiosk.name(),
                 kiosk.description(), MsArg(ToAbslTime(kiosk.create_time())),
                 Sha256Hex(credential), keys_.current_id()},
                [this, done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  absl::StatusOr<Fields> fields = UnpackFields(result->value);
                  if (!fields.ok()) {
                    return done(absl::InternalError("redis: bad kiosk reply"));
                  }
                  absl::StatusOr<v1::Kiosk> registered =
                      KioskFromFields(*fields);
                  if (!registered.ok()) return done(registered.status());
                  // The credential of the kiosk replied (the first one, on a
                  // retry), under the key it was made with.
                  registered->set_credential(keys_.SecretForReplay(
                      FieldStr(*fields, kKioskKeyIdField), kKioskCredentialKind,
                      registered->id()));
                  done(*std::move(registered));
                });
}

void SatisfactionStore::GetKiosk(absl::string_view kiosk_id,
                                 Done<KioskRecord> done) {
  redis_.Command(
      {"HGETALL", absl::StrCat(kPrefix, "kiosk:", kiosk_id)},
      [id = std::string(kiosk_id),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array()) {
          return done(absl::InternalError("redis: bad kiosk reply"));
        }
        std::vector<std::string> flat;
        for (const RedisValue& v : reply->elements) {
          if (!v.is_string()) {
            return done(absl::InternalError("redis: bad kiosk reply"));
          }
          flat.push_back(v.str);
        }
        if (flat.empty()) {
          return done(absl::NotFoundError(
              absl::StrCat("kiosk_id: kiosk ", id, " does not exist")));
        }
        Fields fields = ToFields(flat);
        fields["id"] = id;
        absl::StatusOr<v1::Kiosk> kiosk = KioskFromFields(fields);
        if (!kiosk.ok()) return done(kiosk.status());
        done(KioskRecord{*std::move(kiosk), FieldStr(fields, "sha")});
      },
      {.resend_safe = true});
}

void SatisfactionStore::ListKiosks(absl::string_view agency_id,
                                   absl::string_view office_id,
                                   absl::string_view after, int limit,
                                   Done<KioskPage> done) {
  if (agency_id.empty()) {
    return done(absl::InvalidArgumentError("agency_id: required"));
  }
  if (limit < 1 || limit > 500) {
    return done(absl::InvalidArgumentError("limit: must be 1-500"));
  }
  redis_.Eval(ListKiosksScript(), {},
              {std::string(agency_id), std::string(office_id),
               std::string(after), absl::StrCat(limit)},
              ReadReply<KioskPage>(&ParseKioskPage, std::move(done)),
              {.resend_safe = true});
}

void SatisfactionStore::RevokeKiosk(absl::string_view kiosk_id,
                                    const SatisfactionActor& actor,
                                    Done<v1::Kiosk> done) {
  if (kiosk_id.empty()) {
    return done(absl::InvalidArgumentError("kiosk_id: required"));
  }
  RunIdempotent(redis_, RevokeKioskScript(),
                {kService, "RevokeKiosk", actor.subject, actor.request_id,
                 actor.request_fingerprint},
                {}, {std::string(kiosk_id), MsArg(clock_.Now())},
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  done(ParseKiosk(result->value));
                });
}

// ---- responses ----

std::vector<ScopeRef> ScopesOf(const v1::Response& response) {
  std::vector<ScopeRef> scopes = {
      {v1::SCOPE_KIND_AGENCY, response.agency_id()},
      {v1::SCOPE_KIND_OFFICE, response.office_id()}};
  if (!response.service_id().empty()) {
    scopes.push_back({v1::SCOPE_KIND_SERVICE, response.service_id()});
  }
  if (!response.officer_id().empty()) {
    scopes.push_back({v1::SCOPE_KIND_OFFICER, response.officer_id()});
  }
  return scopes;
}

void SatisfactionStore::SubmitResponse(const NewResponse& submission,
                                       const SatisfactionActor& actor,
                                       Done<v1::Response> done) {
  const v1::Response& r = submission.response;
  if (submission.invitation_sha.empty() == submission.kiosk_id.empty()) {
    return done(absl::InvalidArgumentError(
        "via: exactly one of an invitation and a kiosk"));
  }
  if (r.id().empty() || r.agency_id().empty() || r.template_id().empty()) {
    return done(absl::InvalidArgumentError(
        "response: id, agency_id and template_id are required"));
  }
  if (absl::Status s = CheckScopes(submission.scopes); !s.ok()) {
    return done(s);
  }
  std::vector<std::string> args = {r.id(),
                                   r.agency_id(),
                                   MsArg(ToAbslTime(r.submit_time())),
                                   r.SerializeAsString(),
                                   submission.invitation_sha,
                                   MsArg(clock_.Now()),
                                   submission.kiosk_id,
                                   absl::StrCat(submission.kiosk_per_minute),
                                   r.template_id()};
  Append(args, EnvelopeArgs(submission.event));
  Append(args, {submission.kiosk_credential_sha, r.office_id()});
  Append(args, ScopeArgs(submission.scopes));
  Append(args, PeriodArgs(submission.period_keys));
  args.push_back(absl::StrCat(r.answers_size()));
  for (const v1::Answer& answer : r.answers()) {
    Append(args, {answer.code(), absl::StrCat(answer.value()),
                  absl::StrCat(answer.expectation()),
                  KeepsValueCounts(answer.code()) ? "1" : "0"});
  }
  RunIdempotent(redis_, SubmitScript(),
                {kService, "SubmitResponse", actor.subject, actor.request_id,
                 actor.request_fingerprint, actor.rate_checks},
                {EventStreamKey(kSatisfactionProducer)}, std::move(args),
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  done(ParseMessage<v1::Response>(result->value, "response"));
                });
}

void SatisfactionStore::GetAggregate(
    absl::string_view template_id, const ScopeRef& scope,
    const std::vector<std::string>& period_keys, Done<Aggregate> done) {
  if (period_keys.empty() || period_keys.size() > kMaxPeriodKeys) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("period: 1-", kMaxPeriodKeys, " period keys")));
  }
  if (absl::Status s = CheckScopes({scope}); !s.ok()) return done(s);
  std::vector<std::string> args = {std::string(template_id),
                                   KindArg(scope.kind), scope.id};
  Append(args, period_keys);
  redis_.Eval(GetAggregateScript(), {}, std::move(args),
              ReadReply<Aggregate>(&ParseAggregate, std::move(done)),
              {.resend_safe = true});
}

void SatisfactionStore::ListAggregates(
    absl::string_view template_id, v1::ScopeKind kind,
    const std::vector<std::string>& period_keys, absl::string_view agency_id,
    Done<std::vector<std::pair<std::string, Aggregate>>> done) {
  if (kind != v1::SCOPE_KIND_AGENCY && kind != v1::SCOPE_KIND_OFFICE) {
    return done(
        absl::InvalidArgumentError("kind: agencies or offices are ranked"));
  }
  if (period_keys.empty() || period_keys.size() > kMaxPeriodKeys) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("period: 1-", kMaxPeriodKeys, " period keys")));
  }
  // Agencies are listed region-wide: only offices have a per-agency set.
  const std::string agency =
      kind == v1::SCOPE_KIND_OFFICE ? std::string(agency_id) : std::string();
  std::vector<std::string> args = {std::string(template_id), KindArg(kind),
                                   agency};
  Append(args, period_keys);
  redis_.Eval(ListAggregatesScript(), {}, std::move(args),
              ReadReply<std::vector<std::pair<std::string, Aggregate>>>(
                  &ParseAggregateList, std::move(done)),
              {.resend_safe = true});
}

// ---- score settings ----

void SatisfactionStore::GetScoreSettings(absl::string_view agency_id,
                                         Done<v1::ScoreSettings> done) {
  redis_.Command(
      {"GET", absl::StrCat(kPrefix, "settings:", agency_id)},
      [agency = std::string(agency_id),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_string()) {
          v1::ScoreSettings defaults;
          defaults.set_agency_id(agency);
          return done(defaults);
        }
        done(ParseMessage<v1::ScoreSettings>(reply->str, "score settings"));
      },
      {.resend_safe = true});
}

void SatisfactionStore::SaveScoreSettings(const v1::ScoreSettings& settings,
                                          const SatisfactionActor& actor,
                                          Done<v1::ScoreSettings> done) {
  if (settings.agency_id().empty()) {
    return done(absl::InvalidArgumentError("settings.agency_id: required"));
  }
  RunIdempotent(
      redis_, SaveScoreSettingsScript(),
      {kService, "UpdateScoreSettings", actor.subject, actor.request_id,
       actor.request_fingerprint},
      {}, {settings.agency_id(), settings.SerializeAsString()},
      [done =
           std::move(done)](absl::StatusOr<IdempotentResult> result) mutable {
        if (!result.ok()) return done(result.status());
        done(ParseMessage<v1::ScoreSettings>(result->value, "score settings"));
      });
}

// ---- the closed-month sweep ----

void SatisfactionStore::ListUnswept(absl::string_view month_key,
                                    Done<std::vector<UnsweptOffice>> done) {
  redis_.Eval(ListUnsweptScript(), {}, {std::string(month_key)},
              ReadReply<std::vector<UnsweptOffice>>(
                  [](absl::string_view packed)
                      -> absl::StatusOr<std::vector<UnsweptOffice>> {
                    absl::StatusOr<std::vector<std::string>> parts =
                        Unpack(packed);
                    if (!parts.ok() || parts->size() % 2 != 0) {
                      return absl::InternalError("redis: bad unswept reply");
                    }
                    std::vector<UnsweptOffice> out;
                    for (size_t i = 0; i < parts->size(); i += 2) {
                      out.push_back({(*parts)[i], (*parts)[i + 1]});
                    }
                    return out;
                  },
                  std::move(done)),
              {.resend_safe = true});
}

void SatisfactionStore::FinishSweep(absl::string_view template_id,
                                    absl::string_view office_id,
                                    absl::string_view month_key,
                                    const std::vector<LowElementEvent>& low,
                                    Done<int> done) {
  if (template_id.empty() || office_id.empty() || month_key.empty()) {
    return done(absl::InvalidArgumentError(
        "template_id, office_id and month_key are required"));
  }
  std::vector<std::string> args = {
      std::string(template_id), std::string(office_id), std::string(month_key),
      absl::StrCat(kSweepMarkerSeconds), absl::StrCat(low.size())};
  for (const LowElementEvent& element : low) {
    args.push_back(element.code);
    Append(args, EnvelopeArgs(element.event));
  }
  redis_.Eval(
      FinishSweepScript(), {EventStreamKey(kSatisfactionProducer)},
      std::move(args),
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->type != RedisValue::Type::kInteger) {
          return done(absl::InternalError("redis: bad finish-sweep reply"));
        }
        done(static_cast<int>(reply->integer));
      },
      // A resent call finds the markers set and appends nothing more.
      {.resend_safe = true});
}

void SatisfactionStore::CountVisit(absl::string_view event_id,
                                   const std::vector<ScopeRef>& scopes,
                                   const std::vector<std::string>& period_keys,
                                   Done<bool> done) {
  if (event_id.empty()) {
    return done(absl::InvalidArgumentError("event_id: required"));
  }
  if (absl::Status s = CheckScopes(scopes); !s.ok()) return done(s);
  std::vector<std::string> args = {std::string(event_id),
                                   absl::StrCat(kVisitDedupeSeconds)};
  Append(args, ScopeArgs(scopes));
  Append(args, PeriodArgs(period_keys));
  redis_.Eval(
      CountVisitScript(), {}, std::move(args),
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->type != RedisValue::Type::kInteger) {
          return done(absl::InternalError("redis: bad count-visit reply"));
        }
        done(reply->integer == 1);
      },
      // A resent call finds the event seen and answers false: the visit was
      // still counted once.
      {.resend_safe = true});
}

// ---- export ----

void SatisfactionStore::ListResponses(absl::string_view agency_id,
                                      absl::Time from, absl::Time to,
                                      const ResponseCursor& after, int limit,
                                      Done<ResponsePage> done) {
  if (agency_id.empty()) {
    return done(absl::InvalidArgumentError("agency_id: required"));
  }
  if (limit < 1 || limit > kMaxResponsePage) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("limit: must be 1-", kMaxResponsePage)));
  }
  const int64_t from_ms = absl::ToUnixMillis(from);
  const int64_t to_ms = absl::ToUnixMillis(to);
  if (to_ms <= from_ms) {
    return done(absl::InvalidArgumentError("to: must be after from"));
  }
  if (!after.id.empty() &&
      (after.submit_ms < from_ms || after.submit_ms >= to_ms)) {
    return done(
        absl::InvalidArgumentError("after: the cursor is outside [from, to)"));
  }
  redis_.Eval(
      ListResponsesScript(), {},
      {std::string(agency_id), absl::StrCat(from_ms), absl::StrCat(to_ms),
       absl::StrCat(after.submit_ms), after.id, absl::StrCat(limit)},
      ReadReply<ResponsePage>(&ParseResponsePage, std::move(done)),
      {.resend_safe = true});
}

}  // namespace prima::satisfaction
