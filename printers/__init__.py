"""ESC/POS output: the printer driver, layouts as data, the reprint queue, the virtual printer."""
