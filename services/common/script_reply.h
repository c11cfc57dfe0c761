#pragma once

// How scripts hand lists back. An idempotent script's result must be one
// string, so scripts return lists as one string of length-prefixed items
// ("5:hello3:abc"), built by the Lua `pack(t)` of kLuaPack and read by Unpack.
// A packed list of alternating names and values reads as Fields.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima {

// Defines the Lua function pack(t): the items of array t, tostring'ed and
// length-prefixed. Prepend it to a script body that uses it.
extern const char kLuaPack[];

absl::StatusOr<std::vector<std::string>> Unpack(absl::string_view packed);

using Fields = absl::flat_hash_map<std::string, std::string>;

// {name, value, name, value, ...} (HGETALL's shape) as a map.
Fields ToFields(const std::vector<std::string>& flat);
absl::StatusOr<Fields> UnpackFields(absl::string_view packed);

// A field as an integer (0 when absent or not a number) or a string ("" when
// absent).
int64_t FieldInt(const Fields& fields, absl::string_view name);
std::string FieldStr(const Fields& fields, absl::string_view name);

}  // namespace prima
