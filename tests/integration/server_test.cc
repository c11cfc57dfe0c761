// The shared server bootstrap: health, graceful drain, the per-call finisher,
// and a real service binary following Redis up and down and exiting 0 on
// SIGTERM.
#include "services/common/server.h"

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.grpc.pb.h"
#include "prima/testing/v1/echo.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/directory_keys.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/rpc.h"
#include "tests/testing/http_get.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/redis_sentinel.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_server.h"

namespace prima {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::prima::testing::v1::EchoRequest;
using ::prima::testing::v1::EchoResponse;
using ::prima::testing::v1::EchoService;

// Answers after `delay`, from another thread, like a handler waiting on Redis.
class SlowEcho final : public EchoService::CallbackService {
 public:
  explicit SlowEcho(absl::Duration delay) : delay_(delay) {}
  ~SlowEcho() override {
    for (auto& t : threads_) t.join();
  }

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoRequest* request,
                                 EchoResponse* response) override {
    auto call = std::make_unique<UnaryCall>(context, "Echo");
    grpc::ServerUnaryReactor* reactor = call->reactor();
    started_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, call = std::move(call), request, response] {
      absl::SleepFor(delay_);
      response->set_message(request->message());
      call->Finish(absl::OkStatus());
    });
    return reactor;
  }

  int started() const { return started_.load(); }

 private:
  const absl::Duration delay_;
  std::atomic<int> started_{0};
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

HealthCheckResponse::ServingStatus CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status,
    const std::string& service = "") {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  *status = stub->Check(&context, request, &response);
  return response.status();
}

