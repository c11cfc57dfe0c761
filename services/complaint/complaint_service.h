#pragma once

namespace prima::complaint {}  // namespace prima::complaint
