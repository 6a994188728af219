"""WAV greetings: check an uploaded file and convert it to what Asterisk plays natively.

Asterisk's ``format_wav`` plays ``.wav`` files holding 16-bit signed linear PCM, mono,
at 8 kHz: the rate of every G.711 call, so nothing is lost on the phone line. An upload
is accepted when it is a RIFF/WAVE file with integer PCM (8, 16, 24 or 32 bits) or 32-bit
IEEE float samples, any number of channels and any rate from 8 kHz to 96 kHz; it is
mixed down to mono and resampled to 8 kHz. Anything else (compressed WAV such as
ADPCM or GSM, MP3, a truncated file) is refused with the reason.

Pure standard library (``struct``, ``array``): no numpy, and no ``audioop`` (deprecated,
gone in Python 3.13). Resampling averages the input samples that fall into each output
sample's interval (a box filter): a crude low-pass that keeps speech clear and avoids
most aliasing, at well under a second for the longest greeting allowed.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from array import array
from dataclasses import dataclass
from itertools import accumulate

TARGET_RATE = 8000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_DURATION_S = 300
MIN_RATE, MAX_RATE = 8000, 96000

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
# The first two bytes of the sub-format GUID of WAVE_FORMAT_EXTENSIBLE are the format tag.
_SUBFORMAT_TAIL = bytes.fromhex("000000001000800000aa00389b71")
_KNOWN_TAGS = {0x0002: "Microsoft ADPCM", 0x0006: "A-law", 0x0007: "µ-law", 0x0011: "IMA ADPCM",
               0x0031: "GSM 6.10", 0x0055: "MP3"}


class AudioProblem(ValueError):
    """Why an upload is not an acceptable greeting (a sentence to show the caller)."""


@dataclass(frozen=True, slots=True)
class Greeting:
    """A converted greeting: the WAV file Asterisk plays, and what it came from."""

    wav: bytes
    duration_ms: int
    uploaded_format: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.wav).hexdigest()


def convert(data: bytes) -> Greeting:
    """Check an uploaded WAV file and convert it to 16-bit PCM, mono, 8 kHz (``AudioProblem`` when refused)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise AudioProblem(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    tag, channels, rate, bits, frames = _parse(data)
    described = f"{'float' if tag == _FLOAT else 'PCM'} {bits}-bit, {channels} channel{'s' * (channels > 1)}, {rate} Hz"
    if len(frames) == 0:
        raise AudioProblem("The file holds no audio")
    frame_count = len(frames) // (channels * bits // 8)
    duration_s = frame_count / rate
    if duration_s > MAX_DURATION_S:
        raise AudioProblem(f"The greeting lasts {duration_s:.0f} s; at most {MAX_DURATION_S // 60} minutes are allowed")
    samples = _decode(frames[:frame_count * channels * bits // 8], tag, bits)
    mono = _mix_down(samples, channels)
    resampled = _resample(mono, rate, TARGET_RATE)
    return Greeting(wav=wav_bytes(resampled, TARGET_RATE), duration_ms=round(len(resampled) * 1000 / TARGET_RATE),
                    uploaded_format=described)


def wav_bytes(samples: array, rate: int) -> bytes:
    """A canonical 44-byte-header WAV file of 16-bit mono PCM samples."""
    pcm = samples if sys.byteorder == "little" else _swapped(samples)
    body = pcm.tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16, _PCM, 1, rate,
                         rate * 2, 2, 16, b"data", len(body))
    return header + body


def _swapped(samples: array) -> array:
    copy = array(samples.typecode, samples)
    copy.byteswap()
    return copy


def _parse(data: bytes) -> tuple[int, int, int, int, bytes]:
    """(format tag, channels, rate, bits per sample, sample bytes) of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioProblem("The file is not a WAV file (no RIFF/WAVE header)")
    fmt = None
    frames = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8: offset + 8 + size]
        if chunk_id == b"fmt ":
            fmt = body
        elif chunk_id == b"data":
            frames = body  # a truncated data chunk keeps what is there
            if fmt is not None:
                break
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    if fmt is None or len(fmt) < 16:
        raise AudioProblem("The WAV file has no format (fmt) chunk")
    if frames is None:
        raise AudioProblem("The WAV file has no data chunk")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40 or fmt[26:40] != _SUBFORMAT_TAIL:
            raise AudioProblem("The WAV file uses an unknown extensible sub-format")
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if tag not in (_PCM, _FLOAT):
        name = _KNOWN_TAGS.get(tag, f"format {tag:#06x}")
        raise AudioProblem(f"The WAV file is compressed ({name}); upload uncompressed PCM")
    if tag == _PCM and bits not in (8, 16, 24, 32) or tag == _FLOAT and bits != 32:
        raise AudioProblem(f"{bits}-bit samples are not supported; use 16-bit PCM")
    if not 1 <= channels <= 8:
        raise AudioProblem(f"The WAV file has {channels} channels; at most 8 are supported")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioProblem(f"The sample rate {rate} Hz is outside {MIN_RATE}–{MAX_RATE} Hz")
    if block_align != channels * bits // 8:
        raise AudioProblem("The WAV file's format chunk is inconsistent (block align)")
    return tag, channels, rate, bits, frames


def _decode(frames: bytes, tag: int, bits: int) -> array:
    """Samples as 16-bit signed integers (an ``array('h')``)."""
    if tag == _FLOAT:
        floats = array("f", frames)
        if sys.byteorder != "little":
            floats.byteswap()
        return array("h", (max(-32768, min(32767, int(value * 32767.0))) for value in floats))
    if bits == 16:
        samples = array("h", frames)
        return samples if sys.byteorder == "little" else _swapped(samples)
    if bits == 8:  # unsigned, 128 is silence
        return array("h", ((byte - 128) << 8 for byte in frames))
    # 24 and 32 bits: keep the two most significant bytes of each little-endian sample.
    width = bits // 8
    high = bytearray(len(frames) // width * 2)
    high[0::2] = frames[width - 2::width]
    high[1::2] = frames[width - 1::width]
    samples = array("h", bytes(high))
    return samples if sys.byteorder == "little" else _swapped(samples)


def _mix_down(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    columns = [samples[channel::channels] for channel in range(channels)]
    return array("h", (sum(frame) // channels for frame in zip(*columns, strict=True)))


def _resample(samples: array, rate: int, target: int) -> array:
    """Each output sample is the mean of the input samples in its interval (box low-pass, then decimate)."""
    if rate == target:
        return samples
    count = len(samples) * target // rate
    sums = [0, *accumulate(samples)]
    bounds = [index * rate // target for index in range(count + 1)]
    if rate < target:  # never reached with MIN_RATE == TARGET_RATE; kept correct: nearest sample
        return array("h", (samples[min(b, len(samples) - 1)] for b in bounds[:-1]))
    return array("h", ((sums[end] - sums[start]) // (end - start) for start, end in zip(bounds, bounds[1:])))
