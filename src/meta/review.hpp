#pragma once
// Reviewed changes (初审/终审, 菜单权限审核). For an entity with review_steps > 0 a create,
// update or archive is stored as a change request and takes effect only when the last
// reviewer approves. Reviewers are never the submitter, and the final reviewer is never
// the first. Applying runs in the approval's transaction: a change that no longer
// validates (a stale version, a taken username) fails the approval and stays pending.
#include <functional>
#include <map>

#include "meta/repository.hpp"

namespace kefu::meta {

struct ChangeRequest {
  int64_t id = 0;
  std::string kind;        // an entity name, or a custom kind such as "staff_role"
  std::string permission;  // prefix of the review permissions
  int64_t record_id = 0;
  std::string action;  // create, update, archive, grant
  json::object payload;
  int64_t base_version = -1;
  int steps = 1;
  std::string status;  // pending, first_approved, approved, rejected
  int64_t submitted_by = 0;
  int64_t first_by = 0;
};

class ReviewService {
 public:
  // Applies an approved custom change inside the approval transaction; returns the result record.
  using Applier = std::function<json::value(store::Connection&, const ChangeRequest&, const Principal& reviewer,
                                            const audit::Actor&)>;

  explicit ReviewService(const Repository& repo) : repo_(repo) {}

  static std::vector<store::Migration> migrations();
  void add_kind(const std::string& kind, Applier applier) { appliers_[kind] = std::move(applier); }

  json::object submit(store::Connection& c, const Principal& who, const audit::Actor& actor, const std::string& kind,
                      const std::string& permission, int steps, const std::string& action, int64_t record_id,
                      int64_t base_version, const json::object& payload, int64_t org_id) const;
  json::object decide(const Principal& who, const audit::Actor& actor, int64_t request_id, bool approve,
                      const std::string& comment) const;
  Page list(const Principal& who, const Query& q) const;
  json::object get(const Principal& who, int64_t id) const;

  // Live notice of a new or decided request, given the request and its organisation's path.
  // Call announce() only after the transaction that wrote the request has committed.
  using Listener = std::function<void(const json::object& request, const std::string& org_path)>;
  void on_change(Listener l) { listener_ = std::move(l); }
  void announce(const json::object& request) const;
  // The same rule as list() and get(), for one request whose organisation path is known.
  static bool visible_to(const Principal& who, const json::object& request, const std::string& org_path);

 private:
  json::value apply(store::Connection& c, const ChangeRequest& cr, const Principal& reviewer,
                    const audit::Actor& actor) const;
  const Repository& repo_;
  std::map<std::string, Applier> appliers_;
  Listener listener_;
};

}  // namespace kefu::meta

namespace kefu::meta {

// Creates, updates or archives a record directly, or — for a reviewed entity — checks the
// change by applying it inside a savepoint that is rolled back, then stores it as a
// change request. Returns {"record": ...} or {"change_request": ...}.
json::object write_entity(store::Connection& c, const Repository& repo, const ReviewService& reviews, const Entity& e,
                          const Principal& who, const audit::Actor& actor, const std::string& action, int64_t id,
                          int64_t version, const json::object& values);

}  // namespace kefu::meta
