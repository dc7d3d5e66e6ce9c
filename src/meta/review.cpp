#include "meta/review.hpp"

#include <charconv>

#include "meta/validate.hpp"
#include "store/sql.hpp"

namespace kefu::meta {
namespace {

constexpr const char* kColumns =
    "id, kind, permission, record_id, action, payload, base_version, steps, status, org_id, "
    "submitted_by, "
    "submitted_at, first_by, first_at, first_comment, final_by, final_at, final_comment, "
    "result_id, "
    "submitted_by_name, first_by_name, final_by_name";

json::object to_json_row(const store::Result& r, size_t i) {
  json::object o = store::row_json(r, i);
  if (auto* p = o.if_contains("payload"); p && p->is_string())
    *p = parse_value(std::string(p->as_string()));
  return o;
}

ChangeRequest from_row(const json::object& o) {
  ChangeRequest cr;
  cr.id = o.at("id").as_int64();
  cr.kind = std::string(o.at("kind").as_string());
  cr.permission = std::string(o.at("permission").as_string());
  cr.record_id = o.at("record_id").is_int64() ? o.at("record_id").as_int64() : 0;
  cr.action = std::string(o.at("action").as_string());
  cr.payload = o.at("payload").as_object();
  cr.base_version = o.at("base_version").as_int64();
  cr.steps = int(o.at("steps").as_int64());
  cr.status = std::string(o.at("status").as_string());
  cr.submitted_by = o.at("submitted_by").as_int64();
  cr.first_by = o.at("first_by").is_int64() ? o.at("first_by").as_int64() : 0;
  return cr;
}

}  // namespace

std::vector<store::Migration> ReviewService::migrations() {
  return {{"meta/0001_change_request", R"(
CREATE TABLE change_request (
  id {{ID}}, kind TEXT NOT NULL, permission TEXT NOT NULL, record_id BIGINT, action TEXT NOT NULL,
  payload TEXT NOT NULL, base_version BIGINT NOT NULL, steps BIGINT NOT NULL, status TEXT NOT NULL,
  org_id BIGINT, submitted_by BIGINT NOT NULL, submitted_at BIGINT NOT NULL,
  first_by BIGINT, first_at BIGINT, first_comment TEXT,
  final_by BIGINT, final_at BIGINT, final_comment TEXT, result_id BIGINT);
CREATE INDEX ix_change_request_status ON change_request (status, kind);
)"},
          // Names as they were when each person acted, like the operation log's actor_name, so a
          // reviewer sees who submitted a request even when that person is outside his data scope.
          {"meta/0002_change_request_names", R"(
ALTER TABLE change_request ADD COLUMN submitted_by_name TEXT;
ALTER TABLE change_request ADD COLUMN first_by_name TEXT;
ALTER TABLE change_request ADD COLUMN final_by_name TEXT;
)"}};
}

json::object ReviewService::submit(store::Connection& c, const Principal& who,
                                   const audit::Actor& actor, const std::string& kind,
                                   const std::string& permission, int steps,
                                   const std::string& action, int64_t record_id,
                                   int64_t base_version, const json::object& payload,
                                   int64_t org_id) const {
  int64_t now = repo_.clock().now_ms();
  auto r = c.exec(
      "INSERT INTO change_request (kind, permission, record_id, action, payload, base_version, "
      "steps, status, org_id, "
      "submitted_by, submitted_at, submitted_by_name) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, "
      "?, ?, ?) RETURNING id",
      {kind, permission, record_id ? store::Value(record_id) : store::Value(store::Null{}), action,
       to_json(payload), base_version, int64_t(steps),
       org_id ? store::Value(org_id) : store::Value(store::Null{}), who.staff_id, now, who.name});
  int64_t id = store::as_int(r.rows[0][0]);
  repo_.audit().append(
      c, actor,
      {"change_request", id, "submit",
       json::object{
           {"kind", kind}, {"action", action}, {"record_id", record_id}, {"payload", payload}}});
  auto row = c.exec(std::string("SELECT ") + kColumns + " FROM change_request WHERE id = ?", {id});
  return to_json_row(row, 0);
}

json::value ReviewService::apply(store::Connection& c, const ChangeRequest& cr,
                                 const Principal& reviewer, const audit::Actor& actor) const {
  if (auto it = appliers_.find(cr.kind); it != appliers_.end())
    return it->second(c, cr, reviewer, actor);
  const Entity& e = repo_.registry().get(cr.kind);
  if (cr.action == "create")
    return repo_.create(c, e, reviewer, actor, validate_or_throw(e, cr.payload, Mode::create));
  if (cr.action == "update")
    return repo_.update(c, e, reviewer, actor, cr.record_id, cr.base_version,
                        validate_or_throw(e, cr.payload, Mode::update));
  if (cr.action == "archive")
    return repo_.archive(c, e, reviewer, actor, cr.record_id, cr.base_version);
  throw Error::internal("unknown change action " + cr.action);
}

json::object ReviewService::decide(const Principal& who, const audit::Actor& actor,
                                   int64_t request_id, bool approve,
                                   const std::string& comment) const {
  json::object out;
  repo_.db().write([&](store::Connection& c) {
    auto rows = c.exec(std::string("SELECT ") + kColumns + " FROM change_request WHERE id = ?",
                       {request_id});
    if (rows.empty())
      throw Error::not_found("change request " + std::to_string(request_id) + " does not exist",
                             "id");
    ChangeRequest cr = from_row(to_json_row(rows, 0));
    if (cr.status != "pending" && cr.status != "first_approved")
      throw Error::conflict("already_decided", "this request is already " + cr.status, "status");
    bool final_step = cr.status == "first_approved" || cr.steps == 1;
    std::string need = cr.permission + (final_step && cr.steps == 2 ? ":review2" : ":review1");
    if (!who.has(need)) throw Error::forbidden("missing permission " + need);
    if (cr.submitted_by == who.staff_id)
      throw Error::forbidden("you cannot review your own request", "self_review");
    if (cr.status == "first_approved" && cr.first_by == who.staff_id)
      throw Error::forbidden(
          "the final review must be done by someone other than the first reviewer",
          "same_reviewer");
    int64_t now = repo_.clock().now_ms();
    const char* who_col = final_step && cr.steps == 2 ? "final" : "first";
    std::string status;
    json::value result;
    if (!approve) {
      status = "rejected";
    } else if (!final_step) {
      status = "first_approved";
    } else {
      status = "approved";
      result = apply(c, cr, who, actor);
    }
    int64_t result_id =
        result.is_object() && result.as_object().contains("id") ? result.at("id").as_int64() : 0;
    c.exec(
        std::string("UPDATE change_request SET status = ?, ") + who_col + "_by = ?, " + who_col +
            "_at = ?, " + who_col + "_comment = ?, " + who_col +
            "_by_name = ?, result_id = ? WHERE id = ? AND status = ?",
        {status, who.staff_id, now, comment, who.name,
         result_id ? store::Value(result_id) : store::Value(store::Null{}), request_id, cr.status});
    repo_.audit().append(
        c, actor,
        {"change_request", request_id, approve ? "review.approve" : "review.reject",
         json::object{{"step", who_col}, {"status", status}, {"comment", comment}}});
    auto row = c.exec(std::string("SELECT ") + kColumns + " FROM change_request WHERE id = ?",
                      {request_id});
    out = to_json_row(row, 0);
    out["can_decide"] = false;  // whoever just decided never takes the next step too
    if (!result.is_null()) out["result"] = result;
  });
  announce(out);
  return out;
}

void ReviewService::announce(const json::object& request) const {
  if (!listener_) return;
  // The change is committed: a failed notice must not turn the request into an error. Browsers
  // catch up on their next load or reconnect.
  try {
    std::string path;
    if (auto org = request.if_contains("org_id"); org && org->is_int64()) {
      repo_.db().read([&](store::Connection& c) {
        auto r = c.exec("SELECT path FROM org_unit WHERE id = ?", {org->as_int64()});
        if (!r.empty()) path = store::as_text(r.rows[0][0]);
      });
    }
    listener_(request, path);
  } catch (const std::exception&) {
  }
}

namespace {

// Requests a principal may see: his own, and those of organisations inside his scope for
// kinds he may review.
void visibility_sql(const Principal& who, std::string& where, std::vector<store::Value>& params) {
  if (who.scope == DataScope::all) return;
  where +=
      " AND (submitted_by = ? OR org_id IS NULL OR org_id IN (SELECT id FROM org_unit WHERE path "
      "LIKE ?))";
  params.emplace_back(who.staff_id);
  params.emplace_back(who.scope == DataScope::self ? std::string("-") : who.org_path + "%");
}

bool may_see(const Principal& who, const json::object& o) {
  std::string perm(o.at("permission").as_string());
  return o.at("submitted_by").as_int64() == who.staff_id || who.has(perm + ":review1") ||
         who.has(perm + ":review2");
}

}  // namespace

bool ReviewService::visible_to(const Principal& who, const json::object& o,
                               const std::string& org_path) {
  bool in_scope = who.scope == DataScope::all || o.at("submitted_by").as_int64() == who.staff_id ||
                  !o.at("org_id").is_int64() ||
                  (who.scope != DataScope::self && !who.org_path.empty() &&
                   org_path.rfind(who.org_path, 0) == 0);
  return in_scope && may_see(who, o);
}

namespace {

// Whether `who` may take the next decision on a request: the same rules decide() enforces,
// so the console shows approve/reject only where they would succeed.
bool may_decide(const Principal& who, const json::object& o) {
  std::string status(o.at("status").as_string());
  if (status != "pending" && status != "first_approved") return false;
  int64_t steps = o.at("steps").as_int64();
  bool final_step = status == "first_approved" || steps == 1;
  std::string perm(o.at("permission").as_string());
  if (!who.has(perm + (final_step && steps == 2 ? ":review2" : ":review1"))) return false;
  if (o.at("submitted_by").as_int64() == who.staff_id) return false;
  auto& first = o.at("first_by");
  return !(status == "first_approved" && first.is_int64() && first.as_int64() == who.staff_id);
}

}  // namespace

Page ReviewService::list(const Principal& who, const Query& q) const {
  Page page;
  std::string where = " WHERE 1 = 1";
  std::vector<store::Value> params;
  for (const char* key : {"status", "kind"}) {
    if (auto it = q.find(key); it != q.end()) {
      where += std::string(" AND ") + key + " = ?";
      params.emplace_back(it->second);
    }
  }
  visibility_sql(who, where, params);
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec(std::string("SELECT ") + kColumns + " FROM change_request" + where +
                        " ORDER BY id DESC LIMIT 500",
                    params);
    for (size_t i = 0; i < r.size(); ++i) {
      auto o = to_json_row(r, i);
      if (!may_see(who, o)) continue;
      o["can_decide"] = may_decide(who, o);
      page.items.push_back(std::move(o));
    }
  });
  page.total = page.page_size = int64_t(page.items.size());
  return page;
}

