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

}  // namespace prima::testing
