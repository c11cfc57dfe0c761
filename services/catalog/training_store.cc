#include "services/catalog/training_store.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prima/catalog/v1/directory.pb.h"
#include "services/catalog/training_rules.h"
#include "services/common/directory_keys.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/lua_script.h"
#include "services/common/script_reply.h"
#include "services/common/validation.h"

namespace prima::catalog {

using prima::catalog::v1::Certificate;
using prima::catalog::v1::Course;
using prima::catalog::v1::CourseStatus;
using prima::catalog::v1::Enrolment;
using prima::catalog::v1::EnrolmentStatus;
using prima::catalog::v1::ListComplianceGapsResponse;
using prima::catalog::v1::ListRecommendationsResponse;
using prima::catalog::v1::Offering;
using prima::catalog::v1::Recommendation;
using prima::catalog::v1::RecommendationStatus;
using prima::catalog::v1::RequiredCourses;
using prima::catalog::v1::TrainingRecord;
using prima::catalog::v1::WithdrawResponse;

namespace {

constexpr char kService[] = "training";
constexpr char kProducer[] = "catalog";
constexpr int kMaxRecordEntries = 500;

// ---- keys ----
std::string CourseKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:course:", id);
}
const char kCoursesKey[] = "prima:catalog:courses";
std::string CourseOfferingsKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:course:", id, ":offerings");
}
std::string OfferingKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:offering:", id);
}
std::string SeatsKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:offering:", id, ":seats");
}
std::string WaitlistKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:offering:", id, ":waitlist");
}
std::string EnrolmentKey(absl::string_view offering,
                         absl::string_view officer) {
  return absl::StrCat("prima:catalog:enrolment:", offering, ":", officer);
}
std::string OfficerEnrolmentsKey(absl::string_view officer) {
  return absl::StrCat("prima:catalog:officer:", officer, ":enrolments");
}
std::string OfficerCoursesKey(absl::string_view officer) {
  return absl::StrCat("prima:catalog:officer:", officer, ":courses");
}
std::string CertificateKey(absl::string_view code) {
  return absl::StrCat("prima:catalog:certificate:", code);
}
std::string CertificateSeqKey(int year) {
  return absl::StrCat("prima:catalog:certificate-seq:", year);
}
std::string RequiredKey(absl::string_view agency) {
  return absl::StrCat("prima:catalog:agency:", agency, ":required");
}
std::string TraineesKey(absl::string_view agency) {
  return absl::StrCat("prima:catalog:agency:", agency, ":trainees");
}
std::string RecommendationKey(absl::string_view id) {
  return absl::StrCat("prima:catalog:recommendation:", id);
}
std::string OfficerRecommendationsKey(absl::string_view officer) {
  return absl::StrCat("prima:catalog:officer:", officer, ":recommendations");
}
std::string OfficeRecommendationsKey(absl::string_view office) {
  return absl::StrCat("prima:catalog:office:", office, ":recommendations");
}
// At most one OPEN recommendation per officer (or office) and course: these
// hashes name the candidate, course -> recommendation id.
std::string OfficerOpenRecommendationsKey(absl::string_view officer) {
  return absl::StrCat("prima:catalog:officer:", officer,
                      ":open-recommendations");
}
std::string OfficeOpenRecommendationsKey(absl::string_view office) {
  return absl::StrCat("prima:catalog:office:", office, ":open-recommendations");
}

int64_t Int(const Fields& f, absl::string_view name) {
  return FieldInt(f, name);
}
std::string Str(const Fields& f, absl::string_view name) {
  return FieldStr(f, name);
}
google::protobuf::Timestamp Micros(const Fields& f, absl::string_view name) {
  return ToProtoTime(absl::FromUnixMicros(Int(f, name)));
}

absl::StatusOr<Course> CourseFromFields(const Fields& f) {
  Course course;
  if (f.empty()) return absl::NotFoundError("course does not exist");
  if (!course.ParseFromString(Str(f, "pb"))) {
    return absl::InternalError("stored course does not parse");
  }
  course.set_status(static_cast<CourseStatus>(Int(f, "status")));
  course.set_owner_agency(Str(f, "owner"));
  course.set_total_hours(TotalHours(course));
  *course.mutable_create_time() = Micros(f, "created");
  *course.mutable_update_time() = Micros(f, "updated");
  return course;
}

absl::StatusOr<Offering> OfferingFromFields(const Fields& f) {
  Offering offering;
  if (f.empty()) return absl::NotFoundError("offering does not exist");
  if (!offering.ParseFromString(Str(f, "pb"))) {
    return absl::InternalError("stored offering does not parse");
  }
  offering.set_enrolled_count(static_cast<int32_t>(Int(f, "enrolled")));
  offering.set_waitlist_count(static_cast<int32_t>(Int(f, "waitlisted")));
  return offering;
}

Certificate CertificateFromEnrolmentFields(const Fields& f) {
  Certificate c;
  c.set_number(FormatCertificateNumber(static_cast<int>(Int(f, "cert_year")),
                                       Int(f, "cert_seq")));
  c.set_verification_code(Str(f, "cert"));
  c.set_officer_id(Str(f, "officer"));
  c.set_course_id(Str(f, "course"));
  c.set_course_title(Str(f, "title"));
  c.set_offering_id(Str(f, "offering"));
  c.set_score(static_cast<int32_t>(Int(f, "score")));
  c.set_agency(Str(f, "agency"));
  *c.mutable_issue_time() = Micros(f, "completed");
  return c;
}

Enrolment EnrolmentFromFields(const Fields& f) {
  Enrolment e;
  e.set_offering_id(Str(f, "offering"));
  e.set_course_id(Str(f, "course"));
  e.set_course_title(Str(f, "title"));
  e.set_officer_id(Str(f, "officer"));
  e.set_agency(Str(f, "agency"));
  EnrolmentStatus status = v1::ENROLMENT_STATUS_UNSPECIFIED;
  v1::EnrolmentStatus_Parse(absl::StrCat("ENROLMENT_STATUS_", Str(f, "status")),
                            &status);
  e.set_status(status);
  if (status == v1::ENROLMENT_STATUS_WAITLISTED) {
    e.set_waitlist_position(static_cast<int32_t>(Int(f, "position")));
  }
  std::vector<int32_t> modules;
  for (absl::string_view m :
       absl::StrSplit(Str(f, "modules"), ',', absl::SkipEmpty())) {
    int32_t index = 0;
    if (absl::SimpleAtoi(m, &index)) modules.push_back(index);
  }
  std::sort(modules.begin(), modules.end());
  for (int32_t m : modules) e.add_completed_modules(m);
  e.set_attendance_percent(static_cast<int32_t>(Int(f, "attendance")));
  *e.mutable_enroll_time() = Micros(f, "created");
  if (status == v1::ENROLMENT_STATUS_PASSED ||
      status == v1::ENROLMENT_STATUS_NOT_PASSED) {
    e.set_score(static_cast<int32_t>(Int(f, "score")));
    *e.mutable_complete_time() = Micros(f, "completed");
  }
  if (status == v1::ENROLMENT_STATUS_PASSED) {
    *e.mutable_certificate() = CertificateFromEnrolmentFields(f);
  }
  return e;
}

absl::StatusOr<Recommendation> RecommendationFromFields(const Fields& f) {
  Recommendation r;
  if (f.empty()) return absl::NotFoundError("recommendation does not exist");
  if (!r.ParseFromString(Str(f, "pb"))) {
    return absl::InternalError("stored recommendation does not parse");
  }
  r.set_status(static_cast<RecommendationStatus>(Int(f, "status")));
  if (Int(f, "updated") != Int(f, "created")) {
    *r.mutable_update_time() = Micros(f, "updated");
  }
  return r;
}

// ",1,2," : the statuses (as numbers) from which `allowed` accepts a change.
template <typename Check>
std::string AllowedCourseStatuses(Check check) {
  std::string out = ",";
  for (CourseStatus s : {v1::COURSE_STATUS_DRAFT, v1::COURSE_STATUS_PUBLISHED,
                         v1::COURSE_STATUS_ARCHIVED}) {
    if (check(s)) absl::StrAppend(&out, static_cast<int>(s), ",");
  }
  return out;
}