json::object ReviewService::get(const Principal& who, int64_t id) const {
  std::string where = " WHERE id = ?";
  std::vector<store::Value> params{id};
  visibility_sql(who, where, params);
  std::optional<json::object> out;
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec(std::string("SELECT ") + kColumns + " FROM change_request" + where, params);
    if (!r.empty()) out = to_json_row(r, 0);
  });
  if (!out || !may_see(who, *out))
    throw Error::not_found("change request " + std::to_string(id) + " does not exist", "id");
  (*out)["can_decide"] = may_decide(who, *out);
  return std::move(*out);
}

}  // namespace kefu::meta

namespace kefu::meta {

json::object write_entity(store::Connection& c, const Repository& repo,
                          const ReviewService& reviews, const Entity& e, const Principal& who,
                          const audit::Actor& actor, const std::string& action, int64_t id,
                          int64_t version, const json::object& values) {
  auto direct = [&]() -> json::object {
    if (action == "create") return repo.create(c, e, who, actor, values);
    if (action == "update") return repo.update(c, e, who, actor, id, version, values);
    return repo.archive(c, e, who, actor, id, version);
  };
  if (e.review_steps == 0) return json::object{{"record", direct()}};
  c.exec("SAVEPOINT review_check", {});
  json::object preview;
  try {
    preview = direct();
  } catch (...) {
    c.exec("ROLLBACK TO SAVEPOINT review_check", {});
    c.exec("RELEASE SAVEPOINT review_check", {});
    throw;
  }
  c.exec("ROLLBACK TO SAVEPOINT review_check", {});
  c.exec("RELEASE SAVEPOINT review_check", {});
  int64_t org_id = 0;
  if (!e.scope_column.empty() && preview.contains(e.scope_column) &&
      preview.at(e.scope_column).is_int64())
    org_id = e.scope_column == "id" ? 0 : preview.at(e.scope_column).as_int64();
  auto cr = reviews.submit(c, who, actor, e.name, e.permission, e.review_steps, action, id, version,
                           values, org_id);
  return json::object{{"change_request", cr}};
}

}  // namespace kefu::meta
