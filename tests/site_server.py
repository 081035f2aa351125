"""A docs site served on 127.0.0.1 for crawl tests: pages, headers and misbehaviour set per path."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers: a status, a body, its content type, extra headers; ``hang`` seconds of silence."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    etag: bool = True


@dataclass
class Site:
    """The routes, and every request seen as (path, conditional or not)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, bool]] = field(default_factory=list)
    base: str = ""
    stop: Callable[[], None] = lambda: None  # stops the server (set by ``serve``): no one listens any more

    def page(self, path: str, html: str, **kw: object) -> None:
        self.routes[path] = Route(html.encode("utf-8"), **kw)  # type: ignore[arg-type]


def html(title: str, *links: str, body: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f'<nav><ul>{items}</ul></nav><main><h1 id="top">{title}</h1>'
        f'<h2 id="usage">Usage</h2><p>{body or title + " explains one thing in full sentences."}</p>'
        f"<p>This page of the {title} documentation is long enough to read as a page of a real docs site: "
        "it says what the feature is for, when to reach for it, and what to watch out for.</p></main>"
        "</body></html>"
    )


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API names it so
            path = self.path.split("?")[0]
            conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
            site.requests.append((path, conditional))
            route = site.routes.get(path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.hang:
                time.sleep(route.hang)
            tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if route.etag and route.status == 200 and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag and route.status == 200:
                self.send_header("ETag", tag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the crawler gave up on it
                self.wfile.write(route.body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    stopped = threading.Event()

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            server.shutdown()
            server.server_close()

    site.stop = lambda: threading.Thread(target=stop).start()  # shutdown() waits for the loop: not from a handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        stop()
