// prima-bench: drives one unary RPC at a fixed concurrency over real gRPC and
// reports requests/s and latency percentiles, always beside the echo yardstick
// measured in the same run (alternating rounds), so the ratio target/echo means
// something on a noisy machine.
//
//   prima-bench echo-server [--listen 127.0.0.1:0]
//   prima-bench run --target echo|health|... [--addr HOST:PORT] --concurrency
//   64
//                   --duration 10s [--warmup 2s] [--rounds 3] [--echo-addr
//                   HOST:PORT]
//                   [--output table|json]
//   prima-bench redis|queue-memory|queue-watch|satisfaction-fill ...
//                   (see --help)
//
// To benchmark a new RPC, add one entry to Targets() below.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/echo_service.h"
#include "bench/queue_bench.h"
#include "bench/redis_bench.h"
#include "bench/satisfaction_bench.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "prima/catalog/v1/training.grpc.pb.h"
#include "prima/complaint/v1/complaint.grpc.pb.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "prima/satisfaction/v1/satisfaction.grpc.pb.h"
#include "prima/testing/v1/echo.grpc.pb.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/rpc.h"
#include "services/common/server.h"

namespace prima::bench {

// A request id unique to this process and call, for targets whose RPC creates
// something
// (`request_id` is the idempotency key: reusing one would turn calls into
// replays).
std::string BenchRequestId(uint64_t index) {
  static const std::string* run = new std::string(NewRequestId().substr(0, 12));
  return absl::StrCat("bench-", *run, "-", index);
}

// An officer id (a valid directory id) unique to this process and call, for
// targets that enrol distinct officers.
std::string BenchOfficerId(uint64_t index) { return BenchRequestId(index); }

// A setting of a target read from the environment, e.g. the course to read.
std::string BenchSetting(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

namespace {

using Clock = std::chrono::steady_clock;

// What the harness decides for every call, whatever the target.
struct CallSettings {
  absl::Duration timeout = absl::Seconds(5);
  std::string token;  // sent as `authorization: Bearer <token>` when set

  void Apply(grpc::ClientContext* context) const {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (!token.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
  }
};

// ---------------------------------------------------------------------------------
// Targets: the extension point.
// ---------------------------------------------------------------------------------

// Issues calls of one RPC on one channel (the harness makes one Caller per
// channel).
class Caller {
 public:
  using Done = std::function<void(const grpc::Status&)>;
  virtual ~Caller() = default;
  // Starts call number `index` (unique in this process) and calls `done`
  // exactly once, on a gRPC thread, with its status.
  virtual void Call(uint64_t index, const CallSettings& settings,
                    Done done) = 0;
};

using CallerFactory =
    std::function<std::unique_ptr<Caller>(std::shared_ptr<grpc::Channel>)>;

// A Caller for a unary RPC of a generated service, on the client callback API.
template <typename Service, typename Request, typename Response>
class UnaryCaller final : public Caller {
 public:
  using AsyncMethod = void (Service::StubInterface::async_interface::*)(
      grpc::ClientContext*, const Request*, Response*,
      std::function<void(grpc::Status)>);
  using FillRequest = std::function<void(uint64_t index, Request* request)>;

  UnaryCaller(std::shared_ptr<grpc::Channel> channel, AsyncMethod method,
              FillRequest fill)
      : stub_(Service::NewStub(channel)),
        method_(method),
        fill_(std::move(fill)) {}

  void Call(uint64_t index, const CallSettings& settings, Done done) override {
    auto* call = new InFlight;
    settings.Apply(&call->context);
    if (fill_) fill_(index, &call->request);
    (stub_->async()->*method_)(
        &call->context, &call->request, &call->response,
        [call, done = std::move(done)](grpc::Status status) {
          delete call;  // before `done`: it may start the next call
          done(status);
        });
  }

 private:
  struct InFlight {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  std::unique_ptr<typename Service::Stub> stub_;
  AsyncMethod method_;
  FillRequest fill_;
};

// Unary<Service>(&Service::StubInterface::async_interface::Method, fill): the
// factory of one table entry. `fill` sets call number `index`'s request
// (nullptr: empty request).
template <typename Service, typename Request, typename Response>
CallerFactory Unary(
    void (Service::StubInterface::async_interface::*method)(
        grpc::ClientContext*, const Request*, Response*,
        std::function<void(grpc::Status)>),
    std::function<void(uint64_t, std::type_identity_t<Request>*)> fill =
        nullptr) {
  return [method, fill](std::shared_ptr<grpc::Channel> channel) {
    return std::make_unique<UnaryCaller<Service, Request, Response>>(
        std::move(channel), method, fill);
  };
}

// ---------------------------------------------------------------------------------
// Queue targets: the bench directory of scripts/bench-queue
// (bench/queue_bench.h).
// ---------------------------------------------------------------------------------

namespace qv1 = prima::queue::v1;

// A setup step of a target fails the whole run.
[[noreturn]] void SetupFailed(absl::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "error: %s: %s: %s\n", std::string(what).c_str(),
               absl::StatusCodeToString(s.code()).c_str(),
               std::string(s.message()).c_str());
  std::exit(1);
}

std::string OfficerTokenOrExit(const std::string& officer) {
  absl::StatusOr<std::string> token = QueueBenchOfficerToken(officer);
  if (!token.ok()) SetupFailed("officer token", token.status());
  return *token;
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Anonymous kiosk ticket number `index`, spread over the bench offices and
// services (9999 per office, prefix and day: 320k a day in all).
void FillIssueTicket(uint64_t index, qv1::IssueTicketRequest* r) {
  r->set_request_id(BenchRequestId(index));  // >= 20 characters
  r->set_office_id(QueueBenchOffice(index % kQueueBenchOffices));
  r->set_service_id(
      QueueBenchService((index / kQueueBenchOffices) % kQueueBenchServices));
  r->set_channel(qv1::CHANNEL_KIOSK);
}

// queue-get-ticket reads these: 1000 tickets issued once, before the first
// round, through the target's first channel.
constexpr int kGetTicketSet = 1000;
const std::vector<qv1::Ticket>& BenchTickets(
    const std::shared_ptr<grpc::Channel>& channel) {
  static std::vector<qv1::Ticket>* tickets = [&] {
    auto* issued = new std::vector<qv1::Ticket>(kGetTicketSet);
    auto stub = qv1::QueueService::NewStub(channel);
    for (int i = 0; i < kGetTicketSet; ++i) {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(10));
      qv1::IssueTicketRequest request;
      FillIssueTicket(static_cast<uint64_t>(i), &request);
      request.set_request_id(absl::StrCat(BenchRequestId(i), "-get"));
      grpc::Status s = stub->IssueTicket(&context, request, &(*issued)[i]);
      if (!s.ok()) {
        SetupFailed("queue-get-ticket: IssueTicket",
                    absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                                 s.error_message()));
      }
    }
    return issued;
  }();
  return *tickets;
}

CallerFactory GetTicketTarget() {
  return [](std::shared_ptr<grpc::Channel> channel) {
    const std::vector<qv1::Ticket>& tickets = BenchTickets(channel);
    return Unary<qv1::QueueService>(
        &qv1::QueueService::StubInterface::async_interface::GetTicket,
        [&tickets](uint64_t i, qv1::GetTicketRequest* r) {
          const qv1::Ticket& t = tickets[i % tickets.size()];
          r->set_ticket_id(t.id());
          r->set_receipt_secret(t.receipt_secret());
        })(std::move(channel));
  };
}

// queue-call-next's counters: every bench counter, opened once (before the
// first round) by its own officer. A counter is busy from its CallNext until
// the CompleteService that follows it returns.
class BenchCounters {
 public:
  struct Counter {
    std::string id;
    std::string token;
  };
  using Start = std::function<void(Counter*)>;

  static BenchCounters& Get(const std::shared_ptr<grpc::Channel>& channel) {
    static BenchCounters* counters = new BenchCounters(channel);
    return *counters;
  }

  // Runs `start` with a free counter: now, or when one is released.
  void Acquire(Start start) {
    Counter* counter = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (free_.empty()) {
        waiting_.push_back(std::move(start));
        return;
      }
      counter = free_.back();
      free_.pop_back();
    }
    start(counter);
  }

  // Waits until every counter is free: no CallNext or CompleteService in
  // flight.
  void WaitAllFree() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](BenchCounters* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
          return c->free_.size() == c->all_.size();
        },
        this));
  }

  void Release(Counter* counter) {
    Start next;
    {
      absl::MutexLock lock(&mu_);
      if (waiting_.empty()) {
        free_.push_back(counter);
        return;
      }
      next = std::move(waiting_.front());
      waiting_.pop_front();
    }
    next(counter);
  }

 private:
  explicit BenchCounters(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = qv1::QueueService::NewStub(channel);
    for (int o = 0; o < kQueueBenchOffices; ++o) {
      for (int c = 1; c <= kQueueBenchCounters; ++c) {
        auto counter = std::make_unique<Counter>();
        counter->id = QueueBenchCounter(o, c);
        counter->token = OfficerTokenOrExit(QueueBenchOfficer(o, c));
        if (absl::Status s =
                OpenQueueBenchCounter(*stub, counter->id, counter->token);
            !s.ok()) {
          SetupFailed("queue-call-next", s);
        }
        free_.push_back(counter.get());
        all_.push_back(std::move(counter));
      }
    }
  }

  absl::Mutex mu_;
  std::vector<Counter*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Start> waiting_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Counter>> all_;
};

