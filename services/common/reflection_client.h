#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace prima {

// The gRPC services a server exposes, asked through its server reflection
// service (grpc.reflection.v1alpha.ServerReflection, list_services), in the
// server's order. Fails with the call's status (e.g. UNAVAILABLE when nothing
// listens, UNIMPLEMENTED when the server has no reflection) or INTERNAL when
// the answer cannot be decoded.
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

}  // namespace prima
