/* WAV (RIFF, 16-bit little-endian PCM) as TensorFlow's wav_io writes and
 * reads it: EncodeWav, DecodeWav (audio_wav.c) and AudioSummaryV2
 * (summary.c). Samples are floats in [-1, 1): written as
 * round(x * 32768) clamped to int16, read back as v / 32768. */
#ifndef TFC_OPS_AUDIO_WAV_H
#define TFC_OPS_AUDIO_WAV_H

#include <stddef.h>
#include <stdint.h>

enum { WAV_HEADER = 44 };

/* Bytes of the WAV of `frames` frames of `channels` channels; 0 when it
 * would not fit WAV's 32-bit sizes. */
size_t wav_size(int64_t frames, int64_t channels);
/* Writes that many bytes at out: the 44-byte header, then the samples
 * (audio holds frames * channels floats, interleaved). */
void wav_encode(const float *audio, int64_t frames, int64_t channels, uint32_t sample_rate,
                uint8_t *out);

/* A decoded WAV's layout: its samples stay in the input bytes. */
typedef struct wav_info {
    uint16_t channels;
    uint32_t sample_rate;
    uint32_t frames;
    const uint8_t *samples; /* frames * channels int16, little-endian */
} wav_info;

/* Reads a WAV's header and finds its data chunk. 0, or -1 with a message
 * (TensorFlow's wording) in err. */
int wav_decode(const uint8_t *p, size_t n, wav_info *w, char *err, size_t errlen);

#endif
