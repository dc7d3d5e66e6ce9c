#pragma once
namespace kefu::meta {
class Registry;
}
namespace kefu::crm {
// Red/black lists, frequent numbers, customer extended fields and saved queries: plain records
// the entity registry serves (CRUD, list, export, import, audit).
void register_entities(meta::Registry& reg);
}  // namespace kefu::crm
