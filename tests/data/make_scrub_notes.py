"""Build the labelled evaluation set for the PII scrubber: ``tests/data/scrub_notes.jsonl``.

Each output line is one technician note together with the vault (customer block) of its
repair order, the exact substrings that must be scrubbed (``pii``) and the exact substrings
that must survive scrubbing (``keep``)::

    {"id": "n0001", "text": "...", "vault": {...},
     "pii": [{"kind": "phone", "text": "555.201.7781"}], "keep": ["P0420"]}

The set mixes notes without PII, notes quoting the RO's own vault values in other spellings,
and notes carrying PII that is not in the vault (left to detectors: VIN check digit, email,
NANP phone, Luhn card number, plate next to plate/tag/lic). It starts with hand-written notes
(literal strings below) and continues with notes assembled from sentence fragments.

Deterministic (fixed seed, standard library only). Every note is validated before anything is
written: labels occur in the text, an ideal scrubber that removes every label keeps every
``keep`` item and leaves no vault value or detectable PII behind, VINs pass the check digit,
card numbers pass Luhn. Run from the repository root::

    .venv/bin/python tests/data/make_scrub_notes.py
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

SEED: Final = 48211
TOTAL_NOTES: Final = 300
TARGET_NONE: Final = 45  # ~15% without PII
TARGET_DETECTOR: Final = 90  # ~30% with detector-only PII; the rest quote the vault
OUT_PATH: Final = Path(__file__).with_name("scrub_notes.jsonl")

KINDS: Final = (
    "customer_name",
    "email",
    "phone",
    "address",
    "vin",
    "license_plate",
    "payment",
    "card_number",
)

# --------------------------------------------------------------------------------------------
# Check digits
# --------------------------------------------------------------------------------------------

_VIN_VALUES: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    **dict(
        zip(
            "ABCDEFGHJKLMNPRSTUVWXYZ",
            (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
            strict=True,
        )
    ),
}
_VIN_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def vin_check_char(vin: str) -> str:
    """The North-American check character (position 9) for a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS, strict=True))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def vin_is_valid(vin: str) -> bool:
    v = vin.upper()
    return len(v) == 17 and all(c in _VIN_VALUES for c in v) and v[8] == vin_check_char(v)


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    for ch in "0123456789":
        if luhn_ok(partial + ch):
            return partial + ch
    raise AssertionError(partial)


def digits_of(s: str) -> str:
    return re.sub(r"\D", "", s)


def alnum_upper(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", s).upper()


def words(text: str) -> tuple[str, ...]:
    """A comma-separated list of words (some of which hold spaces)."""
    return tuple(w.strip() for w in text.split(","))


# --------------------------------------------------------------------------------------------
# Vault
# --------------------------------------------------------------------------------------------

US_STATES: Final = frozenset(
    words(
        "AK, AL, AR, AZ, CA, CO, CT, DE, FL, GA, HI, IA, ID, IL, IN, KS, KY, LA, MA, MD, ME, MI, "
        "MN, MO, MS, MT, NC, ND, NE, NH, NJ, NM, NV, NY, OH, OK, OR, PA, RI, SC, SD, TN, TX, UT, "
        "VA, VT, WA, WI, WV, WY"
    )
)


@dataclass(frozen=True)
class Vault:
    first: str
    last: str
    email: str
    phones: tuple[str, ...]  # as stored in the vault
    street: str
    city: str
    state: str
    zip: str
    payment_method: str
    vin: str
    license_plate: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def phone_digits(self) -> tuple[str, ...]:
        return tuple(digits_of(p)[-10:] for p in self.phones)

    @property
    def card_last4(self) -> str | None:
        m = re.search(r"ending (\d{4})$", self.payment_method)
        return m.group(1) if m else None

    @property
    def card_brand(self) -> str | None:
        return self.payment_method.split()[0] if self.card_last4 else None

    @property
    def plate_state(self) -> str | None:
        head, _, rest = self.license_plate.partition(" ")
        return head if head in US_STATES and rest else None

    @property
    def plate_core(self) -> str:
        """The plate as stored, without a state prefix (may keep an inner space or dash)."""
        if self.plate_state:
            return self.license_plate.partition(" ")[2]
        return self.license_plate

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_name": self.name,
            "email": self.email,
            "phones": list(self.phones),
            "address": {
                "street": self.street,
                "city": self.city,
                "state": self.state,
                "zip": self.zip,
            },
            "payment_method": self.payment_method,
            "vin": self.vin,
            "license_plate": self.license_plate,
        }


# Fixed vaults for the hand-written notes.
HAND_VAULTS: Final[dict[str, Vault]] = {
    "blake": Vault(
        "Jordan",
        "Blake",
        "jblake@example.com",
        ("(555) 201-7781",),
        "12 Elm St",
        "Tucson",
        "AZ",
        "85701",
        "VISA ending 4242",
        "4T1B11HKXJU123456",
        "AZ BXR4471",
    ),
    "castellanos": Vault(
        "Priya",
        "Castellanos",
        "priya.castellanos@example.net",
        ("(602) 555-0147", "(480) 555-0192"),
        "4410 N Oracle Rd",
        "Tucson",
        "AZ",
        "85705",
        "MC ending 4444",
        "1HGCM82633A004352",
        "7KDL392",
    ),
    "orourke": Vault(
        "Desmond",
        "O'Rourke",
        "d.orourke@example.org",
        ("(313) 555-0128",),
        "88 W. Lafayette Blvd Apt 3",
        "Detroit",
        "MI",
        "48226",
        "AMEX ending 1005",
        "1FTFW1ET9DFC10312",
        "MI DHK-2291",
    ),
    "vegatran": Vault(
        "Marisol",
        "Vega-Tran",
        "mvegatran@example.com",
        ("(210) 555-0163",),
        "1502 Cedar Ridge Dr",
        "San Antonio",
        "TX",
        "78209",
        "DISCOVER ending 1117",
        "2T3W1RFV7MW123987",
        "TX LMN4412",
    ),
    "hargrove": Vault(
        "Wen-Li",
        "Hargrove",
        "wl.hargrove@example.net",
        ("(503) 555-0119", "(503) 555-0175"),
        "731 SE Alder Ct",
        "Portland",
        "OR",
        "97214",
        "Cash",
        "JTDKARFU2K3076521",
        "OR 482 KZT",
    ),
    "whitcombe": Vault(
        "Tobias",
        "Whitcombe",
        "toby.w@example.org",
        ("(404) 555-0136",),
        "20 Peachtree Pl NE",
        "Atlanta",
        "GA",
        "30309",
        "VISA ending 0019",
        "1C4RJFBG3EC456789",
        "GA RVN 7710",
    ),
}

# --------------------------------------------------------------------------------------------
# Hand-written notes: (vault key, text, [(kind, label)], [keep])
# --------------------------------------------------------------------------------------------

HandNote = tuple[str, str, list[tuple[str, str]], list[str]]

