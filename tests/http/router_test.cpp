#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace kefu::http;

TEST(Router, LiteralSegmentsBeatParameters) {
  Router r;
  r.add({"GET", "/api/v1/{entity}/{id}", kSignedIn, [](Context&) { return Response::text("generic", "text/plain"); }});
  r.add({"GET", "/api/v1/{entity}/export", kSignedIn, [](Context&) { return Response::text("export", "text/plain"); }});
  auto m = r.match("GET", "/api/v1/staff/export");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->pattern, "/api/v1/{entity}/export");
  EXPECT_EQ(m.params["entity"], "staff");
  m = r.match("GET", "/api/v1/staff/12");
  EXPECT_EQ(m.params["id"], "12");
  m = r.match("POST", "/api/v1/staff/12");
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.path_exists);  // 405, not 404
  EXPECT_FALSE(r.match("GET", "/api/v1/staff").path_exists);
}

TEST(Query, DecodesPercentAndPlus) {
  auto q = parse_query("name=%E5%BC%A0+%E4%B8%89&x=%zz&flag");
  EXPECT_EQ(q["name"], "张 三");
  EXPECT_EQ(q["x"], "%zz");
  EXPECT_EQ(q["flag"], "");
  Request req;
  req.headers = {{"cookie", "a=1; kefu_session=abc; b=2"}};
  EXPECT_EQ(req.cookie("kefu_session"), "abc");
}
