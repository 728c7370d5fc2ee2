"""The governance gas section measures what it names on the embedded chain (the figures themselves: benchmarks); a
batch of epoch keys through the Safe shares its overhead."""

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.governance.actions import OWNER_ACTIONS
from gridchain.governance.gas import ACCOUNTS, BATCH_KEYS, measure_functions


def test_every_owner_action_is_measured_directly_and_through_the_safe():
    gas = measure_functions(BoaGateway(accounts=ACCOUNTS))
    for name, action in OWNER_ACTIONS.items():
        direct, safe = gas[f"{name}.{action.fn}_by_account"], gas[f"{name}.{action.fn}_by_safe_2_of_3"]
        assert 21_000 < direct < safe < direct + 80_000  # the Safe's overhead: two ecrecovers and its bookkeeping
    assert gas["post_capacity_by_account"] < gas["post_capacity_by_poster"] < gas["post_capacity_by_safe_2_of_3"]
    assert gas["swap_owner_by_safe_2_of_3"] > 0 and gas["set_capacity_poster_by_safe_2_of_3"] > 0
    one, by_account = gas["register_epoch_key_by_safe_2_of_3"], gas["register_epoch_key_by_account"]
    per_key = gas[f"register_epoch_key_batch_of_{BATCH_KEYS}_by_safe_2_of_3_per_key"]
    assert by_account < one < by_account + 80_000 and per_key < one - 40_000  # the batch shares the Safe's overhead
