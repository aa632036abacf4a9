#!/usr/bin/env python3
"""Turn one test binary's cmocka output into a JSON record (schema gort.tests/1).

usage: cmocka2json.py BINARY RC SECONDS < output  >> results.jsonl
"""
import json
import re
import sys

binary, rc, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
text = sys.stdin.read()
tests, order, messages = {}, [], []
for line in text.splitlines():
    m = re.match(r"^\[ (RUN|\s*OK|\s*FAILED|\s*ERROR|\s*SKIPPED)\s*\] (.*)$", line)
    if not m:
        continue
    tag, rest = m.group(1).strip(), m.group(2).strip()
    if tag == "RUN":
        tests[rest] = {"name": rest, "status": "crashed", "message": ""}
        order.append(rest)
        messages = []
    elif tag == "ERROR":
        messages.append(rest.lstrip("- "))
    elif tag in ("OK", "FAILED", "SKIPPED") and tests.get(rest, {}).get("status") == "crashed":
        # (the summary at the end repeats FAILED lines: only the first counts)
        tests[rest]["status"] = {"OK": "passed", "FAILED": "failed", "SKIPPED": "skipped"}[tag]
        tests[rest]["message"] = "\n".join(messages)
        messages = []
status = "passed" if rc == 0 else ("timeout" if rc in (124, 137) else "failed")
record = {
    "schema": "gort.tests/1",
    "binary": binary,
    "status": status,
    "exit_code": rc,
    "seconds": round(seconds, 3),
    "tests": [tests[n] for n in order],
}
if rc != 0:
    record["log_tail"] = text[-4000:]
print(json.dumps(record))
