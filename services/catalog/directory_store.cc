#include "services/catalog/directory_store.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/events.h"
#include "services/common/validation.h"

namespace prima::catalog {
namespace {

using directory::Kind;
using ::prima::catalog::v1::Agency;
using ::prima::catalog::v1::ApplyCounts;
using ::prima::catalog::v1::ApplyDirectoryRequest;
using ::prima::catalog::v1::ApplyDirectoryResponse;
using ::prima::catalog::v1::Counter;
using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::Officer;
using ::prima::catalog::v1::PublicService;
using ::prima::events::v1::DirectoryChanged;

constexpr char kProducer[] = "catalog";
constexpr char kEventType[] = "directory.changed";

// Lua shared by the put and apply scripts. Items arrive in ARGV as
//   kind, id, agency, office ("" if none), path (for messages),
//   number of service ids, service ids..., serialized resource
// ARGV[3] and ARGV[4] are directory::kResourcePrefix and kIndexPrefix.
constexpr char kLuaLibrary[] = R"lua(
local P, L = ARGV[3], ARGV[4]
local LABEL = {agency = 'agency', office = 'office', service = 'public service',
               counter = 'counter', officer = 'officer'}
local function rkey(kind, id) return P .. kind .. ':' .. id end
local function index_all(kind) return L .. kind end
local function index_agency(kind, a) return L .. kind .. ':agency:' .. a end
local function index_office(kind, o) return L .. kind .. ':office:' .. o end

local function read_items(pos, count)
  local items = {}
  for n = 1, count do
    local it = {kind = ARGV[pos], id = ARGV[pos + 1], agency = ARGV[pos + 2],
                office = ARGV[pos + 3], path = ARGV[pos + 4], services = {}}
    local ns = tonumber(ARGV[pos + 5])
    for s = 1, ns do it.services[s] = ARGV[pos + 5 + s] end
    it.pb = ARGV[pos + 6 + ns]
    items[n] = it
    pos = pos + 7 + ns
  end
  return items, pos
end

-- The request's own items by kind and id, so references may point into it.
local pending = {agency = {}, office = {}, service = {}, counter = {}, officer = {}}

-- The agency a resource belongs to, or nil when it exists nowhere.
local function agency_of(kind, id)
  local it = pending[kind][id]
  if it then return it.agency end
  local a = redis.call('HGET', rkey(kind, id), 'agency')
  if a then return a end
  return nil
end

-- Checks one item against the store; returns its stored {agency, office, pb}
-- (false where absent), or nil and an error reply text.
local function check(it, mode, may_create_agency)
  local stored = redis.call('HMGET', rkey(it.kind, it.id), 'agency', 'office', 'pb')
  local exists = stored[3] ~= false
  local label = LABEL[it.kind] .. ' ' .. it.id
  if mode == 'create' and exists then
    return nil, 'ALREADY_EXISTS ' .. label .. ' already exists'
  end
  if mode == 'update' and not exists then
    return nil, 'NOT_FOUND ' .. label .. ' does not exist'
  end
  if exists and stored[1] ~= it.agency then
    return nil, 'FAILED_PRECONDITION ' .. it.path .. '.agency_id: ' .. label ..
        ' belongs to agency ' .. stored[1] .. '; a resource cannot move to another agency'
  end
  if it.kind == 'agency' then
    if not exists and not may_create_agency then
      return nil, 'PERMISSION_DENIED ' .. it.path .. ': agency ' .. it.id ..
          ' does not exist and only a region_admin may create agencies'
    end
    return stored
  end
  if agency_of('agency', it.agency) == nil then
    return nil, 'NOT_FOUND ' .. it.path .. '.agency_id: agency ' .. it.agency .. ' does not exist'
  end
  if it.kind == 'counter' and exists and stored[2] ~= it.office then
    return nil, 'FAILED_PRECONDITION ' .. it.path .. '.office_id: counter ' .. it.id ..
        ' stands in office ' .. stored[2] .. '; a counter cannot move to another office'
  end
  if it.office ~= '' then
    local oa = agency_of('office', it.office)
    if oa == nil then
      return nil, 'NOT_FOUND ' .. it.path .. '.office_id: office ' .. it.office .. ' does not exist'
    end
    if oa ~= it.agency then
      return nil, 'FAILED_PRECONDITION ' .. it.path .. '.office_id: office ' .. it.office ..
          ' belongs to agency ' .. oa .. ', not ' .. it.agency
    end
  end
  for s, sid in ipairs(it.services) do
    local field = it.path .. '.service_ids[' .. (s - 1) .. ']'
    local sa = agency_of('service', sid)
    if sa == nil then
      return nil, 'NOT_FOUND ' .. field .. ': public service ' .. sid .. ' does not exist'
    end
    if sa ~= it.agency then
      return nil, 'FAILED_PRECONDITION ' .. field .. ': public service ' .. sid ..
          ' belongs to agency ' .. sa .. ', not ' .. it.agency
    end
  end
  return stored
end

-- Writes one checked item if it differs; returns 'created', 'updated' or 'unchanged'.
local function write(it, stored)
  if stored[3] == it.pb then return 'unchanged' end
  redis.call('HSET', rkey(it.kind, it.id), 'pb', it.pb, 'agency', it.agency,
             'office', it.office)
  redis.call('ZADD', index_all(it.kind), 0, it.id)
  if it.kind ~= 'agency' then
    redis.call('ZADD', index_agency(it.kind, it.agency), 0, it.id)
  end
  if it.kind == 'counter' or it.kind == 'officer' then
    local old = stored[2]
    if old and old ~= '' and old ~= it.office then
      redis.call('ZREM', index_office(it.kind, old), it.id)
    end
    if it.office ~= '' then
      redis.call('ZADD', index_office(it.kind, it.office), 0, it.id)
    end
  end
  if stored[3] then return 'updated' end
  return 'created'
end
)lua";

// Create or Update of one resource.
//   KEYS[1] idempotency key, KEYS[2] event stream
//   ARGV[1] ttl, ARGV[2] maxlen, ARGV[3..4] key prefixes, ARGV[5] mode
//   ('create' or 'update'), ARGV[6..8] event type, agency and envelope,
//   ARGV[9...] the item. Replies with the stored resource.
const LuaScript& PutScript() {
  static const LuaScript* const kScript = new LuaScript(
      MakeIdempotentScript("directory_put", absl::StrCat(kLuaLibrary, R"lua(
local it = read_items(9, 1)[1]
local stored, err = check(it, ARGV[5], true)
if not stored then return redis.error_reply(err) end
if write(it, stored) ~= 'unchanged' then
  prima_emit(KEYS[2], ARGV[2], ARGV[6], ARGV[7], ARGV[8])
end
return it.pb
)lua")));
  return *kScript;
}

// ApplyDirectory.
//   KEYS[1] idempotency key, KEYS[2] event stream
//   ARGV[1] ttl, ARGV[2] maxlen, ARGV[3..4] key prefixes, ARGV[5]
//   may_create_agencies ('1'/'0'), ARGV[6] item count, ARGV[7] envelope count,
//   ARGV[8...] items, then per agency: agency id, event type, envelope.
// Replies "c u n c u n ... (five kinds)|agency,agency" with the agencies whose
// events were emitted.
const LuaScript& ApplyScript() {
  static const LuaScript* const kScript = new LuaScript(
      MakeIdempotentScript("directory_apply", absl::StrCat(kLuaLibrary, R"lua(
local items, pos = read_items(8, tonumber(ARGV[6]))
for _, it in ipairs(items) do pending[it.kind][it.id] = it end
local states = {}
for n, it in ipairs(items) do
  local stored, err = check(it, 'apply', ARGV[5] == '1')
  if not stored then return redis.error_reply(err) end
  states[n] = stored
end
local order = {'agency', 'office', 'service', 'counter', 'officer'}
local counts = {}
for _, k in ipairs(order) do counts[k] = {created = 0, updated = 0, unchanged = 0} end
local changed = {}
for n, it in ipairs(items) do
  local r = write(it, states[n])
  counts[it.kind][r] = counts[it.kind][r] + 1
  if r ~= 'unchanged' then changed[it.agency] = true end
end
local out = {}
for _, k in ipairs(order) do
  out[#out + 1] = counts[k].created
  out[#out + 1] = counts[k].updated
  out[#out + 1] = counts[k].unchanged
end
local emitted = {}
for e = 1, tonumber(ARGV[7]) do
  local agency = ARGV[pos]
  if changed[agency] then
    prima_emit(KEYS[2], ARGV[2], ARGV[pos + 1], agency, ARGV[pos + 2])
    emitted[#emitted + 1] = agency
  end
  pos = pos + 3
end
return table.concat(out, ' ') .. '|' .. table.concat(emitted, ',')
)lua")));
  return *kScript;
}

// ---- per-kind mapping ----

struct Item {
  Kind kind;
  std::string id;
  std::string agency;
  std::string office;
  std::vector<std::string> services;
  std::string bytes;
};

template <typename T>
std::string Bytes(const T& resource) {
  // Unknown fields from newer clients are not stored: equal resources must
  // serialize to equal bytes for ApplyDirectory's comparison.
  T copy = resource;
  copy.DiscardUnknownFields();
  std::string out;
  copy.SerializeToString(&out);
  return out;
}

Item ItemOf(const Agency& x) {
  return {Kind::kAgency, x.id(), x.id(), "", {}, Bytes(x)};
}
Item ItemOf(const Office& x) {
  return {Kind::kOffice, x.id(), x.agency_id(), "", {}, Bytes(x)};
}
Item ItemOf(const PublicService& x) {
  return {Kind::kPublicService, x.id(), x.agency_id(), "", {}, Bytes(x)};
}
Item ItemOf(const Counter& x) {
  return {Kind::kCounter,
          x.id(),
          x.agency_id(),
          x.office_id(),
          {x.service_ids().begin(), x.service_ids().end()},
          Bytes(x)};
}
Item ItemOf(const Officer& x) {
  return {Kind::kOfficer, x.id(), x.agency_id(), x.office_id(), {}, Bytes(x)};
}

template <typename T>
constexpr Kind KindOf();
template <>
constexpr Kind KindOf<Agency>() {
  return Kind::kAgency;
}
template <>
constexpr Kind KindOf<Office>() {
  return Kind::kOffice;
}
template <>
constexpr Kind KindOf<PublicService>() {
  return Kind::kPublicService;
}
template <>
constexpr Kind KindOf<Counter>() {
  return Kind::kCounter;
}
template <>
constexpr Kind KindOf<Officer>() {
  return Kind::kOfficer;
}

// The path of a single resource in its Create/Update request.
absl::string_view FieldOf(Kind kind) {
  return kind == Kind::kPublicService ? "public_service"
                                      : directory::KindName(kind);
}

void AppendItem(const Item& item, absl::string_view path,
                std::vector<std::string>& args) {
  args.push_back(std::string(directory::KindName(item.kind)));
  args.push_back(item.id);
  args.push_back(item.agency);
  args.push_back(item.office);
  args.push_back(std::string(path));
  args.push_back(absl::StrCat(item.services.size()));
  for (const std::string& s : item.services) args.push_back(s);
  args.push_back(item.bytes);
}

prima::events::v1::EventEnvelope Envelope(const DirectoryChanged& payload,
                                          absl::string_view agency,
                                          const WriteContext& context,
                                          absl::Time now) {
  prima::events::v1::EventEnvelope envelope = MakeEnvelope(
      kEventType, agency, kProducer, payload, now, context.request_id);
  envelope.mutable_actor()->set_subject(context.caller.subject);
  envelope.mutable_actor()->set_agency(context.caller.agency);
  return envelope;
}

// ARGV[2..4] of the write scripts (RunIdempotent puts the TTL first).
std::vector<std::string> CommonArgs() {
  return {absl::StrCat(kEventStreamMaxLen), directory::kResourcePrefix,
          directory::kIndexPrefix};
}

std::string Scope(const ListQuery& query) {
  return absl::StrCat(directory::KindName(query.kind), "|", query.agency_id,
                      "|", query.office_id, "|", query.only_agency);
}

}  // namespace

std::string EncodePageToken(absl::string_view scope,
                            absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(scope, "\n", last_id));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view scope,
                                            absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token: is not a valid page token");
  }
  std::vector<std::string> parts =
      absl::StrSplit(raw, absl::MaxSplits('\n', 1));
  if (parts.size() != 2 || parts[0] != scope ||
      !ValidateId("page_token", parts[1]).ok()) {
    return absl::InvalidArgumentError(
        "page_token: does not belong to this list with these filters");
  }
  return parts[1];
}

DirectoryStore::DirectoryStore(RedisClient& redis, const Clock& clock)
    : redis_(redis), clock_(clock) {}

template <typename T>
void DirectoryStore::Create(const T& resource, const WriteContext& context,
                            StoreCallback<T> done) {
  Put("create", resource, context, std::move(done));
}

template <typename T>
void DirectoryStore::Update(const T& resource, const WriteContext& context,
                            StoreCallback<T> done) {
  Put("update", resource, context, std::move(done));
}

template <typename T>
void DirectoryStore::Put(absl::string_view mode, const T& resource,
                         const WriteContext& context, StoreCallback<T> done) {
  const Item item = ItemOf(resource);
  DirectoryChanged payload;
  payload.set_kind(EventKind(item.kind));
  payload.add_ids(item.id);
  const prima::events::v1::EventEnvelope envelope =
      Envelope(payload, item.agency, context, clock_.Now());

  std::vector<std::string> args = CommonArgs();
  args.push_back(std::string(mode));
  for (std::string& a : EnvelopeArgs(envelope)) args.push_back(std::move(a));
  AppendItem(item, FieldOf(item.kind), args);
  RunIdempotent(redis_, PutScript(),
                {kProducer, context.rpc, context.caller.subject,
                 context.request_id, context.caller.request_fingerprint},
                {EventStreamKey(kProducer)}, std::move(args),
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  T stored;
                  if (!stored.ParseFromString(result->value)) {
                    return done(absl::InternalError(
                        "directory: unreadable stored value"));
                  }
                  done(std::move(stored));
                });
}

template <typename T>
void DirectoryStore::Get(absl::string_view id, StoreCallback<T> done) {
  constexpr Kind kind = KindOf<T>();
  redis_.Command(
      {"HGET", directory::ResourceKey(kind, id), directory::kProtoField},
      [done = std::move(done),
       id = std::string(id)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->is_nil()) {
          return done(absl::NotFoundError(absl::StrCat(
              directory::KindLabel(kind), " ", id, " does not exist")));
        }
        T value;
        if (!reply->is_string() || !value.ParseFromString(reply->str)) {
          return done(
              absl::InternalError("directory: unreadable stored value"));
        }
        done(std::move(value));
      },
      {.resend_safe = true});
}

template <typename T>
void DirectoryStore::List(const ListQuery& query, StoreCallback<Page<T>> done) {
  const std::string scope = Scope(query);
  absl::StatusOr<std::string> after = DecodePageToken(scope, query.page_token);
  if (!after.ok()) return done(after.status());
  std::string index;
  if (!query.office_id.empty()) {
    index = directory::OfficeIndexKey(query.kind, query.office_id);
  } else if (!query.agency_id.empty()) {
    index = directory::AgencyIndexKey(query.kind, query.agency_id);
  } else {
    index = directory::IndexKey(query.kind);
  }
  redis_.Eval(
      directory::ListPageScript(), {index},
      {directory::ResourceKey(query.kind, ""), *after,
       absl::StrCat(query.page_size), query.only_agency},
      [done = std::move(done),
       scope](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array() || reply->elements.empty()) {
          return done(absl::InternalError("directory: malformed list reply"));
        }
        Page<T> page;
        if (!reply->elements[0].str.empty()) {
          page.next_page_token = EncodePageToken(scope, reply->elements[0].str);
        }
        for (size_t i = 1; i < reply->elements.size(); ++i) {
          T value;
          if (!value.ParseFromString(reply->elements[i].str)) {
            return done(
                absl::InternalError("directory: unreadable stored value"));
          }
          page.items.push_back(std::move(value));
        }
        done(std::move(page));
      },
      {.resend_safe = true});
}

void DirectoryStore::Apply(const ApplyDirectoryRequest& request,
                           const WriteContext& context,
                           bool may_create_agencies,
                           StoreCallback<ApplyDirectoryResponse> done) {
  std::vector<std::string> items;
  std::set<std::string> agencies;  // sorted: events in a stable order
  int count = 0;
  auto add = [&](const auto& list, absl::string_view field) {
    for (int i = 0; i < list.size(); ++i) {
      const Item item = ItemOf(list[i]);
      agencies.insert(item.agency);
      AppendItem(item, absl::StrCat(field, "[", i, "]"), items);
      ++count;
    }
  };
  add(request.agencies(), "agencies");
  add(request.offices(), "offices");
  add(request.public_services(), "public_services");
  add(request.counters(), "counters");
  add(request.officers(), "officers");

  std::vector<std::string> args = CommonArgs();
  args.push_back(may_create_agencies ? "1" : "0");
  args.push_back(absl::StrCat(count));
  args.push_back(absl::StrCat(agencies.size()));
  for (std::string& a : items) args.push_back(std::move(a));
  const absl::Time now = clock_.Now();
  for (const std::string& agency : agencies) {
    DirectoryChanged payload;
    payload.set_kind(DirectoryChanged::KIND_AGENCY);
    payload.add_ids(agency);
    payload.set_whole_agency(true);
    std::vector<std::string> envelope =
        EnvelopeArgs(Envelope(payload, agency, context, now));
    args.push_back(agency);
    args.push_back(std::move(envelope[0]));  // type
    args.push_back(std::move(envelope[2]));  // serialized envelope
  }
  RunIdempotent(
      redis_, ApplyScript(),
      {kProducer, context.rpc, context.caller.subject, context.request_id,
       context.caller.request_fingerprint},
      {EventStreamKey(kProducer)}, std::move(args),
      [done =
           std::move(done)](absl::StatusOr<IdempotentResult> result) mutable {
        if (!result.ok()) return done(result.status());
        std::vector<std::string> halves =
            absl::StrSplit(result->value, absl::MaxSplits('|', 1));
        std::vector<std::string> numbers =
            absl::StrSplit(halves[0], ' ', absl::SkipEmpty());
        if (halves.size() != 2 || numbers.size() != 15) {
          return done(absl::InternalError("directory: malformed apply reply"));
        }
        int n[15];
        for (int i = 0; i < 15; ++i) {
          if (!absl::SimpleAtoi(numbers[i], &n[i])) {
            return done(
                absl::InternalError("directory: malformed apply reply"));
          }
        }
        ApplyDirectoryResponse response;
        ApplyCounts* counts[5] = {
            response.mutable_agencies(), response.mutable_offices(),
            response.mutable_public_services(), response.mutable_counters(),
            response.mutable_officers()};
        for (int k = 0; k < 5; ++k) {
          counts[k]->set_created(n[3 * k]);
          counts[k]->set_updated(n[3 * k + 1]);
          counts[k]->set_unchanged(n[3 * k + 2]);
        }
        for (absl::string_view agency :
             absl::StrSplit(halves[1], ',', absl::SkipEmpty())) {
          response.add_changed_agency_ids(std::string(agency));
        }
        done(std::move(response));
      });
}

// The five resource types.
#define PRIMA_DIRECTORY_INSTANTIATE(T)                                       \
  template void DirectoryStore::Create<T>(const T&, const WriteContext&,     \
                                          StoreCallback<T>);                 \
  template void DirectoryStore::Update<T>(const T&, const WriteContext&,     \
                                          StoreCallback<T>);                 \
  template void DirectoryStore::Get<T>(absl::string_view, StoreCallback<T>); \
  template void DirectoryStore::List<T>(const ListQuery&,                    \
                                        StoreCallback<Page<T>>);
PRIMA_DIRECTORY_INSTANTIATE(Agency)
PRIMA_DIRECTORY_INSTANTIATE(Office)
PRIMA_DIRECTORY_INSTANTIATE(PublicService)
PRIMA_DIRECTORY_INSTANTIATE(Counter)
PRIMA_DIRECTORY_INSTANTIATE(Officer)
#undef PRIMA_DIRECTORY_INSTANTIATE

}  // namespace prima::catalog
