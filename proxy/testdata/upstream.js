// A small task API for verso's proxy tests, in Node.js with no framework:
// the twin of upstream.py, written for the newest version of
// testdata/timeline.yaml only. It refuses the old field names and types, so
// a request that reaches it unwalked fails. It prints "listening on PORT"
// once it listens on 127.0.0.1 (port 0 by default: any free port).
//
// Routes, faults and options are upstream.py's: POST /v1/tasks, GET
// /v1/tasks[?status=], GET|POST /v1/tasks/ID, GET /v1/big?n=N, GET|POST
// /v1/echo, GET /v1/text, GET /v1/stall[?before=1], GET /v1/endless, GET
// /v1/stats, GET /v1/ws (any Upgrade, then an echo); ?identity=1 and ?hop=1;
// credentials as upstream.py checks them, and GET /v1/me.
"use strict";

const http = require("node:http");
const zlib = require("node:zlib");

const VERSION = "2024-06-01";
const VERSION_HEADER = "Acme-Version";
const FIELDS = new Set(["title", "priority", "status", "labels", "owner_id"]);
const USERS = { usr_1: "Ann", usr_2: "Bo" };
const STATUSES = new Set(["open", "done"]);

const tasks = new Map();
let openFaults = 0;

class Invalid extends Error {
  constructor(status, code, message, param) {
    super(message);
    Object.assign(this, { status, code, param });
  }
}

// formParams parses a form body in Stripe's bracket syntax, as far as tasks
// need: labels[]=a&labels[]=b or labels[0]=a.
function formParams(raw) {
  const out = {};
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const dec = (s) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        throw new Invalid(400, "body_invalid", "invalid request body: bad escape");
      }
    };
    const key = dec(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : dec(part.slice(eq + 1));
    if (key.startsWith("labels[")) (out.labels ||= []).push(value);
    else out[key] = value;
  }
  return out;
}

function check(params, creating) {
  for (const key of Object.keys(params)) {
    if (!FIELDS.has(key)) throw new Invalid(400, "parameter_unknown", "Received unknown parameter: " + key, key);
  }
  if (creating && !("title" in params)) throw new Invalid(400, "parameter_missing", "Missing required param: title.", "title");
  if ("title" in params && typeof params.title !== "string") throw new Invalid(400, "parameter_invalid", "title must be a string", "title");
  if ("priority" in params && !(typeof params.priority === "string" && /^[0-9]+$/.test(params.priority))) {
    throw new Invalid(400, "parameter_invalid", "priority must be a string of digits", "priority");
  }
  if ("status" in params && !STATUSES.has(params.status)) throw new Invalid(400, "parameter_invalid", "status must be open or done", "status");
  if ("owner_id" in params && !Object.hasOwn(USERS, params.owner_id)) {
    throw new Invalid(400, "resource_missing", "No such user: " + JSON.stringify(String(params.owner_id).slice(0, 100)), "owner_id");
  }
  if ("labels" in params && !(Array.isArray(params.labels) && params.labels.every((x) => typeof x === "string"))) {
    throw new Invalid(400, "parameter_invalid", "labels must be a list of strings", "labels");
  }
}

