#include "meta/validate.hpp"

#include <gtest/gtest.h>

#include "auth/entities.hpp"
#include "system/entities.hpp"

using namespace kefu;
using namespace kefu::meta;

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth::register_entities(reg_);
    system::register_entities(reg_);
  }
  Registry reg_;
};

TEST_F(ValidateTest, CollectsEveryFieldError) {
  std::vector<FieldError> errors;
  auto in = parse_object(R"({"username":"X!","name":7,"org_id":"1","points":-1,"colour":"red","password_hash":"h"})");
  validate_input(reg_.get("staff"), in, Mode::create, errors);
  std::set<std::string> fields;
  for (auto& e : errors) fields.insert(e.field + ":" + e.code);
  EXPECT_TRUE(fields.count("username:invalid_format"));
  EXPECT_TRUE(fields.count("name:wrong_type"));
  EXPECT_TRUE(fields.count("org_id:wrong_type"));
  EXPECT_TRUE(fields.count("points:too_small"));
  EXPECT_TRUE(fields.count("colour:unknown_field"));
  EXPECT_TRUE(fields.count("password_hash:unknown_field"));
}

TEST_F(ValidateTest, AppliesDefaultsAndIgnoresSystemColumns) {
  auto out = validate_or_throw(reg_.get("contact_type"),
                               parse_object(R"({"code":"call","name":"来电","channel":"phone","id":5,"version":2})"),
                               Mode::create);
  EXPECT_EQ(out.at("enabled").as_bool(), true);
  EXPECT_EQ(out.at("direction").as_string(), "both");
  EXPECT_FALSE(out.contains("id"));
}

TEST_F(ValidateTest, LengthCountsCharactersNotBytes) {
  std::string sixty(60 * 3, 'x');
  std::string name;
  for (int i = 0; i < 60; ++i) name += "字";
  EXPECT_NO_THROW(validate_or_throw(reg_.get("position"), json::object{{"code", "p"}, {"name", name}}, Mode::create));
  name += "字";
  EXPECT_THROW(validate_or_throw(reg_.get("position"), json::object{{"code", "p"}, {"name", name}}, Mode::create),
               Error);
}
