#include "services/satisfaction/satisfaction_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "services/common/error_info.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"

namespace prima::satisfaction {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

std::string Indexed(absl::string_view path, size_t i) {
  return absl::StrCat(path, "[", i, "]");
}

// A value in an error message: at most 32 bytes, escaped and quoted.
std::string Echo(absl::string_view value) {
  constexpr size_t kMaxEcho = 32;
  const bool cut = value.size() > kMaxEcho;
  return absl::StrCat("\"", absl::CHexEscape(value.substr(0, kMaxEcho)),
                      cut ? "..." : "", "\"");
}

// Slack for values computed in floating point that should sit exactly on a
// half hundredth (x.xx5) or on a hundredth: their error is around 1e-14
// hundredths for the magnitudes here, far below this.
constexpr long double kHundredthsTolerance = 1e-9L;

// `value` x 100 rounded half away from zero, tolerating float noise.
int64_t RoundedHundredths(long double value) {
  const long double scaled = std::fabs(value * 100.0L);
  const auto rounded =
      static_cast<int64_t>(std::floor(scaled + 0.5L + kHundredthsTolerance));
  return value < 0 ? -rounded : rounded;
}

// The grade thresholds of PermenPANRB 14/2017 in hundredths of the converted
// value.
constexpr int64_t kGradeAFrom = 8831;
constexpr int64_t kGradeBFrom = 7661;
constexpr int64_t kGradeCFrom = 6500;

Mutu GradeOfHundredths(int64_t hundredths) {
  if (hundredths >= kGradeAFrom) return Mutu::kA;
  if (hundredths >= kGradeBFrom) return Mutu::kB;
  if (hundredths >= kGradeCFrom) return Mutu::kC;
  return Mutu::kD;
}

// Largest common denominator the exact path of ComputeIndex works with; with
// scale_max <= 100 and fewer than 2^20 elements every product stays far
// inside int128.
constexpr uint64_t kMaxExactDenominator = uint64_t{1} << 60;
constexpr size_t kMaxExactElements = size_t{1} << 20;

// lcm(a, b), or nullopt above kMaxExactDenominator.
std::optional<uint64_t> BoundedLcm(uint64_t a, uint64_t b) {
  const uint64_t reduced = a / std::gcd(a, b);
  if (reduced > kMaxExactDenominator / b) return std::nullopt;
  return reduced * b;
}

// The converted value in hundredths, 10000 / (scale_max x k) x Σ sum_i /
// answers_i over the answered tallies, rounded half away from zero: exactly
// when the denominators allow it, in long double otherwise.
int64_t ConvertedHundredths(const std::vector<ElementTally>& answered,
                            int scale_max) {
  const auto k = static_cast<int64_t>(answered.size());
  std::optional<uint64_t> common;
  if (answered.size() <= kMaxExactElements) {
    common = 1;
    for (const ElementTally& tally : answered) {
      common = BoundedLcm(*common, static_cast<uint64_t>(tally.answers));
      if (!common.has_value()) break;
    }
  }
  if (common.has_value()) {
    // Σ sum_i / answers_i = numerator / common.
    absl::int128 numerator = 0;
    for (const ElementTally& tally : answered) {
      numerator += absl::int128(tally.sum) *
                   absl::int128(*common / static_cast<uint64_t>(tally.answers));
    }
    const absl::int128 denominator =
        absl::int128(scale_max) * k * absl::int128(*common);
    // floor(x + 1/2) for x = 10000 x numerator / denominator >= 0.
    return static_cast<int64_t>((numerator * 20000 + denominator) /
                                (denominator * 2));
  }
  long double nrr_sum = 0;
  for (const ElementTally& tally : answered) {
    nrr_sum += static_cast<long double>(tally.sum) / tally.answers;
  }
  return RoundedHundredths(nrr_sum * 100.0L / scale_max / k);
}

absl::Status ValidateTally(const ElementTally& tally, size_t i, int scale_max,
                           absl::flat_hash_set<std::string>& seen) {
  const std::string path = Indexed("tallies", i);
  if (tally.code.empty()) {
    return Invalid(absl::StrCat(path, ".code"), "must not be empty");
  }
  if (!seen.insert(tally.code).second) {
    return Invalid(absl::StrCat(path, ".code"),
                   absl::StrCat("duplicate element ", Echo(tally.code)));
  }
  // The upper bound only keeps answers x scale_max within int64.
  RETURN_IF_ERROR(
      ValidateRange(absl::StrCat(path, ".answers"), tally.answers, 0,
                    std::numeric_limits<int64_t>::max() / scale_max));
  // Every answer is 1..scale_max, so the sum is bounded by the count.
  RETURN_IF_ERROR(ValidateRange(absl::StrCat(path, ".sum"), tally.sum,
                                tally.answers, tally.answers * scale_max));
  return absl::OkStatus();
}

// ---- periods ----

constexpr int kMinPeriodYear = 2000;
constexpr int kMaxPeriodYear = 2100;

int QuarterOf(int month) { return (month - 1) / 3 + 1; }
int SemesterOf(int month) { return month <= 6 ? 1 : 2; }

// The period of `months` months starting on the first of `first_month`.
Period MonthSpan(PeriodKind kind, absl::CivilYear year, int first_month,
                 int months) {
  const absl::CivilMonth start(year.year(), first_month);
  return Period{kind, absl::CivilDay(start),
                absl::CivilDay(start + months) - 1};
}

absl::Status BadPeriod(absl::string_view key) {
  return Invalid(
      "period",
      absl::StrCat("must be YYYY, YYYY-Sn, YYYY-Qn, YYYY-MM or "
                   "YYYY-MM-DD with a year of ",
                   kMinPeriodYear, "-", kMaxPeriodYear, "; got ", Echo(key)));
}

// The value of a run of ASCII digits; nullopt if empty or not all digits.
std::optional<int> Digits(absl::string_view text) {
  if (text.empty()) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// ---- templates ----

Dimension Question(absl::string_view code, absl::string_view name,
                   int scale_min, std::vector<std::string> labels) {
  return Dimension{
      std::string(code), std::string(name),
      scale_min,         scale_min + static_cast<int>(labels.size()) - 1,
      std::move(labels), /*competencies=*/{}};
}

Dimension SkmElement(absl::string_view code, absl::string_view name,
                     std::vector<std::string> labels) {
  return Question(code, name, 1, std::move(labels));
}

Dimension WithCompetencies(Dimension dimension,
                           std::vector<std::string> competencies) {
  dimension.competencies = std::move(competencies);
  return dimension;
}

Template SkmTemplate() {
  return Template{
      "skm",
      1,
      "Survei Kepuasan Masyarakat (PermenPANRB No. 14/2017)",
      {
          SkmElement(
              "U1", "Persyaratan",
              {"Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"}),
          SkmElement("U2", "Sistem, Mekanisme, dan Prosedur",
                     {"Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"}),
          SkmElement("U3", "Waktu Penyelesaian",
                     {"Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"}),
          SkmElement("U4", "Biaya/Tarif",
                     {"Sangat mahal", "Cukup mahal", "Murah", "Gratis"}),
          SkmElement(
              "U5", "Produk Spesifikasi Jenis Pelayanan",
              {"Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"}),
          WithCompetencies(SkmElement("U6", "Kompetensi Pelaksana",
                                      {"Tidak kompeten", "Kurang kompeten",
                                       "Kompeten", "Sangat kompeten"}),
                           {"service-standards", "service-attitude"}),
          WithCompetencies(
              SkmElement("U7", "Perilaku Pelaksana",
                         {"Tidak sopan dan ramah", "Kurang sopan dan ramah",
                          "Sopan dan ramah", "Sangat sopan dan ramah"}),
              {"service-attitude"}),
          SkmElement("U8", "Penanganan Pengaduan, Saran dan Masukan",
                     {"Tidak ada", "Ada tetapi tidak berfungsi",
                      "Berfungsi kurang maksimal", "Dikelola dengan baik"}),
          SkmElement("U9", "Sarana dan Prasarana",
                     {"Buruk", "Cukup", "Baik", "Sangat Baik"}),
      },
      /*expectations=*/false,
  };
}

Template GasperszTemplate() {
  // A level scale rather than "puas" labels: the same question is asked of
  // what the respondent expects and of what they received.
  const std::vector<std::string> levels = {"Sangat buruk", "Buruk", "Cukup",
                                           "Baik", "Sangat baik"};
  const char* const names[] = {
      "Kesopanan dan keramahan",
      "Ketepatan waktu pelayanan",
      "Akurasi pelayanan",
      "Tanggung jawab",
      "Kelengkapan",
      "Kemudahan dalam pelayanan",
      "Variasi model pelayanan",
      "Pelayanan pribadi",
      "Kenyamanan dalam memperoleh pelayanan",
      "Atribut pendukung lainnya",
  };
  Template tmpl{"gaspersz-10",
                1,
                "Sepuluh dimensi mutu pelayanan (Gaspersz, 1997)",
                {},
                /*expectations=*/true};
  int number = 1;
  for (const char* name : names) {
    tmpl.dimensions.push_back(
        Question(absl::StrCat("G", number++), name, 1, levels));
  }
  return tmpl;
}

Template CsatNpsTemplate() {
  std::vector<std::string> nps_labels;
  for (int value = 0; value <= 10; ++value) {
    nps_labels.push_back(absl::StrCat(value));
  }
  nps_labels.front() = "0 (sangat tidak mungkin)";
  nps_labels.back() = "10 (sangat mungkin)";
  return Template{
      "csat-nps",
      1,
      "Kepuasan pelanggan (CSAT) dan Net Promoter Score (NPS)",
      {
          Question(kCsatCode, "Kepuasan terhadap layanan secara keseluruhan", 1,
                   {"Sangat tidak puas", "Tidak puas", "Cukup puas", "Puas",
                    "Sangat puas"}),
          Question(kNpsCode,
                   "Kemungkinan merekomendasikan layanan ini kepada orang lain",
                   0, std::move(nps_labels)),
      },
      /*expectations=*/false,
  };
}

absl::Status ValidateAnswersAt(const Template& tmpl, const Answers& answers,
                               absl::string_view path) {
  if (answers.empty()) {
    return Invalid(path, "at least one answer is required");
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& [code, value] = answers[i];
    const std::string at = Indexed(path, i);
    const Dimension* dimension = nullptr;
    for (const Dimension& candidate : tmpl.dimensions) {
      if (candidate.code == code) dimension = &candidate;
    }
    if (dimension == nullptr) {
      return Invalid(
          absl::StrCat(at, ".code"),
          absl::StrCat("no dimension ", Echo(code), " in template ", tmpl.id));
    }
    if (!seen.insert(code).second) {
      return Invalid(absl::StrCat(at, ".code"),
                     absl::StrCat(Echo(code), " is answered more than once"));
    }
    RETURN_IF_ERROR(ValidateRange(absl::StrCat(at, ".value"), value,
                                  dimension->scale_min, dimension->scale_max));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- SKM index ----

absl::StatusOr<Index> ComputeIndex(const std::vector<ElementTally>& tallies,
                                   int scale_max) {
  RETURN_IF_ERROR(ValidateRange("scale_max", scale_max, 2, 100));
  absl::flat_hash_set<std::string> seen;
  std::vector<ElementTally> answered;
  for (size_t i = 0; i < tallies.size(); ++i) {
    RETURN_IF_ERROR(ValidateTally(tallies[i], i, scale_max, seen));
    if (tallies[i].answers > 0) answered.push_back(tallies[i]);
  }
  if (answered.empty()) {
    return absl::FailedPreconditionError("no answers in this scope and period");
  }
  const auto k = static_cast<double>(answered.size());
  Index index;
  long double interval = 0;
  for (const ElementTally& tally : tallies) {
    ElementScore score{tally.code, tally.answers, 0, 0};
    if (tally.answers > 0) {
      const long double nrr =
          static_cast<long double>(tally.sum) / tally.answers;
      score.nrr = static_cast<double>(nrr);
      score.nrr_weighted = static_cast<double>(nrr / k);
      interval += nrr / k;
    }
    index.elements.push_back(std::move(score));
  }
  index.interval = static_cast<double>(interval);
  const int64_t hundredths = ConvertedHundredths(answered, scale_max);
  index.converted = static_cast<double>(hundredths) / 100.0;
  index.mutu = GradeOfHundredths(hundredths);
  index.kinerja = std::string(KinerjaOf(index.mutu));
  return index;
}

Mutu GradeOf(double converted) {
  return GradeOfHundredths(RoundedHundredths(converted));
}

absl::string_view KinerjaOf(Mutu mutu) {
  switch (mutu) {
    case Mutu::kA:
      return "Sangat Baik";
    case Mutu::kB:
      return "Baik";
    case Mutu::kC:
      return "Kurang Baik";
    case Mutu::kD:
      return "Tidak Baik";
  }
  return "Tidak Baik";
}

absl::string_view MutuName(Mutu mutu) {
  switch (mutu) {
    case Mutu::kA:
      return "A";
    case Mutu::kB:
      return "B";
    case Mutu::kC:
      return "C";
    case Mutu::kD:
      return "D";
  }
  return "D";
}

// ---- sample adequacy ----

std::vector<LowElement> LowElements(const std::vector<ElementTally>& tallies,
                                    int scale_max, double threshold) {
  std::vector<LowElement> low;
  for (const ElementTally& tally : tallies) {
    if (tally.answers <= 0) continue;
    // Alone, the element is an index of one: its converted score and grade
    // follow the same exact arithmetic and boundaries.
    absl::StatusOr<Index> alone = ComputeIndex({tally}, scale_max);
    if (!alone.ok()) continue;
    const bool graded_low = alone->mutu == Mutu::kC || alone->mutu == Mutu::kD;
    if (graded_low || alone->converted < threshold) {
      low.push_back(
          LowElement{tally.code, tally.answers, alone->converted, alone->mutu});
    }
  }
  return low;
}

std::string MonthToSweep(absl::Time now) {
  static const absl::TimeZone easternmost = absl::FixedTimeZone(14 * 3600);
  const absl::CivilMonth current(absl::ToCivilDay(now, easternmost));
  return PeriodKey(PeriodKind::kMonth, absl::CivilDay(current - 1));
}

int64_t KrejcieMorganSampleSize(int64_t population) {
  if (population <= 0) return 0;
  // In units of 1e-5: X²·P(1−P) = 3.841 x 0.25 = 0.96025, d² = 0.0025.
  const absl::int128 numerator = absl::int128(96025) * population;
  const absl::int128 denominator = absl::int128(250) * (population - 1) + 96025;
  return static_cast<int64_t>((numerator * 2 + denominator) /
                              (denominator * 2));
}

bool SampleAdequate(int64_t respondents, int64_t population) {
  return respondents >= 0 && respondents >= KrejcieMorganSampleSize(population);
}

// ---- CSAT and NPS ----

bool KeepsValueCounts(absl::string_view code) {
  return code == kCsatCode || code == kNpsCode;
}

std::optional<double> CsatShare(const std::array<int64_t, 5>& counts_by_value) {
  int64_t total = 0;
  int64_t satisfied = 0;
  for (size_t i = 0; i < counts_by_value.size(); ++i) {
    const int64_t count = std::max<int64_t>(counts_by_value[i], 0);
    total += count;
    if (i + 1 >= 4) satisfied += count;
  }
  if (total == 0) return std::nullopt;
  return static_cast<double>(satisfied) / static_cast<double>(total);
}

std::optional<double> NetPromoterScore(const std::array<int64_t, 11>& counts) {
  int64_t total = 0;
  int64_t promoters = 0;
  int64_t detractors = 0;
  for (size_t value = 0; value < counts.size(); ++value) {
    const int64_t count = std::max<int64_t>(counts[value], 0);
    total += count;
    if (value >= 9) promoters += count;
    if (value <= 6) detractors += count;
  }
  if (total == 0) return std::nullopt;
  return static_cast<double>(promoters - detractors) * 100.0 /
         static_cast<double>(total);
}

// ---- expectation gap ----

GapVerdict ClassifyGap(double performance_mean, double expectation_mean) {
  const int64_t performance = RoundedHundredths(performance_mean);
  const int64_t expectation = RoundedHundredths(expectation_mean);
  if (performance < expectation) return GapVerdict::kKecewa;
  if (performance == expectation) return GapVerdict::kPuas;
  return GapVerdict::kSangatPuas;
}

absl::string_view GapVerdictName(GapVerdict verdict) {
  switch (verdict) {
    case GapVerdict::kKecewa:
      return "kecewa";
    case GapVerdict::kPuas:
      return "puas";
    case GapVerdict::kSangatPuas:
      return "sangat puas";
  }
  return "puas";
}

// ---- periods ----

std::string PeriodKey(PeriodKind kind, absl::CivilDay day) {
  const auto year = day.year();
  switch (kind) {
    case PeriodKind::kDay:
      return absl::StrFormat("%04d-%02d-%02d", year, day.month(), day.day());
    case PeriodKind::kMonth:
      return absl::StrFormat("%04d-%02d", year, day.month());
    case PeriodKind::kQuarter:
      return absl::StrFormat("%04d-Q%d", year, QuarterOf(day.month()));
    case PeriodKind::kSemester:
      return absl::StrFormat("%04d-S%d", year, SemesterOf(day.month()));
    case PeriodKind::kYear:
      return absl::StrFormat("%04d", year);
  }
  return "";
}

Period PeriodContaining(PeriodKind kind, absl::CivilDay day) {
  const absl::CivilYear year(day);
  switch (kind) {
    case PeriodKind::kDay:
      return Period{kind, day, day};
    case PeriodKind::kMonth:
      return MonthSpan(kind, year, day.month(), 1);
    case PeriodKind::kQuarter:
      return MonthSpan(kind, year, (QuarterOf(day.month()) - 1) * 3 + 1, 3);
    case PeriodKind::kSemester:
      return MonthSpan(kind, year, SemesterOf(day.month()) == 1 ? 1 : 7, 6);
    case PeriodKind::kYear:
      return MonthSpan(kind, year, 1, 12);
  }
  return Period{kind, day, day};
}

absl::StatusOr<Period> ParsePeriodKey(absl::string_view key) {
  const std::optional<int> year = Digits(key.substr(0, 4));
  if (key.size() < 4 || !year.has_value() || *year < kMinPeriodYear ||
      *year > kMaxPeriodYear) {
    return BadPeriod(key);
  }
  const absl::CivilYear civil_year(*year);
  if (key.size() == 4) return MonthSpan(PeriodKind::kYear, civil_year, 1, 12);
  if (key[4] != '-') return BadPeriod(key);
  const absl::string_view rest = key.substr(5);
  if (rest.size() == 2 && (rest[0] == 'Q' || rest[0] == 'S')) {
    const std::optional<int> number = Digits(rest.substr(1));
    if (!number.has_value()) return BadPeriod(key);
    if (rest[0] == 'Q' && *number >= 1 && *number <= 4) {
      return MonthSpan(PeriodKind::kQuarter, civil_year, (*number - 1) * 3 + 1,
                       3);
    }
    if (rest[0] == 'S' && *number >= 1 && *number <= 2) {
      return MonthSpan(PeriodKind::kSemester, civil_year, *number == 1 ? 1 : 7,
                       6);
    }
    return BadPeriod(key);
  }
  const std::optional<int> month = Digits(rest.substr(0, 2));
  if (rest.size() < 2 || !month.has_value() || *month < 1 || *month > 12) {
    return BadPeriod(key);
  }
  if (rest.size() == 2)
    return MonthSpan(PeriodKind::kMonth, civil_year, *month, 1);
  if (rest.size() != 5 || rest[2] != '-') return BadPeriod(key);
  const std::optional<int> day_of_month = Digits(rest.substr(3));
  if (!day_of_month.has_value()) return BadPeriod(key);
  const absl::CivilDay day(*year, *month, *day_of_month);
  // CivilDay normalizes 2026-02-30 to 2026-03-02; only real dates pass.
  if (day.month() != *month || day.day() != *day_of_month) {
    return BadPeriod(key);
  }
  return Period{PeriodKind::kDay, day, day};
}

std::vector<std::string> StoredPeriodKeysOf(absl::CivilDay day) {
  return {PeriodKey(PeriodKind::kDay, day), PeriodKey(PeriodKind::kMonth, day)};
}

std::vector<std::string> StoredKeysOf(absl::CivilDay first,
                                      absl::CivilDay last) {
  std::vector<std::string> keys;
  absl::CivilDay day = first;
  while (day <= last) {
    const Period month = PeriodContaining(PeriodKind::kMonth, day);
    if (day == month.first && month.last <= last) {
      keys.push_back(PeriodKey(PeriodKind::kMonth, day));
      day = month.last + 1;
    } else {
      keys.push_back(PeriodKey(PeriodKind::kDay, day));
      ++day;
    }
  }
  return keys;
}

SubmitWindow SubmitWindowOf(absl::CivilDay first, absl::CivilDay last) {
  // Wider than any real zone offset (at most 14 h), so no zone is missed.
  constexpr absl::Duration kWidening = absl::Hours(26);
  const absl::TimeZone utc = absl::UTCTimeZone();
  return {absl::FromCivil(first, utc) - kWidening,
          absl::FromCivil(last + 1, utc) + kWidening};
}

// ---- templates ----

const std::vector<Template>& BuiltInTemplates() {
  static const auto* templates = new std::vector<Template>{
      SkmTemplate(), GasperszTemplate(), CsatNpsTemplate()};
  return *templates;
}

const Template* FindBuiltInTemplate(absl::string_view id) {
  for (const Template& tmpl : BuiltInTemplates()) {
    if (tmpl.id == id) return &tmpl;
  }
  return nullptr;
}

absl::Status ValidateAnswers(const Template& tmpl, const Answers& answers) {
  return ValidateAnswersAt(tmpl, answers, "answers");
}

absl::StatusOr<std::vector<ElementTally>> TallyResponses(
    const Template& tmpl, const std::vector<Answers>& responses) {
  std::vector<ElementTally> tallies;
  absl::flat_hash_map<std::string, size_t> position_of;
  for (const Dimension& dimension : tmpl.dimensions) {
    position_of[dimension.code] = tallies.size();
    tallies.push_back(ElementTally{dimension.code, 0, 0});
  }
  for (size_t r = 0; r < responses.size(); ++r) {
    RETURN_IF_ERROR(ValidateAnswersAt(
        tmpl, responses[r], absl::StrCat(Indexed("responses", r), ".answers")));
    for (const auto& [code, value] : responses[r]) {
      ElementTally& tally = tallies[position_of.at(code)];
      ++tally.answers;
      tally.sum += value;
    }
  }
  return tallies;
}

// ---- kiosks ----

absl::Status CheckKioskAccess(const std::optional<KioskAccess>& kiosk,
                              absl::string_view credential_sha,
                              absl::string_view requested_office) {
  if (!kiosk.has_value() || credential_sha.empty() ||
      kiosk->credential_sha.empty() ||
      kiosk->credential_sha != credential_sha) {
    return WithReason(
        absl::PermissionDeniedError(
            "kiosk.kiosk_credential: not the credential of a registered "
            "kiosk with this kiosk_id"),
        kKioskCredentialInvalid, {{"field", "kiosk.kiosk_credential"}});
  }
  if (kiosk->revoked) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "kiosk.kiosk_id: kiosk ", kiosk->id,
                          " was revoked; an agency admin registers a new one")),
                      kKioskRevoked, {{"field", "kiosk.kiosk_id"}});
  }
  if (!requested_office.empty() && requested_office != kiosk->office_id) {
    return absl::PermissionDeniedError(
        absl::StrCat("kiosk.office_id: kiosk ", kiosk->id,
                     " is registered at office ", kiosk->office_id));
  }
  return absl::OkStatus();
}

}  // namespace prima::satisfaction
