#include "services/common/script_reply.h"

#include "absl/strings/numbers.h"

namespace prima {

const char kLuaPack[] = R"lua(
local function pack(t)
  local out = {}
  for i = 1, #t do
    local v = tostring(t[i])
    out[#out + 1] = #v .. ':' .. v
  end
  return table.concat(out)
end
)lua";

absl::StatusOr<std::vector<std::string>> Unpack(absl::string_view packed) {
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos < packed.size()) {
    size_t colon = packed.find(':', pos);
    size_t len = 0;
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(packed.substr(pos, colon - pos), &len) ||
        colon + 1 + len > packed.size()) {
      return absl::InternalError("redis: malformed packed script reply");
    }
    items.emplace_back(packed.substr(colon + 1, len));
    pos = colon + 1 + len;
  }
  return items;
}

Fields ToFields(const std::vector<std::string>& flat) {
  Fields fields;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

absl::StatusOr<Fields> UnpackFields(absl::string_view packed) {
  absl::StatusOr<std::vector<std::string>> flat = Unpack(packed);
  if (!flat.ok()) return flat.status();
  return ToFields(*flat);
}

int64_t FieldInt(const Fields& fields, absl::string_view name) {
  auto it = fields.find(name);
  int64_t v = 0;
  if (it != fields.end() && !absl::SimpleAtoi(it->second, &v)) v = 0;
  return v;
}

std::string FieldStr(const Fields& fields, absl::string_view name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

}  // namespace prima
