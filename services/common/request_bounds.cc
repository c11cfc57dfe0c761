#include "services/common/request_bounds.h"

#include <openssl/sha.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "prima/common/v1/common.pb.h"
#include "services/common/validation.h"

namespace prima {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

constexpr int kMaxNanos = 999999999;
// Requests nest a few levels at most; a deeper one is refused rather than
// walked (the protobuf parser already caps recursion at 100).
constexpr int kMaxDepth = 32;

std::string FieldPath(const std::string& parent, const FieldDescriptor& field,
                      int index) {
  std::string path =
      parent.empty() ? field.name() : absl::StrCat(parent, ".", field.name());
  if (index >= 0) absl::StrAppend(&path, "[", index, "]");
  return path;
}

// The two int fields of a Timestamp or Duration (seconds = 1, nanos = 2).
void SecondsAndNanos(const Message& message, int64_t* seconds, int32_t* nanos) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  *seconds = reflection->GetInt64(message, type->FindFieldByNumber(1));
  *nanos = reflection->GetInt32(message, type->FindFieldByNumber(2));
}

absl::Status CheckTimestamp(const std::string& path, const Message& message) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  SecondsAndNanos(message, &seconds, &nanos);
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
    return Invalid(
        absl::StrCat(path, ".seconds"),
        absl::StrCat("must be within 0001-01-01..9999-12-31 (",
                     kMinTimestampSeconds, "..", kMaxTimestampSeconds, ")"));
  }
  if (nanos < 0 || nanos > kMaxNanos) {
    return Invalid(absl::StrCat(path, ".nanos"), "must be 0..999999999");
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(const std::string& path, const Message& message) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  SecondsAndNanos(message, &seconds, &nanos);
  if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds) {
    return Invalid(absl::StrCat(path, ".seconds"),
                   absl::StrCat("must be within -", kMaxDurationSeconds, "..",
                                kMaxDurationSeconds, " (10,000 years)"));
  }
  if (nanos < -kMaxNanos || nanos > kMaxNanos || (seconds > 0 && nanos < 0) ||
      (seconds < 0 && nanos > 0)) {
    return Invalid(absl::StrCat(path, ".nanos"),
                   "must be -999999999..999999999 with the sign of seconds");
  }
  return absl::OkStatus();
}

// UTF-8 code points: every byte that does not continue a sequence.
int64_t CodePoints(const std::string& text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

int MaxSize(const FieldDescriptor& field, int default_max) {
  const int declared = field.options().GetExtension(common::v1::max_size);
  return declared > 0 ? declared : default_max;
}

absl::Status CheckText(const std::string& path, const FieldDescriptor& field,
                       const std::string& text) {
  const int max = MaxSize(field, kDefaultMaxStringChars);
  // Bytes bound code points from above: most texts need no counting.
  if (static_cast<int64_t>(text.size()) <= max || CodePoints(text) <= max) {
    return absl::OkStatus();
  }
  return Invalid(path, absl::StrCat("must be at most ", max, " characters"));
}

// The size limits of one set field (strings, repeated fields and maps).
absl::Status CheckSizes(const std::string& path, const Message& message,
                        const FieldDescriptor& field) {
  const Reflection* reflection = message.GetReflection();
  const bool is_string = field.type() == FieldDescriptor::TYPE_STRING ||
                         field.type() == FieldDescriptor::TYPE_BYTES;
  if (!field.is_repeated()) {
    if (!is_string) return absl::OkStatus();
    std::string scratch;
    return CheckText(FieldPath(path, field, -1), field,
                     reflection->GetStringReference(message, &field, &scratch));
  }
  const int size = reflection->FieldSize(message, &field);
  const int max = MaxSize(field, kDefaultMaxRepeated);
  if (size > max) {
    return Invalid(
        FieldPath(path, field, -1),
        absl::StrCat("must have at most ", max, " elements; got ", size));
  }
  if (!is_string) return absl::OkStatus();
  std::string scratch;
  for (int i = 0; i < size; ++i) {
    // Each element of a repeated string is a string of the default size.
    const std::string& text =
        reflection->GetRepeatedStringReference(message, &field, i, &scratch);
    if (static_cast<int64_t>(text.size()) > kDefaultMaxStringChars &&
        CodePoints(text) > kDefaultMaxStringChars) {
      return Invalid(FieldPath(path, field, i),
                     absl::StrCat("must be at most ", kDefaultMaxStringChars,
                                  " characters"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const std::string& path, const Message& message,
                          int depth) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") return CheckTimestamp(path, message);
  if (type == "google.protobuf.Duration") return CheckDuration(path, message);
  if (depth > kMaxDepth) {
    return Invalid(path.empty() ? "request" : path, "is nested too deeply");
  }
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);  // only the fields that are set
  for (const FieldDescriptor* field : fields) {
    absl::Status sizes = CheckSizes(path, message, *field);
    if (!sizes.ok()) return sizes;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        absl::Status s = CheckMessage(
            FieldPath(path, *field, i),
            reflection->GetRepeatedMessage(message, field, i), depth + 1);
        if (!s.ok()) return s;
      }
    } else {
      absl::Status s =
          CheckMessage(FieldPath(path, *field, -1),
                       reflection->GetMessage(message, field), depth + 1);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestBounds(const Message& request) {
  return CheckMessage("", request, 0);
}

std::string RequestFingerprint(const Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&out);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

}  // namespace prima
