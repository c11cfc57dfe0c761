#include "services/satisfaction/satisfaction_service.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "prima/satisfaction/v1/satisfaction.grpc.pb.h"
#include "services/common/adapter.h"
#include "services/common/config.h"
#include "services/common/directory_reader.h"
#include "services/common/events.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/office_time.h"
#include "services/common/proto_time.h"
#include "services/common/rpc.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"
#include "services/satisfaction/response_export.h"
#include "services/satisfaction/satisfaction_rules.h"
#include "services/satisfaction/satisfaction_store.h"
#include "services/satisfaction/visit_consumer.h"

namespace prima::satisfaction {

namespace cat = prima::catalog::v1;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

std::vector<RpcPolicy> SatisfactionPolicies() {
  const RoleSet managers =
      Roles({Role::kSupervisor, Role::kAgencyAdmin, Role::kRegionAdmin});
  const RoleSet admins = Roles({Role::kAgencyAdmin, Role::kRegionAdmin});
  return {
      {"ListTemplates", true},
      {"GetTemplate", true},
      {"SaveTemplate", false, admins, true},
      {"CreateInvitation", false, kAllStaff, true},
      {"GetInvitation", true},
      {"SubmitResponse", true},
      // The office's (or kiosk's) agency is known after a read:
      // CheckSameAgency.
      {"RegisterKiosk", false, admins},
      {"ListKiosks", false, kAllStaff, true},
      {"RevokeKiosk", false, admins},
      {"GetIndex", true},
      {"GetTrend", true},
      {"RankAgencies", true},
      {"RankOffices", true},
      {"ExportResponses", false, managers, true},
      {"UpdateScoreSettings", false, admins, true},
  };
}

namespace {

constexpr char kDefaultTemplate[] = "skm";
constexpr int kMaxCommentChars = 2000;
constexpr int kMaxKioskNameChars = 200;
constexpr int kMaxKioskDescriptionChars = 500;
constexpr char kKioskPageKind[] = "kiosk";
constexpr int kMaxCustomRangeDays = 366;

// ---- templates ----

v1::TemplateKind BuiltInKind(absl::string_view id) {
  if (id == "skm") return v1::TEMPLATE_KIND_SKM;
  if (id == "csat-nps") return v1::TEMPLATE_KIND_CSAT_NPS;
  return v1::TEMPLATE_KIND_EXPECTATION;
}

v1::Template ToProto(const Template& tmpl) {
  v1::Template out;
  out.set_id(tmpl.id);
  out.set_version(tmpl.version);
  out.set_name(tmpl.name);
  out.set_kind(BuiltInKind(tmpl.id));
  out.set_expectations(tmpl.expectations);
  for (const Dimension& d : tmpl.dimensions) {
    v1::Dimension* dim = out.add_dimensions();
    dim->set_code(d.code);
    dim->set_name(d.name);
    dim->set_scale_min(d.scale_min);
    dim->set_scale_max(d.scale_max);
    for (const std::string& label : d.answer_labels) {
      dim->add_answer_labels(label);
    }
    for (const std::string& c : d.competencies) dim->add_competencies(c);
  }
  return out;
}

Template FromProto(const v1::Template& proto) {
  Template tmpl;
  tmpl.id = proto.id();
  tmpl.version = proto.version();
  tmpl.name = proto.name();
  tmpl.expectations = proto.expectations();
  for (const v1::Dimension& d : proto.dimensions()) {
    Dimension dim;
    dim.code = d.code();
    dim.name = d.name();
    dim.scale_min = d.scale_min();
    dim.scale_max = d.scale_max();
    dim.answer_labels.assign(d.answer_labels().begin(),
                             d.answer_labels().end());
    dim.competencies.assign(d.competencies().begin(), d.competencies().end());
    tmpl.dimensions.push_back(std::move(dim));
  }
  return tmpl;
}

// Dimension codes: "U1", "G10", "CSAT": 1-16 characters of A-Z, 0-9, "_".
absl::Status ValidateCode(absl::string_view field, absl::string_view code) {
  if (code.empty() || code.size() > 16) {
    return Invalid(field, "must be 1-16 characters");
  }
  for (char c : code) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return Invalid(field, "must be A-Z, 0-9 and _ only");
    }
  }
  return absl::OkStatus();
}

// An agency's template as SaveTemplate takes it.
absl::Status ValidateCustomTemplate(const v1::Template& tmpl) {
  RETURN_IF_ERROR(ValidateId("template.id", tmpl.id()));
  if (FindBuiltInTemplate(tmpl.id()) != nullptr) {
    return Invalid("template.id", "is reserved for a built-in template");
  }
  RETURN_IF_ERROR(ValidateId("template.agency_id", tmpl.agency_id()));
  RETURN_IF_ERROR(RequireNonEmpty("template.name", tmpl.name()));
  RETURN_IF_ERROR(ValidateText("template.name", tmpl.name(), 200));
  if (tmpl.kind() == v1::TEMPLATE_KIND_UNSPECIFIED ||
      !v1::TemplateKind_IsValid(tmpl.kind())) {
    return Invalid("template.kind", "must be SKM, EXPECTATION or CSAT_NPS");
  }
  if (tmpl.dimensions_size() < 1 || tmpl.dimensions_size() > 30) {
    return Invalid("template.dimensions", "must hold 1-30 dimensions");
  }
  absl::flat_hash_set<std::string> codes;
  for (int i = 0; i < tmpl.dimensions_size(); ++i) {
    const v1::Dimension& d = tmpl.dimensions(i);
    const std::string at = absl::StrCat("template.dimensions[", i, "]");
    RETURN_IF_ERROR(ValidateCode(absl::StrCat(at, ".code"), d.code()));
    if (!codes.insert(d.code()).second) {
      return Invalid(absl::StrCat(at, ".code"), "is given twice");
    }
    RETURN_IF_ERROR(RequireNonEmpty(absl::StrCat(at, ".name"), d.name()));
    RETURN_IF_ERROR(ValidateText(absl::StrCat(at, ".name"), d.name(), 200));
    if (d.scale_min() < 0 || d.scale_max() > 100 ||
        d.scale_min() >= d.scale_max()) {
      return Invalid(absl::StrCat(at, ".scale_max"),
                     "the scale must satisfy 0 <= scale_min < scale_max <= "
                     "100");
    }
    if (tmpl.kind() == v1::TEMPLATE_KIND_SKM &&
        (d.scale_min() != 1 ||
         d.scale_max() != tmpl.dimensions(0).scale_max())) {
      return Invalid(absl::StrCat(at, ".scale_min"),
                     "an SKM template scores every dimension on the same "
                     "scale from 1");
    }
    if (d.answer_labels_size() != 0 &&
        d.answer_labels_size() != d.scale_max() - d.scale_min() + 1) {
      return Invalid(absl::StrCat(at, ".answer_labels"),
                     "must be empty or one label per value of the scale");
    }
    for (int j = 0; j < d.answer_labels_size(); ++j) {
      RETURN_IF_ERROR(ValidateText(absl::StrCat(at, ".answer_labels[", j, "]"),
                                   d.answer_labels(j), 100));
    }
    for (int j = 0; j < d.competencies_size(); ++j) {
      RETURN_IF_ERROR(ValidateId(absl::StrCat(at, ".competencies[", j, "]"),
                                 d.competencies(j)));
    }
  }
  return absl::OkStatus();
}

// ---- responses ----

