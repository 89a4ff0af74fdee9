"""Parts, part numbers and prices, shaped so an estimator sees what a real shop's history shows.

Part numbers follow each manufacturer's real format (Toyota "04465-06200", Honda
"45022-TBA-A01", Motorcraft "BRF1478", Mopar "68052370AA"...) and are stable per model,
generation and part, as they are in a parts catalog; a shop buys either OEM or its usual
aftermarket brand. Prices are stable per model too, drift up with inflation and wobble a
few percent between orders, so the same job on the same car shows a believable spread.
"""

from __future__ import annotations

import functools
import random
import zlib
from dataclasses import dataclass
from datetime import date

from assistant.demo.vehicles import ModelSpec

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

FAMILIES = {
    "Toyota": "toyota",
    "Honda": "honda",
    "Nissan": "nissan",
    "Hyundai": "hyundai",
    "Kia": "hyundai",
    "Subaru": "subaru",
    "Mazda": "mazda",
    "Volkswagen": "vw",
    "Chevrolet": "gm",
    "GMC": "gm",
    "Ford": "ford",
    "Jeep": "mopar",
    "Ram": "mopar",
}
_OEM_PATTERNS = {
    "toyota": "{g}-#####",
    "honda": "{g}-@@@-@##",
    "nissan": "{g}-#@@#@",
    "hyundai": "{g}-@#@##",
    "subaru": "{g}@@##@",
    "mazda": "@@@#-##-##@",
    "vw": "#@#-###-###-@",
    "gm": "8#######",
    "mopar": "68######@@",
    "ford": "@@#Z-####-@",
}
_OIL_FILTERS = {
    "toyota": ("90915-YZZD1", "04152-YZZA1", "90915-YZZF2"),
    "honda": ("15400-PLM-A02",),
    "nissan": ("15208-65F0E", "15208-9E01A"),
    "hyundai": ("26300-35505", "26300-35504"),
    "subaru": ("15208AA15A", "15208AA170"),
    "mazda": ("PE01-14-302B", "L321-14-302"),
    "vw": ("06L115562B", "04E115561H"),
    "gm": ("PF63E", "PF48E", "PF64"),
    "ford": ("FL-500S", "FL-910S", "FL-820S"),
    "mopar": ("68191349AA", "MO-339"),
}
_ENGINE_OIL = {
    "toyota": "0W20",
    "honda": "0W20",
    "nissan": "0W20",
    "hyundai": "5W30",
    "subaru": "0W20",
    "mazda": "0W20",
    "vw": "5W40",
    "gm": "5W30",
    "ford": "5W20",
    "mopar": "5W20",
}


@dataclass(frozen=True, slots=True)
class PartKind:
    description: str
    price: float
    group: str
    motorcraft: str
    aftermarket: tuple[str, ...]
    chassis: bool = False


def _k(
    description: str,
    price: float,
    group: str,
    motorcraft: str = "",
    aftermarket: tuple[str, ...] = ("#####",),
    chassis: bool = False,
) -> PartKind:
    return PartKind(description, price, group, motorcraft, aftermarket, chassis)


