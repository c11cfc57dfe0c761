#pragma once

// google.protobuf.Timestamp <-> absl::Time.

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace prima {

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProtoTime(absl::Time t);

}  // namespace prima
