// DirectoryService against a real redis-server through the real RedisClient
// and a real gRPC server: every RPC's success and failure paths, access rules,
// idempotent ApplyDirectory and the directory.changed events.
#include "services/catalog/directory_service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.grpc.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/redis_client.h"
#include "services/common/server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/service_env.h"
#include "tests/testing/test_server.h"

namespace prima {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT
using ::prima::testing::TestRedis;
using ::prima::testing::TestServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kStream[] = "prima:events:catalog";

Agency MakeAgency(const std::string& id) {
  Agency agency;
  agency.set_id(id);
  agency.set_name(absl::StrCat("Dinas ", id));
  agency.set_region("DKI Jakarta");
  agency.mutable_contact()->set_phone("(021) 123");
  return agency;
}

Office MakeOffice(const std::string& id, const std::string& agency) {
  Office office;
  office.set_id(id);
  office.set_agency_id(agency);
  office.set_name(absl::StrCat("Kantor ", id));
  office.set_time_zone("Asia/Jakarta");
  office.mutable_location()->set_address("Jl. Merdeka 1");
  auto* hours = office.add_opening_hours();
  hours->set_weekday(WEEKDAY_MONDAY);
  hours->set_open_minute(480);
  hours->set_close_minute(960);
  return office;
}

PublicService MakeService(const std::string& id, const std::string& agency) {
  PublicService service;
  service.set_id(id);
  service.set_agency_id(agency);
  service.set_name(absl::StrCat("Layanan ", id));
  service.set_ticket_prefix("A");
  service.set_target_waiting_minutes(30);
  service.mutable_standard()->add_requirements("KTP");
  service.mutable_standard()->mutable_completion_time()->set_value(1);
  service.mutable_standard()->mutable_completion_time()->set_unit(
      CompletionTime::UNIT_DAYS);
  return service;
}

Counter MakeCounter(const std::string& id, const std::string& agency,
                    const std::string& office,
                    const std::vector<std::string>& services) {
  Counter counter;
  counter.set_id(id);
  counter.set_agency_id(agency);
  counter.set_office_id(office);
  counter.set_name(absl::StrCat("Loket ", id));
  for (const auto& s : services) counter.add_service_ids(s);
  return counter;
}

Officer MakeOfficer(const std::string& id, const std::string& agency,
                    const std::string& office) {
  Officer officer;
  officer.set_id(id);
  officer.set_agency_id(agency);
  officer.set_office_id(office);
  officer.set_name(absl::StrCat("Petugas ", id));
  officer.set_nip("198503302010011005");
  officer.set_front_line(true);
  return officer;
}

class DirectoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::TestServiceEnv::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    env_ = std::move(*started);
    redis_ = &env_->redis();
    client_ = &env_->client();
    const ServiceEnvironment& env = env_->environment();
    auto service = catalog::MakeDirectoryService(env);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    auto server = TestServer::Start({service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = DirectoryService::NewStub(server_->NewChannel());
  }

  void TearDown() override {
    if (server_) {
      server_->server().Shutdown();
      server_->server().Wait();
    }
  }

  std::string Token(const std::string& role, const std::string& agency = "",
                    const std::string& subject = "tester") const {
    return env_->Token(role, agency, subject);
  }
  std::string RegionAdmin() const { return Token("region_admin"); }
  std::string AgencyAdmin(const std::string& agency) const {
    return Token("agency_admin", agency);
  }

  // One unary call with an optional bearer token.
  template <typename Request, typename Response, typename Method>
  grpc::Status Call(Method method, const Request& request, Response* response,
                    const std::string& token = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    if (!token.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    return ((*stub_).*method)(&context, request, response);
  }

  grpc::Status CreateAgency(const Agency& agency, const std::string& token,
                            const std::string& request_id = "") {
    CreateAgencyRequest request;
    request.set_request_id(request_id.empty() ? NextId() : request_id);
    *request.mutable_agency() = agency;
    Agency response;
    return Call(&DirectoryService::Stub::CreateAgency, request, &response,
                token);
  }
  grpc::Status CreateOffice(const Office& office, const std::string& token) {
    CreateOfficeRequest request;
    request.set_request_id(NextId());
    *request.mutable_office() = office;
    Office response;
    return Call(&DirectoryService::Stub::CreateOffice, request, &response,
                token);
  }
  grpc::Status CreateService(const PublicService& service,
                             const std::string& token) {
    CreatePublicServiceRequest request;
    request.set_request_id(NextId());
    *request.mutable_public_service() = service;
    PublicService response;
    return Call(&DirectoryService::Stub::CreatePublicService, request,
                &response, token);
  }
  grpc::Status CreateCounter(const Counter& counter, const std::string& token) {
    CreateCounterRequest request;
    request.set_request_id(NextId());
    *request.mutable_counter() = counter;
    Counter response;
    return Call(&DirectoryService::Stub::CreateCounter, request, &response,
                token);
  }
  grpc::Status CreateOfficer(const Officer& officer, const std::string& token) {
    CreateOfficerRequest request;
    request.set_request_id(NextId());
    *request.mutable_officer() = officer;
    Officer response;
    return Call(&DirectoryService::Stub::CreateOfficer, request, &response,
                token);
  }

  // Two agencies, an office each, services, a counter and an officer.
  void Seed() {
    ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
    ASSERT_TRUE(CreateAgency(MakeAgency("samsat"), RegionAdmin()).ok());
    ASSERT_TRUE(
        CreateOffice(MakeOffice("jaksel", "dukcapil"), AgencyAdmin("dukcapil"))
            .ok());
    ASSERT_TRUE(
        CreateOffice(MakeOffice("samsat-1", "samsat"), AgencyAdmin("samsat"))
            .ok());
    ASSERT_TRUE(CreateService(MakeService("ktp-el", "dukcapil"),
                              AgencyAdmin("dukcapil"))
                    .ok());
    ASSERT_TRUE(
        CreateService(MakeService("kk", "dukcapil"), AgencyAdmin("dukcapil"))
            .ok());
    ASSERT_TRUE(
        CreateService(MakeService("pkb", "samsat"), AgencyAdmin("samsat"))
            .ok());
  }

  int64_t EventCount() {
    auto n = redis_->Command({"XLEN", kStream});
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->integer : -1;
  }

  // The payloads of every event on the stream, oldest first.
  std::vector<
      std::pair<events::v1::EventEnvelope, events::v1::DirectoryChanged>>
  Events() {
    std::vector<
        std::pair<events::v1::EventEnvelope, events::v1::DirectoryChanged>>
        out;
    auto range = redis_->Command({"XRANGE", kStream, "-", "+"});
    EXPECT_TRUE(range.ok()) << range.status();
    for (const RedisValue& entry : range->elements) {
      const RedisValue& fields = entry.elements[1];
      for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
        if (fields.elements[i].str != "envelope") continue;
        events::v1::EventEnvelope envelope;
        EXPECT_TRUE(envelope.ParseFromString(fields.elements[i + 1].str));
        events::v1::DirectoryChanged payload;
        EXPECT_TRUE(envelope.payload().UnpackTo(&payload));
        out.emplace_back(envelope, payload);
      }
    }
    return out;
  }

  std::string NextId() { return absl::StrCat("req-", ++request_counter_); }

  std::unique_ptr<testing::TestServiceEnv> env_;
  TestRedis* redis_ = nullptr;     // env_'s
  RedisClient* client_ = nullptr;  // env_'s
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<DirectoryService::Stub> stub_;
  int request_counter_ = 0;
};

TEST_F(DirectoryServiceTest, AgencyCreateGetAndAccess) {
  EXPECT_EQ(CreateAgency(MakeAgency("dukcapil"), "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CreateAgency(MakeAgency("dukcapil"), AgencyAdmin("dukcapil"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateAgency(MakeAgency("dukcapil"), "not-a-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  Agency bad = MakeAgency("Dukcapil");
  grpc::Status status = CreateAgency(bad, RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("agency.id:"));

  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin(), "r-1").ok());
  // A retry with the same request id returns the first result.
  EXPECT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin(), "r-1").ok());
  status = CreateAgency(MakeAgency("dukcapil"), RegionAdmin(), "r-2");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("agency dukcapil"));
  EXPECT_EQ(EventCount(), 1);

  GetAgencyRequest get;
  get.set_agency_id("dukcapil");
  Agency agency;
  ASSERT_TRUE(Call(&DirectoryService::Stub::GetAgency, get, &agency).ok());
  EXPECT_EQ(agency.name(), "Dinas dukcapil");
  EXPECT_EQ(agency.contact().phone(), "(021) 123");
  get.set_agency_id("nope");
  EXPECT_EQ(Call(&DirectoryService::Stub::GetAgency, get, &agency).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.set_agency_id("NO:PE");
  EXPECT_EQ(Call(&DirectoryService::Stub::GetAgency, get, &agency).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DirectoryServiceTest, AgencyUpdate) {
  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
  UpdateAgencyRequest update;
  update.set_request_id("u-1");
  *update.mutable_agency() = MakeAgency("dukcapil");
  update.mutable_agency()->set_name("Dinas Dukcapil DKI");
  Agency response;
  EXPECT_EQ(Call(&DirectoryService::Stub::UpdateAgency, update, &response,
                 AgencyAdmin("samsat"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&DirectoryService::Stub::UpdateAgency, update, &response,
                   AgencyAdmin("dukcapil"))
                  .ok());
  EXPECT_EQ(response.name(), "Dinas Dukcapil DKI");
  EXPECT_EQ(EventCount(), 2);
  // The same content again: no change, no event.
  update.set_request_id("u-2");
  ASSERT_TRUE(Call(&DirectoryService::Stub::UpdateAgency, update, &response,
                   AgencyAdmin("dukcapil"))
                  .ok());
  EXPECT_EQ(EventCount(), 2);
  update.set_request_id("u-3");
  update.mutable_agency()->set_id("ghost");
  EXPECT_EQ(Call(&DirectoryService::Stub::UpdateAgency, update, &response,
                 RegionAdmin())
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryServiceTest, OfficeRules) {
  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
  ASSERT_TRUE(CreateAgency(MakeAgency("samsat"), RegionAdmin()).ok());
  grpc::Status status = CreateOffice(MakeOffice("x", "ghost"), RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(),
              HasSubstr("office.agency_id: agency ghost does not exist"));
  EXPECT_EQ(
      CreateOffice(MakeOffice("jaksel", "dukcapil"), AgencyAdmin("samsat"))
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  Office bad = MakeOffice("jaksel", "dukcapil");
  bad.mutable_opening_hours(0)->set_close_minute(100);
  status = CreateOffice(bad, AgencyAdmin("dukcapil"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::StartsWith("office.opening_hours[0].close_minute:"));
  bad = MakeOffice("jaksel", "dukcapil");
  bad.set_time_zone("Asia/Tokyo");
  EXPECT_EQ(CreateOffice(bad, AgencyAdmin("dukcapil")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(
      CreateOffice(MakeOffice("jaksel", "dukcapil"), AgencyAdmin("dukcapil"))
          .ok());
  EXPECT_EQ(
      CreateOffice(MakeOffice("jaksel", "dukcapil"), AgencyAdmin("dukcapil"))
          .error_code(),
      grpc::StatusCode::ALREADY_EXISTS);

  // An office cannot move to another agency.
  UpdateOfficeRequest update;
  update.set_request_id("u-1");
  *update.mutable_office() = MakeOffice("jaksel", "samsat");
  Office response;
  status = Call(&DirectoryService::Stub::UpdateOffice, update, &response,
                RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("office.agency_id"));
  // Nor can an admin of another agency touch it by naming their own agency.
  status = Call(&DirectoryService::Stub::UpdateOffice, update, &response,
                AgencyAdmin("samsat"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  update.set_request_id("u-2");
  *update.mutable_office() = MakeOffice("jaksel", "dukcapil");
  update.mutable_office()->set_time_zone("Asia/Makassar");
  ASSERT_TRUE(Call(&DirectoryService::Stub::UpdateOffice, update, &response,
                   AgencyAdmin("dukcapil"))
                  .ok());
  GetOfficeRequest get;
  get.set_office_id("jaksel");
  ASSERT_TRUE(Call(&DirectoryService::Stub::GetOffice, get, &response).ok());
  EXPECT_EQ(response.time_zone(), "Asia/Makassar");
}

TEST_F(DirectoryServiceTest, CounterReferencesAreChecked) {
  Seed();
  const std::string admin = AgencyAdmin("dukcapil");
  grpc::Status status =
      CreateCounter(MakeCounter("l1", "dukcapil", "ghost", {"ktp-el"}), admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(),
              HasSubstr("counter.office_id: office ghost does not exist"));
  status =
      CreateCounter(MakeCounter("l1", "dukcapil", "jaksel", {"ghost"}), admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("counter.service_ids[0]"));
  status = CreateCounter(
      MakeCounter("l1", "dukcapil", "jaksel", {"ktp-el", "pkb"}), admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("counter.service_ids[1]: public service pkb belongs "
                        "to agency samsat"));
  status = CreateCounter(MakeCounter("l1", "dukcapil", "samsat-1", {"ktp-el"}),
                         admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("counter.office_id"));

  ASSERT_TRUE(
      CreateCounter(MakeCounter("l1", "dukcapil", "jaksel", {"ktp-el", "kk"}),
                    admin)
          .ok());
  Counter priority = MakeCounter("l2", "dukcapil", "jaksel", {"ktp-el"});
  priority.set_priority(true);
  ASSERT_TRUE(CreateCounter(priority, admin).ok());

  ListCountersRequest list;
  list.set_office_id("jaksel");
  ListCountersResponse counters;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListCounters, list, &counters).ok());
  ASSERT_EQ(counters.counters_size(), 2);
  EXPECT_EQ(counters.counters(0).id(), "l1");
  EXPECT_TRUE(counters.counters(1).priority());
  EXPECT_TRUE(counters.next_page_token().empty());

  // A counter cannot move to another office.
  UpdateCounterRequest update;
  update.set_request_id("u-1");
  *update.mutable_counter() = MakeCounter("l1", "dukcapil", "jaksel2", {"kk"});
  ASSERT_TRUE(CreateOffice(MakeOffice("jaksel2", "dukcapil"), admin).ok());
  Counter response;
  status =
      Call(&DirectoryService::Stub::UpdateCounter, update, &response, admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  *update.mutable_counter() = MakeCounter("l1", "dukcapil", "jaksel", {"kk"});
  update.set_request_id("u-2");
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::UpdateCounter, update, &response, admin)
          .ok());
  EXPECT_THAT(response.service_ids(), ElementsAre("kk"));
  GetCounterRequest get;
  get.set_counter_id("l1");
  ASSERT_TRUE(Call(&DirectoryService::Stub::GetCounter, get, &response).ok());
  EXPECT_THAT(response.service_ids(), ElementsAre("kk"));
}

TEST_F(DirectoryServiceTest, OfficersAreStaffOnly) {
  Seed();
  const std::string admin = AgencyAdmin("dukcapil");
  Officer officer = MakeOfficer("budi", "dukcapil", "samsat-1");
  grpc::Status status = CreateOfficer(officer, admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("officer.office_id: office samsat-1 belongs to agency "
                        "samsat, not dukcapil"));
  officer = MakeOfficer("budi", "dukcapil", "jaksel");
  officer.set_nip("198513302010011005");
  status = CreateOfficer(officer, admin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("officer.nip:"));
  ASSERT_TRUE(
      CreateOfficer(MakeOfficer("budi", "dukcapil", "jaksel"), admin).ok());
  ASSERT_TRUE(CreateOfficer(MakeOfficer("ani", "dukcapil", ""), admin).ok());

  GetOfficerRequest get;
  get.set_officer_id("budi");
  Officer response;
  EXPECT_EQ(
      Call(&DirectoryService::Stub::GetOfficer, get, &response).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(&DirectoryService::Stub::GetOfficer, get, &response,
                 Token("officer", "samsat"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&DirectoryService::Stub::GetOfficer, get, &response,
                 Token("citizen"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&DirectoryService::Stub::GetOfficer, get, &response,
                   Token("officer", "dukcapil"))
                  .ok());
  EXPECT_EQ(response.nip(), "198503302010011005");
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::GetOfficer, get, &response, RegionAdmin())
          .ok());

  ListOfficersRequest list;
  ListOfficersResponse officers;
  EXPECT_EQ(Call(&DirectoryService::Stub::ListOfficers, list, &officers,
                 Token("supervisor", "dukcapil"))
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.set_agency_id("dukcapil");
  EXPECT_EQ(Call(&DirectoryService::Stub::ListOfficers, list, &officers,
                 Token("supervisor", "samsat"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&DirectoryService::Stub::ListOfficers, list, &officers,
                   Token("supervisor", "dukcapil"))
                  .ok());
  EXPECT_EQ(officers.officers_size(), 2);
  list.set_office_id("jaksel");
  officers.Clear();
  ASSERT_TRUE(Call(&DirectoryService::Stub::ListOfficers, list, &officers,
                   Token("supervisor", "dukcapil"))
                  .ok());
  ASSERT_EQ(officers.officers_size(), 1);
  EXPECT_EQ(officers.officers(0).id(), "budi");
  // An office of another agency lists nothing for this agency.
  list.set_office_id("samsat-1");
  officers.Clear();
  ASSERT_TRUE(Call(&DirectoryService::Stub::ListOfficers, list, &officers,
                   Token("supervisor", "dukcapil"))
                  .ok());
  EXPECT_EQ(officers.officers_size(), 0);

  // Moving an officer to another office of the agency moves it between lists.
  ASSERT_TRUE(CreateOffice(MakeOffice("jaktim", "dukcapil"), admin).ok());
  UpdateOfficerRequest update;
  update.set_request_id("move-1");
  *update.mutable_officer() = MakeOfficer("budi", "dukcapil", "jaktim");
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::UpdateOfficer, update, &response, admin)
          .ok());
  list.set_office_id("jaksel");
  officers.Clear();
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListOfficers, list, &officers, admin).ok());
  EXPECT_EQ(officers.officers_size(), 0);
  list.set_office_id("jaktim");
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListOfficers, list, &officers, admin).ok());
  EXPECT_EQ(officers.officers_size(), 1);
}

TEST_F(DirectoryServiceTest, PublicServiceCreateGetUpdateList) {
  Seed();
  PublicService service = MakeService("akta", "dukcapil");
  service.mutable_standard()->mutable_fee()->set_amount(10000);
  grpc::Status status = CreateService(service, AgencyAdmin("dukcapil"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::StartsWith("public_service.standard.fee_legal_basis"));
  service.mutable_standard()->set_fee_legal_basis("Perda 1/2024");
  ASSERT_TRUE(CreateService(service, AgencyAdmin("dukcapil")).ok());
  GetPublicServiceRequest get;
  get.set_public_service_id("akta");
  PublicService response;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::GetPublicService, get, &response).ok());
  EXPECT_EQ(response.standard().fee().amount(), 10000);

  UpdatePublicServiceRequest update;
  update.set_request_id("u-1");
  *update.mutable_public_service() = service;
  update.mutable_public_service()->set_ticket_prefix("C");
  ASSERT_TRUE(Call(&DirectoryService::Stub::UpdatePublicService, update,
                   &response, AgencyAdmin("dukcapil"))
                  .ok());
  EXPECT_EQ(response.ticket_prefix(), "C");

  ListPublicServicesRequest list;
  list.set_agency_id("dukcapil");
  ListPublicServicesResponse services;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListPublicServices, list, &services).ok());
  std::vector<std::string> ids;
  for (const auto& s : services.public_services()) ids.push_back(s.id());
  EXPECT_THAT(ids, ElementsAre("akta", "kk", "ktp-el"));
  list.clear_agency_id();
  services.Clear();
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListPublicServices, list, &services).ok());
  EXPECT_EQ(services.public_services_size(), 4);
}

