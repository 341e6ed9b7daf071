#!/usr/bin/python3
"""run.py BUILD SHARED [--bootstrap FILE] [CASE...] - the Lambda runtime's
end-to-end tests (all cases, or the ones named; FILE instead of
BUILD/bootstrap, e.g. the one from the zip).

Each case starts the real BUILD/bootstrap against the Runtime API emulator
(emulator.py), hands it a scripted list of invocations, and compares the
whole exchange with expected/CASE.txt byte for byte: every API call with
its body (responses, errors, init errors), the exit status, and the log
lines on stdout (timestamps and durations blanked). After the scripted
invocations the emulator answers /next with 500, so every case also checks
that the runtime exits on it.

Besides the goldens: the events the Lambda emits are the bytes `scrub run`
emits for the same policy, key and events; nothing from a rejected or
dropped event (they carry the marker SENTINEL-PII) appears in a log line,
an error, or a response; and there is one metrics line per invocation.

UPDATE=1 rewrites the expected files (review the diff before committing).
"""

import base64
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import emulator  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
SHARED = os.path.abspath(sys.argv[2])
ARGS = sys.argv[3:]
BOOTSTRAP = os.path.join(BUILD, "bootstrap")
if ARGS[:1] == ["--bootstrap"]:
    BOOTSTRAP = os.path.abspath(ARGS[1])
    ARGS = ARGS[2:]
WRAP = os.environ.get("SCRUB_WRAP", "").split()
UPDATE = os.environ.get("UPDATE") == "1"
KEY = "lambda-test-key, 32 bytes long"
SENTINEL = b"SENTINEL-PII"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;" \
    "Sampled=1"

# ---- events and records -----------------------------------------------------

OK1 = (b'{"source":"test.fidelity","detail":{"user":"jane@example.com",'
       b'"card":"4111-1111-1111-1111","big":12345678901234567890,'
       b'"price":1.50,"neg":-0,"exp":1E+2,"s":"caf\\u00e9 \\/ \\"q\\"",'
       b'"nested":{"a":[1, 2 ,{"b":null}]}}}')
OK2 = (b'{"source":"test.fidelity","detail":{"user":"joe@example.com",'
       b'"card":"5500 0000 0000 0004","n":-1.0e-7,"pad":"x"}}')
OK2_LONGER = OK2.replace(b'"pad":"x"', b'"pad":"xy"')
REJECT = (b'{"source":"test.reject","detail":{"card":4111111111111111,'
          b'"user":"SENTINEL-PII"}}')
DROP = b'{"source":"test.drop","detail":{"user":"SENTINEL-PII"}}'
OTHER = b'{"source":"other","detail":{"user":"SENTINEL-PII"}}'
BAD_JSON = b'{"source":"test.fidelity","detail":{"user":"SENTINEL-PII"'
BAD_UTF8 = b'{"source":"test.fidelity","detail":{"user":"SENTINEL-PII\xff"}}'


def seq(n):
    return "4964028915543013834789362961158%025d" % n


def record(event, n, data=None):
    """A Kinesis record as Pipes hands it to an enrichment (flat)."""
    r = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "pk-%d" % n,
        "sequenceNumber": seq(n),
        "data": base64.b64encode(event).decode() if data is None else data,
        "approximateArrivalTimestamp": 1682701212.301,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000000:" + seq(n),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::111122223333:role/pipe",
        "awsRegion": "us-east-2",
        "eventSourceARN": "arn:aws:kinesis:us-east-2:111122223333:"
                          "stream/ReplayedEventsStream",
    }
    return r


def batch(*events):
    return json.dumps([record(e, i + 1) for i, e in enumerate(events)])


def inv(n, payload, **kw):
    rid = "00000000-0000-4000-8000-%012d" % n
    return emulator.Invocation(payload, rid, **kw)


def one(name, env, policy="fidelity", **kw):
    """A case of one invocation that init should never reach."""
    return dict(name=name, policy=policy, env=env,
                invocations=[inv(1, batch(OK1))], **kw)


def shared(name):
    with open(os.path.join(SHARED, "samples", name), "rb") as f:
        return f.read()


def compact(raw):
    return json.dumps(json.loads(raw), separators=(",", ":"),
                      ensure_ascii=False).encode()


def without(rec, field):
    del rec[field]
    return rec


# ---- the cases --------------------------------------------------------------

