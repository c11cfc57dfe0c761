// prima complaint: filing, tracking and handling complaints on the complaint
// server (prima.complaint.v1.ComplaintService).
//   Citizens (filing needs no token; --secret is the complaint's receipt
//   secret, not needed with the filing citizen's token):
//   prima complaint file --agency A --category C --title T --description D
//                        [--office O] [--service S] [--officer X] [--ticket T]
//                        [--classification pengaduan|aspirasi
//                                          |permintaan-informasi]
//                        [--incident-date YYYY-MM-DD] [--lat N --lng N]
//                        [--address TEXT] [--attachment URL]...
//                        [--channel web|mobile|sms|office] [--anonymous]
//                        [--confidential] [--contact-name N]
//                        [--contact-phone P] [--contact-email E]
//   prima complaint get TRACKING [--secret S]
//   prima complaint respond TRACKING [--secret S] (--accept | --reject
//                           --reason R)
//   prima complaint rate TRACKING [--secret S] --rating 1-5
//   Staff of the handling agency:
//   prima complaint list --agency A [--status S] [--category C] [--office O]
//                        [--officer X] [--overdue] [--from T] [--to T]
//                        [--page-size N] [--page-token T]
//   prima complaint verify|start TRACKING [--note N]
//   prima complaint reject TRACKING --reason R [--not-in-authority]
//   prima complaint forward TRACKING --to-agency A [--to-office O] [--note N]
//   prima complaint assign TRACKING (--officer X | --office O) [--note N]
//   prima complaint resolve TRACKING --resolution TEXT
//   prima complaint comment TRACKING --text T [--internal]
//   prima complaint stats --agency A [--office O] --from T --to T
//   prima complaint policy --agency A [--category C] [--verify-days N]
//                          [--follow-up-days N] [--response-days N]
// Mutations send this invocation's request id unless --request-id names one
// (a fixed id makes a retry idempotent).

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "clients/cli/enum_flags.h"
#include "prima/complaint/v1/complaint.grpc.pb.h"

