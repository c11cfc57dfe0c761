#include "services/common/directory_reader.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/directory_keys.h"
#include "services/common/events.h"
#include "services/common/stream_follower.h"
#include "services/common/validation.h"

namespace prima {

using directory::Kind;
using directory::KindFromEvent;
using ::prima::catalog::v1::Agency;
using ::prima::catalog::v1::Counter;
using ::prima::catalog::v1::Office;
using ::prima::catalog::v1::Officer;
using ::prima::catalog::v1::PublicService;
using ::prima::events::v1::DirectoryChanged;
using ::prima::events::v1::EventEnvelope;

namespace {

constexpr char kEventType[] = "directory.changed";
constexpr int kMaxOfficeCounters = 500;

const std::string& AgencyOf(const Agency& agency) { return agency.id(); }
template <typename T>
const std::string& AgencyOf(const T& resource) {
  return resource.agency_id();
}

}  // namespace

// The cached entries, shared with the Redis callbacks still in flight.
struct DirectoryReader::Cache {
  struct Entry {
    std::vector<std::string> values;  // serialized resources
    std::string agency;               // "" for lists
    bool is_list = false;
    absl::Time expires;
  };

  Cache(const Clock& clock, const Options& options)
      : clock(clock), options(options) {}

  std::optional<std::vector<std::string>> Lookup(const std::string& key) {
    absl::MutexLock lock(&mu);
    auto it = entries.find(key);
    if (it == entries.end()) return std::nullopt;
    if (clock.Now() >= it->second.expires) {
      entries.erase(it);
      return std::nullopt;
    }
    return it->second.values;
  }

  uint64_t Generation() {
    absl::MutexLock lock(&mu);
    return generation;
  }

  // Stores a fill unless caching is off, an invalidation happened since the
  // read started, or the cache is full.
  void Fill(const std::string& key, uint64_t read_generation,
            std::vector<std::string> values, std::string agency, bool is_list) {
    absl::MutexLock lock(&mu);
    if (!enabled || read_generation != generation) return;
    if (entries.size() >= options.max_entries && !entries.contains(key)) {
      // Make room from expired entries; if none, skip caching this one.
      const absl::Time now = clock.Now();
      absl::erase_if(
          entries, [now](const auto& kv) { return now >= kv.second.expires; });
      if (entries.size() >= options.max_entries) return;
    }
    entries[key] = Entry{std::move(values), std::move(agency), is_list,
                         clock.Now() + options.ttl};
  }

  void SetEnabled(bool on) {
    absl::MutexLock lock(&mu);
    enabled = on;
    ++generation;
    entries.clear();
  }

  void Clear() {
    absl::MutexLock lock(&mu);
    ++generation;
    entries.clear();
  }

  void Apply(const EventEnvelope& envelope) {
    DirectoryChanged payload;
    if (envelope.type() != kEventType ||
        !envelope.payload().UnpackTo(&payload)) {
      return;
    }
    events.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu);
    ++generation;
    const std::optional<Kind> kind = KindFromEvent(payload.kind());
    if (payload.whole_agency() || !kind.has_value()) {
      const std::string& agency = envelope.agency();
      absl::erase_if(entries, [&](const auto& kv) {
        return kv.second.is_list || agency.empty() ||
               kv.second.agency == agency;
      });
      return;
    }
    for (const std::string& id : payload.ids()) {
      entries.erase(directory::ResourceKey(*kind, id));
    }
    // An office's counter list changes with its counters.
    if (*kind == Kind::kCounter || *kind == Kind::kOffice ||
        *kind == Kind::kAgency) {
      absl::erase_if(entries, [](const auto& kv) { return kv.second.is_list; });
    }
  }

  const Clock& clock;
  const Options options;
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  bool enabled ABSL_GUARDED_BY(mu) = false;
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  std::atomic<uint64_t> events{0};
};

DirectoryReader::DirectoryReader(RedisClient& redis, RedisEndpoint endpoint,
                                 const Clock& clock, Options options)
    : redis_(redis),
      endpoint_(std::move(endpoint)),
      options_(options),
      cache_(std::make_shared<Cache>(clock, options)) {}

DirectoryReader::~DirectoryReader() { Stop(); }

void DirectoryReader::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Follow(); });
}

void DirectoryReader::Stop() {
  if (!stop_requested_.exchange(true)) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  cache_->SetEnabled(false);
}

bool DirectoryReader::WaitUntilFollowing(absl::Duration timeout) const {
  return following_.WaitForNotificationWithTimeout(timeout);
}

void DirectoryReader::Apply(const EventEnvelope& envelope) {
  cache_->Apply(envelope);
}

void DirectoryReader::Clear() { cache_->Clear(); }

DirectoryReader::Stats DirectoryReader::stats() const {
  return Stats{cache_->hits.load(), cache_->misses.load(),
               cache_->events.load()};
}

