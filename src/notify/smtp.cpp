#include "notify/smtp.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <ctime>
#include <mutex>
#include <regex>

namespace kefu::notify {
namespace {

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool plain_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80 || c < 0x20) return false;
  return true;
}

std::string rfc5322_date(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// "Name <addr>" with the name encoded when it is not ASCII.
std::string header_mailbox(const std::string& from) {
  auto lt = from.find('<');
  if (lt == std::string::npos) return from;
  std::string name = from.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.empty()) return from.substr(lt);
  return encode_header_words(name) + " " + from.substr(lt);
}

}  // namespace

std::string encode_header_words(const std::string& value) {
  if (plain_ascii(value)) return value;
  // Encoded words of at most 75 characters: 45 octets of UTF-8 become 60 of base64, cut only
  // between characters.
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t end = std::min(value.size(), i + 45);
    while (end < value.size() && (uint8_t(value[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + base64(std::string_view(value).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string mailbox_address(const std::string& from) {
  auto lt = from.find('<'), gt = from.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return from.substr(lt + 1, gt - lt - 1);
  return from;
}

bool valid_email(const std::string& address) {
  static const std::regex re(R"([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)");
  return address.size() <= 254 && std::regex_match(address, re);
}

struct SmtpChannel::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

SmtpChannel::SmtpChannel(SmtpAccount account)
    : account_(std::move(account)), handle_(std::make_unique<Handle>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SmtpChannel::~SmtpChannel() = default;

Sent SmtpChannel::send(const Outgoing& m) {
  Sent out;
  if (!handle_->curl) handle_->curl = curl_easy_init();  // kept: the connection is reused
  CURL* c = handle_->curl;
  if (!c) {
    out.code = "curl_init";
    out.error = "libcurl could not start a transfer";
    return out;
  }
  curl_easy_reset(c);
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_URL, account_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(account_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(account_.timeout_ms, 10'000)));
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   account_.tls == "require" ? long(CURLUSESSL_ALL)
                   : account_.tls == "try"   ? long(CURLUSESSL_TRY)
                                             : long(CURLUSESSL_NONE));
  if (!account_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, account_.ca_file.c_str());
  if (!account_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, account_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, account_.password.c_str());
  }
  std::string from = "<" + mailbox_address(account_.from) + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(
      curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str()), curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());

  curl_slist* h = nullptr;
  auto add = [&](const std::string& line) { h = curl_slist_append(h, line.c_str()); };
  add("Date: " + rfc5322_date(std::time(nullptr)));
  add("From: " + header_mailbox(account_.from));
  add("To: <" + m.recipient + ">");
  add("Subject: " + encode_header_words(m.subject));
  add("Message-ID: <" + m.message_id + ">");
  if (m.bulk) {
    add("Precedence: bulk");
    if (!m.unsubscribe_url.empty()) {
      // RFC 8058: mail clients offer a one-click unsubscribe that POSTs to the URL.
      add("List-Unsubscribe: <" + m.unsubscribe_url + ">");
      add("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    }
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(h, curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  std::unique_ptr<curl_mime, decltype(&curl_mime_free)> mime(curl_mime_init(c), curl_mime_free);
  auto text_part = [&](curl_mime* into, const std::string& body, const char* type) {
    curl_mimepart* p = curl_mime_addpart(into);
    curl_mime_data(p, body.data(), body.size());
    curl_mime_type(p, type);
    curl_mime_encoder(p, "base64");
  };
  curl_mime* body_into = mime.get();
  curl_mime* alt = nullptr;
  if (!m.html.empty()) {
    alt = curl_mime_init(c);  // owned by its part once attached
    text_part(alt, m.text, "text/plain; charset=UTF-8");
    text_part(alt, m.html, "text/html; charset=UTF-8");
    curl_mimepart* p = curl_mime_addpart(mime.get());
    curl_mime_subparts(p, alt);
    curl_mime_type(p, "multipart/alternative");
  } else {
    text_part(body_into, m.text, "text/plain; charset=UTF-8");
  }
  for (auto& a : m.attachments) {
    curl_mimepart* p = curl_mime_addpart(mime.get());
    curl_mime_data(p, a.data.data(), a.data.size());
    curl_mime_filename(p, encode_header_words(a.name).c_str());
    curl_mime_type(p, a.content_type.empty() ? "application/octet-stream" : a.content_type.c_str());
    curl_mime_encoder(p, "base64");
  }
  curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());

  CURLcode rc = curl_easy_perform(c);
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(c, CURLOPT_MIMEPOST, nullptr);
  if (rc == CURLE_OK) {
    out.outcome = Outcome::accepted;
    out.provider_id = m.message_id;
    return out;
  }
  out.error = err[0] ? err : curl_easy_strerror(rc);
  if (rc == CURLE_LOGIN_DENIED || reply == 530 || reply == 534 || reply == 535 || reply == 538) {
    // The account, not the message: keep it and try again once someone mends the account.
    out.outcome = Outcome::temporary;
    out.code = "login_denied";
  } else if (rc == CURLE_USE_SSL_FAILED) {
    out.outcome = Outcome::temporary;
    out.code = "tls_unavailable";
  } else if (reply >= 500) {
    out.outcome = Outcome::permanent;
    out.code = "smtp_" + std::to_string(reply);
  } else if (reply >= 400) {
    out.outcome = Outcome::temporary;
    out.code = "smtp_" + std::to_string(reply);
  } else {
    out.outcome = Outcome::temporary;
    out.code = rc == CURLE_COULDNT_CONNECT      ? "connect_failed"
               : rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                                                : "transfer_failed";
  }
  // A broken session is not reused.
  curl_easy_cleanup(c);
  handle_->curl = nullptr;
  return out;
}

}  // namespace kefu::notify
