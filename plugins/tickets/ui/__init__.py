"""The box office's screens in the desktop suite (docs/tickets-seatmap.md):

* ``plugins.tickets.ui.seatmap``: ``SeatMapCanvas`` and ``SeatMapView``, the seat map as the
  sale screen and the set-up tab draw it (zones, seat kinds, seat states, selection);
* ``plugins.tickets.ui.editor:build_tab``: the seat-map editor (tab ``tickets.seatmaps``,
  permission ``tickets.setup``): halls, templates, aisles, zones, seat kinds, renumbering.

Tabs call the box office's services with the logged-in operator, off the Tk thread.
"""
