# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Trade notes: fixed-denomination deposit notes, redeemed by a relayer to fresh one-time addresses
@custom:contract-name trade_notes
@license MIT (compiled together with snekmate's AGPL-3.0-only `ecdsa` and `eip712_domain_separator`)
@author gridchain
@notice Issue 20: every trade's fresh address is funded without linking it to its funder. One pool per (token,
        denomination): a long-term account deposits exactly DENOMINATION (wei, or COIN units) with the hash of a
        blinded message; the issuer (the operator's signing service; ISSUER may be a Safe) blind-signs that
        message off chain for the depositor that proves the deposit, seeing only the blinded value; the unblinded
        token is a note for one fresh address, and anyone (a relayer) redeems it there for a fee the fresh
        address signed. Chain observers see who deposited and which fresh address was paid, but not which
        deposit paid which address: within an epoch's deposits every one is equally likely.

        Note message (RSA-FDH, Chaum blind signature, e = 3; twin `gridchain.crypto.blind` with this seed):
            seed = keccak256(abi_encode(NOTE_TAG, chain.id, self, epoch, fresh))    NOTE_TAG = "gridchain.note.v1"
            FDH  = keccak256(seed || uint256(0)) || ... || keccak256(seed || uint256(7)), top bit cleared
            token < n  and  token^3 mod n == FDH     (modexp precompile 0x05; n the epoch's key)
        The depositor chooses the fresh address before blinding, so no relayer can redirect the payout; the seed
        binds the chain, the pool and the epoch, so a token is worth nothing in another pool, chain or epoch.

        deposit   anyone, with exactly one denomination, for the current epoch (UTC day, named by the caller so that
                  a deposit mined after midnight fails rather than pays for a note of the wrong day) while it has a
                  key: counts the deposit in the epoch and logs (epoch, depositor, keccak of the blinded message)
                  for the issuer, which blind-signs only for the depositor's signature over the blinded message.
        register  ISSUER only: one RSA-2048 key per epoch, for the epoch now or later, never replaced. Stored as
                  the code of a CREATE2 data contract: the technique and code of contracts/modules/
                  anonymous_requests.vy (`_register`, `_key_address`, KEY_INITCODE), copied with this contract's
                  reasons so that the coordinator's bytecode and gas stay as they are.
        redeem    anyone, for an epoch that is over (epoch < today: notes of one day are redeemed from the next,
                  so a redemption cannot be timed against its deposit inside the anonymity set, and the day's
                  deposit count is final): the token verifies under the epoch's key, the fresh address signed
                  Redemption(epoch, fee, relayer) (EIP-712; relayer empty: any submitter) or submits itself,
                  fee <= DENOMINATION, the fresh address was never paid (one note per fresh address: they are
                  one-time), and the epoch is not exhausted. Pays DENOMINATION - fee to the fresh address (an
                  escrow pool: into its escrow balance) and fee to the submitter. No expiry: nobody can take back an unredeemed note's money.
        withdraw  a credited account (a refused ETH push) takes its credit to an address of its choice.

        An escrow pool (ESCROW not empty; coin pools only) pays a note into the fresh address's coin balance in the
        trade escrow (`ESCROW.deposit(fresh, amount)`) instead of to the address: the fresh buyer then opens its
        trade from that balance, and never holds, approves or moves a coin itself. The pool approves ESCROW for
        every coin it holds at deployment; the escrow pulls from its caller only in `deposit` (its `open` pulls
        from the buyer, who must be the caller), so only a redemption moves them. The fee goes to the submitter
        as in any pool. The fresh address signs the same Redemption: the pool (its domain) fixes where it pays.

        Issuer forgery is capped: per epoch, redemptions <= deposits. An issuer that signs extra notes takes
        honest depositors' places and is detected (an honest note then fails "epoch exhausted"); it never mints
        money the pool does not hold, and other epochs' notes are untouched.

        ETH is pushed with PUSH_GAS (100,000) and a refused push is credited (as trade_escrow does); the coin
        moves with transferFrom / transfer. State is written before any transfer; money moving functions are
        nonreentrant. Signatures are what wallets produce (65 bytes r | s | v, v 27/28 or 0/1, or EIP-2098's
        64), high s refused.

        Invariant (asserted after money moves): balance >= held, where held = DENOMINATION x (deposits -
        redemptions, over all epochs) + all credit (ETH pool; the coin pool has no credit), stored plus one.
        Funds: deposited = paid to fresh addresses + fees + credited-and-withdrawn + held.
@dev Python twin: `gridchain.escrow.notes.model` (the same rules, order of checks and revert reasons).
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

initializes: eip712
exports: eip712.eip712Domain


interface IEscrowDeposit:
    def deposit(account: address, amount: uint256): nonpayable
    def COIN() -> address: view


event Deposited:
    epoch: indexed(uint256)
    depositor: indexed(address)
    blinded_hash: bytes32  # keccak256 of the blinded message (256 bytes, big-endian)

event Redeemed:
    epoch: indexed(uint256)
    fresh: indexed(address)
    relayer: address  # the submitter, paid the fee
    fee: uint256

event EpochKeyRegistered:
    epoch: indexed(uint256)
    modulus: uint256[MODULUS_WORDS]

event Credited:
    account: indexed(address)
    amount: uint256  # [wei] a push that failed, now withdrawable

event Withdrawn:
    account: indexed(address)
    to: indexed(address)
    amount: uint256


MODULUS_BYTES: constant(uint256) = 256
MODULUS_WORDS: constant(uint256) = 8
EXPONENT_BYTES: constant(uint256) = 1  # e = 3 = 0x03 (issue 22: EIP-7883 prices a 17-bit exponent 16x higher)
EPOCH_SECONDS: constant(uint256) = 86400
NOTE_TAG: constant(bytes32) = keccak256("gridchain.note.v1")
MODEXP: constant(address) = 0x0000000000000000000000000000000000000005
KEY_CODE_BYTES: constant(uint256) = 257  # 0x00 (STOP: the data contract cannot run) || n
# anonymous_requests.vy's init code: STATICCALL the creator's staged_key() (selector 0xc75543a1) into memory
# 33..288, then RETURN memory 32..288 (0x00 || n). Registration checks the code it produced.
KEY_INITCODE: constant(Bytes[27]) = x"63c75543a160005261010060216004601c335afa506101016020f3"
KEY_INITCODE_HASH: constant(bytes32) = keccak256(KEY_INITCODE)
TOP_BIT_CLEAR: constant(uint256) = max_value(uint256) >> 1
PUSH_GAS: constant(uint256) = 100_000  # to an ETH recipient's code (a Safe's receive needs more than 2,300)
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # secp256k1 n // 2 (EIP-2)
LOW255: constant(uint256) = 2**255 - 1
REDEMPTION_TYPEHASH: constant(bytes32) = keccak256("Redemption(uint256 epoch,uint256 fee,address relayer)")


COIN: public(immutable(IERC20))  # empty: an ETH pool
DENOMINATION: public(immutable(uint256))  # [wei] or [coin units] per note
ISSUER: public(immutable(address))
ESCROW: public(immutable(IEscrowDeposit))  # empty: notes pay the fresh address; else its balance in this escrow

deposits: public(HashMap[uint256, uint256])  # epoch -> notes paid in
redemptions: public(HashMap[uint256, uint256])  # epoch -> notes paid out (<= deposits)
spent: public(HashMap[address, bool])  # fresh address -> paid its note
credit: public(HashMap[address, uint256])  # [wei] failed pushes, withdrawable
held_1: uint256  # DENOMINATION x outstanding notes + all credit, + 1 (never zero: rewrites cost 5,000, not 22,100)
staged: transient(uint256[MODULUS_WORDS])  # the modulus being registered, for the key's init code


@deploy
def __init__(coin: IERC20, denomination: uint256, issuer: address, escrow: IEscrowDeposit):
    """
    @dev Nobody owns the pool; the issuer only registers keys.
    @param coin The token of the notes, or empty for ETH.
    @param denomination What one note is worth [wei or coin units], not zero.
    @param issuer Who registers the epoch keys (the signing service's account or a Safe), not zero.
    @param escrow The trade escrow whose coin balances the notes pay into, or empty (notes pay the fresh address).
    """
    assert denomination != 0, "trade_notes: denomination is zero"
    assert issuer != empty(address), "trade_notes: issuer is the zero address"
    assert escrow.address == empty(address) or coin.address != empty(address), "trade_notes: escrow pool of ETH"
    eip712.__init__("gridchain trade notes", "1")
    COIN = coin
    DENOMINATION = denomination
    ISSUER = issuer
    ESCROW = escrow
    self.held_1 = 1
    if escrow.address != empty(address):
        assert staticcall escrow.COIN() == coin.address, "trade_notes: escrow's coin is not the pool's"
        assert extcall coin.approve(escrow.address, max_value(uint256), default_return_value=True), (
            "trade_notes: approve failed"
        )


# ---- notes -------------------------------------------------------------------------------------------


@payable
@external
@nonreentrant
def deposit(epoch: uint256, blinded_hash: bytes32) -> uint256:
    """
    @dev Pay one denomination into the pool for a note of the current epoch (ETH as value, the coin by allowance).
    @param epoch The epoch the depositor blinded its note for: the current one (a deposit mined after midnight
           would otherwise pay for a note whose message names the wrong day, which no key signs).
    @param blinded_hash keccak256 of the blinded message the depositor will ask the issuer to sign.
    @return The epoch of the note.
    """
    assert epoch == block.timestamp // EPOCH_SECONDS, "trade_notes: deposit epoch is not the current one"
    assert blinded_hash != empty(bytes32), "trade_notes: blinded hash is zero"
    if COIN.address == empty(address):
        assert msg.value == DENOMINATION, "trade_notes: value is not the denomination"
    else:
        assert msg.value == 0, "trade_notes: value sent to a coin pool"
    assert self._key_address(epoch).codesize == KEY_CODE_BYTES, "trade_notes: no key registered for the epoch"
    self.deposits[epoch] += 1
    self.held_1 += DENOMINATION
    if COIN.address != empty(address):
        assert extcall COIN.transferFrom(msg.sender, self, DENOMINATION, default_return_value=True), (
            "trade_notes: transfer failed"
        )
    assert self._balance() >= self.held_1 - 1  # the invariant
    log Deposited(epoch=epoch, depositor=msg.sender, blinded_hash=blinded_hash)
    return epoch


@external
@nonreentrant
def redeem(
    epoch: uint256,
    fresh: address,
    fee: uint256,
    relayer: address,
    token: uint256[MODULUS_WORDS],
    signature: Bytes[65],
):
    """
    @dev Anyone (the relayer): pay a note of an epoch that is over to its fresh address, less the fee to the caller.
    @param epoch The note's epoch (its deposit's UTC day).
    @param fresh The one-time address the note names.
    @param fee What the caller gets, 0 .. DENOMINATION, as the fresh address signed.
    @param relayer Who may submit, as the fresh address signed; empty: anyone.
    @param token The issuer's unblinded RSA signature on the note, 8 big-endian words.
    @param signature The fresh address's EIP-712 signature of Redemption(epoch, fee, relayer); ignored when the
           fresh address submits itself.
    """
    assert fresh != empty(address), "trade_notes: fresh is the zero address"
    assert epoch < block.timestamp // EPOCH_SECONDS, "trade_notes: note epoch not over"
    assert fee <= DENOMINATION, "trade_notes: fee above the denomination"
    assert relayer == empty(address) or relayer == msg.sender, "trade_notes: caller is not the named relayer"
    if msg.sender != fresh:
        h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(REDEMPTION_TYPEHASH, epoch, fee, relayer)))
        assert self._recover(h, signature) == fresh, "trade_notes: redemption not signed by the fresh address"
    assert not self.spent[fresh], "trade_notes: note already redeemed"
    redeemed: uint256 = self.redemptions[epoch]
    assert redeemed < self.deposits[epoch], "trade_notes: epoch exhausted"
    key: address = self._key_address(epoch)
    assert key.codesize == KEY_CODE_BYTES, "trade_notes: no key registered for the epoch"
    n: Bytes[MODULUS_BYTES] = slice(key.code, 1, MODULUS_BYTES)
    assert self._below(token, n), "trade_notes: token is not below the modulus"
    assert keccak256(self._power(token, n)) == keccak256(self._fdh(epoch, fresh)), "trade_notes: token does not verify"
    self.spent[fresh] = True
    self.redemptions[epoch] = redeemed + 1
    self.held_1 -= DENOMINATION
    if COIN.address == empty(address):
        self._push_eth(fresh, DENOMINATION - fee)
        self._push_eth(msg.sender, fee)
    elif ESCROW.address != empty(address):
        if DENOMINATION != fee:
            extcall ESCROW.deposit(fresh, DENOMINATION - fee)
        if fee != 0:
            assert extcall COIN.transfer(msg.sender, fee, default_return_value=True), "trade_notes: transfer failed"
    else:
        if DENOMINATION != fee:
            assert extcall COIN.transfer(fresh, DENOMINATION - fee, default_return_value=True), (
                "trade_notes: transfer failed"
            )
        if fee != 0:
            assert extcall COIN.transfer(msg.sender, fee, default_return_value=True), "trade_notes: transfer failed"
    assert self._balance() >= self.held_1 - 1  # the invariant
    log Redeemed(epoch=epoch, fresh=fresh, relayer=msg.sender, fee=fee)


