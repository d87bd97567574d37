"""A stand-in for the Hub's /api/models on 127.0.0.1, serving recorded responses in the Hub's JSON shapes, with
Link-header pagination and a one-off 429, so the real huggingface_hub client code runs against it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGES: list[list[dict]] = [
    [
        {"_id": "1", "id": "meta-llama/Llama-2-7b-hf", "author": "meta-llama", "sha": "01c7f73d", "gated": "manual",
         "createdAt": "2023-07-13T16:16:13.000Z", "lastModified": "2024-04-17T08:40:16.000Z", "downloads": 1200000,
         "likes": 2100, "library_name": "transformers", "pipeline_tag": "text-generation",
         "tags": ["transformers", "pytorch", "safetensors", "llama", "text-generation", "license:llama2"],
         "config": {"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
         "cardData": {"license": "llama2", "language": ["en"]},
         "siblings": [{"rfilename": "README.md"}, {"rfilename": "config.json"},
                      {"rfilename": "model-00001-of-00002.safetensors"}],
         "safetensors": {"parameters": {"F16": 6738415616}, "total": 6738415616}},
        {"_id": "2", "id": "TheBloke/Llama-2-7B-Chat-GGUF", "author": "TheBloke", "sha": "191239b3",
         "createdAt": "2023-09-04T16:38:41.000Z", "lastModified": "2023-10-14T21:36:33.000Z", "downloads": 90000,
         "likes": 400, "library_name": "transformers", "pipeline_tag": "text-generation",
         "tags": ["gguf", "llama", "base_model:meta-llama/Llama-2-7b-chat-hf",
                  "base_model:quantized:meta-llama/Llama-2-7b-chat-hf", "license:llama2"],
         "cardData": {"base_model": "meta-llama/Llama-2-7b-chat-hf", "license": "llama2"},
         "baseModels": {"relation": "quantized", "models": [{"id": "meta-llama/Llama-2-7b-chat-hf"}]},
         "siblings": [{"rfilename": "llama-2-7b-chat.Q4_K_M.gguf"}], "gated": False},
    ],
    [
        {"_id": "3", "id": "someone/broken-card", "author": "someone", "cardData": "license: mit",
         "createdAt": "2024-01-01T00:00:00.000Z", "tags": []},
        {"_id": "4", "id": "someone/orphan-lora", "author": "someone", "library_name": "peft",
         "createdAt": "2024-02-01T00:00:00.000Z",
         "tags": ["peft", "base_model:adapter:nobody/does-not-exist"],
         "cardData": {"base_model": "nobody/does-not-exist", "base_model_relation": "adapter"},
         "siblings": [{"rfilename": "adapter_config.json"}, {"rfilename": "adapter_model.safetensors"}]},
    ],
    [
        {"_id": "6", "id": "someone/finetuned-from-config", "author": "someone",
         "createdAt": "2024-03-02T00:00:00.000Z", "tags": [], "siblings": [{"rfilename": "config.json"}]},
        {"_id": "5", "id": "someone/merge-7b", "author": "someone", "createdAt": "2024-03-01T00:00:00.000Z",
         "tags": ["merge", "base_model:TheBloke/Llama-2-7B-Chat-GGUF", "base_model:meta-llama/Llama-2-7b-hf"],
         "cardData": {"base_model": ["meta-llama/Llama-2-7b-hf", "TheBloke/Llama-2-7B-Chat-GGUF"]}},
    ],
]


# Files served under /{repo}/resolve/{revision}/{file}, for the --deep pass.
FILES = {
    ("someone/orphan-lora", "adapter_config.json"): {"base_model_name_or_path": "nobody/does-not-exist", "r": 8},
    ("meta-llama/Llama-2-7b-hf", "config.json"): {"_name_or_path": "meta-llama/Llama-2-7b-hf",
                                                  "model_type": "llama"},
    ("someone/finetuned-from-config", "config.json"): {"_name_or_path": "meta-llama/Llama-2-7b-hf"},
}
GATED = {"meta-llama/Llama-2-7b-hf"}
# Binary files (safetensors) served with HTTP range requests, as the Hub's CDN does; tests add their own.
BINARY: dict[tuple[str, str], bytes] = {}


class HubStub:
    def __init__(self, pages: list[list[dict]] = PAGES, throttle_page: int | None = 1) -> None:
        self.pages = pages
        self.throttle_page = throttle_page  # answer this page with one 429 before serving it
        self.requests: list[str] = []
        self.throttled = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _file(self, head: bool) -> None:
                parts = urlparse(self.path).path.strip("/").split("/")
                repo, filename = "/".join(parts[:2]), "/".join(parts[4:])
                if repo in GATED:
                    self.send_response(401)
                    self.send_header("X-Error-Code", "GatedRepo")
                    self.send_header("X-Error-Message", "Access to this model is restricted.")
                    self.end_headers()
                    return
                if (repo, filename) in BINARY:
                    self._bytes(BINARY[(repo, filename)], head)
                    return
                content = FILES.get((repo, filename))
                if content is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.end_headers()
                    return
                body = json.dumps(content).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", f'"{abs(hash(body))}"')
                self.send_header("X-Repo-Commit", "0" * 40)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _bytes(self, data: bytes, head: bool) -> None:
                first, last = 0, len(data) - 1
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes="):
                    a, _, b = wanted[6:].partition("-")
                    first, last = int(a), min(int(b) if b else last, last)
                body = data[first:last + 1]
                self.send_response(206 if wanted else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                if wanted:
                    self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
                self.send_header("ETag", f'"{abs(hash(data))}"')
                self.send_header("X-Repo-Commit", "0" * 40)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_HEAD(self) -> None:  # noqa: N802
                stub.requests.append("HEAD " + self.path)
                self._file(head=True)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                stub.requests.append(self.path)
                url = urlparse(self.path)
                if "/resolve/" in url.path:
                    self._file(head=False)
                    return
                if url.path != "/api/models":
                    self.send_error(404)
                    return
                page = int(parse_qs(url.query).get("page", ["0"])[0])
                if page == stub.throttle_page and stub.throttled == 0:
                    stub.throttled += 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": "rate limited"}')
                    return
                body = json.dumps(stub.pages[page]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if page + 1 < len(stub.pages):
                    host, port = stub.server.server_address[:2]
                    self.send_header("Link", f'<http://{host}:{port}/api/models?page={page + 1}>; rel="next"')
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HubStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
