#include "clients/cli/enum_flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"

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
  prima::common::v1::LocalDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

}  // namespace prima::cli
