// Authorization of every RPC of every service, driven by the protos'
// descriptors: each RPC gets a request aimed at real resources of one agency
// (A: e2e-dukcapil) and is called with every kind of token. The code each call
// must end with comes from kExpectations, which mirrors the "Callers" comments
// of protos/prima/*/v1/*.proto; an RPC without a row fails the test.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/queue/v1/queue.pb.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"
#include "tests/testing/e2e_stack.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/served_services.h"
#include "tests/testing/tokens.h"

namespace prima {
namespace {

namespace catalog = ::prima::catalog::v1;
namespace complaint = ::prima::complaint::v1;
namespace queue = ::prima::queue::v1;
namespace satisfaction = ::prima::satisfaction::v1;
using ::google::protobuf::DynamicMessageFactory;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::TextFormat;
using ::prima::testing::BearerToken;
using ::prima::testing::MethodPath;
using ::prima::testing::TokenClaims;
using ::prima::testing::TokenFlaw;

// Agency A owns every resource the requests aim at; B is the foreign agency.
constexpr char kAgency[] = "e2e-dukcapil";
constexpr char kForeignAgency[] = "e2e-samsat";
constexpr char kOffice[] = "e2e-kantor";
constexpr char kService[] = "e2e-ktp";
constexpr char kOtherService[] = "e2e-kk";
constexpr char kCounter[] = "e2e-loket-1";
// Officers of A: one who passed the course (the certificate), one still
// ENROLLED (progress, completion, withdrawal), one named by a complaint (the
// training recommendation).
constexpr char kPassedOfficer[] = "e2e-siti";
constexpr char kEnrolledOfficer[] = "e2e-andi";
constexpr char kComplainedOfficer[] = "authz-dewi";
constexpr char kForeignOfficer[] = "e2e-yohanes";
constexpr char kIssuer[] = "prima-authz-test";

// The kinds of token each RPC is called with, in the order of the columns of
// kExpectations.
struct TokenKind {
  const char* name;
  TokenFlaw flaw;
  TokenClaims claims;  // empty subject: no authorization metadata at all
};
const std::vector<TokenKind>& TokenKinds() {
  static const auto* kinds = new std::vector<TokenKind>{
      {"none", TokenFlaw::kNone, {}},
      // The invalid tokens would be region_admin if they were valid.
      {"expired", TokenFlaw::kExpired, {"authz-region", "", {"region_admin"}}},
      {"bad signature",
       TokenFlaw::kBadSignature,
       {"authz-region", "", {"region_admin"}}},
      {"wrong audience",
       TokenFlaw::kWrongAudience,
       {"authz-region", "", {"region_admin"}}},
      {"wrong issuer",
       TokenFlaw::kWrongIssuer,
       {"authz-region", "", {"region_admin"}}},
      {"alg none", TokenFlaw::kAlgNone, {"authz-region", "", {"region_admin"}}},
      {"citizen", TokenFlaw::kNone, {"authz-citizen", "", {"citizen"}}},
      {"officer of B",
       TokenFlaw::kNone,
       {kForeignOfficer, kForeignAgency, {"officer"}}},
      {"supervisor of B",
       TokenFlaw::kNone,
       {"authz-samsat-supervisor", kForeignAgency, {"supervisor"}}},
      {"agency_admin of B",
       TokenFlaw::kNone,
       {"authz-samsat-admin", kForeignAgency, {"agency_admin"}}},
  };
  return *kinds;
}

// One RPC: a request aimed at A's resources, in text format with $NAME
// placeholders for their ids (see CreateResourcesOfAgencyA; $UNIQUE is new for
// every call), and the code expected for each token kind. A request_id field
// is filled in fresh for every call.
//
// `codes` has one letter per column of TokenKinds(), spaces ignored, grouped
// as "none  expired bad-signature wrong-audience wrong-issuer alg-none  citizen
// officer/supervisor/agency_admin of B":
//   O OK, U UNAUTHENTICATED, P PERMISSION_DENIED, N NOT_FOUND.
// The complaint service answers NOT_FOUND where a caller may not see a
// complaint, so that its existence does not leak (complaint.proto).
struct Expectation {
  const char* method;  // "package.Service/Method"
  const char* request;
  const char* codes;
};

// Every public RPC still refuses an invalid token (Authorizer::Authorize), so
// the five invalid-token columns are U in every row.
const Expectation kExpectations[] = {
    // ---- directory: reads public except officers; writes agency_admin of
    // the resource's agency or region_admin ----
    {"prima.catalog.v1.DirectoryService/CreateAgency",
     "agency { id: 'authz-new' name: 'Baru' region: 'DKI Jakarta' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/GetAgency", "agency_id: '$AGENCY'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/ListAgencies", "", "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/UpdateAgency",
     "agency { id: '$AGENCY' name: 'Ganti' region: 'DKI Jakarta' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/CreateOffice",
     "office { id: 'authz-new' agency_id: '$AGENCY' name: 'Baru' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/GetOffice", "office_id: '$OFFICE'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/ListOffices", "agency_id: '$AGENCY'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/UpdateOffice",
     "office { id: '$OFFICE' agency_id: '$AGENCY' name: 'Ganti' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/CreatePublicService",
     "public_service { id: 'authz-new' agency_id: '$AGENCY' name: 'Baru' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/GetPublicService",
     "public_service_id: '$SERVICE'", "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/ListPublicServices",
     "agency_id: '$AGENCY'", "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/UpdatePublicService",
     "public_service { id: '$SERVICE' agency_id: '$AGENCY' name: 'Ganti' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/CreateCounter",
     "counter { id: 'authz-new' agency_id: '$AGENCY' office_id: '$OFFICE' "
     "name: 'Baru' service_ids: '$SERVICE' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/GetCounter", "counter_id: '$COUNTER'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/ListCounters", "office_id: '$OFFICE'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.DirectoryService/UpdateCounter",
     "counter { id: '$COUNTER' agency_id: '$AGENCY' office_id: '$OFFICE' "
     "name: 'Ganti' service_ids: '$SERVICE' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/CreateOfficer",
     "officer { id: 'authz-new' agency_id: '$AGENCY' name: 'Baru' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/GetOfficer",
     "officer_id: '$PASSED_OFFICER'", "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/ListOfficers", "agency_id: '$AGENCY'",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/UpdateOfficer",
     "officer { id: '$PASSED_OFFICER' agency_id: '$AGENCY' name: 'Ganti' }",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.DirectoryService/ApplyDirectory",
     "offices { id: '$OFFICE' agency_id: '$AGENCY' name: 'Ganti' }",
     "U UUUUU P PPP"},

    // ---- training ----
    // agency_admin of the owner agency or region_admin.
    {"prima.catalog.v1.TrainingService/CreateCourse",
     "course { id: 'authz-new' owner_agency: '$AGENCY' }", "U UUUUU P PPP"},
    // Public for the PUBLISHED course.
    {"prima.catalog.v1.TrainingService/GetCourse", "course_id: '$COURSE'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.TrainingService/ListCourses", "", "O UUUUU O OOO"},
    // The whole stored course, so that only the caller is wrong.
    {"prima.catalog.v1.TrainingService/UpdateCourse",
     "course { $STORED_COURSE }", "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/PublishCourse", "course_id: '$COURSE'",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/ArchiveCourse", "course_id: '$COURSE'",
     "U UUUUU P PPP"},
    // supervisor or agency_admin of the offering's agency, region_admin.
    {"prima.catalog.v1.TrainingService/CreateOffering",
     "offering { course_id: '$COURSE' agency: '$AGENCY' }", "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/GetOffering", "offering_id: '$OFFERING'",
     "O UUUUU O OOO"},
    {"prima.catalog.v1.TrainingService/ListOfferings", "course_id: '$COURSE'",
     "O UUUUU O OOO"},
    // The officer themselves, supervisor or agency_admin of their agency.
    {"prima.catalog.v1.TrainingService/Enroll",
     "offering_id: '$OFFERING' officer_id: '$COMPLAINED_OFFICER'",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/Withdraw",
     "offering_id: '$OFFERING' officer_id: '$ENROLLED_OFFICER'",
     "U UUUUU P PPP"},
    // supervisor or agency_admin of the enrolment's or offering's agency.
    {"prima.catalog.v1.TrainingService/RecordProgress",
     "offering_id: '$OFFERING' officer_id: '$ENROLLED_OFFICER' "
     "attendance_percent: 50",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/Complete",
     "offering_id: '$OFFERING' officer_id: '$ENROLLED_OFFICER' score: 90",
     "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/VerifyCertificate",
     "verification_code: '$CERTIFICATE'", "O UUUUU O OOO"},
    // The officer themselves, supervisor or agency_admin of their agency.
    {"prima.catalog.v1.TrainingService/GetTrainingRecord",
     "officer_id: '$PASSED_OFFICER'", "U UUUUU P PPP"},
    // agency_admin of that agency.
    {"prima.catalog.v1.TrainingService/SetRequiredCourses",
     "agency: '$AGENCY' course_ids: '$COURSE'", "U UUUUU P PPP"},
    // Staff of that agency.
    {"prima.catalog.v1.TrainingService/GetRequiredCourses", "agency: '$AGENCY'",
     "U UUUUU P PPP"},
    // supervisor or agency_admin of that agency.
    {"prima.catalog.v1.TrainingService/ListComplianceGaps", "agency: '$AGENCY'",
     "U UUUUU P PPP"},
    // The officer themselves, supervisor or agency_admin of the agency.
    {"prima.catalog.v1.TrainingService/ListRecommendations",
     "agency: '$AGENCY' officer_id: '$COMPLAINED_OFFICER'", "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/AcceptRecommendation",
     "recommendation_id: '$RECOMMENDATION'", "U UUUUU P PPP"},
    {"prima.catalog.v1.TrainingService/DismissRecommendation",
     "recommendation_id: '$RECOMMENDATION'", "U UUUUU P PPP"},

    // ---- complaints ----
    // Public: anyone may file.
    {"prima.complaint.v1.ComplaintService/FileComplaint",
     "complaint { agency_id: '$AGENCY' classification: "
     "CLASSIFICATION_PENGADUAN channel: CHANNEL_WEB "
     "category: CATEGORY_SERVICE_RELATED "
     "title: 'Antrean lama' description: 'Antrean perekaman KTP-el berjalan "
     "sangat lambat tanpa penjelasan dari petugas.' anonymous: true }",
     "O UUUUU O OOO"},
    // The reporter (secret or token) or the handling agency's staff; the
    // requests carry no receipt secret, so nobody here may see it.
    {"prima.complaint.v1.ComplaintService/GetComplaint",
     "tracking_number: '$COMPLAINT'", "N UUUUU N NNN"},
    {"prima.complaint.v1.ComplaintService/RespondToResolution",
     "tracking_number: '$COMPLAINT' accept: true", "N UUUUU N NNN"},
    {"prima.complaint.v1.ComplaintService/RateResolution",
     "tracking_number: '$COMPLAINT' rating: 5", "N UUUUU N NNN"},
    // Officer and above of the handling agency.
    {"prima.complaint.v1.ComplaintService/Verify",
     "tracking_number: '$COMPLAINT'", "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/Reject",
     "tracking_number: '$COMPLAINT' reason: 'Bukan pengaduan yang sah.'",
     "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/Forward",
     "tracking_number: '$COMPLAINT' to_agency_id: '$FOREIGN_AGENCY'",
     "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/Assign",
     "tracking_number: '$COMPLAINT' officer_id: '$PASSED_OFFICER'",
     "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/StartWork",
     "tracking_number: '$COMPLAINT'", "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/Resolve",
     "tracking_number: '$COMPLAINT' resolution: 'Sudah ditangani.'",
     "U UUUUU P NNN"},
    {"prima.complaint.v1.ComplaintService/AddComment",
     "tracking_number: '$COMPLAINT' text: 'Sedang diperiksa.'",
     "U UUUUU P NNN"},
    // Staff of the agency.
    {"prima.complaint.v1.ComplaintService/ListComplaints",
     "agency_id: '$AGENCY'", "U UUUUU P PPP"},
    // supervisor and above of the agency.
    {"prima.complaint.v1.ComplaintService/GetComplaintStats",
     "agency_id: '$AGENCY'", "U UUUUU P PPP"},
    // agency_admin of the agency, region_admin.
    {"prima.complaint.v1.ComplaintService/UpdateDeadlinePolicy",
     "policy { agency_id: '$AGENCY' category: CATEGORY_SERVICE_RELATED "
     "verify_working_days: 3 follow_up_working_days: 5 response_days: 10 }",
     "U UUUUU P PPP"},

    // ---- queue ----
    // Public: a kiosk needs no token.
    {"prima.queue.v1.QueueService/IssueTicket",
     "office_id: '$OFFICE' service_id: '$SERVICE' channel: CHANNEL_KIOSK",
     "O UUUUU O OOO"},
    // The holder of the receipt secret (none is sent), the token that issued
    // it, or staff of the agency.
    {"prima.queue.v1.QueueService/GetTicket", "ticket_id: '$TICKET'",
     "P UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CancelTicket", "ticket_id: '$TICKET'",
     "P UUUUU P PPP"},
    {"prima.queue.v1.QueueService/WatchTicket", "ticket_id: '$TICKET'",
     "P UUUUU P PPP"},
    // Public.
    {"prima.queue.v1.QueueService/ListAvailableSlots",
     "office_id: '$OFFICE' service_id: '$SERVICE' date { $TOMORROW }",
     "O UUUUU O OOO"},
    {"prima.queue.v1.QueueService/BookAppointment",
     "office_id: '$OFFICE' service_id: '$SERVICE' "
     "slot_start_time { seconds: $SLOT }",
     "O UUUUU O OOO"},
    // Access as GetTicket, with the appointment's secret (none is sent).
    {"prima.queue.v1.QueueService/GetAppointment",
     "appointment_id: '$APPOINTMENT'", "P UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CancelAppointment",
     "appointment_id: '$APPOINTMENT'", "P UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CheckIn", "appointment_id: '$APPOINTMENT'",
     "P UUUUU P PPP"},
    // supervisor, agency_admin of the office's agency, region_admin.
    {"prima.queue.v1.QueueService/UpdateAppointmentSettings",
     "settings { office_id: '$OFFICE' service_id: '$SERVICE' slot_minutes: 30 "
     "capacity_per_slot: 100 booking_horizon_days: 14 "
     "check_in_grace_minutes: 15 }",
     "U UUUUU P PPP"},
    // Staff of the counter's agency; officer actions also need the counter
    // open by the caller.
    {"prima.queue.v1.QueueService/OpenCounter", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CloseCounter", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/PauseCounter", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/ResumeCounter", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/GetCounterSession", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CallNext", "counter_id: '$COUNTER'",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/Recall",
     "counter_id: '$COUNTER' ticket_id: '$TICKET'", "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/MarkNoShow",
     "counter_id: '$COUNTER' ticket_id: '$TICKET'", "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/StartService",
     "counter_id: '$COUNTER' ticket_id: '$TICKET'", "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/CompleteService",
     "counter_id: '$COUNTER' ticket_id: '$TICKET' "
     "outcome: SERVICE_OUTCOME_DONE",
     "U UUUUU P PPP"},
    {"prima.queue.v1.QueueService/TransferTicket",
     "counter_id: '$COUNTER' ticket_id: '$TICKET' "
     "to_service_id: '$OTHER_SERVICE'",
     "U UUUUU P PPP"},
    // Public.
    {"prima.queue.v1.QueueService/WatchOffice", "office_id: '$OFFICE'",
     "O UUUUU O OOO"},
    // supervisor, agency_admin of the office's agency, region_admin.
    {"prima.queue.v1.QueueService/GetQueueStats",
     "office_id: '$OFFICE' date { $TODAY }", "U UUUUU P PPP"},

    // ---- satisfaction ----
    // Public.
    {"prima.satisfaction.v1.SatisfactionService/ListTemplates",
     "agency_id: '$AGENCY'", "O UUUUU O OOO"},
    {"prima.satisfaction.v1.SatisfactionService/GetTemplate",
     "template_id: 'skm'", "O UUUUU O OOO"},
    // agency_admin of the template's agency, region_admin.
    {"prima.satisfaction.v1.SatisfactionService/SaveTemplate",
     "template { id: 'authz-new' agency_id: '$AGENCY' name: 'Baru' }",
     "U UUUUU P PPP"},
    // Staff of the agency.
    {"prima.satisfaction.v1.SatisfactionService/CreateInvitation",
     "agency_id: '$AGENCY' office_id: '$OFFICE' service_id: '$SERVICE'",
     "U UUUUU P PPP"},
    // Public.
    {"prima.satisfaction.v1.SatisfactionService/GetInvitation",
     "token: '$INVITATION'", "O UUUUU O OOO"},
    // Public; at A's registered kiosk (it answers 5 of the 10 columns, below
    // its rate of 10 a minute).
    {"prima.satisfaction.v1.SatisfactionService/SubmitResponse",
     "kiosk { kiosk_id: '$KIOSK' kiosk_credential: '$KIOSK_CREDENTIAL' "
     "service_id: '$SERVICE' } template_id: 'skm' "
     "answers { code: 'U1' value: 3 } answers { code: 'U2' value: 3 } "
     "answers { code: 'U3' value: 3 } answers { code: 'U4' value: 3 } "
     "answers { code: 'U5' value: 3 } answers { code: 'U6' value: 3 } "
     "answers { code: 'U7' value: 3 } answers { code: 'U8' value: 3 } "
     "answers { code: 'U9' value: 3 }",
     "O UUUUU O OOO"},
    // agency_admin of the office's agency, region_admin.
    {"prima.satisfaction.v1.SatisfactionService/RegisterKiosk",
     "office_id: '$OFFICE' name: 'Tablet'", "U UUUUU P PPP"},
    // Staff of the agency.
    {"prima.satisfaction.v1.SatisfactionService/ListKiosks",
     "agency_id: '$AGENCY' office_id: '$OFFICE'", "U UUUUU P PPP"},
    // agency_admin of the kiosk's agency, region_admin.
    {"prima.satisfaction.v1.SatisfactionService/RevokeKiosk",
     "kiosk_id: '$KIOSK'", "U UUUUU P PPP"},
    // Published scores are public.
    {"prima.satisfaction.v1.SatisfactionService/GetIndex",
     "scope { kind: SCOPE_KIND_AGENCY id: '$AGENCY' } "
     "period { kind: PERIOD_KIND_MONTH key: '$MONTH' }",
     "O UUUUU O OOO"},
    {"prima.satisfaction.v1.SatisfactionService/GetTrend",
     "scope { kind: SCOPE_KIND_AGENCY id: '$AGENCY' } "
     "granularity: GRANULARITY_DAY first_date { $TODAY } "
     "last_date { $TODAY }",
     "O UUUUU O OOO"},
    {"prima.satisfaction.v1.SatisfactionService/RankAgencies",
     "period { kind: PERIOD_KIND_MONTH key: '$MONTH' }", "O UUUUU O OOO"},
    {"prima.satisfaction.v1.SatisfactionService/RankOffices",
     "agency_id: '$AGENCY' period { kind: PERIOD_KIND_MONTH key: '$MONTH' }",
     "O UUUUU O OOO"},
    // supervisor and above of the agency.
    {"prima.satisfaction.v1.SatisfactionService/ExportResponses",
     "agency_id: '$AGENCY' period { kind: PERIOD_KIND_MONTH key: '$MONTH' }",
     "U UUUUU P PPP"},
    // agency_admin of the agency, region_admin.
    {"prima.satisfaction.v1.SatisfactionService/UpdateScoreSettings",
     "settings { agency_id: '$AGENCY' low_element_threshold: 80 }",
     "U UUUUU P PPP"},
};

// The expected codes of `row`, one per token kind; a malformed row fails the
// test.
std::vector<char> Codes(const Expectation& row) {
  std::vector<char> codes;
  for (char c : absl::string_view(row.codes)) {
    if (c == ' ') continue;
    EXPECT_TRUE(absl::string_view("OUPN").find(c) != absl::string_view::npos)
        << row.method << ": unknown code letter " << c;
    codes.push_back(c);
  }
  EXPECT_EQ(codes.size(), TokenKinds().size()) << row.method;
  return codes;
}

bool Matches(char expected, grpc::StatusCode code) {
  switch (expected) {
    case 'O':
      return code == grpc::StatusCode::OK;
    case 'U':
      return code == grpc::StatusCode::UNAUTHENTICATED;
    case 'P':
      return code == grpc::StatusCode::PERMISSION_DENIED;
    case 'N':
      return code == grpc::StatusCode::NOT_FOUND;
  }
  return false;
}

std::string CodeName(const grpc::Status& status) {
  return absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
}

std::string FullName(const MethodDescriptor& method) {
  return absl::StrCat(method.service()->full_name(), "/", method.name());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << path;
  return text.str();
}

// The table and the protos name the same RPCs: a new RPC needs a row, a
// removed one loses its row. Needs no servers.
TEST(AuthorizationTableTest, HasOneRowPerRpc) {
  std::set<std::string> rows;
  for (const Expectation& row : kExpectations) {
    EXPECT_TRUE(rows.insert(row.method).second)
        << row.method << " has two rows in kExpectations";
    Codes(row);
  }
  std::set<std::string> rpcs;
  for (const testing::ServedBy& served : testing::AllServices()) {
    for (int i = 0; i < served.service->method_count(); ++i) {
      const std::string name = FullName(*served.service->method(i));
      rpcs.insert(name);
      EXPECT_TRUE(rows.count(name) == 1)
          << name << " has no row in kExpectations (authorization_test.cc): "
          << "add one from the Callers comment of its proto";
    }
  }
  for (const std::string& row : rows) {
    EXPECT_TRUE(rpcs.count(row) == 1)
        << row << " in kExpectations is not an RPC of the protos";
  }
  EXPECT_GT(rpcs.size(), 90u);
}

class AuthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::E2eStack>> stack =
        testing::E2eStack::Start(PRIMA_CLI_PATH,
                                 {{"catalog", PRIMA_CATALOG_PATH},
                                  {"queue", PRIMA_QUEUE_PATH},
                                  {"complaint", PRIMA_COMPLAINT_PATH},
                                  {"satisfaction", PRIMA_SATISFACTION_PATH}},
                                 {absl::StrCat("PRIMA_JWT_ISSUER=", kIssuer)});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    for (const char* binary :
         {"catalog", "queue", "complaint", "satisfaction"}) {
      (*channels_)[binary] = grpc::CreateChannel(
          stack_->Address(binary), grpc::InsecureChannelCredentials());
    }
    CreateResourcesOfAgencyA();
  }

