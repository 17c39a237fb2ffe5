"""The cooperation report as PDF, for circulation (fpdf2): the same tables, notes and plots as
the HTML, drawn from ``published.publish`` alone, so it withholds what every other output
withholds (confidential figures over too few requests, RS 87(3); everything ex parte, Rule
99(2)).

A4 landscape, so the requests-per-State table's eleven columns fit; a long table runs over
pages with its heading row repeated, and so does a plot of many rows. The text is set in
DejaVu Sans, which matplotlib ships (every State's name and every currency's sign print).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from tracefreeze.report.published import PublishedReport
from tracefreeze.report.sections import PLOT_AFTER, PLOT_TITLES, ex_parte_line, footer, no_chart

FONT = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
MARGIN = 12.0
HEADINGS = FontFace(emphasis="BOLD", fill_color=(240, 243, 246))
MUTED = (102, 102, 102)


class _Report(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.set_title(title)
        self.set_creator("tracefreeze")
        self.report_title = title

    def footer(self) -> None:
        self.set_y(-MARGIN + 2)
        self.set_font(FONT, "", 7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{self.report_title} · page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9, muted: bool = False) -> None:
        self.set_font(FONT, "", size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def grid(self, headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
        self.set_font(FONT, "", 7.5)
        align = ("LEFT", *("RIGHT",) * (len(headers) - 1))
        with self.table(
            headings_style=HEADINGS,
            text_align=align,
            line_height=4.2,
            repeat_headings=1,
            width=min(self.epw, 30.0 + 24.0 * len(headers)),
            align="LEFT",
        ) as table:
            for cells in (headers, *rows):
                row = table.row()
                for cell in cells:
                    row.cell(cell)
        self.ln(2)

    def plot(self, png: bytes, title: str) -> None:
        """The plot at a readable width; one taller than a page (a row per State, 150 States)
        runs over pages in slices, as its table does, rather than shrinking to a strip."""
        with Image.open(io.BytesIO(png)) as img:
            width = min(self.epw * 0.75, 200.0)
            scale = width / img.width  # mm per pixel
            room = self.h - 2 * MARGIN - 12
            top = 0
            while top < img.height:
                if self.get_y() + min(room, (img.height - top) * scale) + 8 > self.h - MARGIN:
                    self.add_page()
                rows = min(img.height - top, int((self.h - MARGIN - 8 - self.get_y()) / scale))
                piece = io.BytesIO()
                img.crop((0, top, img.width, top + rows)).save(piece, format="PNG")
                self.image(piece, w=width, h=rows * scale)
                top += rows
        self.paragraph(title, 8, muted=True)


def render_pdf(report: PublishedReport, plots: dict[str, bytes]) -> bytes:
    """The report as a PDF document (bytes starting with ``%PDF``)."""
    title = f"Cooperation report {report.year}"
    pdf = _Report(title)
    pdf.add_page()
    pdf.heading(title, 16)
    pdf.paragraph(report.summary)
    pdf.paragraph(ex_parte_line(report))
    for table in report.tables:
        pdf.ln(2)
        pdf.heading(table.title, 11)
        if table.rows:
            pdf.grid(table.headers, table.rows)
        if table.note:
            pdf.paragraph(table.note, 8, muted=True)
        for name, key in PLOT_AFTER.items():
            if key == table.key and name in plots:
                pdf.plot(plots[name], PLOT_TITLES[name])
        for line in no_chart(table, plots):
            pdf.paragraph(line, 8, muted=True)
    pdf.paragraph(footer(report), 8, muted=True)
    return bytes(pdf.output())
