// Private: a Document as bytes, for the messages between ranks (changes sent
// to a shard's owner, candidates' documents sent to rank 0). Included as
// "src/dist/document_codec.h".
#ifndef HYMIR_SRC_DIST_DOCUMENT_CODEC_H_
#define HYMIR_SRC_DIST_DOCUMENT_CODEC_H_

#include <variant>

#include "hymir/document.h"
#include "src/core/binary_io.h"

namespace hymir::dist::codec {

inline void EncodeDocument(hymir::internal::BinaryWriter& w, const Document& d) {
  w.Str(d.id);
  w.Str(d.title);
  w.Str(d.text);
  w.U32(d.domain ? 1 : 0);
  if (d.domain) w.Str(*d.domain);
  w.U32(static_cast<uint32_t>(d.fields.size()));
  for (const auto& [k, v] : d.fields) {
    w.Str(k);
    w.Str(v);
  }
  w.U32(static_cast<uint32_t>(d.vectors.size()));
  for (const auto& [k, v] : d.vectors) {
    w.Str(k);
    w.Pods(v);
  }
  // Typed values: per value its variant index, then the value.
  w.U32(static_cast<uint32_t>(d.values.size()));
  for (const auto& [k, list] : d.values) {
    w.Str(k);
    w.U32(static_cast<uint32_t>(list.size()));
    for (const FieldValue& v : list) {
      w.U32(static_cast<uint32_t>(v.index()));
      if (const auto* s = std::get_if<std::string>(&v)) {
        w.Str(*s);
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        w.Raw(i, sizeof *i);
      } else if (const auto* x = std::get_if<double>(&v)) {
        w.Raw(x, sizeof *x);
      } else {
        w.U32(std::get<bool>(v) ? 1 : 0);
      }
    }
  }
}

// False when the bytes end early or do not hold a document.
inline bool DecodeDocument(hymir::internal::BinaryReader& r, Document* d) {
  uint32_t has_domain = 0, n = 0;
  if (!r.Str(&d->id) || !r.Str(&d->title) || !r.Str(&d->text) || !r.U32(&has_domain)) return false;
  if (has_domain) {
    std::string domain;
    if (!r.Str(&domain)) return false;
    d->domain = std::move(domain);
  }
  if (!r.U32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.Str(&k) || !r.Str(&v)) return false;
    d->fields.emplace(std::move(k), std::move(v));
  }
  if (!r.U32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k;
    std::vector<float> v;
    if (!r.Str(&k) || !r.Pods(&v)) return false;
    d->vectors.emplace(std::move(k), std::move(v));
  }
  if (!r.U32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k;
    uint32_t count = 0;
    if (!r.Str(&k) || !r.U32(&count)) return false;
    std::vector<FieldValue> list;
    for (uint32_t j = 0; j < count; ++j) {
      uint32_t kind = 0;
      if (!r.U32(&kind)) return false;
      if (kind == 0) {
        std::string s;
        if (!r.Str(&s)) return false;
        list.emplace_back(std::move(s));
      } else if (kind == 1) {
        int64_t x = 0;
        if (!r.Raw(&x, sizeof x)) return false;
        list.emplace_back(x);
      } else if (kind == 2) {
        double x = 0;
        if (!r.Raw(&x, sizeof x)) return false;
        list.emplace_back(x);
      } else if (kind == 3) {
        uint32_t b = 0;
        if (!r.U32(&b)) return false;
        list.emplace_back(b != 0);
      } else {
        return false;
      }
    }
    d->values.emplace(std::move(k), std::move(list));
  }
  return true;
}

}  // namespace hymir::dist::codec

#endif  // HYMIR_SRC_DIST_DOCUMENT_CODEC_H_
