"""Fill English translations into locale/en/LC_MESSAGES/django.po from scripts/en_terms.tsv.

Usage (from the project root, after `manage.py makemessages -l en ...`):

    .venv/bin/python scripts/fill_en.py [--overwrite] [--missing] [extra.tsv ...]

TSV format, one entry a line, tab-separated:

    <msgid>\t<English>[\t<English plural>]

* <msgid> is written exactly as it appears in the .po, with the same escaping (\\n, \\", \\\\),
  and a msgid that the .po splits over several quoted lines is joined into one string
  (the quoted pieces concatenated, escapes left as they are).
* <English> uses the same escaping; a bare " is escaped for you.
* For a plural entry (msgid_plural) the key is the singular msgid; the optional third column
  is the English plural (msgstr[1]); without it the singular is used for every form.
* Lines starting with # and blank lines are ignored.  No CSV quoting: " is an ordinary character.

Behaviour:
* An existing non-empty, non-fuzzy msgstr is kept (pass --overwrite to replace it from the TSV).
* A fuzzy entry (makemessages' guess from a similar old msgid) is treated as untranslated: it is
  filled from the TSV and its fuzzy flag and "#|" previous-msgid lines are dropped.  A fuzzy
  entry with no TSV line is left fuzzy, so compilemessages ignores it.
* The header's fuzzy flag is removed and "Language: en" is set.
* Placeholders (%(name)s, %s, %d, {name}) must match between msgid and English, otherwise the
  line is reported and skipped.
* --missing lists the msgids still without a translation (one a line, TSV-ready).
The .po and compiled .mo are committed.
"""

import re
import sys
from pathlib import Path

PO_PATH = Path("locale/en/LC_MESSAGES/django.po")
DEFAULT_TSV = "scripts/en_terms.tsv"

KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"\s*$')
CONTINUATION = re.compile(r'^"(.*)"\s*$')
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{[A-Za-z_][\w.]*\}")


def load_terms(paths):
    terms = {}
    for tsv in paths:
        with open(tsv, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) < 2 or not parts[0] or not parts[1]:
                    print(f"{tsv}:{lineno}: expected <msgid>\\t<English>", file=sys.stderr)
                    continue
                terms[parts[0]] = [escape_bare_quotes(p) for p in parts[1:3] if p]
    return terms


def escape_bare_quotes(s):
    # a " not already escaped (preceded by an odd number of backslashes) gets a backslash
    out, backslashes = [], 0
    for ch in s:
        if ch == '"' and backslashes % 2 == 0:
            out.append("\\")
        out.append(ch)
        backslashes = backslashes + 1 if ch == "\\" else 0
    return "".join(out)


class Entry:
    """One block of the .po: comment lines plus keyword fields (values kept escaped)."""

    def __init__(self, lines):
        self.lines = lines
        self.comments = []  # lines before the first keyword
        self.fields = {}  # keyword -> joined escaped string
        self.order = []
        self.raw = {}  # keyword -> its original lines, reused when the field is unchanged
        self.changed = set()
        self.trailing = []  # comment lines after keywords (unusual; preserved)
        self.parse_ok = True
        current = None
        for line in lines:
            m = KEYWORD.match(line)
            if m:
                current = m.group(1)
                self.fields[current] = m.group(2)
                self.order.append(current)
                self.raw[current] = [line]
                continue
            m = CONTINUATION.match(line)
            if m and current:
                self.fields[current] += m.group(1)
                self.raw[current].append(line)
                continue
            if line.startswith("#"):
                (self.trailing if current else self.comments).append(line)
                continue
            self.parse_ok = False

    @property
    def is_entry(self):
        return self.parse_ok and "msgid" in self.fields and not self.trailing

    @property
    def flags(self):
        flags = []
        for c in self.comments:
            if c.startswith("#,"):
                flags += [f.strip() for f in c[2:].split(",") if f.strip()]
        return flags

    @property
    def fuzzy(self):
        return "fuzzy" in self.flags

    @property
    def msgstrs(self):
        return [k for k in self.order if k.startswith("msgstr")]

    @property
    def translated(self):
        return bool(self.msgstrs) and all(self.fields[k] for k in self.msgstrs)

    def set_translation(self, values):
        singular = values[0]
        plural = values[1] if len(values) > 1 else singular
        for k in self.msgstrs:
            self.fields[k] = singular if k in ("msgstr", "msgstr[0]") else plural
            self.changed.add(k)
        self.unfuzzy()

    def unfuzzy(self):
        comments = []
        for c in self.comments:
            if c.startswith("#|"):
                continue
            if c.startswith("#,"):
                flags = [f for f in self.flags if f != "fuzzy"]
                if not flags:
                    continue
                c = "#, " + ", ".join(flags)
            comments.append(c)
        self.comments = comments
        self.render()

    def render(self):
        lines = list(self.comments)
        for k in self.order:
            if k in self.changed:
                lines += format_field(k, self.fields[k])
            else:
                lines += self.raw[k]
        self.lines = lines


def format_field(keyword, value):
    """PO layout: one line, or "" then one line per \\n-terminated piece."""
    pieces = re.findall(r"(?:[^\\]|\\.)*?\\n|(?:[^\\]|\\.)+$", value)
    if len(pieces) <= 1:
        return [f'{keyword} "{value}"']
    return [f'{keyword} ""'] + [f'"{p}"' for p in pieces]


def split_blocks(text):
    blocks, current = [], []
    for line in text.split("\n"):
        if line.strip() == "":
            if current:
                blocks.append(current)
                current = []
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def placeholders(s):
    return set(PLACEHOLDER.findall(s))


def main(argv):
    overwrite = "--overwrite" in argv
    list_missing = "--missing" in argv
    tsvs = [a for a in argv if not a.startswith("--")] or [DEFAULT_TSV]
    terms = load_terms(tsvs)

    text = PO_PATH.read_text(encoding="utf-8")
    blocks = [Entry(b) for b in split_blocks(text)]

    filled = kept = 0
    missing, bad = [], []
    for e in blocks:
        if not e.is_entry:
            continue
        msgid = e.fields["msgid"]
        if msgid == "":  # header
            if e.fuzzy:
                e.unfuzzy()
            hdr = e.fields.get("msgstr", "")
            e.fields["msgstr"] = hdr.replace("Language: \\n", "Language: en\\n")
            e.changed.add("msgstr")
            e.render()
            continue
        if e.translated and not e.fuzzy and not overwrite:
            kept += 1
            continue
        values = terms.get(msgid)
        if not values:
            if not (e.translated and not e.fuzzy):
                missing.append(msgid)
            else:
                kept += 1
            continue
        want = placeholders(msgid)
        if any(placeholders(v) != want for v in values):
            bad.append((msgid, values))
            continue
        if e.translated and not e.fuzzy and [e.fields[k] for k in e.msgstrs][:1] == values[:1]:
            kept += 1
            continue
        e.set_translation(values)
        filled += 1

    out = "\n\n".join("\n".join(e.lines) for e in blocks) + "\n"
    header_comments = re.match(r"(#[^\n]*\n)*", text).group(0)
    if not out.startswith(header_comments):  # defensive: never lose the file's opening lines
        raise SystemExit("refusing to write: header changed unexpectedly")
    PO_PATH.write_text(out, encoding="utf-8")

    for msgid, values in bad:
        print(f"placeholder mismatch, skipped: {msgid!r} -> {values!r}", file=sys.stderr)
    print(
        f"{PO_PATH}: filled {filled}, kept {kept}, still untranslated {len(missing)}",
        file=sys.stderr,
    )
    if list_missing:
        for m in missing:
            print(m)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
