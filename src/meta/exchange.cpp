#include "meta/exchange.hpp"

#include <csv.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/crypto.hpp"
#include "base/text.hpp"
#include "meta/validate.hpp"

namespace kefu::meta {
namespace {

struct CsvState {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
};

void on_field(void* s, size_t len, void* data) {
  static_cast<CsvState*>(data)->row.emplace_back(static_cast<const char*>(s), len);
}
void on_row(int, void* data) {
  auto* st = static_cast<CsvState*>(data);
  st->rows.push_back(std::move(st->row));
  st->row.clear();
}

std::vector<std::string> columns_of(const Entity& e) {
  std::vector<std::string> cols = {"id", "version", "archived", "created_at", "updated_at"};
  for (auto& f : e.fields)
    if (!f.hidden) cols.push_back(f.name);
  return cols;
}

std::string cell_text(const json::value& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  return to_json(v);
}

std::string csv_quote(const std::string& s) {
  // Cells that a spreadsheet would run as a formula are prefixed with a quote.
  std::string t = s;
  if (!t.empty() && (t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@') &&
      !(t.size() > 1 && isdigit((unsigned char)t[1])))
    t = "'" + t;
  if (t.find_first_of(",\"\r\n") == std::string::npos) return t;
  std::string q = "\"";
  for (char c : t) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  if (text.size() >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
      (unsigned char)text[2] == 0xBF)
    text.remove_prefix(3);  // Excel's UTF-8 byte-order mark
  if (!valid_utf8(text)) throw Error::bad_request("malformed_csv", "the file is not UTF-8 text", "file");
  csv_parser p;
  csv_init(&p, CSV_STRICT | CSV_STRICT_FINI);
  CsvState st;
  if (csv_parse(&p, text.data(), text.size(), on_field, on_row, &st) != text.size() ||
      csv_fini(&p, on_field, on_row, &st) != 0) {
    std::string err = csv_strerror(csv_error(&p));
    csv_free(&p);
    throw Error::bad_request("malformed_csv", "the CSV file is malformed: " + err, "file");
  }
  csv_free(&p);
  return std::move(st.rows);
}

std::string export_csv(const Entity& e, const json::array& rows) {
  auto cols = columns_of(e);
  std::string out = "\xEF\xBB\xBF";  // so Excel reads the Chinese text as UTF-8
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
  out += "\r\n";
  for (auto& r : rows) {
    auto& o = r.as_object();
    for (size_t i = 0; i < cols.size(); ++i) {
      auto it = o.find(cols[i]);
      out += (i ? "," : "") + csv_quote(it == o.end() ? "" : cell_text(it->value()));
    }
    out += "\r\n";
  }
  return out;
}

std::string export_xlsx(const Entity& e, const json::array& rows) {
  auto cols = columns_of(e);
  auto path = std::filesystem::temp_directory_path() / ("kefu-export-" + crypto::random_token(9) + ".xlsx");
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) throw Error::internal("cannot create the spreadsheet");
  lxw_worksheet* ws = workbook_add_worksheet(wb, nullptr);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  for (size_t i = 0; i < cols.size(); ++i) {
    const Field* f = e.field(cols[i]);
    std::string title = f && !f->label_zh.empty() ? f->label_zh + " (" + cols[i] + ")" : cols[i];
    worksheet_write_string(ws, 0, lxw_col_t(i), title.c_str(), bold);
  }
  lxw_row_t r = 1;
  for (auto& row : rows) {
    auto& o = row.as_object();
    for (size_t i = 0; i < cols.size(); ++i) {
      auto it = o.find(cols[i]);
      if (it == o.end() || it->value().is_null()) continue;
      const auto& v = it->value();
      if (v.is_int64() && v.as_int64() < (int64_t(1) << 53))
        worksheet_write_number(ws, r, lxw_col_t(i), double(v.as_int64()), nullptr);
      else
        worksheet_write_string(ws, r, lxw_col_t(i), cell_text(v).c_str(), nullptr);
    }
    ++r;
  }
  lxw_error err = workbook_close(wb);
  std::string data;
  if (err == LXW_NO_ERROR) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    data = ss.str();
  }
  std::filesystem::remove(path);
  if (err != LXW_NO_ERROR) throw Error::internal(std::string("spreadsheet export failed: ") + lxw_strerror(err));
  return data;
}

ImportResult import_csv(const Repository& repo, const ReviewService& reviews, const Entity& e, const Principal& who,
                        const audit::Actor& actor, std::string_view csv, bool all_or_nothing) {
  auto rows = parse_csv(csv);
  if (rows.empty()) throw Error::bad_request("malformed_csv", "the file has no header row", "file");
  if (rows.size() > 100001) throw Error::bad_request("too_many_rows", "at most 100000 rows per import", "file");
  // Header cells are field names, or the "标签 (name)" titles our own export writes.
  std::vector<const Field*> fields;
  for (auto& h : rows[0]) {
    std::string name = h;
    if (auto open = name.rfind('('); open != std::string::npos && name.back() == ')')
      name = name.substr(open + 1, name.size() - open - 2);
    bool system = std::find(kSystemColumns.begin(), kSystemColumns.end(), name) != kSystemColumns.end();
    const Field* f = e.field(name);
    if (system) {
      fields.push_back(nullptr);  // exported bookkeeping columns are ignored on import
    } else if (!f || f->hidden || f->readonly) {
      throw Error::bad_request("unknown_column", "unknown column '" + h + "'", h);
    } else {
      fields.push_back(f);
    }
  }
  ImportResult result;
  auto row_error = [&](size_t row, const FieldError& fe) {
    result.errors.push_back(json::object{
        {"row", int64_t(row)}, {"field", fe.field}, {"code", fe.code}, {"message", fe.message}});
  };
  struct Rejected {};
  try {
  repo.db().write([&](store::Connection& c) {
    for (size_t i = 1; i < rows.size(); ++i) {
      const auto& cells = rows[i];
      if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
      size_t line = i + 1;                                  // as a spreadsheet numbers it
      if (cells.size() != fields.size()) {
        row_error(line, {"", "wrong_column_count",
                         "expected " + std::to_string(fields.size()) + " cells, found " + std::to_string(cells.size())});
        continue;
      }
      std::vector<FieldError> errs;
      json::object input;
      for (size_t k = 0; k < cells.size(); ++k)
        if (fields[k]) input[fields[k]->name] = from_text(*fields[k], cells[k], errs);
      json::object values;
      if (errs.empty()) values = validate_input(e, input, Mode::create, errs);
      if (!errs.empty()) {
        for (auto& fe : errs) row_error(line, fe);
        continue;
      }
      c.exec("SAVEPOINT import_row", {});
      try {
        auto out = write_entity(c, repo, reviews, e, who, actor, "create", 0, -1, values);
        c.exec("RELEASE SAVEPOINT import_row", {});
        if (out.contains("change_request")) ++result.submitted;
        else ++result.written;
      } catch (const Error& err) {
        c.exec("ROLLBACK TO SAVEPOINT import_row", {});
        c.exec("RELEASE SAVEPOINT import_row", {});
        if (err.details.empty()) row_error(line, {err.field(), err.code(), err.what()});
        for (auto& fe : err.details) row_error(line, fe);
      }
    }
    if (all_or_nothing && !result.errors.empty()) throw Rejected{};  // rolls the whole file back
  });
  } catch (const Rejected&) {
    result.written = result.submitted = 0;
    result.rejected = true;
  }
  return result;
}

}  // namespace kefu::meta
