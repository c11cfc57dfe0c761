#pragma once

// Every gRPC service of the four service binaries, from the protos'
// descriptors, for tests that call every RPC (so a new RPC is covered without
// touching them).

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"

namespace prima::testing {

// A gRPC service with the binary that serves it ("catalog", "queue", ...).
struct ServedBy {
  const google::protobuf::ServiceDescriptor* service;
  std::string binary;
};

// The directory, training, queue, complaint and satisfaction services.
std::vector<ServedBy> AllServices();

// "/package.Service/Method", the path a call names.
std::string MethodPath(const google::protobuf::MethodDescriptor& method);

}  // namespace prima::testing
