#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (committed; run again after changing it): valid and broken audio
files for fuzz-decode, and request bodies and subscribe messages for fuzz-requests."""
import base64, json, math, os, struct

here = os.path.dirname(os.path.abspath(__file__))
decode, requests = os.path.join(here, "corpus/decode"), os.path.join(here, "corpus/requests")
os.makedirs(decode, exist_ok=True)
os.makedirs(requests, exist_ok=True)


def wav(samples, rate=8000, channels=1, bits=16, fmt=1, data_size=None, riff_size=None):
    if fmt == 3:
        body = b"".join(struct.pack("<f", s) for s in samples)
    elif bits == 16:
        body = b"".join(struct.pack("<h", max(-32768, min(32767, int(s * 32767)))) for s in samples)
    elif bits == 24:
        body = b"".join(struct.pack("<i", int(s * 8388607))[:3] for s in samples)
    else:
        body = bytes(int((s + 1) * 127.5) for s in samples)
    block = channels * bits // 8
    head = b"fmt " + struct.pack("<IHHIIHH", 16, fmt, channels, rate, rate * block, block, bits)
    data = b"data" + struct.pack("<I", len(body) if data_size is None else data_size) + body
    riff = 4 + len(head) + len(data)
    return b"RIFF" + struct.pack("<I", riff if riff_size is None else riff_size) + b"WAVE" + head + data


tone = [0.5 * math.sin(2 * math.pi * 440 * i / 8000) for i in range(800)]
cases = {
    "tone.wav": wav(tone),
    "stereo.wav": wav([s for s in tone for _ in range(2)], channels=2),
    "eight-channels.wav": wav([s for s in tone[:200] for _ in range(8)], channels=8),
    "24-bit.wav": wav(tone, bits=24),
    "8-bit.wav": wav(tone, bits=8),
    "float-nan-inf.wav": wav(tone[:100] + [float("nan"), float("inf"), float("-inf")] * 10, fmt=3, bits=32),
    "rate-1hz.wav": wav(tone[:50], rate=1),
    "rate-384k.wav": wav(tone, rate=384000),
    "zero-frames.wav": wav([]),
    "one-sample.wav": wav([0.25]),
    "truncated.wav": wav(tone)[:500],
    "lying-data-size.wav": wav(tone, data_size=0x7FFFFFF0),
    "lying-riff-size.wav": wav(tone, riff_size=8),
    "zero-channels.wav": wav(tone)[:22] + struct.pack("<H", 0) + wav(tone)[24:],
    "text.txt": b"just some words, no audio here\n",
    "zip.zip": b"PK\x03\x04" + bytes(26) + b"hello",
    "empty": b"",
}
fixtures = os.path.join(here, "..", "Tests", "Fixtures", "formats")
for name in sorted(os.listdir(fixtures)):
    if not name.endswith(".md"):
        with open(os.path.join(fixtures, name), "rb") as f:
            cases[name] = f.read()
for name, data in cases.items():
    with open(os.path.join(decode, name), "wb") as f:
        f.write(data)

small = wav(tone[:200])
boundary = b"hArK"
multipart = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
             b"Content-Type: audio/wav\r\n\r\n" + small + b"\r\n--" + boundary + b"--\r\n")
requests_cases = {
    "raw": b"\x00" + small,
    "json": b"\x01" + json.dumps({"audio_data": base64.b64encode(small).decode()}).encode(),
    "json-data-url": b"\x01" + json.dumps({"audio_data": "data:audio/wav;base64," + base64.b64encode(small).decode()}).encode(),
    "json-bad-base64": b"\x01" + b'{"audio_data": "%%%not base64%%%"}',
    "json-wrong-type": b"\x01" + b'{"audio_data": 42}',
    "multipart": b"\x02" + multipart,
    "multipart-torn": b"\x02" + multipart[: len(multipart) // 2],
    "content-type": b"\x03" + b"multipart/form-data; boundary=\"q\"; charset=utf-8\n--q\r\n\r\n--q--",
    "subscribe": b"\x04" + json.dumps({"type": "subscribe", "kinds": ["event", "maps"], "layers": ["layer1"], "max_rate": 2,
                                       "spectrogram": "window"}).encode(),
    "subscribe-bad": b"\x04" + b'{"type":"subscribe","kinds":["nope"],"max_rate":-1}',
    "query": b"\x04" + b"kinds=event,window,maps&layers=layer1,layer4&max_rate=0.5&spectrogram=new",
}
for name, data in requests_cases.items():
    with open(os.path.join(requests, name), "wb") as f:
        f.write(data)
print(f"{len(cases)} decode seeds, {len(requests_cases)} request seeds")
