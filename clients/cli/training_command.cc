// The training catalogue on the catalog server.
//   prima courses list [--competency C] [--keyword K] [--status S]
//   prima courses get ID
//   prima courses create -f course.textproto      (prima.catalog.v1.Course,
//   text) prima courses publish ID prima offerings create --course C --agency A
//   --start T --end T --deadline T
//                          --mode classroom|online|blended [--location ADDR]
//                          --capacity N [--id ID]
//   prima offerings list --course C
//   prima enroll --offering O --officer P [--agency A]
//   prima complete --offering O --officer P --score N
//   prima certificate verify CODE
//   prima training-record OFFICER
//   prima compliance gaps AGENCY
//   prima compliance require AGENCY [COURSE...]
//   prima recommendations list --agency A (--officer P | --office O)
//   prima recommendations accept|dismiss ID
// Times are RFC 3339 (2026-12-01T08:00:00+07:00). Mutations send this
// invocation's request id unless --request-id names one (a fixed id makes a
// script's retries idempotent).

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "prima/catalog/v1/training.grpc.pb.h"
#include "services/common/rpc.h"

namespace prima::cli {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT: request/response types

struct TrainingOptions {
  std::string file;
  std::string id;
  std::string competency;
  std::string keyword;
  std::string status;
  std::string course;
  std::string agency;
  std::string start;
  std::string end;
  std::string deadline;
  std::string mode = "classroom";
  std::string location;
  int capacity = 0;
  std::string offering;
  std::string officer;
  std::string office;
  int score = -1;
  std::string request_id;
  std::vector<std::string> courses;
};

std::unique_ptr<TrainingService::Stub> Stub(const CliContext& context) {
  return TrainingService::NewStub(
      context.NewChannel(context.AddressOf("catalog")));
}

std::string RequestId(const CliContext& context,
                      const TrainingOptions& options) {
  return options.request_id.empty() ? context.request_id() : options.request_id;
}

std::string Short(absl::string_view enum_name, absl::string_view prefix) {
  if (absl::StartsWith(enum_name, prefix))
    enum_name.remove_prefix(prefix.size());
  return std::string(enum_name);
}

void AddCourseRow(Table& table, const Course& c) {
  table.AddRow({c.id(), c.code(), c.title(),
                Short(CourseStatus_Name(c.status()), "COURSE_STATUS_"),
                c.owner_agency().empty() ? "(national)" : c.owner_agency(),
                absl::StrCat(c.total_hours()),
                absl::StrJoin(c.competencies(), ",")});
}
Table CourseTable() {
  return Table(
      {"id", "code", "title", "status", "owner", "jp", "competencies"});
}

Table EnrolmentTable() {
  return Table({"offering", "course", "officer", "status", "position", "score",
                "certificate", "verification_code"});
}
void AddEnrolmentRow(Table& table, const Enrolment& e) {
  table.AddRow(
      {e.offering_id(), e.course_id(), e.officer_id(),
       Short(EnrolmentStatus_Name(e.status()), "ENROLMENT_STATUS_"),
       e.waitlist_position() > 0 ? absl::StrCat(e.waitlist_position()) : "",
       (e.status() == ENROLMENT_STATUS_PASSED ||
        e.status() == ENROLMENT_STATUS_NOT_PASSED)
           ? absl::StrCat(e.score())
           : "",
       e.certificate().number(), e.certificate().verification_code()});
}

absl::StatusOr<google::protobuf::Timestamp> ParseTimeFlag(
    absl::string_view flag, const std::string& value) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, value, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": not an RFC 3339 time (2026-12-01T08:00:00+07:00): ", err));
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

