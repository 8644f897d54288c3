"""The gate control's screens in the desktop suite (docs/checkin-screens.md):

* ``plugins.checkin.ui.attendant:build_tab``: the gate attendant's screen (tab
  ``checkin.attendant``, permission ``checkin.scan``): every scan big in green or red, the last
  scans, live counts, the gates' state, *Open once*, *Release all gates* and the emergency.

The screen drives this terminal's gates through ``plugins.checkin.runner.GateRunner`` and calls
the services with the logged-in operator. Importing this package loads no Tk.
"""

EVENTS_KEY = "checkin.attendant"  # app.extras: the live attendant screen's handler of device events

__all__ = ["EVENTS_KEY"]
