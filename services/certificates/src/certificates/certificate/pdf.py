"""The certificate document, typeset with ReportLab: readable on a phone and when printed."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

KIND_TITLES = {
    "adviser": "Mediation certificate: mediation advice given, mediation declined",
    "mediator": "Mediation certificate: mediation took place",
    "missed_deadline": "Mediation certificate: mediation could not be arranged within 30 days",
}
KIND_STATEMENTS = {
    "adviser": "The parent or young person named below received information and advice about mediation "
               "and decided not to take part in mediation (Children and Families Act 2014, s.55(4)).",
    "mediator": "The parent or young person named below took part in mediation "
                "(Children and Families Act 2014, s.55(5)).",
    "missed_deadline": "Mediation could not be arranged within 30 days of the local authority being told "
                       "that the parent or young person wanted it.",
}


@dataclass(frozen=True)
class CertificateContent:
    """What the certificate prints. Never anything said in mediation (R20)."""

    number: str
    kind: str
    issued_on: date
    issuer: str
    provider: str
    la_name: str
    requester_name: str
    requester_role: str
    case_reference: str
    decision: str
    notice_sent_on: date
    mediation_date: date | None
    appeal_deadline: date
    verification_url: str
    #: Printed beside the QR code (which carries it too); verification needs it with the number.
    verification_code: str | None = None
    version: int = 1
    supersedes_number: str | None = None
    #: R17's D before any move (the later of the two dates); None when it did not move.
    appeal_deadline_unmoved: date | None = None


def _d(day: date) -> str:
    return day.strftime("%-d %B %Y")


def _weekday(day: date) -> str:
    return day.strftime("%A %-d %B %Y")


class QrCode(Flowable):  # type: ignore[misc]  # ReportLab has no type hints
    """The QR code of ``value``, drawn straight on the page: one filled rectangle per run of dark modules.

    The symbol is made by segno, at error correction level ``error`` (M on the certificate), with the mask the standard's penalty rules pick
    (ISO/IEC 18004). ReportLab's own encoder took 17 ms of CPU to make it, most of a render (measured alone,
    on the 2-core development machine); segno takes 7-9 ms.
    """

    QUIET_ZONE = 4  # modules of light border on each side, as the standard asks

    def __init__(self, value: str, size: float, *, error: str = "M") -> None:
        super().__init__()
        self.value = value
        self.width = self.height = size
        self.symbol = segno.make_qr(value, error=error.lower(), boost_error=False)

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of each run of dark modules, the quiet zone included in the columns."""
        runs = []
        for r, row in enumerate(self.symbol.matrix_iter(border=self.QUIET_ZONE)):
            c = 0
            for dark, modules in groupby(row):
                count = len(list(modules))
                if dark:
                    runs.append((r, c, count))
                c += count
        return runs

    def draw(self) -> None:
        modules = self.symbol.symbol_size(border=self.QUIET_ZONE)[0]
        step = self.width / modules
        for r, c, count in self.dark_runs():
            self.canv.rect(c * step, self.height - (r + 1) * step, count * step, step * 1.05, stroke=0, fill=1)


def _qr(url: str, size: float) -> QrCode:
    return QrCode(url, size, error="M")


def deadline_moved(unmoved: date) -> str:
    """R17.4-5 in the words of HESC rule 12: where a deadline D that is not a day to lodge an appeal moves."""
    if (unmoved.month == 12 and unmoved.day >= 25) or (unmoved.month == 1 and unmoved.day == 1):
        return (f"That date, {_weekday(unmoved)}, falls between 25 December and 1 January, so the deadline is the "
                "first working day after 1 January.")
    if unmoved.month == 8:
        return f"That date, {_weekday(unmoved)}, falls in August, so the deadline is the first working day after 31 August."
    return f"That date, {_weekday(unmoved)}, is not a working day, so the deadline is the next working day."


