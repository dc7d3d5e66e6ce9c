#pragma once
// A figure of this process from /proc/self/status in kB: "VmRSS" (resident now), "VmHWM" (peak).
#include <cstdlib>
#include <fstream>
#include <string>

namespace kefu::bench {

inline long status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return 0;
}

}  // namespace kefu::bench