TEST_F(DirectoryServiceTest, Paging) {
  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(CreateOffice(MakeOffice(absl::StrCat("o", i), "dukcapil"),
                             RegionAdmin())
                    .ok());
  }
  ListOfficesRequest list;
  list.set_agency_id("dukcapil");
  list.set_page_size(3);
  std::vector<std::string> seen;
  std::vector<int> sizes;
  for (int page = 0; page < 5; ++page) {
    ListOfficesResponse response;
    ASSERT_TRUE(
        Call(&DirectoryService::Stub::ListOffices, list, &response).ok());
    sizes.push_back(response.offices_size());
    for (const auto& o : response.offices()) seen.push_back(o.id());
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(sizes, ElementsAre(3, 3, 1));
  EXPECT_THAT(seen, ElementsAre("o0", "o1", "o2", "o3", "o4", "o5", "o6"));

  // A token only works with the filters it was issued for.
  list.set_page_token("");
  ListOfficesResponse first;
  ASSERT_TRUE(Call(&DirectoryService::Stub::ListOffices, list, &first).ok());
  ListOfficesRequest other;
  other.set_page_token(first.next_page_token());
  ListOfficesResponse response;
  grpc::Status status =
      Call(&DirectoryService::Stub::ListOffices, other, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("page_token:"));
  other.set_page_token("%%%garbage");
  EXPECT_EQ(
      Call(&DirectoryService::Stub::ListOffices, other, &response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  other.set_page_token("");
  other.set_page_size(-1);
  EXPECT_EQ(
      Call(&DirectoryService::Stub::ListOffices, other, &response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  // Without a filter: every office (page size 0 = default 50).
  other.set_page_size(0);
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListOffices, other, &response).ok());
  EXPECT_EQ(response.offices_size(), 7);

  ListAgenciesRequest agencies;
  ListAgenciesResponse agencies_response;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListAgencies, agencies, &agencies_response)
          .ok());
  EXPECT_EQ(agencies_response.agencies_size(), 1);
}

