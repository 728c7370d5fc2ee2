"""OCPP-J 1.6 frames: the websocket message as `[2, id, action, payload]` (CALL), `[3, id, payload]` (CALLRESULT)
or `[4, id, code, description, details]` (CALLERROR), read at a bounded cost and written, and the CallError codes
of OCPP-J 1.6 Table 7 for what a frame or a payload's schema refuses.

A frame is read by `parse_frame` at a cost linear in its size (the `ocpp` library's own unpack would convert numbers
unbounded, let a ValueError or RecursionError end the connection, and answer nothing): arrays and objects nest at
most MAX_JSON_DEPTH levels (checked before parsing), a JSON number literal is converted only if it has at most
MAX_NUMBER_CHARS characters, a message id has at most MAX_MESSAGE_ID_CHARS. `check_payload` checks a payload
against its action's 1.6 schema and raises the CallError of Table 7 naming the field. Payloads travel as the `ocpp`
library's dataclasses (`ocpp.v16.call`, `ocpp.v16.call_result`): `to_wire` turns one into the camelCase JSON object,
`from_wire` a JSON object into the snake_case keywords the library's classes and our parsers take.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    FormationViolationError,
    NotSupportedError,
    OccurenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call, CallError, CallResult, get_validator

from gridchain.errors import InputError

SUBPROTOCOL = "ocpp1.6"
MAX_NUMBER_CHARS = 20  # a longer JSON number literal is not converted: TypeConstraintViolation naming the field
MAX_JSON_DEPTH = 16  # nesting of arrays and objects (an OCPP 1.6 frame needs 6); deeper is refused before parsing
MAX_MESSAGE_ID_CHARS = 36  # OCPP-J 1.6 §4.1.4
MAX_DESCRIPTION_CHARS = 200  # an errorDescription or anomaly quotes at most this much of the offending value


def clip(value: object, limit: int = 40) -> str:
    """`value`'s repr, cut to `limit` characters: a refusal quotes the offending value, never megabytes of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def description(where: str, reason: str) -> str:
    """A CallError's errorDescription: `<field>: <reason>`, at most MAX_DESCRIPTION_CHARS characters."""
    text = f"{where}: {reason}"
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 3] + "..."


# ------------------------------------------------------------------------------------------------ the payloads


def to_wire(payload: Any) -> dict:
    """A payload (an `ocpp` library dataclass, e.g. `call.BootNotification(...)`) as the JSON object on the wire:
    camelCase keys, no field that is None."""
    return snake_to_camel_case(remove_nones(serialize_as_dict(payload)))


def from_wire(payload: dict) -> dict:
    """A payload's JSON object as snake_case keywords, as the `ocpp` library hands them to handlers."""
    return camel_to_snake_case(payload)


def serialise_call(unique_id: str, payload: Any) -> str:
    """The CALL frame of a request payload (its action is the name of its class)."""
    return Call(unique_id, type(payload).__name__, to_wire(payload)).to_json()


def serialise_result(unique_id: str, payload: Any) -> str:
    """The CALLRESULT frame answering CALL `unique_id` with a result payload."""
    return CallResult(unique_id, to_wire(payload)).to_json()


def serialise_error(unique_id: str, error: OCPPError) -> str:
    """The CALLERROR frame answering CALL `unique_id` with `error` (its code, description and details)."""
    return CallError(unique_id, error.code, error.description, error.details).to_json()


# ---------------------------------------------------------------------------------------------- reading JSON


class _Unconverted:
    """A JSON number literal left as text: longer than MAX_NUMBER_CHARS, or beyond a float. It is no integer,
    number or string to the schema, so the field it sits in is refused by name (TypeConstraintViolation)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:  # as written in the frame, cut short
        return self.text if len(self.text) <= 40 else f"{self.text[:40]}... ({len(self.text)} characters)"


class _NotJson(_Unconverted):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (RFC 8259) has no such literal."""


def _parse_int(text: str) -> int | _Unconverted:
    return _Unconverted(text) if len(text) > MAX_NUMBER_CHARS else int(text)


