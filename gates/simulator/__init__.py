"""The gate lab: devices at their real protocol on the far side of a pseudo-terminal.

- ``TurnstileSimulator``: a turnstile controller as an OSDP peripheral (libosdp
  ``PeripheralDevice``) with a card/QR reader, two unlock relays, pass sensors, a fire-alarm
  input and a tamper switch, scriptable (someone passes N ms after an open, or nobody does);
- ``RelayBoardSimulator``: an LCUS-style serial relay board with optional input frames, which
  can be told to misbehave (garbled or truncated frames);
- ``PtyPair``: the wire. The application opens ``pair.port`` like any serial device; the
  simulator holds the other end. ``python -m gates.simulator`` runs either one as a process
  scripted through standard input (see ``gates.simulator.control``); ``gates.simulator.window``
  shows a turnstile in a small Tk window for the demo.
"""
