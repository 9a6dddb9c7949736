// Audio decoding through libsndfile (the only libsndfile user).
#include "hymir/media/audio.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace hymir::media {

Result<Audio> ReadAudio(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::NotFound(path + ": no such file");
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return Status::Corruption(path + ": " + sf_strerror(nullptr));
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.channels < 1 || info.samplerate < 1)
    return Status::Corruption(path + ": " + std::to_string(info.channels) + " channels at " +
                              std::to_string(info.samplerate) + " Hz");
  if (static_cast<double>(info.frames) > kMaxAudioSeconds * info.samplerate)
    return Status::InvalidArgument(path + ": longer than " + std::to_string(static_cast<int>(kMaxAudioSeconds)) + " s");
  Audio out;
  out.sample_rate = info.samplerate;
  std::vector<float> buffer(static_cast<size_t>(4096) * info.channels);
  for (;;) {
    const sf_count_t got = sf_readf_float(f, buffer.data(), 4096);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      double sum = 0;
      for (int c = 0; c < info.channels; ++c) sum += buffer[static_cast<size_t>(i) * info.channels + c];
      out.samples.push_back(static_cast<float>(sum / info.channels));
    }
  }
  if (sf_error(f) != SF_ERR_NO_ERROR) return Status::Corruption(path + ": " + sf_strerror(f));
  return out;
}

Status WriteWav(const std::string& path, const Audio& audio) {
  if (audio.sample_rate <= 0) return Status::InvalidArgument("wav: sample rate must be > 0");
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) return Status::IOError(path + ": " + sf_strerror(nullptr));
  const sf_count_t n = static_cast<sf_count_t>(audio.samples.size());
  const sf_count_t wrote = sf_writef_float(f, audio.samples.data(), n);
  const int closed = sf_close(f);
  if (wrote != n || closed != 0) return Status::IOError(path + ": short write");
  return Status::OK();
}

}  // namespace hymir::media
