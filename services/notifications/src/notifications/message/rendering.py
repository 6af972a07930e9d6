"""Email bodies from Jinja2 templates (plain text and accessible HTML) and calendar invitations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from notifications.message.catalogue import TEMPLATES
from shared import clock

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,  # an unfilled placeholder is an error, never a blank
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=len(TEMPLATES))
def _subject(template: str) -> Template:
    """The subject line's template, compiled once (``from_string`` parses and compiles it at every call)."""
    return environment().from_string(TEMPLATES[template].subject)


def render_bodies(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    env = environment()
    subject = _subject(template).render(context)  # "Your disagreement resolution meeting ..."
    full = {**context, "subject": subject}
    text = env.get_template(f"{template}.txt.j2").render(full)
    html = env.get_template(f"{template}.html.j2").render(full)
    return subject, text, html


CalendarMethod = Literal["REQUEST", "CANCEL"]


def meeting_invitation(*, uid: str, sequence: int, starts_at: datetime, ends_at: datetime, summary: str,
                       location: str, organiser: str, attendee: str, method: CalendarMethod = "REQUEST") -> str:
    """An iCalendar invitation in Europe/London (RFC 5546).

    ``REQUEST`` books or updates: an update keeps the UID and raises SEQUENCE.
    ``CANCEL`` withdraws the entry with that UID (STATUS:CANCELLED).
    """
    starts_at, ends_at = starts_at.astimezone(LONDON), ends_at.astimezone(LONDON)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//SEND mediation service//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("dtstamp", clock.now())
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", summary)
    event.add("location", location)
    event.add("organizer", f"mailto:{organiser}")
    event.add("attendee", f"mailto:{attendee}", parameters={"ROLE": "REQ-PARTICIPANT", "RSVP": "TRUE"})
    calendar.add_component(event)
    # The VTIMEZONE that TZID=Europe/London refers to (RFC 5545 3.2.19), with the changes of the meeting's years
    # only: icalendar's default (1970-2038) lists some 140 and took three quarters of an invitation's CPU.
    calendar.add_missing_timezones(first_date=date(starts_at.year, 1, 1), last_date=date(ends_at.year + 1, 1, 1))
    ical: bytes = calendar.to_ical()
    return ical.decode()


def stable_message_uuid(event_id: str, template: str, role: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"send-mediation:{event_id}:{template}:{role}"))


class HeaderRefused(ValueError):
    """A header value with a line break (it would start a header of its own): the email is never sent."""


def _header(name: str, value: str) -> str | Header:
    if "\r" in value or "\n" in value:
        raise HeaderRefused(f"the {name} header may not contain a line break")
    return value if value.isascii() else Header(value, "utf-8")


def _text_part(text: str, subtype: str) -> MIMEText:
    """UTF-8, quoted-printable: the text stays readable on the wire and safe for 7-bit relays."""
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]  # MIMEText takes a Charset as well


def build_email(*, message_id: str, from_address: str, reply_to: str, to_name: str, to_address: str,
                subject: str, text: str, html: str, attachment: tuple[str, bytes] | None,
                calendar: str | None, calendar_method: CalendarMethod = "REQUEST") -> Message:
    """The email: plain text and HTML alternatives, then the invitation and the attachment, if any.

    Built with ``email.mime`` (the compat32 policy): the ``email`` package's header registry parsed every
    header again and took a third of the sender's CPU. A line break in any header value is refused here.
    """
    _header("To", to_name)  # checked before formataddr: its encoded word would hide a line break in the name
    _header("To", to_address)
    body = MIMEMultipart("alternative")
    body.attach(_text_part(text, "plain"))
    body.attach(_text_part(html, "html"))
    email: Message = body
    if calendar is not None or attachment is not None:
        email = MIMEMultipart("mixed")
        email.attach(body)
        if calendar is not None:
            invite = MIMENonMultipart("text", "calendar", charset="utf-8", method=calendar_method)
            invite.set_payload(calendar.encode())  # base64, so that its CRLF line ends arrive as they are
            encode_base64(invite)
            invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
            email.attach(invite)
        if attachment is not None:
            name, data = attachment
            document = MIMEApplication(data, "pdf")
            document.add_header("Content-Disposition", "attachment", filename=name)
            email.attach(document)
    headers = {"Message-ID": message_id, "Date": format_datetime(clock.now()), "From": from_address,
               "Reply-To": reply_to, "To": formataddr((to_name, to_address), charset="utf-8"), "Subject": subject}
    for name, value in headers.items():
        email[name] = _header(name, value)  # type: ignore[assignment]  # compat32 takes a Header as well
    return email
