#pragma once

// Checks every request meets before its handler reads it (after the caller is
// authenticated): the bounds that hold for every field of a kind, wherever it
// sits in the message. Field-specific rules (ids, texts, windows such as an
// appointment's booking horizon) stay in each service's validation.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace prima {

// The range of a google.protobuf.Timestamp in a request: 0001-01-01T00:00:00Z
// to 9999-12-31T23:59:59.999999999Z (as the type's own documentation says),
// nanos 0..999,999,999.
inline constexpr int64_t kMinTimestampSeconds = -62135596800;
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;
// A google.protobuf.Duration: within ±10,000 years, nanos of the same sign
// as the seconds and below one second.
inline constexpr int64_t kMaxDurationSeconds = 315576000000;

// The sizes of a request's fields unless a field declares its own with the
// option (prima.common.v1.max_size): characters (code points) of a string,
// elements of a repeated field or map. Elements of a repeated string always
// take the string default.
inline constexpr int kDefaultMaxStringChars = 1000;
inline constexpr int kDefaultMaxRepeated = 100;

// Every Timestamp and Duration set anywhere in `request` (nested and repeated
// messages included) is within the ranges above, and every string, repeated
// field and map within its size. INVALID_ARGUMENT naming the field's path,
// e.g. `slot_start_time.seconds: must be within 0001-01-01..9999-12-31
// (-62135596800..253402300799)` or `title: must be at most 1000 characters`.
absl::Status CheckRequestBounds(const google::protobuf::Message& request);

// 32 hex characters (128 bits of SHA-256) of the request's deterministic
// serialization: the same request gives the same fingerprint, any change of
// a field (unknown ones included) another.
std::string RequestFingerprint(const google::protobuf::Message& request);

}  // namespace prima
