#include "services/catalog/directory_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prima/catalog/v1/directory.grpc.pb.h"
#include "services/catalog/directory_rules.h"
#include "services/catalog/directory_store.h"
#include "services/common/auth.h"
#include "services/common/rpc.h"
#include "services/common/validation.h"

namespace prima::catalog {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT: the request/response types
using directory::Kind;

constexpr RoleSet kAdmins = Roles({Role::kAgencyAdmin, Role::kRegionAdmin});

// Who may call what (see directory.proto). `same_agency` compares the token's
// agency with the agency the request names (region_admin may act for any).
std::vector<RpcPolicy> Policies() {
  std::vector<RpcPolicy> policies = {
      {"CreateAgency", false, Roles({Role::kRegionAdmin}), false},
      {"UpdateAgency", false, kAdmins, true},
      {"GetAgency", true, 0, false},
      {"ListAgencies", true, 0, false},
      // Officers are staff-only; GetOfficer checks the agency after the read.
      {"GetOfficer", false, kAllStaff, false},
      {"ListOfficers", false, kAllStaff, true},
      {"ApplyDirectory", false, kAdmins, true},
  };
  for (const char* kind : {"Office", "PublicService", "Counter", "Officer"}) {
    policies.push_back({absl::StrCat("Create", kind), false, kAdmins, true});
    policies.push_back({absl::StrCat("Update", kind), false, kAdmins, true});
  }
  for (const char* kind : {"Office", "PublicService", "Counter"}) {
    policies.push_back({absl::StrCat("Get", kind), true, 0, false});
  }
  for (const char* kinds : {"Offices", "PublicServices", "Counters"}) {
    policies.push_back({absl::StrCat("List", kinds), true, 0, false});
  }
  return policies;
}

template <typename T>
using Validator = absl::Status (*)(absl::string_view, const T&);

// The agency a resource belongs to (an agency belongs to itself).
const std::string& AgencyOf(const Agency& agency) { return agency.id(); }
template <typename T>
const std::string& AgencyOf(const T& resource) {
  return resource.agency_id();
}

class DirectoryServiceImpl final : public DirectoryService::CallbackService {
 public:
  explicit DirectoryServiceImpl(const ServiceEnvironment& env)
      : authorizer_(&env.verifier, &env.clock, Policies()),
        store_(env.redis, env.clock) {}

  // ---- agencies ----
  grpc::ServerUnaryReactor* CreateAgency(grpc::CallbackServerContext* context,
                                         const CreateAgencyRequest* request,
                                         Agency* response) override {
    return Write(context, *request, "CreateAgency", /*create=*/true,
                 request->request_id(), "agency", request->agency(),
                 ValidateAgency, response);
  }
  grpc::ServerUnaryReactor* UpdateAgency(grpc::CallbackServerContext* context,
                                         const UpdateAgencyRequest* request,
                                         Agency* response) override {
    return Write(context, *request, "UpdateAgency", /*create=*/false,
                 request->request_id(), "agency", request->agency(),
                 ValidateAgency, response);
  }
  grpc::ServerUnaryReactor* GetAgency(grpc::CallbackServerContext* context,
                                      const GetAgencyRequest* request,
                                      Agency* response) override {
    return Read(context, *request, "GetAgency", "agency_id",
                request->agency_id(), response);
  }
  grpc::ServerUnaryReactor* ListAgencies(
      grpc::CallbackServerContext* context, const ListAgenciesRequest* request,
      ListAgenciesResponse* response) override {
    ListQuery query;
    query.kind = Kind::kAgency;
    return ListPage<Agency>(context, *request, "ListAgencies", std::move(query),
                            request->page_size(), request->page_token(),
                            response, response->mutable_agencies());
  }

  // ---- offices ----
  grpc::ServerUnaryReactor* CreateOffice(grpc::CallbackServerContext* context,
                                         const CreateOfficeRequest* request,
                                         Office* response) override {
    return Write(context, *request, "CreateOffice", true, request->request_id(),
                 "office", request->office(), ValidateOffice, response);
  }
  grpc::ServerUnaryReactor* UpdateOffice(grpc::CallbackServerContext* context,
                                         const UpdateOfficeRequest* request,
                                         Office* response) override {
    return Write(context, *request, "UpdateOffice", false,
                 request->request_id(), "office", request->office(),
                 ValidateOffice, response);
  }
  grpc::ServerUnaryReactor* GetOffice(grpc::CallbackServerContext* context,
                                      const GetOfficeRequest* request,
                                      Office* response) override {
    return Read(context, *request, "GetOffice", "office_id",
                request->office_id(), response);
  }
  grpc::ServerUnaryReactor* ListOffices(
      grpc::CallbackServerContext* context, const ListOfficesRequest* request,
      ListOfficesResponse* response) override {
    ListQuery query;
    query.kind = Kind::kOffice;
    query.agency_id = request->agency_id();
    return ListPage<Office>(context, *request, "ListOffices", std::move(query),
                            request->page_size(), request->page_token(),
                            response, response->mutable_offices());
  }

