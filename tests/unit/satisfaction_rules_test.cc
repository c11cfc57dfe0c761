// The satisfaction service's scoring: the SKM index and its grades, Krejcie &
// Morgan sample sizes, CSAT and NPS, the expectation gap, survey periods in
// WIB/WITA and the built-in templates.
#include "services/satisfaction/satisfaction_rules.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/error_info.h"

namespace prima::satisfaction {
namespace {

using ::testing::ElementsAre;

MATCHER_P2(StatusIs, code, prefix, "") {
  return arg.code() == code && absl::StartsWith(arg.message(), prefix);
}

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

// The nine SKM elements U1..U9, each answered `answers` times, with `sums`.
std::vector<ElementTally> SkmTallies(int64_t answers,
                                     const std::array<int64_t, 9>& sums) {
  std::vector<ElementTally> tallies;
  for (int i = 0; i < 9; ++i) {
    tallies.push_back({absl::StrCat("U", i + 1), answers, sums[i]});
  }
  return tallies;
}

// The converted value of SKM tallies; -1 when ComputeIndex fails.
double Converted(const std::vector<ElementTally>& tallies, int scale_max = 4) {
  const absl::StatusOr<Index> index = ComputeIndex(tallies, scale_max);
  EXPECT_TRUE(index.ok()) << index.status();
  return index.ok() ? index->converted : -1;
}

Mutu MutuOf(const std::vector<ElementTally>& tallies) {
  const absl::StatusOr<Index> index = ComputeIndex(tallies);
  EXPECT_TRUE(index.ok()) << index.status();
  return index.ok() ? index->mutu : Mutu::kD;
}

// ---- SKM index ----

TEST(SkmIndex, AllFoursScoreOneHundredGradeA) {
  // 100 respondents answering 4 everywhere: NRR 4, weighted 4/9 each,
  // IKM 9 x 4/9 = 4.00, x25 = 100.00, A Sangat Baik.
  const absl::StatusOr<Index> index = ComputeIndex(
      SkmTallies(100, {400, 400, 400, 400, 400, 400, 400, 400, 400}));
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->elements.size(), 9u);
  for (const ElementScore& element : index->elements) {
    EXPECT_EQ(element.answers, 100);
    EXPECT_DOUBLE_EQ(element.nrr, 4.0);
    EXPECT_DOUBLE_EQ(element.nrr_weighted, 4.0 / 9.0);
  }
  EXPECT_DOUBLE_EQ(index->interval, 4.0);
  EXPECT_EQ(index->converted, 100.00);
  EXPECT_EQ(index->mutu, Mutu::kA);
  EXPECT_EQ(index->kinerja, "Sangat Baik");
}

TEST(SkmIndex, AllOnesScoreTwentyFiveGradeD) {
  // NRR 1 everywhere: IKM 1.00, x25 = 25.00, D Tidak Baik.
  const absl::StatusOr<Index> index =
      ComputeIndex(SkmTallies(37, {37, 37, 37, 37, 37, 37, 37, 37, 37}));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_DOUBLE_EQ(index->interval, 1.0);
  EXPECT_EQ(index->converted, 25.00);
  EXPECT_EQ(index->mutu, Mutu::kD);
  EXPECT_EQ(index->kinerja, "Tidak Baik");
}

TEST(SkmIndex, MixedSurveyOfOneHundredRespondents) {
  // 100 respondents, every element answered by all of them.
  //   element  sum  NRR   NRR x 1/9
  //   U1       320  3.20  0.355556
  //   U2       310  3.10  0.344444
  //   U3       295  2.95  0.327778
  //   U4       380  3.80  0.422222
  //   U5       305  3.05  0.338889
  //   U6       330  3.30  0.366667
  //   U7       345  3.45  0.383333
  //   U8       290  2.90  0.322222
  //   U9       300  3.00  0.333333
  // Σ NRR = 28.75; IKM = 28.75 / 9 = 3.194444...;
  // konversi = 3.194444 x 25 = 718.75 / 9 = 79.8611 -> 79.86: B (>= 76.61,
  // < 88.31), Baik.
  const absl::StatusOr<Index> index = ComputeIndex(
      SkmTallies(100, {320, 310, 295, 380, 305, 330, 345, 290, 300}));
  ASSERT_TRUE(index.ok()) << index.status();
  const double nrr[] = {3.20, 3.10, 2.95, 3.80, 3.05, 3.30, 3.45, 2.90, 3.00};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(index->elements[i].code, absl::StrCat("U", i + 1));
    EXPECT_NEAR(index->elements[i].nrr, nrr[i], 1e-12);
    EXPECT_NEAR(index->elements[i].nrr_weighted, nrr[i] / 9, 1e-12);
  }
  EXPECT_NEAR(index->elements[3].nrr_weighted, 0.422222, 1e-6);
  EXPECT_NEAR(index->interval, 3.194444, 1e-6);
  EXPECT_EQ(index->converted, 79.86);
  EXPECT_EQ(index->mutu, Mutu::kB);
  EXPECT_EQ(index->kinerja, "Baik");
}

TEST(SkmIndex, ElementsWithDifferentAnswerCounts) {
  // U1: 3 answers, sum 10 -> NRR 10/3; U2: 7 answers, sum 20 -> NRR 20/7.
  // k = 2: IKM = (10/3 + 20/7) / 2 = (70 + 60) / 42 = 65/21 = 3.095238;
  // konversi = 1625/21 = 77.380952 -> 77.38, B.
  const absl::StatusOr<Index> index =
      ComputeIndex({{"U1", 3, 10}, {"U2", 7, 20}});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_NEAR(index->elements[0].nrr, 3.333333, 1e-6);
  EXPECT_NEAR(index->elements[1].nrr, 2.857143, 1e-6);
  EXPECT_NEAR(index->elements[0].nrr_weighted, 1.666667, 1e-6);
  EXPECT_NEAR(index->interval, 3.095238, 1e-6);
  EXPECT_EQ(index->converted, 77.38);
  EXPECT_EQ(index->mutu, Mutu::kB);
}

