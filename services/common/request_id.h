#pragma once

// The request id that ties a call's log lines together (and to the client's
// own logs): not the idempotency key of a mutation, which is a field of the
// request message.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace prima {

// The metadata key a client may send and the server always answers with.
inline constexpr char kRequestIdMetadataKey[] = "x-request-id";
// W3C Trace Context: "<version>-<trace-id>-<parent-id>-<flags>".
inline constexpr char kTraceparentMetadataKey[] = "traceparent";

// `text` when it is usable as a request id in logs and headers
// (IsWellFormedRequestId: the rule of idempotency keys); nullopt otherwise (so
// nothing a client sends can break a JSON log line or grow it without bound).
std::optional<std::string> ValidRequestId(absl::string_view text);

// The trace-id (32 lowercase hex digits) of a well-formed traceparent header;
// nullopt for anything else, an all-zero id or the forbidden version "ff".
std::optional<std::string> TraceIdFromTraceparent(absl::string_view header);

// 32 random lowercase hex digits (the shape of a trace-id).
std::string GenerateRequestId();

// The call's request id: the client's x-request-id if valid, else the
// trace-id of its traceparent, else a generated one. Empty arguments mean the
// header was absent.
std::string ChooseRequestId(absl::string_view x_request_id,
                            absl::string_view traceparent);

}  // namespace prima
