"""The programs V2V's parties run: the consumer and provider EVs and their mutual authentication, what a provider
watches on chain and how it bids, what it keeps in the store to survive a crash, and the consumer's record of
its trade.

Layer `parties` of the v2v feature: imports v2v's client and model and the shared adapters; the service, scenarios
and cli use it.
"""

from gridchain.v2v.parties.ev import (
    ACCESS_TAG,
    MAX_WH,
    PROVIDER_TAG,
    AuthRefused,
    ConsumerEV,
    Hello,
    Proof,
    ProviderEV,
    Session,
    hex_bytes,
    signature_from,
)

__all__ = [
    "ACCESS_TAG",
    "MAX_WH",
    "PROVIDER_TAG",
    "AuthRefused",
    "ConsumerEV",
    "Hello",
    "Proof",
    "ProviderEV",
    "Session",
    "hex_bytes",
    "signature_from",
]
