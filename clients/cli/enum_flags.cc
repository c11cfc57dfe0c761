#include "clients/cli/enum_flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "services/common/proto_time.h"

namespace prima::cli {

std::string FlagSpelling(absl::string_view name) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}});
}

absl::StatusOr<prima::common::v1::LocalDate> ParseDateFlag(
    absl::string_view flag, const std::string& value) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(value, &day)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": not a date YYYY-MM-DD: ", value));
  }
  return ToLocalDate(day);
}

}  // namespace prima::cli