  // ---- public services ----
  grpc::ServerUnaryReactor* CreatePublicService(
      grpc::CallbackServerContext* context,
      const CreatePublicServiceRequest* request,
      PublicService* response) override {
    return Write(context, *request, "CreatePublicService", true,
                 request->request_id(), "public_service",
                 request->public_service(), ValidatePublicService, response);
  }
  grpc::ServerUnaryReactor* UpdatePublicService(
      grpc::CallbackServerContext* context,
      const UpdatePublicServiceRequest* request,
      PublicService* response) override {
    return Write(context, *request, "UpdatePublicService", false,
                 request->request_id(), "public_service",
                 request->public_service(), ValidatePublicService, response);
  }
  grpc::ServerUnaryReactor* GetPublicService(
      grpc::CallbackServerContext* context,
      const GetPublicServiceRequest* request,
      PublicService* response) override {
    return Read(context, *request, "GetPublicService", "public_service_id",
                request->public_service_id(), response);
  }
  grpc::ServerUnaryReactor* ListPublicServices(
      grpc::CallbackServerContext* context,
      const ListPublicServicesRequest* request,
      ListPublicServicesResponse* response) override {
    ListQuery query;
    query.kind = Kind::kPublicService;
    query.agency_id = request->agency_id();
    return ListPage<PublicService>(context, *request, "ListPublicServices",
                                   std::move(query), request->page_size(),
                                   request->page_token(), response,
                                   response->mutable_public_services());
  }

  // ---- counters ----
  grpc::ServerUnaryReactor* CreateCounter(grpc::CallbackServerContext* context,
                                          const CreateCounterRequest* request,
                                          Counter* response) override {
    return Write(context, *request, "CreateCounter", true,
                 request->request_id(), "counter", request->counter(),
                 ValidateCounter, response);
  }
  grpc::ServerUnaryReactor* UpdateCounter(grpc::CallbackServerContext* context,
                                          const UpdateCounterRequest* request,
                                          Counter* response) override {
    return Write(context, *request, "UpdateCounter", false,
                 request->request_id(), "counter", request->counter(),
                 ValidateCounter, response);
  }
  grpc::ServerUnaryReactor* GetCounter(grpc::CallbackServerContext* context,
                                       const GetCounterRequest* request,
                                       Counter* response) override {
    return Read(context, *request, "GetCounter", "counter_id",
                request->counter_id(), response);
  }
  grpc::ServerUnaryReactor* ListCounters(
      grpc::CallbackServerContext* context, const ListCountersRequest* request,
      ListCountersResponse* response) override {
    ListQuery query;
    query.kind = Kind::kCounter;
    query.office_id = request->office_id();
    return ListPage<Counter>(context, *request, "ListCounters",
                             std::move(query), request->page_size(),
                             request->page_token(), response,
                             response->mutable_counters());
  }

  // ---- officers ----
  grpc::ServerUnaryReactor* CreateOfficer(grpc::CallbackServerContext* context,
                                          const CreateOfficerRequest* request,
                                          Officer* response) override {
    return Write(context, *request, "CreateOfficer", true,
                 request->request_id(), "officer", request->officer(),
                 ValidateOfficer, response);
  }
  grpc::ServerUnaryReactor* UpdateOfficer(grpc::CallbackServerContext* context,
                                          const UpdateOfficerRequest* request,
                                          Officer* response) override {
    return Write(context, *request, "UpdateOfficer", false,
                 request->request_id(), "officer", request->officer(),
                 ValidateOfficer, response);
  }
  grpc::ServerUnaryReactor* GetOfficer(grpc::CallbackServerContext* context,
                                       const GetOfficerRequest* request,
                                       Officer* response) override {
    return Read(context, *request, "GetOfficer", "officer_id",
                request->officer_id(), response);
  }
  grpc::ServerUnaryReactor* ListOfficers(
      grpc::CallbackServerContext* context, const ListOfficersRequest* request,
      ListOfficersResponse* response) override {
    ListQuery query;
    query.kind = Kind::kOfficer;
    query.agency_id = request->agency_id();
    query.office_id = request->office_id();
    query.only_agency = request->agency_id();
    return ListPage<Officer>(context, *request, "ListOfficers",
                             std::move(query), request->page_size(),
                             request->page_token(), response,
                             response->mutable_officers());
  }

  // ---- the whole directory ----
  grpc::ServerUnaryReactor* ApplyDirectory(
      grpc::CallbackServerContext* context,
      const ApplyDirectoryRequest* request,
      ApplyDirectoryResponse* response) override {
    auto call = std::make_unique<UnaryCall>(context, "ApplyDirectory");
    grpc::ServerUnaryReactor* reactor = call->reactor();
    const std::string agency = SingleAgencyOf(*request);
    call->set_agency(agency);
    absl::StatusOr<Principal> principal =
        authorizer_.Admit(*context, "ApplyDirectory", agency, *request);
    if (!principal.ok()) return call->Finish(principal.status());
    const bool region_admin = principal->Has(Role::kRegionAdmin);
    if (!region_admin && agency.empty() &&
        (request->agencies_size() + request->offices_size() +
         request->public_services_size() + request->counters_size() +
         request->officers_size()) > 0) {
      return call->Finish(absl::PermissionDeniedError(
          "ApplyDirectory: the request spans several agencies; an "
          "agency_admin may apply only items of their own agency"));
    }
    if (absl::Status s = ValidateApplyRequest(*request); !s.ok()) {
      return call->Finish(s);
    }
    WriteContext write{"ApplyDirectory", request->request_id(), *principal};
    store_.Apply(*request, write, /*may_create_agencies=*/region_admin,
                 [call = std::move(call),
                  response](absl::StatusOr<ApplyDirectoryResponse> result) {
                   if (result.ok()) *response = std::move(*result);
                   call->Finish(result.status());
                 });
    return reactor;
  }

