#include "services/queue/queue_service.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "services/common/adapter.h"
#include "services/common/directory_reader.h"
#include "services/common/error_info.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/proto_time.h"
#include "services/common/rpc.h"
#include "services/common/validation.h"
#include "services/queue/queue_rules.h"
#include "services/queue/queue_store.h"

namespace prima::queue {

namespace v1 = prima::queue::v1;
namespace cat = prima::catalog::v1;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

std::vector<RpcPolicy> QueuePolicies() {
  const RoleSet managers =
      Roles({Role::kSupervisor, Role::kAgencyAdmin, Role::kRegionAdmin});
  return {
      {"IssueTicket", true},
      {"GetTicket", true},
      {"CancelTicket", true},
      {"WatchTicket", true},
      {"ListAvailableSlots", true},
      {"BookAppointment", true},
      {"GetAppointment", true},
      {"CancelAppointment", true},
      {"CheckIn", true},
      {"UpdateAppointmentSettings", false, managers, false},
      {"OpenCounter", false, kAllStaff, false},
      {"CloseCounter", false, kAllStaff, false},
      {"PauseCounter", false, kAllStaff, false},
      {"ResumeCounter", false, kAllStaff, false},
      {"GetCounterSession", false, kAllStaff, false},
      {"CallNext", false, kAllStaff, false},
      {"Recall", false, kAllStaff, false},
      {"MarkNoShow", false, kAllStaff, false},
      {"StartService", false, kAllStaff, false},
      {"CompleteService", false, kAllStaff, false},
      {"TransferTicket", false, kAllStaff, false},
      {"WatchOffice", true},
      {"GetQueueStats", false, managers, false},
  };
}

namespace {

QueueActor ActorOf(const Principal& p, absl::string_view request_id) {
  QueueActor actor;
  actor.subject = p.subject;
  actor.request_id = std::string(request_id);
  actor.request_fingerprint = p.request_fingerprint;
  actor.actor = ActorProto(p);
  return actor;
}

// What the caller brings to reach one ticket or appointment.
AccessProof ProofOf(const Principal& p, const std::string& secret) {
  AccessProof proof;
  proof.secret = secret;
  if (p.Has(Role::kCitizen)) proof.subject = p.subject;
  if (p.Has(Role::kRegionAdmin)) {
    // push_back: GCC 12 warns (-Wrestrict, a known false positive) when a
    // one-character literal is assigned here.
    proof.staff_agency.push_back('*');
  } else if (p.HasAny(kAllStaff)) {
    proof.staff_agency = p.agency;
  }
  return proof;
}

CounterInfo InfoOf(const cat::Counter& counter) {
  CounterInfo info;
  info.id = counter.id();
  info.office_id = counter.office_id();
  info.agency_id = counter.agency_id();
  info.name = counter.name();
  info.priority = counter.priority();
  info.service_ids.assign(counter.service_ids().begin(),
                          counter.service_ids().end());
  return info;
}

bool ServesService(const std::vector<cat::Counter>& counters,
                   absl::string_view service_id) {
  for (const cat::Counter& c : counters) {
    for (const std::string& s : c.service_ids()) {
      if (s == service_id) return true;
    }
  }
  return false;
}

std::string OpeningHoursText(const cat::Office& office) {
  std::vector<std::string> parts;
  for (const cat::OpeningInterval& i : office.opening_hours()) {
    parts.push_back(absl::StrFormat(
        "%s %02d:%02d-%02d:%02d",
        absl::StripPrefix(cat::Weekday_Name(i.weekday()), "WEEKDAY_"),
        i.open_minute() / 60, i.open_minute() % 60, i.close_minute() / 60,
        i.close_minute() % 60));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

// The office's day at `now`, or FAILED_PRECONDITION naming its opening hours
// when it is closed (IssueTicket and CheckIn need it open).
absl::StatusOr<OfficeNow> OpenNow(const cat::Office& office, absl::Time now) {
  absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(office);
  if (!zone.ok()) return zone.status();
  OfficeNow day = OfficeNowAt(office, *zone, now);
  if (!day.open || !day.closing_time.has_value()) {
    std::vector<std::pair<std::string, std::string>> facts = {
        {"office_id", office.id()}, {"time_zone", office.time_zone()}};
    if (std::optional<absl::Time> next = NextOpening(office, *zone, now)) {
      facts.emplace_back(
          "next_opening_time",
          absl::FormatTime(absl::RFC3339_sec, *next, absl::UTCTimeZone()));
    }
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "office ", office.id(), " is closed now; opening hours (",
            office.time_zone(), "): ", OpeningHoursText(office))),
        "OFFICE_CLOSED", facts);
  }
  return day;
}

class QueueServiceImpl final : public v1::QueueService::CallbackService {
 public:
  QueueServiceImpl(const ServiceEnvironment& env, const QueueOptions& options)
      : auth_(&env.verifier, &env.clock, QueuePolicies()),
        clock_(env.clock),
        directory_(env.redis, env.config.redis, env.clock),
        config_(env.config),
        store_(env.redis, env.clock, env.config.receipt_keys),
        live_(store_, env.config.redis, env.clock,
              WithWatcherMetrics(options.live, env.metrics)),
        metrics_(env.metrics),
        sweep_interval_(options.sweep_interval),
        waiting_metrics_interval_(options.waiting_metrics_interval) {}

