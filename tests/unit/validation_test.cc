#include "services/common/validation.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace prima {
namespace {

void ExpectInvalid(const absl::Status& status, absl::string_view field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), std::string(field) + ": "))
      << status;
}

TEST(ValidateIdTest, AcceptsLowercaseLettersDigitsAndDashes) {
  EXPECT_TRUE(ValidateId("office_id", "a").ok());
  EXPECT_TRUE(ValidateId("office_id", "0").ok());
  EXPECT_TRUE(ValidateId("office_id", "kantor-pusat-01").ok());
  EXPECT_TRUE(ValidateId("office_id", "9-").ok());
  EXPECT_TRUE(ValidateId("office_id", std::string(63, 'x')).ok());
}

TEST(ValidateIdTest, RejectsEverythingElseNamingTheField) {
  for (const std::string& bad :
       {std::string(""), std::string("-a"), std::string("A"),
        std::string("a_b"), std::string("a b"), std::string("a.b"),
        std::string("a:b"), std::string(64, 'x'), std::string("caf\xc3\xa9"),
        std::string("a\nb"), std::string("a\0b", 3)}) {
    absl::Status status = ValidateId("office_id", bad);
    ExpectInvalid(status, "office_id");
  }
  absl::Status status = ValidateId("office_id", "Bad");
  EXPECT_EQ(status.message(),
            "office_id: must be 1-63 characters of a-z, 0-9 and \"-\", "
            "starting with a letter or digit; got \"Bad\"");
}

TEST(ValidateIdTest, EchoIsTruncatedAndEscaped) {
  const std::string long_value = "X" + std::string(99, 'y');
  absl::Status status = ValidateId("agency_id", long_value);
  ExpectInvalid(status, "agency_id");
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "\"X" + std::string(39, 'y') + "...\""))
      << status;
  EXPECT_FALSE(absl::StrContains(status.message(), std::string(40, 'y')));

  status = ValidateId("agency_id", "a\"b\\c\n");
  EXPECT_TRUE(absl::StrContains(status.message(), "\"a\\\"b\\\\c\\n\""))
      << status;

  // Invalid UTF-8 is not echoed raw.
  status = ValidateId("agency_id", "a\xff");
  EXPECT_TRUE(absl::StrContains(status.message(), "a\xEF\xBF\xBD")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "\xff"));
  EXPECT_TRUE(ValidateText("m", status.message(), 1000).ok());
}

TEST(ValidateOptionalIdTest, EmptyIsFine) {
  EXPECT_TRUE(ValidateOptionalId("counter_id", "").ok());
  EXPECT_TRUE(ValidateOptionalId("counter_id", "loket-1").ok());
  ExpectInvalid(ValidateOptionalId("counter_id", "-"), "counter_id");
}

TEST(ValidateRequestIdTest, Characters) {
  EXPECT_TRUE(ValidateRequestId("request_id", "a").ok());
  EXPECT_TRUE(ValidateRequestId("request_id", "Abc.DEF_1:2-3").ok());
  EXPECT_TRUE(
      ValidateRequestId("request_id", "550e8400-e29b-41d4-a716-446655440000")
          .ok());
  EXPECT_TRUE(ValidateRequestId("request_id", std::string(128, 'Z')).ok());
  for (const std::string& bad :
       {std::string(""), std::string(129, 'Z'), std::string("a b"),
        std::string("a/b"), std::string("a+b"), std::string("\xc3\xa9")}) {
    ExpectInvalid(ValidateRequestId("request_id", bad), "request_id");
  }
}

TEST(RequireNonEmptyTest, TrimsAsciiWhitespace) {
  EXPECT_TRUE(RequireNonEmpty("name", "x").ok());
  EXPECT_TRUE(RequireNonEmpty("name", "  x \t").ok());
  ExpectInvalid(RequireNonEmpty("name", ""), "name");
  ExpectInvalid(RequireNonEmpty("name", " \t\r\n "), "name");
  EXPECT_EQ(RequireNonEmpty("name", " ").message(), "name: must not be empty");
}

TEST(ValidateTextTest, CountsCodePoints) {
  EXPECT_TRUE(ValidateText("note", "", 0).ok());
  EXPECT_TRUE(ValidateText("note", "abc", 3).ok());
  ExpectInvalid(ValidateText("note", "abcd", 3), "note");
  // "é" is 2 bytes, one character.
  EXPECT_TRUE(ValidateText("note", "caf\xc3\xa9", 4).ok());
  // Three CJK characters, 9 bytes.
  const std::string cjk = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
  EXPECT_TRUE(ValidateText("note", cjk, 3).ok());
  absl::Status status = ValidateText("note", cjk, 2);
  ExpectInvalid(status, "note");
  EXPECT_EQ(status.message(), "note: must be at most 2 characters; got 3");
  // A 4-byte emoji is one character.
  EXPECT_TRUE(ValidateText("note", "\xf0\x9f\x98\x80", 1).ok());
}

TEST(ValidateTextTest, RejectsInvalidUtf8) {
  for (const std::string& bad : {
           std::string("\xff"),              // never valid
           std::string("ab\xc3"),            // truncated sequence
           std::string("\x80"),              // stray continuation
           std::string("\xc0\xaf"),          // overlong "/"
           std::string("\xe0\x80\xaf"),      // overlong 3-byte
           std::string("\xed\xa0\x80"),      // UTF-16 surrogate
           std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
           std::string("\xf0\x80\x80\xaf"),  // overlong 4-byte
       }) {
    absl::Status status = ValidateText("note", bad, 100);
    ExpectInvalid(status, "note");
    EXPECT_TRUE(absl::StrContains(status.message(), "UTF-8")) << status;
  }
  EXPECT_TRUE(ValidateText("note", "\xf4\x8f\xbf\xbf", 1).ok());  // U+10FFFF
  EXPECT_TRUE(ValidateText("note", "\xef\xbf\xbd", 1).ok());      // U+FFFD
}

TEST(ValidateRangeTest, Inclusive) {
  EXPECT_TRUE(ValidateRange("score", 1, 1, 4).ok());
  EXPECT_TRUE(ValidateRange("score", 4, 1, 4).ok());
  ExpectInvalid(ValidateRange("score", 0, 1, 4), "score");
  ExpectInvalid(ValidateRange("score", 5, 1, 4), "score");
  EXPECT_EQ(ValidateRange("score", 5, 1, 4).message(),
            "score: must be between 1 and 4; got 5");
}

TEST(EffectivePageSizeTest, DefaultsAndCaps) {
  EXPECT_EQ(*EffectivePageSize("page_size", 0), 50);
  EXPECT_EQ(*EffectivePageSize("page_size", 1), 1);
  EXPECT_EQ(*EffectivePageSize("page_size", 500), 500);
  EXPECT_EQ(*EffectivePageSize("page_size", 501), 500);
  EXPECT_EQ(*EffectivePageSize("page_size", 0, 20, 100), 20);
  EXPECT_EQ(*EffectivePageSize("page_size", 1000, 20, 100), 100);
  absl::StatusOr<int> negative = EffectivePageSize("page_size", -1);
  ExpectInvalid(negative.status(), "page_size");
}

}  // namespace
}  // namespace prima
