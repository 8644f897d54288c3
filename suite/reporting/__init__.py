"""Reports: typed specifications, a runner, and export to xlsx and CSV in the background."""
