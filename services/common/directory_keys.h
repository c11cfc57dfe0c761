#pragma once

// The catalog directory's Redis key layout, in one place: the catalog's store
// writes these keys and every other service's DirectoryReader reads them.
//
//   prima:catalog:<kind>:<id>                  hash: pb (serialized resource),
//                                              agency, office ("" if none)
//   prima:catalog:list:<kind>                  zset of ids (score 0, by id)
//   prima:catalog:list:<kind>:agency:<agency>  zset of the agency's ids
//   prima:catalog:list:<kind>:office:<office>  zset of the office's ids
//                                              (counters and officers)
//
// <kind> is one of KindName()'s values. Ids must have passed ValidateId (no
// ':'), so no two keys collide. The store's Lua scripts build the same shapes
// from kResourcePrefix and kIndexPrefix, passed to them as arguments.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/lua_script.h"

namespace prima::directory {

enum class Kind { kAgency, kOffice, kPublicService, kCounter, kOfficer };

// "agency", "office", "service", "counter", "officer".
absl::string_view KindName(Kind kind);
// "agency", "office", "public service", "counter", "officer" (for messages).
absl::string_view KindLabel(Kind kind);

// The kind as carried in directory.changed events, and back (nullopt for
// KIND_UNSPECIFIED or a value this build does not know).
prima::events::v1::DirectoryChanged::Kind EventKind(Kind kind);
std::optional<Kind> KindFromEvent(
    prima::events::v1::DirectoryChanged::Kind kind);

inline constexpr char kResourcePrefix[] = "prima:catalog:";
inline constexpr char kIndexPrefix[] = "prima:catalog:list:";

// Fields of a resource hash.
inline constexpr char kProtoField[] = "pb";
inline constexpr char kAgencyField[] = "agency";
inline constexpr char kOfficeField[] = "office";

std::string ResourceKey(Kind kind, absl::string_view id);
std::string IndexKey(Kind kind);
std::string AgencyIndexKey(Kind kind, absl::string_view agency_id);
std::string OfficeIndexKey(Kind kind, absl::string_view office_id);

// A read-only script listing one page of an index with the resources' bytes,
// in one round trip.
//   KEYS[1] = the index; ARGV[1] = ResourceKey(kind, "") (the hash prefix);
//   ARGV[2] = the id to start after ("" from the start); ARGV[3] = the page
//   size; ARGV[4] = only resources of this agency ("" for all).
// Replies {next_after, pb...}: next_after is the last id looked at when more
// ids follow, "" on the last page.
const LuaScript& ListPageScript();

}  // namespace prima::directory
