"""The sync: engine (read → score → plan → write), planner, writer, audit log, reports, CLI."""
