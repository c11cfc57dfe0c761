#pragma once

// The catalog's DirectoryService in this process, on a TestServer of its own,
// with a directory applied as a region admin: what the queue, complaint and
// satisfaction service tests stand on.

#include <memory>

#include "absl/status/statusor.h"
#include "prima/catalog/v1/directory.pb.h"
#include "tests/testing/service_env.h"
#include "tests/testing/test_server.h"

namespace prima::testing {

class TestDirectory {
 public:
  // Starts the service against `env`'s Redis and applies `directory` with a
  // region_admin token of `env`.
  static absl::StatusOr<std::unique_ptr<TestDirectory>> Start(
      const TestServiceEnv& env,
      const prima::catalog::v1::ApplyDirectoryRequest& directory);
  // Shuts the server down and waits for it.
  ~TestDirectory();

 private:
  TestDirectory() = default;

  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<TestServer> server_;
};

}  // namespace prima::testing
