"""What an .xlsx file may hold before it is parsed (issue 10, B1).

A workbook is a zip of XML parts, and the parsers trust what the parts say. Two files of about 2 KB
stopped the platform: a single cell at XFD1048576 (python-calamine holds the sheet as the dense
rectangle from A1 to its last cell: 17 thousand million cells) and a sharedStrings part declaring
uniqueCount="2000000000" (calamine reserves room for that many strings before reading one). Both made
the import consumer ask for tens or hundreds of GB and abort.

So before a parser sees the file, `check_workbook` reads the zip's directory and, streamed, the first
sheet's cell references and the shared-strings header, and refuses with a Chinese message:
- a zip that would unpack to more than MAX_UNPACKED bytes, or a large part compressed more than
  MAX_RATIO times (a "zip bomb": real sheets compress 5 to 30 times);
- a shared-string count larger than the part could hold (each <si> takes at least MIN_SI_BYTES);
- a cell beyond MAX_COLUMNS columns or Excel's 1,048,576 rows.
It returns the sheet's extent, from which `core.excel.open_rows` chooses the parser: calamine (fast, holds
the rectangle) only while the rectangle is at most DENSE_CELLS cells, else openpyxl's streaming reader.

Cells written without an `r` attribute (allowed by ECMA-376 Part 1, §18.3.1.4) take their place from
their order; they are not counted here, and such a sheet goes to calamine only if its rows and the
columns that are given stay within the limits."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_MEMBERS = 10_000
MAX_UNPACKED = 2 * 1024**3  # a million rows of a register unpack to well under 1 GB
MAX_RATIO = 100  # for parts over RATIO_FLOOR; a sheet of short repeated values compresses about 20 times
RATIO_FLOOR = 10 * 1024**2
MAX_COLUMNS = 1_000  # a register has a few dozen; anything wider is not one
MAX_ROWS = 1_048_576  # Excel's own limit (Excel specifications and limits: rows on a worksheet)
DENSE_CELLS = 20_000_000  # about 1 GB at calamine's ~50 bytes a cell
MIN_SI_BYTES = len("<si><t/></si>")
CHUNK = 256 * 1024

# A cell's reference is the only attribute named r whose value is letters then digits (a <row>'s r is
# digits alone). Matching the attribute alone, not the element around it, keeps the scan at about 0.7 s for
# 100,000 rows of 12 columns (69 MB of XML), a fiftieth of their import.
CELL_REF = re.compile(rb'\sr="([A-Z]{1,4})([0-9]{1,9})"')
COUNT = re.compile(rb'\s(count|uniqueCount)="([0-9]{1,20})"')
SHEET_TARGET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\sr:id="([^"]+)"')
RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")


def refuse_damaged() -> ValidationError:
    return ValidationError(_("文件已损坏，无法作为 Excel 工作簿（.xlsx）读取。"), code="corrupt")


@dataclass(frozen=True)
class Extent:
    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_archive(archive: zipfile.ZipFile) -> None:
    """The zip's own directory: how many parts, how big unpacked, how hard compressed."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise refuse_damaged()
    unpacked = 0
    for member in members:
        unpacked += member.file_size
        packed = max(member.compress_size, 1)
        if unpacked > MAX_UNPACKED or (
            member.file_size > RATIO_FLOOR and member.file_size / packed > MAX_RATIO
        ):
            raise ValidationError(
                _(
                    "文件解压后过大或压缩比异常（超过 %(gb)d GB 或 %(ratio)d 倍），不是正常的 Excel 工作簿："
                    "请在 Excel 中打开并另存为 .xlsx 后再上传，行数很多时请拆成几个文件。"
                )
                % {"gb": MAX_UNPACKED // 1024**3, "ratio": MAX_RATIO},
                code="unpacked",
            )


def check_workbook(source: str | Path | IO[bytes]) -> Extent:
    """All the checks above; the first sheet's extent (rows and columns used, counting from A1)."""
    position = None if isinstance(source, str | Path) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            check_archive(archive)
            names = set(archive.namelist())
            if "xl/sharedStrings.xml" in names:
                check_shared_strings(archive, "xl/sharedStrings.xml")
            sheet = first_sheet(archive, names)
            return sheet_extent(archive, sheet) if sheet else Extent(0, 0)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError, EOFError):
        raise refuse_damaged() from None
    finally:
        if position is not None:
            source.seek(position)


def first_sheet(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part of the workbook's first sheet, as the parsers take it: the first <sheet> of
    xl/workbook.xml, through its relationship."""
    head = archive.read("xl/workbook.xml")
    found = SHEET_TARGET.search(head)
    if not found or "xl/_rels/workbook.xml.rels" not in names:
        return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None
    wanted = found.group(1)
    for relationship in RELATIONSHIP.findall(archive.read("xl/_rels/workbook.xml.rels")):
        if f'Id="{wanted.decode(errors="replace")}"'.encode() in relationship:
            target = re.search(rb'Target="([^"]+)"', relationship)
            if target:
                path = target.group(1).decode(errors="replace")
                name = path.lstrip("/") if path.startswith("/") else str(PurePosixPath("xl") / path)
                return name if name in names else None
    return None


def check_shared_strings(archive: zipfile.ZipFile, name: str) -> None:
    """The counts the part declares on its root element against what its size could hold."""
    size = archive.getinfo(name).file_size
    with archive.open(name) as part:
        head = part.read(4096)
    root = head[head.find(b"<sst") : head.find(b">", head.find(b"<sst")) + 1] if b"<sst" in head else head
    for _attribute, value in COUNT.findall(root):
        if int(value) > size // MIN_SI_BYTES + 1:
            raise ValidationError(
                _(
                    "文件声明的共享字符串数（%(n)s）超过了文件实际能容纳的数量，文件已损坏或被改动过："
                    "请在 Excel 中打开并另存为 .xlsx 后再上传。"
                )
                % {"n": f"{int(value):,}"},
                code="shared_strings",
            )


def sheet_extent(archive: zipfile.ZipFile, name: str) -> Extent:
    """The last row and column any cell reference names, read in a stream of the sheet's XML."""
    rows = columns = 0
    tail = b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            text = tail + chunk
            references = CELL_REF.findall(text)
            if references:
                letters, numbers = zip(*references, strict=True)
                columns = max(columns, *map(column_number, set(letters)))
                rows = max(rows, *map(int, set(numbers)))
            if columns > MAX_COLUMNS:
                raise ValidationError(
                    _(
                        "工作表用到了第 %(n)s 列（%(letters)s 列），超过导入的上限 %(max)s 列：请删去多余的列"
                        "或远处的单元格后再上传。"
                    )
                    % {"n": f"{columns:,}", "letters": column_letters(columns), "max": f"{MAX_COLUMNS:,}"},
                    code="columns",
                )
            if rows > MAX_ROWS:
                raise ValidationError(
                    _("工作表的行号超过 Excel 的上限（%(max)s 行），文件已损坏或被改动过。")
                    % {"max": f"{MAX_ROWS:,}"},
                    code="rows",
                )
            # A reference cut by the chunk's end is read whole with the next chunk (read twice: harmless
            # for a maximum).
            tail = text[-64:]
    return Extent(rows, columns)
