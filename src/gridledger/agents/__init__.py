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
from gridledger.agents.devices import (
    Battery,
    PvSite,
    SeriesProfile,
    bdew_load_profile,
    clear_sky_pv_profile,
    series_profile,
)
from gridledger.agents.forecast import DeviceModel, MovingAverage, Persistence, make_forecaster
from gridledger.agents.household import Household, Metered, Position, Variation
from gridledger.agents.pricing_agent import HouseholdPosition, PriceOperator, PricePosting
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
from gridledger.agents.zero_intelligence import ZeroIntelligence

__all__ = [
    "CASE_STUDY_CONSUMERS",
    "CASE_STUDY_GENERATORS",
    "Battery",
    "BilateralBuyer",
    "BilateralSeller",
    "CapProposal",
    "CapRegulator",
    "ConsumerParameters",
    "DeviceModel",
    "Household",
    "HouseholdPosition",
    "LearningConsumer",
    "LearningProducer",
    "Metered",
    "MovingAverage",
    "OfferTerms",
    "Persistence",
    "Position",
    "PriceOperator",
    "PricePosting",
    "ProducerParameters",
    "PvSite",
    "RegulatorParameters",
    "SeriesProfile",
    "Speculator",
    "SpeculatorParameters",
    "Variation",
    "ZeroIntelligence",
    "agree_arguments",
    "agreement_message_for",
    "bdew_load_profile",
    "change_market_arguments",
    "clear_sky_pv_profile",
    "make_forecaster",
    "offer_from_record",
    "propose_cap",
    "series_profile",
]
