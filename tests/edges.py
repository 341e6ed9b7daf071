#!/usr/bin/python3
"""edges.py BUILD - the hard edges of JSON input, through `scrub run`.

Each case feeds NDJSON built here (some of it megabytes long) to
`scrub run` with a policy that marks what it emits (`set .seen = true`)
and checks the exact output, reject records, summary and exit status:

  100,000-deep nesting, a 10 MB string, invalid UTF-8, lone surrogates,
  NUL bytes, duplicate keys, a 100,000-digit number, a line without a
  trailing newline, an empty line, a 1 MB event (at the line limit and
  one byte over), CRLF line ends.
"""
import os
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1])
MiB = 1 << 20


def reject(line, code, message):
    return ('{"input":"in.ndjson","line":%d,"code":"%s","message":"%s",'
            '"rule":null,"policy":null}\n' % (line, code, message))


def seen(event):
    """What the policy makes of an emitted object: `,"seen":true` added."""
    return event[:-1] + b',"seen":true}\n'


# 100,000 levels: the object and 99,999 arrays in it.
DEEP = b'{"a":' + b'[' * 99999 + b']' * 99999 + b'}'
BIG_STRING = b'{"s":"' + b'x' * (10 * MiB) + b'"}'
DIGITS = b'{"n":' + b'7' * 100000 + b'}'
# Exactly 1 MiB, and one byte more.
ONE_MB = b'{"pad":"' + b'p' * (MiB - 10) + b'"}'
OVER_MB = b'{"pad":"' + b'p' * (MiB - 9) + b'"}'
assert len(ONE_MB) == MiB and len(OVER_MB) == MiB + 1

CASES = [
    # name, input lines (joined by \n), extra args, stdout, rejects, stderr
    ("mixed", [
        DEEP,                                   # 1
        b'{"a":"\xff"}',                        # 2 invalid UTF-8
        b'{"a":"\xed\xa0\x80"}',                # 3 UTF-8 encoded surrogate
        b'{"a":"\\ud800"}',                     # 4 lone high surrogate
        b'{"a":"\\udc00x"}',                    # 5 lone low surrogate
        b'{"a":"\\ud83d\\ude42"}',              # 6 a proper pair
        b'{"a":"x\x00y"}',                      # 7 raw NUL in a string
        b'{"a":"x\\u0000y"}',                   # 8 escaped NUL
        b'{"a":1}\x00',                         # 9 NUL after the value
        b'{"a":1,"b":2,"a":3}',                 # 10 duplicate keys
        b'{"a\\u0062":1,"ab":2}',               # 11 duplicates by escape
        DIGITS,                                 # 12
        b'',                                    # 13 empty line: skipped
        b'{"crlf":1}\r',                        # 14 CRLF line end
        b'{"last":"no newline"}',               # 15 no trailing newline
    ], [],
     seen(b'{"a":"\\ud83d\\ude42"}') + seen(b'{"a":"x\\u0000y"}') +
     seen(b'{"a":1,"b":2}') + seen(b'{"a\\u0062":1}') + seen(DIGITS) +
     seen(b'{"crlf":1}') + seen(b'{"last":"no newline"}'),
     reject(1, "limit_depth", "objects and arrays nested deeper than 1000 "
            "at byte 1004") +
     reject(2, "invalid_utf8", "invalid UTF-8 in string at byte 6") +
     reject(3, "invalid_utf8", "invalid UTF-8 in string at byte 6") +
     reject(4, "invalid_utf8", "lone high surrogate escape in string at "
            "byte 6") +
     reject(5, "invalid_utf8", "lone low surrogate escape in string at "
            "byte 6") +
     reject(7, "invalid_json", "unescaped control character in string at "
            "byte 7") +
     reject(9, "invalid_json", "unexpected data after the JSON value at "
            "byte 7"),
     "scrub: 14 read, 7 emitted, 0 dropped, 7 rejected (limit_depth 1, "
     "invalid_utf8 4, invalid_json 2)\n"),
    # 100,000 levels are within reach when the limit allows them.
    ("deep-allowed", [DEEP], ["--max-depth", "100000"], seen(DEEP), "",
     "scrub: 1 read, 1 emitted, 0 dropped, 0 rejected\n"),
    # A 10 MB string: over the line limit by default; over the output
    # limit when only the line limit is raised; whole with both.
    ("10mb-string", [BIG_STRING], [], b"",
     reject(1, "limit_size", "event longer than 1048576 bytes"),
     "scrub: 1 read, 0 emitted, 0 dropped, 1 rejected (limit_size 1)\n"),
    ("10mb-string-output", [BIG_STRING],
     ["--max-event-bytes", str(16 * MiB)], b"",
     reject(1, "limit_output", "output larger than 4194304 bytes"),
     "scrub: 1 read, 0 emitted, 0 dropped, 1 rejected (limit_output 1)\n"),
    ("10mb-string-allowed", [BIG_STRING],
     ["--max-event-bytes", str(16 * MiB), "--max-output", str(16 * MiB)],
     seen(BIG_STRING), "",
     "scrub: 1 read, 1 emitted, 0 dropped, 0 rejected\n"),
    ("1mb-event", [ONE_MB, OVER_MB, b'{"after":1}'], [],
     seen(ONE_MB) + seen(b'{"after":1}'),
     reject(2, "limit_size", "event longer than 1048576 bytes"),
     "scrub: 3 read, 2 emitted, 0 dropped, 1 rejected (limit_size 1)\n"),
    ("only-empty-lines", [b'', b'', b'  \t'], [], b"", "",
     "scrub: 0 read, 0 emitted, 0 dropped, 0 rejected\n"),
]


def main():
    fail = 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "p.scrub"), "w") as f:
            f.write('policy "edges"\nset .seen = true\n')
        for name, lines, args, out, rejects, err in CASES:
            with open(os.path.join(tmp, "in.ndjson"), "wb") as f:
                f.write(b"\n".join(lines))
            wrap = os.environ.get("SCRUB_WRAP", "").split()
            r = subprocess.run(wrap + [BUILD + "/scrub", "run", "--policy",
                                       "p.scrub", "--rejects", "rej"] +
                               args + ["in.ndjson"], cwd=tmp,
                               capture_output=True)
            rej = os.path.join(tmp, "rej")
            opened = os.path.exists(rej)
            got_rejects = open(rej).read() if opened else ""
            if opened:
                os.unlink(rej)
            problems = []
            if r.returncode != 0 or not opened:
                problems.append("exit status %d" % r.returncode)
            if r.stdout != out:
                problems.append("output differs: %r..." % r.stdout[:200])
            if got_rejects != rejects:
                problems.append("rejects differ: %s" % got_rejects)
            if r.stderr.decode() != err:
                problems.append("stderr differs: %s" % r.stderr.decode())
            if problems:
                fail = 1
                print("  FAIL  %s: %s" % (name, "; ".join(problems)))
            else:
                print("  ok    %s" % name)
    return fail


if __name__ == "__main__":
    sys.exit(main())
