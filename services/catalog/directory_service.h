#pragma once

// The gRPC adapter of prima.catalog.v1.DirectoryService: validates requests
// (directory_rules), authorizes them (one policy table), calls the store and
// maps the results.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/server.h"

namespace prima::catalog {

// DirectoryService on the environment's Redis client, clock and verifier
// (which must outlive it).
absl::StatusOr<std::unique_ptr<grpc::Service>> MakeDirectoryService(
    const ServiceEnvironment& env);

}  // namespace prima::catalog
