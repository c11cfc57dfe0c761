// prima survey and prima score: satisfaction surveys and their scores on the
// satisfaction server (prima.satisfaction.v1.SatisfactionService).
//   Templates (public; save: agency admin):
//   prima survey templates [--agency A]
//   prima survey template ID [--version N]
//   prima survey save-template -f FILE
//   Invitations and responses (invite: staff; the rest public):
//   prima survey invite --agency A --office O --service S [--officer X]
//                       [--template T]
//   prima survey invitation TOKEN
//   prima survey submit (--token T |
//                        --kiosk ID --kiosk-credential C --service S
//                        [--office O])
//                       [--template T] --answer CODE=VALUE...
//                       [--expect CODE=VALUE]... [--sex male|female]
//                       [--age N] [--education sd|smp|sma|d1-d3|s1|s2|s3]
//                       [--occupation pns|tni|polri|swasta|wirausaha|lainnya]
//                       [--comment TEXT]
//   Kiosks (register, revoke: agency admin; list: staff of the agency):
//   prima survey kiosk register --office O --name NAME [--description D]
//                               (prints the credential, once)
//   prima survey kiosk list --agency A [--office O]
//   prima survey kiosk revoke ID
//   Scores (public; export: supervisor of the agency):
//   prima score index --scope agency|office|service|officer --id ID
//                     (--period KEY | --from YYYY-MM-DD --to YYYY-MM-DD)
//                     [--template T]
//   prima score trend --scope ... --id ID --granularity day|month
//                     --from YYYY-MM-DD --to YYYY-MM-DD [--template T]
//   prima score rank agencies|offices [--agency A] --period KEY
//                    [--template T]
//   prima score export --agency A [--office O]
//                      (--period KEY | --from YYYY-MM-DD --to YYYY-MM-DD)
//                      (CSV, or JSON lines with --output json)
// A period KEY is "2026-11-24" (day), "2026-11" (month), "2026-Q4" (quarter),
// "2026-S2" (semester) or "2026" (year). Mutations send this invocation's
// request id unless --request-id names one (a fixed id makes a retry
// idempotent).

#include <google/protobuf/generated_enum_reflection.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "clients/cli/enum_flags.h"
#include "prima/satisfaction/v1/satisfaction.grpc.pb.h"

namespace prima::cli {
namespace {

using namespace ::prima::satisfaction::v1;  // NOLINT: request/response types
using Stub = SatisfactionService::Stub;

struct SatisfactionOptions {
  // templates, invite, rank, export.
  std::string agency;
  // settings.
  double low_threshold = 0;
  // template, save-template.
  std::string template_id;
  int version = 0;
  std::string file;
  // invite, submit, export.
  std::string office;
  std::string service;
  std::string officer;
  // invitation, submit.
  std::string invitation_token;
  std::string kiosk_id;
  std::string kiosk_credential;
  // kiosk register.
  std::string name;
  std::string description;
  std::vector<std::string> answers;       // CODE=VALUE
  std::vector<std::string> expectations;  // CODE=VALUE
  std::string sex;
  int age = 0;
  std::string education;
  std::string occupation;
  std::string comment;
  // index, trend, rank, export.
  std::string scope;
  std::string id;
  std::string period;  // a period key
  std::string from;    // YYYY-MM-DD
  std::string to;
  std::string granularity;
  std::string ranked;  // agencies | offices
  std::string request_id;
};

std::unique_ptr<Stub> NewStub(const CliContext& context) {
  return SatisfactionService::NewStub(
      context.NewChannel(context.AddressOf("satisfaction")));
}

std::string RequestId(const CliContext& context,
                      const SatisfactionOptions& options) {
  return options.request_id.empty() ? context.request_id() : options.request_id;
}

// ---- flag values ----

// "U1=4" -> {"U1", 4}; INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<std::pair<std::string, int32_t>> ParseCodeValue(
    absl::string_view flag, absl::string_view text) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('=', 1));
  int32_t value = 0;
  if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": not CODE=VALUE with an integer VALUE (U1=4): ", text));
  }
  return std::make_pair(std::string(parts.first), value);
}

// CLI11's check of a CODE=VALUE flag: a malformed pair is a usage error.
CLI::Validator CodeValueFlag() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return ParseCodeValue("", text).ok()
                   ? ""
                   : absl::StrCat(
                         "not CODE=VALUE with an integer VALUE "
                         "(U1=4): ",
                         text);
      },
      "CODE=VALUE");
}

