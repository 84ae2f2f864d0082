"""The words some contract methods take as arguments: proposal kinds, ballot choices and
audit flag kinds.

In a module without imports, so the CLI can name them in its help texts without loading
the contracts (and with them the ledger state and numpy). `governance` checks its
arguments against `KINDS` and `CHOICES`; `corrections` spells `FLAG_KINDS` as the
``Literal`` type of a flag's kind.
"""

KINDS = ("admission", "revocation", "parameters", "motion")
"""What a governance proposal may be about."""
CHOICES = ("yes", "no", "abstain")
"""A governance ballot's choices."""
FLAG_KINDS = ("trade", "transaction")
"""What an audit flag (`corrections`) may be raised on."""