// One timed call is CallNext at a free bench counter, by the counter's own
// officer (`--token` is not used). When it returns, the call is done, and an
// untimed CompleteService of the called ticket frees the counter again. So
// the server runs two RPCs per counted call; the latency is CallNext's alone
// (plus any wait for a free counter, which the 128 counters make rare below
// concurrency 64).
class CallNextCaller final : public Caller {
 public:
  explicit CallNextCaller(std::shared_ptr<grpc::Channel> channel)
      : counters_(BenchCounters::Get(channel)),
        stub_(qv1::QueueService::NewStub(channel)) {}
  // The untimed CompleteService calls outlive the round: wait for them.
  ~CallNextCaller() override { counters_.WaitAllFree(); }

  void Call(uint64_t index, const CallSettings& settings, Done done) override {
    counters_.Acquire([this, index, timeout = settings.timeout,
                       done = std::move(done)](BenchCounters::Counter* c) {
      CallAt(c, index, timeout, done);
    });
  }

 private:
  struct InFlight {
    grpc::ClientContext call_context;
    qv1::CallNextRequest call;
    qv1::Ticket called;
    grpc::ClientContext complete_context;
    qv1::CompleteServiceRequest complete;
    qv1::Ticket completed;
  };

  void CallAt(BenchCounters::Counter* counter, uint64_t index,
              absl::Duration timeout, const Done& done) {
    auto* f = new InFlight;
    SetDeadline(&f->call_context, timeout);
    f->call_context.AddMetadata("authorization", "Bearer " + counter->token);
    f->call.set_request_id(BenchRequestId(index));
    f->call.set_counter_id(counter->id);
    stub_->async()->CallNext(
        &f->call_context, &f->call, &f->called,
        [this, f, counter, index, timeout, done](grpc::Status status) {
          done(status);
          if (!status.ok()) {
            delete f;
            counters_.Release(counter);
            return;
          }
          SetDeadline(&f->complete_context, timeout);
          f->complete_context.AddMetadata("authorization",
                                          "Bearer " + counter->token);
          f->complete.set_request_id(absl::StrCat(BenchRequestId(index), "-c"));
          f->complete.set_counter_id(counter->id);
          f->complete.set_ticket_id(f->called.id());
          f->complete.set_outcome(qv1::SERVICE_OUTCOME_DONE);
          stub_->async()->CompleteService(
              &f->complete_context, &f->complete, &f->completed,
              [this, f, counter](grpc::Status s) {
                if (!s.ok()) {
                  std::fprintf(stderr,
                               "queue-call-next: CompleteService %s: %s\n",
                               counter->id.c_str(), s.error_message().c_str());
                }
                delete f;
                counters_.Release(counter);
              });
        });
  }