TEST(SkmIndex, UnansweredElementsAreReportedButLeftOutOfTheIndex) {
  // U8 (no complaint channel used) got no answers: the other eight, all 4,
  // weigh 1/8 each and the index is 100.00, not 8 x 4/9 x 25 = 88.89.
  std::vector<ElementTally> tallies =
      SkmTallies(50, {200, 200, 200, 200, 200, 200, 200, 0, 200});
  tallies[7].answers = 0;
  const absl::StatusOr<Index> index = ComputeIndex(tallies);
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->elements.size(), 9u);
  EXPECT_EQ(index->elements[7].code, "U8");
  EXPECT_EQ(index->elements[7].answers, 0);
  EXPECT_EQ(index->elements[7].nrr, 0);
  EXPECT_EQ(index->elements[7].nrr_weighted, 0);
  EXPECT_DOUBLE_EQ(index->elements[0].nrr_weighted, 0.5);  // 4 x 1/8
  EXPECT_DOUBLE_EQ(index->interval, 4.0);
  EXPECT_EQ(index->converted, 100.00);
  EXPECT_EQ(index->mutu, Mutu::kA);
}

TEST(SkmIndex, NoAnswersAtAllIsAFailedPrecondition) {
  EXPECT_THAT(ComputeIndex(SkmTallies(0, {0, 0, 0, 0, 0, 0, 0, 0, 0})).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no answers in this scope and period"));
  EXPECT_THAT(ComputeIndex({}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no answers"));
}

TEST(SkmIndex, ImpossibleTalliesAreInvalidNamingTheField) {
  const auto status_of = [](std::vector<ElementTally> tallies) {
    return ComputeIndex(tallies).status();
  };
  EXPECT_THAT(
      status_of({{"U1", 10, 30}, {"U2", -1, 0}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "tallies[1].answers:"));
  // 10 answers of at least 1 each cannot sum to 9, nor of at most 4 to 41.
  EXPECT_THAT(status_of({{"U1", 10, 9}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "tallies[0].sum:"));
  EXPECT_THAT(status_of({{"U1", 10, 40}, {"U2", 10, 41}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "tallies[1].sum:"));
  EXPECT_THAT(status_of({{"U1", 0, 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "tallies[0].sum:"));
  EXPECT_THAT(status_of({{"U1", 10, 30}, {"U1", 10, 30}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "tallies[1].code: duplicate"));
  EXPECT_THAT(status_of({{"", 10, 30}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "tallies[0].code:"));
  EXPECT_THAT(ComputeIndex({{"U1", 10, 30}}, 1).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "scale_max:"));
  // The extremes are fine.
  EXPECT_TRUE(status_of({{"U1", 10, 10}, {"U2", 10, 40}}).ok());
}

TEST(SkmIndex, ElementsAreMatchedByCodeNotPosition) {
  // The same tallies listed with U9 before U8 score the same, element by
  // element.
  std::vector<ElementTally> in_order =
      SkmTallies(100, {320, 310, 295, 380, 305, 330, 345, 290, 300});
  std::vector<ElementTally> swapped = in_order;
  std::swap(swapped[7], swapped[8]);
  const absl::StatusOr<Index> a = ComputeIndex(in_order);
  const absl::StatusOr<Index> b = ComputeIndex(swapped);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->converted, b->converted);
  EXPECT_EQ(b->elements[7].code, "U9");
  EXPECT_DOUBLE_EQ(b->elements[7].nrr, 3.00);
  EXPECT_DOUBLE_EQ(b->elements[8].nrr, 2.90);
}

TEST(SkmIndex, ConvertedIsRoundedExactlyAtTheGradeBoundaries) {
  // One element of 10000 answers: konversi = 25 x sum / 10000, exactly.
  // A naive 25.0 * (35322 / 10000.0) is 88.30499999... and would round down.
  const auto one = [](int64_t sum) {
    return std::vector<ElementTally>{{"U1", 10000, sum}};
  };
  EXPECT_EQ(Converted(one(35324)), 88.31);  // 3.5324 x 25
  EXPECT_EQ(MutuOf(one(35324)), Mutu::kA);
  EXPECT_EQ(Converted(one(35322)), 88.31);  // 88.305, half away from zero
  EXPECT_EQ(MutuOf(one(35322)), Mutu::kA);
  EXPECT_EQ(Converted(one(35321)), 88.30);  // 88.3025
  EXPECT_EQ(MutuOf(one(35321)), Mutu::kB);
  EXPECT_EQ(Converted(one(35320)), 88.30);
  EXPECT_EQ(MutuOf(one(35320)), Mutu::kB);

  EXPECT_EQ(Converted(one(30644)), 76.61);
  EXPECT_EQ(MutuOf(one(30644)), Mutu::kB);
  EXPECT_EQ(Converted(one(30642)), 76.61);  // 76.605
  EXPECT_EQ(MutuOf(one(30642)), Mutu::kB);
  EXPECT_EQ(Converted(one(30640)), 76.60);
  EXPECT_EQ(MutuOf(one(30640)), Mutu::kC);

  EXPECT_EQ(Converted(one(26000)), 65.00);
  EXPECT_EQ(MutuOf(one(26000)), Mutu::kC);
  EXPECT_EQ(Converted(one(25998)), 65.00);  // 64.995
  EXPECT_EQ(MutuOf(one(25998)), Mutu::kC);
  EXPECT_EQ(Converted(one(25997)), 64.99);  // 64.9925
  EXPECT_EQ(MutuOf(one(25997)), Mutu::kD);
}

TEST(SkmIndex, NineElementBoundariesWithTheExactOneNinthWeight) {
  // 10000 answers per element: konversi = 25/9 x Σ sum / 10000.
  // Σ sum = 317916 -> 7947900 / 90000 = 88.31 exactly: A.
  EXPECT_EQ(Converted(SkmTallies(10000, {40000, 40000, 40000, 40000, 31584,
                                         31583, 31583, 31583, 31583})),
            88.31);
  EXPECT_EQ(MutuOf(SkmTallies(10000, {40000, 40000, 40000, 40000, 31584, 31583,
                                      31583, 31583, 31583})),
            Mutu::kA);
  // Σ sum = 317898 -> 88.305 exactly (in doubles 88.30499999...): 88.31, A.
  const std::vector<ElementTally> half = SkmTallies(
      10000, {35320, 35320, 35320, 35320, 35320, 35320, 35320, 35320, 35338});
  EXPECT_EQ(Converted(half), 88.31);
  EXPECT_EQ(MutuOf(half), Mutu::kA);
  // Σ sum = 317897 -> 88.304722: 88.30, B.
  const std::vector<ElementTally> below = SkmTallies(
      10000, {35320, 35320, 35320, 35320, 35320, 35320, 35320, 35320, 35337});
  EXPECT_EQ(Converted(below), 88.30);
  EXPECT_EQ(MutuOf(below), Mutu::kB);
  // Σ sum = 275778 -> 76.605 exactly: 76.61, B. Summing NRR x 1/9 (or NRR
  // then x 25/9) in doubles gives 76.60499... and a wrong C.
  const std::vector<ElementTally> b_edge = SkmTallies(
      10000, {30642, 30642, 29714, 30299, 29491, 30905, 33636, 29807, 30642});
  EXPECT_EQ(Converted(b_edge), 76.61);
  EXPECT_EQ(MutuOf(b_edge), Mutu::kB);
  // Σ sum = 233982 -> 64.995 exactly: 65.00, C (doubles: 64.99499..., D).
  const std::vector<ElementTally> c_edge = SkmTallies(
      10000, {25998, 24179, 22342, 25998, 25199, 25998, 25998, 27015, 31255});
  EXPECT_EQ(Converted(c_edge), 65.00);
  EXPECT_EQ(MutuOf(c_edge), Mutu::kC);
}

TEST(SkmIndex, HugeCoprimeAnswerCountsStillRoundCorrectly) {
  // Nine distinct primes near 1e9 as answer counts: the common denominator
  // exceeds 60 bits and the long double path is used. All answers 3 gives
  // IKM 3 and 75.00 whatever the counts.
  const int64_t primes[] = {1000000007, 1000000009, 1000000021,
                            1000000033, 1000000087, 1000000093,
                            1000000097, 1000000103, 1000000123};
  std::vector<ElementTally> tallies;
  for (int i = 0; i < 9; ++i) {
    tallies.push_back({absl::StrCat("U", i + 1), primes[i], 3 * primes[i]});
  }
  EXPECT_EQ(Converted(tallies), 75.00);
  EXPECT_EQ(MutuOf(tallies), Mutu::kC);
}

TEST(SkmIndex, OtherScalesConvertOnOneHundredOverScaleMax) {
  // 1..5: all 5s -> 5 x 20 = 100.00; all 1s -> 20.00; mean 4.4 -> 88.00, B.
  EXPECT_EQ(Converted({{"G1", 10, 50}, {"G2", 10, 50}}, 5), 100.00);
  EXPECT_EQ(Converted({{"G1", 10, 10}, {"G2", 10, 10}}, 5), 20.00);
  EXPECT_EQ(Converted({{"G1", 10, 44}}, 5), 88.00);
  // A sum of 5 per answer is only possible on 1..5.
  EXPECT_THAT(ComputeIndex({{"G1", 10, 50}}, 4).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "tallies[0].sum:"));
}

TEST(Grade, LowerThresholdsOnTheValueRoundedToTwoDecimals) {
  EXPECT_EQ(GradeOf(100.00), Mutu::kA);
  EXPECT_EQ(GradeOf(88.31), Mutu::kA);
  EXPECT_EQ(GradeOf(88.30), Mutu::kB);
  EXPECT_EQ(GradeOf(76.61), Mutu::kB);
  EXPECT_EQ(GradeOf(76.60), Mutu::kC);
  EXPECT_EQ(GradeOf(65.00), Mutu::kC);
  EXPECT_EQ(GradeOf(64.99), Mutu::kD);
  EXPECT_EQ(GradeOf(25.00), Mutu::kD);
  // Rounded first: 88.305 -> 88.31, 88.3049 -> 88.30, 64.995 -> 65.00.
  EXPECT_EQ(GradeOf(88.305), Mutu::kA);
  EXPECT_EQ(GradeOf(88.3049), Mutu::kB);
  EXPECT_EQ(GradeOf(64.995), Mutu::kC);
  EXPECT_EQ(GradeOf(76.6099999999), Mutu::kB);
}

TEST(Grade, NamesAndKinerja) {
  EXPECT_EQ(MutuName(Mutu::kA), "A");
  EXPECT_EQ(MutuName(Mutu::kB), "B");
  EXPECT_EQ(MutuName(Mutu::kC), "C");
  EXPECT_EQ(MutuName(Mutu::kD), "D");
  EXPECT_EQ(KinerjaOf(Mutu::kA), "Sangat Baik");
  EXPECT_EQ(KinerjaOf(Mutu::kB), "Baik");
  EXPECT_EQ(KinerjaOf(Mutu::kC), "Kurang Baik");
  EXPECT_EQ(KinerjaOf(Mutu::kD), "Tidak Baik");
}

// ---- sample adequacy ----

TEST(SampleSize, KrejcieMorganTableRows) {
  // S = 0.96025 N / (0.0025 (N - 1) + 0.96025):
  EXPECT_EQ(KrejcieMorganSampleSize(10), 10);        // 9.771
  EXPECT_EQ(KrejcieMorganSampleSize(100), 80);       // 79.507
  EXPECT_EQ(KrejcieMorganSampleSize(500), 217);      // 217.47, not 218
  EXPECT_EQ(KrejcieMorganSampleSize(1000), 278);     // 277.71
  EXPECT_EQ(KrejcieMorganSampleSize(10000), 370);    // 369.92
  EXPECT_EQ(KrejcieMorganSampleSize(1000000), 384);  // 383.95
  EXPECT_EQ(KrejcieMorganSampleSize(50), 44);        // 44.34, not 45
  EXPECT_EQ(KrejcieMorganSampleSize(1), 1);          // 0.96025 / 0.96025
}

TEST(SampleSize, EmptyOrNegativePopulationNeedsNoSample) {
  EXPECT_EQ(KrejcieMorganSampleSize(0), 0);
  EXPECT_EQ(KrejcieMorganSampleSize(-5), 0);
  // Approaches 96025 / 250 = 384.1 and never overflows.
  EXPECT_EQ(KrejcieMorganSampleSize(INT64_MAX), 384);
}

TEST(SampleSize, AdequateFromTheTableSizeOn) {
  EXPECT_TRUE(SampleAdequate(217, 500));
  EXPECT_FALSE(SampleAdequate(216, 500));
  EXPECT_TRUE(SampleAdequate(400, 1000000));
  EXPECT_FALSE(SampleAdequate(383, 1000000));
  EXPECT_TRUE(SampleAdequate(0, 0));
  EXPECT_FALSE(SampleAdequate(-1, 0));
}

// ---- CSAT and NPS ----

TEST(Csat, ShareOfFourAndFive) {
  // 1,1,2,3,3 answers of 1..5: (3 + 3) / 10 = 0.6.
  EXPECT_DOUBLE_EQ(CsatShare({1, 1, 2, 3, 3}).value_or(-1), 0.6);
  EXPECT_DOUBLE_EQ(CsatShare({0, 0, 0, 0, 7}).value_or(-1), 1.0);
  EXPECT_DOUBLE_EQ(CsatShare({0, 0, 9, 0, 0}).value_or(-1), 0.0);
  // Only the 4s: 4 / (1 + 4) = 0.8.
  EXPECT_DOUBLE_EQ(CsatShare({1, 0, 0, 4, 0}).value_or(-1), 0.8);
  EXPECT_EQ(CsatShare({0, 0, 0, 0, 0}), std::nullopt);
}

TEST(Nps, PromotersMinusDetractors) {
  // Counts of 0..10: detractors 1 + 2 + 1 = 4 (0, 5, 6), passives 3 + 3 = 6,
  // promoters 5 + 5 = 10; (10 - 4) / 20 x 100 = 30.
  EXPECT_DOUBLE_EQ(
      NetPromoterScore({1, 0, 0, 0, 0, 2, 1, 3, 3, 5, 5}).value_or(-999), 30.0);
  // 6 detracts, 7 and 8 are passive, 9 promotes: (1 - 1) / 4 = 0.
  EXPECT_DOUBLE_EQ(
      NetPromoterScore({0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0}).value_or(-999), 0.0);
  // One promoter in three: (1 - 0) / 3 x 100 = 33.33...
  EXPECT_NEAR(
      NetPromoterScore({0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1}).value_or(-999),
      33.333333, 1e-6);
}

TEST(Nps, Extremes) {
  EXPECT_DOUBLE_EQ(
      NetPromoterScore({0, 0, 0, 0, 0, 0, 0, 4, 6, 0, 0}).value_or(-999), 0.0);
  EXPECT_DOUBLE_EQ(
      NetPromoterScore({0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2}).value_or(-999),
      100.0);
  EXPECT_DOUBLE_EQ(
      NetPromoterScore({2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}).value_or(-999),
      -100.0);
  EXPECT_EQ(NetPromoterScore({}), std::nullopt);
}

// ---- expectation gap ----

TEST(Gap, BelowMeetsAboveExpectation) {
  EXPECT_EQ(ClassifyGap(3.10, 3.20), GapVerdict::kKecewa);
  EXPECT_EQ(ClassifyGap(3.20, 3.20), GapVerdict::kPuas);
  EXPECT_EQ(ClassifyGap(3.30, 3.20), GapVerdict::kSangatPuas);
  EXPECT_EQ(ClassifyGap(1.00, 5.00), GapVerdict::kKecewa);
}

TEST(Gap, ComparedOnMeansRoundedToTwoDecimals) {
  // 0.1 + 0.2 is 0.30000000000000004 in doubles.
  EXPECT_EQ(ClassifyGap(0.1 + 0.2, 0.3), GapVerdict::kPuas);
  EXPECT_EQ(ClassifyGap(3.2, 3.1999999999), GapVerdict::kPuas);
  // 3.204 -> 3.20 meets 3.20; 3.205 -> 3.21 exceeds it; 3.194 -> 3.19 falls
  // short.
  EXPECT_EQ(ClassifyGap(3.204, 3.2), GapVerdict::kPuas);
  EXPECT_EQ(ClassifyGap(3.205, 3.2), GapVerdict::kSangatPuas);
  EXPECT_EQ(ClassifyGap(3.194, 3.2), GapVerdict::kKecewa);
  // Means of real tallies: 43/10 = 4.30 vs 129/30 = 4.30.
  EXPECT_EQ(ClassifyGap(43.0 / 10, 129.0 / 30), GapVerdict::kPuas);
}

TEST(Gap, Names) {
  EXPECT_EQ(GapVerdictName(GapVerdict::kKecewa), "kecewa");
  EXPECT_EQ(GapVerdictName(GapVerdict::kPuas), "puas");
  EXPECT_EQ(GapVerdictName(GapVerdict::kSangatPuas), "sangat puas");
}

// ---- the improvement loop ----

TEST(LowElements, GradesCAndDAreLowBAndAAreNot) {
  // 100 answers each: NRR x 25 is sum / 4.
  const std::vector<LowElement> low =
      LowElements({{"U1", 100, 306},  // 76.50 C
                   {"U2", 100, 307},  // 76.75 B
                   {"U3", 100, 259},  // 64.75 D
                   {"U4", 100, 260},  // 65.00 C
                   {"U5", 100, 400},  // 100.00 A
                   {"U6", 0, 0}},     // unanswered: nothing to improve
                  kSkmScaleMax, 0);
  ASSERT_EQ(low.size(), 3u);
  EXPECT_EQ(low[0].code, "U1");
  EXPECT_EQ(low[0].answers, 100);
  EXPECT_DOUBLE_EQ(low[0].converted, 76.5);
  EXPECT_EQ(low[0].mutu, Mutu::kC);
  EXPECT_EQ(low[1].code, "U3");
  EXPECT_DOUBLE_EQ(low[1].converted, 64.75);
  EXPECT_EQ(low[1].mutu, Mutu::kD);
  EXPECT_EQ(low[2].code, "U4");
  EXPECT_EQ(low[2].mutu, Mutu::kC);
}

TEST(LowElements, TheBoundaryIsTheGradesOwn) {
  // 5000 answers summing to 15321: NRR 3.0642, converted 76.605, which
  // rounds to 76.61: B, not low.
  EXPECT_TRUE(LowElements({{"U1", 5000, 15321}}, kSkmScaleMax, 0).empty());
  // 2000 answers summing to 6128: NRR 3.064, converted 76.60: C.
  const std::vector<LowElement> low =
      LowElements({{"U7", 2000, 6128}}, kSkmScaleMax, 0);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_DOUBLE_EQ(low[0].converted, 76.6);
  EXPECT_EQ(low[0].mutu, Mutu::kC);
}

TEST(LowElements, AnAgencyThresholdRaisesTheBar) {
  const std::vector<ElementTally> tallies = {{"U1", 100, 310},   // 77.50 B
                                             {"U2", 100, 320},   // 80.00 B
                                             {"U3", 100, 360}};  // 90.00 A
  EXPECT_TRUE(LowElements(tallies, kSkmScaleMax, 0).empty());
  const std::vector<LowElement> low = LowElements(tallies, kSkmScaleMax, 80);
  ASSERT_EQ(low.size(), 1u);  // 80.00 is not below 80
  EXPECT_EQ(low[0].code, "U1");
  EXPECT_EQ(low[0].mutu, Mutu::kB);
  EXPECT_EQ(LowElements(tallies, kSkmScaleMax, 95).size(), 3u);
}

TEST(LowElements, ImpossibleTalliesGiveNone) {
  EXPECT_TRUE(LowElements({{"U1", 10, 50}}, kSkmScaleMax, 0).empty());
  EXPECT_TRUE(LowElements({{"U1", 10, 10}}, 1, 0).empty());
}

TEST(LowElements, TheSweptMonthIsTheLatestOverAnywhere) {
  const auto utc = [](int month, int day, int hour) {
    return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, 0, 0),
                           absl::UTCTimeZone());
  };
  // 2026-11-30 09:59 UTC is 23:59 in UTC+14: November is still on there.
  EXPECT_EQ(MonthToSweep(utc(11, 30, 9) + absl::Minutes(59)), "2026-10");
  // 10:00 UTC is midnight of December 1 in UTC+14: November is over there
  // (WIB follows at 17:00 UTC).
  EXPECT_EQ(MonthToSweep(utc(11, 30, 10)), "2026-11");
  EXPECT_EQ(MonthToSweep(utc(12, 15, 0)), "2026-11");
  EXPECT_EQ(MonthToSweep(utc(1, 1, 0)), "2025-12");
}

// ---- periods ----

TEST(Periods, KeysOfALocalDay) {
  const absl::CivilDay day(2026, 11, 24);
  EXPECT_EQ(PeriodKey(PeriodKind::kDay, day), "2026-11-24");
  EXPECT_EQ(PeriodKey(PeriodKind::kMonth, day), "2026-11");
  EXPECT_EQ(PeriodKey(PeriodKind::kQuarter, day), "2026-Q4");
  EXPECT_EQ(PeriodKey(PeriodKind::kSemester, day), "2026-S2");
  EXPECT_EQ(PeriodKey(PeriodKind::kYear, day), "2026");
  EXPECT_THAT(StoredPeriodKeysOf(day), ElementsAre("2026-11-24", "2026-11"));
  EXPECT_THAT(StoredPeriodKeysOf(absl::CivilDay(2027, 1, 5)),
              ElementsAre("2027-01-05", "2027-01"));
}

TEST(Periods, LongPeriodsAreReadAsTheirMonths) {
  const auto keys_of = [](absl::string_view key) {
    absl::StatusOr<Period> period = ParsePeriodKey(key);
    EXPECT_TRUE(period.ok()) << key;
    return StoredKeysOf(period->first, period->last);
  };
  EXPECT_THAT(keys_of("2026-11-24"), ElementsAre("2026-11-24"));
  EXPECT_THAT(keys_of("2026-11"), ElementsAre("2026-11"));
  EXPECT_THAT(keys_of("2026-Q4"), ElementsAre("2026-10", "2026-11", "2026-12"));
  EXPECT_THAT(keys_of("2026-S1"), ElementsAre("2026-01", "2026-02", "2026-03",
                                              "2026-04", "2026-05", "2026-06"));
  const std::vector<std::string> year = keys_of("2028");
  ASSERT_EQ(year.size(), 12u);
  EXPECT_EQ(year.front(), "2028-01");
  EXPECT_EQ(year.back(), "2028-12");
}

TEST(Periods, ACustomRangeUsesWholeMonthsAndTheDaysAround) {
  // 2028 is a leap year: February's month key covers the 29th.
  EXPECT_THAT(
      StoredKeysOf(absl::CivilDay(2028, 1, 30), absl::CivilDay(2028, 3, 2)),
      ElementsAre("2028-01-30", "2028-01-31", "2028-02", "2028-03-01",
                  "2028-03-02"));
  // A month that is not whole stays days, even when only its last day is
  // missing.
  const std::vector<std::string> almost =
      StoredKeysOf(absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 11, 29));
  ASSERT_EQ(almost.size(), 29u);
  EXPECT_EQ(almost.front(), "2026-11-01");
  EXPECT_EQ(almost.back(), "2026-11-29");
  EXPECT_THAT(
      StoredKeysOf(absl::CivilDay(2026, 12, 31), absl::CivilDay(2027, 1, 31)),
      ElementsAre("2026-12-31", "2027-01"));
  EXPECT_THAT(
      StoredKeysOf(absl::CivilDay(2026, 11, 24), absl::CivilDay(2026, 11, 24)),
      ElementsAre("2026-11-24"));
  EXPECT_THAT(
      StoredKeysOf(absl::CivilDay(2026, 11, 25), absl::CivilDay(2026, 11, 24)),
      ElementsAre());
}

TEST(Periods, QuarterAndSemesterEdges) {
  EXPECT_EQ(PeriodKey(PeriodKind::kQuarter, absl::CivilDay(2026, 3, 31)),
            "2026-Q1");
  EXPECT_EQ(PeriodKey(PeriodKind::kQuarter, absl::CivilDay(2026, 4, 1)),
            "2026-Q2");
  EXPECT_EQ(PeriodKey(PeriodKind::kQuarter, absl::CivilDay(2026, 9, 30)),
            "2026-Q3");
  EXPECT_EQ(PeriodKey(PeriodKind::kQuarter, absl::CivilDay(2026, 10, 1)),
            "2026-Q4");
  EXPECT_EQ(PeriodKey(PeriodKind::kSemester, absl::CivilDay(2026, 6, 30)),
            "2026-S1");
  EXPECT_EQ(PeriodKey(PeriodKind::kSemester, absl::CivilDay(2026, 7, 1)),
            "2026-S2");
}

TEST(Periods, FirstAndLastDayOfEachKind) {
  const absl::CivilDay day(2028, 2, 10);  // 2028 is a leap year
  const Period d = PeriodContaining(PeriodKind::kDay, day);
  EXPECT_EQ(d.first, day);
  EXPECT_EQ(d.last, day);
  const Period m = PeriodContaining(PeriodKind::kMonth, day);
  EXPECT_EQ(m.kind, PeriodKind::kMonth);
  EXPECT_EQ(m.first, absl::CivilDay(2028, 2, 1));
  EXPECT_EQ(m.last, absl::CivilDay(2028, 2, 29));
  const Period q = PeriodContaining(PeriodKind::kQuarter, day);
  EXPECT_EQ(q.first, absl::CivilDay(2028, 1, 1));
  EXPECT_EQ(q.last, absl::CivilDay(2028, 3, 31));
  const Period q4 =
      PeriodContaining(PeriodKind::kQuarter, absl::CivilDay(2026, 11, 24));
  EXPECT_EQ(q4.first, absl::CivilDay(2026, 10, 1));
  EXPECT_EQ(q4.last, absl::CivilDay(2026, 12, 31));
  const Period s = PeriodContaining(PeriodKind::kSemester, day);
  EXPECT_EQ(s.first, absl::CivilDay(2028, 1, 1));
  EXPECT_EQ(s.last, absl::CivilDay(2028, 6, 30));
  const Period s2 =
      PeriodContaining(PeriodKind::kSemester, absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(s2.first, absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(s2.last, absl::CivilDay(2026, 12, 31));
  const Period y = PeriodContaining(PeriodKind::kYear, day);
  EXPECT_EQ(y.kind, PeriodKind::kYear);
  EXPECT_EQ(y.first, absl::CivilDay(2028, 1, 1));
  EXPECT_EQ(y.last, absl::CivilDay(2028, 12, 31));
}

TEST(Periods, TheOfficeZoneDecidesTheDayAroundNewYear) {
  // 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Makassar (WITA, UTC+8) but
  // still 2026-12-31 23:30 in Jakarta (WIB, UTC+7): every key differs.
  const absl::Time t = absl::FromCivil(
      absl::CivilSecond(2026, 12, 31, 16, 30, 0), absl::UTCTimeZone());
  const absl::CivilDay wita = absl::ToCivilDay(t, Zone("Asia/Makassar"));
  const absl::CivilDay wib = absl::ToCivilDay(t, Zone("Asia/Jakarta"));
  EXPECT_THAT(StoredPeriodKeysOf(wita), ElementsAre("2027-01-01", "2027-01"));
  EXPECT_THAT(StoredPeriodKeysOf(wib), ElementsAre("2026-12-31", "2026-12"));
}

TEST(Periods, ParsedKeysGiveThePeriodBack) {
  // Every kind on every day of 2027 and 2028 round-trips.
  for (absl::CivilDay day(2027, 1, 1); day < absl::CivilDay(2029, 1, 1);
       ++day) {
    for (PeriodKind kind :
         {PeriodKind::kDay, PeriodKind::kMonth, PeriodKind::kQuarter,
          PeriodKind::kSemester, PeriodKind::kYear}) {
      const std::string key = PeriodKey(kind, day);
      const absl::StatusOr<Period> parsed = ParsePeriodKey(key);
      ASSERT_TRUE(parsed.ok()) << key << ": " << parsed.status();
      const Period expected = PeriodContaining(kind, day);
      ASSERT_EQ(parsed->kind, kind) << key;
      ASSERT_EQ(parsed->first, expected.first) << key;
      ASSERT_EQ(parsed->last, expected.last) << key;
    }
  }
  const absl::StatusOr<Period> q3 = ParsePeriodKey("2026-Q3");
  ASSERT_TRUE(q3.ok());
  EXPECT_EQ(q3->first, absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(q3->last, absl::CivilDay(2026, 9, 30));
}

TEST(Periods, ParsingIsStrict) {
  for (const char* bad :
       {"",         "2026-",       "26",        "202",         "20261",
        "1999",     "2101",        "2026-13",   "2026-00",     "2026-1",
        "2026-Q0",  "2026-Q5",     "2026-q4",   "2026-S0",     "2026-S3",
        "2026-Q44", "2026-02-30",  "2026-11-4", "2026-11-24x", "2026/11",
        "+026",     "2026-11-24 ", " 2026",     "2026-W48",    "2026-1a"}) {
    EXPECT_THAT(ParsePeriodKey(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, "period:"))
        << '"' << bad << '"';
  }
  EXPECT_TRUE(ParsePeriodKey("2028-02-29").ok());
  EXPECT_TRUE(ParsePeriodKey("2100").ok());
  EXPECT_TRUE(ParsePeriodKey("2000-S1").ok());
}

TEST(Periods, SubmitWindowHoldsEveryLocalTimeOfTheDates) {
  const absl::CivilDay first(2026, 11, 1);
  const absl::CivilDay last(2026, 11, 30);
  const SubmitWindow window = SubmitWindowOf(first, last);
  // 2026-11-01 00:00 UTC - 26 h and 2026-12-01 00:00 UTC + 26 h.
  EXPECT_EQ(window.from,
            absl::FromCivil(absl::CivilSecond(2026, 10, 30, 22, 0, 0),
                            absl::UTCTimeZone()));
  EXPECT_EQ(window.to, absl::FromCivil(absl::CivilSecond(2026, 12, 2, 2, 0, 0),
                                       absl::UTCTimeZone()));
  // The first minute of the first date and the last of the last date, in
  // WIB, WITA and WIT, are inside.
  for (const char* zone : {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}) {
    const absl::Time start = absl::FromCivil(first, Zone(zone));
    const absl::Time end = absl::FromCivil(last + 1, Zone(zone));
    EXPECT_GE(start, window.from) << zone;
    EXPECT_LT(end - absl::Minutes(1), window.to) << zone;
  }
}

// ---- templates ----

TEST(Templates, BuiltInsInOrderWithLabelsForEveryValue) {
  const std::vector<Template>& templates = BuiltInTemplates();
  ASSERT_EQ(templates.size(), 3u);
  EXPECT_EQ(templates[0].id, "skm");
  EXPECT_EQ(templates[1].id, "gaspersz-10");
  EXPECT_EQ(templates[2].id, "csat-nps");
  for (const Template& tmpl : templates) {
    EXPECT_EQ(tmpl.version, 1) << tmpl.id;
    EXPECT_FALSE(tmpl.name.empty()) << tmpl.id;
    EXPECT_EQ(FindBuiltInTemplate(tmpl.id), &tmpl);
    std::vector<std::string> codes;
    for (const Dimension& dimension : tmpl.dimensions) {
      EXPECT_EQ(
          dimension.answer_labels.size(),
          static_cast<size_t>(dimension.scale_max - dimension.scale_min + 1))
          << tmpl.id << " " << dimension.code;
      codes.push_back(dimension.code);
    }
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(std::unique(codes.begin(), codes.end()), codes.end()) << tmpl.id;
  }
  EXPECT_EQ(FindBuiltInTemplate("servqual"), nullptr);
}

TEST(Templates, SkmHasTheNineElementsOfPermenPanRb14Of2017) {
  const Template& skm = *FindBuiltInTemplate("skm");
  EXPECT_FALSE(skm.expectations);
  ASSERT_EQ(skm.dimensions.size(), 9u);
  const char* names[] = {"Persyaratan",
                         "Sistem, Mekanisme, dan Prosedur",
                         "Waktu Penyelesaian",
                         "Biaya/Tarif",
                         "Produk Spesifikasi Jenis Pelayanan",
                         "Kompetensi Pelaksana",
                         "Perilaku Pelaksana",
                         "Penanganan Pengaduan, Saran dan Masukan",
                         "Sarana dan Prasarana"};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(skm.dimensions[i].code, absl::StrCat("U", i + 1));
    EXPECT_EQ(skm.dimensions[i].name, names[i]);
    EXPECT_EQ(skm.dimensions[i].scale_min, 1);
    EXPECT_EQ(skm.dimensions[i].scale_max, 4);
  }
  EXPECT_THAT(
      skm.dimensions[0].answer_labels,
      ElementsAre("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"));
  EXPECT_THAT(
      skm.dimensions[1].answer_labels,
      ElementsAre("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"));
  EXPECT_THAT(
      skm.dimensions[2].answer_labels,
      ElementsAre("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"));
  EXPECT_THAT(skm.dimensions[3].answer_labels,
              ElementsAre("Sangat mahal", "Cukup mahal", "Murah", "Gratis"));
  EXPECT_THAT(
      skm.dimensions[4].answer_labels,
      ElementsAre("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"));
  EXPECT_THAT(skm.dimensions[5].answer_labels,
              ElementsAre("Tidak kompeten", "Kurang kompeten", "Kompeten",
                          "Sangat kompeten"));
  EXPECT_THAT(skm.dimensions[6].answer_labels,
              ElementsAre("Tidak sopan dan ramah", "Kurang sopan dan ramah",
                          "Sopan dan ramah", "Sangat sopan dan ramah"));
  EXPECT_THAT(skm.dimensions[7].answer_labels,
              ElementsAre("Tidak ada", "Ada tetapi tidak berfungsi",
                          "Berfungsi kurang maksimal", "Dikelola dengan baik"));
  EXPECT_THAT(skm.dimensions[8].answer_labels,
              ElementsAre("Buruk", "Cukup", "Baik", "Sangat Baik"));
}

TEST(Templates, GasperszTenDimensionsWithExpectations) {
  const Template& gaspersz = *FindBuiltInTemplate("gaspersz-10");
  EXPECT_TRUE(gaspersz.expectations);
  ASSERT_EQ(gaspersz.dimensions.size(), 10u);
  const char* names[] = {"Kesopanan dan keramahan",
                         "Ketepatan waktu pelayanan",
                         "Akurasi pelayanan",
                         "Tanggung jawab",
                         "Kelengkapan",
                         "Kemudahan dalam pelayanan",
                         "Variasi model pelayanan",
                         "Pelayanan pribadi",
                         "Kenyamanan dalam memperoleh pelayanan",
                         "Atribut pendukung lainnya"};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(gaspersz.dimensions[i].code, absl::StrCat("G", i + 1));
    EXPECT_EQ(gaspersz.dimensions[i].name, names[i]);
    EXPECT_EQ(gaspersz.dimensions[i].scale_min, 1);
    EXPECT_EQ(gaspersz.dimensions[i].scale_max, 5);
  }
  EXPECT_EQ(gaspersz.dimensions[0].answer_labels.front(), "Sangat buruk");
  EXPECT_EQ(gaspersz.dimensions[0].answer_labels.back(), "Sangat baik");
}

TEST(Templates, CsatAndNpsHaveTheirOwnScales) {
  const Template& csat_nps = *FindBuiltInTemplate("csat-nps");
  EXPECT_FALSE(csat_nps.expectations);
  ASSERT_EQ(csat_nps.dimensions.size(), 2u);
  EXPECT_EQ(csat_nps.dimensions[0].code, "CSAT");
  EXPECT_EQ(csat_nps.dimensions[0].scale_min, 1);
  EXPECT_EQ(csat_nps.dimensions[0].scale_max, 5);
  EXPECT_EQ(csat_nps.dimensions[0].answer_labels.back(), "Sangat puas");
  EXPECT_EQ(csat_nps.dimensions[1].code, "NPS");
  EXPECT_TRUE(KeepsValueCounts("CSAT"));
  EXPECT_TRUE(KeepsValueCounts("NPS"));
  EXPECT_FALSE(KeepsValueCounts("U1"));
  EXPECT_FALSE(KeepsValueCounts("G10"));
  EXPECT_EQ(csat_nps.dimensions[1].scale_min, 0);
  EXPECT_EQ(csat_nps.dimensions[1].scale_max, 10);
}

TEST(Answers, ValidAnswersIncludingUnansweredDimensions) {
  const Template& skm = *FindBuiltInTemplate("skm");
  EXPECT_TRUE(ValidateAnswers(skm, {{"U1", 1}, {"U9", 4}}).ok());
  EXPECT_TRUE(ValidateAnswers(skm, {{"U1", 4},
                                    {"U2", 3},
                                    {"U3", 2},
                                    {"U4", 1},
                                    {"U5", 4},
                                    {"U6", 3},
                                    {"U7", 2},
                                    {"U9", 1},
                                    {"U8", 4}})
                  .ok());
  const Template& csat_nps = *FindBuiltInTemplate("csat-nps");
  EXPECT_TRUE(ValidateAnswers(csat_nps, {{"NPS", 0}}).ok());
  EXPECT_TRUE(ValidateAnswers(csat_nps, {{"NPS", 10}, {"CSAT", 5}}).ok());
}

TEST(Answers, RefusalsNameTheAnswer) {
  const Template& skm = *FindBuiltInTemplate("skm");
  EXPECT_THAT(ValidateAnswers(skm, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "answers: at least one answer is required"));
  EXPECT_THAT(ValidateAnswers(skm, {{"U1", 3}, {"U10", 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "answers[1].code:"));
  EXPECT_THAT(ValidateAnswers(skm, {{"u1", 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "answers[0].code:"));
  EXPECT_THAT(ValidateAnswers(skm, {{"U1", 3}, {"U2", 3}, {"U1", 4}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "answers[2].code:"));
  EXPECT_THAT(ValidateAnswers(skm, {{"U1", 0}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "answers[0].value: must be between 1 and 4; got 0"));
  EXPECT_THAT(
      ValidateAnswers(skm, {{"U1", 3}, {"U4", 5}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "answers[1].value:"));
  const Template& csat_nps = *FindBuiltInTemplate("csat-nps");
  EXPECT_THAT(
      ValidateAnswers(csat_nps, {{"NPS", 11}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "answers[0].value:"));
  EXPECT_THAT(
      ValidateAnswers(csat_nps, {{"CSAT", 0}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "answers[0].value:"));
}

TEST(Answers, TalliesFollowCodesWhateverTheOrderOfAnswers) {
  const Template& skm = *FindBuiltInTemplate("skm");
  // The same respondent on a form printing U9 before U8: U8 = 1, U9 = 4.
  const Answers in_order = {{"U1", 4}, {"U2", 3}, {"U3", 3},
                            {"U4", 4}, {"U5", 3}, {"U6", 4},
                            {"U7", 4}, {"U8", 1}, {"U9", 4}};
  const Answers u9_first = {{"U1", 4}, {"U2", 3}, {"U3", 3},
                            {"U4", 4}, {"U5", 3}, {"U6", 4},
                            {"U7", 4}, {"U9", 4}, {"U8", 1}};
  const absl::StatusOr<std::vector<ElementTally>> a =
      TallyResponses(skm, {in_order, in_order});
  const absl::StatusOr<std::vector<ElementTally>> b =
      TallyResponses(skm, {u9_first, u9_first});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 9u);
  EXPECT_EQ((*b)[7].code, "U8");
  EXPECT_EQ((*b)[7].answers, 2);
  EXPECT_EQ((*b)[7].sum, 2);  // 1 + 1, not U9's 4 + 4
  EXPECT_EQ((*b)[8].sum, 8);
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ((*a)[i].code, (*b)[i].code);
    EXPECT_EQ((*a)[i].sum, (*b)[i].sum);
  }
  // Σ NRR = 4+3+3+4+3+4+4+1+4 = 30; konversi = 30 x 25/9 = 83.333 -> 83.33.
  EXPECT_EQ(Converted(*a), 83.33);
  EXPECT_EQ(Converted(*b), 83.33);
}

TEST(Answers, TallyingCountsUnansweredAndRefusesBadResponses) {
  const Template& skm = *FindBuiltInTemplate("skm");
  const absl::StatusOr<std::vector<ElementTally>> tallies =
      TallyResponses(skm, {{{"U1", 4}, {"U2", 2}}, {{"U1", 3}}});
  ASSERT_TRUE(tallies.ok()) << tallies.status();
  EXPECT_EQ((*tallies)[0].answers, 2);
  EXPECT_EQ((*tallies)[0].sum, 7);
  EXPECT_EQ((*tallies)[1].answers, 1);
  EXPECT_EQ((*tallies)[1].sum, 2);
  EXPECT_EQ((*tallies)[2].answers, 0);
  // U1 3.5, U2 2.0 over k = 2: (3.5 + 2) / 2 x 25 = 68.75, C.
  EXPECT_EQ(Converted(*tallies), 68.75);

  EXPECT_THAT(TallyResponses(skm, {{{"U1", 4}}, {{"U2", 9}}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "responses[1].answers[0].value:"));
  EXPECT_THAT(
      TallyResponses(skm, {{{"U1", 4}}, {}}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "responses[1].answers:"));
}

// ---- kiosks ----

TEST(CheckKioskAccessTest, TheRightCredentialAtTheKiosksOfficePasses) {
  const KioskAccess kiosk{"k1", "kantor-a", "sha-of-credential", false};
  EXPECT_TRUE(CheckKioskAccess(kiosk, "sha-of-credential", "").ok());
  EXPECT_TRUE(CheckKioskAccess(kiosk, "sha-of-credential", "kantor-a").ok());
}

TEST(CheckKioskAccessTest, UnknownKioskAndWrongOrMissingCredentialLookAlike) {
  const KioskAccess kiosk{"k1", "kantor-a", "sha-of-credential", false};
  for (const absl::Status& s :
       {CheckKioskAccess(std::nullopt, "sha-of-credential", ""),
        CheckKioskAccess(kiosk, "sha-of-another", ""),
        CheckKioskAccess(kiosk, "", ""),
        // A stored kiosk without a hash never matches an empty one.
        CheckKioskAccess(KioskAccess{"k1", "kantor-a", "", false}, "", "")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
    EXPECT_EQ(ErrorInfoOf(s).reason(), kKioskCredentialInvalid) << s;
    EXPECT_EQ(ErrorInfoOf(s).metadata().at("field"), "kiosk.kiosk_credential");
    EXPECT_FALSE(absl::StrContains(s.message(), "k1")) << s;
  }
}

TEST(CheckKioskAccessTest, RevokedKioskIsRefusedWithItsReason) {
  const KioskAccess kiosk{"k1", "kantor-a", "sha-of-credential", true};
  const absl::Status s = CheckKioskAccess(kiosk, "sha-of-credential", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorInfoOf(s).reason(), kKioskRevoked);
  // A wrong credential learns nothing about the revocation.
  EXPECT_EQ(ErrorInfoOf(CheckKioskAccess(kiosk, "sha-of-another", "")).reason(),
            kKioskCredentialInvalid);
}

TEST(CheckKioskAccessTest, AnotherOfficeIsRefusedNamingTheField) {
  const KioskAccess kiosk{"k1", "kantor-a", "sha-of-credential", false};
  const absl::Status s =
      CheckKioskAccess(kiosk, "sha-of-credential", "kantor-b");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StartsWith(s.message(), "kiosk.office_id:")) << s;
}

}  // namespace
}  // namespace prima::satisfaction