namespace prima::cli {
namespace {

using namespace ::prima::complaint::v1;  // NOLINT: request/response types
using Stub = ComplaintService::Stub;

struct ComplaintOptions {
  std::string tracking_number;
  std::string secret;
  // file, list, assign, stats, policy.
  std::string agency;
  std::string office;
  std::string service;
  std::string officer;
  std::string ticket;
  std::string classification = "pengaduan";
  std::string category;
  std::string title;
  std::string description;
  std::string incident_date;  // YYYY-MM-DD
  // NaN: no coordinates given.
  double latitude = std::numeric_limits<double>::quiet_NaN();
  double longitude = std::numeric_limits<double>::quiet_NaN();
  std::string address;
  std::vector<std::string> attachment_urls;
  std::string channel = "web";
  bool anonymous = false;
  bool confidential = false;
  std::string contact_name;
  std::string contact_phone;
  std::string contact_email;
  // respond, rate.
  bool accept = false;
  bool reject = false;
  std::string reason;
  int rating = 0;
  // list.
  std::string status;
  bool overdue_only = false;
  std::string from;  // date or RFC 3339
  std::string to;
  int page_size = 0;
  std::string page_token;
  // Staff moves.
  std::string note;
  bool not_in_authority = false;
  std::string to_agency;
  std::string to_office;
  std::string resolution;
  std::string text;
  bool internal = false;
  // policy: the proto's defaults, used for flags left out.
  int verify_working_days = 3;
  int follow_up_working_days = 5;
  int response_days = 10;
  std::string request_id;
};

std::unique_ptr<Stub> NewStub(const CliContext& context) {
  return ComplaintService::NewStub(
      context.NewChannel(context.AddressOf("complaint")));
}

std::string RequestId(const CliContext& context,
                      const ComplaintOptions& options) {
  return options.request_id.empty() ? context.request_id() : options.request_id;
}

// ---- printing ----

// Keeps a table row on one line.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}});
}

// "officer-7 (dukcapil)", "anonymous" for an anonymous reporter.
std::string ActorCell(const prima::common::v1::Actor& actor) {
  if (actor.subject().empty()) return "anonymous";
  if (actor.agency().empty()) return actor.subject();
  return absl::StrCat(actor.subject(), " (", actor.agency(), ")");
}

// "SUBMITTED->VERIFIED"; a forwarding also names the agencies.
std::string ChangeCell(const TimelineEntry& e) {
  std::string change;
  if (e.to_status() != COMPLAINT_STATUS_UNSPECIFIED &&
      e.to_status() != e.from_status()) {
    change =
        absl::StrCat(EnumCell(e.from_status()), "->", EnumLabel(e.to_status()));
  }
  if (!e.to_agency().empty()) {
    absl::StrAppend(&change, change.empty() ? "" : " ", e.from_agency(), "->",
                    e.to_agency());
  }
  return change;
}

// "2d 3h 15m", "45m", "0m".
std::string HumanDuration(double seconds) {
  const int64_t minutes = static_cast<int64_t>(seconds / 60 + 0.5);
  const int64_t days = minutes / (24 * 60);
  const int64_t hours = minutes / 60 % 24;
  std::string text;
  if (days > 0) absl::StrAppend(&text, days, "d ");
  if (days > 0 || hours > 0) absl::StrAppend(&text, hours, "h ");
  absl::StrAppend(&text, minutes % 60, "m");
  return text;
}

// The complaint (json: the whole message), then in table format its
// deadlines, resolution and timeline.
void PrintComplaint(const CliContext& context, const Complaint& c) {
  Table summary({"tracking_number", "status", "agency", "office", "category",
                 "assigned", "title"});
  summary.AddRow({c.tracking_number(), EnumLabel(c.status()), c.agency_id(),
                  c.office_id(), EnumCell(c.category()),
                  c.assigned_officer_id().empty() ? c.assigned_office_id()
                                                  : c.assigned_officer_id(),
                  OneLine(c.title())});
  PrintMessage(context.output(), c, summary);
  if (context.output() != OutputFormat::kTable) return;

  if (!c.deadlines().empty()) {
    std::printf("\n");
    Table deadlines({"deadline", "due", "met", "overdue"});
    for (const Deadline& d : c.deadlines()) {
      deadlines.AddRow({EnumLabel(d.kind()), FormatTimestamp(d.due_time()),
                        FormatTimestamp(d.met_time()),
                        d.overdue() ? "yes" : "no"});
    }
    deadlines.Print(OutputFormat::kTable);
  }
  if (!c.resolution().empty()) {
    std::printf("\nresolution: %s\n", c.resolution().c_str());
  }
  if (c.rating() > 0) std::printf("rating: %d/5\n", c.rating());
  if (!c.timeline().empty()) {
    std::printf("\n");
    Table timeline({"time", "actor", "change", "internal", "note"});
    for (const TimelineEntry& e : c.timeline()) {
      timeline.AddRow({FormatTimestamp(e.time()), ActorCell(e.actor()),
                       ChangeCell(e), e.internal() ? "internal" : "",
                       OneLine(e.note())});
    }
    timeline.Print(OutputFormat::kTable);
  }
}

// After FileComplaint: the tracking number and the receipt secret, once.
void PrintFiled(const CliContext& context, const Complaint& c) {
  PrintComplaint(context, c);
  if (context.output() != OutputFormat::kTable) return;
  std::printf("\ntracking number: %s\n", c.tracking_number().c_str());
  if (c.receipt_secret().empty()) return;
  std::printf(
      "receipt secret:  %s\n"
      "Keep both: the secret reads and answers this complaint without a "
      "token, and is not shown again.\n",
      c.receipt_secret().c_str());
}

void PrintList(const CliContext& context,
               const ListComplaintsResponse& response) {
  Table table(
      {"tracking_number", "status", "category", "office", "title", "filed"});
  for (const Complaint& c : response.complaints()) {
    table.AddRow({c.tracking_number(), EnumLabel(c.status()),
                  EnumCell(c.category()), c.office_id(), OneLine(c.title()),
                  FormatTimestamp(c.file_time())});
  }
  PrintMessage(context.output(), response, table);
  if (context.output() == OutputFormat::kTable &&
      !response.next_page_token().empty()) {
    std::printf("\nnext page: --page-token %s\n",
                response.next_page_token().c_str());
  }
}

void PrintStats(const CliContext& context, const ComplaintStats& s) {
  Table table({"figure", "value"});
  table.AddRow({"agency", s.agency_id()});
  table.AddRow({"office", s.office_id().empty() ? "(all)" : s.office_id()});
  table.AddRow({"from", FormatTimestamp(s.period().start_time())});
  table.AddRow({"to", FormatTimestamp(s.period().end_time())});
  table.AddRow({"filed", absl::StrCat(s.filed())});
  for (const StatusCount& count : s.by_status()) {
    table.AddRow({absl::StrCat("status ", EnumLabel(count.status())),
                  absl::StrCat(count.count())});
  }
  for (const CategoryCount& count : s.by_category()) {
    table.AddRow({absl::StrCat("category ", EnumLabel(count.category())),
                  absl::StrCat(count.count())});
  }
  table.AddRow(
      {"median_time_to_resolve", HumanDuration(s.median_seconds_to_resolve())});
  table.AddRow({"within_deadline_pct",
                absl::StrCat(static_cast<int>(
                    s.resolved_within_deadline_share() * 100 + 0.5))});
  PrintMessage(context.output(), s, table);
}

void PrintPolicy(const CliContext& context, const DeadlinePolicy& p) {
  Table table({"agency", "category", "verify_working_days",
               "follow_up_working_days", "response_days"});
  table.AddRow(
      {p.agency_id(),
       p.category() == CATEGORY_UNSPECIFIED ? "(all)" : EnumLabel(p.category()),
       absl::StrCat(p.verify_working_days()),
       absl::StrCat(p.follow_up_working_days()),
       absl::StrCat(p.response_days())});
  PrintMessage(context.output(), p, table);
}

// ---- calls ----

template <typename Request, typename Response>
using UnaryMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&,
                                           Response*);

