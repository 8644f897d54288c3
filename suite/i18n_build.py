"""Message catalogues: extract the strings, update the .po files, compile them to .mo.

``python -m suite.i18n_build`` compiles (run by ``make`` during set-up);
``python -m suite.i18n_build --update`` re-extracts every ``_()`` string from the code into
the catalogues so translators see what is new (and what is gone).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from suite.i18n import DOMAIN, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("suite", "plugins", "devices", "gates", "printers")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
LANGUAGES = ("zh_CN",)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    catalog = Catalog(project="venue-suite", domain=DOMAIN)
    for folder in SOURCE_DIRS:
        base = ROOT / folder
        if not base.is_dir():
            continue
        for filename, lineno, message, comments, _context in extract_from_dir(
                base, method_map=[("**.py", "python")], keywords=KEYWORDS):
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments)
    return catalog


def read_catalog(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def untranslated(language: str) -> Iterator[str]:
    """Source strings with no translation in ``language`` (the test suite lists them)."""
    catalog = read_catalog(language)
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or not entry.string or entry.fuzzy:
            yield message.id if isinstance(message.id, str) else message.id[0]


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        catalog = read_catalog(language)
        catalog.update(template, no_fuzzy_matching=True)
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True)


def _filled(value: object) -> bool:
    """A translation is there: text, or every form of a plural."""
    return all(value) if isinstance(value, (tuple, list)) else bool(value)


def merge(language: str, sources: list[Path]) -> int:
    """Fill untranslated or fuzzy entries of ``language``'s catalogue from other .po files
    (a plugin's translations); existing translations win. Returns how many were filled."""
    catalog = read_catalog(language)
    filled = 0
    for source in sources:
        with source.open("rb") as fh:
            for message in read_po(fh, locale=language):
                entry = catalog.get(message.id) if message.id else None
                if entry is not None and _filled(message.string) and (not _filled(entry.string) or entry.fuzzy):
                    entry.string, entry.flags = message.string, set(entry.flags) - {"fuzzy"}
                    filled += 1
    with po_path(language).open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True)
    return filled


def compile_all() -> None:
    for language in LANGUAGES:
        catalog = read_catalog(language)
        with po_path(language).with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.i18n_build")
    parser.add_argument("--update", action="store_true", help="re-extract strings into the .po files")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="PO",
                        help="fill untranslated zh_CN entries from these .po files (after --update)")
    args = parser.parse_args(argv)
    if args.update:
        update()
    if args.merge:
        print(f"filled {merge('zh_CN', args.merge)} translations")
    compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
