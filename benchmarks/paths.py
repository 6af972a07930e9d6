"""The two paths end to end, to the email accepted by a real SMTP server, and the backlog drains of each.

The four services run as uvicorn processes on one Kafka broker and one PostgreSQL server (a database each);
notifications delivers to an aiosmtpd server the benchmark starts (``SmtpSink``), which records when it
accepted each message and for whom. Every case has a requester address of its own, so the sink's record
names the case without reading any database.

- **decline path**: ``POST /v1/cases`` with ``kind: mediation_declined`` -> ``case.mediation_declined`` ->
  certificates requests the adviser certificate, its issuer renders and signs the PDF ->
  ``certificate.document_ready`` -> notifications emails it, PDF attached -> accepted by SMTP;
- **mediation path**: ``POST /v1/cases`` -> ``case.submitted`` -> scheduling books a meeting ->
  ``meeting.scheduled`` -> notifications emails the invitation -> accepted by SMTP.

Each path is driven at a fixed arrival rate (``BENCH_PATHS_RATE`` cases/s, an open loop: a slow answer
does not slow the arrivals) for ``BENCH_PATHS_CASES`` cases (``BENCH_PATHS_KINDS``: ``decline``, ``mediation``
or both, the default, comma-separated; the drains follow the same choice); latency runs from just before the POST to the
SMTP server's acceptance of the requester's email (certificate, or invitation). Each case's way is broken
down hop by hop from the times the services record themselves (one machine, one clock).

Baselines, in the same run (``BENCH_BASELINES=0`` skips them): a raw Kafka round trip, the PDF render +
sign alone (the certificates service's own ``pdf.render`` and ``PdfSigner.sign``, in this process, one at
a time, ``BENCH_PDF_SIGNS``), one SMTP handoff alone (aiosmtplib, over one kept connection as each of the
sender's slots keeps one, an email of the certificate's size to the same sink, ``BENCH_SMTP_SENDS``), and one booking
search alone (``BENCH_BOOKING_SEARCHES``, on scheduling's database as sized for each drain).

Backlog drains (``BENCH_DRAIN_SIZES``, comma-separated, ``0`` or empty skips them): for each size N and
each path, the consumer services are stopped (certificates and notifications; scheduling and
notifications), N cases are submitted and published, then the first consumer is started again and timed
until it has done all N (certificates issued; meetings booked), then notifications is started and timed
until every email of the backlog is accepted by SMTP. Rate = items / (last item - /readyz answered again);
the baseline is the rate of the unavoidable per-item work alone (1 / mean of render + sign, booking
search, SMTP handoff), measured while the consumers are stopped. Before each mediation drain the pool grows
by N / ``BENCH_DRAIN_BOOKINGS_PER_MEDIATOR`` mediators so the backlog can be booked in its 30 days.

Memory: every service's RSS is sampled each second for the whole run; per service, the longest-lived
process's series (with large drains, the one that lived through the largest) is reported, from 20 s after it began (imports and
start-up are not use), as start, peak, end and the slope of a least-squares line over its second half, in
MiB per minute.

``python -m benchmarks.paths``
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import httpx
from aiosmtpd.controller import Controller

from benchmarks.common import (
    OPS,
    PORTAL,
    Infra,
    Timed,
    case_payload,
    env_float,
    env_int,
    install_signal_handlers,
    report,
    summarise,
    wait_ready,
    write_result,
)
from benchmarks.intake_api import drain_time
from benchmarks.pipeline import _epoch, _rows, booking_search, hops, kafka_round_trip, seed_pool
from benchmarks.resources import RssSeries, cpu_by_part, listening_pid, pid_of
from certificates.certificate import pdf
from certificates.certificate.signing import PdfSigner, SigningConfig, load_signer
from notifications.message import rendering
from shared.events.cases import CertificateFactsMediationDeclinedV1
from shared.events.certificates import CertificateDocumentReadyV1
from shared.events.meetings import MeetingScheduledV1
from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess

CERTIFICATE_SUBJECT = "Your mediation certificate"
INVITATION_SUBJECT = "Your mediation meeting is booked"


def say(what: str) -> None:
    """Progress on a long run (a 10,000-case drain takes many minutes without a table)."""
    print(f"  paths {datetime.now(UTC):%H:%M:%S}: {what}", flush=True)


# --- the SMTP server ------------------------------------------------------------------------------------------

@dataclass
class SmtpSink:
    """aiosmtpd on loopback (its own thread): accepts everything and records when, for whom, what subject.

    Nothing is written to disk (a 10,000-case drain would write gigabytes of PDFs).
    """

    host: str = "127.0.0.1"
    port: int = 0
    accepted: list[float] = field(default_factory=list)  # every acceptance, in order
    by_rcpt: dict[str, list[tuple[float, str, int]]] = field(default_factory=dict)  # (at, subject, bytes)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.time()
        content: bytes = envelope.original_content
        headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
        subject = str(headers.get("Subject", ""))
        with self._lock:
            self.accepted.append(at)
            for rcpt in envelope.rcpt_tos:
                self.by_rcpt.setdefault(rcpt.lower(), []).append((at, subject, len(content)))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self.port = self.port or free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def first(self, rcpt: str, subject: str) -> float | None:
        with self._lock:
            return next((at for at, s, _ in self.by_rcpt.get(rcpt, []) if s == subject), None)

    def size_of(self, rcpt: str, subject: str) -> int | None:
        with self._lock:
            return next((n for _, s, n in self.by_rcpt.get(rcpt, []) if s == subject), None)

    def accepted_between(self, begin: float, end: float) -> int:
        with self._lock:
            return sum(1 for at in self.accepted if begin <= at <= end)

    async def wait_for(self, rcpts: list[str], subject: str, *, timeout: float) -> dict[str, float]:
        """When each address got its first email with ``subject``: all of them, or those that did by ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = {rcpt: at for rcpt in rcpts if (at := self.first(rcpt, subject)) is not None}
            if len(found) == len(rcpts) or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)


