#pragma once

#include <grpcpp/grpcpp.h>

#include "prima/testing/v1/echo.grpc.pb.h"

namespace prima::bench {

// prima.testing.v1.EchoService: answers at once with the request's message. The
// benchmark yardstick — same bootstrap and call handling (UnaryCall, its log
// line) as the real services, no Redis — and a ready-made service for tests.
class EchoServiceImpl final
    : public prima::testing::v1::EchoService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(
      grpc::CallbackServerContext* context,
      const prima::testing::v1::EchoRequest* request,
      prima::testing::v1::EchoResponse* response) override;
};

}  // namespace prima::bench
