#include "bench/echo_service.h"

#include "absl/status/status.h"
#include "services/common/rpc.h"

namespace prima::bench {

grpc::ServerUnaryReactor* EchoServiceImpl::Echo(
    grpc::CallbackServerContext* context,
    const prima::testing::v1::EchoRequest* request,
    prima::testing::v1::EchoResponse* response) {
  UnaryCall call(context, "Echo");
  response->set_message(request->message());
  return call.Finish(absl::OkStatus());
}

}  // namespace prima::bench
