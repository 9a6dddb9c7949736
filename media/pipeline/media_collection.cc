#include "hymir/media/media_collection.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace hymir::media {
namespace {

namespace fs = std::filesystem;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Preference of an image extension (lower wins); -1 = not an image.
int FormatRank(const std::string& ext) {
  static const std::map<std::string, int> kRank = {{".png", 0}, {".jpg", 1}, {".jpeg", 1}, {".webp", 2},
                                                   {".bmp", 3}, {".tif", 4}, {".tiff", 4}, {".svg", 9}};
  auto it = kRank.find(ext);
  return it == kRank.end() ? -1 : it->second;
}

std::string Caption(const fs::path& txt, const std::string& stem) {
  std::ifstream in(txt);
  std::string line;
  if (in && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) return line;
  }
  std::string s = stem;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

}  // namespace

Result<MediaCollection> ScanMediaDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": not a directory");
  // (folder relative to dir, stem) -> best image path
  std::map<std::pair<std::string, std::string>, fs::path> best;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) return Status::IOError(dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IOError(dir + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const fs::path& p = it->path();
    const int rank = FormatRank(Lower(p.extension().string()));
    if (rank < 0) continue;
    const std::string folder = fs::relative(p.parent_path(), dir, ec).generic_string();
    auto key = std::make_pair(folder == "." ? std::string() : folder, p.stem().string());
    auto found = best.find(key);
    if (found == best.end() || rank < FormatRank(Lower(found->second.extension().string()))) best[key] = p;
  }
  MediaCollection out;
  for (const auto& [key, path] : best) {
    const auto& [folder, stem] = key;
    bool variant = false;
    for (const char* suffix : {"_mirror", "_flip"}) {
      const std::string s = suffix;
      if (stem.size() > s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0 &&
          best.count({folder, stem.substr(0, stem.size() - s.size())})) {
        out.skipped.push_back({path.string(), "variant of " + stem.substr(0, stem.size() - s.size())});
        variant = true;
      }
    }
    if (variant) continue;
    MediaItem item;
    item.id = folder.empty() ? stem : folder + "/" + stem;
    // Ids hold no whitespace or control bytes (CheckId): "my owl" -> "my_owl".
    for (char& ch : item.id) {
      if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) ch = '_';
    }
    item.path = path.string();
    fs::path txt = path;
    txt.replace_extension(".txt");
    item.caption = Caption(txt, stem);
    for (const char* ext : {".ogg", ".wav", ".flac"}) {
      fs::path sound = path;
      sound.replace_extension(ext);
      if (fs::is_regular_file(sound, ec)) {
        item.sound = sound.string();
        break;
      }
    }
    item.subcategory = folder;
    item.category = folder.empty() ? "uncategorised" : folder.substr(0, folder.find('/'));
    out.items.push_back(std::move(item));
  }
  std::sort(out.items.begin(), out.items.end(), [](const MediaItem& a, const MediaItem& b) { return a.id < b.id; });
  return out;
}

}  // namespace hymir::media
