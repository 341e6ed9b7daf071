#!/usr/bin/python3
"""run.py BUILD - the event-pattern suite: every case of cases.jsonl
through `scrub test-pattern`, which must print true or false (exit 0), or
for an invalid pattern exit 2 with the exact first diagnostic.

A line of cases.jsonl is one of:
  {"doc": ..., "pattern": P, "match": [EVENT...], "nomatch": [EVENT...]}
  {"doc": ..., "invalid": "PATTERN TEXT", "error": "LINE:COL: message"}
Each event, and each invalid pattern, is one case. Every matching case
also runs wrapped one level down, {"w": P} against {"w": [EVENT]}: an
array of one element must not change the answer, and there the pattern is
evaluated element by element (the PATTERN instruction) instead of by the
jump code, so the two implementations are checked against each other.

SCRUB_PATTERN_STRIDE=N runs every Nth line of cases.jsonl only: under
valgrind each check is a process that takes most of a second, and the
plain and sanitizer runs take every line.
"""
import json
import os
import subprocess
import sys
import tempfile

BUILD = sys.argv[1]
SCRUB = os.path.join(BUILD, "scrub")
HERE = os.path.dirname(os.path.abspath(__file__))
WRAP = os.environ.get("SCRUB_WRAP", "").split()
STRIDE = max(1, int(os.environ.get("SCRUB_PATTERN_STRIDE", "1")))


def test_pattern(pattern, event):
    p = subprocess.run(WRAP + [SCRUB, "test-pattern", "--event-pattern",
                               pattern, "--event", event],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def compact(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


failures = []
count = 0


def fail(where, what):
    failures.append("%s: %s" % (where, what))


def check_match(where, pattern, event, want):
    rc, out, err = test_pattern(pattern, event)
    got = out.strip()
    if rc != 0 or got != ("true" if want else "false"):
        fail(where, "%s on %s: want %s, got %r (exit %d) %s" %
             (pattern, event, want, got, rc, err.strip()[:200]))


def main():
    global count
    with open(os.path.join(HERE, "cases.jsonl"), encoding="utf-8") as f:
        lines = f.readlines()
    cases = 0
    for no, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        cases += 1
        if (cases - 1) % STRIDE != 0:
            continue
        case = json.loads(line)
        where = "cases.jsonl:%d" % no
        if "invalid" in case:
            count += 1
            rc, out, err = test_pattern(case["invalid"], '{"a":1}')
            first = err.split("\n")[0]
            prefix = "event-pattern:"
            got = first[len(prefix):].replace("error: ", "", 1) \
                if first.startswith(prefix) else first
            if rc != 2 or out != "" or got != case["error"]:
                fail(where, "%s: want %r, got %r (exit %d)" %
                     (case["invalid"], case["error"], got, rc))
            continue
        pattern = case["pattern"]
        ptext = pattern if isinstance(pattern, str) else compact(pattern)
        wrapped = '{"w":' + ptext + '}'
        for want in (True, False):
            for event in case.get("match" if want else "nomatch", []):
                count += 2
                etext = event if isinstance(event, str) else compact(event)
                check_match(where, ptext, etext, want)
                check_match(where + " (wrapped)", wrapped,
                            '{"w":[' + etext + ']}', want)
    cli_checks()
    for f_ in failures:
        print("  " + f_)
    print("patterns: %d checks, %d passed, %d failed%s" %
          (count, count - len(failures), len(failures),
           " (every %dth case)" % STRIDE if STRIDE > 1 else ""))
    return 1 if failures else 0


def cli_checks():
    """The command line itself, after aws events test-event-pattern."""
    global count
    with tempfile.TemporaryDirectory() as tmp:
        pat = os.path.join(tmp, "pattern.json")
        with open(pat, "w") as f:
            f.write('{\n  "source": ["a"],\n  "n": [{"numeric": [">", "1"]}]\n}\n')
        count += 1
        rc, out, err = test_pattern("file://" + pat, '{"source":"a"}')
        want = pat + ':3:27: error: numeric compares with a JSON number'
        if rc != 2 or err.split("\n")[0] != want:
            fail("file:// pattern", "want %r, got %r (exit %d)" %
                 (want, err.split("\n")[0], rc))
        ev = os.path.join(tmp, "event.json")
        with open(ev, "w") as f:
            f.write('{"source": "a", "n": 2}')
        with open(pat, "w") as f:
            f.write('{"source": ["a"], "n": [{"numeric": [">", 1]}]}')
        count += 1
        rc, out, err = test_pattern("file://" + pat, "file://" + ev)
        if rc != 0 or out != "true\n" or err != "":
            fail("file:// both", "got %r %r (exit %d)" % (out, err, rc))
        for name, event, msg in [
                ("event not JSON", '{"a":', "scrub: invalid event: "),
                ("event not object", '[1]', "scrub: invalid event: "),
                ("event file missing", "file://" + tmp + "/none",
                 "scrub: cannot open ")]:
            count += 1
            rc, out, err = test_pattern('{"a":[1]}', event)
            if rc != 2 or out != "" or not err.startswith(msg):
                fail(name, "got %r %r (exit %d)" % (out, err, rc))
        count += 1
        p = subprocess.run(WRAP + [SCRUB, "test-pattern", "--event", "{}"],
                           capture_output=True, text=True)
        want = "scrub: test-pattern: --event-pattern PATTERN is required\n"
        if p.returncode != 2 or p.stderr != want:
            fail("missing --event-pattern",
                 "exit %d, %r" % (p.returncode, p.stderr))


if __name__ == "__main__":
    sys.exit(main())