# --- load -----------------------------------------------------------------------------------------------------

@dataclass
class Sent:
    """The cases one phase submitted, by requester address (each case has its own)."""

    at: dict[str, float] = field(default_factory=dict)  # before the POST
    answered: dict[str, float] = field(default_factory=dict)
    case_of: dict[str, str] = field(default_factory=dict)  # address -> case id
    timed: Timed = field(default_factory=Timed)

    def by_case(self, values: dict[str, float]) -> dict[str, float]:
        return {self.case_of[rcpt]: at for rcpt, at in values.items() if rcpt in self.case_of}


def _body(kind: str, rcpt: str) -> dict[str, Any]:
    requester = {"role": "parent", "name": "Alex Example", "email": rcpt}
    if kind == "decline":
        return case_payload(kind="mediation_declined", mediation_issues=[], requester=requester)
    return case_payload(requester=requester)


def _addresses(tag: str, cases: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{tag}-{run}-{number}@bench.example.org" for number in range(cases)]


async def _post(client: httpx.AsyncClient, rcpt: str, body: dict[str, Any], sent: Sent) -> None:
    at, begin = time.time(), time.perf_counter()
    try:
        response = await client.post("/v1/cases", json=body,
                                      headers={**PORTAL, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"})
    except httpx.HTTPError as exc:
        sent.timed.error(f"{type(exc).__name__}: {exc}")
        return
    if response.status_code != 201:
        sent.timed.error(f"HTTP {response.status_code} {response.text[:200]}")
        return
    sent.timed.latencies.append(time.perf_counter() - begin)
    sent.at[rcpt], sent.answered[rcpt], sent.case_of[rcpt] = at, time.time(), response.json()["id"]


async def open_loop(client: httpx.AsyncClient, kind: str, *, cases: int, rate: float) -> Sent:
    """One case every 1/``rate`` seconds, whatever the answers take."""
    sent, tasks = Sent(), []
    sent.timed.started = begin = time.perf_counter()
    for number, rcpt in enumerate(_addresses(kind, cases)):
        delay = begin + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(client, rcpt, _body(kind, rcpt), sent)))
    await asyncio.gather(*tasks)
    sent.timed.finished = time.perf_counter()
    return sent


async def closed_loop(client: httpx.AsyncClient, kind: str, *, cases: int, concurrency: int) -> Sent:
    sent = Sent()
    addresses = iter(_addresses(kind, cases))

    async def worker() -> None:
        for rcpt in addresses:
            await _post(client, rcpt, _body(kind, rcpt), sent)

    sent.timed.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sent.timed.finished = time.perf_counter()
    return sent


# --- baselines ------------------------------------------------------------------------------------------------

def _content(number: int) -> pdf.CertificateContent:
    today = datetime.now(UTC).date()
    return pdf.CertificateContent(
        number=f"MC-{today.year}-{number:06d}-0", kind="adviser", issued_on=today, issuer="Mediation adviser",
        provider="KIDS SEND Mediation", la_name="Southend-on-Sea City Council", requester_name="Alex Example",
        requester_role="parent", case_reference=f"SOU-{number:06d}", decision="refusal_to_assess",
        notice_sent_on=today - timedelta(days=19), mediation_date=None, appeal_deadline=today + timedelta(days=60),
        verification_url=f"http://127.0.0.1:8003/v1/verify?number=MC-{number}&code=ABCD-EFGH",
        verification_code="ABCD-EFGH")


async def render_and_sign(signer: PdfSigner, *, items: int) -> tuple[Timed, bytes]:
    """The certificates service's own render and sign, one certificate at a time, in this process."""
    timed, signed = Timed(), b""
    timed.started = time.perf_counter()
    for number in range(items):
        begin = time.perf_counter()
        signed = await signer.sign(pdf.render(_content(number)), reason=f"SEND mediation certificate {number}")
        timed.latencies.append(time.perf_counter() - begin)
    timed.finished = time.perf_counter()
    return timed, signed


async def smtp_handoff(sink: SmtpSink, attachment: bytes, *, items: int) -> Timed:
    """Emails of the certificate's shape (text, HTML, the signed PDF) one after another over one connection, as
    each of the sender's slots sends them (``NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS``)."""
    timed = Timed()
    timed.started = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=30)
    await client.connect()
    for number in range(items):
        email = rendering.build_email(
            message_id=f"<{uuid.uuid4()}@bench.example.org>", from_address="SEND <no-reply@bench.example.org>",
            reply_to="send@bench.example.org", to_name="Alex Example", to_address=f"smtp-{number}@bench.example.org",
            subject="Baseline: SMTP handoff", text="Your mediation certificate is attached.\n" * 20,
            html="<p>Your mediation certificate is attached.</p>" * 20, attachment=("certificate.pdf", attachment),
            calendar=None)
        begin = time.perf_counter()
        await client.send_message(email)
        timed.latencies.append(time.perf_counter() - begin)
    timed.finished = time.perf_counter()
    await client.quit()
    return timed


