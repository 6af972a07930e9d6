"""The certificate document, typeset with ReportLab: readable on a phone and when printed."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

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


def _d(day: date) -> str:
    return day.strftime("%-d %B %Y")


def render(content: CertificateContent) -> bytes:
    buffer = io.BytesIO()
    title = KIND_TITLES[content.kind]
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"{title} ({content.number})", author=content.provider, subject="SEND mediation certificate",
        creator="SEND mediation service", lang="en-GB",
    )
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=11, leading=15)
    heading = ParagraphStyle("heading", parent=styles["Heading1"], fontSize=17, leading=21, spaceAfter=8)
    rows = [
        ("Certificate number", content.number),
        ("Issued on", _d(content.issued_on)),
        ("Issued by", f"{content.issuer}, {content.provider}"),
        ("Local authority", content.la_name),
        ("Parent or young person", f"{content.requester_name} ({content.requester_role.replace('_', ' ')})"),
        ("Case reference", content.case_reference),
        ("Decision in dispute", content.decision.replace("_", " ").capitalize()),
        ("Notice of the decision sent on", _d(content.notice_sent_on)),
    ]
    if content.mediation_date is not None:
        rows.append(("Mediation took place on", _d(content.mediation_date)))
    table = Table([[Paragraph(f"<b>{escape(k)}</b>", body), Paragraph(escape(v), body)] for k, v in rows],
                  colWidths=[62 * mm, None])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    story = [
        Paragraph(escape(title), heading),
        Paragraph(escape(KIND_STATEMENTS[content.kind]), body),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 6 * mm),
        Paragraph("<b>What this certificate is for</b>", body),
        Paragraph(
            "You need this certificate to appeal to the First-tier Tribunal (Special Educational Needs and "
            "Disability). Send a copy with your appeal. The Tribunal must receive the appeal by 5pm on the last "
            "day: two months after the date the decision notice was sent, or one month after the date of this "
            "certificate, whichever is later.", body),
    ]
    document.build(story)
    return buffer.getvalue()