std::string NowMicros(absl::Time now) {
  return absl::StrCat(absl::ToUnixMicros(now));
}

// ---- scripts ----

LuaScript Mutation(absl::string_view name, absl::string_view body) {
  return MakeIdempotentScript(name, absl::StrCat(kLuaPack, body));
}
LuaScript Read(absl::string_view name, absl::string_view body) {
  return LuaScript(name, absl::StrCat(kLuaPack, body));
}

// KEYS: idem, course, courses, stream
// ARGV: ttl, id, pb, owner, title, search, comp, pass_mark, modules, now,
//       maxlen, type, agency, envelope
const LuaScript& CreateCourseScript() {
  static const auto* s = new LuaScript(Mutation("training_create_course", R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('ALREADY_EXISTS course ' .. ARGV[2] .. ' already exists')
end
redis.call('HSET', KEYS[2], 'pb', ARGV[3], 'status', '1', 'owner', ARGV[4],
           'title', ARGV[5], 'search', ARGV[6], 'comp', ARGV[7],
           'pass_mark', ARGV[8], 'modules', ARGV[9], 'created', ARGV[10],
           'updated', ARGV[10])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
prima_emit(KEYS[4], ARGV[11], ARGV[12], ARGV[13], ARGV[14])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: idem, course, stream
// ARGV: ttl, id, pb, owner (requested, may be empty), title, search, comp,
//       pass_mark, modules, now, maxlen, type, agency, envelope, scope,
//       allowed statuses
const LuaScript& UpdateCourseScript() {
  static const auto* s = new LuaScript(Mutation("training_update_course", R"lua(
local cur = redis.call('HMGET', KEYS[2], 'status', 'owner')
if not cur[1] then
  return redis.error_reply('NOT_FOUND course ' .. ARGV[2] .. ' does not exist')
end
if ARGV[15] ~= '*' and ARGV[15] ~= cur[2] then
  return redis.error_reply('PERMISSION_DENIED course ' .. ARGV[2] .. ' belongs to another owner')
end
if ARGV[4] ~= '' and ARGV[4] ~= cur[2] then
  return redis.error_reply('INVALID_ARGUMENT course.owner_agency: is immutable')
end
if not string.find(ARGV[16], ',' .. cur[1] .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION course ' .. ARGV[2] .. ' is archived: only DRAFT or PUBLISHED courses can be updated')
end
redis.call('HSET', KEYS[2], 'pb', ARGV[3], 'title', ARGV[5], 'search', ARGV[6],
           'comp', ARGV[7], 'pass_mark', ARGV[8], 'modules', ARGV[9],
           'updated', ARGV[10])
prima_emit(KEYS[3], ARGV[11], ARGV[12], ARGV[13], ARGV[14])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: idem, course, stream
// ARGV: ttl, id, to, now, maxlen, type, agency, envelope, scope, allowed from
const LuaScript& CourseStatusScript() {
  static const auto* s = new LuaScript(Mutation("training_course_status", R"lua(
local cur = redis.call('HMGET', KEYS[2], 'status', 'owner')
if not cur[1] then
  return redis.error_reply('NOT_FOUND course ' .. ARGV[2] .. ' does not exist')
end
if ARGV[9] ~= '*' and ARGV[9] ~= cur[2] then
  return redis.error_reply('PERMISSION_DENIED course ' .. ARGV[2] .. ' belongs to another owner')
end
if not string.find(ARGV[10], ',' .. cur[1] .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION course ' .. ARGV[2] .. ' cannot change from its current status (archived courses stay archived)')
end
if cur[1] ~= ARGV[3] then
  redis.call('HSET', KEYS[2], 'status', ARGV[3], 'updated', ARGV[4])
  prima_emit(KEYS[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
end
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: courses
// ARGV: cursor, page size, status, ",comp,", keyword, visibility
const LuaScript& ListCoursesScript() {
  static const auto* s = new LuaScript(Read("training_list_courses", R"lua(
local out = {''}
local limit = tonumber(ARGV[2])
local n, scanned = 0, 0
local start = '-'
if ARGV[1] ~= '' then start = '(' .. ARGV[1] end
local last, more = '', false
while true do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, 200)
  for _, id in ipairs(ids) do
    if n >= limit or scanned >= 5000 then more = true break end
    scanned = scanned + 1
    last = id
    local f = redis.call('HMGET', 'prima:catalog:course:' .. id, 'status',
                         'owner', 'comp', 'search')
    local ok = f[1] ~= false
    if ok and f[1] ~= '2' then
      if ARGV[6] == '' then ok = false
      elseif ARGV[6] ~= '*' and f[2] ~= ARGV[6] and f[2] ~= '' then ok = false end
    end
    if ok and ARGV[3] ~= '' and f[1] ~= ARGV[3] then ok = false end
    if ok and ARGV[4] ~= '' and not string.find(f[3], ARGV[4], 1, true) then ok = false end
    if ok and ARGV[5] ~= '' and not string.find(f[4], ARGV[5], 1, true) then ok = false end
    if ok then
      n = n + 1
      out[#out + 1] = pack(redis.call('HGETALL', 'prima:catalog:course:' .. id))
    end
  end
  if more or #ids < 200 then break end
  start = '(' .. ids[#ids]
end
if more then out[1] = last end
return pack(out)
)lua"));
  return *s;
}

// KEYS: idem, offering, course, course offerings, stream
// ARGV: ttl, id, pb, course id, agency, capacity, closes, start seconds, now,
//       maxlen, type, agency, envelope, allowed course statuses
const LuaScript& CreateOfferingScript() {
  static const auto* s =
      new LuaScript(Mutation("training_create_offering", R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('ALREADY_EXISTS offering ' .. ARGV[2] .. ' already exists')
end
local cs = redis.call('HGET', KEYS[3], 'status')
if not cs then
  return redis.error_reply('NOT_FOUND course ' .. ARGV[4] .. ' does not exist')
end
if not string.find(ARGV[14], ',' .. cs .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION course ' .. ARGV[4] .. ' is not PUBLISHED: only a PUBLISHED course takes offerings')
end
redis.call('HSET', KEYS[2], 'pb', ARGV[3], 'course', ARGV[4], 'agency', ARGV[5],
           'capacity', ARGV[6], 'closes', ARGV[7], 'seq', 0)
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[2])
prima_emit(KEYS[5], ARGV[10], ARGV[11], ARGV[12], ARGV[13])
local res = redis.call('HGETALL', KEYS[2])
return pack(res)
)lua"));
  return *s;
}

// KEYS: offering, seats, waitlist
const LuaScript& GetOfferingScript() {
  static const auto* s = new LuaScript(Read("training_get_offering", R"lua(
local res = redis.call('HGETALL', KEYS[1])
if #res == 0 then return '' end
table.insert(res, 'enrolled') table.insert(res, redis.call('SCARD', KEYS[2]))
table.insert(res, 'waitlisted') table.insert(res, redis.call('ZCARD', KEYS[3]))
return pack(res)
)lua"));
  return *s;
}

// KEYS: course offerings; ARGV: offset, limit
const LuaScript& ListOfferingsScript() {
  static const auto* s = new LuaScript(Read("training_list_offerings", R"lua(
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  if i > tonumber(ARGV[2]) then break end
  local key = 'prima:catalog:offering:' .. id
  local res = redis.call('HGETALL', key)
  if #res > 0 then
    table.insert(res, 'enrolled') table.insert(res, redis.call('SCARD', key .. ':seats'))
    table.insert(res, 'waitlisted') table.insert(res, redis.call('ZCARD', key .. ':waitlist'))
    out[#out + 1] = pack(res)
  end
end
local more = '0'
if #ids > tonumber(ARGV[2]) then more = '1' end
return more .. pack(out)
)lua"));
  return *s;
}

// KEYS: idem, offering, seats, waitlist, enrolment, officer enrolments,
//       officer courses, agency trainees, stream
// ARGV: ttl, officer, agency, now, maxlen, enrolled type, event agency,
//       enrolled envelope, waitlisted type, waitlisted envelope, offering id,
//       max waitlist, allowed course statuses, directory officer key prefix,
//       enrolled payload, waitlisted payload
const LuaScript& EnrollScript() {
  static const auto* s = new LuaScript(Mutation("training_enroll", R"lua(
local off = redis.call('HMGET', KEYS[2], 'course', 'capacity', 'closes')
if not off[1] then
  return redis.error_reply('NOT_FOUND offering ' .. ARGV[11] .. ' does not exist')
end
local c = redis.call('HMGET', 'prima:catalog:course:' .. off[1], 'status', 'title')
if not c[1] or not string.find(ARGV[13], ',' .. c[1] .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION course ' .. off[1] .. ' is not PUBLISHED')
end
-- `closes` is EnrolmentClosesAt(deadline, start) of training_rules.h.
if tonumber(ARGV[4]) >= tonumber(off[3]) then
  return redis.error_reply('FAILED_PRECONDITION offering ' .. ARGV[11] .. ' is closed for enrolment: its deadline or start has passed')
end
local dir_agency = redis.call('HGET', ARGV[14] .. ARGV[2], 'agency')
if dir_agency and dir_agency ~= ARGV[3] then
  return redis.error_reply('PERMISSION_DENIED officer ' .. ARGV[2] .. ' belongs to agency ' .. dir_agency .. ', not ' .. ARGV[3])
end
local prev = redis.call('HGET', KEYS[5], 'status')
if prev and prev ~= 'WITHDRAWN' then
  return redis.error_reply('ALREADY_EXISTS officer ' .. ARGV[2] .. ' is already ' .. prev .. ' in offering ' .. ARGV[11])
end
local active = redis.call('HGET', KEYS[7], off[1])
if active == 'PASSED' then
  return redis.error_reply('FAILED_PRECONDITION officer ' .. ARGV[2] .. ' already passed course ' .. off[1])
end
if active then
  return redis.error_reply('FAILED_PRECONDITION officer ' .. ARGV[2] .. ' is already in offering ' .. active .. ' of course ' .. off[1])
end
local full = redis.call('SCARD', KEYS[3]) >= tonumber(off[2])
if full and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[12]) then
  return redis.error_reply('RESOURCE_EXHAUSTED offering ' .. ARGV[11] .. ' has a full waitlist')
end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
-- Enrolment times follow seq (and so waitlist positions): a call whose clock
-- read came earlier but whose script ran later takes the previous time.
-- (Kept as strings: Lua would print a number of microseconds as 1.7e+15.)
local now = ARGV[4]
local last = redis.call('HGET', KEYS[2], 'enrolled_at')
if last and tonumber(last) > tonumber(now) then now = last end
redis.call('HSET', KEYS[2], 'enrolled_at', now)
local status = 'ENROLLED'
if full then
  status = 'WAITLISTED'
  redis.call('ZADD', KEYS[4], seq, ARGV[2])
else
  redis.call('SADD', KEYS[3], ARGV[2])
end
redis.call('DEL', KEYS[5])
redis.call('HSET', KEYS[5], 'officer', ARGV[2], 'offering', ARGV[11],
           'course', off[1], 'agency', ARGV[3], 'status', status, 'seq', seq,
           'created', now, 'updated', now, 'attendance', '0',
           'modules', ',', 'title', c[2] or '')
redis.call('ZADD', KEYS[6], now, ARGV[11])
redis.call('HSET', KEYS[7], off[1], ARGV[11])
redis.call('SADD', KEYS[8], ARGV[2])
local res = redis.call('HGETALL', KEYS[5])
if full then
  prima_emit_with(KEYS[9], ARGV[5], ARGV[9], ARGV[7], ARGV[10], ARGV[16],
                  prima_pb_bytes(2, off[1]))
  table.insert(res, 'position')
  table.insert(res, redis.call('ZRANK', KEYS[4], ARGV[2]) + 1)
else
  prima_emit_with(KEYS[9], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[15],
                  prima_pb_bytes(2, off[1]))
end
return pack(res)
)lua"));
  return *s;
}

// KEYS: idem, enrolment, offering, seats, waitlist, officer courses, stream
// ARGV: ttl, officer, offering id, now, maxlen, type, agency, envelope, scope
const LuaScript& WithdrawScript() {
  static const auto* s = new LuaScript(Mutation("training_withdraw", R"lua(
local e = redis.call('HMGET', KEYS[2], 'status', 'agency', 'course')
if not e[1] then
  return redis.error_reply('NOT_FOUND officer ' .. ARGV[2] .. ' has no enrolment in offering ' .. ARGV[3])
end
if ARGV[9] ~= '*' and ARGV[9] ~= e[2] and ARGV[9] ~= redis.call('HGET', KEYS[3], 'agency') then
  return redis.error_reply('PERMISSION_DENIED the enrolment belongs to another agency')
end
if e[1] ~= 'ENROLLED' and e[1] ~= 'WAITLISTED' then
  return redis.error_reply('FAILED_PRECONDITION enrolment is ' .. e[1] .. ': only ENROLLED or WAITLISTED can withdraw')
end
redis.call('HSET', KEYS[2], 'status', 'WITHDRAWN', 'updated', ARGV[4])
if redis.call('HGET', KEYS[6], e[3]) == ARGV[3] then redis.call('HDEL', KEYS[6], e[3]) end
local promoted = ''
if e[1] == 'ENROLLED' then
  redis.call('SREM', KEYS[4], ARGV[2])
  local first = redis.call('ZRANGE', KEYS[5], 0, 0)
  if first[1] then
    promoted = first[1]
    redis.call('ZREM', KEYS[5], promoted)
    redis.call('SADD', KEYS[4], promoted)
    redis.call('HSET', 'prima:catalog:enrolment:' .. ARGV[3] .. ':' .. promoted,
               'status', 'ENROLLED', 'updated', ARGV[4])
  end
else
  redis.call('ZREM', KEYS[5], ARGV[2])
end
prima_emit(KEYS[7], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
local res = redis.call('HGETALL', KEYS[2])
table.insert(res, 'promoted')
table.insert(res, promoted)
return pack(res)
)lua"));
  return *s;
}

// KEYS: idem, enrolment, offering, stream
// ARGV: ttl, officer, offering id, now, maxlen, type, agency, envelope, scope,
//       module ('' for none), attendance ('' for none)
const LuaScript& ProgressScript() {
  static const auto* s = new LuaScript(Mutation("training_progress", R"lua(
local e = redis.call('HMGET', KEYS[2], 'status', 'agency', 'course', 'modules')
if not e[1] then
  return redis.error_reply('NOT_FOUND officer ' .. ARGV[2] .. ' has no enrolment in offering ' .. ARGV[3])
end
if ARGV[9] ~= '*' and ARGV[9] ~= e[2] and ARGV[9] ~= redis.call('HGET', KEYS[3], 'agency') then
  return redis.error_reply('PERMISSION_DENIED the enrolment belongs to another agency')
end
if e[1] ~= 'ENROLLED' then
  return redis.error_reply('FAILED_PRECONDITION enrolment is ' .. e[1] .. ': progress is recorded for ENROLLED officers only')
end
if ARGV[10] ~= '' then
  local count = tonumber(redis.call('HGET', 'prima:catalog:course:' .. e[3], 'modules') or '0')
  if tonumber(ARGV[10]) >= count then
    return redis.error_reply('INVALID_ARGUMENT completed_module: the course has ' .. count .. ' modules (indexes from 0)')
  end
  if not string.find(e[4], ',' .. ARGV[10] .. ',', 1, true) then
    redis.call('HSET', KEYS[2], 'modules', e[4] .. ARGV[10] .. ',')
  end
end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[2], 'attendance', ARGV[11]) end
redis.call('HSET', KEYS[2], 'updated', ARGV[4])
prima_emit(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: idem, enrolment, offering, officer courses, stream, certificate,
//       certificate sequence
// ARGV: ttl, officer, offering id, now, maxlen, pass type, agency, pass
//       envelope, fail type, fail envelope, scope, score, code, year
const LuaScript& CompleteScript() {
  static const auto* s = new LuaScript(Mutation("training_complete", R"lua(
local e = redis.call('HMGET', KEYS[2], 'status', 'agency', 'course', 'title')
if not e[1] then
  return redis.error_reply('NOT_FOUND officer ' .. ARGV[2] .. ' has no enrolment in offering ' .. ARGV[3])
end
if ARGV[11] ~= '*' and ARGV[11] ~= e[2] and ARGV[11] ~= redis.call('HGET', KEYS[3], 'agency') then
  return redis.error_reply('PERMISSION_DENIED the enrolment belongs to another agency')
end
if e[1] ~= 'ENROLLED' then
  return redis.error_reply('FAILED_PRECONDITION enrolment is ' .. e[1] .. ': only ENROLLED officers can complete')
end
local pass_mark = tonumber(redis.call('HGET', 'prima:catalog:course:' .. e[3], 'pass_mark') or '0')
-- IsPass of training_rules.h: score >= pass mark.
if tonumber(ARGV[12]) >= pass_mark then
  if redis.call('EXISTS', KEYS[6]) == 1 then
    return redis.error_reply('UNAVAILABLE certificate code collision, retry')
  end
  local seq = redis.call('INCR', KEYS[7])
  redis.call('HSET', KEYS[6], 'officer', ARGV[2], 'agency', e[2], 'course', e[3],
             'title', e[4] or '', 'offering', ARGV[3], 'score', ARGV[12],
             'completed', ARGV[4], 'cert_year', ARGV[14], 'cert_seq', seq,
             'cert', ARGV[13])
  redis.call('HSET', KEYS[2], 'status', 'PASSED', 'cert', ARGV[13],
             'cert_year', ARGV[14], 'cert_seq', seq)
  redis.call('HSET', KEYS[4], e[3], 'PASSED')
  prima_emit(KEYS[5], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
else
  redis.call('HSET', KEYS[2], 'status', 'NOT_PASSED')
  if redis.call('HGET', KEYS[4], e[3]) == ARGV[3] then redis.call('HDEL', KEYS[4], e[3]) end
  prima_emit(KEYS[5], ARGV[5], ARGV[9], ARGV[7], ARGV[10])
end
redis.call('HSET', KEYS[2], 'score', ARGV[12], 'completed', ARGV[4], 'updated', ARGV[4])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: officer enrolments; ARGV: officer, limit
const LuaScript& TrainingRecordScript() {
  static const auto* s = new LuaScript(Read("training_record", R"lua(
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {redis.call('HGET', KEYS[2], 'agency') or ''}
for _, off in ipairs(ids) do
  local key = 'prima:catalog:enrolment:' .. off .. ':' .. ARGV[1]
  local res = redis.call('HGETALL', key)
  if #res > 0 then
    if redis.call('HGET', key, 'status') == 'WAITLISTED' then
      local r = redis.call('ZRANK', 'prima:catalog:offering:' .. off .. ':waitlist', ARGV[1])
      if r then table.insert(res, 'position') table.insert(res, r + 1) end
    end
    out[#out + 1] = pack(res)
  end
end
return pack(out)
)lua"));
  return *s;
}

// KEYS: idem, required, stream; ARGV: ttl, now, maxlen, type, agency,
// envelope, course ids...
const LuaScript& SetRequiredScript() {
  static const auto* s = new LuaScript(Mutation("training_set_required", R"lua(
for i = 7, #ARGV do
  if redis.call('EXISTS', 'prima:catalog:course:' .. ARGV[i]) == 0 then
    return redis.error_reply('NOT_FOUND course_ids: course ' .. ARGV[i] .. ' does not exist')
  end
end
redis.call('DEL', KEYS[2])
for i = 7, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
prima_emit(KEYS[3], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local ids = redis.call('SMEMBERS', KEYS[2])
table.sort(ids)
return pack(ids)
)lua"));
  return *s;
}

// KEYS: required, the directory's index of the agency's officers, trainees
// ARGV: cursor (last officer id), limit, directory officer key prefix
// Replies pack({next cursor, pack(required), pack(gaps)}) where each gap is
// pack({officer, directory pb or '', missing course ids...}).
const LuaScript& ComplianceGapsScript() {
  static const auto* s = new LuaScript(Read("training_compliance_gaps", R"lua(
local req = redis.call('SMEMBERS', KEYS[1])
table.sort(req)
local officers
if redis.call('EXISTS', KEYS[2]) == 1 then
  officers = redis.call('ZRANGE', KEYS[2], 0, 9999)
else
  officers = redis.call('SMEMBERS', KEYS[3])
end
table.sort(officers)
local out = {}
local n, last, more = 0, '', false
local limit = tonumber(ARGV[2])
if #req > 0 then
  for _, o in ipairs(officers) do
    if o > ARGV[1] then
      if n >= limit then more = true break end
      last = o
      local missing = {o, redis.call('HGET', ARGV[3] .. o, 'pb') or ''}
      for _, c in ipairs(req) do
        if redis.call('HGET', 'prima:catalog:officer:' .. o .. ':courses', c) ~= 'PASSED' then
          missing[#missing + 1] = c
        end
      end
      if #missing > 2 then
        out[#out + 1] = pack(missing)
        n = n + 1
      end
    end
  end
end
if not more then last = '' end
return pack({last, pack(req), pack(out)})
)lua"));
  return *s;
}

// KEYS: certificate; ARGV: directory officer key prefix
const LuaScript& VerifyCertificateScript() {
  static const auto* s = new LuaScript(Read("training_verify_cert", R"lua(
local res = redis.call('HGETALL', KEYS[1])
if #res == 0 then return '' end
local officer = redis.call('HGET', KEYS[1], 'officer')
table.insert(res, 'officer_pb')
table.insert(res, redis.call('HGET', ARGV[1] .. officer, 'pb') or '')
return pack(res)
)lua"));
  return *s;
}

static_assert(v1::RECOMMENDATION_STATUS_OPEN == 1,
              "the recommendation scripts store OPEN as '1'");

// KEYS: idem, recommendation, officer recs, office recs, stream, course,
//       open recs (the officer's, or the office's when there is no officer)
// ARGV: ttl, id, pb, now, maxlen, type, agency, envelope, officer, office,
//       course id
// The open index maps course -> the last recommendation made for it; a closed
// one there no longer counts, so closing does not touch the index.
const LuaScript& CreateRecommendationScript() {
  static const auto* s = new LuaScript(Mutation("training_create_rec", R"lua(
if redis.call('EXISTS', KEYS[6]) == 0 then
  return redis.error_reply('NOT_FOUND course ' .. ARGV[11] .. ' does not exist')
end
local open_id = redis.call('HGET', KEYS[7], ARGV[11])
if open_id then
  local open_key = 'prima:catalog:recommendation:' .. open_id
  if redis.call('HGET', open_key, 'status') == '1' then
    return pack(redis.call('HGETALL', open_key))
  end
end
redis.call('HSET', KEYS[2], 'pb', ARGV[3], 'status', '1', 'agency', ARGV[7],
           'officer', ARGV[9], 'created', ARGV[4], 'updated', ARGV[4])
if ARGV[9] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2]) end
if ARGV[10] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2]) end
redis.call('HSET', KEYS[7], ARGV[11], ARGV[2])
prima_emit(KEYS[5], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: idem, recommendation, stream
// ARGV: ttl, id, to, now, maxlen, type, agency, envelope, scope, allowed from,
//       officer the caller must be ('' for staff)
const LuaScript& CloseRecommendationScript() {
  static const auto* s = new LuaScript(Mutation("training_close_rec", R"lua(
local r = redis.call('HMGET', KEYS[2], 'status', 'agency')
if not r[1] then
  return redis.error_reply('NOT_FOUND recommendation ' .. ARGV[2] .. ' does not exist')
end
if ARGV[9] ~= '*' and ARGV[9] ~= r[2] then
  return redis.error_reply('PERMISSION_DENIED recommendation ' .. ARGV[2] .. ' belongs to another agency')
end
if ARGV[11] ~= '' and ARGV[11] ~= redis.call('HGET', KEYS[2], 'officer') then
  return redis.error_reply('PERMISSION_DENIED recommendation ' .. ARGV[2] .. ' is for another officer')
end
if not string.find(ARGV[10], ',' .. r[1] .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION recommendation ' .. ARGV[2] .. ' is no longer OPEN')
end
redis.call('HSET', KEYS[2], 'status', ARGV[3], 'updated', ARGV[4])
prima_emit(KEYS[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return pack(redis.call('HGETALL', KEYS[2]))
)lua"));
  return *s;
}

// KEYS: recs zset; ARGV: offset, limit
const LuaScript& ListRecommendationsScript() {
  static const auto* s = new LuaScript(Read("training_list_recs", R"lua(
local ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  if i > tonumber(ARGV[2]) then break end
  local res = redis.call('HGETALL', 'prima:catalog:recommendation:' .. id)
  if #res > 0 then out[#out + 1] = pack(res) end
end
local more = '0'
if #ids > tonumber(ARGV[2]) then more = '1' end
return more .. pack(out)
)lua"));
  return *s;
}

// The directory's officer hashes: prima:catalog:officer:<id>
// (directory_keys.h).
std::string OfficerPrefix() {
  return directory::ResourceKey(directory::Kind::kOfficer, "");
}

}  // namespace

TrainingStore::TrainingStore(RedisClient& redis, const Clock& clock)
    : redis_(redis), clock_(clock) {}

namespace {

// Runs an idempotent mutation: keys[0] is filled with the idempotency key,
// args[0] with its TTL. `done` gets the script's string result.
void RunMutation(RedisClient& redis, const LuaScript& script,
                 absl::string_view rpc, const TrainingActor& actor,
                 std::vector<std::string> keys, std::vector<std::string> args,
                 StoreDone<std::string> done) {
  RunIdempotent(redis, script,
                {kService, rpc, actor.subject, actor.request_id,
                 actor.request_fingerprint},
                std::move(keys), std::move(args),
                [done = std::move(done)](
                    absl::StatusOr<IdempotentResult> result) mutable {
                  if (!result.ok()) return done(result.status());
                  done(std::move(result->value));
                });
}

void RunRead(RedisClient& redis, const LuaScript& script,
             std::vector<std::string> keys, std::vector<std::string> args,
             StoreDone<std::string> done) {
  redis.Eval(
      script, std::move(keys), std::move(args),
      [done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        absl::StatusOr<std::string> s = AsString(*reply);
        done(std::move(s));
      },
      {.resend_safe = true});
}

// The event envelope's three script arguments plus stream maxlen first.
std::vector<std::string> EventArgs(absl::string_view type,
                                   absl::string_view agency,
                                   const google::protobuf::Message& payload,
                                   absl::Time now, const TrainingActor& actor) {
  prima::events::v1::EventEnvelope envelope =
      MakeEnvelope(type, agency, kProducer, payload, now, actor.request_id);
  *envelope.mutable_actor() = actor.actor;
  std::vector<std::string> out = {absl::StrCat(kEventStreamMaxLen)};
  for (std::string& a : EnvelopeArgs(envelope)) out.push_back(std::move(a));
  return out;
}

template <typename T>
StoreDone<std::string> Decode(
    StoreDone<T> done,
    absl::AnyInvocable<absl::StatusOr<T>(const std::string&)> decode) {
  return [done = std::move(done),
          decode = std::move(decode)](absl::StatusOr<std::string> s) mutable {
    if (!s.ok()) return done(s.status());
    done(decode(*s));
  };
}

absl::StatusOr<Course> DecodeCourse(const std::string& packed) {
  absl::StatusOr<Fields> f = UnpackFields(packed);
  if (!f.ok()) return f.status();
  return CourseFromFields(*f);
}

absl::StatusOr<Enrolment> DecodeEnrolment(const std::string& packed) {
  absl::StatusOr<Fields> f = UnpackFields(packed);
  if (!f.ok()) return f.status();
  return EnrolmentFromFields(*f);
}

absl::StatusOr<Recommendation> DecodeRecommendation(const std::string& packed) {
  absl::StatusOr<Fields> f = UnpackFields(packed);
  if (!f.ok()) return f.status();
  return RecommendationFromFields(*f);
}

// The course's searchable fields as script arguments: pb, owner, title,
// search, ",comp,", pass_mark, module count.
std::vector<std::string> CourseArgs(const Course& course) {
  Course content = course;
  content.clear_status();
  content.clear_total_hours();
  content.clear_update_time();
  content.clear_create_time();
  std::string comp = ",";
  for (const std::string& c : course.competencies())
    absl::StrAppend(&comp, c, ",");
  return {content.SerializeAsString(),
          course.owner_agency(),
          course.title(),
          SearchText(course),
          comp,
          absl::StrCat(course.pass_mark()),
          absl::StrCat(course.modules_size())};
}

prima::events::v1::TrainingCourseChanged CourseEvent(absl::string_view id,
                                                     absl::string_view change,
                                                     absl::string_view owner) {
  prima::events::v1::TrainingCourseChanged e;
  e.set_course_id(std::string(id));
  e.set_change(std::string(change));
  e.set_owner_agency(std::string(owner));
  return e;
}

}  // namespace

void TrainingStore::CreateCourse(const Course& course,
                                 const TrainingActor& actor,
                                 StoreDone<Course> done) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {course.id()};
  for (std::string& a : CourseArgs(course)) args.push_back(std::move(a));
  args.push_back(NowMicros(now));
  for (std::string& a :
       EventArgs("training.course_changed", course.owner_agency(),
                 CourseEvent(course.id(), "CREATED", course.owner_agency()),
                 now, actor)) {
    args.push_back(std::move(a));
  }
  RunMutation(redis_, CreateCourseScript(), "CreateCourse", actor,
              {CourseKey(course.id()), kCoursesKey, EventStreamKey(kProducer)},
              std::move(args), Decode<Course>(std::move(done), DecodeCourse));
}

void TrainingStore::UpdateCourse(const Course& course,
                                 const TrainingActor& actor,
                                 StoreDone<Course> done) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {course.id()};
  for (std::string& a : CourseArgs(course)) args.push_back(std::move(a));
  args.push_back(NowMicros(now));
  const std::string agency =
      actor.scope == "*" ? course.owner_agency() : actor.scope;
  for (std::string& a :
       EventArgs("training.course_changed", agency,
                 CourseEvent(course.id(), "UPDATED", agency), now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(actor.scope);
  args.push_back(AllowedCourseStatuses(
      [](CourseStatus s) { return CheckUpdatable(s).ok(); }));
  RunMutation(redis_, UpdateCourseScript(), "UpdateCourse", actor,
              {CourseKey(course.id()), EventStreamKey(kProducer)},
              std::move(args), Decode<Course>(std::move(done), DecodeCourse));
}

void TrainingStore::SetCourseStatus(absl::string_view course_id,
                                    CourseStatus to, const TrainingActor& actor,
                                    StoreDone<Course> done) {
  const absl::Time now = clock_.Now();
  const bool publish = to == v1::COURSE_STATUS_PUBLISHED;
  const std::string agency = actor.scope == "*" ? "" : actor.scope;
  std::vector<std::string> args = {std::string(course_id),
                                   absl::StrCat(static_cast<int>(to)),
                                   NowMicros(now)};
  for (std::string& a : EventArgs(
           "training.course_changed", agency,
           CourseEvent(course_id, publish ? "PUBLISHED" : "ARCHIVED", agency),
           now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(actor.scope);
  args.push_back(AllowedCourseStatuses([publish](CourseStatus s) {
    return publish ? Publish(s).ok() : Archive(s).ok();
  }));
  RunMutation(redis_, CourseStatusScript(),
              publish ? "PublishCourse" : "ArchiveCourse", actor,
              {CourseKey(course_id), EventStreamKey(kProducer)},
              std::move(args), Decode<Course>(std::move(done), DecodeCourse));
}

void TrainingStore::GetCourse(absl::string_view course_id,
                              StoreDone<Course> done) {
  redis_.Command({"HGETALL", CourseKey(course_id)},
                 [done = std::move(done), id = std::string(course_id)](
                     absl::StatusOr<RedisValue> reply) mutable {
                   if (!reply.ok()) return done(reply.status());
                   std::vector<std::string> flat;
                   for (const RedisValue& v : reply->elements)
                     flat.push_back(v.str);
                   if (flat.empty()) {
                     return done(absl::NotFoundError(
                         absl::StrCat("course ", id, " does not exist")));
                   }
                   done(CourseFromFields(ToFields(flat)));
                 },
                 {.resend_safe = true});
}

void TrainingStore::ListCourses(const CourseFilter& filter,
                                StoreDone<CoursePage> done) {
  std::string comp;
  if (!filter.competency.empty())
    comp = absl::StrCat(",", filter.competency, ",");
  RunRead(redis_, ListCoursesScript(), {kCoursesKey},
          {filter.cursor, absl::StrCat(filter.page_size),
           filter.status == v1::COURSE_STATUS_UNSPECIFIED
               ? ""
               : absl::StrCat(static_cast<int>(filter.status)),
           comp, filter.keyword, filter.visibility},
          Decode<CoursePage>(
              std::move(done),
              [](const std::string& packed) -> absl::StatusOr<CoursePage> {
                absl::StatusOr<std::vector<std::string>> items = Unpack(packed);
                if (!items.ok()) return items.status();
                if (items->empty()) return absl::InternalError("empty list");
                CoursePage page;
                page.next_cursor = (*items)[0];
                for (size_t i = 1; i < items->size(); ++i) {
                  absl::StatusOr<Course> c = DecodeCourse((*items)[i]);
                  if (!c.ok()) return c.status();
                  page.courses.push_back(std::move(*c));
                }
                return page;
              }));
}

void TrainingStore::CreateOffering(const Offering& offering,
                                   const TrainingActor& actor,
                                   StoreDone<Offering> done) {
  const absl::Time now = clock_.Now();
  Offering stored = offering;
  stored.clear_enrolled_count();
  stored.clear_waitlist_count();
  *stored.mutable_create_time() = ToProtoTime(now);
  const absl::Time closes =
      EnrolmentClosesAt(ToAbslTime(offering.enrolment_deadline()),
                        ToAbslTime(offering.start_time()));
  std::vector<std::string> args = {
      offering.id(),
      stored.SerializeAsString(),
      offering.course_id(),
      offering.agency(),
      absl::StrCat(offering.capacity()),
      NowMicros(closes),
      absl::StrCat(offering.start_time().seconds()),
      NowMicros(now)};
  prima::events::v1::TrainingCourseChanged event =
      CourseEvent(offering.course_id(), "OFFERING_CREATED", offering.agency());
  for (std::string& a : EventArgs("training.offering_created",
                                  offering.agency(), event, now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(AllowedCourseStatuses(
      [](CourseStatus s) { return CheckOpenForEnrolment(s).ok(); }));
  RunMutation(
      redis_, CreateOfferingScript(), "CreateOffering", actor,
      {OfferingKey(offering.id()), CourseKey(offering.course_id()),
       CourseOfferingsKey(offering.course_id()), EventStreamKey(kProducer)},
      std::move(args),
      Decode<Offering>(
          std::move(done),
          [](const std::string& packed) -> absl::StatusOr<Offering> {
            absl::StatusOr<Fields> f = UnpackFields(packed);
            if (!f.ok()) return f.status();
            return OfferingFromFields(*f);
          }));
}

void TrainingStore::GetOffering(absl::string_view offering_id,
                                StoreDone<Offering> done) {
  RunRead(redis_, GetOfferingScript(),
          {OfferingKey(offering_id), SeatsKey(offering_id),
           WaitlistKey(offering_id)},
          {},
          Decode<Offering>(
              std::move(done),
              [id = std::string(offering_id)](
                  const std::string& packed) -> absl::StatusOr<Offering> {
                if (packed.empty()) {
                  return absl::NotFoundError(
                      absl::StrCat("offering ", id, " does not exist"));
                }
                absl::StatusOr<Fields> f = UnpackFields(packed);
                if (!f.ok()) return f.status();
                return OfferingFromFields(*f);
              }));
}

void TrainingStore::ListOfferings(absl::string_view course_id, int64_t offset,
                                  int page_size, StoreDone<OfferingPage> done) {
  RunRead(redis_, ListOfferingsScript(), {CourseOfferingsKey(course_id)},
          {absl::StrCat(offset), absl::StrCat(page_size)},
          Decode<OfferingPage>(
              std::move(done),
              [offset, page_size](
                  const std::string& packed) -> absl::StatusOr<OfferingPage> {
                if (packed.empty()) return absl::InternalError("empty reply");
                OfferingPage page;
                if (packed[0] == '1') page.next_offset = offset + page_size;
                absl::StatusOr<std::vector<std::string>> items =
                    Unpack(absl::string_view(packed).substr(1));
                if (!items.ok()) return items.status();
                for (const std::string& item : *items) {
                  absl::StatusOr<Fields> f = UnpackFields(item);
                  if (!f.ok()) return f.status();
                  absl::StatusOr<Offering> o = OfferingFromFields(*f);
                  if (!o.ok()) return o.status();
                  page.offerings.push_back(std::move(*o));
                }
                return page;
              }));
}

namespace {
prima::events::v1::TrainingEnrolmentChanged EnrolmentEvent(
    absl::string_view offering, absl::string_view officer,
    absl::string_view status) {
  prima::events::v1::TrainingEnrolmentChanged e;
  e.set_offering_id(std::string(offering));
  e.set_officer_id(std::string(officer));
  e.set_status(std::string(status));
  return e;
}
}  // namespace

void TrainingStore::Enroll(absl::string_view offering_id,
                           absl::string_view officer_id,
                           absl::string_view officer_agency,
                           const TrainingActor& actor,
                           StoreDone<Enrolment> done) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {std::string(officer_id),
                                   std::string(officer_agency), NowMicros(now)};
  std::vector<std::string> enrolled = EventArgs(
      "training.enrolment_changed", officer_agency,
      EnrolmentEvent(offering_id, officer_id, "ENROLLED"), now, actor);
  std::vector<std::string> waitlisted = EventArgs(
      "training.enrolment_changed", officer_agency,
      EnrolmentEvent(offering_id, officer_id, "WAITLISTED"), now, actor);
  // maxlen, enrolled type, agency, enrolled envelope, waitlisted type,
  // waitlisted envelope
  args.push_back(enrolled[0]);
  args.push_back(enrolled[1]);
  args.push_back(enrolled[2]);
  args.push_back(enrolled[3]);
  args.push_back(waitlisted[1]);
  args.push_back(waitlisted[3]);
  args.push_back(std::string(offering_id));
  args.push_back(absl::StrCat(kMaxWaitlist));
  args.push_back(AllowedCourseStatuses(
      [](CourseStatus s) { return CheckOpenForEnrolment(s).ok(); }));
  args.push_back(OfficerPrefix());
  // The payloads, for the script to add the offering's course (field 2) to.
  args.push_back(
      EnrolmentEvent(offering_id, officer_id, "ENROLLED").SerializeAsString());
  args.push_back(EnrolmentEvent(offering_id, officer_id, "WAITLISTED")
                     .SerializeAsString());
  RunMutation(redis_, EnrollScript(), "Enroll", actor,
              {OfferingKey(offering_id), SeatsKey(offering_id),
               WaitlistKey(offering_id), EnrolmentKey(offering_id, officer_id),
               OfficerEnrolmentsKey(officer_id), OfficerCoursesKey(officer_id),
               TraineesKey(officer_agency), EventStreamKey(kProducer)},
              std::move(args),
              Decode<Enrolment>(std::move(done), DecodeEnrolment));
}

void TrainingStore::Withdraw(absl::string_view offering_id,
                             absl::string_view officer_id,
                             const TrainingActor& actor,
                             StoreDone<WithdrawResponse> done) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {std::string(officer_id),
                                   std::string(offering_id), NowMicros(now)};
  for (std::string& a : EventArgs(
           "training.enrolment_changed", actor.scope == "*" ? "" : actor.scope,
           EnrolmentEvent(offering_id, officer_id, "WITHDRAWN"), now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(actor.scope);
  RunMutation(
      redis_, WithdrawScript(), "Withdraw", actor,
      {EnrolmentKey(offering_id, officer_id), OfferingKey(offering_id),
       SeatsKey(offering_id), WaitlistKey(offering_id),
       OfficerCoursesKey(officer_id), EventStreamKey(kProducer)},
      std::move(args),
      Decode<WithdrawResponse>(
          std::move(done),
          [](const std::string& packed) -> absl::StatusOr<WithdrawResponse> {
            absl::StatusOr<Fields> f = UnpackFields(packed);
            if (!f.ok()) return f.status();
            WithdrawResponse response;
            *response.mutable_enrolment() = EnrolmentFromFields(*f);
            response.set_promoted_officer_id(Str(*f, "promoted"));
            return response;
          }));
}

void TrainingStore::RecordProgress(absl::string_view offering_id,
                                   absl::string_view officer_id,
                                   std::optional<int32_t> module,
                                   std::optional<int32_t> attendance,
                                   const TrainingActor& actor,
                                   StoreDone<Enrolment> done) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {std::string(officer_id),
                                   std::string(offering_id), NowMicros(now)};
  for (std::string& a : EventArgs(
           "training.enrolment_changed", actor.scope == "*" ? "" : actor.scope,
           EnrolmentEvent(offering_id, officer_id, "PROGRESS"), now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(actor.scope);
  args.push_back(module ? absl::StrCat(*module) : "");
  args.push_back(attendance ? absl::StrCat(*attendance) : "");
  RunMutation(redis_, ProgressScript(), "RecordProgress", actor,
              {EnrolmentKey(offering_id, officer_id), OfferingKey(offering_id),
               EventStreamKey(kProducer)},
              std::move(args),
              Decode<Enrolment>(std::move(done), DecodeEnrolment));
}

void TrainingStore::Complete(absl::string_view offering_id,
                             absl::string_view officer_id, int32_t score,
                             const TrainingActor& actor,
                             StoreDone<Enrolment> done) {
  const absl::Time now = clock_.Now();
  const std::string code = NewSecret(16);
  const int year = absl::ToCivilYear(now, absl::UTCTimeZone()).year();
  const std::string agency = actor.scope == "*" ? "" : actor.scope;
  prima::events::v1::TrainingCompleted pass;
  pass.set_offering_id(std::string(offering_id));
  pass.set_officer_id(std::string(officer_id));
  pass.set_score(score);
  pass.set_passed(true);
  pass.set_certificate_verification_code(code);
  prima::events::v1::TrainingCompleted fail = pass;
  fail.set_passed(false);
  fail.clear_certificate_verification_code();
  std::vector<std::string> p =
      EventArgs("training.completed", agency, pass, now, actor);
  std::vector<std::string> f =
      EventArgs("training.completed", agency, fail, now, actor);
  std::vector<std::string> args = {std::string(officer_id),
                                   std::string(offering_id),
                                   NowMicros(now),
                                   p[0],
                                   p[1],
                                   p[2],
                                   p[3],
                                   f[1],
                                   f[3],
                                   actor.scope,
                                   absl::StrCat(score),
                                   code,
                                   absl::StrCat(year)};
  RunMutation(redis_, CompleteScript(), "Complete", actor,
              {EnrolmentKey(offering_id, officer_id), OfferingKey(offering_id),
               OfficerCoursesKey(officer_id), EventStreamKey(kProducer),
               CertificateKey(code), CertificateSeqKey(year)},
              std::move(args),
              Decode<Enrolment>(std::move(done), DecodeEnrolment));
}

void TrainingStore::VerifyCertificate(absl::string_view code,
                                      StoreDone<Certificate> done) {
  RunRead(redis_, VerifyCertificateScript(), {CertificateKey(code)},
          {OfficerPrefix()},
          Decode<Certificate>(
              std::move(done),
              [](const std::string& packed) -> absl::StatusOr<Certificate> {
                if (packed.empty()) {
                  return absl::NotFoundError(
                      "verification_code: no certificate has this code");
                }
                absl::StatusOr<Fields> f = UnpackFields(packed);
                if (!f.ok()) return f.status();
                Certificate c = CertificateFromEnrolmentFields(*f);
                prima::catalog::v1::Officer officer;
                const std::string pb = Str(*f, "officer_pb");
                if (!pb.empty() && officer.ParseFromString(pb)) {
                  c.set_officer_name(officer.name());
                }
                return c;
              }));
}

void TrainingStore::GetTrainingRecord(absl::string_view officer_id,
                                      StoreDone<OfficerRecord> done) {
  RunRead(redis_, TrainingRecordScript(),
          {OfficerEnrolmentsKey(officer_id),
           directory::ResourceKey(directory::Kind::kOfficer, officer_id)},
          {std::string(officer_id), absl::StrCat(kMaxRecordEntries)},
          Decode<OfficerRecord>(
              std::move(done),
              [officer = std::string(officer_id)](
                  const std::string& packed) -> absl::StatusOr<OfficerRecord> {
                absl::StatusOr<std::vector<std::string>> items = Unpack(packed);
                if (!items.ok()) return items.status();
                if (items->empty()) {
                  return absl::InternalError("training record: empty reply");
                }
                OfficerRecord out;
                out.officer_agency = (*items)[0];
                out.record.set_officer_id(officer);
                for (size_t i = 1; i < items->size(); ++i) {
                  absl::StatusOr<Enrolment> e = DecodeEnrolment((*items)[i]);
                  if (!e.ok()) return e.status();
                  *out.record.add_enrolments() = std::move(*e);
                }
                return out;
              }));
}

void TrainingStore::SetRequiredCourses(
    absl::string_view agency, const std::vector<std::string>& course_ids,
    const TrainingActor& actor, StoreDone<RequiredCourses> done) {
  const absl::Time now = clock_.Now();
  prima::events::v1::TrainingRequiredCoursesSet event;
  event.set_agency(std::string(agency));
  for (const std::string& id : course_ids) event.add_course_ids(id);
  std::vector<std::string> args = {NowMicros(now)};
  for (std::string& a :
       EventArgs("training.required_courses_set", agency, event, now, actor)) {
    args.push_back(std::move(a));
  }
  for (const std::string& id : course_ids) args.push_back(id);
  RunMutation(
      redis_, SetRequiredScript(), "SetRequiredCourses", actor,
      {RequiredKey(agency), EventStreamKey(kProducer)}, std::move(args),
      Decode<RequiredCourses>(
          std::move(done),
          [agency = std::string(agency)](
              const std::string& packed) -> absl::StatusOr<RequiredCourses> {
            absl::StatusOr<std::vector<std::string>> ids = Unpack(packed);
            if (!ids.ok()) return ids.status();
            RequiredCourses r;
            r.set_agency(agency);
            for (std::string& id : *ids) r.add_course_ids(std::move(id));
            return r;
          }));
}

void TrainingStore::GetRequiredCourses(absl::string_view agency,
                                       StoreDone<RequiredCourses> done) {
  redis_.Command({"SMEMBERS", RequiredKey(agency)},
                 [done = std::move(done), agency = std::string(agency)](
                     absl::StatusOr<RedisValue> reply) mutable {
                   if (!reply.ok()) return done(reply.status());
                   std::vector<std::string> ids;
                   for (const RedisValue& v : reply->elements)
                     ids.push_back(v.str);
                   std::sort(ids.begin(), ids.end());
                   RequiredCourses r;
                   r.set_agency(agency);
                   for (std::string& id : ids) r.add_course_ids(std::move(id));
                   done(std::move(r));
                 },
                 {.resend_safe = true});
}

void TrainingStore::ListComplianceGaps(
    absl::string_view agency, absl::string_view cursor, int page_size,
    StoreDone<ListComplianceGapsResponse> done) {
  RunRead(
      redis_, ComplianceGapsScript(),
      {RequiredKey(agency),
       directory::AgencyIndexKey(directory::Kind::kOfficer, agency),
       TraineesKey(agency)},
      {std::string(cursor), absl::StrCat(page_size), OfficerPrefix()},
      Decode<ListComplianceGapsResponse>(
          std::move(done),
          [](const std::string& packed)
              -> absl::StatusOr<ListComplianceGapsResponse> {
            absl::StatusOr<std::vector<std::string>> parts = Unpack(packed);
            if (!parts.ok()) return parts.status();
            if (parts->size() != 3) return absl::InternalError("bad reply");
            ListComplianceGapsResponse response;
            response.mutable_page()->set_next_page_token((*parts)[0]);
            absl::StatusOr<std::vector<std::string>> req = Unpack((*parts)[1]);
            if (!req.ok()) return req.status();
            for (std::string& id : *req) {
              response.add_required_course_ids(std::move(id));
            }
            absl::StatusOr<std::vector<std::string>> gaps = Unpack((*parts)[2]);
            if (!gaps.ok()) return gaps.status();
            for (const std::string& g : *gaps) {
              absl::StatusOr<std::vector<std::string>> items = Unpack(g);
              if (!items.ok() || items->empty()) {
                return absl::InternalError("bad gap");
              }
              if (items->size() < 2) return absl::InternalError("bad gap");
              if (!(*items)[1].empty()) {
                prima::catalog::v1::Officer officer;
                if (officer.ParseFromString((*items)[1]) &&
                    !officer.front_line()) {
                  continue;  // only front-line officers must comply
                }
              }
              auto* gap = response.add_gaps();
              gap->set_officer_id((*items)[0]);
              for (size_t i = 2; i < items->size(); ++i) {
                gap->add_missing_course_ids((*items)[i]);
              }
            }
            return response;
          }));
}

namespace {
absl::Status ValidateRecommendation(const Recommendation& r) {
  if (absl::Status s = ValidateOptionalId("officer_id", r.officer_id());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateOptionalId("office_id", r.office_id());
      !s.ok()) {
    return s;
  }
  if (r.officer_id().empty() && r.office_id().empty()) {
    return absl::InvalidArgumentError(
        "officer_id: set officer_id, office_id or both");
  }
  if (absl::Status s = ValidateId("agency", r.agency()); !s.ok()) return s;
  if (absl::Status s = ValidateId("course_id", r.course_id()); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText("reason", r.reason(), 500); !s.ok()) {
    return s;
  }
  return ValidateRequestId("source_event_id", r.source_event_id());
}
}  // namespace

void TrainingStore::CreateRecommendation(const Recommendation& recommendation,
                                         StoreDone<Recommendation> done) {
  if (absl::Status s = ValidateRecommendation(recommendation); !s.ok()) {
    return done(s);
  }
  const absl::Time now = clock_.Now();
  Recommendation stored = recommendation;
  stored.set_id(absl::AsciiStrToLower(NewTimeOrderedId(now)));
  stored.clear_status();
  stored.clear_update_time();
  *stored.mutable_create_time() = ToProtoTime(now);
  TrainingActor actor;
  // Deduplicated per triggering event, course and target: one event may
  // recommend a course to several officers (every front-line officer of an
  // office). Officer and office ids have no ':', so the key is unambiguous.
  actor.subject = absl::StrCat("event:", recommendation.source_event_id(), ":",
                               recommendation.officer_id(), ":",
                               recommendation.office_id());
  actor.request_id = recommendation.course_id();
  prima::events::v1::TrainingRecommendationOpened event;
  event.set_officer_id(recommendation.officer_id());
  event.set_office_id(recommendation.office_id());
  event.set_course_id(recommendation.course_id());
  event.set_reason(recommendation.reason());
  event.set_source_event_id(recommendation.source_event_id());
  std::vector<std::string> args = {stored.id(), stored.SerializeAsString(),
                                   NowMicros(now)};
  for (std::string& a : EventArgs("training.recommendation_opened",
                                  recommendation.agency(), event, now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(recommendation.officer_id());
  args.push_back(recommendation.office_id());
  args.push_back(recommendation.course_id());
  RunMutation(
      redis_, CreateRecommendationScript(), "CreateRecommendation", actor,
      {RecommendationKey(stored.id()),
       OfficerRecommendationsKey(recommendation.officer_id()),
       OfficeRecommendationsKey(recommendation.office_id()),
       EventStreamKey(kProducer), CourseKey(recommendation.course_id()),
       recommendation.officer_id().empty()
           ? OfficeOpenRecommendationsKey(recommendation.office_id())
           : OfficerOpenRecommendationsKey(recommendation.officer_id())},
      std::move(args),
      Decode<Recommendation>(std::move(done), DecodeRecommendation));
}

void TrainingStore::GetRecommendation(absl::string_view id,
                                      StoreDone<Recommendation> done) {
  redis_.Command({"HGETALL", RecommendationKey(id)},
                 [done = std::move(done), id = std::string(id)](
                     absl::StatusOr<RedisValue> reply) mutable {
                   if (!reply.ok()) return done(reply.status());
                   std::vector<std::string> flat;
                   for (const RedisValue& v : reply->elements)
                     flat.push_back(v.str);
                   if (flat.empty()) {
                     return done(absl::NotFoundError(absl::StrCat(
                         "recommendation ", id, " does not exist")));
                   }
                   done(RecommendationFromFields(ToFields(flat)));
                 },
                 {.resend_safe = true});
}

void TrainingStore::ListRecommendations(
    absl::string_view officer_id, absl::string_view office_id, int64_t offset,
    int page_size, StoreDone<ListRecommendationsResponse> done) {
  const std::string key = officer_id.empty()
                              ? OfficeRecommendationsKey(office_id)
                              : OfficerRecommendationsKey(officer_id);
  RunRead(redis_, ListRecommendationsScript(), {key},
          {absl::StrCat(offset), absl::StrCat(page_size)},
          Decode<ListRecommendationsResponse>(
              std::move(done),
              [offset, page_size](const std::string& packed)
                  -> absl::StatusOr<ListRecommendationsResponse> {
                if (packed.empty()) return absl::InternalError("empty reply");
                ListRecommendationsResponse response;
                if (packed[0] == '1') {
                  response.mutable_page()->set_next_page_token(
                      absl::StrCat(offset + page_size));
                }
                absl::StatusOr<std::vector<std::string>> items =
                    Unpack(absl::string_view(packed).substr(1));
                if (!items.ok()) return items.status();
                for (const std::string& item : *items) {
                  absl::StatusOr<Recommendation> r = DecodeRecommendation(item);
                  if (!r.ok()) return r.status();
                  *response.add_recommendations() = std::move(*r);
                }
                return response;
              }));
}

void TrainingStore::CloseRecommendation(absl::string_view id,
                                        RecommendationStatus to,
                                        const TrainingActor& actor,
                                        const std::string& only_officer,
                                        StoreDone<Recommendation> done) {
  const absl::Time now = clock_.Now();
  prima::events::v1::TrainingRecommendationClosed event;
  event.set_recommendation_id(std::string(id));
  event.set_status(to == v1::RECOMMENDATION_STATUS_ACCEPTED ? "ACCEPTED"
                                                            : "DISMISSED");
  std::vector<std::string> args = {
      std::string(id), absl::StrCat(static_cast<int>(to)), NowMicros(now)};
  for (std::string& a :
       EventArgs("training.recommendation_closed",
                 actor.scope == "*" ? "" : actor.scope, event, now, actor)) {
    args.push_back(std::move(a));
  }
  args.push_back(actor.scope);
  std::string allowed = ",";
  for (RecommendationStatus s :
       {v1::RECOMMENDATION_STATUS_OPEN, v1::RECOMMENDATION_STATUS_ACCEPTED,
        v1::RECOMMENDATION_STATUS_DISMISSED}) {
    if (CheckRecommendationOpen(s).ok()) {
      absl::StrAppend(&allowed, static_cast<int>(s), ",");
    }
  }
  args.push_back(allowed);
  args.push_back(only_officer);
  RunMutation(redis_, CloseRecommendationScript(),
              to == v1::RECOMMENDATION_STATUS_ACCEPTED
                  ? "AcceptRecommendation"
                  : "DismissRecommendation",
              actor, {RecommendationKey(id), EventStreamKey(kProducer)},
              std::move(args),
              Decode<Recommendation>(std::move(done), DecodeRecommendation));
}

}  // namespace prima::catalog
