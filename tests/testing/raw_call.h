#pragma once

// Calls a unary gRPC method with bytes the test chooses (malformed ones
// included), without a generated stub.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prima::testing {

// Sends `request` as the message of `method` ("/package.Service/Method") and
// returns the call's status; the reply's bytes go to `response` when given.
// `metadata` pairs are added to the call (e.g. {"authorization", "Bearer
// ..."}).
grpc::Status RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    absl::string_view request, std::string* response = nullptr,
    absl::Duration timeout = absl::Seconds(5),
    const std::multimap<std::string, std::string>& metadata = {});

// Sends `request` to the server-streaming `method` and waits for its first
// message or its end: OK as soon as a message arrives (the call is then
// cancelled, so a stream that never ends does not hold the caller), otherwise
// the status the server ended the stream with.
grpc::Status RawFirstStreamedMessage(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    absl::string_view request, absl::Duration timeout = absl::Seconds(5),
    const std::multimap<std::string, std::string>& metadata = {});

}  // namespace prima::testing