  static void TearDownTestSuite() {
    if (stack_ == nullptr) return;
    stack_->Stop();
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr) << "the stack did not start";
    ASSERT_FALSE(placeholders_->empty()) << "agency A's resources are missing";
  }

  // A valid token of A (or of the region) for setting up.
  static std::string Bearer(const std::string& role,
                            const std::string& subject = "authz-setup",
                            const std::string& agency = kAgency) {
    return BearerToken(Settings(), {subject, agency, {role}});
  }

  static testing::TokenSettings Settings() {
    return {testing::kE2eJwtSecret, kIssuer, "prima"};
  }

  // Calls `method` ("/package.Service/Method") of `binary` with `request`
  // as `bearer` (none when empty); the reply parsed, or the failure.
  template <typename Response>
  static absl::StatusOr<Response> Call(const std::string& binary,
                                       const std::string& method,
                                       const Message& request,
                                       const std::string& bearer = "") {
    std::multimap<std::string, std::string> metadata;
    if (!bearer.empty()) metadata.emplace("authorization", bearer);
    std::string bytes;
    const grpc::Status status = testing::RawUnaryCall(
        (*channels_)[binary], method, request.SerializeAsString(), &bytes,
        absl::Seconds(5), metadata);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(method, ": ", status.error_message()));
    }
    Response response;
    if (!response.ParseFromString(bytes)) {
      return absl::InternalError(absl::StrCat(method, ": unparsable reply"));
    }
    return response;
  }

  // A request id no other call uses (callers without a token need 16+
  // characters).
  static std::string Unique() {
    static absl::BitGen bits;
    static int counter = 0;
    return absl::StrCat("authz", ++counter, "-",
                        absl::Uniform<uint64_t>(bits) % 1000000000000);
  }

  static std::string LocalDateText(absl::Time at) {
    const absl::CivilDay day =
        absl::ToCivilDay(at, absl::FixedTimeZone(7 * 3600));  // WIB
    return absl::StrCat("year: ", day.year(), " month: ", day.month(),
                        " day: ", day.day());
  }

  // Everything the requests of kExpectations aim at, created by staff of A
  // (the directory and the agency by the region admin), and the placeholders
  // naming them.
  static void CreateResourcesOfAgencyA() {
    const std::string region = Bearer("region_admin", "authz-region", "");
    const std::string admin = Bearer("agency_admin", "authz-admin");
    const std::string supervisor = Bearer("supervisor", "authz-supervisor");

    catalog::ApplyDirectoryRequest directory;
    ASSERT_TRUE(TextFormat::ParseFromString(ReadFile(PRIMA_AUTHZ_DIRECTORY),
                                            &directory));
    directory.set_request_id(Unique());
    ASSERT_TRUE(Call<catalog::ApplyDirectoryResponse>(
                    "catalog",
                    "/prima.catalog.v1.DirectoryService/ApplyDirectory",
                    directory, region)
                    .status()
                    .ok());
    catalog::CreateOfficerRequest officer;
    ASSERT_TRUE(TextFormat::ParseFromString(
        absl::StrCat("officer { id: '", kComplainedOfficer, "' agency_id: '",
                     kAgency, "' office_id: '", kOffice,
                     "' name: 'Dewi Uji' nip: '199205102018012001' "
                     "position: 'Petugas Loket' front_line: true }"),
        &officer));
    officer.set_request_id(Unique());
    absl::Status status =
        Call<catalog::Officer>("catalog",
                               "/prima.catalog.v1.DirectoryService/"
                               "CreateOfficer",
                               officer, admin)
            .status();
    ASSERT_TRUE(status.ok()) << status;

    // A PUBLISHED course of A with an offering: one officer passed it (a
    // certificate), one is ENROLLED.
    catalog::CreateCourseRequest course;
    ASSERT_TRUE(TextFormat::ParseFromString(ReadFile(PRIMA_COURSE_FILE),
                                            course.mutable_course()));
    course.mutable_course()->set_id("authz-course");
    course.mutable_course()->set_owner_agency(kAgency);
    course.set_request_id(Unique());
    status = Call<catalog::Course>(
                 "catalog", "/prima.catalog.v1.TrainingService/CreateCourse",
                 course, admin)
                 .status();
    ASSERT_TRUE(status.ok()) << status;
    catalog::PublishCourseRequest publish;
    publish.set_course_id("authz-course");
    publish.set_request_id(Unique());
    absl::StatusOr<catalog::Course> published = Call<catalog::Course>(
        "catalog", "/prima.catalog.v1.TrainingService/PublishCourse", publish,
        admin);
    ASSERT_TRUE(published.ok()) << published.status();

    const absl::Time now = absl::Now();
    catalog::CreateOfferingRequest offering;
    offering.set_request_id(Unique());
    catalog::Offering* o = offering.mutable_offering();
    o->set_id("authz-offering");
    o->set_course_id("authz-course");
    o->set_agency(kAgency);
    o->set_mode(catalog::OFFERING_MODE_ONLINE);
    o->set_capacity(10);
    o->mutable_enrolment_deadline()->set_seconds(
        absl::ToUnixSeconds(now + absl::Hours(24 * 9)));
    o->mutable_start_time()->set_seconds(
        absl::ToUnixSeconds(now + absl::Hours(24 * 10)));
    o->mutable_end_time()->set_seconds(
        absl::ToUnixSeconds(now + absl::Hours(24 * 11)));
    status = Call<catalog::Offering>(
                 "catalog", "/prima.catalog.v1.TrainingService/CreateOffering",
                 offering, supervisor)
                 .status();
    ASSERT_TRUE(status.ok()) << status;
    for (const char* enrolled : {kPassedOfficer, kEnrolledOfficer}) {
      catalog::EnrollRequest enroll;
      enroll.set_offering_id("authz-offering");
      enroll.set_officer_id(enrolled);
      enroll.set_request_id(Unique());
      status = Call<catalog::Enrolment>(
                   "catalog", "/prima.catalog.v1.TrainingService/Enroll",
                   enroll, supervisor)
                   .status();
      ASSERT_TRUE(status.ok()) << status;
    }
    catalog::CompleteRequest complete;
    complete.set_offering_id("authz-offering");
    complete.set_officer_id(kPassedOfficer);
    complete.set_score(90);
    complete.set_request_id(Unique());
    absl::StatusOr<catalog::Enrolment> passed = Call<catalog::Enrolment>(
        "catalog", "/prima.catalog.v1.TrainingService/Complete", complete,
        supervisor);
    ASSERT_TRUE(passed.ok()) << passed.status();
    ASSERT_FALSE(passed->certificate().verification_code().empty());

    // A complaint filed without a token, about an officer of A (attitudinal:
    // the catalog recommends them the course).
    complaint::FileComplaintRequest file;
    file.set_request_id(Unique());
    ASSERT_TRUE(TextFormat::ParseFromString(
        absl::StrCat(
            "agency_id: '", kAgency, "' officer_id: '", kComplainedOfficer,
            "' classification: CLASSIFICATION_PENGADUAN category: "
            "CATEGORY_ATTITUDINAL channel: CHANNEL_WEB anonymous: true "
            "title: 'Petugas membentak pemohon' description: "
            "'Petugas loket berbicara dengan nada tinggi dan menolak "
            "menjelaskan persyaratan.'"),
        file.mutable_complaint()));
    absl::StatusOr<complaint::Complaint> filed = Call<complaint::Complaint>(
        "complaint", "/prima.complaint.v1.ComplaintService/FileComplaint",
        file);
    ASSERT_TRUE(filed.ok()) << filed.status();

    // A WAITING ticket and a BOOKED appointment.
    queue::IssueTicketRequest issue;
    issue.set_request_id(Unique());
    issue.set_office_id(kOffice);
    issue.set_service_id(kService);
    issue.set_channel(queue::CHANNEL_KIOSK);
    absl::StatusOr<queue::Ticket> ticket = Call<queue::Ticket>(
        "queue", "/prima.queue.v1.QueueService/IssueTicket", issue);
    ASSERT_TRUE(ticket.ok()) << ticket.status();
    queue::UpdateAppointmentSettingsRequest settings;
    settings.set_request_id(Unique());
    ASSERT_TRUE(TextFormat::ParseFromString(
        absl::StrCat("office_id: '", kOffice, "' service_id: '", kService,
                     "' slot_minutes: 30 capacity_per_slot: 100 "
                     "booking_horizon_days: 14 check_in_grace_minutes: 15"),
        settings.mutable_settings()));
    status =
        Call<queue::AppointmentSettings>(
            "queue", "/prima.queue.v1.QueueService/UpdateAppointmentSettings",
            settings, supervisor)
            .status();
    ASSERT_TRUE(status.ok()) << status;
    const std::string tomorrow = LocalDateText(now + absl::Hours(24));
    queue::ListAvailableSlotsRequest slots_request;
    slots_request.set_office_id(kOffice);
    slots_request.set_service_id(kService);
    ASSERT_TRUE(
        TextFormat::ParseFromString(tomorrow, slots_request.mutable_date()));
    absl::StatusOr<queue::ListAvailableSlotsResponse> slots =
        Call<queue::ListAvailableSlotsResponse>(
            "queue", "/prima.queue.v1.QueueService/ListAvailableSlots",
            slots_request);
    ASSERT_TRUE(slots.ok()) << slots.status();
    ASSERT_GT(slots->slots_size(), 0);
    const int64_t slot = slots->slots(0).start_time().seconds();
    queue::BookAppointmentRequest book;
    book.set_request_id(Unique());
    book.set_office_id(kOffice);
    book.set_service_id(kService);
    book.mutable_slot_start_time()->set_seconds(slot);
    absl::StatusOr<queue::Appointment> appointment = Call<queue::Appointment>(
        "queue", "/prima.queue.v1.QueueService/BookAppointment", book);
    ASSERT_TRUE(appointment.ok()) << appointment.status();

    // A survey invitation from an officer of A.
    satisfaction::CreateInvitationRequest invite;
    invite.set_request_id(Unique());
    invite.set_agency_id(kAgency);
    invite.set_office_id(kOffice);
    invite.set_service_id(kService);
    absl::StatusOr<satisfaction::Invitation> invitation =
        Call<satisfaction::Invitation>(
            "satisfaction",
            "/prima.satisfaction.v1.SatisfactionService/CreateInvitation",
            invite, Bearer("officer", kPassedOfficer));
    ASSERT_TRUE(invitation.ok()) << invitation.status();

    // A survey kiosk of A, registered by its admin.
    satisfaction::RegisterKioskRequest register_kiosk;
    register_kiosk.set_request_id(Unique());
    register_kiosk.set_office_id(kOffice);
    register_kiosk.set_name("Tablet lobi");
    absl::StatusOr<satisfaction::Kiosk> kiosk = Call<satisfaction::Kiosk>(
        "satisfaction",
        "/prima.satisfaction.v1.SatisfactionService/RegisterKiosk",
        register_kiosk, admin);
    ASSERT_TRUE(kiosk.ok()) << kiosk.status();

    // The recommendation follows the complaint through the catalog's
    // consumer: wait for it (bounded).
    catalog::ListRecommendationsRequest list;
    list.set_agency(kAgency);
    list.set_officer_id(kComplainedOfficer);
    std::string recommendation;
    const absl::Time until = absl::Now() + absl::Seconds(15);
    while (recommendation.empty() && absl::Now() < until) {
      absl::StatusOr<catalog::ListRecommendationsResponse> listed =
          Call<catalog::ListRecommendationsResponse>(
              "catalog",
              "/prima.catalog.v1.TrainingService/ListRecommendations", list,
              supervisor);
      ASSERT_TRUE(listed.ok()) << listed.status();
      if (listed->recommendations_size() > 0) {
        recommendation = listed->recommendations(0).id();
      } else {
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
    ASSERT_FALSE(recommendation.empty())
        << "no recommendation after the complaint\n"
        << stack_->StderrText("catalog");

    std::string course_text;
    TextFormat::Printer printer;
    printer.SetSingleLineMode(true);
    ASSERT_TRUE(printer.PrintToString(*published, &course_text));
    const absl::CivilDay today =
        absl::ToCivilDay(now, absl::FixedTimeZone(7 * 3600));
    *placeholders_ = {
        {"$AGENCY", kAgency},
        {"$FOREIGN_AGENCY", kForeignAgency},
        {"$OFFICE", kOffice},
        {"$SERVICE", kService},
        {"$OTHER_SERVICE", kOtherService},
        {"$COUNTER", kCounter},
        {"$PASSED_OFFICER", kPassedOfficer},
        {"$ENROLLED_OFFICER", kEnrolledOfficer},
        {"$COMPLAINED_OFFICER", kComplainedOfficer},
        {"$STORED_COURSE", course_text},
        {"$COURSE", "authz-course"},
        {"$OFFERING", "authz-offering"},
        {"$CERTIFICATE", passed->certificate().verification_code()},
        {"$RECOMMENDATION", recommendation},
        {"$COMPLAINT", filed->tracking_number()},
        {"$TICKET", ticket->id()},
        {"$APPOINTMENT", appointment->id()},
        {"$SLOT", absl::StrCat(slot)},
        {"$INVITATION", invitation->token()},
        {"$KIOSK", kiosk->id()},
        {"$KIOSK_CREDENTIAL", kiosk->credential()},
        {"$TODAY", LocalDateText(now)},
        {"$TOMORROW", tomorrow},
        {"$MONTH", absl::FormatCivilTime(absl::CivilMonth(today))},
    };
  }

  // `row`'s request with the placeholders filled in and a fresh request_id
  // (when the request has one), in wire format.
  static std::string RequestBytes(const MethodDescriptor& method,
                                  const Expectation& row) {
    std::map<std::string, std::string> replacements = *placeholders_;
    replacements["$UNIQUE"] = Unique();
    const std::string text = absl::StrReplaceAll(row.request, replacements);
    std::unique_ptr<Message> request(
        factory_->GetPrototype(method.input_type())->New());
    EXPECT_TRUE(TextFormat::ParseFromString(text, request.get()))
        << row.method << ": " << text;
    const FieldDescriptor* request_id =
        method.input_type()->FindFieldByName("request_id");
    if (request_id != nullptr &&
        request_id->type() == FieldDescriptor::TYPE_STRING) {
      request->GetReflection()->SetString(request.get(), request_id, Unique());
    }
    return request->SerializeAsString();
  }

  // Sends `request` to `method` with `authorization` (none when empty).
  static grpc::Status Send(const testing::ServedBy& served,
                           const MethodDescriptor& method,
                           const std::string& request,
                           const std::string& authorization) {
    std::multimap<std::string, std::string> metadata;
    if (!authorization.empty())
      metadata.emplace("authorization", authorization);
    const std::shared_ptr<grpc::Channel>& channel = (*channels_)[served.binary];
    if (method.server_streaming()) {
      return testing::RawFirstStreamedMessage(
          channel, MethodPath(method), request, absl::Seconds(5), metadata);
    }
    return testing::RawUnaryCall(channel, MethodPath(method), request, nullptr,
                                 absl::Seconds(5), metadata);
  }

  // "Bearer ..." for `kind`, "" for no token.
  static std::string AuthorizationFor(const TokenKind& kind) {
    if (kind.claims.subject.empty()) return "";
    return BearerToken(Settings(), kind.claims, kind.flaw);
  }

  static const Expectation* RowOf(const MethodDescriptor& method) {
    for (const Expectation& row : kExpectations) {
      if (row.method == FullName(method)) return &row;
    }
    return nullptr;
  }

  static inline testing::E2eStack* stack_ = nullptr;
  static inline auto* channels_ =
      new std::map<std::string, std::shared_ptr<grpc::Channel>>();
  static inline auto* placeholders_ = new std::map<std::string, std::string>();
  static inline auto* factory_ = new DynamicMessageFactory();
};

// One test, so that ctest (a process per test) starts the stack once. Every
// cell expecting UNAUTHENTICATED is also sent with an empty request (every id
// missing): a caller without a valid token is turned away before the request
// is looked at.
TEST_F(AuthorizationTest, EveryTokenKindGetsTheCodeOfTheCallersComment) {
  int cells = 0;
  for (const testing::ServedBy& served : testing::AllServices()) {
    for (int i = 0; i < served.service->method_count(); ++i) {
      const MethodDescriptor& method = *served.service->method(i);
      const Expectation* row = RowOf(method);
      if (row == nullptr) continue;  // HasOneRowPerRpc names it
      const std::vector<char> codes = Codes(*row);
      for (size_t k = 0; k < codes.size() && k < TokenKinds().size(); ++k) {
        const TokenKind& kind = TokenKinds()[k];
        const std::string authorization = AuthorizationFor(kind);
        const grpc::Status status =
            Send(served, method, RequestBytes(method, *row), authorization);
        EXPECT_TRUE(Matches(codes[k], status.error_code()))
            << row->method << " as " << kind.name << ": want " << codes[k]
            << ", got " << CodeName(status) << ": " << status.error_message();
        ++cells;
        if (codes[k] != 'U') continue;
        const grpc::Status empty = Send(served, method, "", authorization);
        EXPECT_EQ(empty.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << row->method << " as " << kind.name
            << " with an empty request: " << CodeName(empty) << ": "
            << empty.error_message();
      }
    }
  }
  EXPECT_EQ(cells, std::size(kExpectations) * TokenKinds().size());
}

}  // namespace
}  // namespace prima
