"""A local Lambda Runtime API (version 2018-06-01) for testing `bootstrap`.

It follows the documented protocol (AWS Lambda developer guide, "Using the
Lambda runtime API for custom runtimes"):

  GET  /2018-06-01/runtime/invocation/next           200 + the payload, with
       Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms,
       Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response  202
  POST /2018-06-01/runtime/invocation/{id}/error     202 (error type header)
  POST /2018-06-01/runtime/init/error                202

It hands out a scripted list of invocations in order; once they are all
answered, /next returns 500, which tells the runtime to exit. `statuses`
makes a given call fail on purpose, e.g. {("response", 1): 500}. Every
call is written to a transcript (`log`) that tests compare byte for byte.
"""

import http.server
import json
import re
import subprocess
import threading
import time

BASE = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-2:111122223333:function:scrub-enrich"


class Invocation:
    def __init__(self, payload, request_id, deadline_ms=None, trace_id=None):
        self.payload = payload if isinstance(payload, bytes) \
            else payload.encode()
        self.request_id = request_id
        self.deadline_ms = deadline_ms
        self.trace_id = trace_id


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as Lambda's endpoint
    disable_nagle_algorithm = True  # headers and body go out at once

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        if self.path != BASE + "/invocation/next":
            return self.reply(404, b'{"errorMessage":"no such path"}')
        self.server.api.next(self)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        m = re.fullmatch(BASE + r"/invocation/([^/]+)/(response|error)",
                         self.path)
        if m:
            return self.server.api.post(self, m.group(2), m.group(1), body)
        if self.path == BASE + "/init/error":
            return self.server.api.post(self, "init/error", None, body)
        self.reply(404, b'{"errorMessage":"no such path"}')


class RuntimeAPI:
    def __init__(self, invocations, statuses=None, deadline_in_ms=60000):
        self.queue = list(invocations)
        self.statuses = dict(statuses or {})
        self.deadline_in_ms = deadline_in_ms
        self.calls = {}
        self.current = None
        self.log = []
        self.times = []     # (what, request id, monotonic seconds)
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.server.api = self
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def status(self, kind, default):
        with self.lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1
            return self.statuses.get((kind, self.calls[kind]), default)

    def next(self, h):
        if not self.queue:
            self.log.append("GET next -> 500 (no more invocations)")
            return h.reply(500, b'{"errorMessage":"emulator: no more '
                           b'invocations","errorType":"Runtime.Exit"}')
        status = self.status("next", 200)
        if status != 200:
            self.log.append("GET next -> %d" % status)
            return h.reply(status, b'{"errorMessage":"emulator: '
                           b'injected failure"}')
        inv = self.queue.pop(0)
        self.current = inv
        deadline = inv.deadline_ms
        if deadline is None:
            deadline = int(time.time() * 1000) + self.deadline_in_ms
        headers = [("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                   ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                   ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)]
        if inv.trace_id:
            headers.append(("Lambda-Runtime-Trace-Id", inv.trace_id))
        self.log.append("GET next -> 200 %s (%d bytes)"
                        % (inv.request_id, len(inv.payload)))
        self.times.append(("next", inv.request_id, time.monotonic()))
        h.reply(200, inv.payload, headers)

    def post(self, h, kind, request_id, body):
        self.times.append((kind, request_id, time.monotonic()))
        line = "POST %s" % kind if request_id is None \
            else "POST %s %s" % (kind, request_id)
        if kind != "response":
            line += " [%s; %s]" % (
                h.headers.get("Lambda-Runtime-Function-Error-Type"),
                h.headers.get("Content-Type"))
        status = self.status(kind, 202)
        if request_id is not None and (self.current is None or
                                       request_id != self.current.request_id):
            status = 400
        elif status == 202 and request_id is not None:
            self.current = None
        self.log.append("%s -> %d\n  %s" % (line, status,
                                            body.decode("utf-8", "replace")))
        h.reply(status, b'{"status":"OK"}' if status == 202
                else b'{"errorMessage":"emulator: refused"}')


def run(command, env, invocations, statuses=None, cwd=None, timeout=120):
    """Run the runtime (an argument list) against a fresh emulator until it
    exits. Returns (exit status, transcript lines, stdout, stderr, api)."""
    api = RuntimeAPI(invocations, statuses)
    env = dict(env)
    env.setdefault("AWS_LAMBDA_RUNTIME_API", api.address)
    try:
        p = subprocess.run(command, env=env, cwd=cwd, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        api.close()
    return p.returncode, api.log, p.stdout, p.stderr, api


def emf(line):
    """The EMF object of a log line, or None."""
    try:
        o = json.loads(line)
    except ValueError:
        return None
    return o if isinstance(o, dict) and "_aws" in o else None
