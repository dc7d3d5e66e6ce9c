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
  std::string who = "c.customer_id = ?";
  std::vector<store::Value> params{customer};
  for (auto& n : numbers) {  // he called in from it, or the agent dialled it
    who += " OR c.ani = ? OR c.dnis = ?";
    params.emplace_back(n);
    params.emplace_back(n);
  }
  params.insert(params.end(), {since_ms, staff, staff, staff});
  return basis(c.exec("SELECT c.id, c.channel FROM cti_call c WHERE (" + who +
                          ") AND (c.ended_at IS NULL OR c.ended_at >= ?) AND " + kTookPart +
                          " ORDER BY c.id DESC LIMIT 1",
                      params));
}

std::string interaction_with_number(store::Connection& c, int64_t staff, const std::string& number,
                                    int64_t since_ms) {
  if (!staff || number.empty()) return "";
  return basis(c.exec(std::string("SELECT c.id, c.channel FROM cti_call c WHERE (c.ani = ? OR "
                                  "c.dnis = ?) AND (c.ended_at IS NULL OR c.ended_at >= ?) AND ") +
                          kTookPart + " ORDER BY c.id DESC LIMIT 1",
                      {number, number, since_ms, staff, staff, staff}));
}

}  // namespace kefu::cti
