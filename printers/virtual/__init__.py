"""The virtual ESC/POS printer: TCP/pty server, interpreter, PNG and transcript renderer."""

from printers.virtual.server import JobRecord, VirtualPrinter
from printers.virtual.state import PrinterState

__all__ = ["JobRecord", "PrinterState", "VirtualPrinter"]