@external
@nonreentrant
def withdraw(to: address) -> uint256:
    """
    @dev The caller's credit (failed ETH pushes), all of it, to `to`.
    @param to Where to send it, not the zero address.
    @return The amount sent [wei].
    """
    amount: uint256 = self.credit[msg.sender]
    assert amount != 0, "trade_notes: no credit"
    assert to != empty(address), "trade_notes: to is the zero address"
    self.credit[msg.sender] = 0
    self.held_1 -= amount
    raw_call(to, b"", value=amount)
    assert self._balance() >= self.held_1 - 1  # the invariant
    log Withdrawn(account=msg.sender, to=to, amount=amount)
    return amount


# ---- keys --------------------------------------------------------------------------------------------


@external
def register_epoch_key(epoch: uint256, modulus: uint256[MODULUS_WORDS]):
    """
    @dev Issuer only: the RSA-2048 public key (e = 3) under which the issuer signs `epoch`'s notes. Once per
         epoch, never replaced; not for an epoch that is over.
    @param epoch The UTC day, unix time // 86400.
    @param modulus The key's modulus n, 2048 bits, odd, as 8 big-endian words.
    """
    assert msg.sender == ISSUER, "trade_notes: caller is not the issuer"
    assert epoch >= block.timestamp // EPOCH_SECONDS, "trade_notes: epoch is over"
    assert modulus[0] >> 255 == 1, "trade_notes: modulus is not 2048 bits"
    assert modulus[MODULUS_WORDS - 1] & 1 == 1, "trade_notes: modulus is even"
    key: address = self._key_address(epoch)
    assert key.codesize == 0, "trade_notes: epoch key already registered"
    self.staged = modulus
    created: address = raw_create(KEY_INITCODE, salt=convert(epoch, bytes32))
    self.staged = empty(uint256[MODULUS_WORDS])
    code_hash: bytes32 = keccak256(concat(x"00", abi_encode(modulus)))
    assert created == key and key.codehash == code_hash, "trade_notes: key contract differs from the modulus"
    log EpochKeyRegistered(epoch=epoch, modulus=modulus)