HAND_NOTES: Final[list[HandNote]] = [
    (
        "blake",
        "Spoke w/ MR. BLAKE, he ok'd LOF-SYN + MPI. call back ph 5552017781 when done",
        [("customer_name", "BLAKE"), ("phone", "5552017781")],
        ["LOF-SYN", "MPI"],
    ),
    (
        "blake",
        "txt'd pics to +1 555 201 7781, cust approved rotors 43512-06190 @ $74.25 ea, "
        "pads 04465-06200",
        [("phone", "+1 555 201 7781")],
        ["43512-06190", "$74.25", "04465-06200"],
    ),
    (
        "blake",
        "vin on door jamb reads 4t1b11hkx ju123456, matches RO# 102934. P0420 P0430 both stored",
        [("vin", "4t1b11hkx ju123456")],
        ["RO# 102934", "P0420", "P0430"],
    ),
    (
        "blake",
        "Emailed revised est to JBLAKE@EXAMPLE.COM. Cust to reply by 2024-03-04 17:00.",
        [("email", "JBLAKE@EXAMPLE.COM")],
        ["2024-03-04", "17:00"],
    ),
    (
        "castellanos",
        "Castellanos's Accord in bay 4 w/ misfire P0301 + P0302, swapped coils 30520-5A2-A01 "
        "cyl 1->3, miss followed coil",
        [("customer_name", "Castellanos")],
        ["P0301", "P0302", "30520-5A2-A01"],
    ),
    (
        "castellanos",
        "called cust 480.555.0192 no ans LVM; tried (602) 555 0147 reached, approved DIAG-CEL "
        "1.0 hr",
        [("phone", "480.555.0192"), ("phone", "(602) 555 0147")],
        ["DIAG-CEL"],
    ),
    (
        "castellanos",
        "plate 7-KDL-392 matches reg, cust says same car as RO 48211",
        [("license_plate", "7-KDL-392")],
        ["RO 48211"],
    ),
    (
        "castellanos",
        "cust lives @ 4410 n oracle rd. wants veh dropped off after 5:30pm, LOF-CONV + TIRE-ROT "
        "done",
        [("address", "4410 n oracle rd")],
        ["5:30pm", "LOF-CONV", "TIRE-ROT"],
    ),
    (
        "blake",
        "Replaced oil filter 90915-YZZD1, 5.0 qt 0W-20, reset OLM. Next due 66,234 mi. op "
        "LOF-SYN, $89.95",
        [],
        ["90915-YZZD1", "0W-20", "66,234 mi", "LOF-SYN"],
    ),
    (
        "orourke",
        "EPC pick list 0446506200BRF1478 printed + 43512061900446506, pulled MGD1324 from stock",
        [],
        ["0446506200BRF1478", "43512061900446506", "MGD1324"],
    ),
    (
        "vegatran",
        "Dorman part 1234567890 backordered, ETA 2024-03-09, used OE 68191349AA instead",
        [],
        ["1234567890", "2024-03-09", "68191349AA"],
    ),
    (
        "hargrove",
        "performed recall 24V-123 op RCL-24V123, no charge. U0100 lost comm w/ ECM cleared after "
        "reflash",
        [],
        ["24V-123", "RCL-24V123", "U0100"],
    ),
    (
        "whitcombe",
        "C0035 LF WSS open, B1318 batt volt low. battery 650 CCA tested 410 CCA, replaced w/ H6 "
        "AGM BATT-RPL",
        [],
        ["C0035", "B1318", "650 CCA", "410 CCA"],
    ),
    (
        "castellanos",
        "2024-03-02 rotated 225/45R17 tires, torqued lugs 80 ft-lb, rotor runout 0.004 in, rear "
        "pads 3 mm, tread 3/32 RR. in 07:45 out 09:10",
        [],
        ["2024-03-02", "225/45R17", "80 ft-lb", "0.004 in"],
    ),
    (
        "whitcombe",
        "cust (Mr. Whitcombe) read card 4111-1111-1111-1111 over phone for $250.00 deposit. DO "
        "NOT put card #s in notes!!",
        [("customer_name", "Whitcombe"), ("card_number", "4111-1111-1111-1111")],
        ["$250.00"],
    ),
    (
        "whitcombe",
        "Amex 3782 822463 10005 given for 2nd RO (BRK-RR-PR), this RO paid w/ visa ending 0019",
        [("card_number", "3782 822463 10005"), ("payment", "0019")],
        ["BRK-RR-PR"],
    ),
    (
        "orourke",
        "also owns 2nd veh 1HGCM82633A004352 wants quote for timing belt 14400-RCA-A01",
        [("vin", "1HGCM82633A004352")],
        ["14400-RCA-A01"],
    ),
    (
        "vegatran",
        "Ms. VEGA TRAN asked us to call her husband's cell 520-555-0186 when done, P0171 lean B1",
        [("customer_name", "VEGA TRAN"), ("phone", "520-555-0186")],
        ["P0171"],
    ),
    (
        "hargrove",
        "loaner veh tag 8HJK223 given to cust 09:30, fuel 3/4",
        [("license_plate", "8HJK223")],
        ["09:30"],
    ),
    (
        "hargrove",
        "rental returned lic# CWX-4410, no damage. Cust paid cash $612.40",
        [("license_plate", "CWX-4410")],
        ["$612.40"],
    ),
    (
        "hargrove",
        "fleet acct, MPI-STD done - send invoice to AP@EXAMPLE.ORG and cc wl.hargrove@example.net",
        [("email", "AP@EXAMPLE.ORG"), ("email", "wl.hargrove@example.net")],
        ["MPI-STD"],
    ),
    (
        "orourke",
        "VIN 1FTFW-1ET9D-FC10312 verified, recall 23V-456 not applicable to this build",
        [("vin", "1FTFW-1ET9D-FC10312")],
        ["23V-456"],
    ),
    (
        "orourke",
        "desmond orourke dropped off 7am, key in box. MI DHK-2291, 2013 F-150 w/ 132,118 mi",
        [("customer_name", "desmond orourke"), ("license_plate", "MI DHK-2291")],
        ["2013 F-150", "132,118 mi"],
    ),
    (
        "orourke",
        "Mr O'Rourke wants pickup at 88 W. Lafayette Blvd Apt 3, shuttle leaves 3:15",
        [("customer_name", "O'Rourke"), ("address", "88 W. Lafayette Blvd Apt 3")],
        ["3:15"],
    ),
    (
        "vegatran",
        "cust marisol vega-tran 2105550163 mvegatran@example.com wants text updates on ALIGN-4W, "
        "TX LMN4412 in row C",
        [
            ("customer_name", "marisol vega-tran"),
            ("phone", "2105550163"),
            ("email", "mvegatran@example.com"),
            ("license_plate", "TX LMN4412"),
        ],
        ["ALIGN-4W"],
    ),
    (
        "vegatran",
        "1-210-555-0163 is cust cell (home # disconnected). Quoted $1,204.37 for struts "
        "48510-80448 x2",
        [("phone", "1-210-555-0163")],
        ["$1,204.37", "48510-80448"],
    ),
    (
        "vegatran",
        "Cust on file: VEGA-TRAN, MARISOL. Disc ending 1117 declined at 10:42, ran again OK",
        [("customer_name", "VEGA-TRAN, MARISOL"), ("payment", "1117")],
        ["10:42"],
    ),
    (
        "blake",
        "ph (555)201-7781 - cust says squeal only in reverse, cold AM. P0128 also, thermostat "
        "90916-03129",
        [("phone", "(555)201-7781")],
        ["P0128", "90916-03129"],
    ),
    (
        "blake",
        "est for DIAG-CEL emailed to Jblake@Example.com, bounced?? resent to jblake@ example.com, "
        "cust confirmed",
        [("email", "Jblake@Example.com"), ("email", "jblake@ example.com")],
        ["DIAG-CEL"],
    ),
    (
        "hargrove",
        "Hargrove veh, cust cell (503) 555-0175, home 503 555 0119. OR 482 KZT. AC-EVAC + "
        "recharge 1.2 lb R-1234yf",
        [
            ("customer_name", "Hargrove"),
            ("phone", "(503) 555-0175"),
            ("phone", "503 555 0119"),
            ("license_plate", "OR 482 KZT"),
        ],
        ["AC-EVAC", "R-1234yf"],
    ),
    (
        "hargrove",
        "plate reads 482KZT (no space) - matches. WEN-LI HARGROVE signed auth 2024-03-02",
        [("license_plate", "482KZT"), ("customer_name", "WEN-LI HARGROVE")],
        ["2024-03-02"],
    ),
    (
        "whitcombe",
        "advisor tag T112. cust toby.w@EXAMPLE.org wants copy of MPI, tires 245/60R18 at 4/32",
        [("email", "toby.w@EXAMPLE.org")],
        ["T112", "245/60R18", "4/32"],
    ),
    (
        "whitcombe",
        "GA RVN 7710 / vin 1c4rjfbg3ec456789 - Mr Whitcombe's Cherokee, P0456 small evap leak, "
        "smoke test found purge valve 04891732AC",
        [
            ("license_plate", "GA RVN 7710"),
            ("vin", "1c4rjfbg3ec456789"),
            ("customer_name", "Whitcombe"),
        ],
        ["P0456", "04891732AC"],
    ),
    (
        "whitcombe",
        "pickup addr 20 peachtree pl ne, cust wants call 404.555.0136 before driver leaves 2:45pm",
        [("address", "20 peachtree pl ne"), ("phone", "404.555.0136")],
        ["2:45pm"],
    ),
    (
        "castellanos",
        "Bosch pads 0 986 494 104 vs OE 45022-TBA-A01, cust chose OE. torque caliper brkt 80 ft-lb",
        [],
        ["0 986 494 104", "45022-TBA-A01", "80 ft-lb"],
    ),
    (
        "blake",
        "carfax shows vin 3VWDB7AJ8HM334455 - NOT this veh, verify w/ cust; son's # 602-555-0177, "
        "see RO# 48211 history",
        [("vin", "3VWDB7AJ8HM334455"), ("phone", "602-555-0177")],
        ["RO# 48211"],
    ),
    (
        "blake",
        "paid $491.05 visa ending 4242, cust Jordan  Blake signed",
        [("payment", "4242"), ("customer_name", "Jordan  Blake")],
        ["$491.05"],
    ),
    (
        "vegatran",
        "tag LMN-4412 TX verified @ 11:05, Ms Vega-Tran in lobby",
        [("license_plate", "LMN-4412"), ("customer_name", "Vega-Tran")],
        ["11:05"],
    ),
    (
        "orourke",
        "in 61234 out 61240, P0300 random misfire, plugs 9091901275 (no dash) x6 op SPK-PLG",
        [],
        ["61240", "P0300", "9091901275", "SPK-PLG"],
    ),
    (
        "castellanos",
        "deposit $100.00 on card 5500 0000 0000 0004, bal due at pickup. Priya Castellanos to sign",
        [("card_number", "5500 0000 0000 0004"), ("customer_name", "Priya Castellanos")],
        ["$100.00"],
    ),
    (
        "castellanos",
        "PRIYA.CASTELLANOS@EXAMPLE.NET wants all future ests by email; mc ending 4444 on file for "
        "BRK-FR-PR",
        [("email", "PRIYA.CASTELLANOS@EXAMPLE.NET"), ("payment", "4444")],
        ["BRK-FR-PR"],
    ),
    (
        "hargrove",
        "clocked on 08:02 off 09:47 (1.75 hr, flat 1.8 per op BRK-FR-PR). rotor min 26.0 mm, "
        "measured 26.4 mm",
        [],
        ["08:02", "09:47", "BRK-FR-PR", "26.4 mm"],
    ),
    (
        "orourke",
        "per tow co. (ph +1 (313) 555-0190) veh dropped 6:10am, no keys",
        [("phone", "+1 (313) 555-0190")],
        ["6:10am"],
    ),
    (
        "whitcombe",
        "cust's company card 4222222222222 for fleet billing, LOF-SYN every 5k",
        [("card_number", "4222222222222")],
        ["LOF-SYN"],
    ),
    (
        "blake",
        "Blake, Jordan - 12 ELM ST - wants call at 555-201-7781 before any add'l work over $300.00",
        [
            ("customer_name", "Blake, Jordan"),
            ("address", "12 ELM ST"),
            ("phone", "555-201-7781"),
        ],
        ["$300.00"],
    ),
    (
        "blake",
        "AZ-BXR4471 in lot row 2. VIN 4T1 B11HKX JU123456 per reg, cust Jordan Blake waiting",
        [
            ("license_plate", "AZ-BXR4471"),
            ("vin", "4T1 B11HKX JU123456"),
            ("customer_name", "Jordan Blake"),
        ],
        [],
    ),
    (
        "castellanos",
        "cc x4444 auth $1,880.00; cust priya castellanos ok w/ ETA 2024-03-11 on 51350-TBA-A03",
        [("payment", "4444"), ("customer_name", "priya castellanos")],
        ["$1,880.00", "2024-03-11", "51350-TBA-A03"],
    ),
]

