# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Energy coin: the ERC-20 (with EIP-2612 permit) that gridchain's energy markets settle in
@custom:contract-name energy_coin
@license MIT (compiled together with snekmate's AGPL-3.0-only `erc20` and `ownable` modules)
@author gridchain
@notice One coin is one unit of the community's currency (a euro, a dollar); 6 decimals, so the base unit is a
        micro-coin, as common stablecoins have it: a price per kWh in micro-coins fits the call market's 64-bit
        price (up to 1.8e13 coins per kWh) and a fee per order its 32-bit fee (up to 4,294 coins).

        Issuance: coins are minted only by the utility's treasury against money paid in off chain, and burnt
        when redeemed. The owner (the utility's Safe in production) is always a minter (snekmate: it cannot
        remove itself) and grants or revokes other minter accounts (`set_minter`: a treasury bot, say). A
        minter mints either by snekmate's plain `mint`, or by `mint_with_reference`, which names the off-chain
        payment it mints against (a bank transfer's id, hashed to 32 bytes) in a `MintedAgainst` event and
        refuses a reference already used: a treasury that retries after a crash cannot mint twice for one
        payment, and its books can be audited from the events alone (the sum of the minted references equals
        what was paid in). Redemption: a holder burns its own coins (`burn`), or the treasury burns a holder's
        with an allowance (`burn_from`, e.g. after a permit), and pays out off chain.

        Everything else is snekmate's `erc20` unchanged: transfers, allowances (max uint256: infinite, never
        decreased), EIP-2612 `permit` with its nonces and EIP-712 domain (name: the token's name, version
        "1"; EIP-5267 `eip712Domain`), ownership with the minter role moving with it. Its revert reasons are
        snekmate's own ("erc20: ...", "ownable: ..."); ours are "energy_coin: ...".

        Known properties we keep (documented in docs/coin.md): `approve` has ERC-20's classic race (a spender
        may spend the old and the new allowance around a change; set it to 0 first, or use `permit`, whose
        nonce orders the changes); renouncing ownership leaves the other minters minting (revoke them first);
        coins sent to this contract's own address are kept in the supply and can never move again (no
        function spends from it).

        Invariant: totalSupply == the sum of balanceOf over all accounts. Only snekmate's `_mint` (+amount to
        both, the supply's addition checked) and `_burn` (-amount from both, the balance checked) change the
        supply; a transfer moves an amount between two balances. Each balance is therefore at most the supply,
        which `mint_with_reference` asserts for the balance it raised; the stateful test checks the sum after
        every step.
@dev Python twin: `gridchain.coin.model` (the same rules and revert reasons, snekmate's included).
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


DECIMALS: constant(uint8) = 6
EIP712_VERSION: constant(String[20]) = "1"

# True once a minter minted against this off-chain payment reference
reference_used: public(HashMap[bytes32, bool])


event MintedAgainst:
    minter: indexed(address)
    to: indexed(address)
    reference: indexed(bytes32)
    amount: uint256


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    """
    @dev The deployer becomes the owner and a minter (snekmate). The EIP-712 domain's name is the token's name.
    @param name_ The token's name, at most 25 characters (e.g. "Brooklyn energy coin").
    @param symbol_ The token's symbol, at most 5 characters (e.g. "BEC").
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, DECIMALS, name_, EIP712_VERSION)


@external
def mint_with_reference(to: address, amount: uint256, reference: bytes32):
    """
    @dev Minter only: create `amount` micro-coins for `to` against the off-chain payment `reference`, once.
    @param to The receiver, not the zero address.
    @param amount The micro-coins paid in, more than 0.
    @param reference The off-chain payment's id (32 bytes, e.g. keccak256 of a bank reference), not zero and
           never used before.
    """
    assert erc20.is_minter[msg.sender], "erc20: access is denied"
    assert amount > 0, "energy_coin: amount is zero"
    assert reference != empty(bytes32), "energy_coin: reference is zero"
    assert not self.reference_used[reference], "energy_coin: reference already used"
    self.reference_used[reference] = True
    erc20._mint(to, amount)
    # the invariant's consequence for the balance raised (cannot fail while totalSupply == sum of balances)
    assert erc20.balanceOf[to] <= erc20.totalSupply, "energy_coin: balance exceeds supply"
    log MintedAgainst(minter=msg.sender, to=to, reference=reference, amount=amount)
