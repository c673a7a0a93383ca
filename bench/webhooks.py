#!/usr/bin/env python3
"""Webhook delivery benchmark (a measuring tool, not a test: it asserts nothing).

    bench/webhooks.py BASE_URL STAFF_TOKEN [--events N] [--writers W]

Starts a receiver on 127.0.0.1 (answers 204 at once, notes when each event arrives),
subscribes it as staff to every structure's `structure.created`, then creates N
structures from W concurrent writers (the write load) and waits for their events.
Prints the events delivered per second (from the first arrival to the last), the lag
between each change's commit (the event's `timestamp`, the change log's instant) and
its arrival (p50, p99, max), and the duplicates (the same `webhook-id` twice). The
server must run with OES_WEBHOOK_ALLOW_INSECURE=true (the receiver is plain http on
loopback).
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

arrivals = []  # (webhook-id, committed instant, arrival instant)
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        now = time.time()
        self.send_response(204)
        self.end_headers()
        event = json.loads(body)
        if event.get("type") != "structure.created":
            return
        committed = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
        with lock:
            arrivals.append((self.headers["webhook-id"], committed, now))

    def log_message(self, *args):
        pass


def call(base, method, path, token, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("token")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--idle-subscriptions", type=int, default=0,
                        help="more subscriptions, to events the run makes none of: the "
                             "dispatcher still judges every change for each")
    args = parser.parse_args()

    # The default listen backlog (5) drops the connections of concurrent deliveries
    # beyond it, which then wait out a SYN retransmission (1 s and more); a web
    # server's is in the hundreds.
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    call(args.base, "POST", "/v1/webhooks", args.token, {
        "url": f"http://127.0.0.1:{port}/events", "event_types": ["structure.created"],
        "structure_ids": []})
    for i in range(args.idle_subscriptions):
        call(args.base, "POST", "/v1/webhooks", args.token, {
            "url": f"http://127.0.0.1:{port}/idle/{i}", "event_types": ["tour.deleted"],
            "structure_ids": []})

    body = {"kind": "company", "name": "Compagnie Webhook",
            "address": {"postal_code": "34000", "commune_code": "34172"},
            "disciplines": ["theatre"]}
    started = time.time()
    with ThreadPoolExecutor(args.writers) as pool:
        list(pool.map(lambda _: call(args.base, "POST", "/v1/structures", args.token, body),
                      range(args.events)))
    written = time.time() - started
    deadline = time.time() + 600
    while time.time() < deadline:
        with lock:
            unique = len({a[0] for a in arrivals})
        if unique >= args.events:
            break
        time.sleep(0.2)
    server.shutdown()
    with lock:
        seen = {}
        for webhook_id, committed, arrived in arrivals:
            seen.setdefault(webhook_id, (committed, arrived))
        duplicates = len(arrivals) - len(seen)
    lags = [(arrived - committed) * 1000 for committed, arrived in seen.values()]
    first = min(a for _, a in seen.values())
    last = max(a for _, a in seen.values())
    rate = len(seen) / (last - first) if last > first else float("nan")
    idle = f", {args.idle_subscriptions} idle subscriptions" if args.idle_subscriptions else ""
    print(f"writes{idle}: {args.events} structures from {args.writers} writers in {written:.1f} s "
          f"({args.events / written:.0f}/s); delivered {len(seen)} of {args.events} events, "
          f"{rate:.0f} events/s; lag commit→arrival p50 {statistics.median(lags):.0f} ms, "
          f"p99 {percentile(lags, 0.99):.0f} ms, max {max(lags):.0f} ms; duplicates {duplicates}")


if __name__ == "__main__":
    main()
