#pragma once
// Who is making a request: resolved once per request by authentication and passed down
// to the store layer, which enforces the data scope in every query.
#include <cstdint>
#include <set>
#include <string>

namespace kefu {

// 数据范围: how far a role sees records that belong to organisations or people.
enum class DataScope { self = 0, org = 1, subtree = 2, all = 3 };

const char* to_string(DataScope s);
bool parse_scope(const std::string& s, DataScope& out);

struct Principal {
  int64_t staff_id = 0;
  std::string username;
  std::string name;
  int64_t org_id = 0;
  std::string org_path;  // materialised path of the staff's organisation, e.g. "/1/4/"
  std::set<std::string> permissions;
  DataScope scope = DataScope::self;
  std::string session_hash;  // identifies the session for logout
  bool via_cookie = false;
  // After an administrator's reset: the session may only change the password (and sign out).
  bool must_change_password = false;

  bool has(const std::string& perm) const {
    if (permissions.count("*") || permissions.count(perm)) return true;
    auto colon = perm.find(':');  // "staff:*" grants every staff operation
    return colon != std::string::npos && permissions.count(perm.substr(0, colon) + ":*");
  }
};

// A principal for kefuctl and start-up jobs: all permissions, recorded as "system".
inline Principal system_principal() {
  Principal p;
  p.staff_id = 0;
  p.username = "system";
  p.name = "system";
  p.permissions = {"*"};
  p.scope = DataScope::all;
  return p;
}

inline const char* to_string(DataScope s) {
  switch (s) {
    case DataScope::self: return "self";
    case DataScope::org: return "org";
    case DataScope::subtree: return "subtree";
    case DataScope::all: return "all";
  }
  return "self";
}
inline bool parse_scope(const std::string& s, DataScope& out) {
  if (s == "self") out = DataScope::self;
  else if (s == "org") out = DataScope::org;
  else if (s == "subtree") out = DataScope::subtree;
  else if (s == "all") out = DataScope::all;
  else return false;
  return true;
}

}  // namespace kefu