  BenchCounters& counters_;
  std::unique_ptr<qv1::QueueService::Stub> stub_;
};

// ---------------------------------------------------------------------------------
// Complaint targets: complaints against the demo directory's agency
// (PRIMA_BENCH_AGENCY, default dukcapil-dki; ./scripts/load-demo).
// ---------------------------------------------------------------------------------

namespace cv1 = prima::complaint::v1;

// Anonymous complaint `index` from a phone, naming no office (its deadlines
// count at the agency's first office).
void FillFileComplaint(uint64_t index, cv1::FileComplaintRequest* r) {
  static const std::string* agency =
      new std::string(BenchSetting("PRIMA_BENCH_AGENCY", "dukcapil-dki"));
  r->set_request_id(BenchRequestId(index));
  cv1::Complaint* c = r->mutable_complaint();
  c->set_agency_id(*agency);
  c->set_classification(cv1::CLASSIFICATION_PENGADUAN);
  c->set_category(index % 4 == 0 ? cv1::CATEGORY_MECHANICAL
                                 : cv1::CATEGORY_SERVICE_RELATED);
  c->set_title("Antrian terlalu lama");
  c->set_description(absl::StrCat(
      "Menunggu lebih dari dua jam tanpa informasi (bench ", index, ")."));
  c->set_channel(cv1::CHANNEL_MOBILE);
  c->set_anonymous(true);
}

// complaint-get reads these: 1000 complaints filed once, before the first
// round, through the target's first channel.
constexpr int kGetComplaintSet = 1000;
const std::vector<cv1::Complaint>& BenchComplaints(
    const std::shared_ptr<grpc::Channel>& channel) {
  static std::vector<cv1::Complaint>* complaints = [&] {
    auto* filed = new std::vector<cv1::Complaint>(kGetComplaintSet);
    auto stub = cv1::ComplaintService::NewStub(channel);
    for (int i = 0; i < kGetComplaintSet; ++i) {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(10));
      cv1::FileComplaintRequest request;
      FillFileComplaint(static_cast<uint64_t>(i), &request);
      request.set_request_id(absl::StrCat(BenchRequestId(i), "-get"));
      grpc::Status s = stub->FileComplaint(&context, request, &(*filed)[i]);
      if (!s.ok()) {
        SetupFailed("complaint-get: FileComplaint",
                    absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                                 s.error_message()));
      }
    }
    return filed;
  }();
  return *complaints;
}

CallerFactory GetComplaintTarget() {
  return [](std::shared_ptr<grpc::Channel> channel) {
    const std::vector<cv1::Complaint>& complaints = BenchComplaints(channel);
    return Unary<cv1::ComplaintService>(
        &cv1::ComplaintService::StubInterface::async_interface::GetComplaint,
        [&complaints](uint64_t i, cv1::GetComplaintRequest* r) {
          const cv1::Complaint& c = complaints[i % complaints.size()];
          r->set_tracking_number(c.tracking_number());
          r->set_receipt_secret(c.receipt_secret());
        })(std::move(channel));
  };
}

// ---------------------------------------------------------------------------------
// Satisfaction targets: SKM responses at the demo office (PRIMA_BENCH_OFFICE,
// default dukcapil-jaksel, service PRIMA_BENCH_SERVICE, default ktp-el).
// ---------------------------------------------------------------------------------

namespace sv1 = prima::satisfaction::v1;

std::string BenchOffice() {
  static const std::string* office =
      new std::string(BenchSetting("PRIMA_BENCH_OFFICE", "dukcapil-jaksel"));
  return *office;
}

// The registered kiosks satisfaction-submit submits from, from
// PRIMA_BENCH_KIOSKS ("id:credential[,id:credential]...", as `prima survey
// kiosk register` prints them): each kiosk may submit only
// PRIMA_SATISFACTION_KIOSK_PER_MINUTE responses a minute, so a run needs
// enough of them (calls beyond that are refused with RESOURCE_EXHAUSTED).
const std::vector<std::pair<std::string, std::string>>& BenchKiosks() {
  static const auto* kiosks = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>();
    for (absl::string_view entry : absl::StrSplit(
             BenchSetting("PRIMA_BENCH_KIOSKS", ""), ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kiosk =
          absl::StrSplit(entry, absl::MaxSplits(':', 1));
      out->push_back(std::move(kiosk));
    }
    if (out->empty()) out->push_back({"no-kiosk-in-prima-bench-kiosks", ""});
    return out;
  }();
  return *kiosks;
}

// A kiosk response `index` from the registered kiosks in turn, with answers
// 2-4 spread over the nine SKM elements.
void FillSubmitResponse(uint64_t index, sv1::SubmitResponseRequest* r) {
  static const std::string* service =
      new std::string(BenchSetting("PRIMA_BENCH_SERVICE", "ktp-el"));
  r->set_request_id(BenchRequestId(index));
  sv1::KioskSubmission* kiosk = r->mutable_kiosk();
  const auto& [kiosk_id, credential] =
      BenchKiosks()[index % BenchKiosks().size()];
  kiosk->set_office_id(BenchOffice());
  kiosk->set_service_id(*service);
  kiosk->set_kiosk_id(kiosk_id);
  kiosk->set_kiosk_credential(credential);
  for (int u = 1; u <= 9; ++u) {
    sv1::Answer* a = r->add_answers();
    a->set_code(absl::StrCat("U", u));
    a->set_value(static_cast<int32_t>(2 + (index + u) % 3));
  }
}

// The bench office's index of the current month (Asia/Jakarta).
void FillGetIndex(uint64_t, sv1::GetIndexRequest* r) {
  static const std::string* month = [] {
    absl::TimeZone wib;
    absl::LoadTimeZone("Asia/Jakarta", &wib);
    return new std::string(absl::FormatTime("%Y-%m", absl::Now(), wib));
  }();
  r->mutable_scope()->set_kind(sv1::SCOPE_KIND_OFFICE);
  r->mutable_scope()->set_id(BenchOffice());
  r->mutable_period()->set_kind(sv1::PERIOD_KIND_MONTH);
  r->mutable_period()->set_key(*month);
}