# --------------------------------------------------------------------------------------------
# Random vault values
# --------------------------------------------------------------------------------------------

FIRST_NAMES: Final = words(
    "Jordan, Priya, Desmond, Marisol, Tobias, Keiko, Rashid, Elena, Dmitri, Imani, Callum, "
    "Beatriz, Anders, Yusuf, Ngozi, Lorenzo, Saoirse, Thaddeus, Ingrid, Mateo, Farah, "
    "Quentin, Odalys, Hiroshi, Zainab, Bram, Leticia, Anouk, Rafferty, Delphine, Kwame, "
    "Svetlana, Ignatius, Rosalind, Emeka, Paloma, Vikram, Greta, Alistair, Wen-Li, Mei-Ling, "
    "Jean-Luc, Aoife, Tariq"
)
LAST_NAMES: Final = words(
    "Blake, Castellanos, Okonkwo, Haverford, Lindqvist, Marchetti, Abernathy, Nakamura, "
    "Szymanski, Delacroix, Oyelaran, Pemberton, Vukovic, Thistlewood, Quintanilla, Ferreira, "
    "Kowalczyk, Achterberg, Balogun, Raghunathan, Whitcombe, Eriksen, Fairweather, Dunleavy, "
    "Holloway, Brannigan, Tsang-Ortiz, O'Sullivan, Van der Berg, McAllister, DeLuca, "
    "St. Clair, Vega-Tran, O'Rourke, Hargrove, Zelinski, Adeyemi, Castillo-Reyes"
)
CITIES: Final = (
    ("Tucson", "AZ", "857", ("520",)),
    ("Phoenix", "AZ", "850", ("602", "480", "623")),
    ("Mesa", "AZ", "852", ("480",)),
    ("Albuquerque", "NM", "871", ("505",)),
    ("El Paso", "TX", "799", ("915",)),
    ("San Antonio", "TX", "782", ("210", "726")),
    ("Austin", "TX", "787", ("512", "737")),
    ("Denver", "CO", "802", ("303", "720")),
    ("Boise", "ID", "837", ("208",)),
    ("Portland", "OR", "972", ("503", "971")),
    ("Sacramento", "CA", "958", ("916",)),
    ("Fresno", "CA", "937", ("559",)),
    ("Reno", "NV", "895", ("775",)),
    ("Columbus", "OH", "432", ("614",)),
    ("Detroit", "MI", "482", ("313",)),
    ("Grand Rapids", "MI", "495", ("616",)),
    ("Madison", "WI", "537", ("608",)),
    ("Raleigh", "NC", "276", ("919", "984")),
    ("Knoxville", "TN", "379", ("865",)),
    ("Atlanta", "GA", "303", ("404", "678")),
    ("Tampa", "FL", "336", ("813",)),
    ("Richmond", "VA", "232", ("804",)),
    ("Albany", "NY", "122", ("518",)),
    ("Spokane", "WA", "992", ("509",)),
)
STREET_NAMES: Final = words(
    "Elm, Oracle, Mesquite, Alder, Sycamore, Bluebonnet, Kestrel, Wren, Tamarack, Larkspur, "
    "Saguaro, Hawthorn, Birchwood, Osage, Magnolia, Whitfield, Ironwood, Juniper, Chickadee, "
    "Pinyon, Cottonwood, Lafayette, Peachtree, Heron, Marigold, Cedar Ridge, Juniper Hollow, "
    "Harbor View, Quail Run, Prairie Wind"
)
STREET_SUFFIXES: Final = ("St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Pl", "Way", "Pkwy", "Cir")
DIRECTIONS: Final = ("N", "S", "E", "W", "NE", "SW", "W.", "N.")
UNITS: Final = ("Apt 4B", "Apt 12", "Unit 7", "#210", "Apt 3")
WMIS: Final = words(
    "4T1, 1HG, 1FT, 2T3, 5YJ, 1G1, 3VW, JTD, KM8, 1C4, 1N4, 5NP, 2HG, 1GC, WBA, JN8, 4S4, "
    "3GN, 1FM, 5FN, 2GN, 3FA"
)
PLATE_LETTERS: Final = "ABCDEFGHJKLMNPRSTUVWXYZ"
CARD_BRANDS: Final = ("VISA", "Visa", "MC", "Mastercard", "AMEX", "DISCOVER")
OTHER_EMAIL_LOCALS: Final = words(
    "ap, fleet.ops, claims, service.desk, billing, t.nguyen, r.abara, fleetmgr, k.osei, "
    "adjuster.west, m.farouk, dispatch"
)
TEST_CARDS: Final = words(
    "4111111111111111, 4242424242424242, 4012888888881881, 5555555555554444, "
    "5105105105105100, 5500000000000004, 378282246310005, 371449635398431, 6011111111111117, "
    "6011000990139424, 4222222222222"
)


