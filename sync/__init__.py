"""The pipeline: read → score → plan → apply and record, with the planner, the writer and
the state store (audit log). The command line, the service and revert all run it."""