def cases(tmp, sizes):
    sample = shared("pipes_kinesis_enrichment_input.batch.json")
    orders = shared("orders_order_placed.event.json")
    b2b = shared("seed_fin_transaction_b2b.replayed.event.json")
    s3 = shared("s3_object_created.event.json")
    fid = {"SCRUB_KEY": KEY, "SCRUB_TAG": "dev"}
    rejects = [
        batch(OK1, b"SENTINEL-PII is not base64"),
        json.dumps([record(OK1, 1), record(b"", 2, data="SENTINEL-PII")]),
        batch(BAD_JSON),
        batch(OK2, REJECT, OK1),
        batch(BAD_UTF8),
        json.dumps([without(record(OK1, 1), "sequenceNumber")]),
        # Kinesis sequence numbers are 0|[1-9][0-9]{0,128}.
        json.dumps([dict(record(OK1, 1), sequenceNumber="1" + "0" * 129)]),
        json.dumps([dict(record(OK1, 1), sequenceNumber="07")]),
        json.dumps([dict(record(OK1, 1), data=7)]),
        json.dumps([record(OK1, 1), "SENTINEL-PII"]),
        # Kinesis records where events are expected, and the reverse.
        b"[" + OK1 + b"," + json.dumps(record(OK1, 2)).encode() + b"]",
        json.dumps(record(OK1, 1)),
        json.dumps([record(OK1, 1), json.loads(OK2)]),
        b'[1,"SENTINEL-PII"]',
    ]
    payload_errors = ['[{"eventSource":"aws:kinesis","data":"SENTINEL-PII"',
                      '"SENTINEL-PII"', '']
    return [
        # The shared Pipes sample, twice (same bytes both times), then
        # direct invocations: one event, an array of events, nothing.
        dict(name="pipes-sample", policy="orders",
             env={"SCRUB_KEY": KEY, "SCRUB_LOG_LEVEL": "DEBUG"},
             invocations=[inv(1, sample, trace_id=TRACE), inv(2, sample),
                          inv(3, orders),
                          inv(4, b"[" + b",".join([b2b, s3, orders]) + b"]"),
                          inv(5, "[]")]),
        # Numbers and strings come out as they went in.
        dict(name="fidelity", policy="fidelity", env=fid,
             invocations=[inv(1, batch(OK1, DROP, OTHER, OK2)),
                          inv(2, b"[" + OK1 + b"," + OK2 + b"]")]),
        # The default: a rejected record fails the batch.
        dict(name="reject-fail", policy="fidelity", env=fid,
             invocations=[inv(i + 1, p) for i, p in
                          enumerate(rejects + payload_errors)]),
        # SCRUB_ON_REJECT=drop: rejected records are left out, counted.
        dict(name="reject-drop", policy="fidelity",
             env=dict(fid, SCRUB_ON_REJECT="drop"),
             invocations=[inv(i + 1, p) for i, p in
                          enumerate(rejects + payload_errors)]),
        dict(name="max-batch", policy="fidelity",
             env=dict(fid, SCRUB_MAX_BATCH="2"),
             invocations=[inv(1, batch(OK1, OK2)),
                          inv(2, batch(OK1, DROP, OK2, OTHER)),
                          inv(3, batch(OK1, OK2, OK1))]),
        # The response limit, exactly met and then exceeded by one byte.
        dict(name="max-response", policy="fidelity",
             env=dict(fid, SCRUB_MAX_RESPONSE=str(sizes["ok2x2"])),
             invocations=[inv(1, batch(OK2, OK2)),
                          inv(2, batch(OK2, DROP, OK2)),
                          inv(3, batch(OK2, OK2_LONGER)),
                          inv(4, batch(OK2, OK2, OK2))]),
        # Names outside printable ASCII: CloudWatch would refuse them,
        # so they are cleaned; reasons that then read alike add up.
        dict(name="metric-names", policy="names", env=fid,
             invocations=[inv(1, batch(OK1, DROP, OTHER, REJECT, DROP))]),
        # More drop reasons in one batch than a count table holds: the
        # last metric counts the rest, so the reasons add up to Dropped.
        dict(name="many-reasons", policy="many-reasons", env=fid,
             invocations=[inv(1, batch(*[b'{"source":"m.%03d"}' % i
                                         for i in range(105)]))]),
        # The longest sequence number Kinesis has: 129 digits.
        dict(name="long-sequence-number", policy="fidelity", env=fid,
             invocations=[inv(1, json.dumps([dict(
                 record(OK1, 1), sequenceNumber="1" + "0" * 128)]))]),
        dict(name="budget", policy="fidelity",
             env=dict(fid, SCRUB_MAX_STEPS="3"),
             invocations=[inv(1, batch(OK1))]),
        # A deadline already past: the batch stops before its first record.
        dict(name="deadline", policy="fidelity", env=fid,
             invocations=[inv(1, batch(OK1), deadline_ms=1),
                          inv(2, batch(OK1))]),
        # Lambda's payload limit met (the payload is read), then exceeded
        # by a byte: read to the end, answered with an error, and the next
        # invocation is served as usual.
        dict(name="payload-too-large", policy="fidelity", env=fid,
             invocations=[inv(1, b'["' + b"x" * 6291552 + b'"]'),
                          inv(2, b'["' + b"x" * 6291553 + b'"]'),
                          inv(3, batch(OK1))]),
        dict(name="key-file", policy="fidelity",
             env={"SCRUB_KEY_FILE": os.path.join(tmp, "key"),
                  "SCRUB_TAG": "dev"},
             invocations=[inv(1, batch(OK1, OK2))]),
        # A short key works, with a warning in the log.
        dict(name="short-key", policy="fidelity",
             env=dict(fid, SCRUB_KEY="short"),
             invocations=[inv(1, batch(OK1))]),
        # Init failures: reported to /runtime/init/error, then exit.
        one("init-missing-policy",
            dict(fid, SCRUB_POLICY=os.path.join(tmp, "missing"))),
        one("init-source-policy",
            dict(fid, SCRUB_POLICY="tests/lambda/fidelity.scrub")),
        one("init-corrupt-policy", fid, policy="corrupt"),
        one("init-no-key", {}),
        one("init-two-keys",
            dict(fid, SCRUB_KEY_FILE=os.path.join(tmp, "key"))),
        one("init-test-key", dict(fid, SCRUB_KEY="scrubc-test-key: public, "
                                  "for policy tests only")),
        one("init-bad-setting", dict(fid, SCRUB_ON_REJECT="sometimes")),
        one("init-bad-number", dict(fid, SCRUB_MAX_BATCH="0")),
        one("init-bad-lambda-level", dict(fid,
                                          AWS_LAMBDA_LOG_LEVEL="bogus")),
        one("init-error-refused", {}, statuses={("init/error", 1): 500}),
        # The Runtime API failing: 500 ends the process, 403 does not,
        # 413 turns the response into an error.
        dict(name="api-500-response", policy="fidelity", env=fid,
             statuses={("response", 1): 500},
             invocations=[inv(1, batch(OK1)), inv(2, batch(OK2))]),
        dict(name="api-500-error", policy="fidelity", env=fid,
             statuses={("error", 1): 500},
             invocations=[inv(1, batch(REJECT)), inv(2, batch(OK2))]),
        dict(name="api-403-response", policy="fidelity", env=fid,
             statuses={("response", 1): 403},
             invocations=[inv(1, batch(OK1)), inv(2, batch(OK2))]),
        dict(name="api-413-response", policy="fidelity", env=fid,
             statuses={("response", 1): 413},
             invocations=[inv(1, batch(OK1)), inv(2, batch(OK2))]),
    ]


