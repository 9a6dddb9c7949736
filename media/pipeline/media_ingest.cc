#include "hymir/media/media_ingest.h"

#include <atomic>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "hymir/index/index_writer.h"
#include "hymir/ingest.h"

namespace hymir::media {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs fn(i) for i in [0, n) on `threads` threads; the first failure wins.
template <typename Fn>
Status ParallelFor(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first;
}

struct Decoded {
  bool ok = false;
  std::string error;
  std::vector<float> colour;
  LocalDescriptors patches;
  std::vector<float> sound;  // empty: none
  std::string sound_error;
};

// The decoded and encoded items as documents:
//   id = item id, title = caption, domain = category, fields {subcategory,
//   path, sound + has_sound with a sound}, vectors {colour, texture, sound}.
class DescribedItems : public DocumentSource {
 public:
  DescribedItems(const MediaCollection& collection, std::vector<Decoded>& decoded,
                 std::vector<std::vector<float>>& texture)
      : collection_(collection), decoded_(decoded), texture_(texture) {}
  Result<bool> Next(Document* doc) override {
    while (next_ < decoded_.size() && !decoded_[next_].ok) ++next_;
    if (next_ == decoded_.size()) return false;
    current_ = next_++;
    const MediaItem& item = collection_.items[current_];
    Decoded& described = decoded_[current_];
    *doc = Document();
    doc->id = item.id;
    doc->title = item.caption;
    doc->domain = item.category;
    doc->fields["subcategory"] = item.subcategory;
    doc->fields["path"] = item.path;
    doc->vectors[kColourField] = std::move(described.colour);
    if (!described.sound.empty()) {
      doc->vectors[kSoundField] = std::move(described.sound);
      doc->fields["sound"] = item.sound;
      doc->fields["has_sound"] = "yes";
    }
    doc->vectors[kTextureField] = std::move(texture_[current_]);
    return true;
  }
  std::string Where() const override { return collection_.items[current_].path; }

 private:
  const MediaCollection& collection_;
  std::vector<Decoded>& decoded_;
  std::vector<std::vector<float>>& texture_;
  size_t next_ = 0, current_ = 0;
};

}  // namespace

Result<IngestReport> IngestMedia(const MediaCollection& collection, const std::string& dir,
                                 const IngestOptions& options) {
  const auto start = Clock::now();
  if (options.threads < 1) return Status::InvalidArgument("ingest: threads must be >= 1");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) &&
      !(std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec)))
    return Status::AlreadyExists(dir + ": exists and is not an empty directory (ingest builds a new index)");
  const MediaDescriptorOptions& d = options.descriptors;
  {  // Bad options would fail every image: refuse them up front.
    const Image probe = SolidImage(16, 16, 0, 0, 0);
    HYMIR_RETURN_IF_ERROR(ColourHistogram(probe, d.colour).status().WithContext("ingest"));
    HYMIR_RETURN_IF_ERROR(GradientPatches(probe, d.patches).status().WithContext("ingest"));
    if (d.sound) {
      Audio tone{16000, std::vector<float>(16000)};
      for (size_t i = 0; i < tone.samples.size(); ++i) tone.samples[i] = static_cast<float>(0.5 * std::sin(0.4 * i));
      HYMIR_RETURN_IF_ERROR(SoundSpectrum(tone, d.spectrum).status().WithContext("ingest"));
    }
  }

  // Pass 1: decode, colour histogram, gradient patches.
  const size_t n = collection.items.size();
  std::vector<Decoded> decoded(n);
  std::mutex progress_mu;
  size_t done = 0;
  HYMIR_RETURN_IF_ERROR(ParallelFor(n, options.threads, [&](size_t i) -> Status {
    Decoded& out = decoded[i];
    auto image = ReadImage(collection.items[i].path);
    if (image.ok()) {
      auto colour = ColourHistogram(*image, d.colour);
      auto patches = colour.ok() ? GradientPatches(*image, d.patches) : Result<LocalDescriptors>(colour.status());
      if (patches.ok()) {
        out.ok = true;
        out.colour = std::move(colour).value();
        out.patches = std::move(patches).value();
      } else {
        out.error = patches.status().ToString();
      }
    } else {
      out.error = image.status().ToString();
    }
    if (out.ok && d.sound && !collection.items[i].sound.empty()) {
      auto audio = ReadAudio(collection.items[i].sound);
      auto spectrum = audio.ok() ? SoundSpectrum(*audio, d.spectrum) : Result<std::vector<float>>(audio.status());
      if (spectrum.ok())
        out.sound = std::move(spectrum).value();
      else
        out.sound_error = spectrum.status().ToString();
    }
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progress_mu);
      options.progress(++done, n);
    }
    return Status::OK();
  }));
  IngestReport report;
  report.decode_seconds = Since(start);
  LocalDescriptors pooled;
  pooled.dimension = GradientPatchDimension(d.patches);
  size_t good = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!decoded[i].ok) {
      report.failed.push_back({collection.items[i].path, decoded[i].error});
      continue;
    }
    ++good;
    if (!decoded[i].sound_error.empty()) report.failed.push_back({collection.items[i].sound, decoded[i].sound_error});
    if (!decoded[i].sound.empty()) ++report.sounds;
    pooled.values.insert(pooled.values.end(), decoded[i].patches.values.begin(), decoded[i].patches.values.end());
  }
  if (good == 0) return Status::InvalidArgument("ingest: no image of " + std::to_string(n) + " could be decoded");
  report.local_descriptors = pooled.count();

  // Pass 2: the visual vocabulary.
  const auto vocabulary_start = Clock::now();
  HYMIR_ASSIGN_OR_RETURN(VisualVocabulary vocabulary, VisualVocabulary::Train(pooled, d.vocabulary));
  pooled = LocalDescriptors{};
  report.vocabulary_seconds = Since(vocabulary_start);

  // Pass 3: encode; then upsert (hymir's ingest: batches on `threads`
  // workers) and one commit.
  const auto index_start = Clock::now();
  MediaDescriber describer(d, std::move(vocabulary));
  std::vector<std::vector<float>> texture(n);
  HYMIR_RETURN_IF_ERROR(ParallelFor(n, options.threads, [&](size_t i) -> Status {
    if (!decoded[i].ok) return Status::OK();
    HYMIR_ASSIGN_OR_RETURN(texture[i], describer.vocabulary().Encode(decoded[i].patches));
    decoded[i].patches = LocalDescriptors{};
    return Status::OK();
  }));
  index::IndexWriterOptions wo;
  wo.vector_fields = describer.FieldSpecs();
  HYMIR_ASSIGN_OR_RETURN(auto writer, index::IndexWriter::Open(dir, wo));
  DescribedItems items(collection, decoded, texture);
  hymir::IngestOptions ingest;
  ingest.threads = options.threads;
  ingest.batch_size = 16;
  HYMIR_RETURN_IF_ERROR(hymir::IngestDocuments(items, *writer, ingest).status());
  // The describer first: without a commit there is no index; a commit
  // without media.json would be an index whose images cannot be queried.
  HYMIR_RETURN_IF_ERROR(describer.Save(dir));
  HYMIR_RETURN_IF_ERROR(writer->Commit());
  report.indexed = good;
  report.index_seconds = Since(index_start);
  report.seconds = Since(start);
  return report;
}

}  // namespace hymir::media
