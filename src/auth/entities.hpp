#pragma once
#include "meta/registry.hpp"

namespace kefu::auth {
// 组织人员 (SPEC M7): organisation units, positions, staff groups, extended-field
// definitions, staff records (two-step review) and roles (permission review).
void register_entities(meta::Registry& registry);
}  // namespace kefu::auth
