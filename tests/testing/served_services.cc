#include "tests/testing/served_services.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/catalog/v1/training.pb.h"
#include "prima/complaint/v1/complaint.pb.h"
#include "prima/queue/v1/queue.pb.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"

namespace prima::testing {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::ServiceDescriptor;

// The service named `name` in the file of `message_in_file` (which also makes
// sure that file's descriptors are linked in).
const ServiceDescriptor* ServiceOf(const Descriptor* message_in_file,
                                   const std::string& name) {
  const ServiceDescriptor* service =
      message_in_file->file()->FindServiceByName(name);
  EXPECT_NE(service, nullptr) << name;
  return service;
}

}  // namespace

std::vector<ServedBy> AllServices() {
  std::vector<ServedBy> all = {
      {ServiceOf(prima::catalog::v1::GetAgencyRequest::descriptor(),
                 "DirectoryService"),
       "catalog"},
      {ServiceOf(prima::catalog::v1::GetCourseRequest::descriptor(),
                 "TrainingService"),
       "catalog"},
      {ServiceOf(prima::queue::v1::IssueTicketRequest::descriptor(),
                 "QueueService"),
       "queue"},
      {ServiceOf(prima::complaint::v1::FileComplaintRequest::descriptor(),
                 "ComplaintService"),
       "complaint"},
      {ServiceOf(prima::satisfaction::v1::GetIndexRequest::descriptor(),
                 "SatisfactionService"),
       "satisfaction"},
  };
  std::erase_if(all, [](const ServedBy& s) { return s.service == nullptr; });
  return all;
}

std::string MethodPath(const google::protobuf::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

}  // namespace prima::testing