struct Target {
  std::string name;  // --target
  std::string rpc;   // for the report
  CallerFactory make_caller;
};

// One entry per benchmarked RPC. A service issue adds its hot RPCs here, e.g.
//   {"queue-issue-ticket", "prima.queue.v1.QueueService/IssueTicket",
//    Unary<prima::queue::v1::QueueService>(
//        &prima::queue::v1::QueueService::StubInterface::async_interface::IssueTicket,
//        [](uint64_t i, prima::queue::v1::IssueTicketRequest* r) {
//          r->set_request_id(BenchRequestId(i));  // ...
//        })},
// (with `--token` for RPCs that need one).
const std::vector<Target>& Targets() {
  using grpc::health::v1::Health;
  using prima::catalog::v1::EnrollRequest;
  using prima::catalog::v1::GetCourseRequest;
  using prima::catalog::v1::TrainingService;
  using prima::testing::v1::EchoRequest;
  using prima::testing::v1::EchoService;
  static const auto* targets = new std::vector<Target>{
      {"echo", "prima.testing.v1.EchoService/Echo",
       Unary<EchoService>(&EchoService::StubInterface::async_interface::Echo,
                          [](uint64_t, EchoRequest* request) {
                            request->set_message("prima-bench echo");
                          })},
      {"health", "grpc.health.v1.Health/Check (\"\")",
       Unary<Health>(&Health::StubInterface::async_interface::Check)},
      // Training catalogue (catalog server, --addr 127.0.0.1:50051). Prepare
      // with ./scripts/load-demo (course "pelayanan-prima"); override the
      // course with PRIMA_BENCH_COURSE.
      {"catalog-get-course", "prima.catalog.v1.TrainingService/GetCourse",
       Unary<TrainingService>(
           &TrainingService::StubInterface::async_interface::GetCourse,
           [](uint64_t, GetCourseRequest* r) {
             static const std::string* course = new std::string(
                 BenchSetting("PRIMA_BENCH_COURSE", "pelayanan-prima"));
             r->set_course_id(*course);
           })},
      {"catalog-list-courses", "prima.catalog.v1.TrainingService/ListCourses",
       Unary<TrainingService>(
           &TrainingService::StubInterface::async_interface::ListCourses)},
      // Enroll: one distinct officer per call, spread over the offerings
      // <PRIMA_BENCH_OFFERING>-0 .. -<PRIMA_BENCH_OFFERINGS - 1> (default
      // "bench-offering", 16). Each offering takes 10000 seats + 10000 on the
      // waitlist (then RESOURCE_EXHAUSTED), so create enough of them first:
      // scripts/bench-offerings does (16 offerings of the demo course at
      // dukcapil-dki). Run with a supervisor token of that agency:
      //   --token "$(prima token mint --role supervisor --agency dukcapil-dki)"
      {"catalog-enroll", "prima.catalog.v1.TrainingService/Enroll",
       Unary<TrainingService>(
           &TrainingService::StubInterface::async_interface::Enroll,
           [](uint64_t i, EnrollRequest* r) {
             static const std::string* prefix = new std::string(
                 BenchSetting("PRIMA_BENCH_OFFERING", "bench-offering"));
             static const uint64_t count = [] {
               int n = std::atoi(
                   BenchSetting("PRIMA_BENCH_OFFERINGS", "16").c_str());
               return static_cast<uint64_t>(n > 0 ? n : 1);
             }();
             r->set_offering_id(absl::StrCat(*prefix, "-", i % count));
             r->set_officer_id(BenchOfficerId(i));
             r->set_request_id(BenchRequestId(i));
           })},
      // Queue (queue server, --addr 127.0.0.1:50052) on the bench directory
      // of scripts/bench-queue; see README "### Queue". Anonymous kiosk
      // tickets spread over 8 offices x 4 services.
      {"queue-issue-ticket", "prima.queue.v1.QueueService/IssueTicket",
       Unary<qv1::QueueService>(
           &qv1::QueueService::StubInterface::async_interface::IssueTicket,
           FillIssueTicket)},
      // GetTicket with the receipt secret, over 1000 WAITING tickets the
      // target issues before its first round.
      {"queue-get-ticket", "prima.queue.v1.QueueService/GetTicket",
       GetTicketTarget()},
      // CallNext at the 128 bench counters, each followed by an untimed
      // CompleteService (CallNextCaller). Calls the tickets queue-issue-ticket
      // left: NOT_FOUND errors mean the queues ran dry.
      {"queue-call-next",
       "prima.queue.v1.QueueService/CallNext (+ untimed CompleteService)",
       [](std::shared_ptr<grpc::Channel> channel) -> std::unique_ptr<Caller> {
         return std::make_unique<CallNextCaller>(std::move(channel));
       }},
      // Complaints (complaint server, --addr 127.0.0.1:50053) against the
      // demo agency: anonymous filings, and reads by receipt secret of 1000
      // complaints the target files before its first round.
      {"complaint-file", "prima.complaint.v1.ComplaintService/FileComplaint",
       Unary<cv1::ComplaintService>(&cv1::ComplaintService::StubInterface::
                                        async_interface::FileComplaint,
                                    FillFileComplaint)},
      {"complaint-get", "prima.complaint.v1.ComplaintService/GetComplaint",
       GetComplaintTarget()},
      // Satisfaction (satisfaction server, --addr 127.0.0.1:50054) at the
      // demo office: kiosk SKM responses, and the office's index of the
      // month (its cost does not grow with the responses stored).
      {"satisfaction-submit",
       "prima.satisfaction.v1.SatisfactionService/SubmitResponse",
       Unary<sv1::SatisfactionService>(
           &sv1::SatisfactionService::StubInterface::async_interface::
               SubmitResponse,
           FillSubmitResponse)},
      {"satisfaction-index",
       "prima.satisfaction.v1.SatisfactionService/GetIndex",
       Unary<sv1::SatisfactionService>(
           &sv1::SatisfactionService::StubInterface::async_interface::GetIndex,
           FillGetIndex)},
  };
  return *targets;
}

