// End to end: the real `catalog`, `queue` and `satisfaction` binaries against a
// real Redis, driven only by the real `prima` CLI, at the demo directory's
// dukcapil-jaksel:
// - a visit served at a counter invites its citizen (the satisfaction service
//   consumes `ticket.service_completed`): the ticket's receipt secret answers
//   the SKM survey once, and the office's index for the month shows that one
//   respondent against one served visit; two kiosk responses then move the
//   index, the ranking of the agency's offices and the day's trend point
//   (the kiosk registered by an agency admin; revoked, it submits no more);
// - an agency admin sets the agency's low-element threshold; an officer may
//   not, and a threshold outside 25-100 is refused;
// - an officer invites a citizen by hand; the printed token answers once.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prima/queue/v1/queue.pb.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"
#include "tests/testing/e2e_stack.h"

namespace prima {
namespace {

using ::prima::queue::v1::Ticket;
using ::prima::satisfaction::v1::ElementScore;
using ::prima::satisfaction::v1::Index;
using ::prima::satisfaction::v1::Invitation;
using ::prima::satisfaction::v1::Kiosk;
using ::prima::satisfaction::v1::Ranking;
using ::prima::satisfaction::v1::Response;
using ::prima::satisfaction::v1::ScoreSettings;
using ::prima::satisfaction::v1::Template;
using ::prima::satisfaction::v1::Trend;
using ::prima::testing::ExpectRpcError;
using ::prima::testing::FromJson;

namespace sv1 = ::prima::satisfaction::v1;

constexpr char kAgency[] = "dukcapil-dki";
constexpr char kOffice[] = "dukcapil-jaksel";
constexpr char kService[] = "ktp-el";
constexpr char kCounter[] = "jaksel-loket-1";
constexpr char kOfficer[] = "siti-rahmawati";  // front line at dukcapil-jaksel

// Answers to U1..U9 of the SKM template, in that order.
using SkmAnswers = std::array<int, 9>;

// After the served visit: five 4s and four 3s. NRR per unsur is the answer;
// each weighs 1/9, so IKM = (5x4 + 4x3) / 9 = 32/9 = 3.5556 on 1-4, converted
// x25 = 800/9 = 88.888.. -> 88.89, mutu A (>= 88.31), "Sangat Baik".
constexpr SkmAnswers kVisitAnswers = {4, 4, 3, 4, 3, 4, 4, 3, 3};
constexpr double kVisitIkm = 88.89;
// Two kiosk responses: all 3s (sum 27), and 3s but U3 and U7 at 2 (sum 25).
// With the visit's (sum 32) every unsur has 3 answers, so IKM = (32 + 27 + 25)
// / (3 x 9) = 84/27 = 3.1111, converted 2100/27 = 77.777.. -> 77.78, mutu B
// (76.61-88.30), "Baik". Per unsur: U1 = (4+3+3)/3 = 3.333 -> 83.33 (B); U3 =
// (3+3+2)/3 = 2.667 -> 66.67 (C); U7 = (4+3+2)/3 = 3.000 -> 75.00 (C).
constexpr SkmAnswers kKioskAllThrees = {3, 3, 3, 3, 3, 3, 3, 3, 3};
constexpr SkmAnswers kKioskSlowAndCurt = {3, 3, 2, 3, 3, 3, 2, 3, 3};
constexpr double kOfficeIkm = 77.78;
// Staff invitation: all 4s, IKM 4 -> 100.00, mutu A.
constexpr SkmAnswers kAllFours = {4, 4, 4, 4, 4, 4, 4, 4, 4};

// The test's change to the demo directory, next to this file.
std::string OfficeFile() {
  std::string path = __FILE__;
  return path.substr(0, path.rfind('/') + 1) +
         "satisfaction_e2e_office.textproto";
}

std::string DateText(const ::prima::common::v1::LocalDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string MonthText(const ::prima::common::v1::LocalDate& d) {
  return absl::StrFormat("%04d-%02d", d.year(), d.month());
}

// The score of unsur `code` in `index` (an empty one if missing, which fails
// the test).
ElementScore Element(const Index& index, absl::string_view code) {
  for (const ElementScore& e : index.elements()) {
    if (e.code() == code) return e;
  }
  ADD_FAILURE() << "no element " << code << " in " << index.DebugString();
  return ElementScore();
}

// The first line of `text` containing `needle` ("" if none).
std::string LineWith(const std::string& text, absl::string_view needle) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) return std::string(line);
  }
  return "";
}

