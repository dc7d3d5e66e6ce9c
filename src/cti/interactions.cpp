#include "cti/interactions.hpp"

namespace kefu::cti {
namespace {

// A call `staff` took part in: his agent states name it (offered, ringing, talking, wrap-up),
// an event names him (a conversation offered or taken, a supervisor's monitor), or a closed
// segment does (consultation, conference, takeover).
constexpr const char* kTookPart =
    "(EXISTS (SELECT 1 FROM cti_agent_state a WHERE a.call_id = c.id AND a.staff_id = ?) OR "
    "EXISTS (SELECT 1 FROM cti_call_event e WHERE e.call_id = c.id AND e.staff_id = ?) OR "
    "EXISTS (SELECT 1 FROM cti_segment s WHERE s.call_id = c.id AND s.staff_id = ?))";

constexpr int64_t kLongestCallMs = 24 * 3'600'000;

std::string basis(const store::Result& r) {
  if (r.empty()) return "";
  std::string channel = store::as_text(r.rows[0][1]);  // voice, chat, email
  return (channel == "voice" ? "call" : channel) + ":" +
         std::to_string(store::as_int(r.rows[0][0]));
}

}  // namespace

std::string interaction_with(store::Connection& c, int64_t staff, int64_t customer,
                             const std::vector<std::string>& numbers, int64_t since_ms) {
  if (!staff || !customer) return "";
  // Each way of being his call through its own index, only calls started in the last day before
  // `since` (session timers end any call long before): a frequent caller's years of calls, or a
  // busy hotline's millions, are never scanned.
  const int64_t started = since_ms - kLongestCallMs;
  std::string calls = "SELECT id FROM cti_call WHERE customer_id = ? AND started_at >= ?";
  std::vector<store::Value> params{customer, started};
  if (!numbers.empty()) {
    std::string in = "?";
    for (size_t i = 1; i < numbers.size(); ++i) in += ", ?";
    for (const char* column : {"ani", "dnis"}) {  // he called in from it, or the agent dialled it
      calls += std::string(" UNION ALL SELECT id FROM cti_call WHERE ") + column + " IN (" + in +
               ") AND started_at >= ?";
      params.insert(params.end(), numbers.begin(), numbers.end());
      params.emplace_back(started);
    }
  }
  params.insert(params.end(), {since_ms, staff, staff, staff});
  return basis(c.exec("SELECT c.id, c.channel FROM cti_call c WHERE c.id IN (" + calls +
                          ") AND (c.ended_at IS NULL OR c.ended_at >= ?) AND " + kTookPart +
                          " ORDER BY c.id DESC LIMIT 1",
                      params));
}

std::string interaction_with_number(store::Connection& c, int64_t staff, const std::string& number,
                                    int64_t since_ms) {
  if (!staff || number.empty()) return "";
  const int64_t started = since_ms - kLongestCallMs;
  return basis(
      c.exec(std::string("SELECT c.id, c.channel FROM cti_call c WHERE c.id IN (SELECT id "
                         "FROM cti_call WHERE ani = ? AND started_at >= ? UNION ALL SELECT "
                         "id FROM cti_call WHERE dnis = ? AND started_at >= ?) AND "
                         "(c.ended_at IS NULL OR c.ended_at >= ?) AND ") +
                 kTookPart + " ORDER BY c.id DESC LIMIT 1",
             {number, started, number, started, since_ms, staff, staff, staff}));
}

}  // namespace kefu::cti
