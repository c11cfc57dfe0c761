#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace prima {

// A Lua script run with EVALSHA (falling back to EVAL on NOSCRIPT). Cheap to
// copy. Scripts are written by us, never assembled from request data: requests
// reach a script only through KEYS and ARGV.
class LuaScript {
 public:
  LuaScript(absl::string_view name, absl::string_view source);

  const std::string& name() const { return body_->name; }
  const std::string& source() const { return body_->source; }
  // Lowercase hex SHA1 of the source, as Redis computes it.
  const std::string& sha1() const { return body_->sha1; }

 private:
  struct Body {
    std::string name;
    std::string source;
    std::string sha1;
  };
  std::shared_ptr<const Body> body_;
};

}  // namespace prima