PART_KINDS: dict[str, PartKind] = {
    "front_pads": _k("Front brake pad set", 68, "04465", "BRF", ("MGD####", "ACT####"), True),
    "rear_pads": _k("Rear brake pad set", 58, "04466", "BRF", ("MGD####", "ACT####"), True),
    "front_rotor": _k("Front brake rotor", 72, "43512", "BRRF", ("980###R", "BR#####"), True),
    "rear_rotor": _k("Rear brake rotor", 64, "42431", "BRRF", ("980###R", "BR#####"), True),
    "air_filter": _k("Engine air filter", 24, "17801", "FA-", ("CA#####", "A####C")),
    "cabin_filter": _k("Cabin air filter", 28, "87139", "FP-", ("CF#####", "C####")),
    "wiper_blade": _k("Wiper blade", 19, "85222", "WW-", ("##-###",)),
    "spark_plug": _k("Spark plug", 14, "90919", "SP-", ("#####",)),
    "ignition_coil": _k("Ignition coil", 78, "90919", "DG-", ("UF-###", "C-####")),
    "fuel_injector": _k("Fuel injector", 145, "23250", "CM-", ("FJ###",)),
    "thermostat": _k("Thermostat with gasket", 42, "16031", "RT-", ("TH####",)),
    "ect_sensor": _k("Coolant temperature sensor", 38, "89422", "DY-", ("TX###",)),
    "iat_sensor": _k("Intake air temperature sensor", 34, "89424", "DY-", ("AX###",)),
    "o2_sensor": _k("Oxygen sensor", 96, "89467", "DY-", ("234-####",)),
    "maf_sensor": _k("Mass air flow sensor", 168, "22204", "CX-", ("MF####",)),
    "vacuum_hose": _k("PCV / vacuum hose", 26, "12261"),
    "intake_gasket": _k("Intake manifold gasket set", 38, "17177", "", ("MS#####",)),
    "pcv_valve": _k("PCV valve", 16, "12204", "EV-", ("V###",)),
    "fuel_pump": _k("Fuel pump module", 365, "77020", "PFS-", ("E####M",)),
    "fuel_cap": _k("Fuel cap", 26, "77300", "FC-", ("GT###",)),
    "purge_valve": _k("EVAP purge valve", 68, "90910", "CX-", ("CP###",)),
    "vent_valve": _k("EVAP canister vent valve", 74, "77740", "CX-", ("CV###",)),
    "evap_hose": _k("EVAP hose", 32, "77404"),
    "evap_canister": _k("EVAP charcoal canister", 265, "77740", "", ("CP####",)),
    "catalytic_converter": _k("Catalytic converter, direct fit", 890, "25051"),
    "exhaust_gasket": _k("Exhaust flange gasket", 14, "90917"),
    "timing_chain_kit": _k("Timing chain kit", 465, "13506", "", ("TK####",)),
    "oil_control_valve": _k("Oil control valve (VVT solenoid)", 98, "15330", "", ("VVT###",)),
    "knock_sensor": _k("Knock sensor", 84, "89615", "DY-", ("KS###",)),
    "crank_sensor": _k("Crankshaft position sensor", 66, "90919", "DY-", ("PC###",)),
    "cam_sensor": _k("Camshaft position sensor", 58, "90919", "DY-", ("PC###",)),
    "speed_sensor": _k("Speed sensor", 62, "89413", "DU-", ("SC###",)),
    "range_sensor": _k("Transmission range sensor", 138, "84540", "", ("NS###",)),
    "pressure_sensor": _k("Transmission fluid pressure sensor", 96, "35250"),
    "fuel_level_sensor": _k("Fuel level sending unit", 178, "83320", "", ("LS####",)),
    "egr_valve": _k("EGR valve", 262, "25620", "CX-", ("EGV###",)),
    "throttle_body": _k("Electronic throttle body", 285, "22030", "", ("S20###",)),
    "wheel_speed_sensor": _k("ABS wheel speed sensor", 72, "89542", "BRAB-", ("ALS####",)),
    "battery": _k("Battery, AGM", 189, "28800", "BXT-", ("H6-AGM", "H7-AGM", "94R-AGM")),
    "alternator": _k("Alternator, remanufactured", 365, "27060", "GL-", ("210-####",)),
    "starter": _k("Starter motor", 295, "28100", "SA-", ("280-####",)),
    "fan_relay": _k("Cooling fan relay", 24, "90987", "", ("RY-###",)),
    "fan_motor": _k("Radiator cooling fan assembly", 235, "16363", "", ("###-###",)),
    "water_pump": _k("Water pump with gasket", 142, "16100", "PW-", ("AW####",)),
    "oil_pressure_sensor": _k("Oil pressure switch", 38, "83530", "", ("PS###",)),
    "brake_switch": _k("Brake light switch", 28, "84340", "", ("SLS###",)),
    "shift_solenoid": _k("Transmission shift solenoid", 128, "35210"),
    "clock_spring": _k("Clock spring (spiral cable)", 195, "84306", "", ("CSP###",)),
    "connector_pigtail": _k("Connector pigtail repair kit", 22, "82998", "", ("PT####",)),
    "sway_link": _k("Front sway bar end link", 42, "48820", "", ("K######",), True),
    "strut_assembly": _k("Complete front strut assembly", 178, "48510", "", ("172###",), True),
    "control_arm": _k("Lower control arm with ball joint", 132, "48068", "", ("RK######",), True),
    "hub_bearing": _k("Wheel hub bearing assembly", 168, "43550", "", ("HA######", "513###"), True),
    "engine_mount": _k("Engine mount", 118, "12361", "", ("A####",)),
    "headlamp_bulb": _k("Headlamp bulb", 22, "90981", "", ("H11LL", "9005XV")),
    "serpentine_belt": _k("Serpentine belt", 38, "90916", "JK-", ("K######",)),
    "ac_condenser": _k("A/C condenser", 245, "88460", "YJ-", ("CN####",)),
    "ac_compressor": _k("A/C compressor with clutch", 520, "88320", "YCC-", ("####NC",)),
    "airbag_module": _k("Airbag inflator module (recall)", 0, "73960"),
    "recall_kit": _k("Recall repair kit", 0, "04007"),
}

