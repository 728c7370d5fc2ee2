"""Anonymous negotiation (PriWatt): a seller and a buyer agree a trade's terms over end-to-end encrypted messages
relayed by a message board that can neither read them nor tie them to anyone; the agreed terms are what the
escrow opens.

Every trade uses new keys: the seller posts its offer under a one-time X25519 key (its mailbox), the buyer answers
from a one-time key of its own, and each side draws a fresh Ethereum account for the trade (payout / payment
address). Every message is sealed twice (NaCl: a Box from the sender's one-time key inside a SealedBox to the
recipient's), so the board sees neither the sender nor the content; every plaintext is padded to a fixed size
bucket and every thread has the same number of messages, so sizes and counts say nothing of the parties' prices,
limits or habits.

Who learns what:
- the board (and anyone who reads it): the public listings (community, energy [Wh] quantised, intervals, price
  range, token, expiry), the mailboxes (one-time public keys), and for each envelope its mailbox, time and size
  (all sizes equal). It may link a buyer's one-time key to the offer it answers (by timing), i.e. see a thread;
  it cannot read a price, an address, a meter or a decision, and no key or address it sees is ever used twice;
- the counterparty: the trade's terms (the other side's fresh address, and the seller's meter), nothing else;
- the chain (the escrow, which opens them: gridchain.escrow.negotiated in the demo): the agreed terms. The meter
  in them names the seller's installation, so the escrow's claim on metered energy links a trade to its seller's
  meter unless meters themselves are pseudonymous: this package does not hide what the escrow publishes.

What it does NOT protect against: network-level metadata. The board sees the IP address and connection timing of
whoever posts and fetches; a party that talks to it directly from its home connection is identified by its
address, whatever the cryptography. Use an anonymising transport (Tor, a mixnet) to reach the board. Nor does it
hide a party's public behaviour: a seller whose listings are distinctive (always the same hour, an unusual
amount) is recognisable by the listing itself; amounts are quantised to ENERGY_STEP_WH to narrow that. Polls
link too: the negotiators stop polling a mailbox once its trade is over, but a party with several trades open
at once polls their mailboxes together, and the board may tie those trades to each other by the polls' timing
(and by the connection they share) unless each mailbox is polled on its own schedule and circuit. Funding a
fresh address without linking it is the relayer's (or a mixer's) job, not this package's.

Sub-feature of escrow, with the feature order inside (service > parties > model); the model is pure (kernel,
PyNaCl, eth_account); nothing outside escrow imports it but through gridchain.escrow.
"""