const Target* FindTarget(absl::string_view name) {
  for (const Target& target : Targets()) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------
// Load generation.
// ---------------------------------------------------------------------------------

constexpr int kCallsPerChannel = 16;
constexpr int kStatusCodes = 17;  // OK .. UNAUTHENTICATED

// One measured round of one target.
struct RoundResult {
  std::string target;
  int round = 0;
  double seconds = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_code;
  double requests_per_second = 0;  // successful calls only
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
};

// N outstanding calls of one target against one address, over ceil(N/16)
// channels that never share a connection. Each call slot issues its next call
// from the completion callback of the previous one.
class LoadRunner {
 public:
  LoadRunner(const Target& target, const std::string& address, int concurrency,
             CallSettings settings)
      : target_(target), address_(address), settings_(std::move(settings)) {
    const int channels =
        (concurrency + kCallsPerChannel - 1) / kCallsPerChannel;
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      // Distinct arguments and a private subchannel pool: one TCP connection
      // each.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("prima.bench_channel", i);
      channels_.push_back(grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args));
      callers_.push_back(target.make_caller(channels_.back()));
    }
    slots_.resize(static_cast<size_t>(concurrency));
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].caller = callers_[i % callers_.size()].get();
    }
  }

  int channel_count() const { return static_cast<int>(channels_.size()); }

  // UNAVAILABLE unless every channel connects within `timeout`.
  absl::Status Connect(absl::Duration timeout) {
    const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
    for (const auto& channel : channels_) {
      if (!channel->WaitForConnected(deadline)) {
        return absl::UnavailableError(absl::StrCat(
            "cannot connect to ", address_, " (", target_.name, ")"));
      }
    }
    return absl::OkStatus();
  }

  RoundResult Run(int round, absl::Duration warmup, absl::Duration duration) {
    for (Slot& slot : slots_) {
      slot.latencies_us.clear();
      slot.errors.fill(0);
    }
    const Clock::time_point start = Clock::now();
    measure_start_ = start + absl::ToChronoNanoseconds(warmup);
    measure_end_ = measure_start_ + absl::ToChronoNanoseconds(duration);
    absl::BlockingCounter finished(static_cast<int>(slots_.size()));
    finished_ = &finished;
    for (Slot& slot : slots_) Issue(&slot);
    finished.Wait();
    finished_ = nullptr;

    RoundResult result;
    result.target = target_.name;
    result.round = round;
    result.seconds = absl::ToDoubleSeconds(duration);
    std::vector<uint32_t> latencies;
    for (const Slot& slot : slots_) {
      latencies.insert(latencies.end(), slot.latencies_us.begin(),
                       slot.latencies_us.end());
      for (int code = 1; code < kStatusCodes; ++code) {
        if (slot.errors[code] == 0) continue;
        result.errors += slot.errors[code];
        result.errors_by_code[absl::StatusCodeToString(
            static_cast<absl::StatusCode>(code))] += slot.errors[code];
      }
    }
    result.ok = static_cast<int64_t>(latencies.size());
    result.requests_per_second =
        static_cast<double>(result.ok) / result.seconds;
    result.p50_ms = Percentile(latencies, 0.50);
    result.p90_ms = Percentile(latencies, 0.90);
    result.p99_ms = Percentile(latencies, 0.99);
    return result;
  }

 private:
  // One outstanding call at a time: its records are only ever touched by the
  // thread running its current callback, so recording needs no lock.
  struct Slot {
    Caller* caller = nullptr;
    Clock::time_point started;
    std::vector<uint32_t> latencies_us;  // successful calls in the window
    std::array<int64_t, kStatusCodes> errors{};
  };

  void Issue(Slot* slot) {
    slot->started = Clock::now();
    slot->caller->Call(
        next_index_.fetch_add(1, std::memory_order_relaxed), settings_,
        [this, slot](const grpc::Status& status) { OnDone(slot, status); });
  }

  void OnDone(Slot* slot, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    if (now >= measure_start_ && now < measure_end_) {
      if (status.ok()) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(
                now - slot->started);
        slot->latencies_us.push_back(static_cast<uint32_t>(micros.count()));
      } else {
        const int code = static_cast<int>(status.error_code());
        slot->errors[code > 0 && code < kStatusCodes
                         ? code
                         : static_cast<int>(grpc::StatusCode::UNKNOWN)]++;
      }
    }
    if (now >= measure_end_) {
      finished_->DecrementCount();
      return;
    }
    Issue(slot);
  }

  // Nearest-rank percentile in milliseconds (0 without samples).
  static double Percentile(std::vector<uint32_t>& values, double p) {
    if (values.empty()) return 0;
    size_t rank = static_cast<size_t>(p * static_cast<double>(values.size()));
    rank = std::min(rank, values.size() - 1);
    std::nth_element(values.begin(), values.begin() + rank, values.end());
    return values[rank] / 1000.0;
  }

  const Target& target_;
  std::string address_;
  CallSettings settings_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<Caller>> callers_;
  std::vector<Slot> slots_;
  std::atomic<uint64_t> next_index_{0};
  Clock::time_point measure_start_;
  Clock::time_point measure_end_;
  absl::BlockingCounter* finished_ = nullptr;
};

// ---------------------------------------------------------------------------------
// The echo server, in this process (echo-server mode) or as a child (run mode).
// ---------------------------------------------------------------------------------