absl::Status ValidateProfile(const v1::RespondentProfile& profile) {
  if (!v1::RespondentProfile::Sex_IsValid(profile.sex())) {
    return Invalid("profile.sex", "unknown value");
  }
  if (!v1::RespondentProfile::Education_IsValid(profile.education())) {
    return Invalid("profile.education", "unknown value");
  }
  if (!v1::RespondentProfile::Occupation_IsValid(profile.occupation())) {
    return Invalid("profile.occupation", "unknown value");
  }
  if (profile.age() != 0 && (profile.age() < 15 || profile.age() > 120)) {
    return Invalid("profile.age", "must be 15-120 when given");
  }
  return absl::OkStatus();
}

// The answers (and, for templates with expectations, the expectations) of a
// response against its template.
absl::Status ValidateResponseAnswers(
    const Template& tmpl,
    const google::protobuf::RepeatedPtrField<v1::Answer>& answers) {
  Answers values;
  Answers expectations;
  for (int i = 0; i < answers.size(); ++i) {
    values.emplace_back(answers[i].code(), answers[i].value());
    if (tmpl.expectations) {
      expectations.emplace_back(answers[i].code(), answers[i].expectation());
    } else if (answers[i].expectation() != 0) {
      return Invalid(absl::StrCat("answers[", i, "].expectation"),
                     "this template asks no expectation");
    }
  }
  RETURN_IF_ERROR(ValidateAnswers(tmpl, values));
  if (tmpl.expectations) {
    absl::Status s = ValidateAnswers(tmpl, expectations);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers: each needs an expectation on the same scale (",
                       s.message(), ")"));
    }
  }
  return absl::OkStatus();
}

// ---- scores ----

v1::Mutu MutuProto(Mutu mutu) {
  switch (mutu) {
    case Mutu::kA:
      return v1::MUTU_A;
    case Mutu::kB:
      return v1::MUTU_B;
    case Mutu::kC:
      return v1::MUTU_C;
    case Mutu::kD:
      return v1::MUTU_D;
  }
  return v1::MUTU_UNSPECIFIED;
}

PeriodKind KindOf(v1::PeriodKind kind) {
  switch (kind) {
    case v1::PERIOD_KIND_MONTH:
      return PeriodKind::kMonth;
    case v1::PERIOD_KIND_QUARTER:
      return PeriodKind::kQuarter;
    case v1::PERIOD_KIND_SEMESTER:
      return PeriodKind::kSemester;
    case v1::PERIOD_KIND_YEAR:
      return PeriodKind::kYear;
    default:
      return PeriodKind::kDay;
  }
}

// A request's period as the stored aggregate keys that add up to it
// (StoredKeysOf), with the reply's period filled in (key or dates).
struct ResolvedPeriod {
  v1::Period period;
  std::vector<std::string> keys;
};

absl::StatusOr<ResolvedPeriod> ResolvePeriod(const v1::Period& period) {
  ResolvedPeriod out;
  out.period = period;
  if (period.kind() == v1::PERIOD_KIND_CUSTOM) {
    absl::StatusOr<absl::CivilDay> first =
        FromLocalDate("period.first_date", period.first_date());
    if (!first.ok()) return first.status();
    absl::StatusOr<absl::CivilDay> last =
        FromLocalDate("period.last_date", period.last_date());
    if (!last.ok()) return last.status();
    if (*last < *first || *last - *first >= kMaxCustomRangeDays) {
      return Invalid("period.last_date",
                     "must be on or after first_date, at most 366 days in all");
    }
    out.keys = StoredKeysOf(*first, *last);
    return out;
  }
  if (period.kind() == v1::PERIOD_KIND_UNSPECIFIED ||
      !v1::PeriodKind_IsValid(period.kind())) {
    return Invalid("period.kind", "is required");
  }
  absl::StatusOr<Period> parsed = ParsePeriodKey(period.key());
  if (!parsed.ok()) {
    return Invalid("period.key", parsed.status().message());
  }
  if (parsed->kind != KindOf(period.kind())) {
    return Invalid("period.key", "does not match period.kind");
  }
  *out.period.mutable_first_date() = ToLocalDate(parsed->first);
  *out.period.mutable_last_date() = ToLocalDate(parsed->last);
  out.keys = StoredKeysOf(parsed->first, parsed->last);
  return out;
}

// ExportResponses' request checked: the agency, the caller (as the policy
// says: supervisors and admins of the agency, region admins), the office if
// any, the period (every kind).
absl::StatusOr<ExportQuery> ExportQueryOf(
    const Authorizer& auth, const grpc::ServerContextBase& ctx,
    const v1::ExportResponsesRequest& req) {
  absl::StatusOr<Principal> p = auth.Admit(ctx, "ExportResponses", "", req);
  if (!p.ok()) return p.status();
  RETURN_IF_ERROR(ValidateId("agency_id", req.agency_id()));
  RETURN_IF_ERROR(CheckSameAgency(*p, req.agency_id()));
  RETURN_IF_ERROR(ValidateOptionalId("office_id", req.office_id()));
  absl::StatusOr<ResolvedPeriod> period = ResolvePeriod(req.period());
  if (!period.ok()) return period.status();
  absl::StatusOr<absl::CivilDay> first =
      FromLocalDate("period.first_date", period->period.first_date());
  if (!first.ok()) return first.status();
  absl::StatusOr<absl::CivilDay> last =
      FromLocalDate("period.last_date", period->period.last_date());
  if (!last.ok()) return last.status();
  return ExportQuery{req.agency_id(), req.office_id(), *first, *last};
}

// The period keys of a trend's points: days or months from first_date to
// last_date (at most 366 days or 60 months).
absl::StatusOr<std::vector<std::string>> TrendKeys(
    const v1::GetTrendRequest& req) {
  absl::StatusOr<absl::CivilDay> first =
      FromLocalDate("first_date", req.first_date());
  if (!first.ok()) return first.status();
  absl::StatusOr<absl::CivilDay> last =
      FromLocalDate("last_date", req.last_date());
  if (!last.ok()) return last.status();
  if (*last < *first) {
    return Invalid("last_date", "must be on or after first_date");
  }
  std::vector<std::string> keys;
  if (req.granularity() == v1::GRANULARITY_DAY) {
    if (*last - *first >= kMaxCustomRangeDays) {
      return Invalid("last_date", "a daily trend spans at most 366 days");
    }
    for (absl::CivilDay d = *first; d <= *last; ++d) {
      keys.push_back(PeriodKey(PeriodKind::kDay, d));
    }
    return keys;
  }
  if (req.granularity() != v1::GRANULARITY_MONTH) {
    return Invalid("granularity", "must be DAY or MONTH");
  }
  const absl::CivilMonth from(*first);
  const absl::CivilMonth to(*last);
  if (to - from >= 60) {
    return Invalid("last_date", "a monthly trend spans at most 60 months");
  }
  for (absl::CivilMonth m = from; m <= to; ++m) {
    keys.push_back(PeriodKey(PeriodKind::kMonth, absl::CivilDay(m)));
  }
  return keys;
}

absl::Status ValidateScope(const v1::Scope& scope) {
  if (scope.kind() == v1::SCOPE_KIND_UNSPECIFIED ||
      !v1::ScopeKind_IsValid(scope.kind())) {
    return Invalid("scope.kind", "must be AGENCY, OFFICE, SERVICE or OFFICER");
  }
  return ValidateId("scope.id", scope.id());
}