def rand_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def rand_letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PLATE_LETTERS) for _ in range(n))


def make_vin(rng: random.Random) -> str:
    body = (
        rng.choice(WMIS)
        + "".join(rng.choice(VIN_ALPHABET) for _ in range(5))
        + "0"
        + rng.choice("BCDEFGHJKLMNPRS")  # model years 2011-2025
        + rng.choice(VIN_ALPHABET)
        + rand_digits(rng, 6)
    )
    return body[:8] + vin_check_char(body) + body[9:]


def make_phone_digits(rng: random.Random, area_codes: Sequence[str]) -> str:
    area = "555" if rng.random() < 0.08 else rng.choice(area_codes)
    if rng.random() < 0.7:
        return f"{area}55501{rng.randint(0, 99):02d}"
    while True:
        exch = str(rng.randint(200, 999))
        if exch[1:] != "11" and exch != "555":
            return area + exch + rand_digits(rng, 4)


PHONE_STYLES: Final = (
    "paren",
    "dash",
    "dot",
    "plain",
    "plus1_space",
    "one_dash",
    "paren_tight",
    "space",
    "plus1_paren",
    "plus1_dash",
)


def fmt_phone(d: str, style: str) -> str:
    a, e, n = d[:3], d[3:6], d[6:]
    formats = {
        "paren": f"({a}) {e}-{n}",
        "dash": f"{a}-{e}-{n}",
        "dot": f"{a}.{e}.{n}",
        "plain": f"{a}{e}{n}",
        "plus1_space": f"+1 {a} {e} {n}",
        "one_dash": f"1-{a}-{e}-{n}",
        "paren_tight": f"({a}){e}-{n}",
        "space": f"{a} {e} {n}",
        "plus1_paren": f"+1 ({a}) {e}-{n}",
        "plus1_dash": f"+1-{a}-{e}-{n}",
    }
    return formats[style]


