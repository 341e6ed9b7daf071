#!/usr/bin/python3
"""validate.py KIND FILE - check the shape of scrubc's machine-readable
output, with nothing but the standard library.

  sarif  a SARIF 2.1.0 log as code-scanning services read it: the
         properties the OASIS schema requires, its enumerations and
         bounds, and no properties the schema does not define on the
         objects scrubc writes (the schema closes them with
         "additionalProperties": false); ruleIndex must point at the rule
         named by ruleId.
  junit  JUnit XML as CI systems read it: testsuites > testsuite >
         testcase, the attributes each requires, counts that add up.
  json   scrubc check --format=json: the documented fields and counts.

Prints nothing and exits 0 when the file is valid; else prints each
problem and exits 1.
"""
import json
import sys
import xml.etree.ElementTree as ET

problems = []


def bad(where, msg):
    problems.append(f"{where}: {msg}")


def only(obj, allowed, where):
    if not isinstance(obj, dict):
        bad(where, "expected an object")
        return False
    for k in obj:
        if k not in allowed:
            bad(where, f"property '{k}' is not defined by SARIF 2.1.0")
    return True


def need(obj, key, kind, where):
    if key not in obj:
        bad(where, f"missing required '{key}'")
        return None
    v = obj[key]
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        bad(where, f"'{key}' has the wrong type")
        return None
    return obj[key]


LEVELS = {"none", "note", "warning", "error"}


def message(m, where):
    if only(m, {"text", "markdown", "id", "arguments", "properties"}, where):
        if "text" not in m and "id" not in m:
            bad(where, "a message needs 'text' or 'id'")
        if "text" in m and not isinstance(m["text"], str):
            bad(where, "'text' is not a string")


def region(r, where):
    if not only(r, {"startLine", "startColumn", "endLine", "endColumn",
                    "charOffset", "charLength", "byteOffset", "byteLength",
                    "snippet", "message", "sourceLanguage", "properties"},
                where):
        return
    for k in ("startLine", "startColumn", "endLine", "endColumn"):
        v = need(r, k, int, where)
        if v is not None and v < 1:
            bad(where, f"'{k}' must be at least 1")
    if all(isinstance(r.get(k), int) for k in
           ("startLine", "startColumn", "endLine", "endColumn")):
        if r["endLine"] < r["startLine"] or (
                r["endLine"] == r["startLine"] and
                r["endColumn"] < r["startColumn"]):
            bad(where, "the region ends before it starts")


def location(loc, where, related):
    if not only(loc, {"id", "physicalLocation", "logicalLocations",
                      "message", "annotations", "relationships",
                      "properties"}, where):
        return
    if related:
        v = need(loc, "id", int, where)
        if v is not None and v < -1:
            bad(where, "'id' must be at least -1")
        if "message" in loc:
            message(loc["message"], where + ".message")
    pl = need(loc, "physicalLocation", dict, where)
    if pl is None:
        return
    w = where + ".physicalLocation"
    if not only(pl, {"address", "artifactLocation", "region",
                     "contextRegion", "properties"}, w):
        return
    al = need(pl, "artifactLocation", dict, w)
    if al is not None and only(al, {"uri", "uriBaseId", "index",
                                    "description", "properties"},
                               w + ".artifactLocation"):
        uri = need(al, "uri", str, w + ".artifactLocation")
        if uri is not None and (uri == "" or any(
                c in uri for c in ' "<>\\^`{|}')):
            bad(w, f"'{uri}' is not a URI reference")
    if "region" in pl:
        region(pl["region"], w + ".region")