template <typename T>
void DirectoryReader::Get(Kind kind, absl::string_view id, Callback<T> done) {
  if (absl::Status s =
          ValidateId(absl::StrCat(directory::KindName(kind), "_id"), id);
      !s.ok()) {
    return done(s);
  }
  std::string key = directory::ResourceKey(kind, id);
  if (std::optional<std::vector<std::string>> hit = cache_->Lookup(key)) {
    T value;
    if (!hit->empty() && value.ParseFromString(hit->front())) {
      cache_->hits.fetch_add(1, std::memory_order_relaxed);
      return done(std::move(value));
    }
  }
  cache_->misses.fetch_add(1, std::memory_order_relaxed);
  const uint64_t generation = cache_->Generation();
  redis_.Command(
      {"HGET", key, directory::kProtoField},
      [cache = cache_, key, generation, kind, id = std::string(id),
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (reply->is_nil()) {
          return done(absl::NotFoundError(absl::StrCat(
              directory::KindLabel(kind), " ", id, " does not exist")));
        }
        T value;
        if (!reply->is_string() || !value.ParseFromString(reply->str)) {
          return done(absl::InternalError(absl::StrCat(
              "directory: unreadable ", directory::KindName(kind), " ", id)));
        }
        cache->Fill(key, generation, {std::move(reply->str)}, AgencyOf(value),
                    /*is_list=*/false);
        done(std::move(value));
      },
      {.resend_safe = true});
}

void DirectoryReader::GetAgency(absl::string_view id, Callback<Agency> done) {
  Get<Agency>(Kind::kAgency, id, std::move(done));
}
void DirectoryReader::GetOffice(absl::string_view id, Callback<Office> done) {
  Get<Office>(Kind::kOffice, id, std::move(done));
}
void DirectoryReader::GetPublicService(absl::string_view id,
                                       Callback<PublicService> done) {
  Get<PublicService>(Kind::kPublicService, id, std::move(done));
}
void DirectoryReader::GetCounter(absl::string_view id, Callback<Counter> done) {
  Get<Counter>(Kind::kCounter, id, std::move(done));
}
void DirectoryReader::GetOfficer(absl::string_view id, Callback<Officer> done) {
  Get<Officer>(Kind::kOfficer, id, std::move(done));
}

namespace {

absl::StatusOr<std::vector<Counter>> ParseCounters(
    const std::vector<std::string>& values) {
  std::vector<Counter> counters;
  counters.reserve(values.size());
  for (const std::string& bytes : values) {
    Counter counter;
    if (!counter.ParseFromString(bytes)) {
      return absl::InternalError("directory: unreadable counter");
    }
    counters.push_back(std::move(counter));
  }
  return counters;
}

}  // namespace

void DirectoryReader::ListOfficeCounters(absl::string_view office_id,
                                         Callback<std::vector<Counter>> done) {
  if (absl::Status s = ValidateId("office_id", office_id); !s.ok()) {
    return done(s);
  }
  std::string key = directory::OfficeIndexKey(Kind::kCounter, office_id);
  if (std::optional<std::vector<std::string>> hit = cache_->Lookup(key)) {
    cache_->hits.fetch_add(1, std::memory_order_relaxed);
    return done(ParseCounters(*hit));
  }
  cache_->misses.fetch_add(1, std::memory_order_relaxed);
  const uint64_t generation = cache_->Generation();
  redis_.Eval(
      directory::ListPageScript(), {key},
      {directory::ResourceKey(Kind::kCounter, ""), "",
       absl::StrCat(kMaxOfficeCounters), ""},
      [cache = cache_, key, generation,
       done = std::move(done)](absl::StatusOr<RedisValue> reply) mutable {
        if (!reply.ok()) return done(reply.status());
        if (!reply->is_array() || reply->elements.empty()) {
          return done(absl::InternalError("directory: malformed list reply"));
        }
        std::vector<std::string> values;
        for (size_t i = 1; i < reply->elements.size(); ++i) {
          values.push_back(std::move(reply->elements[i].str));
        }
        absl::StatusOr<std::vector<Counter>> counters = ParseCounters(values);
        if (counters.ok()) {
          cache->Fill(key, generation, std::move(values), "",
                      /*is_list=*/true);
        }
        done(std::move(counters));
      },
      {.resend_safe = true});
}

void DirectoryReader::Follow() {
  FollowStream(
      endpoint_,
      {.stream = EventStreamKey("catalog"),
       .block = options_.block,
       .redis_timeout = options_.redis_timeout,
       .who = "directory reader"},
      stop_,
      [this] {
        // What is cached from now on is newer than the position.
        cache_->SetEnabled(true);
        if (!following_.HasBeenNotified()) following_.Notify();
      },
      [this](const std::vector<const RedisValue*>& entries) {
        for (const RedisValue* fields : entries) {
          bool directory_event = false;
          const std::string* bytes = nullptr;
          for (size_t i = 0; i + 1 < fields->elements.size(); i += 2) {
            if (fields->elements[i].str == "type") {
              directory_event = fields->elements[i + 1].str == kEventType;
            } else if (fields->elements[i].str == "envelope") {
              bytes = &fields->elements[i + 1].str;
            }
          }
          if (!directory_event || bytes == nullptr) continue;
          EventEnvelope envelope;
          if (!envelope.ParseFromString(*bytes)) {
            // Cannot tell what changed: drop everything.
            cache_->Clear();
            continue;
          }
          cache_->Apply(envelope);
        }
      });
}

}  // namespace prima
