#pragma once

// google.protobuf.Timestamp <-> absl::Time, prima.common.v1.LocalDate <->
// absl::CivilDay.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "prima/common/v1/common.pb.h"

namespace prima {

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProtoTime(absl::Time t);

prima::common::v1::LocalDate ToLocalDate(absl::CivilDay day);
// INVALID_ARGUMENT naming `field` unless a real date in 2000-2100.
absl::StatusOr<absl::CivilDay> FromLocalDate(
    absl::string_view field, const prima::common::v1::LocalDate& date);

}  // namespace prima
