#pragma once

// Machine-readable errors. Every error a client gets carries a
// google.rpc.ErrorInfo (in the google.rpc.Status of grpc-status-details-bin):
// a stable reason, the domain "prima", and facts such as the request field at
// fault, so apps can show their own text. The reason is the gRPC code's name
// ("INVALID_ARGUMENT", "NOT_FOUND", ...) unless the error names a more
// specific one (documented on the RPCs that give it, e.g. OFFICE_CLOSED).

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"

namespace prima {

inline constexpr char kErrorDomain[] = "prima";

// `status` with a specific reason (UPPER_SNAKE_CASE) and facts for its
// ErrorInfo. OK stays OK.
absl::Status WithReason(
    absl::Status status, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

// `status` telling the client how long to wait (google.rpc.RetryInfo), and
// the same in seconds as the ErrorInfo fact "retry_after_seconds".
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The ErrorInfo a client gets for `status`: its own reason and facts when set;
// otherwise the code's name, and for errors about the request (not server
// faults) the fact "field" when the message starts with a field path
// ("slot_start_time.seconds: must be ...").
google::rpc::ErrorInfo ErrorInfoOf(const absl::Status& status);

// The serialized google.rpc.Status of `status` as a client sees it, with
// `message` (already scrubbed of internal detail) and the details above.
std::string ErrorDetailsOf(const absl::Status& status,
                           absl::string_view message);

}  // namespace prima
