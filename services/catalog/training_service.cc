#include "services/catalog/training_service.h"

#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prima/catalog/v1/training.grpc.pb.h"
#include "services/catalog/training_rules.h"
#include "services/catalog/training_store.h"
#include "services/common/adapter.h"
#include "services/common/ids.h"
#include "services/common/rpc.h"
#include "services/common/validation.h"

namespace prima::catalog {

namespace v1 = prima::catalog::v1;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

std::vector<RpcPolicy> TrainingPolicies() {
  const RoleSet admins = Roles({Role::kAgencyAdmin, Role::kRegionAdmin});
  const RoleSet managers =
      Roles({Role::kSupervisor, Role::kAgencyAdmin, Role::kRegionAdmin});
  return {
      {"CreateCourse", false, admins, true},
      {"GetCourse", true},
      {"ListCourses", true},
      {"UpdateCourse", false, admins, false},
      {"PublishCourse", false, admins, false},
      {"ArchiveCourse", false, admins, false},
      {"CreateOffering", false, managers, true},
      {"GetOffering", true},
      {"ListOfferings", true},
      {"Enroll", false, kAllStaff, false},
      {"Withdraw", false, kAllStaff, false},
      {"RecordProgress", false, managers, false},
      {"Complete", false, managers, false},
      {"VerifyCertificate", true},
      {"GetTrainingRecord", false, kAllStaff, false},
      {"SetRequiredCourses", false, admins, true},
      {"GetRequiredCourses", false, kAllStaff, true},
      {"ListComplianceGaps", false, managers, true},
      {"ListRecommendations", false, kAllStaff, true},
      {"AcceptRecommendation", false, kAllStaff, false},
      {"DismissRecommendation", false, managers, false},
  };
}

namespace {

bool IsManager(const Principal& p) {
  return p.HasAny(
      Roles({Role::kSupervisor, Role::kAgencyAdmin, Role::kRegionAdmin}));
}

// The agency whose resources the caller may touch: "*" for region_admin.
std::string Scope(const Principal& p) {
  return p.Has(Role::kRegionAdmin) ? "*" : p.agency;
}

// Which non-published courses the caller may see (see CourseFilter).
std::string Visibility(const Principal& p) {
  if (!p.authenticated) return "";
  if (p.Has(Role::kRegionAdmin)) return "*";
  if (p.HasAny(kAllStaff) && !p.agency.empty()) return p.agency;
  return "";
}

bool Visible(const Principal& p, const v1::Course& course) {
  if (course.status() == v1::COURSE_STATUS_PUBLISHED) return true;
  const std::string v = Visibility(p);
  return v == "*" || (!v.empty() && (course.owner_agency() == v ||
                                     course.owner_agency().empty()));
}

TrainingActor ActorOf(const Principal& p, absl::string_view request_id,
                      std::string scope) {
  TrainingActor actor;
  actor.subject = p.subject;
  actor.request_id = std::string(request_id);
  actor.request_fingerprint = p.request_fingerprint;
  actor.scope = std::move(scope);
  actor.actor = ActorProto(p);
  return actor;
}

class TrainingServiceImpl final : public v1::TrainingService::CallbackService {
 public:
  explicit TrainingServiceImpl(const ServiceEnvironment& env)
      : auth_(&env.verifier, &env.clock, TrainingPolicies()),
        clock_(env.clock),
        config_(env.config),
        redis_(env.redis),
        store_(env.redis, env.clock) {}

  // ---- courses ----

