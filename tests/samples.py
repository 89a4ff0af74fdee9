"""A canonical record (the one in ro-format.md) and variations of it."""

from __future__ import annotations

import copy
from typing import Any

from assistant.settings import Settings
from retrieval.embedders import LocalMiniLM, local_embedder

CUSTOMER: dict[str, Any] = {
    "name": "Jordan Blake",
    "email": "jblake@example.com",
    "phones": ["(555) 201-7781"],
    "address": {"street": "12 Elm St", "city": "Tucson", "state": "AZ", "zip": "85701"},
    "payment_method": "VISA ending 4242",
    "vin": "4T1B11HK5JU123456",
    "license_plate": "AZ BXR4471",
}

RECORD: dict[str, Any] = {
    "ro_number": "48211",
    "status": "closed",
    "opened_on": "2024-03-02",
    "closed_on": "2024-03-04",
    "advisor": {"name": "Dana Ruiz", "tag": "T112"},
    "vehicle": {
        "year": 2018,
        "make": "Toyota",
        "model": "Camry",
        "color": "Silver",
        "mileage_in": 61234,
        "mileage_out": 61240,
    },
    "customer": CUSTOMER,
    "lines": [
        {
            "line": "A",
            "status": "completed",
            "complaint": "Customer states brake pedal pulsates at highway speed. "
            "Jordan asked for a call at 555.201.7781 before work.",
            "cause": "Front rotors measured 0.004 in runout; pads at 3 mm. Plate BXR 4471 noted.",
            "correction": "Replaced front pads and rotors, road tested OK.",
            "labor": [
                {
                    "op_code": "BRK-FR-PR",
                    "description": "Replace front pads and rotors",
                    "technician": {"name": "Sam Ortiz", "code": "412"},
                    "hours": 1.8,
                    "amount": 216.00,
                    "pay_type": "customer",
                }
            ],
            "parts": [
                {
                    "part_number": "04465-06200",
                    "description": "Front brake pad set",
                    "quantity": 1,
                    "unit_price": 89.50,
                },
                {
                    "part_number": "43512-06190",
                    "description": "Front rotor",
                    "quantity": 2,
                    "unit_price": 74.25,
                },
            ],
        },
        {
            "line": "B",
            "status": "declined",
            "complaint": "Multi-point inspection: rear tires at 3/32.",
            "correction": "Recommended replacing both rear tires; customer declined.",
            "labor": [],
            "parts": [],
        },
    ],
    "totals": {
        "labor": 216.00,
        "parts": 238.00,
        "sublet": 0,
        "shop_supplies": 12.50,
        "hazardous": 3.00,
        "tax": 21.55,
        "discount": 0,
        "total_due": 491.05,
    },
    "dms_extra": {"kept": "in the sealed original only"},
}


def record(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(RECORD)
    out.update(changes)
    return out


def pii_values(customer: dict[str, Any]) -> list[str]:
    """Every plaintext PII string of a customer block (as the vault holds it)."""
    values: list[str] = []
    for key, value in customer.items():
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, list):
            values.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, dict) and key == "address":
            values.extend(v for k, v in value.items() if isinstance(v, str) and k != "state")
    return values


def local_model() -> LocalMiniLM:
    """The real local model (ONNX, exported by `make setup`), loaded once per process."""
    return local_embedder(Settings.from_env().model_path)
