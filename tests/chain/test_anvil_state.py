import json

from gridchain.chain.anvil_state import StateBackup, backup_of, restore


def test_a_complete_dump_is_backed_up_once_and_a_cut_one_is_not(tmp_path):
    state = tmp_path / "s.json"
    keeper = StateBackup(state)
    assert not keeper.check()  # no dump yet
    state.write_text(json.dumps({"block": 1}))
    assert keeper.check() and json.loads(backup_of(state).read_text()) == {"block": 1}
    assert not keeper.check()  # nothing new
    state.write_text('{"block": 2, "accou')  # anvil in the middle of its next dump
    assert not keeper.check() and json.loads(backup_of(state).read_text()) == {"block": 1}


def test_restore_puts_the_backup_back_only_over_a_cut_file(tmp_path):
    state = tmp_path / "s.json"
    backup_of(state).write_text('{"block": 1}')
    state.write_text('{"block": 2}')
    assert not restore(state) and state.read_text() == '{"block": 2}'
    state.write_text('{"block": 2, "acc')
    assert restore(state) and state.read_text() == '{"block": 1}'


def test_restore_leaves_a_foreign_file_to_anvil_without_a_backup(tmp_path):
    state = tmp_path / "s.json"
    state.write_text("garbage")
    assert not restore(state) and state.read_text() == "garbage"
