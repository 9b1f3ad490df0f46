#!/usr/bin/env python3
"""Opens N live-socket clients on `hark serve` (loopback) and measures what they receive.

Each client subscribes to every kind and the given layers and reads everything. For each `window`
message the delay from the window's last captured sample (`captured_at`, Unix seconds, same clock:
loopback only) to its arrival at the client is recorded. Prints one JSON object: clients,
messages and bytes received, window delay p50/p99 (ms), events seen per client, close codes.

    python3 scripts/live_load.py --port 7460 --clients 100 --seconds 120 --layers all
Needs `pip install websockets`.
"""
import argparse, asyncio, json, math, time, urllib.request

import websockets


def nearest_rank(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(len(sorted_values) * p)) - 1]


async def client(url, until, delays, stats):
    try:
        async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
            while True:
                remaining = until - time.time()
                if remaining <= 0:
                    break
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=remaining)
                except asyncio.TimeoutError:
                    break
                now = time.time()
                stats["messages"] += 1
                stats["bytes"] += len(text)
                # Keys are sorted: a window message starts with "captured_at"; only those are parsed.
                if text.startswith('{"captured_at"'):
                    delays.append((now - json.loads(text)["captured_at"]) * 1000)
                elif text.startswith('{"class_index"'):
                    stats["events"] += 1
    except websockets.ConnectionClosed as closed:
        stats["closed"].append(closed.rcvd.code if closed.rcvd else None)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7460)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--layers", default="all", help="comma-separated layers, or 'all' (every layer /v1/model lists)")
    args = ap.parse_args()
    base = f"127.0.0.1:{args.port}"
    layers = args.layers
    if layers == "all":
        model = json.load(urllib.request.urlopen(f"http://{base}/v1/model"))
        layers = ",".join(layer["name"] for layer in model["layers"])
    url = f"ws://{base}/v1/live?kinds=event,window,spectrogram,waveform,maps,status&layers={layers}"
    until = time.time() + args.seconds
    delays = []
    stats = [{"messages": 0, "bytes": 0, "events": 0, "closed": []} for _ in range(args.clients)]
    await asyncio.gather(*(client(url, until, delays, s) for s in stats))
    delays.sort()
    status = json.load(urllib.request.urlopen(f"http://{base}/v1/status"))
    print(json.dumps({
        "clients": args.clients,
        "layers": len(layers.split(",")),
        "messages": sum(s["messages"] for s in stats),
        "megabytes": round(sum(s["bytes"] for s in stats) / 1e6, 1),
        "window_messages": len(delays),
        "delay_p50_ms": round(nearest_rank(delays, 0.5), 1) if delays else None,
        "delay_p99_ms": round(nearest_rank(delays, 0.99), 1) if delays else None,
        "events_per_client": sorted({s["events"] for s in stats}),
        "closed_early": [c for s in stats for c in s["closed"]],
        "server_windows_dropped": status["summary"]["windows_dropped"],
        "server_clients_dropped_telemetry": sum(c["dropped_telemetry"] for c in status["live"]["clients"]),
        "server_clients_closed_slow": status["live"]["server"]["clients_closed_slow"],
    }))


asyncio.run(main())