def rule(r, i, where):
    w = f"{where}[{i}]"
    if not only(r, {"id", "deprecatedIds", "guid", "deprecatedGuids", "name",
                    "deprecatedNames", "shortDescription", "fullDescription",
                    "messageStrings", "defaultConfiguration", "helpUri",
                    "help", "relationships", "properties"}, w):
        return None
    rid = need(r, "id", str, w)
    for k in ("shortDescription", "fullDescription"):
        if k in r and only(r[k], {"text", "markdown", "properties"},
                           w + "." + k):
            need(r[k], "text", str, w + "." + k)
    if "defaultConfiguration" in r:
        dc = r["defaultConfiguration"]
        if only(dc, {"enabled", "level", "rank", "parameters", "properties"},
                w + ".defaultConfiguration"):
            if dc.get("level", "warning") not in LEVELS:
                bad(w, "defaultConfiguration.level is not a SARIF level")
    return rid


def result(res, i, rules, where):
    w = f"{where}[{i}]"
    if not only(res, {"ruleId", "ruleIndex", "rule", "kind", "level",
                      "message", "analysisTarget", "locations", "guid",
                      "correlationGuid", "occurrenceCount",
                      "partialFingerprints", "fingerprints", "stacks",
                      "codeFlows", "graphs", "graphTraversals",
                      "relatedLocations", "suppressions", "baselineState",
                      "rank", "attachments", "hostedViewerUri", "workItemUris",
                      "provenance", "fixes", "taxa", "webRequest",
                      "webResponse", "properties"}, w):
        return
    if "message" not in res:
        bad(w, "missing required 'message'")
    else:
        message(res["message"], w + ".message")
    if res.get("level", "warning") not in LEVELS:
        bad(w, "'level' is not a SARIF level")
    rid = need(res, "ruleId", str, w)
    idx = res.get("ruleIndex", -1)
    if not isinstance(idx, int) or idx < -1:
        bad(w, "'ruleIndex' must be an integer of at least -1")
    elif idx >= 0 and (idx >= len(rules) or rules[idx] != rid):
        bad(w, f"ruleIndex {idx} does not name rule '{rid}'")
    locs = need(res, "locations", list, w)
    for k, loc in enumerate(locs or []):
        location(loc, f"{w}.locations[{k}]", False)
    for k, loc in enumerate(res.get("relatedLocations", [])):
        location(loc, f"{w}.relatedLocations[{k}]", True)


def sarif(doc):
    if not only(doc, {"$schema", "version", "runs", "inlineExternalProperties",
                      "properties"}, "log"):
        return
    if doc.get("version") != "2.1.0":
        bad("log", "'version' must be \"2.1.0\"")
    runs = need(doc, "runs", list, "log")
    for n, run in enumerate(runs or []):
        w = f"runs[{n}]"
        if not only(run, {"tool", "invocations", "conversion", "language",
                          "versionControlProvenance", "originalUriBaseIds",
                          "artifacts", "logicalLocations", "graphs", "results",
                          "automationDetails", "runAggregates",
                          "baselineGuid", "redactionTokens",
                          "defaultEncoding", "defaultSourceLanguage",
                          "newlineSequences", "columnKind",
                          "externalPropertyFileReferences",
                          "threadFlowLocations",
                          "taxonomies", "addresses", "translations",
                          "policies", "webRequests", "webResponses",
                          "specialLocations", "properties"}, w):
            continue
        if run.get("columnKind", "utf16CodeUnits") not in (
                "utf16CodeUnits", "unicodeCodePoints"):
            bad(w, "'columnKind' is not a SARIF column kind")
        tool = need(run, "tool", dict, w)
        if tool is None or not only(tool, {"driver", "extensions",
                                           "properties"}, w + ".tool"):
            continue
        drv = need(tool, "driver", dict, w + ".tool")
        if drv is None or not only(drv, {
                "guid", "name", "organization", "product", "productSuite",
                "shortDescription", "fullDescription", "fullName", "version",
                "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc",
                "downloadUri", "informationUri", "globalMessageStrings",
                "notifications", "rules", "taxa", "locations", "language",
                "contents", "isComprehensive", "localizedDataSemanticVersion",
                "minimumRequiredLocalizedDataSemanticVersion",
                "associatedComponent", "translationMetadata",
                "supportedTaxonomies", "properties"}, w + ".tool.driver"):
            continue
        need(drv, "name", str, w + ".tool.driver")
        rules = [rule(r, i, w + ".tool.driver.rules")
                 for i, r in enumerate(drv.get("rules", []))]
        if len(set(rules)) != len(rules):
            bad(w, "two rules share an id")
        for i, res in enumerate(run.get("results", [])):
            result(res, i, rules, w + ".results")


