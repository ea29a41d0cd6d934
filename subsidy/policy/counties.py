"""The counties, districts and banners (旗县区) of Baotou, by administrative division code."""

from __future__ import annotations

BAOTOU_CITY_CODE = "150200"

BAOTOU_COUNTIES: dict[str, str] = {
    "150202": "东河区",
    "150203": "昆都仑区",
    "150204": "青山区",
    "150205": "石拐区",
    "150206": "白云鄂博矿区",
    "150207": "九原区",
    "150221": "土默特右旗",
    "150222": "固阳县",
    "150223": "达尔罕茂明安联合旗",
    # A LOCAL code, not GB/T 2260: the Rare Earth High-tech Zone is a development zone without a division
    # code of its own, yet it runs its own DPF and receives applications like a county.
    "150271": "稀土高新区",
}

BAOTOU_COUNTIES_EN: dict[str, str] = {
    "150202": "Donghe District",
    "150203": "Kundulun District",
    "150204": "Qingshan District",
    "150205": "Shiguai District",
    "150206": "Bayan Obo Mining District",
    "150207": "Jiuyuan District",
    "150221": "Tumed Right Banner",
    "150222": "Guyang County",
    "150223": "Darhan Muminggan United Banner",
    "150271": "Rare Earth High-tech Zone",
}
