#pragma once

#include "absl/status/status.h"

// Returns `expr`'s status from the enclosing function when it is an error.
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    if (absl::Status _s = (expr); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (false)
