// Audio: decoded sound as mono samples, read with libsndfile (WAV, FLAC,
// Ogg/Vorbis, ... as the Debian build supports).
//
// Thread-safety: Audio is a plain value type; the functions are pure and may
// run concurrently.
#ifndef HYMIR_MEDIA_AUDIO_H_
#define HYMIR_MEDIA_AUDIO_H_

#include <string>
#include <vector>

#include "hymir/result.h"

namespace hymir::media {

struct Audio {
  int sample_rate = 0;         // Hz
  std::vector<float> samples;  // mono (channels averaged), in [-1, 1]
  friend bool operator==(const Audio&, const Audio&) = default;
};

// Longest sound read, in seconds; longer files are refused (InvalidArgument)
// rather than allocated. Default libsndfile would read any length.
inline constexpr double kMaxAudioSeconds = 600.0;

// Reads and decodes the file at `path`. NotFound when it does not exist,
// Corruption (naming the path and libsndfile's message) when it does not
// decode.
Result<Audio> ReadAudio(const std::string& path);
// Writes `audio` as 16-bit PCM WAV (tests and fixtures). InvalidArgument for
// a sample rate <= 0, IOError when the file cannot be written.
Status WriteWav(const std::string& path, const Audio& audio);

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_AUDIO_H_