bool AllDigits(absl::string_view text, size_t size) {
  if (text.size() != size) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A period key, its kind from its shape: "2026-11-24" day, "2026-11" month,
// "2026-Q4" quarter, "2026-S2" semester, "2026" year. The server checks the
// ranges (month 13, day 31 of November).
absl::StatusOr<Period> ParsePeriodKey(const std::string& key) {
  Period period;
  period.set_key(key);
  const absl::string_view year = absl::string_view(key).substr(0, 4);
  const absl::string_view rest =
      key.size() > 4 ? absl::string_view(key).substr(4) : "";
  if (AllDigits(year, 4)) {
    if (rest.empty()) {
      period.set_kind(PERIOD_KIND_YEAR);
    } else if (rest.size() == 3 && (rest[1] == 'Q' || rest[1] == 'q') &&
               rest[0] == '-' && rest[2] >= '1' && rest[2] <= '4') {
      period.set_kind(PERIOD_KIND_QUARTER);
      period.set_key(absl::StrCat(year, "-Q", rest.substr(2)));
    } else if (rest.size() == 3 && (rest[1] == 'S' || rest[1] == 's') &&
               rest[0] == '-' && (rest[2] == '1' || rest[2] == '2')) {
      period.set_kind(PERIOD_KIND_SEMESTER);
      period.set_key(absl::StrCat(year, "-S", rest.substr(2)));
    } else if (rest.size() == 3 && rest[0] == '-' &&
               AllDigits(rest.substr(1), 2)) {
      period.set_kind(PERIOD_KIND_MONTH);
    } else if (rest.size() == 6 && rest[0] == '-' && rest[3] == '-' &&
               AllDigits(rest.substr(1, 2), 2) &&
               AllDigits(rest.substr(4), 2)) {
      period.set_kind(PERIOD_KIND_DAY);
    }
  }
  if (period.kind() == PERIOD_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--period: not a period key (2026-11-24, 2026-11, 2026-Q4, 2026-S2, "
        "2026): ",
        key));
  }
  return period;
}

CLI::Validator PeriodKeyFlag() {
  return CLI::Validator(
      [](std::string& key) -> std::string {
        return ParsePeriodKey(key).ok()
                   ? ""
                   : absl::StrCat(
                         "not a period key (2026-11-24, 2026-11, "
                         "2026-Q4, 2026-S2, 2026): ",
                         key);
      },
      "KEY");
}

CLI::Validator DateFlag() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return ParseDateFlag("", value).ok()
                   ? ""
                   : absl::StrCat("not a date YYYY-MM-DD: ", value);
      },
      "YYYY-MM-DD");
}

// The period of --period KEY or of --from/--to (a CUSTOM period).
absl::StatusOr<Period> PeriodOf(const SatisfactionOptions& options) {
  if (!options.period.empty()) return ParsePeriodKey(options.period);
  Period period;
  period.set_kind(PERIOD_KIND_CUSTOM);
  absl::StatusOr<prima::common::v1::LocalDate> first =
      ParseDateFlag("--from", options.from);
  if (!first.ok()) return first.status();
  absl::StatusOr<prima::common::v1::LocalDate> last =
      ParseDateFlag("--to", options.to);
  if (!last.ok()) return last.status();
  *period.mutable_first_date() = *first;
  *period.mutable_last_date() = *last;
  return period;
}

// ---- printing ----

std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}});
}

