#!/usr/bin/python3
"""fake_eventbridge.py - a local HTTP endpoint that plays EventBridge's
PutEvents for the replay tests.

Every call is checked the way AWS would: POST /, AWS JSON 1.1 headers
(Content-Type application/x-amz-json-1.1, X-Amz-Target
AWSEvents.PutEvents), a SigV4 signature recomputed with botocore for the
expected key, region and service, the session token when one is
expected, 1 to 10 entries, each with Source, DetailType and a Detail that
is a JSON object, the expected EventBusName, and the sum of entry sizes
(AWS's formula) below the limit. A call that fails a check is refused
(403 InvalidSignatureException or 400 ValidationException) and logged as
a violation.

Faults are injected from the events themselves, so that they do not depend
on how the client batches: a Detail's "inject" member says what to do with
that entry ("n" names the entry):

  throttle:K      ErrorCode ThrottlingException the first K times seen
  internal:K      ErrorCode InternalFailure the first K times seen
  malformed       ErrorCode MalformedDetail, always (not retryable)
  denied          ErrorCode AccessDeniedException, always (not retryable)
  call500:K       the whole call fails with HTTP 500 InternalFailure the
                  first K times this entry is in it
  callthrottle:K  the whole call fails with HTTP 400 ThrottlingException
  callcolon:K     the same, its __type "ThrottlingException:" and a URL
  callheader:K    the same, the code only in the X-Amzn-ErrorType header
                  (with a URL after ':'), the body's __type another code
  blank:K         the entry's result is {} (neither EventId nor ErrorCode)
                  the first K times seen: an answer that breaks the contract

Each call is appended to the log (NDJSON) with its entries and what each
got. The port is written to --port-file once listening.
"""
import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ARGS = None
LOCK = threading.Lock()
# How a refused call names its error, per fault: the body's __type and
# the X-Amzn-ErrorType header, the three spellings AWS JSON 1.1 allows.
CORAL = ":http://internal.amazon.com/coral/com.amazon.coral.availability/"
CALL_ERRORS = {
    "call500": ("com.amazonaws.events#InternalFailure", None),
    "callthrottle": ("com.amazonaws.events#ThrottlingException", None),
    "callcolon": ("ThrottlingException" + CORAL, None),
    "callheader": ("SomethingElse", "ThrottlingException" + CORAL),
}
SEEN = {}
CALLS = [0]


def entry_size(e):
    """AWS's "Calculating PutEvents event entry size"."""
    size = 14 if "Time" in e else 0
    for k in ("Source", "DetailType", "Detail"):
        size += len(e.get(k, "").encode("utf-8"))
    for r in e.get("Resources", []):
        size += len(r.encode("utf-8"))
    return size


def check_signature(handler, body):
    """None when the SigV4 signature is right, else why not."""
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    try:
        parts = dict(p.strip().split("=", 1)
                     for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        key, date, region, service, term = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
    except (KeyError, ValueError):
        return "malformed Authorization header"
    amz_date = handler.headers.get("X-Amz-Date", "")
    if (key, region, service, term) != (ARGS.key, ARGS.region, "events",
                                        "aws4_request"):
        return "wrong credential scope %s" % parts["Credential"]
    if date != amz_date[:8]:
        return "credential date differs from X-Amz-Date"
    need = ["content-type", "host", "x-amz-date", "x-amz-target"]
    if ARGS.token:
        need.append("x-amz-security-token")
    if any(h not in signed for h in need):
        return "unsigned headers: %s" % parts["SignedHeaders"]
    headers = {h: handler.headers[h] for h in signed if h in handler.headers}
    req = AWSRequest(method="POST",
                     url="http://%s%s" % (handler.headers["Host"],
                                          handler.path),
                     data=body, headers=headers)
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(ARGS.key, ARGS.secret, ARGS.token),
                       "events", ARGS.region)
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    if want != parts.get("Signature"):
        return "signature mismatch"
    return None


