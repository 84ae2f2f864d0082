"""The currency's supply report and certificates of origin.

Members read the supply report (an aggregate, as the head's total supply is). A
member reads its own certificates, claims and matching report; the operator, the
regulator and the peers read anyone's, logged where the household sees it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import address_path
from gridledger.client.currency_replies import (
    CertificateReportReply,
    CertificatesReply,
    SupplyReply,
)
from gridledger.node import Node
from gridledger.node.access import check_member, check_own
from gridledger.node.currency_views import (
    certificate_report_view,
    certificates_view,
    supply_view,
)


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["currency and certificates"])
    read = consistent_get(routes, node)

    @read(
        "/v1/currency/supply",
        summary="The issuer's supply report: issued = live + expired + burned (micro-units)",
        responses={**ok(SupplyReply), **errors(403)},
    )
    async def get_supply(request: Request) -> Response:
        check_member(caller_of(request))
        return reply(supply_view(node))

    @read(
        "/v1/certificates/{address}",
        summary="A member's certificates of origin (Wh held) and the claims it made",
        responses={**ok(CertificatesReply), **errors(400, 403)},
    )
    async def get_certificates(request: Request, address: str = address_path()) -> Response:
        check_own(caller_of(request), address, f"the certificates of {address}")
        audit(request, address, "certificates")
        return reply(certificates_view(node, address))

    @read(
        "/v1/certificates/{address}/report",
        summary="A member's consumption matched by certificates hour by hour (24/7 score)",
        responses={**ok(CertificateReportReply), **errors(400, 403)},
    )
    async def get_certificate_report(request: Request, address: str = address_path()) -> Response:
        check_own(caller_of(request), address, f"the certificate report of {address}")
        audit(request, address, "certificate report")
        return reply(certificate_report_view(node, address))

    return routes
