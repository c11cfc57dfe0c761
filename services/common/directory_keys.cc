#include "services/common/directory_keys.h"

#include "absl/strings/str_cat.h"

namespace prima::directory {

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kAgency:
      return "agency";
    case Kind::kOffice:
      return "office";
    case Kind::kPublicService:
      return "service";
    case Kind::kCounter:
      return "counter";
    case Kind::kOfficer:
      return "officer";
  }
  return "unknown";
}

absl::string_view KindLabel(Kind kind) {
  return kind == Kind::kPublicService ? "public service" : KindName(kind);
}

std::string ResourceKey(Kind kind, absl::string_view id) {
  return absl::StrCat(kResourcePrefix, KindName(kind), ":", id);
}

std::string IndexKey(Kind kind) {
  return absl::StrCat(kIndexPrefix, KindName(kind));
}

std::string AgencyIndexKey(Kind kind, absl::string_view agency_id) {
  return absl::StrCat(kIndexPrefix, KindName(kind), ":agency:", agency_id);
}

std::string OfficeIndexKey(Kind kind, absl::string_view office_id) {
  return absl::StrCat(kIndexPrefix, KindName(kind), ":office:", office_id);
}

const LuaScript& ListPageScript() {
  static const LuaScript* const kScript =
      new LuaScript("directory_list_page", R"lua(
local start = '-'
if ARGV[2] ~= '' then start = '(' .. ARGV[2] end
local limit = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, limit + 1)
local out = {''}
local n = #ids
if n > limit then
  n = limit
  out[1] = ids[limit]
end
for i = 1, n do
  local row = redis.call('HMGET', ARGV[1] .. ids[i], 'pb', 'agency')
  if row[1] and (ARGV[4] == '' or row[2] == ARGV[4]) then
    out[#out + 1] = row[1]
  end
end
return out
)lua");
  return *kScript;
}

prima::events::v1::DirectoryChanged::Kind EventKind(Kind kind) {
  using prima::events::v1::DirectoryChanged;
  switch (kind) {
    case Kind::kAgency:
      return DirectoryChanged::KIND_AGENCY;
    case Kind::kOffice:
      return DirectoryChanged::KIND_OFFICE;
    case Kind::kPublicService:
      return DirectoryChanged::KIND_PUBLIC_SERVICE;
    case Kind::kCounter:
      return DirectoryChanged::KIND_COUNTER;
    case Kind::kOfficer:
      return DirectoryChanged::KIND_OFFICER;
  }
  return DirectoryChanged::KIND_UNSPECIFIED;
}

std::optional<Kind> KindFromEvent(
    prima::events::v1::DirectoryChanged::Kind kind) {
  using prima::events::v1::DirectoryChanged;
  switch (kind) {
    case DirectoryChanged::KIND_AGENCY:
      return Kind::kAgency;
    case DirectoryChanged::KIND_OFFICE:
      return Kind::kOffice;
    case DirectoryChanged::KIND_PUBLIC_SERVICE:
      return Kind::kPublicService;
    case DirectoryChanged::KIND_COUNTER:
      return Kind::kCounter;
    case DirectoryChanged::KIND_OFFICER:
      return Kind::kOfficer;
    default:
      return std::nullopt;
  }
}

}  // namespace prima::directory
