// End to end: the real `catalog` binary against a real Redis, driven by the
// real `prima` CLI the way an operator would: apply the demo directory, create
// and publish the Pelayanan Prima course from its text proto, list it without a
// token, schedule an offering, enrol an officer (the officer's own token),
// complete with a score, verify the certificate publicly and read the record.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/subprocess.h"

namespace prima {
namespace {

constexpr char kSecret[] = "e2e-secret-0123456789abcdef0123456789";

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The value of `"key": "value"` in the CLI's JSON output.
std::string JsonString(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\": \"");
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  return json.substr(at, json.find('"', at) - at);
}

TEST(CatalogE2eTest, DirectoryCourseEnrolCompleteVerify) {
  auto redis = testing::TestRedis::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  testing::BackgroundProcess catalog(
      {PRIMA_CATALOG_PATH},
      {absl::StrCat("PRIMA_LISTEN=", address),
       absl::StrCat("PRIMA_REDIS_URL=", (*redis)->url()),
       absl::StrCat("PRIMA_JWT_SECRET=", kSecret), "PRIMA_LOG_LEVEL=warn",
       "PRIMA_METRICS_LISTEN=127.0.0.1:0"});
  ASSERT_TRUE(catalog.started());

  auto prima = [&](std::vector<std::string> args,
                   const std::string& token = "") {
    std::vector<std::string> argv = {PRIMA_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--catalog-addr", address});
    if (!token.empty()) argv.insert(argv.end(), {"--token", token});
    return testing::RunProcess(argv, {});
  };
  auto mint = [&](const std::string& role, const std::string& sub,
                  const std::string& agency) {
    std::vector<std::string> args = {"token",  "mint", "--secret", kSecret,
                                     "--role", role,   "--sub",    sub,
                                     "--ttl",  "10m"};
    if (!agency.empty()) args.insert(args.end(), {"--agency", agency});
    testing::ProcessResult r = prima(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripAsciiWhitespace(r.out));
  };
  const std::string admin = mint("region_admin", "e2e-admin", "");
  const std::string officer = mint("officer", "siti-rahmawati", "dukcapil-dki");
  const std::string supervisor =
      mint("supervisor", "bambang-susilo", "dukcapil-dki");

  // Wait until the server answers.
  testing::ProcessResult listed;
  const absl::Time until = absl::Now() + absl::Seconds(20);
  do {
    listed = prima({"courses", "list"});
    if (listed.exit_code == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < until);
  ASSERT_EQ(listed.exit_code, 0) << listed.err << catalog.StderrText();

  testing::ProcessResult r =
      prima({"directory", "apply", "-f", PRIMA_DEMO_DIRECTORY}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = prima({"courses", "create", "-f", PRIMA_COURSE_FILE}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "DRAFT")) << r.out;
  r = prima({"courses", "publish", "pelayanan-prima"}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Public listing, no token.
  r = prima({"courses", "list", "--keyword", "pelayanan"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "Pelayanan Prima")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "PUBLISHED")) << r.out;
  r = prima({"courses", "get", "pelayanan-prima", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "Kepmenpan")) << r.out;

  const absl::Time now = absl::Now();
  r = prima({"offerings", "create", "--id", "pp-e2e", "--course",
             "pelayanan-prima", "--agency", "dukcapil-dki", "--capacity", "2",
             "--mode", "online", "--start", Rfc3339(now + absl::Hours(240)),
             "--end", Rfc3339(now + absl::Hours(260)), "--deadline",
             Rfc3339(now + absl::Hours(200))},
            supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The officer enrols themselves; enrolling someone else is refused.
  r = prima({"enroll", "--offering", "pp-e2e", "--officer", "siti-rahmawati"},
            officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "ENROLLED")) << r.out;
  r = prima({"enroll", "--offering", "pp-e2e", "--officer", "andi-pratama"},
            officer);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "PERMISSION_DENIED")) << r.err;

  r = prima({"complete", "--offering", "pp-e2e", "--officer", "siti-rahmawati",
             "--score", "90", "--output", "json"},
            supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string code = JsonString(r.out, "verification_code");
  const std::string number = JsonString(r.out, "number");
  ASSERT_EQ(code.size(), 32u) << r.out;
  EXPECT_TRUE(absl::StartsWith(number, "PP-")) << r.out;

  // Anyone can verify the certificate.
  r = prima({"certificate", "verify", code});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, number)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "Siti Rahmawati")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "pelayanan-prima")) << r.out;
  r = prima({"certificate", "verify", std::string(32, '0')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "NOT_FOUND")) << r.err;

  r = prima({"training-record", "siti-rahmawati"}, officer);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "PASSED")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, number)) << r.out;

  // Compliance: once the agency requires the course, front-line officers who
  // have not passed it are the gaps; the officer who passed is not.
  r = prima({"compliance", "require", "dukcapil-dki", "pelayanan-prima"},
            admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = prima({"compliance", "gaps", "dukcapil-dki"}, supervisor);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "andi-pratama")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "siti-rahmawati")) << r.out;

  EXPECT_EQ(catalog.Stop(SIGTERM), 0) << catalog.StderrText();
}

}  // namespace
}  // namespace prima