# ---- views -------------------------------------------------------------------------------------------


@view
@external
def epoch_key(epoch: uint256) -> bytes32:
    """
    @dev The key registered for `epoch`, by its hash.
    @param epoch The UTC day.
    @return keccak256 of its modulus (256 bytes, big-endian), or empty when none is registered.
    """
    key: address = self._key_address(epoch)
    if key.codesize == 0:
        return empty(bytes32)
    return keccak256(slice(key.code, 1, MODULUS_BYTES))


@view
@external
def staged_key() -> uint256[MODULUS_WORDS]:
    """
    @dev The modulus being registered, read by the key contract's init code.
    @return The modulus as 8 big-endian words; zero outside `register_epoch_key`.
    """
    return self.staged


@view
@external
def epoch_key_address(epoch: uint256) -> address:
    """
    @dev Where the key of `epoch` lives (a data contract once registered).
    @param epoch The UTC day.
    @return The CREATE2 address, salt = epoch.
    """
    return self._key_address(epoch)


@view
@external
def note_seed(epoch: uint256, fresh: address) -> bytes32:
    """
    @dev The seed of a note's full-domain hash, as the depositor computes it before blinding.
    @param epoch The note's epoch.
    @param fresh The note's fresh address.
    @return keccak256(abi_encode(NOTE_TAG, chain id, this pool, epoch, fresh)).
    """
    return keccak256(abi_encode(NOTE_TAG, chain.id, self, epoch, fresh))


