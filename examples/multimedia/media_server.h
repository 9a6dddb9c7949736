// `hymir-media serve`: a small search page over a media index with
// thumbnails and "more like this", on cpp-httplib.
//
//   GET /               the page; ?q=TEXT&like=ID&filter=FIELD:VALUE run a search on load
//   GET /api/search     q (text), like (a document id: query by its image), filter
//                       (repeatable), k -> {"hits": [{"rank", "id", "score", "caption",
//                       "category", "thumbnail", "stages": {bm25, colour, texture, fused}}]}
//   GET /thumb          id -> PNG, the document's image scaled to at most 96 px
//
// Errors are JSON {"error"}: 400 for a bad parameter, 404 for an unknown id.
//
// Thread-safety: the handlers only read the engine (concurrent searches are
// allowed); the engine must outlive the server.
#ifndef HYMIR_EXAMPLES_MULTIMEDIA_MEDIA_SERVER_H_
#define HYMIR_EXAMPLES_MULTIMEDIA_MEDIA_SERVER_H_

#include <hymir/engine.h>

#include <map>
#include <string>

namespace httplib {
class Server;
}

namespace hymir::media_cli {

inline constexpr int kThumbnailSide = 96;

struct MediaReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using MediaParams = std::multimap<std::string, std::string>;

MediaReply MediaSearch(const Engine& engine, const MediaParams& params);
MediaReply MediaThumbnail(const Engine& engine, const MediaParams& params);
const char* MediaPage();

// Registers the routes on `server`.
void MountMediaRoutes(const Engine& engine, httplib::Server& server);

}  // namespace hymir::media_cli

#endif  // HYMIR_EXAMPLES_MULTIMEDIA_MEDIA_SERVER_H_
