#pragma once
// Who serves which customer: the basis on which someone outside a customer's data scope may
// open his file (purpose binding, PIPL). Read from the stored facts, so any node answers for a
// call handled on any other.
#include <cstdint>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kefu::cti {

// "call:<id>", "chat:<id>" or "email:<id>": the newest call or conversation of `customer` (the
// switch knew him when it came in, or it was with one of his `numbers`: a caller the agent has
// just added as a potential customer, a number the agent dialled) that `staff` was offered,
// rang, took, consulted on, monitored or took over — live, or ended at `since_ms` or later.
// "" when there is none.
std::string interaction_with(store::Connection& c, int64_t staff, int64_t customer,
                             const std::vector<std::string>& numbers, int64_t since_ms);

// The same for a phone number or address instead of a customer: whether `staff` serves, or
// served since `since_ms`, an interaction with `number` (as caller or as called party).
std::string interaction_with_number(store::Connection& c, int64_t staff, const std::string& number,
                                    int64_t since_ms);

}  // namespace kefu::cti