@view
@external
def redemption_hash(epoch: uint256, fee: uint256, relayer: address) -> bytes32:
    """
    @dev What the fresh address signs to let a relayer redeem its note.
    @param epoch The note's epoch.
    @param fee The relayer's fee.
    @param relayer The submitter allowed, or empty for anyone.
    @return The EIP-712 digest of Redemption(epoch, fee, relayer) in this pool's domain.
    """
    return eip712._hash_typed_data_v4(keccak256(abi_encode(REDEMPTION_TYPEHASH, epoch, fee, relayer)))


@view
@external
def held() -> uint256:
    """
    @dev What the pool owes: DENOMINATION x outstanding notes + all credit; its balance is at least this.
    @return The amount [wei or coin units].
    """
    return self.held_1 - 1


# ---- internals ---------------------------------------------------------------------------------------


@view
@internal
def _balance() -> uint256:
    if COIN.address == empty(address):
        return self.balance
    return staticcall COIN.balanceOf(self)


@view
@internal
def _key_address(epoch: uint256) -> address:
    # anonymous_requests.vy's `_key_address`: the CREATE2 address for this contract, salt = epoch
    return convert(
        convert(keccak256(concat(x"ff", convert(self, bytes20), convert(epoch, bytes32), KEY_INITCODE_HASH)), uint256)
        & convert(max_value(uint160), uint256),
        address,
    )


