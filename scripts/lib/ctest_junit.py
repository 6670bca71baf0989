#!/usr/bin/env python3
"""ctest_junit.py JUNIT_XML CTEST_LOG

Counts each test of one ctest run exactly once as passed, failed or skipped
(scripts/test.sh's summary), from the JUnit file that `ctest --output-junit`
wrote and ctest's console output (CTEST_LOG).

ctest's own closing line ("100% tests passed, 0 tests failed out of 64")
counts a skipped test as passed, and a CMocka program whose cases call skip()
exits 0, so ctest reports it as passed too. Here:

  failed   listed under ctest's "The following tests FAILED:" (with its reason:
           Failed, Timeout, SEGFAULT, Not Run, ...) or status "fail" in the
           JUnit file. A test whose program is missing is "Not Run" there but
           "notrun" in the JUnit file: it counts as failed.
  skipped  status "notrun" otherwise (SKIP_RETURN_CODE, a disabled test), or
           status "run" with CMocka's "[  SKIPPED ] case" in its output: some of
           its cases did not run, so the program did not pass
  passed   everything else that ran

Prints one line per failed or skipped test ("failed NAME: WHY" or
"skipped NAME: WHY") and last "counts PASSED FAILED SKIPPED". Exits 1 when a
file cannot be read, or when the JUnit file's count of tests differs from
ctest's closing line.
"""
import re
import sys
import xml.etree.ElementTree as ET

# One line per skipped case; the summary line "[  SKIPPED ] 1 test(s), listed
# below:" has spaces in it and does not match.
CMOCKA_SKIPPED = re.compile(r"^\[  SKIPPED \] (\S+)\s*$", re.M)


def skip_reason(out, fallback):
    """The test's own explanation: its last line that says 'skip', else its
    last line, else what ctest recorded."""
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    for line in reversed(lines):
        if "skip" in line.lower():
            return line
    return lines[-1] if lines else fallback


def ctest_log(path):
    """(total from the closing line, {name: reason} of the FAILED list)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    totals = re.findall(r"tests passed, \d+ tests? failed out of (\d+)", text)
    failed = {}
    at = text.rfind("The following tests FAILED:")
    if at >= 0:
        for m in re.finditer(r"^\s*\d+ - (\S+) \((.*)\)\s*$", text[at:], re.M):
            failed[m.group(1)] = m.group(2)
    return (int(totals[-1]) if totals else None), failed


def main(argv):
    if len(argv) != 3:
        print("usage: ctest_junit.py JUNIT_XML CTEST_LOG", file=sys.stderr)
        return 2
    try:
        root = ET.parse(argv[1]).getroot()
        total, ctest_failed = ctest_log(argv[2])
    except (OSError, ET.ParseError) as e:
        print(f"ctest_junit: {e}", file=sys.stderr)
        return 1
    if total is None:
        print(f"ctest_junit: no closing line in {argv[2]}", file=sys.stderr)
        return 1
    passed = failed = skipped = 0
    seen = set()
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        seen.add(name)
        status = case.get("status", "")
        out = case.findtext("system-out") or ""
        if name in ctest_failed or status == "fail":
            failed += 1
            print(f"failed {name}: {ctest_failed.get(name, 'Failed')}")
        elif status == "notrun":
            skipped += 1
            sk = case.find("skipped")
            fallback = sk.get("message", "not run") if sk is not None else "not run"
            print(f"skipped {name}: {skip_reason(out, fallback)}")
        else:
            cases = CMOCKA_SKIPPED.findall(out)
            if cases:
                skipped += 1
                uniq = list(dict.fromkeys(cases))
                print(f"skipped {name}: CMocka skipped {', '.join(uniq)}")
            else:
                passed += 1
    missing = sorted(set(ctest_failed) - seen)
    if missing or passed + failed + skipped != total:
        print(f"ctest_junit: {argv[1]} lists {passed + failed + skipped} tests "
              f"(not {', '.join(missing) or '-'}), ctest said {total}", file=sys.stderr)
        return 1
    print(f"counts {passed} {failed} {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