def count(el, name, where):
    v = el.get(name)
    if v is None:
        bad(where, f"missing attribute '{name}'")
        return None
    if not v.isdigit():
        bad(where, f"attribute '{name}' is not a count")
        return None
    return int(v)


def junit(root):
    if root.tag != "testsuites":
        bad("xml", "the root element is not <testsuites>")
        return
    sums = {"tests": 0, "failures": 0, "errors": 0}
    for i, suite in enumerate(root):
        w = f"testsuite[{i}]"
        if suite.tag != "testsuite":
            bad(w, f"unexpected <{suite.tag}> in <testsuites>")
            continue
        if not suite.get("name"):
            bad(w, "missing attribute 'name'")
        got = {"tests": 0, "failures": 0, "errors": 0}
        for k, case in enumerate(suite):
            cw = f"{w}.testcase[{k}]"
            if case.tag in ("properties", "system-out", "system-err"):
                continue
            if case.tag != "testcase":
                bad(cw, f"unexpected <{case.tag}> in <testsuite>")
                continue
            for a in ("name", "classname"):
                if not case.get(a):
                    bad(cw, f"missing attribute '{a}'")
            got["tests"] += 1
            for child in case:
                if child.tag in ("failure", "error"):
                    got[child.tag + "s"] += 1
                    if child.get("message") is None:
                        bad(cw, f"<{child.tag}> without 'message'")
                elif child.tag not in ("skipped", "system-out", "system-err"):
                    bad(cw, f"unexpected <{child.tag}> in <testcase>")
        for a in got:
            n = count(suite, a, w)
            if n is not None and n != got[a]:
                bad(w, f"'{a}' is {n}, but it holds {got[a]}")
            sums[a] += got[a]
    for a in sums:
        n = count(root, a, "testsuites")
        if n is not None and n != sums[a]:
            bad("testsuites",
                f"'{a}' is {n}, but the suites add up to {sums[a]}")


def diag_json(doc):
    if not isinstance(doc, dict) or \
            set(doc) != {"diagnostics", "errors", "warnings"}:
        bad("json", "expected exactly diagnostics, errors and warnings")
        return
    n = {"error": 0, "warning": 0}
    for i, d in enumerate(doc["diagnostics"]):
        w = f"diagnostics[{i}]"
        if d.get("severity") not in ("error", "warning", "note"):
            bad(w, "'severity' is not error, warning or note")
        else:
            n[d["severity"]] = n.get(d["severity"], 0) + 1
        for k in ("code", "message"):
            if not isinstance(d.get(k), str):
                bad(w, f"'{k}' is not a string")
        if "file" in d:
            for k in ("line", "column", "end_line", "end_column"):
                if not isinstance(d.get(k), int) or d[k] < 1:
                    bad(w, f"'{k}' is not a position")
        for k, note in enumerate(d.get("notes", [])):
            if not isinstance(note.get("message"), str):
                bad(f"{w}.notes[{k}]", "'message' is not a string")
    if n["error"] != doc["errors"] or n["warning"] != doc["warnings"]:
        bad("json", "the counts do not match the diagnostics")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("sarif", "junit", "json"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if kind == "junit":
        try:
            junit(ET.fromstring(text))
        except ET.ParseError as e:
            bad("xml", f"not well-formed: {e}")
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            bad("json", f"invalid JSON: {e}")
        else:
            sarif(doc) if kind == "sarif" else diag_json(doc)
    for p in problems:
        print(f"{path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
