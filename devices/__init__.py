"""Card readers (PC/SC), the card layout and its cryptography, scanners, the virtual card lab."""
