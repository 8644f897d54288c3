"""Turnstile drivers (OSDP control panel, serial relay boards) and the gate simulator."""
