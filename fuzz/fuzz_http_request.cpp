// HTTP request parsing: Beast's parser with Kefu's limits, then Kefu's own parsing of
// the target, query string and cookies.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/message.hpp"
#include "http/router.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(32 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto& req = parser.get();
  kefu::http::Request r;
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = kefu::http::percent_decode(std::string_view(r.target).substr(0, q));
  if (q != std::string::npos) r.query = kefu::http::parse_query(std::string_view(r.target).substr(q + 1));
  for (auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  (void)r.cookie("kefu_session");
  (void)kefu::http::split_path(r.path);
  return 0;
}
