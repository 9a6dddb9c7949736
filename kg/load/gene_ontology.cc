// The Gene Ontology from Bioconductor's GO.sqlite (Debian r-bioc-go.db) into
// the triples LoadObo makes of the same ontology in OBO form.
//
// Tables read: go_term(_id, go_id, term, ontology, definition),
// go_synonym(_id, synonym, secondary, like_go_id) and go_{bp,mf,cc}_parents
// (_id, _parent_id, relationship_type). The file is opened read-only and
// immutable, so nothing (no journal, no lock file) is written beside it.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "hymir/kg/loader.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace {

class Db {
 public:
  ~Db() {
    if (db_ != nullptr) sqlite3_close(db_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    // URI form: read-only and immutable (no locking, no -journal/-wal files).
    std::string uri = "file:";
    for (char c : std::filesystem::absolute(path).string()) {
      if (c == '?' || c == '#' || c == '%') {
        char buf[4];
        std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
        uri += buf;
      } else {
        uri += c;
      }
    }
    uri += "?immutable=1";
    if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
      return Status::InvalidArgument(path + ": cannot open as SQLite: " + Error());
    }
    return Status::OK();
  }
  // Runs `sql`, calling `row` for every result row.
  template <typename Row>
  Status Query(const std::string& sql, Row&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return Status::InvalidArgument(path_ + ": not a GO.db database (" + Error() + ")");
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Status::Corruption(path_ + ": " + Error());
    return Status::OK();
  }

 private:
  std::string Error() const { return db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"; }
  sqlite3* db_ = nullptr;
  std::string path_;
};

std::string Text(sqlite3_stmt* stmt, int col) {
  const unsigned char* p = sqlite3_column_text(stmt, col);
  if (p == nullptr) return {};
  std::string s(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
  // Trim, and keep labels on one line as the OBO reader does.
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string Namespace(const std::string& ontology) {
  if (ontology == "BP") return "biological_process";
  if (ontology == "MF") return "molecular_function";
  if (ontology == "CC") return "cellular_component";
  return {};
}

// "isa" -> obo:is_a, "part of" -> obo:part_of, "negatively regulates" -> obo:negatively_regulates.
std::string Relation(std::string type) {
  if (type == "isa") return std::string(kOboIsA);
  for (char& c : type) {
    if (c == ' ') c = '_';
  }
  return "obo:" + type;
}

}  // namespace

Result<LoadStats> LoadGeneOntology(TripleStore& store, const std::string& sqlite_path, const LoadOptions& options) {
  auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_path, ec)) return Status::NotFound(sqlite_path + ": no such file");
  Db db;
  HYMIR_RETURN_IF_ERROR(db.Open(sqlite_path));

  LoadStats stats;
  std::unordered_map<int64_t, std::string> ids;  // go_term._id -> GO id
  std::vector<std::vector<Triple>> per_term;     // triples by term, in go_term order
  std::unordered_map<int64_t, size_t> slot;      // go_term._id -> index in per_term
  HYMIR_RETURN_IF_ERROR(
      db.Query("SELECT _id, go_id, term, ontology, definition FROM go_term ORDER BY go_id", [&](sqlite3_stmt* row) {
        std::string id = Text(row, 1);
        if (id.rfind("GO:", 0) != 0) return;  // the "all" root of GO.db is not a term
        const int64_t key = sqlite3_column_int64(row, 0);
        std::vector<Triple> t;
        if (std::string name = Text(row, 2); !name.empty()) t.push_back({id, std::string(kAliasRelation), name});
        if (std::string def = Text(row, 4); !def.empty()) t.push_back({id, std::string(kDefinitionRelation), def});
        if (std::string ns = Namespace(Text(row, 3)); !ns.empty()) t.push_back({id, std::string(kOboNamespace), ns});
        slot[key] = per_term.size();
        per_term.push_back(std::move(t));
        ids[key] = std::move(id);
      }));
  HYMIR_RETURN_IF_ERROR(db.Query("SELECT _id, synonym, secondary, like_go_id FROM go_synonym ORDER BY _id, rowid",
                                 [&](sqlite3_stmt* row) {
                                   auto it = slot.find(sqlite3_column_int64(row, 0));
                                   if (it == slot.end()) return;
                                   const std::string& id = ids[sqlite3_column_int64(row, 0)];
                                   if (sqlite3_column_int(row, 3) != 0) {
                                     std::string alt = Text(row, 2).empty() ? Text(row, 1) : Text(row, 2);
                                     if (!alt.empty())
                                       per_term[it->second].push_back({id, std::string(kOboAltId), alt});
                                   } else if (std::string syn = Text(row, 1); !syn.empty()) {
                                     per_term[it->second].push_back({id, std::string(kAliasRelation), syn});
                                   }
                                 }));
  for (const char* table : {"go_bp_parents", "go_mf_parents", "go_cc_parents"}) {
    HYMIR_RETURN_IF_ERROR(db.Query(
        std::string("SELECT _id, _parent_id, relationship_type FROM ") + table +
            " ORDER BY _id, _parent_id, relationship_type",
        [&](sqlite3_stmt* row) {
          auto child = slot.find(sqlite3_column_int64(row, 0));
          auto parent = ids.find(sqlite3_column_int64(row, 1));
          std::string type = Text(row, 2);
          if (child == slot.end() || parent == ids.end() || type.empty()) return;
          per_term[child->second].push_back({ids[sqlite3_column_int64(row, 0)], Relation(type), parent->second});
        }));
  }
  std::vector<Triple> all;
  for (auto& t : per_term) {
    for (Triple& x : t) all.push_back(std::move(x));
  }
  stats.entities = per_term.size();
  HYMIR_RETURN_IF_ERROR(internal::WriteBatches(store, sqlite_path, std::move(all), options, &stats));
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace hymir::kg
