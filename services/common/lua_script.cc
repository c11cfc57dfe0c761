#include "services/common/lua_script.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"

namespace prima {

LuaScript::LuaScript(absl::string_view name, absl::string_view source) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source.data()), source.size(),
       digest);
  body_ = std::make_shared<const Body>(
      Body{std::string(name), std::string(source),
           absl::BytesToHexString(absl::string_view(
               reinterpret_cast<const char*>(digest), sizeof(digest)))});
}

}  // namespace prima
