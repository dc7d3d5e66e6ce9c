#pragma once
// The permission catalogue: menu permissions (menu:*) decide what the console shows,
// operation permissions (<entity>:<action>) what the API allows. Roles carry them.
#include <set>
#include <string>
#include <vector>

#include "base/json.hpp"

namespace kefu::meta {
class Registry;
}

namespace kefu::auth {

struct PermissionInfo {
  std::string code;
  std::string label_zh;
  std::string label_en;
  std::string group;
};

std::vector<PermissionInfo> permission_catalogue(const meta::Registry& registry);
bool known_permission(const meta::Registry& registry, const std::string& code);
json::array catalogue_json(const meta::Registry& registry);

}  // namespace kefu::auth
