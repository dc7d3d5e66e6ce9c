#include "base/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace kefu;

TEST(Config, LayersFileThenEnvironmentThenFlags) {
  std::string path = ::testing::TempDir() + "/kefu-test.toml";
  std::ofstream(path) << "listen = \"127.0.0.1:9000\"\nworker_threads = 3\naccess_log = false\n";
  Config c;
  c.load_toml(path);
  EXPECT_EQ(c.listen_port(), 9000);
  EXPECT_EQ(c.worker_threads, 3);
  EXPECT_FALSE(c.access_log);
  std::string e1 = "KEFU_DB=postgresql://u@h/db", e2 = "KEFU_WORKER_THREADS=5", e3 = "OTHER=1";
  char* env[] = {e1.data(), e2.data(), e3.data(), nullptr};
  c.load_env(env);
  EXPECT_TRUE(c.is_postgres());
  EXPECT_EQ(c.worker_threads, 5);
  c.set("worker_threads", "7");
  EXPECT_EQ(c.worker_threads, 7);
}

TEST(Config, RejectsUnknownKeysAndBadValues) {
  Config c;
  EXPECT_THROW(c.set("no_such_key", "1"), std::invalid_argument);
  EXPECT_THROW(c.set("worker_threads", "many"), std::invalid_argument);
  EXPECT_THROW(c.set("worker_threads", "0"), std::invalid_argument);
  EXPECT_THROW(c.set("access_log", "perhaps"), std::invalid_argument);
}