  ~QueueServiceImpl() override { Stop(); }

  void Start() {
    directory_.Start();
    live_.Start();
    sweeper_ = std::thread([this] { Sweep(); });
    waiting_reporter_ = std::thread([this] { ReportWaiting(); });
  }

  // Ends the live streams (UNAVAILABLE) so the server's drain is not held up.
  void Drain() { live_.Stop(); }

  void Stop() {
    if (stopped_.exchange(true)) return;
    stop_.Notify();
    if (sweeper_.joinable()) sweeper_.join();
    if (waiting_reporter_.joinable()) waiting_reporter_.join();
    live_.Stop();
    directory_.Stop();
  }

  QueueStore& store() { return store_; }

  // ---- citizens ----

  // `actor` counted against `rpc`'s rate limits for its caller and office.
  QueueActor RateLimited(QueueActor actor, const grpc::ServerContextBase& ctx,
                         const Principal& caller, absl::string_view rpc,
                         absl::string_view office_id) const {
    actor.rate_checks =
        CallRateChecks(config_, ctx, caller, "queue", rpc, office_id);
    return actor;
  }

  ServerUnaryReactor* IssueTicket(CallbackServerContext* ctx,
                                  const v1::IssueTicketRequest* req,
                                  v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "IssueTicket");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "IssueTicket", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("service_id", req->service_id()));
    absl::StatusOr<v1::PriorityClass> klass =
        ValidateIssueClass(req->channel(), req->priority_class());
    if (!klass.ok()) return call->Finish(klass.status());
    auto* reactor = call->reactor();
    IssueParams params;
    params.office_id = req->office_id();
    params.service_id = req->service_id();
    params.channel = req->channel();
    params.priority_class = *klass;
    if (p->Has(Role::kCitizen)) params.citizen_subject = p->subject;
    WithOfficeAndService(
        req->office_id(), req->service_id(), std::move(call),
        [this, resp, params = std::move(params),
         actor = RateLimited(ActorOf(*p, req->request_id()), *ctx, *p,
                             "IssueTicket", req->office_id())](
            std::unique_ptr<UnaryCall> call, cat::Office office,
            cat::PublicService service) mutable {
          params.agency_id = office.agency_id();
          params.ticket_prefix = service.ticket_prefix();
          params.target_waiting_minutes = service.target_waiting_minutes();
          IssueAtOffice(std::move(call), std::move(office), std::move(params),
                        std::move(actor), resp);
        });
    return reactor;
  }

  ServerUnaryReactor* GetTicket(CallbackServerContext* ctx,
                                const v1::GetTicketRequest* req,
                                v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetTicket");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetTicket", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("ticket_id", req->ticket_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    store_.GetTicket(req->ticket_id(), ProofOf(*p, req->receipt_secret()),
                     ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* CancelTicket(CallbackServerContext* ctx,
                                   const v1::CancelTicketRequest* req,
                                   v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CancelTicket");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "CancelTicket", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("ticket_id", req->ticket_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    store_.CancelTicket(req->ticket_id(), ProofOf(*p, req->receipt_secret()),
                        ActorOf(*p, req->request_id()),
                        ReplyInto(std::move(call), resp));
    return reactor;
  }

  grpc::ServerWriteReactor<v1::TicketUpdate>* WatchTicket(
      CallbackServerContext* ctx, const v1::WatchTicketRequest* req) override {
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "WatchTicket", "", *req);
    absl::Status status = p.status();
    if (status.ok()) status = ValidateId("ticket_id", req->ticket_id());
    if (status.ok()) status = ValidateReceiptSecret(req->receipt_secret());
    if (!status.ok()) return FailedStream<v1::TicketUpdate>(status);
    return live_.WatchTicket(ctx, req->ticket_id(),
                             ProofOf(*p, req->receipt_secret()));
  }

  // ---- appointments ----

  ServerUnaryReactor* ListAvailableSlots(
      CallbackServerContext* ctx, const v1::ListAvailableSlotsRequest* req,
      v1::ListAvailableSlotsResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListAvailableSlots");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "ListAvailableSlots", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("service_id", req->service_id()));
    absl::StatusOr<absl::CivilDay> day = FromLocalDate("date", req->date());
    if (!day.ok()) return call->Finish(day.status());
    auto* reactor = call->reactor();
    WithOfficeAndService(
        req->office_id(), req->service_id(), std::move(call),
        [this, resp, day = *day](std::unique_ptr<UnaryCall> call,
                                 cat::Office office,
                                 cat::PublicService service) mutable {
          absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(office);
          if (!zone.ok()) return (void)call->Finish(zone.status());
          const std::string office_id = office.id();
          store_.GetSlotBookings(
              office_id, service.id(), day,
              [this, call = std::move(call), resp, day, zone = *zone,
               office = std::move(office)](
                  absl::StatusOr<SlotBookings> bookings) mutable {
                if (!bookings.ok()) {
                  return (void)call->Finish(bookings.status());
                }
                const absl::Time now = clock_.Now();
                const v1::AppointmentSettings& settings = bookings->settings;
                for (const Interval& slot :
                     SlotsOf(office, zone, day, settings.slot_minutes())) {
                  v1::Slot* out = resp->add_slots();
                  *out->mutable_start_time() = ToProtoTime(slot.start);
                  *out->mutable_end_time() = ToProtoTime(slot.end);
                  out->set_capacity(settings.capacity_per_slot());
                  auto it =
                      bookings->booked.find(absl::ToUnixMillis(slot.start));
                  out->set_booked(it == bookings->booked.end() ? 0
                                                               : it->second);
                  out->set_available(
                      slot.start <= now
                          ? 0
                          : std::max(0, out->capacity() - out->booked()));
                }
                *resp->mutable_settings() = settings;
                call->Finish(absl::OkStatus());
              });
        });
    return reactor;
  }

  ServerUnaryReactor* BookAppointment(CallbackServerContext* ctx,
                                      const v1::BookAppointmentRequest* req,
                                      v1::Appointment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "BookAppointment");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "BookAppointment", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("service_id", req->service_id()));
    if (!req->has_slot_start_time()) {
      return call->Finish(absl::InvalidArgumentError(
          "slot_start_time: is required (a slot start from "
          "ListAvailableSlots)"));
    }
    auto* reactor = call->reactor();
    WithOfficeAndService(
        req->office_id(), req->service_id(), std::move(call),
        [this, resp, slot_start = ToAbslTime(req->slot_start_time()),
         subject = p->Has(Role::kCitizen) ? p->subject : std::string(),
         actor = RateLimited(ActorOf(*p, req->request_id()), *ctx, *p,
                             "BookAppointment", req->office_id())](
            std::unique_ptr<UnaryCall> call, cat::Office office,
            cat::PublicService service) mutable {
          absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(office);
          if (!zone.ok()) return (void)call->Finish(zone.status());
          const absl::CivilDay day = absl::ToCivilDay(slot_start, *zone);
          const std::string office_id = office.id();
          const std::string service_id = service.id();
          store_.GetSlotBookings(
              office_id, service_id, day,
              [this, call = std::move(call), resp, slot_start, day,
               zone = *zone, office = std::move(office),
               service = std::move(service), subject = std::move(subject),
               actor = std::move(actor)](
                  absl::StatusOr<SlotBookings> bookings) mutable {
                if (!bookings.ok()) {
                  return (void)call->Finish(bookings.status());
                }
                const v1::AppointmentSettings& settings = bookings->settings;
                if (settings.capacity_per_slot() == 0) {
                  return (void)call->Finish(
                      absl::FailedPreconditionError(absl::StrCat(
                          "service ", service.id(),
                          " takes no appointments at office ", office.id())));
                }
                absl::StatusOr<Interval> slot = CheckBookableSlot(
                    office, zone, slot_start, clock_.Now(), settings);
                if (!slot.ok()) return (void)call->Finish(slot.status());
                BookParams params;
                params.office_id = office.id();
                params.agency_id = office.agency_id();
                params.service_id = service.id();
                params.slot_start = slot->start;
                params.slot_end = slot->end;
                params.local_date = day;
                params.capacity = settings.capacity_per_slot();
                params.citizen_subject = subject;
                store_.BookAppointment(params, actor,
                                       ReplyInto(std::move(call), resp));
              });
        });
    return reactor;
  }

  ServerUnaryReactor* GetAppointment(CallbackServerContext* ctx,
                                     const v1::GetAppointmentRequest* req,
                                     v1::Appointment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetAppointment");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetAppointment", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("appointment_id", req->appointment_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    store_.GetAppointment(req->appointment_id(),
                          ProofOf(*p, req->receipt_secret()),
                          ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* CancelAppointment(CallbackServerContext* ctx,
                                        const v1::CancelAppointmentRequest* req,
                                        v1::Appointment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CancelAppointment");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "CancelAppointment", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("appointment_id", req->appointment_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    store_.CancelAppointment(
        req->appointment_id(), ProofOf(*p, req->receipt_secret()),
        ActorOf(*p, req->request_id()), ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* CheckIn(CallbackServerContext* ctx,
                              const v1::CheckInRequest* req,
                              v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CheckIn");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "CheckIn", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("appointment_id", req->appointment_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    AccessProof proof = ProofOf(*p, req->receipt_secret());
    store_.GetAppointment(
        req->appointment_id(), proof,
        [this, call = std::move(call), resp, proof,
         actor = ActorOf(*p, req->request_id())](
            absl::StatusOr<v1::Appointment> appointment) mutable {
          if (!appointment.ok()) {
            return (void)call->Finish(appointment.status());
          }
          if (appointment->status() != v1::APPOINTMENT_STATUS_BOOKED) {
            return (void)call->Finish(absl::FailedPreconditionError(
                absl::StrCat("appointment ", appointment->id(), " is ",
                             v1::AppointmentStatus_Name(appointment->status()),
                             "; only a BOOKED appointment can check in")));
          }
          const std::string office_id = appointment->office_id();
          const std::string service_id = appointment->service_id();
          WithOfficeAndService(
              office_id, service_id, std::move(call),
              [this, resp, proof = std::move(proof), actor = std::move(actor),
               appointment = std::move(*appointment)](
                  std::unique_ptr<UnaryCall> call, cat::Office office,
                  cat::PublicService service) mutable {
                CheckInAtOffice(std::move(call), std::move(office),
                                std::move(service), std::move(appointment),
                                std::move(proof), std::move(actor), resp);
              });
        });
    return reactor;
  }

  ServerUnaryReactor* UpdateAppointmentSettings(
      CallbackServerContext* ctx,
      const v1::UpdateAppointmentSettingsRequest* req,
      v1::AppointmentSettings* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "UpdateAppointmentSettings");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "UpdateAppointmentSettings", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateId("settings.office_id", req->settings().office_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateId("settings.service_id", req->settings().service_id()));
    // Unset fields take the defaults of queue.proto.
    const v1::AppointmentSettings settings =
        WithDefaults(req->settings(), true);
    RETURN_IF_ERROR_FINISH(call, ValidateAppointmentSettings(settings));
    auto* reactor = call->reactor();
    WithOfficeAndService(
        req->settings().office_id(), req->settings().service_id(),
        std::move(call),
        [this, resp, p = *p, settings, actor = ActorOf(*p, req->request_id())](
            std::unique_ptr<UnaryCall> call, cat::Office office,
            cat::PublicService) mutable {
          if (absl::Status s = CheckSameAgency(p, office.agency_id());
              !s.ok()) {
            return (void)call->Finish(s);
          }
          store_.UpdateAppointmentSettings(settings, actor,
                                           ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

  // ---- officers ----

  ServerUnaryReactor* OpenCounter(CallbackServerContext* ctx,
                                  const v1::OpenCounterRequest* req,
                                  v1::CounterSession* resp) override {
    return CounterOp(ctx, *req, "OpenCounter", req->request_id(),
                     req->counter_id(), resp, CounterChange::kOpen);
  }
  ServerUnaryReactor* CloseCounter(CallbackServerContext* ctx,
                                   const v1::CloseCounterRequest* req,
                                   v1::CounterSession* resp) override {
    return CounterOp(ctx, *req, "CloseCounter", req->request_id(),
                     req->counter_id(), resp, CounterChange::kClose);
  }
  ServerUnaryReactor* PauseCounter(CallbackServerContext* ctx,
                                   const v1::PauseCounterRequest* req,
                                   v1::CounterSession* resp) override {
    return CounterOp(ctx, *req, "PauseCounter", req->request_id(),
                     req->counter_id(), resp, CounterChange::kPause);
  }
  ServerUnaryReactor* ResumeCounter(CallbackServerContext* ctx,
                                    const v1::ResumeCounterRequest* req,
                                    v1::CounterSession* resp) override {
    return CounterOp(ctx, *req, "ResumeCounter", req->request_id(),
                     req->counter_id(), resp, CounterChange::kResume);
  }

  ServerUnaryReactor* GetCounterSession(CallbackServerContext* ctx,
                                        const v1::GetCounterSessionRequest* req,
                                        v1::CounterSession* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetCounterSession");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "GetCounterSession", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("counter_id", req->counter_id()));
    auto* reactor = call->reactor();
    WithCounter(
        *p, req->counter_id(), std::move(call),
        [this, resp](std::unique_ptr<UnaryCall> call, CounterInfo counter) {
          store_.GetCounterSession(counter, ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

  ServerUnaryReactor* CallNext(CallbackServerContext* ctx,
                               const v1::CallNextRequest* req,
                               v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CallNext");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "CallNext", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("counter_id", req->counter_id()));
    auto* reactor = call->reactor();
    WithCounter(*p, req->counter_id(), std::move(call),
                [this, resp, actor = ActorOf(*p, req->request_id())](
                    std::unique_ptr<UnaryCall> call, CounterInfo counter) {
                  store_.CallNext(counter, actor,
                                  ReplyInto(std::move(call), resp));
                });
    return reactor;
  }

  ServerUnaryReactor* Recall(CallbackServerContext* ctx,
                             const v1::TicketActionRequest* req,
                             v1::Ticket* resp) override {
    return TicketOp(ctx, "Recall", *req, TicketAction::kRecall, resp);
  }
  ServerUnaryReactor* MarkNoShow(CallbackServerContext* ctx,
                                 const v1::TicketActionRequest* req,
                                 v1::Ticket* resp) override {
    return TicketOp(ctx, "MarkNoShow", *req, TicketAction::kNoShow, resp);
  }
  ServerUnaryReactor* StartService(CallbackServerContext* ctx,
                                   const v1::TicketActionRequest* req,
                                   v1::Ticket* resp) override {
    return TicketOp(ctx, "StartService", *req, TicketAction::kStartService,
                    resp);
  }

  ServerUnaryReactor* CompleteService(CallbackServerContext* ctx,
                                      const v1::CompleteServiceRequest* req,
                                      v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CompleteService");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "CompleteService", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateTicketAction(req->request_id(), req->counter_id(),
                                   req->ticket_id()));
    if (req->outcome() == v1::SERVICE_OUTCOME_UNSPECIFIED ||
        !v1::ServiceOutcome_IsValid(req->outcome())) {
      return call->Finish(absl::InvalidArgumentError(
          "outcome: must be DONE, INCOMPLETE_REQUIREMENTS or REFERRED"));
    }
    auto* reactor = call->reactor();
    WithCounter(
        *p, req->counter_id(), std::move(call),
        [this, resp, ticket = req->ticket_id(), outcome = req->outcome(),
         actor = ActorOf(*p, req->request_id())](
            std::unique_ptr<UnaryCall> call, CounterInfo counter) {
          store_.CompleteService(counter, ticket, outcome, actor,
                                 ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

  ServerUnaryReactor* TransferTicket(CallbackServerContext* ctx,
                                     const v1::TransferTicketRequest* req,
                                     v1::Ticket* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "TransferTicket");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "TransferTicket", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateTicketAction(req->request_id(), req->counter_id(),
                                   req->ticket_id()));
    switch (req->target_case()) {
      case v1::TransferTicketRequest::kToServiceId:
        RETURN_IF_ERROR_FINISH(
            call, ValidateId("to_service_id", req->to_service_id()));
        break;
      case v1::TransferTicketRequest::kToCounterId:
        RETURN_IF_ERROR_FINISH(
            call, ValidateId("to_counter_id", req->to_counter_id()));
        if (req->to_counter_id() == req->counter_id()) {
          return call->Finish(absl::InvalidArgumentError(
              "to_counter_id: must be another counter than counter_id"));
        }
        break;
      default:
        return call->Finish(absl::InvalidArgumentError(
            "target: set to_service_id or to_counter_id"));
    }
    auto* reactor = call->reactor();
    WithCounter(
        *p, req->counter_id(), std::move(call),
        [this, resp, req, actor = ActorOf(*p, req->request_id())](
            std::unique_ptr<UnaryCall> call, CounterInfo counter) mutable {
          ResolveTransferTarget(
              std::move(call), std::move(counter), *req,
              [this, resp, ticket = req->ticket_id(), actor = std::move(actor)](
                  std::unique_ptr<UnaryCall> call, CounterInfo counter,
                  TransferTarget target) {
                store_.TransferTicket(counter, ticket, target, actor,
                                      ReplyInto(std::move(call), resp));
              });
        });
    return reactor;
  }

  // ---- boards and statistics ----

  grpc::ServerWriteReactor<v1::BoardUpdate>* WatchOffice(
      CallbackServerContext* ctx, const v1::WatchOfficeRequest* req) override {
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "WatchOffice", "", *req);
    absl::Status status = p.status();
    if (status.ok()) status = ValidateId("office_id", req->office_id());
    if (!status.ok()) return FailedStream<v1::BoardUpdate>(status);
    // The office must exist; the stream's first message waits for the answer.
    return live_.WatchOffice(
        ctx, req->office_id(),
        [this,
         id = req->office_id()](absl::AnyInvocable<void(absl::Status)> done) {
          directory_.GetOffice(id,
                               [done = std::move(done)](
                                   absl::StatusOr<cat::Office> office) mutable {
                                 done(office.status());
                               });
        });
  }

  ServerUnaryReactor* GetQueueStats(CallbackServerContext* ctx,
                                    const v1::GetQueueStatsRequest* req,
                                    v1::QueueStats* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetQueueStats");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetQueueStats", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("service_id", req->service_id()));
    absl::StatusOr<absl::CivilDay> date = FromLocalDate("date", req->date());
    if (!date.ok()) return call->Finish(date.status());
    auto* reactor = call->reactor();
    directory_.GetOffice(
        req->office_id(), [this, call = std::move(call), resp, p = *p,
                           date = *date, service = req->service_id()](
                              absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return (void)call->Finish(office.status());
          call->set_agency(office->agency_id());
          if (absl::Status s = CheckSameAgency(p, office->agency_id());
              !s.ok()) {
            return (void)call->Finish(s);
          }
          store_.GetStats(office->id(), date, service,
                          ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

 private:
  using CounterNext =
      absl::AnyInvocable<void(std::unique_ptr<UnaryCall>, CounterInfo)>;

  using OfficeServiceNext = absl::AnyInvocable<void(
      std::unique_ptr<UnaryCall>, cat::Office, cat::PublicService)>;

  // The office and one of its agency's services from the directory
  // (NOT_FOUND naming service_id when the service is another agency's).
  void WithOfficeAndService(const std::string& office_id,
                            const std::string& service_id,
                            std::unique_ptr<UnaryCall> call,
                            OfficeServiceNext next) {
    directory_.GetOffice(
        office_id,
        [this, call = std::move(call), service_id,
         next = std::move(next)](absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return (void)call->Finish(office.status());
          call->set_agency(office->agency_id());
          directory_.GetPublicService(
              service_id,
              [call = std::move(call), next = std::move(next),
               office = std::move(*office)](
                  absl::StatusOr<cat::PublicService> service) mutable {
                if (!service.ok()) return (void)call->Finish(service.status());
                if (service->agency_id() != office.agency_id()) {
                  return (void)call->Finish(absl::NotFoundError(absl::StrCat(
                      "service_id: ", service->id(),
                      " is not a service of office ", office.id())));
                }
                next(std::move(call), std::move(office), std::move(*service));
              });
        });
  }

  // The rest of CheckIn: the office must be open, and the check-in on the
  // slot's day (on time or late, by the service's grace period).
  void CheckInAtOffice(std::unique_ptr<UnaryCall> call, cat::Office office,
                       cat::PublicService service, v1::Appointment appointment,
                       AccessProof proof, QueueActor actor, v1::Ticket* resp) {
    const std::string office_id = office.id();
    const std::string service_id = service.id();
    // Only the settings are needed; any day's read carries them.
    const absl::CivilDay slot_day(appointment.local_date().year(),
                                  appointment.local_date().month(),
                                  appointment.local_date().day());
    store_.GetSlotBookings(
        office_id, service_id, slot_day,
        [this, call = std::move(call), office = std::move(office),
         service = std::move(service), appointment = std::move(appointment),
         proof = std::move(proof), actor = std::move(actor),
         resp](absl::StatusOr<SlotBookings> bookings) mutable {
          if (!bookings.ok()) return (void)call->Finish(bookings.status());
          const absl::Time now_time = clock_.Now();
          absl::StatusOr<OfficeNow> now = OpenNow(office, now_time);
          if (!now.ok()) return (void)call->Finish(now.status());
          absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(office);
          if (!zone.ok()) return (void)call->Finish(zone.status());
          absl::StatusOr<CheckInKind> kind =
              CheckInAt(ToAbslTime(appointment.slot_start_time()), now_time,
                        *zone, bookings->settings.check_in_grace_minutes());
          if (!kind.ok()) return (void)call->Finish(kind.status());
          CheckInParams params;
          params.ticket_prefix = service.ticket_prefix();
          params.target_waiting_minutes = service.target_waiting_minutes();
          params.local_date = now->local_date;
          params.expire_time = *now->closing_time;
          params.on_time = *kind == CheckInKind::kOnTime;
          store_.CheckIn(appointment.id(), proof, params, actor,
                         ReplyInto(std::move(call), resp));
        });
  }

  // The counter from the directory, once the caller may act on it (staff of
  // its agency).
  void WithCounter(const Principal& p, const std::string& counter_id,
                   std::unique_ptr<UnaryCall> call, CounterNext next) {
    directory_.GetCounter(
        counter_id, [p, call = std::move(call), next = std::move(next)](
                        absl::StatusOr<cat::Counter> counter) mutable {
          if (!counter.ok()) return (void)call->Finish(counter.status());
          call->set_agency(counter->agency_id());
          if (absl::Status s = CheckSameAgency(p, counter->agency_id());
              !s.ok()) {
            return (void)call->Finish(s);
          }
          next(std::move(call), InfoOf(*counter));
        });
  }

  ServerUnaryReactor* CounterOp(CallbackServerContext* ctx,
                                const google::protobuf::Message& request,
                                absl::string_view method,
                                const std::string& request_id,
                                const std::string& counter_id,
                                v1::CounterSession* resp,
                                CounterChange change) {
    auto call = std::make_unique<UnaryCall>(ctx, method);
    call->set_idempotency_key(request_id);
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, method, "", request);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateRequestId("request_id", request_id));
    RETURN_IF_ERROR_FINISH(call, ValidateId("counter_id", counter_id));
    auto* reactor = call->reactor();
    WithCounter(*p, counter_id, std::move(call),
                [this, resp, change, actor = ActorOf(*p, request_id)](
                    std::unique_ptr<UnaryCall> call, CounterInfo counter) {
                  store_.ChangeCounter(change, counter, actor,
                                       ReplyInto(std::move(call), resp));
                });
    return reactor;
  }

  static absl::Status ValidateTicketAction(absl::string_view request_id,
                                           absl::string_view counter_id,
                                           absl::string_view ticket_id) {
    if (absl::Status s = ValidateRequestId("request_id", request_id); !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateId("counter_id", counter_id); !s.ok()) {
      return s;
    }
    return ValidateId("ticket_id", ticket_id);
  }

  ServerUnaryReactor* TicketOp(CallbackServerContext* ctx,
                               absl::string_view method,
                               const v1::TicketActionRequest& req,
                               TicketAction action, v1::Ticket* resp) {
    auto call = std::make_unique<UnaryCall>(ctx, method);
    call->set_idempotency_key(req.request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, method, "", req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateTicketAction(req.request_id(), req.counter_id(),
                                   req.ticket_id()));
    auto* reactor = call->reactor();
    WithCounter(*p, req.counter_id(), std::move(call),
                [this, resp, action, ticket = req.ticket_id(),
                 actor = ActorOf(*p, req.request_id())](
                    std::unique_ptr<UnaryCall> call, CounterInfo counter) {
                  store_.Act(action, counter, ticket, actor,
                             ReplyInto(std::move(call), resp));
                });
    return reactor;
  }

  // The rest of IssueTicket once office and service are known: a counter
  // must serve the service and the office must be open now.
  void IssueAtOffice(std::unique_ptr<UnaryCall> call, cat::Office office,
                     IssueParams params, QueueActor actor, v1::Ticket* resp) {
    call->set_agency(office.agency_id());
    const std::string office_id = office.id();
    directory_.ListOfficeCounters(
        office_id,
        [this, call = std::move(call), office = std::move(office),
         params = std::move(params), actor = std::move(actor),
         resp](absl::StatusOr<std::vector<cat::Counter>> counters) mutable {
          if (!counters.ok()) return (void)call->Finish(counters.status());
          if (!ServesService(*counters, params.service_id)) {
            return (void)call->Finish(absl::FailedPreconditionError(
                absl::StrCat("service_id: no counter of office ", office.id(),
                             " serves ", params.service_id)));
          }
          absl::StatusOr<OfficeNow> now = OpenNow(office, clock_.Now());
          if (!now.ok()) return (void)call->Finish(now.status());
          params.local_date = now->local_date;
          params.expire_time = *now->closing_time;
          store_.IssueTicket(params, actor, ReplyInto(std::move(call), resp));
        });
  }

  using TargetNext = absl::AnyInvocable<void(std::unique_ptr<UnaryCall>,
                                             CounterInfo, TransferTarget)>;

  // A transfer's target: a service served at the counter's office, or another
  // counter of that office.
  void ResolveTransferTarget(std::unique_ptr<UnaryCall> call,
                             CounterInfo counter,
                             const v1::TransferTicketRequest& req,
                             TargetNext next) {
    if (req.target_case() == v1::TransferTicketRequest::kToCounterId) {
      directory_.GetCounter(
          req.to_counter_id(),
          [call = std::move(call), counter = std::move(counter),
           next =
               std::move(next)](absl::StatusOr<cat::Counter> target) mutable {
            if (!target.ok()) return (void)call->Finish(target.status());
            if (target->office_id() != counter.office_id) {
              return (void)call->Finish(absl::FailedPreconditionError(
                  absl::StrCat("to_counter_id: counter ", target->id(),
                               " is not at office ", counter.office_id)));
            }
            TransferTarget t;
            t.counter_id = target->id();
            next(std::move(call), std::move(counter), std::move(t));
          });
      return;
    }
    directory_.GetPublicService(
        req.to_service_id(),
        [this, call = std::move(call), counter = std::move(counter),
         next = std::move(next)](
            absl::StatusOr<cat::PublicService> service) mutable {
          if (!service.ok()) return (void)call->Finish(service.status());
          if (service->agency_id() != counter.agency_id) {
            return (void)call->Finish(absl::NotFoundError(absl::StrCat(
                "to_service_id: ", service->id(),
                " is not a service of agency ", counter.agency_id)));
          }
          const std::string office_id = counter.office_id;
          directory_.ListOfficeCounters(
              office_id,
              [call = std::move(call), counter = std::move(counter),
               next = std::move(next), service = std::move(*service)](
                  absl::StatusOr<std::vector<cat::Counter>> counters) mutable {
                if (!counters.ok()) {
                  return (void)call->Finish(counters.status());
                }
                if (!ServesService(*counters, service.id())) {
                  return (void)call->Finish(
                      absl::FailedPreconditionError(absl::StrCat(
                          "to_service_id: no counter of office ",
                          counter.office_id, " serves ", service.id())));
                }
                TransferTarget t;
                t.service_id = service.id();
                t.target_waiting_minutes = service.target_waiting_minutes();
                next(std::move(call), std::move(counter), std::move(t));
              });
        });
  }

  // Expires the tickets still waiting when their office closes. Every replica
  // runs it; the script makes a second attempt on the same ticket a no-op.
  void Sweep() {
    while (!stop_.WaitForNotificationWithTimeout(sweep_interval_)) {
      auto finished = std::make_shared<absl::Notification>();
      store_.ExpireDue(500, [finished](absl::StatusOr<int> expired) {
        if (!expired.ok()) {
          Log(LogLevel::kWarn, "queue expiry sweep failed",
              LogFields().Add("error", expired.status().ToString()));
        }
        finished->Notify();
      });
      finished->WaitForNotificationWithTimeout(absl::Seconds(30));
    }
  }

  // Reads the region's waiting counts into the metrics. Every replica does,
  // so whichever one Prometheus scrapes reports the region's truth.
  void ReportWaiting() {
    constexpr int kMaxOffices = 10000;
    do {
      auto finished = std::make_shared<absl::Notification>();
      store_.GetWaitingCounts(
          kMaxOffices,
          [metrics = &metrics_,
           finished](absl::StatusOr<std::vector<QueueWaitingCount>> counts) {
            if (counts.ok()) {
              metrics->SetQueueWaiting(*counts);
            } else {
              Log(LogLevel::kWarn, "queue waiting counts for metrics failed",
                  LogFields().Add("error", counts.status().ToString()));
            }
            finished->Notify();
          });
      finished->WaitForNotificationWithTimeout(absl::Seconds(30));
    } while (!stop_.WaitForNotificationWithTimeout(waiting_metrics_interval_));
  }

  static LiveFeed::Options WithWatcherMetrics(LiveFeed::Options options,
                                              Metrics& metrics) {
    options.on_watchers_change = [&metrics](int watchers) {
      metrics.SetLiveWatchers(watchers);
    };
    return options;
  }

  Authorizer auth_;
  const Clock& clock_;
  DirectoryReader directory_;
  const ServiceConfig& config_;
  QueueStore store_;
  LiveFeed live_;
  Metrics& metrics_;
  const absl::Duration sweep_interval_;
  const absl::Duration waiting_metrics_interval_;
  std::thread sweeper_;
  std::thread waiting_reporter_;
  absl::Notification stop_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<QueueOptions> QueueOptionsFromEnv() {
  QueueOptions options;
  absl::StatusOr<int> watchers = IntFromEnv(
      "PRIMA_QUEUE_MAX_WATCHERS", options.live.max_watchers, 1, 100000);
  if (!watchers.ok()) return watchers.status();
  absl::StatusOr<int> heartbeat =
      IntFromEnv("PRIMA_QUEUE_HEARTBEAT_SECONDS", 15, 1, 300);
  if (!heartbeat.ok()) return heartbeat.status();
  absl::StatusOr<int> sweep =
      IntFromEnv("PRIMA_QUEUE_SWEEP_SECONDS", 5, 1, 3600);
  if (!sweep.ok()) return sweep.status();
  options.live.max_watchers = *watchers;
  options.live.heartbeat = absl::Seconds(*heartbeat);
  options.sweep_interval = absl::Seconds(*sweep);
  absl::StatusOr<int> waiting_metrics =
      IntFromEnv("PRIMA_QUEUE_METRICS_SECONDS", 15, 1, 3600);
  if (!waiting_metrics.ok()) return waiting_metrics.status();
  options.waiting_metrics_interval = absl::Seconds(*waiting_metrics);
  return options;
}

absl::StatusOr<ServiceBundle> MakeQueueService(const ServiceEnvironment& env,
                                               const QueueOptions& options) {
  if (absl::Status keys = RequireReceiptKeys(env.config); !keys.ok()) {
    return keys;
  }
  auto service = std::make_unique<QueueServiceImpl>(env, options);
  service->Start();
  ServiceBundle bundle;
  QueueServiceImpl* raw = service.get();
  bundle.drain = [raw] { raw->Drain(); };
  bundle.stop = [raw] { raw->Stop(); };
  bundle.services.push_back(std::move(service));
  return bundle;
}

}  // namespace prima::queue
