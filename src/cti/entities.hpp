#pragma once
// Contact-centre set-up records: queues (技能队列) and agent profiles (座席), kept in the entity
// registry for their CRUD, review and audit; the real-time core reads them at start.
#include "meta/registry.hpp"

namespace kefu::cti {
void register_entities(meta::Registry& reg);
}