int RunEchoServer(const std::string& listen, const std::string& log_level) {
  // Before any thread exists, so only sigwait sees SIGTERM/SIGINT.
  BlockTerminationSignals();
  absl::StatusOr<LogLevel> level = ParseLogLevel(log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "prima-bench echo-server: --log-level: %s\n",
                 std::string(level.status().message()).c_str());
    return 2;
  }
  SetLogLevel(*level);
  EchoServiceImpl service;
  ServerOptions options;
  options.listen = listen;
  options.drain_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, {&service}, /*initially_serving=*/true);
  if (!server.ok()) {
    std::fprintf(stderr, "prima-bench echo-server: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("listening %d\n", (*server)->port());
  std::fflush(stdout);
  WaitForTerminationSignal();
  (*server)->Shutdown();
  (*server)->Wait();
  return 0;
}

// `prima-bench echo-server` as a child process: started before any gRPC thread
// exists, SIGTERMed (and reaped) when this object goes, and also when this
// process dies.
class EchoChild {
 public:
  static absl::StatusOr<std::unique_ptr<EchoChild>> Spawn(
      absl::Duration startup_timeout) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      return absl::InternalError("echo-server: pipe failed");
    }
    const pid_t parent = getpid();
    const char* const argv[] = {"prima-bench", "echo-server", "--listen",
                                "127.0.0.1:0", nullptr};
    const pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return absl::InternalError("echo-server: fork failed");
    }
    if (pid == 0) {  // async-signal-safe calls only until exec
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      dup2(fds[1], STDOUT_FILENO);
      execv("/proc/self/exe", const_cast<char* const*>(argv));
      _exit(127);
    }
    close(fds[1]);
    std::unique_ptr<EchoChild> child(new EchoChild(pid));
    absl::StatusOr<int> port = ReadPort(fds[0], startup_timeout);
    close(fds[0]);
    if (!port.ok()) return port.status();
    child->port_ = *port;
    return child;
  }

  ~EchoChild() {
    kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  explicit EchoChild(pid_t pid) : pid_(pid) {}

  // Reads the child's "listening <port>" line.
  static absl::StatusOr<int> ReadPort(int fd, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string line;
    while (line.find('\n') == std::string::npos) {
      const absl::Duration left = deadline - absl::Now();
      pollfd pfd{fd, POLLIN, 0};
      if (left <= absl::ZeroDuration() ||
          poll(&pfd, 1,
               static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) {
        return absl::DeadlineExceededError(
            "echo-server: no `listening <port>` line in time");
      }
      char buffer[64];
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) {
        return absl::UnavailableError("echo-server: exited before listening");
      }
      line.append(buffer, static_cast<size_t>(n));
    }
    line.resize(line.find('\n'));
    int port = 0;
    absl::string_view text(line);
    if (!absl::ConsumePrefix(&text, "listening ") ||
        !absl::SimpleAtoi(text, &port) || port <= 0) {
      return absl::InternalError(
          absl::StrCat("echo-server: unexpected output: ", line));
    }
    return port;
  }

  pid_t pid_;
  int port_ = 0;
};

// ---------------------------------------------------------------------------------
// Report.
// ---------------------------------------------------------------------------------

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid]
                                : (values[mid - 1] + values[mid]) / 2;
}

// The median of each figure over the rounds of one target (errors: the total).
RoundResult MedianOf(const std::vector<RoundResult>& rounds,
                     const std::string& target) {
  RoundResult median;
  median.target = target;
  std::vector<double> rps, p50, p90, p99, ok;
  for (const RoundResult& r : rounds) {
    if (r.target != target) continue;
    rps.push_back(r.requests_per_second);
    p50.push_back(r.p50_ms);
    p90.push_back(r.p90_ms);
    p99.push_back(r.p99_ms);
    ok.push_back(static_cast<double>(r.ok));
    median.seconds += r.seconds;
    median.errors += r.errors;
    for (const auto& [code, count] : r.errors_by_code) {
      median.errors_by_code[code] += count;
    }
  }
  median.requests_per_second = Median(rps);
  median.p50_ms = Median(p50);
  median.p90_ms = Median(p90);
  median.p99_ms = Median(p99);
  median.ok = static_cast<int64_t>(Median(ok));
  return median;
}

std::string ErrorsText(const RoundResult& r) {
  if (r.errors == 0) return "0";
  std::vector<std::string> parts;
  for (const auto& [code, count] : r.errors_by_code) {
    parts.push_back(absl::StrCat(code, "=", count));
  }
  return absl::StrCat(r.errors, " (", absl::StrJoin(parts, ","), ")");
}

std::string ResultJson(const RoundResult& r) {
  std::vector<std::string> codes;
  for (const auto& [code, count] : r.errors_by_code) {
    codes.push_back(absl::StrCat("\"", code, "\":", count));
  }
  return absl::StrFormat(
      "{\"target\":\"%s\",\"round\":%d,\"requests_per_second\":%.1f,"
      "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"ok\":%d,"
      "\"errors\":%d,\"errors_by_code\":{%s}}",
      JsonEscape(r.target), r.round, r.requests_per_second, r.p50_ms, r.p90_ms,
      r.p99_ms, r.ok, r.errors, absl::StrJoin(codes, ","));
}

struct RunOptions {
  std::string target;
  std::string addr;
  std::string echo_addr;
  int concurrency = 16;
  std::string duration = "10s";
  std::string warmup = "2s";
  int rounds = 3;
  std::string output = "table";
  double timeout_seconds = 5;
  std::string token;
};

struct RunSetup {
  const Target* target = nullptr;
  std::string address;
  std::string echo_address;  // empty when the target is the echo itself
  bool echo_is_child = false;
  int channels = 0;
  absl::Duration warmup;
  absl::Duration duration;
};

