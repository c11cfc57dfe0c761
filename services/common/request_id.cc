#include "services/common/request_id.h"

#include <algorithm>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_split.h"
#include "services/common/validation.h"

namespace prima {
namespace {

bool IsLowerHex(absl::string_view text, size_t length) {
  return text.size() == length &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool AllZero(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

}  // namespace

std::optional<std::string> ValidRequestId(absl::string_view text) {
  if (!IsWellFormedRequestId(text)) return std::nullopt;
  return std::string(text);
}

std::optional<std::string> TraceIdFromTraceparent(absl::string_view header) {
  const std::vector<absl::string_view> parts = absl::StrSplit(header, '-');
  if (parts.size() < 4) return std::nullopt;
  const absl::string_view version = parts[0];
  const absl::string_view trace_id = parts[1];
  const absl::string_view parent_id = parts[2];
  const absl::string_view flags = parts[3];
  if (!IsLowerHex(version, 2) || version == "ff") return std::nullopt;
  // Version 00 has exactly four parts; later versions may append more.
  if (version == "00" && parts.size() != 4) return std::nullopt;
  if (!IsLowerHex(trace_id, 32) || AllZero(trace_id)) return std::nullopt;
  if (!IsLowerHex(parent_id, 16) || AllZero(parent_id)) return std::nullopt;
  if (!IsLowerHex(flags, 2)) return std::nullopt;
  return std::string(trace_id);
}

std::string GenerateRequestId() {
  static thread_local absl::BitGen gen;
  constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (char& c : id) c = kHex[absl::Uniform(gen, 0, 16)];
  return id;
}

std::string ChooseRequestId(absl::string_view x_request_id,
                            absl::string_view traceparent) {
  if (std::optional<std::string> id = ValidRequestId(x_request_id)) {
    return *std::move(id);
  }
  if (std::optional<std::string> trace = TraceIdFromTraceparent(traceparent)) {
    return *std::move(trace);
  }
  return GenerateRequestId();
}

}  // namespace prima
