#include "services/complaint/complaint_service.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "prima/complaint/v1/complaint.grpc.pb.h"
#include "services/common/adapter.h"
#include "services/common/config.h"
#include "services/common/directory_reader.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/office_time.h"
#include "services/common/proto_time.h"
#include "services/common/rpc.h"
#include "services/common/validation.h"
#include "services/complaint/complaint_flow.h"
#include "services/complaint/complaint_rules.h"
#include "services/complaint/complaint_store.h"

namespace prima::complaint {

namespace cat = prima::catalog::v1;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

std::vector<RpcPolicy> ComplaintPolicies() {
  const RoleSet managers =
      Roles({Role::kSupervisor, Role::kAgencyAdmin, Role::kRegionAdmin});
  return {
      {"FileComplaint", true},
      {"GetComplaint", true},
      {"RespondToResolution", true},
      {"RateResolution", true},
      {"Verify", false, kAllStaff, false},
      {"Reject", false, kAllStaff, false},
      {"Forward", false, kAllStaff, false},
      {"Assign", false, kAllStaff, false},
      {"StartWork", false, kAllStaff, false},
      {"Resolve", false, kAllStaff, false},
      {"AddComment", false, kAllStaff, false},
      {"ListComplaints", false, kAllStaff, true},
      {"GetComplaintStats", false, managers, true},
      {"UpdateDeadlinePolicy", false,
       Roles({Role::kAgencyAdmin, Role::kRegionAdmin}), true},
  };
}

namespace {

// Where deadlines count when the agency has no office in the directory.
constexpr char kDefaultTimeZone[] = "Asia/Jakarta";
// A move loses a race with another write at most this often before the
// caller is told to retry.
constexpr int kMaxMoveAttempts = 5;
constexpr char kListTokenKind[] = "complaints";

ComplaintActor ActorOf(const Principal& caller, absl::string_view request_id) {
  return ComplaintActor{caller.subject, std::string(request_id),
                        caller.request_fingerprint};
}

// One move request, kept across the attempts of a move.
struct MoveRequest {
  std::string rpc;
  std::string tracking_number;
  std::string receipt_secret;
  std::string request_id;
  Principal caller;
  Move move;
};

bool NeedsDeadlines(Action action) {
  return action == Action::kVerify || action == Action::kResolve ||
         action == Action::kReopen;
}

// The reader a reply is shaped for. Staff of an agency that just forwarded
// the complaint are no longer its readers, but the reply (and its replay)
// still answers them as the staff they were when they acted.
Reader ReplyReader(const StoredComplaint& result, const MoveRequest& request) {
  const Access access =
      AccessOf(result, request.caller, request.receipt_secret);
  if (access.reader() != Reader::kOutsider ||
      request.move.action != Action::kForward) {
    return access.reader();
  }
  const Principal& caller = request.caller;
  for (const v1::TimelineEntry& entry : result.complaint.timeline()) {
    if (entry.to_status() == v1::COMPLAINT_STATUS_FORWARDED &&
        caller.HasAny(kAllStaff) && entry.from_agency() == caller.agency) {
      return caller.HasAny(Roles({Role::kSupervisor, Role::kAgencyAdmin}))
                 ? Reader::kManager
                 : Reader::kStaff;
    }
  }
  return Reader::kOutsider;
}

absl::Status NotFound(absl::string_view tracking_number) {
  return absl::NotFoundError(
      absl::StrCat("complaint ", tracking_number, " does not exist"));
}

absl::Status ValidateTimeRange(absl::string_view field,
                               const prima::common::v1::TimeRange& range,
                               bool required) {
  if (required && (!range.has_start_time() || !range.has_end_time())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": start_time and end_time are required"));
  }
  if (range.has_start_time() && range.has_end_time() &&
      ToAbslTime(range.end_time()) <= ToAbslTime(range.start_time())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": end_time must be after start_time"));
  }
  return absl::OkStatus();
}

