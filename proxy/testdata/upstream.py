"""A small task API for verso's proxy tests, written for the newest version
of testdata/timeline.yaml only: it refuses the old field names and types, so
a request that reaches it unwalked fails. It prints "listening on PORT" once
it listens on 127.0.0.1 (port 0 by default: any free port).

Tasks embed their owner ({"object":"user","id":"usr_1","name":"Ann"}),
set with owner_id (usr_1 or usr_2).

Routes: POST /v1/tasks, GET /v1/tasks[?status=], GET|POST /v1/tasks/ID,
GET /v1/big?n=N (a list of N tasks), GET|POST /v1/echo (the request as seen
here), GET /v1/text (plain text). JSON answers are gzipped when the request
accepts gzip, unless ?identity=1; with ?hop=1 they say "Connection:
Content-Type, Content-Encoding", which a proxy must not obey.

Faults, for the proxy's tests: GET /v1/stall sends the headers of a JSON
list and half of it, then nothing (?before=1: not even the headers) until
the connection closes; GET /v1/endless sends a JSON list one byte at a time,
forever; GET /v1/stats says how many of those still hold a connection
({"object":"stats","open":N}). GET /v1/ws switches to any protocol the
request asks for (Upgrade) and echoes what it receives. Request bodies may
be chunked.

Credentials: a request with no Authorization header is served as anonymous;
"Bearer sk_test_..." is accepted, "Bearer sk_test_forbidden..." refused with
403, anything else with 401. GET /v1/me answers 200 with the account of
accepted credentials, else 401 or 403: the proxy's auth check.

Its twin in Node.js, upstream.js, answers the same.
"""

import gzip
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "2024-06-01"
FIELDS = {"title", "priority", "status", "labels", "owner_id"}
USERS = {"usr_1": "Ann", "usr_2": "Bo"}
STATUSES = {"open", "done"}

tasks = {}
lock = threading.Lock()
# open counts the /v1/stall and /v1/endless requests that hold a connection.
open_faults = [0]


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
    if "owner_id" in params and params["owner_id"] not in USERS:
        raise Invalid(400, "resource_missing", "No such user: %r" % str(params["owner_id"])[:100], "owner_id")
    if "labels" in params and not (isinstance(params["labels"], list) and all(isinstance(x, str) for x in params["labels"])):
        raise Invalid(400, "parameter_invalid", "labels must be a list of strings", "labels")


def set_owner(task, params):
    """A task embeds its owner, set with owner_id."""
    if "owner_id" in params:
        task["owner"] = {"object": "user", "id": params["owner_id"], "name": USERS[params["owner_id"]]}


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
        if status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        if "hop" in query:
            self.send_header("Connection", "Content-Type, Content-Encoding")
        if "gzip" in self.headers.get("Accept-Encoding", "") and "identity" not in query:
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                line = self.rfile.readline(100).strip()
                try:
                    size = int(line.split(b";")[0], 16)
                except ValueError:
                    raise Invalid(400, "body_invalid", "invalid request body: malformed chunked encoding")
                if size == 0:
                    while self.rfile.readline(1000).strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def params(self):
        raw = self.body.decode()
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

    def authenticate(self, required):
        auth = self.headers.get("Authorization")
        if auth is None and not required:
            return None
        if auth is None or not auth.startswith("Bearer sk_test_"):
            raise Invalid(401, "invalid_api_key", "Invalid API key provided.")
        if auth.startswith("Bearer sk_test_forbidden"):
            raise Invalid(403, "forbidden", "This key may not do that.")
        return "acct_" + auth[len("Bearer sk_test_"):]

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        account = self.authenticate(url.path == "/v1/me")
        if url.path == "/v1/me":
            return 200, {"object": "account", "id": account}
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
                    set_owner(task, params)
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
                    task.update({k: v for k, v in params.items() if k != "owner_id"})
                    set_owner(task, params)
            return 200, task
        if parts[1] == "big" and method == "GET":
            n = int(query.get("n", "10"))
            data = [{"object": "task", "id": "task_big_%d" % i, "title": "x" * 100, "priority": "1",
                     "status": "open", "labels": []} for i in range(n)]
            return 200, {"object": "list", "url": "/v1/big", "has_more": False, "data": data}
        if parts[1] == "echo":
            body = self.body.decode()
            return 200, {"object": "echo", "method": method, "path": url.path, "query": url.query,
                         "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        if parts[1] == "stats":
            with lock:
                n = open_faults[0]
            return 200, {"object": "stats", "open": n}
        if parts[1] == "text" and method == "GET":
            return 200, "plain text, as it was sent"
        raise Invalid(404, "resource_missing", "Unrecognized request URL (%s: %s)." % (method, url.path))

    def fault(self, kind, query):
        """Holds the connection: /v1/stall until the other side closes it,
        /v1/endless for as long as it can write."""
        with lock:
            open_faults[0] += 1
        try:
            if kind == "stall" and "before" in query:
                self.rfile.read(1)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if kind == "stall":
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"object":"list","data":[')
                self.wfile.flush()
                self.rfile.read(1)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b'19\r\n{"object":"list","data":[\r\n')
            while True:
                self.wfile.write(b"1\r\n \r\n")
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            pass
        finally:
            self.close_connection = True
            with lock:
                open_faults[0] -= 1

    def switch(self):
        """Switches to the protocol asked for, then echoes bytes."""
        self.send_response(101)
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", self.headers.get("Upgrade", ""))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                b = self.connection.recv(4096)
                if not b:
                    return
                self.connection.sendall(b)
        except OSError:
            pass

    def handle_method(self, method):
        # The body is read first, whatever the answer, so that the next
        # request on the connection starts where it should.
        try:
            self.body = self.read_body() if method == "POST" else b""
        except Invalid as e:
            self.body = b""
            self.close_connection = True
            self.send_json(e.status, {"error": {"type": "invalid_request_error", "code": e.code, "message": e.message}})
            return
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path in ("/v1/stall", "/v1/endless"):
            self.fault(url.path[4:], query)
            return
        if url.path == "/v1/ws" and self.headers.get("Upgrade"):
            self.switch()
            return
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


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that went away is not an error of this test server."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True
    server.version_header = "Acme-Version"
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
