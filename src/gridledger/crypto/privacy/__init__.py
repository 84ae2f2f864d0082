"""Privacy primitives on secp256k1: stealth addresses, LSAG ring signatures, Pedersen
commitments and range proofs. Pure functions, no I/O."""
