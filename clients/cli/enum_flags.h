#pragma once

// How the CLI spells protobuf enums and dates in flags and tables, the same
// for every subcommand: SERVICE_RELATED is the flag value "service-related"
// and the table cell "SERVICE_RELATED"; dates are YYYY-MM-DD.

#include <google/protobuf/generated_enum_reflection.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "prima/common/v1/common.pb.h"

namespace prima::cli {

// The part of an enum value's name after its type's prefix: the prefix is
// what the UNSPECIFIED value's name has before "UNSPECIFIED"
// (TICKET_STATUS_WAITING -> WAITING).
template <typename Enum>
std::string EnumLabel(Enum value) {
  const google::protobuf::EnumDescriptor* type =
      google::protobuf::GetEnumDescriptor<Enum>();
  const google::protobuf::EnumValueDescriptor* v =
      type->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(static_cast<int>(value));
  absl::string_view prefix = type->value(0)->name();
  absl::ConsumeSuffix(&prefix, "UNSPECIFIED");
  absl::string_view name = v->name();
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

// An enum label, or "" for the UNSPECIFIED value (an unset field).
template <typename Enum>
std::string EnumCell(Enum value) {
  return static_cast<int>(value) == 0 ? "" : EnumLabel(value);
}

// A flag's spelling of an enum value name: lower case, "-" between words
// (INCOMPLETE_REQUIREMENTS -> incomplete-requirements).
std::string FlagSpelling(absl::string_view name);

// CLI11's check of an enum flag: one of the enum's values but UNSPECIFIED and
// `excluded`, in any case, with "_" or "-" between words. The value is stored
// in its flag spelling; anything else is a usage error naming the flag.
template <typename Enum>
CLI::Validator EnumFlag(std::vector<Enum> excluded = {}) {
  const google::protobuf::EnumDescriptor* type =
      google::protobuf::GetEnumDescriptor<Enum>();
  std::vector<std::string> choices;
  for (int i = 1; i < type->value_count(); ++i) {
    const auto value = static_cast<Enum>(type->value(i)->number());
    if (std::find(excluded.begin(), excluded.end(), value) == excluded.end()) {
      choices.push_back(FlagSpelling(EnumLabel(value)));
    }
  }
  return CLI::IsMember(choices, FlagSpelling);
}

// A value EnumFlag accepted, as the enum value; UNSPECIFIED for "".
template <typename Enum>
Enum FromFlag(const std::string& value) {
  const google::protobuf::EnumDescriptor* type =
      google::protobuf::GetEnumDescriptor<Enum>();
  for (int i = 1; i < type->value_count(); ++i) {
    const auto v = static_cast<Enum>(type->value(i)->number());
    if (FlagSpelling(EnumLabel(v)) == value) return v;
  }
  return static_cast<Enum>(0);
}

// A YYYY-MM-DD flag value; INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<prima::common::v1::LocalDate> ParseDateFlag(
    absl::string_view flag, const std::string& value);

}  // namespace prima::cli
