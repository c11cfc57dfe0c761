#pragma once

// The directory's Redis store: keys (services/common/directory_keys.h) and Lua
// scripts. Every mutation is one EVALSHA of an idempotent script that checks
// everything, writes only what changed and appends a `directory.changed` event
// (stream EventStreamKey("catalog")) only when something changed. Every read is
// one HGET or one read-only script.

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prima/catalog/v1/directory.pb.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/directory_keys.h"
#include "services/common/redis_client.h"

namespace prima::catalog {

// Who is writing, for the idempotency key and the event.
struct WriteContext {
  std::string rpc;         // e.g. "CreateOffice"
  std::string request_id;  // validated
  Principal caller;
};

// One page of a list.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// What to list. The index is chosen from the most specific filter: office,
// then agency, then all of the kind.
struct ListQuery {
  directory::Kind kind = directory::Kind::kAgency;
  std::string agency_id;  // validated or empty
  std::string office_id;  // validated or empty
  // Drop results not of this agency (e.g. officers of an office that belongs
  // to another agency); empty for none.
  std::string only_agency;
  int page_size = 50;
  std::string page_token;
};

template <typename T>
using StoreCallback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

class DirectoryStore {
 public:
  // Both must outlive the store.
  DirectoryStore(RedisClient& redis, const Clock& clock);

  // T is one of Agency, Office, PublicService, Counter, Officer, already
  // validated by the rules. Create fails with ALREADY_EXISTS when the id is
  // taken; Update with NOT_FOUND when it is not, FAILED_PRECONDITION when
  // agency_id (or a counter's office_id) would change. Both check references:
  // NOT_FOUND for a missing agency, office or service, FAILED_PRECONDITION for
  // one of another agency. The callback gets the stored resource.
  template <typename T>
  void Create(const T& resource, const WriteContext& context,
              StoreCallback<T> done);
  template <typename T>
  void Update(const T& resource, const WriteContext& context,
              StoreCallback<T> done);

  // NOT_FOUND when the id does not exist. `id` must be validated.
  template <typename T>
  void Get(absl::string_view id, StoreCallback<T> done);

  // INVALID_ARGUMENT (page_token: ...) for a token from other filters.
  template <typename T>
  void List(const ListQuery& query, StoreCallback<Page<T>> done);

  // Upserts the validated request atomically (see ApplyDirectory in
  // directory.proto). `may_create_agencies` is false for agency admins.
  void Apply(const prima::catalog::v1::ApplyDirectoryRequest& request,
             const WriteContext& context, bool may_create_agencies,
             StoreCallback<prima::catalog::v1::ApplyDirectoryResponse> done);

 private:
  template <typename T>
  void Put(absl::string_view mode, const T& resource,
           const WriteContext& context, StoreCallback<T> done);

  RedisClient& redis_;
  const Clock& clock_;
};

// Page tokens: web-safe base64 of the list's filters and the last id, checked
// on the way back in.
std::string EncodePageToken(absl::string_view scope, absl::string_view last_id);
absl::StatusOr<std::string> DecodePageToken(absl::string_view scope,
                                            absl::string_view token);

}  // namespace prima::catalog
