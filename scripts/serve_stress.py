#!/usr/bin/env python3
"""Slow and idle clients against a running `hymir serve` (the service's load bar).

Keeps IDLE connections open that never send a byte (reopening each one the
server closes, so IDLE stay open all the time) and SLOW slow-loris
connections that send one byte of a never-ending request every second; while
they are open, sends one query on a fresh connection every 0.5 s for SECONDS
and reports each answer's status and latency.
  serve_stress.py PORT [IDLE] [SLOW] [SECONDS] [PATH]
Exit 0 when every query was answered 200 in under 1 s.
"""
import os
import selectors
import socket
import sys
import time

port = int(sys.argv[1])
idle_n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
slow_n = int(sys.argv[3]) if len(sys.argv) > 3 else 2
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
path = sys.argv[5] if len(sys.argv) > 5 else "/api/search?q=lung+cancer+treatment&k=10"

sel = selectors.DefaultSelector()
conns = {}  # socket -> kind ("idle" | "slow")
reopened = {"idle": 0, "slow": 0}


def open_conn(kind):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    sel.register(s, selectors.EVENT_READ)
    conns[s] = kind
    return s


slow_state = {}  # socket -> bytes sent
for _ in range(idle_n):
    open_conn("idle")
for _ in range(slow_n):
    slow_state[open_conn("slow")] = 0
time.sleep(0.5)

SLOW_REQUEST = b"GET /api/info HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000


def service(timeout):
    for key, _ in sel.select(timeout):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if data:
            continue  # e.g. a 400 to a slow-loris request; the close follows
        kind = conns.pop(s)
        sel.unregister(s)
        s.close()
        slow_state.pop(s, None)
        reopened[kind] += 1
        n = open_conn(kind)
        if kind == "slow":
            slow_state[n] = 0


def query():
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as q:
            q.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
            got = b""
            while True:
                b = q.recv(65536)
                if not b:
                    break
                got += b
        status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.1 ") else 0
    except OSError as e:
        status = "error: %s" % e
    return status, (time.monotonic() - start) * 1000


results = []
end = time.monotonic() + seconds
next_query = time.monotonic() + 1
next_slow = time.monotonic()
while time.monotonic() < end:
    now = time.monotonic()
    if now >= next_slow:
        for s in list(slow_state):
            i = slow_state[s]
            try:
                s.send(SLOW_REQUEST[i:i + 1])
                slow_state[s] = i + 1
            except OSError:
                pass
        next_slow = now + 1
    if now >= next_query:
        open_now = sum(1 for k in conns.values() if k == "idle")
        status, ms = query()
        results.append((status, ms, open_now))
        next_query = time.monotonic() + 0.5
    service(0.05)

ok = [r for r in results if r[0] == 200 and r[1] < 1000]
lat = sorted(r[1] for r in results)
print("serve_stress: %d idle + %d slow-loris connections held open for %.0f s (server closed and we reopened "
      "%d idle, %d slow-loris)" % (idle_n, slow_n, seconds, reopened["idle"], reopened["slow"]))
print("serve_stress: %d queries, %d answered 200 in under 1 s; latency min %.1f ms, median %.1f ms, max %.1f ms; "
      "statuses %s" % (len(results), len(ok), lat[0], lat[len(lat) // 2], lat[-1],
                       sorted(set(str(r[0]) for r in results))))
print("serve_stress: load average %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
sys.exit(0 if results and len(ok) == len(results) else 1)
