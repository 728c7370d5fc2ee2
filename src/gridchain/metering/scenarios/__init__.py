"""Metering's demos: two households' day with a roaming EV charging over OCPP, settled and billed; the proof of
one reading against its root on chain.

Layer `scenarios`: composes metering's service, parties, client and model with ocpp, nilm and coordination's
package root; only metering's cli imports it.
"""
