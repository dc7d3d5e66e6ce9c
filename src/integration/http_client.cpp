#include "integration/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "base/crypto.hpp"

namespace kefu::integration {
namespace {

constexpr size_t kBodyCap = 64 * 1024;

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  size_t len = size * n;
  if (body->size() < kBodyCap) body->append(data, std::min(len, kBodyCap - body->size()));
  return len;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

bool valid_url(const std::string& url) {
  if (url.size() > 500) return false;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  char* scheme = nullptr;
  char* host = nullptr;
  bool ok = curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            (std::string(scheme) == "http" || std::string(scheme) == "https") && host[0] != 0;
  curl_free(scheme);
  curl_free(host);
  return ok;
}

HttpResult post(const HttpRequest& req) {
  global_init();
  HttpResult out;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) {
    out.error = "libcurl could not start a transfer";
    return out;
  }
  curl_slist* list = nullptr;
  for (auto& line : req.headers) list = curl_slist_append(list, line.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, curl_slist_free_all);
  char err[CURL_ERROR_SIZE] = {0};
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(req.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(req.timeout_ms, 5000)));
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Kefu");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    out.error = err[0] ? err : curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

HttpResult signed_post(const std::string& url, const std::string& secret, const std::string& event,
                       const std::string& delivery, const std::string& body, int64_t now_ms,
                       int timeout_ms, std::vector<std::string> extra_headers) {
  std::string ts = std::to_string(now_ms / 1000);
  std::vector<std::string> headers{
      "Content-Type: application/json", "X-Kefu-Event: " + event, "X-Kefu-Delivery: " + delivery,
      "X-Kefu-Timestamp: " + ts,
      "X-Kefu-Signature: sha256=" + crypto::hmac_sha256_hex(secret, ts + "." + body)};
  for (auto& h : extra_headers) headers.push_back(std::move(h));
  return post({url, body, std::move(headers), timeout_ms});
}

int64_t retry_delay_ms(int failures) {
  if (failures <= 1) return 1000;
  return std::min<int64_t>(int64_t(1000) << std::min(failures - 1, 20), 300000);
}

}  // namespace kefu::integration