CONSUMABLES: dict[str, tuple[str, str, float]] = {
    "oil_0W20": ("OIL-0W20-SYN", "Full synthetic 0W-20 motor oil (qt)", 9.25),
    "oil_5W20": ("OIL-5W20-SYN", "Full synthetic 5W-20 motor oil (qt)", 9.25),
    "oil_5W30": ("OIL-5W30-SYN", "Full synthetic 5W-30 motor oil (qt)", 9.25),
    "oil_5W40": ("OIL-5W40-EURO", "Full synthetic 5W-40 motor oil, VW 502.00 (qt)", 11.5),
    "oil_conv": ("OIL-5W30-CONV", "Conventional 5W-30 motor oil (qt)", 6.25),
    "coolant": ("COOL-PG50-GAL", "Premixed 50/50 coolant (gal)", 24.5),
    "atf": ("ATF-FS-QT", "Full synthetic ATF (qt)", 11.5),
    "cvt_fluid": ("CVT-FLUID-QT", "CVT fluid (qt)", 14.0),
    "brake_fluid": ("BF-DOT3-32", "DOT 3 brake fluid (32 oz)", 14.5),
    "r134a": ("R134A-LB", "R-134a refrigerant (lb)", 28.0),
    "r1234yf": ("R1234YF-LB", "R-1234yf refrigerant (lb)", 95.0),
    "uv_dye": ("AC-UV-DYE", "A/C UV leak detection dye", 12.0),
    "maf_cleaner": ("CRC-05110", "MAF sensor cleaner", 11.5),
    "throttle_cleaner": ("CRC-05078", "Throttle body cleaner", 9.75),
    "tpms_kit": ("TPMS-20020", "TPMS valve service kit", 7.5),
}
_TIRES = (
    ("Michelin", "Defender2", "MIC", 1.35),
    ("Goodyear", "Assurance WeatherReady", "GY", 1.2),
    ("Bridgestone", "Turanza EverDrive", "BS", 1.25),
    ("BFGoodrich", "Advantage Control", "BFG", 1.1),
    ("Firestone", "WeatherGrip", "FS", 1.05),
    ("General", "AltiMAX RT45", "GEN", 0.95),
    ("Cooper", "Endeavor", "CTS", 0.95),
    ("Hankook", "Kinergy PT", "HK", 0.9),
)
_TRUCK_TREAD = {"Michelin": "Defender LTX M/S", "BFGoodrich": "Trail-Terrain T/A"}
_RIM_PRICE = {"16": 118.0, "17": 142.0, "18": 168.0, "20": 205.0}
_BODY_FACTOR = {"car": 1.0, "van": 1.1, "suv": 1.12, "truck": 1.25}


