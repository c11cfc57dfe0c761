#pragma once

namespace prima::satisfaction {}  // namespace prima::satisfaction
