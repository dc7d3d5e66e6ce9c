#include "base/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kefu {

void init_logging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto main = std::make_shared<spdlog::logger>("kefu", sink);
  auto access = std::make_shared<spdlog::logger>("access", sink);
  main->set_level(spdlog::level::from_str(level));
  access->set_level(spdlog::level::info);
  spdlog::set_default_logger(main);
  if (!spdlog::get("access")) spdlog::register_logger(access);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
}

}  // namespace kefu