# --- the run --------------------------------------------------------------------------------------------------

def _params() -> dict[str, Any]:
    sizes = [int(s) for s in os.environ.get("BENCH_DRAIN_SIZES", "200").replace(" ", "").split(",") if s and int(s) > 0]
    return {"cases": env_int("BENCH_PATHS_CASES", 100), "rate_per_s": env_float("BENCH_PATHS_RATE", 10.0),
            "warmup": env_int("BENCH_PATHS_WARMUP", 3), "timeout_s": env_float("BENCH_PATHS_TIMEOUT", 180),
            "drain_sizes": sizes, "drain_concurrency": env_int("BENCH_DRAIN_CONCURRENCY", 8),
            "drain_timeout_s": env_float("BENCH_DRAIN_TIMEOUT", 0),  # 0: 60 s + 1 s a case
            "bookings_per_mediator": env_int("BENCH_DRAIN_BOOKINGS_PER_MEDIATOR", 15),
            "mediators": env_int("BENCH_MEDIATORS", 40), "baselines": env_int("BENCH_BASELINES", 1),
            "pdf_signs": env_int("BENCH_PDF_SIGNS", 30), "smtp_sends": env_int("BENCH_SMTP_SENDS", 100),
            "booking_searches": env_int("BENCH_BOOKING_SEARCHES", 50),
            "kafka_messages": env_int("BENCH_KAFKA_MESSAGES", 200),
            "kinds": [k for k in os.environ.get("BENCH_PATHS_KINDS", "decline,mediation").replace(" ", "").split(",")
                      if k in ("decline", "mediation")]}