def _parse_float(text: str) -> float | _Unconverted:
    if len(text) > MAX_NUMBER_CHARS:
        return _Unconverted(text)
    number = float(text)
    return number if math.isfinite(number) else _Unconverted(text)


_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?')  # the closing quote optional: every match succeeds, no retries
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")  # an array or object with no array or object inside


def _too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does `text` nest arrays and objects deeper than `limit` outside its strings (or leave brackets unbalanced)?
    Strings are blanked in one pass, then the innermost arrays and objects are removed, one level a pass, at
    most `limit` passes: regular expressions that never backtrack, each linear in the text."""
    if text.count("[") + text.count("{") <= limit:
        return False
    skeleton = _JSON_STRING.sub('""', text)
    for _ in range(limit):
        skeleton, removed = _INNERMOST.subn("", skeleton)
        if not removed:
            break
    return any(bracket in skeleton for bracket in "[]{}")


def _loads(text: str) -> Any:
    """JSON with its nesting and every number literal bounded before anything is converted: CPython's parser
    recurses once per level (with the recursion limit that py_ecc raises to 100,000 on import, a 128 KiB frame of
    brackets overflows the C stack: a segmentation fault of the whole central system), turns a long integer
    literal into an int in quadratic time and refuses one of more than 4,300 digits with a ValueError."""
    if _too_deep(text):
        raise ValueError(f"arrays and objects nested deeper than {MAX_JSON_DEPTH} levels, or unbalanced")
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_NotJson)


_MESSAGE_ID = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')  # the id of a CALL whose JSON is broken later on


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _find(value: Any, kind: type) -> tuple[tuple[str | int, ...], Any] | None:
    """(path, node) of the first `kind` in a parsed JSON value (at most MAX_JSON_DEPTH deep: paths stay short)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, kind):
            return path, node
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
    return None


# ------------------------------------------------------------------------------------------ the error codes


class Unanswerable(Exception):
    """A frame that is no CALL we can answer: OCPP-J 1.6 has nothing to send back (§4.1.3: ignore it)."""


class Refusal(PropertyConstraintViolationError):
    """A request with a bad value: answered with a CallError whose description names the field."""


@contextlib.contextmanager
def as_call_error():
    """Turn an InputError (a bad value, naming its field) into the CallError that answers it: a `Refusal`."""
    try:
        yield
    except InputError as e:
        raise Refusal(description=description(e.field, e.reason), details={"field": e.field}) from e


_SCHEMA_ERRORS: dict[str, type[OCPPError]] = {
    "type": TypeConstraintViolationError,
    "maxLength": TypeConstraintViolationError,  # CiString20Type...: the length is part of the 1.6 type
    "required": ProtocolError,  # "Payload for Action is incomplete"
    "minItems": OccurenceConstraintViolationError,
    "maxItems": OccurenceConstraintViolationError,
    "additionalProperties": FormationViolationError,  # "not conform the PDU structure for Action"
    "enum": PropertyConstraintViolationError,
    "minimum": PropertyConstraintViolationError,
    "maximum": PropertyConstraintViolationError,
    "multipleOf": PropertyConstraintViolationError,
    "format": PropertyConstraintViolationError,
}


def check_payload(action: str, payload: Any, message_type_id: int = Call.message_type_id) -> None:
    """Raise the OCPP-J 1.6 CallError (Table 7; FormationViolation and OccurenceConstraintViolation spelt as the
    1.6 errata 5.1 and 5.2 keep them) for the first thing in a CALL's payload (or, with `message_type_id` 3, a
    CALLRESULT's) that its 1.6 schema refuses, naming the field: NaN/Infinity are FormationViolation, a number
    left unconverted TypeConstraintViolation."""
    if (found := _find(payload, _NotJson)) is not None:
        raise FormationViolationError(description(_path(found[0]) or "payload", "NaN and Infinity are not JSON"))
    if (found := _find(payload, _Unconverted)) is not None:
        raise TypeConstraintViolationError(
            description(
                _path(found[0]) or "payload",
                f"{found[1]!r} is not a number this central system converts (at most "
                f"{MAX_NUMBER_CHARS} characters, finite)",
            )
        )
    try:
        validator = get_validator(message_type_id, action, "1.6")
    except (OSError, ValueError):
        raise NotSupportedError(f"{action}: no 1.6 schema for this action") from None
    error = next(validator.iter_errors(payload), None)
    if error is None:
        return
    path = _path(error.absolute_path)
    if error.validator == "type" and not path:
        raise FormationViolationError(description("payload", "expected a JSON object"))
    raise _SCHEMA_ERRORS.get(error.validator, FormationViolationError)(description(path or "payload", error.message))


