#pragma once
// 客户管理 (SPEC M8, M9, I1, I2): the customer information file and what reads it — basic and
// comprehensive queries, the 360° profile, screen pop, contact history, statistics, bulk import
// from the trading counter and the CRM, grading runs and the change feed.
//
// Data scope: headquarters (all) sees every customer, a branch (subtree/org) those of its
// organisations, a customer manager (self) his own. Call-centre agents hold `crm:serve`: they
// serve whoever calls, so they may open the file of the customer on their interaction, masked,
// whatever his branch — and no other (crm/serving.hpp); every such opening is logged.
// Personal data (ID numbers, phones, accounts, e-mail, address) is masked unless the caller holds
// `crm:unmask` and asks; every unmasking writes the operation log.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/json.hpp"
#include "base/principal.hpp"
#include "crm/customer_record.hpp"
#include "crm/model.hpp"
#include "crm/serving.hpp"
#include "store/migrations.hpp"

namespace kefu::crm {

using Query = std::map<std::string, std::string>;

// Rows of a CSV whose first line names the fields (customer columns also by the console's
// Chinese titles); an empty cell leaves that field as it is. 400 malformed_csv when broken.
json::array rows_from_csv(std::string_view text);
// How many rows of a batch an import's error list names (a row may have several errors).
int64_t failed_rows(const json::array& errors);
// A large file in batches of `rows` lines, each with the header: fn(rows of the batch, number of
// the batch's first row in the file). Customer files have no line breaks inside cells.
void for_each_csv_batch(std::string_view text, size_t rows,
                        const std::function<void(json::array, int64_t)>& fn);

// 客户扩展资料: the administrator's field definitions (entity crm_ext_field), and the check of a
// record's extended fields (JSON text, "" for none) against them.
struct ExtField {
  std::string key;
  bool required = false;
};
std::vector<ExtField> ext_fields(store::Connection& c);
// Rows of crm_phone and crm_account for one customer, in the order given (seq 1, 2, …).
std::vector<std::vector<store::Value>> phone_rows(int64_t customer,
                                                  const std::vector<Phone>& phones);
std::vector<std::vector<store::Value>> account_rows(int64_t customer,
                                                    const std::vector<ProductAccount>& accounts);
void check_ext(const std::vector<ExtField>& defs, const std::string& ext, bool creating,
               std::vector<FieldError>& errs);

class CustomerService {
 public:
  CustomerService(store::Database& db, const Clock& clock, const audit::AuditLog& audit);
  static std::vector<store::Migration> migrations();
  // Where serving access comes from (the switch's calls and conversations), and its limits.
  // Without it, only emergency openings reach outside the data scope.
  void serve_through(InteractionLookup lookup, const ServingOptions& opt);

  // 客户信息访问记录: who opened the customer's file outside his data scope, when, and on what
  // basis (an interaction, an emergency with its reason, an unmasking). For compliance.
  json::object access_log(const Principal& who, int64_t id, const Query& q);
  // 紧急查询: open a customer's file outside the interaction, for a stated reason, for a while.
  json::object open_for_emergency(const Principal& who, const audit::Actor& actor, int64_t id,
                                  const json::object& body);
  // The emergency openings of one day (Asia/Shanghai), for the daily compliance report.
  json::object emergency_report(const Principal& who, const Query& q);

  json::object create(const Principal& who, const audit::Actor& actor, const json::object& body);
  // `version` in the body must be the one read (409 stale_version otherwise).
  json::object update(const Principal& who, const audit::Actor& actor, int64_t id,
                      const json::object& body);
  // 360°: profile, phones, tier history, last contacts.
  json::object profile(const Principal& who, const audit::Actor& actor, int64_t id, bool unmask);
  // 基本查询: q (name prefix, phone, fund account, ID number) and simple filters, paged.
  json::object search(const Principal& who, const Query& q);
  // 综合查询: {"filters": [{"field", "op", "value"}], "sort", "page", "page_size"}.
  json::object query(const Principal& who, const json::object& body);
  // 客户信息同步: phone, fund_account, id_no or name → the customers it finds (several: the
  // agent picks), each with tier, risk level and last contacts; and the number's list status.
  json::object screen_pop(const Principal& who, const Query& q);
  json::object timeline(const Principal& who, int64_t id, const Query& q);
  // A line the agent writes himself: a note, or a business operation done for the customer
  // (业务办理, M22: operation type and what was done), in the history and the operation log.
  json::object add_contact(const Principal& who, const audit::Actor& actor, int64_t id,
                           const json::object& body);
  // Counts and assets by org, tier, risk_level or status, inside the caller's scope.
  json::object stats(const Principal& who, const std::string& by);