class ComplaintServiceImpl final
    : public v1::ComplaintService::CallbackService {
 public:
  ComplaintServiceImpl(const ServiceEnvironment& env,
                       const ComplaintOptions& options)
      : auth_(&env.verifier, &env.clock, ComplaintPolicies()),
        clock_(env.clock),
        directory_(env.redis, env.config.redis, env.clock),
        config_(env.config),
        receipt_keys_(env.config.receipt_keys),
        store_(env.redis, env.clock, receipt_keys_),
        options_(options) {}

  ~ComplaintServiceImpl() override { Stop(); }

  void Start() {
    directory_.Start();
    sweeper_ = std::thread([this] { Sweep(); });
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    stop_.Notify();
    if (sweeper_.joinable()) sweeper_.join();
    directory_.Stop();
  }

  // ---- citizens ----

  ServerUnaryReactor* FileComplaint(CallbackServerContext* ctx,
                                    const v1::FileComplaintRequest* req,
                                    v1::Complaint* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "FileComplaint");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "FileComplaint", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    if (!req->has_complaint()) {
      return call->Finish(absl::InvalidArgumentError(
          "complaint: is required (the complaint to file)"));
    }
    const v1::Complaint& c = req->complaint();
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("complaint.agency_id", c.agency_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("complaint.office_id", c.office_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("complaint.service_id", c.service_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("complaint.officer_id", c.officer_id()));
    call->set_agency(c.agency_id());
    auto* reactor = call->reactor();
    auto input = std::make_shared<FilingInput>();
    input->request = c;
    input->caller = *p;
    input->request_id = req->request_id();
    CheckFilingTargets(std::move(call), std::move(input), resp);
    return reactor;
  }

  ServerUnaryReactor* GetComplaint(CallbackServerContext* ctx,
                                   const v1::GetComplaintRequest* req,
                                   v1::Complaint* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetComplaint");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetComplaint", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call,
        ValidateTrackingNumber("tracking_number", req->tracking_number()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->receipt_secret()));
    auto* reactor = call->reactor();
    store_.Load(req->tracking_number(),
                [call = std::move(call), resp, caller = *p,
                 secret = req->receipt_secret()](
                    absl::StatusOr<StoredComplaint> stored) mutable {
                  if (!stored.ok()) return (void)call->Finish(stored.status());
                  std::optional<v1::Complaint> view =
                      ViewFor(stored->complaint,
                              AccessOf(*stored, caller, secret).reader());
                  if (!view.has_value()) {
                    return (void)call->Finish(
                        NotFound(stored->complaint.tracking_number()));
                  }
                  *resp = std::move(*view);
                  call->Finish(absl::OkStatus());
                });
    return reactor;
  }

  ServerUnaryReactor* RespondToResolution(
      CallbackServerContext* ctx, const v1::RespondToResolutionRequest* req,
      v1::Complaint* resp) override {
    Move move;
    move.action = req->accept() ? Action::kAccept : Action::kReopen;
    move.note = req->reason();
    return StartMove(ctx, *req, "RespondToResolution", req->request_id(),
                     req->tracking_number(), req->receipt_secret(),
                     std::move(move), resp);
  }

  ServerUnaryReactor* RateResolution(CallbackServerContext* ctx,
                                     const v1::RateResolutionRequest* req,
                                     v1::Complaint* resp) override {
    Move move;
    move.action = Action::kRate;
    move.rating = req->rating();
    return StartMove(ctx, *req, "RateResolution", req->request_id(),
                     req->tracking_number(), req->receipt_secret(),
                     std::move(move), resp);
  }

  // ---- staff ----

  ServerUnaryReactor* Verify(CallbackServerContext* ctx,
                             const v1::TransitionRequest* req,
                             v1::Complaint* resp) override {
    Move move;
    move.action = Action::kVerify;
    move.note = req->note();
    return StartMove(ctx, *req, "Verify", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* Reject(CallbackServerContext* ctx,
                             const v1::RejectRequest* req,
                             v1::Complaint* resp) override {
    Move move;
    move.action =
        req->not_in_authority() ? Action::kNotInAuthority : Action::kReject;
    move.note = req->reason();
    return StartMove(ctx, *req, "Reject", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* Forward(CallbackServerContext* ctx,
                              const v1::ForwardRequest* req,
                              v1::Complaint* resp) override {
    Move move;
    move.action = Action::kForward;
    move.to_agency_id = req->to_agency_id();
    move.to_office_id = req->to_office_id();
    move.note = req->note();
    return StartMove(ctx, *req, "Forward", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* Assign(CallbackServerContext* ctx,
                             const v1::AssignRequest* req,
                             v1::Complaint* resp) override {
    Move move;
    move.action = Action::kAssign;
    move.officer_id = req->officer_id();
    move.office_id = req->office_id();
    move.note = req->note();
    return StartMove(ctx, *req, "Assign", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* StartWork(CallbackServerContext* ctx,
                                const v1::TransitionRequest* req,
                                v1::Complaint* resp) override {
    Move move;
    move.action = Action::kStartWork;
    move.note = req->note();
    return StartMove(ctx, *req, "StartWork", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* Resolve(CallbackServerContext* ctx,
                              const v1::ResolveRequest* req,
                              v1::Complaint* resp) override {
    Move move;
    move.action = Action::kResolve;
    move.note = req->resolution();
    return StartMove(ctx, *req, "Resolve", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* AddComment(CallbackServerContext* ctx,
                                 const v1::AddCommentRequest* req,
                                 v1::Complaint* resp) override {
    Move move;
    move.action = Action::kComment;
    move.note = req->text();
    move.internal = req->internal();
    return StartMove(ctx, *req, "AddComment", req->request_id(),
                     req->tracking_number(), "", std::move(move), resp);
  }

  ServerUnaryReactor* ListComplaints(
      CallbackServerContext* ctx, const v1::ListComplaintsRequest* req,
      v1::ListComplaintsResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListComplaints");
    call->set_agency(req->agency_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "ListComplaints", req->agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency_id", req->agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("officer_id", req->officer_id()));
    if (!v1::ComplaintStatus_IsValid(req->status()) ||
        req->status() == v1::COMPLAINT_STATUS_FORWARDED) {
      return call->Finish(absl::InvalidArgumentError(
          "status: must be a status a complaint can be in (FORWARDED only "
          "appears in timelines)"));
    }
    if (!v1::Category_IsValid(req->category())) {
      return call->Finish(
          absl::InvalidArgumentError("category: unknown category"));
    }
    RETURN_IF_ERROR_FINISH(call,
                           ValidateTimeRange("filed", req->filed(), false));
    absl::StatusOr<int> page_size =
        EffectivePageSize("page_size", req->page_size());
    if (!page_size.ok()) return call->Finish(page_size.status());
    absl::StatusOr<std::string> cursor =
        DecodePageToken(kListTokenKind, req->page_token());
    if (!cursor.ok()) return call->Finish(cursor.status());
    ListFilter filter;
    filter.agency_id = req->agency_id();
    filter.status = req->status();
    filter.category = req->category();
    filter.office_id = req->office_id();
    filter.officer_id = req->officer_id();
    filter.overdue_only = req->overdue_only();
    if (req->filed().has_start_time()) {
      filter.filed_from = ToAbslTime(req->filed().start_time());
    }
    if (req->filed().has_end_time()) {
      filter.filed_to = ToAbslTime(req->filed().end_time());
    }
    filter.page_size = *page_size;
    filter.cursor = *std::move(cursor);
    auto* reactor = call->reactor();
    store_.List(filter, [call = std::move(call), resp,
                         caller = *p](absl::StatusOr<ListPage> page) mutable {
      if (!page.ok()) return (void)call->Finish(page.status());
      for (const StoredComplaint& item : page->items) {
        std::optional<v1::Complaint> view =
            ListItemFor(item.complaint, AccessOf(item, caller, "").reader());
        if (view.has_value()) *resp->add_complaints() = std::move(*view);
      }
      resp->set_next_page_token(
          EncodePageToken(kListTokenKind, page->next_cursor));
      call->Finish(absl::OkStatus());
    });
    return reactor;
  }

  ServerUnaryReactor* GetComplaintStats(CallbackServerContext* ctx,
                                        const v1::GetComplaintStatsRequest* req,
                                        v1::ComplaintStats* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetComplaintStats");
    call->set_agency(req->agency_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "GetComplaintStats", req->agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency_id", req->agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateTimeRange("period", req->period(), true));
    StatsQuery query;
    query.agency_id = req->agency_id();
    query.office_id = req->office_id();
    query.from = ToAbslTime(req->period().start_time());
    query.to = ToAbslTime(req->period().end_time());
    resp->set_agency_id(req->agency_id());
    resp->set_office_id(req->office_id());
    *resp->mutable_period() = req->period();
    auto* reactor = call->reactor();
    store_.Stats(query, [call = std::move(call),
                         resp](absl::StatusOr<RawStats> stats) mutable {
      if (!stats.ok()) return (void)call->Finish(stats.status());
      resp->set_filed(static_cast<int32_t>(stats->filed));
      for (const auto& [status, count] : stats->by_status) {
        v1::StatusCount* out = resp->add_by_status();
        out->set_status(static_cast<v1::ComplaintStatus>(status));
        out->set_count(static_cast<int32_t>(count));
      }
      for (const auto& [category, count] : stats->by_category) {
        v1::CategoryCount* out = resp->add_by_category();
        out->set_category(static_cast<v1::Category>(category));
        out->set_count(static_cast<int32_t>(count));
      }
      const size_t resolved = stats->resolve_seconds.size();
      resp->set_median_seconds_to_resolve(Median(stats->resolve_seconds));
      resp->set_resolved_within_deadline_share(
          resolved == 0 ? 0
                        : static_cast<double>(stats->resolved_within) /
                              static_cast<double>(resolved));
      call->Finish(absl::OkStatus());
    });
    return reactor;
  }

  ServerUnaryReactor* UpdateDeadlinePolicy(
      CallbackServerContext* ctx, const v1::UpdateDeadlinePolicyRequest* req,
      v1::DeadlinePolicy* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "UpdateDeadlinePolicy");
    call->set_idempotency_key(req->request_id());
    call->set_agency(req->policy().agency_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "UpdateDeadlinePolicy",
                                              req->policy().agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateId("policy.agency_id", req->policy().agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    const v1::DeadlinePolicy policy = WithDefaults(req->policy());
    RETURN_IF_ERROR_FINISH(call, ValidateDeadlinePolicy(policy));
    auto* reactor = call->reactor();
    store_.SetPolicy(policy, ActorOf(*p, req->request_id()),
                     ReplyInto(std::move(call), resp));
    return reactor;
  }

  // For the sweeper and tests: one round over the deadlines due now.
  void SweepOnce() {
    const absl::Time now = clock_.Now();
    absl::StatusOr<std::vector<DueDeadline>> due =
        Await<std::vector<DueDeadline>>([&](Done<std::vector<DueDeadline>> d) {
          store_.DueDeadlines(now, options_.sweep_batch, std::move(d));
        });
    if (!due.ok()) {
      Log(LogLevel::kWarn, "complaint deadline sweep failed",
          LogFields().Add("error", due.status().ToString()));
      return;
    }
    for (const DueDeadline& deadline : *due) {
      if (deadline.kind == v1::DEADLINE_KIND_RESPONSE) {
        AutoClose(deadline);
        continue;
      }
      absl::StatusOr<bool> marked = Await<bool>([&](Done<bool> d) {
        store_.MarkOverdue(deadline, OverdueEvent(deadline, now), std::move(d));
      });
      if (!marked.ok()) {
        Log(LogLevel::kWarn, "marking a complaint overdue failed",
            LogFields()
                .Add("tracking_number", deadline.tracking_number)
                .Add("error", marked.status().ToString()));
      }
    }
  }

 private:
  // ---- filing ----

  // The directory must know the agency and every resource the complaint
  // names, each of that agency.
  void CheckFilingTargets(std::unique_ptr<UnaryCall> call,
                          std::shared_ptr<FilingInput> input,
                          v1::Complaint* resp) {
    const std::string agency_id = input->request.agency_id();
    directory_.GetAgency(
        agency_id, [this, call = std::move(call), input = std::move(input),
                    resp](absl::StatusOr<cat::Agency> agency) mutable {
          if (!agency.ok()) {
            return (void)call->Finish(Field("complaint.agency_id", agency));
          }
          CheckFilingOffice(std::move(call), std::move(input), resp);
        });
  }

  // The lookup's error (its code kept) prefixed with the request's field.
  template <typename T>
  static absl::Status Field(absl::string_view field,
                            const absl::StatusOr<T>& result) {
    return absl::Status(result.status().code(),
                        absl::StrCat(field, ": ", result.status().message()));
  }

  void CheckFilingOffice(std::unique_ptr<UnaryCall> call,
                         std::shared_ptr<FilingInput> input,
                         v1::Complaint* resp) {
    const std::string office_id = input->request.office_id();
    if (office_id.empty()) {
      return CheckFilingService(std::move(call), std::move(input), resp);
    }
    directory_.GetOffice(
        office_id, [this, call = std::move(call), input = std::move(input),
                    resp](absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) {
            return (void)call->Finish(Field("complaint.office_id", office));
          }
          if (office->agency_id() != input->request.agency_id()) {
            return (void)call->Finish(NotOfAgency("complaint.office_id",
                                                  office->id(),
                                                  input->request.agency_id()));
          }
          CheckFilingService(std::move(call), std::move(input), resp);
        });
  }

  void CheckFilingService(std::unique_ptr<UnaryCall> call,
                          std::shared_ptr<FilingInput> input,
                          v1::Complaint* resp) {
    const std::string service_id = input->request.service_id();
    if (service_id.empty()) {
      return CheckFilingOfficer(std::move(call), std::move(input), resp);
    }
    directory_.GetPublicService(
        service_id, [this, call = std::move(call), input = std::move(input),
                     resp](absl::StatusOr<cat::PublicService> service) mutable {
          if (!service.ok()) {
            return (void)call->Finish(Field("complaint.service_id", service));
          }
          if (service->agency_id() != input->request.agency_id()) {
            return (void)call->Finish(NotOfAgency("complaint.service_id",
                                                  service->id(),
                                                  input->request.agency_id()));
          }
          CheckFilingOfficer(std::move(call), std::move(input), resp);
        });
  }

  void CheckFilingOfficer(std::unique_ptr<UnaryCall> call,
                          std::shared_ptr<FilingInput> input,
                          v1::Complaint* resp) {
    const std::string officer_id = input->request.officer_id();
    const std::string agency_id = input->request.agency_id();
    if (officer_id.empty()) {
      const std::string office_id = input->request.office_id();
      return File(std::move(call), std::move(input), office_id, resp);
    }
    directory_.GetOfficer(
        officer_id, [this, call = std::move(call), input = std::move(input),
                     resp](absl::StatusOr<cat::Officer> officer) mutable {
          if (!officer.ok()) {
            return (void)call->Finish(Field("complaint.officer_id", officer));
          }
          if (officer->agency_id() != input->request.agency_id()) {
            return (void)call->Finish(NotOfAgency("complaint.officer_id",
                                                  officer->id(),
                                                  input->request.agency_id()));
          }
          // The officer's office counts when the complaint names none.
          const std::string office_id = input->request.office_id().empty()
                                            ? officer->office_id()
                                            : input->request.office_id();
          File(std::move(call), std::move(input), office_id, resp);
        });
  }

  void File(std::unique_ptr<UnaryCall> call, std::shared_ptr<FilingInput> input,
            const std::string& deadline_office, v1::Complaint* resp) {
    const std::string agency_id = input->request.agency_id();
    const v1::Category category = input->request.category();
    WithDeadlines(
        agency_id, deadline_office, category,
        [this, call = std::move(call), input = std::move(input),
         resp](absl::StatusOr<DeadlineContext> deadlines) mutable {
          if (!deadlines.ok()) return (void)call->Finish(deadlines.status());
          input->deadlines = *std::move(deadlines);
          input->now = clock_.Now();
          input->id = absl::AsciiStrToLower(NewTimeOrderedId(input->now));
          input->receipt_secret =
              receipt_keys_.CurrentSecret(kComplaintReceipt, input->id);
          absl::StatusOr<NewComplaint> filing = PrepareFiling(*input);
          if (!filing.ok()) return (void)call->Finish(filing.status());
          ComplaintActor actor = ActorOf(input->caller, input->request_id);
          // Per caller, and per office (the agency's when none is named).
          const v1::Complaint& named = input->request;
          actor.rate_checks =
              CallRateChecks(config_, *call->context(), input->caller,
                             "complaint", "FileComplaint",
                             named.office_id().empty()
                                 ? absl::StrCat("agency:", named.agency_id())
                                 : absl::StrCat("office:", named.office_id()));
          store_.File(*filing, std::move(actor),
                      [call = std::move(call),
                       resp](absl::StatusOr<v1::Complaint> filed) mutable {
                        if (!filed.ok())
                          return (void)call->Finish(filed.status());
                        // The filer reads it as its reporter, plus the receipt
                        // secret this one reply carries.
                        std::optional<v1::Complaint> view =
                            ViewFor(*filed, Reader::kReporter);
                        *resp = std::move(*view);
                        resp->set_receipt_secret(filed->receipt_secret());
                        call->Finish(absl::OkStatus());
                      });
        });
  }

  // ---- deadlines ----

  // The deadline context of `agency`'s complaints in `category` about
  // `office_id` (the agency's first office when empty; Asia/Jakarta without
  // holidays when the agency has none).
  void WithDeadlines(std::string agency_id, std::string office_id,
                     v1::Category category, Done<DeadlineContext> done) {
    if (office_id.empty()) {
      store_.FirstOfficeOf(
          agency_id, [this, agency_id, category, done = std::move(done)](
                         absl::StatusOr<std::string> first) mutable {
            if (!first.ok()) return done(first.status());
            if (first->empty()) {
              DeadlineContext context;
              absl::LoadTimeZone(kDefaultTimeZone, &context.zone);
              return WithPolicy(agency_id, category, std::move(context),
                                std::move(done));
            }
            WithDeadlines(agency_id, *first, category, std::move(done));
          });
      return;
    }
    directory_.GetOffice(
        office_id, [this, agency_id, category, done = std::move(done)](
                       absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return done(office.status());
          absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(*office);
          if (!zone.ok()) return done(zone.status());
          DeadlineContext context;
          context.zone = *zone;
          context.holidays = HolidaysFrom(office->holidays());
          WithPolicy(agency_id, category, std::move(context), std::move(done));
        });
  }

  void WithPolicy(const std::string& agency_id, v1::Category category,
                  DeadlineContext context, Done<DeadlineContext> done) {
    store_.GetPolicy(agency_id, category,
                     [context = std::move(context), done = std::move(done)](
                         absl::StatusOr<v1::DeadlinePolicy> policy) mutable {
                       if (!policy.ok()) return done(policy.status());
                       context.policy = *std::move(policy);
                       done(std::move(context));
                     });
  }

  // ---- moves ----

  ServerUnaryReactor* StartMove(CallbackServerContext* ctx,
                                const google::protobuf::Message& rpc_request,
                                absl::string_view rpc,
                                const std::string& request_id,
                                const std::string& tracking_number,
                                const std::string& receipt_secret, Move move,
                                v1::Complaint* resp) {
    auto call = std::make_unique<UnaryCall>(ctx, rpc);
    call->set_idempotency_key(request_id);
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, rpc, "", rpc_request);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateMutationRequestId(*p, request_id));
    RETURN_IF_ERROR_FINISH(
        call, ValidateTrackingNumber("tracking_number", tracking_number));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(receipt_secret));
    if (move.action == Action::kForward) {
      RETURN_IF_ERROR_FINISH(call,
                             ValidateId("to_agency_id", move.to_agency_id));
      RETURN_IF_ERROR_FINISH(
          call, ValidateOptionalId("to_office_id", move.to_office_id));
    }
    if (move.action == Action::kAssign) {
      if (move.officer_id.empty() == move.office_id.empty()) {
        return call->Finish(absl::InvalidArgumentError(
            "officer_id: give exactly one of officer_id and office_id"));
      }
      RETURN_IF_ERROR_FINISH(call,
                             ValidateOptionalId("officer_id", move.officer_id));
      RETURN_IF_ERROR_FINISH(call,
                             ValidateOptionalId("office_id", move.office_id));
    }
    auto* reactor = call->reactor();
    auto request = std::make_shared<MoveRequest>();
    request->rpc = std::string(rpc);
    request->tracking_number = tracking_number;
    request->receipt_secret = receipt_secret;
    request->request_id = request_id;
    request->caller = *std::move(p);
    request->move = std::move(move);
    Attempt(std::move(call), std::move(request), resp, 1);
    return reactor;
  }

  // Load, decide, save; again when another write came between.
  void Attempt(std::unique_ptr<UnaryCall> call,
               std::shared_ptr<const MoveRequest> request, v1::Complaint* resp,
               int attempt) {
    const std::string tracking_number = request->tracking_number;
    store_.Load(
        tracking_number,
        [this, call = std::move(call), request = std::move(request), resp,
         attempt](absl::StatusOr<StoredComplaint> stored) mutable {
          if (!stored.ok()) return (void)call->Finish(stored.status());
          call->set_agency(stored->complaint.agency_id());
          const Access access =
              AccessOf(*stored, request->caller, request->receipt_secret);
          if (access.reader() == Reader::kOutsider) {
            // Perhaps this caller's own earlier move took it away (forwarding).
            absl::Status not_found = NotFound(request->tracking_number);
            return Refuse(std::move(call), std::move(request),
                          std::move(not_found), resp);
          }
          auto stored_ptr =
              std::make_shared<StoredComplaint>(*std::move(stored));
          WithMoveContext(
              *stored_ptr, *request, access,
              [this, call = std::move(call), request, stored_ptr, resp,
               attempt](absl::StatusOr<MoveContext> context) mutable {
                if (!context.ok()) return (void)call->Finish(context.status());
                absl::StatusOr<ComplaintChange> change =
                    Decide(*stored_ptr, request->move, *context);
                if (!change.ok()) {
                  return Refuse(std::move(call), std::move(request),
                                change.status(), resp);
                }
                store_.Save(
                    request->rpc, *stored_ptr, *change,
                    ActorOf(request->caller, request->request_id),
                    [this, call = std::move(call), request, resp,
                     attempt](absl::StatusOr<StoredComplaint> saved) mutable {
                      if (absl::IsAborted(saved.status()) &&
                          attempt < kMaxMoveAttempts) {
                        return Attempt(std::move(call), std::move(request),
                                       resp, attempt + 1);
                      }
                      Reply(std::move(call), *request, std::move(saved), resp);
                    });
              });
        });
  }

  // A move the flow refused: still the first result if this very request
  // succeeded before (a retry).
  void Refuse(std::unique_ptr<UnaryCall> call,
              std::shared_ptr<const MoveRequest> request, absl::Status refusal,
              v1::Complaint* resp) {
    const std::string rpc = request->rpc;
    const ComplaintActor actor = ActorOf(request->caller, request->request_id);
    store_.Replay(rpc, actor, std::move(refusal),
                  [call = std::move(call), request = std::move(request),
                   resp](absl::StatusOr<StoredComplaint> replayed) mutable {
                    Reply(std::move(call), *request, std::move(replayed), resp);
                  });
  }

  static void Reply(std::unique_ptr<UnaryCall> call, const MoveRequest& request,
                    absl::StatusOr<StoredComplaint> result,
                    v1::Complaint* resp) {
    if (!result.ok()) return (void)call->Finish(result.status());
    std::optional<v1::Complaint> view =
        ViewFor(result->complaint, ReplyReader(*result, request));
    if (!view.has_value()) {
      return (void)call->Finish(NotFound(request.tracking_number));
    }
    *resp = std::move(*view);
    call->Finish(absl::OkStatus());
  }

  // What the move needs to know besides the complaint: deadlines where it
  // opens one, the receiving agency of a forward, the assignee's agency.
  void WithMoveContext(const StoredComplaint& stored,
                       const MoveRequest& request, const Access& access,
                       Done<MoveContext> done) {
    MoveContext context;
    context.caller = request.caller;
    context.access = access;
    context.request_id = request.request_id;
    const v1::Complaint& c = stored.complaint;
    const Move& move = request.move;
    auto finish = [this](MoveContext context, Done<MoveContext> done) {
      context.now = clock_.Now();
      done(std::move(context));
    };
    // Staff moves of outsiders and reporters are refused by the flow; do not
    // look anything up for them.
    const bool staff = access.staff != Reader::kOutsider;
    if (move.action == Action::kForward && staff) {
      return WithReceiving(c, move, std::move(context), std::move(done));
    }
    if (move.action == Action::kAssign && staff) {
      return CheckAssignee(c, move, std::move(context), std::move(done));
    }
    if (!NeedsDeadlines(move.action)) {
      return finish(std::move(context), std::move(done));
    }
    WithDeadlines(c.agency_id(), c.office_id(), c.category(),
                  [context = std::move(context), done = std::move(done),
                   finish](absl::StatusOr<DeadlineContext> deadlines) mutable {
                    if (!deadlines.ok()) return done(deadlines.status());
                    context.deadlines = *std::move(deadlines);
                    finish(std::move(context), std::move(done));
                  });
  }

  void WithReceiving(const v1::Complaint& c, const Move& move,
                     MoveContext context, Done<MoveContext> done) {
    if (move.to_agency_id == c.agency_id()) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("to_agency_id: the complaint is already with agency ",
                       c.agency_id())));
    }
    directory_.GetAgency(
        move.to_agency_id,
        [this, to_agency = move.to_agency_id, to_office = move.to_office_id,
         category = c.category(), context = std::move(context),
         done = std::move(done)](absl::StatusOr<cat::Agency> agency) mutable {
          if (!agency.ok()) return done(Field("to_agency_id", agency));
          if (to_office.empty()) {
            return Receive(to_agency, to_office, category, std::move(context),
                           std::move(done));
          }
          directory_.GetOffice(
              to_office, [this, to_agency, to_office, category,
                          context = std::move(context), done = std::move(done)](
                             absl::StatusOr<cat::Office> office) mutable {
                if (!office.ok()) return done(Field("to_office_id", office));
                if (office->agency_id() != to_agency) {
                  return done(
                      NotOfAgency("to_office_id", office->id(), to_agency));
                }
                Receive(to_agency, to_office, category, std::move(context),
                        std::move(done));
              });
        });
  }

  // The receiving agency's deadlines for a forward.
  void Receive(const std::string& agency_id, const std::string& office_id,
               v1::Category category, MoveContext context,
               Done<MoveContext> done) {
    WithDeadlines(agency_id, office_id, category,
                  [this, context = std::move(context), done = std::move(done)](
                      absl::StatusOr<DeadlineContext> receiving) mutable {
                    if (!receiving.ok()) return done(receiving.status());
                    context.receiving = *std::move(receiving);
                    context.now = clock_.Now();
                    done(std::move(context));
                  });
  }

  void CheckAssignee(const v1::Complaint& c, const Move& move,
                     MoveContext context, Done<MoveContext> done) {
    auto finish = [this, context = std::move(context),
                   done = std::move(done)](absl::Status checked) mutable {
      if (!checked.ok()) return done(checked);
      context.now = clock_.Now();
      done(std::move(context));
    };
    const std::string agency = c.agency_id();
    if (!move.officer_id.empty()) {
      directory_.GetOfficer(
          move.officer_id, [agency, finish = std::move(finish)](
                               absl::StatusOr<cat::Officer> officer) mutable {
            if (!officer.ok()) return finish(Field("officer_id", officer));
            if (officer->agency_id() != agency) {
              return finish(NotOfAgency("officer_id", officer->id(), agency));
            }
            finish(absl::OkStatus());
          });
      return;
    }
    directory_.GetOffice(
        move.office_id, [agency, finish = std::move(finish)](
                            absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return finish(Field("office_id", office));
          if (office->agency_id() != agency) {
            return finish(NotOfAgency("office_id", office->id(), agency));
          }
          finish(absl::OkStatus());
        });
  }

  // ---- the sweeper ----

  void Sweep() {
    while (!stop_.WaitForNotificationWithTimeout(options_.sweep_interval)) {
      SweepOnce();
    }
  }

  // Closes a RESOLVED complaint whose response window passed. Another
  // replica may have closed it first: then the flow refuses or the save
  // loses the race, and nothing more is to be done.
  void AutoClose(const DueDeadline& deadline) {
    absl::StatusOr<StoredComplaint> stored =
        Await<StoredComplaint>([&](Done<StoredComplaint> d) {
          store_.Load(deadline.tracking_number, std::move(d));
        });
    if (!stored.ok()) return;
    MoveContext context;
    context.system = true;
    context.now = clock_.Now();
    // Unique per complaint and window: the idempotency key of the save.
    context.request_id =
        absl::StrCat("auto-close-", deadline.complaint_id, "-", deadline.index);
    Move move;
    move.action = Action::kAutoClose;
    move.note = "the response window passed without an answer";
    absl::StatusOr<ComplaintChange> change = Decide(*stored, move, context);
    if (!change.ok()) return;
    const ComplaintActor actor{"system", context.request_id};
    absl::StatusOr<StoredComplaint> saved =
        Await<StoredComplaint>([&](Done<StoredComplaint> d) {
          store_.Save("AutoClose", *stored, *change, actor, std::move(d));
        });
    if (!saved.ok() && !absl::IsAborted(saved.status())) {
      Log(LogLevel::kWarn, "closing a complaint failed",
          LogFields()
              .Add("tracking_number", deadline.tracking_number)
              .Add("error", saved.status().ToString()));
    }
  }

  Authorizer auth_;
  const Clock& clock_;
  DirectoryReader directory_;
  const ServiceConfig& config_;
  const ReceiptKeys& receipt_keys_;
  ComplaintStore store_;
  const ComplaintOptions options_;
  std::thread sweeper_;
  absl::Notification stop_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<ComplaintOptions> ComplaintOptionsFromEnv() {
  ComplaintOptions options;
  absl::StatusOr<int> sweep =
      IntFromEnv("PRIMA_COMPLAINT_SWEEP_SECONDS", 30, 1, 3600);
  if (!sweep.ok()) return sweep.status();
  options.sweep_interval = absl::Seconds(*sweep);
  return options;
}

absl::StatusOr<ServiceBundle> MakeComplaintService(
    const ServiceEnvironment& env, const ComplaintOptions& options) {
  if (absl::Status keys = RequireReceiptKeys(env.config); !keys.ok()) {
    return keys;
  }
  auto service = std::make_unique<ComplaintServiceImpl>(env, options);
  service->Start();
  ServiceBundle bundle;
  ComplaintServiceImpl* raw = service.get();
  bundle.stop = [raw] { raw->Stop(); };
  bundle.services.push_back(std::move(service));
  return bundle;
}

}  // namespace prima::complaint