class SatisfactionE2eTest : public testing::E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartStack(
        PRIMA_CLI_PATH, {{"catalog", PRIMA_CATALOG_PATH},
                         {"queue", PRIMA_QUEUE_PATH},
                         {"satisfaction", PRIMA_SATISFACTION_PATH}}));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(PRIMA_DEMO_DIRECTORY));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(OfficeFile()));
  }

  // `prima ARGS -o json [--token TOKEN]`.
  testing::ProcessResult Json(std::vector<std::string> args,
                              const std::string& token = "") {
    args.insert(args.end(), {"-o", "json"});
    return Prima(std::move(args), token);
  }

  // `prima survey submit VIA... --answer U1=.. ... --answer U9=.. -o json`,
  // without a JWT: citizens and kiosks have none (and `--token` there is the
  // invitation's).
  testing::ProcessResult Submit(std::vector<std::string> via,
                                const SkmAnswers& answers) {
    std::vector<std::string> args = {"survey", "submit"};
    args.insert(args.end(), via.begin(), via.end());
    for (size_t i = 0; i < answers.size(); ++i) {
      args.insert(args.end(),
                  {"--answer", absl::StrCat("U", i + 1, "=", answers[i])});
    }
    return Json(std::move(args));
  }

  // `prima survey invitation TOKEN -o json` until it answers or `limit`
  // passes: the satisfaction service invites asynchronously.
  testing::ProcessResult AwaitInvitation(const std::string& token,
                                         absl::Duration limit) {
    const absl::Time until = absl::Now() + limit;
    while (true) {
      testing::ProcessResult r = Json({"survey", "invitation", token});
      if (r.exit_code == 0 || absl::Now() >= until) return r;
      absl::SleepFor(absl::Milliseconds(200));
    }
  }

  // The SKM index of one scope for a period key, read with -o json.
  Index ScoreIndex(const std::string& scope, const std::string& id,
                   const std::string& period) {
    testing::ProcessResult r = Json(
        {"score", "index", "--scope", scope, "--id", id, "--period", period});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return FromJson<Index>(r);
  }
};

