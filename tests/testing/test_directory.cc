#include "tests/testing/test_directory.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "prima/catalog/v1/directory.grpc.pb.h"
#include "services/catalog/directory_service.h"

namespace prima::testing {

absl::StatusOr<std::unique_ptr<TestDirectory>> TestDirectory::Start(
    const TestServiceEnv& env,
    const prima::catalog::v1::ApplyDirectoryRequest& directory) {
  std::unique_ptr<TestDirectory> started(new TestDirectory());
  absl::StatusOr<std::unique_ptr<grpc::Service>> service =
      catalog::MakeDirectoryService(env.environment());
  if (!service.ok()) return service.status();
  started->service_ = std::move(*service);
  absl::StatusOr<std::unique_ptr<TestServer>> server =
      TestServer::Start({started->service_.get()});
  if (!server.ok()) return server.status();
  started->server_ = std::move(*server);

  auto stub = prima::catalog::v1::DirectoryService::NewStub(
      started->server_->NewChannel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ctx.AddMetadata(
      "authorization",
      absl::StrCat("Bearer ", env.Token("region_admin", "", "root")));
  prima::catalog::v1::ApplyDirectoryResponse applied;
  grpc::Status s = stub->ApplyDirectory(&ctx, directory, &applied);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("ApplyDirectory: ", s.error_message()));
  }
  return started;
}

TestDirectory::~TestDirectory() {
  if (server_ == nullptr) return;
  server_->server().Shutdown();
  server_->server().Wait();
}

}  // namespace prima::testing