# ---- running and checking ---------------------------------------------------

def scrub_run(policy, events, env):
    """What `scrub run` emits for these events: one line each."""
    p = subprocess.run([os.path.join(BUILD, "scrub"), "run", "--quiet",
                        "--policy", policy], input=b"\n".join(events) + b"\n",
                       stdout=subprocess.PIPE, env=env, check=True, cwd=ROOT)
    return p.stdout.splitlines()


def normalize(text, tmp):
    text = text.replace(tmp, "$TMP")
    text = re.sub(r'"timestamp":"[^"]*"', '"timestamp":"T"', text)
    text = re.sub(r'"Timestamp":[0-9]+', '"Timestamp":T', text)
    return re.sub(r'"Duration":[0-9.]+', '"Duration":D', text)


def transcript(status, log, out, err, tmp):
    return normalize("== exit %d\n== api\n%s\n== stdout\n%s== stderr\n%s"
                     % (status, "\n".join(log), out.decode("utf-8", "replace"),
                        err.decode("utf-8", "replace")), tmp)


def check_invariants(case, status, api, out, err):
    """What must hold whatever the golden says."""
    problems = []
    bodies = [line for line in api.log if line.startswith("POST")]
    if SENTINEL in out or SENTINEL in err or \
            any(SENTINEL.decode() in b for b in bodies):
        problems.append("event data (SENTINEL-PII) leaked")
    lines = out.decode().splitlines()
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            problems.append("stdout line is not JSON: " + line[:80])
    answered = [t for t in api.times if t[0] == "next"]
    metrics = [line for line in lines if emulator.emf(line)]
    if len(metrics) != len(answered):
        problems.append("%d metrics lines for %d invocations"
                        % (len(metrics), len(answered)))
    for line in metrics:
        o = emulator.emf(line)
        for d in o["_aws"]["CloudWatchMetrics"]:
            names = [m["Name"] for m in d["Metrics"]]
            if len(names) > 100:
                problems.append("an EMF directive of %d metrics (CloudWatch "
                                "takes 100)" % len(names))
            problems += ["metric %s has no value" % n
                         for n in names if n not in o]
        for kind in ("Dropped", "Rejected"):
            by_reason = sum(v for k, v in o.items()
                            if k.startswith(kind + "."))
            if by_reason != o[kind]:
                problems.append("%s.* add up to %d, %s is %d"
                                % (kind, by_reason, kind, o[kind]))
    if status != 1:
        problems.append("exit status %d, not 1" % status)
    return problems