TEST_F(SatisfactionE2eTest, ServedVisitInvitesItsCitizenAndKiosksMoveTheIndex) {
  const std::string siti = Mint("officer", kOfficer, kAgency);

  // ---- a citizen is served at Loket 1 ----
  testing::ProcessResult r = Json({"queue", "open", kCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("queue");
  r = Json({"queue", "issue", kOffice, kService, "--channel", "kiosk"});
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("queue");
  const Ticket ticket = FromJson<Ticket>(r);
  const std::string secret = ticket.receipt_secret();
  ASSERT_FALSE(secret.empty()) << r.out;
  const std::string day = DateText(ticket.local_date());
  const std::string month = MonthText(ticket.local_date());
  r = Json({"queue", "next", kCounter}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).id(), ticket.id()) << r.out;
  r = Json({"queue", "start", kCounter, ticket.id()}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Json({"queue", "complete", kCounter, ticket.id(), "--outcome", "done"},
           siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FromJson<Ticket>(r).status(), queue::v1::TICKET_STATUS_COMPLETED);

  // ---- the receipt secret is the survey's token ----
  r = AwaitInvitation(secret, absl::Seconds(15));
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  {
    const Invitation invitation = FromJson<Invitation>(r);
    EXPECT_EQ(invitation.agency_id(), kAgency) << r.out;
    EXPECT_EQ(invitation.office_id(), kOffice) << r.out;
    EXPECT_EQ(invitation.service_id(), kService) << r.out;
    EXPECT_EQ(invitation.officer_id(), kOfficer) << r.out;
    EXPECT_EQ(invitation.source(), sv1::INVITATION_SOURCE_TICKET) << r.out;
    EXPECT_EQ(invitation.source_id(), ticket.id()) << r.out;
    EXPECT_EQ(invitation.template_id(), "skm") << r.out;
    EXPECT_FALSE(invitation.used()) << r.out;
    EXPECT_TRUE(invitation.token().empty()) << r.out;  // shown once, not here
  }
  r = Submit({"--token", secret}, kVisitAnswers);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  {
    const Response response = FromJson<Response>(r);
    EXPECT_EQ(response.source(), sv1::INVITATION_SOURCE_TICKET) << r.out;
    EXPECT_EQ(response.office_id(), kOffice) << r.out;
    EXPECT_EQ(response.service_id(), kService) << r.out;
    EXPECT_EQ(response.officer_id(), kOfficer) << r.out;
    EXPECT_EQ(response.answers_size(), 9) << r.out;
    EXPECT_EQ(DateText(response.local_date()), day) << r.out;
  }
  // The invitation is single use.
  r = Submit({"--token", secret}, kVisitAnswers);
  ExpectRpcError(r, "FAILED_PRECONDITION");
  r = Json({"survey", "invitation", secret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(FromJson<Invitation>(r).used()) << r.out;

  // ---- the office's index for the month: one respondent, one visit ----
  {
    const Index index = ScoreIndex("office", kOffice, month);
    EXPECT_EQ(index.respondents(), 1);
    EXPECT_EQ(index.population(), 1);
    EXPECT_EQ(index.required_sample(), 1);  // Krejcie-Morgan of N = 1
    EXPECT_TRUE(index.sample_adequate());
    EXPECT_NEAR(index.ikm_interval(), 32.0 / 9, 1e-4);
    EXPECT_DOUBLE_EQ(index.ikm_converted(), kVisitIkm);
    EXPECT_EQ(index.mutu(), sv1::MUTU_A);
    EXPECT_EQ(index.kinerja(), "Sangat Baik");
    EXPECT_EQ(index.period().kind(), sv1::PERIOD_KIND_MONTH);
    EXPECT_EQ(index.elements_size(), 9);
    const ElementScore u3 = Element(index, "U3");
    EXPECT_EQ(u3.responses(), 1);
    EXPECT_DOUBLE_EQ(u3.nrr(), 3.0);
    EXPECT_NEAR(u3.nrr_weighted(), 3.0 / 9, 1e-4);
    EXPECT_DOUBLE_EQ(u3.converted(), 75.0);
    EXPECT_EQ(u3.mutu(), sv1::MUTU_C);
  }
  // The officer who served is scored too.
  {
    const Index index = ScoreIndex("officer", kOfficer, month);
    EXPECT_EQ(index.respondents(), 1);
    EXPECT_EQ(index.population(), 1);
    EXPECT_DOUBLE_EQ(index.ikm_converted(), kVisitIkm);
  }
  // The table agencies publish: every unsur of the template by name, then the
  // IKM.
  r = Json({"survey", "template", "skm"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Template skm = FromJson<Template>(r);
  ASSERT_EQ(skm.dimensions_size(), 9) << r.out;
  r = Prima({"score", "index", "--scope", "office", "--id", kOffice, "--period",
             month});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(LineWith(r.out, "U7"), "Perilaku Pelaksana"))
      << r.out;
  for (const sv1::Dimension& unsur : skm.dimensions()) {
    EXPECT_TRUE(absl::StrContains(LineWith(r.out, unsur.code()), unsur.name()))
        << unsur.name() << "\n"
        << r.out;
  }
  EXPECT_TRUE(absl::StrContains(LineWith(r.out, "IKM konversi"), "88.89"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(LineWith(r.out, "kinerja"), "Sangat Baik"))
      << r.out;

  // ---- an agency admin registers the office's kiosk ----
  const std::string admin = Mint("agency_admin", "e2e-kepala-dinas", kAgency);
  r = Json({"survey", "kiosk", "register", "--office", kOffice, "--name",
            "Tablet lobi"},
           admin);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  const Kiosk kiosk = FromJson<Kiosk>(r);
  ASSERT_FALSE(kiosk.id().empty()) << r.out;
  ASSERT_EQ(kiosk.credential().size(), 32u) << r.out;
  EXPECT_EQ(kiosk.office_id(), kOffice) << r.out;
  // Staff list it, without its credential.
  r = Prima({"survey", "kiosk", "list", "--agency", kAgency}, siti);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, kiosk.id())) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, kiosk.credential())) << r.out;

  // ---- two responses at the office's kiosk ----
  for (const SkmAnswers& answers : {kKioskAllThrees, kKioskSlowAndCurt}) {
    r = Submit({"--kiosk", kiosk.id(), "--kiosk-credential", kiosk.credential(),
                "--service", kService},
               answers);
    ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
    const Response response = FromJson<Response>(r);
    EXPECT_EQ(response.source(), sv1::INVITATION_SOURCE_KIOSK) << r.out;
    EXPECT_EQ(response.agency_id(), kAgency) << r.out;
    EXPECT_TRUE(response.officer_id().empty()) << r.out;
  }
  {
    const Index index = ScoreIndex("office", kOffice, month);
    EXPECT_EQ(index.respondents(), 3);
    EXPECT_EQ(index.population(), 1);  // a kiosk response is not a visit
    EXPECT_EQ(index.required_sample(), 1);
    EXPECT_TRUE(index.sample_adequate());
    EXPECT_NEAR(index.ikm_interval(), 84.0 / 27, 1e-4);
    EXPECT_DOUBLE_EQ(index.ikm_converted(), kOfficeIkm);
    EXPECT_EQ(index.mutu(), sv1::MUTU_B);
    EXPECT_EQ(index.kinerja(), "Baik");
    const ElementScore u1 = Element(index, "U1");
    EXPECT_EQ(u1.responses(), 3);
    EXPECT_DOUBLE_EQ(u1.converted(), 83.33);
    EXPECT_EQ(u1.mutu(), sv1::MUTU_B);
    const ElementScore u3 = Element(index, "U3");
    EXPECT_DOUBLE_EQ(u3.converted(), 66.67);
    EXPECT_EQ(u3.mutu(), sv1::MUTU_C);
    const ElementScore u7 = Element(index, "U7");
    EXPECT_DOUBLE_EQ(u7.nrr(), 3.0);
    EXPECT_DOUBLE_EQ(u7.converted(), 75.0);
    EXPECT_EQ(u7.mutu(), sv1::MUTU_C);
  }
  // The kiosk named no officer: the officer's index is unchanged.
  EXPECT_EQ(ScoreIndex("officer", kOfficer, month).respondents(), 1);

  // ---- a revoked kiosk submits no more ----
  r = Json({"survey", "kiosk", "revoke", kiosk.id()}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(FromJson<Kiosk>(r).has_revoke_time()) << r.out;
  r = Submit({"--kiosk", kiosk.id(), "--kiosk-credential", kiosk.credential(),
              "--service", kService},
             kKioskAllThrees);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "PERMISSION_DENIED")) << r.err;
  EXPECT_EQ(ScoreIndex("office", kOffice, month).respondents(), 3);

  // ---- rankings and the trend ----
  r = Json(
      {"score", "rank", "offices", "--agency", kAgency, "--period", month});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Ranking ranking = FromJson<Ranking>(r);
    ASSERT_EQ(ranking.entries_size(), 1) << r.out;  // the only office scored
    EXPECT_EQ(ranking.entries(0).id(), kOffice);
    EXPECT_DOUBLE_EQ(ranking.entries(0).ikm_converted(), kOfficeIkm);
    EXPECT_EQ(ranking.entries(0).mutu(), sv1::MUTU_B);
    EXPECT_EQ(ranking.entries(0).respondents(), 3);
  }
  r = Json({"score", "rank", "agencies", "--period", month});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Ranking ranking = FromJson<Ranking>(r);
    ASSERT_EQ(ranking.entries_size(), 1) << r.out;
    EXPECT_EQ(ranking.entries(0).id(), kAgency);
    EXPECT_DOUBLE_EQ(ranking.entries(0).ikm_converted(), kOfficeIkm);
  }
  // Every day of the month so far; today's point is the last.
  r = Json({"score", "trend", "--scope", "office", "--id", kOffice,
            "--granularity", "day", "--from", absl::StrCat(month, "-01"),
            "--to", day});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Trend trend = FromJson<Trend>(r);
    ASSERT_EQ(trend.points_size(), ticket.local_date().day()) << r.out;
    const sv1::TrendPoint& today = trend.points(trend.points_size() - 1);
    EXPECT_EQ(today.period(), day) << r.out;
    EXPECT_EQ(today.respondents(), 3) << r.out;
    EXPECT_DOUBLE_EQ(today.ikm_converted(), kOfficeIkm) << r.out;
    EXPECT_EQ(today.mutu(), sv1::MUTU_B) << r.out;
    for (int i = 0; i + 1 < trend.points_size(); ++i) {
      EXPECT_EQ(trend.points(i).respondents(), 0) << r.out;
    }
  }
}