// One unary call: prints the reply with `print` or the error; the exit code.
template <typename Request, typename Response>
int Call(const CliContext& context, UnaryMethod<Request, Response> method,
         const Request& request,
         void (*print)(const CliContext&, const Response&)) {
  return CallUnary(context, NewStub(context), method, request, print);
}

// ---- citizens ----

int RunFile(const CliContext& context, const ComplaintOptions& options) {
  FileComplaintRequest request;
  request.set_request_id(RequestId(context, options));
  Complaint* c = request.mutable_complaint();
  c->set_agency_id(options.agency);
  c->set_office_id(options.office);
  c->set_service_id(options.service);
  c->set_officer_id(options.officer);
  c->set_ticket_id(options.ticket);
  c->set_classification(FromFlag<Classification>(options.classification));
  c->set_category(FromFlag<Category>(options.category));
  c->set_title(options.title);
  c->set_description(options.description);
  if (!options.incident_date.empty()) {
    absl::StatusOr<prima::common::v1::LocalDate> date =
        ParseDateFlag("--incident-date", options.incident_date);
    if (!date.ok()) return PrintError(date.status());
    *c->mutable_incident_date() = *date;
  }
  if (!std::isnan(options.latitude)) {
    c->mutable_location()->mutable_point()->set_latitude(options.latitude);
    c->mutable_location()->mutable_point()->set_longitude(options.longitude);
  }
  if (!options.address.empty()) {
    c->mutable_location()->set_address(options.address);
  }
  for (const std::string& url : options.attachment_urls) {
    c->add_attachment_urls(url);
  }
  c->set_channel(FromFlag<Channel>(options.channel));
  c->set_anonymous(options.anonymous);
  c->set_confidential(options.confidential);
  if (!options.contact_name.empty() || !options.contact_phone.empty() ||
      !options.contact_email.empty()) {
    ReporterContact* contact = c->mutable_reporter_contact();
    contact->set_name(options.contact_name);
    contact->set_phone(options.contact_phone);
    contact->set_email(options.contact_email);
  }
  return Call(context, &Stub::FileComplaint, request, PrintFiled);
}

int RunGet(const CliContext& context, const ComplaintOptions& options) {
  GetComplaintRequest request;
  request.set_tracking_number(options.tracking_number);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::GetComplaint, request, PrintComplaint);
}

int RunRespond(const CliContext& context, const ComplaintOptions& options) {
  if (!options.accept && !options.reject) {
    return PrintError(absl::InvalidArgumentError(
        "respond: answer with --accept or --reject --reason R"));
  }
  RespondToResolutionRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_receipt_secret(options.secret);
  request.set_accept(options.accept);
  request.set_reason(options.reason);
  return Call(context, &Stub::RespondToResolution, request, PrintComplaint);
}

int RunRate(const CliContext& context, const ComplaintOptions& options) {
  RateResolutionRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_receipt_secret(options.secret);
  request.set_rating(options.rating);
  return Call(context, &Stub::RateResolution, request, PrintComplaint);
}

