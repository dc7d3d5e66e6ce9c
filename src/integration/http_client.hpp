#pragma once
// Outbound HTTP for integrations (webhooks, external systems' REST APIs), on libcurl: TLS,
// proxies from the environment, timeouts. Blocking; call it from a worker thread, never from the
// real-time core or an HTTP handler.
#include <string>
#include <vector>

namespace kefu::integration {

struct HttpRequest {
  std::string url;  // http:// or https:// only; redirects are not followed
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  int timeout_ms = 10000;
};

struct HttpResult {
  long status = 0;   // 0: no HTTP answer (connection refused, timeout, TLS); `error` says why
  std::string body;  // the first 64 KB
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};

HttpResult post(const HttpRequest& req);

// A URL an administrator may configure: http or https, a host, at most 500 characters.
bool valid_url(const std::string& url);

}  // namespace kefu::integration
