#!/usr/bin/env python3
"""Load on a running `hark serve` (loopback): many live-socket clients of three kinds while uploads
go on, then (optionally) SIGTERM with all of them still attached.

  readers       subscribe to events, windows, spectrogram, waveform (every tenth also layer1's maps)
                and read everything; each records every event (id, phase) it receives
  silent        subscribe to everything, then never read a byte (a 4-KB receive buffer): the server
                drops their telemetry and, when their events back up, closes them; never slows the stream
  reconnecting  connect, read for 0-3 s, close, again, for the whole run

At the end every event the server emitted while all readers were connected (from /v1/events) must
have reached every reader. Prints one JSON object.

    python3 scripts/load.py --port 7460 --readers 400 --silent 50 --reconnecting 50 --seconds 120 \
        --upload clip.ogg --sigterm PID
Needs `pip install websockets`.
"""
import argparse, asyncio, base64, datetime, json, os, random, signal, socket, time, urllib.request

import websockets


async def reader(url, until, seen, stats):
    try:
        async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
            stats["connected"] += 1
            while time.time() < until:
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=max(0.01, until - time.time()))
                except asyncio.TimeoutError:
                    break
                stats["messages"] += 1
                if text.startswith('{"class_index"'):  # keys are sorted: an event message
                    event = json.loads(text)
                    seen.add((event["id"], event["phase"]))
    except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError) as e:
        stats["errors"].append(type(e).__name__ + (f" {e.rcvd.code}" if getattr(e, "rcvd", None) else ""))


async def silent(port, path, until, stats):
    """A WebSocket handshake on a socket with a 4-KB receive buffer, then never a read."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(sock, (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:  # byte by byte: nothing of what follows is read
            byte = await loop.sock_recv(sock, 1)
            if not byte:
                raise ConnectionError("closed during the handshake")
            head += byte
        if b" 101 " in head.split(b"\r\n")[0]:
            stats["connected"] += 1
        await asyncio.sleep(max(0, until - time.time()))
    except OSError as e:
        stats["errors"].append(type(e).__name__)
    finally:
        sock.close()


async def reconnecting(url, until, stats):
    while time.time() < until:
        try:
            async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
                stats["reconnects"] += 1
                stop = min(until, time.time() + random.uniform(0, 3))
                while time.time() < stop:
                    try:
                        await asyncio.wait_for(ws.recv(), timeout=max(0.01, stop - time.time()))
                    except asyncio.TimeoutError:
                        break
        except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError) as e:
            stats["errors"].append(type(e).__name__)
            await asyncio.sleep(0.2)


async def uploads(base, path, until, stats):
    body = open(path, "rb").read()
    loop = asyncio.get_running_loop()

    def post():
        request = urllib.request.Request(f"http://{base}/v1/classify?record=false", data=body, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError as e:
            return type(e).__name__

    while time.time() < until:
        status = await loop.run_in_executor(None, post)
        stats["uploads"][str(status)] = stats["uploads"].get(str(status), 0) + 1


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=7460)
    ap.add_argument("--readers", type=int, default=400)
    ap.add_argument("--silent", type=int, default=50)
    ap.add_argument("--reconnecting", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--upload", help="an audio file to upload in a loop (two uploaders)")
    ap.add_argument("--sigterm", type=int, help="the server's pid: SIGTERM it at the end, clients attached")
    args = ap.parse_args()
    base = f"127.0.0.1:{args.port}"
    live = f"ws://{base}/v1/live"
    stats = {"connected": 0, "messages": 0, "errors": [], "reconnects": 0, "uploads": {}}
    started = time.time()
    until = started + args.seconds
    seen = [set() for _ in range(args.readers)]
    tasks = [reader(f"{live}?kinds=event,window,spectrogram,waveform" + (",maps&layers=layer1" if i % 10 == 0 else ""),
                    until, seen[i], stats) for i in range(args.readers)]
    tasks += [silent(args.port, "/v1/live?kinds=event,window,spectrogram,waveform,maps,status&layers=layer1,layer2", until, stats)
              for _ in range(args.silent)]
    tasks += [reconnecting(f"{live}?kinds=event,window", until, stats) for _ in range(args.reconnecting)]
    if args.upload:
        tasks += [uploads(base, args.upload, until - 5, stats) for _ in range(2)]
    gathered = asyncio.gather(*tasks)
    await asyncio.sleep(min(30, args.seconds / 4))
    all_connected = time.time()  # readers connect within the first seconds; events from here on are checked
    connected_then = stats["connected"]
    await asyncio.sleep(max(0, until - 3 - time.time()))
    checked_until = time.time()
    status = json.load(urllib.request.urlopen(f"http://{base}/v1/status"))
    events = json.load(urllib.request.urlopen(f"http://{base}/v1/events?limit=1000"))["events"]
    expected = set()
    for e in events:
        if e.get("started_at") and all_connected <= parse_time(e["started_at"]) <= checked_until:
            expected.add((e["id"], "start"))
        if e.get("ended_at") and all_connected <= parse_time(e["ended_at"]) <= checked_until:
            expected.add((e["id"], "end"))
    sigterm = None
    if args.sigterm:
        os.kill(args.sigterm, signal.SIGTERM)
        sent = time.time()
        while time.time() - sent < 30:
            try:
                os.kill(args.sigterm, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.02)
        sigterm = round(time.time() - sent, 2)
    await gathered
    missing = [len(expected - s) for s in seen]
    print(json.dumps({
        "seconds": args.seconds,
        "readers": args.readers, "silent": args.silent, "reconnecting": args.reconnecting,
        "connected_at_check": connected_then,
        "messages_read": stats["messages"],
        "events_checked": len(expected),
        "readers_missing_events": sum(1 for m in missing if m),
        "events_missed_total": sum(missing),
        "reconnects": stats["reconnects"],
        "uploads": stats["uploads"],
        "client_errors": sorted(set(stats["errors"]))[:10], "client_error_count": len(stats["errors"]),
        "server_windows_dropped": status["summary"]["windows_dropped"],
        "server_overruns": status["summary"]["overruns"],
        "server_capture_losses": status["summary"]["capture_losses"],
        "server_clients_closed_slow": status["live"]["server"]["clients_closed_slow"],
        "server_dropped_telemetry": sum(c["dropped_telemetry"] for c in status["live"]["clients"]),
        "sigterm_exit_seconds": sigterm,
    }))


asyncio.run(main())
