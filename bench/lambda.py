#!/usr/bin/python3
"""lambda.py BUILD SHARED - how fast the Lambda runtime is, measured against
the Runtime API emulator of tests/lambda on this machine:

  cold init    from exec to the runtime's first /next: loading the shared
               libraries, reading and verifying the policy, binding the key
               (BUILD/bootstrap, and the zip's copy with its bundled
               libraries when the zip can be built)
  batch N      from the emulator handing out a batch of N Kinesis records
               (the shared Pipes sample, repeated) to the runtime posting
               its response: HTTP both ways included; "in runtime" is the
               Duration of the runtime's own metrics line

Timings vary with the machine and its load; they are for comparing
versions, and never go into tests.
"""

import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lambda"))
import emulator  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
SHARED = os.path.abspath(sys.argv[2])
COLD_RUNS = 30
INVOCATIONS = 300


def env_for(task, extra=None):
    env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": task,
           "SCRUB_KEY": "bench-key", "SCRUB_MAX_BATCH": "1000"}
    env.update(extra or {})
    return env


def cold_init(bootstrap, task):
    """Milliseconds from exec to the first /next, one fresh process each."""
    times = []
    for _ in range(COLD_RUNS):
        api = emulator.RuntimeAPI([])
        env = env_for(task, {"AWS_LAMBDA_RUNTIME_API": api.address})
        t0 = time.monotonic()
        p = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL)
        while not api.log:
            time.sleep(0.0005)
        times.append((time.monotonic() - t0) * 1000)
        p.wait()
        api.close()
    return times


def batches(size):
    with open(os.path.join(SHARED, "samples",
                           "pipes_kinesis_enrichment_input.batch.json")) as f:
        sample = json.load(f)
    records = [dict(sample[i % len(sample)]) for i in range(size)]
    return json.dumps(records)


def latency(bootstrap, task, size):
    payload = batches(size)
    invs = [emulator.Invocation(payload, "bench-%d" % i)
            for i in range(INVOCATIONS)]
    status, log, out, err, api = emulator.run([bootstrap], env_for(task),
                                              invs)
    if not all(line.startswith(("GET next -> 200", "POST response"))
               for line in log[:-1]):
        sys.exit("bench: the runtime failed: %s" % log[1][:200])
    sent = {rid: t for what, rid, t in api.times if what == "next"}
    lat = [(t - sent[rid]) * 1000 for what, rid, t in api.times
           if what == "response"][10:]
    inside = [emulator.emf(line)["Duration"]
              for line in out.decode().splitlines() if emulator.emf(line)]
    return lat, inside[10:], len(payload)


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    tmp = tempfile.mkdtemp(prefix="scrub-bench-lambda-")
    try:
        task = os.path.join(tmp, "task")
        os.makedirs(task)
        subprocess.run([os.path.join(BUILD, "scrubc"), "build",
                        "policies/orders-to-stage.scrub", "-o",
                        os.path.join(task, "policy.scrubc")],
                       check=True, cwd=ROOT)
        bootstraps = [("build/bootstrap", os.path.join(BUILD, "bootstrap"))]
        zipped = os.path.join(tmp, "scrub-lambda.zip")
        if subprocess.run([os.path.join(ROOT, "scripts",
                                        "package-lambda.sh"), BUILD,
                           "policies/orders-to-stage.scrub", zipped],
                          cwd=ROOT, stdout=subprocess.DEVNULL).returncode == 0:
            unpacked = os.path.join(tmp, "zip")
            subprocess.run(["unzip", "-q", zipped, "-d", unpacked],
                           check=True)
            bootstraps.append(("zip bootstrap + lib/",
                               os.path.join(unpacked, "bootstrap")))
        for name, path in bootstraps:
            t = cold_init(path, task)
            print("lambda: cold init, %-20s median %6.2f ms  min %6.2f ms"
                  "  (%d runs)" % (name, statistics.median(t), min(t),
                                   len(t)))
        for size in (10, 100):
            lat, inside, nbytes = latency(bootstraps[0][1], task, size)
            print("lambda: batch of %3d records (%6d bytes): median %6.3f ms"
                  "  p90 %6.3f ms  in runtime %6.3f ms  (%d invocations)"
                  % (size, nbytes, statistics.median(lat),
                     quantile(lat, 0.9), statistics.median(inside),
                     len(lat)))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
