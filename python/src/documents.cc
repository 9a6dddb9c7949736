// Documents as Python dicts, and NumPy arrays read through the buffer
// protocol.
#include <string>

#include "python/src/common.h"

namespace hymir::python {
namespace {

// One typed value (str, int, float, bool) of a document dict.
FieldValue ValueFrom(const py::handle& v, const std::string& where) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) return v.cast<int64_t>();
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  throw py::type_error(where + ": expected str, int, float or bool, got " +
                       std::string(py::str(py::type::handle_of(v).attr("__name__"))));
}

py::object ValueTo(const FieldValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

// The text form of a scalar as the corpus reader stores it in
// Document::fields (true/false for booleans).
std::string TextOf(const FieldValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return py::str(py::float_(std::get<double>(v))).cast<std::string>();
}

std::string Str(const py::handle& v, const std::string& where) {
  if (!py::isinstance<py::str>(v)) throw py::type_error(where + ": expected str");
  return v.cast<std::string>();
}

}  // namespace

FloatView::FloatView(const py::handle& object, const char* what) {
  array_ = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(object);
  if (!array_) throw py::type_error(std::string(what) + ": expected a float32 array or a sequence of numbers");
  if (array_.ndim() != 1) {
    throw py::value_error(std::string(what) + ": expected a 1-D array, got " + std::to_string(array_.ndim()) +
                          " dimensions");
  }
  span_ = {array_.data(), static_cast<size_t>(array_.shape(0))};
}

MatrixView::MatrixView(const py::handle& object, const char* what) {
  array_ = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(object);
  if (!array_) throw py::type_error(std::string(what) + ": expected a 2-D float32 array");
  if (array_.ndim() != 2) {
    throw py::value_error(std::string(what) + ": expected a 2-D array (n x dimension), got " +
                          std::to_string(array_.ndim()) + " dimensions");
  }
  data_ = array_.data();
  rows_ = static_cast<size_t>(array_.shape(0));
  cols_ = static_cast<size_t>(array_.shape(1));
}

py::array_t<float> ToArray(std::vector<float> v) {
  auto* owned = new std::vector<float>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({owned->size()}, {sizeof(float)}, owned->data(), free_when_done);
}

Document DocumentFromDict(const py::handle& object) {
  if (!py::isinstance<py::dict>(object)) throw py::type_error("document: expected a dict");
  py::dict d = py::reinterpret_borrow<py::dict>(object);
  Document doc;
  if (d.contains("id")) {
    doc.id = py::isinstance<py::int_>(d["id"]) ? std::to_string(d["id"].cast<int64_t>()) : Str(d["id"], "id");
  } else if (d.contains("_id")) {
    doc.id = py::isinstance<py::int_>(d["_id"]) ? std::to_string(d["_id"].cast<int64_t>()) : Str(d["_id"], "_id");
  } else {
    throw py::value_error("document: no \"id\" (or \"_id\") key");
  }
  const std::string where = "document " + doc.id;
  for (auto [key_h, value] : d) {
    const std::string key = Str(key_h, where + ": a key");
    if (key == "id" || key == "_id") continue;
    if (value.is_none()) continue;
    if (key == "title") {
      doc.title = Str(value, where + ": title");
    } else if (key == "text") {
      doc.text = Str(value, where + ": text");
    } else if (key == "domain") {
      doc.domain = Str(value, where + ": domain");
    } else if (key == "fields") {
      for (auto [k, v] : py::reinterpret_borrow<py::dict>(value)) {
        doc.fields[Str(k, where + ": fields")] = Str(v, where + ": fields[" + std::string(py::str(k)) + "]");
      }
    } else if (key == "values") {
      for (auto [k, v] : py::reinterpret_borrow<py::dict>(value)) {
        const std::string name = Str(k, where + ": values");
        auto& out = doc.values[name];
        if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
          for (auto item : v) out.push_back(ValueFrom(item, where + ": values[" + name + "]"));
        } else {
          out.push_back(ValueFrom(v, where + ": values[" + name + "]"));
        }
      }
    } else if (key == "vectors") {
      for (auto [k, v] : py::reinterpret_borrow<py::dict>(value)) {
        const std::string name = Str(k, where + ": vectors");
        doc.vectors[name] = FloatView(v, (where + ": vectors[" + name + "]").c_str()).vector();
      }
    } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
      // Arrays of scalars: multi-valued typed values only (as the corpus reader).
      auto& out = doc.values[key];
      for (auto item : value) out.push_back(ValueFrom(item, where + ": " + key));
    } else if (py::isinstance<py::dict>(value)) {
      continue;  // nested objects are not fields (as the corpus reader's "metadata")
    } else {
      FieldValue v = ValueFrom(value, where + ": " + key);
      doc.fields[key] = TextOf(v);
      doc.values[key].push_back(std::move(v));
    }
  }
  return doc;
}

py::dict DocumentToDict(const Document& doc) {
  py::dict d;
  d["id"] = doc.id;
  d["title"] = doc.title;
  d["text"] = doc.text;
  if (doc.domain) d["domain"] = *doc.domain;
  py::dict fields;
  for (const auto& [k, v] : doc.fields) fields[py::str(k)] = v;
  d["fields"] = fields;
  if (!doc.values.empty()) {
    py::dict values;
    for (const auto& [k, vs] : doc.values) {
      py::list l;
      for (const FieldValue& v : vs) l.append(ValueTo(v));
      values[py::str(k)] = l;
    }
    d["values"] = values;
  }
  if (!doc.vectors.empty()) {
    py::dict vectors;
    for (const auto& [k, v] : doc.vectors) vectors[py::str(k)] = ToArray(v);
    d["vectors"] = vectors;
  }
  return d;
}

void RegisterDocuments(py::module_& m) {
  m.def(
      "_document_roundtrip", [](const py::dict& d) { return DocumentToDict(DocumentFromDict(d)); }, py::arg("doc"),
      "The dict `doc` read as a document and written back (for tests of the conversion).");
}

std::vector<std::string> StringList(const py::handle& object, const char* what) {
  std::vector<std::string> out;
  if (object.is_none()) return out;
  if (py::isinstance<py::str>(object)) return {object.cast<std::string>()};
  for (auto item : object) {
    if (!py::isinstance<py::str>(item)) throw py::type_error(std::string(what) + ": expected a list of str");
    out.push_back(item.cast<std::string>());
  }
  return out;
}

}  // namespace hymir::python
