#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/config.h"

namespace prima {

class Metrics;
class RedisClient;

// The health service name Kubernetes' liveness probe asks for: SERVING from
// start to shutdown whatever Redis does (a Redis outage must move traffic
// away, through the overall status, not restart the pods).
inline constexpr char kLivenessServiceName[] = "liveness";

// Transport settings shared by every Prima server.
struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port
  absl::Duration drain_timeout = absl::Seconds(10);
  int max_receive_message_bytes = 4 * 1024 * 1024;
  int max_send_message_bytes = 16 * 1024 * 1024;
  // Counts and times every call when set; must outlive the server.
  Metrics* metrics = nullptr;
};

// A started gRPC server: callback API, standard health service, reflection,
// client keepalive pings permitted, message size limits, and the interceptor
// of services/common/rpc_interceptor.h (request ids, metrics). The overall
// health status starts NOT_SERVING for a server that depends on Redis until
// SetServing(true); kLivenessServiceName is SERVING until Shutdown().
class Server {
 public:
  // `services` must outlive the server. Fails (e.g. port in use) with the
  // reason.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, const std::vector<grpc::Service*>& services,
      bool initially_serving);
  ~Server();

  int port() const { return port_; }
  // The overall health status (readiness); liveness is left alone.
  void SetServing(bool serving);

  // Stops accepting new calls and cancels those still running after the drain
  // deadline.
  void Shutdown();
  // Returns when every call has finished; call after Shutdown().
  void Wait();

 private:
  Server() = default;
  std::unique_ptr<grpc::Server> server_;
  ServerOptions options_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};
};

// What a service binary's factory gets to build its gRPC services from.
struct ServiceEnvironment {
  const ServiceConfig& config;
  RedisClient& redis;
  const Clock& clock;
  const JwtVerifier& verifier;
  // The process's metrics, for services that report their own (queue
  // waiting counts, live watchers, event consumers).
  Metrics& metrics;
};

// The services and background workers of one binary, kept alive while it runs.
struct ServiceBundle {
  std::vector<std::unique_ptr<grpc::Service>> services;
  // Called when draining starts, before the server waits for calls in flight:
  // ends long-lived streams, which would otherwise hold the drain for its whole
  // deadline and then be cancelled.
  std::function<void()> drain;
  // Called after the server stopped accepting calls, before Redis stops (e.g.
  // stop event consumers and sweepers).
  std::function<void()> stop;
};

using ServiceFactory =
    std::function<absl::StatusOr<ServiceBundle>(const ServiceEnvironment&)>;

// main() of a service binary: loads config (exits 2 naming the bad variable),
// connects Redis, builds the services, serves until SIGTERM/SIGINT, then drains
// and exits 0.
int RunServiceMain(absl::string_view service_name, int default_port,
                   const ServiceFactory& factory, int argc, char** argv);

// Blocks until SIGTERM or SIGINT arrives. Block those signals in every thread
// first with BlockTerminationSignals() (RunServiceMain does both).
void BlockTerminationSignals();
int WaitForTerminationSignal();

}  // namespace prima
