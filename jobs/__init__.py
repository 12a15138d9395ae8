"""Background work of the server process: sending the outbox's mail, the workflow timer
(deadlines, reminders, automatic closing, the Ombudsman flag), XLSX exports and the sweep of
abandoned photo uploads. Each runs as a task started by server.py's lifespan; none answers a
request."""