def make_plate_core(rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return rand_letters(rng, 3) + rand_digits(rng, 4)
    if style == 1:
        return str(rng.randint(1, 9)) + rand_letters(rng, 3) + rand_digits(rng, 3)
    if style == 2:
        return rand_letters(rng, 3) + "-" + rand_digits(rng, 4)
    if style == 3:
        return rand_digits(rng, 3) + " " + rand_letters(rng, 3)
    return rand_letters(rng, 3) + " " + rand_digits(rng, 4)


def make_card_digits(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return rng.choice(TEST_CARDS)
    prefix, length = rng.choice(
        (("4", 16), ("4", 16), ("5" + str(rng.randint(1, 5)), 16), ("37", 15), ("34", 15)),
    )
    if rng.random() < 0.12:
        prefix, length = rng.choice((("6011", 16), ("4", 19), ("4", 13)))
    body = prefix + rand_digits(rng, length - len(prefix) - 1)
    return luhn_complete(body)


def fmt_card(rng: random.Random, d: str) -> str:
    sep = rng.choice((" ", " ", "-", ""))
    if len(d) == 15:
        groups = [d[:4], d[4:10], d[10:]]
    elif len(d) == 16:
        groups = [d[i : i + 4] for i in range(0, 16, 4)]
    elif len(d) == 19:
        groups = [d[i : i + 4] for i in range(0, 19, 4)]
    else:
        groups = [d]
    return sep.join(groups)


def make_vault(rng: random.Random) -> Vault:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    city, state, zip3, areas = rng.choice(CITIES)
    f_alnum = re.sub(r"[^a-z]", "", first.lower())
    l_alnum = re.sub(r"[^a-z]", "", last.lower())
    local = rng.choice(
        (
            f"{f_alnum[0]}{l_alnum}",
            f"{f_alnum}.{l_alnum}",
            f"{l_alnum}{f_alnum[0]}",
            f"{f_alnum}{rng.randint(2, 99)}",
            f"{f_alnum}_{l_alnum[:4]}",
            f"{f_alnum[0]}.{l_alnum}{rng.randint(1, 9)}",
        )
    )
    email = f"{local}@example.{rng.choice(('com', 'com', 'net', 'org'))}"
    n_phones = 2 if rng.random() < 0.3 else 1
    phone_digits: list[str] = []
    while len(phone_digits) < n_phones:
        d = make_phone_digits(rng, areas)
        if d not in phone_digits:
            phone_digits.append(d)
    phones = tuple(fmt_phone(d, rng.choice(("paren", "paren", "dash"))) for d in phone_digits)
    parts = [
        str(rng.choice((rng.randint(1, 99), rng.randint(100, 9999), rng.randint(1000, 39999))))
    ]
    if rng.random() < 0.35:
        parts.append(rng.choice(DIRECTIONS))
    parts += [rng.choice(STREET_NAMES), rng.choice(STREET_SUFFIXES)]
    if rng.random() < 0.2:
        parts.append(rng.choice(UNITS))
    street = " ".join(parts)
    if rng.random() < 0.15:
        payment = rng.choice(("Cash", "Check", "Fleet account"))
    else:
        last4 = rand_digits(rng, 4)
        payment = f"{rng.choice(CARD_BRANDS)} ending {last4}"
    core = make_plate_core(rng)
    bare = (state == "CA" and core[0].isdigit()) or rng.random() < 0.2
    plate = core if bare else f"{state} {core}"
    return Vault(
        first=first,
        last=last,
        email=email,
        phones=phones,
        street=street,
        city=city,
        state=state,
        zip=zip3 + rand_digits(rng, 2),
        payment_method=payment,
        vin=make_vin(rng),
        license_plate=plate,
    )


# --------------------------------------------------------------------------------------------
# Values that must survive
# --------------------------------------------------------------------------------------------

DTCS: Final = words(
    "P0420, P0430, P0300, P0301, P0302, P0303, P0304, P0171, P0174, P0128, P0442, P0455, "
    "P0456, P0700, P0715, P2135, P0011, P0016, P0505, P0401, U0100, U0121, U0140, C0035, "
    "C0040, C1201, B1318, B0100, P0562, P0113"
)
PARTS: Final = words(
    "04465-06200, 90915-YZZD1, 43512-06190, 04152-YZZA1, 17801-0V020, 90919-01275, "
    "15400-PLM-A02, 45022-TBA-A01, 17220-5PA-A00, 12345-ABC-A01, 68191349AA, 68507598AA, "
    "05083285AA, 04891732AC, BRF1478, MGD1324, ZD1210, PF63, BD1363, FL-500S, FA-1884, "
    "MKD1324, H6-AGM, 48-700, BP-1478, 31339RM, 23300-0V040, 51350-TBA-A03, 13602-28040, "
    "87139-07010, BRS-140, PGD1210C"
)
OP_CODES: Final = words(
    "BRK-FR-PR, BRK-RR-PR, LOF-SYN, LOF-CONV, DIAG-CEL, TIRE-ROT, ALIGN-4W, MPI-STD, "
    "BATT-RPL, AC-EVAC, CLNT-FLSH, TRANS-SVC, WIPER-RPL, SPK-PLG, BELT-SERP, DIAG-NOISE, "
    "STRUT-FR, CABIN-FLT, RCL-24V123"
)
MODELS: Final = words(
    "Camry, Accord, F-150, Silverado, CR-V, RAV4, Civic, Altima, Wrangler, Outback, Tacoma, "
    "Explorer, Equinox, Elantra, Jetta, Odyssey, Sienna, Tundra, Ram 1500, Escape"
)


def k_dtc(rng: random.Random) -> str:
    return rng.choice(DTCS)


def k_part(rng: random.Random) -> str:
    return rng.choice(PARTS)


def k_op(rng: random.Random) -> str:
    return rng.choice(OP_CODES)


def k_miles(rng: random.Random) -> str:
    n = rng.randint(8_000, 189_999)
    return rng.choice((f"{n:,} mi", f"{n:,} miles", f"{n} mi", f"{n:,}mi", f"{n // 1000}k mi"))


def k_torque(rng: random.Random) -> str:
    v = rng.choice((18, 22, 25, 35, 65, 76, 80, 100, 129, 140))
    return f"{v}{rng.choice((' ft-lb', ' ft-lbs', ' ft lbs', 'ft-lb', ' Nm'))}"


def k_tread(rng: random.Random) -> str:
    return rng.choice(("2/32", "3/32", "4/32", "5/32", "6/32", "7/32", "3 mm", "4mm"))


def k_runout(rng: random.Random) -> str:
    return rng.choice(("0.004 in", '0.002"', "0.003 in", "0.005 in", "0.06 mm", "0.08 mm"))


def k_pad(rng: random.Random) -> str:
    return rng.choice(("3 mm", "2mm", "4 mm", "7 mm", "9mm", "3/32"))


def k_tire(rng: random.Random) -> str:
    size = f"{rng.choice((205, 215, 225, 235, 245, 255, 265, 275))}/{rng.choice(range(40, 80, 5))}"
    size += f"R{rng.randint(15, 20)}"
    if rng.random() < 0.2:
        size = "P" + size
    if rng.random() < 0.2:
        size += f" {rng.randint(91, 116)}{rng.choice('HTV')}"
    return size


def k_price(rng: random.Random) -> str:
    return f"${rng.randint(900, 250_000) / 100:,.2f}"


def k_date(rng: random.Random) -> str:
    y, m, d = rng.randint(2022, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{y}-{m:02d}-{d:02d}", f"{m}/{d}/{y % 100}"))


def k_time(rng: random.Random) -> str:
    h, m = rng.randint(7, 18), rng.choice(range(0, 60, 5))
    if rng.random() < 0.5:
        return f"{h}:{m:02d}"
    suffix = "am" if h < 12 else "pm"
    if rng.random() < 0.2:
        suffix = suffix.upper()
    return f"{h - 12 if h > 12 else h}:{m:02d}{rng.choice(('', ' '))}{suffix}"


def k_cca(rng: random.Random) -> str:
    return f"{rng.choice(range(350, 860, 10))} CCA"


def k_veh(rng: random.Random) -> str:
    return f"{rng.randint(2008, 2024)} {rng.choice(MODELS)}"


def k_ro(rng: random.Random) -> str:
    n = rng.randint(40_000, 129_999)
    return rng.choice((f"RO# {n}", f"RO {n}", f"ro#{n}", f"RO#{n}", f"R.O. {n}"))


def k_campaign(rng: random.Random) -> str:
    return f"{rng.randint(19, 24)}V-{rng.randint(100, 899)}"


def k_fake17(rng: random.Random) -> str:
    """A 17-character parts-list string (parts numbers run together) that is not a valid VIN."""
    while True:
        s = ""
        while len(s) < 17:
            s += alnum_upper(rng.choice(PARTS))
        s = s[:17]
        if not vin_is_valid(s):
            return s


def k_catalog(rng: random.Random) -> str:
    """A 10-digit catalog number; starts with 0 or 1 so it is never a valid NANP number."""
    return rng.choice("01") + rand_digits(rng, 9)


def k_hours(rng: random.Random) -> str:
    return f"{rng.choice((0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8, 2.4, 3.1))} hr"


KEEP_SLOTS: Final[dict[str, Callable[[random.Random], str]]] = {
    "dtc": k_dtc,
    "part": k_part,
    "op": k_op,
    "miles": k_miles,
    "torque": k_torque,
    "tread": k_tread,
    "runout": k_runout,
    "pad": k_pad,
    "tire": k_tire,
    "price": k_price,
    "date": k_date,
    "time": k_time,
    "cca": k_cca,
    "veh": k_veh,
    "ro": k_ro,
    "campaign": k_campaign,
    "fake17": k_fake17,
    "catalog": k_catalog,
    "hours": k_hours,
}

FILLER_SLOTS: Final[dict[str, Callable[[random.Random], str]]] = {
    "qt": lambda r: r.choice(("4.4", "5.0", "5.7", "6", "8.0", "4.8")),
    "psi": lambda r: str(r.randint(22, 60)),
    "cyl": lambda r: str(r.randint(1, 8)),
    "bay": lambda r: str(r.randint(1, 14)),
    "trim": lambda r: str(r.randint(12, 28)),
    "gal": lambda r: r.choice(("1.5", "2", "2.5", "3")),
}

# --------------------------------------------------------------------------------------------
# Sentence fragments
# --------------------------------------------------------------------------------------------

TECH_FRAGMENTS: Final = (
    # complaint
    "cust states brake pedal pulsates at hwy speed",
    "c/s CEL on, scanned {dtc} {dtc}",
    "customer states noise from LF when turning, worse cold",
    "cs veh pulls right since new {tire} tires installed",
    "MPI: rear tires at {tread}, fronts at {tread}",
    "in for LOF + rotation at {miles}",
    "cust reports intermittent no start, batt tested {cca}",
    "A/C blowing warm, low side {psi} psi",
    "check engine light flashing under load, {=P0300|P0301|P0302|P0304|P0306} stored",
    "recall {campaign} open per NHTSA lookup",
    "veh towed in no crank, {=U0100|U0121|U0140|B1318} in BCM hist",
    "trans slipping 2-3 shift, {=P0700|P0715|P0730} hist",
    "cust req est for front brakes on {veh}",
    "ABS light on, {=C0035|C0040|C0045|C1201} LF WSS circuit",
    "oil leak at rear main per cust, {miles} on clock",
    "{veh} in for MPI, no concerns per cust",
    "c/s squeal from front brakes, worse in AM",
    # cause
    "found front rotors {runout} runout, pads at {pad}",
    "cat eff below thresh bank 1, {=P0420|P0430} confirmed after drive cycle",
    "coil #{cyl} failed, swapped coils and misfire followed",
    "lower ball joint play approx {runout}, boot torn",
    "serp belt cracked, tensioner weak",
    "battery terminal corroded, load test fail {cca}",
    "evap smoke test found leak at purge valve, {=P0442|P0455|P0456}",
    "found wheel bearing growl LR, {runout} endplay",
    "ECT sensor reading -40, {=P0117|P0118|P0128} set, connector green",
    "measured pads F {pad} R {pad}, rotors w/in spec",
    "tires cupped, toe out approx {=1/8 in|0.25 deg|3/16 in}",
    "ran {=DIAG-CEL|DIAG-NOISE} {hours}, pinpoint test found circuit open",
    "verified concern on road test, clunk over bumps at approx 25 mph",
    "found {dtc} and {dtc} pending, freeze frame at {miles}",
    "fuel trims +{trim}% at idle, {=P0171|P0174} lean, smoke test found intake leak",
    # correction
    "replaced front pads {=04465-06200|BRF1478|MKD1324|45022-TBA-A01|PGD1210C} and rotors "
    "{=43512-06190|BD1363|45251-TBA-A01} per op {=BRK-FR-PR}",
    "performed {=LOF-SYN|LOF-CONV}, {qt} qt 0W-20, filter {=90915-YZZD1|04152-YZZA1|"
    "15400-PLM-A02|FL-500S|PF63}, reset OLM",
    "R&R coil pack {=90919-02258|30520-5A2-A01|12611424}, cleared codes, road test ok",
    "torqued lugs to {torque}, caliper bolts {torque}",
    "installed battery {=H6-AGM|48-700|24F-700|94R-AGM} {cca}, charging sys ok",
    "mounted and balanced 4 {tire}, TPMS relearn",
    "performed {recall}, no charge",
    "replaced serp belt {=K060882|90916-02585|4PK1100} + tensioner {=38183|16620-0V010}, "
    "{price} parts",
    "4 wheel align op {=ALIGN-4W}, set toe to spec, printout in jacket",
    "flushed coolant op {=CLNT-FLSH}, {gal} gal 50/50",
    "rec replace rear tires {tire}, cust declined, {price} quoted",
    "parts per EPC string {fake17}, ordered from DC",
    "ordered {part} + {part}, ETA {date}",
    "road tested approx 10 mi, no further concerns, time out {time}",
    "declined {op} this visit, est {price}",
    "Dorman part {catalog} backordered, sub OE {part}",
    "ref {ro} prior repair, same concern",
    "wiper blades {=85222-06180|WB-22|BRS-140}, cabin filter {=87139-07010|CF10134|80292-TBA-A11}",
    "completed {op} {date} {time}",
    "next svc due {miles} or {date}",
    "used {part} per TSB, torque {torque}",
    "total {price} incl shop supplies, tech time {hours}",
    "see {ro} for prior brake job {date}",
    "bay {bay}, w/o {op} {hours}",
    "cleared {dtc}, monitors ready, no comeback as of {date}",
    "evac + recharge op {=AC-EVAC}, {=1.2 lb|1.45 lb|22 oz} R-1234yf, vent temp 41F",
    "replaced front struts {=48510-80448|72516|334669} pair, align rec, {price}",
)

VAULT_FRAGMENTS: Final = (
    "called {name} @ {vphone} for approval",
    "spoke w/ {hon} {last}, ok'd {op}",
    "LVM for cust at {vphone}",
    "sent est to {vemail}",
    "cust {name} waiting in lobby",
    "{name} dropped veh off after hrs, key in drop box",
    "cust addr {vstreet} for pickup/delivery",
    "pd {brand} ending {vpay}",
    "vin {vvin} verified on door jamb",
    "plate {vplate} matches reg",
    "{hon} {last} wants call back {vphone}",
    "emailed inv to {vemail} per cust req",
    "{hon} {last} says noise only when cold",
    "cust cell {vphone} wk {vphone2}",
    "verified VIN {vvin} + plate {vplate} at check in",
    "shuttle to {vstreet} at {time}",
    "card on file x{vpay}, auth {price}",
    "{name} declined {op}",
    "txt'd pics to {vphone}, cust approved {price}",
    "cust {last} aware of {dtc}, wants quote",
    "per {name} ({vemail}) do not exceed {price} w/o call",
    "{vplate_full} on dash card",
    "cust is {name}, ph {vphone}, email {vemail}",
    "vin# {vvin}",
    "tag {vplate}, cust {hon} {last}",
    "customer {name} at {vstreet} requests mobile svc",
    "pymt {brand} {vpay} declined, cust to call bank",
    "{hon} {last} approved by email {vemail}",
    "lic {vplate} / vin {vvin}",
    "called home # {vphone} no ans, tried cell {vphone2}",
    "RO under {name}, veh {vplate_full}",
    "{name}'s {veh} back for same noise",
    "deliver to {vstreet}, call {vphone} on arrival",
    "{last} - {vphone}",
    "cust pd {price} {brand} ending {vpay}, copy to {vemail}",
    "towed in on flatbed, {vplate_full}, VIN {vvin}",
)

DETECTOR_FRAGMENTS: Final = (
    "cust's spouse cell {ophone} for updates",
    "2nd veh vin {ovin} wants quote nxt wk",
    "cust read card {card} over phone for deposit",
    "loaner tag {oplate}",
    "rental returned, plate {oplate}",
    "cc invoice to fleet mgr {oemail}",
    "daughter picking up, her # {ophone}",
    "tow driver ph {ophone}",
    "warranty adjuster {oemail} req'd photos",
    "trailer vin {ovin} also on RO",
    "lic plt {oplate} on courtesy car",
    "carfax shows VIN {ovin} - not this veh, verify",
    "deposit on card {card}",
    "alt contact {ophone} / {oemail}",
    "veh w/ tag# {oplate} blocking bay door",
    "fleet card {card} on file for acct",
    "call son at {ophone} if cust unreachable",
    "dealer trade veh VIN {ovin} tag {oplate}",
    "send pics to body shop {oemail}",
    "license plate {oplate} on loaner #3",
)

SEPARATORS: Final = (". ", ". ", ", ", "; ", " - ", " / ", ".  ", ", ", " -- ")
HONORIFICS: Final = ("Mr.", "Mr", "Mrs.", "Ms.", "Ms", "MR", "mr.", "MRS")
SLOT_RE: Final = re.compile(r"\{(=[^{}]+|\w+)\}")


def slots_of(template: str) -> list[str]:
    return SLOT_RE.findall(template)


def spelling_variants(s: str) -> list[str]:
    """s with its punctuation or inner spaces dropped, or its hyphens turned into spaces."""
    out: list[str] = []
    for raw in (
        re.sub(r"['.]", "", s),
        s.replace("-", " "),
        re.sub(r"['.-]", "", s),
        re.sub(r"['. -]", "", s),
    ):
        v = " ".join(raw.split())
        if v != s and v not in out:
            out.append(v)
    return out


def plate_variants(core: str) -> list[str]:
    alnum = alnum_upper(core)
    groups = re.findall(r"[A-Z]+|[0-9]+", alnum)
    out = [core, core, alnum, " ".join(groups), "-".join(groups), core.lower(), alnum.lower()]
    return list(dict.fromkeys(out))


def vin_variants(vin: str) -> list[str]:
    v = vin
    return [
        v,
        v,
        v,
        v.lower(),
        f"{v[:3]} {v[3:9]} {v[9:]}",
        f"{v[:9]} {v[9:]}",
        f"{v[:4]} {v[4:8]} {v[8:12]} {v[12:]}",
        f"{v[:5]}-{v[5:10]}-{v[10:]}",
        f"{v[:3]} {v[3:9]} {v[9:]}".lower(),
    ]


def brand_variants(brand: str) -> list[str]:
    b = brand.upper()
    table = {
        "VISA": ["VISA", "visa", "Visa"],
        "MC": ["MC", "mc", "MasterCard", "mastercard"],
        "MASTERCARD": ["MC", "mc", "MasterCard", "mastercard"],
        "AMEX": ["AMEX", "Amex", "amex"],
        "DISCOVER": ["DISCOVER", "Discover", "disc"],
    }
    return table.get(b, [brand])


@dataclass
class Builder:
    """Fills fragment templates for one note, recording pii labels and keep items."""

    rng: random.Random
    vault: Vault
    pii: list[tuple[str, str]] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    used_phone: int | None = None

    def fill(self, template: str) -> str:
        return SLOT_RE.sub(lambda m: self.slot(m.group(1)), template)

    def _pii(self, kind: str, label: str, surface: str | None = None) -> str:
        self.pii.append((kind, label))
        return label if surface is None else surface

    def slot(self, name: str) -> str:
        rng, v = self.rng, self.vault
        if name.startswith("="):  # {=A|B}: one of the literal values, to keep
            value = rng.choice(name[1:].split("|"))
            self.keep.append(value)
            return value
        if name == "recall":
            campaign = k_campaign(rng)
            op = "RCL-" + campaign.replace("-", "")
            self.keep += [campaign, op]
            return f"recall {campaign} op {op}"
        if name in KEEP_SLOTS:
            value = KEEP_SLOTS[name](rng)
            self.keep.append(value)
            return value
        if name in FILLER_SLOTS:
            return FILLER_SLOTS[name](rng)
        if name == "hon":
            return rng.choice(HONORIFICS)
        if name == "brand":
            return rng.choice(brand_variants(v.card_brand or ""))
        if name == "name":
            full = v.name
            options = [full, full, full.upper(), full.lower(), f"{v.first}  {v.last}"]
            options += [f"{v.last}, {v.first}", f"{v.last}, {v.first}".upper()]
            options += [f"{v.first} {x}" for x in spelling_variants(v.last)]
            options += [f"{x} {v.last}" for x in spelling_variants(v.first)]
            return self._pii("customer_name", rng.choice(options))
        if name == "last":
            options = [v.last, v.last, v.last.upper(), v.last.lower(), *spelling_variants(v.last)]
            return self._pii("customer_name", rng.choice(options))
        if name in ("vphone", "vphone2"):
            if name == "vphone2" and self.used_phone is not None:
                idx = 1 - self.used_phone
            else:
                idx = rng.randrange(len(v.phones))
            self.used_phone = idx
            return self._pii("phone", fmt_phone(v.phone_digits[idx], rng.choice(PHONE_STYLES)))
        if name == "vemail":
            e = v.email
            label = rng.choice((e, e, e.upper(), e[0].upper() + e[1:]))
            surface = f"<{label}>" if rng.random() < 0.1 else label
            return self._pii("email", label, surface)
        if name == "vstreet":
            s = v.street
            options = [s, s, s.lower(), s.upper(), s.replace(".", ""), s.replace(" ", "  ", 1)]
            return self._pii("address", rng.choice(options))
        if name == "vpay":
            return self._pii("payment", v.card_last4 or "")
        if name == "vvin":
            return self._pii("vin", rng.choice(vin_variants(v.vin)))
        if name == "vplate":
            return self._pii("license_plate", rng.choice(plate_variants(v.plate_core)))
        if name == "vplate_full":
            st, core = v.plate_state or "", v.plate_core
            options = [f"{st} {core}", f"{st} {core}", f"{st}-{alnum_upper(core)}"]
            options += [f"{st} {core}".lower(), f"{st} {alnum_upper(core)}"]
            return self._pii("license_plate", rng.choice(options))
        if name == "ophone":
            while True:
                d = make_phone_digits(rng, rng.choice(CITIES)[3])
                if d not in v.phone_digits:
                    return self._pii("phone", fmt_phone(d, rng.choice(PHONE_STYLES)))
        if name == "oemail":
            e = f"{rng.choice(OTHER_EMAIL_LOCALS)}@example.{rng.choice(('com', 'net', 'org'))}"
            return self._pii("email", e.upper() if rng.random() < 0.15 else e)
        if name == "ovin":
            return self._pii("vin", make_vin(rng))
        if name == "card":
            return self._pii("card_number", fmt_card(rng, make_card_digits(rng)))
        if name == "oplate":
            while True:
                core = make_plate_core(rng)
                if alnum_upper(core) != alnum_upper(v.plate_core):
                    options = [p for p in plate_variants(core) if p == p.upper()]
                    return self._pii("license_plate", rng.choice(options))
        raise KeyError(name)


def applicable(template: str, vault: Vault) -> bool:
    names = slots_of(template)
    if ("vpay" in names or "brand" in names) and vault.card_last4 is None:
        return False
    if "vphone2" in names and len(vault.phones) < 2:
        return False
    return not ("vplate_full" in names and vault.plate_state is None)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

PLACEHOLDER: Final = "\x00"
EMAIL_RE: Final = re.compile(
    r"[A-Za-z0-9._%+-]+\s*@\s*[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
NANP_RE: Final = re.compile(
    r"(?<![\dA-Za-z])(?:\+?1[\s.-]?)?(?:\(\s*[2-9]\d\d\s*\)|[2-9]\d\d)"
    r"[\s.-]?[2-9]\d\d[\s.-]?\d{4}(?!\d)"
)
DIGIT_RUN_RE: Final = re.compile(r"\d+(?:[ -]\d+)*")


@dataclass
class Note:
    vault: Vault
    text: str
    pii: list[tuple[str, str]]
    keep: list[str]
    source: str  # "hand" or "generated"

    def as_json(self, note_id: str) -> dict[str, Any]:
        return {
            "id": note_id,
            "text": self.text,
            "vault": self.vault.as_json(),
            "pii": [{"kind": k, "text": t} for k, t in self.pii],
            "keep": self.keep,
        }


def ideal_scrub(note: Note) -> str:
    out = note.text
    for label in sorted({t for _, t in note.pii}, key=len, reverse=True):
        out = out.replace(label, PLACEHOLDER)
    return out


def flexible(chars: str, sep: str) -> str:
    return sep.join(re.escape(c) for c in chars)


def from_vault(kind: str, label: str, v: Vault) -> bool:
    """Whether a label quotes the RO's own vault (else it is for the detectors)."""
    if kind in ("customer_name", "address", "payment"):
        return True
    if kind == "email":
        return re.sub(r"\s", "", label).lower() == v.email.lower()
    if kind == "phone":
        return digits_of(label)[-10:] in v.phone_digits
    if kind == "vin":
        return alnum_upper(label) == v.vin
    if kind == "license_plate":
        core = alnum_upper(label)
        return core in (alnum_upper(v.plate_core), alnum_upper(v.license_plate))
    return False


def category(note: Note) -> str:
    if not note.pii:
        return "none"
    flags = {from_vault(k, t, note.vault) for k, t in note.pii}
    if flags == {True}:
        return "vault"
    return "detector" if flags == {False} else "mixed"


def problems(note: Note) -> list[str]:
    v, text = note.vault, note.text
    errs: list[str] = []
    if not vin_is_valid(v.vin):
        errs.append(f"vault VIN {v.vin} fails check digit")
    for p in v.phones:
        if not NANP_RE.fullmatch(p):
            errs.append(f"vault phone {p} is not NANP")
    for kind, label in note.pii:
        if kind not in KINDS:
            errs.append(f"unknown kind {kind}")
        if not label or label not in text:
            errs.append(f"pii {label!r} not in text")
        if kind == "vin" and not vin_is_valid(alnum_upper(label)):
            errs.append(f"VIN label {label!r} fails check digit")
        if kind == "card_number" and not (
            13 <= len(digits_of(label)) <= 19 and luhn_ok(digits_of(label))
        ):
            errs.append(f"card label {label!r} fails Luhn")
        if kind == "payment" and label != v.card_last4:
            errs.append(f"payment label {label!r} is not the vault last 4")
        if kind == "phone" and not NANP_RE.fullmatch(label):
            errs.append(f"phone label {label!r} is not NANP")
        if kind == "email" and not EMAIL_RE.fullmatch(label):
            errs.append(f"email label {label!r} malformed")
    for item in note.keep:
        if item not in text:
            errs.append(f"keep {item!r} not in text")
        if v.zip in item or v.city.lower() in item.lower():
            errs.append(f"keep {item!r} contains a vault zip/city")
    scrubbed = ideal_scrub(note)
    low = scrubbed.lower()
    for item in note.keep:
        if item not in scrubbed:
            errs.append(f"keep {item!r} overlaps a pii label")
    for _, label in note.pii:
        if label.lower() in low:
            errs.append(f"pii {label!r} survives in another case")
    # No vault value may survive the ideal scrub.
    names = [v.first, v.last, *spelling_variants(v.last), *spelling_variants(v.first)]
    for n in names:
        if re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", scrubbed, re.IGNORECASE):
            errs.append(f"unlabelled name {n!r}")
    if v.email.lower() in re.sub(r"\s", "", low):
        errs.append("unlabelled vault email")
    for d in v.phone_digits:
        if re.search(r"(?<!\d)" + flexible(d, r"[\s().+-]*") + r"(?!\d)", scrubbed):
            errs.append(f"unlabelled vault phone {d}")
    if re.search(flexible(v.vin, r"[\s-]*"), scrubbed, re.IGNORECASE):
        errs.append("unlabelled vault VIN")
    plate_re = flexible(alnum_upper(v.plate_core), r"[\s-]?")
    plate = r"(?<![A-Za-z0-9])" + plate_re + r"(?![A-Za-z0-9])"
    if re.search(plate, scrubbed, re.IGNORECASE):
        errs.append("unlabelled vault plate")
    street = " ".join(re.sub(r"[^a-z0-9]", " ", v.street.lower()).split())
    if f" {street} " in " " + " ".join(re.sub(r"[^a-z0-9]", " ", low).split()) + " ":
        errs.append("unlabelled vault street")
    if v.card_last4 and re.search(rf"(?<!\d){v.card_last4}(?!\d)", scrubbed):
        errs.append("unlabelled card last 4")
    # Nothing a detector would rightly flag may survive either.
    if EMAIL_RE.search(scrubbed):
        errs.append("unlabelled email")
    m = NANP_RE.search(scrubbed)
    if m:
        errs.append(f"unlabelled phone-like {m.group(0)!r}")
    for tok in re.findall(r"[A-Za-z0-9]+", scrubbed):
        if len(tok) == 17 and vin_is_valid(tok):
            errs.append(f"unlabelled valid VIN {tok!r}")
    for run in DIGIT_RUN_RE.findall(scrubbed):
        groups = re.split(r"[ -]", run)
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                joined = "".join(groups[i:j])
                if 13 <= len(joined) <= 19 and luhn_ok(joined):
                    errs.append(f"unlabelled Luhn-valid digits {run!r}")
    return errs


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def join_pieces(rng: random.Random, pieces: list[str]) -> str:
    text = pieces[0]
    for piece in pieces[1:]:
        text += rng.choice(SEPARATORS) + piece
    if rng.random() < 0.4:
        text += "."
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return text


def generate_note(rng: random.Random, want: str) -> Note:
    """One templated note of category ``want`` (none, vault, mixed or detector)."""
    while True:
        vault = make_vault(rng)
        b = Builder(rng, vault)
        tech = rng.sample(TECH_FRAGMENTS, k=rng.choice((1, 2, 2, 2, 3)))
        frags: list[str] = []
        if want in ("vault", "mixed"):
            options = [t for t in VAULT_FRAGMENTS if applicable(t, vault)]
            frags += rng.sample(options, k=rng.choice((1, 2, 2, 3)))
        if want in ("detector", "mixed"):
            frags += rng.sample(DETECTOR_FRAGMENTS, k=rng.choice((1, 2, 2)))
        rng.shuffle(frags)
        pieces = [b.fill(t) for t in tech]
        for frag in frags:
            pieces.insert(rng.randint(0 if rng.random() < 0.3 else 1, len(pieces)), b.fill(frag))
        text = join_pieces(rng, pieces)
        pii, keep = b.pii, b.keep
        # Detector VINs and plates stay upper case; everything else may be typed in any case.
        detector_vin_or_plate = any(
            k in ("vin", "license_plate") and not from_vault(k, t, vault) for k, t in pii
        )
        style = rng.random()
        if style < 0.1:
            text, keep = text.upper(), [k.upper() for k in keep]
            pii = [(k, t.upper()) for k, t in pii]
        elif style < 0.25 and not detector_vin_or_plate:
            text, keep = text.lower(), [k.lower() for k in keep]
            pii = [(k, t.lower()) for k, t in pii]
        pii, keep = list(dict.fromkeys(pii)), list(dict.fromkeys(keep))
        if not keep or len(keep) > 5 or len(pii) > 5:
            continue
        note = Note(vault, text, pii, keep, "generated")
        if category(note) == want and not problems(note):
            return note


def hand_notes() -> list[Note]:
    notes = []
    for key, text, pii, keep in HAND_NOTES:
        note = Note(HAND_VAULTS[key], text, pii, keep, "hand")
        errs = problems(note)
        if errs:
            raise ValueError(f"hand-written note {text!r}: {errs}")
        notes.append(note)
    return notes


def build() -> list[Note]:
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
    notes = hand_notes()
    have = Counter(category(n) for n in notes)
    n_none = TARGET_NONE - have["none"]
    n_det = TARGET_DETECTOR - have["detector"]
    n_vault = TOTAL_NOTES - len(notes) - n_none - n_det
    wanted = ["none"] * n_none + ["detector"] * n_det
    n_mixed = n_vault // 5
    wanted += ["mixed"] * n_mixed + ["vault"] * (n_vault - n_mixed)
    rng.shuffle(wanted)
    notes += [generate_note(rng, w) for w in wanted]
    return notes


def summarize(notes: list[Note]) -> str:
    kinds = Counter(k for n in notes for k, _ in n.pii)
    cats = Counter(category(n) for n in notes)
    per_note = Counter(min(len(n.pii), 5) for n in notes)
    lines = [
        f"{len(notes)} notes ({sum(n.source == 'hand' for n in notes)} hand-written), "
        f"{sum(kinds.values())} pii labels, {sum(len(n.keep) for n in notes)} keep items",
        "categories: "
        + ", ".join(f"{c}={cats[c]}" for c in ("none", "vault", "mixed", "detector")),
        "pii by kind: " + ", ".join(f"{k}={kinds[k]}" for k in KINDS),
        "pii per note: " + ", ".join(f"{k}={per_note[k]}" for k in sorted(per_note)),
        f"templates: {len(TECH_FRAGMENTS)} tech, {len(VAULT_FRAGMENTS)} vault, "
        f"{len(DETECTOR_FRAGMENTS)} detector fragments",
    ]
    return "\n".join(lines)


def main() -> None:
    notes = build()
    for i, note in enumerate(notes):
        errs = problems(note)
        if errs:
            raise ValueError(f"note {i}: {errs}")
    with OUT_PATH.open("w", encoding="utf-8") as fh:
        for i, note in enumerate(notes, start=1):
            fh.write(json.dumps(note.as_json(f"n{i:04d}"), ensure_ascii=True) + "\n")
    print(f"wrote {OUT_PATH}")
    print(summarize(notes))


if __name__ == "__main__":
    main()
