#include "services/common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/redis_client.h"
#include "services/common/rpc_interceptor.h"

namespace prima {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services,
    bool initially_serving) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server());
  server->options_ = options;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  // Without this a second server on a taken port starts "fine" and shares the
  // traffic: a stale process from an earlier run must make the new one fail
  // instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  // Mobile clients keep connections alive with pings; allow one every 10 s,
  // even without calls in flight, instead of answering them with GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  // Our own pings find dead peers of long-lived streams.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MakeRpcInterceptorFactory(options.metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen, " (address in use or not valid)"));
  }
  if (auto* health = server->server_->GetHealthCheckService();
      health != nullptr) {
    health->SetServingStatus(kLivenessServiceName, true);
  }
  server->SetServing(initially_serving);
  return server;
}

Server::~Server() {
  if (server_ != nullptr) {
    Shutdown();
    Wait();
  }
}

void Server::SetServing(bool serving) {
  if (shut_down_) return;
  if (auto* health = server_->GetHealthCheckService(); health != nullptr) {
    // By name: SetServingStatus(bool) would set liveness too. Per-service
    // names of the Prima services are not registered, so the overall status
    // ("") is all there is to set.
    health->SetServingStatus("", serving);
  }
}

void Server::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (auto* health = server_->GetHealthCheckService(); health != nullptr) {
    health->Shutdown();  // NOT_SERVING from now on, so load balancers move away
  }
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(
                        absl::ToInt64Milliseconds(options_.drain_timeout)));
}

void Server::Wait() { server_->Wait(); }

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

int RunServiceMain(absl::string_view service_name, int default_port,
                   const ServiceFactory& factory, int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask and only
  // sigwait sees the signals.
  BlockTerminationSignals();
  absl::StatusOr<ServiceConfig> config =
      LoadServiceConfig(service_name, default_port, argc, argv);
  if (!config.ok()) {
    if (config.status().code() == absl::StatusCode::kCancelled) {
      std::fprintf(stdout, "%s\n",
                   std::string(config.status().message()).c_str());
      return 0;
    }
    std::fprintf(stderr, "%s: invalid configuration: %s\n",
                 std::string(service_name).c_str(),
                 std::string(config.status().message()).c_str());
    return 2;
  }
  SetLogLevel(config->log_level);
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::Create(config->jwt);
  if (!verifier.ok()) {
    std::fprintf(stderr, "%s: invalid configuration: %s\n",
                 std::string(service_name).c_str(),
                 std::string(verifier.status().message()).c_str());
    return 2;
  }

  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Start(config->metrics_listen);
  if (!metrics.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(service_name).c_str(),
                 std::string(metrics.status().message()).c_str());
    return 1;
  }

  std::atomic<Server*> live_server{nullptr};
  RedisClient::Options redis_options;
  redis_options.endpoint = config->redis;
  redis_options.command_timeout = config->redis_timeout;
  redis_options.stall_timeout = config->redis_timeout;
  redis_options.connect_timeout = config->redis_timeout;
  (*metrics)->ObserveRedis(redis_options);
  redis_options.on_usable_change = [&live_server, &metrics = **metrics,
                                    name = std::string(service_name)](bool up) {
    metrics.RedisUsableChanged(up);
    if (Server* server = live_server.load()) server->SetServing(up);
    Log(up ? LogLevel::kInfo : LogLevel::kWarn,
        up ? "redis usable: SERVING" : "redis unusable: NOT_SERVING",
        LogFields().Add("service", name));
  };
  absl::StatusOr<std::unique_ptr<RedisClient>> redis =
      RedisClient::Start(redis_options);
  if (!redis.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(service_name).c_str(),
                 std::string(redis.status().message()).c_str());
    return 1;
  }

  const ServiceEnvironment environment{*config, **redis, RealClock::Get(),
                                       **verifier, **metrics};
  absl::StatusOr<ServiceBundle> bundle = factory(environment);
  if (!bundle.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(service_name).c_str(),
                 std::string(bundle.status().message()).c_str());
    return 1;
  }
  std::vector<grpc::Service*> services;
  for (auto& s : bundle->services) services.push_back(s.get());

  ServerOptions server_options;
  server_options.listen = config->listen;
  server_options.drain_timeout = config->drain_timeout;
  server_options.metrics = metrics->get();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(server_options, services, /*initially_serving=*/false);
  if (!server.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(service_name).c_str(),
                 std::string(server.status().message()).c_str());
    return 1;
  }
  live_server.store(server->get());
  (*server)->SetServing((*redis)->usable());
  Log(LogLevel::kInfo, "serving",
      LogFields()
          .Add("service", service_name)
          .Add("listen", config->listen)
          .Add("port", (*server)->port())
          .Add("metrics_listen", config->metrics_listen)
          .Add("metrics_port", (*metrics)->port()));

  const int signal_number = WaitForTerminationSignal();
  Log(LogLevel::kInfo, "draining",
      LogFields()
          .Add("service", service_name)
          .Add("signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
          .Add("deadline_s", absl::ToInt64Seconds(config->drain_timeout)));
  // Order matters: stop taking calls and let in-flight ones finish while Redis
  // still answers, then stop workers, then fail whatever Redis still owes, then
  // wait.
  live_server.store(nullptr);
  if (bundle->drain) bundle->drain();
  (*server)->Shutdown();
  if (bundle->stop) bundle->stop();
  (*redis)->Stop();
  (*server)->Wait();
  Log(LogLevel::kInfo, "stopped", LogFields().Add("service", service_name));
  return 0;
}

}  // namespace prima