@view
@internal
def _power(token: uint256[MODULUS_WORDS], n: Bytes[MODULUS_BYTES]) -> Bytes[MODULUS_BYTES]:
    # token^3 mod n (EIP-198)
    return raw_call(
        MODEXP,
        concat(abi_encode(MODULUS_BYTES, EXPONENT_BYTES, MODULUS_BYTES, token), x"03", n),
        max_outsize=MODULUS_BYTES,
        is_static_call=True,
    )


@view
@internal
def _fdh(epoch: uint256, fresh: address) -> Bytes[MODULUS_BYTES]:
    # the note's full-domain hash (see the header), top bit cleared
    seed: bytes32 = keccak256(abi_encode(NOTE_TAG, chain.id, self, epoch, fresh))
    h0: uint256 = convert(keccak256(abi_encode(seed, convert(0, uint256))), uint256) & TOP_BIT_CLEAR
    return concat(
        convert(h0, bytes32),
        keccak256(abi_encode(seed, convert(1, uint256))),
        keccak256(abi_encode(seed, convert(2, uint256))),
        keccak256(abi_encode(seed, convert(3, uint256))),
        keccak256(abi_encode(seed, convert(4, uint256))),
        keccak256(abi_encode(seed, convert(5, uint256))),
        keccak256(abi_encode(seed, convert(6, uint256))),
        keccak256(abi_encode(seed, convert(7, uint256))),
    )


@pure
@internal
def _below(token: uint256[MODULUS_WORDS], n: Bytes[MODULUS_BYTES]) -> bool:
    # token < n as 2048-bit integers (RFC 9474: a signature representative is below n)
    for i: uint256 in range(MODULUS_WORDS):
        word: uint256 = extract32(n, i * 32, output_type=uint256)
        if token[i] != word:
            return token[i] < word
    return False


@internal
def _push_eth(to: address, amount: uint256):
    if amount == 0:
        return
    if not raw_call(to, b"", value=amount, gas=PUSH_GAS, revert_on_failure=False):
        self.credit[to] += amount
        self.held_1 += amount
        log Credited(account=to, amount=amount)


@pure
@internal
def _recover(h: bytes32, signature: Bytes[65]) -> address:
    # trade_escrow.vy's `_recover`: (r, s, v in {27, 28}) from any standard form, high s refused
    length: uint256 = len(signature)
    assert length == 64 or length == 65, "trade_notes: signature is not 64 or 65 bytes"
    r: uint256 = extract32(signature, 0, output_type=uint256)
    word: uint256 = extract32(signature, 32, output_type=uint256)
    s: uint256 = word
    v: uint256 = 0
    if length == 65:
        v = convert(slice(signature, 64, 1), uint256)
        if v < 2:
            v += 27
        assert v == 27 or v == 28, "trade_notes: signature v is not 0, 1, 27 or 28"
    else:
        s = word & LOW255
        v = 27 + (word >> 255)
    assert s <= HALF_N, "trade_notes: signature s in the upper half (malleable, EIP-2)"
    return ecdsa._try_recover_vrs(h, v, r, s)
