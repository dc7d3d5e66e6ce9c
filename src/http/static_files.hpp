#pragma once
// The web console's built assets. Hashed files under /assets/ are cached for a year;
// everything else revalidates by ETag; unknown paths without an extension get
// index.html so the single-page app's own router can take them.
#include <optional>
#include <string>

#include "http/message.hpp"

namespace kefu::http {

class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::optional<Response> serve(const Request& req) const;

 private:
  std::string root_;
};

}  // namespace kefu::http