TEST_F(DirectoryServiceTest, MutationsEmitDirectoryChanged) {
  Seed();
  auto events = Events();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[0].first.type(), "directory.changed");
  EXPECT_EQ(events[0].first.agency(), "dukcapil");
  EXPECT_EQ(events[0].first.producer(), "catalog");
  EXPECT_EQ(events[0].second.kind(), events::v1::DirectoryChanged::KIND_AGENCY);
  EXPECT_EQ(events[2].first.agency(), "dukcapil");
  EXPECT_EQ(events[2].second.kind(), events::v1::DirectoryChanged::KIND_OFFICE);
  EXPECT_THAT(events[2].second.ids(), ElementsAre("jaksel"));
  EXPECT_FALSE(events[2].second.whole_agency());
  EXPECT_EQ(events[3].first.agency(), "samsat");
  // Failed mutations emit nothing.
  EXPECT_FALSE(
      CreateOffice(MakeOffice("jaksel", "dukcapil"), RegionAdmin()).ok());
  EXPECT_EQ(EventCount(), 7);
}

ApplyDirectoryRequest Region(const std::string& request_id) {
  ApplyDirectoryRequest request;
  request.set_request_id(request_id);
  *request.add_agencies() = MakeAgency("dukcapil");
  *request.add_agencies() = MakeAgency("samsat");
  *request.add_offices() = MakeOffice("jaksel", "dukcapil");
  Office jayapura = MakeOffice("samsat-jpr", "samsat");
  jayapura.set_time_zone("Asia/Jayapura");
  *request.add_offices() = jayapura;
  *request.add_public_services() = MakeService("ktp-el", "dukcapil");
  *request.add_public_services() = MakeService("pkb", "samsat");
  *request.add_counters() = MakeCounter("l1", "dukcapil", "jaksel", {"ktp-el"});
  *request.add_counters() = MakeCounter("s1", "samsat", "samsat-jpr", {"pkb"});
  *request.add_officers() = MakeOfficer("budi", "dukcapil", "jaksel");
  *request.add_officers() = MakeOfficer("yohana", "samsat", "samsat-jpr");
  return request;
}

