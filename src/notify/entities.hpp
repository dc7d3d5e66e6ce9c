#pragma once
#include "meta/registry.hpp"

namespace kefu::notify {

// 消息类型 (priority, frequency caps, sending window, expiry) and 消息模板.
void register_entities(meta::Registry& reg);

}  // namespace kefu::notify
