#include "services/common/office_time.h"

#include "absl/strings/str_cat.h"

namespace prima {

absl::StatusOr<absl::TimeZone> OfficeTimeZone(
    const prima::catalog::v1::Office& office) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(office.time_zone(), &zone)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "office ", office.id(), " has a time zone that cannot be loaded: \"",
        office.time_zone(), "\""));
  }
  return zone;
}

}  // namespace prima
