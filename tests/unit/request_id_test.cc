#include "services/common/request_id.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace prima {
namespace {

TEST(RequestIdTest, ValidIdsAreKept) {
  for (const std::string& id : std::vector<std::string>{
           "a", "req-42", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "a.b_c:d-e",
           std::string(128, 'x')}) {
    EXPECT_EQ(ValidRequestId(id), id);
  }
}

TEST(RequestIdTest, UnsafeOrLongIdsAreRefused) {
  for (const std::string& id : std::vector<std::string>{
           "", "has space", "quote\"", "new\nline", "slash/", "brace{}", "é",
           std::string(129, 'x')}) {
    EXPECT_EQ(ValidRequestId(id), std::nullopt) << id;
  }
}

TEST(RequestIdTest, TraceIdOfAWellFormedTraceparent) {
  EXPECT_EQ(TraceIdFromTraceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may carry more fields.
  EXPECT_EQ(TraceIdFromTraceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(RequestIdTest, MalformedTraceparentsGiveNothing) {
  for (const char* header : {
           "",
           "garbage",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // ff
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   // short
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
           "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_EQ(TraceIdFromTraceparent(header), std::nullopt) << header;
  }
}

TEST(RequestIdTest, GeneratedIdsAreHexAndDiffer) {
  const std::string a = GenerateRequestId();
  const std::string b = GenerateRequestId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
  EXPECT_TRUE(ValidRequestId(a).has_value());
}

TEST(RequestIdTest, ChoiceOrder) {
  const char kTraceparent[] =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_EQ(ChooseRequestId("client-id", kTraceparent), "client-id");
  EXPECT_EQ(ChooseRequestId("bad id", kTraceparent),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ChooseRequestId("", kTraceparent),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  const std::string generated = ChooseRequestId("", "nonsense");
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_NE(generated, "4bf92f3577b34da6a3ce929d0e0e4736");
}

}  // namespace
}  // namespace prima
