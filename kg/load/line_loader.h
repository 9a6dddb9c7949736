// Shared driver of the line-based loaders: reads a file line by line, hands
// each line to a parser, batches the triples into atomic AddBatch writes and
// applies the skip/fatal policy for bad lines. Private; included as
// "kg/load/line_loader.h".
#ifndef HYMIR_KG_LOAD_LINE_LOADER_H_
#define HYMIR_KG_LOAD_LINE_LOADER_H_

#include <functional>
#include <string>
#include <vector>

#include "hymir/kg/loader.h"

namespace hymir::kg::internal {

// Parses one line, appending its triples (zero or more) to *out. Returns
// false with *fault set when the line is malformed; nothing it appended is
// kept then.
using LineParser = std::function<bool(const std::string& line, std::vector<Triple>* out, std::string* fault)>;

// Called once after the last line (formats whose records span lines hand
// over their last record here); same contract as LineParser.
using EndParser = std::function<bool(std::vector<Triple>* out, std::string* fault)>;

// Loads `path` into `store`, accumulating into *stats (lines, triples, added,
// bad_lines, errors; not seconds). InvalidArgument "path:line: fault" on the
// first bad line unless options.skip_bad; NotFound when `path` is missing.
Status LoadLines(TripleStore& store, const std::string& path, const LoadOptions& options, const LineParser& parse,
                 LoadStats* stats, const EndParser& at_end = {});

// Position of the first byte of `s` that is NUL or not well-formed UTF-8
// (RFC 3629), npos if none.
size_t FirstBadByte(const std::string& s);

// Writes `triples` to `store` in atomic batches of options.batch_size,
// accumulating added/triples into *stats and reporting progress (bytes =
// triples written) as `file`. For loaders that read whole records at once.
Status WriteBatches(TripleStore& store, const std::string& file, std::vector<Triple>&& triples,
                    const LoadOptions& options, LoadStats* stats);

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_LOAD_LINE_LOADER_H_
