"""A small OpenAI-compatible chat server for tests: scripted replies, recorded requests.

It speaks ``POST /v1/chat/completions`` like Ollama, vLLM or OpenAI do, plain JSON or streamed as
server-sent events (``data: {...}`` chunks, then ``data: [DONE]``), on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: text content, or an HTTP error, or a delay before answering.

    Streamed, ``piece_delay`` paces the pieces and ``drop_after`` closes the connection after that
    many pieces without ending the stream, as a server that is killed mid-answer does.
    """

    content: str = ""
    status: int = 200
    delay: float = 0.0
    piece_delay: float = 0.0
    drop_after: int | None = None


class ScriptedLLM:
    """Replies in order from a script (the last one repeats); records each request body.

    ``GET /v1/models`` lists ``models``; with ``api_key`` set, requests without that bearer token get 401.
    """

    def __init__(self, models: tuple[str, ...] = ("test-model",), api_key: str | None = None) -> None:
        self.models = models
        self.api_key = api_key
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply | str) -> None:
        self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if len(self.replies) > 1:
                return self.replies.popleft()
            return self.replies[0] if self.replies else Reply(status=500, content="no scripted reply")

    def start(self) -> ScriptedLLM:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _authorised(self) -> bool:
                if owner.api_key is None or self.headers.get("Authorization") == f"Bearer {owner.api_key}":
                    return True
                self._json(401, {"error": {"message": "Incorrect API key provided"}})
                return False

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if self.path.rstrip("/") != "/v1/models":
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                models = [{"id": name, "object": "model", "owned_by": "test"} for name in owner.models]
                return self._json(200, {"object": "list", "data": models})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorised():
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                reply = owner.next_reply(body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    return self._json(reply.status, {"error": {"message": reply.content or "scripted failure"}})
                if body.get("stream"):
                    return self._stream(body, reply)
                return self._json(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )

            def _json(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                # Chunked, as uvicorn (llama.cpp's server, vLLM) sends it: a connection closed before
                # the last chunk is a broken stream to the client, not a short one.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.close_connection = True
                content = reply.content
                pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
                for i, piece in enumerate(pieces):
                    if reply.drop_after is not None and i == reply.drop_after:
                        return  # the socket closes with the stream unfinished
                    if reply.piece_delay:
                        time.sleep(reply.piece_delay)
                    delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                    chunk = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                    }
                    self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")  # the last chunk: the stream is complete

            def _chunk(self, data: bytes) -> None:
                try:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (it stopped reading at its deadline)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
