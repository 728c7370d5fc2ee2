"""A Hypothesis state machine for the OCPP central system: two charge points (one of them hostile) send frames to
`CentralChargePoint.route_message` (an in-memory connection, one event loop for the whole run), drawn adversarially:
meter starts and stops over a range far beyond 64 bits, readings that are valid (Wh and kWh, exact), out of range,
negative, NaN, exponents of a million digits, floats of every kind, values repeated and contradicted on a few
timestamps and reading contexts (Transaction.End on a Sample.Clock second included), stops of unknown, foreign and
stopped transactions, replays of the last frame, and raw garbage frames.

A plain-dict model predicts every answer and the store: the first reading per (transaction, time, context, field)
kept, each contradiction, bad value, unknown or foreign transaction, repeated stop and reading after the stop one
anomaly, each sample that adds nothing one duplicate. After every step: the store equals the model, energy is never
negative, every CALL got exactly one answer with its id, and every CallError has an OCPP-J 1.6 code (never
InternalError)."""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from fractions import Fraction

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralChargePoint
from gridchain.ocpp.frames import MAX_NUMBER_CHARS
from gridchain.ocpp.messages.fields import iso_utc
from gridchain.ocpp.messages.meter_values import MAX_READING
from tests.ocpp.attackers import OCPP16_ERROR_CODES

TAG = "TAG-ALICE"
CPS = ("cp-alice", "cp-mallory")
T0 = 1_700_000_100 // 900 * 900
TIMES = [T0 + k * 450 for k in range(6)]  # few seconds: readings collide on purpose
CONTEXTS = ["Sample.Clock", "Sample.Periodic", "Transaction.End", "Transaction.Begin"]
SIGNED = ['{"kind":"session","n":1}', '{"kind":"session","n":2}']


def _float_reading(x: float) -> tuple[str, str, int | None]:
    """repr of a float as a Wh reading, with the value an independent oracle (Fraction) expects."""
    text = repr(x)
    if not math.isfinite(x):
        return text, "Wh", None
    exact = Fraction(text)
    return text, "Wh", (math.floor(exact) if 0 <= exact and math.floor(exact) <= MAX_READING else None)


FEW = st.sampled_from([("1000", "Wh", 1_000), ("1", "kWh", 1_000), ("2000", "Wh", 2_000), ("2.0004", "kWh", 2_000)])
READINGS = st.one_of(
    FEW,
    FEW,
    FEW,  # values that repeat and contradict each other on the few timestamps
    st.integers(0, MAX_READING).map(lambda n: (str(n), "Wh", n)),
    st.integers(0, MAX_READING).map(lambda n: (f"{n // 1000}.{n % 1000:03d}", "kWh", n)),
    st.integers(MAX_READING + 1, 2**256).map(lambda n: (str(n), "Wh", None)),
    st.integers(-(2**256), -1).map(lambda n: (str(n), "Wh", None)),
    st.floats(allow_nan=True, allow_infinity=True).map(_float_reading),
    st.sampled_from(
        [
            ("1e999999", "Wh", None),
            ("1e999999999", "kWh", None),
            ("NaN", "Wh", None),
            ("-0", "Wh", 0),
            ("1e-999999", "kWh", 0),
            (" 7", "Wh", None),
            ("7_0", "Wh", None),
            ("\u0667", "Wh", None),
            ("", "Wh", None),
            ("7", "varh", None),
            ("7", "kWh", 7_000),
        ]
    ),
)
WIDE_INTS = st.one_of(st.integers(0, 5_000), st.integers(0, 5_000), st.integers(-(2**70), 2**70))
GARBAGE = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40),
    st.sampled_from(
        [
            "[2]",
            '[2,"g"]',
            '[2,"g","Heartbeat",[]]',
            '[2,"g","FooBar",{}]',
            '[2,"g","Reset",{}]',
            '[3,"g",{}]',
            '[9,"g"]',
            '[2,"g","Heartbeat",{"x":NaN}]',
            '[2,"' + "g" * 37 + '","Heartbeat",{}]',
            "[" * 40,
            '[2,"g","Heartbeat",{',
        ]
    ),
)


