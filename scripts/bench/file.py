#!/usr/bin/env python3
"""file.py DOC SECTION ROW: files a `make bench` run into docs/benchmarks.md.

SECTION (markdown) replaces the "latest run" section, between its two
marker lines; ROW (the history row's cells, '|'-separated) is added as the
last row of the history table. Everything else in DOC stays as it is.
"""
import sys

LATEST_START = "<!-- latest run:"
LATEST_END = "<!-- end of latest run -->"
HISTORY_END = "<!-- end of history:"


def file_run(doc, section, row):
    lines = doc.split("\n")

    def index(prefix):
        for i, line in enumerate(lines):
            if line.startswith(prefix):
                return i
        sys.exit(f"file.py: no line starting {prefix!r} in the document")

    start, end = index(LATEST_START), index(LATEST_END)
    if end < start:
        sys.exit("file.py: the latest-run markers are out of order")
    lines[start + 1:end] = section.strip("\n").split("\n")
    h = index(HISTORY_END)
    lines.insert(h, row.strip("\n"))
    return "\n".join(lines)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n")[0])
    doc_path, section_path, row_path = sys.argv[1:]
    with open(doc_path) as f:
        doc = f.read()
    with open(section_path) as f:
        section = f.read()
    with open(row_path) as f:
        row = f.read()
    out = file_run(doc, section, row)
    with open(doc_path + ".tmp", "w") as f:
        f.write(out)
    import os
    os.replace(doc_path + ".tmp", doc_path)


if __name__ == "__main__":
    main()
