"""IdentityMemo: values found by the object itself, bounded by emptying when full."""

from v2x_runtime.identity_memo import IdentityMemo


def test_a_value_is_found_by_its_object_not_by_an_equal_one():
    memo: IdentityMemo[str] = IdentityMemo(8)
    key = [1, 2]
    assert memo.get(key) is None
    assert memo.put(key, 'made') == 'made'
    assert memo.get(key) == 'made'
    assert memo.get([1, 2]) is None  # equal, not the same object


def test_the_entry_holds_its_object_so_its_id_is_not_taken_by_another():
    memo: IdentityMemo[int] = IdentityMemo(8)
    memo.put(object(), 1)  # the object lives on in the entry
    for _ in range(100):  # new objects never come to the held object's address
        assert memo.get(object()) is None


def test_a_full_table_is_emptied_before_the_next_value():
    memo: IdentityMemo[int] = IdentityMemo(3)
    keys = [object() for _ in range(4)]
    for i, k in enumerate(keys[:3]):
        memo.put(k, i)
    assert len(memo) == 3 and memo.get(keys[0]) == 0
    memo.put(keys[3], 3)
    assert len(memo) == 1 and memo.get(keys[0]) is None and memo.get(keys[3]) == 3
