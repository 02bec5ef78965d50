"""Loopback servers that speak the OpenAI chat-completions and the Ollama chat protocols.

They answer with scripted replies, so the real ``ChatOpenAI``/``ChatOllama``
clients (and the ``openai``/``ollama`` clients under them) are exercised end to
end: request shapes, SSE and NDJSON streaming, status codes, retries, timeouts.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "test-model"
API_KEY = "sk-test"


@dataclass
class Reply:
    """One scripted answer to a chat request."""

    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before the response starts
    raw: str | None = None  # a body sent as is instead of a well-formed one


def tokens(text: str) -> list[str]:
    """Split like a model streams: words with their following whitespace."""
    return re.findall(r"\S+\s*", text) or [""]


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet test output
        pass

    def _json_body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, lines: list[str], content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes
        for line in lines:
            self.wfile.write(line.encode())
            self.wfile.flush()

    def do_GET(self) -> None:
        self.server.record("GET", self.path, {}, dict(self.headers))
        self.server.handle_get(self)

    def do_POST(self) -> None:
        body = self._json_body()
        self.server.record("POST", self.path, body, dict(self.headers))
        self.server.handle_post(self, body)


class ScriptedServer(ThreadingHTTPServer):
    """A server on 127.0.0.1 (free port) that pops one scripted reply per chat request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, replies: list[Reply], models: tuple[str, ...] = (MODEL,)) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies = list(replies)
        self.models = models
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, method: str, path: str, body: dict, headers: dict) -> None:
        """Remember a request for assertions."""
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": body, "headers": headers})

    def chat_requests(self) -> list[dict]:
        """The chat requests received so far."""
        return [r for r in self.requests if r["path"].endswith(("/chat/completions", "/api/chat"))]

    def next_reply(self) -> Reply:
        """The next scripted reply (a 500 when the script has run out)."""
        with self._lock:
            reply = self.replies.pop(0) if self.replies else Reply(status=500, raw='{"error": "no scripted reply"}')
        time.sleep(reply.delay)
        return reply

    def handle_get(self, handler: _Handler) -> None:
        """Answer a GET request."""
        handler._send(404, '{"error": "not found"}')

    def handle_post(self, handler: _Handler, body: dict) -> None:
        """Answer a POST request."""
        handler._send(404, '{"error": "not found"}')

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class OpenAIServer(ScriptedServer):
    """``GET /v1/models`` and ``POST /v1/chat/completions`` (JSON, or SSE when ``stream`` is set)."""

    def _authorized(self, handler: _Handler) -> bool:
        if handler.headers.get("Authorization") == f"Bearer {API_KEY}":
            return True
        error = {
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }
        handler._send(401, json.dumps(error))
        return False

    def handle_get(self, handler: _Handler) -> None:
        if handler.path != "/v1/models":
            return super().handle_get(handler)
        if self._authorized(handler):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models]
            handler._send(200, json.dumps({"object": "list", "data": data}))

    def handle_post(self, handler: _Handler, body: dict) -> None:
        if handler.path != "/v1/chat/completions":
            return super().handle_post(handler, body)
        if not self._authorized(handler):
            return
        reply = self.next_reply()
        if reply.status != 200:
            error = {"error": {"message": f"scripted status {reply.status}", "type": "server_error", "code": None}}
            return handler._send(reply.status, reply.raw or json.dumps(error))
        base = {"id": "chatcmpl-1", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply.content}
            choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            completion = base | {"object": "chat.completion", "choices": [choice]}
            return handler._send(200, reply.raw or json.dumps(completion))
        if reply.raw is not None:
            return handler._stream([reply.raw], "text/event-stream")
        chunks = [
            base
            | {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            for delta, finish in [({"role": "assistant", "content": t}, None) for t in tokens(reply.content)]
            + [({}, "stop")]
        ]
        handler._stream([f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"], "text/event-stream")


class OllamaServer(ScriptedServer):
    """``GET /api/tags``, ``POST /api/show`` and ``POST /api/chat`` (NDJSON stream, ``done: true`` last)."""

    def handle_get(self, handler: _Handler) -> None:
        if handler.path != "/api/tags":
            return super().handle_get(handler)
        models = [{"name": m, "model": m, "size": 1, "digest": "0" * 12, "details": {}} for m in self.models]
        handler._send(200, json.dumps({"models": models}))

    def handle_post(self, handler: _Handler, body: dict) -> None:
        if handler.path == "/api/show":
            if body.get("model") in self.models:
                return handler._send(200, json.dumps({"model_info": {}, "details": {"family": "test"}}))
            return handler._send(404, json.dumps({"error": f"model '{body.get('model')}' not found"}))
        if handler.path != "/api/chat":
            return super().handle_post(handler, body)
        reply = self.next_reply()
        if reply.status != 200:
            return handler._send(reply.status, reply.raw or json.dumps({"error": f"scripted status {reply.status}"}))
        if reply.raw is not None:
            return handler._stream([reply.raw], "application/x-ndjson")
        base = {"model": body["model"], "created_at": "2025-01-01T00:00:00Z"}
        lines = [base | {"message": {"role": "assistant", "content": t}, "done": False} for t in tokens(reply.content)]
        lines.append(
            base
            | {
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1,
                "prompt_eval_count": 10,
                "eval_count": len(lines),
            }
        )
        handler._stream([json.dumps(line) + "\n" for line in lines], "application/x-ndjson")
