#pragma once

// The satisfaction service's scoring, pure (no gRPC, no Redis): the SKM index
// of PermenPANRB 14/2017 from per-element tallies, the Krejcie & Morgan sample
// size, CSAT and NPS, the seed module's expectation gap (kecewa / puas /
// sangat puas), survey periods of an office's local dates and the built-in
// questionnaire templates. DOMAIN.md, "Satisfaction", is the reference.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace prima::satisfaction {

// ---- SKM index ----

// What the store keeps per scope x period x element: how many answers the
// element got and the sum of their values.
struct ElementTally {
  std::string code;
  int64_t answers = 0;
  int64_t sum = 0;
};

// One element of an index. An unanswered element (answers 0) has nrr and
// nrr_weighted 0 and does not count in the index.
struct ElementScore {
  std::string code;
  int64_t answers = 0;
  // Nilai rata-rata: sum / answers.
  double nrr = 0;
  // NRR tertimbang: nrr / k, k = the number of answered elements.
  double nrr_weighted = 0;
};

// Mutu pelayanan, the SKM grade.
enum class Mutu { kA, kB, kC, kD };

struct Index {
  // One per tally, in the tallies' order.
  std::vector<ElementScore> elements;
  // Nilai interval: the sum of nrr_weighted, on 1..scale_max, unrounded.
  double interval = 0;
  // IKM konversi: interval x 100/scale_max (x25 for SKM), rounded half away
  // from zero to 2 decimals; what is graded and published.
  double converted = 0;
  Mutu mutu = Mutu::kD;
  // "Sangat Baik", "Baik", "Kurang Baik" or "Tidak Baik".
  std::string kinerja;
};

// The scale of SKM's answers (1..4).
inline constexpr int kSkmScaleMax = 4;

// The index of a scope and period from its element tallies, on answers
// 1..scale_max (4 for SKM; the same formula serves other 1..n templates).
// Each answered element weighs exactly 1/k, k the number of elements with
// answers, so nine answered SKM elements weigh 1/9 each and an all-4 survey
// converts to 100.00. Elements nobody answered (answers 0) are reported with
// answers 0 but left out of k: an unanswered question neither drags the index
// down nor is guessed.
// The converted value is computed exactly from the integer tallies (rational
// arithmetic) whenever the common denominator fits in 60 bits, so 88.305 is
// 88.31 and floating error cannot move a value across a grade boundary; only
// beyond that does it fall back to long double with a tolerance of 1e-9
// hundredths.
// INVALID_ARGUMENT: scale_max outside 2..100 ("scale_max"), an empty or
// repeated code ("tallies[i].code"), answers < 0 ("tallies[i].answers"), a
// sum outside [answers, answers x scale_max] ("tallies[i].sum").
// FAILED_PRECONDITION "no answers in this scope and period" when no element
// has an answer.
absl::StatusOr<Index> ComputeIndex(const std::vector<ElementTally>& tallies,
                                   int scale_max = kSkmScaleMax);

// The grade of a converted value, after rounding it half away from zero to 2
// decimals (88.305 -> 88.31): >= 88.31 A, >= 76.61 B, >= 65.00 C, else D.
Mutu GradeOf(double converted);
// "Sangat Baik", "Baik", "Kurang Baik", "Tidak Baik".
absl::string_view KinerjaOf(Mutu mutu);
// "A", "B", "C", "D".
absl::string_view MutuName(Mutu mutu);

// ---- the improvement loop ----

// An element that counts as low for a closed period.
struct LowElement {
  std::string code;
  int64_t answers = 0;
  // The element alone, converted like the index (NRR x 100/scale_max, two
  // decimals), and its grade.
  double converted = 0;
  Mutu mutu = Mutu::kD;
};

// The answered elements of a closed period whose own converted score grades
// C or D, or lies below `threshold` (an agency's stricter bar on 25..100; 0
// for none), in the tallies' order. Unanswered elements are never low: there
// is nothing to improve from. Tallies that ComputeIndex refuses give none.
std::vector<LowElement> LowElements(const std::vector<ElementTally>& tallies,
                                    int scale_max, double threshold);

// The month the closed-month sweep looks at, at `now`: the month before the
// current month of the world's easternmost time zone (UTC+14), so the latest
// month already over somewhere; each office's own zone decides whether it is
// over there. Its key, e.g. "2026-10".
std::string MonthToSweep(absl::Time now);

