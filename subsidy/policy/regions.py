"""The administrative division codes (GB/T 2260) that begin a resident ID number.

`data/region_codes.txt` is the union of every revision of GB/T 2260 from 1980 to 2019 and of the Ministry of Civil
Affairs' codes as of 2025-12-31 (sources and licences in its header; rebuilt by `tools/build_region_codes.py`). An ID
keeps the code of the place that first issued it, so a code abolished since (a county merged into a district, say)
is still a real ID's code; a code that no revision ever had (999999, 150299) is a typing error or made up.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["is_region_code", "region_codes"]


@cache
def region_codes() -> frozenset[str]:
    text = files("subsidy.policy").joinpath("data/region_codes.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_region_code(code: str) -> bool:
    return code in region_codes()