TEST_F(SatisfactionE2eTest, AgencyAdminSetsTheLowElementThreshold) {
  const std::string admin = Mint("agency_admin", "e2e-kepala-dinas", kAgency);
  const std::string officer = Mint("officer", kOfficer, kAgency);
  const std::string foreign_admin =
      Mint("agency_admin", "e2e-kepala-samsat", "samsat-papua");

  testing::ProcessResult r =
      Json({"score", "settings", "--agency", kAgency, "--low-threshold", "85"},
           admin);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  {
    const ScoreSettings settings = FromJson<ScoreSettings>(r);
    EXPECT_EQ(settings.agency_id(), kAgency) << r.out;
    EXPECT_DOUBLE_EQ(settings.low_element_threshold(), 85.0) << r.out;
  }
  r = Prima({"score", "settings", "--agency", kAgency, "--low-threshold", "85"},
            admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(LineWith(r.out, kAgency), "85.00")) << r.out;
  // 0 goes back to mutu C and D only.
  r = Prima({"score", "settings", "--agency", kAgency, "--low-threshold", "0"},
            admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "mutu C and D only")) << r.out;

  // Officers do not set it, nor another agency's admin.
  r = Json({"score", "settings", "--agency", kAgency, "--low-threshold", "85"},
           officer);
  ExpectRpcError(r, "PERMISSION_DENIED");
  r = Json({"score", "settings", "--agency", kAgency, "--low-threshold", "85"},
           foreign_admin);
  ExpectRpcError(r, "PERMISSION_DENIED");
  // Below the scale's 25.
  r = Json({"score", "settings", "--agency", kAgency, "--low-threshold", "10"},
           admin);
  ExpectRpcError(r, "INVALID_ARGUMENT");
}

