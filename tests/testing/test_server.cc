#include "tests/testing/test_server.h"

#include "absl/strings/str_cat.h"

namespace prima::testing {

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(
    const std::vector<grpc::Service*>& services, bool serving,
    absl::Duration drain_timeout) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.drain_timeout = drain_timeout;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, services, serving);
  if (!server.ok()) return server.status();
  std::unique_ptr<TestServer> test_server(new TestServer());
  test_server->server_ = std::move(*server);
  return test_server;
}

std::string TestServer::address() const {
  return absl::StrCat("127.0.0.1:", port());
}

std::shared_ptr<grpc::Channel> TestServer::NewChannel() const {
  return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

}  // namespace prima::testing