def how_to_appeal(content: CertificateContent) -> list[str]:
    """Plain English, for the parent or young person reading the certificate."""
    moved = content.appeal_deadline_unmoved
    return [
        f"The Tribunal must receive your appeal by 5pm on {_weekday(content.appeal_deadline)}. It is based on the "
        f"later of two dates: two months after the decision notice was sent ({_d(content.notice_sent_on)}), and one "
        f"month after this certificate was issued ({_d(content.issued_on)}). "
        + (deadline_moved(moved) + " " if moved is not None and moved != content.appeal_deadline else "")
        + "A deadline that falls between 25 December and 1 January moves to the first working day after 1 January; "
        "one that falls in August moves to the first working day after 31 August; one that falls on another "
        "weekend day or bank holiday moves to the next working day. The date above already allows for this.",
        "To appeal, fill in the appeal form for the First-tier Tribunal (Special Educational Needs and "
        "Disability), form SEND35, online or on paper: see www.gov.uk/appeal-ehc-plan-decision. "
        "Send with it a copy of this certificate and a copy of the local authority's decision letter.",
        "You do not have to say anything about what was discussed in mediation: it stays confidential, and "
        "choosing not to mediate never affects your right to appeal. If you miss the deadline, you can still "
        "ask the Tribunal to accept a late appeal, explaining why it is late.",
        "Free, independent advice is available from your local SEND information, advice and support service "
        "(SENDIASS).",
    ]


def render(content: CertificateContent) -> bytes:
    buffer = io.BytesIO()
    title = KIND_TITLES[content.kind]
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"{title} ({content.number})", author=content.provider, subject="SEND mediation certificate",
        creator="SEND mediation service", lang="en-GB",
    )
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=10.5, leading=14)
    heading = ParagraphStyle("heading", parent=styles["Heading1"], fontSize=17, leading=21, spaceAfter=8)
    rows = [
        ("Certificate number", content.number),
        *([("Verification code", content.verification_code)] if content.verification_code else []),
        ("Issued on", _d(content.issued_on)),
        ("Appeal deadline", f"5pm on {_weekday(content.appeal_deadline)}"),
        ("Issued by", f"{content.issuer}, {content.provider}"),
        ("Local authority", content.la_name),
        ("Parent or young person", f"{content.requester_name} ({content.requester_role.replace('_', ' ')})"),
        ("Case reference", content.case_reference),
        ("Decision in dispute", content.decision.replace("_", " ").capitalize()),
        ("Notice of the decision sent on", _d(content.notice_sent_on)),
    ]
    if content.mediation_date is not None:  # after a missed 30 days (R10), mediation may still take place later
        label = "Mediation took place later, on" if content.kind == "missed_deadline" else "Mediation took place on"
        rows.append((label, _d(content.mediation_date)))
    if content.supersedes_number is not None:
        rows.append(("Version", f"{content.version}: corrects and replaces certificate {content.supersedes_number}, "
                                "keeping its issue date"))
    table = Table([[Paragraph(f"<b>{escape(k)}</b>", body), Paragraph(escape(v), body)] for k, v in rows],
                  colWidths=[62 * mm, None])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    story = [
        Paragraph(escape(title), heading),
        Paragraph(escape(KIND_STATEMENTS[content.kind]), body),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 4 * mm),
        Table([[_qr(content.verification_url, 30 * mm), Paragraph(
            "<b>Check this certificate</b><br/>Scan the code, or go to "
            f"{escape(content.verification_url.split('&code=')[0])}, and enter the verification code above and "
            "the surname of the parent or young person named above. The page says whether this certificate is "
            "valid, has been replaced by a corrected version, or has been revoked. This document is digitally signed.", body)]],
              colWidths=[34 * mm, None], style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")])),
        Spacer(1, 4 * mm),
        Paragraph("<b>What this certificate is for</b>", body),
        Paragraph(
            "You need this certificate to appeal to the First-tier Tribunal (Special Educational Needs and "
            "Disability) against the decision above.", body),
        Spacer(1, 3 * mm),
        Paragraph("<b>How to appeal, and by when</b>", body),
        *[Paragraph(escape(text), body) for text in how_to_appeal(content)],
    ]
    document.build(story)
    return buffer.getvalue()
