"""A declined case's certificate, end to end: signed by the running service, and verifiable without login."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pypdf
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from support import PORTAL, case_payload, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def signing_cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Requested before ``system``: the certificates process generates its development key here."""
    monkeypatch.setenv("CERTIFICATES_SIGNING_KEY_PATH", str(tmp_path / "signing" / "key.pem"))
    monkeypatch.setenv("CERTIFICATES_SIGNING_CERT_PATH", str(tmp_path / "signing" / "cert.pem"))
    yield tmp_path / "signing" / "cert.pem"


async def issued_certificate_id(intake: httpx.AsyncClient, case_id: str) -> str | None:
    case = (await intake.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    entry = next((e for e in case["timeline"] if e["kind"] == "certificate_issued"), None)
    return entry["reference"] if entry else None


async def test_a_declined_case_gets_a_signed_certificate_whose_number_verifies_as_valid(signing_cert, system):
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        case = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                  headers=PORTAL)).raise_for_status().json()
        certificate_id = await eventually(lambda: issued_certificate_id(intake, case["id"]), timeout=90,
                                          what="the certificate on the timeline")

    async with httpx.AsyncClient(base_url=system.url("certificates"), timeout=30) as certificates:
        facts = (await certificates.get(f"/v1/certificates/{certificate_id}", headers=PORTAL)).raise_for_status().json()
        document = (await certificates.get(f"/v1/certificates/{certificate_id}/pdf", headers=PORTAL)).content
        text = " ".join(" ".join((p.extract_text() or "").split())
                        for p in pypdf.PdfReader(io.BytesIO(document)).pages)
        code = re.search(r"Verification code ([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})", text)
        assert code is not None, "the verification code is printed on the certificate"
        page = await certificates.get("/v1/verify", params={"number": facts["number"], "code": code[1]})
        without_code = await certificates.post("/v1/verify", json={"number": facts["number"], "surname": "Example"})
        answer = await certificates.post("/v1/verify", json={"number": facts["number"], "code": code[1],
                                                             "surname": "Example"})

    assert f"/v1/verify?number={facts['number']}" in text
    assert code[1] == facts["verification_code"]
    assert without_code.status_code == 422
    [signature] = PdfFileReader(io.BytesIO(document)).embedded_signatures
    status = await async_validate_pdf_signature(
        signature, ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_cert))]))
    assert status.bottom_line
    assert page.status_code == 200 and facts["number"] in page.text and code[1] in page.text
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["number"]) == ("valid", facts["number"])


async def test_a_caller_cannot_escape_the_per_address_limit_by_naming_another_address_in_x_forwarded_for(system):
    """The services run under uvicorn with no trusted proxy: X-Forwarded-For is not the caller's address."""
    async with httpx.AsyncClient(base_url=system.url("certificates"), timeout=30) as certificates:
        async def check(serial: int, **headers: str) -> int:
            response = await certificates.post("/v1/verify", headers=headers, json={
                "number": f"MC-2026-{serial:06d}-0", "code": "00000-00000-00000", "surname": "Example"})
            return response.status_code

        answers = [await check(900_000 + i) for i in range(50)]  # distinct numbers: only the address limit binds
        spoofed = await check(900_100, **{"X-Forwarded-For": "203.0.113.9"})

    assert 429 in answers
    assert spoofed == 429
