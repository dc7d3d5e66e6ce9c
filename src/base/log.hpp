#pragma once
#include <string>

namespace kefu {
// Sets up the "kefu" (default) and "access" loggers on stderr.
void init_logging(const std::string& level);
}  // namespace kefu
