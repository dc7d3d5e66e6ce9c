#pragma once
// The single value of a query (a count, a maximum): how benchmarks check what they stored.
#include <string>

#include "store/database.hpp"

namespace kefu::bench {

inline int64_t scalar(store::Database& db, const std::string& sql) {
  int64_t v = 0;
  db.read([&](store::Connection& c) { v = store::as_int(c.exec(sql).rows[0][0]); });
  return v;
}

}  // namespace kefu::bench