  // Bulk import (I1, I2): upsert by external_key, every bad row reported with its field and code.
  // A batch re-sent with the same key and content answers what it answered the first time and
  // writes nothing; the same key with other content is refused (409 batch_key_reused).
  json::object import_customers(const Principal& who, const audit::Actor& actor,
                                const std::string& batch_key, const json::array& rows,
                                bool all_or_nothing, const std::string& digest);

  // 客户分级: the distribution a model gives (nothing changes), and applying it as a run.
  json::object trial(const Principal& who, const json::value& model);
  json::object apply_grading(const Principal& who, const audit::Actor& actor,
                             const json::value& model, const std::string& note);
  json::object grading_runs(const Principal& who);

  // Rows the trading counter sends per customer (I2): its trades and its fund movements. Each
  // ledger says how a row is read and where it goes; the import is the same for all: idempotent by
  // batch key, a row loaded before skipped by its external key, customers named by customer_key
  // (their external key) or fund_account inside the importer's scope, every bad row reported.
  using RowProblem =
      std::function<void(const char* field, const char* code, const std::string& message)>;
  struct Ledger {
    const char* kind;   // trades, fund_flows
    const char* table;  // (external_key, customer_id, columns...)
    std::vector<std::string> columns;
    std::vector<store::Value> (*parse)(const json::object& row, const RowProblem& bad);
  };
  static const Ledger kTrades, kFundFlows;
  json::object import_ledger(const Principal& who, const audit::Actor& actor, const Ledger& ledger,
                             const std::string& batch_key, const json::array& rows,
                             const std::string& digest);
  // 客户交易分析: by month (trades, amount, commission, active days; money in and out), top
  // products, product types;
  // customer_id 0: every customer in the caller's scope.
  json::object trade_analysis(const Principal& who, int64_t customer_id, const Query& q);

  // Change feed for an external CRM: changes after `after` (an id from a previous answer).
  json::object changes(int64_t after, int limit);

  // Whether the customer is inside the user's data scope (no serving access counted).
  bool in_scope(store::Connection& c, const Principal& who, int64_t id) const;

  // The one way every module adds a line to a customer's contact history (same transaction).
  static void append_contact(store::Connection& c, const Contact& k);
  // For the switch, before routing an inbound call. Never throws (an unknown caller is routed).
  CallerInfo caller(const std::string& ani);

 private:
  void scope_sql(const Principal& who, std::string& where, std::vector<store::Value>& params) const;
  json::object list_page(const std::string& where, const std::vector<store::Value>& params,
                         const std::string& order, int64_t page, int64_t size) const;
  // A customer outside the caller's scope, and not his to serve, answers 404 (as a missing one).
  // Returns the basis of an opening outside the scope ("" inside it), which the caller logs.
  std::string check_readable(store::Connection& c, const Principal& who, int64_t id,
                             bool serving = true) const;
  std::string serving_basis(store::Connection& c, const Principal& who, int64_t id) const;
  // Writes "serve.open" to the operation log for each opening outside the scope.
  void log_opening(store::Connection& c, const Principal& who, int64_t id,
                   const std::string& basis, const char* what) const;
  void log_opening(const Principal& who, int64_t id, const std::string& basis,
                   const char* what) const;
  void refuse_if_throttled(const Principal& who) const;
  // The screen pop's rows that are in the caller's scope or on his interaction (the others
  // dropped and counted as misses); `opened` gets those outside the scope with their basis.
  store::Result on_interaction_or_in_scope(store::Connection& c, const Principal& who,
                                           store::Result rows,
                                           std::vector<std::pair<int64_t, std::string>>& opened) const;
  [[noreturn]] void not_found(const Principal& who) const;
  void note_miss(const Principal& who) const;
  // Writes the enumeration alerts raised since the last call; called before a transaction opens.
  void record_alerts() const;
  int64_t write_customer(store::Connection& c, const Principal& who, const audit::Actor& actor,
                         int64_t id, int64_t version, const json::object& body);

  store::Database& db_;
  const Clock& clock_;
  const audit::AuditLog& audit_;
  InteractionLookup interaction_;
  ServingOptions serving_;
  std::unique_ptr<EnumerationGuard> guard_ = std::make_unique<EnumerationGuard>(serving_);
  mutable std::mutex alerts_mu_;
  mutable std::vector<audit::Actor> pending_alerts_;
};

}  // namespace kefu::crm