# ---------------------------------------------------------------------------------------------- the frames


def with_id(error: OCPPError, unique_id: str) -> OCPPError:
    """`error` carrying the id of the CALL it answers (`unique_id` attribute)."""
    error.unique_id = unique_id
    return error


def _load_frame(raw: str | bytes) -> Any:
    """The JSON value of a websocket message. Broken JSON that starts as a CALL with a readable id raises the
    FormationViolation answering it; other unreadable messages, Unanswerable."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unanswerable("the message is not UTF-8 (OCPP-J 1.6 §4.1.2)") from None
    try:
        return _loads(raw)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError; RecursionError: belt and braces
        found = _MESSAGE_ID.match(raw)
        reason = f"not valid JSON ({clip(str(e), 80)})"
        if found is None:
            raise Unanswerable(f"the message is {reason} and names no CALL") from None
        raise with_id(FormationViolationError(description("message", reason)), found.group(1)) from None


def _reply(frame: list, kind: int, unique_id: str) -> CallResult | CallError:
    """A CALLRESULT `[3, id, payload]` or CALLERROR `[4, id, code, description, details]`; Unanswerable if it is
    neither as OCPP-J 1.6 §4.2 writes them."""
    if kind == CallResult.message_type_id and len(frame) == 3 and isinstance(frame[2], dict | None):
        return CallResult(unique_id, frame[2] or {})
    if kind == CallError.message_type_id and len(frame) == 5 and all(isinstance(f, str) for f in frame[2:4]):
        return CallError(unique_id, frame[2], frame[3], frame[4])
    raise Unanswerable(f"a CALLRESULT/CALLERROR that is not [{kind}, id, ...] as OCPP-J 1.6 §4.2 says")


def _call(frame: list, unique_id: str) -> Call:
    """A CALL `[2, id, action, payload]`; the FormationViolation answering it (with its id) if it is not one."""
    if len(unique_id) > MAX_MESSAGE_ID_CHARS:
        raise with_id(
            FormationViolationError(
                description("messageId", f"{clip(unique_id)} is longer than {MAX_MESSAGE_ID_CHARS} characters")
            ),
            unique_id,
        )
    if len(frame) != 4:
        raise with_id(
            FormationViolationError(
                description("message", f"a CALL has 4 elements [2, id, action, payload], this one {len(frame)}")
            ),
            unique_id,
        )
    if not isinstance(frame[2], str):
        raise with_id(FormationViolationError(description("action", f"{clip(frame[2])} is not a string")), unique_id)
    payload = {} if frame[3] is None else frame[3]  # §4.2.1: no payload may be null or {}
    return Call(unique_id, frame[2], payload)


def parse_frame(raw: str | bytes) -> Call | CallResult | CallError:
    """An OCPP-J message of a websocket message. A CALL with a readable message id whose frame is broken raises
    the CallError to answer, carrying that id (`unique_id` attribute); anything else unusable, Unanswerable."""
    frame = _load_frame(raw)
    if not isinstance(frame, list) or not frame or type(frame[0]) is not int:
        raise Unanswerable("the message is not an OCPP-J array [MessageTypeId, MessageId, ...] (§4.2)")
    kind = frame[0]
    if kind not in (Call.message_type_id, CallResult.message_type_id, CallError.message_type_id):
        raise Unanswerable(f"MessageTypeId {kind} is not 2, 3 or 4 (§4.1.3: ignored)")
    if len(frame) < 2 or not isinstance(frame[1], str):
        raise Unanswerable(f"MessageTypeId {kind} without a string MessageId")
    if kind != Call.message_type_id:
        return _reply(frame, kind, frame[1])
    return _call(frame, frame[1])
