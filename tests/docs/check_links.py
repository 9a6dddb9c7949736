#!/usr/bin/env python3
"""Checks the relative links of the documentation: every linked file exists,
and every #anchor into a Markdown file names one of its headings (GitHub's
anchor rules: lower case, punctuation dropped, spaces as dashes).

    check_links.py SOURCE_DIR
"""
import glob
import os
import re
import sys


def anchors(path):
    found = set()
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#+\s+(.*)", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def main():
    src = sys.argv[1]
    os.chdir(src)
    files = ["README.md", "CHANGELOG.md", "bench/README.md"]
    files += sorted(glob.glob("docs/*.md")) + sorted(glob.glob("bench/results/*.md"))
    bad = 0
    for md in files:
        text = re.sub(r"```.*?```", "", open(md, encoding="utf-8").read(), flags=re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not os.path.exists(target):
                print(f"{md}: link to a missing file: {link}")
                bad += 1
            elif anchor and target.endswith(".md") and anchor not in anchors(target):
                print(f"{md}: link to a missing heading: {link}")
                bad += 1
    print(f"{len(files)} files checked, {bad} bad links")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
