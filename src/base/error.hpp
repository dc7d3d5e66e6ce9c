#pragma once
// Errors that cross a layer boundary. At the HTTP edge every Error becomes
// {"error":{"code","message","field"}} with its status; anything else is a 500.
#include <stdexcept>
#include <string>
#include <vector>

namespace kefu {

struct FieldError {
  std::string field;
  std::string code;
  std::string message;
};

class Error : public std::runtime_error {
 public:
  Error(int status, std::string code, std::string message, std::string field = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }

  // Several field errors at once (validation); the first one is also the main error.
  std::vector<FieldError> details;

  static Error bad_request(std::string code, std::string message, std::string field = {}) {
    return Error(400, std::move(code), std::move(message), std::move(field));
  }
  static Error validation(std::vector<FieldError> errors) {
    Error e(422, errors.front().code, errors.front().message, errors.front().field);
    e.details = std::move(errors);
    return e;
  }
  static Error unauthorized(std::string code, std::string message) {
    return Error(401, std::move(code), std::move(message));
  }
  static Error forbidden(std::string message, std::string code = "forbidden") {
    return Error(403, std::move(code), std::move(message));
  }
  static Error not_found(std::string message, std::string field = {}) {
    return Error(404, "not_found", std::move(message), std::move(field));
  }
  static Error conflict(std::string code, std::string message, std::string field = {}) {
    return Error(409, std::move(code), std::move(message), std::move(field));
  }
  static Error unavailable(std::string message) { return Error(503, "unavailable", std::move(message)); }
  static Error internal(std::string message) { return Error(500, "internal", std::move(message)); }

 private:
  int status_;
  std::string code_;
  std::string field_;
};

}  // namespace kefu
