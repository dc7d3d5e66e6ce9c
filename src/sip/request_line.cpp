#include "sip/request_line.hpp"

#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>

#include <cctype>
#include <cstring>

namespace kefu::sip {
namespace {

msg_parse_f* sofia_request_line = nullptr;
struct msg_hclass_s lenient_request_class[1];  // sofia's request line, with our decoder

bool is_token(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (!(std::isalnum(static_cast<unsigned char>(*s)) || std::strchr("-.!%*_+`'~", *s)))
      return false;
  return true;
}

// "METHOD <anything> SIP/2.0": sofia's decoder first; when it refuses the URI, the method and
// the version alone, with a URI marked invalid so that nta's sanity check answers 400. A line
// that is not even that (no method token, another version) stays garbage.
issize_t decode_request_line(su_home_t* home, msg_header_t* h, char* s, isize_t slen) {
  char* copy = su_strndup(home, s, slen);  // sofia's decoder cuts the line up as it goes
  if (sofia_request_line(home, h, s, slen) >= 0) return 0;
  if (!copy) return -1;
  char* method = copy;
  char* first_space = std::strchr(copy, ' ');
  char* last_space = std::strrchr(copy, ' ');
  if (!first_space || first_space == last_space) return -1;
  *first_space = '\0';
  const char* version = last_space + 1;
  if (!is_token(method) || su_casematch(version, "SIP/2.0") == 0) return -1;
  auto* rq = reinterpret_cast<sip_request_t*>(h);
  rq->rq_method = sip_method_code(method);
  rq->rq_method_name = method;
  std::memset(rq->rq_url, 0, sizeof rq->rq_url);
  rq->rq_url->url_type = url_invalid;
  rq->rq_version = sip_version_2_0;
  return 0;
}

}  // namespace

const msg_mclass_s* parser_answering_bad_request_uris() {
  static msg_mclass_t* parser = [] {
    msg_mclass_t* mc = msg_mclass_clone(sip_default_mclass(), 0, 0);
    if (!mc) return static_cast<msg_mclass_t*>(nullptr);
    lenient_request_class[0] = *mc->mc_request->hr_class;
    sofia_request_line = lenient_request_class[0].hc_parse;
    lenient_request_class[0].hc_parse = &decode_request_line;
    mc->mc_request->hr_class = lenient_request_class;
    return mc;
  }();
  return parser;
}

}  // namespace kefu::sip
