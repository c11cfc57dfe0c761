#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace prima {

class Metrics;

// The interceptor every Prima server runs on every call (streams too):
// - gives the call its request id (services/common/request_id.h): the client's
//   x-request-id if well-formed, else the traceparent's trace-id, else a new
//   one. It replaces the x-request-id the handlers see (RequestIdFromMetadata)
//   and goes back to the client in the initial metadata;
// - answers a request that does not parse with INVALID_ARGUMENT and a message
//   (gRPC's default is UNIMPLEMENTED with none);
// - with `metrics` (may be null), counts the call by method and code (a call
//   the client cancelled as CANCELLED, whatever the server answered), times
//   it and keeps it in the in-flight gauge until it ends.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcInterceptorFactory(Metrics* metrics);

}  // namespace prima