def _fill(pattern: str, seed: str) -> str:
    rnd = random.Random(zlib.crc32(seed.encode()))  # noqa: S311 - catalog numbers, not secrets
    out = []
    for c in pattern:
        if c == "#":
            out.append(str(rnd.randrange(10)))
        elif c == "@":
            out.append(rnd.choice(_LETTERS))
        else:
            out.append(c)
    return "".join(out)


@functools.cache
def part_number(kind: str, make: str, model: str, generation: int, oem: bool) -> str:
    """The catalog number a parts counter would quote for this part on this car."""
    family = FAMILIES[make]
    seed = f"{kind}|{make}|{model}|{generation}|{oem}"
    if kind == "oil_filter":
        if oem:
            choices = _OIL_FILTERS[family]
            return choices[zlib.crc32(seed.encode()) % len(choices)]
        return _fill(("XG####", "PH####", "WL#####")[zlib.crc32(seed.encode()) % 3], seed)
    spec = PART_KINDS[kind]
    if not oem:
        patterns = spec.aftermarket
        return _fill(patterns[zlib.crc32(seed.encode()) % len(patterns)], seed)
    if family == "ford" and spec.motorcraft:
        return _fill(spec.motorcraft + ("###" if len(spec.motorcraft) >= 4 else "####"), seed)
    return _fill(_OEM_PATTERNS[family].format(g=spec.group), seed)


def _list_factor(number: str) -> float:
    """Where a part number's list price sits around its kind's typical price."""
    return 0.9 + (zlib.crc32(number.encode()) % 300) / 1000


def inflation(when: date) -> float:
    return float(1.045 ** ((when.toordinal() - date(2019, 1, 1).toordinal()) / 365.25))


def unit_price(
    rng: random.Random, kind: str, number: str, spec: ModelSpec, when: date, *, oem: bool
) -> float:
    if kind == "oil_filter":
        base = 11.5 if oem else 9.0
    else:
        part = PART_KINDS[kind]
        base = part.price * (1.18 if oem else 1.0)
        if part.chassis:
            base *= _BODY_FACTOR[spec.body]
    price = base * _list_factor(number) * inflation(when) * rng.uniform(0.97, 1.04)
    return round(price, 2)


def consumable(rng: random.Random, key: str, when: date) -> tuple[str, str, float]:
    number, description, price = CONSUMABLES[key]
    return number, description, round(price * inflation(when) * rng.uniform(0.98, 1.03), 2)


def engine_oil(spec: ModelSpec, model_year: int) -> str:
    if model_year < 2011 and spec.make not in ("Toyota", "Honda"):
        return "oil_conv"
    return f"oil_{_ENGINE_OIL[FAMILIES[spec.make]]}"


def tire(
    rng: random.Random, brand_index: int, spec: ModelSpec, when: date
) -> tuple[str, str, float]:
    brand, line, code, tier = _TIRES[brand_index % len(_TIRES)]
    if spec.body == "truck":
        line = _TRUCK_TREAD.get(brand, line)
    rim = spec.tire_size.rsplit("R", 1)[1]
    number = _fill(f"{code}-#####", f"{brand}|{line}|{spec.tire_size}")
    base = _RIM_PRICE.get(rim, 150.0) * tier * (1.15 if spec.body == "truck" else 1.0)
    price = round(base * inflation(when) * rng.uniform(0.97, 1.03), 2)
    return number, f"{brand} {line} {spec.tire_size}", price


TIRE_BRANDS = len(_TIRES)
