#pragma once
// Thin wrappers over libsodium: the only place that knows which primitives Kefu uses.
#include <string>
#include <string_view>

namespace kefu::crypto {

void init();  // idempotent; call once at start-up
// URL-safe base64 of `bytes` random bytes.
std::string random_token(size_t bytes = 32);
std::string sha256_hex(std::string_view data);
// HMAC-SHA-256 of `message` under `key` (any length), as lower-case hex: webhook signatures.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// argon2id, libsodium's "interactive" limits unless configured otherwise.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view hash, std::string_view password);
// Constant-time comparison of two strings of equal length.
bool equal(std::string_view a, std::string_view b);

}  // namespace kefu::crypto
