"""The one-time authorisation's signature scheme against BIP 340's published test vectors
(bitcoin/bips, bip-0340/test-vectors.csv, final version): vectors 0-3 sign to the listed
signature with the listed auxiliary randomness, and every vector verifies or fails as
listed (a key off the curve, R with odd y, a negated message or s, an R of infinity,
x or s out of range)."""

from __future__ import annotations

import pytest
from coincurve import PrivateKey

from gridledger.ledger.transactions import is_valid_schnorr

MSG = "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89"
KEY = "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659"
R5 = "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769"
S5 = "69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B"

# index: (secret key, public key, aux_rand, message, signature, verifies)
VECTORS: dict[int, tuple[str, str, str, str, str, bool]] = {
    0: (
        "0000000000000000000000000000000000000000000000000000000000000003",
        "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
        "00" * 32,
        "00" * 32,
        "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA8215"
        "25F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0",
        True,
    ),
    1: (
        "B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF",
        KEY,
        "00" * 31 + "01",
        MSG,
        "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE3341"
        "8906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A",
        True,
    ),
    2: (
        "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9",
        "DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8",
        "C87AA53824B4D7AE2EB035A2B5BBBCCC080E76CDC6D1692C4B0B62D798E6D906",
        "7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C",
        "5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1B"
        "AB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7",
        True,
    ),
    3: (
        "0B432B2677937381AEF05BB02A66ECD012773062CF3FA2549E44F58ED2401710",
        "25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517",
        "FF" * 32,
        "FF" * 32,
        "7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC"
        "97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3",
        True,
    ),
    4: (
        "",
        "D69C3509BB99E412E68B0FE8544E72837DFA30746D8BE2AA65975F29D22DC7B9",
        "",
        "4DF3C3F68FCC83B27E9D42C90431A72499F17875C81A599B566C9889B9696703",
        "00000000000000000000003B78CE563F89A0ED9414F5AA28AD0D96D6795F9C63"
        "76AFB1548AF603B3EB45C9F8207DEE1060CB71C04E80F593060B07D28308D7F4",
        True,
    ),
    5: (
        "",
        "EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34",
        "",
        MSG,
        R5 + S5,
        False,
    ),
    6: (
        "",
        KEY,
        "",
        MSG,
        "FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A1460297556"
        "3CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2",
        False,
    ),
    7: (
        "",
        KEY,
        "",
        MSG,
        "1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F"
        "28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD",
        False,
    ),
    8: (
        "",
        KEY,
        "",
        MSG,
        R5 + "961764B3AA9B2FFCB6EF947B6887A226E8D7C93E00C5ED0C1834FF0D0C2E6DA6",
        False,
    ),
    9: (
        "",
        KEY,
        "",
        MSG,
        "00" * 32 + "123DDA8328AF9C23A94C1FEECFD123BA4FB73476F0D594DCB65C6425BD186051",
        False,
    ),
    10: (
        "",
        KEY,
        "",
        MSG,
        "00" * 31 + "01" + "7615FBAF5AE28864013C099742DEADB4DBA87F11AC6754F93780D5A1837CF197",
        False,
    ),
    11: (
        "",
        KEY,
        "",
        MSG,
        "4A298DACAE57395A15D0795DDBFD1DCB564DA82B0F269BC70A74F8220429BA1D" + S5,
        False,
    ),
    12: (
        "",
        KEY,
        "",
        MSG,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F" + S5,
        False,
    ),
    13: (
        "",
        KEY,
        "",
        MSG,
        R5 + "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        False,
    ),
    14: (
        "",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30",
        "",
        MSG,
        R5 + S5,
        False,
    ),
}


@pytest.mark.parametrize("index", sorted(VECTORS))
def test_bip340_vector(index: int) -> None:
    secret, public, aux, message, signature, verifies = VECTORS[index]
    if secret:
        key = PrivateKey(bytes.fromhex(secret))
        assert key.public_key.format(compressed=True)[1:] == bytes.fromhex(public)
        signed = key.sign_schnorr(bytes.fromhex(message), bytes.fromhex(aux))
        assert signed == bytes.fromhex(signature)
    valid = is_valid_schnorr(
        bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    )
    assert valid is verifies


def test_malformed_inputs_do_not_verify() -> None:
    _, public, _, message, _, _ = VECTORS[1]
    assert not is_valid_schnorr(bytes.fromhex(public)[:31], bytes.fromhex(message), b"")
    assert not is_valid_schnorr(bytes.fromhex(public), bytes.fromhex(message), bytes(63))
    assert not is_valid_schnorr(bytes.fromhex(public), bytes.fromhex(message), bytes(64))