void PrintTable(const RunOptions& options, const RunSetup& setup,
                const std::vector<RoundResult>& rounds) {
  const bool echo_only = setup.echo_address.empty();
  std::printf("target %s: %s at %s%s\n", setup.target->name.c_str(),
              setup.target->rpc.c_str(), setup.address.c_str(),
              echo_only && setup.echo_is_child ? " (child echo-server)" : "");
  if (!setup.echo_address.empty()) {
    std::printf("echo yardstick at %s%s\n", setup.echo_address.c_str(),
                setup.echo_is_child ? " (child echo-server)" : "");
  }
  std::printf(
      "concurrency %d over %d channel(s) per target, warmup %s, duration %s, "
      "%d round(s)\n\n",
      options.concurrency, setup.channels,
      absl::FormatDuration(setup.warmup).c_str(),
      absl::FormatDuration(setup.duration).c_str(), options.rounds);
  const char* kRow = "%-7s %-18s %12s %9s %9s %9s %10s  %s\n";
  std::printf(kRow, "ROUND", "TARGET", "REQUESTS/S", "P50_MS", "P90_MS",
              "P99_MS", "OK", "ERRORS");
  auto print = [&](const std::string& round, const RoundResult& r) {
    std::printf(kRow, round.c_str(), r.target.c_str(),
                absl::StrFormat("%.0f", r.requests_per_second).c_str(),
                absl::StrFormat("%.3f", r.p50_ms).c_str(),
                absl::StrFormat("%.3f", r.p90_ms).c_str(),
                absl::StrFormat("%.3f", r.p99_ms).c_str(),
                absl::StrCat(r.ok).c_str(), ErrorsText(r).c_str());
  };
  for (const RoundResult& r : rounds) print(absl::StrCat(r.round), r);
  std::vector<std::string> names = {"echo"};
  if (setup.target->name != "echo") names.push_back(setup.target->name);
  for (const std::string& name : names) print("median", MedianOf(rounds, name));
  if (setup.target->name != "echo") {
    const double echo = MedianOf(rounds, "echo").requests_per_second;
    const double target =
        MedianOf(rounds, setup.target->name).requests_per_second;
    std::printf("\nratio %s/echo (median requests/s): %.3f\n",
                setup.target->name.c_str(), echo > 0 ? target / echo : 0.0);
  }
}

void PrintJson(const RunOptions& options, const RunSetup& setup,
               const std::vector<RoundResult>& rounds) {
  std::vector<std::string> round_json;
  for (const RoundResult& r : rounds) round_json.push_back(ResultJson(r));
  std::string median =
      absl::StrCat("\"echo\":", ResultJson(MedianOf(rounds, "echo")));
  std::string ratio = "null";
  if (setup.target->name != "echo") {
    const RoundResult target_median = MedianOf(rounds, setup.target->name);
    absl::StrAppend(&median, ",\"", JsonEscape(setup.target->name),
                    "\":", ResultJson(target_median));
    const double echo = MedianOf(rounds, "echo").requests_per_second;
    ratio = absl::StrFormat(
        "%.4f", echo > 0 ? target_median.requests_per_second / echo : 0.0);
  }
  absl::PrintF(
      "{\"target\":\"%s\",\"rpc\":\"%s\",\"address\":\"%s\","
      "\"echo_address\":\"%s\",\"concurrency\":%d,\"channels\":%d,"
      "\"warmup_s\":%.3f,\"duration_s\":%.3f,\"rounds\":[%s],"
      "\"median\":{%s},\"ratio\":%s}\n",
      JsonEscape(setup.target->name), JsonEscape(setup.target->rpc),
      JsonEscape(setup.address), JsonEscape(setup.echo_address),
      options.concurrency, setup.channels, absl::ToDoubleSeconds(setup.warmup),
      absl::ToDoubleSeconds(setup.duration), absl::StrJoin(round_json, ","),
      median, ratio);
}

int RunBenchmark(const RunOptions& options) {
  RunSetup setup;
  setup.target = FindTarget(options.target);
  if (setup.target == nullptr) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--target: unknown target ", options.target)));
  }
  if (!absl::ParseDuration(options.duration, &setup.duration) ||
      setup.duration <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError(
        "--duration: must be a positive duration such as 10s"));
  }
  if (!absl::ParseDuration(options.warmup, &setup.warmup) ||
      setup.warmup < absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError(
        "--warmup: must be a duration such as 2s (0s for none)"));
  }
  const bool target_is_echo = setup.target->name == "echo";
  if (options.addr.empty() && !target_is_echo) {
    return Fail(
        absl::InvalidArgumentError("--addr: required unless --target is echo"));
  }

  // The child first: fork before gRPC starts any thread.
  std::unique_ptr<EchoChild> child;
  std::string echo_address = options.echo_addr;
  if (target_is_echo && !options.addr.empty()) echo_address = options.addr;
  if (echo_address.empty()) {
    absl::StatusOr<std::unique_ptr<EchoChild>> spawned =
        EchoChild::Spawn(absl::Seconds(10));
    if (!spawned.ok()) return Fail(spawned.status());
    child = std::move(*spawned);
    echo_address = child->address();
    setup.echo_is_child = true;
  }
  setup.address = target_is_echo ? echo_address : options.addr;
  if (!target_is_echo) setup.echo_address = echo_address;

  CallSettings settings;
  settings.timeout = absl::Seconds(options.timeout_seconds);
  settings.token = options.token;
  const Target& echo_target = *FindTarget("echo");
  std::unique_ptr<LoadRunner> echo = std::make_unique<LoadRunner>(
      echo_target, echo_address, options.concurrency, settings);
  std::unique_ptr<LoadRunner> target;
  if (!target_is_echo) {
    target = std::make_unique<LoadRunner>(*setup.target, setup.address,
                                          options.concurrency, settings);
  }
  setup.channels = echo->channel_count();
  for (LoadRunner* runner : {echo.get(), target.get()}) {
    if (runner == nullptr) continue;
    if (absl::Status connected = runner->Connect(settings.timeout);
        !connected.ok()) {
      return Fail(connected);
    }
  }

  // Alternate echo and target rounds so both see the same machine.
  std::vector<RoundResult> rounds;
  for (int round = 1; round <= options.rounds; ++round) {
    for (LoadRunner* runner : {echo.get(), target.get()}) {
      if (runner == nullptr) continue;
      rounds.push_back(runner->Run(round, setup.warmup, setup.duration));
      const RoundResult& r = rounds.back();
      std::fprintf(stderr,
                   "round %d/%d %s: %.0f requests/s, p50 %.3f ms, p99 %.3f "
                   "ms, %lld errors\n",
                   round, options.rounds, r.target.c_str(),
                   r.requests_per_second, r.p50_ms, r.p99_ms,
                   static_cast<long long>(r.errors));
    }
  }
  target.reset();
  echo.reset();

  if (options.output == "json") {
    PrintJson(options, setup, rounds);
  } else {
    PrintTable(options, setup, rounds);
  }
  return 0;
}

