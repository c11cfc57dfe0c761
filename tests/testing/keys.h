#pragma once

#include <openssl/evp.h>

#include <string>

namespace prima::testing {

// The PEM (SubjectPublicKeyInfo) text of a key's public half.
std::string PublicKeyPem(EVP_PKEY* key);

}  // namespace prima::testing