  ServerUnaryReactor* CreateCourse(CallbackServerContext* ctx,
                                   const v1::CreateCourseRequest* req,
                                   v1::Course* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CreateCourse");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "CreateCourse", req->course().owner_agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    call->set_agency(p->agency);
    if (req->course().owner_agency().empty() && !p->Has(Role::kRegionAdmin)) {
      return call->Finish(absl::PermissionDeniedError(
          "course.owner_agency: only a region_admin may create a national "
          "course; set it to your agency"));
    }
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateCourse(req->course()));
    auto* reactor = call->reactor();
    store_.CreateCourse(req->course(),
                        ActorOf(*p, req->request_id(), Scope(*p)),
                        ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* GetCourse(CallbackServerContext* ctx,
                                const v1::GetCourseRequest* req,
                                v1::Course* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetCourse");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetCourse", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("course_id", req->course_id()));
    auto* reactor = call->reactor();
    store_.GetCourse(
        req->course_id(),
        [call = std::move(call), resp, p = *p,
         id = req->course_id()](absl::StatusOr<v1::Course> c) mutable {
          if (c.ok() && !Visible(p, *c)) {
            c = absl::NotFoundError(
                absl::StrCat("course ", id, " does not exist"));
          }
          if (!c.ok()) {
            call->Finish(c.status());
            return;
          }
          *resp = std::move(*c);
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  ServerUnaryReactor* ListCourses(CallbackServerContext* ctx,
                                  const v1::ListCoursesRequest* req,
                                  v1::ListCoursesResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListCourses");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "ListCourses", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("competency", req->competency()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateText("keyword", req->keyword(), kMaxKeywordChars));
    if (!v1::CourseStatus_IsValid(req->status())) {
      return call->Finish(absl::InvalidArgumentError(
          "status: must be DRAFT, PUBLISHED, ARCHIVED or unspecified"));
    }
    absl::StatusOr<int> size =
        EffectivePageSize("page.page_size", req->page().page_size());
    if (!size.ok()) return call->Finish(size.status());
    absl::StatusOr<std::string> cursor =
        DecodeIdPageToken("course", req->page().page_token());
    if (!cursor.ok()) return call->Finish(cursor.status());
    CourseFilter filter;
    filter.competency = req->competency();
    filter.keyword = NormalizeKeyword(req->keyword());
    filter.status = req->status();
    filter.visibility = Visibility(*p);
    filter.cursor = *cursor;
    filter.page_size = *size;
    auto* reactor = call->reactor();
    store_.ListCourses(
        filter, [call = std::move(call),
                 resp](absl::StatusOr<TrainingStore::CoursePage> page) mutable {
          if (!page.ok()) {
            call->Finish(page.status());
            return;
          }
          for (v1::Course& c : page->courses) {
            *resp->add_courses() = std::move(c);
          }
          resp->mutable_page()->set_next_page_token(
              EncodePageToken("course", page->next_cursor));
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  ServerUnaryReactor* UpdateCourse(CallbackServerContext* ctx,
                                   const v1::UpdateCourseRequest* req,
                                   v1::Course* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "UpdateCourse");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "UpdateCourse", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateCourse(req->course()));
    auto* reactor = call->reactor();
    store_.UpdateCourse(req->course(),
                        ActorOf(*p, req->request_id(), Scope(*p)),
                        ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* PublishCourse(CallbackServerContext* ctx,
                                    const v1::PublishCourseRequest* req,
                                    v1::Course* resp) override {
    return SetStatus(ctx, *req, "PublishCourse", req->course_id(),
                     req->request_id(), v1::COURSE_STATUS_PUBLISHED, resp);
  }

  ServerUnaryReactor* ArchiveCourse(CallbackServerContext* ctx,
                                    const v1::ArchiveCourseRequest* req,
                                    v1::Course* resp) override {
    return SetStatus(ctx, *req, "ArchiveCourse", req->course_id(),
                     req->request_id(), v1::COURSE_STATUS_ARCHIVED, resp);
  }

  // ---- offerings ----

  ServerUnaryReactor* CreateOffering(CallbackServerContext* ctx,
                                     const v1::CreateOfferingRequest* req,
                                     v1::Offering* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CreateOffering");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "CreateOffering", req->offering().agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    call->set_agency(req->offering().agency());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOffering(req->offering(), clock_.Now()));
    v1::Offering offering = req->offering();
    if (offering.id().empty()) {
      offering.set_id(absl::AsciiStrToLower(NewTimeOrderedId(clock_.Now())));
    }
    auto* reactor = call->reactor();
    store_.CreateOffering(offering, ActorOf(*p, req->request_id(), Scope(*p)),
                          ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* GetOffering(CallbackServerContext* ctx,
                                  const v1::GetOfferingRequest* req,
                                  v1::Offering* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetOffering");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetOffering", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("offering_id", req->offering_id()));
    auto* reactor = call->reactor();
    store_.GetOffering(req->offering_id(), ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* ListOfferings(CallbackServerContext* ctx,
                                    const v1::ListOfferingsRequest* req,
                                    v1::ListOfferingsResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListOfferings");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "ListOfferings", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("course_id", req->course_id()));
    absl::StatusOr<int> size =
        EffectivePageSize("page.page_size", req->page().page_size());
    if (!size.ok()) return call->Finish(size.status());
    absl::StatusOr<int64_t> offset =
        DecodeOffsetPageToken("offering", req->page().page_token());
    if (!offset.ok()) return call->Finish(offset.status());
    auto* reactor = call->reactor();
    store_.ListOfferings(
        req->course_id(), *offset, *size,
        [call = std::move(call),
         resp](absl::StatusOr<TrainingStore::OfferingPage> page) mutable {
          if (!page.ok()) {
            call->Finish(page.status());
            return;
          }
          for (v1::Offering& o : page->offerings) {
            *resp->add_offerings() = std::move(o);
          }
          if (page->next_offset > 0) {
            resp->mutable_page()->set_next_page_token(
                EncodePageToken("offering", absl::StrCat(page->next_offset)));
          }
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  // ---- enrolments ----

  ServerUnaryReactor* Enroll(CallbackServerContext* ctx,
                             const v1::EnrollRequest* req,
                             v1::Enrolment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "Enroll");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "Enroll", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("offering_id", req->offering_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("officer_agency", req->officer_agency()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    absl::StatusOr<std::string> agency = OfficerAgency(*p, *req);
    if (!agency.ok()) return call->Finish(agency.status());
    call->set_agency(*agency);
    // The enrol script checks the officer's agency against the directory when
    // the directory knows the officer.
    auto* reactor = call->reactor();
    store_.Enroll(req->offering_id(), req->officer_id(), *agency,
                  ActorOf(*p, req->request_id(), *agency),
                  ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* Withdraw(CallbackServerContext* ctx,
                               const v1::WithdrawRequest* req,
                               v1::WithdrawResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "Withdraw");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "Withdraw", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("offering_id", req->offering_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    std::string scope;
    if (p->subject == req->officer_id()) {
      scope = "*";  // their own enrolment
    } else if (IsManager(*p)) {
      scope = Scope(*p);
    } else {
      return call->Finish(absl::PermissionDeniedError(
          "Withdraw: an officer may withdraw only themselves"));
    }
    auto* reactor = call->reactor();
    store_.Withdraw(req->offering_id(), req->officer_id(),
                    ActorOf(*p, req->request_id(), scope),
                    ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* RecordProgress(CallbackServerContext* ctx,
                                     const v1::RecordProgressRequest* req,
                                     v1::Enrolment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "RecordProgress");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "RecordProgress", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("offering_id", req->offering_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    std::optional<int32_t> module, attendance;
    if (req->has_completed_module()) {
      RETURN_IF_ERROR_FINISH(
          call, ValidateRange("completed_module", req->completed_module(), 0,
                              kMaxModules - 1));
      module = req->completed_module();
    }
    if (req->has_attendance_percent()) {
      RETURN_IF_ERROR_FINISH(
          call, ValidateRange("attendance_percent", req->attendance_percent(),
                              0, 100));
      attendance = req->attendance_percent();
    }
    if (!module && !attendance) {
      return call->Finish(absl::InvalidArgumentError(
          "completed_module: set it or attendance_percent"));
    }
    auto* reactor = call->reactor();
    store_.RecordProgress(req->offering_id(), req->officer_id(), module,
                          attendance, ActorOf(*p, req->request_id(), Scope(*p)),
                          ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* Complete(CallbackServerContext* ctx,
                               const v1::CompleteRequest* req,
                               v1::Enrolment* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "Complete");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "Complete", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("offering_id", req->offering_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateScore("score", req->score()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    auto* reactor = call->reactor();
    store_.Complete(req->offering_id(), req->officer_id(), req->score(),
                    ActorOf(*p, req->request_id(), Scope(*p)),
                    ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* VerifyCertificate(CallbackServerContext* ctx,
                                        const v1::VerifyCertificateRequest* req,
                                        v1::Certificate* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "VerifyCertificate");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "VerifyCertificate", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateVerificationCode("verification_code",
                                                    req->verification_code()));
    auto* reactor = call->reactor();
    // Public, so limited per caller: guessing codes costs a minute per few
    // dozen tries.
    CheckRateLimits(
        redis_,
        CallRateChecks(config_, *ctx, *p, "catalog", "VerifyCertificate", ""),
        [this, code = req->verification_code(), call = std::move(call),
         resp](absl::Status limited) mutable {
          if (!limited.ok()) return (void)call->Finish(limited);
          store_.VerifyCertificate(code, ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

  ServerUnaryReactor* GetTrainingRecord(CallbackServerContext* ctx,
                                        const v1::GetTrainingRecordRequest* req,
                                        v1::TrainingRecord* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetTrainingRecord");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "GetTrainingRecord", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("officer_id", req->officer_id()));
    // The officer and region admins see everything. Supervisors and admins
    // of the officer's agency (as the directory has it) see the enrolments
    // made within their agency; of another agency's officer, nothing
    // (PERMISSION_DENIED). An officer the directory does not know has no
    // agency to compare: they see the enrolments made within theirs.
    bool sees_all =
        p->subject == req->officer_id() || p->Has(Role::kRegionAdmin);
    if (!sees_all &&
        !p->HasAny(Roles({Role::kSupervisor, Role::kAgencyAdmin}))) {
      return call->Finish(absl::PermissionDeniedError(
          "GetTrainingRecord: an officer may read only their own record"));
    }
    auto* reactor = call->reactor();
    store_.GetTrainingRecord(
        req->officer_id(),
        [call = std::move(call), resp, sees_all, agency = p->agency](
            absl::StatusOr<TrainingStore::OfficerRecord> found) mutable {
          if (!found.ok()) return (void)call->Finish(found.status());
          if (!sees_all && !found->officer_agency.empty() &&
              found->officer_agency != agency) {
            return (void)call->Finish(absl::PermissionDeniedError(
                "GetTrainingRecord: the officer is of another agency"));
          }
          resp->set_officer_id(found->record.officer_id());
          for (v1::Enrolment& e : *found->record.mutable_enrolments()) {
            if (sees_all || e.agency() == agency) {
              *resp->add_enrolments() = std::move(e);
            }
          }
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  // ---- compliance ----

  ServerUnaryReactor* SetRequiredCourses(
      CallbackServerContext* ctx, const v1::SetRequiredCoursesRequest* req,
      v1::RequiredCourses* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "SetRequiredCourses");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "SetRequiredCourses", req->agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency", req->agency()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateRequestId("request_id", req->request_id()));
    if (req->course_ids_size() > kMaxRequiredCourses) {
      return call->Finish(absl::InvalidArgumentError(absl::StrCat(
          "course_ids: at most ", kMaxRequiredCourses, " courses")));
    }
    std::set<std::string> ids;
    for (int i = 0; i < req->course_ids_size(); ++i) {
      RETURN_IF_ERROR_FINISH(
          call,
          ValidateId(absl::StrCat("course_ids[", i, "]"), req->course_ids(i)));
      ids.insert(req->course_ids(i));
    }
    auto* reactor = call->reactor();
    store_.SetRequiredCourses(req->agency(),
                              std::vector<std::string>(ids.begin(), ids.end()),
                              ActorOf(*p, req->request_id(), Scope(*p)),
                              ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* GetRequiredCourses(
      CallbackServerContext* ctx, const v1::GetRequiredCoursesRequest* req,
      v1::RequiredCourses* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetRequiredCourses");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "GetRequiredCourses", req->agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency", req->agency()));
    auto* reactor = call->reactor();
    store_.GetRequiredCourses(req->agency(), ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* ListComplianceGaps(
      CallbackServerContext* ctx, const v1::ListComplianceGapsRequest* req,
      v1::ListComplianceGapsResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListComplianceGaps");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "ListComplianceGaps", req->agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency", req->agency()));
    absl::StatusOr<int> size =
        EffectivePageSize("page.page_size", req->page().page_size());
    if (!size.ok()) return call->Finish(size.status());
    absl::StatusOr<std::string> cursor =
        DecodeIdPageToken("officer", req->page().page_token());
    if (!cursor.ok()) return call->Finish(cursor.status());
    auto* reactor = call->reactor();
    store_.ListComplianceGaps(
        req->agency(), *cursor, *size,
        [call = std::move(call),
         resp](absl::StatusOr<v1::ListComplianceGapsResponse> r) mutable {
          if (!r.ok()) {
            call->Finish(r.status());
            return;
          }
          *resp = std::move(*r);
          resp->mutable_page()->set_next_page_token(
              EncodePageToken("officer", resp->page().next_page_token()));
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  // ---- recommendations ----

  ServerUnaryReactor* ListRecommendations(
      CallbackServerContext* ctx, const v1::ListRecommendationsRequest* req,
      v1::ListRecommendationsResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListRecommendations");
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "ListRecommendations", req->agency(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency", req->agency()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("office_id", req->office_id()));
    if (req->officer_id().empty() == req->office_id().empty()) {
      return call->Finish(absl::InvalidArgumentError(
          "officer_id: set exactly one of officer_id and office_id"));
    }
    if (!IsManager(*p) && p->subject != req->officer_id()) {
      return call->Finish(absl::PermissionDeniedError(
          "ListRecommendations: an officer may list only their own"));
    }
    absl::StatusOr<int> size =
        EffectivePageSize("page.page_size", req->page().page_size());
    if (!size.ok()) return call->Finish(size.status());
    absl::StatusOr<int64_t> offset =
        DecodeOffsetPageToken("rec", req->page().page_token());
    if (!offset.ok()) return call->Finish(offset.status());
    auto* reactor = call->reactor();
    store_.ListRecommendations(
        req->officer_id(), req->office_id(), *offset, *size,
        [call = std::move(call), resp, agency = req->agency()](
            absl::StatusOr<v1::ListRecommendationsResponse> r) mutable {
          if (!r.ok()) {
            call->Finish(r.status());
            return;
          }
          for (v1::Recommendation& rec : *r->mutable_recommendations()) {
            if (rec.agency() == agency) {
              *resp->add_recommendations() = std::move(rec);
            }
          }
          if (!r->page().next_page_token().empty()) {
            resp->mutable_page()->set_next_page_token(
                EncodePageToken("rec", r->page().next_page_token()));
          }
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  ServerUnaryReactor* AcceptRecommendation(
      CallbackServerContext* ctx, const v1::AcceptRecommendationRequest* req,
      v1::Recommendation* resp) override {
    return CloseRecommendation(ctx, *req, "AcceptRecommendation",
                               req->recommendation_id(), req->request_id(),
                               v1::RECOMMENDATION_STATUS_ACCEPTED, resp);
  }

  ServerUnaryReactor* DismissRecommendation(
      CallbackServerContext* ctx, const v1::DismissRecommendationRequest* req,
      v1::Recommendation* resp) override {
    return CloseRecommendation(ctx, *req, "DismissRecommendation",
                               req->recommendation_id(), req->request_id(),
                               v1::RECOMMENDATION_STATUS_DISMISSED, resp);
  }

 private:
  // The agency an enrolment is recorded under (see EnrollRequest).
  static absl::StatusOr<std::string> OfficerAgency(
      const Principal& p, const v1::EnrollRequest& req) {
    if (p.Has(Role::kRegionAdmin)) {
      std::string agency =
          req.officer_agency().empty() ? p.agency : req.officer_agency();
      if (agency.empty()) {
        return absl::InvalidArgumentError(
            "officer_agency: required when a region_admin without an agency "
            "enrols an officer");
      }
      return agency;
    }
    if (p.agency.empty()) {
      return absl::PermissionDeniedError(
          "Enroll: the caller's token carries no agency");
    }
    if (!req.officer_agency().empty() && req.officer_agency() != p.agency) {
      return absl::PermissionDeniedError(
          "officer_agency: staff enrol officers of their own agency only");
    }
    if (p.subject != req.officer_id() &&
        !p.HasAny(Roles({Role::kSupervisor, Role::kAgencyAdmin}))) {
      return absl::PermissionDeniedError(
          "Enroll: an officer may enrol only themselves");
    }
    return p.agency;
  }

  ServerUnaryReactor* SetStatus(CallbackServerContext* ctx,
                                const google::protobuf::Message& request,
                                absl::string_view method,
                                const std::string& course_id,
                                const std::string& request_id,
                                v1::CourseStatus to, v1::Course* resp) {
    auto call = std::make_unique<UnaryCall>(ctx, method);
    call->set_idempotency_key(request_id);
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, method, "", request);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("course_id", course_id));
    RETURN_IF_ERROR_FINISH(call, ValidateRequestId("request_id", request_id));
    auto* reactor = call->reactor();
    store_.SetCourseStatus(course_id, to, ActorOf(*p, request_id, Scope(*p)),
                           ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* CloseRecommendation(
      CallbackServerContext* ctx, const google::protobuf::Message& request,
      absl::string_view method, const std::string& id,
      const std::string& request_id, v1::RecommendationStatus to,
      v1::Recommendation* resp) {
    auto call = std::make_unique<UnaryCall>(ctx, method);
    call->set_idempotency_key(request_id);
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, method, "", request);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("recommendation_id", id));
    RETURN_IF_ERROR_FINISH(call, ValidateRequestId("request_id", request_id));
    const std::string only_officer = IsManager(*p) ? "" : p->subject;
    auto* reactor = call->reactor();
    store_.CloseRecommendation(id, to, ActorOf(*p, request_id, Scope(*p)),
                               only_officer, ReplyInto(std::move(call), resp));
    return reactor;
  }

  Authorizer auth_;
  const Clock& clock_;
  const ServiceConfig& config_;
  RedisClient& redis_;
  TrainingStore store_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeTrainingService(
    const ServiceEnvironment& env) {
  return std::make_unique<TrainingServiceImpl>(env);
}

}  // namespace prima::catalog