int RunCoursesList(const CliContext& context, const TrainingOptions& options) {
  ListCoursesRequest request;
  request.set_competency(options.competency);
  request.set_keyword(options.keyword);
  if (!options.status.empty()) {
    CourseStatus status;
    if (!CourseStatus_Parse(absl::StrCat("COURSE_STATUS_",
                                         absl::AsciiStrToUpper(options.status)),
                            &status)) {
      return PrintError(absl::InvalidArgumentError(
          "--status: one of draft, published, archived"));
    }
    request.set_status(status);
  }
  request.mutable_page()->set_page_size(500);
  auto stub = Stub(context);
  Table table = CourseTable();
  ListCoursesResponse all;
  for (int pages = 0; pages < 200; ++pages) {
    grpc::ClientContext ctx;
    context.PrepareContext(&ctx);
    ListCoursesResponse response;
    grpc::Status status = stub->ListCourses(&ctx, request, &response);
    if (!status.ok()) return PrintError(status);
    for (const Course& c : response.courses()) {
      AddCourseRow(table, c);
      *all.add_courses() = c;
    }
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  PrintMessage(context.output(), all, table);
  return 0;
}

int RunCoursesGet(const CliContext& context, const TrainingOptions& options) {
  GetCourseRequest request;
  request.set_course_id(options.id);
  Course course;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->GetCourse(&ctx, request, &course);
  if (!status.ok()) return PrintError(status);
  Table table({"field", "value"});
  table.AddRow({"id", course.id()});
  table.AddRow({"code", course.code()});
  table.AddRow({"title", course.title()});
  table.AddRow(
      {"status", Short(CourseStatus_Name(course.status()), "COURSE_STATUS_")});
  table.AddRow({"owner", course.owner_agency().empty()
                             ? "(national)"
                             : course.owner_agency()});
  table.AddRow({"audience", course.audience()});
  table.AddRow({"general_objective", course.general_objective()});
  for (int i = 0; i < course.specific_objectives_size(); ++i) {
    table.AddRow({absl::StrCat("specific_objective ", i + 1),
                  course.specific_objectives(i)});
  }
  for (int i = 0; i < course.modules_size(); ++i) {
    table.AddRow({absl::StrCat("module ", i + 1),
                  absl::StrCat(course.modules(i).title(), " (",
                               course.modules(i).hours(), " JP)")});
  }
  table.AddRow({"total_jp", absl::StrCat(course.total_hours())});
  table.AddRow({"pass_mark", absl::StrCat(course.pass_mark())});
  table.AddRow({"competencies", absl::StrJoin(course.competencies(), ",")});
  PrintMessage(context.output(), course, table);
  return 0;
}

int RunCoursesCreate(const CliContext& context,
                     const TrainingOptions& options) {
  CreateCourseRequest request;
  if (absl::Status read =
          ReadTextProtoFile(options.file, request.mutable_course());
      !read.ok()) {
    return PrintError(read);
  }
  request.set_request_id(RequestId(context, options));
  Course course;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->CreateCourse(&ctx, request, &course);
  if (!status.ok()) return PrintError(status);
  Table table = CourseTable();
  AddCourseRow(table, course);
  PrintMessage(context.output(), course, table);
  return 0;
}

int RunCoursesPublish(const CliContext& context,
                      const TrainingOptions& options) {
  PublishCourseRequest request;
  request.set_course_id(options.id);
  request.set_request_id(RequestId(context, options));
  Course course;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->PublishCourse(&ctx, request, &course);
  if (!status.ok()) return PrintError(status);
  Table table = CourseTable();
  AddCourseRow(table, course);
  PrintMessage(context.output(), course, table);
  return 0;
}

Table OfferingTable() {
  return Table({"id", "course", "agency", "mode", "start", "end", "deadline",
                "capacity", "enrolled", "waitlisted"});
}
void AddOfferingRow(Table& table, const Offering& o) {
  table.AddRow({o.id(), o.course_id(), o.agency(),
                Short(OfferingMode_Name(o.mode()), "OFFERING_MODE_"),
                FormatTimestamp(o.start_time()), FormatTimestamp(o.end_time()),
                FormatTimestamp(o.enrolment_deadline()),
                absl::StrCat(o.capacity()), absl::StrCat(o.enrolled_count()),
                absl::StrCat(o.waitlist_count())});
}

int RunOfferingsCreate(const CliContext& context,
                       const TrainingOptions& options) {
  CreateOfferingRequest request;
  Offering* o = request.mutable_offering();
  o->set_id(options.id);
  o->set_course_id(options.course);
  o->set_agency(options.agency);
  OfferingMode mode;
  if (!OfferingMode_Parse(
          absl::StrCat("OFFERING_MODE_", absl::AsciiStrToUpper(options.mode)),
          &mode)) {
    return PrintError(absl::InvalidArgumentError(
        "--mode: one of classroom, online, blended"));
  }
  o->set_mode(mode);
  o->mutable_location()->set_address(options.location);
  o->set_capacity(options.capacity);
  for (const auto& [flag, value, field] :
       {std::tuple{"--start", options.start, o->mutable_start_time()},
        std::tuple{"--end", options.end, o->mutable_end_time()},
        std::tuple{"--deadline", options.deadline,
                   o->mutable_enrolment_deadline()}}) {
    absl::StatusOr<google::protobuf::Timestamp> ts = ParseTimeFlag(flag, value);
    if (!ts.ok()) return PrintError(ts.status());
    *field = *ts;
  }
  request.set_request_id(RequestId(context, options));
  Offering offering;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->CreateOffering(&ctx, request, &offering);
  if (!status.ok()) return PrintError(status);
  Table table = OfferingTable();
  AddOfferingRow(table, offering);
  PrintMessage(context.output(), offering, table);
  return 0;
}

int RunOfferingsList(const CliContext& context,
                     const TrainingOptions& options) {
  ListOfferingsRequest request;
  request.set_course_id(options.course);
  request.mutable_page()->set_page_size(500);
  auto stub = Stub(context);
  Table table = OfferingTable();
  ListOfferingsResponse all;
  for (int pages = 0; pages < 200; ++pages) {
    grpc::ClientContext ctx;
    context.PrepareContext(&ctx);
    ListOfferingsResponse response;
    grpc::Status status = stub->ListOfferings(&ctx, request, &response);
    if (!status.ok()) return PrintError(status);
    for (const Offering& o : response.offerings()) {
      AddOfferingRow(table, o);
      *all.add_offerings() = o;
    }
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  PrintMessage(context.output(), all, table);
  return 0;
}

int RunEnroll(const CliContext& context, const TrainingOptions& options) {
  EnrollRequest request;
  request.set_offering_id(options.offering);
  request.set_officer_id(options.officer);
  request.set_officer_agency(options.agency);
  request.set_request_id(RequestId(context, options));
  Enrolment enrolment;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->Enroll(&ctx, request, &enrolment);
  if (!status.ok()) return PrintError(status);
  Table table = EnrolmentTable();
  AddEnrolmentRow(table, enrolment);
  PrintMessage(context.output(), enrolment, table);
  return 0;
}

int RunComplete(const CliContext& context, const TrainingOptions& options) {
  CompleteRequest request;
  request.set_offering_id(options.offering);
  request.set_officer_id(options.officer);
  request.set_score(options.score);
  request.set_request_id(RequestId(context, options));
  Enrolment enrolment;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->Complete(&ctx, request, &enrolment);
  if (!status.ok()) return PrintError(status);
  Table table = EnrolmentTable();
  AddEnrolmentRow(table, enrolment);
  PrintMessage(context.output(), enrolment, table);
  return 0;
}

int RunVerify(const CliContext& context, const TrainingOptions& options) {
  VerifyCertificateRequest request;
  request.set_verification_code(options.id);
  Certificate cert;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status = Stub(context)->VerifyCertificate(&ctx, request, &cert);
  if (!status.ok()) return PrintError(status);
  Table table({"number", "officer", "name", "agency", "course", "title",
               "score", "issued"});
  table.AddRow({cert.number(), cert.officer_id(), cert.officer_name(),
                cert.agency(), cert.course_id(), cert.course_title(),
                absl::StrCat(cert.score()),
                FormatTimestamp(cert.issue_time())});
  PrintMessage(context.output(), cert, table);
  return 0;
}

int RunRecord(const CliContext& context, const TrainingOptions& options) {
  GetTrainingRecordRequest request;
  request.set_officer_id(options.id);
  TrainingRecord record;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status =
      Stub(context)->GetTrainingRecord(&ctx, request, &record);
  if (!status.ok()) return PrintError(status);
  Table table = EnrolmentTable();
  for (const Enrolment& e : record.enrolments()) AddEnrolmentRow(table, e);
  PrintMessage(context.output(), record, table);
  return 0;
}

int RunGaps(const CliContext& context, const TrainingOptions& options) {
  ListComplianceGapsRequest request;
  request.set_agency(options.id);
  request.mutable_page()->set_page_size(500);
  auto stub = Stub(context);
  Table table({"officer", "missing_courses"});
  ListComplianceGapsResponse all;
  for (int pages = 0; pages < 200; ++pages) {
    grpc::ClientContext ctx;
    context.PrepareContext(&ctx);
    ListComplianceGapsResponse response;
    grpc::Status status = stub->ListComplianceGaps(&ctx, request, &response);
    if (!status.ok()) return PrintError(status);
    for (const ComplianceGap& g : response.gaps()) {
      table.AddRow(
          {g.officer_id(), absl::StrJoin(g.missing_course_ids(), ",")});
      *all.add_gaps() = g;
    }
    *all.mutable_required_course_ids() = response.required_course_ids();
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  PrintMessage(context.output(), all, table);
  return 0;
}

// ---- recommendations ----

Table RecommendationTable() {
  return Table(
      {"id", "officer", "office", "course", "status", "reason", "created"});
}
void AddRecommendationRow(Table& table, const Recommendation& r) {
  table.AddRow(
      {r.id(), r.officer_id(), r.office_id(), r.course_id(),
       Short(RecommendationStatus_Name(r.status()), "RECOMMENDATION_STATUS_"),
       r.reason(), FormatTimestamp(r.create_time())});
}

int RunRecommendationsList(const CliContext& context,
                           const TrainingOptions& options) {
  if (options.officer.empty() == options.office.empty()) {
    return PrintError(absl::InvalidArgumentError(
        "give exactly one of --officer and --office"));
  }
  ListRecommendationsRequest request;
  request.set_agency(options.agency);
  request.set_officer_id(options.officer);
  request.set_office_id(options.office);
  request.mutable_page()->set_page_size(500);
  ListRecommendationsResponse response;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status =
      Stub(context)->ListRecommendations(&ctx, request, &response);
  if (!status.ok()) return PrintError(status);
  Table table = RecommendationTable();
  for (const Recommendation& r : response.recommendations()) {
    AddRecommendationRow(table, r);
  }
  PrintMessage(context.output(), response, table);
  return 0;
}

void PrintRecommendation(const CliContext& context, const Recommendation& r) {
  Table table = RecommendationTable();
  AddRecommendationRow(table, r);
  PrintMessage(context.output(), r, table);
}

int RunRecommendationAccept(const CliContext& context,
                            const TrainingOptions& options) {
  AcceptRecommendationRequest request;
  request.set_recommendation_id(options.id);
  request.set_request_id(RequestId(context, options));
  return CallUnary(context, Stub(context),
                   &TrainingService::Stub::AcceptRecommendation, request,
                   PrintRecommendation);
}

int RunRecommendationDismiss(const CliContext& context,
                             const TrainingOptions& options) {
  DismissRecommendationRequest request;
  request.set_recommendation_id(options.id);
  request.set_request_id(RequestId(context, options));
  return CallUnary(context, Stub(context),
                   &TrainingService::Stub::DismissRecommendation, request,
                   PrintRecommendation);
}

int RunRequire(const CliContext& context, const TrainingOptions& options) {
  SetRequiredCoursesRequest request;
  request.set_agency(options.id);
  for (const std::string& course : options.courses) {
    request.add_course_ids(course);
  }
  request.set_request_id(RequestId(context, options));
  RequiredCourses required;
  grpc::ClientContext ctx;
  context.PrepareContext(&ctx);
  grpc::Status status =
      Stub(context)->SetRequiredCourses(&ctx, request, &required);
  if (!status.ok()) return PrintError(status);
  Table table({"agency", "required_courses"});
  table.AddRow({options.id, absl::StrJoin(required.course_ids(), ",")});
  PrintMessage(context.output(), required, table);
  return 0;
}

// Registers `sub` so that its callback runs `run` with the shared options.
void OnRun(CLI::App* sub, CliContext& context,
           std::shared_ptr<TrainingOptions> options,
           int (*run)(const CliContext&, const TrainingOptions&)) {
  sub->callback([&context, options, run] {
    context.action = [&context, options, run] {
      return run(context, *options);
    };
  });
}

void AddRequestId(CLI::App* sub, TrainingOptions& options) {
  sub->add_option("--request-id", options.request_id,
                  "idempotency key (default: one per invocation)");
}

}  // namespace

void AddTrainingCommands(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<TrainingOptions>();

  CLI::App* courses = app.add_subcommand("courses", "Training courses");
  courses->require_subcommand(1);
  CLI::App* list = courses->add_subcommand("list", "List courses");
  list->add_option("--competency", options->competency, "competency tag");
  list->add_option("--keyword", options->keyword, "text in title/description");
  list->add_option("--status", options->status, "draft|published|archived");
  OnRun(list, context, options, RunCoursesList);
  CLI::App* get = courses->add_subcommand("get", "Show one course");
  get->add_option("id", options->id, "course id")->required();
  OnRun(get, context, options, RunCoursesGet);
  CLI::App* create =
      courses->add_subcommand("create", "Create a course from a text proto");
  create->add_option("-f,--file", options->file, "prima.catalog.v1.Course")
      ->required();
  AddRequestId(create, *options);
  OnRun(create, context, options, RunCoursesCreate);
  CLI::App* publish = courses->add_subcommand("publish", "Publish a course");
  publish->add_option("id", options->id, "course id")->required();
  AddRequestId(publish, *options);
  OnRun(publish, context, options, RunCoursesPublish);

  CLI::App* offerings =
      app.add_subcommand("offerings", "Scheduled classes of a course");
  offerings->require_subcommand(1);
  CLI::App* ocreate =
      offerings->add_subcommand("create", "Schedule an offering");
  ocreate->add_option("--id", options->id, "offering id (generated if empty)");
  ocreate->add_option("--course", options->course, "course id")->required();
  ocreate->add_option("--agency", options->agency, "running agency")
      ->required();
  ocreate->add_option("--start", options->start, "RFC 3339")->required();
  ocreate->add_option("--end", options->end, "RFC 3339")->required();
  ocreate->add_option("--deadline", options->deadline, "RFC 3339")->required();
  ocreate->add_option("--mode", options->mode, "classroom|online|blended");
  ocreate->add_option("--location", options->location, "address");
  ocreate->add_option("--capacity", options->capacity, "seats, 1-10000")
      ->required();
  AddRequestId(ocreate, *options);
  OnRun(ocreate, context, options, RunOfferingsCreate);
  CLI::App* olist = offerings->add_subcommand("list", "Offerings of a course");
  olist->add_option("--course", options->course, "course id")->required();
  OnRun(olist, context, options, RunOfferingsList);

  CLI::App* enroll = app.add_subcommand("enroll", "Enrol an officer");
  enroll->add_option("--offering", options->offering, "offering id")
      ->required();
  enroll->add_option("--officer", options->officer, "officer id")->required();
  enroll->add_option("--agency", options->agency,
                     "the officer's agency (region_admin tokens)");
  AddRequestId(enroll, *options);
  OnRun(enroll, context, options, RunEnroll);

  CLI::App* complete =
      app.add_subcommand("complete", "Complete an enrolment with a score");
  complete->add_option("--offering", options->offering, "offering id")
      ->required();
  complete->add_option("--officer", options->officer, "officer id")->required();
  complete->add_option("--score", options->score, "0-100")->required();
  AddRequestId(complete, *options);
  OnRun(complete, context, options, RunComplete);

  CLI::App* certificate = app.add_subcommand("certificate", "Certificates");
  certificate->require_subcommand(1);
  CLI::App* verify =
      certificate->add_subcommand("verify", "Verify a certificate (public)");
  verify->add_option("code", options->id, "verification code")->required();
  OnRun(verify, context, options, RunVerify);

  CLI::App* record =
      app.add_subcommand("training-record", "An officer's training record");
  record->add_option("officer", options->id, "officer id")->required();
  OnRun(record, context, options, RunRecord);

  CLI::App* compliance = app.add_subcommand("compliance", "Required training");
  compliance->require_subcommand(1);
  CLI::App* gaps = compliance->add_subcommand(
      "gaps", "Front-line officers missing a required course");
  gaps->add_option("agency", options->id, "agency id")->required();
  OnRun(gaps, context, options, RunGaps);
  CLI::App* require = compliance->add_subcommand(
      "require",
      "Set the courses an agency requires of its front-line officers "
      "(replaces the list; none clears it)");
  require->add_option("agency", options->id, "agency id")->required();
  require->add_option("courses", options->courses, "course ids");
  require->add_option("--request-id", options->request_id,
                      "idempotency key (default: one per invocation)");
  OnRun(require, context, options, RunRequire);

  CLI::App* recommendations = app.add_subcommand(
      "recommendations",
      "Training recommendations (from complaints and satisfaction)");
  recommendations->require_subcommand(1);
  CLI::App* rlist = recommendations->add_subcommand(
      "list", "An officer's or an office's recommendations, newest first");
  rlist->add_option("--agency", options->agency, "their agency")->required();
  rlist->add_option("--officer", options->officer, "officer id");
  rlist->add_option("--office", options->office, "office id");
  OnRun(rlist, context, options, RunRecommendationsList);
  CLI::App* accept = recommendations->add_subcommand(
      "accept", "The officer intends to take the course");
  accept->add_option("id", options->id, "recommendation id")->required();
  AddRequestId(accept, *options);
  OnRun(accept, context, options, RunRecommendationAccept);
  CLI::App* dismiss =
      recommendations->add_subcommand("dismiss", "Dismiss a recommendation");
  dismiss->add_option("id", options->id, "recommendation id")->required();
  AddRequestId(dismiss, *options);
  OnRun(dismiss, context, options, RunRecommendationDismiss);
}

}  // namespace prima::cli
