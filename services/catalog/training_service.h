#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "services/common/auth.h"
#include "services/common/server.h"

namespace prima::catalog {

// The access table of prima.catalog.v1.TrainingService (see training.proto for
// the finer per-resource rules the handlers add).
std::vector<RpcPolicy> TrainingPolicies();

// The gRPC adapter of the training catalogue, on the callback API.
std::unique_ptr<grpc::Service> MakeTrainingService(
    const ServiceEnvironment& env);

}  // namespace prima::catalog
