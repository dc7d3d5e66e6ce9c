#pragma once
// The SIP parser Kefu gives sofia-sip: sofia's own, except that a request whose Request-URI
// cannot be parsed is still taken as a request (and answered 400 Bad Request, RFC 3261
// §21.4.1) instead of being dropped as garbage without an answer.

struct msg_mclass_s;

namespace kefu::sip {

const msg_mclass_s* parser_answering_bad_request_uris();

}  // namespace kefu::sip