// setOwner embeds a task's owner, set with owner_id.
function setOwner(task, params) {
  if ("owner_id" in params) task.owner = { object: "user", id: params.owner_id, name: USERS[params.owner_id] };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

async function params(req) {
  const raw = await readBody(req);
  if (raw.trim() === "") return {};
  const ctype = (req.headers["content-type"] || "").split(";")[0].trim();
  if (ctype === "application/json") {
    let p;
    try {
      p = JSON.parse(raw);
    } catch (e) {
      throw new Invalid(400, "body_invalid", "invalid request body: " + e.message);
    }
    if (p === null || typeof p !== "object" || Array.isArray(p)) throw new Invalid(400, "body_invalid", "invalid request body: not an object");
    return p;
  }
  return formParams(raw);
}

function sendJSON(req, res, query, status, obj) {
  let body = Buffer.from(JSON.stringify(obj));
  const headers = { "Content-Type": "application/json", [VERSION_HEADER]: VERSION };
  if (status === 401) headers["WWW-Authenticate"] = "Bearer";
  if (query.has("hop")) headers["Connection"] = "Content-Type, Content-Encoding";
  if ((req.headers["accept-encoding"] || "").includes("gzip") && !query.has("identity")) {
    body = zlib.gzipSync(body);
    headers["Content-Encoding"] = "gzip";
  }
  headers["Content-Length"] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

// authenticate returns the account of the request's credentials, null for
// an anonymous request when none are required, or throws 401 or 403.
function authenticate(req, required) {
  const auth = req.headers["authorization"];
  if (auth === undefined && !required) return null;
  if (auth === undefined || !auth.startsWith("Bearer sk_test_")) throw new Invalid(401, "invalid_api_key", "Invalid API key provided.");
  if (auth.startsWith("Bearer sk_test_forbidden")) throw new Invalid(403, "forbidden", "This key may not do that.");
  return "acct_" + auth.slice("Bearer sk_test_".length);
}

async function route(req, url) {
  const method = req.method;
  const account = authenticate(req, url.pathname === "/v1/me");
  if (url.pathname === "/v1/me") return [200, { object: "account", id: account }];
  const query = url.searchParams;
  const parts = url.pathname.replace(/^\/+|\/+$/g, "").split("/");
  const missing = () => new Invalid(404, "resource_missing", `Unrecognized request URL (${method}: ${url.pathname}).`);
  if (parts[0] !== "v1" || parts.length < 2) throw missing();
  if (parts[1] === "tasks" && parts.length === 2) {
    if (method === "POST") {
      const p = await params(req);
      check(p, true);
      const id = "task_" + (tasks.size + 1);
      const task = { object: "task", id, title: p.title, priority: p.priority ?? "1", status: p.status ?? "open", labels: p.labels ?? [] };
      setOwner(task, p);
      tasks.set(id, task);
      return [200, task];
    }
    const status = query.get("status");
    if (status !== null && !STATUSES.has(status)) throw new Invalid(400, "parameter_invalid", "status must be open or done", "status");
    const data = [...tasks.values()].filter((t) => status === null || t.status === status);
    return [200, { object: "list", url: "/v1/tasks", has_more: false, data }];
  }
  if (parts[1] === "tasks" && parts.length === 3) {
    const task = tasks.get(parts[2]);
    if (!task) throw new Invalid(404, "resource_missing", `No such task: '${parts[2]}'`, "id");
    if (method === "POST") {
      const p = await params(req);
      check(p, false);
      const { owner_id, ...rest } = p;
      Object.assign(task, rest);
      setOwner(task, p);
    }
    return [200, task];
  }
  if (parts[1] === "big" && method === "GET") {
    const n = Number(query.get("n") ?? "10");
    const data = [];
    for (let i = 0; i < n; i++) data.push({ object: "task", id: "task_big_" + i, title: "x".repeat(100), priority: "1", status: "open", labels: [] });
    return [200, { object: "list", url: "/v1/big", has_more: false, data }];
  }
  if (parts[1] === "echo") {
    const body = method === "POST" ? await readBody(req) : "";
    return [200, { object: "echo", method, path: url.pathname, query: url.search.slice(1), headers: req.headers, body }];
  }
  if (parts[1] === "stats") return [200, { object: "stats", open: openFaults }];
  if (parts[1] === "text" && method === "GET") return [200, "plain text, as it was sent"];
  throw missing();
}

// fault holds the connection: /v1/stall until the other side closes it,
// /v1/endless for as long as it can write.
function fault(kind, req, res, query) {
  openFaults++;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      openFaults--;
    }
  };
  req.socket.on("close", finish);
  if (kind === "stall") {
    if (query.has("before")) return;
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
    res.write('{"object":"list","data":[');
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write('{"object":"list","data":[');
  const tick = setInterval(() => {
    if (done) return clearInterval(tick);
    res.write(" ");
  }, 20);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://upstream");
  if (url.pathname === "/v1/stall" || url.pathname === "/v1/endless") return fault(url.pathname.slice(4), req, res, url.searchParams);
  try {
    const [status, obj] = await route(req, url);
    if (typeof obj === "string") {
      const body = Buffer.from(obj);
      res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(body.length) });
      return res.end(body);
    }
    sendJSON(req, res, url.searchParams, status, obj);
  } catch (e) {
    if (!(e instanceof Invalid)) {
      res.writeHead(500, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: { type: "api_error", code: "api_error", message: String(e) } }));
    }
    const err = { type: "invalid_request_error", code: e.code, message: e.message };
    if (e.param) err.param = e.param;
    sendJSON(req, res, url.searchParams, e.status, { error: err });
  }
});

// Any protocol the request asks for, then an echo of what arrives.
server.on("upgrade", (req, socket, head) => {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers["upgrade"]}\r\n\r\n`);
  if (head.length) socket.write(head);
  socket.pipe(socket);
  socket.on("error", () => {});
});

server.keepAliveTimeout = 120000;
server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  console.log("listening on " + server.address().port);
});
