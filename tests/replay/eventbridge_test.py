#!/usr/bin/python3
"""eventbridge_test.py BUILD - `scrub replay` against a local EventBridge.

fake_eventbridge.py checks each call's SigV4 signature with botocore and
the PutEvents contract, records the entries and injects faults. Each case
asserts that every emitted event arrives exactly once with the fields the
scrubbed event gives it, that only ThrottlingException and InternalFailure
entries are sent again, that the others land in the rejects file with
their code, and that an interrupted run resumed later delivers the rest
exactly once.
"""
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1])
SCRUB = shlex.split(os.environ.get("SCRUB_WRAP", "")) + [BUILD + "/scrub"]
POLICY = os.path.join(HERE, "eb-policy.scrub")
KEY, SECRET, TOKEN = ("AKIDEXAMPLE",
                      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                      "FQoGZXIvYXdzEXAMPLE/token+with=chars")
FAILED = []


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("  FAIL: " + what)


# ---- events ------------------------------------------------------------------

def make_events(path, count, injects):
    """`count` events numbered 1..count; injects maps n -> spec."""
    base = datetime.datetime(2023, 4, 21, 14, 0, 0,
                             tzinfo=datetime.timezone.utc)
    with open(path, "w") as f:
        for n in range(1, count + 1):
            t = base + datetime.timedelta(seconds=7 * n)
            detail = ('{"n":%d,"inject":"%s","card":"4111111111111111",'
                      '"amount":1.50,"big":9223372036854775807,'
                      '"text":"caf\\u00e9 \\/ \\"quoted\\" \u2603",'
                      '"skip":%s}' % (n, injects.get(n, ""),
                                      "true" if n % 13 == 0 else "false"))
            ev = ('{"version":"0","id":"id-%d","detail-type":"Order %s",'
                  '"source":"com.example.orders","account":"111122223333",'
                  '"time":"%s","region":"us-east-2","resources":%s,'
                  '"detail":%s}' % (
                      n, "Placed" if n % 2 else "Shipped",
                      t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      '["arn:aws:dynamodb:us-east-2:111122223333:table/O"]'
                      if n % 3 == 0 else "[]", detail))
            f.write(ev + "\n")


def detail_span(line):
    """The scrubbed event's detail, byte for byte as it was printed."""
    at = line.index('"detail":') + len('"detail":')
    _, end = json.JSONDecoder().raw_decode(line, at)
    return line[at:end]


def expected_entries(events, tmp):
    """n -> the PutEvents entry each emitted event must arrive as, from
    the NDJSON sink's output for the same policy and input."""
    out = subprocess.run(SCRUB + ["replay", "--quiet", "--policy", POLICY,
                                  events], capture_output=True, text=True,
                         env=dict(os.environ, SCRUB_KEY="k"), check=True)
    want = {}
    for line in out.stdout.splitlines():
        ev = json.loads(line)
        t = datetime.datetime.strptime(ev["time"], "%Y-%m-%dT%H:%M:%SZ")
        e = {"Time": int(t.replace(tzinfo=datetime.timezone.utc)
                         .timestamp()),
             "Source": ev["source"], "Resources": ev["resources"],
             "DetailType": ev["detail-type"], "Detail": detail_span(line),
             "EventBusName": "test-bus"}
        want[str(ev["detail"]["n"])] = e
    return want


# ---- the endpoint ---------------------------------------------------------------

class Endpoint:
    def __init__(self, tmp, *extra):
        self.log = os.path.join(tmp, "calls.ndjson")
        port_file = os.path.join(tmp, "port")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "fake_eventbridge.py"),
             "--port-file", port_file, "--log", self.log, "--key", KEY,
             "--secret", SECRET] + list(extra))
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%s/" % f.read().strip()

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f]

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def replay(endpoint, events, tmp, *extra, token=TOKEN, wait=True):
    env = dict(os.environ, SCRUB_KEY="k", AWS_ACCESS_KEY_ID=KEY,
               AWS_SECRET_ACCESS_KEY=SECRET)
    env.pop("AWS_SESSION_TOKEN", None)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    args = SCRUB + ["replay", "--policy", POLICY, "--event-bus-name",
                    "test-bus", "--region", "us-east-2", "--endpoint-url",
                    endpoint.url, "--rejects",
                    os.path.join(tmp, "rejects.ndjson"), "--stats",
                    os.path.join(tmp, "stats.json"), "--checkpoint",
                    os.path.join(tmp, "checkpoint.json"),
                    "--retry-base-ms", "1", "--retry-max-ms", "4"]
    args += list(extra) + [events]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    out, err = proc.communicate()
    return proc.returncode, out, err


def delivered(calls):
    """n -> how many times each entry was accepted; n -> times seen."""
    ok, seen = {}, {}
    for c in calls:
        for e in c.get("entries", []):
            seen[e["id"]] = seen.get(e["id"], 0) + 1
            if e.get("result") == "ok":
                ok.setdefault(e["id"], []).append(e)
    return ok, seen


def strip(e):
    return {k: v for k, v in e.items() if k not in ("id", "result")}


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