std::vector<std::string> TargetNames() {
  std::vector<std::string> names;
  for (const Target& target : Targets()) names.push_back(target.name);
  return names;
}

int Main(int argc, char** argv) {
  CLI::App app("prima-bench: unary RPC load against the echo yardstick",
               "prima-bench");
  app.require_subcommand(1);

  std::string listen = "127.0.0.1:0";
  std::string log_level = "warn";
  CLI::App* echo_server = app.add_subcommand(
      "echo-server",
      "Serve prima.testing.v1.EchoService on the shared bootstrap; prints "
      "`listening <port>`, stops on SIGTERM/SIGINT");
  echo_server->add_option("--listen", listen, "host:port (port 0: any free)")
      ->capture_default_str();
  echo_server
      ->add_option("--log-level", log_level,
                   "info logs one line per RPC, like the services")
      ->envname("PRIMA_LOG_LEVEL")
      ->capture_default_str();

  RunOptions options;
  CLI::App* run = app.add_subcommand(
      "run", "Drive one unary RPC, alternating rounds with the echo yardstick");
  run->add_option("--target", options.target, "the RPC to drive")
      ->required()
      ->check(CLI::IsMember(TargetNames()));
  run->add_option("--addr", options.addr,
                  "server under test, host:port (for echo: default a child "
                  "echo-server)");
  run->add_option("--echo-addr", options.echo_addr,
                  "echo-server to measure against (default: start a child)");
  run->add_option("--concurrency", options.concurrency, "outstanding calls")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  run->add_option("--duration", options.duration, "measured time per round")
      ->capture_default_str();
  run->add_option("--warmup", options.warmup,
                  "unmeasured time before each round")
      ->capture_default_str();
  run->add_option("--rounds", options.rounds, "rounds per target")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  run->add_option("--output", options.output, "report format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  run->add_option("--timeout", options.timeout_seconds,
                  "deadline of each call, in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run->add_option("--token", options.token,
                  "JWT sent as `authorization: Bearer` on every call")
      ->envname("PRIMA_TOKEN");

  RedisBenchOptions redis_options;
  std::string redis_duration = "5s";
  CLI::App* redis = app.add_subcommand(
      "redis",
      "Drive the shared Redis client directly (no gRPC): the Redis layer's "
      "ceiling");
  redis->add_option("--redis-url", redis_options.redis_url, "Redis to load")
      ->envname("PRIMA_REDIS_URL")
      ->capture_default_str();
  redis
      ->add_option("--concurrency", redis_options.concurrency,
                   "outstanding commands")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  redis->add_option("--duration", redis_duration, "measured time")
      ->capture_default_str();
  redis->add_option("--script", redis_options.script, "what each command is")
      ->check(CLI::IsMember({"ping", "ticket"}))
      ->capture_default_str();

  QueueMemoryOptions memory_options;
  CLI::App* queue_memory = app.add_subcommand(
      "queue-memory",
      "Redis memory per WAITING ticket: issues tickets through the real "
      "QueueStore (use a throwaway Redis)");
  queue_memory
      ->add_option("--redis-url", memory_options.redis_url, "Redis to fill")
      ->required();
  queue_memory->add_option("--tickets", memory_options.tickets)
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();

  SatisfactionFillOptions fill_options;
  CLI::App* satisfaction_fill = app.add_subcommand(
      "satisfaction-fill",
      "Stores kiosk SKM responses through the real SatisfactionStore, for "
      "satisfaction-index to read at scale; prints the rate, memory and Redis "
      "time per response (use a throwaway Redis)");
  satisfaction_fill
      ->add_option("--redis-url", fill_options.redis_url, "Redis to fill")
      ->required();
  satisfaction_fill->add_option("--responses", fill_options.responses)
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  satisfaction_fill
      ->add_option("--agency", fill_options.agency, "the office's agency")
      ->envname("PRIMA_BENCH_AGENCY")
      ->capture_default_str();
  satisfaction_fill->add_option("--office", fill_options.office)
      ->envname("PRIMA_BENCH_OFFICE")
      ->capture_default_str();
  satisfaction_fill->add_option("--service", fill_options.service)
      ->envname("PRIMA_BENCH_SERVICE")
      ->capture_default_str();
  satisfaction_fill
      ->add_option("--days", fill_options.days,
                   "spread over the last D days of the current month "
                   "(Asia/Jakarta), today included, never before the 1st")
      ->check(CLI::Range(1, 31))
      ->capture_default_str();

  QueueWatchOptions watch_options;
  CLI::App* queue_watch = app.add_subcommand(
      "queue-watch",
      "WatchOffice delivery latency: watchers on the bench watch office, then "
      "IssueTicket + CallNext + CompleteService rounds");
  queue_watch->add_option("--addr", watch_options.addr, "queue server")
      ->capture_default_str();
  queue_watch->add_option("--call-addr", watch_options.call_addr,
                          "queue server for the calls (default: --addr)");
  queue_watch->add_option("--watchers", watch_options.watchers)
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  queue_watch->add_option("--calls", watch_options.calls)
      ->check(CLI::Range(1, 9000))
      ->capture_default_str();
  queue_watch
      ->add_option("--interval", watch_options.interval, "pause between calls")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (echo_server->parsed()) return RunEchoServer(listen, log_level);
  if (queue_memory->parsed()) return RunQueueMemory(memory_options);
  if (queue_watch->parsed()) return RunQueueWatch(watch_options);
  if (satisfaction_fill->parsed()) return RunSatisfactionFill(fill_options);
  if (redis->parsed()) {
    if (!absl::ParseDuration(redis_duration, &redis_options.duration)) {
      std::fprintf(stderr, "error: --duration: not a duration: %s\n",
                   redis_duration.c_str());
      return 2;
    }
    return RunRedisBench(redis_options);
  }
  return RunBenchmark(options);
}

}  // namespace
}  // namespace prima::bench

int main(int argc, char** argv) { return prima::bench::Main(argc, argv); }
