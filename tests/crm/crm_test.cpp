// The customer module's pure rules: phone numbers, masking, record checks and the grading model.
#include <gtest/gtest.h>

#include "crm/customer_record.hpp"
#include "crm/grading.hpp"
#include "crm/mask.hpp"
#include "crm/phone.hpp"

using namespace kefu;
using namespace kefu::crm;

namespace {
Phone norm(const std::string& s, std::string* code = nullptr) {
  Phone p;
  std::string c = normalize_phone(s, p);
  if (code) *code = c;
  return p;
}
}  // namespace

TEST(Phone, MobilesInEveryCommonForm) {
  for (const char* s : {"13812345678", "+86 138-1234-5678", "0086 13812345678", "8613812345678",
                        "138 1234 5678", "013812345678", "(+86)138.1234.5678"}) {
    std::string code;
    Phone p = norm(s, &code);
    EXPECT_EQ(code, "") << s;
    EXPECT_EQ(p.number, "13812345678") << s;
    EXPECT_EQ(p.kind, PhoneKind::mobile) << s;
  }
}

TEST(Phone, LandlinesKeepTheirAreaCodeAndExtension) {
  EXPECT_EQ(norm("021-68880000").number, "02168880000");
  EXPECT_EQ(norm("(021)6888 0000").number, "02168880000");
  EXPECT_EQ(norm("+86 21 68880000").number, "02168880000");
  EXPECT_EQ(norm("010-62345678").number, "01062345678");
  EXPECT_EQ(norm("0755-2345678").number, "07552345678");
  Phone p = norm("021-68880000-123");
  EXPECT_EQ(p.number, "02168880000");
  EXPECT_EQ(p.extension, "123");
  EXPECT_EQ(p.kind, PhoneKind::landline);
  EXPECT_EQ(norm("021 68880000 转 88").extension, "88");
  EXPECT_EQ(norm("95555").kind, PhoneKind::service);
  EXPECT_EQ(norm("400-820-8820").number, "4008208820");
}

TEST(Phone, BadNumbersGetTheirCode) {
  std::string code;
  norm("", &code);
  EXPECT_EQ(code, "phone_empty");
  norm("138abc", &code);
  EXPECT_EQ(code, "phone_chars");
  norm("68880000", &code);
  EXPECT_EQ(code, "phone_area_code");
  norm("12812345678", &code);  // no mobile starts with 12
  EXPECT_EQ(code, "phone_format");
  norm("011-68880000", &code);  // no area code 011
  EXPECT_EQ(code, "phone_format");
  norm("+1 415 555 0100", &code);
  EXPECT_EQ(code, "phone_format");
  EXPECT_EQ(lookup_key("+8613812345678"), "13812345678");
  EXPECT_EQ(lookup_key("sip-7"), "7");
}

TEST(Mask, ShowsEnoughToRecogniseNotToUse) {
  EXPECT_EQ(mask_id_no("11010119900307123X"), "110***********123X");
  EXPECT_EQ(mask_phone("13812345678"), "138****5678");
  EXPECT_EQ(mask_phone("02168880000"), "0216*****00");
  EXPECT_EQ(mask_account("8800000050"), "******0050");
  EXPECT_EQ(mask_account("123"), "***");
  EXPECT_EQ(mask_email("zhang@example.com"), "z***@example.com");
  EXPECT_EQ(mask_address("上海市浦东新区世纪大道1号"), "上海市浦东新****");
  EXPECT_EQ(mask_address("北京"), "北京");
}

TEST(CustomerRecord, CitizenIdCheckDigit) {
  EXPECT_TRUE(valid_citizen_id("11010519491231002X"));  // GB 11643's own example
  EXPECT_TRUE(valid_citizen_id("11010519491231002x"));
  EXPECT_FALSE(valid_citizen_id("110105194912310021"));
  EXPECT_FALSE(valid_citizen_id("11010519491231002"));
}

TEST(CustomerRecord, EveryProblemOnceWithItsField) {
  CustomerInput in;
  std::vector<FieldError> errs;
  parse_customer(parse_object(R"({"kind": "alien", "fund_account": "12", "sh_account": "X123",
      "phones": ["13812345678", "abc", "68880000"], "risk_level": "C9", "risk_expires": "2026-13-40",
      "email": "nobody", "assets_fen": -5, "colour": "red", "tags": ["a,b"]})"),
                 false, in, errs);
  std::map<std::string, std::string> by;
  for (auto& e : errs) by[e.field] = e.code;
  EXPECT_EQ(by["name"], "required");
  EXPECT_EQ(by["kind"], "invalid_option");
  EXPECT_EQ(by["fund_account"], "invalid_account");
  EXPECT_EQ(by["sh_account"], "invalid_account");
  EXPECT_EQ(by["phones[1]"], "phone_chars");
  EXPECT_EQ(by["phones[2]"], "phone_area_code");
  EXPECT_EQ(by["risk_level"], "invalid_option");
  EXPECT_EQ(by["risk_expires"], "invalid_date");
  EXPECT_EQ(by["email"], "invalid_email");
  EXPECT_EQ(by["assets_fen"], "out_of_range");
  EXPECT_EQ(by["colour"], "unknown_field");
  EXPECT_EQ(by["tags"], "invalid_tag");
}

