#!/usr/bin/env python3
"""Debian's package list as a BEIR corpus with typed fields (Python 3 standard library only).

    scripts/debian_corpus.py --out DIR [--input DUMPAVAIL] [--translations FILE]... [--fetch-translations LISTS]

Writes DIR/corpus.jsonl and DIR/schema.json (a copy of scripts/debian_schema.json). One document per
package name (the highest version wins):

  _id, title      the package name
  text            the synopsis, a blank line, then the long description (" ." lines become blank lines)
  section, priority, architecture, maintainer        keyword
  tag             keyword, multi-valued: the debtags of the Tag: field ("use::editing", ...)
  installed_size  int64, KiB (Installed-Size:)        size   int64, bytes of the .deb (Size:)

The records come from `apt-cache dumpavail` (or --input, a saved copy of its output). Since Debian 7 the
Packages files hold only the synopsis; the long descriptions are in the Translation-en files, matched
here by package name and Description-md5. They are read from --translations, else from any
*_i18n_Translation-en* under /var/lib/apt/lists. Debian container images set Acquire::Languages "none",
so apt never downloads them: --fetch-translations LISTS runs
  apt-get update -o Acquire::Languages=en -o Dir::State::Lists=LISTS -o Acquire::GzipIndexes=false
(root; the system's own lists are left alone) and then reads both the packages and the translations from
LISTS. Without any translation the text is the synopsis alone, and a warning says so.
"""

import argparse
import bz2
import glob
import gzip
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import time

SYSTEM_LISTS = "/var/lib/apt/lists"


# ---------------------------------------------------------------- Debian version comparison (dpkg)

