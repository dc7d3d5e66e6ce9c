#pragma once
#include "meta/registry.hpp"

namespace kefu::ticket {
void register_entities(meta::Registry& reg);
}