# ---- cases -------------------------------------------------------------------------

def case_faults(tmp):
    """Per-entry and whole-call faults: exactly once, only retryable
    codes retried, the rest rejected with their code."""
    # Whole-call faults far from the others: a refused call sends every
    # entry in it again, whatever the entry.
    injects = {3: "throttle:2", 4: "internal:1", 5: "malformed",
               6: "denied", 7: "throttle:9", 10: "internal:3",
               11: "throttle:3", 12: "malformed", 55: "call500:1",
               75: "callcolon:1", 95: "callthrottle:2",
               115: "callheader:2"}
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 120, injects)
    want = expected_entries(events, tmp)
    ep = Endpoint(tmp, "--token", TOKEN)
    try:
        rc, out, err = replay(ep, events, tmp, "--threads", "2",
                              "--max-attempts", "4")
        calls = ep.calls()
    finally:
        ep.close()
    check(rc == 0, "faults: exit status %d (%s)" % (rc, err.strip()))
    check(out == "", "faults: nothing on stdout")
    check(not [c for c in calls if "violation" in c],
          "faults: calls refused: %s" %
          [c["violation"] for c in calls if "violation" in c][:3])
    ok, seen = delivered(calls)
    never = {"5": "MalformedDetail", "6": "AccessDeniedException",
             "7": "ThrottlingException", "12": "MalformedDetail"}
    for n, e in want.items():
        if n in never:
            check(n not in ok, "faults: %s was accepted" % n)
            continue
        got = ok.get(n, [])
        check(len(got) == 1, "faults: %s accepted %d times" % (n, len(got)))
        if got:
            check(strip(got[0]) == e, "faults: %s arrived as %s, not %s" %
                  (n, strip(got[0]), e))
    check(set(ok) <= set(want), "faults: unexpected entries %s" %
          sorted(set(ok) - set(want)))
    # Seen = calls that carried the entry: retries only for the
    # retryable codes, and at most --max-attempts.
    for n, times in {"1": 1, "3": 3, "4": 2, "5": 1, "6": 1, "7": 4,
                     "10": 4, "11": 4, "12": 1, "55": 2,
                     "75": 2, "95": 3, "115": 3}.items():
        check(seen.get(n) == times, "faults: %s sent %s times, not %d" %
              (n, seen.get(n), times))
    rejects = load(os.path.join(tmp, "rejects.ndjson"))
    codes = {str(int(r["line"])): r["code"] for r in rejects}
    check(codes == never, "faults: rejects %s, not %s" % (codes, never))
    check(all(set(r) == {"input", "line", "code", "message", "rule",
                         "policy"} and "4111" not in r["message"]
              for r in rejects), "faults: reject records hold no data")
    stats = json.load(open(os.path.join(tmp, "stats.json")))
    check((stats["read"], stats["emitted"], stats["dropped"],
           stats["sent"], stats["failed"], stats["outcome"]) ==
          (120, 111, 9, 107, 4, "complete"),
          "faults: stats %s" % stats)
    check(stats["failures"] == {"MalformedDetail": 2,
                                "AccessDeniedException": 1,
                                "ThrottlingException": 1},
          "faults: failures %s" % stats["failures"])
    check(all(len(c["entries"]) <= 10 for c in calls),
          "faults: a call with more than 10 entries")


def case_sizes(tmp):
    """A small request limit: calls split by entry size, an entry over
    the limit rejected and never sent; no session token."""
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 40, {})
    with open(events, "a") as f:
        f.write('{"id":"big","detail-type":"Big","source":"s",'
                '"time":"2023-04-21T15:00:00Z","resources":[],'
                '"detail":{"n":"big","pad":"%s"}}\n' % ("x" * 3000))
    want = expected_entries(events, tmp)
    ep = Endpoint(tmp, "--max-request-bytes", "1500")
    try:
        rc, out, err = replay(ep, events, tmp, "--max-request-bytes",
                              "1500", "--threads", "3", token=None)
        calls = ep.calls()
    finally:
        ep.close()
    check(rc == 0, "sizes: exit status %d (%s)" % (rc, err.strip()))
    check(not [c for c in calls if "violation" in c], "sizes: refused")
    ok, _ = delivered(calls)
    check(sorted(ok) == sorted(n for n in want if n != "big"),
          "sizes: accepted %s" % sorted(ok))
    check(all(len(v) == 1 for v in ok.values()), "sizes: duplicates")
    check(max(len(c["entries"]) for c in calls) < 10,
          "sizes: the size limit did not split the calls")
    rejects = load(os.path.join(tmp, "rejects.ndjson"))
    check([(r["line"], r["code"]) for r in rejects] ==
          [(41, "entry_too_large")], "sizes: rejects %s" % rejects)


def case_long_token(tmp):
    """A session token has no documented size limit: one of 5,000 bytes
    is sent and signed like any other."""
    token = "FQoGZXIvYXdz" + "A" * 4988
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 12, {})
    want = expected_entries(events, tmp)
    ep = Endpoint(tmp, "--token", token)
    try:
        rc, _, err = replay(ep, events, tmp, token=token)
        calls = ep.calls()
    finally:
        ep.close()
    check(rc == 0, "long token: exit status %d (%s)" % (rc, err.strip()))
    check(calls and not [c for c in calls if "violation" in c],
          "long token: calls refused: %s" % calls[:1])
    ok, _ = delivered(calls)
    check(sorted(ok) == sorted(want), "long token: accepted %s" %
          sorted(ok))


