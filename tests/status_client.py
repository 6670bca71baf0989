#!/usr/bin/env python3
"""status_client.py — a status client written for Icecast, and the checks
the status tests share.

  listeners URL MOUNT   the listener count of MOUNT as butt reads it from
                        URL/status-json.xsl: "source" is an object (one
                        mount) or an array (several), the mount found by the
                        end of its "listenurl"; prints the number
  shape FILE            the key/type shape of a status-json answer
  metrics FILE          checks Prometheus text exposition 0.0.4

Exit status 0, or 1 with the reason on stderr.
"""
import json
import re
import sys
import urllib.request


class Bad(Exception):
    pass


def fetch(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8")


def sources(status):
    """The source objects of a status-json answer, as butt walks them."""
    ice = status.get("icestats")
    if not isinstance(ice, dict):
        raise Bad("no icestats object")
    src = ice.get("source")
    if src is None:
        return []
    if isinstance(src, dict):
        return [src]
    if isinstance(src, list):
        return src
    raise Bad(f"source is a {type(src).__name__}")


def butt_listeners(status, mount):
    """butt's way: match the mount by the end of listenurl."""
    for s in sources(status):
        if str(s.get("listenurl", "")).endswith(mount):
            n = s.get("listeners")
            if not isinstance(n, int):
                raise Bad(f"listeners is {n!r}")
            return n
    raise Bad(f"no source whose listenurl ends with {mount}")


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def shape(status):
    """{"icestats": {key: type}, "source": {key: type}} of one answer."""
    ice = status["icestats"]
    out = {"icestats": {k: type_name(v) for k, v in ice.items() if k != "source"}}
    src = sources(status)
    if src:
        out["source"] = {k: type_name(v) for k, v in src[0].items()}
        out["source_shape"] = "array" if isinstance(ice["source"], list) else "object"
    return out


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (\S+)$')


def check_metrics(text):
    """Text format 0.0.4: '# HELP name text' and '# TYPE name type' before a
    family's samples, each sample 'name{labels} value' of a declared family
    (a histogram's _bucket/_sum/_count included), each family once.
    Returns {sample name with labels: value}."""
    if not text.endswith("\n"):
        raise Bad("no final newline")
    declared, helped, seen_samples, values = {}, set(), set(), {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if name in helped:
                raise Bad(f"line {n}: HELP {name} twice")
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram",
                                                   "summary", "untyped"):
                raise Bad(f"line {n}: bad TYPE line {line!r}")
            if parts[2] in declared or parts[2] in seen_samples:
                raise Bad(f"line {n}: TYPE {parts[2]} after its samples or twice")
            declared[parts[2]] = parts[3]
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            raise Bad(f"line {n}: not a sample: {line!r}")
        name, value = m.group(1), m.group(5)
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in declared:
                fam = name[: -len(suffix)]
        if fam not in declared:
            raise Bad(f"line {n}: sample {name} before its TYPE")
        if fam not in helped:
            raise Bad(f"line {n}: family {fam} without HELP")
        if declared[fam] == "histogram" and fam == name:
            raise Bad(f"line {n}: histogram sample without suffix")
        try:
            v = float(value)
        except ValueError:
            raise Bad(f"line {n}: value {value!r}")
        if declared[fam] == "counter" and v < 0:
            raise Bad(f"line {n}: negative counter")
        seen_samples.add(fam)
        values[name + (m.group(2) or "")] = v
    for fam, t in declared.items():
        if t == "histogram":
            inf = values.get(fam + '_bucket{le="+Inf"}')
            if inf is None or inf != values.get(fam + "_count"):
                raise Bad(f"{fam}: +Inf bucket and _count differ")
    return values


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "listeners":
            print(butt_listeners(json.loads(fetch(argv[2] + "/status-json.xsl")), argv[3]))
        elif len(argv) == 3 and argv[1] == "shape":
            with open(argv[2]) as f:
                print(json.dumps(shape(json.load(f)), sort_keys=True))
        elif len(argv) == 3 and argv[1] == "metrics":
            with open(argv[2]) as f:
                check_metrics(f.read())
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Bad, ValueError, KeyError, OSError) as e:
        print(f"status_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
