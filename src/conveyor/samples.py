"""A small, realistic set of sample documents for demos: PDFs, DOCX, PPTX, XLSX, HTML, Markdown, CSV, text
and a scanned receipt (PNG) that is read by OCR.

``broken.pdf`` is corrupt on purpose, to show how a failed item is reported. The content is fixed and
every file is byte-for-byte reproducible: PDF creation dates and zip timestamps are pinned.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import docx
import openpyxl
import pptx
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image, ImageDraw, ImageFont

_FIXED_DATE = datetime(2024, 3, 15, 9, 0, 0, tzinfo=UTC)
_ZIP_DATE = (2024, 3, 15, 9, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_BROKEN_PDF_LENGTH = 400

_INVOICE_ITEMS = (
    ("Ergonomic office chair", "4", "189.00", "756.00"),
    ("Standing desk converter", "2", "149.50", "299.00"),
    ("USB-C docking station", "3", "79.90", "239.70"),
    ("A4 copy paper, box of 5 reams", "6", "24.95", "149.70"),
)
_REPORT_SECTIONS = (
    ("1. Summary", (
        "Harbor Logistics shipped 48,200 parcels in the first quarter of 2024, an increase of 12 percent "
        "over the same quarter last year. On-time delivery improved from 91.4 to 94.8 percent, while the "
        "average cost per parcel fell by 3 percent thanks to better route planning.",
        "The warehouse in Rotterdam reached full capacity in February. A second shift was added, and the "
        "lease for an additional 2,000 square metres was signed in March.",
    )),
    ("2. Operations", (
        "Inbound volume peaked in the week of 12 February, when a delayed container vessel arrived together "
        "with two scheduled ones. The team cleared the backlog within four days without overtime beyond "
        "the agreed limits.",
        "Returns processing remains the slowest step. Each returned parcel is inspected by hand, which takes "
        "nine minutes on average. A pilot with barcode-based triage starts in April.",
        "Fleet utilisation stood at 87 percent. Two electric vans joined the fleet in January; their "
        "running cost per kilometre is 40 percent below that of the diesel vans they replace.",
    )),
    ("3. Customers", (
        "Customer satisfaction, measured by a short survey after each delivery, rose to 4.6 out of 5. "
        "Most complaints concerned delivery time windows that were too wide; narrower windows are planned "
        "for the second quarter.",
        "Three new enterprise customers signed contracts: Brightwater Foods, Kestrel Pharma and the city "
        "library network. Together they are expected to add 6,000 parcels per quarter.",
    )),
    ("4. Outlook", (
        "For the second quarter we expect volume to grow by another 8 percent. The main risks are the "
        "availability of drivers during the summer holidays and rising energy prices at the warehouse.",
        "Priorities for the coming quarter: automate returns triage, renegotiate the energy contract, and "
        "hire six drivers before June.",
    )),
)


def write_samples(directory: Path) -> list[Path]:
    """Write the sample documents into ``directory`` (created if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    writers: Sequence[tuple[str, Callable[[], bytes]]] = (
        ("invoice.pdf", invoice_pdf), ("quarterly-report.pdf", report_pdf),
        ("meeting-notes.docx", meeting_notes_docx), ("product-page.html", lambda: _PRODUCT_PAGE.encode()),
        ("onboarding.md", lambda: _ONBOARDING.encode()), ("orders.csv", lambda: _ORDERS.encode()),
        ("support-email.txt", lambda: _SUPPORT_EMAIL.encode()), ("roadmap.pptx", roadmap_pptx),
        ("budget.xlsx", budget_xlsx), ("scanned-receipt.png", receipt_png), ("broken.pdf", broken_pdf),
    )
    paths = []
    for name, render in writers:
        path = directory / name
        path.write_bytes(render())
        paths.append(path)
    return paths


def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(title)
    pdf.set_author("Conveyor samples")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    return pdf


def _write_line(pdf: FPDF, text: str, size: float, style: str = "", height: float = 7) -> None:
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def invoice_pdf() -> bytes:
    """An invoice with a vendor, a customer, an invoice date, line items and a total."""
    pdf = _new_pdf("Invoice INV-2024-0042")
    _write_line(pdf, "Northwind Office Supply Co.", 18, "B", 9)
    _write_line(pdf, "221 Harbour Street, Bristol BS1 4QA, United Kingdom", 10, height=5)
    pdf.ln(6)
    _write_line(pdf, "INVOICE", 16, "B")
    for label, value in (("Invoice number", "INV-2024-0042"), ("Invoice date", "2024-03-15"),
                         ("Due date", "2024-04-14"), ("Bill to", "Acme Analytics Ltd., 8 Mill Lane, Leeds")):
        _write_line(pdf, f"{label}: {value}", 11, height=6)
    pdf.ln(4)
    _invoice_table(pdf)
    pdf.ln(4)
    for label, value in (("Subtotal", "GBP 1,444.40"), ("VAT (20%)", "GBP 288.88")):
        _write_line(pdf, f"{label}: {value}", 11, height=6)
    _write_line(pdf, "Total due: GBP 1,733.28", 13, "B")
    pdf.ln(4)
    _write_line(pdf, "Payment by bank transfer within 30 days. Thank you for your business.", 10, "I", 5)
    return bytes(pdf.output())


def _invoice_table(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(90, 20, 35, 35), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")) as table:
        for row in (("Description", "Qty", "Unit price", "Amount"), *_INVOICE_ITEMS):
            cells = table.row()
            for value in row:
                cells.cell(value)


def report_pdf() -> bytes:
    """A three-page quarterly report with a title, numbered section headings and paragraphs."""
    pdf = _new_pdf("Quarterly Operations Report Q1 2024")
    _write_line(pdf, "Quarterly Operations Report - Q1 2024", 20, "B", 10)
    _write_line(pdf, "Harbor Logistics B.V. - prepared for the board of directors", 11, "I", 6)
    for index, (heading, paragraphs) in enumerate(_REPORT_SECTIONS):
        if index in (2, 3):
            pdf.add_page()
        pdf.ln(6)
        _write_line(pdf, heading, 14, "B", 8)
        for paragraph in paragraphs:
            pdf.ln(3)
            _write_line(pdf, paragraph, 11, height=6)
    return bytes(pdf.output())


def broken_pdf() -> bytes:
    """The start of a real PDF, cut off: no page tree, no cross-reference table, no trailer."""
    return invoice_pdf()[:_BROKEN_PDF_LENGTH]


def meeting_notes_docx() -> bytes:
    """Meeting notes: headings, a bulleted list of decisions and a table of action items."""
    document = docx.Document()
    document.core_properties.author = "Conveyor samples"
    document.core_properties.title = "Project Atlas kick-off"
    document.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = _FIXED_DATE.replace(tzinfo=None)
    document.add_heading("Project Atlas kick-off meeting", level=1)
    document.add_paragraph("Date: 14 March 2024. "
                           "Attendees: Dana Whitfield, Omar Haddad, Lena Vogt, Raj Patel.")
    document.add_heading("Decisions", level=2)
    for decision in ("The first release ships on 30 June 2024.", "Invoices are processed before contracts.",
                     "The team meets every Tuesday at 10:00."):
        document.add_paragraph(decision, style="List Bullet")
    document.add_heading("Action items", level=2)
    _action_table(document)
    document.add_paragraph("Next meeting: 21 March 2024, room 4.12.")
    buffer = io.BytesIO()
    document.save(buffer)
    return _pinned_zip(buffer.getvalue())


def _action_table(document: docx.document.Document) -> None:
    rows = (("Owner", "Task", "Due"), ("Dana Whitfield", "Collect 200 sample invoices", "2024-03-22"),
            ("Omar Haddad", "Set up the extraction schema", "2024-03-29"),
            ("Lena Vogt", "Draft the data retention policy", "2024-04-05"))
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for cells, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(cells.cells, values, strict=True):
            cell.text = value


def roadmap_pptx() -> bytes:
    """A two-slide deck: a title slide and a bulleted roadmap with speaker notes."""
    deck = pptx.Presentation()
    deck.core_properties.author = "Conveyor samples"
    deck.core_properties.created = deck.core_properties.modified = _FIXED_DATE.replace(tzinfo=None)
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = "Project Atlas roadmap"
    title.placeholders[1].text = "Invoice automation, 2024"
    plan = deck.slides.add_slide(deck.slide_layouts[1])
    plan.shapes.title.text = "Milestones"
    body = plan.placeholders[1].text_frame
    body.text = "Q2: parse every incoming invoice"
    for text, level in (("Pilot with 200 invoices", 1), ("Q3: extract totals and due dates", 0),
                        ("Q4: retire the manual queue", 0)):
        paragraph = body.add_paragraph()
        paragraph.text, paragraph.level = text, level
    plan.notes_slide.notes_text_frame.text = "Dates depend on the pilot's results."
    buffer = io.BytesIO()
    deck.save(buffer)
    return _pinned_zip(buffer.getvalue())


def budget_xlsx() -> bytes:
    """A one-sheet budget: a title row, then a table of costs per quarter."""
    workbook = openpyxl.Workbook()
    workbook.properties.creator = "Conveyor samples"
    workbook.properties.created = workbook.properties.modified = _FIXED_DATE.replace(tzinfo=None)
    sheet = workbook.active
    sheet.title = "Budget 2024"
    sheet.append(["Project Atlas budget (EUR)"])
    sheet.append([])
    for row in (("Item", "Q1", "Q2", "Q3", "Q4"), ("Licences", 1200, 1200, 1500, 1500),
                ("Cloud", 800, 950, 1100, 1100), ("Training", 0, 2500, 0, 500)):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _pinned_zip(buffer.getvalue())


def receipt_png() -> bytes:
    """A photographed-looking till receipt: text only as pixels, so parsing it takes OCR."""
    lines = ("CORNER CAFE", "14 Harbour Street", "Flat white        3.40", "Croissant         2.90",
             "TOTAL             6.30", "Paid by card  2024-03-15")
    font = ImageFont.load_default(size=34)
    image = Image.new("L", (760, 90 + 62 * len(lines)), color=245)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((50, 45 + 62 * number), line, fill=20, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _pinned_zip(data: bytes) -> bytes:
    """The same zip archive with every member's timestamp fixed, so the bytes are reproducible."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here whatever it is told
                content = _MODIFIED.sub(rb"\g<1>2024-03-15T09:00:00Z\g<2>", content)
            target.writestr(pinned, content)
    return output.getvalue()


_PRODUCT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Lumen 2 desk lamp - Brightline</title>
  <style>body { font-family: sans-serif; } .price { font-weight: bold; }</style>
  <script>window.analytics = { page: "product" };</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/lamps">Lamps</a> | <a href="/cart">Cart</a></nav>
  <main>
    <h1>Lumen 2 desk lamp</h1>
    <p class="price">Price: EUR 89.00, free delivery within 3 working days.</p>
    <p>An adjustable LED desk lamp with <strong>five brightness levels</strong> and a warm-to-cool
       colour temperature range. The arm folds flat for travel.</p>
    <h2>Specifications</h2>
    <table>
      <tr><th>Property</th><th>Value</th></tr>
      <tr><td>Light output</td><td>600 lumen</td></tr>
      <tr><td>Power</td><td>8 W, USB-C</td></tr>
      <tr><td>Weight</td><td>1.1 kg</td></tr>
    </table>
    <h2>In the box</h2>
    <ul>
      <li>Lumen 2 lamp</li>
      <li>USB-C cable, 1.5 m</li>
      <li>Quick start guide</li>
    </ul>
  </main>
  <footer>Brightline GmbH, Karl-Marx-Allee 90, 10243 Berlin</footer>
</body>
</html>
"""

_ONBOARDING = """# Onboarding checklist

Welcome to the finance operations team! This page lists what to do in your **first week**.

## Day one

- Collect your laptop and badge from the front desk.
- Sign in to the expense system and set up two-factor authentication.
- Read the [travel policy](https://intranet.example.com/policies/travel).

## First week

1. Shadow a colleague during the month-end close.
2. Review ten supplier invoices and check the VAT numbers.
3. Book a 30-minute introduction with your manager.

| System | Access request | Approver |
|--------|----------------|----------|
| ERP | IT service desk | Team lead |
| Expense tool | Self-service | Manager |

> Questions? Ask in the `#finance-ops` channel.
"""

_ORDERS = """order_id,customer,country,order_date,items,total_eur
SO-1001,Brightwater Foods,Netherlands,2024-03-01,12,1840.00
SO-1002,Kestrel Pharma,Germany,2024-03-02,3,512.40
SO-1003,"Muller, Schmidt & Partner",Austria,2024-03-04,7,968.10
SO-1004,City Library Network,Belgium,2024-03-05,25,3120.75
SO-1005,Oak & Ash Interiors,France,2024-03-07,1,89.00
"""

_SUPPORT_EMAIL = """From: Priya Raman <priya.raman@example.org>
To: support@brightline.example
Subject: Lamp flickers at the lowest brightness level
Date: Mon, 11 Mar 2024 14:32:00 +0100

Hello,

I bought a Lumen 2 desk lamp (order SO-1005) two weeks ago. At the lowest brightness level the light
flickers noticeably; at all other levels it works fine. I have tried two different USB-C chargers.

Could you tell me whether this is a known issue, and whether I can exchange the lamp?

Kind regards,
Priya Raman
"""
