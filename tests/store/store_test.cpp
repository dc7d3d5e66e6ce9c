#include <gtest/gtest.h>

#include <filesystem>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/sql.hpp"

using namespace kefu::store;

TEST(Sql, PlaceholdersSkipQuotedText) {
  EXPECT_EQ(to_postgres_placeholders("SELECT '?' , ? FROM t WHERE a = ? AND b = \"?\""),
            "SELECT '?' , $1 FROM t WHERE a = $2 AND b = \"?\"");
  EXPECT_TRUE(safe_identifier("staff_role"));
  EXPECT_FALSE(safe_identifier("staff; drop"));
  EXPECT_EQ(like_escape("50%_a\\"), "50\\%\\_a\\\\");
}

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/kefu-store-" + std::to_string(::getpid()) + ".db";
    std::filesystem::remove(path_);
    db_ = open_sqlite(path_, 2, "NORMAL");
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove(path_);
  }
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteTest, MigrationsApplyOnceAndWritesRollBackOnError) {
  std::vector<Migration> m = {{"t/0001", "CREATE TABLE t (id {{ID}}, name TEXT UNIQUE)"}};
  EXPECT_EQ(migrate(*db_, m).size(), 1u);
  EXPECT_EQ(migrate(*db_, m).size(), 0u);
  db_->write([](Connection& c) { c.exec("INSERT INTO t (name) VALUES (?)", {std::string("甲")}); });
  EXPECT_THROW(db_->write([](Connection& c) {
    c.exec("INSERT INTO t (name) VALUES (?)", {std::string("乙")});
    c.exec("INSERT INTO t (name) VALUES (?)", {std::string("甲")});  // unique violation
  }),
               DbError);
  auto n = db_->read_result([](Connection& c) { return as_int(c.exec("SELECT COUNT(*) FROM t").rows[0][0]); });
  EXPECT_EQ(n, 1);  // 乙 was rolled back with the failed transaction
  try {
    db_->write([](Connection& c) { c.exec("INSERT INTO t (name) VALUES (?)", {std::string("甲")}); });
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbError::Kind::unique);
  }
}

TEST_F(SqliteTest, ValuesRoundTripExactly) {
  db_->write([](Connection& c) { c.exec_script("CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)"); });
  db_->write([](Connection& c) {
    c.exec("INSERT INTO v VALUES (?, ?, ?, ?)", {int64_t(9007199254740993), 1.5, std::string("😀'\"\0x", 6), Null{}});
  });
  auto r = db_->read_result([](Connection& c) { return c.exec("SELECT i, d, s, n FROM v"); });
  EXPECT_EQ(std::get<int64_t>(r.rows[0][0]), 9007199254740993);
  EXPECT_EQ(std::get<double>(r.rows[0][1]), 1.5);
  EXPECT_EQ(std::get<std::string>(r.rows[0][2]), std::string("😀'\"\0x", 6));
  EXPECT_TRUE(is_null(r.rows[0][3]));
}