// A converted score graded like the index: `tally` as a one-element index.
void ScoreElement(const ElementTally& tally, int scale_max,
                  v1::ElementScore* out) {
  absl::StatusOr<Index> alone = ComputeIndex({tally}, scale_max);
  if (!alone.ok()) return;
  out->set_converted(alone->converted);
  out->set_mutu(MutuProto(alone->mutu));
}

const Aggregate::Dimension* FindDimension(const Aggregate& aggregate,
                                          absl::string_view code) {
  for (const Aggregate::Dimension& d : aggregate.dimensions) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

// The tallies of the template's dimensions, in its order (0 answers for a
// dimension the aggregate lacks).
std::vector<ElementTally> TalliesOf(const v1::Template& tmpl,
                                    const Aggregate& aggregate) {
  std::vector<ElementTally> tallies;
  for (const v1::Dimension& dim : tmpl.dimensions()) {
    const Aggregate::Dimension* got = FindDimension(aggregate, dim.code());
    tallies.push_back(
        ElementTally{dim.code(), got ? got->answers : 0, got ? got->sum : 0});
  }
  return tallies;
}

// The scale_max of a template scored as an IKM (SKM-kind, answers from 1);
// nullopt for the others (CSAT/NPS, expectation surveys).
std::optional<int> IkmScaleOf(const v1::Template& tmpl) {
  if (tmpl.kind() != v1::TEMPLATE_KIND_SKM || tmpl.dimensions_size() == 0 ||
      tmpl.dimensions(0).scale_min() != 1) {
    return std::nullopt;
  }
  return tmpl.dimensions(0).scale_max();
}

// The index of one aggregate of `tmpl` (scope and period set by the caller).
v1::Index IndexOf(const v1::Template& tmpl, const Aggregate& aggregate) {
  v1::Index index;
  index.set_template_id(tmpl.id());
  index.set_respondents(aggregate.respondents);
  index.set_population(aggregate.population);
  index.set_required_sample(KrejcieMorganSampleSize(aggregate.population));
  index.set_sample_adequate(
      aggregate.population > 0 &&
      SampleAdequate(aggregate.respondents, aggregate.population));
  const std::vector<ElementTally> tallies = TalliesOf(tmpl, aggregate);
  for (const v1::Dimension& dim : tmpl.dimensions()) {
    const Aggregate::Dimension* got = FindDimension(aggregate, dim.code());
    if (tmpl.expectations() && got != nullptr && got->answers > 0) {
      const double performance =
          static_cast<double>(got->sum) / static_cast<double>(got->answers);
      const double expectation = static_cast<double>(got->expectation_sum) /
                                 static_cast<double>(got->answers);
      v1::Gap* gap = index.add_gaps();
      gap->set_code(dim.code());
      gap->set_performance(performance);
      gap->set_expectation(expectation);
      gap->set_gap(performance - expectation);
      gap->set_verdict(
          std::string(GapVerdictName(ClassifyGap(performance, expectation))));
    }
    if (got != nullptr && dim.code() == kCsatCode) {
      std::array<int64_t, 5> counts{};
      for (const auto& [value, count] : got->counts_by_value) {
        if (value >= 1 && value <= 5) counts[value - 1] = count;
      }
      if (std::optional<double> csat = CsatShare(counts)) {
        index.set_csat(*csat);
      }
    }
    if (got != nullptr && dim.code() == kNpsCode) {
      std::array<int64_t, 11> counts{};
      for (const auto& [value, count] : got->counts_by_value) {
        if (value >= 0 && value <= 10) counts[value] = count;
      }
      if (std::optional<double> nps = NetPromoterScore(counts)) {
        index.set_nps(*nps);
      }
    }
  }
  // The IKM: SKM-kind templates, every dimension on 1..scale_max.
  const std::optional<int> ikm_scale = IkmScaleOf(tmpl);
  const int scale_max = ikm_scale.value_or(0);
  absl::StatusOr<Index> computed =
      ikm_scale ? ComputeIndex(tallies, scale_max)
                : absl::StatusOr<Index>(absl::FailedPreconditionError(""));
  for (size_t i = 0; i < tallies.size(); ++i) {
    v1::ElementScore* e = index.add_elements();
    e->set_code(tallies[i].code);
    e->set_name(tmpl.dimensions(static_cast<int>(i)).name());
    e->set_responses(tallies[i].answers);
    if (tallies[i].answers > 0) {
      e->set_nrr(static_cast<double>(tallies[i].sum) /
                 static_cast<double>(tallies[i].answers));
    }
    if (computed.ok()) {
      e->set_nrr_weighted(computed->elements[i].nrr_weighted);
      if (tallies[i].answers > 0) ScoreElement(tallies[i], scale_max, e);
    }
  }
  if (computed.ok()) {
    index.set_ikm_interval(computed->interval);
    index.set_ikm_converted(computed->converted);
    index.set_mutu(MutuProto(computed->mutu));
    index.set_kinerja(computed->kinerja);
  }
  return index;
}

class SatisfactionServiceImpl final
    : public v1::SatisfactionService::CallbackService {
 public:
  SatisfactionServiceImpl(const ServiceEnvironment& env,
                          const SatisfactionOptions& options)
      : auth_(&env.verifier, &env.clock, SatisfactionPolicies()),
        clock_(env.clock),
        directory_(env.redis, env.config.redis, env.clock),
        store_(env.redis, env.clock, env.config.receipt_keys),
        config_(env.config),
        options_(options) {
    for (const char* producer : {"queue", "complaint"}) {
      consumers_.push_back(std::make_unique<EventConsumer>(
          env.config.redis, env.config.redis_timeout,
          env.metrics.ObserveConsumer(VisitConsumerOptions(producer)),
          MakeVisitHandler(store_, env.clock, options.invitation_ttl)));
    }
  }

  ~SatisfactionServiceImpl() override { Stop(); }

  void Start() {
    directory_.Start();
    for (auto& consumer : consumers_) consumer->Start();
    sweeper_ = std::thread([this] {
      while (!stop_.WaitForNotificationWithTimeout(options_.sweep_interval)) {
        SweepOnce();
      }
    });
  }
  void Stop() {
    if (stopped_.exchange(true)) return;
    stop_.Notify();
    if (sweeper_.joinable()) sweeper_.join();
    for (auto& consumer : consumers_) consumer->Stop();
    directory_.Stop();
  }

  // ---- templates ----

  ServerUnaryReactor* ListTemplates(CallbackServerContext* ctx,
                                    const v1::ListTemplatesRequest* req,
                                    v1::ListTemplatesResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListTemplates");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "ListTemplates", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("agency_id", req->agency_id()));
    for (const Template& tmpl : BuiltInTemplates()) {
      *resp->add_templates() = ToProto(tmpl);
    }
    if (req->agency_id().empty()) return call->Finish(absl::OkStatus());
    auto* reactor = call->reactor();
    store_.ListTemplates(
        req->agency_id(),
        [call = std::move(call),
         resp](absl::StatusOr<std::vector<v1::Template>> own) mutable {
          if (!own.ok()) return (void)call->Finish(own.status());
          for (v1::Template& t : *own) *resp->add_templates() = std::move(t);
          call->Finish(absl::OkStatus());
        });
    return reactor;
  }

  ServerUnaryReactor* GetTemplate(CallbackServerContext* ctx,
                                  const v1::GetTemplateRequest* req,
                                  v1::Template* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetTemplate");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetTemplate", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("template_id", req->template_id()));
    if (req->version() < 0) {
      return call->Finish(Invalid("version", "must be 0 (latest) or more"));
    }
    auto* reactor = call->reactor();
    WithTemplate(req->template_id(), req->version(),
                 ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* SaveTemplate(CallbackServerContext* ctx,
                                   const v1::SaveTemplateRequest* req,
                                   v1::Template* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "SaveTemplate");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "SaveTemplate", req->template_().agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateId("template.agency_id", req->template_().agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateCustomTemplate(req->template_()));
    auto* reactor = call->reactor();
    store_.SaveTemplate(req->template_(),
                        SatisfactionActor{p->subject, req->request_id(),
                                          p->request_fingerprint},
                        ReplyInto(std::move(call), resp));
    return reactor;
  }

  // ---- invitations and responses ----

  ServerUnaryReactor* CreateInvitation(CallbackServerContext* ctx,
                                       const v1::CreateInvitationRequest* req,
                                       v1::Invitation* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "CreateInvitation");
    call->set_idempotency_key(req->request_id());
    call->set_agency(req->agency_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "CreateInvitation", req->agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency_id", req->agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("service_id", req->service_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("officer_id", req->officer_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("template_id", req->template_id()));
    auto* reactor = call->reactor();
    v1::Invitation invitation;
    invitation.set_agency_id(req->agency_id());
    invitation.set_office_id(req->office_id());
    invitation.set_service_id(req->service_id());
    invitation.set_officer_id(req->officer_id());
    invitation.set_source(v1::INVITATION_SOURCE_STAFF);
    invitation.set_source_id(
        absl::StrCat("staff:", p->subject, ":", req->request_id()));
    const std::string template_id =
        req->template_id().empty() ? kDefaultTemplate : req->template_id();
    // The place from the request, not from `invitation`: the lambda below
    // moves `invitation`, and may be built before these are read.
    CheckPlace(
        req->agency_id(), req->office_id(), req->service_id(),
        req->officer_id(), std::move(call),
        [this, resp, template_id, invitation = std::move(invitation),
         actor = SatisfactionActor{p->subject, req->request_id(),
                                   p->request_fingerprint}](
            std::unique_ptr<UnaryCall> call, cat::Office) mutable {
          WithTemplate(
              template_id, 0,
              [this, call = std::move(call), resp,
               invitation = std::move(invitation), actor = std::move(actor)](
                  absl::StatusOr<v1::Template> tmpl) mutable {
                if (!tmpl.ok()) return (void)call->Finish(tmpl.status());
                // As SubmitResponse refuses it: an invitation to another
                // agency's template could never be answered.
                if (!tmpl->agency_id().empty() &&
                    tmpl->agency_id() != invitation.agency_id()) {
                  return (void)call->Finish(absl::NotFoundError(
                      absl::StrCat("template_id: ", tmpl->id(),
                                   " is not a template of agency ",
                                   invitation.agency_id())));
                }
                const absl::Time now = clock_.Now();
                invitation.set_template_id(tmpl->id());
                invitation.set_template_version(tmpl->version());
                *invitation.mutable_create_time() = ToProtoTime(now);
                *invitation.mutable_expire_time() =
                    ToProtoTime(now + options_.invitation_ttl);
                // The token travels in the reply (and its idempotent
                // replay) only; the store keeps its SHA-256.
                store_.CreateStaffInvitation(invitation, actor,
                                             ReplyInto(std::move(call), resp));
              });
        });
    return reactor;
  }

  ServerUnaryReactor* GetInvitation(CallbackServerContext* ctx,
                                    const v1::GetInvitationRequest* req,
                                    v1::Invitation* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetInvitation");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetInvitation", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, RequireNonEmpty("token", req->token()));
    RETURN_IF_ERROR_FINISH(call, ValidateReceiptSecret(req->token()));
    auto* reactor = call->reactor();
    store_.GetInvitation(Sha256Hex(req->token()),
                         ReplyInto(std::move(call), resp));
    return reactor;
  }

  ServerUnaryReactor* SubmitResponse(CallbackServerContext* ctx,
                                     const v1::SubmitResponseRequest* req,
                                     v1::Response* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "SubmitResponse");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "SubmitResponse", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateProfile(req->profile()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateText("comment", req->comment(), kMaxCommentChars));
    auto* reactor = call->reactor();
    auto submission = std::make_shared<Submission>();
    submission->request = *req;
    submission->actor = SatisfactionActor{p->subject, req->request_id(),
                                          p->request_fingerprint};
    submission->caller = *p;
    if (req->via_case() == v1::SubmitResponseRequest::kInvitationToken) {
      if (req->invitation_token().empty() ||
          !ValidateReceiptSecret(req->invitation_token()).ok()) {
        return call->Finish(
            Invalid("invitation_token", "must be 1-128 characters"));
      }
      submission->invitation_sha = Sha256Hex(req->invitation_token());
      const std::string sha = submission->invitation_sha;
      store_.GetInvitation(
          sha, [this, call = std::move(call), submission,
                resp](absl::StatusOr<v1::Invitation> invitation) mutable {
            if (!invitation.ok()) {
              return (void)call->Finish(invitation.status());
            }
            v1::Response& r = submission->response;
            r.set_agency_id(invitation->agency_id());
            r.set_office_id(invitation->office_id());
            r.set_service_id(invitation->service_id());
            r.set_officer_id(invitation->officer_id());
            r.set_source(invitation->source());
            SubmitAt(std::move(call), submission, invitation->template_id(),
                     invitation->template_version(), resp);
          });
      return reactor;
    }
    if (req->via_case() != v1::SubmitResponseRequest::kKiosk) {
      return call->Finish(
          Invalid("invitation_token", "give an invitation token or kiosk"));
    }
    const v1::KioskSubmission& kiosk = req->kiosk();
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("kiosk.kiosk_id", kiosk.kiosk_id()));
    if (!ValidateReceiptSecret(kiosk.kiosk_credential()).ok()) {
      return call->Finish(
          Invalid("kiosk.kiosk_credential", "must be at most 128 characters"));
    }
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("kiosk.office_id", kiosk.office_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateId("kiosk.service_id", kiosk.service_id()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("template_id", req->template_id()));
    submission->kiosk_id = kiosk.kiosk_id();
    // Only the hash goes on (to the store's script, which checks it again).
    submission->kiosk_credential_sha =
        kiosk.kiosk_credential().empty() ? ""
                                         : Sha256Hex(kiosk.kiosk_credential());
    const std::string kiosk_id = kiosk.kiosk_id();
    store_.GetKiosk(kiosk_id, [this, call = std::move(call), submission, resp](
                                  absl::StatusOr<KioskRecord> record) mutable {
      if (!record.ok() && !absl::IsNotFound(record.status())) {
        return (void)call->Finish(record.status());
      }
      // The credential and the office are checked before any other lookup,
      // so a wrong credential learns nothing of the kiosk's agency. Its
      // revocation is left to the script, which checks it after its replay
      // check: a retry of a response accepted before the revocation gets
      // that response, anything new is refused.
      std::optional<KioskAccess> access;
      if (record.ok()) {
        access = KioskAccess{record->kiosk.id(), record->kiosk.office_id(),
                             record->credential_sha, /*revoked=*/false};
      }
      const v1::KioskSubmission& kiosk = submission->request.kiosk();
      if (absl::Status s = CheckKioskAccess(
              access, submission->kiosk_credential_sha, kiosk.office_id());
          !s.ok()) {
        return (void)call->Finish(s);
      }
      // The place is the kiosk's, never the request's.
      v1::Response& r = submission->response;
      r.set_agency_id(record->kiosk.agency_id());
      r.set_office_id(record->kiosk.office_id());
      r.set_service_id(kiosk.service_id());
      r.set_source(v1::INVITATION_SOURCE_KIOSK);
      const std::string template_id = submission->request.template_id().empty()
                                          ? kDefaultTemplate
                                          : submission->request.template_id();
      SubmitAt(std::move(call), submission, template_id, 0, resp);
    });
    return reactor;
  }

  // ---- kiosks ----

  ServerUnaryReactor* RegisterKiosk(CallbackServerContext* ctx,
                                    const v1::RegisterKioskRequest* req,
                                    v1::Kiosk* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "RegisterKiosk");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "RegisterKiosk", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("office_id", req->office_id()));
    RETURN_IF_ERROR_FINISH(call, RequireNonEmpty("name", req->name()));
    RETURN_IF_ERROR_FINISH(
        call, ValidateText("name", req->name(), kMaxKioskNameChars));
    RETURN_IF_ERROR_FINISH(call, ValidateText("description", req->description(),
                                              kMaxKioskDescriptionChars));
    auto* reactor = call->reactor();
    directory_.GetOffice(
        req->office_id(),
        [this, call = std::move(call), resp, principal = *p, name = req->name(),
         description = req->description(),
         actor = SatisfactionActor{p->subject, req->request_id(),
                                   p->request_fingerprint}](
            absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return (void)call->Finish(office.status());
          if (absl::Status s = CheckSameAgency(principal, office->agency_id());
              !s.ok()) {
            return (void)call->Finish(s);
          }
          call->set_agency(office->agency_id());
          const absl::Time now = clock_.Now();
          v1::Kiosk kiosk;
          // Server-made: an id a client picked could name another's kiosk.
          kiosk.set_id(absl::AsciiStrToLower(NewTimeOrderedId(now)));
          kiosk.set_office_id(office->id());
          kiosk.set_agency_id(office->agency_id());
          kiosk.set_name(name);
          kiosk.set_description(description);
          *kiosk.mutable_create_time() = ToProtoTime(now);
          store_.RegisterKiosk(kiosk, actor, ReplyInto(std::move(call), resp));
        });
    return reactor;
  }

  ServerUnaryReactor* ListKiosks(CallbackServerContext* ctx,
                                 const v1::ListKiosksRequest* req,
                                 v1::ListKiosksResponse* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "ListKiosks");
    call->set_agency(req->agency_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "ListKiosks", req->agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateId("agency_id", req->agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateOptionalId("office_id", req->office_id()));
    absl::StatusOr<int> size =
        EffectivePageSize("page.page_size", req->page().page_size());
    if (!size.ok()) return call->Finish(size.status());
    absl::StatusOr<std::string> cursor =
        DecodeIdPageToken(kKioskPageKind, req->page().page_token());
    if (!cursor.ok()) return call->Finish(cursor.status());
    auto* reactor = call->reactor();
    auto list = [this, resp, agency_id = req->agency_id(),
                 office_id = req->office_id(), cursor = *cursor,
                 size = *size](std::unique_ptr<UnaryCall> call) mutable {
      store_.ListKiosks(
          agency_id, office_id, cursor, size,
          [call = std::move(call),
           resp](absl::StatusOr<KioskPage> page) mutable {
            if (!page.ok()) return (void)call->Finish(page.status());
            for (v1::Kiosk& kiosk : page->kiosks) {
              kiosk.clear_credential();
              *resp->add_kiosks() = std::move(kiosk);
            }
            resp->mutable_page()->set_next_page_token(
                EncodePageToken(kKioskPageKind, page->next_cursor));
            call->Finish(absl::OkStatus());
          });
    };
    if (req->office_id().empty()) {
      list(std::move(call));
      return reactor;
    }
    directory_.GetOffice(
        req->office_id(), [call = std::move(call), list = std::move(list),
                           agency_id = req->agency_id()](
                              absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return (void)call->Finish(office.status());
          if (office->agency_id() != agency_id) {
            return (void)call->Finish(
                NotOfAgency("office_id", office->id(), agency_id));
          }
          list(std::move(call));
        });
    return reactor;
  }

  ServerUnaryReactor* RevokeKiosk(CallbackServerContext* ctx,
                                  const v1::RevokeKioskRequest* req,
                                  v1::Kiosk* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "RevokeKiosk");
    call->set_idempotency_key(req->request_id());
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "RevokeKiosk", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    RETURN_IF_ERROR_FINISH(call, ValidateId("kiosk_id", req->kiosk_id()));
    auto* reactor = call->reactor();
    // A kiosk's agency never changes: reading it first is as good as
    // checking it in the script.
    store_.GetKiosk(req->kiosk_id(),
                    [this, call = std::move(call), resp, principal = *p,
                     actor = SatisfactionActor{p->subject, req->request_id(),
                                               p->request_fingerprint}](
                        absl::StatusOr<KioskRecord> record) mutable {
                      if (!record.ok())
                        return (void)call->Finish(record.status());
                      call->set_agency(record->kiosk.agency_id());
                      if (absl::Status s = CheckSameAgency(
                              principal, record->kiosk.agency_id());
                          !s.ok()) {
                        return (void)call->Finish(s);
                      }
                      store_.RevokeKiosk(record->kiosk.id(), actor,
                                         ReplyInto(std::move(call), resp));
                    });
    return reactor;
  }

  // ---- exporting responses ----

  grpc::ServerWriteReactor<v1::Response>* ExportResponses(
      CallbackServerContext* ctx,
      const v1::ExportResponsesRequest* req) override {
    absl::StatusOr<ExportQuery> query = ExportQueryOf(auth_, *ctx, *req);
    if (!query.ok()) return FailedStream<v1::Response>(query.status());
    const int page_size =
        std::clamp(options_.export_page_size, 1, kMaxResponsePage);
    if (req->office_id().empty()) {
      return StartResponseExport(store_, *std::move(query), page_size, nullptr);
    }
    // One office: it must be the agency's.
    return StartResponseExport(
        store_, *std::move(query), page_size,
        [this, office_id = req->office_id(), agency_id = req->agency_id()](
            absl::AnyInvocable<void(absl::Status)> done) {
          directory_.GetOffice(
              office_id, [agency_id, done = std::move(done)](
                             absl::StatusOr<cat::Office> office) mutable {
                if (!office.ok()) return done(office.status());
                if (office->agency_id() != agency_id) {
                  return done(
                      NotOfAgency("office_id", office->id(), agency_id));
                }
                done(absl::OkStatus());
              });
        });
  }

  // ---- scores ----

  ServerUnaryReactor* GetIndex(CallbackServerContext* ctx,
                               const v1::GetIndexRequest* req,
                               v1::Index* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetIndex");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetIndex", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateScope(req->scope()));
    absl::StatusOr<ResolvedPeriod> period = ResolvePeriod(req->period());
    if (!period.ok()) return call->Finish(period.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("template_id", req->template_id()));
    const std::string template_id =
        req->template_id().empty() ? kDefaultTemplate : req->template_id();
    auto* reactor = call->reactor();
    WithTemplate(template_id, 0,
                 [this, call = std::move(call), resp, scope = req->scope(),
                  period = *std::move(period)](
                     absl::StatusOr<v1::Template> tmpl) mutable {
                   if (!tmpl.ok()) return (void)call->Finish(tmpl.status());
                   const std::string id = tmpl->id();
                   store_.GetAggregate(
                       id, ScopeRef{scope.kind(), scope.id()}, period.keys,
                       [call = std::move(call), resp, scope, period,
                        tmpl = *std::move(tmpl)](
                           absl::StatusOr<Aggregate> aggregate) mutable {
                         if (!aggregate.ok()) {
                           return (void)call->Finish(aggregate.status());
                         }
                         *resp = IndexOf(tmpl, *aggregate);
                         *resp->mutable_scope() = scope;
                         *resp->mutable_period() = period.period;
                         call->Finish(absl::OkStatus());
                       });
                 });
    return reactor;
  }

  ServerUnaryReactor* GetTrend(CallbackServerContext* ctx,
                               const v1::GetTrendRequest* req,
                               v1::Trend* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "GetTrend");
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, "GetTrend", "", *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateScope(req->scope()));
    absl::StatusOr<std::vector<std::string>> keys = TrendKeys(*req);
    if (!keys.ok()) return call->Finish(keys.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("template_id", req->template_id()));
    const std::string template_id =
        req->template_id().empty() ? kDefaultTemplate : req->template_id();
    auto* reactor = call->reactor();
    WithTemplate(
        template_id, 0,
        [this, call = std::move(call), resp, scope = req->scope(),
         keys = *std::move(keys)](absl::StatusOr<v1::Template> tmpl) mutable {
          if (!tmpl.ok()) return (void)call->Finish(tmpl.status());
          *resp->mutable_scope() = scope;
          resp->set_template_id(tmpl->id());
          // One read per point, all in flight at once; the reply is
          // assembled when the last answers.
          struct Pending {
            absl::Mutex mu;
            std::vector<Aggregate> points ABSL_GUARDED_BY(mu);
            size_t left ABSL_GUARDED_BY(mu) = 0;
            absl::Status error ABSL_GUARDED_BY(mu);
            std::unique_ptr<UnaryCall> call;
            v1::Template tmpl;
            std::vector<std::string> keys;
          };
          auto pending = std::make_shared<Pending>();
          {
            absl::MutexLock lock(&pending->mu);
            pending->points.resize(keys.size());
            pending->left = keys.size();
          }
          pending->call = std::move(call);
          pending->tmpl = *std::move(tmpl);
          pending->keys = std::move(keys);
          for (size_t i = 0; i < pending->keys.size(); ++i) {
            store_.GetAggregate(
                pending->tmpl.id(), ScopeRef{scope.kind(), scope.id()},
                {pending->keys[i]},
                [pending, resp, i](absl::StatusOr<Aggregate> got) {
                  absl::Status status;
                  {
                    absl::MutexLock lock(&pending->mu);
                    if (got.ok()) {
                      pending->points[i] = *std::move(got);
                    } else if (pending->error.ok()) {
                      pending->error = got.status();
                    }
                    if (--pending->left > 0) return;
                    status = pending->error;
                    for (size_t k = 0; status.ok() && k < pending->keys.size();
                         ++k) {
                      const v1::Index index =
                          IndexOf(pending->tmpl, pending->points[k]);
                      v1::TrendPoint* point = resp->add_points();
                      point->set_period(pending->keys[k]);
                      point->set_respondents(index.respondents());
                      point->set_ikm_converted(index.ikm_converted());
                      point->set_mutu(index.mutu());
                    }
                  }
                  pending->call->Finish(status);
                });
          }
        });
    return reactor;
  }

  ServerUnaryReactor* RankAgencies(CallbackServerContext* ctx,
                                   const v1::RankAgenciesRequest* req,
                                   v1::Ranking* resp) override {
    return Rank(ctx, *req, "RankAgencies", v1::SCOPE_KIND_AGENCY, "",
                req->period(), req->template_id(), resp);
  }

  // ---- settings ----

  ServerUnaryReactor* UpdateScoreSettings(
      CallbackServerContext* ctx, const v1::UpdateScoreSettingsRequest* req,
      v1::ScoreSettings* resp) override {
    auto call = std::make_unique<UnaryCall>(ctx, "UpdateScoreSettings");
    call->set_idempotency_key(req->request_id());
    const v1::ScoreSettings& settings = req->settings();
    call->set_agency(settings.agency_id());
    absl::StatusOr<Principal> p =
        auth_.Admit(*ctx, "UpdateScoreSettings", settings.agency_id(), *req);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateId("settings.agency_id", settings.agency_id()));
    RETURN_IF_ERROR_FINISH(call,
                           ValidateMutationRequestId(*p, req->request_id()));
    const double threshold = settings.low_element_threshold();
    if (!std::isfinite(threshold) ||
        (threshold != 0 && (threshold < 25 || threshold > 100))) {
      return call->Finish(Invalid("settings.low_element_threshold",
                                  "must be 0 (mutu C and D only) or 25-100"));
    }
    auto* reactor = call->reactor();
    store_.SaveScoreSettings(settings,
                             SatisfactionActor{p->subject, req->request_id(),
                                               p->request_fingerprint},
                             ReplyInto(std::move(call), resp));
    return reactor;
  }

  // ---- the closed-month sweep ----

  // One round: each office with responses in the month MonthToSweep names
  // whose month is over in the office's own zone gets its low elements'
  // satisfaction.element_low, once (FinishSweep). Every replica sweeps; the
  // store keeps the events single.
  void SweepOnce() {
    const absl::Time now = clock_.Now();
    const std::string month_key = MonthToSweep(now);
    absl::StatusOr<std::vector<UnsweptOffice>> unswept =
        Await<std::vector<UnsweptOffice>>(
            [&](Done<std::vector<UnsweptOffice>> done) {
              store_.ListUnswept(month_key, std::move(done));
            });
    if (!unswept.ok()) {
      Log(LogLevel::kWarn, "satisfaction sweep failed",
          LogFields().Add("error", unswept.status().ToString()));
      return;
    }
    for (const UnsweptOffice& office : *unswept) {
      if (stop_.HasBeenNotified()) return;
      absl::Status swept = SweepOffice(office, month_key, now);
      if (!swept.ok()) {
        Log(LogLevel::kWarn, "satisfaction sweep of an office failed",
            LogFields()
                .Add("office_id", office.office_id)
                .Add("template_id", office.template_id)
                .Add("period", month_key)
                .Add("error", swept.ToString()));
      }
    }
  }

  ServerUnaryReactor* RankOffices(CallbackServerContext* ctx,
                                  const v1::RankOfficesRequest* req,
                                  v1::Ranking* resp) override {
    return Rank(ctx, *req, "RankOffices", v1::SCOPE_KIND_OFFICE,
                req->agency_id(), req->period(), req->template_id(), resp);
  }

 private:
  struct Submission {
    v1::SubmitResponseRequest request;
    SatisfactionActor actor;
    Principal caller;  // for the rate limits
    std::string invitation_sha;
    std::string kiosk_id;
    std::string kiosk_credential_sha;
    v1::Response response;
  };

  // A template by id: built-in or the agency's (version 0: the latest).
  void WithTemplate(const std::string& id, int version,
                    Done<v1::Template> done) {
    if (const Template* builtin = FindBuiltInTemplate(id)) {
      if (version != 0 && version != builtin->version) {
        return done(absl::NotFoundError(
            absl::StrCat("template ", id, " has no version ", version)));
      }
      return done(ToProto(*builtin));
    }
    store_.GetTemplate(id, version, std::move(done));
  }

  // The office (of the agency), and the service and officer when given (of
  // the agency): NOT_FOUND naming the field otherwise.
  using PlaceNext =
      absl::AnyInvocable<void(std::unique_ptr<UnaryCall>, cat::Office)>;
  void CheckPlace(const std::string& agency_id, const std::string& office_id,
                  const std::string& service_id, const std::string& officer_id,
                  std::unique_ptr<UnaryCall> call, PlaceNext next) {
    directory_.GetOffice(
        office_id,
        [this, agency_id, service_id, officer_id, call = std::move(call),
         next = std::move(next)](absl::StatusOr<cat::Office> office) mutable {
          if (!office.ok()) return (void)call->Finish(office.status());
          if (office->agency_id() != agency_id) {
            return (void)call->Finish(
                NotOfAgency("office_id", office->id(), agency_id));
          }
          if (service_id.empty()) {
            return CheckOfficer(agency_id, officer_id, std::move(call),
                                *std::move(office), std::move(next));
          }
          directory_.GetPublicService(
              service_id,
              [this, agency_id, officer_id, call = std::move(call),
               next = std::move(next), office = *std::move(office)](
                  absl::StatusOr<cat::PublicService> service) mutable {
                if (!service.ok()) return (void)call->Finish(service.status());
                if (service->agency_id() != agency_id) {
                  return (void)call->Finish(
                      NotOfAgency("service_id", service->id(), agency_id));
                }
                CheckOfficer(agency_id, officer_id, std::move(call),
                             std::move(office), std::move(next));
              });
        });
  }

  void CheckOfficer(const std::string& agency_id, const std::string& officer_id,
                    std::unique_ptr<UnaryCall> call, cat::Office office,
                    PlaceNext next) {
    if (officer_id.empty()) return next(std::move(call), std::move(office));
    directory_.GetOfficer(
        officer_id, [agency_id, call = std::move(call), next = std::move(next),
                     office = std::move(office)](
                        absl::StatusOr<cat::Officer> officer) mutable {
          if (!officer.ok()) return (void)call->Finish(officer.status());
          if (officer->agency_id() != agency_id) {
            return (void)call->Finish(
                NotOfAgency("officer_id", officer->id(), agency_id));
          }
          next(std::move(call), std::move(office));
        });
  }

  // The rest of SubmitResponse once the place is known: the template, the
  // answers, the office's local date, the write.
  void SubmitAt(std::unique_ptr<UnaryCall> call,
                std::shared_ptr<Submission> submission,
                const std::string& template_id, int version,
                v1::Response* resp) {
    const v1::Response& r = submission->response;
    call->set_agency(r.agency_id());
    PlaceNext next = [this, submission, template_id, version, resp](
                         std::unique_ptr<UnaryCall> call,
                         cat::Office office) mutable {
      WithTemplate(
          template_id, version,
          [this, call = std::move(call), submission, resp,
           office =
               std::move(office)](absl::StatusOr<v1::Template> tmpl) mutable {
            if (!tmpl.ok()) return (void)call->Finish(tmpl.status());
            if (!tmpl->agency_id().empty() &&
                tmpl->agency_id() != submission->response.agency_id()) {
              return (void)call->Finish(absl::NotFoundError(absl::StrCat(
                  "template ", tmpl->id(), " is not a template of agency ",
                  submission->response.agency_id())));
            }
            absl::Status answers = ValidateResponseAnswers(
                FromProto(*tmpl), submission->request.answers());
            if (!answers.ok()) return (void)call->Finish(answers);
            absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(office);
            if (!zone.ok()) return (void)call->Finish(zone.status());
            Write(std::move(call), *submission, *tmpl, *zone, resp);
          });
    };
    if (!submission->invitation_sha.empty()) {
      // An invitation's place was checked when staff made it, or comes from
      // the queue's or complaints' events: its officer is whoever served
      // (the queue's token subject), not necessarily a directory officer.
      // Checking it again would leave the invitation unanswerable; only the
      // office's time zone is needed.
      directory_.GetOffice(r.office_id(),
                           [call = std::move(call), next = std::move(next)](
                               absl::StatusOr<cat::Office> office) mutable {
                             if (!office.ok())
                               return (void)call->Finish(office.status());
                             next(std::move(call), *std::move(office));
                           });
      return;
    }
    CheckPlace(r.agency_id(), r.office_id(), r.service_id(), r.officer_id(),
               std::move(call), std::move(next));
  }

  void Write(std::unique_ptr<UnaryCall> call, const Submission& submission,
             const v1::Template& tmpl, const absl::TimeZone& zone,
             v1::Response* resp) {
    const absl::Time now = clock_.Now();
    const absl::CivilDay day = absl::ToCivilDay(now, zone);
    NewResponse write;
    v1::Response& r = write.response;
    r = submission.response;
    r.set_id(absl::AsciiStrToLower(NewTimeOrderedId(now)));
    r.set_template_id(tmpl.id());
    r.set_template_version(tmpl.version());
    *r.mutable_answers() = submission.request.answers();
    *r.mutable_profile() = submission.request.profile();
    r.set_comment(submission.request.comment());
    *r.mutable_submit_time() = ToProtoTime(now);
    *r.mutable_local_date() = ToLocalDate(day);
    write.invitation_sha = submission.invitation_sha;
    write.kiosk_id = submission.kiosk_id;
    write.kiosk_credential_sha = submission.kiosk_credential_sha;
    write.kiosk_per_minute = options_.kiosk_per_minute;
    write.scopes = ScopesOf(r);
    write.period_keys = StoredPeriodKeysOf(day);
    prima::events::v1::SatisfactionResponseSubmitted event;
    event.set_response_id(r.id());
    event.set_template_id(r.template_id());
    event.set_template_version(r.template_version());
    event.set_office_id(r.office_id());
    event.set_service_id(r.service_id());
    event.set_officer_id(r.officer_id());
    write.event = MakeEnvelope("satisfaction.response_submitted", r.agency_id(),
                               kSatisfactionProducer, event, now,
                               submission.actor.request_id);
    // Counted per caller and per office with the write (a registered kiosk
    // has its own per-kiosk limit besides).
    SatisfactionActor actor = submission.actor;
    actor.rate_checks =
        CallRateChecks(config_, *call->context(), submission.caller,
                       "satisfaction", "SubmitResponse", r.office_id());
    store_.SubmitResponse(write, actor, ReplyInto(std::move(call), resp));
  }

  ServerUnaryReactor* Rank(CallbackServerContext* ctx,
                           const google::protobuf::Message& request,
                           absl::string_view rpc, v1::ScopeKind kind,
                           const std::string& agency_id,
                           const v1::Period& requested,
                           const std::string& requested_template,
                           v1::Ranking* resp) {
    auto call = std::make_unique<UnaryCall>(ctx, rpc);
    absl::StatusOr<Principal> p = auth_.Admit(*ctx, rpc, "", request);
    if (!p.ok()) return call->Finish(p.status());
    RETURN_IF_ERROR_FINISH(call, ValidateOptionalId("agency_id", agency_id));
    if (requested.kind() == v1::PERIOD_KIND_CUSTOM) {
      return call->Finish(
          Invalid("period.kind",
                  "rankings are of a day, month, quarter, semester "
                  "or year"));
    }
    absl::StatusOr<ResolvedPeriod> period = ResolvePeriod(requested);
    if (!period.ok()) return call->Finish(period.status());
    RETURN_IF_ERROR_FINISH(
        call, ValidateOptionalId("template_id", requested_template));
    const std::string template_id =
        requested_template.empty() ? kDefaultTemplate : requested_template;
    auto* reactor = call->reactor();
    WithTemplate(
        template_id, 0,
        [this, call = std::move(call), resp, kind, agency_id,
         period =
             *std::move(period)](absl::StatusOr<v1::Template> tmpl) mutable {
          if (!tmpl.ok()) return (void)call->Finish(tmpl.status());
          const std::string id = tmpl->id();
          const std::vector<std::string> keys = period.keys;
          store_.ListAggregates(
              id, kind, keys, agency_id,
              [call = std::move(call), resp, period, tmpl = *std::move(tmpl)](
                  absl::StatusOr<std::vector<std::pair<std::string, Aggregate>>>
                      all) mutable {
                if (!all.ok()) return (void)call->Finish(all.status());
                *resp->mutable_period() = period.period;
                resp->set_template_id(tmpl.id());
                for (const auto& [scope_id, aggregate] : *all) {
                  const v1::Index index = IndexOf(tmpl, aggregate);
                  if (index.respondents() == 0 ||
                      index.mutu() == v1::MUTU_UNSPECIFIED) {
                    continue;
                  }
                  v1::RankEntry* entry = resp->add_entries();
                  entry->set_id(scope_id);
                  entry->set_ikm_converted(index.ikm_converted());
                  entry->set_mutu(index.mutu());
                  entry->set_respondents(index.respondents());
                }
                std::sort(resp->mutable_entries()->begin(),
                          resp->mutable_entries()->end(),
                          [](const v1::RankEntry& a, const v1::RankEntry& b) {
                            if (a.ikm_converted() != b.ikm_converted()) {
                              return a.ikm_converted() > b.ikm_converted();
                            }
                            return a.id() < b.id();
                          });
                call->Finish(absl::OkStatus());
              });
        });
    return reactor;
  }

  // Sweeps one office's closed month of one template (see SweepOnce); a month
  // not over yet in the office's zone is left for a later round.
  absl::Status SweepOffice(const UnsweptOffice& unswept,
                           const std::string& month_key, absl::Time now) {
    const std::vector<LowElementEvent> none;
    absl::StatusOr<cat::Office> office =
        Await<cat::Office>([&](Done<cat::Office> done) {
          directory_.GetOffice(unswept.office_id, std::move(done));
        });
    if (absl::IsNotFound(office.status())) {
      // The office left the directory: nobody to train.
      return FinishSweep(unswept, month_key, none);
    }
    if (!office.ok()) return office.status();
    absl::StatusOr<absl::TimeZone> zone = OfficeTimeZone(*office);
    if (!zone.ok()) return zone.status();
    absl::StatusOr<Period> month = ParsePeriodKey(month_key);
    if (!month.ok()) return month.status();
    if (absl::ToCivilDay(now, *zone) <= month->last) return absl::OkStatus();

    absl::StatusOr<v1::Template> tmpl =
        Await<v1::Template>([&](Done<v1::Template> done) {
          WithTemplate(unswept.template_id, 0, std::move(done));
        });
    if (absl::IsNotFound(tmpl.status())) {
      return FinishSweep(unswept, month_key, none);
    }
    if (!tmpl.ok()) return tmpl.status();
    const std::optional<int> scale_max = IkmScaleOf(*tmpl);
    if (!scale_max.has_value()) return FinishSweep(unswept, month_key, none);
    absl::StatusOr<Aggregate> aggregate =
        Await<Aggregate>([&](Done<Aggregate> done) {
          store_.GetAggregate(
              unswept.template_id,
              ScopeRef{v1::SCOPE_KIND_OFFICE, unswept.office_id}, {month_key},
              std::move(done));
        });
    if (!aggregate.ok()) return aggregate.status();
    absl::StatusOr<v1::ScoreSettings> settings =
        Await<v1::ScoreSettings>([&](Done<v1::ScoreSettings> done) {
          store_.GetScoreSettings(office->agency_id(), std::move(done));
        });
    if (!settings.ok()) return settings.status();

    std::vector<LowElementEvent> low;
    for (const LowElement& element :
         LowElements(TalliesOf(*tmpl, *aggregate), *scale_max,
                     settings->low_element_threshold())) {
      prima::events::v1::SatisfactionElementLow event;
      event.set_scope("office");
      event.set_scope_id(unswept.office_id);
      event.set_office_id(unswept.office_id);
      event.set_period(month_key);
      event.set_element(element.code);
      event.set_score(element.converted);
      event.set_mutu(std::string(MutuName(element.mutu)));
      event.set_template_id(tmpl->id());
      for (const v1::Dimension& dim : tmpl->dimensions()) {
        if (dim.code() != element.code) continue;
        for (const std::string& tag : dim.competencies()) {
          event.add_competencies(tag);
        }
      }
      event.set_answers(element.answers);
      event.set_threshold(settings->low_element_threshold());
      low.push_back(LowElementEvent{
          element.code,
          MakeEnvelope("satisfaction.element_low", office->agency_id(),
                       kSatisfactionProducer, event, now)});
    }
    return FinishSweep(unswept, month_key, low);
  }

  absl::Status FinishSweep(const UnsweptOffice& unswept,
                           const std::string& month_key,
                           const std::vector<LowElementEvent>& low) {
    return Await<int>([&](Done<int> done) {
             store_.FinishSweep(unswept.template_id, unswept.office_id,
                                month_key, low, std::move(done));
           })
        .status();
  }

  Authorizer auth_;
  const Clock& clock_;
  DirectoryReader directory_;
  SatisfactionStore store_;
  const ServiceConfig& config_;
  const SatisfactionOptions options_;
  // Served visits and invitations from the queue's and complaints' events.
  std::vector<std::unique_ptr<EventConsumer>> consumers_;
  // The closed-month sweep (SweepOnce) every options_.sweep_interval.
  absl::Notification stop_;
  std::atomic<bool> stopped_{false};
  std::thread sweeper_;
};

}  // namespace

