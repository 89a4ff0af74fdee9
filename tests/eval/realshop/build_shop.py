#!/usr/bin/env python3
"""Build the frozen "realshop" evaluation corpus (shop.jsonl) from real public data.

Standard library only, fixed seed: running it twice gives byte-identical output.

Sources (all under --data, default <repo>/../shared/data/public):
  nhtsa_flat_samples/complaints.tsv   NHTSA consumer complaints (US government, public domain)
  nhtsa_recalls/recall_documents_vehicles_2020_2026_dedup.csv.gz
                                      NHTSA recall documents index (US government, public domain)
  obdex_dtc/dtc_codes_en.csv          OBD-II trouble codes (obdex, CC0)

What is real and what is generated:
  * complaint lines: the NHTSA narrative verbatim (only the coder's trailing initials "TT"/"*AK"
    are dropped), on the complaint's make/model/year; cause/correction are short templates built
    from the complaint's component field.
  * recall lines: cause = the campaign's real summary text picked from the recall documents;
    correction = a short remedy sentence written for this corpus from that summary.
  * trouble-code lines: title/description/common causes/components/estimated hours from obdex.
  * routine, declined and recommended lines: short stock shop text, repeated on purpose.
  * customers, VINs, plates, phones, addresses: obviously fake (555-01xx phones, example.com,
    VINs starting with FAKE).
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import gzip
import json
import os
import random
import re
import sys
from typing import Any

Rec = dict[str, Any]

SEED = 60017
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "public")

FIRST_DAY = dt.date(2021, 1, 4)
LAST_DAY = dt.date(2026, 11, 20)

CUSTOMER_RATE = 152.00
WARRANTY_RATE = 118.00

# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------
TECHS = {
    "park": {"name": "Lena Park", "code": "214"},
    "love": {"name": "Marcus Love", "code": "307"},
    "rich": {"name": "Dana Rich", "code": "118"},
    "miles": {"name": "Owen Miles", "code": "425"},
    "ford": {"name": "Carla Ford", "code": "362"},
    "hale": {"name": "Victor Hale", "code": "531"},
    "shah": {"name": "Priya Shah", "code": "276"},
    "becker": {"name": "Tom Becker", "code": "649"},
}
SPECIALTY = {
    "electrical": ["park", "park", "ford", "shah"],
    "brakes": ["love", "love", "shah", "hale"],
    "engine": ["rich", "rich", "park", "shah"],
    "trans": ["hale", "hale", "rich"],
    "body": ["ford", "ford", "shah", "love"],
    "rv": ["miles", "miles", "miles", "ford"],
    "recall": ["ford", "park", "miles", "shah", "hale", "love"],
    "routine": ["becker", "becker", "becker", "shah", "miles", "love"],
    "tires": ["becker", "miles", "love"],
}
ADVISORS = [
    {"name": "Nina Alvarez", "tag": "A21"},
    {"name": "Greg Kowalski", "tag": "A34"},
    {"name": "Tasha Monroe", "tag": "A47"},
]
FIRST_NAMES = [
    "Aaron",
    "Bianca",
    "Caleb",
    "Delia",
    "Ethan",
    "Farah",
    "Gavin",
    "Hannah",
    "Isaac",
    "Jasmine",
    "Kyle",
    "Lorena",
    "Mateo",
    "Naomi",
    "Oscar",
    "Paige",
    "Quentin",
    "Rosa",
    "Silas",
    "Tamara",
    "Uriel",
    "Vanessa",
    "Wesley",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Andre",
    "Brenda",
    "Corey",
    "Daphne",
    "Elias",
    "Fiona",
    "Gordon",
    "Helena",
    "Ivan",
    "Janelle",
]
LAST_NAMES = [
    "Abernathy",
    "Baptiste",
    "Castellanos",
    "Dombrowski",
    "Eriksen",
    "Fontaine",
    "Gutierrez",
    "Halvorsen",
    "Ibarra",
    "Jankowski",
    "Kowalczyk",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Okafor",
    "Pellegrino",
    "Quintero",
    "Rasmussen",
    "Szymanski",
    "Takahashi",
    "Umberger",
    "Valdivia",
    "Wojcik",
    "Yamamoto",
    "Zielinski",
    "Achterberg",
    "Bergstrom",
    "Cavanaugh",
    "Delacroix",
    "Esposito",
]
CITIES = [
    ("Tucson", "AZ", "857"),
    ("Mesa", "AZ", "852"),
    ("Tempe", "AZ", "852"),
    ("Chandler", "AZ", "852"),
]
STREETS = ["Sample St", "Example Ave", "Test Rd", "Placeholder Ln", "Fictional Way", "Demo Dr"]
COLORS = [
    "White",
    "Black",
    "Silver",
    "Gray",
    "Red",
    "Blue",
    "Green",
    "Tan",
    "Maroon",
    "Gold",
    "Brown",
    "Orange",
]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

# --------------------------------------------------------------------------------------------
# Recall campaigns chosen for the shop: (NHTSA id, allowed MAKE|MODEL, how many ROs, remedy)
# The cause text is NOT written here: it is the campaign's real summary, extracted below.
# --------------------------------------------------------------------------------------------
CAMPAIGNS = [
    # Keystone RVs (towables)
    (
        "20V302",
        ["KEYSTONE|COUGAR"],
        5,
        "Replaced range cooktop per Keystone advisory 20-377; "
        "checked burner flame with furnace running.",
    ),
    (
        "20V398",
        ["KEYSTONE|COUGAR", "KEYSTONE|IMPACT"],
        4,
        "Replaced Furrion OTA antenna wing assembly and secured it to the mounting base.",
    ),
    (
        "20V428",
        ["KEYSTONE|IMPACT"],
        4,
        "Rewired generator transfer switch; "
        "verified shore power inlet is dead with generator running.",
    ),
    (
        "20V538",
        ["KEYSTONE|IMPACT"],
        2,
        "Replaced auxiliary fuel tank strap bolts with grade 5 bolts and torqued to spec.",
    ),
    (
        "20V670",
        ["KEYSTONE|COUGAR"],
        4,
        "Corrected inverter wiring; verified shore power inlet is not energized with inverter on.",
    ),
    (
        "20V801",
        ["KEYSTONE|COUGAR"],
        2,
        "Moved solar prep wiring to the protected side of the 12VDC breaker.",
    ),
    (
        "21V019",
        ["KEYSTONE|IMPACT"],
        4,
        "Replaced Dometic cooktop valve/manifold O-ring; propane leak test passed.",
    ),
    (
        "21V380",
        ["KEYSTONE|COUGAR"],
        2,
        "Installed frame reinforcement at axle spring hangers per Keystone procedure.",
    ),
    (
        "21V708",
        ["KEYSTONE|COUGAR", "KEYSTONE|IMPACT", "KEYSTONE|PASSPORT"],
        6,
        "Replaced Winn-Tec propane regulator; checked LP pressure at appliances.",
    ),
    (
        "22V144",
        ["KEYSTONE|COUGAR", "KEYSTONE|IMPACT", "KEYSTONE|OUTBACK", "KEYSTONE|PASSPORT"],
        5,
        "Rewired solar controller; tested CO and LP detectors operate.",
    ),
    (
        "22V209",
        ["KEYSTONE|COUGAR"],
        2,
        "Relocated outrigger for tire clearance; inspected tires, no damage.",
    ),
    (
        "22V726",
        ["KEYSTONE|IMPACT"],
        4,
        "Replaced Equalizer leveling leg foot pads and retainers on all legs.",
    ),
    ("23V082", ["KEYSTONE|IMPACT"], 2, "Replaced fuel station controller."),
    ("24V899", ["KEYSTONE|COUGAR"], 2, "Checked and torqued all Helux pin box fasteners to spec."),
    (
        "22V195",
        ["KEYSTONE|OUTBACK", "KEYSTONE|PASSPORT"],
        2,
        "Inspected coupler welds; replaced coupler assembly.",
    ),
    ("21V292", ["KEYSTONE|PASSPORT"], 1, "Replaced safety chains with chains rated for unit GVWR."),
    ("23V169", ["KEYSTONE|COUGAR"], 1, "Installed egress window in main living area."),
    (
        "22V604",
        ["KEYSTONE|COUGAR", "KEYSTONE|OUTBACK", "KEYSTONE|PASSPORT"],
        2,
        "Replaced Lippert awning fabric assembly.",
    ),
    # Thor Compass motorhomes
    (
        "20V312",
        ["THOR MOTOR COACH|COMPASS"],
        2,
        "Trimmed front fender liner and rerouted brake hose; checked brake fluid level.",
    ),
    (
        "20V339",
        ["THOR MOTOR COACH|COMPASS"],
        2,
        "Inspected LCI frameless windows; rebonded/replaced window glass as required.",
    ),
    (
        "25V097",
        ["THOR MOTOR COACH|COMPASS"],
        1,
        "Reinstalled roof solar panels with correct fasteners.",
    ),
    # Ford
    ("20V415", ["FORD|ESCAPE", "FORD|TRANSIT"], 5, "Replaced curtain air bag modules."),
    ("20V469", ["FORD|EDGE"], 6, "Replaced both front brake flex hoses; bled brakes."),
    ("21V922", ["FORD|ESCAPE"], 5, "Replaced front brake pads with revised pads."),
    (
        "22V191",
        ["FORD|ESCAPE"],
        3,
        "Inspected right-hand engine oil separator; replaced separator.",
    ),
    (
        "23V380",
        ["FORD|ESCAPE"],
        5,
        "Reprogrammed PCM and installed underbody shutter/drain revisions per recall.",
    ),
    ("21V158", ["FORD|RANGER", "FORD|EDGE"], 5, "Replaced driver air bag inflator."),
    ("23V905", ["FORD|FOCUS"], 6, "Replaced engine oil pump belt and tensioner."),
    ("20V331", ["FORD|FOCUS", "FORD|ESCAPE"], 3, "Replaced side door latches."),
    ("21V324", ["FORD|TRANSIT"], 3, "Replaced rear axle shafts."),
    ("21V978", ["FORD|TRANSIT"], 1, "Replaced rear driveshaft bolts and washers; torqued to spec."),
    ("24V542", ["FORD|TRANSIT"], 1, "Replaced EPAS ground cable."),
    ("22V451", ["FORD|RANGER"], 3, "Removed and rebonded windshield."),
    ("23V125", ["FORD|RANGER"], 3, "Inspected passenger air bag inflator; replaced inflator."),
    (
        "21V011",
        ["FORD|EDGE", "FORD|ESCAPE"],
        3,
        "Inspected rear drive unit; replaced RDU mounting bolts.",
    ),
    (
        "24V848",
        ["FORD|RANGER"],
        1,
        "Inspected fuel vapor line bundle bracket; repositioned and secured.",
    ),
    # GM
    (
        "21V115",
        ["CHEVROLET|EXPRESS", "CHEVROLET|TRAVERSE"],
        6,
        "Replaced affected Continental tires.",
    ),
    (
        "21V189",
        ["CHEVROLET|EXPRESS"],
        3,
        "Replaced positive battery cable and installed insulator on fuse block post.",
    ),
    ("24V839", ["CHEVROLET|EXPRESS"], 4, "Reprogrammed transmission control module."),
    (
        "25V087",
        ["CHEVROLET|EXPRESS"],
        3,
        "Inspected driver door impact beam welds; replaced door impact beam.",
    ),
    (
        "25V299",
        ["CHEVROLET|EXPRESS"],
        1,
        "Replaced front passenger seat head restraint/seat back frame.",
    ),
    (
        "20V668",
        ["CHEVROLET|EQUINOX", "CHEVROLET|MALIBU", "CHEVROLET|TRAVERSE"],
        5,
        "Inspected start-stop accumulator; installed missing bolts.",
    ),
    ("23V013", ["CHEVROLET|EQUINOX"], 5, "Replaced fuel pump module."),
    (
        "21V650",
        ["CHEVROLET|BOLT EV"],
        6,
        "Ran battery diagnostic software; replaced defective battery modules.",
    ),
    (
        "24V797",
        ["CHEVROLET|SILVERADO 1500", "GMC|SIERRA 1500"],
        6,
        "Reprogrammed TCM; inspected transmission control valve.",
    ),
    (
        "25V274",
        ["CHEVROLET|SILVERADO 1500", "GMC|SIERRA 1500"],
        5,
        "Inspected engine per recall; replaced engine assembly.",
    ),
    ("23V172", ["CHEVROLET|TRAVERSE", "GMC|ACADIA"], 3, "Replaced driver side half-shaft."),
    ("21V649", ["CHEVROLET|MALIBU"], 1, "Installed missing rear seat belt retractor fastener."),
    ("24V133", ["CHEVROLET|COLORADO"], 3, "Reprogrammed front camera module."),
    # Honda
    ("20V770", ["HONDA|FIT"], 6, "Replaced driveshaft(s)."),
    ("20V769", ["HONDA|ACCORD"], 4, "Replaced driveshaft(s)."),
    ("23V858", ["HONDA|ACCORD"], 8, "Replaced fuel pump."),
    ("24V384", ["HONDA|FIT"], 3, "Updated display audio unit software."),
    (
        "21V932",
        ["HONDA|PILOT", "HONDA|PASSPORT"],
        6,
        "Inspected hood latch striker area; installed hood reinforcement.",
    ),
    ("23V735", ["HONDA|PILOT"], 4, "Replaced steering gearbox."),
    (
        "24V900",
        ["HONDA|PILOT", "HONDA|PASSPORT"],
        5,
        "Inspected fuel fill pipe connection; reconnected and secured.",
    ),
    ("25V031", ["HONDA|PILOT"], 4, "Updated FI-ECU software."),
    (
        "23V751",
        ["HONDA|PILOT", "HONDA|ODYSSEY"],
        6,
        "Inspected engine per recall; replaced engine.",
    ),
    (
        "23V458",
        ["HONDA|CIVIC", "HONDA|PASSPORT", "HONDA|PILOT"],
        3,
        "Torqued master cylinder mounting nuts; installed missing nut.",
    ),
    (
        "23V174",
        ["HONDA|ODYSSEY", "HONDA|PASSPORT", "HONDA|PILOT"],
        3,
        "Replaced door mirror glass.",
    ),
    ("24V744", ["HONDA|CIVIC", "HONDA|CR-V"], 5, "Replaced steering gearbox worm gear assembly."),
    ("23V704", ["HONDA|CIVIC"], 1, "Replaced EPS steering rack with correct rack stroke part."),
    ("23V228", ["HONDA|CR-V"], 5, "Inspected rear frame; installed rear frame reinforcement."),
    (
        "24V064",
        ["HONDA|ACCORD", "HONDA|CIVIC", "HONDA|CR-V"],
        5,
        "Replaced front passenger seat weight sensor.",
    ),
    ("20V725", ["HONDA|PILOT"], 1, "Replaced affected tires."),
    # Nissan
    ("21V917", ["NISSAN|FRONTIER"], 1, "Installed tow hitch receiver."),
    (
        "22V457",
        ["NISSAN|FRONTIER", "NISSAN|TITAN"],
        5,
        "Inspected transmission parking pawl; replaced transmission components.",
    ),
    ("23V362", ["NISSAN|LEAF"], 3, "Replaced right hand brake tube; bled brakes."),
    ("24V071", ["NISSAN|LEAF"], 5, "Installed rear view camera harness protector."),
    (
        "24V700",
        ["NISSAN|LEAF"],
        3,
        "Reprogrammed vehicle control module for quick-charge monitoring.",
    ),
    ("21V957", ["NISSAN|ROGUE"], 5, "Replaced fuel pump assembly."),
    ("23V791", ["NISSAN|ROGUE"], 1, "Replaced rear brake caliper assembly."),
    ("21V135", ["NISSAN|SENTRA"], 5, "Replaced stop lamp switch."),
    (
        "23V628",
        ["NISSAN|ALTIMA", "NISSAN|SENTRA"],
        3,
        "Replaced rear view camera harness connector.",
    ),
    # Subaru
    (
        "21V587",
        ["SUBARU|LEGACY", "SUBARU|OUTBACK", "SUBARU|ASCENT", "SUBARU|FORESTER"],
        7,
        "Replaced low pressure fuel pump.",
    ),
    (
        "22V485",
        ["SUBARU|LEGACY", "SUBARU|OUTBACK"],
        5,
        "Reprogrammed TCM; inspected CVT chain guide.",
    ),
    (
        "24V227",
        ["SUBARU|LEGACY", "SUBARU|OUTBACK"],
        5,
        "Replaced all four front passenger seat ODS sensors.",
    ),
    (
        "23V755",
        ["SUBARU|LEGACY", "SUBARU|OUTBACK", "SUBARU|FORESTER"],
        3,
        "Replaced transmission inhibitor switch.",
    ),
    ("22V907", ["SUBARU|ASCENT"], 3, "Replaced PTC heater ground bolt."),
    ("23V754", ["SUBARU|FORESTER"], 3, "Replaced front drive shaft assembly."),
    # Toyota
    (
        "20V682",
        ["TOYOTA|CAMRY", "TOYOTA|COROLLA", "TOYOTA|RAV4", "TOYOTA|HIGHLANDER", "TOYOTA|TACOMA"],
        8,
        "Replaced low-pressure fuel pump.",
    ),
    ("21V890", ["TOYOTA|CAMRY"], 3, "Replaced brake booster pump assembly."),
    ("23V432", ["TOYOTA|CAMRY"], 1, "Torqued all wheel nuts to spec."),
    (
        "23V480",
        ["TOYOTA|TACOMA", "TOYOTA|COROLLA", "TOYOTA|HIGHLANDER"],
        5,
        "Replaced spiral cable assembly.",
    ),
    ("23V566", ["TOYOTA|TUNDRA"], 3, "Installed protector on fuel tube; checked for fuel leaks."),
    ("20V286", ["TOYOTA|RAV4"], 3, "Replaced front lower suspension arms."),
    (
        "23V734",
        ["TOYOTA|RAV4"],
        3,
        "Replaced battery hold-down clamp and installed terminal cover.",
    ),
    ("24V878", ["TOYOTA|COROLLA"], 1, "Replaced steering intermediate shaft."),
    ("23V720", ["TOYOTA|HIGHLANDER"], 3, "Installed revised front lower bumper cover fasteners."),
    # Hyundai
    ("22V056", ["HYUNDAI|TUCSON", "HYUNDAI|SANTA FE"], 5, "Installed ABS module fuse kit."),
    (
        "21V727",
        ["HYUNDAI|TUCSON", "HYUNDAI|SONATA HYBRID"],
        3,
        "Installed knock sensor detection software; inspected engine.",
    ),
    (
        "21V301",
        ["HYUNDAI|ELANTRA", "HYUNDAI|KONA", "HYUNDAI|VELOSTER"],
        5,
        "Installed piston ring noise sensing software; performed oil consumption test.",
    ),
    ("24V412", ["HYUNDAI|TUCSON", "HYUNDAI|SANTA CRUZ"], 3, "Replaced MDPS assembly."),
    (
        "21V524",
        ["HYUNDAI|SANTA FE", "HYUNDAI|SONATA"],
        3,
        "Torqued high pressure fuel pipe; replaced fuel pipe.",
    ),
    ("24V308", ["HYUNDAI|ELANTRA", "HYUNDAI|KONA"], 3, "Replaced EGR valve assembly."),
    ("23V067", ["NISSAN|FRONTIER"], 3, "Replaced driver air bag module cover emblem."),
    ("22V105", ["KEYSTONE|COUGAR"], 2, "Replaced tires with Load Range E tires."),
    (
        "21V240",
        ["KEYSTONE|PASSPORT"],
        1,
        "Relocated rear spare tire mount clear of left taillight.",
    ),
    (
        "20V715",
        ["KEYSTONE|OUTBACK"],
        2,
        "Installed frame rail reinforcement at draw bar attachment.",
    ),
    ("24V911", ["TOYOTA|RAV4"], 1, "Torqued front brake caliper and wheel bolts to spec."),
    ("23V142", ["TOYOTA|TUNDRA"], 2, "Inspected tonneau cover mounting; replaced clamps."),
]

# Vehicles for trouble-code and routine work: all taken from the recall data's vehicle lists.
ASSORTED = [
    "FORD|ESCAPE|2017",
    "FORD|ESCAPE|2019",
    "FORD|EDGE|2016",
    "FORD|EDGE|2019",
    "FORD|FOCUS|2014",
    "FORD|FOCUS|2016",
    "FORD|RANGER|2020",
    "FORD|TRANSIT|2019",
    "CHEVROLET|EXPRESS|2019",
    "HONDA|FIT|2013",
    "HONDA|FIT|2019",
    "HONDA|PILOT|2017",
    "HONDA|ACCORD|2016",
    "HONDA|PASSPORT|2020",
    "JEEP|COMPASS|2019",
    "JEEP|COMPASS|2020",
    "DODGE|JOURNEY|2017",
    "DODGE|JOURNEY|2018",
    "VOLKSWAGEN|ATLAS|2019",
    "VOLKSWAGEN|ATLAS|2021",
    "KIA|SOUL|2017",
    "KIA|SOUL|2020",
    "NISSAN|FRONTIER|2021",
    "SUBARU|LEGACY|2018",
    "SUBARU|OUTBACK|2019",
    "TOYOTA|CAMRY|2018",
    "TOYOTA|TACOMA|2022",
    "CHEVROLET|EQUINOX|2018",
    "CHEVROLET|SILVERADO 1500|2019",
    "HYUNDAI|ELANTRA|2019",
    "HYUNDAI|TUCSON|2017",
    "NISSAN|ROGUE|2020",
    "NISSAN|ALTIMA|2019",
    "GMC|SIERRA 1500|2020",
    "MERCURY|MILAN|2010",
]
ASSORTED_ROUTINE_ONLY = [
    "NISSAN|LEAF|2019",
    "CHEVROLET|BOLT EV|2020",
    "TOYOTA|RAV4|2019",
    "HONDA|CR-V|2018",
]
EV_MODELS = {("NISSAN", "LEAF"), ("CHEVROLET", "BOLT EV")}
TOWABLE_MAKES = {"KEYSTONE"}

# Trouble codes used (code, how many ROs)
DTC_PLAN = [
    ("P0420", 4),
    ("P0171", 4),
    ("P0300", 3),
    ("P0455", 3),
    ("P0442", 2),
    ("P0128", 3),
    ("P0301", 3),
    ("P0302", 1),
    ("P0303", 1),
    ("P0304", 3),
    ("P0305", 1),
    ("P0306", 1),
    ("P0172", 2),
    ("P0174", 1),
    ("P0175", 1),
    ("P0011", 1),
    ("P0014", 1),
    ("P0016", 1),
    ("P0101", 2),
    ("P0106", 1),
    ("P0113", 1),
    ("P0117", 1),
    ("P0118", 1),
    ("P0121", 1),
    ("P0130", 1),
    ("P0133", 1),
    ("P0135", 2),
    ("P0141", 1),
    ("P0325", 1),
    ("P0335", 2),
    ("P0340", 1),
    ("P0351", 1),
    ("P0352", 1),
    ("P0401", 2),
    ("P0402", 1),
    ("P0430", 1),
    ("P0440", 1),
    ("P0441", 1),
    ("P0446", 1),
    ("P0449", 1),
    ("P0456", 2),
    ("P0496", 1),
    ("P0497", 1),
    ("P0500", 1),
    ("P0505", 1),
    ("P0506", 1),
    ("P0507", 3),
    ("P0562", 3),
    ("P0563", 1),
    ("P0571", 1),
    ("P0603", 1),
    ("P0606", 1),
    ("P0700", 1),
    ("P0715", 1),
    ("P0720", 1),
    ("P0730", 1),
    ("P0741", 1),
    ("P0750", 1),
    ("P0841", 1),
    ("P0868", 1),
    ("P0882", 1),
    ("U0100", 1),
    ("U0101", 1),
    ("U0121", 1),
    ("U0140", 1),
    ("U0155", 1),
    ("C0035", 3),
    ("C0040", 1),
    ("C0045", 1),
    ("C0050", 1),
    ("C0110", 1),
    ("C0265", 1),
    ("B0001", 1),
    ("B0012", 1),
    ("B0081", 1),
    ("B0092", 1),
]

# Typical list prices for the parts most trouble-code repairs use (others: a random price)
PART_PRICE = {
    "fuel filler cap": 24.95,
    "ignition coil": 89.95,
    "catalytic converter": 1189.00,
    "thermostat": 48.50,
    "oxygen sensor upstream": 119.95,
    "oxygen sensor downstream": 109.95,
    "battery": 189.95,
    "timing chain": 329.00,
    "torque converter": 845.00,
    "transmission pump": 610.00,
    "automatic transmission": 3450.00,
    "wheel speed sensor": 64.95,
    "EGR valve": 289.00,
    "EVAP purge valve": 79.95,
    "EVAP vent valve": 69.95,
    "EVAP canister": 249.00,
    "mass air flow sensor": 189.00,
    "MAP sensor": 79.95,
    "intake manifold": 64.95,
    "alternator": 329.00,
    "engine control module": 895.00,
    "engine control unit": 895.00,
    "ECM": 895.00,
    "TCM": 645.00,
    "transmission control module": 645.00,
    "body control module": 415.00,
    "instrument cluster": 560.00,
    "ABS control module": 780.00,
    "ABS pump motor": 410.00,
}
PART_NAME = {
    "intake manifold": "Intake manifold gasket set",
    "TCM": "Transmission control module",
    "ECM": "Engine control module",
    "oxygen sensor upstream": "Upstream oxygen sensor",
    "oxygen sensor downstream": "Downstream oxygen sensor",
}

# Routine work: (key, complaint, cause, correction, op_code, labor description, hours, parts, skill)
ROUTINE = {
    "oil": (
        "Oil change due.",
        "Maintenance interval reached.",
        "Changed oil and filter, reset maintenance reminder.",
        "LOF",
        "Lube, oil and filter",
        0.3,
        [("OF-1001", "Oil filter", 1, 9.95), ("OIL-0W20", "Synthetic oil 0W-20, qt", 5, 8.50)],
        "routine",
    ),
    "rotate": (
        "Rotate tires.",
        "Scheduled maintenance.",
        "Rotated tires, set pressures to placard.",
        "TIRE-ROT",
        "Rotate tires",
        0.4,
        [],
        "tires",
    ),
    "front_pads": (
        "Brakes squeaking when stopping.",
        "Front brake pads worn to 2 mm.",
        "Replaced front brake pads, resurfaced front rotors, road tested OK.",
        "BRK-FR-PAD",
        "Replace front brake pads",
        1.5,
        [("BP-F210", "Front brake pad set", 1, 79.95)],
        "brakes",
    ),
    "rear_pads": (
        "Grinding from rear when braking.",
        "Rear brake pads worn to 1 mm.",
        "Replaced rear brake pads and hardware, road tested OK.",
        "BRK-RR-PAD",
        "Replace rear brake pads",
        1.3,
        [("BP-R118", "Rear brake pad set", 1, 69.95)],
        "brakes",
    ),
    "battery": (
        "Slow crank in the morning.",
        "Battery failed load test.",
        "Replaced battery, tested charging system OK.",
        "BATT-R",
        "Replace battery",
        0.5,
        [("BAT-H6", "Battery group H6", 1, 189.95)],
        "electrical",
    ),
    "wipers": (
        "Wipers streaking.",
        "Wiper blades torn.",
        "Replaced front wiper blades.",
        "WIPER",
        "Replace wiper blades",
        0.2,
        [("WB-22", "Wiper blade 22 in", 1, 18.95), ("WB-18", "Wiper blade 18 in", 1, 16.95)],
        "routine",
    ),
    "cabin": (
        "Musty smell from vents.",
        "Cabin air filter clogged with debris.",
        "Replaced cabin air filter.",
        "CABIN-F",
        "Replace cabin air filter",
        0.2,
        [("CAF-77", "Cabin air filter", 1, 24.95)],
        "routine",
    ),
}
ROUTINE_EV = ["rotate", "wipers", "cabin", "front_pads", "battery"]
ROUTINE_MAIN_WEIGHTS = [
    ("oil", 16),
    ("rotate", 8),
    ("front_pads", 6),
    ("rear_pads", 3),
    ("battery", 6),
    ("wipers", 5),
    ("cabin", 6),
]
TRAILER_ROUTINE = {
    "bearings": (
        "Repack wheel bearings.",
        "Annual trailer service.",
        "Repacked wheel bearings, replaced grease seals, adjusted electric brakes.",
        "TRL-BRG",
        "Repack wheel bearings",
        2.5,
        [("GS-10", "Grease seal", 4, 6.95)],
        "rv",
    ),
    "lp": (
        "LP leak test.",
        "Annual trailer service.",
        "Performed LP system leak test, passed.",
        "TRL-LP",
        "LP system leak test",
        0.5,
        [],
        "rv",
    ),
    "roof": (
        "Roof seal inspection.",
        "Annual trailer service.",
        "Inspected roof seams and vents, touched up sealant at vents.",
        "TRL-ROOF",
        "Roof seal inspection",
        1.0,
        [("SEAL-1", "Self-leveling lap sealant", 1, 14.95)],
        "rv",
    ),
}
# (complaint, correction, status) -- declined / recommended findings
FINDINGS = [
    (
        "Multi-point inspection: front brake pads at 3 mm.",
        "Recommended front brake pads and rotors; customer declined.",
        "declined",
    ),
    (
        "Multi-point inspection: rear tires at 3/32.",
        "Recommended replacing both rear tires; customer declined.",
        "declined",
    ),
    ("Coolant test strip failed.", "Recommended cooling system flush.", "recommended"),
    (
        "Engine air filter dirty.",
        "Recommended engine air filter replacement; customer declined.",
        "declined",
    ),
    (
        "Battery tested weak, 380 CCA of 600 rated.",
        "Recommended battery replacement; customer declined.",
        "declined",
    ),
    ("Front struts leaking.", "Recommended replacing front strut assemblies.", "recommended"),
    (
        "Serpentine belt cracked.",
        "Recommended serpentine belt replacement; customer declined.",
        "declined",
    ),
    ("Brake fluid moisture at 3 percent.", "Recommended brake fluid flush.", "recommended"),
    (
        "Oil seeping at valve cover gasket.",
        "Recommended valve cover gasket; customer declined.",
        "declined",
    ),
    ("Transmission fluid dark.", "Recommended transmission fluid service.", "recommended"),
    ("Wiper blades chattering.", "Recommended wiper blades; customer declined.", "declined"),
    ("Cabin air filter dirty.", "Recommended cabin air filter.", "recommended"),
]
EV_FINDINGS = [0, 1, 5, 7, 10, 11]
TRAILER_FINDINGS = [
    (
        "Roof sealant cracked at front cap.",
        "Recommended resealing front cap; customer declined.",
        "declined",
    ),
    (
        "Trailer tires over 6 years old, sidewall checking.",
        "Recommended replacing all trailer tires.",
        "recommended",
    ),
    ("Electric brake magnets worn.", "Recommended brake magnets; customer declined.", "declined"),
]

MAKE_NAMES = {"MERCEDES BENZ": "Mercedes-Benz", "GMC": "GMC", "BMW": "BMW"}
MODEL_UPPER = {"CR-V", "HR-V", "EV", "APV", "GT", "XL"}


def tcase_make(s: str) -> str:
    return MAKE_NAMES.get(s, " ".join(w.capitalize() for w in s.split()))


def tcase_model(s: str) -> str:
    out = []
    for w in s.split():
        if w in MODEL_UPPER or re.search(r"\d", w):
            out.append(w)
        else:
            out.append("-".join(p.capitalize() for p in w.split("-")))
    return " ".join(out)


# --------------------------------------------------------------------------------------------
# Recall summary extraction (picks the real, non-boilerplate defect description of a campaign)
# --------------------------------------------------------------------------------------------
LEAD = re.compile(
    r"^(this is|these are|renotification|re-notification|third notice|tweet|letter|"
    r"email|posted|repair instructions|revised|corrected|communication|dealer letter|"
    r"service bulletin|owner letter|interim|final|the dealer|please find|advance)"
    r"[^.]*?\.\s+",
    re.I,
)
BOILER = re.compile(
    r"(mailed|owner letter|notification letter|media|renot|portal|puerto rico|"
    r"claiming|chronology|dealer combo|regarding certain|email blast|wave \d|"
    r"representative copy|this notice is sent|nsrac|techline|remedy available|"
    r"miscellaneous)",
    re.I,
)
BADW = re.compile(
    r"(bulletin|\bTSB\b|revision|discard|instructions|video|notice|follow|"
    r"announcement|dealer|communication|XXXX|this document|claim|flat rate|&#)",
    re.I,
)
BADSTART = re.compile(
    r"^(If this|In addition|This causes|As a result|This may|These|It is|If so)", re.I
)
MODAL = re.compile(r"\b(may|could|can|risk)\b", re.I)


def clean_summary(s: str) -> tuple[str, str]:
    s = s.strip()
    if "Description of the Defect and Safety Risk" in s:  # Subaru
        t = s.split("Description of the Defect and Safety Risk", 1)[1]
        t = re.split(r"Description of the Repair|Remedy\b", t)[0]
        t = re.sub(r"\s+", " ", t).strip()
        return t, "subaru"
    if re.match(r"^\S+ recall; ", s):  # GM: "<id> recall; <defect>; <document kind>"
        parts = s.split("; ")
        t = "; ".join(parts[1:-1]) if len(parts) >= 3 else parts[1]
        t = re.sub(r"\s*\n\s*", " ", t).strip()
        return (t[0].upper() + t[1:]) if t else t, "gm"
    if "NEW VEHICLE" in s or re.search(r"(Safety|Compliance) Recall \d\d[SC]\d\d", s):  # Ford
        lines = [ln.strip() for ln in s.split("\n") if ln.strip()]
        keep = [
            ln
            for ln in lines
            if not re.search(
                r"NEW VEHICLE|DELIVERY HOLD|Advance Notice|Safety Recall|Compliance Recall|"
                r"Supplement|"
                r"DO NOT DRIVE|^REF",
                ln,
                re.I,
            )
        ]
        t = " ".join(keep[:-1]) + " - " + keep[-1] if len(keep) >= 2 else " ".join(keep)
        return re.sub(r"\s+", " ", t).strip(), "ford"
    if "Campaign Summary" in s:  # Nissan
        t = s.split("Campaign Summary", 1)[1]
        t = re.sub(r"^[\s*:]+", "", t)
        t = re.sub(r"\s+", " ", t)
        sents = re.split(r"(?<=[.])\s+(?=[A-Z])", t)
        keep = [
            x
            for x in sents
            if not re.match(
                r"(Nissan is committed|Nissan has notified|Nissan is issuing|Nissan is conducting|"
                r"Nissan has reclassified|REVISED|Please discard|The announcement|Parts|Dealers|"
                r"Vehicles included|\*)",
                x,
            )
        ]
        return " ".join(keep[:3]).strip(), "nissan"
    t = s
    for _ in range(2):
        t = LEAD.sub("", t)
    return re.sub(r"\s+", " ", t).strip(), "gen"


def best_summary(docs: list[Rec]) -> str | None:
    cands: collections.Counter[str] = collections.Counter()
    for r in docs:
        t, kind = clean_summary(r["summary"])
        if len(t) < 40 or len(t) > 1000:
            continue
        if kind == "ford":
            if not t.startswith("Certain"):
                continue
        else:
            if BOILER.search(t) or BADW.search(t) or BADSTART.search(t) or not MODAL.search(t):
                continue
        cands[t] += 1
    if not cands:
        return None
    return str(sorted(cands.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0])


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def money(x: float) -> float:
    return round(x + 1e-9, 2)


def rand_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    span = (hi - lo).days
    while True:
        d = lo + dt.timedelta(days=rng.randint(0, span))
        if d.weekday() < 6:  # open Monday-Saturday
            return d


class People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_vins: set[str] = set()
        self.n = 0

    def customer(self) -> Rec:
        rng = self.rng
        self.n += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, state, zip3 = rng.choice(CITIES)
        while True:
            vin = "FAKE" + "".join(rng.choice(VIN_CHARS) for _ in range(13))
            if vin not in self.used_vins:
                self.used_vins.add(vin)
                break
        return {
            "name": f"{first} {last}",
            "phones": [f"(520) 555-01{rng.randint(0, 99):02d}"],
            "email": f"{first.lower()}.{last.lower()}{self.n}@example.com",
            "address": {
                "street": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state": state,
                "zip": f"{zip3}{rng.randint(0, 99):02d}",
            },
            "vin": vin,
            "license_plate": f"{state} TST{rng.randint(1000, 9999)}",
        }


def pick_tech(rng: random.Random, skill: str) -> Rec:
    key = rng.choice(SPECIALTY[skill]) if rng.random() < 0.7 else rng.choice(sorted(TECHS))
    return dict(TECHS[key])


def labor(
    rng: random.Random, op: str, desc: str, skill: str, hours: float, pay: str = "customer"
) -> Rec:
    rate = CUSTOMER_RATE if pay == "customer" else WARRANTY_RATE
    return {
        "op_code": op,
        "description": desc,
        "technician": pick_tech(rng, skill),
        "hours": hours,
        "amount": money(hours * rate),
        "pay_type": pay,
    }


def parts_list(parts: list[tuple[str, str, int, float]], pay: str = "customer") -> list[Rec]:
    return [
        {"part_number": pn, "description": d, "quantity": q, "unit_price": p, "pay_type": pay}
        for pn, d, q, p in parts
    ]


def routine_line(rng: random.Random, key: str, table: dict[str, Any] = ROUTINE) -> Rec:
    c, cause, corr, op, desc, hrs, parts, skill = table[key]
    return {
        "status": "completed",
        "complaint": c,
        "cause": cause,
        "correction": corr,
        "labor": [labor(rng, op, desc, skill, hrs)],
        "parts": parts_list(parts),
    }


def finding_line(f: tuple[str, str, str]) -> Rec:
    c, corr, status = f
    return {"status": status, "complaint": c, "correction": corr, "labor": [], "parts": []}


def comp_phrase(compdesc: str) -> tuple[str, str]:
    parts = [p.strip().lower() for p in compdesc.split(":") if p.strip()]
    return " / ".join(parts), parts[-1]


def comp_skill(compdesc: str) -> str:
    c = compdesc.upper()
    if "BRAKE" in c or "STEERING" in c or "SUSPENSION" in c or "WHEELS" in c:
        return "brakes"
    if "ELECTRICAL" in c or "LIGHTING" in c or "AIR BAG" in c or "COMMUNICATIONS" in c:
        return "electrical"
    if "POWER TRAIN" in c:
        return "trans"
    if "ENGINE" in c or "FUEL" in c or "SPEED CONTROL" in c:
        return "engine"
    return "body"


def comp_op(compdesc: str) -> str:
    top = re.sub(r"[^A-Z]", "", compdesc.split(":")[0].upper())[:5] or "GEN"
    return f"DIAG-{top}"


def humanize(comp: str) -> str:
    t = comp.replace("_", " ")
    for a, b in [
        ("abs", "ABS"),
        ("ecm", "ECM"),
        ("tcm", "TCM"),
        ("srs", "SRS"),
        ("egr", "EGR"),
        ("evap", "EVAP"),
        ("map ", "MAP "),
        ("pcv", "PCV"),
        ("can bus", "CAN bus"),
        ("o2", "O2"),
        ("tcc", "TCC"),
        ("ebcm", "EBCM"),
        ("vgt", "VGT"),
        ("fvr", "FVR"),
    ]:
        t = re.sub(rf"\b{a}\b", b, t)
    return t


def strip_coder(text: str) -> str:
    t = re.sub(r"\s+(\*?AK|TT)(\s+TT)*\s*$", "", text.strip())
    return t.strip()


# --------------------------------------------------------------------------------------------
def build(data_dir: str) -> list[Rec]:
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
    people = People(rng)

    # ---- read recall index
    rpath = os.path.join(
        data_dir, "nhtsa_recalls", "recall_documents_vehicles_2020_2026_dedup.csv.gz"
    )
    with gzip.open(rpath, "rt", encoding="utf-8", newline="") as fh:
        docs = list(csv.DictReader(fh))
    by_id: dict[str, list[Rec]] = collections.defaultdict(list)
    vehicles_of: dict[str, set[str]] = collections.defaultdict(set)
    all_vehicles: set[str] = set()
    for r in docs:
        by_id[r["nhtsa_id"]].append(r)
        for vkey in r["vehicles"].split(";"):
            if vkey.count("|") == 2:
                vehicles_of[r["nhtsa_id"]].add(vkey)
                all_vehicles.add(vkey)
    for vkey in ASSORTED + ASSORTED_ROUTINE_ONLY:
        if vkey not in all_vehicles:
            raise SystemExit(f"vehicle {vkey} not found in the recall data")

    # ---- read trouble codes
    with open(
        os.path.join(data_dir, "obdex_dtc", "dtc_codes_en.csv"), encoding="utf-8", newline=""
    ) as fh:
        dtc = {r["code"]: r for r in csv.DictReader(fh)}

    # ---- read complaints
    cols = [
        "CMPLID",
        "ODINO",
        "MFR_NAME",
        "MAKETXT",
        "MODELTXT",
        "YEARTXT",
        "CRASH",
        "FAILDATE",
        "FIRE",
        "INJURED",
        "DEATHS",
        "COMPDESC",
        "CITY",
        "STATE",
        "VIN",
        "DATEA",
        "LDATE",
        "MILES",
        "OCCURENCES",
        "CDESCR",
    ]
    complaints = []
    with open(
        os.path.join(data_dir, "nhtsa_flat_samples", "complaints.tsv"), encoding="latin-1"
    ) as fh:
        for raw in fh:
            f = raw.rstrip("\n").split("\t")
            rec = dict(zip(cols, f[: len(cols)], strict=True))
            complaints.append(rec)

    ros: list[Rec] = []  # each: dict(kind, vehicle, customer, date, lines)

    def vehicle(make: str, model: str, year: str, mileage: int | None = None) -> Rec:
        v: Rec = {
            "year": int(year),
            "make": tcase_make(make),
            "model": tcase_model(model),
            "color": rng.choice(COLORS),
        }
        if mileage is not None:
            v["mileage_in"] = mileage
        return v

    def est_mileage(year: int, when: dt.date) -> int:
        age = max(0.3, when.year + when.timetuple().tm_yday / 365.0 - (year - 0.5))
        return int(age * rng.uniform(8500, 14500)) + rng.randint(0, 999)

    # ---- 1. complaint ROs: group by (ODINO, FAILDATE); distinct narratives become lines
    groups: dict[tuple[str, str], list[Rec]] = collections.OrderedDict()
    for c in complaints:
        if c["YEARTXT"] == "9999" or "CHILD" in c["MODELTXT"]:
            continue
        groups.setdefault((c["ODINO"], c["FAILDATE"]), []).append(c)
    odino_dates: dict[str, list[str]] = collections.defaultdict(list)
    for odino, fail in groups:
        odino_dates[odino].append(fail)
    complaint_ros: list[Rec] = []
    for (odino, fail), rows in groups.items():
        narratives: dict[str, list[str]] = collections.OrderedDict()
        for r in rows:
            narratives.setdefault(r["CDESCR"], []).append(r["COMPDESC"].strip())
        first = rows[0]
        lines: list[Rec] = []
        for text, comps in narratives.items():
            phrases = [comp_phrase(cp) for cp in comps]
            paths = "; ".join(p for p, _ in phrases)
            leafs = ", ".join(dict.fromkeys(leaf for _, leaf in phrases))
            skill = comp_skill(comps[0])
            lines.append(
                {
                    "status": "completed",
                    "complaint": strip_coder(text),
                    "cause": f"Inspected {paths}. Complaint verified.",
                    "correction": (
                        f"Replaced failed {leafs} component(s); verified operation, road tested."
                    ),
                    "labor": [
                        labor(
                            rng,
                            comp_op(comps[0]),
                            f"Diagnose and repair {phrases[0][1]}",
                            skill,
                            round(rng.choice([0.8, 1.0, 1.2, 1.5, 1.8, 2.0, 2.5, 3.0]), 1),
                        )
                    ],
                    "parts": [],
                }
            )
        complaint_ros.append(
            {
                "kind": "complaint",
                "odino": odino,
                "fail": fail,
                "mmy": (first["MAKETXT"], first["MODELTXT"], first["YEARTXT"]),
                "lines": lines,
            }
        )
    # dates: vehicles with several visits get increasing dates in failure-date order
    for odino in odino_dates:
        visits = sorted(
            [r for r in complaint_ros if r["odino"] == odino], key=lambda r: r["fail"] or "0"
        )
        dates = sorted(rand_date(rng, FIRST_DAY, LAST_DAY) for _ in visits)
        cust = people.customer()
        mk, md, yr = visits[0]["mmy"]
        color = rng.choice(COLORS)
        miles = rng.randint(118000, 236000)
        for i, (r, d) in enumerate(zip(visits, dates, strict=True)):
            if i:
                miles += (d - dates[i - 1]).days * rng.randint(8, 22) + rng.randint(0, 99)
            r["date"] = d
            r["customer"] = cust
            r["vehicle"] = {
                "year": int(yr),
                "make": tcase_make(mk),
                "model": tcase_model(md),
                "color": color,
                "mileage_in": miles,
            }
    ros.extend(complaint_ros)

    # ---- 2. recall ROs
    campaign_texts = {}
    for nid, allowed, n, remedy in CAMPAIGNS:
        summ = best_summary(by_id[nid])
        if not summ:
            raise SystemExit(f"no usable summary for {nid}")
        campaign_texts[nid] = summ
        cands = sorted(v for v in vehicles_of[nid] if "|".join(v.split("|")[:2]) in allowed)
        if not cands:
            raise SystemExit(f"no allowed vehicle for {nid}")
        tmpl = rng.choice(
            [
                "Recall {id} performed.",
                "Open recall {id} - perform campaign.",
                "Customer received recall notice {id}; perform recall.",
            ]
        )
        complaint = tmpl.format(id=nid)
        hours = rng.choice([0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 2.4])
        for _ in range(n):
            mk, md, yr = rng.choice(cands).split("|")
            yr_i = int(yr)
            lo = max(FIRST_DAY, dt.date(2000 + int(nid[:2]), 2, 1), dt.date(yr_i - 1, 10, 1))
            d = rand_date(rng, lo, LAST_DAY)
            towable = mk in TOWABLE_MAKES
            v = vehicle(mk, md, yr, None if towable else est_mileage(yr_i, d))
            line: Rec = {
                "status": "completed",
                "complaint": complaint,
                "cause": summ,
                "correction": f"{remedy} Recall {nid} completed.",
                "labor": [
                    labor(
                        rng,
                        f"RCL-{nid}",
                        f"Perform recall {nid}",
                        "rv" if towable or mk == "THOR MOTOR COACH" else "recall",
                        hours,
                        pay="warranty",
                    )
                ],
                "parts": parts_list(
                    [(f"RCL-{nid}-KIT", f"Recall {nid} remedy parts", 1, 0.00)], pay="warranty"
                ),
            }
            lines = [line]
            ev = (mk, md) in EV_MODELS
            if towable:
                if rng.random() < 0.35:
                    lines.append(
                        routine_line(rng, rng.choice(sorted(TRAILER_ROUTINE)), TRAILER_ROUTINE)
                    )
                if rng.random() < 0.2:
                    lines.append(finding_line(rng.choice(TRAILER_FINDINGS)))
            else:
                if rng.random() < 0.4:
                    key = rng.choice(
                        ROUTINE_EV if ev else ["oil", "oil", "oil", "rotate", "wipers", "cabin"]
                    )
                    lines.append(routine_line(rng, key))
                if rng.random() < 0.22:
                    pool = [FINDINGS[i] for i in EV_FINDINGS] if ev else FINDINGS
                    lines.append(finding_line(rng.choice(pool)))
            ros.append(
                {
                    "kind": "recall",
                    "nid": nid,
                    "date": d,
                    "vehicle": v,
                    "customer": people.customer(),
                    "lines": lines,
                }
            )

    # ---- 3. trouble-code ROs
    def dtc_line(code: str) -> Rec:
        r = dtc[code]
        causes = [
            re.sub(r"\s*\((high|medium|low)\)\s*$", "", c.strip())
            for c in r["common_causes_en"].split(";")
            if c.strip()
        ]
        comps = [humanize(c) for c in r["affected_components"].split(";") if c.strip()]
        lo, hi = json.loads(r["estimated_hours"])
        hours = round((float(lo) + float(hi)) / 2.0, 1)
        kind = code[0]
        light = {
            "P": "Check engine light on",
            "U": "Check engine light on",
            "C": "ABS light on",
            "B": "Airbag light on",
        }[kind]
        if code.startswith("P07") or code.startswith("P08") or code in ("U0101",):
            skill = "trans"
        elif kind == "C":
            skill = "brakes"
        elif kind in "BU" or code in ("P0562", "P0563", "P0603", "P0606", "P0571"):
            skill = "electrical"
        else:
            skill = "engine"
        return {
            "status": "completed",
            "complaint": f"{light}, code {code}.",
            "cause": f"{code} {r['title_en']}. {r['description_en']} Checked: {'; '.join(causes)}.",
            "correction": (
                f"Repaired vacuum leak at {comps[0]}; cleared {code}, road tested, "
                "no codes returned."
                if comps[0] == "intake manifold"
                else f"Replaced {comps[0]}; cleared {code}, road tested, no codes returned."
            ),
            "labor": [
                labor(rng, f"DTC-{code}", f"Diagnose {code}, replace {comps[0]}", skill, hours)
            ],
            "parts": parts_list(
                [
                    (
                        f"DX-{code[1:]}-{rng.randint(10, 99)}",
                        PART_NAME.get(comps[0], comps[0][0].upper() + comps[0][1:]),
                        1,
                        PART_PRICE.get(comps[0], money(rng.uniform(25, 420))),
                    )
                ]
            ),
        }

    for code, n in DTC_PLAN:
        if code not in dtc:
            raise SystemExit(f"code {code} not in obdex data")
        for _ in range(n):
            mk, md, yr = rng.choice(ASSORTED).split("|")
            d = rand_date(rng, max(FIRST_DAY, dt.date(int(yr), 3, 1)), LAST_DAY)
            lines = [dtc_line(code)]
            if rng.random() < 0.3:
                lines.append(
                    routine_line(rng, rng.choice(["oil", "oil", "rotate", "cabin", "wipers"]))
                )
            if rng.random() < 0.25:
                lines.append(finding_line(rng.choice(FINDINGS)))
            ros.append(
                {
                    "kind": "dtc",
                    "code": code,
                    "date": d,
                    "vehicle": vehicle(mk, md, yr, est_mileage(int(yr), d)),
                    "customer": people.customer(),
                    "lines": lines,
                }
            )

    # ---- 4. routine ROs
    keys = [k for k, w in ROUTINE_MAIN_WEIGHTS for _ in range(w)]
    for _ in range(62):
        mk, md, yr = rng.choice(ASSORTED + ASSORTED_ROUTINE_ONLY * 3).split("|")
        ev = (mk, md) in EV_MODELS
        d = rand_date(rng, max(FIRST_DAY, dt.date(int(yr), 3, 1)), LAST_DAY)
        key = rng.choice([k for k in keys if (k in ROUTINE_EV or not ev)])
        lines = [routine_line(rng, key)]
        if rng.random() < 0.35:
            extra = rng.choice(
                [
                    k
                    for k in (ROUTINE_EV if ev else ["oil", "rotate", "wipers", "cabin"])
                    if k != key
                ]
            )
            lines.append(routine_line(rng, extra))
        if rng.random() < 0.35:
            pool = [FINDINGS[i] for i in EV_FINDINGS] if ev else FINDINGS
            lines.append(finding_line(rng.choice(pool)))
        ros.append(
            {
                "kind": "routine",
                "date": d,
                "vehicle": vehicle(mk, md, yr, est_mileage(int(yr), d)),
                "customer": people.customer(),
                "lines": lines,
            }
        )

    # ---- 5. returning vehicles: some trouble-code / routine visits are by a car seen before
    ros.sort(key=lambda r: (r["date"], r["kind"]))
    for i, r in enumerate(ros):
        if r["kind"] not in ("dtc", "routine") or rng.random() >= 0.15:
            continue
        earlier = [
            e
            for e in ros[:i]
            if e["kind"] in ("recall", "dtc", "routine")
            and "mileage_in" in e["vehicle"]
            and e["date"] < r["date"]
            and (e["vehicle"]["make"].upper(), e["vehicle"]["model"].upper()) not in EV_MODELS
            and not e.get("reused_by")
        ]
        if not earlier:
            continue
        e = rng.choice(earlier)
        if (e["vehicle"]["make"].upper(), e["vehicle"]["model"].upper()) in EV_MODELS:
            continue
        e["reused_by"] = True
        v = dict(e["vehicle"])
        v["mileage_in"] = e["vehicle"]["mileage_in"] + (r["date"] - e["date"]).days * rng.randint(
            20, 40
        )
        r["vehicle"] = v
        r["customer"] = e["customer"]

    # ---- assign RO numbers (increasing with date), close dates, totals
    out = []
    num = 612040
    for r in ros:
        num += rng.randint(3, 28)
        d = r["date"]
        closed = d + dt.timedelta(days=rng.choice([0, 0, 0, 1, 1, 2, 3]))
        out_lines: list[Rec] = []
        for j, ln in enumerate(r["lines"]):
            ordered: Rec = {"line": "ABCDEFGHIJ"[j]}
            ordered.update(ln)
            out_lines.append(ordered)
        lab = sum(
            lab_item["amount"]
            for ln in out_lines
            if ln["status"] == "completed"
            for lab_item in ln["labor"]
            if lab_item["pay_type"] == "customer"
        )
        prt = sum(
            p["quantity"] * p["unit_price"]
            for ln in out_lines
            if ln["status"] == "completed"
            for p in ln["parts"]
            if p["pay_type"] == "customer"
        )
        oil = any(ln["labor"] and ln["labor"][0]["op_code"] == "LOF" for ln in out_lines)
        supplies = money(min(35.0, lab * 0.06)) if lab else 0.0
        haz = 3.00 if oil else 0.0
        tax = money(prt * 0.087)
        totals = {
            "labor": money(lab),
            "parts": money(prt),
            "sublet": 0.0,
            "shop_supplies": supplies,
            "hazardous": haz,
            "tax": tax,
            "discount": 0.0,
            "total_due": money(lab + prt + supplies + haz + tax),
        }
        v = dict(r["vehicle"])
        if "mileage_in" in v:
            v["mileage_out"] = v["mileage_in"] + rng.randint(0, 12)
        out.append(
            {
                "ro_number": str(num),
                "status": "closed",
                "opened_on": d.isoformat(),
                "closed_on": closed.isoformat(),
                "advisor": dict(rng.choice(ADVISORS)),
                "vehicle": v,
                "customer": r["customer"],
                "lines": out_lines,
                "totals": totals,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", default=DEFAULT_DATA, help="public data directory (default: %(default)s)"
    )
    ap.add_argument("--out", default=os.path.join(HERE, "shop.jsonl"))
    args = ap.parse_args(argv)
    ros = build(os.path.abspath(args.data))
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        for r in ros:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
    print(f"wrote {len(ros)} ROs, {sum(len(r['lines']) for r in ros)} lines to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
