"""Fill English translations into locale/en/LC_MESSAGES/django.po from scripts/en_terms.tsv
(msgid<TAB>English). Used while developing; the .po and compiled .mo are committed."""

import csv
import re
import sys
from pathlib import Path

po_path = Path("locale/en/LC_MESSAGES/django.po")
terms = {}
for tsv in sys.argv[1:] or ["scripts/en_terms.tsv"]:
    with open(tsv, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) >= 2 and row[0] and not row[0].startswith("#"):
                terms[row[0]] = row[1]

text = po_path.read_text(encoding="utf-8")


def replace(match):
    msgid = match.group(1)
    if msgid in terms and match.group(2) == "":
        return f'msgid "{msgid}"\nmsgstr "{terms[msgid]}"'
    return match.group(0)


text = re.sub(r'msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"', replace, text)
text = text.replace("#, fuzzy\n", "", 1)
po_path.write_text(text, encoding="utf-8")
