#!/usr/bin/env python3
"""Hostile uploads against `hark serve` on loopback (standard library only).

  flood     N uploads of one file on N connections at once; prints the count of each status.
  slowloris one upload whose body trickles (a byte every --interval s), one connection that sends
            its headers then nothing, and one whose headers trickle and never end; prints how and
            when the server ended each.
  big       a chunked body of --megabytes with no Content-Length; prints the status and when.

Prints one JSON object.
    python3 scripts/upload_flood.py flood --port 7460 --count 1000 --file clip.wav
"""
import argparse, asyncio, json, time


def request_head(port, length=None, content_type="audio/wav", chunked=False, token=None):
    head = f"POST /v1/classify?record=false HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {length}\r\n"
    return (head + "Connection: close\r\n\r\n").encode()


async def read_status(reader, timeout):
    line = await asyncio.wait_for(reader.readline(), timeout)
    if not line:
        return "closed"
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else "garbled"


async def upload(port, body, timeout, token):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_head(port, len(body), token=token) + body)
        await writer.drain()
        status = await read_status(reader, timeout)
        writer.close()
        return status
    except (ConnectionError, asyncio.TimeoutError, OSError) as e:
        return type(e).__name__


async def flood(args):
    body = open(args.file, "rb").read()
    started = time.time()
    statuses = await asyncio.gather(*(upload(args.port, body, args.timeout, args.token) for _ in range(args.count)))
    counts = {}
    for s in statuses:
        counts[str(s)] = counts.get(str(s), 0) + 1
    return {"uploads": args.count, "statuses": counts, "seconds": round(time.time() - started, 2)}


async def slowloris(args):
    started = time.time()

    async def trickle():
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        writer.write(request_head(args.port, 100_000, token=args.token))
        sent = 0
        try:
            while time.time() - started < args.timeout:
                writer.write(b"\0")
                await writer.drain()
                sent += 1
                try:
                    status = await asyncio.wait_for(read_status(reader, args.interval), args.interval)
                    return {"ended": status, "after": round(time.time() - started, 2), "bytes_sent": sent}
                except asyncio.TimeoutError:
                    pass
        except (ConnectionError, OSError) as e:
            return {"ended": type(e).__name__, "after": round(time.time() - started, 2), "bytes_sent": sent}
        return {"ended": "still open", "after": round(time.time() - started, 2), "bytes_sent": sent}

    async def silent():
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        writer.write(request_head(args.port, 100_000, token=args.token))
        await writer.drain()
        try:
            status = await read_status(reader, args.timeout)
            return {"ended": status, "after": round(time.time() - started, 2)}
        except asyncio.TimeoutError:
            return {"ended": "still open", "after": round(time.time() - started, 2)}
        except (ConnectionError, OSError) as e:
            return {"ended": type(e).__name__, "after": round(time.time() - started, 2)}

    async def headers():
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        head = request_head(args.port, 100_000, token=args.token)[:-2]  # never the blank line
        sent = 0
        try:
            while time.time() - started < args.timeout:
                writer.write(head[sent % len(head):][:1] if sent < len(head) else b"X-Pad: 1\r\n")
                await writer.drain()
                sent += 1
                try:
                    data = await asyncio.wait_for(reader.read(100), args.interval)
                    return {"ended": "closed" if not data else "answered", "after": round(time.time() - started, 2)}
                except asyncio.TimeoutError:
                    pass
        except (ConnectionError, OSError) as e:
            return {"ended": type(e).__name__, "after": round(time.time() - started, 2)}
        return {"ended": "still open", "after": round(time.time() - started, 2)}

    trickled, quiet, slow_head = await asyncio.gather(trickle(), silent(), headers())
    return {"trickle": trickled, "silent": quiet, "headers": slow_head}


async def big(args):
    started = time.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    writer.write(request_head(args.port, chunked=True, content_type="application/json", token=args.token))
    # The answer is read while the body is still being sent: a server that refuses early answers
    # and closes, and a reset would discard an answer read only afterwards.
    answer = asyncio.ensure_future(read_status(reader, args.timeout))
    chunk = b"A" * (1 << 20)
    sent = 0
    try:
        framed = lambda data: b"%x\r\n" % len(data) + data + b"\r\n"
        writer.write(framed(b'{"audio_data": "'))
        for _ in range(args.megabytes):
            if answer.done():
                break
            writer.write(framed(chunk))
            await writer.drain()
            sent += 1
        else:
            writer.write(framed(b'"}') + b"0\r\n\r\n")
    except (ConnectionError, OSError):
        pass
    try:
        status = await answer
    except (ConnectionError, OSError, asyncio.TimeoutError) as e:
        status = type(e).__name__
    return {"status": status, "megabytes_sent": sent, "after": round(time.time() - started, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["flood", "slowloris", "big"])
    parser.add_argument("--port", type=int, default=7460)
    parser.add_argument("--token")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--file")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    result = asyncio.run({"flood": flood, "slowloris": slowloris, "big": big}[args.mode](args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
