"""Copy the real London source files the platform ships into ``src/vru/data/bundled``.

Files keep their published format (CSV gzipped, shapefiles zipped as GDAL reads them), so
``vru init`` runs the same loaders over them that ``vru ingest`` runs over a user's downloads.
Each folder's SOURCE.md (publisher, licence, provenance, caveats) is copied beside its files.

Usage: python scripts/bundle_data.py [SHARED_DATA_DIR]   (default ../shared/data)
"""

from __future__ import annotations

import gzip
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "vru" / "data" / "bundled"

FILES = {
    "mps_crime_borough": [
        "mps_borough_crime_historical_201004_202311.csv",
        "mps_borough_crime_detailed_201004_202111.csv",
        "mps_borough_crime_detailed_202112_202311.csv",
    ],
    "mps_crime_ward": ["mps_ward_crime_202112_202311.csv"],
    "mps_crime_lsoa_annual": [
        "london-2011-2021-major-violence.csv",
        "london-2011-2021-major-weapons.csv",
        "london-2011-2021-major-robbery.csv",
        "london-2011-2021-major-drugs.csv",
        "london-2011-2021-major-public-order.csv",
    ],
    "police_uk_street_city_of_london_2023": [f"2023-0{m}-city-of-london-street.csv" for m in range(1, 7)],
    "imd2019": [
        "imd2019_london_lsoa__export_of_sheet_IMD_2019.csv",
        "imd2019_london_borough_summary__export_of_sheet_Borough_summary_measures.csv",
        "London_wards_id2019_summary_measures.xlsx",
    ],
    "population_lsoa": ["london-mid2019-pop.csv", "london-mid2020-pop.csv"],
    "unemployment_borough": ["nomis_model_based_unemployment_rate_london_lad_2004_2024.csv"],
    "claimant_count_lsoa": [
        "DERIVED_wpi_london_lsoa_claimant_count_oct2019_oct2020.csv",
        "DERIVED_wpi_london_lsoa_claimant_count_mar2019_mar2024_mar2025.csv",
    ],
    "mopac_pas_borough": ["PAS_Dashboard_Borough.csv"],
    "crime_harm_weights": [
        "ons_css_offence_weights__mopd_severity_codes.csv",
        "ons_css_weights_policeuk_category_join__mopd.csv",
    ],
}
SHAPEFILES = {
    "boundaries/lsoa2011_gen20": "london-2011-lsoa-gen20",
    "boundaries/lsoa2021_gen20": "london-2021-lsoa-gen20",
    "boundaries/wards2018_citymerged": "London_Ward_CityMerged",
    "boundaries/boroughs_lad22_gen20": "london-2021-lad22-gen20",
}


def main(src: Path) -> None:
    if DEST.exists():
        shutil.rmtree(DEST)
    for folder, names in FILES.items():
        out = DEST / folder
        out.mkdir(parents=True)
        shutil.copy(src / folder / "SOURCE.md", out / "SOURCE.md")
        for name in names:
            data = (src / folder / name).read_bytes()
            if name.endswith(".csv"):
                # mtime=0: byte-identical output on every run, so git sees no change.
                with gzip.GzipFile(out / f"{name}.gz", "wb", mtime=0) as g:
                    g.write(data)
            else:
                (out / name).write_bytes(data)
    for folder, stem in SHAPEFILES.items():
        out = DEST / folder
        out.mkdir(parents=True)
        shutil.copy(src / folder / "SOURCE.md", out / "SOURCE.md")
        with zipfile.ZipFile(out / f"{stem}.shp.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                p = src / folder / f"{stem}.{ext}"
                info = zipfile.ZipInfo(p.name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, p.read_bytes())
    shutil.copy(src / "SOURCE.md", DEST / "SOURCE.md")
    total = sum(p.stat().st_size for p in DEST.rglob("*") if p.is_file())
    print(f"bundled {DEST} ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