def case_resume(tmp):
    """SIGINT in the middle: the calls in flight finish, a checkpoint is
    written; --resume delivers the rest; each event arrives once."""
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 400, {50: "throttle:1", 200: "internal:2"})
    want = expected_entries(events, tmp)
    ep = Endpoint(tmp, "--token", TOKEN, "--delay", "0.05")
    try:
        proc = replay(ep, events, tmp, "--connections", "2",
                      wait=False)
        for _ in range(400):
            if len(ep.calls()) >= 4:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err1 = proc.communicate()
        first = len(delivered(ep.calls())[0])
        cp = json.load(open(os.path.join(tmp, "checkpoint.json")))
        rc2, _, err2 = replay(ep, events, tmp, "--resume")
        calls = ep.calls()
        rc3, _, err3 = replay(ep, events, tmp, "--resume")
        again = len(ep.calls()) - len(calls)
    finally:
        ep.close()
    check(proc.returncode == 130, "resume: interrupted run exited %d (%s)"
          % (proc.returncode, err1.strip()))
    check("stopped by SIGINT" in err1 and "--resume" in err1,
          "resume: interrupted run says %r" % err1)
    check(not cp["complete"] and 0 < first < len(want),
          "resume: checkpoint %s after %d delivered" % (cp, first))
    check(rc2 == 0, "resume: resumed run exited %d (%s)" % (rc2, err2))
    ok, _ = delivered(calls)
    check(sorted(ok) == sorted(want), "resume: missing %s" %
          sorted(set(want) - set(ok))[:5])
    dup = [n for n, v in ok.items() if len(v) != 1]
    check(not dup, "resume: delivered more than once: %s" % dup[:5])
    stats = json.load(open(os.path.join(tmp, "stats.json")))
    check((stats["read"], stats["sent"], stats["outcome"]) ==
          (400, len(want), "complete"), "resume: stats %s" % stats)
    check(rc3 == 0 and again == 0 and "nothing to do" in err3,
          "resume: a finished replay resumed sent %d calls" % again)


def case_bad_secret(tmp):
    """Wrong credentials: the endpoint refuses the signature; the run
    stops with status 2, the events go to the rejects with the code."""
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 25, {})
    ep = Endpoint(tmp, "--secret", "another-secret")
    try:
        rc, _, err = replay(ep, events, tmp, "--connections", "1",
                            "--threads", "1", token=None)
        calls = ep.calls()
    finally:
        ep.close()
    check(rc == 2, "bad secret: exit status %d" % rc)
    check("PutEvents failed: InvalidSignatureException" in err,
          "bad secret: stderr %r" % err)
    check(all(c.get("violation") == "signature mismatch" for c in calls),
          "bad secret: calls %s" % calls[:2])
    rejects = load(os.path.join(tmp, "rejects.ndjson"))
    check(len(rejects) >= 1 and all(r["code"] ==
                                     "InvalidSignatureException"
                                     for r in rejects),
          "bad secret: rejects %s" % rejects[:2])
    cp = json.load(open(os.path.join(tmp, "checkpoint.json")))
    check(cp["counts"]["failed"] == len(rejects) and not cp["complete"],
          "bad secret: checkpoint %s" % cp)


def case_bad_answer(tmp):
    """An answer with an entry that has neither EventId nor ErrorCode
    says nothing certain about the call: the run stops, its entries given
    up once each, none counted twice (bug: the entries before the bad one were
    applied, then the whole call given up again)."""
    events = os.path.join(tmp, "events.ndjson")
    make_events(events, 6, {2: "throttle:1", 3: "denied", 5: "blank:1"})
    ep = Endpoint(tmp)
    try:
        rc, _, err = replay(ep, events, tmp, "--connections", "1",
                            "--threads", "1")
    finally:
        ep.close()
    check(rc == 2 and "PutEvents failed: bad_response" in err,
          "bad answer: exit status %d (%s)" % (rc, err.strip()))
    rejects = load(os.path.join(tmp, "rejects.ndjson"))
    lines = sorted(r["line"] for r in rejects)
    check(lines == sorted(set(lines)), "bad answer: a line rejected twice: "
          "%s" % lines)
    stats = json.load(open(os.path.join(tmp, "stats.json")))
    check(stats["sent"] + stats["failed"] == stats["emitted"] and
          stats["failed"] == len(rejects), "bad answer: stats %s" % stats)


def main():
    for case in (case_faults, case_sizes, case_long_token, case_resume,
                 case_bad_secret, case_bad_answer):
        with tempfile.TemporaryDirectory() as tmp:
            before = len(FAILED)
            case(tmp)
            print("  %s %s" % ("ok  " if len(FAILED) == before else "FAIL",
                               case.__name__[5:]))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