// ---- sample adequacy ----

// The Krejcie & Morgan sample size of a population of N:
// S = X²·N·P(1−P) / (d²·(N−1) + X²·P(1−P)), X² = 3.841, P = 0.5, d = 0.05,
// rounded to the nearest integer (half up), computed in integers. 100 -> 80,
// 1000 -> 278, 1000000 -> 384. 0 for N <= 0.
int64_t KrejcieMorganSampleSize(int64_t population);

// Whether `respondents` reach the Krejcie & Morgan size of `population`.
bool SampleAdequate(int64_t respondents, int64_t population);

// ---- CSAT and NPS ----

// The codes of the built-in CSAT and NPS questions, the only scores computed
// from how often each value was given.
inline constexpr char kCsatCode[] = "CSAT";
inline constexpr char kNpsCode[] = "NPS";

// Whether the aggregates keep the count of each answer value of a question:
// only CSAT's and NPS's scores need them (every other score needs the count
// and the sum), so only they pay for them.
bool KeepsValueCounts(absl::string_view code);

// The share (0..1) of answers that are 4 or 5 on a 1..5 question, from the
// count of each value (counts_by_value[0] is value 1). nullopt when there are
// no answers. Negative counts are treated as 0.
std::optional<double> CsatShare(const std::array<int64_t, 5>& counts_by_value);

// The Net Promoter Score (-100..100) from the count of each answer 0..10:
// (promoters 9-10 - detractors 0-6) / all answers x 100. nullopt when there
// are no answers. Negative counts are treated as 0.
std::optional<double> NetPromoterScore(const std::array<int64_t, 11>& counts);

// ---- expectation gap ----

// The seed module's rule: performance below expectation disappoints, meeting
// it satisfies, exceeding it delights.
enum class GapVerdict { kKecewa, kPuas, kSangatPuas };

// The verdict on one dimension from the mean performance and the mean
// expectation of its answers (SERVQUAL's gap = performance - expectation).
// Both means are rounded half away from zero to 2 decimals first, so that
// float noise (3.2 vs 3.1999999) counts as equal.
GapVerdict ClassifyGap(double performance_mean, double expectation_mean);

// "kecewa", "puas", "sangat puas".
absl::string_view GapVerdictName(GapVerdict verdict);

// ---- periods ----

// Survey periods; agencies publish SKM per semester or quarter and at least
// once a year.
enum class PeriodKind { kDay, kMonth, kQuarter, kSemester, kYear };

// The local dates a period covers, both inclusive.
struct Period {
  PeriodKind kind = PeriodKind::kDay;
  absl::CivilDay first;
  absl::CivilDay last;
};

// The key of the period of `kind` containing the local date `day` (the
// office's date, absl::ToCivilDay(t, office_zone)): "2026-11-24", "2026-11",
// "2026-Q4", "2026-S2", "2026".
std::string PeriodKey(PeriodKind kind, absl::CivilDay day);

// The period of `kind` containing `day`.
Period PeriodContaining(PeriodKind kind, absl::CivilDay day);

// The period a key names, strictly in PeriodKey's shapes with a year of
// 2000-2100 (keys become part of Redis keys): "YYYY-MM-DD" (a real date),
// "YYYY-MM" (01-12), "YYYY-Qn" (1-4), "YYYY-Sn" (1-2), "YYYY".
// INVALID_ARGUMENT naming "period" otherwise.
absl::StatusOr<Period> ParsePeriodKey(absl::string_view key);

// The keys of the periods an answer on a local date is stored under: its day
// and its month, in that order. Longer periods are read as the sum of their
// months (StoredKeysOf), which keeps a response's write small.
std::vector<std::string> StoredPeriodKeysOf(absl::CivilDay day);

// The stored period keys that add up to exactly first..last (inclusive): each
// whole calendar month inside as its month key, the days outside whole months
// as day keys, in date order. A quarter is three month keys, a year twelve, a
// custom range of 2026-01-30..2026-03-02 is "2026-01-30", "2026-01-31",
// "2026-02", "2026-03-01", "2026-03-02". Empty when last < first.
std::vector<std::string> StoredKeysOf(absl::CivilDay first,
                                      absl::CivilDay last);

