"""A small task API for verso's proxy tests, written for the newest version
of testdata/timeline.yaml only: it refuses the old field names and types, so
a request that reaches it unwalked fails. It prints "listening on PORT" once
it listens on 127.0.0.1 (port 0 by default: any free port).

Routes: POST /v1/tasks, GET /v1/tasks[?status=], GET|POST /v1/tasks/ID,
GET /v1/big?n=N (a list of N tasks), GET /v1/echo (the request as seen
here), GET /v1/text (plain text). JSON answers are gzipped when the request
accepts gzip, unless ?identity=1.
"""

import gzip
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "2024-06-01"
FIELDS = {"title", "priority", "status", "labels"}
STATUSES = {"open", "done"}

tasks = {}
lock = threading.Lock()


class Invalid(Exception):
    def __init__(self, status, code, message, param=None):
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def form_params(raw):
    """Parses a form body in Stripe's bracket syntax, as far as tasks need:
    labels[]=a&labels[]=b or labels[0]=a."""
    out = {}
    for key, value in urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=True):
        if key.startswith("labels["):
            out.setdefault("labels", []).append(value)
        else:
            out[key] = value
    return out


def check(params, creating):
    for key in params:
        if key not in FIELDS:
            raise Invalid(400, "parameter_unknown", "Received unknown parameter: " + key, key)
    if creating and "title" not in params:
        raise Invalid(400, "parameter_missing", "Missing required param: title.", "title")
    if "title" in params and not isinstance(params["title"], str):
        raise Invalid(400, "parameter_invalid", "title must be a string", "title")
    if "priority" in params:
        p = params["priority"]
        if not isinstance(p, str) or not p.isdigit():
            raise Invalid(400, "parameter_invalid", "priority must be a string of digits", "priority")
    if "status" in params and params["status"] not in STATUSES:
        raise Invalid(400, "parameter_invalid", "status must be open or done", "status")
    if "labels" in params and not (isinstance(params["labels"], list) and all(isinstance(x, str) for x in params["labels"])):
        raise Invalid(400, "parameter_invalid", "labels must be a list of strings", "labels")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header(self.server.version_header, VERSION)
        if "gzip" in self.headers.get("Accept-Encoding", "") and "identity" not in query:
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def params(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        if not raw.strip():
            return {}
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            if ctype == "application/json":
                params = json.loads(raw)
                if not isinstance(params, dict):
                    raise ValueError("not an object")
                return params
            return form_params(raw)
        except ValueError as e:
            raise Invalid(400, "body_invalid", "invalid request body: %s" % e)

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["v1"] + parts[1:2] or len(parts) < 2:
            raise Invalid(404, "resource_missing", "Unrecognized request URL (%s: %s)." % (method, url.path))
        if parts[1] == "tasks" and len(parts) == 2:
            if method == "POST":
                params = self.params()
                check(params, True)
                with lock:
                    tid = "task_%d" % (len(tasks) + 1)
                    task = {"object": "task", "id": tid, "title": params["title"],
                            "priority": params.get("priority", "1"), "status": params.get("status", "open"),
                            "labels": params.get("labels", [])}
                    tasks[tid] = task
                return 200, task
            status = query.get("status")
            if status is not None and status not in STATUSES:
                raise Invalid(400, "parameter_invalid", "status must be open or done", "status")
            with lock:
                data = [t for t in tasks.values() if status is None or t["status"] == status]
            return 200, {"object": "list", "url": "/v1/tasks", "has_more": False, "data": data}
        if parts[1] == "tasks" and len(parts) == 3:
            with lock:
                task = tasks.get(parts[2])
            if task is None:
                raise Invalid(404, "resource_missing", "No such task: '%s'" % parts[2], "id")
            if method == "POST":
                params = self.params()
                check(params, False)
                with lock:
                    task.update(params)
            return 200, task
        if parts[1] == "big" and method == "GET":
            n = int(query.get("n", "10"))
            data = [{"object": "task", "id": "task_big_%d" % i, "title": "x" * 100, "priority": "1",
                     "status": "open", "labels": []} for i in range(n)]
            return 200, {"object": "list", "url": "/v1/big", "has_more": False, "data": data}
        if parts[1] == "echo":
            if method == "POST":
                self.params()
            return 200, {"object": "echo", "method": method, "path": url.path, "query": url.query,
                         "headers": {k.lower(): v for k, v in self.headers.items()}}
        if parts[1] == "text" and method == "GET":
            return 200, "plain text, as it was sent"
        raise Invalid(404, "resource_missing", "Unrecognized request URL (%s: %s)." % (method, url.path))

    def handle_method(self, method):
        try:
            status, obj = self.route(method)
        except Invalid as e:
            err = {"type": "invalid_request_error", "code": e.code, "message": e.message}
            if e.param:
                err["param"] = e.param
            self.send_json(e.status, {"error": err})
            return
        if isinstance(obj, str):
            body = obj.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_json(status, obj)

    def do_GET(self):
        self.handle_method("GET")

    def do_POST(self):
        self.handle_method("POST")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True
    server.version_header = "Acme-Version"
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
