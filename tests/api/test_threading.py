"""Why `tessera serve` runs one thread per connection by default: a request blocked on a slow
user store must not stall other connections.

A deliberately slow HTTP user store (every answer takes SLOW seconds) is tested through
POST /resolver/test by several clients at once; meanwhile GET /healthz and POST /auth must keep
answering at once.  The same experiment with `--threads 2` (libmicrohttpd's thread pool) shows the
stall that mode has, which is why it is not the default (the measurement is printed, and asserted
loosely: the pool must be measurably slower, the default must not be)."""
import http.server
import threading
import time

import pytest

from harness import free_port

SLOW = 2.0
BLOCKERS = 6


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(SLOW)
        body = b'{"username": "slow", "email": "slow@example.com"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def slow_store():
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Slow)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d/user" % port
    srv.shutdown()


def _blocked_and_probe(server, url):
    """Start BLOCKERS slow resolver tests, then time /healthz while they hang.
    Returns (worst /healthz latency, blocked requests' statuses)."""
    jwt = server.login()
    statuses = []

    def blocker():
        r = server.post("/resolver/test", data={
            "type": "httpresolver", "endpoint": url, "method": "GET",
            "responseMapping": '{"username": "{username}", "email": "{email}"}',
            "testUser": "slow"}, token=jwt, timeout=60)
        statuses.append(r.status)

    threads = [threading.Thread(target=blocker) for _ in range(BLOCKERS)]
    for t in threads:
        t.start()
    time.sleep(SLOW / 4)  # let them reach the slow store
    worst = 0.0
    for _ in range(10):
        t0 = time.monotonic()
        r = server.get("/healthz", timeout=60)
        worst = max(worst, time.monotonic() - t0)
        assert r.status == 200
    for t in threads:
        t.join()
    return worst, statuses


def test_thread_per_connection_does_not_stall(server, slow_store):
    r = server.post("/resolver/test", data={"type": "httpresolver"}, token=server.login())
    if r.status == 404:
        pytest.skip("POST /resolver/test not routed yet")
    worst, statuses = _blocked_and_probe(server, slow_store)
    assert statuses == [200] * BLOCKERS
    print("thread per connection: worst /healthz latency %.3fs while %d requests block %.1fs"
          % (worst, BLOCKERS, SLOW))
    assert worst < SLOW / 4


def test_thread_pool_stalls(make_server, slow_store):
    srv = make_server(threads=2)
    r = srv.post("/resolver/test", data={"type": "httpresolver"}, token=srv.login())
    if r.status == 404:
        pytest.skip("POST /resolver/test not routed yet")
    worst, statuses = _blocked_and_probe(srv, slow_store)
    assert statuses == [200] * BLOCKERS
    print("thread pool of 2: worst /healthz latency %.3fs while %d requests block %.1fs"
          % (worst, BLOCKERS, SLOW))
    # With 2 event-loop threads and 6 blocked handlers, a probe lands behind a blocked one.
    assert worst > SLOW / 4
