#pragma once
// E-mail over SMTP through libcurl: STARTTLS (required or opportunistic), authentication, a MIME
// message with its text and HTML alternatives and attachments, RFC 2047 headers for Chinese. The
// connection is kept between messages. A 4xx answer or a broken connection is temporary, a 5xx
// answer permanent (550: no such mailbox).
#include <memory>
#include <string>

#include "notify/channel.hpp"

namespace kefu::notify {

struct SmtpAccount {
  std::string url;  // smtp://host:port (STARTTLS per `tls`) or smtps://host:port
  std::string username, password;
  std::string from;         // "客服中心 <service@example.com>" or a bare address
  std::string tls = "try";  // "require", "try" (STARTTLS when offered), "off"
  std::string ca_file;      // trust for the relay's certificate; empty: the system's
  int timeout_ms = 30'000;
};

class SmtpChannel : public Channel {
 public:
  explicit SmtpChannel(SmtpAccount account);
  ~SmtpChannel() override;
  Sent send(const Outgoing& m) override;

 private:
  struct Handle;
  SmtpAccount account_;
  std::unique_ptr<Handle> handle_;
};

// RFC 2047 encoded words (UTF-8, base64) for a header value that is not plain ASCII.
std::string encode_header_words(const std::string& value);
// The address part of "Name <addr>" or a bare address.
std::string mailbox_address(const std::string& from);
bool valid_email(const std::string& address);

}  // namespace kefu::notify
