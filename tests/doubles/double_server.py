"""TEST DOUBLE support -- how every double in tests/doubles/ serves: on
127.0.0.1 only, on the port asked for (0 picks a free one), printing
"PORT=<n>" on stdout once listening, and exiting cleanly on SIGTERM.  It
never ships in the product.  Python 3 standard library only.
"""

import signal
from http.server import ThreadingHTTPServer


def serve(handler, port):
    """Serves handler (a BaseHTTPRequestHandler class) until SIGTERM; returns 0."""
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    print("PORT=%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
    return 0
