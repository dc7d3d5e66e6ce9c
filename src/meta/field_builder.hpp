#pragma once
// Short declarations: F("name", FieldType::string, "姓名", "Name").required().search()
#include "meta/entity.hpp"

namespace kefu::meta {

struct F {
  Field f;
  F(std::string name, FieldType type, std::string zh, std::string en) {
    f.name = std::move(name);
    f.type = type;
    f.label_zh = std::move(zh);
    f.label_en = std::move(en);
    if (type == FieldType::text) f.max_length = 4000;
    if (type == FieldType::json) f.max_length = 8000;
  }
  F& required() { f.required = true; return *this; }
  F& unique() { f.unique = true; f.filterable = true; return *this; }
  F& search() { f.searchable = true; return *this; }
  F& sort() { f.sortable = true; return *this; }
  F& filter() { f.filterable = true; return *this; }
  F& readonly() { f.readonly = true; return *this; }
  F& hidden() { f.hidden = true; return *this; }
  F& len(int n) { f.max_length = n; return *this; }
  F& range(int64_t lo, int64_t hi) { f.min = lo; f.max = hi; return *this; }
  struct Opt { std::string code, zh, en; };
  F& options(std::vector<Opt> opts) {
    for (auto& o : opts) {
      f.options.push_back(o.code);
      f.option_labels.emplace_back(o.zh, o.en);
    }
    f.filterable = true;
    return *this;
  }
  F& dict(std::string t) { f.dict_type = std::move(t); f.filterable = true; return *this; }
  F& ref(std::string e) { f.ref_entity = std::move(e); f.filterable = true; return *this; }
  F& pattern(std::string p) { f.pattern = std::move(p); return *this; }
  F& def(json::value v) { f.default_value = std::move(v); return *this; }
  operator Field() const { return f; }
};

}  // namespace kefu::meta