def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _cmp_part(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def _split_version(v):
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    if "-" in rest:
        upstream, _, revision = rest.rpartition("-")
    else:
        upstream, revision = rest, ""
    try:
        e = int(epoch)
    except ValueError:
        e = 0
    return e, upstream, revision


def version_cmp(a, b):
    """dpkg's ordering of two version strings: -1, 0 or 1."""
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _cmp_part(ua, ub) or _cmp_part(ra, rb)


# ---------------------------------------------------------------- control-file stanzas

def stanzas(lines):
    """Yields dicts of the stanzas of a Debian control file; a continued value keeps its newlines."""
    cur = {}
    key = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                yield cur
            cur, key = {}, None
            continue
        if line[0] in " \t":
            if key is not None:
                cur[key] += "\n" + line
            continue
        k, sep, v = line.partition(":")
        if not sep:
            continue
        key = k.strip()
        cur[key] = v.strip()
    if cur:
        yield cur


def open_text(path):
    """Opens a plain, .gz, .xz, .bz2 or .lz4 file as UTF-8 text lines."""
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".bz2"):
        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".lz4"):
        if not shutil.which("lz4"):
            sys.exit(f"{path}: needs the lz4 program (apt-get install lz4)")
        out = subprocess.run(["lz4", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
        return out.decode("utf-8", errors="replace").splitlines(True)
    return open(path, encoding="utf-8", errors="replace")


def long_description(desc):
    """The lines after the synopsis of a Description field: one leading space off, ' .' -> ''."""
    out = []
    for line in desc.split("\n")[1:]:
        line = line[1:] if line.startswith(" ") else line
        out.append("" if line.strip() == "." else line.rstrip())
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def read_translations(paths):
    """{(package, description-md5): long description} and {package: long description}."""
    by_md5, by_name = {}, {}
    for p in paths:
        f = open_text(p)
        try:
            for st in stanzas(f):
                pkg = st.get("Package")
                desc = st.get("Description-en")
                if not pkg or desc is None:
                    continue
                ld = long_description(desc)
                md5 = st.get("Description-md5")
                if md5:
                    by_md5[(pkg, md5)] = ld
                by_name.setdefault(pkg, ld)
        finally:
            if hasattr(f, "close"):
                f.close()
    return by_md5, by_name


def find_translations(lists_dir):
    pats = [os.path.join(lists_dir, "*_i18n_Translation-en" + ext) for ext in ("", ".gz", ".xz", ".bz2", ".lz4")]
    return sorted(p for pat in pats for p in glob.glob(pat))


def fetch_translations(lists_dir):
    os.makedirs(os.path.join(lists_dir, "partial"), exist_ok=True)
    cmd = ["apt-get", "update", "-o", "Acquire::Languages=en", "-o", f"Dir::State::Lists={os.path.abspath(lists_dir)}",
           "-o", "Acquire::GzipIndexes=false"]
    print("+ " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def to_int(v):
    try:
        return int(v.strip())
    except (AttributeError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (corpus.jsonl, schema.json)")
    ap.add_argument("--input", help="saved `apt-cache dumpavail` output (default: run apt-cache dumpavail)")
    ap.add_argument("--translations", action="append", default=[],
                    help="Translation-en file (plain, .gz, .xz, .bz2 or .lz4); repeatable")
    ap.add_argument("--fetch-translations", metavar="LISTS",
                    help="download package lists with English translations into LISTS (apt-get update) and use them")
    ap.add_argument("--no-translations", action="store_true", help="synopsis only, even when translations exist")
    a = ap.parse_args()
    t0 = time.time()

    lists_dir = None
    if a.fetch_translations:
        lists_dir = a.fetch_translations
        if not find_translations(lists_dir):
            fetch_translations(lists_dir)

    # ---- package records
    if a.input:
        src = open_text(a.input)
    else:
        cmd = ["apt-cache"] + (["-o", f"Dir::State::Lists={os.path.abspath(lists_dir)}"] if lists_dir else []) + ["dumpavail"]
        src = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout.decode("utf-8", errors="replace").splitlines(True)
    best = {}
    records = 0
    for st in stanzas(src):
        name = st.get("Package")
        if not name:
            continue
        records += 1
        have = best.get(name)
        if have is None or version_cmp(st.get("Version", ""), have.get("Version", "")) > 0:
            best[name] = st

    # ---- long descriptions
    tr_files = [] if a.no_translations else list(a.translations)
    if not tr_files and not a.no_translations:
        tr_files = find_translations(lists_dir) if lists_dir else find_translations(SYSTEM_LISTS)
    by_md5, by_name = read_translations(tr_files)

    os.makedirs(a.out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copyfile(os.path.join(here, "debian_schema.json"), os.path.join(a.out, "schema.json"))
    n = with_long = with_tags = 0
    in_record = 0
    with open(os.path.join(a.out, "corpus.jsonl"), "w", encoding="utf-8") as out:
        for name in sorted(best):
            st = best[name]
            desc = st.get("Description", "")
            synopsis = desc.split("\n")[0].strip()
            ld = long_description(desc)
            if ld:
                in_record += 1
            else:
                ld = by_md5.get((name, st.get("Description-md5", "")))
                if ld is None:
                    ld = by_name.get(name, "")
            text = synopsis + ("\n\n" + ld if ld else "")
            if ld:
                with_long += 1
            doc = {"_id": name, "title": name, "text": text}
            for key, field in (("Section", "section"), ("Priority", "priority"), ("Architecture", "architecture"),
                               ("Maintainer", "maintainer")):
                if st.get(key):
                    doc[field] = st[key]
            tags = [t.strip() for t in re.split(r"[,\n]", st.get("Tag", "")) if t.strip()]
            if tags:
                doc["tag"] = tags
                with_tags += 1
            for key, field in (("Installed-Size", "installed_size"), ("Size", "size")):
                v = to_int(st.get(key))
                if v is not None:
                    doc[field] = v
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    print(f"{a.out}/corpus.jsonl: {n} packages (from {records} records), {with_long} with a long description "
          f"({len(tr_files)} translation files), {with_tags} with debtags; {time.time() - t0:.1f} s", file=sys.stderr)
    if not tr_files and not a.no_translations:
        print("warning: no Translation-en file found: the text is the synopsis alone. Pass --translations FILE, "
              "or --fetch-translations DIR to download the package lists with English descriptions.", file=sys.stderr)


if __name__ == "__main__":
    main()