std::string DateCell(const prima::common::v1::LocalDate& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

// "2026-11 (2026-11-01..2026-11-30)", "2026-01-05..2026-02-04" for a custom
// period.
std::string PeriodCell(const Period& period) {
  const std::string range =
      period.has_first_date() ? absl::StrCat(DateCell(period.first_date()),
                                             "..", DateCell(period.last_date()))
                              : "";
  if (period.key().empty()) return range;
  if (range.empty()) return period.key();
  return absl::StrCat(period.key(), " (", range, ")");
}

std::string Fixed(double value, int decimals) {
  return absl::StrFormat("%.*f", decimals, value);
}

// "U1=4 U2=3"; an answer with an expectation is "G1=4/5" (value/expectation).
std::string AnswersCell(
    const google::protobuf::RepeatedPtrField<Answer>& answers) {
  std::vector<std::string> cells;
  for (const Answer& a : answers) {
    cells.push_back(
        a.expectation() == 0
            ? absl::StrCat(a.code(), "=", a.value())
            : absl::StrCat(a.code(), "=", a.value(), "/", a.expectation()));
  }
  return absl::StrJoin(cells, " ");
}

// One CSV field per RFC 4180: in quotes, its quotes doubled, when it holds a
// comma, a quote or a line break; as it is otherwise. A field that a
// spreadsheet would run as a formula (a citizen's comment starting with "=",
// "+", "-", "@", a tab or a carriage return) gets a leading apostrophe, as
// OWASP advises against CSV injection: agencies open exports in Excel.
std::string CsvField(absl::string_view text) {
  std::string field(text);
  if (!field.empty() &&
      absl::string_view("=+-@\t\r").find(field[0]) != absl::string_view::npos) {
    field.insert(0, "'");
  }
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  return absl::StrCat("\"", absl::StrReplaceAll(field, {{"\"", "\"\""}}), "\"");
}

// One CSV record (RFC 4180: CRLF at its end).
std::string CsvRecord(const std::vector<std::string>& fields) {
  return absl::StrCat(absl::StrJoin(fields, ",",
                                    [](std::string* out, const std::string& f) {
                                      out->append(CsvField(f));
                                    }),
                      "\r\n");
}

std::string TemplateCell(absl::string_view id, int32_t version) {
  return version == 0 ? std::string(id) : absl::StrCat(id, " v", version);
}

void PrintTemplates(const CliContext& context,
                    const ListTemplatesResponse& response) {
  Table table({"id", "version", "name", "kind", "dimensions"});
  for (const Template& t : response.templates()) {
    table.AddRow({t.id(), absl::StrCat(t.version()), OneLine(t.name()),
                  EnumCell(t.kind()), absl::StrCat(t.dimensions_size())});
  }
  PrintMessage(context.output(), response, table);
}

// The template's name line, then one row per dimension.
void PrintTemplate(const CliContext& context, const Template& t) {
  Table table({"code", "name", "scale", "labels"});
  for (const Dimension& d : t.dimensions()) {
    table.AddRow({d.code(), OneLine(d.name()),
                  absl::StrCat(d.scale_min(), "-", d.scale_max()),
                  OneLine(absl::StrJoin(d.answer_labels(), " / "))});
  }
  if (context.output() == OutputFormat::kTable) {
    std::printf("template %s v%d: %s (%s%s%s)\n", t.id().c_str(), t.version(),
                t.name().c_str(), EnumLabel(t.kind()).c_str(),
                t.expectations() ? ", asks expectations" : "",
                t.agency_id().empty()
                    ? ", built-in"
                    : absl::StrCat(", agency ", t.agency_id()).c_str());
  }
  PrintMessage(context.output(), t, table);
}

void PrintInvitation(const CliContext& context, const Invitation& i) {
  Table table({"agency", "office", "service", "officer", "template", "source",
               "created", "expires", "used"});
  table.AddRow({i.agency_id(), i.office_id(), i.service_id(), i.officer_id(),
                TemplateCell(i.template_id(), i.template_version()),
                i.source_id().empty()
                    ? EnumCell(i.source())
                    : absl::StrCat(EnumCell(i.source()), " ", i.source_id()),
                FormatTimestamp(i.create_time()),
                FormatTimestamp(i.expire_time()), i.used() ? "yes" : "no"});
  PrintMessage(context.output(), i, table);
}

// After CreateInvitation: the token, which is not shown again.
void PrintCreatedInvitation(const CliContext& context, const Invitation& i) {
  PrintInvitation(context, i);
  if (context.output() != OutputFormat::kTable) return;
  std::printf(
      "\ninvitation token: %s\n"
      "Give it to the citizen: they answer the survey with it, once, before "
      "it expires. It is not shown again.\n",
      i.token().c_str());
}

void AddKioskRow(Table& table, const Kiosk& k) {
  table.AddRow({k.id(), k.office_id(), k.agency_id(), OneLine(k.name()),
                FormatTimestamp(k.create_time()),
                k.has_revoke_time() ? FormatTimestamp(k.revoke_time()) : ""});
}

Table KioskTable() {
  return Table({"id", "office", "agency", "name", "registered", "revoked"});
}

void PrintKiosk(const CliContext& context, const Kiosk& k) {
  Table table = KioskTable();
  AddKioskRow(table, k);
  PrintMessage(context.output(), k, table);
}

// After RegisterKiosk: the credential, which is not shown again.
void PrintRegisteredKiosk(const CliContext& context, const Kiosk& k) {
  PrintKiosk(context, k);
  if (context.output() != OutputFormat::kTable) return;
  std::printf(
      "\nkiosk credential: %s\n"
      "Set it up on the kiosk with its id: it submits with `--kiosk %s "
      "--kiosk-credential <credential>`. It is not shown again; if it is "
      "lost, revoke the kiosk and register another.\n",
      k.credential().c_str(), k.id().c_str());
}

void PrintResponse(const CliContext& context, const Response& r) {
  Table table({"id", "submitted", "local_date", "office", "service", "officer",
               "template", "source", "answers"});
  table.AddRow({r.id(), FormatTimestamp(r.submit_time()),
                DateCell(r.local_date()), r.office_id(), r.service_id(),
                r.officer_id(),
                TemplateCell(r.template_id(), r.template_version()),
                EnumCell(r.source()), AnswersCell(r.answers())});
  PrintMessage(context.output(), r, table);
}

// The SKM table as agencies publish it: per unsur, then the index, the
// sample, CSAT/NPS and expectation gaps.
void PrintIndex(const CliContext& context, const Index& index) {
  if (context.output() != OutputFormat::kTable) {
    std::fputs(MessageJson(index).c_str(), stdout);
    return;
  }
  std::printf("%s %s, period %s, template %s\n\n",
              EnumLabel(index.scope().kind()).c_str(),
              index.scope().id().c_str(), PeriodCell(index.period()).c_str(),
              index.template_id().c_str());
  // csat-nps and expectation templates have no IKM: their elements show the
  // mean answer only.
  const bool skm =
      index.mutu() != MUTU_UNSPECIFIED || index.ikm_interval() != 0;
  Table elements(
      skm ? std::vector<std::string>{"code", "unsur", "responses", "nrr",
                                     "nrr_tertimbang", "konversi", "mutu"}
          : std::vector<std::string>{"code", "name", "responses", "mean"});
  for (const ElementScore& e : index.elements()) {
    elements.AddRow({e.code(), OneLine(e.name()), absl::StrCat(e.responses()),
                     Fixed(e.nrr(), 3), Fixed(e.nrr_weighted(), 3),
                     Fixed(e.converted(), 2), EnumCell(e.mutu())});
  }
  elements.Print(OutputFormat::kTable);

  std::printf("\n");
  Table summary({"figure", "value"});
  if (skm) {
    summary.AddRow({"IKM (nilai interval)", Fixed(index.ikm_interval(), 4)});
    summary.AddRow({"IKM konversi", Fixed(index.ikm_converted(), 2)});
    summary.AddRow({"mutu", EnumCell(index.mutu())});
    summary.AddRow({"kinerja", index.kinerja()});
  }
  summary.AddRow({"respondents", absl::StrCat(index.respondents())});
  summary.AddRow(
      {"population (visits served)", absl::StrCat(index.population())});
  summary.AddRow({"required sample (Krejcie-Morgan)",
                  absl::StrCat(index.required_sample())});
  summary.AddRow({"sample adequate", index.sample_adequate() ? "yes" : "no"});
  if (index.has_csat()) {
    summary.AddRow({"CSAT", absl::StrCat(Fixed(index.csat() * 100, 1), "%")});
  }
  if (index.has_nps()) summary.AddRow({"NPS", Fixed(index.nps(), 1)});
  summary.Print(OutputFormat::kTable);

  if (index.gaps().empty()) return;
  std::printf("\n");
  Table gaps({"code", "performance", "expectation", "gap", "verdict"});
  for (const Gap& g : index.gaps()) {
    gaps.AddRow({g.code(), Fixed(g.performance(), 3), Fixed(g.expectation(), 3),
                 Fixed(g.gap(), 3), g.verdict()});
  }
  gaps.Print(OutputFormat::kTable);
}

void PrintTrend(const CliContext& context, const Trend& trend) {
  Table table({"period", "respondents", "ikm", "mutu"});
  for (const TrendPoint& p : trend.points()) {
    table.AddRow({p.period(), absl::StrCat(p.respondents()),
                  p.respondents() == 0 ? "" : Fixed(p.ikm_converted(), 2),
                  EnumCell(p.mutu())});
  }
  PrintMessage(context.output(), trend, table);
}

void PrintRanking(const CliContext& context, const Ranking& ranking) {
  Table table({"rank", "id", "ikm", "mutu", "respondents"});
  int rank = 0;
  for (const RankEntry& e : ranking.entries()) {
    table.AddRow({absl::StrCat(++rank), e.id(), Fixed(e.ikm_converted(), 2),
                  EnumCell(e.mutu()), absl::StrCat(e.respondents())});
  }
  if (context.output() == OutputFormat::kTable) {
    std::printf("period %s, template %s\n\n",
                PeriodCell(ranking.period()).c_str(),
                ranking.template_id().c_str());
  }
  PrintMessage(context.output(), ranking, table);
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

// ---- survey ----

int RunTemplates(const CliContext& context,
                 const SatisfactionOptions& options) {
  ListTemplatesRequest request;
  request.set_agency_id(options.agency);
  return Call(context, &Stub::ListTemplates, request, PrintTemplates);
}

int RunTemplate(const CliContext& context, const SatisfactionOptions& options) {
  GetTemplateRequest request;
  request.set_template_id(options.template_id);
  request.set_version(options.version);
  return Call(context, &Stub::GetTemplate, request, PrintTemplate);
}

int RunSaveTemplate(const CliContext& context,
                    const SatisfactionOptions& options) {
  SaveTemplateRequest request;
  if (absl::Status read =
          ReadTextProtoFile(options.file, request.mutable_template_());
      !read.ok()) {
    return PrintError(read);
  }
  request.set_request_id(RequestId(context, options));
  return Call(context, &Stub::SaveTemplate, request, PrintTemplate);
}

int RunInvite(const CliContext& context, const SatisfactionOptions& options) {
  CreateInvitationRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_agency_id(options.agency);
  request.set_office_id(options.office);
  request.set_service_id(options.service);
  request.set_officer_id(options.officer);
  request.set_template_id(options.template_id);
  return Call(context, &Stub::CreateInvitation, request,
              PrintCreatedInvitation);
}

int RunInvitation(const CliContext& context,
                  const SatisfactionOptions& options) {
  GetInvitationRequest request;
  request.set_token(options.invitation_token);
  return Call(context, &Stub::GetInvitation, request, PrintInvitation);
}

// The answers of --answer, with the expectations of --expect; a usage error
// (CLI::ValidationError) for a repeated code or an expectation of a code not
// answered.
std::vector<Answer> AnswersOf(const SatisfactionOptions& options) {
  std::vector<Answer> answers;
  std::map<std::string, size_t> by_code;
  for (const std::string& text : options.answers) {
    absl::StatusOr<std::pair<std::string, int32_t>> pair =
        ParseCodeValue("--answer", text);
    if (!pair.ok()) {
      throw CLI::ValidationError("--answer",
                                 std::string(pair.status().message()));
    }
    if (!by_code.emplace(pair->first, answers.size()).second) {
      throw CLI::ValidationError(
          "--answer", absl::StrCat(pair->first, " is answered twice"));
    }
    Answer& answer = answers.emplace_back();
    answer.set_code(pair->first);
    answer.set_value(pair->second);
  }
  for (const std::string& text : options.expectations) {
    absl::StatusOr<std::pair<std::string, int32_t>> pair =
        ParseCodeValue("--expect", text);
    if (!pair.ok()) {
      throw CLI::ValidationError("--expect",
                                 std::string(pair.status().message()));
    }
    auto it = by_code.find(pair->first);
    if (it == by_code.end()) {
      throw CLI::ValidationError("--expect",
                                 absl::StrCat(pair->first, " has no --answer ",
                                              pair->first, "=VALUE"));
    }
    answers[it->second].set_expectation(pair->second);
  }
  return answers;
}

// Usage checks of submit beyond what CLI11 declares.
void CheckSubmit(const SatisfactionOptions& options) {
  if (options.invitation_token.empty() && options.kiosk_id.empty()) {
    throw CLI::RequiredError(
        "--token, or --kiosk/--kiosk-credential/--service,");
  }
  (void)AnswersOf(options);
}

int RunSubmit(const CliContext& context, const SatisfactionOptions& options) {
  SubmitResponseRequest request;
  request.set_request_id(RequestId(context, options));
  if (!options.invitation_token.empty()) {
    request.set_invitation_token(options.invitation_token);
  } else {
    KioskSubmission* kiosk = request.mutable_kiosk();
    kiosk->set_kiosk_id(options.kiosk_id);
    kiosk->set_kiosk_credential(options.kiosk_credential);
    kiosk->set_office_id(options.office);
    kiosk->set_service_id(options.service);
  }
  request.set_template_id(options.template_id);
  for (Answer& answer : AnswersOf(options)) {
    *request.add_answers() = std::move(answer);
  }
  if (!options.sex.empty() || options.age != 0 || !options.education.empty() ||
      !options.occupation.empty()) {
    RespondentProfile* profile = request.mutable_profile();
    profile->set_sex(FromFlag<RespondentProfile::Sex>(options.sex));
    profile->set_age(options.age);
    profile->set_education(
        FromFlag<RespondentProfile::Education>(options.education));
    profile->set_occupation(
        FromFlag<RespondentProfile::Occupation>(options.occupation));
  }
  request.set_comment(options.comment);
  return Call(context, &Stub::SubmitResponse, request, PrintResponse);
}

// ---- kiosks ----

int RunKioskRegister(const CliContext& context,
                     const SatisfactionOptions& options) {
  RegisterKioskRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_office_id(options.office);
  request.set_name(options.name);
  request.set_description(options.description);
  return Call(context, &Stub::RegisterKiosk, request, PrintRegisteredKiosk);
}

// Every page.
int RunKioskList(const CliContext& context,
                 const SatisfactionOptions& options) {
  ListKiosksRequest request;
  request.set_agency_id(options.agency);
  request.set_office_id(options.office);
  request.mutable_page()->set_page_size(500);
  auto stub = NewStub(context);
  Table table = KioskTable();
  ListKiosksResponse all;
  for (int pages = 0; pages < 200; ++pages) {
    grpc::ClientContext ctx;
    context.PrepareContext(&ctx);
    ListKiosksResponse response;
    grpc::Status status = stub->ListKiosks(&ctx, request, &response);
    if (!status.ok()) return PrintError(status);
    for (const Kiosk& k : response.kiosks()) {
      AddKioskRow(table, k);
      *all.add_kiosks() = k;
    }
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  PrintMessage(context.output(), all, table);
  return 0;
}

int RunKioskRevoke(const CliContext& context,
                   const SatisfactionOptions& options) {
  RevokeKioskRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_kiosk_id(options.kiosk_id);
  return Call(context, &Stub::RevokeKiosk, request, PrintKiosk);
}

// ---- score ----

Scope ScopeOf(const SatisfactionOptions& options) {
  Scope scope;
  scope.set_kind(FromFlag<ScopeKind>(options.scope));
  scope.set_id(options.id);
  return scope;
}

// Either --period or both --from and --to.
void CheckPeriod(const SatisfactionOptions& options) {
  if (options.period.empty() && options.from.empty()) {
    throw CLI::RequiredError("--period, or --from/--to,");
  }
}

int RunIndex(const CliContext& context, const SatisfactionOptions& options) {
  GetIndexRequest request;
  *request.mutable_scope() = ScopeOf(options);
  absl::StatusOr<Period> period = PeriodOf(options);
  if (!period.ok()) return PrintError(period.status());
  *request.mutable_period() = *period;
  request.set_template_id(options.template_id);
  return Call(context, &Stub::GetIndex, request, PrintIndex);
}

int RunTrend(const CliContext& context, const SatisfactionOptions& options) {
  GetTrendRequest request;
  *request.mutable_scope() = ScopeOf(options);
  request.set_granularity(FromFlag<Granularity>(options.granularity));
  absl::StatusOr<prima::common::v1::LocalDate> first =
      ParseDateFlag("--from", options.from);
  if (!first.ok()) return PrintError(first.status());
  absl::StatusOr<prima::common::v1::LocalDate> last =
      ParseDateFlag("--to", options.to);
  if (!last.ok()) return PrintError(last.status());
  *request.mutable_first_date() = *first;
  *request.mutable_last_date() = *last;
  request.set_template_id(options.template_id);
  return Call(context, &Stub::GetTrend, request, PrintTrend);
}

void PrintScoreSettings(const CliContext& context, const ScoreSettings& s) {
  Table table({"agency", "low element threshold"});
  table.AddRow({s.agency_id(),
                s.low_element_threshold() == 0
                    ? std::string("mutu C and D only")
                    : absl::StrFormat("%.2f", s.low_element_threshold())});
  PrintMessage(context.output(), s, table);
}

int RunSettings(const CliContext& context, const SatisfactionOptions& options) {
  UpdateScoreSettingsRequest request;
  request.set_request_id(RequestId(context, options));
  request.mutable_settings()->set_agency_id(options.agency);
  request.mutable_settings()->set_low_element_threshold(options.low_threshold);
  return Call(context, &Stub::UpdateScoreSettings, request, PrintScoreSettings);
}

void CheckRank(const SatisfactionOptions& options) {
  if (options.ranked == "agencies" && !options.agency.empty()) {
    throw CLI::ValidationError("--agency",
                               "only with `prima score rank offices`");
  }
}

int RunRank(const CliContext& context, const SatisfactionOptions& options) {
  absl::StatusOr<Period> period = ParsePeriodKey(options.period);
  if (!period.ok()) return PrintError(period.status());
  if (options.ranked == "agencies") {
    RankAgenciesRequest request;
    *request.mutable_period() = *period;
    request.set_template_id(options.template_id);
    return Call(context, &Stub::RankAgencies, request, PrintRanking);
  }
  RankOfficesRequest request;
  request.set_agency_id(options.agency);
  *request.mutable_period() = *period;
  request.set_template_id(options.template_id);
  return Call(context, &Stub::RankOffices, request, PrintRanking);
}

// The CSV header of `prima score export`.
const std::vector<std::string>& ExportColumns() {
  static const std::vector<std::string>* columns = new std::vector<std::string>{
      "id",      "submit_time", "local_date", "office",     "service",
      "officer", "source",      "template",   "version",    "answers",
      "sex",     "age",         "education",  "occupation", "comment"};
  return *columns;
}

// One response as a CSV record of ExportColumns().
std::string ExportRecord(const Response& r) {
  const RespondentProfile& p = r.profile();
  return CsvRecord(
      {r.id(), FormatTimestamp(r.submit_time()), DateCell(r.local_date()),
       r.office_id(), r.service_id(), r.officer_id(), EnumCell(r.source()),
       r.template_id(), absl::StrCat(r.template_version()),
       AnswersCell(r.answers()), EnumCell(p.sex()),
       p.age() == 0 ? "" : absl::StrCat(p.age()), EnumCell(p.education()),
       EnumCell(p.occupation()), r.comment()});
}

// The responses as they arrive: CSV (a header, then a record each), or one
// JSON object a line with --output json. Records read before an error are
// printed before it; a refused call prints no header.
int RunExport(const CliContext& context, const SatisfactionOptions& options) {
  ExportResponsesRequest request;
  request.set_agency_id(options.agency);
  request.set_office_id(options.office);
  absl::StatusOr<Period> period = PeriodOf(options);
  if (!period.ok()) return PrintError(period.status());
  *request.mutable_period() = *period;

  grpc::ClientContext call;
  context.PrepareContext(&call);
  std::unique_ptr<Stub> stub = NewStub(context);
  std::unique_ptr<grpc::ClientReader<Response>> reader =
      stub->ExportResponses(&call, request);
  const bool json = context.output() == OutputFormat::kJson;
  bool header_printed = json;
  auto print_header = [&header_printed] {
    if (header_printed) return;
    header_printed = true;
    std::fputs(CsvRecord(ExportColumns()).c_str(), stdout);
  };
  Response r;
  while (reader->Read(&r)) {
    print_header();
    std::fputs(json ? MessageJson(r, /*one_line=*/true).c_str()
                    : ExportRecord(r).c_str(),
               stdout);
  }
  grpc::Status status = reader->Finish();
  if (status.ok()) print_header();
  std::fflush(stdout);
  return status.ok() ? 0 : PrintError(status);
}

// ---- registration ----

using RunFn = int (*)(const CliContext&, const SatisfactionOptions&);
using CheckFn = void (*)(const SatisfactionOptions&);

// Adds `name` under `parent`; its callback runs `check` (usage errors beyond
// CLI11's, thrown as CLI::ParseError) and stores `run` with the shared
// options.
CLI::App* AddRun(CLI::App* parent, CliContext& context,
                 std::shared_ptr<SatisfactionOptions> options, const char* name,
                 const char* help, RunFn run, bool mutation,
                 CheckFn check = nullptr) {
  CLI::App* sub = parent->add_subcommand(name, help);
  if (mutation) {
    sub->add_option("--request-id", options->request_id,
                    "idempotency key (default: one per invocation)");
  }
  sub->callback([&context, options, run, check] {
    if (check != nullptr) check(*options);
    context.action = [&context, options, run] {
      return run(context, *options);
    };
  });
  return sub;
}

void AddTemplateFlag(CLI::App* sub, SatisfactionOptions& o) {
  sub->add_option("--template", o.template_id, "template id (default: skm)");
}

void AddScopeFlags(CLI::App* sub, SatisfactionOptions& o) {
  sub->add_option("--scope", o.scope, "what is scored")
      ->check(EnumFlag<ScopeKind>())
      ->required();
  sub->add_option("--id", o.id, "the agency, office, service or officer id")
      ->required();
}

CLI::Option* AddPeriodFlag(CLI::App* sub, SatisfactionOptions& o) {
  return sub
      ->add_option("--period", o.period,
                   "period key: 2026-11-24 (day), 2026-11 (month), 2026-Q4 "
                   "(quarter), 2026-S2 (semester), 2026 (year)")
      ->check(PeriodKeyFlag());
}

// --period, or --from and --to for a custom period (PeriodOf reads them; the
// subcommand's check is CheckPeriod).
void AddPeriodOrRangeFlags(CLI::App* sub, SatisfactionOptions& o) {
  CLI::Option* period = AddPeriodFlag(sub, o);
  CLI::Option* from =
      sub->add_option("--from", o.from, "custom period: first local date")
          ->check(DateFlag());
  CLI::Option* to =
      sub->add_option("--to", o.to,
                      "custom period: last local date, inclusive (at most 366 "
                      "days)")
          ->check(DateFlag());
  period->excludes(from)->excludes(to);
  from->needs(to);
  to->needs(from);
}

}  // namespace

void AddSurveyCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<SatisfactionOptions>();
  SatisfactionOptions& o = *options;
  CLI::App* survey = app.add_subcommand(
      "survey",
      "Satisfaction survey templates, invitations and responses (SKM)");
  survey->require_subcommand(1);
  auto add = [&](const char* name, const char* help, RunFn run, bool mutation,
                 CheckFn check = nullptr) {
    return AddRun(survey, context, options, name, help, run, mutation, check);
  };

  CLI::App* sub = add("templates",
                      "Built-in templates and an agency's own, latest versions",
                      RunTemplates, false);
  sub->add_option("--agency", o.agency,
                  "also this agency's templates (default: built-ins only)");
  sub = add("template", "One template version with its dimensions", RunTemplate,
            false);
  sub->add_option("id", o.template_id, "template id (skm, gaspersz-10, ...)")
      ->required();
  sub->add_option("--version", o.version, "version (default: the latest)")
      ->check(CLI::NonNegativeNumber);
  sub = add("save-template",
            "Create an agency's template or a new version of it (agency "
            "admin)",
            RunSaveTemplate, true);
  sub->add_option("-f,--file", o.file,
                  "text-format prima.satisfaction.v1.Template (id, agency_id, "
                  "name, kind, dimensions, expectations)")
      ->required();

  sub = add("invite",
            "Invite the citizen of a served visit (staff); prints the "
            "invitation token",
            RunInvite, true);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--office", o.office, "office that served")->required();
  sub->add_option("--service", o.service, "public service id")->required();
  sub->add_option("--officer", o.officer, "officer who served");
  AddTemplateFlag(sub, o);
  sub = add("invitation", "What the survey form shows for an invitation",
            RunInvitation, false);
  sub->add_option("token", o.invitation_token, "invitation token")->required();

  sub = add("submit",
            "Answer a survey: by invitation token or at an office kiosk",
            RunSubmit, true, CheckSubmit);
  // Shadows the global --token (the JWT) here: give that before `survey` or
  // in PRIMA_TOKEN. Submitting needs none.
  CLI::Option* token = sub->add_option(
      "--token,--invitation", o.invitation_token,
      "invitation token (single use); the JWT, if any, goes before `survey` "
      "or in PRIMA_TOKEN");
  CLI::Option* kiosk = sub->add_option("--kiosk", o.kiosk_id,
                                       "kiosk: the registered kiosk's id");
  sub->add_option("--kiosk-credential", o.kiosk_credential,
                  "kiosk: its credential (from `survey kiosk register`)")
      ->envname("PRIMA_KIOSK_CREDENTIAL");
  CLI::Option* service =
      sub->add_option("--service", o.service, "kiosk: the public service");
  CLI::Option* office = sub->add_option(
      "--office", o.office,
      "kiosk: the office (optional; must be the kiosk's, which is used)");
  token->excludes(kiosk)->excludes(service)->excludes(office);
  kiosk->needs(service);
  service->needs(kiosk);
  office->needs(kiosk);
  sub->add_option("--template", o.template_id,
                  "kiosk: template id (default: skm; an invitation names its "
                  "own)");
  sub->add_option("--answer", o.answers,
                  "an answer, CODE=VALUE (U1=4), one per --answer, every "
                  "element of the template")
      ->check(CodeValueFlag())
      ->allow_extra_args(false)
      ->required();
  sub->add_option("--expect", o.expectations,
                  "the expectation for an answered code, CODE=VALUE (G1=4); "
                  "templates with expectations need one per answer")
      ->check(CodeValueFlag())
      ->allow_extra_args(false);
  sub->add_option("--sex", o.sex, "respondent's sex")
      ->check(EnumFlag<RespondentProfile::Sex>());
  sub->add_option("--age", o.age, "respondent's age, 15-120")
      ->check(CLI::Range(15, 120));
  sub->add_option("--education", o.education, "respondent's education")
      ->check(EnumFlag<RespondentProfile::Education>());
  sub->add_option("--occupation", o.occupation, "respondent's occupation")
      ->check(EnumFlag<RespondentProfile::Occupation>());
  sub->add_option("--comment", o.comment, "free text, at most 2000 characters");

  CLI::App* kiosks = survey->add_subcommand(
      "kiosk",
      "Survey kiosks registered at offices (agency admin; list: staff)");
  kiosks->require_subcommand(1);
  sub = AddRun(kiosks, context, options, "register",
               "Register a kiosk at an office (agency admin); prints its "
               "credential, once",
               RunKioskRegister, true);
  sub->add_option("--office", o.office, "the office it stands in")->required();
  sub->add_option("--name", o.name, "a name, 1-200 characters")->required();
  sub->add_option("--description", o.description,
                  "optional, at most 500 characters");
  sub = AddRun(kiosks, context, options, "list",
               "The kiosks of an agency or office, revoked ones included "
               "(staff)",
               RunKioskList, false);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--office", o.office, "only this office");
  sub = AddRun(kiosks, context, options, "revoke",
               "Revoke a kiosk: its credential stops working at once (agency "
               "admin)",
               RunKioskRevoke, true);
  sub->add_option("id", o.kiosk_id, "kiosk id")->required();
}

void AddScoreCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<SatisfactionOptions>();
  SatisfactionOptions& o = *options;
  CLI::App* score = app.add_subcommand(
      "score", "Satisfaction scores: the SKM index (IKM), trends, rankings");
  score->require_subcommand(1);
  auto add = [&](const char* name, const char* help, RunFn run,
                 CheckFn check = nullptr) {
    return AddRun(score, context, options, name, help, run, false, check);
  };

  CLI::App* sub = add("index",
                      "The SKM table of a scope and period: NRR per unsur, "
                      "IKM, mutu, sample; CSAT, NPS and gaps when asked",
                      RunIndex, CheckPeriod);
  AddScopeFlags(sub, o);
  AddPeriodOrRangeFlags(sub, o);
  AddTemplateFlag(sub, o);

  sub = add("trend", "The IKM of a scope by day or month", RunTrend);
  AddScopeFlags(sub, o);
  sub->add_option("--granularity", o.granularity, "one point per")
      ->check(EnumFlag<Granularity>())
      ->required();
  sub->add_option("--from", o.from, "first local date")
      ->check(DateFlag())
      ->required();
  sub->add_option("--to", o.to,
                  "last local date, inclusive (at most 366 days or 60 months)")
      ->check(DateFlag())
      ->required();
  AddTemplateFlag(sub, o);

  sub = AddRun(score, context, options, "settings",
               "When an element of a closed month counts as low for the "
               "agency, besides mutu C and D (agency admin)",
               RunSettings, true);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--low-threshold", o.low_threshold,
                  "converted score (25-100) below which an element is low; 0: "
                  "mutu C and D only")
      ->required();

  sub = add("rank", "Agencies of the region, or offices, by IKM, best first",
            RunRank, CheckRank);
  sub->add_option("what", o.ranked, "agencies or offices")
      ->check(CLI::IsMember({"agencies", "offices"}))
      ->required();
  sub->add_option("--agency", o.agency,
                  "offices: only this agency's (default: the region's)");
  AddPeriodFlag(sub, o)->required();
  AddTemplateFlag(sub, o);

  sub = add("export",
            "The agency's responses of a period, oldest first, as CSV "
            "(supervisor)",
            RunExport, CheckPeriod);
  sub->add_option("--agency", o.agency, "agency id")->required();
  sub->add_option("--office", o.office, "only this office");
  AddPeriodOrRangeFlags(sub, o);
}

}  // namespace prima::cli
