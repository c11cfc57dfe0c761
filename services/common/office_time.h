#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prima/catalog/v1/directory.pb.h"

namespace prima {

// The office's time zone (one of Indonesia's three; the directory validated
// it). FAILED_PRECONDITION when it cannot be loaded.
absl::StatusOr<absl::TimeZone> OfficeTimeZone(
    const prima::catalog::v1::Office& office);

}  // namespace prima
