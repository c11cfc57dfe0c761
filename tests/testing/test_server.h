#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/server.h"

namespace prima::testing {

// A Prima server (the real bootstrap) on 127.0.0.1 with a free port, in this
// process.
class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(
      const std::vector<grpc::Service*>& services, bool serving = true,
      absl::Duration drain_timeout = absl::Seconds(5));

  Server& server() { return *server_; }
  int port() const { return server_->port(); }
  std::string address() const;
  std::shared_ptr<grpc::Channel> NewChannel() const;

 private:
  std::unique_ptr<Server> server_;
};

}  // namespace prima::testing