TEST(CustomerRecord, GoodRecordIsNormalised) {
  CustomerInput in;
  std::vector<FieldError> errs;
  parse_customer(
      parse_object(R"({"name": " 张三 ", "id_type": "id_card", "id_no": "11010519491231002x",
      "phones": "+86 138-1234-5678；021-68880000", "assets_fen": "1200000", "tags": "股票, 基金"})"),
      false, in, errs);
  ASSERT_TRUE(errs.empty()) << errs[0].field << " " << errs[0].code;
  EXPECT_EQ(store::as_text(in.values["name"]), "张三");
  EXPECT_EQ(store::as_text(in.values["id_no"]), "11010519491231002X");
  EXPECT_EQ(store::as_int(in.values["assets_fen"]), 1200000);
  EXPECT_EQ(store::as_text(in.values["status"]), "normal");
  ASSERT_EQ(in.phones->size(), 2u);
  EXPECT_EQ((*in.phones)[1].number, "02168880000");
  EXPECT_EQ(in.tags->size(), 2u);
}

TEST(Grading, ModelChecksEveryField) {
  try {
    GradingModel::parse(
        parse_value(R"({"indicators": [{"code": "assets_fen", "weight": 60, "full_mark": 100},
        {"code": "assets_fen", "weight": 0, "full_mark": 0}, {"code": "shoe_size", "weight": 10, "full_mark": 1}],
        "thresholds": [10, 5, 50]})"));
    FAIL();
  } catch (const Error& e) {
    std::map<std::string, std::string> by;
    for (auto& d : e.details) by[d.field] = d.code;
    EXPECT_EQ(by["indicators[1].code"], "duplicate_indicator");
    EXPECT_EQ(by["indicators[1].weight"], "out_of_range");
    EXPECT_EQ(by["indicators[1].full_mark"], "out_of_range");
    EXPECT_EQ(by["indicators[2].code"], "unknown_indicator");
    EXPECT_EQ(by["thresholds"], "thresholds_count");
  }
  try {
    GradingModel::parse(
        parse_value(R"({"indicators": [{"code": "assets_fen", "weight": 60, "full_mark": 100}],
        "thresholds": [10, 5, 50, 90]})"));
    FAIL();
  } catch (const Error& e) {
    std::map<std::string, std::string> by;
    for (auto& d : e.details) by[d.field] = d.code;
    EXPECT_EQ(by["indicators"], "weights_sum");
    EXPECT_EQ(by["thresholds[1]"], "not_ascending");
  }
}

TEST(Grading, ScoresAreCappedWeightedAndExact) {
  auto m = GradingModel::parse(parse_value(R"({"indicators": [
      {"code": "assets_fen", "weight": 70, "full_mark": 1000000},
      {"code": "products", "weight": 30, "full_mark": 4}], "thresholds": [20, 40, 60.5, 90]})"));
  int64_t v1[] = {500000, 2};  // half and half: 35 + 15 = 50 points
  EXPECT_EQ(m.score(v1), 5000);
  EXPECT_EQ(m.tier_of(5000), 2);
  int64_t v2[] = {int64_t(1) << 40, 9};  // capped at the full marks
  EXPECT_EQ(m.score(v2), 10000);
  EXPECT_EQ(m.tier_of(10000), 4);
  int64_t v3[] = {-5, 0};
  EXPECT_EQ(m.score(v3), 0);
  EXPECT_EQ(m.tier_of(0), 0);
  EXPECT_EQ(m.tier_of(6049), 2);
  EXPECT_EQ(m.tier_of(6050), 3);
  EXPECT_EQ(m.to_json().at("thresholds").as_array()[2].as_double(), 60.5);
}

TEST(Grading, TrialCountsMovesBetweenTiers) {
  TrialResult t;
  t.add(0, 9500, 4);
  t.add(4, 100, 0);
  t.add(2, 5000, 2);
  EXPECT_EQ(t.customers, 3);
  EXPECT_EQ(t.up, 1);
  EXPECT_EQ(t.down, 1);
  EXPECT_EQ(t.same, 1);
  EXPECT_EQ(t.per_tier[4], 1);
  EXPECT_EQ(t.moves[0][4], 1);
  EXPECT_EQ(t.histogram[19], 1);
  EXPECT_EQ(t.histogram[10], 1);
}

TEST(CustomerRecord, ProductAccountsFromACellOrAList) {
  CustomerInput in;
  std::vector<FieldError> errs;
  parse_customer(
      parse_object(R"({"accounts": "fund:F0012345@华夏基金;ta:TA9;bond:B1234567;fund:F0012345"})"),
      true, in, errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "accounts[1].number");  // too short
  ASSERT_EQ(in.accounts->size(), 2u);              // the repeated fund account kept once
  EXPECT_EQ((*in.accounts)[0].institution, "华夏基金");
  EXPECT_EQ((*in.accounts)[1].kind, "bond");
  CustomerInput in2;
  std::vector<FieldError> errs2;
  parse_customer(
      parse_object(R"({"accounts": [{"kind": "futures", "number": "Q1234", "status": "frozen"}]})"),
      true, in2, errs2);
  ASSERT_TRUE(errs2.empty());
  EXPECT_EQ((*in2.accounts)[0].status, "frozen");
}
