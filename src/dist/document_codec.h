// Private: a Document as bytes, for the messages between ranks (changes sent
// to a shard's owner, candidates' documents sent to rank 0). Included as
// "src/dist/document_codec.h".
#ifndef HYMIR_SRC_DIST_DOCUMENT_CODEC_H_
#define HYMIR_SRC_DIST_DOCUMENT_CODEC_H_

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
  return true;
}

}  // namespace hymir::dist::codec

#endif  // HYMIR_SRC_DIST_DOCUMENT_CODEC_H_
