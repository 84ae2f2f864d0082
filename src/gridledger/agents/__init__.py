"""Households that trade: devices, forecasts and bidding strategies (see interfaces.py)."""

from gridledger.agents.bilateral import (
    BilateralBuyer,
    BilateralSeller,
    OfferTerms,
    agree_arguments,
    agreement_message_for,
    offer_from_record,
)
from gridledger.agents.consumer import (
    CASE_STUDY_CONSUMERS,
    ConsumerParameters,
    LearningConsumer,
)
from gridledger.agents.producer import (
    CASE_STUDY_GENERATORS,
    LearningProducer,
    ProducerParameters,
)
from gridledger.agents.regulator import (
    CapProposal,
    CapRegulator,
    RegulatorParameters,
    change_market_arguments,
    propose_cap,
)
from gridledger.agents.speculator import Speculator, SpeculatorParameters

__all__ = [
    "CASE_STUDY_CONSUMERS",
    "CASE_STUDY_GENERATORS",
    "BilateralBuyer",
    "BilateralSeller",
    "CapProposal",
    "CapRegulator",
    "ConsumerParameters",
    "LearningConsumer",
    "LearningProducer",
    "OfferTerms",
    "ProducerParameters",
    "RegulatorParameters",
    "Speculator",
    "SpeculatorParameters",
    "agree_arguments",
    "agreement_message_for",
    "change_market_arguments",
    "offer_from_record",
    "propose_cap",
]