TEST_F(SatisfactionE2eTest, StaffInvitationAnswersOnce) {
  const std::string officer = Mint("officer", "andi-pratama", kAgency);
  const std::string foreign = Mint("officer", "yohanes-wenda", "samsat-papua");

  testing::ProcessResult r =
      Prima({"survey", "invite", "--agency", kAgency, "--office", kOffice,
             "--service", kService, "--officer", "andi-pratama"},
            officer);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  const std::string token(absl::StripAsciiWhitespace(absl::StripPrefix(
      LineWith(r.out, "invitation token: "), "invitation token: ")));
  ASSERT_FALSE(token.empty()) << r.out;

  r = Json({"survey", "invitation", token});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    const Invitation invitation = FromJson<Invitation>(r);
    EXPECT_EQ(invitation.source(), sv1::INVITATION_SOURCE_STAFF) << r.out;
    EXPECT_EQ(invitation.office_id(), kOffice) << r.out;
    EXPECT_EQ(invitation.officer_id(), "andi-pratama") << r.out;
    EXPECT_FALSE(invitation.used()) << r.out;
  }

  r = Submit({"--token", token}, kAllFours);
  ASSERT_EQ(r.exit_code, 0) << r.err << StderrText("satisfaction");
  {
    const Response response = FromJson<Response>(r);
    EXPECT_EQ(response.source(), sv1::INVITATION_SOURCE_STAFF) << r.out;
    EXPECT_EQ(response.officer_id(), "andi-pratama") << r.out;
    const Index index =
        ScoreIndex("officer", "andi-pratama", MonthText(response.local_date()));
    EXPECT_EQ(index.respondents(), 1);
    EXPECT_EQ(index.population(), 0);  // no ticket was served
    // Without counted visits there is no sample to judge: not adequate.
    EXPECT_EQ(index.required_sample(), 0);
    EXPECT_FALSE(index.sample_adequate());
    EXPECT_DOUBLE_EQ(index.ikm_converted(), 100.0);
    EXPECT_EQ(index.mutu(), sv1::MUTU_A);
  }
  r = Submit({"--token", token}, kAllFours);
  ExpectRpcError(r, "FAILED_PRECONDITION");

  // Another agency's officer cannot invite for dukcapil's office.
  r = Json({"survey", "invite", "--agency", kAgency, "--office", kOffice,
            "--service", kService},
           foreign);
  ExpectRpcError(r, "PERMISSION_DENIED");
}

}  // namespace
}  // namespace prima