def run(infra: Infra) -> dict[str, Any]:
    params = _params()
    namespace = infra.new_namespace()
    sink = SmtpSink().start()
    processes: dict[str, ServiceProcess] = {}
    databases: dict[str, str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-signing-") as folder:
            signing = SigningConfig(key_path=Path(folder) / "key.pem", cert_path=Path(folder) / "cert.pem",
                                    key_passphrase=None, may_generate=True)
            signer = load_signer(signing)  # generated here once; the certificates service loads the same key
            for spec in SERVICES:
                databases[spec.name] = infra.create_database(spec.name)
                more: dict[str, str] = {}
                if spec.name == "notifications":
                    more = {"smtp_host": sink.host, "smtp_port": str(sink.port)}
                if spec.name == "certificates":
                    more = {"signing_key_path": str(signing.key_path), "signing_cert_path": str(signing.cert_path)}
                env = infra.service_env(spec.env_prefix, database_url=databases[spec.name], namespace=namespace, **more)
                processes[spec.name] = infra.service(spec.name, spec.app_factory, spec.env_prefix, env)
            result = asyncio.run(measure(infra, processes, databases, sink, signer, namespace, params))
    finally:
        for process in processes.values():
            infra.stop(process)
        sink.stop()
    report("paths", "Decline and mediation paths to SMTP, baselines, backlog drains",
           params={k: v for k, v in params.items() if k != "kafka_messages"},
           rows=result["rows"], notes=result["notes"])
    write_result("paths_memory", params={"interval_s": 1.0},
                 rows=[{"name": name, **values} for name, values in result["memory"].items()])
    _print_memory(result["memory"])
    write_result("paths_cpu", params={"cases": params["cases"], "rate_per_s": params["rate_per_s"],
                                      "cores": os.cpu_count()},
                 rows=[{"name": kind, "cpu_ms_per_case": values, "total_cpu_ms_per_case": round(sum(values.values()), 2)}
                       for kind, values in result["cpu"].items()])
    _print_cpu(result["cpu"], params["rate_per_s"])
    return result


def _print_memory(memory: dict[str, dict[str, Any]]) -> None:
    print("\nRSS per service over the run (the longest-lived process of each; slope over its second half)")
    print(f"{'service':<14} {'start MiB':>9} {'peak MiB':>9} {'end MiB':>8} {'MiB/min':>8} {'minutes':>8} {'restarts':>8}")
    for name, values in memory.items():
        slope = "-" if values["slope_mib_per_min"] is None else f"{values['slope_mib_per_min']:.3f}"
        print(f"{name:<14} {values['start_mib']:>9.1f} {values['peak_mib']:>9.1f} {values['end_mib']:>8.1f} "
              f"{slope:>8} {values['minutes']:>8.2f} {values['restarts']:>8}", flush=True)


async def measure(infra: Infra, processes: dict[str, ServiceProcess], databases: dict[str, str], sink: SmtpSink,
                  signer: PdfSigner, namespace: str, params: dict[str, Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    cpu: dict[str, dict[str, float]] = {}
    await asyncio.gather(*(wait_ready(p) for p in processes.values()))
    async with RssSeries(list(processes.values())) as rss, \
            httpx.AsyncClient(base_url=processes["intake"].url, timeout=60,
                              limits=httpx.Limits(max_connections=200)) as portal, \
            httpx.AsyncClient(base_url=processes["scheduling"].url, timeout=60) as ops:
        await seed_pool(ops, params["mediators"])
        if params["baselines"]:
            timed = await kafka_round_trip(infra.bootstrap, f"{namespace}bench.round-trip",
                                           messages=params["kafka_messages"])
            rows.append(summarise("baseline: Kafka produce -> consume", timed.latencies, duration_s=timed.duration))
            timed, signed = await render_and_sign(signer, items=params["pdf_signs"])
            rows.append(summarise("baseline: PDF render + sign alone", timed.latencies, duration_s=timed.duration,
                                  pdf_bytes=len(signed)))
            timed = await smtp_handoff(sink, signed, items=params["smtp_sends"])
            rows.append(summarise("baseline: SMTP handoff alone (certificate-sized email)", timed.latencies,
                                  duration_s=timed.duration))
        if params["warmup"]:
            for kind, subject in _chosen(params):
                warm = await closed_loop(portal, kind, cases=params["warmup"], concurrency=1)
                got = await sink.wait_for(list(warm.case_of), subject, timeout=params["timeout_s"])
                if len(got) < len(warm.case_of):
                    notes.append(f"warm-up: {len(warm.case_of) - len(got)} {kind} emails did not arrive")
        roots = _cpu_roots(infra, processes)
        for kind, subject in _chosen(params):
            say(f"{kind} path: {params['cases']} cases at {params['rate_per_s']:g}/s")
            before = cpu_by_part(roots)
            rows.extend(await one_path(kind, subject, portal, sink, databases, params, notes))
            after = cpu_by_part(roots)
            cpu[kind] = {part: round(1000 * (after[part] - before[part]) / params["cases"], 2) for part in after}
        if params["baselines"] and not params["drain_sizes"]:
            timed = await booking_search(databases["scheduling"], searches=params["booking_searches"])
            rows.append(summarise("baseline: one booking search alone", timed.latencies, duration_s=timed.duration))
        for size in params["drain_sizes"]:
            if "decline" in params["kinds"]:
                rows.extend(await decline_drain(size, processes, portal, sink, signer, databases, params, notes))
            if "mediation" in params["kinds"]:
                rows.extend(await mediation_drain(size, processes, portal, ops, sink, databases, params, notes))
    return {"rows": rows, "notes": notes, "memory": rss.summary(), "cpu": cpu}


def _cpu_roots(infra: Infra, processes: dict[str, ServiceProcess]) -> dict[str, int]:
    """The processes whose CPU is counted: each service (with the certificates' signing pool, its children), the
    Kafka broker and the PostgreSQL server (found by the ports they listen on, where they run on this machine)."""
    roots = {name: pid_of(process) for name, process in processes.items()}
    for part, port in (("kafka", infra.bootstrap.rsplit(":", 1)[-1]),
                       ("postgresql", (urlsplit(infra.admin_url).port or 5432))):
        pid = listening_pid(int(port))
        if pid is not None:
            roots[part] = pid
    return roots


def _print_cpu(cpu: dict[str, dict[str, float]], rate: float) -> None:
    """Milliseconds of CPU per case, per part, from the first POST to the last email accepted (the path's queues
    drained): the cores the path keeps busy at the arrival rate, against the machine's."""
    if not cpu:
        return
    kinds = list(cpu)
    print(f"\nCPU per case over each path (ms of CPU per case, all of its work; {os.cpu_count()} cores here)")
    print(f"{'part':<14} " + " ".join(f"{kind:>10}" for kind in kinds))
    for part in sorted({part for values in cpu.values() for part in values}):
        print(f"{part:<14} " + " ".join(f"{cpu[kind].get(part, 0.0):>10.1f}" for kind in kinds))
    totals = {kind: sum(values.values()) for kind, values in cpu.items()}
    print(f"{'total':<14} " + " ".join(f"{totals[kind]:>10.1f}" for kind in kinds))
    print(f"{f'cores at {rate:g}/s':<14} " + " ".join(f"{totals[kind] * rate / 1000:>10.2f}" for kind in kinds),
          flush=True)


def _chosen(params: dict[str, Any]) -> list[tuple[str, str]]:
    return [(kind, subject) for kind, subject in (("decline", CERTIFICATE_SUBJECT), ("mediation", INVITATION_SUBJECT))
            if kind in params["kinds"]]


async def one_path(kind: str, subject: str, portal: httpx.AsyncClient, sink: SmtpSink, databases: dict[str, str],
                   params: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    sent = await open_loop(portal, kind, cases=params["cases"], rate=params["rate_per_s"])
    got = await sink.wait_for(list(sent.case_of), subject, timeout=params["timeout_s"])
    notes.extend(f"{kind}: submission failed: {sample}" for sample in sent.timed.error_samples)
    if len(got) < len(sent.case_of):
        notes.append(f"{kind}: {len(sent.case_of) - len(got)} of {len(sent.case_of)} emails not accepted within "
                     f"{params['timeout_s']} s (counted as errors)")
    first = min(sent.at.values(), default=0.0)
    label = "decline path: POST -> certificate email accepted by SMTP" if kind == "decline" else \
        "mediation path: POST -> invitation email accepted by SMTP"
    rows = [summarise(f"{kind} path: intake POST /v1/cases (answered)", sent.timed.latencies,
                      duration_s=sent.timed.duration, errors=sent.timed.errors),
            summarise(label, [at - sent.at[rcpt] for rcpt, at in got.items()],
                      duration_s=max(got.values(), default=first) - first,
                      errors=len(sent.case_of) - len(got) + sent.timed.errors,
                      arrival_rate_per_s=params["rate_per_s"])]
    if kind == "decline":
        rows.extend(await decline_hops(databases, sent, got, sink))
    else:
        rows.extend(await mediation_hops(databases, sent, got))
    return rows


async def decline_hops(databases: dict[str, str], sent: Sent, got: dict[str, float],
                       sink: SmtpSink) -> list[dict[str, Any]]:
    cases = list(sent.case_of.values())
    rcpt_of = {case_id: rcpt for rcpt, case_id in sent.case_of.items()}
    out_intake = await _rows(databases["intake"], "SELECT event_id, subject, created_at, published_at FROM "
                             "outbox_events WHERE type = $1 AND subject = ANY($2::text[])",
                             CertificateFactsMediationDeclinedV1.type, cases)  # the copy certificates reads
    handled_cert = {r["event_id"]: _epoch(r["handled_at"]) for r in await _rows(
        databases["certificates"], "SELECT event_id, handled_at FROM inbox_events WHERE event_id = ANY($1::text[])",
        [r["event_id"] for r in out_intake])}
    certificates = {r["case_id"]: r for r in await _rows(
        databases["certificates"], "SELECT case_id, created_at, issued_at FROM certificates "
        "WHERE kind = 'adviser' AND case_id = ANY($1::text[])", cases)}
    ready = {r["subject"]: r for r in await _rows(
        databases["certificates"], "SELECT event_id, subject, created_at, published_at FROM outbox_events "
        "WHERE type = $1 AND subject = ANY($2::text[])", CertificateDocumentReadyV1.type, cases)}
    handled_notif = {r["event_id"]: _epoch(r["handled_at"]) for r in await _rows(
        databases["notifications"], "SELECT event_id, handled_at FROM inbox_events WHERE event_id = ANY($1::text[])",
        [r["event_id"] for r in ready.values()])}
    messages = {r["case_id"]: r for r in await _rows(
        databases["notifications"], "SELECT case_id, created_at, sent_at FROM messages WHERE template = "
        "'certificate_issued' AND recipient_role = 'requester' AND case_id = ANY($1::text[])", cases)}
    spans: dict[str, list[float]] = {name: [] for name in DECLINE_HOPS}
    for row in out_intake:
        case_id = row["subject"]
        rcpt = rcpt_of[case_id]
        answered = sent.answered[rcpt]
        spans[DECLINE_HOPS[0]].append(answered - sent.at[rcpt])
        if row["published_at"] is None:
            continue
        published = _epoch(row["published_at"])
        spans[DECLINE_HOPS[1]].append(published - answered)
        handled = handled_cert.get(row["event_id"])
        if handled is None:
            continue
        spans[DECLINE_HOPS[2]].append(handled - published)
        spans[DECLINE_HOPS[10]].append(handled - answered)
        certificate, doc = certificates.get(case_id), ready.get(case_id)
        if certificate is None or certificate["issued_at"] is None or doc is None:
            continue
        issued = _epoch(certificate["issued_at"])
        spans[DECLINE_HOPS[3]].append(issued - handled)
        spans[DECLINE_HOPS[4]].append(_epoch(doc["created_at"]) - issued)
        if doc["published_at"] is None:
            continue
        doc_published = _epoch(doc["published_at"])
        spans[DECLINE_HOPS[5]].append(doc_published - _epoch(doc["created_at"]))
        notif = handled_notif.get(doc["event_id"])
        if notif is None:
            continue
        spans[DECLINE_HOPS[6]].append(notif - doc_published)
        message = messages.get(case_id)
        accepted = got.get(rcpt)
        if message is None or accepted is None:
            continue
        spans[DECLINE_HOPS[7]].append(accepted - _epoch(message["created_at"]))
        if message["sent_at"] is not None:
            spans[DECLINE_HOPS[8]].append(_epoch(message["sent_at"]) - accepted)
        spans[DECLINE_HOPS[9]].append(accepted - sent.at[rcpt])
    sizes = [n for rcpt in got if (n := sink.size_of(rcpt, CERTIFICATE_SUBJECT))]
    rows = [summarise(name, values, duration_s=0.0) for name, values in spans.items()]
    if sizes:
        rows[-2]["email_bytes_mean"] = round(sum(sizes) / len(sizes))
    return rows


DECLINE_HOPS = (
    "decline hop: POST sent -> answered (commit included)",
    "decline hop: intake answered -> outbox published (broker ack included)",
    "decline hop: published -> certificates consumer began handler",
    "decline hop: certificates handler began -> issuer began (worker wait)",
    "decline hop: issuer began -> document_ready recorded (PDF render + sign)",
    "decline hop: document_ready recorded -> published",
    "decline hop: published -> notifications consumer began handler",
    "decline hop: email queued -> accepted by SMTP (sender wait + handoff)",
    "decline hop: accepted by SMTP -> sent recorded",
    "decline hop: all of the above (POST -> SMTP accepted)",
    "one Kafka hop (decline): intake committed -> certificates handler began",
)


async def _booked(databases: dict[str, str], cases: list[str]) -> dict[str, tuple[float, bool]]:
    rows = await _rows(databases["scheduling"], "SELECT m.case_id, c.at, m.late FROM meeting_changes c JOIN meetings m "
                       "ON m.id = c.meeting_id WHERE c.change = 'booked' AND m.case_id = ANY($1::text[])", cases)
    return {r["case_id"]: (_epoch(r["at"]), bool(r["late"])) for r in rows}


async def mediation_hops(databases: dict[str, str], sent: Sent, got: dict[str, float]) -> list[dict[str, Any]]:
    cases = list(sent.case_of.values())
    booked = {case_id: at for case_id, (at, _) in (await _booked(databases, cases)).items()}
    by_case_sent, by_case_answered = sent.by_case(sent.at), sent.by_case(sent.answered)
    rows = [summarise("mediation path: POST -> booked in scheduling",
                      [booked[c] - by_case_sent[c] for c in booked if c in by_case_sent], duration_s=0.0,
                      errors=len(cases) - len(booked))]
    for row in await hops(databases, by_case_sent, by_case_answered, booked):
        if row["name"].startswith(("hop: ", "one Kafka hop")) and "POST sent" not in row["name"]:
            rows.append({**row, "name": f"mediation {row['name']}"})
    out_sched = {r["subject"]: r for r in await _rows(
        databases["scheduling"], "SELECT event_id, subject, created_at, published_at FROM outbox_events "
        "WHERE type = $1 AND subject = ANY($2::text[])", MeetingScheduledV1.type, cases)}
    handled = {r["event_id"]: _epoch(r["handled_at"]) for r in await _rows(
        databases["notifications"], "SELECT event_id, handled_at FROM inbox_events WHERE event_id = ANY($1::text[])",
        [r["event_id"] for r in out_sched.values()])}
    messages = {r["case_id"]: r for r in await _rows(
        databases["notifications"], "SELECT case_id, created_at FROM messages WHERE template = 'meeting_scheduled' "
        "AND recipient_role = 'requester' AND case_id = ANY($1::text[])", cases)}
    spans: dict[str, list[float]] = {name: [] for name in MEDIATION_HOPS}
    for rcpt, case_id in sent.case_of.items():
        out = out_sched.get(case_id)
        if case_id not in booked or out is None or out["published_at"] is None:
            continue
        published = _epoch(out["published_at"])
        spans[MEDIATION_HOPS[0]].append(published - booked[case_id])
        began = handled.get(out["event_id"])
        if began is None:
            continue
        spans[MEDIATION_HOPS[1]].append(began - published)
        message, accepted = messages.get(case_id), got.get(rcpt)
        if message is not None and accepted is not None:
            spans[MEDIATION_HOPS[2]].append(accepted - _epoch(message["created_at"]))
    rows.extend(summarise(name, values, duration_s=0.0) for name, values in spans.items())
    return rows


MEDIATION_HOPS = (
    "mediation hop: booked -> meeting.scheduled published",
    "mediation hop: published -> notifications consumer began handler",
    "mediation hop: invitation queued -> accepted by SMTP (sender wait + handoff)",
)


# --- backlog drains -------------------------------------------------------------------------------------------

def _timeout(params: dict[str, Any], size: int) -> float:
    return float(params["drain_timeout_s"] or 60 + size)


async def _restart(process: ServiceProcess) -> float:
    await asyncio.to_thread(process.start, wait=False)
    await wait_ready(process, timeout=300)
    return time.time()


async def _backlog(kind: str, size: int, portal: httpx.AsyncClient, params: dict[str, Any],
                   notes: list[str]) -> Sent:
    say(f"{kind} drain {size}: submitting the backlog")
    sent = await closed_loop(portal, kind, cases=size, concurrency=params["drain_concurrency"])
    notes.extend(f"{kind} drain {size}: submission failed: {s}" for s in sent.timed.error_samples)
    if await drain_time(portal, timeout=_timeout(params, size)) is None:
        notes.append(f"{kind} drain {size}: intake's outbox was not empty before the consumers restarted")
    return sent


async def _wait_count(url: str, query: str, cases: list[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (await _rows(url, query, cases))[0][0] < len(cases) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


def _drain_row(name: str, at: list[float], since: float, *, items: int, baseline_ms: float | None,
               errors: int, **extra: Any) -> dict[str, Any]:
    last = max(at, default=since)
    row = summarise(name, [max(0.0, t - since) for t in at], duration_s=last - since, errors=errors, **extra)
    row["drain"] = {"items": items, "rate_per_s": row["throughput_per_s"],
                    "baseline_rate_per_s": round(1000 / baseline_ms, 2) if baseline_ms else None}
    return row


async def _smtp_mean_ms(sink: SmtpSink, params: dict[str, Any]) -> float | None:
    if not params["baselines"]:
        return None
    timed = await smtp_handoff(sink, b"%PDF-1.7\n" + b"x" * 60_000, items=min(50, params["smtp_sends"]))
    return sum(timed.latencies) / len(timed.latencies) * 1000 if timed.latencies else None


async def _emails(size: int, kind: str, subject: str, processes: dict[str, ServiceProcess], sink: SmtpSink,
                  params: dict[str, Any], expected: list[str]) -> dict[str, Any]:
    """Start notifications again; time it until each expected address has its email (every email counted)."""
    smtp = await _smtp_mean_ms(sink, params)  # before the restart: notifications is stopped, the sink idle
    say(f"{kind} drain {size}: notifications restarted")
    ready = await _restart(processes["notifications"])
    got = await sink.wait_for(expected, subject, timeout=_timeout(params, size) * 2)
    last = max(got.values(), default=ready)
    row = _drain_row(f"drain {size}: {kind} backlog emails (notifications restarted -> {subject!r} accepted)",
                     list(got.values()), ready, items=len(got), baseline_ms=None, errors=len(expected) - len(got))
    in_window = sink.accepted_between(ready, last)
    row["drain"] = {"items": in_window, "unit": "emails", "path": kind, "size": size, "stage": "notifications",
                    "rate_per_s": round(in_window / (last - ready), 2) if last > ready else None,
                    "emails_per_case": round(in_window / len(got), 2) if got else None,
                    "baseline": "SMTP handoff alone", "baseline_rate_per_s": round(1000 / smtp, 2) if smtp else None}
    return row


async def decline_drain(size: int, processes: dict[str, ServiceProcess], portal: httpx.AsyncClient, sink: SmtpSink,
                        signer: PdfSigner, databases: dict[str, str], params: dict[str, Any],
                        notes: list[str]) -> list[dict[str, Any]]:
    certificates, notifications = processes["certificates"], processes["notifications"]
    await asyncio.gather(asyncio.to_thread(certificates.stop), asyncio.to_thread(notifications.stop))
    sent = await _backlog("decline", size, portal, params, notes)
    cases = list(sent.case_of.values())
    sign_ms = None
    if params["baselines"]:  # while the consumers are stopped: the same quiet the drain starts in
        timed, _ = await render_and_sign(signer, items=params["pdf_signs"])
        sign_ms = sum(timed.latencies) / len(timed.latencies) * 1000
    say(f"decline drain {size}: certificates restarted")
    ready = await _restart(certificates)
    await _wait_count(databases["certificates"], "SELECT count(*) FROM certificates WHERE kind = 'adviser' AND "
                      "status = 'issued' AND case_id = ANY($1::text[])", cases, timeout=_timeout(params, size))
    issued = [_epoch(r["issued_at"]) for r in await _rows(
        databases["certificates"], "SELECT issued_at FROM certificates WHERE kind = 'adviser' AND status = 'issued' "
        "AND case_id = ANY($1::text[])", cases)]
    rows = [_drain_row(f"drain {size}: decline backlog, certificates issued (restart -> issued)", issued, ready,
                       items=len(issued), baseline_ms=sign_ms, errors=size - len(issued))]
    rows[-1]["drain"] |= {"unit": "certificates", "path": "decline", "size": size, "stage": "certificates",
                          "baseline": "PDF render + sign alone"}
    rows.append(await _emails(size, "decline", CERTIFICATE_SUBJECT, processes, sink, params, list(sent.case_of)))
    return rows


async def mediation_drain(size: int, processes: dict[str, ServiceProcess], portal: httpx.AsyncClient,
                          ops: httpx.AsyncClient, sink: SmtpSink, databases: dict[str, str], params: dict[str, Any],
                          notes: list[str]) -> list[dict[str, Any]]:
    scheduling, notifications = processes["scheduling"], processes["notifications"]
    extra = math.ceil(size / params["bookings_per_mediator"])
    await seed_more(ops, extra)
    await asyncio.gather(asyncio.to_thread(scheduling.stop), asyncio.to_thread(notifications.stop))
    sent = await _backlog("mediation", size, portal, params, notes)
    cases = list(sent.case_of.values())
    search_ms, baseline = None, None
    if params["baselines"]:  # scheduling is stopped: its database as the drain finds it, the CPU quiet
        timed = await booking_search(databases["scheduling"], searches=params["booking_searches"])
        search_ms = sum(timed.latencies) / len(timed.latencies) * 1000
        baseline = summarise(f"baseline: one booking search alone (before drain {size})", timed.latencies,
                             duration_s=timed.duration, pool_mediators=await _pool_size(databases))
    say(f"mediation drain {size}: scheduling restarted")
    ready = await _restart(scheduling)
    deadline = time.monotonic() + _timeout(params, size)
    booked: dict[str, tuple[float, bool]] = {}
    while time.monotonic() < deadline:
        booked = await _booked(databases, cases)
        if len(booked) >= len(cases):
            break
        await asyncio.sleep(0.5)
    rows = [baseline] if baseline is not None else []
    rows.append(_drain_row(f"drain {size}: mediation backlog, meetings booked (restart -> booked)",
                           [at for at, _ in booked.values()], ready, items=len(booked), baseline_ms=search_ms,
                           errors=size - len(booked)))
    late = sum(1 for _, is_late in booked.values() if is_late)
    rows[-1]["drain"] |= {"unit": "bookings", "path": "mediation", "size": size, "stage": "scheduling",
                          "baseline": "one booking search alone", "late": late, "pool_added": extra}
    if late:
        notes.append(f"mediation drain {size}: {late} meetings booked after the 30-day date")
    booked_rcpts = [rcpt for rcpt, case_id in sent.case_of.items() if case_id in booked]
    rows.append(await _emails(size, "mediation", INVITATION_SUBJECT, processes, sink, params, booked_rcpts))
    return rows


async def seed_more(ops: httpx.AsyncClient, count: int) -> None:
    """``count`` more mediators, like ``seed_pool``'s (ids of their own)."""
    for _ in range(count):
        mediator_id = f"bench-med-{uuid.uuid4().hex[:10]}"
        (await ops.put(f"/v1/admin/mediators/{mediator_id}", headers=OPS, json={
            "id": mediator_id, "provider_id": "kids-send-mediation", "name": "Bench Mediator",
            "employer_kind": "independent", "employer_name": "KIDS", "capacity_per_week": 5,
            "languages": ["en"], "areas": ["E06000033"]})).raise_for_status()
        (await ops.put(f"/v1/admin/mediators/{mediator_id}/availability", headers=OPS, json={
            "mediator_id": mediator_id, "windows": [
                {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "09:30", "end_time": "16:30"}]})
         ).raise_for_status()


async def _pool_size(databases: dict[str, str]) -> int:
    return int((await _rows(databases["scheduling"], "SELECT count(*) FROM mediators"))[0][0])


def main() -> None:
    install_signal_handlers()
    with Infra() as infra:
        run(infra)


if __name__ == "__main__":
    main()
