"""The district's outline as a small map with a pin, for the public report page: no map tiles, nothing
fetched from anywhere, just the outline (data/jingan-outline.geojson, see data/README.md) drawn as SVG.
The pin shows where the phone placed the resident; a tap on the map moves it. The server keeps only a
position in or near the district.

The outline's coordinates are GCJ-02-style, as shipped; a phone reports WGS-84, which in Shanghai lies
about 500 m to the south-west of the same place in GCJ-02 (GB/T 35764 leaves the offset to the map
provider). Drawn at this scale, half a kilometre is a few pixels, so no conversion is made; for the
same reason the check of a position allows a margin (NEAR) around the outline's bounds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

OUTLINE = Path(__file__).parent / "data" / "jingan-outline.geojson"
WIDTH = 300  # the SVG's user units across; its height follows the district's shape
MARGIN = 0.004  # degrees of map around the outline
NEAR = Decimal("0.03")  # degrees (about 3 km) beyond the outline's bounds still taken as "in the district"


@dataclass(frozen=True)
class DistrictMap:
    west: float
    east: float
    south: float
    north: float
    scale_x: float  # SVG units per degree of longitude
    scale_y: float  # SVG units per degree of latitude
    height: int
    path: str  # the outline as an SVG path

    def point(self, lat: float, lng: float) -> tuple[float, float]:
        return (lng - self.west) * self.scale_x, (self.north - lat) * self.scale_y

    def near(self, lat: Decimal, lng: Decimal) -> bool:
        return (
            Decimal(str(self.south)) - NEAR <= lat <= Decimal(str(self.north)) + NEAR
            and Decimal(str(self.west)) - NEAR <= lng <= Decimal(str(self.east)) + NEAR
        )


@cache
def district_map() -> DistrictMap:
    ring = json.loads(OUTLINE.read_text())["features"][0]["geometry"]["coordinates"][0]
    west, east = min(p[0] for p in ring) - MARGIN, max(p[0] for p in ring) + MARGIN
    south, north = min(p[1] for p in ring) - MARGIN, max(p[1] for p in ring) + MARGIN
    # Equirectangular: a degree of longitude is cos(latitude) of a degree of latitude on the ground.
    scale_x = WIDTH / (east - west)
    scale_y = scale_x / math.cos(math.radians((north + south) / 2))
    height = round((north - south) * scale_y)
    shape = DistrictMap(west, east, south, north, scale_x, scale_y, height, "")
    points = [shape.point(lat, lng) for lng, lat in ring]
    path = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points) + " Z"
    return DistrictMap(west, east, south, north, scale_x, scale_y, height, path)


def pin(latitude, longitude) -> tuple[float, float] | None:
    """Where the pin stands on the map for a position given as text (a form's values, checked or not),
    or None when there is none or it lies off the map."""
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    shape = district_map()
    x, y = shape.point(lat, lng)
    return (x, y) if 0 <= x <= WIDTH and 0 <= y <= shape.height else None