TEST(ServerTest, HealthFollowsSetServing) {
  SlowEcho echo(absl::ZeroDuration());
  auto server = testing::TestServer::Start({&echo}, /*serving=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  grpc::Status status;
  EXPECT_EQ(CheckHealth((*server)->NewChannel(), &status),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(status.ok());
  (*server)->server().SetServing(true);
  EXPECT_EQ(CheckHealth((*server)->NewChannel(), &status),
            HealthCheckResponse::SERVING);
}

// Kubernetes: readiness asks for the overall status, liveness for
// "liveness", which a Redis outage (SetServing(false)) must not touch.
TEST(ServerTest, LivenessStaysServingUntilShutdown) {
  SlowEcho echo(absl::ZeroDuration());
  auto server = testing::TestServer::Start({&echo}, /*serving=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = (*server)->NewChannel();
  grpc::Status status;
  EXPECT_EQ(CheckHealth(channel, &status, kLivenessServiceName),
            HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();
  (*server)->server().SetServing(true);
  (*server)->server().SetServing(false);
  EXPECT_EQ(CheckHealth(channel, &status), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(channel, &status, kLivenessServiceName),
            HealthCheckResponse::SERVING);

  // Watch sees the shutdown (a Check after it finds no server).
  auto stub = Health::NewStub(channel);
  grpc::ClientContext watch_context;
  HealthCheckRequest request;
  request.set_service(kLivenessServiceName);
  auto reader = stub->Watch(&watch_context, request);
  HealthCheckResponse update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  std::thread stopper([&] { (*server)->server().Shutdown(); });
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();
  stopper.join();
  (*server)->server().Wait();
}

// The request id: the client's x-request-id, else the traceparent's trace-id,
// else a generated one; sent back in the initial metadata and logged with the
// call.
TEST(ServerTest, RequestIdComesBackAndIsLogged) {
  SlowEcho echo(absl::ZeroDuration());
  auto server = testing::TestServer::Start({&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = EchoService::NewStub((*server)->NewChannel());
  auto call =
      [&](const std::vector<std::pair<std::string, std::string>>& metadata) {
        grpc::ClientContext context;
        for (const auto& [key, value] : metadata)
          context.AddMetadata(key, value);
        EchoRequest request;
        EchoResponse response;
        EXPECT_TRUE(stub->Echo(&context, request, &response).ok());
        auto it = context.GetServerInitialMetadata().find("x-request-id");
        if (it == context.GetServerInitialMetadata().end())
          return std::string();
        return std::string(it->second.data(), it->second.size());
      };

  SetLogLevel(LogLevel::kInfo);  // the default; the call's line is at info
  ::testing::internal::CaptureStderr();
  const std::string sent = call({{"x-request-id", "req-42.a_b:c"}});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(sent, "req-42.a_b:c");
  EXPECT_NE(log.find("\"request_id\":\"req-42.a_b:c\""), std::string::npos)
      << log;

  EXPECT_EQ(call({{"traceparent",
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  // A malformed id is replaced, not echoed.
  const std::string replaced = call({{"x-request-id", "bad id\"}"}});
  EXPECT_EQ(replaced.size(), 32u) << replaced;
  const std::string generated = call({});
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_NE(generated, call({}));
}

// A request the library cannot parse gets INVALID_ARGUMENT with a message, not
// gRPC's default UNIMPLEMENTED with none; the handler never runs.
TEST(ServerTest, UnparseableRequestIsInvalidArgumentWithAMessage) {
  SlowEcho echo(absl::ZeroDuration());
  auto server = testing::TestServer::Start({&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = (*server)->NewChannel();
  const std::string method = "/prima.testing.v1.EchoService/Echo";

  EchoRequest valid;
  valid.set_message("halo");
  std::string reply;
  grpc::Status status =
      testing::RawUnaryCall(channel, method, valid.SerializeAsString(), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EchoResponse response;
  ASSERT_TRUE(response.ParseFromString(reply));
  EXPECT_EQ(response.message(), "halo");

  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"truncated", std::string("\x0a\x05"
                                "ab",
                                4)},
      {"invalid UTF-8", std::string("\x0a\x02\xff\xfe", 4)},
      {"bad wire type", std::string("\x0f\x01\x02", 3)},
      {"varint that never ends", std::string(12, '\xff')},
  };
  for (const auto& [name, bytes] : malformed) {
    status = testing::RawUnaryCall(channel, method, bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_NE(status.error_message().find("request: not a valid message"),
              std::string::npos)
        << name << ": " << status.error_message();
  }
  EXPECT_EQ(echo.started(), 1);
}

// A call its client gave up on is counted as CANCELLED, whatever the handler
// answered later (load tools that stop mid-flight used to show a trickle of
// UNIMPLEMENTED or OK for such calls).
TEST(ServerTest, CancelledCallIsCountedAsCancelled) {
  SlowEcho echo(absl::Milliseconds(500));
  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Start("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ServerOptions options;
  options.metrics = metrics->get();
  auto server = Server::Start(options, {&echo}, /*initially_serving=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = EchoService::NewStub(channel);

  const std::string method = "/prima.testing.v1.EchoService/Echo";
  auto count = [&](const std::string& code) {
    absl::StatusOr<std::string> body =
        testing::HttpGet((*metrics)->port(), "/metrics");
    EXPECT_TRUE(body.ok()) << body.status();
    return testing::MetricValue(body.ok() ? *body : "",
                                "prima_rpc_requests_total",
                                {{"method", method}, {"code", code}})
        .value_or(0);
  };

  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(100));
    EchoRequest request;
    EchoResponse response;
    EXPECT_EQ(stub->Echo(&context, request, &response).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  {
    grpc::ClientContext context;
    EchoRequest request;
    EchoResponse response;
    EXPECT_TRUE(stub->Echo(&context, request, &response).ok());
  }
  // A call is counted when the library releases it, just after its reply.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((count("CANCELLED") < 1 || count("OK") < 1) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(count("CANCELLED"), 1);
  EXPECT_EQ(count("OK"), 1);
  (*server)->Shutdown();
  (*server)->Wait();
}

TEST(ServerTest, DrainLetsInFlightCallsFinishAndRefusesNewOnes) {
  SlowEcho echo(absl::Milliseconds(300));
  auto server = testing::TestServer::Start({&echo}, true, absl::Seconds(5));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = EchoService::NewStub((*server)->NewChannel());

  grpc::ClientContext context;
  EchoRequest request;
  request.set_message("sabar");
  EchoResponse response;
  absl::Notification done;
  grpc::Status in_flight_status;
  stub->async()->Echo(&context, &request, &response, [&](grpc::Status s) {
    in_flight_status = s;
    done.Notify();
  });
  while (echo.started() == 0) absl::SleepFor(absl::Milliseconds(5));

  std::thread drainer([&] { (*server)->server().Shutdown(); });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(in_flight_status.ok()) << in_flight_status.error_message();
  EXPECT_EQ(response.message(), "sabar");
  drainer.join();

  grpc::ClientContext late_context;
  late_context.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(2));
  EchoResponse late_response;
  grpc::Status late = stub->Echo(&late_context, request, &late_response);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::UNAVAILABLE);
  (*server)->server().Wait();
}

TEST(ServerTest, DrainDeadlineCancelsCallsThatTakeTooLong) {
  SlowEcho echo(absl::Seconds(2));
  auto server =
      testing::TestServer::Start({&echo}, true, absl::Milliseconds(200));
  ASSERT_TRUE(server.ok());
  auto stub = EchoService::NewStub((*server)->NewChannel());
  grpc::ClientContext context;
  EchoRequest request;
  EchoResponse response;
  absl::Notification done;
  grpc::Status status;
  stub->async()->Echo(&context, &request, &response, [&](grpc::Status s) {
    status = s;
    done.Notify();
  });
  while (echo.started() == 0) absl::SleepFor(absl::Milliseconds(5));
  // The client hears about the cancellation at the drain deadline, not when the
  // handler eventually answers.
  const absl::Time start = absl::Now();
  std::thread drainer([&] { (*server)->server().Shutdown(); });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(status.ok());
  drainer.join();
}

TEST(ServerTest, DroppedCallIsFinishedWithUnavailable) {
  // A handler that loses its call (say, a callback that is never run) still
  // answers.
  class Dropper final : public EchoService::CallbackService {
    grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                   const EchoRequest*, EchoResponse*) override {
      auto call = std::make_unique<UnaryCall>(context, "Echo");
      grpc::ServerUnaryReactor* reactor = call->reactor();
      call.reset();
      return reactor;
    }
  } dropper;
  auto server = testing::TestServer::Start({&dropper});
  ASSERT_TRUE(server.ok());
  auto stub = EchoService::NewStub((*server)->NewChannel());
  grpc::ClientContext context;
  EchoResponse response;
  grpc::Status status = stub->Echo(&context, EchoRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTest, PortInUseIsAClearError) {
  SlowEcho echo(absl::ZeroDuration());
  auto first = testing::TestServer::Start({&echo});
  ASSERT_TRUE(first.ok());
  ServerOptions options;
  options.listen = (*first)->address();
  SlowEcho other(absl::ZeroDuration());
  auto second = Server::Start(options, {&other}, true);
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find((*first)->address()),
            std::string::npos);
}

// The real `catalog` binary: SERVING only while Redis is usable; SIGTERM
// drains, exit 0.
TEST(ServiceBinaryTest, FollowsRedisAndExitsCleanlyOnSigterm) {
  auto redis = testing::TestRedis::Start();
  ASSERT_TRUE(redis.ok());
  const int port = testing::FreePort();
  testing::BackgroundProcess catalog(
      {PRIMA_CATALOG_PATH},
      {absl::StrCat("PRIMA_LISTEN=127.0.0.1:", port),
       absl::StrCat("PRIMA_REDIS_URL=", (*redis)->url()),
       "PRIMA_JWT_SECRET=0123456789abcdef0123456789abcdef",
       "PRIMA_REDIS_TIMEOUT_MS=300", "PRIMA_LOG_LEVEL=warn",
       "PRIMA_DRAIN_SECONDS=2", "PRIMA_METRICS_LISTEN=127.0.0.1:0"});
  ASSERT_TRUE(catalog.started());

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto wait_for = [&](HealthCheckResponse::ServingStatus want) {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    while (absl::Now() < until) {
      grpc::Status status;
      if (CheckHealth(channel, &status) == want && status.ok()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(HealthCheckResponse::SERVING));
  (*redis)->Kill();
  EXPECT_TRUE(wait_for(HealthCheckResponse::NOT_SERVING));
  ASSERT_TRUE((*redis)->Restart().ok());
  EXPECT_TRUE(wait_for(HealthCheckResponse::SERVING));
  EXPECT_EQ(catalog.Stop(SIGTERM), 0) << catalog.StderrText();
}

// The real `catalog` binary configured as the high-availability component
// deploys it: the primary from a Sentinel, both passwords apart from the URL.
// It writes through a failover; a write that met it is retried with its
// request_id.
TEST(ServiceBinaryTest, FollowsTheSentinelElectedPrimary) {
  testing::TestSentinelGroup::Options ha;
  ha.password = "redis-pw";
  ha.sentinel_password = "sentinel-pw";
  auto group = testing::TestSentinelGroup::Start(ha);
  ASSERT_TRUE(group.ok()) << group.status();
  constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
  const int port = testing::FreePort();
  std::unique_ptr<testing::BackgroundProcess> catalog =
      testing::StartServiceProcess(
          PRIMA_CATALOG_PATH, absl::StrCat("127.0.0.1:", port),
          "redis://redis.invalid:1", kSecret,
          {"PRIMA_REDIS_PASSWORD=redis-pw",
           absl::StrCat("PRIMA_REDIS_SENTINELS=",
                        (*group)->sentinel().address()),
           "PRIMA_REDIS_SENTINEL_MASTER=prima",
           "PRIMA_REDIS_SENTINEL_PASSWORD=sentinel-pw",
           "PRIMA_DRAIN_SECONDS=2"});
  ASSERT_TRUE(catalog->started());
  MintRequest mint;
  mint.secret = kSecret;
  mint.subject = "admin";
  mint.roles = {"region_admin"};
  absl::StatusOr<std::string> token = MintHs256Token(mint);
  ASSERT_TRUE(token.ok()) << token.status();

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto directory = catalog::v1::DirectoryService::NewStub(channel);
  // Until `until`, retried while UNAVAILABLE (starting, failing over).
  auto create = [&](const std::string& id, absl::Time until) {
    grpc::Status status;
    do {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      context.AddMetadata("authorization", "Bearer " + *token);
      catalog::v1::CreateAgencyRequest request;
      request.set_request_id("create-" + id);
      request.mutable_agency()->set_id(id);
      request.mutable_agency()->set_name("Dinas " + id);
      request.mutable_agency()->set_region("jatim");
      catalog::v1::Agency agency;
      status = directory->CreateAgency(&context, request, &agency);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < until);
    return status;
  };
  auto exists = [&](const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    catalog::v1::GetAgencyRequest request;
    request.set_agency_id(id);
    catalog::v1::Agency agency;
    grpc::Status status = directory->GetAgency(&context, request, &agency);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return agency.id() == id;
  };

  grpc::Status created = create("before", absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(created.ok()) << created.error_message() << catalog->StderrText();
  EXPECT_TRUE(exists("before"));

  absl::StatusOr<testing::TestRedis*> promoted =
      (*group)->Failover(absl::Seconds(60));
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  // The service learns of the switch a moment after the Sentinel names the
  // new primary: within a few seconds its writes land there.
  const absl::Time until = absl::Now() + absl::Seconds(20);
  bool landed = false;
  for (int i = 0; !landed && absl::Now() < until; ++i) {
    const std::string id = absl::StrCat("after-", i);
    created = create(id, until);
    ASSERT_TRUE(created.ok())
        << created.error_message() << catalog->StderrText();
    absl::StatusOr<RedisValue> stored = (*promoted)->Command(
        {"EXISTS", directory::ResourceKey(directory::Kind::kAgency, id)});
    landed = stored.ok() && stored->integer == 1;
  }
  EXPECT_TRUE(landed) << catalog->StderrText();
  EXPECT_TRUE(exists("before"));  // replicated before the failover
  EXPECT_EQ(catalog->Stop(SIGTERM), 0) << catalog->StderrText();
}

TEST(ServiceBinaryTest, InvalidConfigurationNamesTheVariable) {
  testing::ProcessResult result = testing::RunProcess(
      {PRIMA_CATALOG_PATH},
      {"PRIMA_REDIS_URL=http://nope",
       "PRIMA_JWT_SECRET=0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("PRIMA_REDIS_URL"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace prima
