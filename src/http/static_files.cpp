#include "http/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kefu::http {
namespace fs = std::filesystem;
namespace {

std::string mime_of(const std::string& ext) {
  static const std::pair<const char*, const char*> types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".jpg", "image/jpeg"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
      {".woff", "font/woff"}, {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"},
      {".wav", "audio/wav"}};
  for (auto& [e, t] : types)
    if (ext == e) return t;
  return "application/octet-stream";
}

}  // namespace

std::optional<Response> StaticFiles::serve(const Request& req) const {
  if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
  if (req.path.rfind("/api/", 0) == 0 || req.path == "/api") return std::nullopt;
  // Reject traversal outright rather than normalising it.
  if (req.path.find("..") != std::string::npos || req.path.find('\0') != std::string::npos) return std::nullopt;
  fs::path root(root_);
  fs::path file = root / req.path.substr(1);
  std::error_code ec;
  if (req.path == "/" || fs::is_directory(file, ec)) file = root / "index.html";
  if (!fs::is_regular_file(file, ec)) {
    if (fs::path(req.path).has_extension()) return std::nullopt;  // a missing asset is a real 404
    file = root / "index.html";
    if (!fs::is_regular_file(file, ec)) return std::nullopt;
  }
  Response r;
  r.content_type = mime_of(file.extension().string());
  // scripts/build-web.sh leaves a gzip copy beside each large asset: a third of the bytes
  // for a console loaded over a branch office's link, and no compression work per request.
  fs::path gz = file;
  gz += ".gz";
  bool gzip = req.header("accept-encoding").find("gzip") != std::string::npos && fs::is_regular_file(gz, ec);
  if (gzip) {
    file = gz;
    r.set_header("Content-Encoding", "gzip");
  }
  r.set_header("Vary", "Accept-Encoding");
  auto size = fs::file_size(file, ec);
  auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
  std::string etag = "\"" + std::to_string(size) + "-" + std::to_string(mtime) + (gzip ? "-gz" : "") + "\"";
  r.set_header("ETag", etag);
  if (req.path.rfind("/assets/", 0) == 0) r.set_header("Cache-Control", "public, max-age=31536000, immutable");
  else r.set_header("Cache-Control", "no-cache");
  if (req.header("if-none-match") == etag) {
    r.status = 304;
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  r.body = ss.str();
  return r;
}

}  // namespace kefu::http
