import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.crypto import (
    InvalidProof,
    MerkleProof,
    hash_leaf,
    hash_node,
    merkle_proof,
    merkle_root,
    sha256,
    verify_proof,
)


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert merkle_root([]) == sha256(b"")


def test_small_trees_follow_rfc6962_shape() -> None:
    a, b, c = b"a", b"b", b"c"
    assert merkle_root([a]) == hash_leaf(a)
    assert merkle_root([a, b]) == hash_node(hash_leaf(a), hash_leaf(b))
    # three leaves split 2 + 1: no duplicated last leaf
    assert merkle_root([a, b, c]) == hash_node(hash_node(hash_leaf(a), hash_leaf(b)), hash_leaf(c))
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])


def test_leaf_and_node_are_domain_separated() -> None:
    left, right = hash_leaf(b"x"), hash_leaf(b"y")
    # a leaf whose data is the concatenation of two hashes does not collide with the node
    assert merkle_root([left + right]) != merkle_root([b"x", b"y"])


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40), st.data())
def test_every_leaf_has_a_proof_that_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    proof = merkle_proof(leaves, index)
    verify_proof(leaves[index], proof, root)


@given(st.lists(st.binary(min_size=1, max_size=8), min_size=2, max_size=20, unique=True), st.data())
def test_proof_fails_for_other_leaf_or_index(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    other = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
    root = merkle_root(leaves)
    proof = merkle_proof(leaves, index)
    with pytest.raises(InvalidProof):
        verify_proof(leaves[other], proof, root)
    moved = MerkleProof(index=other, size=proof.size, path=proof.path)
    with pytest.raises(InvalidProof):
        verify_proof(leaves[index], moved, root)


def test_tampered_path_fails() -> None:
    leaves = [bytes([i]) for i in range(7)]
    proof = merkle_proof(leaves, 3)
    bad = MerkleProof(index=3, size=7, path=(sha256(b"evil"), *proof.path[1:]))
    with pytest.raises(InvalidProof):
        verify_proof(leaves[3], bad, merkle_root(leaves))
    short = MerkleProof(index=3, size=7, path=proof.path[:-1])
    with pytest.raises(InvalidProof):
        verify_proof(leaves[3], short, merkle_root(leaves))


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 6962 §2.1, written as the recursion it defines."""
    if len(leaves) == 1:
        return hash_leaf(leaves[0])
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hash_node(rfc6962_root(leaves[:split]), rfc6962_root(leaves[split:]))


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=300))
def test_the_level_by_level_root_is_the_rfc6962_root(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == rfc6962_root(leaves)


def test_the_root_of_every_size_up_to_1100_is_the_rfc6962_root() -> None:
    leaves = [n.to_bytes(2, "big") for n in range(1100)]
    for size in range(1, 1101):
        assert merkle_root(leaves[:size]) == rfc6962_root(leaves[:size]), size
