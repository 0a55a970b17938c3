"""What people read: the plan and the ranking as a table, JSON, Markdown, CSV or HTML."""
