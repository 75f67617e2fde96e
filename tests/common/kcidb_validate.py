#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Validates a KCIDB I/O document against our v5.3 subset
# (tests/fixtures/kcidb-v5.3-subset.schema.json), formats included:
#   kcidb_validate.py SCHEMA DOC     exit 0 valid, 1 invalid (first errors
#                                    printed), 2 cannot check
# kcidb-io validates with jsonschema's format checker and installs
# jsonschema[format], so "date-time" (rfc3339-validator) and "uri" (rfc3987)
# are really checked there. Debian's python3-jsonschema comes without
# rfc3339-validator, and jsonschema then passes every date-time silently:
# "2026-02-30T24:00:61Z" validated. So the formats the schema uses are
# checked here by our own functions, on any installation, and a format
# without a checker is an error, never a pass.
import datetime
import json
import re
import sys

import jsonschema

# RFC 3339 section 5.6, as results/date_time.cpp (the bundle loader) reads
# it: a real date, hours 00-23, minutes 00-59, seconds 00-59 or 60 at a leap
# second only (23:59:60 UTC).
DATE_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?"
                       r"([Zz]|([+-])(\d\d):(\d\d))$", re.ASCII)


def date_time(s):
    if not isinstance(s, str):
        return True  # formats apply to strings only
    m = DATE_TIME.match(s)
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.date(y, mo, d)
    except ValueError:
        return False
    if h > 23 or mi > 59 or sec > 60:
        return False
    offset = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return False
        offset = (oh * 60 + om) * (-1 if m.group(9) == "-" else 1)
    return sec < 60 or (h * 60 + mi - offset) % 1440 == 23 * 60 + 59


# RFC 3986 URI (absolute, with a scheme); rfc3987, when installed, is what
# jsonschema itself would use.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:"
                 r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*"
                 r"(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$")


def uri(s):
    if not isinstance(s, str):
        return True
    try:
        import rfc3987
        return rfc3987.match(s, rule="URI") is not None
    except ImportError:
        return URI.match(s) is not None


# RFC 5321 addr-spec, loosely: what jsonschema's own "email" check is ("@"
# inside), with no whitespace either.
def email(s):
    return not isinstance(s, str) or re.match(r"^[^@\s]+@[^@\s]+$", s) is not None


OURS = {"date-time": date_time, "uri": uri, "email": email}


def formats_in(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            out.add(node["format"])
        for v in node.values():
            formats_in(v, out)
    elif isinstance(node, list):
        for v in node:
            formats_in(v, out)
    return out


def checker():
    fc = jsonschema.FormatChecker(formats=())
    for name, fn in OURS.items():
        fc.checks(name)(fn)
    return fc


def main():
    schema, doc = (json.load(open(p)) for p in sys.argv[1:3])
    missing = formats_in(schema, set()) - set(OURS)
    if missing:
        print("cannot check: no checker for format(s) %s" % ", ".join(sorted(missing)))
        sys.exit(2)
    v = jsonschema.Draft7Validator(schema, format_checker=checker())
    errors = sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors[:5]:
        print("invalid:", "/".join(map(str, e.absolute_path)), e.message)
    if len(errors) > 5:
        print("... and %d more" % (len(errors) - 5))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
