import pytest

from gridchain.coordination.model import ChargingRequest, Slot
from gridchain.coordination.model.validate import load_json, parse_slots
from gridchain.errors import InputError

GOOD = '{"capacity_w": 10, "requests": [{"id": "a", "demand_w": 5, "soc_pm": 100, "tcc": 2}]}'


def error(text: str) -> str:
    with pytest.raises(InputError) as e:
        parse_slots(load_json(text))
    return str(e.value)


def test_good_slot_and_defaults():
    slots, is_array = parse_slots(load_json(GOOD))
    assert not is_array
    assert slots == [Slot(10, (ChargingRequest("a", 5, 100, 2, 0),), 500)]


def test_array_and_arrival_default_is_index():
    text = (
        '[{"capacity_w": 1, "beta1_pm": 0, "requests": [{"id": "x", "demand_w": 1, "soc_pm": 0, "tcc": 1},'
        '{"id": "y", "demand_w": 1, "soc_pm": 0, "tcc": 1, "arrival": 9}]}]'
    )
    slots, is_array = parse_slots(load_json(text))
    assert is_array and [r.arrival for r in slots[0].requests] == [0, 9] and slots[0].beta1_pm == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "input: malformed JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
        ('{"capacity_w": NaN, "requests": []}', "input: malformed JSON: NaN is not a JSON number"),
        ('{"capacity_w": 1, "capacity_w": 2, "requests": []}', "input: malformed JSON: duplicate key 'capacity_w'"),
        ("3", "expected an object, got int"),
        ('{"requests": []}', "capacity_w: missing"),
        ('{"capacity_w": -1, "requests": []}', "capacity_w: -1 is outside 0..18446744073709551615"),
        ('{"capacity_w": 1.5, "requests": []}', "capacity_w: 1.5 is not an integer"),
        ('{"capacity_w": "10", "requests": []}', 'capacity_w: "10" is not an integer'),
        ('{"capacity_w": true, "requests": []}', "capacity_w: true is not an integer"),
        ('{"capacity_w": 1, "requests": {}}', "requests: expected an array, got dict"),
        ('{"capacity_w": 1, "requests": [], "beta1_pm": 1001}', "beta1_pm: 1001 is outside 0..1000"),
        (
            '{"capacity_w": 1, "requests": [], "beta": 1}',
            "beta: unknown field (allowed: capacity_w, requests, beta1_pm)",
        ),
        ('{"capacity_w": 1, "requests": [7]}', "requests[0]: expected an object, got int"),
        (GOOD.replace('"soc_pm": 100', '"soc_pm": 1200'), "requests[0].soc_pm: 1200 is outside 0..999"),
        (GOOD.replace('"soc_pm": 100', '"soc_pm": -1'), "requests[0].soc_pm: -1 is outside 0..999"),
        (GOOD.replace('"demand_w": 5', '"demand_w": 0'), "requests[0].demand_w: 0 is outside 1..18446744073709551615"),
        (GOOD.replace('"tcc": 2', '"tcc": 0'), "requests[0].tcc: 0 is outside 1..4294967295"),
        (GOOD.replace('"id": "a"', '"id": ""'), 'requests[0].id: "" must have 1..64 characters'),
        (GOOD.replace('"id": "a"', '"id": 5'), "requests[0].id: 5 is not a string"),
        (GOOD.replace(', "tcc": 2', ""), "requests[0].tcc: missing"),
        (GOOD.replace('"tcc": 2', '"tcc": 2, "soc": 1'), "requests[0].soc: unknown field"),
        (GOOD.replace('"tcc": 2', '"tcc": 2, "arrival": -3'), "requests[0].arrival: -3 is outside"),
        (
            '{"capacity_w": 9, "requests": [{"id": "a", "demand_w": 1, "soc_pm": 0, "tcc": 1},'
            '{"id": "a", "demand_w": 2, "soc_pm": 0, "tcc": 1}]}',
            'requests[1].id: "a" is already the id of requests[0]',
        ),
        (f"[{GOOD}, 4]", "[1]: expected an object, got int"),
        (f"[{GOOD}, {GOOD.replace('100', '1000')}]", "[1].requests[0].soc_pm: 1000 is outside 0..999"),
    ],
)
def test_bad_input_names_the_place_and_value(text, message):
    assert error(text).startswith(message)


def test_remaining_energy_is_optional_and_checked():
    ok = GOOD.replace('"tcc": 2', '"tcc": 2, "remaining_w": 40')
    assert parse_slots(load_json(ok))[0][0].requests[0].remaining_w == 40
    assert error(GOOD.replace('"tcc": 2', '"tcc": 2, "remaining_w": 4')).startswith(
        "requests[0].remaining_w: 4 is outside 5.."
    )
    nulled = GOOD.replace('"tcc": 2', '"tcc": 2, "remaining_w": null')
    assert error(nulled) == "requests[0].remaining_w: null is not an integer"


def test_domain_types_validate_themselves():
    with pytest.raises(InputError, match="soc_pm: 1000 is outside 0..999"):
        ChargingRequest("a", 1, 1000, 1, 0)
    with pytest.raises(InputError, match="requests\\[0\\]"):
        Slot(1, ("not a request",))  # type: ignore[arg-type]