// The submit times that can hold the responses of local dates first..last
// (inclusive) at offices of any zone within 26 hours of UTC (Indonesia's are
// UTC+7..+9): [first 00:00 UTC - 26 h, the day after last 00:00 UTC + 26 h).
// Each response's own local date then decides whether it is in.
struct SubmitWindow {
  absl::Time from;
  absl::Time to;  // exclusive
};
SubmitWindow SubmitWindowOf(absl::CivilDay first, absl::CivilDay last);

// ---- templates ----

// One question of a template, answered with an integer on its scale.
struct Dimension {
  std::string code;
  std::string name;
  int scale_min = 1;
  int scale_max = 4;
  // The label of each value from scale_min up: answer_labels[0] is scale_min.
  std::vector<std::string> answer_labels;
  // Competency tags of the training that improves this dimension (SKM: U6
  // Kompetensi Pelaksana and U7 Perilaku Pelaksana); the improvement loop
  // recommends courses carrying one of them.
  std::vector<std::string> competencies;
};

struct Template {
  std::string id;
  int version = 1;
  std::string name;
  std::vector<Dimension> dimensions;
  // Whether each dimension is asked twice, as expectation (harapan) and as
  // performance (kinerja), on the same scale, so that the gap per dimension
  // can be classified (ClassifyGap).
  bool expectations = false;
};

// The built-in templates, in this order:
// - "skm" v1: PermenPANRB 14/2017's nine elements U1..U9, 1-4, with
//   DOMAIN.md's names and answer labels;
// - "gaspersz-10" v1: Gaspersz's ten dimensions of service quality (seed
//   module, slides 29-30) G1..G10, 1-5 from "Sangat buruk" to "Sangat baik"
//   (a level scale, since the same question is asked of expectation and of
//   performance), expectations = true;
// - "csat-nps" v1: CSAT (1-5) and NPS (0-10).
const std::vector<Template>& BuiltInTemplates();

// The built-in template with `id`; nullptr when there is none.
const Template* FindBuiltInTemplate(absl::string_view id);

// One respondent's answers: (dimension code, value). Elements are identified
// by code, never by position.
using Answers = std::vector<std::pair<std::string, int>>;

// A respondent's answers to `tmpl`: at least one answer ("answers"); each
// code a dimension of the template ("answers[i].code") and given once; each
// value within its dimension's scale ("answers[i].value"). Dimensions left
// out are unanswered, which is allowed. A template with expectations has its
// expectation answers checked by a second call.
absl::Status ValidateAnswers(const Template& tmpl, const Answers& answers);

// The tallies of `responses` to `tmpl`, one per dimension in the template's
// order (unanswered dimensions with answers 0), ready for ComputeIndex.
// Each response must pass ValidateAnswers; errors are named
// "responses[r].answers[i]...".
absl::StatusOr<std::vector<ElementTally>> TallyResponses(
    const Template& tmpl, const std::vector<Answers>& responses);

// ---- kiosks ----

// The receipt-key `kind` of kiosk credentials: a kiosk's credential is
// ReceiptKeys::Secret(key id, kKioskCredentialKind, kiosk id), derived, never
// stored (the kiosk keeps its SHA-256 and the key id).
inline constexpr char kKioskCredentialKind[] = "kiosk";
// The kind staff invitation tokens are derived for (ReceiptKeys).
inline constexpr char kInvitationTokenKind[] = "invitation";

// Error reasons of kiosk submissions (PERMISSION_DENIED).
inline constexpr char kKioskCredentialInvalid[] = "KIOSK_CREDENTIAL_INVALID";
inline constexpr char kKioskRevoked[] = "KIOSK_REVOKED";

// A registered kiosk as SubmitResponse checks it.
struct KioskAccess {
  std::string id;
  std::string office_id;
  std::string credential_sha;  // SHA-256 hex of its credential
  bool revoked = false;
};

// Whether a kiosk submission may count, `kiosk` being the registered kiosk
// the request names (nullopt: none by that id) and `credential_sha` the
// SHA-256 hex of the credential it gives ("" for none): PERMISSION_DENIED
// with reason KIOSK_CREDENTIAL_INVALID for an unknown kiosk or a missing or
// wrong credential (the same answer, so kiosk ids cannot be probed),
// KIOSK_REVOKED for a revoked kiosk with its right credential, and naming
// kiosk.office_id when `requested_office` is set and is not the kiosk's.
absl::Status CheckKioskAccess(const std::optional<KioskAccess>& kiosk,
                              absl::string_view credential_sha,
                              absl::string_view requested_office);

}  // namespace prima::satisfaction
