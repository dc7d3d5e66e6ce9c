// Digest authentication of the registrar: RFC 2617's own example, our stateless nonces, and the
// refusals (wrong secret, old nonce, other realm, malformed credentials).
#include "sip/digest.hpp"

#include <gtest/gtest.h>

namespace kefu::sip {
namespace {

TEST(Digest, ComputesRfc2617sExampleResponse) {
  auto cred = parse_digest(
      R"(Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", )"
      R"(uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", )"
      R"(response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
  ASSERT_EQ(cred.size(), 9u);
  EXPECT_EQ(cred["username"], "Mufasa");
  // The response is right (else bad_response); only the nonce is not one of ours.
  EXPECT_EQ(check_digest(cred, "GET", "testrealm@host.com", "Circle Of Life", "k", 0),
            DigestCheck::stale_nonce);
  EXPECT_EQ(check_digest(cred, "GET", "testrealm@host.com", "circle of life", "k", 0),
            DigestCheck::bad_response);
}

TEST(Digest, AcceptsAnAnswerToItsOwnChallengeUntilTheNonceIsOld) {
  const int64_t t = 1'800'000'000;
  std::string nonce = make_nonce("key", t);
  EXPECT_TRUE(nonce_valid("key", nonce, t + 10, 300));
  EXPECT_FALSE(nonce_valid("other", nonce, t + 10, 300));
  EXPECT_FALSE(nonce_valid("key", nonce, t + 301, 300));
  EXPECT_FALSE(nonce_valid("key", "x" + nonce, t, 300));
  std::string ha1 = md5_hex("8004:kefu:Kefu@8004"), ha2 = md5_hex("REGISTER:sip:127.0.0.1");
  std::map<std::string, std::string> cred{{"username", "8004"},
                                          {"realm", "kefu"},
                                          {"nonce", nonce},
                                          {"uri", "sip:127.0.0.1"},
                                          {"response", md5_hex(ha1 + ":" + nonce + ":" + ha2)}};
  EXPECT_EQ(check_digest(cred, "REGISTER", "kefu", "Kefu@8004", "key", t + 5), DigestCheck::ok);
  EXPECT_EQ(check_digest(cred, "REGISTER", "kefu", "wrong", "key", t + 5),
            DigestCheck::bad_response);
  EXPECT_EQ(check_digest(cred, "REGISTER", "kefu", "Kefu@8004", "key", t + 400),
            DigestCheck::stale_nonce);
  EXPECT_EQ(check_digest(cred, "REGISTER", "other", "Kefu@8004", "key", t + 5),
            DigestCheck::bad_realm);
  cred.erase("uri");
  EXPECT_EQ(check_digest(cred, "REGISTER", "kefu", "Kefu@8004", "key", t + 5),
            DigestCheck::missing);
  EXPECT_NE(challenge("kefu", nonce).find("qop=\"auth\""), std::string::npos);
}

TEST(Digest, MalformedCredentialsParseToNothing) {
  EXPECT_TRUE(parse_digest("Basic dXNlcjpwYXNz").empty());
  EXPECT_TRUE(parse_digest(R"(Digest username="unterminated)").empty());
  EXPECT_TRUE(parse_digest("Digest =x").empty());
  EXPECT_TRUE(parse_digest("Digest").empty());
  EXPECT_EQ(parse_digest(R"(Digest username="a\"b", realm=kefu)")["username"], "a\"b");
}

}  // namespace
}  // namespace kefu::sip
