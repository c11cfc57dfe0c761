#include "services/common/receipt_keys.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/config.h"

namespace prima {
namespace {

using ::testing::HasSubstr;

const std::string kKeyA(64, 'a');  // 32 bytes as hex
const std::string kKeyB(64, 'b');

TEST(ReceiptKeysTest, SecretIsHexOfTheRecordAndKindUnderOneKey) {
  absl::StatusOr<ReceiptKeys> keys =
      ReceiptKeys::Parse(absl::StrCat("k1:", kKeyA));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->current_id(), "k1");
  const std::string secret = keys->CurrentSecret("ticket", "01abc");
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(*keys->Secret("k1", "ticket", "01abc"), secret);
  EXPECT_NE(keys->CurrentSecret("ticket", "01abd"), secret);
  EXPECT_NE(keys->CurrentSecret("complaint", "01abc"), secret);
}

TEST(ReceiptKeysTest, RotationKeepsOldSecretsComputableUntilTheKeyIsDropped) {
  const ReceiptKeys before = *ReceiptKeys::Parse(absl::StrCat("k1:", kKeyA));
  const std::string old_secret = before.CurrentSecret("ticket", "t1");

  const ReceiptKeys during =
      *ReceiptKeys::Parse(absl::StrCat("k2:", kKeyB, ",k1:", kKeyA));
  EXPECT_EQ(during.current_id(), "k2");
  EXPECT_NE(during.CurrentSecret("ticket", "t1"), old_secret);
  EXPECT_EQ(*during.Secret("k1", "ticket", "t1"), old_secret);

  const ReceiptKeys after = *ReceiptKeys::Parse(absl::StrCat("k2:", kKeyB));
  absl::StatusOr<std::string> gone = after.Secret("k1", "ticket", "t1");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  // A replay after the key was dropped gets no secret (and a log line).
  EXPECT_EQ(after.SecretForReplay("k1", "ticket", "t1"), "");
  EXPECT_EQ(during.SecretForReplay("k1", "ticket", "t1"), old_secret);
}

TEST(ReceiptKeysTest, BadSpecsAreRefused) {
  struct Case {
    std::string spec;
    std::string message;
  };
  for (const Case& c : {
           Case{"", "at least one"},
           Case{"k1", "id:hexkey"},
           Case{absl::StrCat("K1:", kKeyA), "id:hexkey"},
           Case{absl::StrCat("a-very-long-key-id-17:", kKeyA), "id:hexkey"},
           Case{"k1:abcd", "at least 32 bytes"},
           Case{absl::StrCat("k1:", std::string(64, 'z')), "hex"},
           Case{absl::StrCat("k1:", kKeyA, ",k1:", kKeyB), "twice"},
       }) {
    absl::StatusOr<ReceiptKeys> keys = ReceiptKeys::Parse(c.spec);
    ASSERT_FALSE(keys.ok()) << c.spec;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(keys.status().message(), HasSubstr(c.message)) << c.spec;
  }
}

TEST(ReceiptKeysTest, ConfigDerivesFromTheJwtSecretUnlessKeysAreSet) {
  const std::string jwt(40, 's');
  absl::StatusOr<ServiceConfig> config =
      ConfigFromValues("queue", 50052, {{kEnvJwtSecret, jwt}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->receipt_keys.current_id(), "jwt");
  EXPECT_EQ(config->receipt_keys.CurrentSecret("ticket", "t1"),
            ReceiptKeys::FromJwtSecret(jwt).CurrentSecret("ticket", "t1"));
  EXPECT_TRUE(RequireReceiptKeys(*config).ok());

  config = ConfigFromValues(
      "queue", 50052,
      {{kEnvJwtSecret, jwt}, {kEnvReceiptKeys, absl::StrCat("r1:", kKeyA)}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->receipt_keys.current_id(), "r1");

  config = ConfigFromValues("queue", 50052,
                            {{kEnvJwtSecret, jwt}, {kEnvReceiptKeys, "r1:00"}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(kEnvReceiptKeys));
}

}  // namespace
}  // namespace prima
