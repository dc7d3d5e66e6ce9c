#pragma once
// Outbound HTTP for integrations (webhooks, external systems' REST APIs), on libcurl: TLS,
// proxies from the environment, timeouts. Blocking; call it from a worker thread, never from the
// real-time core or an HTTP handler.
#include <cstdint>
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

// A webhook to an outside system, signed the way every Kefu webhook is: X-Kefu-Event,
// X-Kefu-Delivery (the receiver's idempotency key), X-Kefu-Timestamp (seconds) and
// X-Kefu-Signature: sha256=HMAC-SHA-256(secret, timestamp + "." + body).
HttpResult signed_post(const std::string& url, const std::string& secret, const std::string& event,
                       const std::string& delivery, const std::string& body, int64_t now_ms,
                       int timeout_ms, std::vector<std::string> extra_headers = {});

// Back-off after the n-th failure in a row: 1 s, 2 s, 4 s … at most 5 minutes.
int64_t retry_delay_ms(int failures);

// A URL an administrator may configure: http or https, a host, at most 500 characters.
bool valid_url(const std::string& url);

}  // namespace kefu::integration
