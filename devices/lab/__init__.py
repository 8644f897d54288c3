"""The virtual card lab: virtual ACR122U readers on pcscd's vpcd driver, with MIFARE Classic 1K
and ISO 14443-4 CPU cards emulated in Python. ``venue-suite lab`` drives it; see docs/devices.md."""