class _Connection:
    """The central system's end of an in-memory link: what it sends is collected."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def recv(self) -> str:  # never read: frames are routed directly
        raise AssertionError("not used")


class CentralMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.backend = RecordingBackend([TAG])
        self.links = {cp: _Connection() for cp in CPS}
        self.cps = {cp: CentralChargePoint(cp, self.links[cp], self.backend, clock=lambda: T0) for cp in CPS}
        self.ids = 0
        self.last: tuple | None = None  # the last rule and its arguments, to replay
        # the model
        self.starts: dict[tuple, int] = {}  # (cp, meter start, time) -> transaction id
        self.txs: dict[int, dict] = {}  # id -> {cp, start_wh, stop: (meterStop, time, reason) | None, stop_wh}
        self.kept: dict[tuple, object] = {}  # (tx, time, context, field) -> the first reading
        self.anomalies: Counter = Counter()
        self.duplicates = 0

    def teardown(self) -> None:
        self.runner.close()

    # -- plumbing

    def send(self, cp: str, frame: str | bytes) -> list | None:
        link = self.links[cp]
        before = len(link.sent)
        self.runner.run(self.cps[cp].route_message(frame))
        answers = [json.loads(a) for a in link.sent[before:]]
        assert len(answers) <= 1, answers
        if answers and answers[0][0] == 4:
            assert answers[0][2] in OCPP16_ERROR_CODES and answers[0][2] != "InternalError", answers[0]
            event(f"CallError {answers[0][2]}")
        return answers[0] if answers else None

    def call(self, cp: str, action: str, payload: dict) -> list:
        self.ids += 1
        unique_id = f"m{self.ids}"
        answer = self.send(cp, json.dumps([2, unique_id, action, payload]))
        assert answer is not None and answer[1] == unique_id, answer
        return answer

    def merge(self, tx: int, t: int, context: str, readings: dict[str, object]) -> None:
        """The model of one sample arriving for a transaction known to its charge point."""
        stop = self.txs[tx]["stop"]
        if stop is not None and t > stop[1]:
            self.anomalies["after stop"] += 1
            event("reading after the stop")
            return
        added = clashed = False
        for name, value in readings.items():
            key = (tx, t, context, name)
            if key not in self.kept:
                self.kept[key], added = value, True
            elif self.kept[key] != value:
                clashed = True
        if clashed:
            self.anomalies["conflict"] += 1
        elif not added:
            self.duplicates += 1
        event("conflict" if clashed else "reading added" if added else "duplicate")

    @staticmethod
    def sampled_values(reading, signed: str | None, context: str) -> tuple[list[dict], dict[str, object]]:
        """The SampledValues of one reading and what the model expects the central system to keep of them (no
        register: a bad value)."""
        text, unit, expected = reading
        values = [{"value": text, "unit": unit, "context": context}]
        kept: dict[str, object] = {} if expected is None else {"register_wh": expected}
        if signed is not None:
            values.append({"value": signed, "format": "SignedData", "context": context})
            kept["signed_data"] = signed
        return values, kept

    def known(self, cp: str, tx: int) -> bool:
        return tx in self.txs and self.txs[tx]["cp"] == cp

    # -- rules

    @initialize()
    def each_charge_point_has_a_transaction(self):
        for cp in CPS:
            self.start(cp, 0, T0)

    @rule(cp=st.sampled_from(CPS), meter_start=WIDE_INTS, t=st.sampled_from(TIMES[:2]))
    def start(self, cp, meter_start, t):
        self.last = (self.start, cp, meter_start, t)
        payload = {"connectorId": 1, "idTag": TAG, "meterStart": meter_start, "timestamp": iso_utc(t)}
        answer = self.call(cp, "StartTransaction", payload)
        if len(str(meter_start)) > MAX_NUMBER_CHARS:
            assert answer[0] == 4 and answer[2] == "TypeConstraintViolation" and answer[3].startswith("meterStart: ")
            self.anomalies["call error"] += 1
            return
        assert answer[0] == 3
        if not 0 <= meter_start <= MAX_READING:
            assert answer[2] == {"transactionId": 0, "idTagInfo": {"status": "Invalid"}}
            self.anomalies["bad meter start"] += 1
            return
        key = (cp, meter_start, t)
        if key not in self.starts:
            self.starts[key] = len(self.txs) + 1
            self.txs[self.starts[key]] = {"cp": cp, "start_wh": meter_start, "stop": None, "stop_wh": None}
        assert answer[2] == {"transactionId": self.starts[key], "idTagInfo": {"status": "Accepted"}}

    def some_tx(self, data, cp: str) -> int:
        own = sorted(t for t in self.txs if self.txs[t]["cp"] == cp)
        others = sorted(t for t in self.txs if self.txs[t]["cp"] != cp)
        choices = [st.integers(1, 2**31)]
        if own:
            choices[:0] = [st.sampled_from(own)] * 3
        if others:
            choices.append(st.sampled_from(others))
        return data.draw(st.one_of(*choices), label="transactionId")

    @rule(
        data=st.data(),
        cp=st.sampled_from(CPS),
        t=st.sampled_from(TIMES),
        context=st.sampled_from(CONTEXTS),
        reading=READINGS,
        signed=st.none() | st.sampled_from(SIGNED),
    )
    def meter_values(self, data, cp, t, context, reading, signed):
        self.reading_frame(cp, self.some_tx(data, cp), t, context, reading, signed)

    def reading_frame(self, cp, tx, t, context, reading, signed):
        self.last = (self.reading_frame, cp, tx, t, context, reading, signed)
        values, kept = self.sampled_values(reading, signed, context)
        answer = self.call(
            cp,
            "MeterValues",
            {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": iso_utc(t), "sampledValue": values}]},
        )
        if "register_wh" not in kept:  # no reading at all: refused whole, naming the field; nothing stored
            assert answer[0] == 4 and answer[2] == "PropertyConstraintViolation", answer
            assert answer[3].startswith("meterValue[0].sampledValue[0]."), answer  # its value or its unit
            self.anomalies["bad value"] += 1
            self.anomalies["call error"] += 1
            return
        assert answer[0] == 3 and answer[2] == {}  # OCPP 1.6 §4.7: answered whatever the checks of readings find
        if not self.known(cp, tx):
            self.anomalies["unknown transaction"] += 1
            return
        self.merge(tx, t, context, kept)

    @rule(
        data=st.data(),
        cp=st.sampled_from(CPS),
        meter_stop=WIDE_INTS,
        t=st.sampled_from(TIMES),
        end=st.none() | st.tuples(READINGS, st.sampled_from(SIGNED)),
    )
    def stop(self, data, cp, meter_stop, t, end):
        self.stop_frame(cp, self.some_tx(data, cp), meter_stop, t, end)

    def stop_frame(self, cp, tx, meter_stop, t, end):
        self.last = (self.stop_frame, cp, tx, meter_stop, t, end)
        payload = {"meterStop": meter_stop, "timestamp": iso_utc(t), "transactionId": tx}
        kept: dict[str, object] = {}
        if end is not None:
            values, kept = self.sampled_values(end[0], end[1], "Transaction.End")
            payload["transactionData"] = [{"timestamp": iso_utc(t), "sampledValue": values}]
        answer = self.call(cp, "StopTransaction", payload)
        if len(str(meter_stop)) > MAX_NUMBER_CHARS:  # refused by the frame's reader, before any value is read
            assert answer[0] == 4 and answer[2] == "TypeConstraintViolation" and answer[3].startswith("meterStop: ")
            self.anomalies["call error"] += 1
            return
        assert answer[0] == 3 and answer[2] == {}  # OCPP 1.6 §4.10: never refused
        self.anomalies["bad value"] += end is not None and "register_wh" not in kept
        if not self.known(cp, tx):
            self.anomalies["unknown transaction"] += 1
            return
        record = self.txs[tx]
        stop = (meter_stop, t, "Local")
        if record["stop"] is not None and record["stop"] != stop:
            self.anomalies["stopped again"] += 1
            event("stopped again")
            return
        if record["stop"] is None:
            record["stop"] = stop
            if record["start_wh"] <= meter_stop <= MAX_READING:
                record["stop_wh"] = meter_stop
            else:
                self.anomalies["bad meter stop"] += 1
        if kept:
            self.merge(tx, t, "Transaction.End", kept)

    @rule()
    def replay(self):
        if self.last is not None:
            self.last[0](*self.last[1:])

    @rule(cp=st.sampled_from(CPS), frame=GARBAGE)
    def garbage(self, cp, frame):
        before = len(self.backend.anomalies)
        answer = self.send(cp, frame)
        new = self.backend.anomalies[before:]
        if answer is None:
            assert [a.kind for a in new] == ["ignored frame"], new
            self.anomalies["ignored frame"] += 1
        elif answer[0] == 4:
            assert [a.kind for a in new] == ["call error"], new
            self.anomalies["call error"] += 1
        else:  # a garbage frame that happens to be a valid CALL
            assert new == [], new

    # -- invariants

    @invariant()
    def the_store_is_the_model(self):
        stored = {}
        for record in self.backend.transactions():
            assert record.energy_wh >= 0
            model = self.txs[record.transaction_id]
            assert (record.cp_id, record.meter_start_wh, record.meter_stop_wh) == (
                model["cp"],
                model["start_wh"],
                model["stop_wh"],
            )
            assert record.open == (model["stop"] is None)
            for s in record.samples:
                for name in ("register_wh", "signed_data", "power_w", "interval_wh"):
                    if getattr(s, name) is not None:
                        stored[(record.transaction_id, s.timestamp, s.context, name)] = getattr(s, name)
        assert stored == self.kept
        assert Counter({k: v for k, v in self.anomalies.items() if v}) == Counter(
            str(a.kind) for a in self.backend.anomalies
        )
        assert self.backend.duplicates == self.duplicates

    @invariant()
    def a_signed_end_reading_is_never_lost(self):
        for (tx, _t, context, name), value in self.kept.items():
            if context == "Transaction.End" and name == "signed_data":
                record = self.backend.transaction(tx)
                assert any(s.signed_data == value and s.context == context for s in record.samples)


TestCentralMachine = CentralMachine.TestCase
TestCentralMachine.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
