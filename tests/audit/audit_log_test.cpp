#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace kefu;

TEST(AuditLog, ChainVerifiesAndDetectsEditsAndDeletes) {
  std::string path = ::testing::TempDir() + "/kefu-audit-" + std::to_string(::getpid()) + ".db";
  std::filesystem::remove(path);
  auto db = store::open_sqlite(path, 1, "NORMAL");
  ManualClock clock;
  audit::AuditLog log(clock);
  store::migrate(*db, audit::AuditLog::migrations());
  for (int i = 0; i < 5; ++i)
    db->write([&](store::Connection& c) {
      log.append(c, {1, "admin", "127.0.0.1", "r" + std::to_string(i)},
                 {"staff", i, "update", json::object{{"name", json::object{{"from", "甲"}, {"to", "乙"}}}}});
      clock.advance_ms(10);
    });
  EXPECT_TRUE(log.verify(*db).ok);
  EXPECT_EQ(log.verify(*db).rows, 5);
  // The table refuses edits; a tamperer must drop the guard first.
  EXPECT_THROW(db->write([](store::Connection& c) { c.exec("UPDATE audit_log SET action = 'x' WHERE id = 2"); }),
               store::DbError);
  db->write([](store::Connection& c) {
    c.exec_script("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete");
    c.exec("UPDATE audit_log SET action = 'create' WHERE id = 2");
  });
  auto rep = log.verify(*db);
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_id, 2);
  db->write([](store::Connection& c) {
    c.exec("UPDATE audit_log SET action = 'update' WHERE id = 2");
    c.exec("DELETE FROM audit_log WHERE id = 5");
  });
  rep = log.verify(*db);
  EXPECT_FALSE(rep.ok);
  db.reset();
  std::filesystem::remove(path);
}