 private:
  // Create or Update of one resource: authorize for its agency, validate,
  // one script.
  template <typename T>
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context,
                                  const google::protobuf::Message& request,
                                  absl::string_view method, bool create,
                                  const std::string& request_id,
                                  absl::string_view field, const T& resource,
                                  Validator<T> validate, T* response) {
    auto call = std::make_unique<UnaryCall>(context, method);
    grpc::ServerUnaryReactor* reactor = call->reactor();
    call->set_agency(AgencyOf(resource));
    absl::StatusOr<Principal> principal =
        authorizer_.Admit(*context, method, AgencyOf(resource), request);
    if (!principal.ok()) return call->Finish(principal.status());
    if (absl::Status s = ValidateRequestId("request_id", request_id); !s.ok()) {
      return call->Finish(s);
    }
    if (absl::Status s = validate(field, resource); !s.ok()) {
      return call->Finish(s);
    }
    WriteContext write{std::string(method), request_id, *principal};
    auto done = [call = std::move(call), response](absl::StatusOr<T> result) {
      if (result.ok()) *response = std::move(*result);
      call->Finish(result.status());
    };
    if (create) {
      store_.Create<T>(resource, write, std::move(done));
    } else {
      store_.Update<T>(resource, write, std::move(done));
    }
    return reactor;
  }

  // Get of one resource. Officers: staff of the officer's agency only.
  template <typename T>
  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* context,
                                 const google::protobuf::Message& request,
                                 absl::string_view method,
                                 absl::string_view field, const std::string& id,
                                 T* response) {
    auto call = std::make_unique<UnaryCall>(context, method);
    grpc::ServerUnaryReactor* reactor = call->reactor();
    absl::StatusOr<Principal> principal =
        authorizer_.Admit(*context, method, "", request);
    if (!principal.ok()) return call->Finish(principal.status());
    if (absl::Status s = ValidateId(field, id); !s.ok()) return call->Finish(s);
    store_.Get<T>(id, [call = std::move(call), response,
                       principal =
                           std::move(*principal)](absl::StatusOr<T> result) {
      if (!result.ok()) return (void)call->Finish(result.status());
      if constexpr (std::is_same_v<T, Officer>) {
        if (absl::Status s = CheckSameAgency(principal, result->agency_id());
            !s.ok()) {
          return (void)call->Finish(s);
        }
      }
      *response = std::move(*result);
      call->Finish(absl::OkStatus());
    });
    return reactor;
  }

  // One page of a list, filters validated.
  template <typename T, typename Response>
  grpc::ServerUnaryReactor* ListPage(
      grpc::CallbackServerContext* context,
      const google::protobuf::Message& request, absl::string_view method,
      ListQuery query, int32_t page_size, const std::string& page_token,
      Response* response, google::protobuf::RepeatedPtrField<T>* items) {
    auto call = std::make_unique<UnaryCall>(context, method);
    grpc::ServerUnaryReactor* reactor = call->reactor();
    call->set_agency(query.agency_id);
    absl::StatusOr<Principal> principal =
        authorizer_.Admit(*context, method, query.agency_id, request);
    if (!principal.ok()) return call->Finish(principal.status());
    if (absl::Status s = ValidateOptionalId("agency_id", query.agency_id);
        !s.ok()) {
      return call->Finish(s);
    }
    if (absl::Status s = ValidateOptionalId("office_id", query.office_id);
        !s.ok()) {
      return call->Finish(s);
    }
    if (query.kind == Kind::kOfficer && query.agency_id.empty() &&
        !principal->Has(Role::kRegionAdmin)) {
      return call->Finish(absl::InvalidArgumentError(
          "agency_id: is required unless the caller is a region_admin"));
    }
    absl::StatusOr<int> size = EffectivePageSize("page_size", page_size);
    if (!size.ok()) return call->Finish(size.status());
    query.page_size = *size;
    query.page_token = page_token;
    store_.List<T>(query, [call = std::move(call), response,
                           items](absl::StatusOr<Page<T>> page) {
      if (!page.ok()) return (void)call->Finish(page.status());
      for (T& item : page->items) *items->Add() = std::move(item);
      response->set_next_page_token(page->next_page_token);
      call->Finish(absl::OkStatus());
    });
    return reactor;
  }

  Authorizer authorizer_;
  DirectoryStore store_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Service>> MakeDirectoryService(
    const ServiceEnvironment& env) {
  return std::make_unique<DirectoryServiceImpl>(env);
}

}  // namespace prima::catalog
