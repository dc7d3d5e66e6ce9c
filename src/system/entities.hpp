#pragma once
#include "meta/registry.hpp"

namespace kefu::system {
// 系统管理 (SPEC M6): system parameters, the data dictionary, contact types.
void register_entities(meta::Registry& registry);
}  // namespace kefu::system
