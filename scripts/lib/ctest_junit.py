#!/usr/bin/env python3
"""ctest_junit.py JUNIT_XML [CTEST_TOTAL]

Reads the JUnit file that `ctest --output-junit` writes and counts each test
exactly once as passed, failed or skipped (scripts/test.sh's summary).

ctest's own closing line ("100% tests passed, 0 tests failed out of 64")
counts a skipped test as passed, and a CMocka program whose cases call skip()
exits 0, so ctest reports it as passed too. Here:

  failed   status "fail" (a failure, a crash, a timeout, a missing program)
  skipped  status "notrun" (SKIP_RETURN_CODE, a disabled test), or status
           "run" with CMocka's "[  SKIPPED ] case" in the output: some of
           its cases did not run, so the program did not pass
  passed   everything else that ran

Prints one line per failed or skipped test ("failed NAME: WHY" or
"skipped NAME: WHY") and last "counts PASSED FAILED SKIPPED". Exits 1 when
the file cannot be read or, with CTEST_TOTAL, when its test count differs.
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


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: ctest_junit.py JUNIT_XML [CTEST_TOTAL]", file=sys.stderr)
        return 2
    try:
        root = ET.parse(argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"ctest_junit: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 1
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        status = case.get("status", "")
        out = case.findtext("system-out") or ""
        if status == "fail":
            failed += 1
            fail = case.find("failure")
            why = fail.get("message", "") if fail is not None else ""
            print(f"failed {name}: {why or 'failed'}")
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
    total = passed + failed + skipped
    if len(argv) == 3 and str(total) != argv[2]:
        print(f"ctest_junit: {argv[1]} lists {total} tests, ctest said {argv[2]}",
              file=sys.stderr)
        return 1
    print(f"counts {passed} {failed} {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
