// Private: a phrase's frequency in one document from its terms' positions,
// as Lucene's exact and sloppy phrase matchers count it.
#ifndef HYMIR_INDEX_LUCENE_PHRASE_FREQ_H_
#define HYMIR_INDEX_LUCENE_PHRASE_FREQ_H_

#include <cstdint>
#include <span>
#include <vector>

namespace hymir::index::internal {

// One term's positions in a document, ascending.
using PosList = std::span<const int32_t>;

// Lucene's ExactPhraseMatcher frequency: the start positions where every
// term t sits at start + offsets[t].
double ExactFreq(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets);

// Lucene's SloppyPhraseMatcher frequency (without its special handling of
// repeated terms): the sum over matches of 1 / (1 + match length). Each term
// walks its positions less its offset; the term behind all others moves on,
// and a match of length (furthest ahead - behind) is counted when the one
// behind passes the next. Lucene's PhraseQueue (by position, then offset,
// then term order) is a scan of a small array here, for up to 16 terms.
double SloppyFreq(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets, int32_t slop);

// The same with a priority queue as Lucene's PhraseQueue (any number of
// terms): the reference SloppyFreq must equal, bit for bit.
double SloppyFreqByQueue(const std::vector<PosList>& pos, const std::vector<int32_t>& offsets, int32_t slop);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_PHRASE_FREQ_H_