def check_same_as_scrub_run(name, api, policies, env):
    """The Lambda's events are the bytes `scrub run` gives."""
    if name not in ("pipes-sample", "fidelity", "key-file"):
        return []
    policy = policies["orders" if name == "pipes-sample" else "fidelity"]
    responses = [line.split("\n  ", 1)[1] for line in api.log
                 if line.startswith("POST response")]
    sample = json.loads(shared("pipes_kinesis_enrichment_input.batch.json"))
    events = [base64.b64decode(r["data"]) for r in sample] \
        if name == "pipes-sample" else [OK1, DROP, OTHER, OK2]
    if name == "key-file":
        events = [OK1, OK2]
    want = b"[" + b",".join(scrub_run(policy, events, env)) + b"]"
    got = responses[0] if responses else "(no response)"
    if got.encode() != want:
        return ["the response differs from scrub run's output:\n  %s\n  %s"
                % (got[:200], want[:200])]
    return []


def prepare(tmp):
    """Compile the policies; write the key file; measure one response."""
    policies = {}
    for name, src in (("orders", "policies/orders-to-stage.scrub"),
                      ("fidelity", "tests/lambda/fidelity.scrub"),
                      ("names", "tests/lambda/names.scrub"),
                      ("many-reasons", "tests/lambda/many-reasons.scrub")):
        policies[name] = os.path.join(tmp, name + ".scrubc")
        subprocess.run([os.path.join(BUILD, "scrubc"), "build", src, "-o",
                        policies[name]], check=True, cwd=ROOT)
    with open(policies["fidelity"], "rb") as f:
        code = bytearray(f.read())
    code[-1] ^= 0x01    # the checksum no longer matches
    policies["corrupt"] = os.path.join(tmp, "corrupt.scrubc")
    with open(policies["corrupt"], "wb") as f:
        f.write(code)
    with open(os.path.join(tmp, "key"), "wb") as f:
        f.write(KEY.encode() + b"\r\n")
    env = {"SCRUB_KEY": KEY, "SCRUB_TAG": "dev", "PATH": os.environ["PATH"]}
    out = scrub_run(os.path.join(tmp, "fidelity.scrubc"), [OK2, OK2], env)
    return policies, {"ok2x2": 3 + sum(len(e) for e in out)}


def base_env(task):
    env = {"PATH": os.environ["PATH"], "TZ": "UTC", "LAMBDA_TASK_ROOT": task}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LD_LIBRARY_PATH"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def run_case(case, tmp, policies):
    task = os.path.join(tmp, "task-" + case["name"])
    os.makedirs(task)
    shutil.copy(policies[case["policy"]], os.path.join(task, "policy.scrubc"))
    env = dict(base_env(task), **case["env"])
    status, log, out, err, api = emulator.run(
        WRAP + [BOOTSTRAP], env, case["invocations"],
        case.get("statuses"), cwd=ROOT)
    got = transcript(status, log, out, err, tmp)
    path = os.path.join(HERE, "expected", case["name"] + ".txt")
    problems = check_invariants(case, status, api, out, err)
    cross_env = {"PATH": os.environ["PATH"], "SCRUB_KEY": KEY,
                 "SCRUB_TAG": "dev"}
    problems += check_same_as_scrub_run(case["name"], api, policies,
                                        cross_env)
    if UPDATE:
        with open(path, "w") as f:
            f.write(got)
    else:
        with open(path) as f:
            want = f.read()
        if got != want:
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                        "expected", "actual", lineterm="")
            problems.append("transcript differs:\n" +
                            "\n".join(list(diff)[:40]))
    return problems


def main():
    tmp = tempfile.mkdtemp(prefix="scrub-lambda-")
    failed = 0
    try:
        policies, sizes = prepare(tmp)
        for case in cases(tmp, sizes):
            if ARGS and case["name"] not in ARGS:
                continue
            problems = run_case(case, tmp, policies)
            print("  %-22s %s" % (case["name"], "FAIL" if problems
                                  else "ok"))
            for p in problems:
                print("    " + p.replace("\n", "\n    "))
            failed += bool(problems)
    finally:
        shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