TEST_F(DirectoryServiceTest, ApplyDirectoryIsIdempotent) {
  ApplyDirectoryResponse response;
  ASSERT_TRUE(Call(&DirectoryService::Stub::ApplyDirectory, Region("a-1"),
                   &response, RegionAdmin())
                  .ok());
  EXPECT_EQ(response.agencies().created(), 2);
  EXPECT_EQ(response.offices().created(), 2);
  EXPECT_EQ(response.public_services().created(), 2);
  EXPECT_EQ(response.counters().created(), 2);
  EXPECT_EQ(response.officers().created(), 2);
  EXPECT_THAT(response.changed_agency_ids(), ElementsAre("dukcapil", "samsat"));
  EXPECT_EQ(EventCount(), 2);
  auto events = Events();
  EXPECT_TRUE(events[0].second.whole_agency());
  EXPECT_EQ(events[0].first.agency(), "dukcapil");
  EXPECT_EQ(events[1].first.agency(), "samsat");

  // A second run with a new request id: everything unchanged, no event.
  ASSERT_TRUE(Call(&DirectoryService::Stub::ApplyDirectory, Region("a-2"),
                   &response, RegionAdmin())
                  .ok());
  for (const ApplyCounts* counts :
       {&response.agencies(), &response.offices(), &response.public_services(),
        &response.counters(), &response.officers()}) {
    EXPECT_EQ(counts->created(), 0);
    EXPECT_EQ(counts->updated(), 0);
    EXPECT_EQ(counts->unchanged(), 2);
  }
  EXPECT_TRUE(response.changed_agency_ids().empty());
  EXPECT_EQ(EventCount(), 2);

  // One change: one update and one event, for its agency only.
  ApplyDirectoryRequest changed = Region("a-3");
  changed.mutable_public_services(1)->set_name("Pajak Kendaraan Bermotor");
  ASSERT_TRUE(Call(&DirectoryService::Stub::ApplyDirectory, changed, &response,
                   RegionAdmin())
                  .ok());
  EXPECT_EQ(response.public_services().updated(), 1);
  EXPECT_EQ(response.public_services().unchanged(), 1);
  EXPECT_THAT(response.changed_agency_ids(), ElementsAre("samsat"));
  EXPECT_EQ(EventCount(), 3);

  // A retry of a-1 replays its first answer.
  ASSERT_TRUE(Call(&DirectoryService::Stub::ApplyDirectory, Region("a-1"),
                   &response, RegionAdmin())
                  .ok());
  EXPECT_EQ(response.agencies().created(), 2);
  EXPECT_EQ(EventCount(), 3);

  // The applied data reads back through the normal RPCs.
  GetPublicServiceRequest get;
  get.set_public_service_id("pkb");
  PublicService service;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::GetPublicService, get, &service).ok());
  EXPECT_EQ(service.name(), "Pajak Kendaraan Bermotor");
  ListCountersRequest list;
  list.set_office_id("samsat-jpr");
  ListCountersResponse counters;
  ASSERT_TRUE(
      Call(&DirectoryService::Stub::ListCounters, list, &counters).ok());
  ASSERT_EQ(counters.counters_size(), 1);
  EXPECT_EQ(counters.counters(0).id(), "s1");
}

