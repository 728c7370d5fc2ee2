"""OCPP 1.6 messages, one module per message family: each message's builder (the `ocpp` library's payload, from
plain values in our units) beside its parser (from the snake_case keywords the library hands a handler back to
plain values, or InputError naming the OCPP field), for the request and for its result, so that the two sides of a
message are written, and tested round trip, in one place.

Inside ocpp: imports frames, anomalies and the kernel; never the meter, the backend, the central system or the
charge point.
"""