// ---- staff ----

int RunList(const CliContext& context, const ComplaintOptions& options) {
  ListComplaintsRequest request;
  request.set_agency_id(options.agency);
  request.set_status(FromFlag<ComplaintStatus>(options.status));
  request.set_category(FromFlag<Category>(options.category));
  request.set_office_id(options.office);
  request.set_officer_id(options.officer);
  request.set_overdue_only(options.overdue_only);
  absl::StatusOr<prima::common::v1::TimeRange> filed =
      ParseTimeRangeFlags(options.from, options.to);
  if (!filed.ok()) return PrintError(filed.status());
  if (filed->has_start_time() || filed->has_end_time()) {
    *request.mutable_filed() = *filed;
  }
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  return Call(context, &Stub::ListComplaints, request, PrintList);
}

// Verify and start: a request_id, the complaint and an optional note.
int RunTransition(const CliContext& context, const ComplaintOptions& options,
                  UnaryMethod<TransitionRequest, Complaint> method) {
  TransitionRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_note(options.note);
  return Call(context, method, request, PrintComplaint);
}

int RunVerify(const CliContext& context, const ComplaintOptions& options) {
  return RunTransition(context, options, &Stub::Verify);
}

int RunStart(const CliContext& context, const ComplaintOptions& options) {
  return RunTransition(context, options, &Stub::StartWork);
}

int RunReject(const CliContext& context, const ComplaintOptions& options) {
  RejectRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_not_in_authority(options.not_in_authority);
  request.set_reason(options.reason);
  return Call(context, &Stub::Reject, request, PrintComplaint);
}

int RunForward(const CliContext& context, const ComplaintOptions& options) {
  ForwardRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_to_agency_id(options.to_agency);
  request.set_to_office_id(options.to_office);
  request.set_note(options.note);
  return Call(context, &Stub::Forward, request, PrintComplaint);
}

int RunAssign(const CliContext& context, const ComplaintOptions& options) {
  if (options.officer.empty() && options.office.empty()) {
    return PrintError(absl::InvalidArgumentError(
        "assign: name the assignee with --officer or --office"));
  }
  AssignRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_officer_id(options.officer);
  request.set_office_id(options.office);
  request.set_note(options.note);
  return Call(context, &Stub::Assign, request, PrintComplaint);
}

int RunResolve(const CliContext& context, const ComplaintOptions& options) {
  ResolveRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_resolution(options.resolution);
  return Call(context, &Stub::Resolve, request, PrintComplaint);
}

int RunComment(const CliContext& context, const ComplaintOptions& options) {
  AddCommentRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_tracking_number(options.tracking_number);
  request.set_text(options.text);
  request.set_internal(options.internal);
  return Call(context, &Stub::AddComment, request, PrintComplaint);
}

int RunStats(const CliContext& context, const ComplaintOptions& options) {
  GetComplaintStatsRequest request;
  request.set_agency_id(options.agency);
  request.set_office_id(options.office);
  absl::StatusOr<prima::common::v1::TimeRange> period =
      ParseTimeRangeFlags(options.from, options.to);
  if (!period.ok()) return PrintError(period.status());
  *request.mutable_period() = *period;
  return Call(context, &Stub::GetComplaintStats, request, PrintStats);
}

int RunPolicy(const CliContext& context, const ComplaintOptions& options) {
  UpdateDeadlinePolicyRequest request;
  request.set_request_id(RequestId(context, options));
  DeadlinePolicy* p = request.mutable_policy();
  p->set_agency_id(options.agency);
  p->set_category(FromFlag<Category>(options.category));
  p->set_verify_working_days(options.verify_working_days);
  p->set_follow_up_working_days(options.follow_up_working_days);
  p->set_response_days(options.response_days);
  return Call(context, &Stub::UpdateDeadlinePolicy, request, PrintPolicy);
}

// ---- registration ----

using RunFn = int (*)(const CliContext&, const ComplaintOptions&);

// Adds `name` under `complaint`; its callback runs `run` with the shared
// options.
CLI::App* AddRun(CLI::App* complaint, CliContext& context,
                 std::shared_ptr<ComplaintOptions> options, const char* name,
                 const char* help, RunFn run, bool mutation) {
  CLI::App* sub = complaint->add_subcommand(name, help);
  if (mutation) {
    sub->add_option("--request-id", options->request_id,
                    "idempotency key (default: one per invocation)");
  }
  sub->callback([&context, options, run] {
    context.action = [&context, options, run] {
      return run(context, *options);
    };
  });
  return sub;
}

