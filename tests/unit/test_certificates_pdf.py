"""The certificate PDF: content (R16, R17), PAdES signature, and the signing key's origin."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from certificates.certificate import documents as documents_module
from certificates.certificate import pdf, signing
from certificates.certificate.documents import Documents, DocumentTimedOut
from shared.calendar import appeal_deadline

NOTICE_SENT_ON = date(2026, 11, 3)
ISSUED_ON = date(2026, 11, 25)


def content(**overrides: object) -> pdf.CertificateContent:
    fields: dict[str, object] = dict(
        number="MC-2026-000042-5", kind="adviser", issued_on=ISSUED_ON, issuer="Jo Adviser", provider="Mediation Co",
        la_name="Southend-on-Sea", requester_name="Alex Example", requester_role="parent",
        case_reference="SEND-TEST0001", decision="refusal_to_assess", notice_sent_on=NOTICE_SENT_ON,
        mediation_date=None, appeal_deadline=appeal_deadline(notice_sent_on=NOTICE_SENT_ON,
                                                             certificate_issued_on=ISSUED_ON).day,
        verification_url="https://certificates.example/v1/verify?number=MC-2026-000042-5",
    )
    fields.update(overrides)
    return pdf.CertificateContent(**fields)  # type: ignore[arg-type]


def text_of(document: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(document)).pages)


@pytest.fixture
def config(tmp_path: Path) -> signing.SigningConfig:
    return signing.SigningConfig(key_path=tmp_path / "key.pem", cert_path=tmp_path / "cert.pem",
                                 key_passphrase=None, may_generate=True)


async def signed(config: signing.SigningConfig, **overrides: object) -> bytes:
    return await signing.load_signer(config).sign(pdf.render(content(**overrides)), reason="test")


async def validate(document: bytes, cert_path: Path):  # type: ignore[no-untyped-def]
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))])
    [signature] = PdfFileReader(io.BytesIO(document)).embedded_signatures
    return await async_validate_pdf_signature(signature, context)


def test_r17_the_certificate_prints_the_appeal_deadline_the_shared_calendar_gives():
    deadline = appeal_deadline(notice_sent_on=NOTICE_SENT_ON, certificate_issued_on=ISSUED_ON).day

    text = text_of(pdf.render(content()))

    assert deadline == date(2027, 1, 4)  # A = 3 Jan 2027 (a Sunday) beats B = 25 Dec; moved to Monday
    assert "5pm on Monday 4 January 2027" in text
    assert "How to appeal" in text and "SEND35" in text


def test_r16_the_certificate_prints_its_number_kind_and_facts_but_nothing_said_in_mediation():
    text = text_of(pdf.render(content(kind="mediator", mediation_date=date(2026, 11, 20))))

    assert "MC-2026-000042-5" in text
    assert "Mediation certificate: mediation took place" in text
    assert "Mediation took place on 20 November 2026" in text
    assert "Alex Example" in text and "SEND-TEST0001" in text


def test_a_corrected_version_says_which_certificate_it_replaces():
    text = text_of(pdf.render(content(number="MC-2026-000043-3", version=2, supersedes_number="MC-2026-000042-5")))

    assert "corrects and replaces certificate MC-2026-000042-5" in text


def test_the_pdf_has_a_title_and_a_language_for_screen_readers():
    reader = PdfReader(io.BytesIO(pdf.render(content())))

    assert reader.metadata is not None and "MC-2026-000042-5" in (reader.metadata.title or "")
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"


async def test_the_signature_validates_against_the_configured_certificate(config):
    status = await validate(await signed(config), config.cert_path)

    assert status.intact and status.valid and status.trusted
    assert status.bottom_line


async def test_after_the_first_signature_each_certificate_is_signed_once_not_twice(config, monkeypatch):
    signer = signing.load_signer(config)
    raw_signatures: list[bytes] = []
    sign_raw = signer._signer.sign_raw
    monkeypatch.setattr(signer._signer, "sign_raw",
                        lambda data, algorithm: raw_signatures.append(data) or sign_raw(data, algorithm))

    first = await signer.sign(pdf.render(content()), reason="test")
    assert len(raw_signatures) == 2  # pyhanko's size estimate, then the signature
    second = await signer.sign(pdf.render(content(number="MC-2026-000043-3")), reason="test")

    assert len(raw_signatures) == 3  # the size found the first time is reserved: no estimate
    assert signer.bytes_reserved == signing._reserved_in(first)
    status = await validate(second, config.cert_path)
    assert status.intact and status.valid and status.trusted


async def test_changing_a_single_byte_breaks_the_signature(config):
    document = bytearray(await signed(config))
    position = document.index(b"/Producer")  # inside the signed byte range, before the signature
    document[position + 1] ^= 0x01

    status = await validate(bytes(document), config.cert_path)

    assert not status.intact
    assert not status.bottom_line


async def test_a_signature_by_another_key_is_not_trusted(config, tmp_path):
    other = signing.SigningConfig(key_path=tmp_path / "other-key.pem", cert_path=tmp_path / "other-cert.pem",
                                  key_passphrase=None, may_generate=True)

    signing.load_signer(config)

    status = await validate(await signed(other), config.cert_path)

    assert status.intact and not status.trusted


def test_the_development_key_is_generated_once_and_reused(config):
    signing.load_signer(config)
    first = config.cert_path.read_bytes()

    signing.load_signer(config)

    assert config.cert_path.read_bytes() == first
    assert oct(config.key_path.stat().st_mode & 0o777) == "0o600"


def test_production_refuses_to_generate_a_signing_key(tmp_path):
    production = signing.SigningConfig(key_path=tmp_path / "key.pem", cert_path=tmp_path / "cert.pem",
                                       key_passphrase=None, may_generate=False)

    with pytest.raises(signing.SigningKeyMissing):
        signing.load_signer(production)
    assert not production.key_path.exists()


def deadline_content(notice_sent_on: date, issued_on: date) -> pdf.CertificateContent:
    deadline = appeal_deadline(notice_sent_on=notice_sent_on, certificate_issued_on=issued_on)
    return content(notice_sent_on=notice_sent_on, issued_on=issued_on, appeal_deadline=deadline.day,
                   appeal_deadline_unmoved=deadline.unmoved)


def test_r17_a_deadline_between_25_december_and_1_january_is_the_first_working_day_after_1_january():
    # A = 28 Oct + 2 months = Mon 28 Dec 2026 (a bank holiday); B = 2 Dec. Not "the next working day" (29 Dec).
    text = text_of(pdf.render(deadline_content(date(2026, 10, 28), date(2026, 11, 2))))

    assert "5pm on Monday 4 January 2027" in text
    assert ("That date, Monday 28 December 2026, falls between 25 December and 1 January, so the deadline is the "
            "first working day after 1 January.") in text
    assert "so the deadline is the next working day" not in text


def test_r17_a_deadline_in_august_is_the_first_working_day_after_31_august():
    # B = 14 Jul 2027 + 1 month = Sat 14 Aug 2027; the next working day would be Mon 16 Aug.
    text = text_of(pdf.render(deadline_content(date(2027, 6, 1), date(2027, 7, 14))))

    assert "5pm on Wednesday 1 September 2027" in text  # Mon 30 Aug 2027 is a bank holiday, 31 Aug is August
    assert ("That date, Saturday 14 August 2027, falls in August, so the deadline is the first working day after "
            "31 August.") in text
    assert "so the deadline is the next working day" not in text


def test_r17_only_a_deadline_otherwise_not_a_working_day_moves_to_the_next_working_day():
    # A = 3 Nov + 2 months = Sun 3 Jan 2027: after 1 January, so rule 12(2), not 12(3).
    text = text_of(pdf.render(deadline_content(NOTICE_SENT_ON, ISSUED_ON)))

    assert "That date, Sunday 3 January 2027, is not a working day, so the deadline is the next working day." in text
    assert "first working day after 1 January. A deadline" not in text


def test_r17_a_deadline_that_does_not_move_is_not_explained_as_moved():
    # A = 2 Sep + 2 months = Mon 2 Nov 2026, a working day; B = 1 Oct + 1 month = Sun 1 Nov.
    text = text_of(pdf.render(deadline_content(date(2026, 9, 2), date(2026, 10, 1))))

    assert "5pm on Monday 2 November 2026" in text
    assert "That date," not in text


def test_r10_a_replacement_after_a_missed_30_days_says_mediation_took_place_later():
    text = text_of(pdf.render(content(kind="missed_deadline", mediation_date=date(2026, 11, 24), version=2,
                                      supersedes_number="MC-2026-000042-5")))

    assert "Mediation certificate: mediation could not be arranged within 30 days" in text
    assert "Mediation took place later, on 24 November 2026" in text
    assert "corrects and replaces certificate MC-2026-000042-5, keeping its issue date" in text


def test_the_certificate_prints_its_verification_code_and_its_qr_code_carries_it():
    url = "https://certificates.example/v1/verify?number=MC-2026-000042-5&code=7Q2KD-M9XHE-4TRWB"

    text = text_of(pdf.render(content(verification_url=url, verification_code="7Q2KD-M9XHE-4TRWB")))
    qr = pdf._qr(url, 30)

    assert "Verification code 7Q2KD-M9XHE-4TRWB" in text
    assert "go to https://certificates.example/v1/verify?number=MC-2026-000042-5, and enter the verification code" in text
    assert (qr.value, qr.symbol.error, qr.symbol.mode) == (url, "M", "byte")


def test_the_qr_code_is_drawn_module_for_module_with_its_quiet_zone():
    url = "https://certificates.example/v1/verify?number=MC-2026-000042-5&code=7Q2KD-M9XHE-4TRWB"
    qr = pdf._qr(url, 30)
    symbol = [list(row) for row in qr.symbol.matrix_iter(border=4)]

    drawn = [[0] * len(symbol) for _ in symbol]
    for row, first, length in qr.dark_runs():
        for column in range(first, first + length):
            drawn[row][column] = 1

    assert drawn == symbol
    assert all(not any(row) for row in symbol[:4] + symbol[-4:])  # the quiet zone stays light
    assert symbol[4][4:11] == [1] * 7  # a finder pattern's top edge in the corner


def test_a_certificate_draws_one_rectangle_for_each_run_of_dark_modules_of_its_qr_code():
    url = "https://certificates.example/v1/verify?number=MC-2026-000042-5&code=7Q2KD-M9XHE-4TRWB"
    document = pdf.render(content(verification_url=url, verification_code="7Q2KD-M9XHE-4TRWB"))

    filled = sum(page.get_contents().get_data().count(b" re f") for page in PdfReader(io.BytesIO(document)).pages)

    assert filled >= len(pdf._qr(url, 30).dark_runs())


# --- the pool of processes that render and sign (issue 12) -----------------------------------------------------


async def test_a_certificate_made_in_the_pool_is_signed_and_validates(config):
    documents = Documents(config, processes=1)
    try:
        document = await documents.render_and_sign(content(), reason="test")
        children = multiprocessing.active_children()
    finally:
        await documents.aclose()

    assert children, "made in another process"
    status = await validate(document, config.cert_path)
    assert status.intact and status.valid and status.trusted
    assert "MC-2026-000042-5" in text_of(document)
    assert multiprocessing.active_children() == []  # closed: no process outlives the service


async def test_a_render_that_fails_in_the_pool_raises_its_own_error_and_the_next_one_is_made(config):
    documents = Documents(config, processes=1)
    try:
        with pytest.raises(KeyError):
            await documents.render_and_sign(content(kind="no_such_kind"), reason="test")
        document = await documents.render_and_sign(content(), reason="test")
    finally:
        await documents.aclose()

    assert (await validate(document, config.cert_path)).bottom_line


async def test_a_pool_process_that_dies_fails_its_certificate_and_a_new_pool_makes_the_next(config):
    earlier = set(multiprocessing.active_children())
    documents = Documents(config, processes=1)
    try:
        await documents.render_and_sign(content(), reason="test")
        [child] = set(multiprocessing.active_children()) - earlier
        pending = asyncio.ensure_future(documents.render_and_sign(content(), reason="test"))
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        with pytest.raises(BrokenProcessPool):
            await pending
        document = await documents.render_and_sign(content(), reason="test")
    finally:
        await documents.aclose()

    assert (await validate(document, config.cert_path)).bottom_line


HANGS = "Hangs For Ever"


def document_or_hang(content: pdf.CertificateContent, reason: str) -> bytes:
    """In a pool process, for ``documents.document_in_pool``: the real document, except for a requester called
    ``HANGS``, whose render never ends (as one stuck in a loop would)."""
    from certificates.certificate import documents as in_the_pool

    if content.requester_name == HANGS:
        time.sleep(3600)
    return in_the_pool.document_in_pool(content, reason)


def running(pid: int | None) -> bool:
    """Whether the process still runs, as the kernel says: gone, or dead and not yet reaped (a zombie), is not.

    ``Process.is_alive()`` asks ``waitpid``, which answers only the first waiter: once something else has reaped
    the killed process, it can go on saying True for a process that no longer exists (seen once in CI, after
    the kill; the likely reading, not a proven one).
    """
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}


async def test_a_render_that_hangs_in_the_pool_fails_after_the_timeout_its_process_is_killed_and_the_next_is_made(
        config, monkeypatch):
    monkeypatch.setattr(documents_module, "document_in_pool", document_or_hang)
    earlier = set(multiprocessing.active_children())  # another test's, in this worker: not this pool's
    documents = Documents(config, processes=1, timeout=120)  # a deadline for the pool's start-up, not a speed
    try:
        await documents.render_and_sign(content(), reason="test")
        [hung] = set(multiprocessing.active_children()) - earlier
        documents.timeout = 1.0  # the hung render's; the render itself never ends
        with pytest.raises(DocumentTimedOut):  # the outer deadline fails the test, not hangs it, without one
            await asyncio.wait_for(documents.render_and_sign(content(requester_name=HANGS), reason="test"), 60)
        hung.join(timeout=30)
        assert not running(hung.pid)  # killed: it would otherwise sleep in the pool for an hour
        documents.timeout = 120
        document = await documents.render_and_sign(content(), reason="test")  # in a new pool
    finally:
        await documents.aclose()

    assert (await validate(document, config.cert_path)).bottom_line
    assert set(multiprocessing.active_children()) - earlier == set()


def test_the_pool_processes_end_when_their_service_is_killed_outright(tmp_path):
    """SIGKILL runs no shutdown: without more, the pool's processes would wait for work for ever, as orphans."""
    script = (
        "import asyncio, os, signal, sys, multiprocessing\n"
        "from pathlib import Path\n"
        "from certificates.certificate import signing\n"
        "from certificates.certificate.documents import Documents\n"
        "from test_certificates_pdf import content\n"
        "async def main():\n"
        f"    config = signing.SigningConfig(Path({str(tmp_path)!r}) / 'key.pem', Path({str(tmp_path)!r}) / 'cert.pem',"
        " None, True)\n"
        "    documents = Documents(config, processes=2)\n"
        "    documents.start()\n"
        "    await asyncio.gather(*(documents.render_and_sign(content(), reason='test') for _ in range(2)))\n"
        f"    Path({str(tmp_path / 'pids')!r}).write_text("
        "' '.join(str(p.pid) for p in multiprocessing.active_children()))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n"
    )
    path = tmp_path / "service.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    run = subprocess.run([sys.executable, str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         timeout=120, check=False)
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]

    assert run.returncode == -signal.SIGKILL and pids

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)