def check_request(handler, body):
    """(entries, None) or (None, violation)."""
    if handler.path != "/":
        return None, "path %s" % handler.path
    if handler.headers.get("Content-Type") != "application/x-amz-json-1.1":
        return None, "Content-Type %s" % handler.headers.get("Content-Type")
    if handler.headers.get("X-Amz-Target") != "AWSEvents.PutEvents":
        return None, "X-Amz-Target %s" % handler.headers.get("X-Amz-Target")
    if ARGS.token and handler.headers.get("X-Amz-Security-Token") != \
            ARGS.token:
        return None, "missing or wrong X-Amz-Security-Token"
    try:
        req = json.loads(body)
        entries = req["Entries"]
    except (ValueError, KeyError, TypeError):
        return None, "body is not {\"Entries\": [...]}"
    if not 1 <= len(entries) <= 10:
        return None, "%d entries in one call" % len(entries)
    total = 0
    for e in entries:
        if e.get("EventBusName") != ARGS.bus:
            return None, "EventBusName %r" % e.get("EventBusName")
        if not all(isinstance(e.get(k), str) for k in
                   ("Source", "DetailType", "Detail")):
            return None, "entry without Source, DetailType or Detail"
        if not isinstance(json.loads(e["Detail"]), dict):
            return None, "Detail is not a JSON object"
        total += entry_size(e)
    if total >= ARGS.max_request_bytes:
        return None, "entries total %d bytes" % total
    return entries, None


def inject(e):
    """(kind, count) from the Detail's "inject" member."""
    spec = json.loads(e["Detail"]).get("inject", "")
    kind, _, k = spec.partition(":")
    return kind, int(k) if k else 0


def entry_id(e):
    n = json.loads(e["Detail"]).get("n")
    if n is not None:
        return str(n)
    return hashlib.sha256(e["Detail"].encode()).hexdigest()[:16]


def decide(entries):
    """(status, error type or None, per-entry results) for one call."""
    ids = [entry_id(e) for e in entries]
    for i in ids:
        SEEN[i] = SEEN.get(i, 0) + 1
    for e, i in zip(entries, ids):
        kind, k = inject(e)
        if kind in CALL_ERRORS and SEEN[i] <= k:
            return 500 if kind == "call500" else 400, kind, None
    results = []
    for e, i in zip(entries, ids):
        kind, k = inject(e)
        if kind == "throttle" and SEEN[i] <= k:
            results.append("ThrottlingException")
        elif kind == "internal" and SEEN[i] <= k:
            results.append("InternalFailure")
        elif kind == "blank" and SEEN[i] <= k:
            results.append("blank")
        elif kind == "malformed":
            results.append("MalformedDetail")
        elif kind == "denied":
            results.append("AccessDeniedException")
        else:
            results.append("ok")
    return 200, None, results


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, errtype=None):
        out = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        if errtype:
            self.send_header("X-Amzn-ErrorType", errtype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if ARGS.delay:
            time.sleep(ARGS.delay)
        with LOCK:
            CALLS[0] += 1
            log = {"call": CALLS[0]}
            why = check_signature(self, body)
            entries = None
            if why is None:
                entries, why = check_request(self, body)
            if why is not None:
                log["violation"] = why
                self.record(log)
                kind = ("InvalidSignatureException" if "ignat" in why or
                        "redential" in why else "ValidationException")
                self.reply(403 if kind.startswith("Invalid") else 400,
                           {"__type": kind, "message": why})
                return
            status, err, results = decide(entries)
            log["status"] = status
            log["entries"] = [dict(e, id=entry_id(e)) for e in entries]
            if results is None:
                code, errtype = CALL_ERRORS[err]
                log["call_error"] = err
                self.record(log)
                self.reply(status, {"__type": code, "message": "injected"},
                           errtype)
                return
            out = []
            for e, r in zip(log["entries"], results):
                e["result"] = r
                if r == "ok":
                    out.append({"EventId": "ev-%s-%d" % (e["id"],
                                                         CALLS[0])})
                elif r == "blank":
                    out.append({})
                else:
                    out.append({"ErrorCode": r, "ErrorMessage": "injected"})
            self.record(log)
            self.reply(200, {"FailedEntryCount": sum(r != "ok" for r in
                                                     results),
                             "Entries": out})

    def record(self, log):
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(log) + "\n")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--bus", default="test-bus")
    p.add_argument("--region", default="us-east-2")
    p.add_argument("--key", default="AKIDEXAMPLE")
    p.add_argument("--secret", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    p.add_argument("--token", default=None)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--max-request-bytes", type=int, default=262144)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