void AddTracking(CLI::App* sub, ComplaintOptions& options) {
  sub->add_option("tracking", options.tracking_number,
                  "tracking number (AGENCY-YYYYMMDD-NNNN)")
      ->required();
}

void AddSecret(CLI::App* sub, ComplaintOptions& options) {
  sub->add_option("--secret", options.secret,
                  "the receipt secret (not needed with the filing citizen's "
                  "or a staff token)");
}

void AddNote(CLI::App* sub, ComplaintOptions& options) {
  sub->add_option("--note", options.note,
                  "a note for the timeline, at most 4000 characters");
}

void AddTimeRange(CLI::App* sub, ComplaintOptions& options, bool required) {
  const char* when =
      "YYYY-MM-DD (local time zone) or RFC 3339 (2026-11-01T08:00:00+07:00)";
  CLI::Option* from = sub->add_option(
      "--from", options.from, absl::StrCat("filed at or after: ", when));
  CLI::Option* to = sub->add_option(
      "--to", options.to,
      absl::StrCat("filed before: ", when, "; a date includes its day"));
  if (required) {
    from->required();
    to->required();
  }
}

}  // namespace

void AddComplaintCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<ComplaintOptions>();
  ComplaintOptions& o = *options;
  CLI::App* complaint = app.add_subcommand(
      "complaint", "Filing, tracking and handling complaints (pengaduan)");
  complaint->require_subcommand(1);
  auto add = [&](const char* name, const char* help, RunFn run, bool mutation) {
    return AddRun(complaint, context, options, name, help, run, mutation);
  };

  // Citizens.
  CLI::App* sub =
      add("file",
          "File a complaint (public); prints its tracking number and secret",
          RunFile, true);
  sub->add_option("--agency", o.agency, "agency complained about")->required();
  sub->add_option("--office", o.office, "office of that agency");
  sub->add_option("--service", o.service, "public service id");
  sub->add_option("--officer", o.officer, "officer id complained about");
  sub->add_option("--ticket", o.ticket, "queue ticket id of the visit");
  sub->add_option("--classification", o.classification, "kind of report")
      ->check(EnumFlag<Classification>())
      ->capture_default_str();
  sub->add_option("--category", o.category, "complaint type")
      ->check(EnumFlag<Category>())
      ->required();
  sub->add_option("--title", o.title, "5-200 characters")->required();
  sub->add_option("--description", o.description, "20-8000 characters")
      ->required();
  sub->add_option("--incident-date", o.incident_date,
                  "when it happened, YYYY-MM-DD");
  CLI::Option* lat = sub->add_option("--lat", o.latitude, "latitude, degrees")
                         ->check(CLI::Range(-90.0, 90.0));
  CLI::Option* lng = sub->add_option("--lng", o.longitude, "longitude, degrees")
                         ->check(CLI::Range(-180.0, 180.0));
  lat->needs(lng);
  lng->needs(lat);
  sub->add_option("--address", o.address, "where it happened, free text");
  sub->add_option("--attachment", o.attachment_urls,
                  "https URL of evidence (repeatable, at most 10); strip "
                  "photo metadata first")
      ->allow_extra_args(false);  // one URL per --attachment
  sub->add_option("--channel", o.channel, "where the complaint is filed")
      ->check(EnumFlag<Channel>())
      ->capture_default_str();
  CLI::Option* anonymous = sub->add_flag(
      "--anonymous", o.anonymous, "keep the reporter's identity unstored");
  sub->add_flag("--confidential", o.confidential,
                "only the handling agency and the reporter may read it");
  for (const auto& [flag, value, help] : std::initializer_list<
           std::tuple<const char*, std::string*, const char*>>{
           {"--contact-name", &o.contact_name, "reporter's name"},
           {"--contact-phone", &o.contact_phone, "reporter's phone"},
           {"--contact-email", &o.contact_email, "reporter's email"}}) {
    sub->add_option(flag, *value, help)->excludes(anonymous);
  }
  sub = add("get", "Show a complaint with its deadlines and timeline", RunGet,
            false);
  AddTracking(sub, o);
  AddSecret(sub, o);
  sub =
      add("respond", "Accept or reject the resolution of a RESOLVED complaint",
          RunRespond, true);
  AddTracking(sub, o);
  AddSecret(sub, o);
  CLI::Option* accept =
      sub->add_flag("--accept", o.accept, "accept: the complaint closes");
  CLI::Option* reject = sub->add_flag(
      "--reject", o.reject, "reject: the complaint reopens (needs --reason)");
  CLI::Option* reason =
      sub->add_option("--reason", o.reason, "why the resolution is rejected");
  accept->excludes(reject)->excludes(reason);
  reject->needs(reason);
  sub = add("rate", "Rate the resolution, once", RunRate, true);
  AddTracking(sub, o);
  AddSecret(sub, o);
  sub->add_option("--rating", o.rating, "1-5")
      ->check(CLI::Range(1, 5))
      ->required();

  // Staff of the handling agency.
  sub = add("list", "The agency's complaints, newest first (staff)", RunList,
            false);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--status", o.status, "only this status")
      ->check(EnumFlag<ComplaintStatus>());
  sub->add_option("--category", o.category, "only this category")
      ->check(EnumFlag<Category>());
  sub->add_option("--office", o.office, "only complaints about this office");
  sub->add_option("--officer", o.officer,
                  "only complaints naming this officer");
  sub->add_flag("--overdue", o.overdue_only,
                "only complaints with a missed deadline");
  AddTimeRange(sub, o, /*required=*/false);
  sub->add_option("--page-size", o.page_size, "complaints per page")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--page-token", o.page_token,
                  "the previous page's next page token");
  for (const auto& [name, help, run] :
       std::initializer_list<std::tuple<const char*, const char*, RunFn>>{
           {"verify", "SUBMITTED -> VERIFIED", RunVerify},
           {"start", "ASSIGNED -> IN_PROGRESS", RunStart}}) {
    sub = add(name, help, run, true);
    AddTracking(sub, o);
    AddNote(sub, o);
  }
  sub = add("reject", "SUBMITTED -> REJECTED or NOT_IN_AUTHORITY", RunReject,
            true);
  AddTracking(sub, o);
  sub->add_option("--reason", o.reason, "why, at most 4000 characters")
      ->required();
  sub->add_flag("--not-in-authority", o.not_in_authority,
                "not this agency's authority (bukan wewenang)");
  sub = add("forward", "VERIFIED -> FORWARDED to another agency (disposisi)",
            RunForward, true);
  AddTracking(sub, o);
  sub->add_option("--to-agency", o.to_agency, "the competent agency")
      ->required();
  sub->add_option("--to-office", o.to_office, "an office of that agency");
  AddNote(sub, o);
  sub = add("assign", "VERIFIED or REOPENED -> ASSIGNED to an officer or unit",
            RunAssign, true);
  AddTracking(sub, o);
  CLI::Option* officer =
      sub->add_option("--officer", o.officer, "an officer of the agency");
  sub->add_option("--office", o.office, "a unit (office) of the agency")
      ->excludes(officer);
  AddNote(sub, o);
  sub = add("resolve", "IN_PROGRESS -> RESOLVED with the answer to the citizen",
            RunResolve, true);
  AddTracking(sub, o);
  sub->add_option("--resolution", o.resolution,
                  "the answer, at most 4000 characters")
      ->required();
  sub = add("comment", "A public reply or an internal note", RunComment, true);
  AddTracking(sub, o);
  sub->add_option("--text", o.text, "1-4000 characters")->required();
  sub->add_flag("--internal", o.internal,
                "an internal note (staff only), not a reply to the reporter");
  sub = add("stats",
            "Counts, median time to resolve and deadlines met "
            "(supervisor)",
            RunStats, false);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--office", o.office, "only this office");
  AddTimeRange(sub, o, /*required=*/true);
  sub = add("policy",
            "Set an agency's deadlines for a category (replaces them; a flag "
            "left out takes its default) (agency admin)",
            RunPolicy, true);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--category", o.category,
                  "one category (default: all categories)")
      ->check(EnumFlag<Category>());
  sub->add_option("--verify-days", o.verify_working_days,
                  "working days to verify, 1-60")
      ->capture_default_str();
  sub->add_option("--follow-up-days", o.follow_up_working_days,
                  "working days from verification to resolution, 1-120")
      ->capture_default_str();
  sub->add_option("--response-days", o.response_days,
                  "calendar days the reporter may respond, 1-60")
      ->capture_default_str();
}

}  // namespace prima::cli
