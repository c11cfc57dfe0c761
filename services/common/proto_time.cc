#include "services/common/proto_time.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "services/common/validation.h"

namespace prima {

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  if (ts.nanos() < 0) {
    ts.set_seconds(ts.seconds() - 1);
    ts.set_nanos(ts.nanos() + 1000000000);
  }
  return ts;
}

prima::common::v1::LocalDate ToLocalDate(absl::CivilDay day) {
  prima::common::v1::LocalDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::StatusOr<absl::CivilDay> FromLocalDate(
    absl::string_view field, const prima::common::v1::LocalDate& date) {
  const int year = date.year();
  const int month = date.month();
  const int day = date.day();
  if (year >= 2000 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 &&
      day <= 31) {
    const absl::CivilDay civil(year, month, day);
    if (civil.year() == year && civil.month() == month && civil.day() == day) {
      return civil;
    }
  }
  return Invalid(field, absl::StrCat("must be a real date in 2000-2100; got ",
                                     year, "-", month, "-", day));
}

}  // namespace prima