TEST_F(DirectoryServiceTest, ApplyDirectoryChecksEverythingFirst) {
  ApplyDirectoryRequest request = Region("b-1");
  request.mutable_counters(0)->set_service_ids(0, "pkb");
  ApplyDirectoryResponse response;
  grpc::Status status = Call(&DirectoryService::Stub::ApplyDirectory, request,
                             &response, RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("counters[0].service_ids[0]: public service pkb "
                        "belongs to agency samsat"));
  // Nothing was written.
  EXPECT_EQ(EventCount(), 0);
  EXPECT_EQ(
      redis_->Command({"EXISTS", "prima:catalog:agency:dukcapil"})->integer, 0);

  request = Region("b-2");
  request.mutable_officers(0)->set_office_id("ghost");
  status = Call(&DirectoryService::Stub::ApplyDirectory, request, &response,
                RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("officers[0].office_id"));

  request = Region("b-3");
  request.mutable_offices(1)->set_time_zone("Europe/Paris");
  status = Call(&DirectoryService::Stub::ApplyDirectory, request, &response,
                RegionAdmin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::StartsWith("offices[1].time_zone:"));
  EXPECT_EQ(EventCount(), 0);
}

TEST_F(DirectoryServiceTest, ApplyDirectoryAccess) {
  // Agency admins may not apply across agencies, nor create agencies.
  ApplyDirectoryResponse response;
  EXPECT_EQ(Call(&DirectoryService::Stub::ApplyDirectory, Region("c-1"),
                 &response, AgencyAdmin("dukcapil"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ApplyDirectoryRequest own;
  own.set_request_id("c-2");
  *own.add_agencies() = MakeAgency("dukcapil");
  *own.add_offices() = MakeOffice("jaksel", "dukcapil");
  EXPECT_EQ(Call(&DirectoryService::Stub::ApplyDirectory, own, &response,
                 AgencyAdmin("dukcapil"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&DirectoryService::Stub::ApplyDirectory, own, &response,
                 AgencyAdmin("samsat"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&DirectoryService::Stub::ApplyDirectory, own, &response,
                 Token("officer", "dukcapil"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&DirectoryService::Stub::ApplyDirectory, own, &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Once the agency exists its admin may apply its own items.
  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
  own.set_request_id("c-3");
  ASSERT_TRUE(Call(&DirectoryService::Stub::ApplyDirectory, own, &response,
                   AgencyAdmin("dukcapil"))
                  .ok());
  EXPECT_EQ(response.agencies().unchanged(), 1);
  EXPECT_EQ(response.offices().created(), 1);
}

TEST_F(DirectoryServiceTest, RedisDownIsUnavailable) {
  ASSERT_TRUE(CreateAgency(MakeAgency("dukcapil"), RegionAdmin()).ok());
  redis_->Kill();
  GetAgencyRequest get;
  get.set_agency_id("dukcapil");
  Agency agency;
  const absl::Time start = absl::Now();
  EXPECT_EQ(Call(&DirectoryService::Stub::GetAgency, get, &agency).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CreateAgency(MakeAgency("samsat"), RegionAdmin()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace prima