absl::StatusOr<SatisfactionOptions> SatisfactionOptionsFromEnv() {
  SatisfactionOptions options;
  absl::StatusOr<int> kiosk =
      IntFromEnv("PRIMA_SATISFACTION_KIOSK_PER_MINUTE", 10, 1, 600);
  if (!kiosk.ok()) return kiosk.status();
  absl::StatusOr<int> days =
      IntFromEnv("PRIMA_SATISFACTION_INVITATION_DAYS", 7, 1, 90);
  if (!days.ok()) return days.status();
  absl::StatusOr<int> sweep =
      IntFromEnv("PRIMA_SATISFACTION_SWEEP_SECONDS", 300, 1, 86400);
  if (!sweep.ok()) return sweep.status();
  options.sweep_interval = absl::Seconds(*sweep);
  options.kiosk_per_minute = *kiosk;
  options.invitation_ttl = absl::Hours(24) * *days;
  return options;
}

absl::StatusOr<ServiceBundle> MakeSatisfactionService(
    const ServiceEnvironment& env, const SatisfactionOptions& options) {
  auto service = std::make_unique<SatisfactionServiceImpl>(env, options);
  service->Start();
  ServiceBundle bundle;
  SatisfactionServiceImpl* raw = service.get();
  bundle.stop = [raw] { raw->Stop(); };
  bundle.services.push_back(std::move(service));
  return bundle;
}

}  // namespace prima::satisfaction
